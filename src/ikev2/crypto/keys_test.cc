// Known-answer tests for prf+, SKEYSEED, the IKE SA keys, the rekey SKEYSEED
// and CHILD SA KEYMAT. The expected values were computed independently with
// Python's hmac/hashlib (not with this code); to reproduce, run:
//
//   import hmac, hashlib
//   def prf(h, k, d): return hmac.new(k, d, h).digest()
//   def prfplus(h, k, s, n):
//       out, t, i = b"", b"", 1
//       while len(out) < n:
//           t = prf(h, k, t + s + bytes([i])); out += t; i += 1
//       return out[:n]
//   K = bytes(range(32)); S = b"mipsec prf+ seed"
//   print("prfplus256_100", prfplus(hashlib.sha256, K, S, 100).hex())
//   print("prfplus384_130", prfplus(hashlib.sha384, K, S, 130).hex())
//   print("prfplus512_130", prfplus(hashlib.sha512, K, S, 130).hex())
//   Ni = bytes(range(0x10, 0x30)); Nr = bytes(range(0x40, 0x60)); gir = bytes(range(0x80, 0xa0))
//   spii = bytes.fromhex("0102030405060708"); spir = bytes.fromhex("1112131415161718")
//   sk = prf(hashlib.sha256, Ni + Nr, gir); print("skeyseed256", sk.hex())
//   km = prfplus(hashlib.sha256, sk, Ni + Nr + spii + spir, 3*32 + 2*32 + 2*16)
//   print("ike_cbc128_sha256", km.hex())
//   sk384 = prf(hashlib.sha384, Ni + Nr, gir); print("skeyseed384", sk384.hex())
//   km2 = prfplus(hashlib.sha384, sk384, Ni + Nr + spii + spir, 3*48 + 2*36)
//   print("ike_gcm256_prf384", km2.hex())
//   skd = km[:32]
//   print("rekey_skeyseed", prf(hashlib.sha256, skd, gir + Ni + Nr).hex())
//   print("child_gcm128", prfplus(hashlib.sha256, skd, Ni + Nr, 40).hex())
//   print("child_gcm128_pfs", prfplus(hashlib.sha256, skd, gir + Ni + Nr, 40).hex())
//   print("child_cbc256_sha512", prfplus(hashlib.sha256, skd, Ni + Nr, 2*(32+64)).hex())
//   # AUTH with PSK (RFC 7296 2.15)
//   skpi = km[3*32+2*32+2*16-64:3*32+2*32+2*16-32]
//   idbody = bytes([2, 0, 0, 0]) + b"mn@example.org"
//   msg1 = b"IKE_SA_INIT request bytes"
//   octets = msg1 + Nr + prf(hashlib.sha256, skpi, idbody)
//   print("signed_octets", octets.hex())
//   pad = prf(hashlib.sha256, b"rfc5266-interop-test-psk", b"Key Pad for IKEv2")
//   print("psk_auth", prf(hashlib.sha256, pad, octets).hex())
//   # NAT detection (RFC 7296 2.23)
//   ip1, port1 = bytes([192, 0, 2, 1]), (4500).to_bytes(2, "big")
//   print("natd", hashlib.sha1(spii + spir + ip1 + port1).hexdigest())
//   ip2, port2 = bytes([198, 51, 100, 10]), (500).to_bytes(2, "big")
//   print("natd_zero_spir", hashlib.sha1(spii + bytes(8) + ip2 + port2).hexdigest())
#include "ikev2/crypto/keys.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/crypto_test_util.h"
#include "ikev2/crypto/prf.h"

namespace mipsec::ikev2 {
namespace {

using crypto::testing::Ascii;
using crypto::testing::Hex;
using crypto::testing::RevealHex;

Bytes Range(std::uint8_t from, std::uint8_t to) {
  Bytes b;
  for (unsigned v = from; v < to; ++v) b.push_back(static_cast<std::uint8_t>(v));
  return b;
}

const Bytes kNi = Range(0x10, 0x30);
const Bytes kNr = Range(0x40, 0x60);
const SecretBytes kGir(ByteSpan(Range(0x80, 0xa0)));
constexpr std::uint64_t kSpiI = 0x0102030405060708;
constexpr std::uint64_t kSpiR = 0x1112131415161718;

std::string Slice(const std::string& hex, std::size_t from, std::size_t len) {
  return hex.substr(2 * from, 2 * len);
}

TEST(PrfTest, PrfPlusKnownAnswers) {
  const SecretBytes k(ByteSpan(Range(0, 32)));
  const Bytes s = Ascii("mipsec prf+ seed");
  Result<SecretBytes> a = PrfPlus(PrfId::kHmacSha2_256, k, {s}, 100);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(RevealHex(*a),
            "8996f79d1eb0c711dde2fb0c69853aabd9707e8dba8a8cedf0e599cfdad7bb76586344692f69bf74c373"
            "af0f398b3ab68189653af7bfff8708f2398947c00a652b3a8db1fe6d42795cd2ba19490641370a6b4bcb"
            "9e679454ee43910c60179037bb93dfa1");
  Result<SecretBytes> b = PrfPlus(PrfId::kHmacSha2_384, k, {s}, 130);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(RevealHex(*b),
            "39dc485c6a59dc1b74cb9ab41183c2fab62782b8e5f32fd30c848f69d3bc15f55880d39038c0a661f17b"
            "fb86c968602e438183fb9521c2809d9c05055a0b3285e5e57659b3b384ca1daf008270547d51349abd5c"
            "def38d2f713d0fc4cf951b95d52269cece6760f339f833934371f3971cfc2cc5f7b3b5a93f6193ecbf9d"
            "b1c49c7a");
  // The seed may come in pieces: same bytes, same output.
  Result<SecretBytes> c =
      PrfPlus(PrfId::kHmacSha2_512, k, {ByteSpan(s).first(5), ByteSpan(s).subspan(5)}, 130);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(RevealHex(*c),
            "97b184e8ae7b8cace95a2b472fa0fefb8b5c22d0db9f4fe512fb4a88fc56592369e3d0ab00b867929fd6"
            "77c90e2eca24fb1d88269a8bdf027ed91fab6c7969051378369819e3586f68b706153c6ba0a8e2dccbb8"
            "285a28a7ae1c111a08c3d0cfcc30f9226912b2c30fd00302d402233cbff8493da4b860e63a938dd276dd"
            "a9448039");
  // A shorter request is a prefix.
  Result<SecretBytes> d = PrfPlus(PrfId::kHmacSha2_256, k, {s}, 33);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(RevealHex(*d), RevealHex(*a).substr(0, 66));
}

TEST(PrfTest, PrfPlusLimitsAndUnsupported) {
  const SecretBytes k(ByteSpan(Range(0, 32)));
  EXPECT_TRUE(PrfPlus(PrfId::kHmacSha2_256, k, {}, 255 * 32).ok());
  EXPECT_EQ(PrfPlus(PrfId::kHmacSha2_256, k, {}, 255 * 32 + 1).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(PrfPlus(PrfId::kHmacSha1, k, {}, 10).error().code(), Errc::kUnsupported);
  EXPECT_EQ(Prf(PrfId::kAes128Xcbc, k, {}).error().code(), Errc::kUnsupported);
  EXPECT_EQ(PrfOutputSize(PrfId::kHmacSha2_384), 48u);
  EXPECT_EQ(PrfOutputSize(PrfId::kHmacMd5), 0u);
}

TEST(KeysTest, SkeyseedAndIkeKeysCbc) {
  Result<SecretBytes> seed = ComputeSkeyseed(PrfId::kHmacSha2_256, kNi, kNr, kGir);
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(RevealHex(*seed), "d962ef6e1398f0b4c4a0541c7ce335a4eb85a116a981052a841ee091a413cacb");

  Result<Suite> suite = Suite::ForIke(EncrId::kAesCbc, 128, PrfId::kHmacSha2_256,
                                      IntegId::kHmacSha2_256_128, DhId::kCurve25519);
  ASSERT_TRUE(suite.ok());
  Result<IkeSaKeys> k = DeriveIkeSaKeys(*suite, *seed, kNi, kNr, kSpiI, kSpiR);
  ASSERT_TRUE(k.ok());
  const std::string km =
      "c722ec79f3a6f0fdf87e7d7286473ceedfc74bf31ac7839e19182a1423795f9ed5059c6d4aa25e27ad4c0f860b"
      "90ccd9ca06fb1931f2b2f36f0b0fa2f5e6374d9ef86245814f6807fea335556ec21e4b17b916775a7ae93b8b2b"
      "04a0e5d51382010462b0dd90c5a9331cde56e9c2c7bab1558566bee0337afcf43c5d50b22276856b5081172d29"
      "354a66752eb21ca7f0661cdc5db04232cff5fc6f18f6542a725ea13121d56eb4117e3bba0e0e9889870821a071"
      "acb94a43cc11491e739e7343";
  EXPECT_EQ(RevealHex(k->sk_d), Slice(km, 0, 32));
  EXPECT_EQ(RevealHex(k->sk_ai), Slice(km, 32, 32));
  EXPECT_EQ(RevealHex(k->sk_ar), Slice(km, 64, 32));
  EXPECT_EQ(RevealHex(k->sk_ei), Slice(km, 96, 16));
  EXPECT_EQ(RevealHex(k->sk_er), Slice(km, 112, 16));
  EXPECT_EQ(RevealHex(k->sk_pi), Slice(km, 128, 32));
  EXPECT_EQ(RevealHex(k->sk_pr), Slice(km, 160, 32));

  // Rekey (RFC 7296 2.18) with the old SK_d.
  Result<SecretBytes> rekey =
      ComputeRekeySkeyseed(PrfId::kHmacSha2_256, k->sk_d, kGir, kNi, kNr);
  ASSERT_TRUE(rekey.ok());
  EXPECT_EQ(RevealHex(*rekey),
            "5049693599cb472e9e8492ad3ddde2fac3b9fd7c7ceadef12616e4ada1b0de71");
}

TEST(KeysTest, IkeKeysGcmIncludeSaltAndNoIntegKeys) {
  Result<SecretBytes> seed = ComputeSkeyseed(PrfId::kHmacSha2_384, kNi, kNr, kGir);
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(RevealHex(*seed),
            "c63a9bbdc573aca6e18ef449793f752caf791d53bd9efb7e41b142625a5fbcb3824c420099d9d22cab57a8"
            "59fcc7a040");
  Result<Suite> suite =
      Suite::ForIke(EncrId::kAesGcm16, 256, PrfId::kHmacSha2_384, std::nullopt, DhId::kEcp384);
  ASSERT_TRUE(suite.ok());
  Result<IkeSaKeys> k = DeriveIkeSaKeys(*suite, *seed, kNi, kNr, kSpiI, kSpiR);
  ASSERT_TRUE(k.ok());
  const std::string km =
      "b38cd05d444c96fd6f6ebde9c6b683966d8d021591efa1d409290e0b552e9a7d19f1291e3b0228c81dbf53a71b"
      "8c5e11a07e48412645c0a79756ce68e0cca29cfb30d470da73924e95f6323c2d5501702926fe4732ccab714343"
      "df2da1cadd48b005b9373da4cd78f91a4f179d0d09c08d7d5893f79722beaecc0433f5f66b1eefb6748e78232d"
      "2123b1da4d35c8ea150563ef3483ec87df3984a22a2ef75e60d78047cdf57caa1a06c08d6652dee995899c3af2"
      "6efb2f38e522eb3a15fc79e36087f29bb8246a90f2738a0f4b262b762f14213d71aded20";
  EXPECT_EQ(RevealHex(k->sk_d), Slice(km, 0, 48));
  EXPECT_TRUE(k->sk_ai.empty());
  EXPECT_TRUE(k->sk_ar.empty());
  EXPECT_EQ(RevealHex(k->sk_ei), Slice(km, 48, 36));  // 32-byte key + 4-byte salt
  EXPECT_EQ(RevealHex(k->sk_er), Slice(km, 84, 36));
  EXPECT_EQ(RevealHex(k->sk_pi), Slice(km, 120, 48));
  EXPECT_EQ(RevealHex(k->sk_pr), Slice(km, 168, 48));
}

TEST(KeysTest, ChildSaKeymat) {
  const SecretBytes sk_d(ByteSpan(Hex(
      "c722ec79f3a6f0fdf87e7d7286473ceedfc74bf31ac7839e19182a1423795f9e")));
  Result<Suite> gcm = Suite::ForEsp(EncrId::kAesGcm16, 128, std::nullopt, std::nullopt,
                                    EsnId::kNoEsn);
  ASSERT_TRUE(gcm.ok());
  Result<ChildSaKeys> k = DeriveChildSaKeys(PrfId::kHmacSha2_256, sk_d, *gcm, kNi, kNr, nullptr);
  ASSERT_TRUE(k.ok());
  const std::string km = "805d03c6852b82de66e86f2407798f6c03e6364920e12105b1e0bd6f25bd8c0a76d7646a"
                         "381dab8c";
  EXPECT_EQ(RevealHex(k->initiator_to_responder.encr), Slice(km, 0, 20));
  EXPECT_TRUE(k->initiator_to_responder.integ.empty());
  EXPECT_EQ(RevealHex(k->responder_to_initiator.encr), Slice(km, 20, 20));

  Result<ChildSaKeys> pfs = DeriveChildSaKeys(PrfId::kHmacSha2_256, sk_d, *gcm, kNi, kNr, &kGir);
  ASSERT_TRUE(pfs.ok());
  const std::string km2 = "15cc50d91d39839a17098f7d4d7dd7bf0a07e0962ad469248ceecd33bad73cbd0a35bf"
                          "b25052052e";
  EXPECT_EQ(RevealHex(pfs->initiator_to_responder.encr), Slice(km2, 0, 20));
  EXPECT_EQ(RevealHex(pfs->responder_to_initiator.encr), Slice(km2, 20, 20));

  Result<Suite> cbc = Suite::ForEsp(EncrId::kAesCbc, 256, IntegId::kHmacSha2_512_256,
                                    DhId::kNone, EsnId::kEsn);
  ASSERT_TRUE(cbc.ok());
  Result<ChildSaKeys> k3 = DeriveChildSaKeys(PrfId::kHmacSha2_256, sk_d, *cbc, kNi, kNr, nullptr);
  ASSERT_TRUE(k3.ok());
  const std::string km3 =
      "805d03c6852b82de66e86f2407798f6c03e6364920e12105b1e0bd6f25bd8c0a76d7646a381dab8cf3ec2a1ec9"
      "7174f639109469d17a39b6c8f99eb39aaabf7f12a8648ec9f39988ef980da80392e18a3cfd336140018769d6d3"
      "a7617f7b691fdaf689a1b0e683c47c08a1bd29ccd37ffb3e6f5077d1b0e6cef96e609a4758555ba686741b35f0"
      "3abff7e09b64622b62641034cf23f145f0e6456c572102f6642c71dde792dc2041a5cc05d2612f240ef0e9ec10"
      "bc38cba585ecbd90b973ace9";
  EXPECT_EQ(RevealHex(k3->initiator_to_responder.encr), Slice(km3, 0, 32));
  EXPECT_EQ(RevealHex(k3->initiator_to_responder.integ), Slice(km3, 32, 64));
  EXPECT_EQ(RevealHex(k3->responder_to_initiator.encr), Slice(km3, 96, 32));
  EXPECT_EQ(RevealHex(k3->responder_to_initiator.integ), Slice(km3, 128, 64));
}

TEST(KeysTest, RejectsWrongSuiteKindAndEmptyInputs) {
  Result<Suite> ike = Suite::ForIke(EncrId::kAesGcm16, 128, PrfId::kHmacSha2_256, std::nullopt,
                                    DhId::kCurve25519);
  Result<Suite> esp = Suite::ForEsp(EncrId::kAesGcm16, 128, std::nullopt, std::nullopt,
                                    EsnId::kNoEsn);
  ASSERT_TRUE(ike.ok() && esp.ok());
  EXPECT_EQ(DeriveIkeSaKeys(*esp, kGir, kNi, kNr, 1, 2).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(DeriveChildSaKeys(PrfId::kHmacSha2_256, kGir, *ike, kNi, kNr, nullptr).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(ComputeSkeyseed(PrfId::kHmacSha2_256, {}, kNr, kGir).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(ComputeSkeyseed(PrfId::kHmacSha2_256, kNi, kNr, SecretBytes()).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(ComputeSkeyseed(PrfId::kHmacSha1, kNi, kNr, kGir).error().code(), Errc::kUnsupported);
}

}  // namespace
}  // namespace mipsec::ikev2

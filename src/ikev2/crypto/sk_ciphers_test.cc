#include "ikev2/crypto/sk_ciphers.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "crypto/crypto_test_util.h"

namespace mipsec::ikev2 {
namespace {

using crypto::testing::Ascii;
using crypto::testing::Hex;

// Fills with one constant byte: makes IVs predictable for known answers.
class ConstantRandom final : public RandomSource {
 public:
  explicit ConstantRandom(std::uint8_t b) : b_(b) {}
  void Fill(MutableByteSpan out) override { std::fill(out.begin(), out.end(), b_); }

 private:
  std::uint8_t b_;
};

Bytes Range(unsigned from, unsigned to) {
  Bytes b;
  for (unsigned v = from; v < to; ++v) b.push_back(static_cast<std::uint8_t>(v));
  return b;
}

// A message in the SkCipher layout: `aad` (header and SK header), IV space,
// inner | padding | Pad Length, ICV space. Returns the buffer; body = aad size.
Bytes Frame(const SkCipher& c, ByteSpan aad, ByteSpan inner) {
  std::size_t enc = inner.size() + 1;
  std::size_t pad = (c.PadBlock() - enc % c.PadBlock()) % c.PadBlock();
  Bytes m(aad.begin(), aad.end());
  m.resize(m.size() + c.IvSize());
  m.insert(m.end(), inner.begin(), inner.end());
  for (std::size_t i = 0; i < pad; ++i) m.push_back(static_cast<std::uint8_t>(0xe0 + i));
  m.push_back(static_cast<std::uint8_t>(pad));
  m.resize(m.size() + c.IcvSize());
  return m;
}

struct Case {
  EncrId encr;
  std::uint16_t bits;
  std::optional<IntegId> integ;
};

Suite IkeSuite(const Case& c) {
  Result<Suite> s = Suite::ForIke(c.encr, c.bits, PrfId::kHmacSha2_256, c.integ, DhId::kEcp256);
  EXPECT_TRUE(s.ok());
  return *s;
}

IkeSaKeys KeysFor(const Suite& s) {
  IkeSaKeys k;
  k.sk_ei = SecretBytes(ByteSpan(Range(1, 1 + static_cast<unsigned>(s.EncrKeySize()))));
  k.sk_er = SecretBytes(ByteSpan(Range(100, 100 + static_cast<unsigned>(s.EncrKeySize()))));
  k.sk_ai = SecretBytes(ByteSpan(Range(50, 50 + static_cast<unsigned>(s.IntegKeySize()))));
  k.sk_ar = SecretBytes(ByteSpan(Range(150, 150 + static_cast<unsigned>(s.IntegKeySize()))));
  return k;
}

const Case kCases[] = {
    {EncrId::kAesGcm16, 128, std::nullopt},
    {EncrId::kAesGcm16, 256, IntegId::kNone},
    {EncrId::kAesGcm8, 128, std::nullopt},
    {EncrId::kAesGcm12, 192, std::nullopt},
    {EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128},
    {EncrId::kAesCbc, 256, IntegId::kHmacSha2_384_192},
    {EncrId::kAesCbc, 256, IntegId::kHmacSha2_512_256},
};

TEST(SkCiphersTest, RoundTripAndTamperEverySuite) {
  DeterministicRandom rng(7);
  const Bytes aad = Range(0x40, 0x60);
  for (const Case& c : kCases) {
    Suite s = IkeSuite(c);
    SCOPED_TRACE(s.ToString());
    IkeSaKeys keys = KeysFor(s);
    Result<SkCipherPair> init = MakeSkCipherPair(s, keys, /*original_initiator=*/true, rng);
    Result<SkCipherPair> resp = MakeSkCipherPair(s, keys, /*original_initiator=*/false, rng);
    ASSERT_TRUE(init.ok() && resp.ok());
    EXPECT_EQ(init->outbound->IvSize(), s.IvSize());
    EXPECT_EQ(init->outbound->IcvSize(), s.IcvSize());
    EXPECT_EQ(init->outbound->PadBlock(), s.BlockSize());

    for (std::size_t len : {0u, 1u, 15u, 16u, 100u}) {
      const Bytes inner(len, static_cast<std::uint8_t>(len + 3));
      Bytes m = Frame(*init->outbound, aad, inner);
      const Bytes plain = m;
      ASSERT_TRUE(init->outbound->Seal(m, aad.size()).ok());
      EXPECT_TRUE(std::equal(aad.begin(), aad.end(), m.begin()));  // header untouched
      EXPECT_NE(m, plain);

      // Every single-bit change anywhere (header, IV, ciphertext, ICV) fails,
      // and leaves the buffer as it was.
      for (std::size_t pos : {std::size_t{0}, aad.size() - 1, aad.size(), aad.size() + s.IvSize(),
                              m.size() - s.IcvSize() - 1, m.size() - 1}) {
        Bytes t = m;
        t[pos] ^= 0x01;
        const Bytes before = t;
        Result<std::size_t> r = resp->inbound->Open(t, aad.size());
        ASSERT_FALSE(r.ok()) << "flip at " << pos;
        EXPECT_EQ(r.error().code(), Errc::kAuthFailed);
        EXPECT_EQ(t, before);
      }
      // The sender's own inbound cipher (the other direction's keys) fails.
      Bytes wrong = m;
      EXPECT_EQ(init->inbound->Open(wrong, aad.size()).error().code(), Errc::kAuthFailed);

      Result<std::size_t> n = resp->inbound->Open(m, aad.size());
      ASSERT_TRUE(n.ok()) << n.error().ToString();
      const std::size_t start = aad.size() + s.IvSize();
      EXPECT_EQ(*n, plain.size() - start - s.IcvSize());
      EXPECT_TRUE(std::equal(m.begin() + static_cast<std::ptrdiff_t>(start),
                             m.begin() + static_cast<std::ptrdiff_t>(start + *n),
                             plain.begin() + static_cast<std::ptrdiff_t>(start)));
    }
    // And the responder's messages go the other way.
    Bytes back = Frame(*resp->outbound, aad, Ascii("reply"));
    ASSERT_TRUE(resp->outbound->Seal(back, aad.size()).ok());
    EXPECT_TRUE(init->inbound->Open(back, aad.size()).ok());
  }
}

// Known answers computed independently with Python's `cryptography`
// package and hmac/hashlib:
//   import hmac, hashlib
//   from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
//   from cryptography.hazmat.primitives.ciphers.aead import AESGCM
//   aad = bytes(range(0x40, 0x60)); pt = b"inner payloads!" + bytes([0])
//   ke = bytes(range(0x20, 0x30)); ka = bytes(range(0x50, 0x70))
//   iv = bytes([0x11]) * 16
//   enc = Cipher(algorithms.AES(ke), modes.CBC(iv)).encryptor()
//   ct = enc.update(pt) + enc.finalize()
//   icv = hmac.new(ka, aad + iv + ct, hashlib.sha256).digest()[:16]
//   print("cbc", (aad + iv + ct + icv).hex())
//   salt = bytes([0xa0, 0xa1, 0xa2, 0xa3]); giv = bytes([0x11]) * 8
//   print("gcm", (aad + giv + AESGCM(ke).encrypt(salt + giv, pt, aad)).hex())
TEST(SkCiphersTest, KnownAnswers) {
  ConstantRandom rng(0x11);
  const Bytes aad = Range(0x40, 0x60);
  const Bytes inner = Ascii("inner payloads!");

  Result<Suite> cbc = Suite::ForIke(EncrId::kAesCbc, 128, PrfId::kHmacSha2_256,
                                    IntegId::kHmacSha2_256_128, DhId::kCurve25519);
  ASSERT_TRUE(cbc.ok());
  Result<std::unique_ptr<SkCipher>> c =
      MakeSkCipher(*cbc, SecretBytes(ByteSpan(Range(0x20, 0x30))),
                   SecretBytes(ByteSpan(Range(0x50, 0x70))), rng);
  ASSERT_TRUE(c.ok());
  Bytes m = Frame(**c, aad, inner);
  ASSERT_TRUE((*c)->Seal(m, aad.size()).ok());
  EXPECT_EQ(ToHex(m),
            "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
            "11111111111111111111111111111111"
            "213b77de6e78c2e738dd36471ea9b3d7a05c5d9d936d5f065b8f4dcc178c9613");

  Result<Suite> gcm = Suite::ForIke(EncrId::kAesGcm16, 128, PrfId::kHmacSha2_256, std::nullopt,
                                    DhId::kCurve25519);
  ASSERT_TRUE(gcm.ok());
  Bytes gkey = Range(0x20, 0x30);
  gkey.insert(gkey.end(), {0xa0, 0xa1, 0xa2, 0xa3});
  Result<std::unique_ptr<SkCipher>> g = MakeSkCipher(*gcm, SecretBytes(ByteSpan(gkey)),
                                                     SecretBytes(), rng);
  ASSERT_TRUE(g.ok());
  Bytes gm = Frame(**g, aad, inner);
  ASSERT_TRUE((*g)->Seal(gm, aad.size()).ok());
  EXPECT_EQ(ToHex(gm),
            "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
            "1111111111111111"
            "c21956980c256528d11da370f865e284c971d52840dc4fcaf5077e6afa44faaa");
  // The next IV is the next counter value.
  Bytes gm2 = Frame(**g, aad, inner);
  ASSERT_TRUE((*g)->Seal(gm2, aad.size()).ok());
  EXPECT_EQ(ToHex(ByteSpan(gm2).subspan(aad.size(), 8)), "1111111111111112");
}

TEST(SkCiphersTest, GcmIvsNeverRepeatAndCbcIvsComeFromTheRng) {
  DeterministicRandom rng(99);
  const Bytes aad(8, 0);
  Suite g = IkeSuite(kCases[0]);
  Result<std::unique_ptr<SkCipher>> gc = MakeSkCipher(g, KeysFor(g).sk_ei, SecretBytes(), rng);
  ASSERT_TRUE(gc.ok());
  std::set<Bytes> ivs;
  for (int i = 0; i < 1000; ++i) {
    Bytes m = Frame(**gc, aad, {});
    ASSERT_TRUE((*gc)->Seal(m, aad.size()).ok());
    ivs.insert(Bytes(m.begin() + 8, m.begin() + 16));
  }
  EXPECT_EQ(ivs.size(), 1000u);

  Suite c = IkeSuite(kCases[4]);
  DeterministicRandom a(5), b(5);
  Result<std::unique_ptr<SkCipher>> cc = MakeSkCipher(c, KeysFor(c).sk_ei, KeysFor(c).sk_ai, a);
  ASSERT_TRUE(cc.ok());
  Bytes m = Frame(**cc, aad, {});
  ASSERT_TRUE((*cc)->Seal(m, aad.size()).ok());
  Bytes expect_iv(16);
  b.Fill(expect_iv);
  EXPECT_EQ(Bytes(m.begin() + 8, m.begin() + 24), expect_iv);
}

TEST(SkCiphersTest, LayoutErrorsAndKeySizes) {
  DeterministicRandom rng(1);
  Suite c = IkeSuite(kCases[4]);
  IkeSaKeys k = KeysFor(c);
  Result<std::unique_ptr<SkCipher>> cc = MakeSkCipher(c, k.sk_ei, k.sk_ai, rng);
  ASSERT_TRUE(cc.ok());
  // 8 header + 16 IV + 15 (not a block) + 16 ICV.
  Bytes bad(8 + 16 + 15 + 16, 0);
  EXPECT_EQ((*cc)->Seal(bad, 8).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ((*cc)->Open(bad, 8).error().code(), Errc::kMalformed);
  Bytes shorty(8 + 16 + 16, 0);  // no room for even the Pad Length octet
  EXPECT_EQ((*cc)->Open(shorty, 8).error().code(), Errc::kTruncated);
  EXPECT_EQ((*cc)->Open(shorty, 100).error().code(), Errc::kTruncated);
  EXPECT_EQ((*cc)->Seal(shorty, 8).error().code(), Errc::kInvalidArgument);

  Suite g = IkeSuite(kCases[0]);
  Result<std::unique_ptr<SkCipher>> gc = MakeSkCipher(g, KeysFor(g).sk_ei, SecretBytes(), rng);
  ASSERT_TRUE(gc.ok());
  Bytes gshort(8 + 8 + 16, 0);
  EXPECT_EQ((*gc)->Open(gshort, 8).error().code(), Errc::kTruncated);

  // Key sizes must match the suite: GCM keys carry the salt.
  EXPECT_EQ(MakeSkCipher(g, SecretBytes(16), SecretBytes(), rng).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(MakeSkCipher(c, k.sk_ei, SecretBytes(16), rng).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(MakeSkCipher(c, SecretBytes(32), k.sk_ai, rng).error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace mipsec::ikev2

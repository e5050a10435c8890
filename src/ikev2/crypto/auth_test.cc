#include "ikev2/crypto/auth.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/crypto_test_util.h"
#include "crypto/pki_test_util.h"
#include "ikev2/crypto/identity.h"

namespace mipsec::ikev2 {
namespace {

using crypto::KeyType;
using crypto::SignatureScheme;
using crypto::testing::Ascii;
using crypto::testing::Hex;

Bytes Range(unsigned from, unsigned to) {
  Bytes b;
  for (unsigned v = from; v < to; ++v) b.push_back(static_cast<std::uint8_t>(v));
  return b;
}

// SK_pi of the CBC known-answer derivation in keys_test.cc (bytes 128..160 of
// its prf+ output); expected values from the Python script there.
const SecretBytes kSkPi(ByteSpan(Hex(
    "856b5081172d29354a66752eb21ca7f0661cdc5db04232cff5fc6f18f6542a72")));

TEST(AuthTest, SignedOctetsAndPskKnownAnswers) {
  Bytes id_body = {2, 0, 0, 0};  // ID_FQDN, RESERVED
  const Bytes fqdn = Ascii("mn@example.org");
  id_body.insert(id_body.end(), fqdn.begin(), fqdn.end());
  Result<Bytes> octets = SignedOctets(Ascii("IKE_SA_INIT request bytes"), Range(0x40, 0x60),
                                      PrfId::kHmacSha2_256, kSkPi, id_body);
  ASSERT_TRUE(octets.ok());
  EXPECT_EQ(ToHex(*octets),
            "494b455f53415f494e49542072657175657374206279746573404142434445464748494a4b4c4d4e4f5051"
            "52535455565758595a5b5c5d5e5f009b278fa14db005380cfdcffd141a37c8b093baaa224a0e106824dedf"
            "d94b39");
  const SecretBytes psk(ByteSpan(Ascii("rfc5266-interop-test-psk")));
  Result<Bytes> auth = PskAuthData(PrfId::kHmacSha2_256, psk, *octets);
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(ToHex(*auth), "5f1a5448cdd5b73085f532c27f69f4bf61fde7bc3ea7ce20ee7dc8f28cea2da2");

  EXPECT_TRUE(VerifyPskAuth(PrfId::kHmacSha2_256, psk, *octets, *auth).ok());
  Bytes bad = *auth;
  bad[0] ^= 1;
  EXPECT_EQ(VerifyPskAuth(PrfId::kHmacSha2_256, psk, *octets, bad).error().code(),
            Errc::kAuthFailed);
  EXPECT_EQ(VerifyPskAuth(PrfId::kHmacSha2_256, psk, *octets, ByteSpan(*auth).first(16))
                .error().code(), Errc::kAuthFailed);
  const SecretBytes other(ByteSpan(Ascii("rfc5266-interop-test-psK")));
  EXPECT_EQ(VerifyPskAuth(PrfId::kHmacSha2_256, other, *octets, *auth).error().code(),
            Errc::kAuthFailed);
  EXPECT_EQ(PskAuthData(PrfId::kHmacSha2_256, SecretBytes(), *octets).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(SignedOctets({}, {}, PrfId::kHmacSha2_256, kSkPi, Bytes{2, 0}).error().code(),
            Errc::kInvalidArgument);
}

TEST(AuthTest, SignatureHashAlgorithmsNotify) {
  Bytes data = EncodeSignatureHashAlgorithms(SupportedSignatureHashes());
  EXPECT_EQ(ToHex(data), "000200030004");
  Result<std::vector<SigHashAlg>> back = DecodeSignatureHashAlgorithms(Hex("0001000200050004"));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 4u);
  EXPECT_EQ((*back)[2], static_cast<SigHashAlg>(5));  // unknown values kept
  EXPECT_EQ(DecodeSignatureHashAlgorithms(Hex("000200")).error().code(), Errc::kMalformed);
  EXPECT_EQ(DecodeSignatureHashAlgorithms({}).error().code(), Errc::kMalformed);

  const SigHashAlg all[] = {SigHashAlg::kSha1, SigHashAlg::kSha2_256, SigHashAlg::kSha2_384,
                            SigHashAlg::kSha2_512};
  EXPECT_EQ(*SelectSignatureScheme(KeyType::kRsa, all, {}), SignatureScheme::kRsaPkcs1Sha256);
  EXPECT_EQ(*SelectSignatureScheme(KeyType::kRsa, all, {.rsa_pss = true}),
            SignatureScheme::kRsaPssSha256);
  EXPECT_EQ(*SelectSignatureScheme(KeyType::kEcP384, all, {}), SignatureScheme::kEcdsaSha384);
  EXPECT_EQ(*SelectSignatureScheme(KeyType::kEcP521, all, {}), SignatureScheme::kEcdsaSha512);
  const SigHashAlg only512[] = {SigHashAlg::kSha2_512};
  EXPECT_EQ(*SelectSignatureScheme(KeyType::kEcP256, only512, {}),
            SignatureScheme::kEcdsaSha512);
  const SigHashAlg only_sha1[] = {SigHashAlg::kSha1};
  EXPECT_EQ(SelectSignatureScheme(KeyType::kRsa, only_sha1, {}).error().code(),
            Errc::kUnsupported);
}

class SignatureAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new crypto::PrivateKey(crypto::testing::NewKey(KeyType::kRsa, 2048));
    p256_ = new crypto::PrivateKey(crypto::testing::NewKey(KeyType::kEcP256));
    p384_ = new crypto::PrivateKey(crypto::testing::NewKey(KeyType::kEcP384));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete p256_;
    delete p384_;
  }
  static crypto::PrivateKey* rsa_;
  static crypto::PrivateKey* p256_;
  static crypto::PrivateKey* p384_;
  const Bytes octets_ = Ascii("RealMessage2 | Ni | prf(SK_pr, IDr')");
};
crypto::PrivateKey* SignatureAuthTest::rsa_ = nullptr;
crypto::PrivateKey* SignatureAuthTest::p256_ = nullptr;
crypto::PrivateKey* SignatureAuthTest::p384_ = nullptr;

TEST_F(SignatureAuthTest, ClassicMethods) {
  Result<AuthPayloadData> r = SignAuth(*rsa_, octets_, std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, AuthMethod::kRsaSig);
  EXPECT_EQ(r->data.size(), 256u);
  EXPECT_TRUE(VerifySignatureAuth(r->method, r->data, rsa_->public_key(), octets_).ok());
  // It is PKCS#1 v1.5 with SHA-1 (RFC 7296 3.8 method 1).
  EXPECT_TRUE(crypto::Verify(rsa_->public_key(), SignatureScheme::kRsaPkcs1Sha1, octets_, r->data)
                  .ok());
  EXPECT_EQ(VerifySignatureAuth(r->method, r->data, rsa_->public_key(), octets_,
                                {.allow_rsa_sha1_method = false}).error().code(),
            Errc::kAuthFailed);

  Result<AuthPayloadData> e = SignAuth(*p256_, octets_, std::nullopt);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->method, AuthMethod::kEcdsaSha256P256);
  EXPECT_EQ(e->data.size(), 64u);  // RFC 4754: r | s
  EXPECT_TRUE(VerifySignatureAuth(e->method, e->data, p256_->public_key(), octets_).ok());
  Result<AuthPayloadData> e3 = SignAuth(*p384_, octets_, std::nullopt);
  ASSERT_TRUE(e3.ok());
  EXPECT_EQ(e3->method, AuthMethod::kEcdsaSha384P384);
  EXPECT_EQ(e3->data.size(), 96u);
  EXPECT_TRUE(VerifySignatureAuth(e3->method, e3->data, p384_->public_key(), octets_).ok());

  // Method 9 with a P-384 key, method 1 with an EC key: refused.
  EXPECT_EQ(VerifySignatureAuth(AuthMethod::kEcdsaSha256P256, e->data, p384_->public_key(),
                                octets_).error().code(), Errc::kAuthFailed);
  EXPECT_EQ(VerifySignatureAuth(AuthMethod::kRsaSig, r->data, p256_->public_key(), octets_)
                .error().code(), Errc::kAuthFailed);
  Bytes tampered = e->data;
  tampered[10] ^= 1;
  EXPECT_EQ(VerifySignatureAuth(e->method, tampered, p256_->public_key(), octets_).error().code(),
            Errc::kAuthFailed);
  EXPECT_EQ(VerifySignatureAuth(e->method, ByteSpan(e->data).first(63), p256_->public_key(),
                                octets_).error().code(), Errc::kAuthFailed);
  Bytes other = octets_;
  other.push_back(0);
  EXPECT_EQ(VerifySignatureAuth(e->method, e->data, p256_->public_key(), other).error().code(),
            Errc::kAuthFailed);
  EXPECT_EQ(VerifySignatureAuth(AuthMethod::kSharedKeyMic, e->data, p256_->public_key(), octets_)
                .error().code(), Errc::kUnsupported);
}

TEST_F(SignatureAuthTest, DigitalSignatureMethod) {
  const SigHashAlg peer[] = {SigHashAlg::kSha2_256, SigHashAlg::kSha2_384, SigHashAlg::kSha2_512};
  struct K {
    const crypto::PrivateKey* key;
    SignOptions opt;
    SignatureScheme expect;
  };
  for (const K& k : {K{rsa_, {}, SignatureScheme::kRsaPkcs1Sha256},
                     K{rsa_, {.rsa_pss = true}, SignatureScheme::kRsaPssSha256},
                     K{p256_, {}, SignatureScheme::kEcdsaSha256},
                     K{p384_, {}, SignatureScheme::kEcdsaSha384}}) {
    SCOPED_TRACE(std::string(crypto::SchemeName(k.expect)));
    Result<AuthPayloadData> a = SignAuth(*k.key, octets_, std::span<const SigHashAlg>(peer), k.opt);
    ASSERT_TRUE(a.ok()) << a.error().ToString();
    EXPECT_EQ(a->method, AuthMethod::kDigitalSignature);
    // RFC 7427 3: length octet, AlgorithmIdentifier, signature.
    const Bytes alg = crypto::AlgorithmIdentifierDer(k.expect);
    ASSERT_GT(a->data.size(), 1 + alg.size());
    EXPECT_EQ(a->data[0], alg.size());
    EXPECT_TRUE(std::equal(alg.begin(), alg.end(), a->data.begin() + 1));
    EXPECT_TRUE(VerifySignatureAuth(a->method, a->data, k.key->public_key(), octets_).ok());

    Bytes t = a->data;
    t.back() ^= 1;
    EXPECT_EQ(VerifySignatureAuth(a->method, t, k.key->public_key(), octets_).error().code(),
              Errc::kAuthFailed);
    const crypto::PrivateKey* other = k.key == rsa_ ? p256_ : rsa_;
    EXPECT_EQ(VerifySignatureAuth(a->method, a->data, other->public_key(), octets_)
                  .error().code(), Errc::kAuthFailed);
  }
  // A peer signing with SHA-1 under method 14 is refused (RFC 8247 3.2).
  Result<Bytes> sha1 = crypto::Sign(*rsa_, SignatureScheme::kRsaPkcs1Sha1, octets_);
  ASSERT_TRUE(sha1.ok());
  Bytes data = {15};
  const Bytes alg = crypto::AlgorithmIdentifierDer(SignatureScheme::kRsaPkcs1Sha1);
  data.insert(data.end(), alg.begin(), alg.end());
  data.insert(data.end(), sha1->begin(), sha1->end());
  EXPECT_EQ(VerifySignatureAuth(AuthMethod::kDigitalSignature, data, rsa_->public_key(), octets_)
                .error().code(), Errc::kAuthFailed);
  // Length octet beyond the data; garbage AlgorithmIdentifier.
  EXPECT_EQ(VerifySignatureAuth(AuthMethod::kDigitalSignature, Bytes{40, 0x30, 0},
                                rsa_->public_key(), octets_).error().code(), Errc::kTruncated);
  EXPECT_EQ(VerifySignatureAuth(AuthMethod::kDigitalSignature, Bytes{2, 0x05, 0x00, 1, 2},
                                rsa_->public_key(), octets_).error().code(), Errc::kMalformed);
  // No common hash.
  const SigHashAlg sha1_only[] = {SigHashAlg::kSha1};
  EXPECT_EQ(SignAuth(*p256_, octets_, std::span<const SigHashAlg>(sha1_only)).error().code(),
            Errc::kUnsupported);
}

TEST_F(SignatureAuthTest, ShortRsaKeysAreRefused) {
  crypto::PrivateKey small = crypto::testing::NewKey(KeyType::kRsa, 1024);
  EXPECT_EQ(SignAuth(small, octets_, std::nullopt).error().code(), Errc::kUnsupported);
  Result<Bytes> sig = crypto::Sign(small, SignatureScheme::kRsaPkcs1Sha1, octets_);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(VerifySignatureAuth(AuthMethod::kRsaSig, *sig, small.public_key(), octets_)
                .error().code(), Errc::kAuthFailed);
  EXPECT_TRUE(VerifySignatureAuth(AuthMethod::kRsaSig, *sig, small.public_key(), octets_,
                                  {.min_rsa_bits = 1024}).ok());
}

TEST_F(SignatureAuthTest, CertificateIdentities) {
  crypto::Certificate ca = crypto::testing::MakeCert({.cn = "CA", .ca = true}, *p256_, nullptr,
                                                      *p256_);
  crypto::Certificate gw = crypto::testing::MakeCert(
      {.cn = "gw", .dns = {"gw.example.org"}, .emails = {"ops@example.org"},
       .ips = {"203.0.113.2"}},
      *p384_, &ca, *p256_);
  auto fqdn = [](std::string_view s) { return Ascii(s); };
  EXPECT_TRUE(CertificateMatchesId(gw, IdType::kFqdn, fqdn("gw.example.org")).ok());
  EXPECT_TRUE(CertificateMatchesId(gw, IdType::kFqdn, fqdn("GW.Example.ORG")).ok());
  EXPECT_EQ(CertificateMatchesId(gw, IdType::kFqdn, fqdn("evil.example.org")).error().code(),
            Errc::kAuthFailed);
  EXPECT_EQ(CertificateMatchesId(gw, IdType::kFqdn, fqdn("gw")).error().code(),
            Errc::kAuthFailed);  // the CN alone does not count
  EXPECT_TRUE(CertificateMatchesId(gw, IdType::kRfc822Addr, fqdn("ops@example.org")).ok());
  EXPECT_EQ(CertificateMatchesId(gw, IdType::kRfc822Addr, fqdn("gw.example.org")).error().code(),
            Errc::kAuthFailed);
  EXPECT_TRUE(CertificateMatchesId(gw, IdType::kIpv4Addr, Bytes{203, 0, 113, 2}).ok());
  EXPECT_EQ(CertificateMatchesId(gw, IdType::kIpv4Addr, Bytes{203, 0, 113, 3}).error().code(),
            Errc::kAuthFailed);
  EXPECT_EQ(CertificateMatchesId(gw, IdType::kIpv4Addr, Bytes{203, 0, 113}).error().code(),
            Errc::kMalformed);
  EXPECT_TRUE(CertificateMatchesId(gw, IdType::kDerAsn1Dn, gw.SubjectDer()).ok());
  EXPECT_EQ(CertificateMatchesId(gw, IdType::kDerAsn1Dn, ca.SubjectDer()).error().code(),
            Errc::kAuthFailed);
  EXPECT_EQ(CertificateMatchesId(gw, IdType::kKeyId, Bytes{1, 2}).error().code(),
            Errc::kUnsupported);

  // The whole certificate path: chain, identity, then AUTH with its key.
  const crypto::Certificate anchors[] = {ca};
  ASSERT_TRUE(crypto::VerifyCertificateChain(gw, {}, anchors, std::nullopt).ok());
  Result<crypto::PublicKey> pub = gw.public_key();
  ASSERT_TRUE(pub.ok());
  Result<AuthPayloadData> a = SignAuth(*p384_, octets_, SupportedSignatureHashes());
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(VerifySignatureAuth(a->method, a->data, *pub, octets_).ok());
}

}  // namespace
}  // namespace mipsec::ikev2

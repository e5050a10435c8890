#include "crypto/signature.h"

#include <gtest/gtest.h>

#include <vector>

#include "crypto/crypto_test_util.h"
#include "crypto/pki_test_util.h"

namespace mipsec::crypto {
namespace {

using testing::Hex;
using testing::NewKey;

constexpr SignatureScheme kAllSchemes[] = {
    SignatureScheme::kRsaPkcs1Sha1,   SignatureScheme::kRsaPkcs1Sha256,
    SignatureScheme::kRsaPkcs1Sha384, SignatureScheme::kRsaPkcs1Sha512,
    SignatureScheme::kRsaPssSha256,   SignatureScheme::kRsaPssSha384,
    SignatureScheme::kRsaPssSha512,   SignatureScheme::kEcdsaSha256,
    SignatureScheme::kEcdsaSha384,    SignatureScheme::kEcdsaSha512,
};

class SignatureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new PrivateKey(NewKey(KeyType::kRsa, 2048));
    rsa2_ = new PrivateKey(NewKey(KeyType::kRsa, 2048));
    p256_ = new PrivateKey(NewKey(KeyType::kEcP256));
    p384_ = new PrivateKey(NewKey(KeyType::kEcP384));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete rsa2_;
    delete p256_;
    delete p384_;
  }
  static PrivateKey* rsa_;
  static PrivateKey* rsa2_;
  static PrivateKey* p256_;
  static PrivateKey* p384_;
};
PrivateKey* SignatureTest::rsa_ = nullptr;
PrivateKey* SignatureTest::rsa2_ = nullptr;
PrivateKey* SignatureTest::p256_ = nullptr;
PrivateKey* SignatureTest::p384_ = nullptr;

TEST_F(SignatureTest, SignVerifyEverySchemeAndTamper) {
  const Bytes msg = testing::Ascii("IKE_SA_INIT | Nr | prf(SK_pi, IDi')");
  for (SignatureScheme s : kAllSchemes) {
    SCOPED_TRACE(std::string(SchemeName(s)));
    const PrivateKey& key = SchemeIsRsa(s) ? *rsa_ : *p256_;
    const PrivateKey& other = SchemeIsRsa(s) ? *rsa2_ : *p384_;
    Result<Bytes> sig = Sign(key, s, msg);
    ASSERT_TRUE(sig.ok()) << sig.error().ToString();
    if (SchemeIsRsa(s)) {
      EXPECT_EQ(sig->size(), 256u);
    }
    EXPECT_TRUE(Verify(key.public_key(), s, msg, *sig).ok());

    Bytes bad_msg = msg;
    bad_msg[3] ^= 1;
    EXPECT_EQ(Verify(key.public_key(), s, bad_msg, *sig).error().code(), Errc::kAuthFailed);
    Bytes bad_sig = *sig;
    bad_sig[bad_sig.size() / 2] ^= 0x40;
    EXPECT_EQ(Verify(key.public_key(), s, msg, bad_sig).error().code(), Errc::kAuthFailed);
    EXPECT_EQ(Verify(other.public_key(), s, msg, *sig).error().code(), Errc::kAuthFailed);
    EXPECT_EQ(Verify(key.public_key(), s, msg, {}).error().code(), Errc::kAuthFailed);

    // The other key family does not fit the scheme.
    const PrivateKey& wrong = SchemeIsRsa(s) ? *p256_ : *rsa_;
    EXPECT_EQ(Sign(wrong, s, msg).error().code(), Errc::kInvalidArgument);
    EXPECT_EQ(Verify(wrong.public_key(), s, msg, *sig).error().code(), Errc::kInvalidArgument);
  }
}

TEST_F(SignatureTest, PkcsAndPssAreNotInterchangeable) {
  const Bytes msg = testing::Ascii("message");
  Result<Bytes> pss = Sign(*rsa_, SignatureScheme::kRsaPssSha256, msg);
  Result<Bytes> pkcs = Sign(*rsa_, SignatureScheme::kRsaPkcs1Sha256, msg);
  ASSERT_TRUE(pss.ok() && pkcs.ok());
  EXPECT_FALSE(Verify(rsa_->public_key(), SignatureScheme::kRsaPkcs1Sha256, msg, *pss).ok());
  EXPECT_FALSE(Verify(rsa_->public_key(), SignatureScheme::kRsaPssSha256, msg, *pkcs).ok());
  // PKCS#1 v1.5 is deterministic, PSS is salted.
  EXPECT_EQ(*pkcs, *Sign(*rsa_, SignatureScheme::kRsaPkcs1Sha256, msg));
  EXPECT_NE(*pss, *Sign(*rsa_, SignatureScheme::kRsaPssSha256, msg));
  // Hash mismatch fails.
  EXPECT_FALSE(Verify(rsa_->public_key(), SignatureScheme::kRsaPkcs1Sha384, msg, *pkcs).ok());
}

TEST_F(SignatureTest, EcdsaRawForm) {
  const Bytes msg = testing::Ascii("RFC 4754");
  Result<Bytes> der = Sign(*p384_, SignatureScheme::kEcdsaSha384, msg);
  ASSERT_TRUE(der.ok());
  Result<Bytes> raw = EcdsaDerToRaw(*der, EcFieldSize(KeyType::kEcP384));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->size(), 96u);
  Result<Bytes> back = EcdsaRawToDer(*raw);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *der);  // DER is canonical
  EXPECT_TRUE(Verify(p384_->public_key(), SignatureScheme::kEcdsaSha384, msg, *back).ok());

  // r = 1, s = 0x0100: minimal DER, padded raw.
  Bytes small = Hex("3007020101020201 00");
  Result<Bytes> small_raw = EcdsaDerToRaw(small, 4);
  ASSERT_TRUE(small_raw.ok());
  EXPECT_EQ(ToHex(*small_raw), "0000000100000100");
  EXPECT_EQ(EcdsaDerToRaw(small, 1).error().code(), Errc::kMalformed);  // s needs 2 bytes
  EXPECT_EQ(EcdsaDerToRaw(Hex("30070201010202"), 4).error().code(), Errc::kMalformed);
  Bytes trailing = small;
  trailing.push_back(0);
  EXPECT_EQ(EcdsaDerToRaw(trailing, 4).error().code(), Errc::kMalformed);
  EXPECT_EQ(EcdsaRawToDer(Hex("010203")).error().code(), Errc::kMalformed);
  EXPECT_EQ(EcdsaRawToDer({}).error().code(), Errc::kMalformed);
}

// RFC 7427 Appendix A, byte for byte.
TEST(AlgorithmIdentifierTest, MatchesRfc7427AppendixA) {
  EXPECT_EQ(ToHex(AlgorithmIdentifierDer(SignatureScheme::kRsaPkcs1Sha1)),
            "300d06092a864886f70d0101050500");
  EXPECT_EQ(ToHex(AlgorithmIdentifierDer(SignatureScheme::kRsaPkcs1Sha256)),
            "300d06092a864886f70d01010b0500");
  EXPECT_EQ(ToHex(AlgorithmIdentifierDer(SignatureScheme::kRsaPkcs1Sha384)),
            "300d06092a864886f70d01010c0500");
  EXPECT_EQ(ToHex(AlgorithmIdentifierDer(SignatureScheme::kRsaPkcs1Sha512)),
            "300d06092a864886f70d01010d0500");
  EXPECT_EQ(ToHex(AlgorithmIdentifierDer(SignatureScheme::kEcdsaSha256)),
            "300a06082a8648ce3d040302");
  EXPECT_EQ(ToHex(AlgorithmIdentifierDer(SignatureScheme::kEcdsaSha384)),
            "300a06082a8648ce3d040303");
  EXPECT_EQ(ToHex(AlgorithmIdentifierDer(SignatureScheme::kEcdsaSha512)),
            "300a06082a8648ce3d040304");
  EXPECT_EQ(ToHex(AlgorithmIdentifierDer(SignatureScheme::kRsaPssSha256)),
            "304606092a864886f70d01010a3039a00f300d0609608648016503040201"
            "0500a11c301a06092a864886f70d010108300d0609608648016503040201"
            "0500a203020120a303020101");
}

TEST(AlgorithmIdentifierTest, ParsesWhatItWritesAndVariants) {
  for (SignatureScheme s : kAllSchemes) {
    Result<SignatureScheme> back = SchemeFromAlgorithmIdentifier(AlgorithmIdentifierDer(s));
    ASSERT_TRUE(back.ok()) << SchemeName(s) << ": " << back.error().ToString();
    EXPECT_EQ(*back, s);
  }
  // PKCS#1 with absent parameters, ECDSA with NULL parameters: tolerated.
  EXPECT_EQ(*SchemeFromAlgorithmIdentifier(Hex("300b06092a864886f70d01010b")),
            SignatureScheme::kRsaPkcs1Sha256);
  EXPECT_EQ(*SchemeFromAlgorithmIdentifier(Hex("300c06082a8648ce3d0403020500")),
            SignatureScheme::kEcdsaSha256);
  // PSS without the DEFAULT trailer field and with salt 20 still means SHA-256.
  EXPECT_EQ(*SchemeFromAlgorithmIdentifier(
                Hex("304106092a864886f70d01010a3034a00f300d06096086480165030402010500"
                    "a11c301a06092a864886f70d010108300d06096086480165030402010500a203020114")),
            SignatureScheme::kRsaPssSha256);
  // A.4.1 / A.4.2: PSS with SHA-1 defaults is not offered.
  EXPECT_EQ(SchemeFromAlgorithmIdentifier(Hex("300d06092a864886f70d01010a3000")).error().code(),
            Errc::kUnsupported);
  EXPECT_EQ(SchemeFromAlgorithmIdentifier(
                Hex("303e06092a864886f70d01010a3031a00b300906052b0e03021a0500a118301606092a864886"
                    "f70d010108300906052b0e03021a0500a203020114a303020101"))
                .error()
                .code(),
            Errc::kUnsupported);
  // PSS with SHA-256 but MGF1-SHA-1.
  EXPECT_EQ(SchemeFromAlgorithmIdentifier(
                Hex("303d06092a864886f70d01010a3030a00f300d06096086480165030402010500a118301606092a"
                    "864886f70d010108300906052b0e03021a0500a203020120"))
                .error()
                .code(),
            Errc::kUnsupported);
  // dsa-with-sha256 (A.2.2).
  EXPECT_EQ(SchemeFromAlgorithmIdentifier(Hex("300b0609608648016503040302")).error().code(),
            Errc::kUnsupported);
  // PKCS#1 with an INTEGER as parameters.
  EXPECT_EQ(SchemeFromAlgorithmIdentifier(Hex("300e06092a864886f70d01010b020101")).error().code(),
            Errc::kMalformed);
  EXPECT_EQ(SchemeFromAlgorithmIdentifier(Hex("300d06092a864886f70d01010b050000")).error().code(),
            Errc::kMalformed);  // trailing byte
  EXPECT_EQ(SchemeFromAlgorithmIdentifier(Hex("300d06092a86")).error().code(), Errc::kMalformed);
  EXPECT_EQ(SchemeFromAlgorithmIdentifier({}).error().code(), Errc::kMalformed);
}

}  // namespace
}  // namespace mipsec::crypto

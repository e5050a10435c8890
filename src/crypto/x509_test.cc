#include "crypto/x509.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/pki_test_util.h"

namespace mipsec::crypto {
namespace {

using testing::CertSpec;
using testing::MakeCert;
using testing::MakeCertPem;
using testing::NewKey;
using testing::NewKeyPem;

class X509Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_key_ = new PrivateKey(NewKey(KeyType::kEcP256));
    CertSpec ca{.cn = "Test Root CA", .ca = true};
    ca_ = new Certificate(MakeCert(ca, *ca_key_, nullptr, *ca_key_));
    leaf_key_ = new PrivateKey(NewKey(KeyType::kEcP384));
    CertSpec leaf{.cn = "gw.example.org",
                  .dns = {"gw.example.org", "vpn.example.org"},
                  .emails = {"admin@example.org"},
                  .ips = {"203.0.113.2"},
                  .not_before = 1'700'000'000,
                  .not_after = 1'800'000'000,
                  .serial = 7};
    leaf_ = new Certificate(MakeCert(leaf, *leaf_key_, ca_, *ca_key_));
  }
  static void TearDownTestSuite() {
    delete ca_key_;
    delete ca_;
    delete leaf_key_;
    delete leaf_;
  }
  static PrivateKey* ca_key_;
  static Certificate* ca_;
  static PrivateKey* leaf_key_;
  static Certificate* leaf_;
};
PrivateKey* X509Test::ca_key_ = nullptr;
Certificate* X509Test::ca_ = nullptr;
PrivateKey* X509Test::leaf_key_ = nullptr;
Certificate* X509Test::leaf_ = nullptr;

TEST_F(X509Test, FieldsOfAParsedCertificate) {
  EXPECT_FALSE(leaf_->IsCa());
  EXPECT_TRUE(ca_->IsCa());
  EXPECT_EQ(leaf_->DnsNames(), (std::vector<std::string>{"gw.example.org", "vpn.example.org"}));
  EXPECT_EQ(leaf_->EmailAddresses(), std::vector<std::string>{"admin@example.org"});
  ASSERT_EQ(leaf_->IpAddresses().size(), 1u);
  EXPECT_EQ(leaf_->IpAddresses()[0], (Bytes{203, 0, 113, 2}));
  EXPECT_EQ(leaf_->NotBefore(), 1'700'000'000);
  EXPECT_EQ(leaf_->NotAfter(), 1'800'000'000);
  EXPECT_EQ(leaf_->SubjectText(), "CN=gw.example.org,O=mipsec test");
  EXPECT_EQ(leaf_->IssuerDer(), ca_->SubjectDer());
  EXPECT_NE(leaf_->SubjectDer(), ca_->SubjectDer());
  // DER of a Name starts with a SEQUENCE.
  ASSERT_FALSE(leaf_->SubjectDer().empty());
  EXPECT_EQ(leaf_->SubjectDer()[0], 0x30);
  EXPECT_TRUE(ca_->DnsNames().empty());

  Result<PublicKey> pub = leaf_->public_key();
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->type(), KeyType::kEcP384);
  EXPECT_EQ(pub->bits(), 384u);
  EXPECT_TRUE(pub->Equals(leaf_key_->public_key()));
  EXPECT_FALSE(pub->Equals(ca_key_->public_key()));
}

TEST_F(X509Test, DerRoundTripAndRejects) {
  Result<Certificate> again = Certificate::FromDer(leaf_->der());
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_TRUE(*again == *leaf_);

  Bytes trailing = leaf_->der();
  trailing.push_back(0);
  EXPECT_EQ(Certificate::FromDer(trailing).error().code(), Errc::kMalformed);
  Bytes truncated(leaf_->der().begin(), leaf_->der().end() - 1);
  EXPECT_EQ(Certificate::FromDer(truncated).error().code(), Errc::kMalformed);
  EXPECT_EQ(Certificate::FromDer({}).error().code(), Errc::kMalformed);
}

TEST_F(X509Test, PemBundles) {
  std::string bundle = MakeCertPem({.cn = "a"}, *leaf_key_, ca_, *ca_key_) +
                       MakeCertPem({.cn = "b"}, *leaf_key_, ca_, *ca_key_);
  Result<std::vector<Certificate>> certs = Certificate::AllFromPem(bundle);
  ASSERT_TRUE(certs.ok()) << certs.error().ToString();
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ((*certs)[1].SubjectText(), "CN=b,O=mipsec test");

  EXPECT_EQ(Certificate::AllFromPem("no pem here").error().code(), Errc::kNotFound);
  std::string broken = bundle;
  broken[broken.find("-----END") - 10] = '!';  // corrupt the base64 of the second
  EXPECT_EQ(Certificate::AllFromPem(broken).error().code(), Errc::kMalformed);
}

TEST_F(X509Test, KeysFromPem) {
  Result<PrivateKey> rsa = PrivateKey::FromPem(NewKeyPem(KeyType::kRsa, 2048));
  ASSERT_TRUE(rsa.ok());
  EXPECT_EQ(rsa->type(), KeyType::kRsa);
  EXPECT_EQ(rsa->bits(), 2048u);
  Result<PrivateKey> ec = PrivateKey::FromPem(NewKeyPem(KeyType::kEcP521));
  ASSERT_TRUE(ec.ok());
  EXPECT_EQ(ec->type(), KeyType::kEcP521);
  Result<PrivateKey> ed = PrivateKey::FromPem(NewKeyPem(KeyType::kOther));
  ASSERT_TRUE(ed.ok());
  EXPECT_EQ(ed->type(), KeyType::kOther);

  EXPECT_EQ(PrivateKey::FromPem("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n").error().code(),
            Errc::kUnsupported);
  EXPECT_EQ(PrivateKey::FromPem("garbage").error().code(), Errc::kMalformed);

  Result<Bytes> spki = ec->public_key().ToSpkiDer();
  ASSERT_TRUE(spki.ok());
  Result<PublicKey> pub = PublicKey::FromSpkiDer(*spki);
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(pub->Equals(ec->public_key()));
  Bytes bad = *spki;
  bad.push_back(1);
  EXPECT_EQ(PublicKey::FromSpkiDer(bad).error().code(), Errc::kMalformed);
}

TEST_F(X509Test, ChainVerification) {
  const Certificate anchors[] = {*ca_};
  EXPECT_TRUE(VerifyCertificateChain(*leaf_, {}, anchors, std::nullopt).ok());
  EXPECT_TRUE(VerifyCertificateChain(*leaf_, {}, anchors, 1'750'000'000).ok());

  Status expired = VerifyCertificateChain(*leaf_, {}, anchors, 1'900'000'000);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code(), Errc::kAuthFailed);
  EXPECT_NE(expired.error().detail().find("expired"), std::string::npos)
      << expired.error().detail();
  Status early = VerifyCertificateChain(*leaf_, {}, anchors, 1'650'000'000);
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.error().detail().find("not yet valid"), std::string::npos);

  // Another CA with the same name but another key does not vouch for it.
  PrivateKey other_key = NewKey(KeyType::kEcP256);
  Certificate other = MakeCert({.cn = "Test Root CA", .ca = true}, other_key, nullptr, other_key);
  const Certificate wrong[] = {other};
  EXPECT_EQ(VerifyCertificateChain(*leaf_, {}, wrong, std::nullopt).error().code(),
            Errc::kAuthFailed);
  EXPECT_EQ(VerifyCertificateChain(*leaf_, {}, {}, std::nullopt).error().code(),
            Errc::kInvalidArgument);

  // Through an intermediate, which must be supplied.
  PrivateKey int_key = NewKey(KeyType::kEcP256);
  Certificate inter = MakeCert({.cn = "Intermediate", .ca = true, .serial = 3}, int_key, ca_,
                               *ca_key_);
  Certificate leaf2 = MakeCert({.cn = "mn", .emails = {"mn@example.org"}}, *leaf_key_, &inter,
                               int_key);
  const Certificate inters[] = {inter};
  EXPECT_TRUE(VerifyCertificateChain(leaf2, inters, anchors, 1'750'000'000).ok());
  EXPECT_EQ(VerifyCertificateChain(leaf2, {}, anchors, std::nullopt).error().code(),
            Errc::kAuthFailed);
  // An end-entity certificate cannot act as a CA.
  Certificate fake = MakeCert({.cn = "victim"}, int_key, leaf_, *leaf_key_);
  const Certificate leaf_as_inter[] = {*leaf_};
  EXPECT_EQ(VerifyCertificateChain(fake, leaf_as_inter, anchors, std::nullopt).error().code(),
            Errc::kAuthFailed);
}

}  // namespace
}  // namespace mipsec::crypto

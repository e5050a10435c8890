// IKE_AUTH with certificates (RFC 7296 2.15, RFC 7427): ECDSA and RSA
// end-entity certificates issued by a test CA generated at test time.
//
//   IKE_SA_INIT  SA KE Ni N(SIGNATURE_HASH_ALGORITHMS) ---->
//               <---- SA KE Nr N(SIGNATURE_HASH_ALGORITHMS)
//   IKE_AUTH  SK{IDi CERT CERTREQ AUTH(14) CP SA TSi TSr} ---->
//               <---- SK{IDr CERT AUTH(14) CP SA TSi TSr}
#include <gtest/gtest.h>

#include "crypto/pki_test_util.h"
#include "ikev2/sa/ike_sa_test_util.h"

namespace mipsec::ikev2 {
namespace {

using crypto::Certificate;
using crypto::KeyType;
using crypto::PrivateKey;
using crypto::testing::CertSpec;
using crypto::testing::MakeCert;
using crypto::testing::NewKey;
using test::Exchanger;
using test::TestAddressPool;

struct Pki {
  PrivateKey ca_key;
  Certificate ca;
  PrivateKey gw_key;
  Certificate gw;
  PrivateKey mn_key;
  Certificate mn;
};

Pki MakePki(KeyType gw_type, KeyType mn_type) {
  PrivateKey ca_key = NewKey(KeyType::kEcP256);
  Certificate ca = MakeCert(CertSpec{.cn = "mipsec test CA", .ca = true}, ca_key, nullptr, ca_key);
  PrivateKey gw_key = NewKey(gw_type);
  Certificate gw =
      MakeCert(CertSpec{.cn = "gw", .dns = {"gw.example.org"}, .serial = 2}, gw_key, &ca, ca_key);
  PrivateKey mn_key = NewKey(mn_type);
  Certificate mn =
      MakeCert(CertSpec{.cn = "mn", .dns = {"mn.example.org"}, .serial = 3}, mn_key, &ca, ca_key);
  return Pki{ca_key, ca, gw_key, gw, mn_key, mn};
}

void UseCerts(PeerConfig& c, const Certificate& cert, const PrivateKey& key,
              const Certificate& ca) {
  c.local_auth = LocalAuth{};
  c.local_auth.kind = AuthKind::kCertificate;
  c.local_auth.certificate = cert;
  c.local_auth.private_key = key;
  c.remote_auth = RemoteAuth{};
  c.remote_auth.kind = AuthKind::kCertificate;
  c.remote_auth.trust_anchors = {ca};
}

void RunCertSetup(KeyType gw_type, KeyType mn_type) {
  const Pki pki = MakePki(gw_type, mn_type);
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  UseCerts(ic, pki.mn, pki.mn_key, pki.ca);
  IkeSaManagerConfig rc;
  rc.responder = test::ResponderPskConfig(&pool);
  UseCerts(*rc.responder, pki.gw, pki.gw_key, pki.ca);
  rc.responder->remote_id = IdPayload::Fqdn("mn.example.org");
  Exchanger x(ic, std::move(rc));
  IkeSa* i = x.Connect();
  x.RunUntilQuiet();
  ASSERT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_EQ(x.ResponderSa()->state(), IkeSaState::kEstablished);
  EXPECT_EQ(x.ResponderSa()->remote_id(), IdPayload::Fqdn("mn.example.org"));
  EXPECT_EQ(x.EventsI<ChildSaUp>().size(), 1u);
  EXPECT_EQ(x.EventsI<VirtualIpAssigned>().size(), 1u);
}

TEST(IkeSaCertTest, Ecdsa) { RunCertSetup(KeyType::kEcP256, KeyType::kEcP256); }
TEST(IkeSaCertTest, EcdsaP384) { RunCertSetup(KeyType::kEcP384, KeyType::kEcP384); }
TEST(IkeSaCertTest, Rsa) { RunCertSetup(KeyType::kRsa, KeyType::kRsa); }
TEST(IkeSaCertTest, RsaGatewayEcdsaClient) { RunCertSetup(KeyType::kRsa, KeyType::kEcP256); }

// A client certificate from another CA is refused with AUTHENTICATION_FAILED.
TEST(IkeSaCertTest, UntrustedClientCertificate) {
  const Pki pki = MakePki(KeyType::kEcP256, KeyType::kEcP256);
  const Pki other = MakePki(KeyType::kEcP256, KeyType::kEcP256);
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  UseCerts(ic, other.mn, other.mn_key, pki.ca);
  IkeSaManagerConfig rc;
  rc.responder = test::ResponderPskConfig(&pool);
  UseCerts(*rc.responder, pki.gw, pki.gw_key, pki.ca);
  Exchanger x(ic, std::move(rc));
  x.Connect();
  x.RunUntilQuiet();
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<IkeSaDown>()[0].reason, IkeDownReason::kAuthFailed);
  ASSERT_EQ(x.EventsR<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsR<IkeSaDown>()[0].reason, IkeDownReason::kAuthFailed);
}

// A valid certificate that does not carry the identity the peer claims.
TEST(IkeSaCertTest, IdentityNotInCertificate) {
  const Pki pki = MakePki(KeyType::kEcP256, KeyType::kEcP256);
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  UseCerts(ic, pki.mn, pki.mn_key, pki.ca);
  ic.local_id = IdPayload::Fqdn("someone-else.example.org");
  IkeSaManagerConfig rc;
  rc.responder = test::ResponderPskConfig(&pool);
  UseCerts(*rc.responder, pki.gw, pki.gw_key, pki.ca);
  Exchanger x(ic, std::move(rc));
  x.Connect();
  x.RunUntilQuiet();
  ASSERT_EQ(x.EventsR<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsR<IkeSaDown>()[0].reason, IkeDownReason::kAuthFailed);
}

}  // namespace
}  // namespace mipsec::ikev2

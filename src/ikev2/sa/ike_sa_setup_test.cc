// Choreography tests of IKE SA setup: IKE_SA_INIT + IKE_AUTH with PSK,
// configuration payload and the first CHILD SA; COOKIE and INVALID_KE
// retries; refusals. Each test drives two IKE SAs message by message.
#include <gtest/gtest.h>

#include "ikev2/sa/ike_sa_test_util.h"

namespace mipsec::ikev2 {
namespace {

using test::Exchanger;
using test::TestAddressPool;
using EX = ExchangeType;

using test::Responder;

// Full setup with PSK, CP and a CHILD SA:
//
//   initiator                                responder
//   IKE_SA_INIT  SA KE Ni N(NATD_S) N(NATD_D) ---->
//               <---- SA KE Nr N(NATD_S) N(NATD_D)
//   IKE_AUTH  SK{IDi IDr AUTH CP(REQ) SA TSi TSr N(INITIAL_CONTACT)} ---->
//               <---- SK{IDr AUTH CP(REPLY) SA TSi TSr}
TEST(IkeSaSetupTest, PskWithConfigAndChild) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.send_idr = true;
  Exchanger x(ic, Responder(pool));
  IkeSa* i = x.Connect();
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->state(), IkeSaState::kConnecting);

  x.ExpectToR(EX::kIkeSaInit, false, 0);
  EXPECT_FALSE(test::Exchanger::Inspect(x.to_r.front()).marker);
  x.DeliverToR();
  x.ExpectToI(EX::kIkeSaInit, true, 0);
  IkeSa* r = x.ResponderSa();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state(), IkeSaState::kConnecting);
  x.DeliverToI();
  x.ExpectToR(EX::kIkeAuth, false, 1);
  x.DeliverToR();
  EXPECT_EQ(r->state(), IkeSaState::kEstablished);
  x.ExpectToI(EX::kIkeAuth, true, 1);
  x.DeliverToI();
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_TRUE(x.to_r.empty());
  EXPECT_TRUE(x.to_i.empty());

  // Same suite and SPIs on both sides; no NAT.
  ASSERT_EQ(x.EventsI<IkeSaUp>().size(), 1u);
  ASSERT_EQ(x.EventsR<IkeSaUp>().size(), 1u);
  const IkeSaUp iu = x.EventsI<IkeSaUp>()[0];
  const IkeSaUp ru = x.EventsR<IkeSaUp>()[0];
  EXPECT_EQ(iu.suite, ru.suite);
  EXPECT_EQ(iu.suite.ToString(), "aes128gcm16-prfsha256-curve25519");
  EXPECT_EQ(iu.spi_i, ru.spi_i);
  EXPECT_EQ(iu.spi_r, ru.spi_r);
  EXPECT_TRUE(iu.original_initiator);
  EXPECT_FALSE(ru.original_initiator);
  EXPECT_EQ(iu.remote_id, IdPayload::Fqdn("gw.example.org"));
  EXPECT_EQ(ru.remote_id, IdPayload::Fqdn("mn.example.org"));
  EXPECT_FALSE(iu.local_behind_nat || iu.remote_behind_nat);

  // The initiator got its address.
  ASSERT_EQ(x.EventsI<VirtualIpAssigned>().size(), 1u);
  const VirtualIpAssigned v = x.EventsI<VirtualIpAssigned>()[0];
  EXPECT_EQ(v.address, Ipv4Address::FromOctets(10, 2, 0, 1));
  EXPECT_EQ(v.netmask, Ipv4Address::FromOctets(255, 255, 255, 0));
  ASSERT_EQ(v.dns.size(), 1u);
  EXPECT_EQ(v.dns[0], Ipv4Address::FromOctets(10, 1, 0, 53));
  EXPECT_EQ(i->virtual_ip(), v.address);
  EXPECT_EQ(r->peer_virtual_ip(), v.address);
  EXPECT_EQ(pool.acquired, 1);

  // One CHILD SA each, mirrored, with identical keys.
  ASSERT_EQ(x.EventsI<ChildSaUp>().size(), 1u);
  ASSERT_EQ(x.EventsR<ChildSaUp>().size(), 1u);
  const ChildSaInfo ci = x.EventsI<ChildSaUp>()[0].child;
  const ChildSaInfo cr = x.EventsR<ChildSaUp>()[0].child;
  EXPECT_EQ(ci.suite, cr.suite);
  EXPECT_EQ(ci.suite.ToString(), "aes128gcm16-noesn");
  EXPECT_EQ(ci.spi_out, cr.spi_in);
  EXPECT_EQ(ci.spi_in, cr.spi_out);
  EXPECT_TRUE(ci.keys_out.encr.Equals(cr.keys_in.encr));
  EXPECT_TRUE(ci.keys_in.encr.Equals(cr.keys_out.encr));
  EXPECT_FALSE(ci.keys_in.encr.Equals(ci.keys_out.encr));
  EXPECT_EQ(ci.keys_out.encr.size(), 20u);  // AES-128 + 4-byte salt
  EXPECT_TRUE(ci.initiator);
  EXPECT_FALSE(cr.initiator);
  EXPECT_FALSE(ci.udp_encap);
  // TSi narrowed to the assigned address.
  const TrafficSelector host = TrafficSelector::Ipv4Range(v.address, v.address);
  ASSERT_EQ(ci.local_ts.size(), 1u);
  EXPECT_EQ(ci.local_ts[0], host);
  ASSERT_EQ(ci.remote_ts.size(), 1u);
  EXPECT_EQ(ci.remote_ts[0], TrafficSelector::Ipv4Prefix(test::kIntranet));
  EXPECT_EQ(cr.remote_ts, ci.local_ts);
  EXPECT_EQ(cr.local_ts, ci.remote_ts);
  // RFC 4555 3.3: both do MOBIKE and NAT-T, so IKE moved to port 4500
  // without a NAT; ESP is not encapsulated.
  EXPECT_EQ(ci.remote, (Ipv4Endpoint{test::kResponderIp, kNattPort}));
  EXPECT_EQ(cr.remote, (Ipv4Endpoint{test::kInitiatorIp, kNattPort}));
}

// AES-CBC + HMAC suites end to end, with a responder that only has those.
TEST(IkeSaSetupTest, CbcSuites) {
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->ike_proposals = {Suite::ForIke(EncrId::kAesCbc, 256, PrfId::kHmacSha2_256,
                                               IntegId::kHmacSha2_256_128, DhId::kModp2048)
                                     .value()};
  rc.responder->esp_proposals = {Suite::ForEsp(EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128,
                                               std::nullopt, EsnId::kNoEsn)
                                     .value()};
  Exchanger x(test::InitiatorPskConfig(), std::move(rc));
  IkeSa* i = x.Connect();
  x.RunUntilQuiet();
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  ASSERT_EQ(x.EventsI<ChildSaUp>().size(), 1u);
  const ChildSaInfo ci = x.EventsI<ChildSaUp>()[0].child;
  const ChildSaInfo cr = x.EventsR<ChildSaUp>()[0].child;
  EXPECT_EQ(i->suite()->ToString(), "aes256-sha256-prfsha256-modp2048");
  EXPECT_EQ(ci.suite.ToString(), "aes128-sha256-noesn");
  EXPECT_EQ(ci.keys_out.integ.size(), 32u);
  EXPECT_TRUE(ci.keys_out.integ.Equals(cr.keys_in.integ));
  EXPECT_TRUE(ci.keys_out.encr.Equals(cr.keys_in.encr));
}


// COOKIE challenge (RFC 7296 2.6) when the responder is under load (here:
// always, threshold 0). The responder keeps no state for the first request.
//
//   IKE_SA_INIT  SA KE Ni ---->
//               <---- N(COOKIE)                       (SPIr 0, no state)
//   IKE_SA_INIT  N(COOKIE) SA KE Ni ---->
//               <---- SA KE Nr
//   IKE_AUTH ... (as usual)
TEST(IkeSaSetupTest, CookieChallenge) {
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.cookie_threshold = 0;
  Exchanger x(test::InitiatorPskConfig(), std::move(rc));
  IkeSa* i = x.Connect();
  const Bytes first_request = x.to_r.front().payload;
  x.DeliverToR();
  EXPECT_EQ(x.responder().size(), 0u);
  EXPECT_EQ(x.responder().stats().cookies_sent, 1u);
  x.ExpectToI(EX::kIkeSaInit, true, 0);
  const Result<Message> cookie_msg = DecodeMessage(x.to_i.front().payload);
  ASSERT_TRUE(cookie_msg.ok());
  EXPECT_EQ(cookie_msg->header.spi_r, 0u);
  ASSERT_EQ(cookie_msg->payloads.size(), 1u);
  ASSERT_NE(cookie_msg->FindNotify(NotifyType::kCookie), nullptr);
  x.DeliverToI();
  // The retry: same SPIi, Message ID 0, COOKIE first.
  x.ExpectToR(EX::kIkeSaInit, false, 0);
  const Result<Message> retry = DecodeMessage(x.to_r.front().payload);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->header.spi_i, i->spi_i());
  ASSERT_FALSE(retry->payloads.empty());
  const NotifyPayload* n = retry->payloads[0].As<NotifyPayload>();
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->type, NotifyType::kCookie);
  EXPECT_EQ(n->data, cookie_msg->FindNotify(NotifyType::kCookie)->data);
  EXPECT_NE(x.to_r.front().payload, first_request);
  x.DeliverToR();
  EXPECT_EQ(x.responder().size(), 1u);
  EXPECT_EQ(x.responder().stats().cookies_sent, 1u);
  x.RunUntilQuiet();
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_EQ(x.ResponderSa()->state(), IkeSaState::kEstablished);
  EXPECT_EQ(x.EventsI<ChildSaUp>().size(), 1u);
}

// A forged COOKIE gets another challenge, not an IKE SA.
TEST(IkeSaSetupTest, WrongCookieIsChallengedAgain) {
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.cookie_threshold = 0;
  Exchanger x(test::InitiatorPskConfig(), std::move(rc));
  x.Connect();
  x.DeliverToR();
  // Tamper with the cookie before the initiator sees it.
  Result<Message> m = DecodeMessage(x.to_i.front().payload);
  ASSERT_TRUE(m.ok());
  m->payloads[0].As<NotifyPayload>()->data[10] ^= 0x40;
  x.to_i.front().payload = EncodeMessage(*m).value();
  x.DeliverToI();
  x.DeliverToR();
  EXPECT_EQ(x.responder().size(), 0u);
  EXPECT_EQ(x.responder().stats().cookies_refused, 1u);
  EXPECT_EQ(x.responder().stats().cookies_sent, 2u);
  // The genuine cookie now works.
  x.DeliverToI();
  x.RunUntilQuiet();
  EXPECT_EQ(x.InitiatorSa()->state(), IkeSaState::kEstablished);
}

// INVALID_KE_PAYLOAD (RFC 7296 1.2, 2.7): the responder only accepts
// ECP-256, the initiator guessed Curve25519.
//
//   IKE_SA_INIT  SA(x25519.., ecp256..) KE(31) Ni ---->
//               <---- N(INVALID_KE_PAYLOAD(19))       (responder keeps no SA)
//   IKE_SA_INIT  SA(same) KE(19) Ni ---->
//               <---- SA(ecp256) KE(19) Nr
TEST(IkeSaSetupTest, InvalidKeRetry) {
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->ike_proposals = {Suite::ForIke(EncrId::kAesCbc, 128, PrfId::kHmacSha2_256,
                                               IntegId::kHmacSha2_256_128, DhId::kEcp256)
                                     .value()};
  Exchanger x(test::InitiatorPskConfig(), std::move(rc));
  IkeSa* i = x.Connect();
  x.DeliverToR();
  x.ExpectToI(EX::kIkeSaInit, true, 0);
  const Result<Message> ke = DecodeMessage(x.to_i.front().payload);
  ASSERT_TRUE(ke.ok());
  const NotifyPayload* n = ke->FindNotify(NotifyType::kInvalidKePayload);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->data, (Bytes{0, 19}));
  EXPECT_EQ(x.responder().size(), 0u);
  x.DeliverToI();
  x.ExpectToR(EX::kIkeSaInit, false, 0);
  const Result<Message> retry = DecodeMessage(x.to_r.front().payload);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->Find(PayloadType::kKe)->As<KePayload>()->dh_group, 19);
  x.RunUntilQuiet();
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_EQ(i->suite()->ToString(), "aes128-sha256-prfsha256-ecp256");
  EXPECT_EQ(x.EventsR<IkeSaDown>().size(), 1u);  // the first, refused attempt
}

// NO_PROPOSAL_CHOSEN: nothing in common.
//
//   IKE_SA_INIT  SA KE Ni ---->
//               <---- N(NO_PROPOSAL_CHOSEN)
TEST(IkeSaSetupTest, NoProposalChosen) {
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->ike_proposals = {Suite::ForIke(EncrId::kAesGcm16, 256, PrfId::kHmacSha2_512,
                                               std::nullopt, DhId::kEcp521)
                                     .value()};
  Exchanger x(test::InitiatorPskConfig(), std::move(rc));
  IkeSa* i = x.Connect();
  x.DeliverToR();
  x.ExpectToI(EX::kIkeSaInit, true, 0);
  x.DeliverToI();
  EXPECT_TRUE(x.to_r.empty());
  EXPECT_EQ(x.initiator().size(), 0u);  // removed once drained
  (void)i;
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<IkeSaDown>()[0].reason, IkeDownReason::kNoProposal);
  ASSERT_EQ(x.EventsR<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsR<IkeSaDown>()[0].reason, IkeDownReason::kNoProposal);
  EXPECT_EQ(x.responder().size(), 0u);
}

// The responder refuses the initiator's AUTH (wrong PSK).
//
//   IKE_SA_INIT ... (ok)
//   IKE_AUTH  SK{IDi AUTH ...} ---->
//               <---- SK{N(AUTHENTICATION_FAILED)}
TEST(IkeSaSetupTest, AuthFailedAtResponder) {
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->remote_auth.psk = SecretBytes(AsBytes("another secret"));
  Exchanger x(test::InitiatorPskConfig(), std::move(rc));
  x.Connect();
  x.DeliverToR();
  x.DeliverToI();
  x.ExpectToR(EX::kIkeAuth, false, 1);
  x.DeliverToR();
  x.ExpectToI(EX::kIkeAuth, true, 1);
  x.DeliverToI();
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<IkeSaDown>()[0].reason, IkeDownReason::kAuthFailed);
  ASSERT_EQ(x.EventsR<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsR<IkeSaDown>()[0].reason, IkeDownReason::kAuthFailed);
  EXPECT_TRUE(x.EventsI<ChildSaUp>().empty());
  EXPECT_TRUE(x.EventsR<ChildSaUp>().empty());
  EXPECT_EQ(pool.acquired, 0);
  EXPECT_EQ(x.initiator().size(), 0u);
  EXPECT_EQ(x.responder().size(), 0u);
}

// The initiator cannot verify the responder (it expects another PSK): it
// drops the IKE SA; nothing is installed on its side.
TEST(IkeSaSetupTest, AuthFailedAtInitiator) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.remote_auth.psk = SecretBytes(AsBytes("what the gateway should use"));
  Exchanger x(ic, Responder(pool));
  x.Connect();
  x.RunUntilQuiet();
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<IkeSaDown>()[0].reason, IkeDownReason::kAuthFailed);
  EXPECT_TRUE(x.EventsI<ChildSaUp>().empty());
  EXPECT_TRUE(x.EventsI<VirtualIpAssigned>().empty());
}

// A PSK table keyed by identity (what a gateway's [[peer]] entries become).
class TablePsks final : public PskProvider {
 public:
  void Add(const IdPayload& id, std::string_view key) {
    keys_.push_back({id, SecretBytes(AsBytes(key))});
  }
  const SecretBytes* Find(const IdPayload& id) const override {
    ++lookups;
    for (const auto& [i, k] : keys_) {
      if (i == id) return &k;
    }
    return nullptr;
  }
  mutable int lookups = 0;

 private:
  std::vector<std::pair<IdPayload, SecretBytes>> keys_;
};

// RFC 7296 2.15: a responder with one PSK per client identity uses the key
// of the IDi received, to verify the initiator and to authenticate itself;
// the responder's own (shared) PSK is then not used at all.
TEST(IkeSaSetupTest, PerPeerPskChosenByIdi) {
  TestAddressPool pool;
  TablePsks psks;
  psks.Add(IdPayload::Fqdn("other.example.org"), "not this one");
  psks.Add(IdPayload::Fqdn("mn.example.org"), "the key of mn.example.org");
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->local_auth.psk = SecretBytes(AsBytes("a shared key nobody uses"));
  rc.responder->remote_auth.psk = rc.responder->local_auth.psk;
  rc.responder->psk_provider = &psks;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.local_auth.psk = SecretBytes(AsBytes("the key of mn.example.org"));
  ic.remote_auth.psk = ic.local_auth.psk;
  Exchanger x(ic, std::move(rc));
  x.Connect();
  x.RunUntilQuiet();
  EXPECT_EQ(x.EventsI<IkeSaUp>().size(), 1u);
  EXPECT_EQ(x.EventsR<IkeSaUp>().size(), 1u);
  EXPECT_EQ(x.EventsI<ChildSaUp>().size(), 1u);
  EXPECT_TRUE(x.EventsI<IkeSaDown>().empty());
  EXPECT_EQ(psks.lookups, 1);
}

// An identity without a key in the table, and a client presenting another
// client's identity with its own key, are both refused.
TEST(IkeSaSetupTest, PerPeerPskUnknownOrWrongKeyRefused) {
  for (const char* who : {"stranger.example.org", "other.example.org"}) {
    SCOPED_TRACE(who);
    TestAddressPool pool;
    TablePsks psks;
    psks.Add(IdPayload::Fqdn("other.example.org"), "the key of other.example.org");
    psks.Add(IdPayload::Fqdn("mn.example.org"), "the key of mn.example.org");
    IkeSaManagerConfig rc = Responder(pool);
    rc.responder->psk_provider = &psks;
    PeerConfig ic = test::InitiatorPskConfig();
    ic.local_id = IdPayload::Fqdn(who);
    ic.local_auth.psk = SecretBytes(AsBytes("the key of mn.example.org"));
    ic.remote_auth.psk = ic.local_auth.psk;
    Exchanger x(ic, std::move(rc));
    x.Connect();
    x.RunUntilQuiet();
    ASSERT_EQ(x.EventsR<IkeSaDown>().size(), 1u);
    EXPECT_EQ(x.EventsR<IkeSaDown>()[0].reason, IkeDownReason::kAuthFailed);
    ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
    EXPECT_EQ(x.EventsI<IkeSaDown>()[0].reason, IkeDownReason::kAuthFailed);
    EXPECT_EQ(pool.acquired, 0);
  }
}

// A wrong identity is an authentication failure too.
TEST(IkeSaSetupTest, UnexpectedResponderIdentity) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.remote_id = IdPayload::Fqdn("other-gw.example.org");
  Exchanger x(ic, Responder(pool));
  x.Connect();
  x.RunUntilQuiet();
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<IkeSaDown>()[0].reason, IkeDownReason::kAuthFailed);
}

// An unknown payload with the critical bit (RFC 7296 2.5).
//
//   IKE_SA_INIT  SA KE Ni X(critical) ---->
//               <---- N(UNSUPPORTED_CRITICAL_PAYLOAD(X))
TEST(IkeSaSetupTest, UnsupportedCriticalPayload) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  x.Connect();
  Result<Message> m = DecodeMessage(x.to_r.front().payload);
  ASSERT_TRUE(m.ok());
  m->payloads.push_back(Payload::Unknown(static_cast<PayloadType>(99), Bytes{1, 2, 3}, true));
  x.to_r.front().payload = EncodeMessage(*m).value();
  x.DeliverToR();
  x.ExpectToI(EX::kIkeSaInit, true, 0);
  const Result<Message> resp = DecodeMessage(x.to_i.front().payload);
  ASSERT_TRUE(resp.ok());
  const NotifyPayload* n = resp->FindNotify(NotifyType::kUnsupportedCriticalPayload);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->data, Bytes{99});
  x.DeliverToI();
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.responder().size(), 0u);
}

// No ESP proposal in common: the IKE SA comes up, the CHILD SA does not.
//
//   IKE_AUTH  SK{IDi AUTH CP SA TSi TSr} ---->
//               <---- SK{IDr AUTH CP N(NO_PROPOSAL_CHOSEN)}
TEST(IkeSaSetupTest, ChildNoProposalInAuth) {
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->esp_proposals = {Suite::ForEsp(EncrId::kAesCbc, 192, IntegId::kHmacSha2_512_256,
                                               std::nullopt, EsnId::kEsn)
                                     .value()};
  Exchanger x(test::InitiatorPskConfig(), std::move(rc));
  IkeSa* i = x.Connect();
  x.RunUntilQuiet();
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_TRUE(i->children().empty());
  ASSERT_EQ(x.EventsI<ChildSaFailed>().size(), 1u);
  EXPECT_EQ(x.EventsI<ChildSaFailed>()[0].notify, NotifyType::kNoProposalChosen);
  EXPECT_EQ(x.EventsI<VirtualIpAssigned>().size(), 1u);
}

// The pool is empty: INTERNAL_ADDRESS_FAILURE, no CHILD SA (3.10.1), and the
// initiator, which needs its address, deletes the IKE SA.
//
//   IKE_AUTH  SK{IDi AUTH CP(REQ) SA TSi TSr} ---->
//               <---- SK{IDr AUTH N(INTERNAL_ADDRESS_FAILURE)}
//   INFORMATIONAL SK{D(IKE)} ---->
//               <---- SK{}
TEST(IkeSaSetupTest, NoInternalAddress) {
  TestAddressPool pool;
  pool.exhausted = true;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  x.Connect();
  x.DeliverToR();
  x.DeliverToI();
  x.DeliverToR();
  x.DeliverToI();
  EXPECT_TRUE(x.EventsI<ChildSaUp>().empty());
  EXPECT_TRUE(x.EventsR<ChildSaUp>().empty());
  ASSERT_FALSE(x.EventsI<ChildSaFailed>().empty());
  EXPECT_EQ(x.EventsI<ChildSaFailed>()[0].notify, NotifyType::kInternalAddressFailure);
  x.ExpectToR(EX::kInformational, false, 2);
  x.RunUntilQuiet();
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<IkeSaDown>()[0].reason, IkeDownReason::kDeleted);
  ASSERT_EQ(x.EventsR<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsR<IkeSaDown>()[0].reason, IkeDownReason::kDeletedByPeer);
}
}  // namespace
}  // namespace mipsec::ikev2

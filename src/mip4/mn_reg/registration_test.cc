// MobileNodeRegistration: request encoding (checked with the codec and the
// security module), retransmission and give-up, re-registration, 133
// resynchronisation in both replay modes, every denial, and the reply checks
// that keep forged, replayed or misdirected replies — and any TNC they carry —
// from changing anything (MISSION R11, R19, R22, R24).
#include "mip4/mn_reg/registration.h"

#include <gtest/gtest.h>

#include "mip4/codec/auth_extension.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/nai_extension.h"
#include "mip4/codec/rules.h"
#include "mip4/codec/udp_tunnel_request.h"
#include "mip4/mn_reg/mn_test_util.h"

namespace mipsec::mip4 {
namespace {

using testing::Addr;
using testing::At;
using testing::kIf;
using testing::MnFixture;
using testing::ReplyFor;

class RegistrationTest : public MnFixture {};

// --- Request encoding ---

TEST_F(RegistrationTest, ColocatedRequestParsesWithFlagsNaiUdpAndVerifyingAuth) {
  MobileNodeConfig c = DefaultConfig();
  c.nai = "mn1@example.org";
  c.reverse_tunnel = true;
  c.udp_tunnel = UdpTunnelPolicy::kForce;
  c.source_port = 4343;
  Make(ReplayMethod::kTimestamp, c);
  ASSERT_TRUE(mn_->RegisterColocated(At(5), Addr("192.0.2.10"), kIf).ok());
  UdpTransmit t = OneUdp();
  // RFC 5944 3.6.1.1: from the co-located CoA to the HA, port 434.
  EXPECT_EQ(t.local, (Ipv4Endpoint{Addr("192.0.2.10"), 4343}));
  EXPECT_EQ(t.remote, (Ipv4Endpoint{Addr("10.1.0.1"), kMipPort}));
  EXPECT_EQ(t.ifindex, kIf);
  EXPECT_FALSE(t.ttl.has_value());  // unicast to the HA: the runtime's default

  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(t.payload);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  const RegistrationRequest& q = p->request;
  EXPECT_TRUE(q.decapsulation_by_mn);  // D: co-located
  EXPECT_TRUE(q.reverse_tunnel);       // T
  EXPECT_FALSE(q.simultaneous_bindings);
  EXPECT_FALSE(q.minimal_encapsulation);
  EXPECT_FALSE(q.gre);
  EXPECT_EQ(q.lifetime, 300);
  EXPECT_EQ(q.home_address, Addr("10.1.0.5"));
  EXPECT_EQ(q.home_agent, Addr("10.1.0.1"));
  EXPECT_EQ(q.care_of_address, Addr("192.0.2.10"));
  EXPECT_FALSE(Validate(*p).has_value());

  // Extensions in RFC 5944 3.6.1.3 order: NAI, UDP Tunnel Request, MN-HA.
  ASSERT_EQ(p->extensions.size(), 3u);
  EXPECT_EQ(p->extensions[0].type, kExtNai);
  EXPECT_EQ(*DecodeNai(p->extensions[0]), "mn1@example.org");
  EXPECT_EQ(p->extensions[1].type, kExtUdpTunnelRequest);
  Result<UdpTunnelRequest> utr = DecodeUdpTunnelRequest(p->extensions[1]);
  ASSERT_TRUE(utr.ok());
  EXPECT_TRUE(utr->force);
  EXPECT_FALSE(utr->registration_through_fa);
  EXPECT_EQ(utr->encapsulation, kEncapIpInIp);
  EXPECT_EQ(p->extensions[2].type, kExtMnHaAuth);

  // The authenticator verifies with an independent SA with the same key,
  // and not with another key.
  Result<AuthCoverage> cov = AuthenticationCoverageOfType(p->extensions, kExtMnHaAuth);
  ASSERT_TRUE(cov.ok());
  EXPECT_EQ(cov->spi, testing::kSpi);
  SecurityAssociation same = testing::MakeSa(ReplayMethod::kTimestamp);
  EXPECT_TRUE(same.Verify(cov->covered, cov->authenticator).ok());
  SecurityAssociation other =
      testing::MakeSa(ReplayMethod::kTimestamp, SecretBytes(Bytes(16, 0x11)));
  EXPECT_FALSE(other.Verify(cov->covered, cov->authenticator).ok());

  // Timestamp Identification: near the MN's time of day (RFC 5944 5.7.1).
  const NtpTime mn_time = WallClockMapping{Timestamp::Zero(), testing::kUnixBase}.At(At(5));
  EXPECT_LT(std::abs(NtpTime::FromRaw(q.identification).Since(mn_time).millis()), 2);
}

TEST_F(RegistrationTest, RequestWithoutUdpPolicyHasNoTunnelRequest) {
  Make();
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  UdpTransmit t = OneUdp();
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(t.payload);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->extensions.Count(kExtUdpTunnelRequest), 0u);
  EXPECT_EQ(p->extensions.Count(kExtNai), 0u);
  EXPECT_FALSE(p->request.reverse_tunnel);
}

TEST_F(RegistrationTest, ViaFaRequestHasNoDNoUdpAndCappedLifetime) {
  MobileNodeConfig c = DefaultConfig();
  c.udp_tunnel = UdpTunnelPolicy::kForce;
  c.reverse_tunnel = true;
  Make(ReplayMethod::kTimestamp, c);
  ForeignAgentTarget fa{Addr("192.0.2.1"), Addr("192.0.2.2"), 120, true};
  ASSERT_TRUE(mn_->RegisterViaFa(At(0), fa, kIf).ok());
  UdpTransmit t = OneUdp();
  // RFC 5944 3.6.1.1: from the home address to the agent.
  EXPECT_EQ(t.local.address, Addr("10.1.0.5"));
  EXPECT_EQ(t.remote, (Ipv4Endpoint{Addr("192.0.2.1"), kMipPort}));
  // RFC 3024 4.1.1: a request to a foreign agent leaves with TTL 255.
  EXPECT_EQ(t.ttl, std::optional<std::uint8_t>(255));
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(t.payload);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->request.decapsulation_by_mn);
  EXPECT_TRUE(p->request.reverse_tunnel);
  EXPECT_EQ(p->request.care_of_address, Addr("192.0.2.2"));
  EXPECT_EQ(p->request.lifetime, 120);  // 3.6.1.2: not above the FA's
  // RFC 3519 4.4: SHALL NOT with an FA care-of address.
  EXPECT_EQ(p->extensions.Count(kExtUdpTunnelRequest), 0u);

  // T wanted but the FA does not advertise it: refused, nothing sent.
  fa.reverse_tunnel_supported = false;
  Status s = mn_->RegisterViaFa(At(1), fa, kIf);
  EXPECT_EQ(s.error().code(), Errc::kUnsupported);
  EXPECT_TRUE(DrainUdp().empty());
}

TEST_F(RegistrationTest, NaiOnlyUsesZeroHomeAddressAndLearnsTheAssignedOne) {
  MobileNodeConfig c = DefaultConfig();
  c.home_address.reset();
  c.nai = "roamer@example.org";
  Make(ReplayMethod::kTimestamp, c);
  EXPECT_FALSE(mn_->home_address().has_value());
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  std::vector<UdpTransmit> sent = DrainUdp();
  ASSERT_EQ(sent.size(), 1u);
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(sent[0].payload);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->request.home_address.IsAny());
  EXPECT_FALSE(Validate(*p).has_value());  // RFC 2794: 0 allowed with NAI
  std::optional<Bytes> reply = ha_->Handle(At(0), sent[0].payload);
  ASSERT_TRUE(reply);
  ASSERT_TRUE(mn_->OnUdp(At(0.1), ReplyFor(sent[0], *reply)).ok());
  EXPECT_EQ(mn_->home_address(), Addr("10.1.0.77"));
  ASSERT_TRUE(mn_->binding());
  EXPECT_EQ(mn_->binding()->home_address, Addr("10.1.0.77"));
}

TEST_F(RegistrationTest, DeregisterAtHomeUsesLifetimeZeroAndHomeAsCareOf) {
  Make();
  RegisterNow(At(0));
  ASSERT_TRUE(mn_->Deregister(At(10), kIf).ok());
  UdpTransmit t = OneUdp();
  EXPECT_EQ(t.local.address, Addr("10.1.0.5"));  // 3.6.1.1: home address
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(t.payload);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->request.lifetime, 0);
  EXPECT_EQ(p->request.care_of_address, Addr("10.1.0.5"));  // 3.6.1.2
  EXPECT_FALSE(p->request.decapsulation_by_mn);
  std::optional<Bytes> reply = ha_->HandleTransmit(At(10), t);
  ASSERT_TRUE(reply);
  ASSERT_TRUE(mn_->OnUdp(At(10), ReplyFor(t, *reply)).ok());
  std::vector<DeregisteredEvent> d = EventsOf<DeregisteredEvent>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].care_of_address, Addr("10.1.0.5"));
  EXPECT_FALSE(mn_->binding().has_value());
  EXPECT_FALSE(mn_->pending());
  EXPECT_EQ(mn_->NextTimeout(), Timestamp::Infinite());
}

TEST_F(RegistrationTest, DeregisterBindingDeletesItTheWayItWasRegistered) {
  Make();
  EXPECT_EQ(mn_->DeregisterBinding(At(0)).error().code(), Errc::kState);  // no binding
  EXPECT_TRUE(DrainUdp().empty());
  // Co-located: from the care-of address straight to the HA (3.6.1.1),
  // Lifetime 0 and the binding's care-of address (3.6.1.2).
  RegisterNow(At(0), Addr("192.0.2.10"));
  ASSERT_TRUE(mn_->DeregisterBinding(At(5)).ok());
  UdpTransmit t = OneUdp();
  EXPECT_EQ(t.local.address, Addr("192.0.2.10"));
  EXPECT_EQ(t.remote.address, Addr("10.1.0.1"));
  EXPECT_EQ(t.ifindex, std::optional<int>(kIf));
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(t.payload);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->request.lifetime, 0);
  EXPECT_EQ(p->request.care_of_address, Addr("192.0.2.10"));
  EXPECT_TRUE(mn_->binding().has_value());  // until the reply
  std::optional<Bytes> reply = ha_->HandleTransmit(At(5), t);
  ASSERT_TRUE(reply);
  ASSERT_TRUE(mn_->OnUdp(At(5), ReplyFor(t, *reply)).ok());
  ASSERT_EQ(EventsOf<DeregisteredEvent>().size(), 1u);
  EXPECT_FALSE(mn_->binding().has_value());

  // Through a foreign agent: from the home address to the agent, TTL 255,
  // D clear, the FA's care-of address.
  ForeignAgentTarget fa{Addr("192.0.2.1"), Addr("192.0.2.2"), 600, true};
  ASSERT_TRUE(mn_->RegisterViaFa(At(10), fa, kIf).ok());
  t = OneUdp();
  reply = ha_->HandleTransmit(At(10), t);  // the FA relays both ways
  ASSERT_TRUE(reply);
  ASSERT_TRUE(mn_->OnUdp(At(10), ReplyFor(t, *reply)).ok());
  ASSERT_TRUE(mn_->binding().has_value());
  ASSERT_TRUE(mn_->binding()->foreign_agent.has_value());
  ASSERT_TRUE(mn_->DeregisterBinding(At(20)).ok());
  t = OneUdp();
  EXPECT_EQ(t.local.address, Addr("10.1.0.5"));
  EXPECT_EQ(t.remote, (Ipv4Endpoint{Addr("192.0.2.1"), kMipPort}));
  EXPECT_EQ(t.ttl, std::optional<std::uint8_t>(255));
  p = ParseRegistrationRequest(t.payload);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->request.lifetime, 0);
  EXPECT_EQ(p->request.care_of_address, Addr("192.0.2.2"));
  EXPECT_FALSE(p->request.decapsulation_by_mn);
  EXPECT_FALSE(p->request.reverse_tunnel);
  reply = ha_->HandleTransmit(At(20), t);
  ASSERT_TRUE(reply);
  ASSERT_TRUE(mn_->OnUdp(At(20), ReplyFor(t, *reply)).ok());
  std::vector<DeregisteredEvent> d = EventsOf<DeregisteredEvent>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].care_of_address, Addr("192.0.2.2"));
  EXPECT_FALSE(mn_->binding().has_value());
  EXPECT_FALSE(mn_->pending());
}

// --- Registration outcome ---

TEST_F(RegistrationTest, AcceptedReplyGivesBindingTimedFromTheRequest) {
  Make();
  ASSERT_TRUE(mn_->RegisterColocated(At(2), Addr("192.0.2.10"), kIf).ok());
  UdpTransmit t = OneUdp();
  ha_->options().max_lifetime = 200;  // HA shortens 300 -> 200
  std::optional<Bytes> reply = ha_->HandleTransmit(At(2.2), t);
  ASSERT_TRUE(mn_->OnUdp(At(2.4), ReplyFor(t, *reply)).ok());
  std::vector<RegisteredEvent> r = EventsOf<RegisteredEvent>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].binding.granted_lifetime, 200);
  EXPECT_EQ(r[0].binding.care_of_address, Addr("192.0.2.10"));
  EXPECT_EQ(r[0].binding.ifindex, kIf);
  EXPECT_EQ(r[0].binding.encapsulation, TunnelEncapsulation::kIpInIp);
  EXPECT_TRUE(r[0].binding.co_located());
  EXPECT_FALSE(r[0].binding.tnc);
  EXPECT_FALSE(r[0].renewal);
  EXPECT_EQ(r[0].transmissions, 1);
  // RFC 5944 3.6.2.2: the lifetime counts from when the request was sent.
  EXPECT_EQ(r[0].binding.expires_at, At(202));
  EXPECT_EQ(mn_->counters().replies_accepted, 1u);
  EXPECT_FALSE(mn_->pending());
}

TEST_F(RegistrationTest, RetransmitsWithExponentialBackoffThenGivesUp) {
  Make();
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  std::vector<double> times;
  std::vector<std::uint64_t> ids;
  auto collect = [&](double now) {
    for (UdpTransmit& t : DrainUdp()) {
      times.push_back(now);
      ids.push_back(ParseRegistrationRequest(t.payload)->request.identification);
    }
  };
  collect(0);
  while (mn_->NextTimeout() < At(100)) {
    const Timestamp t = mn_->NextTimeout();
    mn_->OnTimeout(t);
    collect(static_cast<double>(t.nanos()) / 1e9);
    if (!mn_->pending()) break;
  }
  // 1 + 3 retransmissions at 0, 1, 3, 7 (timeouts 1, 2, 4), give up at 15.
  EXPECT_EQ(times, (std::vector<double>{0, 1, 3, 7}));
  // Timestamps: a new Identification every transmission (RFC 5944 3.6.3),
  // increasing.
  for (std::size_t i = 1; i < ids.size(); ++i) EXPECT_GT(ids[i], ids[i - 1]);
  std::vector<RegistrationTimeoutEvent> to = EventsOf<RegistrationTimeoutEvent>();
  ASSERT_EQ(to.size(), 1u);
  EXPECT_EQ(to[0].transmissions, 4);
  EXPECT_EQ(to[0].kind, AttemptKind::kRegister);
  EXPECT_FALSE(mn_->pending());
  EXPECT_EQ(mn_->counters().retransmissions, 3u);
}

TEST_F(RegistrationTest, RetransmissionCountAndTimeoutAreConfigurable) {
  MobileNodeConfig c = DefaultConfig();
  c.max_retransmissions = 5;
  c.initial_timeout = Duration::Seconds(2);
  c.max_timeout = Duration::Seconds(5);
  Make(ReplayMethod::kTimestamp, c);
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  std::vector<std::int64_t> times = {0};
  DrainUdp();
  while (mn_->pending()) {
    const Timestamp t = mn_->NextTimeout();
    mn_->OnTimeout(t);
    if (!DrainUdp().empty()) times.push_back(t.nanos() / 1'000'000'000);
  }
  // 2, 4, 5 (capped), 5, 5.
  EXPECT_EQ(times, (std::vector<std::int64_t>{0, 2, 6, 11, 16, 21}));
  EXPECT_EQ(EventsOf<RegistrationTimeoutEvent>().size(), 1u);
}

TEST_F(RegistrationTest, NonceModeRetransmitsUnchanged) {
  Make(ReplayMethod::kNonce);
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  Bytes first = OneUdp().payload;
  mn_->OnTimeout(At(1));
  Bytes second = OneUdp().payload;
  EXPECT_EQ(first, second);  // RFC 5944 3.6.3
}

TEST_F(RegistrationTest, LateReplyToAnOlderTimestampRetransmissionIsDropped) {
  Make();
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  UdpTransmit first = OneUdp();
  mn_->OnTimeout(At(1));
  UdpTransmit second = OneUdp();
  std::optional<Bytes> old_reply = ha_->HandleTransmit(At(1.1), first);
  ASSERT_TRUE(old_reply);
  // 3.6.2.1: compared with the MOST RECENT request.
  Status s = mn_->OnUdp(At(1.2), ReplyFor(first, *old_reply));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(mn_->counters().Dropped(MnDrop::kIdMismatch), 1u);
  EXPECT_TRUE(mn_->pending());
  std::optional<Bytes> reply = ha_->HandleTransmit(At(1.3), second);
  ASSERT_TRUE(mn_->OnUdp(At(1.4), ReplyFor(second, *reply)).ok());
  std::vector<RegisteredEvent> r = EventsOf<RegisteredEvent>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].transmissions, 2);
  EXPECT_EQ(r[0].binding.registered_at, At(1));
}

TEST_F(RegistrationTest, ReregistersBeforeExpiryAndExpiresWithoutAnswer) {
  Make();
  RegisteredEvent r = RegisterNow(At(0));
  ASSERT_EQ(r.binding.expires_at, At(300));
  // Margin 15 s: the re-registration goes out at 285.
  RunUntil(At(284.9));
  EXPECT_TRUE(DrainUdp().empty());
  RunUntil(At(285));
  EXPECT_EQ(mn_->pending_kind(), AttemptKind::kReregister);
  EXPECT_EQ(Exchange(At(285.1)), 1);
  std::vector<RegisteredEvent> again = EventsOf<RegisteredEvent>();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].renewal);
  EXPECT_EQ(again[0].binding.expires_at, At(585));

  // Next cycle unanswered: the binding expires at 585 after the attempts.
  RunUntil(At(600));
  std::vector<MnEvent> ev = Events();
  bool timeout = false, expired = false;
  for (const MnEvent& e : ev) {
    if (const auto* t = std::get_if<RegistrationTimeoutEvent>(&e)) {
      timeout = true;
      EXPECT_EQ(t->kind, AttemptKind::kReregister);
    }
    if (std::holds_alternative<BindingExpiredEvent>(e)) expired = true;
  }
  EXPECT_TRUE(timeout);
  EXPECT_TRUE(expired);
  EXPECT_FALSE(mn_->binding().has_value());
}

TEST_F(RegistrationTest, ReregisterMarginIsAtMostHalfTheLifetime) {
  MobileNodeConfig c = DefaultConfig();
  c.requested_lifetime = 10;
  Make(ReplayMethod::kTimestamp, c);
  RegisterNow(At(0));
  RunUntil(At(4.9));
  EXPECT_FALSE(mn_->pending());
  RunUntil(At(5));
  EXPECT_TRUE(mn_->pending());
}

// --- 133 resynchronisation (RFC 5944 3.6.2.3, 5.7) ---

TEST_F(RegistrationTest, TimestampResyncAfter133ThenAccepted) {
  testing::TestHaOptions o;
  o.clock_offset = Duration::Seconds(3600);  // HA an hour ahead
  Make(ReplayMethod::kTimestamp, DefaultConfig(), o);
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  EXPECT_EQ(Exchange(At(0)), 1);  // 133, MN resyncs and resends at once
  EXPECT_TRUE(EventsOf<DeniedEvent>().empty());
  EXPECT_EQ(mn_->counters().resyncs, 1u);
  EXPECT_NEAR(sec_->replay().clock_offset().SecondsF(), 3600, 1);
  EXPECT_EQ(Exchange(At(0.1)), 1);
  std::vector<RegisteredEvent> r = EventsOf<RegisteredEvent>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(ha_->requests(), 2);
}

TEST_F(RegistrationTest, NonceResyncAfter133ThenAccepted) {
  Make(ReplayMethod::kNonce);
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  EXPECT_EQ(Exchange(At(0)), 1);  // nonce 0 -> 133 with the HA's nonce
  EXPECT_EQ(mn_->counters().resyncs, 1u);
  ASSERT_TRUE(sec_->replay().ha_nonce().has_value());
  EXPECT_EQ(Exchange(At(0.1)), 1);
  EXPECT_EQ(EventsOf<RegisteredEvent>().size(), 1u);
  // The next registration carries the nonce of the last reply.
  RegisterNow(At(5), Addr("192.0.2.11"));
}

TEST_F(RegistrationTest, ResyncIsBoundedThen133IsReported) {
  testing::TestHaOptions o;
  o.deny_code = kCodeIdentificationMismatch;  // always 133, authenticated
  Make(ReplayMethod::kTimestamp, DefaultConfig(), o);
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  for (int i = 0; i < 5; ++i) Exchange(At(i * 0.1));
  EXPECT_EQ(ha_->requests(), 3);  // 1 + max_resyncs (2)
  std::vector<DeniedEvent> d = EventsOf<DeniedEvent>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].code, kCodeIdentificationMismatch);
  EXPECT_TRUE(d[0].authenticated);
  EXPECT_FALSE(mn_->pending());
}

TEST_F(RegistrationTest, Unauthenticated133TeachesNothing) {
  testing::TestHaOptions o;
  o.clock_offset = Duration::Seconds(3600);
  o.corrupt_auth = true;
  Make(ReplayMethod::kTimestamp, DefaultConfig(), o);
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  Exchange(At(0));
  EXPECT_FALSE(last_status_.ok());
  EXPECT_EQ(sec_->replay().clock_offset(), Duration::Zero());
  EXPECT_EQ(mn_->counters().resyncs, 0u);
  EXPECT_TRUE(mn_->pending());
  EXPECT_TRUE(Events().empty());
}

// --- Denials ---

// A reply as a foreign agent generates it: no MN-HA (it has no key), the
// request's Identification copied.
Bytes FaDenial(const UdpTransmit& req, std::uint8_t code, std::uint16_t lifetime = 0,
               bool with_tnc = false) {
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(req.payload);
  RegistrationReply r;
  r.code = code;
  r.lifetime = lifetime;
  r.home_address = p->request.home_address;
  r.home_agent = p->request.home_agent;
  r.identification = p->request.identification;
  MessageBuilder b = MessageBuilder::Reply(r);
  if (with_tnc) b.AppendTnc();
  return std::move(b).Take();
}

TEST_F(RegistrationTest, EveryHomeAgentDenialIsSurfacedAuthenticated) {
  for (ReplyCode rc : kAllReplyCodes) {
    const std::uint8_t code = static_cast<std::uint8_t>(rc);
    if (!IsHomeAgentCode(code) || code == kCodeIdentificationMismatch) continue;
    SCOPED_TRACE(static_cast<int>(code));
    testing::TestHaOptions o;
    o.deny_code = code;
    Make(ReplayMethod::kTimestamp, DefaultConfig(), o);
    ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
    ASSERT_EQ(Exchange(At(0)), 1);
    ASSERT_TRUE(last_status_.ok()) << last_status_.error().ToString();
    std::vector<DeniedEvent> d = EventsOf<DeniedEvent>();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].code, code);
    EXPECT_EQ(d[0].by, DeniedBy::kHomeAgent);
    EXPECT_TRUE(d[0].authenticated);
    EXPECT_FALSE(d[0].tnc);
    EXPECT_EQ(d[0].home_agent, Addr("10.1.0.1"));
    EXPECT_FALSE(mn_->pending());
    EXPECT_FALSE(mn_->binding().has_value());
  }
}

TEST_F(RegistrationTest, EveryForeignAgentDenialIsSurfacedUnauthenticated) {
  MobileNodeConfig c = DefaultConfig();
  c.repair_lifetime_too_long = false;
  for (ReplyCode rc : kAllReplyCodes) {
    const std::uint8_t code = static_cast<std::uint8_t>(rc);
    if (!IsForeignAgentCode(code)) continue;
    SCOPED_TRACE(static_cast<int>(code));
    Make(ReplayMethod::kTimestamp, c);
    ForeignAgentTarget fa{Addr("192.0.2.1"), Addr("192.0.2.2"), 600, false};
    ASSERT_TRUE(mn_->RegisterViaFa(At(0), fa, kIf).ok());
    UdpTransmit t = OneUdp();
    ASSERT_TRUE(mn_->OnUdp(At(0.1), ReplyFor(t, FaDenial(t, code))).ok());
    std::vector<DeniedEvent> d = EventsOf<DeniedEvent>();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].code, code);
    EXPECT_EQ(d[0].by, DeniedBy::kForeignAgent);
    EXPECT_FALSE(d[0].authenticated);
    EXPECT_FALSE(d[0].tnc);
  }
}

TEST_F(RegistrationTest, HomeAgentCodeWithoutAuthenticationIsDropped) {
  Make();
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  UdpTransmit t = OneUdp();
  // An "HA denial" without MN-HA, as an on-path attacker could send.
  Status s = mn_->OnUdp(At(0.1), ReplyFor(t, FaDenial(t, 129)));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(mn_->counters().Dropped(MnDrop::kRules) + mn_->counters().Dropped(MnDrop::kAuthMissing),
            1u);
  EXPECT_TRUE(mn_->pending());
  EXPECT_TRUE(Events().empty());
}

TEST_F(RegistrationTest, LifetimeTooLongIsRepairedOnce) {
  Make();
  ForeignAgentTarget fa{Addr("192.0.2.1"), Addr("192.0.2.2"), 600, false};
  ASSERT_TRUE(mn_->RegisterViaFa(At(0), fa, kIf).ok());
  UdpTransmit t = OneUdp();
  ASSERT_TRUE(mn_->OnUdp(At(0.1), ReplyFor(t, FaDenial(t, 69, 60))).ok());
  EXPECT_TRUE(Events().empty());
  UdpTransmit retry = OneUdp();
  EXPECT_EQ(ParseRegistrationRequest(retry.payload)->request.lifetime, 60);
  // A second 69 is reported.
  ASSERT_TRUE(mn_->OnUdp(At(0.2), ReplyFor(retry, FaDenial(retry, 69, 30))).ok());
  std::vector<DeniedEvent> d = EventsOf<DeniedEvent>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].lifetime, 30);
}

// --- Forged, replayed and misdirected replies change nothing ---

struct Snapshot {
  bool pending;
  bool bound;
  std::uint64_t accepted;
  Duration offset;
  std::optional<std::uint32_t> nonce;
  Timestamp next;
};

Snapshot Take(const MobileNodeRegistration& mn, const MnHaSecurity& sec) {
  return {mn.pending(), mn.binding().has_value(), mn.counters().replies_accepted,
          sec.replay().clock_offset(), sec.replay().ha_nonce(), mn.NextTimeout()};
}

void ExpectSame(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.pending, b.pending);
  EXPECT_EQ(a.bound, b.bound);
  EXPECT_EQ(a.accepted, b.accepted);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.nonce, b.nonce);
  EXPECT_EQ(a.next, b.next);
}

TEST_F(RegistrationTest, R19_ForgedAuthenticatorRejectedWithNoStateChange) {
  for (ReplayMethod m : {ReplayMethod::kTimestamp, ReplayMethod::kNonce}) {
    testing::TestHaOptions o;
    o.tnc = true;
    Make(m, DefaultConfig(), o);
    if (m == ReplayMethod::kNonce) {  // get a nonce first
      ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
      Exchange(At(0));
      Exchange(At(0));
      Events();
    }
    ASSERT_TRUE(mn_->RegisterColocated(At(1), Addr("192.0.2.11"), kIf).ok());
    UdpTransmit t = OneUdp();
    const Snapshot before = Take(*mn_, *sec_);
    const std::uint64_t tnc_before = mn_->counters().tnc_reported;
    ha_->options().corrupt_auth = true;
    std::optional<Bytes> forged = ha_->HandleTransmit(At(1), t);
    ASSERT_TRUE(forged);
    EXPECT_EQ(mn_->OnUdp(At(1.1), ReplyFor(t, *forged)).error().code(), Errc::kAuthFailed);
    ha_->options().corrupt_auth = false;
    ha_->options().reply_key = SecretBytes(Bytes(16, 0x77));  // wrong key
    std::optional<Bytes> wrong_key = ha_->HandleTransmit(At(1), t);
    EXPECT_FALSE(mn_->OnUdp(At(1.1), ReplyFor(t, *wrong_key)).ok());
    ExpectSame(before, Take(*mn_, *sec_));
    EXPECT_EQ(mn_->counters().Dropped(MnDrop::kAuthFailed), 2u);
    EXPECT_EQ(mn_->counters().tnc_reported, tnc_before);
    EXPECT_TRUE(Events().empty());
    EXPECT_TRUE(sink_.Contains("security exception"));
  }
}

TEST_F(RegistrationTest, WrongIdentificationRejectedWithNoStateChange) {
  Make();
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  UdpTransmit t = OneUdp();
  // Re-sign a reply whose Identification low half differs.
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(t.payload);
  RegistrationReply r;
  r.home_address = p->request.home_address;
  r.home_agent = p->request.home_agent;
  r.lifetime = 300;
  r.identification = p->request.identification ^ 1;
  MessageBuilder b = MessageBuilder::Reply(r);
  SecurityAssociation sa = testing::MakeSa(ReplayMethod::kTimestamp);
  ASSERT_TRUE(b.AppendAuth(kExtMnHaAuth, testing::kSpi, 16,
                           [&](ByteSpan c) { return sa.Compute(c); })
                  .ok());
  Bytes reply = std::move(b).Take();
  const Snapshot before = Take(*mn_, *sec_);
  EXPECT_EQ(mn_->OnUdp(At(0.1), ReplyFor(t, reply)).error().code(), Errc::kReplay);
  ExpectSame(before, Take(*mn_, *sec_));
  EXPECT_EQ(mn_->counters().Dropped(MnDrop::kIdMismatch), 1u);

  // Same low half but a different high half on an acceptance: timestamp
  // mode demands the whole Identification (5.7.1).
  MessageBuilder b2 = MessageBuilder::Reply([&] {
    RegistrationReply x = r;
    x.identification = p->request.identification + (std::uint64_t{1} << 32);
    return x;
  }());
  ASSERT_TRUE(b2.AppendAuth(kExtMnHaAuth, testing::kSpi, 16,
                            [&](ByteSpan c) { return sa.Compute(c); })
                  .ok());
  Bytes reply2 = std::move(b2).Take();
  EXPECT_FALSE(mn_->OnUdp(At(0.1), ReplyFor(t, reply2)).ok());
  EXPECT_EQ(mn_->counters().Dropped(MnDrop::kReplay), 1u);
  ExpectSame(before, Take(*mn_, *sec_));
}

TEST_F(RegistrationTest, R19_ReplayedReplyRejected) {
  testing::TestHaOptions o;
  o.tnc = true;
  Make(ReplayMethod::kTimestamp, DefaultConfig(), o);
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  UdpTransmit t = OneUdp();
  std::optional<Bytes> reply = ha_->HandleTransmit(At(0), t);
  ASSERT_TRUE(mn_->OnUdp(At(0.1), ReplyFor(t, *reply)).ok());
  EXPECT_EQ(EventsOf<RegisteredEvent>().size(), 1u);
  // The same reply again: nothing outstanding.
  EXPECT_FALSE(mn_->OnUdp(At(0.2), ReplyFor(t, *reply)).ok());
  EXPECT_EQ(mn_->counters().Dropped(MnDrop::kNoAttempt), 1u);
  // During the next registration (an attacker replays the old TNC reply
  // on a new, untrusted link): Identification mismatch, no TNC.
  ASSERT_TRUE(mn_->RegisterColocated(At(10), Addr("198.51.100.7"), kIf).ok());
  UdpTransmit t2 = OneUdp();
  UdpReceived rx = ReplyFor(t2, *reply);
  const Snapshot before = Take(*mn_, *sec_);
  EXPECT_FALSE(mn_->OnUdp(At(10.1), rx).ok());
  EXPECT_EQ(mn_->counters().Dropped(MnDrop::kIdMismatch), 1u);
  ExpectSame(before, Take(*mn_, *sec_));
  EXPECT_TRUE(Events().empty());
  EXPECT_EQ(mn_->counters().tnc_reported, 1u);  // only the first, genuine one
}

TEST_F(RegistrationTest, ReplyOnAnotherPathOrFromAnotherSenderIsDropped) {
  testing::TestHaOptions o;
  o.tnc = true;
  Make(ReplayMethod::kTimestamp, DefaultConfig(), o);
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  UdpTransmit t = OneUdp();
  std::optional<Bytes> reply = ha_->HandleTransmit(At(0), t);
  // Through another interface (e.g. the VPN tunnel): never counts (R22).
  UdpReceived rx = ReplyFor(t, *reply);
  rx.ifindex = kIf + 1;
  EXPECT_FALSE(mn_->OnUdp(At(0.1), rx).ok());
  rx = ReplyFor(t, *reply);
  rx.remote.address = Addr("203.0.113.66");
  EXPECT_FALSE(mn_->OnUdp(At(0.1), rx).ok());
  rx = ReplyFor(t, *reply);
  rx.local.address = Addr("192.0.2.99");
  EXPECT_FALSE(mn_->OnUdp(At(0.1), rx).ok());
  rx = ReplyFor(t, *reply);
  rx.local.port = 5000;
  EXPECT_FALSE(mn_->OnUdp(At(0.1), rx).ok());
  EXPECT_EQ(mn_->counters().Dropped(MnDrop::kWrongPath), 4u);
  EXPECT_TRUE(Events().empty());
  EXPECT_TRUE(mn_->pending());
  // The genuine delivery still works.
  ASSERT_TRUE(mn_->OnUdp(At(0.2), ReplyFor(t, *reply)).ok());
  std::vector<RegisteredEvent> r = EventsOf<RegisteredEvent>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].binding.tnc);
}

TEST_F(RegistrationTest, MalformedAndUnknownMessagesAreDropped) {
  Make();
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  UdpTransmit t = OneUdp();
  const Bytes junk = {3, 0, 0};
  EXPECT_FALSE(mn_->OnUdp(At(0), ReplyFor(t, junk)).ok());
  const Bytes other = {1, 2, 3, 4};
  EXPECT_FALSE(mn_->OnUdp(At(0), ReplyFor(t, other)).ok());
  EXPECT_FALSE(mn_->OnUdp(At(0), ReplyFor(t, Bytes{})).ok());
  EXPECT_EQ(mn_->counters().Dropped(MnDrop::kMalformed), 3u);
  EXPECT_TRUE(mn_->pending());
}

// --- TNC (RFC 5265 3.4; R11, R22, R24) ---

TEST_F(RegistrationTest, TncReportedOnlyForAnAuthenticatedReply) {
  testing::TestHaOptions o;
  o.tnc = true;
  Make(ReplayMethod::kTimestamp, DefaultConfig(), o);
  RegisteredEvent r = RegisterNow(At(0));
  EXPECT_TRUE(r.binding.tnc);
  EXPECT_EQ(mn_->counters().tnc_reported, 1u);

  // Without TNC from the HA: false.
  ha_->options().tnc = false;
  RegisteredEvent r2 = RegisterNow(At(5), Addr("192.0.2.11"));
  EXPECT_FALSE(r2.binding.tnc);
}

TEST_F(RegistrationTest, R11_R24_TncOutsideTheAuthenticatorCoverageNeverCounts) {
  testing::TestHaOptions o;
  o.tnc = true;
  o.tnc_after_auth = true;  // an attacker appends TNC after MN-HA
  Make(ReplayMethod::kTimestamp, DefaultConfig(), o);
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  Exchange(At(0));
  for (const MnEvent& e : Events()) {
    if (const auto* reg = std::get_if<RegisteredEvent>(&e)) {
      EXPECT_FALSE(reg->binding.tnc);
    }
    if (const auto* d = std::get_if<DeniedEvent>(&e)) {
      EXPECT_FALSE(d->tnc);
    }
  }
  EXPECT_EQ(mn_->counters().tnc_reported, 0u);
}

TEST_F(RegistrationTest, TncInAForeignAgentDenialNeverCounts) {
  Make();
  ForeignAgentTarget fa{Addr("192.0.2.1"), Addr("192.0.2.2"), 600, false};
  ASSERT_TRUE(mn_->RegisterViaFa(At(0), fa, kIf).ok());
  UdpTransmit t = OneUdp();
  (void)mn_->OnUdp(At(0.1), ReplyFor(t, FaDenial(t, 65, 0, /*with_tnc=*/true)));
  for (const MnEvent& e : Events()) {
    ASSERT_FALSE(std::holds_alternative<RegisteredEvent>(e));
    if (const auto* d = std::get_if<DeniedEvent>(&e)) {
      EXPECT_FALSE(d->tnc);
      EXPECT_FALSE(d->authenticated);
    }
  }
  EXPECT_EQ(mn_->counters().tnc_reported, 0u);
}

TEST_F(RegistrationTest, R11_R24_TncForgedOrForAnOldAttemptNeverCounts) {
  testing::TestHaOptions o;
  o.tnc = true;
  Make(ReplayMethod::kTimestamp, DefaultConfig(), o);
  // Forged: a TNC reply with a bad authenticator.
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  UdpTransmit t1 = OneUdp();
  ha_->options().corrupt_auth = true;
  std::optional<Bytes> forged = ha_->HandleTransmit(At(0), t1);
  EXPECT_FALSE(mn_->OnUdp(At(0.1), ReplyFor(t1, *forged)).ok());
  ha_->options().corrupt_auth = false;
  // A genuine TNC reply to the first attempt, arriving after the MN moved on
  // and started a new attempt: it does not answer the current attempt.
  std::optional<Bytes> genuine_old = ha_->HandleTransmit(At(0.2), t1);
  ASSERT_TRUE(mn_->RegisterColocated(At(1), Addr("198.51.100.7"), kIf).ok());
  UdpTransmit t2 = OneUdp();
  UdpReceived rx = ReplyFor(t2, *genuine_old);  // delivered on the new path
  EXPECT_FALSE(mn_->OnUdp(At(1.1), rx).ok());
  EXPECT_FALSE(mn_->OnUdp(At(1.1), ReplyFor(t1, *genuine_old)).ok());
  EXPECT_EQ(mn_->counters().tnc_reported, 0u);
  EXPECT_TRUE(Events().empty());
  EXPECT_TRUE(mn_->pending());
}

TEST_F(RegistrationTest, AuthenticatedDenialCarriesTnc) {
  testing::TestHaOptions o;
  o.tnc = true;
  o.deny_code = 129;
  Make(ReplayMethod::kTimestamp, DefaultConfig(), o);
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  Exchange(At(0));
  std::vector<DeniedEvent> d = EventsOf<DeniedEvent>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].authenticated);
  EXPECT_TRUE(d[0].tnc);
}

// --- RFC 3519 negotiation ---

TEST_F(RegistrationTest, UdpTunnellingFollowsTheAuthenticatedTunnelReply) {
  MobileNodeConfig c = DefaultConfig();
  c.udp_tunnel = UdpTunnelPolicy::kRequest;
  c.reverse_tunnel = true;
  testing::TestHaOptions o;
  o.udp_assent = true;
  o.keepalive = 25;
  Make(ReplayMethod::kTimestamp, c, o);
  RegisteredEvent r = RegisterNow(At(0));
  EXPECT_TRUE(ha_->last_had_udp_request());
  EXPECT_FALSE(ha_->last_udp_force());
  EXPECT_EQ(r.binding.encapsulation, TunnelEncapsulation::kUdp);
  EXPECT_EQ(r.binding.keepalive_interval, Duration::Seconds(25));
  EXPECT_TRUE(r.binding.reverse_tunnel);

  // Keepalive 0 => the default (110 s); 5 => clamped to 10 s (RFC 3519 4.10).
  ha_->options().keepalive = 0;
  EXPECT_EQ(RegisterNow(At(10)).binding.keepalive_interval, Duration::Seconds(110));
  ha_->options().keepalive = 5;
  EXPECT_EQ(RegisterNow(At(20)).binding.keepalive_interval, Duration::Seconds(10));
  // A declining reply (64), or none at all: IP-in-IP (RFC 3519 4.4 MUST NOT).
  ha_->options().udp_reply_code = kUdpTunnelDeclined;
  EXPECT_EQ(RegisterNow(At(30)).binding.encapsulation, TunnelEncapsulation::kIpInIp);
  ha_->options().udp_assent = false;
  EXPECT_EQ(RegisterNow(At(40)).binding.encapsulation, TunnelEncapsulation::kIpInIp);
}

// --- Commands and configuration ---

TEST_F(RegistrationTest, CancelStopsRetransmissionsAndDropsLateReplies) {
  Make();
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  UdpTransmit t = OneUdp();
  mn_->Cancel();
  EXPECT_FALSE(mn_->pending());
  EXPECT_EQ(mn_->NextTimeout(), Timestamp::Infinite());
  std::optional<Bytes> reply = ha_->HandleTransmit(At(0), t);
  EXPECT_FALSE(mn_->OnUdp(At(0.1), ReplyFor(t, *reply)).ok());
  EXPECT_TRUE(Events().empty());
}

TEST_F(RegistrationTest, StopForgetsTheBinding) {
  Make();
  RegisterNow(At(0));
  mn_->Stop(At(1), kIf);
  EXPECT_FALSE(mn_->binding().has_value());
  EXPECT_EQ(mn_->NextTimeout(), Timestamp::Infinite());
  EXPECT_EQ(mn_->Reregister(At(2)).error().code(), Errc::kState);
}

TEST_F(RegistrationTest, ParallelInstancesShareReplayState) {
  // RFC 5266 3.4: one instance per interface, one SA and replay state.
  Make();
  Result<std::unique_ptr<MobileNodeRegistration>> second =
      MobileNodeRegistration::Create(DefaultConfig(), *sec_, rng_, Logger());
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(mn_->RegisterColocated(At(0), Addr("192.0.2.10"), kIf).ok());
  ASSERT_TRUE((*second)->RegisterColocated(At(0), Addr("198.51.100.7"), kIf + 1).ok());
  UdpTransmit a = OneUdp();
  std::optional<Transmit> bt = (*second)->PollTransmit();
  ASSERT_TRUE(bt);
  UdpTransmit b = std::get<UdpTransmit>(*bt);
  const std::uint64_t ida = ParseRegistrationRequest(a.payload)->request.identification;
  const std::uint64_t idb = ParseRegistrationRequest(b.payload)->request.identification;
  EXPECT_GT(idb, ida);  // one increasing timestamp series (5.7.1)
  // Each answers only its own reply.
  std::optional<Bytes> ra = ha_->HandleTransmit(At(0), a);
  std::optional<Bytes> rb = ha_->HandleTransmit(At(0), b);
  EXPECT_FALSE((*second)->OnUdp(At(0.1), ReplyFor(b, *ra)).ok());
  ASSERT_TRUE(mn_->OnUdp(At(0.1), ReplyFor(a, *ra)).ok());
  ASSERT_TRUE((*second)->OnUdp(At(0.1), ReplyFor(b, *rb)).ok());
  EXPECT_EQ(mn_->binding()->ifindex, kIf);
  EXPECT_EQ((*second)->binding()->ifindex, kIf + 1);
}

TEST_F(RegistrationTest, ConfigValidationNamesTheField) {
  auto err = [](MobileNodeConfig c) {
    Status s = c.Validate();
    return s.ok() ? std::string() : s.error().detail();
  };
  MobileNodeConfig c = DefaultConfig();
  EXPECT_EQ(err(c), "");
  c.home_address.reset();
  EXPECT_NE(err(c).find("home_address/nai"), std::string::npos);
  c = DefaultConfig();
  c.initial_timeout = Duration::Millis(500);
  EXPECT_NE(err(c).find("initial_timeout"), std::string::npos);
  c = DefaultConfig();
  c.requested_lifetime = 0;
  EXPECT_NE(err(c).find("requested_lifetime"), std::string::npos);
  c = DefaultConfig();
  c.max_retransmissions = -1;
  EXPECT_NE(err(c).find("max_retransmissions"), std::string::npos);
  c = DefaultConfig();
  c.home_agent = Ipv4Address::Any();
  EXPECT_NE(err(c).find("home_agent"), std::string::npos);
  c = DefaultConfig();
  c.default_keepalive = Duration::Seconds(5);
  EXPECT_NE(err(c).find("default_keepalive"), std::string::npos);
  c = DefaultConfig();
  c.discovery.max_interval = Duration::Millis(10);
  EXPECT_NE(err(c).find("discovery"), std::string::npos);
}

TEST_F(RegistrationTest, CommandsRejectBadArgumentsWithoutSideEffects) {
  Make();
  EXPECT_FALSE(mn_->RegisterColocated(At(0), Ipv4Address::Any(), kIf).ok());
  EXPECT_FALSE(mn_->RegisterColocated(At(0), Addr("224.0.0.5"), kIf).ok());
  EXPECT_EQ(mn_->Reregister(At(0)).error().code(), Errc::kState);
  EXPECT_TRUE(DrainUdp().empty());
  EXPECT_FALSE(mn_->pending());
}

}  // namespace
}  // namespace mipsec::mip4

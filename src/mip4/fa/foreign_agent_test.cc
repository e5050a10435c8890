#include "mip4/fa/foreign_agent.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/ip/icmp.h"
#include "common/ip/ipip.h"
#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/codec/agent_solicitation.h"
#include "mip4/codec/rules.h"
#include "mip4/codec/tunnel_data.h"
#include "mip4/fa/fa_test_util.h"

namespace mipsec::mip4 {
namespace {

using namespace fa_test;  // NOLINT

class ForeignAgentTest : public ::testing::Test {
 protected:
  void Make(ForeignAgentOptions o = DefaultOptions()) {
    Result<std::unique_ptr<ForeignAgent>> fa =
        ForeignAgent::Create(std::move(o), sas_, rng_, Logger(&sink_, "fa", LogLevel::kDebug));
    ASSERT_TRUE(fa.ok()) << fa.error().ToString();
    fa_ = std::move(*fa);
    fa_->OnTimeout(now_);  // starts: the first advertisement
    Drain();
  }

  void Advance(Duration d) { now_ += d; }

  std::vector<Transmit> Drain() {
    std::vector<Transmit> out;
    while (std::optional<Transmit> t = fa_->PollTransmit()) out.push_back(std::move(*t));
    return out;
  }
  std::vector<UdpTransmit> DrainUdp() {
    std::vector<UdpTransmit> out;
    for (Transmit& t : Drain()) {
      if (auto* u = std::get_if<UdpTransmit>(&t)) out.push_back(std::move(*u));
    }
    return out;
  }
  std::vector<FaEvent> Events() {
    std::vector<FaEvent> out;
    while (std::optional<FaEvent> e = fa_->PollEvent()) out.push_back(std::move(*e));
    return out;
  }

  // The MN sends `payload` to the FA on the link.
  void FromMn(ByteSpan payload, std::optional<std::uint8_t> ttl = 255,
              Ipv4Address dst = kFaAddress, Ipv4Address src = kHome, int ifindex = kLink) {
    UdpReceived d;
    d.local = {dst, kMip4Port};
    d.remote = {src, kMnPort};
    d.ifindex = ifindex;
    d.payload = payload;
    d.ttl = ttl;
    fa_->OnUdp(now_, d);
  }
  void FromHa(ByteSpan payload, Ipv4Endpoint from = {kHa, kMip4Port},
              Ipv4Address to = kCareOf) {
    UdpReceived d;
    d.local = {to, kMip4Port};
    d.remote = from;
    d.ifindex = 1;
    d.payload = payload;
    fa_->OnUdp(now_, d);
  }

  // The MN's request goes through; returns what the FA relayed to the HA.
  UdpTransmit RelayOf(const MnRequest& m) {
    const Bytes wire = m.Build();
    FromMn(wire);
    std::vector<UdpTransmit> out = DrainUdp();
    EXPECT_EQ(out.size(), 1u);
    if (out.empty()) return {};
    EXPECT_EQ(out[0].remote, (Ipv4Endpoint{kHa, kMip4Port}));
    return out[0];
  }

  // The one reply the FA sent to the MN, parsed.
  ParsedRegistrationReply ReplyToMn(const UdpTransmit& t) {
    Result<ParsedRegistrationReply> p = ParseRegistrationReply(t.payload);
    EXPECT_TRUE(p.ok()) << p.error().ToString();
    return p.ok() ? *p : ParsedRegistrationReply{};
  }

  // Sends the request and expects a denial with `code`.
  UdpTransmit ExpectDenial(const MnRequest& m, std::uint8_t code,
                           std::optional<std::uint8_t> ttl = 255) {
    const Bytes wire = m.Build();
    FromMn(wire, ttl);
    std::vector<UdpTransmit> out = DrainUdp();
    EXPECT_EQ(out.size(), 1u) << "code " << static_cast<int>(code);
    if (out.empty()) return {};
    Result<ParsedRegistrationReply> p = ParseRegistrationReply(out[0].payload);
    EXPECT_TRUE(p.ok());
    if (!p.ok()) return out[0];
    EXPECT_EQ(p->reply.code, code) << ReplyCodeName(p->reply.code);
    EXPECT_EQ(p->reply.home_address, m.fixed.home_address);
    EXPECT_EQ(p->reply.home_agent, m.fixed.home_agent);
    EXPECT_EQ(p->reply.identification, m.fixed.identification);
    EXPECT_FALSE(Validate(*p).has_value());
    EXPECT_EQ(fa_->counters().denied(code), 1u);
    EXPECT_EQ(fa_->counters().requests_relayed, 0u);
    EXPECT_EQ(out[0].remote.port, kMnPort);
    EXPECT_EQ(out[0].ifindex, kLink);
    EXPECT_EQ(fa_->visitors().size(), 0u);
    return out[0];
  }

  // Full registration: relay, HA accepts, reply relayed. Returns the reply.
  UdpTransmit Register(const MnRequest& m, TestHomeAgent::ReplySpec spec = {}) {
    UdpTransmit relayed = RelayOf(m);
    TestHomeAgent::Checked c = ha_.Check(relayed.payload);
    EXPECT_TRUE(c.ok) << c.why;
    const Bytes reply = ha_.Reply(c.request, spec);
    FromHa(reply);
    std::vector<UdpTransmit> out = DrainUdp();
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? UdpTransmit{} : out[0];
  }

  Bytes Datagram(Ipv4Address src, Ipv4Address dst, std::uint8_t ttl = 64,
                 std::uint8_t proto = ip::kProtoUdp) {
    ip::Ipv4Header h;
    h.src = src;
    h.dst = dst;
    h.ttl = ttl;
    h.protocol = proto;
    const Bytes payload = {0, 1, 0, 2, 0, 12, 0, 0, 'h', 'i', '!', '!'};
    return *ip::BuildIpv4(h, payload);
  }
  Bytes Tunnelled(Ipv4Address outer_src, Ipv4Address outer_dst, ByteSpan inner) {
    return *ip::IpipEncapsulate(inner, outer_src, outer_dst, {.forwarding = false});
  }

  SaDatabase sas_;
  DeterministicRandom rng_{42};
  MemorySink sink_;
  std::unique_ptr<ForeignAgent> fa_;
  Timestamp now_ = Timestamp::FromNanos(1'000'000'000);
  TestHomeAgent ha_;
};

// ---- Options ----

TEST_F(ForeignAgentTest, OptionsAreValidated) {
  ForeignAgentOptions o = DefaultOptions();
  EXPECT_TRUE(ForeignAgent::ValidateOptions(o).ok());
  o.interfaces[0].care_of_addresses.clear();
  EXPECT_FALSE(ForeignAgent::ValidateOptions(o).ok());
  o = DefaultOptions();
  o.advertisement_lifetime = 20;  // < 3 * 10 s
  Status s = ForeignAgent::ValidateOptions(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail().find("advertisement_lifetime"), std::string::npos);
  o = DefaultOptions();
  o.force_udp_tunnelling = true;
  EXPECT_FALSE(ForeignAgent::ValidateOptions(o).ok());
  o = DefaultOptions();
  o.interfaces[0].advertisement_address = A("192.0.2.255");
  EXPECT_FALSE(ForeignAgent::ValidateOptions(o).ok());
  o = DefaultOptions();
  o.reverse_tunnelling = false;
  o.reverse_tunnel_mandatory = true;
  EXPECT_FALSE(ForeignAgent::ValidateOptions(o).ok());
}

// ---- Advertisements (RFC 5944 2.1, 2.3) ----

ParsedAgentAdvertisement ParseAdvPacket(const IpTransmit& t, Ipv4Address dst) {
  Result<ip::Ipv4Packet> ip = ip::ParseIpv4(t.packet);
  EXPECT_TRUE(ip.ok());
  EXPECT_EQ(ip->header.ttl, 1);  // RFC 5944 2.1 MUST
  EXPECT_EQ(ip->header.src, kFaAddress);
  EXPECT_EQ(ip->header.dst, dst);
  Result<ParsedAgentAdvertisement> adv = ParseAgentAdvertisement(ip->payload);
  EXPECT_TRUE(adv.ok()) << adv.error().ToString();
  EXPECT_FALSE(Validate(*adv).has_value());
  return *adv;
}

TEST_F(ForeignAgentTest, FirstAdvertisementContents) {
  Result<std::unique_ptr<ForeignAgent>> fa = ForeignAgent::Create(DefaultOptions(), sas_, rng_,
                                                                  Logger());
  ASSERT_TRUE(fa.ok());
  fa_ = std::move(*fa);
  EXPECT_EQ(fa_->NextTimeout(), Timestamp::Zero());  // not started yet
  fa_->OnTimeout(now_);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  const IpTransmit& t = std::get<IpTransmit>(out[0]);
  EXPECT_EQ(t.ifindex, kLink);
  EXPECT_FALSE(t.link_next_hop.has_value());
  const ParsedAgentAdvertisement p = ParseAdvPacket(t, Ipv4Address::AllSystems());
  const AgentAdvertisement& a = p.advertisement;
  EXPECT_EQ(a.code, kAdvCodeRoutesCommonTraffic);
  EXPECT_EQ(a.lifetime, 30);  // 3 * max interval
  ASSERT_EQ(a.routers.size(), 1u);
  EXPECT_EQ(a.routers[0].address, kFaAddress);
  EXPECT_EQ(a.mobility.sequence, 0);  // 2.3.2: 0 first
  EXPECT_EQ(a.mobility.registration_lifetime, 1800);
  EXPECT_TRUE(a.mobility.foreign_agent);
  EXPECT_TRUE(a.mobility.reverse_tunnel);
  EXPECT_FALSE(a.mobility.home_agent);
  EXPECT_FALSE(a.mobility.busy);
  EXPECT_FALSE(a.mobility.registration_required);
  EXPECT_FALSE(a.mobility.udp_tunnel);  // not behind a NAT
  EXPECT_FALSE(a.mobility.minimal_encapsulation);
  EXPECT_FALSE(a.mobility.gre);
  EXPECT_EQ(a.mobility.care_of_addresses, std::vector<Ipv4Address>{kCareOf});
  ASSERT_TRUE(a.prefix_lengths.has_value());
  EXPECT_EQ(*a.prefix_lengths, std::vector<std::uint8_t>{24});
  EXPECT_EQ(p.extensions.message().size() % 2, 0u);  // padded to even (2.1.3)
  EXPECT_EQ(fa_->counters().advertisements, 1u);
}

TEST_F(ForeignAgentTest, PeriodicAdvertisementsAreJitteredAndNumbered) {
  Make();
  Timestamp last = now_;
  for (int i = 1; i <= 6; ++i) {
    const Timestamp next = fa_->NextTimeout();
    const Duration gap = next - last;
    EXPECT_GE(gap, Duration::Millis(7500)) << i;  // RFC 1256 min: 0.75 * max
    EXPECT_LE(gap, Duration::Seconds(10)) << i;
    now_ = next;
    fa_->OnTimeout(now_);
    std::vector<Transmit> out = Drain();
    ASSERT_EQ(out.size(), 1u);
    const ParsedAgentAdvertisement p =
        ParseAdvPacket(std::get<IpTransmit>(out[0]), Ipv4Address::AllSystems());
    EXPECT_EQ(p.advertisement.mobility.sequence, i);
    last = next;
  }
}

TEST_F(ForeignAgentTest, FlagsFollowConfiguration) {
  ForeignAgentOptions o = DefaultOptions();
  o.behind_nat = true;  // RFC 3519 3.4: only then 'U'
  o.registration_required = true;
  o.reverse_tunnelling = false;
  o.routes_common_traffic = false;
  o.interfaces[0].advertisement_address = Ipv4Address::Broadcast();
  o.interfaces[0].prefix_length.reset();
  Make(o);
  Result<Bytes> icmp = fa_->BuildAdvertisement(kLink);
  ASSERT_TRUE(icmp.ok());
  Result<ParsedAgentAdvertisement> p = ParseAgentAdvertisement(*icmp);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->advertisement.mobility.udp_tunnel);
  EXPECT_TRUE(p->advertisement.mobility.registration_required);
  EXPECT_FALSE(p->advertisement.mobility.reverse_tunnel);
  EXPECT_EQ(p->advertisement.code, kAdvCodeNoCommonTraffic);
  EXPECT_FALSE(p->advertisement.prefix_lengths.has_value());
  EXPECT_EQ(p->advertisement.mobility.sequence, 1);  // one was sent at start
  EXPECT_FALSE(fa_->BuildAdvertisement(99).ok());
  now_ = fa_->NextTimeout();
  fa_->OnTimeout(now_);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  ParseAdvPacket(std::get<IpTransmit>(out[0]), Ipv4Address::Broadcast());
}

TEST_F(ForeignAgentTest, BusyWhenVisitorListIsFull) {
  ForeignAgentOptions o = DefaultOptions();
  o.max_visitors = 1;
  Make(o);
  RelayOf(MnRequest());
  Result<ParsedAgentAdvertisement> p = ParseAgentAdvertisement(*fa_->BuildAdvertisement(kLink));
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->advertisement.mobility.busy);
}

Bytes Solicitation(Ipv4Address src) { return *BuildAgentSolicitationPacket(src, A("224.0.0.11")); }

TEST_F(ForeignAgentTest, SolicitationFromUnicastSourceIsAnsweredByUnicast) {
  Make();
  fa_->OnIcmp(now_, kLink, Solicitation(kHome));
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  const IpTransmit& t = std::get<IpTransmit>(out[0]);
  EXPECT_EQ(t.link_next_hop, kHome);  // on-link to the home address (2.1)
  EXPECT_EQ(t.ifindex, kLink);
  const ParsedAgentAdvertisement p = ParseAdvPacket(t, kHome);
  EXPECT_EQ(p.advertisement.mobility.sequence, 1);
  EXPECT_EQ(fa_->counters().solicitations, 1u);
}

TEST_F(ForeignAgentTest, SolicitationFromZeroSourceGetsOneDelayedMulticast) {
  Make();
  now_ += Duration::Seconds(3);  // past the 1 s multicast gap
  const Timestamp periodic = fa_->NextTimeout();
  fa_->OnIcmp(now_, kLink, Solicitation(Ipv4Address::Any()));
  fa_->OnIcmp(now_, kLink, Solicitation(Ipv4Address::Any()));
  EXPECT_TRUE(Drain().empty());
  const Timestamp due = fa_->NextTimeout();
  EXPECT_LE(due, now_ + kMaxResponseDelay);  // RFC 1256 MAX_RESPONSE_DELAY
  EXPECT_LT(due, periodic);
  now_ = due;
  fa_->OnTimeout(now_);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);  // two solicitations, one answer
  ParseAdvPacket(std::get<IpTransmit>(out[0]), Ipv4Address::AllSystems());
  EXPECT_GE(fa_->NextTimeout() - now_, Duration::Millis(7500));  // periodic timer reset
}

TEST_F(ForeignAgentTest, BadSolicitationsAreDropped) {
  Make();
  fa_->OnIcmp(now_, 9, Solicitation(kHome));  // not a served link
  Bytes bad = Solicitation(kHome);
  bad[21] = 1;  // ICMP code 1
  fa_->OnIcmp(now_, kLink, bad);
  EXPECT_TRUE(Drain().empty());
  EXPECT_EQ(fa_->counters().drop(FaDrop::kBadSolicitation), 1u);
  EXPECT_EQ(fa_->counters().drop(FaDrop::kPacketMalformed), 1u);  // IP/ICMP checksum
}

// ---- Relaying (RFC 5944 3.7.2, 3.7.3) ----

TEST_F(ForeignAgentTest, RelayRoundTripMakesAnActiveVisitor) {
  Make();
  MnRequest m;
  const Bytes request = m.Build();
  FromMn(request);
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  // 3.7.2.2: from the care-of address, port 434, to the HA, port 434,
  // unchanged through MN-HA (here: the whole request).
  EXPECT_EQ(out[0].local, (Ipv4Endpoint{kCareOf, kMip4Port}));
  EXPECT_EQ(out[0].remote, (Ipv4Endpoint{kHa, kMip4Port}));
  EXPECT_EQ(out[0].payload, request);
  std::vector<FaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, FaEvent::Kind::kVisitorPending);
  EXPECT_EQ(ev[0].home_address, kHome);
  EXPECT_EQ(ev[0].ifindex, kLink);
  EXPECT_EQ(fa_->visitors().pending_count(), 1u);

  TestHomeAgent::Checked c = ha_.Check(out[0].payload);
  ASSERT_TRUE(c.ok) << c.why;
  EXPECT_FALSE(c.had_fa_ha);
  const Bytes reply = ha_.Reply(c.request, {.lifetime = 500});
  FromHa(reply);
  out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].local, (Ipv4Endpoint{kFaAddress, kMip4Port}));
  EXPECT_EQ(out[0].remote, (Ipv4Endpoint{kHome, kMnPort}));
  EXPECT_EQ(out[0].ifindex, kLink);
  EXPECT_EQ(out[0].payload, reply);  // nothing to strip, nothing to add
  ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, FaEvent::Kind::kVisitorActive);
  EXPECT_EQ(ev[0].lifetime, 500);
  EXPECT_TRUE(ev[0].reverse_tunnel);
  std::optional<ActiveRegistration> a = fa_->ActiveVisitor(kHome);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->home_agent, kHa);
  EXPECT_EQ(a->expires, now_ + Duration::Seconds(500));
  EXPECT_EQ(fa_->visitors().pending_count(), 0u);
  EXPECT_EQ(fa_->counters().replies_relayed, 1u);
}

TEST_F(ForeignAgentTest, GrantedLifetimeNeverExceedsRequestOrMaximum) {
  ForeignAgentOptions o = DefaultOptions();
  o.max_registration_lifetime = 1000;
  Make(o);
  MnRequest m;
  m.fixed.lifetime = 900;
  Register(m, {.lifetime = 1500});  // 3.4: the request's lifetime is used
  EXPECT_EQ(fa_->ActiveVisitor(kHome)->granted_lifetime, 900);
}

TEST_F(ForeignAgentTest, FaHaAuthenticationIsAddedAndVerified) {
  Make();
  ASSERT_TRUE(fa_->AddHomeAgentSa(kHa, Sa(kFaHaSpi, 0xa5)).ok());
  ha_.fa_ha_key = 0xa5;
  MnRequest m;
  m.nai.emplace("mn1@example.org");
  m.delivery_style = true;
  const Bytes request = m.Build();
  UdpTransmit relayed = RelayOf(m);
  TestHomeAgent::Checked c = ha_.Check(relayed.payload);
  ASSERT_TRUE(c.ok) << c.why;
  EXPECT_TRUE(c.had_fa_ha);
  // Unchanged through MN-HA; the delivery style consumed (RFC 3024 3.3);
  // FA-HA last.
  EXPECT_TRUE(std::equal(request.begin(), request.begin() + c.mn_ha_end,
                         relayed.payload.begin()));
  EXPECT_EQ(c.request.extensions.all().back().type, kExtFaHaAuth);
  EXPECT_FALSE(c.request.extensions.Find(kExtDeliveryStyle).has_value());
  EXPECT_FALSE(Validate(c.request).has_value());

  const Bytes reply = ha_.Reply(c.request, {});
  FromHa(reply);
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  // 3.7.3.2: FA-HA removed, the rest unchanged.
  ParsedRegistrationReply p = ReplyToMn(out[0]);
  EXPECT_FALSE(p.extensions.Find(kExtFaHaAuth).has_value());
  const std::size_t end = p.extensions.all().back().end();
  EXPECT_EQ(out[0].payload.size(), end);
  EXPECT_TRUE(std::equal(out[0].payload.begin(), out[0].payload.end(), reply.begin()));
  EXPECT_TRUE(fa_->ActiveVisitor(kHome)->encapsulating_delivery);
}

TEST_F(ForeignAgentTest, NoFaHaOnDeregistration) {
  Make();
  ASSERT_TRUE(fa_->AddHomeAgentSa(kHa, Sa(kFaHaSpi, 0xa5)).ok());
  ha_.fa_ha_key = 0xa5;
  Register(MnRequest());
  MnRequest dereg;
  dereg.fixed.lifetime = 0;
  dereg.fixed.identification += 1;
  UdpTransmit relayed = RelayOf(dereg);
  TestHomeAgent::Checked c = ha_.Check(relayed.payload);
  ASSERT_TRUE(c.ok) << c.why;
  EXPECT_FALSE(c.had_fa_ha);  // 3.5.4 MUST NOT
  // The registration stays until the HA accepts the deregistration (3.7.2).
  EXPECT_TRUE(fa_->ActiveVisitor(kHome).has_value());
  Events();
  FromHa(ha_.Reply(c.request, {.fa_ha = false}));
  ASSERT_EQ(DrainUdp().size(), 1u);
  std::vector<FaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, FaEvent::Kind::kVisitorRemoved);
  EXPECT_EQ(ev[0].cause, FaEvent::Cause::kDeregistered);
  EXPECT_FALSE(fa_->ActiveVisitor(kHome).has_value());
  EXPECT_EQ(fa_->visitors().size(), 0u);
}

TEST_F(ForeignAgentTest, ForgedFaHaInReplyGets68) {
  Make();
  ASSERT_TRUE(fa_->AddHomeAgentSa(kHa, Sa(kFaHaSpi, 0xa5)).ok());
  ha_.fa_ha_key = 0xa5;
  UdpTransmit relayed = RelayOf(MnRequest());
  TestHomeAgent::Checked c = ha_.Check(relayed.payload);
  FromHa(ha_.Reply(c.request, {.fa_ha_key_override = 0x11}));
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ReplyToMn(out[0]).reply.code, 68);
  EXPECT_EQ(fa_->counters().fa_ha_auth_failures, 1u);
  EXPECT_FALSE(fa_->ActiveVisitor(kHome).has_value());
  EXPECT_TRUE(sink_.Contains("security exception"));
}

TEST_F(ForeignAgentTest, MissingFaHaInReplyGets68) {
  Make();
  ASSERT_TRUE(fa_->AddHomeAgentSa(kHa, Sa(kFaHaSpi, 0xa5)).ok());
  ha_.fa_ha_key = 0xa5;
  UdpTransmit relayed = RelayOf(MnRequest());
  TestHomeAgent::Checked c = ha_.Check(relayed.payload);
  FromHa(ha_.Reply(c.request, {.fa_ha = false}));
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ReplyToMn(out[0]).reply.code, 68);
}

TEST_F(ForeignAgentTest, MnFaAuthenticationVerifiedAndAddedToReply) {
  Make();
  std::vector<SecurityAssociation> sas;
  sas.push_back(Sa(kMnFaSpi, 0x3c));
  ASSERT_TRUE(sas_.AddMobileNode(kHome, "", std::move(sas)).ok());
  MnRequest m;
  m.mn_fa_key = 0x3c;
  const UdpTransmit reply = Register(m);
  ParsedRegistrationReply p = ReplyToMn(reply);
  Result<AuthCoverage> mnfa = AuthenticationCoverageOfType(p.extensions, kExtMnFaAuth);
  ASSERT_TRUE(mnfa.ok());
  EXPECT_EQ(mnfa->spi, kMnFaSpi);
  SecurityAssociation sa = Sa(kMnFaSpi, 0x3c);
  EXPECT_TRUE(sa.Verify(mnfa->covered, mnfa->authenticator).ok());
  EXPECT_FALSE(Validate(p).has_value());
}

TEST_F(ForeignAgentTest, ForgedMnFaGets67AndIsNotRelayed) {
  Make();
  std::vector<SecurityAssociation> sas;
  sas.push_back(Sa(kMnFaSpi, 0x3c));
  ASSERT_TRUE(sas_.AddMobileNode(kHome, "", std::move(sas)).ok());
  MnRequest m;
  m.mn_fa_key = 0x99;
  ExpectDenial(m, 67);
  EXPECT_EQ(fa_->counters().mn_fa_auth_failures, 1u);
  EXPECT_TRUE(sink_.Contains("security exception"));
}

TEST_F(ForeignAgentTest, MissingMnFaGets67) {
  Make();
  std::vector<SecurityAssociation> sas;
  sas.push_back(Sa(kMnFaSpi, 0x3c));
  ASSERT_TRUE(sas_.AddMobileNode(kHome, "", std::move(sas)).ok());
  UdpTransmit t = ExpectDenial(MnRequest(), 67);
  // 3.7.1: the reply to an MN the FA shares an SA with carries MN-FA.
  EXPECT_TRUE(ReplyToMn(t).extensions.Find(kExtMnFaAuth).has_value());
}

TEST_F(ForeignAgentTest, RequiredMnFaSaGets67) {
  ForeignAgentOptions o = DefaultOptions();
  o.require_mn_fa_sa = true;
  Make(o);
  ExpectDenial(MnRequest(), 67);
}

// ---- The FA's own denials ----

TEST_F(ForeignAgentTest, ReservedBitGets70) {
  Make();
  MnRequest m;
  m.fixed.reserved_x = true;
  UdpTransmit t = ExpectDenial(m, 70);
  // 3.7.2.3: from the address the request went to, to the home address.
  EXPECT_EQ(t.local, (Ipv4Endpoint{kFaAddress, kMip4Port}));
  EXPECT_EQ(t.remote.address, kHome);
  EXPECT_EQ(ReplyToMn(t).reply.lifetime, m.fixed.lifetime);
}

TEST_F(ForeignAgentTest, RuleViolationGets70) {
  Make();
  MnRequest m;
  m.fixed.reverse_tunnel = false;
  m.delivery_style = true;  // RFC 3024 3.3: not without 'T'
  ExpectDenial(m, 70);
}

TEST_F(ForeignAgentTest, MissingMnHaGets70) {
  Make();
  MnRequest m;
  m.mn_ha_key.reset();
  ExpectDenial(m, 70);
}

TEST_F(ForeignAgentTest, TruncatedExtensionGets70) {
  Make();
  Bytes wire = MnRequest().Build();
  wire.resize(wire.size() - 3);  // cut into the MN-HA authenticator
  FromMn(wire);
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ReplyToMn(out[0]).reply.code, 70);
}

TEST_F(ForeignAgentTest, UnrecognizedNonSkippableExtensionIsSilentlyDiscarded) {
  Make();
  MessageBuilder b = MessageBuilder::Request(MnRequest().fixed);
  ASSERT_TRUE(b.AppendTlv(100, Bytes{1, 2}).ok());  // RFC 5944 1.8
  const Bytes wire = std::move(b).Take();
  FromMn(wire);
  EXPECT_TRUE(Drain().empty());
  EXPECT_EQ(fa_->counters().drop(FaDrop::kUnrecognizedExtension), 1u);
}

TEST_F(ForeignAgentTest, LifetimeTooLongGets69WithTheMaximum) {
  Make();
  MnRequest m;
  m.fixed.lifetime = 3600;
  UdpTransmit t = ExpectDenial(m, 69);
  EXPECT_EQ(ReplyToMn(t).reply.lifetime, 1800);  // 3.7.2.3
}

TEST_F(ForeignAgentTest, CareOfAddressNotOfferedGets77) {
  Make();
  MnRequest m;
  m.fixed.care_of_address = A("198.51.100.77");
  ExpectDenial(m, 77);
}

TEST_F(ForeignAgentTest, MinimalOrGreEncapsulationGets72) {
  Make();
  MnRequest m;
  m.fixed.gre = true;
  ExpectDenial(m, 72);
}

TEST_F(ForeignAgentTest, ReverseTunnelNotOfferedGets74) {
  ForeignAgentOptions o = DefaultOptions();
  o.reverse_tunnelling = false;
  Make(o);
  ExpectDenial(MnRequest(), 74);
}

TEST_F(ForeignAgentTest, ReverseTunnelMandatoryGets75) {
  ForeignAgentOptions o = DefaultOptions();
  o.reverse_tunnel_mandatory = true;
  Make(o);
  MnRequest m;
  m.fixed.reverse_tunnel = false;
  ExpectDenial(m, 75);
}

TEST_F(ForeignAgentTest, ReverseTunnelFromAfarGets76) {
  Make();
  ExpectDenial(MnRequest(), 76, /*ttl=*/64);  // RFC 3024 4.2.1: TTL must be 255
}

TEST_F(ForeignAgentTest, UnknownTtlSkipsThe76CheckAndCountsIt) {
  Make();
  FromMn(MnRequest().Build(), std::nullopt);
  EXPECT_EQ(DrainUdp().size(), 1u);
  EXPECT_EQ(fa_->counters().requests_relayed, 1u);
  EXPECT_EQ(fa_->counters().ttl_check_skipped, 1u);
}

TEST_F(ForeignAgentTest, DeliveryStyleUnsupportedGets79) {
  ForeignAgentOptions o = DefaultOptions();
  o.encapsulating_delivery = false;
  Make(o);
  MnRequest m;
  m.delivery_style = true;
  ExpectDenial(m, 79);
}

TEST_F(ForeignAgentTest, FullVisitorListGets66) {
  ForeignAgentOptions o = DefaultOptions();
  o.max_visitors = 1;
  Make(o);
  RelayOf(MnRequest());
  Events();
  MnRequest other;
  other.fixed.home_address = A("10.10.0.6");
  FromMn(other.Build(), 255, kFaAddress, A("10.10.0.6"));
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ReplyToMn(out[0]).reply.code, 66);
  // A known visitor may still re-register.
  MnRequest again;
  again.fixed.identification += 5;
  RelayOf(again);
}

TEST_F(ForeignAgentTest, TooManyPendingGets66) {
  ForeignAgentOptions o = DefaultOptions();
  o.max_pending = 1;
  Make(o);
  RelayOf(MnRequest());
  MnRequest other;
  other.fixed.home_address = A("10.10.0.6");
  FromMn(other.Build(), 255, kFaAddress, A("10.10.0.6"));
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ReplyToMn(out[0]).reply.code, 66);
}

TEST_F(ForeignAgentTest, RequiredFaHaSaGets65) {
  ForeignAgentOptions o = DefaultOptions();
  o.require_fa_ha_sa = true;
  Make(o);
  ExpectDenial(MnRequest(), 65);
}

TEST_F(ForeignAgentTest, OwnAddressAsHomeAgentGets194) {
  Make();
  MnRequest m;
  m.fixed.home_agent = kCareOf;
  ExpectDenial(m, 194);
}

TEST_F(ForeignAgentTest, CvseForTheFaGets100) {
  Make();
  MnRequest m;
  m.cvse_for_fa = true;
  ExpectDenial(m, 100);
}

TEST_F(ForeignAgentTest, ZeroHomeAddressDenialIsBroadcastWithTheNai) {
  Make();
  MnRequest m;
  m.fixed.home_address = Ipv4Address::Any();
  m.nai.emplace("mn9@example.org");
  m.fixed.lifetime = 4000;
  UdpTransmit t = ExpectDenial(m, 69);
  EXPECT_EQ(t.remote.address, Ipv4Address::Broadcast());  // 3.7.2.3
  EXPECT_TRUE(t.broadcast);
}

TEST_F(ForeignAgentTest, NonUnicastHomeAgentGets70) {
  Make();
  MnRequest m;
  m.nai.emplace("mn1@example.org");
  m.fixed.home_agent = Ipv4Address::Any();  // nobody to relay to
  ExpectDenial(m, 70);
}

TEST_F(ForeignAgentTest, DenialsAreRateLimitedPerMobileNode) {
  Make();
  MnRequest m;
  m.fixed.gre = true;
  ExpectDenial(m, 72);
  FromMn(m.Build());
  EXPECT_TRUE(DrainUdp().empty());  // 3.7.2: not twice within a second
  EXPECT_EQ(fa_->counters().drop(FaDrop::kDenialRateLimited), 1u);
  Advance(Duration::Seconds(1));
  FromMn(m.Build());
  EXPECT_EQ(DrainUdp().size(), 1u);
}

TEST_F(ForeignAgentTest, RequestOnAnotherLinkIsDropped) {
  Make();
  FromMn(MnRequest().Build(), 255, kFaAddress, kHome, /*ifindex=*/7);
  EXPECT_TRUE(Drain().empty());
  EXPECT_EQ(fa_->counters().drop(FaDrop::kNotServedInterface), 1u);
}

// ---- Replies ----

TEST_F(ForeignAgentTest, PendingRequestTimesOutWith78) {
  Make();
  RelayOf(MnRequest());
  Events();
  EXPECT_EQ(fa_->NextTimeout(), std::min(now_ + Duration::Seconds(7), fa_->NextTimeout()));
  now_ += Duration::Seconds(7);
  fa_->OnTimeout(now_);
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ReplyToMn(out[0]).reply.code, 78);
  std::vector<FaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, FaEvent::Kind::kVisitorRemoved);
  EXPECT_EQ(ev[0].cause, FaEvent::Cause::kPendingTimeout);
  EXPECT_EQ(fa_->visitors().size(), 0u);
  EXPECT_EQ(fa_->counters().pending_timeouts, 1u);
}

TEST_F(ForeignAgentTest, ReplyWithWrongIdentificationIsDiscarded) {
  Make();
  UdpTransmit relayed = RelayOf(MnRequest());
  TestHomeAgent::Checked c = ha_.Check(relayed.payload);
  FromHa(ha_.Reply(c.request, {.identification = c.request.request.identification + 1}));
  EXPECT_TRUE(DrainUdp().empty());
  EXPECT_EQ(fa_->counters().drop(FaDrop::kUnmatchedReply), 1u);
  EXPECT_EQ(fa_->visitors().pending_count(), 1u);  // still waiting
  // The high 32 bits may differ (the HA's time, RFC 5944 5.7).
  FromHa(ha_.Reply(c.request, {.code = 133, .identification =
                                               c.request.request.identification ^ (1ull << 40)}));
  EXPECT_EQ(DrainUdp().size(), 1u);
}

TEST_F(ForeignAgentTest, HomeAgentDenialKeepsTheActiveRegistration) {
  Make();
  Register(MnRequest(), {.lifetime = 300});
  const ActiveRegistration before = *fa_->ActiveVisitor(kHome);
  Events();
  MnRequest again;
  again.fixed.identification += 9;
  UdpTransmit relayed = RelayOf(again);
  EXPECT_TRUE(Events().empty());  // already routed
  TestHomeAgent::Checked c = ha_.Check(relayed.payload);
  FromHa(ha_.Reply(c.request, {.code = 130}));
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ReplyToMn(out[0]).reply.code, 130);
  EXPECT_TRUE(Events().empty());
  std::optional<ActiveRegistration> after = fa_->ActiveVisitor(kHome);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->expires, before.expires);  // 3.7.2 MUST NOT be modified
  EXPECT_EQ(fa_->visitors().pending_count(), 0u);
}

TEST_F(ForeignAgentTest, HomeAgentDenialOfANewVisitorRemovesIt) {
  Make();
  UdpTransmit relayed = RelayOf(MnRequest());
  Events();
  FromHa(ha_.Reply(ha_.Check(relayed.payload).request, {.code = 129}));
  ASSERT_EQ(DrainUdp().size(), 1u);
  std::vector<FaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, FaEvent::Kind::kVisitorRemoved);
  EXPECT_EQ(ev[0].cause, FaEvent::Cause::kDenied);
}

TEST_F(ForeignAgentTest, MalformedReplyGets71) {
  Make();
  UdpTransmit relayed = RelayOf(MnRequest());
  // An acceptance without the MN-HA extension breaks the rules.
  FromHa(ha_.Reply(ha_.Check(relayed.payload).request, {.mn_ha = false}));
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ReplyToMn(out[0]).reply.code, 71);
  EXPECT_EQ(fa_->visitors().size(), 0u);
}

TEST_F(ForeignAgentTest, ReplyWithoutTheNaiGets97) {
  Make();
  MnRequest m;
  m.nai.emplace("mn1@example.org");
  UdpTransmit relayed = RelayOf(m);
  FromHa(ha_.Reply(ha_.Check(relayed.payload).request, {.echo_nai = false}));
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ReplyToMn(out[0]).reply.code, 97);
}

TEST_F(ForeignAgentTest, AcceptanceWithoutHomeAgentGets98) {
  Make();
  MnRequest m;
  m.nai.emplace("mn1@example.org");
  UdpTransmit relayed = RelayOf(m);
  FromHa(ha_.Reply(ha_.Check(relayed.payload).request, {.home_agent = Ipv4Address::Any()}));
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ReplyToMn(out[0]).reply.code, 98);
}

TEST_F(ForeignAgentTest, AcceptanceWithoutHomeAddressGets99) {
  Make();
  MnRequest m;
  m.nai.emplace("mn1@example.org");
  m.fixed.home_address = Ipv4Address::Any();
  UdpTransmit relayed = RelayOf(m);
  FromHa(ha_.Reply(ha_.Check(relayed.payload).request, {}));
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ReplyToMn(out[0]).reply.code, 99);
  EXPECT_EQ(out[0].remote.address, Ipv4Address::Broadcast());
}

TEST_F(ForeignAgentTest, NaiRequestMovesToTheAssignedHomeAddress) {
  Make();
  MnRequest m;
  m.nai.emplace("mn1@example.org");
  m.fixed.home_address = Ipv4Address::Any();
  UdpTransmit relayed = RelayOf(m);
  std::vector<FaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].home_address, Ipv4Address::Any());
  FromHa(ha_.Reply(ha_.Check(relayed.payload).request, {.home_address = kHome}));
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ReplyToMn(out[0]).reply.code, 0);
  EXPECT_EQ(out[0].remote.address, kHome);  // 3.7.2.3: the reply's Home Address
  ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, FaEvent::Kind::kVisitorActive);
  EXPECT_EQ(ev[0].home_address, kHome);
  EXPECT_EQ(ev[0].nai, "mn1@example.org");
  EXPECT_TRUE(fa_->ActiveVisitor(kHome).has_value());
}

TEST_F(ForeignAgentTest, CvseForTheFaInReplyGets101) {
  Make();
  UdpTransmit relayed = RelayOf(MnRequest());
  FromHa(ha_.Reply(ha_.Check(relayed.payload).request, {.cvse_for_fa = true}));
  std::vector<UdpTransmit> out = DrainUdp();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ReplyToMn(out[0]).reply.code, 101);
}

Bytes IcmpErrorAbout(const UdpTransmit& relayed, std::uint8_t type, std::uint8_t code,
                     bool long_quote) {
  ip::Ipv4Header h;
  h.src = relayed.local.address;
  h.dst = relayed.remote.address;
  Bytes dg = *ip::BuildIpv4Udp(h, relayed.local.port, relayed.remote.port, relayed.payload);
  Bytes msg;
  if (long_quote) {
    // A router quoting the whole datagram (RFC 1812 4.3.2.3 allows it).
    msg = ip::BuildIcmp(type, code, 0, dg);
  } else {
    msg = type == ip::kIcmpDestinationUnreachable
              ? *ip::BuildIcmpDestinationUnreachable(code, dg)
              : *ip::BuildIcmpTimeExceeded(code, dg);
  }
  return *ip::BuildIcmpPacket(A("198.51.100.254"), relayed.local.address, msg);
}

TEST_F(ForeignAgentTest, IcmpErrorsWhileRelayingGet80To88) {
  struct Case {
    std::uint8_t type, code, expect;
    bool long_quote;
  };
  const Case cases[] = {
      {ip::kIcmpDestinationUnreachable, ip::kIcmpNetUnreachable, 80, false},
      {ip::kIcmpDestinationUnreachable, ip::kIcmpHostUnreachable, 81, true},
      {ip::kIcmpDestinationUnreachable, ip::kIcmpPortUnreachable, 82, false},
      {ip::kIcmpDestinationUnreachable, ip::kIcmpAdminProhibited, 88, true},
      {ip::kIcmpTimeExceeded, ip::kIcmpTtlExceeded, 88, false},
  };
  for (const Case& c : cases) {
    Make();
    UdpTransmit relayed = RelayOf(MnRequest());
    Events();
    fa_->OnIcmp(now_, 1, IcmpErrorAbout(relayed, c.type, c.code, c.long_quote));
    std::vector<UdpTransmit> out = DrainUdp();
    ASSERT_EQ(out.size(), 1u) << static_cast<int>(c.expect);
    EXPECT_EQ(ReplyToMn(out[0]).reply.code, c.expect);
    std::vector<FaEvent> ev = Events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].cause, FaEvent::Cause::kHaUnreachable);
  }
}

TEST_F(ForeignAgentTest, IcmpErrorAboutSomethingElseIsIgnored) {
  Make();
  UdpTransmit relayed = RelayOf(MnRequest());
  relayed.remote.address = A("10.99.0.1");  // another HA
  fa_->OnIcmp(now_, 1, IcmpErrorAbout(relayed, ip::kIcmpDestinationUnreachable, 1, false));
  EXPECT_TRUE(DrainUdp().empty());
  EXPECT_EQ(fa_->counters().drop(FaDrop::kUnmatchedIcmpError), 1u);
  EXPECT_EQ(fa_->visitors().pending_count(), 1u);
}

TEST_F(ForeignAgentTest, VisitorExpiresSilently) {
  Make();
  Register(MnRequest(), {.lifetime = 60});
  Events();
  now_ += Duration::Seconds(60);
  while (fa_->NextTimeout() < now_) fa_->OnTimeout(fa_->NextTimeout());
  fa_->OnTimeout(now_);
  EXPECT_TRUE(DrainUdp().empty());  // 3.7: no message on expiry
  std::vector<FaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, FaEvent::Kind::kVisitorRemoved);
  EXPECT_EQ(ev[0].cause, FaEvent::Cause::kExpired);
  EXPECT_FALSE(fa_->ActiveVisitor(kHome).has_value());
  EXPECT_EQ(fa_->counters().visitors_expired, 1u);
}

// ---- Data plane (RFC 5944 4.2.2, RFC 3024) ----

TEST_F(ForeignAgentTest, TunnelIsDeliveredOnLinkOnlyToRegisteredVisitors) {
  Make();
  const Bytes inner = Datagram(kCn, kHome);
  const Bytes outer = Tunnelled(kHa, kCareOf, inner);
  FaResult r = fa_->OnTunnelPacket(now_, outer);
  EXPECT_EQ(r.action, FaResult::Action::kDropped);
  EXPECT_EQ(r.drop, FaDrop::kNoVisitor);
  EXPECT_TRUE(Drain().empty());  // 4.2.2: no ICMP

  Register(MnRequest());
  r = fa_->OnTunnelPacket(now_, outer);
  EXPECT_EQ(r.action, FaResult::Action::kDone);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  const IpTransmit& t = std::get<IpTransmit>(out[0]);
  EXPECT_EQ(t.ifindex, kLink);
  EXPECT_EQ(t.link_next_hop, kHome);
  EXPECT_EQ(t.packet, inner);
  EXPECT_EQ(fa_->counters().delivered, 1u);

  // From another source than the visitor's HA; not to a care-of address; to
  // another (unregistered) home address.
  EXPECT_EQ(fa_->OnTunnelPacket(now_, Tunnelled(A("10.99.0.1"), kCareOf, inner)).drop,
            FaDrop::kWrongTunnel);
  EXPECT_EQ(fa_->OnTunnelPacket(now_, Tunnelled(kHa, kFaAddress, inner)).drop,
            FaDrop::kNotCareOfAddress);
  EXPECT_EQ(fa_->OnTunnelPacket(now_, Tunnelled(kHa, kCareOf, Datagram(kCn, A("10.10.0.6"))))
                .drop,
            FaDrop::kNoVisitor);
  EXPECT_EQ(fa_->OnTunnelPacket(now_, Bytes{0x45, 0, 0}).drop, FaDrop::kPacketMalformed);
  EXPECT_TRUE(Drain().empty());

  // After expiry: dropped again.
  now_ += Duration::Seconds(601);
  fa_->OnTimeout(now_);
  Drain();
  EXPECT_EQ(fa_->OnTunnelPacket(now_, outer).drop, FaDrop::kNoVisitor);
}

TEST_F(ForeignAgentTest, ReverseTunnelDirectDelivery) {
  Make();
  const Bytes pkt = Datagram(kHome, kCn, 64);
  // Not registered yet: routed as usual.
  EXPECT_EQ(fa_->OnVisitorPacket(now_, kLink, pkt).action, FaResult::Action::kRoute);
  Register(MnRequest());
  Drain();
  FaResult r = fa_->OnVisitorPacket(now_, kLink, pkt);
  EXPECT_EQ(r.action, FaResult::Action::kDone);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  const IpTransmit& t = std::get<IpTransmit>(out[0]);
  EXPECT_FALSE(t.ifindex.has_value());  // routed towards the HA
  Result<ip::IpipDecapsulated> d = ip::IpipDecapsulate(t.packet);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->outer.src, kCareOf);  // RFC 3024 5.1.2
  EXPECT_EQ(d->outer.dst, kHa);
  EXPECT_EQ(d->inner.src, kHome);
  EXPECT_EQ(d->inner.dst, kCn);
  EXPECT_EQ(d->inner.ttl, 63);  // forwarded
  EXPECT_EQ(fa_->counters().reverse_tunnelled_ipip, 1u);
  // Multicast and traffic for the FA itself are not tunnelled; nor traffic
  // arriving on another link.
  EXPECT_EQ(fa_->OnVisitorPacket(now_, kLink, Datagram(kHome, A("224.0.0.5"))).action,
            FaResult::Action::kRoute);
  EXPECT_EQ(fa_->OnVisitorPacket(now_, kLink, Datagram(kHome, kFaAddress)).action,
            FaResult::Action::kRoute);
  EXPECT_EQ(fa_->OnVisitorPacket(now_, 8, pkt).action, FaResult::Action::kRoute);
}

TEST_F(ForeignAgentTest, NoReverseTunnelWithoutT) {
  Make();
  MnRequest m;
  m.fixed.reverse_tunnel = false;
  Register(m);
  Drain();
  EXPECT_EQ(fa_->OnVisitorPacket(now_, kLink, Datagram(kHome, kCn)).action,
            FaResult::Action::kRoute);
  EXPECT_TRUE(Drain().empty());
}

TEST_F(ForeignAgentTest, ReverseTunnelTtlExpiryAnswersTimeExceeded) {
  Make();
  Register(MnRequest());
  Drain();
  FaResult r = fa_->OnVisitorPacket(now_, kLink, Datagram(kHome, kCn, 1));
  EXPECT_EQ(r.drop, FaDrop::kTtlExpired);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  const IpTransmit& t = std::get<IpTransmit>(out[0]);
  EXPECT_EQ(t.link_next_hop, kHome);
  Result<ip::Ipv4IcmpPacket> icmp = ip::ParseIpv4Icmp(t.packet);
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->icmp.type, ip::kIcmpTimeExceeded);
  EXPECT_EQ(icmp->ip.src, kFaAddress);
}

TEST_F(ForeignAgentTest, EncapsulatingDeliveryStyle) {
  Make();
  MnRequest m;
  m.delivery_style = true;
  Register(m);
  Drain();
  const Bytes inner = Datagram(kHome, kCn, 64);
  // RFC 3024 5.2.1: plain datagrams are routed, not tunnelled.
  EXPECT_EQ(fa_->OnVisitorPacket(now_, kLink, inner).action, FaResult::Action::kRoute);
  // Encapsulated to the FA: decapsulated and re-encapsulated to the HA.
  const Bytes encapsulated = Tunnelled(kHome, kFaAddress, inner);
  EXPECT_EQ(fa_->OnVisitorPacket(now_, kLink, encapsulated).action, FaResult::Action::kDone);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  Result<ip::IpipDecapsulated> d = ip::IpipDecapsulate(std::get<IpTransmit>(out[0]).packet);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->outer.src, kCareOf);  // RFC 3024 5.2.2
  EXPECT_EQ(d->outer.dst, kHa);
  EXPECT_EQ(d->inner.dst, kCn);
  // From someone else: dropped.
  const Bytes forged = Tunnelled(A("192.0.2.77"), kFaAddress, Datagram(A("192.0.2.77"), kCn));
  EXPECT_EQ(fa_->OnVisitorPacket(now_, kLink, forged).drop, FaDrop::kNotFromVisitor);
  // Inner source not the visitor's home address: dropped.
  const Bytes spoofed = Tunnelled(kHome, kFaAddress, Datagram(A("192.0.2.77"), kCn));
  EXPECT_EQ(fa_->OnVisitorPacket(now_, kLink, spoofed).drop, FaDrop::kNotFromVisitor);
}

TEST_F(ForeignAgentTest, CoLocatedRegistrationIsRelayedButNotServed) {
  ForeignAgentOptions o = DefaultOptions();
  o.registration_required = true;
  o.behind_nat = true;
  Make(o);
  ASSERT_TRUE(fa_->AddHomeAgentSa(kHa, Sa(kFaHaSpi, 0xa5)).ok());
  ha_.fa_ha_key = 0xa5;
  MnRequest m;
  m.fixed.decapsulation_by_mn = true;
  m.fixed.care_of_address = A("192.0.2.50");  // the MN's own address
  UdpTransmit relayed = RelayOf(m);
  EXPECT_EQ(relayed.local.address, kCareOf);
  TestHomeAgent::Checked c = ha_.Check(relayed.payload);
  ASSERT_TRUE(c.ok) << c.why;
  EXPECT_FALSE(c.had_fa_ha);                // 3.5.4: not the FA's care-of address
  EXPECT_FALSE(c.had_udp_tunnel_request);   // RFC 3519 4.5
  FromHa(ha_.Reply(c.request, {.fa_ha = false}));
  ASSERT_EQ(DrainUdp().size(), 1u);
  ASSERT_TRUE(fa_->ActiveVisitor(kHome).has_value());
  EXPECT_TRUE(fa_->ActiveVisitor(kHome)->colocated);
  EXPECT_EQ(fa_->OnTunnelPacket(now_, Tunnelled(kHa, kCareOf, Datagram(kCn, kHome))).drop,
            FaDrop::kNoVisitor);
}

// ---- RFC 3519: an FA behind a NAT ----

TEST_F(ForeignAgentTest, BehindNatUsesUdpTunnelling) {
  ForeignAgentOptions o = DefaultOptions();
  o.behind_nat = true;
  Make(o);
  ASSERT_TRUE(fa_->AddHomeAgentSa(kHa, Sa(kFaHaSpi, 0xa5)).ok());
  ha_.fa_ha_key = 0xa5;
  UdpTransmit relayed = RelayOf(MnRequest());
  TestHomeAgent::Checked c = ha_.Check(relayed.payload);
  ASSERT_TRUE(c.ok) << c.why;
  EXPECT_TRUE(c.had_udp_tunnel_request);
  // RFC 3519 4.5: after MN-HA, before FA-HA; no 'F' unless configured.
  const ExtensionList& ext = c.request.extensions;
  const std::size_t utr = *ext.Find(kExtUdpTunnelRequest);
  EXPECT_GT(utr, *ext.Find(kExtMnHaAuth));
  EXPECT_LT(utr, *ext.Find(kExtFaHaAuth));
  EXPECT_FALSE(DecodeUdpTunnelRequest(ext[utr])->force);
  EXPECT_FALSE(Validate(c.request).has_value());

  // The HA (seeing the NAT) assents, keepalive 30 s.
  const Ipv4Endpoint ha_ep{kHa, kMip4Port};
  FromHa(ha_.Reply(c.request, {.udp_tunnel_reply = UdpTunnelReply{.keepalive_interval = 30}}));
  ASSERT_EQ(DrainUdp().size(), 1u);
  std::optional<ActiveRegistration> a = fa_->ActiveVisitor(kHome);
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->udp_tunnel);
  EXPECT_EQ(a->keepalive_interval, 30);

  // Forward tunnel: Tunnel Data from the HA; IP-in-IP is refused (4.7).
  const Bytes inner = Datagram(kCn, kHome);
  EXPECT_EQ(fa_->OnTunnelPacket(now_, Tunnelled(kHa, kCareOf, inner)).drop,
            FaDrop::kWrongTunnel);
  FromHa(BuildTunnelData(kEncapIpInIp, inner), ha_ep);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<IpTransmit>(out[0]).packet, inner);
  EXPECT_EQ(std::get<IpTransmit>(out[0]).link_next_hop, kHome);
  // Wrong port or Next Header: dropped (4.3, 3.3).
  FromHa(BuildTunnelData(kEncapIpInIp, inner), {kHa, 5000});
  FromHa(BuildTunnelData(kEncapGre, inner), ha_ep);
  EXPECT_TRUE(Drain().empty());
  EXPECT_EQ(fa_->counters().drop(FaDrop::kWrongTunnel), 3u);

  // Reverse tunnel: Tunnel Data to the HA from the care-of address, port 434.
  EXPECT_EQ(fa_->OnVisitorPacket(now_, kLink, Datagram(kHome, kCn, 64)).action,
            FaResult::Action::kDone);
  std::vector<UdpTransmit> udp = DrainUdp();
  ASSERT_EQ(udp.size(), 1u);
  EXPECT_EQ(udp[0].local, (Ipv4Endpoint{kCareOf, kMip4Port}));
  EXPECT_EQ(udp[0].remote, ha_ep);
  Result<TunnelData> td = ParseTunnelData(udp[0].payload);
  ASSERT_TRUE(td.ok());
  EXPECT_EQ(td->next_header, kEncapIpInIp);
  EXPECT_EQ(ip::ParseIpv4(td->payload)->header.ttl, 63);

  // Keepalive (4.9) once nothing went to the HA for 30 s.
  const Timestamp keepalive_due = now_ + Duration::Seconds(30);
  while (fa_->NextTimeout() < keepalive_due) {  // advertisements meanwhile
    now_ = fa_->NextTimeout();
    fa_->OnTimeout(now_);
    EXPECT_TRUE(DrainUdp().empty());
  }
  EXPECT_EQ(fa_->NextTimeout(), keepalive_due);
  now_ = keepalive_due;
  fa_->OnTimeout(now_);
  udp = DrainUdp();
  ASSERT_EQ(udp.size(), 1u);
  td = ParseTunnelData(udp[0].payload);
  ASSERT_TRUE(td.ok());
  Result<ip::Ipv4IcmpPacket> echo = ip::ParseIpv4Icmp(td->payload);
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->icmp.type, ip::kIcmpEchoRequest);
  EXPECT_EQ(echo->ip.src, kCareOf);
  EXPECT_EQ(echo->ip.dst, kHa);
  EXPECT_EQ(fa_->counters().keepalives_sent, 1u);
  // The HA's answer is consumed.
  const Bytes answer = *ip::BuildIcmpPacket(
      kHa, kCareOf,
      ip::BuildIcmpEchoReply(echo->icmp.echo_identifier(), echo->icmp.echo_sequence(), {}));
  FromHa(BuildTunnelData(kEncapIpInIp, answer), ha_ep);
  EXPECT_TRUE(Drain().empty());
  EXPECT_EQ(fa_->counters().keepalive_replies, 1u);
}

TEST_F(ForeignAgentTest, BehindNatDeclinedTunnelFallsBackToIpInIp) {
  ForeignAgentOptions o = DefaultOptions();
  o.behind_nat = true;
  o.force_udp_tunnelling = true;
  Make(o);
  UdpTransmit relayed = RelayOf(MnRequest());
  TestHomeAgent::Checked c = ha_.Check(relayed.payload);
  ASSERT_TRUE(c.ok);
  EXPECT_TRUE(DecodeUdpTunnelRequest(*c.request.extensions.First(kExtUdpTunnelRequest))->force);
  FromHa(ha_.Reply(c.request,
                   {.udp_tunnel_reply = UdpTunnelReply{.reply_code = kUdpTunnelDeclined}}));
  ASSERT_EQ(DrainUdp().size(), 1u);
  EXPECT_FALSE(fa_->ActiveVisitor(kHome)->udp_tunnel);
  EXPECT_EQ(fa_->OnTunnelPacket(now_, Tunnelled(kHa, kCareOf, Datagram(kCn, kHome))).action,
            FaResult::Action::kDone);
}

// ---- Reconfigure (a daemon's SIGHUP) ----

TEST_F(ForeignAgentTest, ReconfigureKeepsVisitorsAndSwitchesKeysAndLimits) {
  Make();
  ASSERT_TRUE(fa_->AddHomeAgentSa(kHa, Sa(kFaHaSpi, 0xa5)).ok());
  ha_.fa_ha_key = 0xa5;
  MnRequest m;
  m.fixed.lifetime = 300;
  Register(m);
  ASSERT_TRUE(fa_->ActiveVisitor(kHome).has_value());
  (void)Events();

  // The FA-HA key re-keyed, max_registration_lifetime and the limits changed.
  SaDatabase next;
  ASSERT_TRUE(next.AddPeerSa(kHa, Sa(kFaHaSpi, 0xb6)).ok());
  ForeignAgentOptions o = DefaultOptions();
  o.max_registration_lifetime = 120;
  o.max_visitors = 1;
  ASSERT_TRUE(fa_->Reconfigure(now_, o, next).ok());
  EXPECT_TRUE(Events().empty());
  EXPECT_TRUE(DrainUdp().empty());
  ASSERT_TRUE(fa_->ActiveVisitor(kHome).has_value()) << "the visitor stays";
  EXPECT_EQ(fa_->options().max_registration_lifetime, 120);
  EXPECT_TRUE(fa_->busy());

  // The visitor's renewal is relayed with the new FA-HA key only.
  MnRequest renew;
  renew.fixed.lifetime = 100;
  renew.fixed.identification += 1;
  UdpTransmit relayed = RelayOf(renew);
  TestHomeAgent old_ha;
  old_ha.fa_ha_key = 0xa5;
  EXPECT_FALSE(old_ha.Check(relayed.payload).ok);
  TestHomeAgent new_ha;
  new_ha.fa_ha_key = 0xb6;
  TestHomeAgent::Checked c = new_ha.Check(relayed.payload);
  EXPECT_TRUE(c.ok) << c.why;
  EXPECT_TRUE(c.had_fa_ha);
}

TEST_F(ForeignAgentTest, ReconfigureRefusesNewInterfacesAndChangesNothing) {
  Make();
  SaDatabase next;
  ForeignAgentOptions o = DefaultOptions();
  o.interfaces[0].care_of_addresses.push_back(A("198.51.100.99"));
  o.max_visitors = 7;
  Status st = fa_->Reconfigure(now_, o, next);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(st.error().detail().find("interfaces"), std::string::npos);
  o = DefaultOptions();
  o.max_visitors = 0;  // invalid
  EXPECT_FALSE(fa_->Reconfigure(now_, o, next).ok());
  EXPECT_EQ(fa_->options().max_visitors, DefaultOptions().max_visitors);
}

}  // namespace
}  // namespace mipsec::mip4

// Agent discovery on the mobile node (RFC 5944 2.4): solicitation rate
// limits and backoff, advertisement validation, lifetime-based loss
// (2.4.2.1), prefix comparison (2.4.2.2), reboot detection (2.4.4), home
// agent recognition (2.4.3), and registering through an advertised FA.
#include "mip4/mn_reg/agent_discovery.h"

#include <set>

#include <gtest/gtest.h>

#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "mip4/codec/agent_solicitation.h"
#include "mip4/codec/registration_request.h"
#include "mip4/mn_reg/mn_test_util.h"

namespace mipsec::mip4 {
namespace {

using testing::Addr;
using testing::At;
using testing::kIf;
using testing::MnFixture;

const Ipv4Address kFa = Addr("192.0.2.1");

AgentAdvertisement FaAdv(std::uint16_t seq, std::uint16_t lifetime = 30) {
  AgentAdvertisement a;
  a.code = kAdvCodeRoutesCommonTraffic;
  a.lifetime = lifetime;
  a.routers = {{kFa, 0}};
  a.mobility.sequence = seq;
  a.mobility.registration_lifetime = 600;
  a.mobility.foreign_agent = true;
  a.mobility.reverse_tunnel = true;
  a.mobility.care_of_addresses = {Addr("192.0.2.2")};
  return a;
}

Bytes AdvPacket(const AgentAdvertisement& a, Ipv4Address src = kFa) {
  return *BuildAgentAdvertisementPacket(src, Ipv4Address::AllSystems(), a);
}

class AgentDiscoveryTest : public ::testing::Test {
 protected:
  AgentDiscoveryTest() : ad_(Config(), Addr("10.1.0.1"), rng_, Logger()) {}
  static AgentDiscoveryConfig Config() {
    AgentDiscoveryConfig c;
    c.jitter = 0;
    return c;
  }
  std::vector<AgentDiscoveryEvent> Events() {
    std::vector<AgentDiscoveryEvent> v;
    while (auto e = ad_.PollEvent()) v.push_back(std::move(*e));
    return v;
  }
  DeterministicRandom rng_{3};
  AgentDiscovery ad_;
};

TEST_F(AgentDiscoveryTest, SolicitsThreeTimesAtOnePerSecondThenBacksOff) {
  std::vector<double> times;
  AgentDiscovery ad(Config(), Addr("10.1.0.1"), rng_, Logger());
  ad.StartSolicitation(At(0), kIf, Addr("192.0.2.50"), true);
  Timestamp now = At(0);
  for (int i = 0; i < 9; ++i) {
    std::optional<IpTransmit> t = ad.PollTransmit();
    ASSERT_TRUE(t);
    times.push_back(static_cast<double>(now.nanos()) / 1e9);
    EXPECT_EQ(t->ifindex, kIf);
    Result<ip::Ipv4IcmpPacket> p = ip::ParseIpv4Icmp(t->packet);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->ip.ttl, 1);                                   // RFC 5944 2.2
    EXPECT_EQ(p->ip.dst, Ipv4Address::AllMobilityAgents());  // 224.0.0.11
    EXPECT_EQ(p->ip.src, Addr("192.0.2.50"));
    EXPECT_EQ(p->icmp.type, ip::kIcmpRouterSolicitation);
    now = ad.NextTimeout();
    ad.OnTimeout(now);
  }
  // 0, 1, 2, then doubling (2, 4, 8, ...) up to the 60 s ceiling.
  EXPECT_EQ(times, (std::vector<double>{0, 1, 2, 4, 8, 16, 32, 64, 124}));
}

TEST_F(AgentDiscoveryTest, JitterStaysWithinBounds) {
  AgentDiscoveryConfig c;
  c.jitter = 0.25;
  AgentDiscovery ad(c, Addr("10.1.0.1"), rng_, Logger());
  ad.StartSolicitation(At(0), kIf, Ipv4Address::Any(), true);
  Timestamp prev = At(0);
  std::set<std::int64_t> gaps;
  for (int i = 0; i < 2; ++i) {  // the two 1 s gaps of the initial burst
    Timestamp next = ad.NextTimeout();
    const Duration gap = next - prev;
    EXPECT_GE(gap, Duration::Millis(750));
    EXPECT_LE(gap, Duration::Millis(1250));
    gaps.insert(gap.nanos());
    ad.OnTimeout(next);
    prev = next;
  }
  EXPECT_GT(gaps.size(), 1u);  // randomised (RFC 1256)
}

TEST_F(AgentDiscoveryTest, SolicitingAgainWithoutAMoveNeverRaisesTheRate) {
  ad_.StartSolicitation(At(0), kIf, Ipv4Address::Any(), true);
  for (int i = 0; i < 5; ++i) ad_.OnTimeout(ad_.NextTimeout());
  const Timestamp next = ad_.NextTimeout();
  const std::uint64_t sent = ad_.counters().solicitations;
  ad_.StartSolicitation(At(9), kIf, Ipv4Address::Any(), /*new_link=*/false);
  EXPECT_EQ(ad_.NextTimeout(), next);
  EXPECT_EQ(ad_.counters().solicitations, sent);
  // A positive indication of a move restarts at once.
  ad_.StartSolicitation(At(9), kIf, Ipv4Address::Any(), /*new_link=*/true);
  EXPECT_EQ(ad_.counters().solicitations, sent + 1);
  EXPECT_EQ(ad_.NextTimeout(), At(10));
}

TEST_F(AgentDiscoveryTest, AdvertisementIsRecordedAndStopsSolicitation) {
  ad_.StartSolicitation(At(0), kIf, Ipv4Address::Any(), true);
  ASSERT_TRUE(ad_.OnAdvertisementPacket(At(0.5), kIf, AdvPacket(FaAdv(5))).ok());
  EXPECT_FALSE(ad_.soliciting());
  std::vector<AgentDiscoveryEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  const auto& a = std::get<AgentAdvertisedEvent>(ev[0]);
  EXPECT_TRUE(a.new_agent);
  EXPECT_EQ(a.agent.address, kFa);
  EXPECT_TRUE(a.agent.is_foreign_agent());
  EXPECT_FALSE(a.agent.is_our_home_agent);
  EXPECT_EQ(a.agent.expires_at, At(30.5));
  Result<ForeignAgentTarget> t = ForeignAgentTarget::From(a.agent);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->care_of_address, Addr("192.0.2.2"));
  EXPECT_EQ(t->max_lifetime, 600);
  EXPECT_TRUE(t->reverse_tunnel_supported);
  // Heard again: not new.
  ASSERT_TRUE(ad_.OnAdvertisementPacket(At(1), kIf, AdvPacket(FaAdv(6))).ok());
  EXPECT_FALSE(std::get<AgentAdvertisedEvent>(Events()[0]).new_agent);
}

TEST_F(AgentDiscoveryTest, InvalidAdvertisementsChangeNothing) {
  // TTL other than 1 (RFC 5944 2.1).
  Bytes p = AdvPacket(FaAdv(1));
  ip::Ipv4Header h = ip::ParseIpv4(p)->header;
  h.ttl = 64;
  Bytes bad_ttl = *ip::BuildIpv4(h, ip::ParseIpv4(p)->payload);
  EXPECT_FALSE(ad_.OnAdvertisementPacket(At(0), kIf, bad_ttl).ok());
  // Neither F nor H (Validate).
  AgentAdvertisement nf = FaAdv(1);
  nf.mobility.foreign_agent = false;
  nf.mobility.care_of_addresses.clear();
  EXPECT_FALSE(ad_.OnAdvertisementPacket(At(0), kIf, AdvPacket(nf)).ok());
  // Corrupted checksum.
  Bytes corrupt = AdvPacket(FaAdv(1));
  corrupt.back() ^= 0xff;
  EXPECT_FALSE(ad_.OnAdvertisementPacket(At(0), kIf, corrupt).ok());
  EXPECT_TRUE(ad_.agents().empty());
  EXPECT_TRUE(Events().empty());
  EXPECT_EQ(ad_.counters().Dropped(AdvertisementDrop::kBadTtl), 1u);
  EXPECT_EQ(ad_.counters().Dropped(AdvertisementDrop::kInvalid), 1u);
}

TEST_F(AgentDiscoveryTest, LifetimeExpiryMeansAgentLost) {
  ad_.SetReferenceAgent(std::make_pair(kIf, kFa));
  ASSERT_TRUE(ad_.OnAdvertisementPacket(At(0), kIf, AdvPacket(FaAdv(1, 10))).ok());
  Events();
  ad_.OnTimeout(At(9.9));
  EXPECT_TRUE(Events().empty());
  ad_.OnTimeout(At(10));
  std::vector<AgentDiscoveryEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  const auto& lost = std::get<AgentLostEvent>(ev[0]);
  EXPECT_EQ(lost.address, kFa);
  EXPECT_TRUE(lost.was_reference);
  EXPECT_TRUE(ad_.agents().empty());
}

TEST_F(AgentDiscoveryTest, SequenceFallingBelow256MeansReboot) {
  ASSERT_TRUE(ad_.OnAdvertisementPacket(At(0), kIf, AdvPacket(FaAdv(1000))).ok());
  // Rollover past 0xffff to >= 256: not a reboot (2.4.4).
  ASSERT_TRUE(ad_.OnAdvertisementPacket(At(1), kIf, AdvPacket(FaAdv(300))).ok());
  Events();
  ASSERT_TRUE(ad_.OnAdvertisementPacket(At(2), kIf, AdvPacket(FaAdv(3))).ok());
  std::vector<AgentDiscoveryEvent> ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<AgentRebootedEvent>(ev[0]));
  EXPECT_EQ(ad_.counters().reboots, 1u);
}

TEST_F(AgentDiscoveryTest, OurHomeAgentIsRecognised) {
  AgentAdvertisement a;
  a.lifetime = 30;
  a.routers = {{Addr("10.1.0.1"), 0}};
  a.mobility.home_agent = true;
  ASSERT_TRUE(ad_.OnAdvertisementPacket(At(0), kIf, AdvPacket(a, Addr("10.1.0.1"))).ok());
  EXPECT_TRUE(std::get<AgentAdvertisedEvent>(Events()[0]).agent.is_our_home_agent);
  // Another HA is not ours.
  a.routers = {{Addr("10.9.0.1"), 0}};
  ASSERT_TRUE(ad_.OnAdvertisementPacket(At(0), kIf, AdvPacket(a, Addr("10.9.0.1"))).ok());
  EXPECT_FALSE(std::get<AgentAdvertisedEvent>(Events()[0]).agent.is_our_home_agent);
}

TEST_F(AgentDiscoveryTest, PrefixComparisonOnlyWhenBothCarryPrefixLengths) {
  AgentAdvertisement cur = FaAdv(1);
  cur.prefix_lengths = std::vector<std::uint8_t>{24};
  ASSERT_TRUE(ad_.OnAdvertisementPacket(At(0), kIf, AdvPacket(cur)).ok());
  ad_.SetReferenceAgent(std::make_pair(kIf, kFa));
  Events();
  AgentAdvertisement other = FaAdv(1);
  other.routers = {{Addr("198.51.100.1"), 0}};
  other.mobility.care_of_addresses = {Addr("198.51.100.1")};
  ASSERT_TRUE(
      ad_.OnAdvertisementPacket(At(1), kIf, AdvPacket(other, Addr("198.51.100.1"))).ok());
  EXPECT_FALSE(std::get<AgentAdvertisedEvent>(Events()[0]).prefix_differs.has_value());
  other.prefix_lengths = std::vector<std::uint8_t>{24};
  ASSERT_TRUE(
      ad_.OnAdvertisementPacket(At(2), kIf, AdvPacket(other, Addr("198.51.100.1"))).ok());
  EXPECT_EQ(std::get<AgentAdvertisedEvent>(Events()[0]).prefix_differs, true);
  AgentAdvertisement same = FaAdv(1);
  same.routers = {{Addr("192.0.2.3"), 0}};
  same.prefix_lengths = std::vector<std::uint8_t>{24};
  ASSERT_TRUE(ad_.OnAdvertisementPacket(At(3), kIf, AdvPacket(same, Addr("192.0.2.3"))).ok());
  EXPECT_EQ(std::get<AgentAdvertisedEvent>(Events()[0]).prefix_differs, false);
}

// Through the engine: an advertisement, registration via that FA, and the
// FA's reboot causing a new registration (RFC 5944 2.4.4).
class EngineDiscoveryTest : public MnFixture {};

TEST_F(EngineDiscoveryTest, RegisterThroughAnAdvertisedAgentAndReregisterOnReboot) {
  Make();
  mn_->StartSolicitation(At(0), kIf, Ipv4Address::Any(), true);
  std::vector<Transmit> sol = Drain();
  ASSERT_EQ(sol.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<IpTransmit>(sol[0]));
  ASSERT_TRUE(mn_->OnIpPacket(At(0.3), kIf, AdvPacket(FaAdv(10))).ok());
  std::vector<AgentAdvertisedEvent> adv = EventsOf<AgentAdvertisedEvent>();
  ASSERT_EQ(adv.size(), 1u);
  Result<ForeignAgentTarget> fa = ForeignAgentTarget::From(adv[0].agent);
  ASSERT_TRUE(fa.ok());
  ASSERT_TRUE(mn_->RegisterViaFa(At(0.4), *fa, kIf).ok());
  UdpTransmit t = OneUdp();
  std::optional<Bytes> reply = ha_->Handle(At(0.4), t.payload);
  ASSERT_TRUE(mn_->OnUdp(At(0.5), testing::ReplyFor(t, *reply)).ok());
  ASSERT_EQ(EventsOf<RegisteredEvent>().size(), 1u);
  EXPECT_FALSE(mn_->pending());
  // The FA reboots: sequence back to 0.
  ASSERT_TRUE(mn_->OnIpPacket(At(5), kIf, AdvPacket(FaAdv(0))).ok());
  EXPECT_EQ(EventsOf<AgentRebootedEvent>().size(), 1u);  // forwarded to the controller
  EXPECT_EQ(mn_->pending_kind(), AttemptKind::kReregister);
  std::vector<UdpTransmit> req = DrainUdp();
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(req[0].remote.address, kFa);
}

TEST_F(EngineDiscoveryTest, OtherIpPacketsAreNotOurs) {
  Make();
  ip::Ipv4Header h;
  h.src = Addr("192.0.2.7");
  h.dst = Addr("10.1.0.5");
  h.protocol = ip::kProtoTcp;
  const Bytes payload(20, 0);
  EXPECT_EQ(mn_->OnIpPacket(At(0), kIf, *ip::BuildIpv4(h, payload)).error().code(),
            Errc::kUnsupported);
}

}  // namespace
}  // namespace mipsec::mip4

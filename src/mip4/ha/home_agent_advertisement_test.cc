// The home agent's Agent Advertisements on the home link (RFC 5944 2.3) and
// its answers to Agent Solicitations, checked by parsing the packets with the
// codec.
#include <gtest/gtest.h>

#include <optional>
#include <variant>
#include <vector>

#include "common/ip/ipv4.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/codec/agent_solicitation.h"
#include "mip4/ha/ha_test_util.h"

namespace mipsec::mip4 {
namespace {

using namespace ha_test;

constexpr int kHomeLink = 3;

Timestamp At(double s) { return Timestamp::Zero() + Duration::Millis(static_cast<std::int64_t>(s * 1000)); }

class HaAdvertisementTest : public HaTest {
 protected:
  void SetUp() override {
    HaTest::SetUp();
    HomeAgentOptions o = BaseOptions();
    o.home_ifindex = kHomeLink;
    o.advertisement.max_interval = Duration::Seconds(2);
    o.advertisement.min_interval = Duration::Seconds(2);
    Make(o);
  }

  // Exactly one IpTransmit carrying an Agent Advertisement.
  struct Sent {
    IpTransmit t;
    ip::Ipv4Packet ip;
    AgentAdvertisement adv;
  };
  Sent OneAdvertisement() {
    std::vector<Transmit> out = Drain();
    EXPECT_EQ(out.size(), 1u);
    Sent s;
    if (out.size() != 1 || !std::holds_alternative<IpTransmit>(out[0])) {
      ADD_FAILURE() << "no advertisement";
      return s;
    }
    s.t = std::get<IpTransmit>(std::move(out[0]));
    Result<ip::Ipv4Packet> p = ip::ParseIpv4(s.t.packet);
    EXPECT_TRUE(p.ok());
    if (!p.ok()) return s;
    s.ip = *p;
    Result<ParsedAgentAdvertisement> a = ParseAgentAdvertisement(p->payload);
    EXPECT_TRUE(a.ok()) << a.error().ToString();
    if (a.ok()) {
      EXPECT_TRUE(a->IsCanonical());
      s.adv = a->advertisement;
    }
    return s;
  }
};

TEST_F(HaTest, NoHomeLinkNoAdvertisements) {
  // The default: a virtual home network (RFC 5944 2.3), no timer for it.
  EXPECT_EQ(ha_->NextTimeout(), Timestamp::Infinite());
  ha_->OnTimeout(At(5));
  EXPECT_TRUE(Drain().empty());
}

TEST_F(HaAdvertisementTest, PeriodicAdvertisementOnTheHomeLink) {
  // The first timeout starts the schedule and the first advertisement.
  ASSERT_EQ(ha_->NextTimeout(), Timestamp::Zero());
  ha_->OnTimeout(At(0));
  Sent s = OneAdvertisement();
  EXPECT_EQ(s.t.ifindex, kHomeLink);
  EXPECT_FALSE(s.t.link_next_hop.has_value());
  EXPECT_EQ(s.ip.header.src, kHa);
  EXPECT_EQ(s.ip.header.dst, Ipv4Address::AllSystems());
  EXPECT_EQ(s.ip.header.ttl, 1);  // RFC 5944 2.1 MUST
  // 2.3: H; 2.3.1: the HA's own address; 2.1.2: the home prefix length.
  EXPECT_TRUE(s.adv.mobility.home_agent);
  EXPECT_FALSE(s.adv.mobility.foreign_agent);
  EXPECT_TRUE(s.adv.mobility.care_of_addresses.empty());
  EXPECT_TRUE(s.adv.mobility.reverse_tunnel);
  ASSERT_EQ(s.adv.routers.size(), 1u);
  EXPECT_EQ(s.adv.routers[0].address, kHa);
  ASSERT_TRUE(s.adv.prefix_lengths.has_value());
  EXPECT_EQ(*s.adv.prefix_lengths, std::vector<std::uint8_t>{16});
  EXPECT_EQ(s.adv.lifetime, 6);  // 3 * max_interval
  EXPECT_EQ(s.adv.mobility.registration_lifetime, 600);
  EXPECT_EQ(s.adv.mobility.sequence, 0);

  // Fixed interval (min = max): the next one 2 s later, sequence + 1.
  EXPECT_EQ(ha_->NextTimeout(), At(2));
  ha_->OnTimeout(At(1.5));
  EXPECT_TRUE(Drain().empty());
  ha_->OnTimeout(At(2));
  EXPECT_EQ(OneAdvertisement().adv.mobility.sequence, 1);
  EXPECT_EQ(ha_->counters().advertisements, 2u);
}

TEST_F(HaAdvertisementTest, UnicastSolicitationAnsweredOnLinkAtOnce) {
  ha_->OnTimeout(At(0));
  Drain();
  Result<Bytes> sol = BuildAgentSolicitationPacket(kMn, A("224.0.0.11"));
  ASSERT_TRUE(sol.ok());
  ha_->OnIcmp(At(0.3), kHomeLink, *sol);
  Sent s = OneAdvertisement();
  EXPECT_EQ(s.ip.header.dst, kMn);  // RFC 5944 2.1: unicast to the solicitor
  EXPECT_EQ(s.t.link_next_hop, std::optional<Ipv4Address>(kMn));
  EXPECT_EQ(s.t.ifindex, kHomeLink);
  EXPECT_EQ(s.adv.mobility.sequence, 1);
  EXPECT_EQ(ha_->counters().solicitations, 1u);
}

TEST_F(HaAdvertisementTest, UnspecifiedSourceGetsOneDelayedMulticast) {
  ha_->OnTimeout(At(0));
  Drain();
  Result<Bytes> sol = BuildAgentSolicitationPacket(Ipv4Address::Any(), A("224.0.0.11"));
  ASSERT_TRUE(sol.ok());
  // RFC 1256 4.1 / RFC 5944 2.3: answered by multicast, not sooner than the
  // minimum gap after the last one, within MAX_RESPONSE_DELAY.
  ha_->OnIcmp(At(1.2), kHomeLink, *sol);
  ha_->OnIcmp(At(1.3), kHomeLink, *sol);
  EXPECT_TRUE(Drain().empty());
  const Timestamp due = ha_->NextTimeout();
  EXPECT_GE(due, At(1.2));
  EXPECT_LE(due, At(2));
  ha_->OnTimeout(due);
  Sent s = OneAdvertisement();
  EXPECT_EQ(s.ip.header.dst, Ipv4Address::AllSystems());
}

TEST_F(HaAdvertisementTest, SolicitationElsewhereOrMalformedIsDroppedAndCounted) {
  ha_->OnTimeout(At(0));
  Drain();
  Result<Bytes> sol = BuildAgentSolicitationPacket(kMn, A("224.0.0.11"));
  ASSERT_TRUE(sol.ok());
  ha_->OnIcmp(At(1), kHomeLink + 1, *sol);  // not the home link
  EXPECT_EQ(ha_->counters().drop(HaDrop::kBadSolicitation), 1u);
  Bytes bad = *sol;
  bad.back() ^= 0x01;  // ICMP checksum no longer matches
  ha_->OnIcmp(At(1), kHomeLink, bad);
  EXPECT_EQ(ha_->counters().drop(HaDrop::kPacketMalformed), 1u);
  ha_->OnIcmp(At(1), kHomeLink, Bytes{0x45, 0x00});
  EXPECT_EQ(ha_->counters().drop(HaDrop::kPacketMalformed), 2u);
  EXPECT_EQ(ha_->counters().drop(HaDrop::kBadSolicitation), 1u);
  EXPECT_TRUE(Drain().empty());
  EXPECT_EQ(ha_->counters().solicitations, 0u);
}

TEST_F(HaTest, AdvertisementOptionsValidated) {
  HomeAgentOptions o = BaseOptions();
  o.home_ifindex = 2;
  o.advertisement.max_interval = Duration::Millis(50);
  Result<std::unique_ptr<HomeAgent>> r = HomeAgent::Create(o, db_, rng_, Logger());
  ASSERT_FALSE(r.ok());
  o.advertisement.max_interval = Duration::Seconds(10);
  o.advertisement_lifetime = 5;  // below one interval
  r = HomeAgent::Create(o, db_, rng_, Logger());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().ToString().find("advertisement_lifetime"), std::string::npos);
}

}  // namespace
}  // namespace mipsec::mip4

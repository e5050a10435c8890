#include "sim/node.h"

#include <deque>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "sim/segment.h"

namespace mipsec::sim {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }
Timestamp Ms(int ms) { return Timestamp::Zero() + Duration::Millis(ms); }

// host a (10.0.1.2) -- seg1 -- router r -- seg2 -- host b (10.0.2.2)
class NodeTest : public ::testing::Test {
 protected:
  NodeTest()
      : sim_(1),
        sink_(sim_),
        seg1_(sim_, "seg1", LinkParams{}, Logger(&sink_, "seg1", LogLevel::kDebug)),
        seg2_(sim_, "seg2", LinkParams{}, Logger(&sink_, "seg2", LogLevel::kDebug)),
        a_(sim_, "a", false, Logger(&sink_, "a", LogLevel::kDebug)),
        r_(sim_, "r", true, Logger(&sink_, "r", LogLevel::kDebug)),
        b_(sim_, "b", false, Logger(&sink_, "b", LogLevel::kDebug)) {
    Interface& a0 = a_.AddInterface("eth0");
    Interface& r1 = r_.AddInterface("eth1");
    Interface& r2 = r_.AddInterface("eth2");
    Interface& b0 = b_.AddInterface("eth0");
    a_.Attach(a0, seg1_);
    r_.Attach(r1, seg1_);
    r_.Attach(r2, seg2_);
    b_.Attach(b0, seg2_);
    EXPECT_TRUE(a_.AddAddress(1, A("10.0.1.2"), 24).ok());
    EXPECT_TRUE(r_.AddAddress(1, A("10.0.1.1"), 24).ok());
    EXPECT_TRUE(r_.AddAddress(2, A("10.0.2.1"), 24).ok());
    EXPECT_TRUE(b_.AddAddress(1, A("10.0.2.2"), 24).ok());
    EXPECT_TRUE(a_.AddRoute(Ipv4Prefix(), A("10.0.1.1")).ok());
    EXPECT_TRUE(b_.AddRoute(Ipv4Prefix(), A("10.0.2.1")).ok());
  }

  // Collects ICMP messages a node receives.
  std::vector<ip::IcmpMessage>& WatchIcmp(Node& n) {
    auto store = std::make_shared<std::vector<Bytes>>();
    icmp_raw_.push_back(store);
    icmp_seen_.emplace_back();
    auto* seen = &icmp_seen_.back();
    n.BindProtocol(ip::kProtoIcmp, [store, seen](Timestamp, const RawDelivery& d) {
      store->emplace_back(d.datagram.begin(), d.datagram.end());
      auto pkt = ip::ParseIpv4(store->back());
      ASSERT_TRUE(pkt.ok());
      auto msg = ip::ParseIcmp(pkt->payload);
      ASSERT_TRUE(msg.ok());
      seen->push_back(*msg);
    });
    return *seen;
  }

  Simulator sim_;
  SimLogSink sink_;
  Segment seg1_, seg2_;
  Node a_, r_, b_;
  std::vector<std::shared_ptr<std::vector<Bytes>>> icmp_raw_;
  std::deque<std::vector<ip::IcmpMessage>> icmp_seen_;
};

TEST_F(NodeTest, UdpAcrossARouterWithAddressesAndTtl) {
  std::vector<UdpDelivery> got;
  Bytes payload_copy;
  ASSERT_TRUE(b_.BindUdp({Ipv4Address::Any(), 434}, [&](Timestamp, const UdpDelivery& d) {
    got.push_back(d);
    payload_copy.assign(d.payload.begin(), d.payload.end());
  }).ok());
  ASSERT_TRUE(a_.SendUdp({A("10.0.2.2"), 434}, 5000, AsBytes("hello")).ok());
  sim_.RunUntil(Ms(10));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].remote, (Ipv4Endpoint{A("10.0.1.2"), 5000}));
  EXPECT_EQ(got[0].local, (Ipv4Endpoint{A("10.0.2.2"), 434}));
  EXPECT_EQ(got[0].ttl, ip::kDefaultTtl - 1);  // one router
  EXPECT_EQ(payload_copy, Bytes(AsBytes("hello").begin(), AsBytes("hello").end()));
  EXPECT_EQ(r_.counters().forwarded, 1u);
  // Two 1 ms hops.
  EXPECT_EQ(seg1_.counters().delivered, 1u);
  EXPECT_EQ(seg2_.counters().delivered, 1u);
}

// SendRawOnLink: the datagram goes to the given on-link next hop, not to
// where routing would send its destination (a foreign agent delivering to a
// visitor whose home address is not on this link's subnet).
TEST_F(NodeTest, SendRawOnLinkUsesTheGivenNextHopWithoutRouting) {
  // b owns 10.9.9.9 as an extra /32: r has no route to it.
  ASSERT_TRUE(b_.AddAddress(1, A("10.9.9.9"), 32).ok());
  std::vector<UdpDelivery> got;
  ASSERT_TRUE(b_.BindUdp({Ipv4Address::Any(), 7}, [&](Timestamp, const UdpDelivery& d) {
    got.push_back(d);
  }).ok());
  ip::Ipv4Header h;
  h.src = A("10.0.2.1");
  h.dst = A("10.9.9.9");
  Result<Bytes> pkt = ip::BuildIpv4Udp(h, 7, 7, AsBytes("x"));
  ASSERT_TRUE(pkt.ok());
  ASSERT_FALSE(r_.SendRaw(*pkt).ok());  // no route
  ASSERT_TRUE(r_.SendRawOnLink(*pkt, 2, A("10.9.9.9")).ok());
  EXPECT_FALSE(r_.SendRawOnLink(*pkt, 9, A("10.9.9.9")).ok());
  sim_.RunUntil(Ms(10));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].local, (Ipv4Endpoint{A("10.9.9.9"), 7}));
}

// InjectLocal: a datagram handed to the node's own delivery reaches its
// sockets without touching any segment.
TEST_F(NodeTest, InjectLocalDeliversToSocketsWithoutTheWire) {
  std::vector<UdpDelivery> got;
  ASSERT_TRUE(b_.BindUdp({Ipv4Address::Any(), 9}, [&](Timestamp, const UdpDelivery& d) {
    got.push_back(d);
  }).ok());
  ip::Ipv4Header h;
  h.src = A("192.0.2.7");
  h.dst = A("10.0.2.2");
  Result<Bytes> pkt = ip::BuildIpv4Udp(h, 1234, 9, AsBytes("inner"));
  ASSERT_TRUE(pkt.ok());
  ASSERT_TRUE(b_.InjectLocal(*pkt, 1).ok());
  EXPECT_FALSE(b_.InjectLocal(*pkt, 5).ok());
  EXPECT_FALSE(b_.InjectLocal(Bytes{1, 2, 3}, 1).ok());
  sim_.RunUntil(Ms(1));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].remote, (Ipv4Endpoint{A("192.0.2.7"), 1234}));
  EXPECT_EQ(seg2_.counters().tx_packets, 0u);
  b_.SetRunning(false);
  EXPECT_FALSE(b_.InjectLocal(*pkt, 1).ok());
}

// InjectReceive: a datagram written into a router's (unattached) tunnel
// interface is forwarded like one received there: TTL decremented, routed
// out of the right link.
TEST_F(NodeTest, InjectReceiveForwardsLikeAReceivedPacket) {
  Interface& tun = r_.AddInterface("tun0");
  std::vector<UdpDelivery> got;
  ASSERT_TRUE(b_.BindUdp({Ipv4Address::Any(), 9}, [&](Timestamp, const UdpDelivery& d) {
    got.push_back(d);
  }).ok());
  ip::Ipv4Header h;
  h.src = A("10.2.0.7");
  h.dst = A("10.0.2.2");
  h.ttl = 20;
  Result<Bytes> pkt = ip::BuildIpv4Udp(h, 1234, 9, AsBytes("inner"));
  ASSERT_TRUE(pkt.ok());
  ASSERT_TRUE(r_.InjectReceive(*pkt, tun.ifindex()).ok());
  EXPECT_FALSE(r_.InjectReceive(*pkt, 9).ok());
  EXPECT_FALSE(r_.InjectReceive(Bytes{1, 2, 3}, tun.ifindex()).ok());
  sim_.RunUntil(Ms(10));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].remote, (Ipv4Endpoint{A("10.2.0.7"), 1234}));
  EXPECT_EQ(got[0].ttl, 19);
  EXPECT_EQ(r_.counters().forwarded, 1u);
  EXPECT_EQ(seg1_.counters().tx_packets, 0u);
  r_.SetRunning(false);
  EXPECT_FALSE(r_.InjectReceive(*pkt, tun.ifindex()).ok());
}

// SourceAddressFor: the address of the interface routing picks, none
// without a route, a carrier or an address.
TEST_F(NodeTest, SourceAddressForFollowsRoutingAndCarrier) {
  EXPECT_EQ(a_.SourceAddressFor(A("10.0.2.2")), A("10.0.1.2"));
  EXPECT_EQ(r_.SourceAddressFor(A("10.0.2.2")), A("10.0.2.1"));
  EXPECT_EQ(r_.SourceAddressFor(A("192.0.2.1")), std::nullopt);  // no route
  ASSERT_TRUE(a_.AddAddress(1, A("10.0.1.3"), 24).ok());
  EXPECT_EQ(a_.SourceAddressFor(A("10.0.2.2")), A("10.0.1.2"));  // primary first
  ASSERT_TRUE(a_.RemoveAddress(1, A("10.0.1.2")).ok());
  EXPECT_EQ(a_.SourceAddressFor(A("10.0.2.2")), A("10.0.1.3"));
  a_.Detach(*a_.InterfaceByIndex(1));
  EXPECT_EQ(a_.SourceAddressFor(A("10.0.2.2")), std::nullopt);  // no carrier
  a_.Attach(*a_.InterfaceByIndex(1), seg1_);
  a_.FlushAddresses(1);
  EXPECT_EQ(a_.SourceAddressFor(A("10.0.1.1")), std::nullopt);  // no address, no route
}

TEST_F(NodeTest, TtlExpiryGivesTimeExceededFromTheRouter) {
  auto& icmp = WatchIcmp(a_);
  UdpSendOptions o;
  o.ttl = 1;
  ASSERT_TRUE(a_.SendUdp({A("10.0.2.2"), 9}, 5000, AsBytes("x"), o).ok());
  sim_.RunUntil(Ms(10));
  ASSERT_EQ(icmp.size(), 1u);
  EXPECT_EQ(icmp[0].type, ip::kIcmpTimeExceeded);
  EXPECT_EQ(icmp[0].code, ip::kIcmpTtlExceeded);
  EXPECT_EQ(r_.counters().dropped_ttl, 1u);
  EXPECT_EQ(seg2_.counters().tx_packets, 0u);
}

TEST_F(NodeTest, NoRouteGivesNetUnreachable) {
  auto& icmp = WatchIcmp(b_);
  r_.routes().RemoveInterface(1);  // router forgets 10.0.1.0/24
  ASSERT_TRUE(b_.SendUdp({A("10.0.1.2"), 9}, 5000, AsBytes("x")).ok());
  sim_.RunUntil(Ms(10));
  ASSERT_EQ(icmp.size(), 1u);
  EXPECT_EQ(icmp[0].type, ip::kIcmpDestinationUnreachable);
  EXPECT_EQ(icmp[0].code, ip::kIcmpNetUnreachable);
}

TEST_F(NodeTest, ClosedPortGivesPortUnreachable) {
  auto& icmp = WatchIcmp(a_);
  ASSERT_TRUE(a_.SendUdp({A("10.0.2.2"), 7777}, 5000, AsBytes("x")).ok());
  sim_.RunUntil(Ms(10));
  ASSERT_EQ(icmp.size(), 1u);
  EXPECT_EQ(icmp[0].code, ip::kIcmpPortUnreachable);
  EXPECT_EQ(b_.counters().dropped_no_socket, 1u);
}

TEST_F(NodeTest, DontFragmentTooBigGivesFragNeededWithNextHopMtu) {
  auto& icmp = WatchIcmp(a_);
  r_.InterfaceByIndex(2)->set_mtu(1000);
  UdpSendOptions o;
  o.dont_fragment = true;
  ASSERT_TRUE(a_.SendUdp({A("10.0.2.2"), 9}, 5000, Bytes(1200, 0xab), o).ok());
  sim_.RunUntil(Ms(10));
  ASSERT_EQ(icmp.size(), 1u);
  EXPECT_EQ(icmp[0].type, ip::kIcmpDestinationUnreachable);
  EXPECT_EQ(icmp[0].code, ip::kIcmpFragmentationNeeded);
  EXPECT_EQ(icmp[0].next_hop_mtu(), 1000);
  // The sender's own MTU is checked at send time.
  a_.InterfaceByIndex(1)->set_mtu(576);
  Status s = a_.SendUdp({A("10.0.2.2"), 9}, 5000, Bytes(1200, 0), o);
  EXPECT_EQ(s.error().code(), Errc::kResource);
}

TEST_F(NodeTest, FragmentedOnTheWayAndReassembledAtTheDestination) {
  r_.InterfaceByIndex(2)->set_mtu(576);
  Bytes big(3000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7);
  Bytes got;
  ASSERT_TRUE(b_.BindUdp({Ipv4Address::Any(), 4500}, [&](Timestamp, const UdpDelivery& d) {
    got.assign(d.payload.begin(), d.payload.end());
  }).ok());
  ASSERT_TRUE(a_.SendUdp({A("10.0.2.2"), 4500}, 4500, big).ok());
  sim_.RunUntil(Ms(10));
  EXPECT_EQ(got, big);
  EXPECT_GE(r_.counters().fragments_created, 6u);
  EXPECT_EQ(b_.counters().reassembled, 1u);
}

// Drops every fragment but the first, after routing.
class DropLaterFragments : public PacketFilter {
 public:
  Verdict Filter(Hook hook, Interface*, Interface*, Bytes& packet) override {
    if (hook != Hook::kPostrouting) return Verdict::kAccept;
    auto p = ip::ParseIpv4(packet);
    return p.ok() && p->header.fragment_offset != 0 ? Verdict::kDrop : Verdict::kAccept;
  }
};

TEST_F(NodeTest, IncompleteReassemblyTimesOutWithTimeExceeded) {
  auto& icmp = WatchIcmp(a_);
  r_.InterfaceByIndex(2)->set_mtu(576);
  DropLaterFragments drop;
  r_.AddFilter(&drop);
  ASSERT_TRUE(b_.BindUdp({Ipv4Address::Any(), 4500}, [&](Timestamp, const UdpDelivery&) {
    ADD_FAILURE() << "an incomplete datagram must not be delivered";
  }).ok());
  ASSERT_TRUE(a_.SendUdp({A("10.0.2.2"), 4500}, 4500, Bytes(2000, 1)).ok());
  sim_.RunUntil(Ms(29'000));
  EXPECT_EQ(b_.counters().reassembly_timeouts, 0u);
  sim_.RunUntil(Ms(31'000));
  EXPECT_EQ(b_.counters().reassembly_timeouts, 1u);
  EXPECT_EQ(r_.counters().dropped_filter, 1u);  // a fragmented once (MTU 1500): the tail
  // RFC 792: the first fragment came, so the source hears "time exceeded,
  // fragment reassembly".
  ASSERT_EQ(icmp.size(), 1u);
  EXPECT_EQ(icmp[0].type, ip::kIcmpTimeExceeded);
  EXPECT_EQ(icmp[0].code, ip::kIcmpReassemblyTimeExceeded);
}

TEST_F(NodeTest, EchoRequestsAreAnswered) {
  auto& icmp = WatchIcmp(a_);
  Result<Bytes> ping = ip::BuildIcmpPacket(A("10.0.1.2"), A("10.0.2.2"),
                                           ip::BuildIcmpEchoRequest(0x1234, 1, AsBytes("abc")));
  ASSERT_TRUE(ping.ok());
  ASSERT_TRUE(a_.SendRaw(*ping).ok());
  sim_.RunUntil(Ms(10));
  ASSERT_EQ(icmp.size(), 1u);
  EXPECT_EQ(icmp[0].type, ip::kIcmpEchoReply);
  EXPECT_EQ(icmp[0].echo_identifier(), 0x1234);
}

TEST_F(NodeTest, MovingAnInterfaceSignalsLinkEventsAndLosesPacketsInFlight) {
  std::vector<LinkEvent> events;
  b_.AddLinkObserver([&](Timestamp, const LinkEvent& e) { events.push_back(e); });
  int delivered = 0;
  ASSERT_TRUE(b_.BindUdp({Ipv4Address::Any(), 9}, [&](Timestamp, const UdpDelivery&) {
    ++delivered;
  }).ok());
  ASSERT_TRUE(a_.SendUdp({A("10.0.2.2"), 9}, 5000, AsBytes("x")).ok());
  sim_.RunUntil(Ms(1) + Duration::Micros(500));  // in flight on seg2
  Interface& b0 = *b_.InterfaceByIndex(1);
  b_.Attach(b0, seg1_);  // moves away
  sim_.RunUntil(Ms(10));
  EXPECT_EQ(delivered, 0);
  EXPECT_EQ(seg2_.counters().dropped_detached, 1u);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, LinkEvent::Kind::kLinkDown);
  EXPECT_EQ(events[1].kind, LinkEvent::Kind::kLinkUp);
  // A segment going down is seen as link-down too.
  seg1_.SetUp(false);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].kind, LinkEvent::Kind::kLinkDown);
}

TEST_F(NodeTest, BroadcastReachesEveryoneOnTheSegmentOnly) {
  int a_got = 0, b_got = 0;
  ASSERT_TRUE(a_.BindUdp({Ipv4Address::Any(), 67}, [&](Timestamp, const UdpDelivery&) {
    ++a_got;
  }).ok());
  ASSERT_TRUE(b_.BindUdp({Ipv4Address::Any(), 67}, [&](Timestamp, const UdpDelivery&) {
    ++b_got;
  }).ok());
  int r_got = 0;
  ASSERT_TRUE(r_.BindUdp({Ipv4Address::Any(), 67}, [&](Timestamp, const UdpDelivery& d) {
    ++r_got;
    EXPECT_EQ(d.ifindex, 1);
  }).ok());
  // A second host on seg1 hears it too: a broadcast is never sent to the
  // default gateway only, whatever the routing table says.
  Node c(sim_, "c", false, Logger());
  c.Attach(c.AddInterface("eth0"), seg1_);
  int c_got = 0;
  ASSERT_TRUE(c.BindUdp({Ipv4Address::Any(), 67}, [&](Timestamp, const UdpDelivery&) {
    ++c_got;
  }).ok());
  UdpSendOptions o;
  o.ifindex = 1;
  o.source = Ipv4Address::Any();  // a DHCP client before it has an address
  ASSERT_TRUE(a_.SendUdp({Ipv4Address::Broadcast(), 67}, 68, AsBytes("discover"), o).ok());
  sim_.RunUntil(Ms(10));
  EXPECT_EQ(r_got, 1);
  EXPECT_EQ(c_got, 1);
  EXPECT_EQ(a_got, 0);
  EXPECT_EQ(b_got, 0);  // routers do not forward broadcasts
}

TEST_F(NodeTest, AddressErrorsChangeNothing) {
  EXPECT_EQ(a_.AddAddress(1, A("10.0.1.2"), 24).error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(a_.AddAddress(9, A("10.0.9.2"), 24).error().code(), Errc::kNotFound);
  EXPECT_EQ(a_.AddAddress(1, A("224.0.0.1"), 24).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(a_.RemoveAddress(1, A("10.9.9.9")).error().code(), Errc::kNotFound);
  EXPECT_EQ(a_.InterfaceByIndex(1)->addresses().size(), 1u);
  EXPECT_EQ(a_.AddRoute(Ipv4Prefix(), A("192.0.2.1")).error().code(), Errc::kNotFound);
  ASSERT_TRUE(a_.RemoveAddress(1, A("10.0.1.2")).ok());
  EXPECT_FALSE(a_.routes().Lookup(A("10.0.1.1")).has_value() &&
               !a_.routes().Lookup(A("10.0.1.1"))->gateway);
}

TEST_F(NodeTest, StoppedNodeDropsEverything) {
  int got = 0;
  ASSERT_TRUE(b_.BindUdp({Ipv4Address::Any(), 9}, [&](Timestamp, const UdpDelivery&) { ++got; }).ok());
  b_.SetRunning(false);
  ASSERT_TRUE(a_.SendUdp({A("10.0.2.2"), 9}, 5000, AsBytes("x")).ok());
  sim_.RunUntil(Ms(10));
  EXPECT_EQ(got, 0);
  EXPECT_EQ(b_.SendUdp({A("10.0.1.2"), 9}, 5000, AsBytes("x")).error().code(), Errc::kState);
  b_.SetRunning(true);
  ASSERT_TRUE(a_.SendUdp({A("10.0.2.2"), 9}, 5000, AsBytes("x")).ok());
  sim_.RunUntil(Ms(20));
  EXPECT_EQ(got, 1);
}

}  // namespace
}  // namespace mipsec::sim

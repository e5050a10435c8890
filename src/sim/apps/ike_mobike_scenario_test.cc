// MOBIKE (RFC 4555) choreography in the simulator, with ESP traffic through
// the tunnel (issue 6, item 3): the unchanged IKE SA layer and ESP data
// plane driven by IkeApp on a client that moves and a VPN gateway.
//
//   a 10.10.0.0/24 --+                                    internal 10.1.0.0/24
//   b 10.20.0.0/24 --+- r .1 -- backbone 198.51.100.0/24 -- gw .10 [eth1] .1 -- cn .10
//   c 192.168.1.0/24 -- nat (NAPT, outside .4) -----+          (TIA pool 10.2.0.0/24)
//   d 10.40.0.0/24 -- rd .1 (no way out: the gateway is unreachable)
//
// The client ("mn") has one interface that moves between a, b, c and d. Two
// UDP streams run through the tunnel: cn -> the TIA (echoed back) and the
// TIA -> cn, one packet every 5 ms each way.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/ip/ipv4.h"
#include "ikev2/sa/tia_pool.h"
#include "ikev2/sa/traffic_selectors.h"
#include "sim/apps/ike_app.h"
#include "sim/apps/udp_stream.h"
#include "sim/nat.h"
#include "sim/network.h"

namespace mipsec::sim {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }
Ipv4Prefix P(const char* s) { return *Ipv4Prefix::Parse(s); }
Timestamp T(double s) {
  return Timestamp::Zero() + Duration::Nanos(static_cast<std::int64_t>(s * 1e9));
}

constexpr Duration kAccessDelay = Duration::Millis(5);
constexpr Duration kBackboneDelay = Duration::Millis(10);
constexpr Duration kInternalDelay = Duration::Millis(1);
// Client <-> gateway round trip (IKE and ESP).
constexpr Duration kRtt = (kAccessDelay + kBackboneDelay) * 2;
constexpr Duration kStreamInterval = Duration::Millis(5);
constexpr std::uint16_t kDownPort = 7000;  // cn -> TIA, echoed
constexpr std::uint16_t kUpPort = 7001;    // TIA -> cn, echoed
const Ipv4Address kGw = Ipv4Address::FromOctets(198, 51, 100, 10);
const Ipv4Address kNatOutside = Ipv4Address::FromOctets(198, 51, 100, 4);

struct Access {
  const char* segment;
  Ipv4Address address;  // the client's
  Ipv4Address router;
};
const Access kA{"a", Ipv4Address::FromOctets(10, 10, 0, 100), Ipv4Address::FromOctets(10, 10, 0, 1)};
const Access kB{"b", Ipv4Address::FromOctets(10, 20, 0, 100), Ipv4Address::FromOctets(10, 20, 0, 1)};
const Access kC{"c", Ipv4Address::FromOctets(192, 168, 1, 100),
                Ipv4Address::FromOctets(192, 168, 1, 1)};
const Access kD{"d", Ipv4Address::FromOctets(10, 40, 0, 100), Ipv4Address::FromOctets(10, 40, 0, 1)};

ikev2::PeerConfig Common(const char* id, const char* peer_id) {
  ikev2::PeerConfig c;
  c.local_id = ikev2::IdPayload::Fqdn(id);
  if (peer_id) c.remote_id = ikev2::IdPayload::Fqdn(peer_id);
  c.local_auth.kind = ikev2::AuthKind::kPsk;
  c.local_auth.psk = SecretBytes(AsBytes("mobike in the simulator"));
  c.remote_auth.kind = ikev2::AuthKind::kPsk;
  c.remote_auth.psk = c.local_auth.psk;
  c.ike_proposals = ikev2::DefaultIkeProposals();
  c.esp_proposals = ikev2::DefaultEspProposals();
  return c;
}

// Drops the first `count` IKE messages (UDP to 500, or to 4500 with the
// non-ESP marker) forwarded from `from`: a lossy new link.
class DropIke final : public PacketFilter {
 public:
  DropIke(Ipv4Prefix from, int count) : from_(from), left_(count) {}
  Verdict Filter(Hook hook, Interface*, Interface*, Bytes& packet) override {
    if (hook != Hook::kForward || left_ == 0) return Verdict::kAccept;
    Result<ip::Ipv4Packet> p = ip::ParseIpv4(packet);
    if (!p.ok() || p->header.protocol != ip::kProtoUdp || !from_.Contains(p->header.src) ||
        p->payload.size() < 12) {
      return Verdict::kAccept;
    }
    const std::uint16_t dport = static_cast<std::uint16_t>((p->payload[2] << 8) | p->payload[3]);
    const bool marker = p->payload[8] == 0 && p->payload[9] == 0 && p->payload[10] == 0 &&
                        p->payload[11] == 0;
    if (dport != 500 && !(dport == 4500 && marker)) return Verdict::kAccept;
    --left_;
    ++dropped;
    return Verdict::kDrop;
  }
  int dropped = 0;

 private:
  Ipv4Prefix from_;
  int left_;
};

struct WorldOptions {
  std::uint64_t seed = 11;
  bool return_routability_check = true;  // RFC 4555 3.7 (SHOULD)
  // The client UDP-encapsulates ESP even without a NAT (as the Linux
  // runtime's client does); false: only when a NAT is detected.
  bool force_encapsulation = true;
  // The client's IkeApp follows link events itself (false: the test calls
  // UpdateAddresses, as the RFC 5266 controller will).
  bool follow_links = true;
};

class World {
 public:
  explicit World(const WorldOptions& o = {}) : net_(o.seed) {
    LinkParams access;
    access.delay = kAccessDelay;
    LinkParams backbone;
    backbone.delay = kBackboneDelay;
    LinkParams internal;
    internal.delay = kInternalDelay;
    for (const char* s : {"a", "b", "c", "d"}) EXPECT_TRUE(net_.AddSegment(s, access).ok());
    EXPECT_TRUE(net_.AddSegment("backbone", backbone).ok());
    EXPECT_TRUE(net_.AddSegment("internal", internal).ok());
    for (const char* n : {"r", "nat", "rd", "gw"}) EXPECT_TRUE(net_.AddNode(n, true).ok());
    for (const char* n : {"cn", "mn"}) EXPECT_TRUE(net_.AddNode(n, false).ok());
    Connect("r", "eth0", "backbone", "198.51.100.1");
    Connect("r", "eth1", "a", "10.10.0.1");
    Connect("r", "eth2", "b", "10.20.0.1");
    Connect("nat", "eth0", "backbone", "198.51.100.4");
    Connect("nat", "eth1", "c", "192.168.1.1");
    Connect("rd", "eth0", "d", "10.40.0.1");
    Connect("gw", "eth0", "backbone", "198.51.100.10");
    Connect("gw", "eth1", "internal", "10.1.0.1");
    Connect("cn", "eth0", "internal", "10.1.0.10");
    Connect("mn", "eth0", "a", "10.10.0.100");
    EXPECT_TRUE(node("nat").AddRoute(Ipv4Prefix(), A("198.51.100.1")).ok());
    EXPECT_TRUE(node("gw").AddRoute(Ipv4Prefix(), A("198.51.100.1")).ok());
    EXPECT_TRUE(node("cn").AddRoute(Ipv4Prefix(), A("10.1.0.1")).ok());
    EXPECT_TRUE(node("mn").AddRoute(Ipv4Prefix(), kA.router).ok());
    NaptConfig nc;
    nc.name = "nat";
    nc.outside_ifindex = 1;
    napt_ = std::move(Napt::Create(node("nat"), nc)).value();

    pool_ = std::make_unique<ikev2::TiaPool>(
        std::move(ikev2::TiaPool::FromPrefix(P("10.2.0.0/24"))).value());
    IkeAppConfig g;
    g.role = IkeAppRole::kGateway;
    g.peer = Common("gw.example.org", nullptr);
    g.peer.local_ts = {ikev2::TrafficSelector::Ipv4Prefix(P("10.1.0.0/24"))};
    g.peer.remote_ts = {ikev2::AnyIpv4Selector()};
    g.peer.address_provider = pool_.get();
    g.peer.mobike.return_routability_check = o.return_routability_check;
    g.ike_ifindexes = {1};
    g.tunnel_prefixes = {P("10.2.0.0/24")};
    g.log_name = "ike-gw";
    gw_ = std::move(IkeApp::Create(node("gw"), std::move(g))).value();

    IkeAppConfig c;
    c.role = IkeAppRole::kClient;
    c.peer = Common("mn.example.org", "gw.example.org");
    c.peer.local_ts = {ikev2::AnyIpv4Selector()};
    c.peer.remote_ts = {ikev2::TrafficSelector::Ipv4Prefix(P("10.1.0.0/24"))};
    c.peer.request_virtual_ip = true;
    c.peer.force_encapsulation = o.force_encapsulation;
    c.gateway = kGw;
    c.ike_ifindexes = {1};
    c.tunnel_prefixes = {P("10.1.0.0/24")};
    c.log_name = "ike-mn";
    c.follow_links = o.follow_links;
    mn_ = std::move(IkeApp::Create(node("mn"), std::move(c))).value();
  }

  // Connects and starts both streams once the tunnel is up (by 2 s).
  void Start() {
    ASSERT_TRUE(mn_->Connect().ok());
    sim().RunUntil(T(1));
    ikev2::IkeSa* sa = mn_->client_sa();
    ASSERT_NE(sa, nullptr);
    ASSERT_EQ(sa->state(), ikev2::IkeSaState::kEstablished);
    ASSERT_TRUE(sa->mobike());
    ASSERT_TRUE(sa->virtual_ip().has_value());
    tia_ = *sa->virtual_ip();
    sa_id_ = *mn_->client_sa_id();
    echo_down_ = std::move(StreamEchoer::Create(node("mn"), kDownPort)).value();
    echo_up_ = std::move(StreamEchoer::Create(node("cn"), kUpPort)).value();
    StreamConfig down;
    down.target = {tia_, kDownPort};
    down.interval = kStreamInterval;
    down.start = T(1);
    send_down_ = std::move(StreamSender::Create(node("cn"), down)).value();
    StreamConfig up;
    up.target = {A("10.1.0.10"), kUpPort};
    up.local_port = 9001;
    up.interval = kStreamInterval;
    up.start = T(1);
    send_up_ = std::move(StreamSender::Create(node("mn"), up)).value();
    sim().RunUntil(T(2));
  }

  // Moves the client's interface to `to` at once: link down, its address
  // gone, link up on the new network, the default route, then the new
  // address (a DHCP client that sets the route first; the address event
  // then sees the final routing). Every step is a link event at this instant.
  void Move(const Access& to) {
    Node& mn = node("mn");
    Interface& eth0 = *mn.InterfaceByIndex(1);
    mn.Detach(eth0);
    mn.FlushAddresses(1);
    mn.routes().RemoveIf([](const Route& r) { return r.ifindex == 1; });
    mn.Attach(eth0, *net_.FindSegment(to.segment));
    mn.routes().Add(Route{Ipv4Prefix(), 1, to.router, 0});
    EXPECT_TRUE(mn.AddAddress(1, to.address, 24).ok());
  }
  void MoveAt(Timestamp at, const Access& to) {
    sim().ScheduleFn(at, [this, &to] { Move(to); });
  }

  // Downlink (cn -> client) and uplink (client -> cn) stream packets sent in
  // [from, to), scored now.
  StreamStats Down(Timestamp from, Timestamp to) {
    return echo_down_->forward().Window(send_down_->send_times(), from, to, net_.sim().now(),
                                        Duration::Millis(500), from, to);
  }
  StreamStats Up(Timestamp from, Timestamp to) {
    return echo_up_->forward().Window(send_up_->send_times(), from, to, net_.sim().now(),
                                      Duration::Millis(500), from, to);
  }

  // The same IKE SA, never down, no second IKE_SA_INIT on either side.
  void ExpectSameIkeSa() {
    EXPECT_EQ(mn_->client_sa_id(), sa_id_);
    EXPECT_EQ(mn_->CountEvents(IkeAppEvent::Kind::kIkeUp), 1u);
    EXPECT_EQ(gw_->CountEvents(IkeAppEvent::Kind::kIkeUp), 1u);
    EXPECT_EQ(mn_->CountEvents(IkeAppEvent::Kind::kIkeDown), 0u);
    EXPECT_EQ(gw_->CountEvents(IkeAppEvent::Kind::kIkeDown), 0u);
    EXPECT_EQ(gw_->manager().size(), 1u);
    ASSERT_NE(mn_->client_sa(), nullptr);
    EXPECT_EQ(mn_->client_sa()->state(), ikev2::IkeSaState::kEstablished);
  }

  // Every CHILD SA on both sides uses `client` <-> the gateway's 4500
  // (`seen_as`: the client's address as the gateway sees it, a NAT's).
  void ExpectPath(Ipv4Address client, std::optional<Ipv4Address> seen_as = std::nullopt,
                  bool udp_encap = true) {
    ASSERT_FALSE(mn_->children().empty());
    ASSERT_FALSE(gw_->children().empty());
    for (const auto& [spi, c] : mn_->children()) {
      EXPECT_EQ(c.out.local().address, client) << "client CHILD SA " << spi;
      EXPECT_EQ(c.out.remote(), (Ipv4Endpoint{kGw, 4500})) << "client CHILD SA " << spi;
      EXPECT_EQ(c.out.udp_encap(), udp_encap) << "client CHILD SA " << spi;
      EXPECT_EQ(c.in.udp_encap(), udp_encap) << "client CHILD SA " << spi;
    }
    for (const auto& [spi, c] : gw_->children()) {
      EXPECT_EQ(c.out.remote().address, seen_as.value_or(client)) << "gateway CHILD SA " << spi;
      EXPECT_EQ(c.out.local(), (Ipv4Endpoint{kGw, 4500})) << "gateway CHILD SA " << spi;
      EXPECT_EQ(c.out.udp_encap(), udp_encap) << "gateway CHILD SA " << spi;
    }
    EXPECT_EQ(mn_->client_sa()->local().address, client);
  }

  std::uint32_t ClientChildSpi() const { return mn_->children().begin()->first; }

  Network& net() { return net_; }
  Simulator& sim() { return net_.sim(); }
  Node& node(const char* n) { return *net_.FindNode(n); }
  IkeApp& mn() { return *mn_; }
  IkeApp& gw() { return *gw_; }
  Napt& napt() { return *napt_; }
  Ipv4Address tia() const { return tia_; }

 private:
  void Connect(const char* node, const char* ifname, const char* seg, const char* addr) {
    EXPECT_TRUE(net_.Connect(node, ifname, seg, A(addr), 24).ok()) << node << " " << ifname;
  }

  Network net_;
  std::unique_ptr<Napt> napt_;
  std::unique_ptr<ikev2::TiaPool> pool_;
  std::unique_ptr<IkeApp> gw_;
  std::unique_ptr<IkeApp> mn_;
  std::unique_ptr<StreamEchoer> echo_down_, echo_up_;
  std::unique_ptr<StreamSender> send_down_, send_up_;
  Ipv4Address tia_{};
  std::uint64_t sa_id_ = 0;
};

// Stream packets sent in a window of `span` at most lost when the tunnel is
// out for `outage`: those sent during it, plus one in flight each side.
std::uint64_t MaxLoss(Duration outage) {
  return static_cast<std::uint64_t>(outage.nanos() / kStreamInterval.nanos()) + 2;
}

// Baseline: the tunnel carries both streams without loss before any move.
TEST(IkeMobikeScenario, TunnelCarriesBothStreams) {
  World w;
  w.Start();
  w.sim().RunUntil(T(4));
  StreamStats down = w.Down(T(1.5), T(3.5));
  StreamStats up = w.Up(T(1.5), T(3.5));
  EXPECT_GT(down.delivered, 350u);
  EXPECT_EQ(down.lost, 0u) << down.ToString();
  EXPECT_GT(up.delivered, 350u);
  EXPECT_EQ(up.lost, 0u) << up.ToString();
  w.ExpectSameIkeSa();
  w.ExpectPath(kA.address);
  EXPECT_GT(w.mn().counters().esp_out, 350u);
  EXPECT_GT(w.gw().counters().esp_in, 350u);
  EXPECT_EQ(w.mn().counters().esp_dropped, 0u);
  EXPECT_EQ(w.gw().counters().esp_dropped, 0u);
}

// RFC 4555 3.5 / issue 6 item 3: a move A -> B without NAT. The update
// starts in the instant of the link change; the IKE SA and CHILD SAs move;
// the first packet over the new path arrives within one round trip.
void MoveWithoutNat(bool rr_check) {
  World w({.return_routability_check = rr_check});
  w.Start();
  const Timestamp t0 = T(3);
  w.MoveAt(t0, kB);
  w.sim().RunUntil(t0 - Duration::Millis(1));
  const std::uint64_t ike_out = w.mn().counters().ike_out;
  // Issue 6: the update starts in the instant of the link change, no delay:
  // the UPDATE_SA_ADDRESSES request left at t0.
  w.sim().RunUntil(t0);
  ASSERT_NE(w.mn().client_sa(), nullptr);
  EXPECT_EQ(w.mn().client_sa()->local().address, kB.address);
  EXPECT_EQ(w.mn().counters().ike_out, ike_out + 1);
  w.sim().RunUntil(T(6));
  w.ExpectSameIkeSa();
  w.ExpectPath(kB.address);
  // The link events at t0 (down, address gone, up, address added) were
  // handled at t0, and exactly one of them moved the IKE SA.
  std::size_t updates_at_t0 = 0;
  for (const IkeAppEvent& e : w.mn().events()) {
    if (e.kind == IkeAppEvent::Kind::kAddressesUpdated && e.at == t0) ++updates_at_t0;
  }
  EXPECT_GE(updates_at_t0, 2u);
  EXPECT_EQ(w.mn().client_sa()->path_generation(), 1u);
  // The gateway answered the one UPDATE (RFC 4555 3.5), with or without
  // its return routability check.
  EXPECT_EQ(w.mn().CountEvents(IkeAppEvent::Kind::kPathConfirmed), 1u);

  std::optional<Timestamp> up_first = w.gw().FirstEspInFrom(kB.address);
  std::optional<Timestamp> down_first = w.mn().FirstEspInTo(kB.address);
  ASSERT_TRUE(up_first.has_value());
  ASSERT_TRUE(down_first.has_value());
  const Duration up_gap = *up_first - t0;
  const Duration down_gap = *down_first - t0;
  std::printf("[ measure ] rr_check=%d rtt=%s uplink first packet after %s, downlink after %s\n",
              rr_check ? 1 : 0, kRtt.ToString().c_str(), up_gap.ToString().c_str(),
              down_gap.ToString().c_str());
  // Uplink: the client's CHILD SAs moved at t0, the gateway takes ESP by
  // SPI: the next stream packet crosses in half a round trip.
  EXPECT_LE(up_gap, kRtt / 2 + kStreamInterval + Duration::Millis(2));
  // Downlink: the gateway moves on UPDATE_SA_ADDRESSES (half an RTT in),
  // the next packet from cn reaches the client half an RTT later; with the
  // return routability check (3.7) one more round trip first.
  const Duration budget = (rr_check ? kRtt * 2 : kRtt) + kStreamInterval + Duration::Millis(3);
  EXPECT_LE(down_gap, budget);
  StreamStats down = w.Down(T(2.5), T(5.5));
  StreamStats up = w.Up(T(2.5), T(5.5));
  EXPECT_LE(down.lost, MaxLoss(budget)) << down.ToString();
  EXPECT_LE(up.lost, MaxLoss(up_gap)) << up.ToString();
  // Resumed: nothing lost a second after the move.
  EXPECT_EQ(w.Down(T(4), T(5.5)).lost, 0u);
  EXPECT_EQ(w.Up(T(4), T(5.5)).lost, 0u);
  EXPECT_GT(w.Down(T(4), T(5.5)).delivered, 250u);
}

TEST(IkeMobikeScenario, MoveWithoutNatRfc4555Section3_5) { MoveWithoutNat(true); }
TEST(IkeMobikeScenario, MoveWithoutNatNoReturnRoutabilityCheckWithinOneRtt) {
  MoveWithoutNat(false);
}

// RFC 4555 3.5, 3.8 / issue 6 item 3: into the NAT (C) and back out. The
// gateway sees the NAT's mapping; keepalives keep it (RFC 3948 4); back on A
// the gateway uses the client's own address again.
TEST(IkeMobikeScenario, IntoNatAndBackOutRfc4555Section3_8) {
  World w;
  w.Start();
  w.MoveAt(T(3), kC);
  w.sim().RunUntil(T(6));
  w.ExpectSameIkeSa();
  w.ExpectPath(kC.address, kNatOutside);
  EXPECT_TRUE(w.mn().client_sa()->local_behind_nat());
  EXPECT_EQ(w.Down(T(4), T(5.5)).lost, 0u);
  EXPECT_EQ(w.Up(T(4), T(5.5)).lost, 0u);
  // Stop the streams' effect on the mapping? They keep it alive too; the
  // keepalives still go out on schedule while behind the NAT.
  const std::uint64_t ka = w.mn().counters().keepalives_out;
  w.sim().RunUntil(T(30));
  EXPECT_GT(w.mn().counters().keepalives_out, ka);
  EXPECT_GT(w.napt().counters().translated_in, 1000u);
  EXPECT_GT(w.gw().counters().keepalives_in, 0u);  // RFC 3948 4, through the NAT
  w.MoveAt(T(30), kA);
  w.sim().RunUntil(T(33));
  w.ExpectSameIkeSa();
  w.ExpectPath(kA.address);
  EXPECT_EQ(w.Down(T(31), T(32.5)).lost, 0u);
  EXPECT_EQ(w.Up(T(31), T(32.5)).lost, 0u);
  EXPECT_EQ(w.mn().client_sa()->path_generation(), 2u);
}

// RFC 4555 3.5, 3.8 / RFC 3948: without forced encapsulation ESP is plain
// (protocol 50) on A; MOBIKE's NAT detection in the UPDATE finds the NAT in
// C and both sides switch to ESP-in-UDP there, and back to plain ESP on A.
TEST(IkeMobikeScenario, UdpEncapsulationFollowsTheNatRfc4555Section3_8) {
  World w({.force_encapsulation = false});
  w.Start();
  w.ExpectPath(kA.address, std::nullopt, /*udp_encap=*/false);
  EXPECT_FALSE(w.mn().client_sa()->nat_detected());
  w.MoveAt(T(3), kC);
  w.sim().RunUntil(T(5));
  w.ExpectSameIkeSa();
  w.ExpectPath(kC.address, kNatOutside, /*udp_encap=*/true);
  EXPECT_TRUE(w.mn().client_sa()->local_behind_nat());
  EXPECT_EQ(w.Down(T(4), T(4.5)).lost, 0u);
  EXPECT_EQ(w.Up(T(4), T(4.5)).lost, 0u);
  w.MoveAt(T(5), kA);
  w.sim().RunUntil(T(7));
  w.ExpectSameIkeSa();
  w.ExpectPath(kA.address, std::nullopt, /*udp_encap=*/false);
  EXPECT_FALSE(w.mn().client_sa()->nat_detected());
  EXPECT_EQ(w.Down(T(6), T(6.5)).lost, 0u);
  EXPECT_EQ(w.Up(T(6), T(6.5)).lost, 0u);
  EXPECT_LE(w.Down(T(4.5), T(6.5)).lost, MaxLoss(kRtt * 2 + kStreamInterval + Duration::Millis(3)));
  EXPECT_EQ(w.mn().counters().esp_dropped, 0u);
  EXPECT_EQ(w.gw().counters().esp_dropped, 0u);
}

// RFC 4555 3.5, 3.10 / issue 6 item 3: into D, where the gateway is
// unreachable; the UPDATE is retransmitted; back on A before the
// retransmissions give up, the same IKE SA resumes there.
TEST(IkeMobikeScenario, GatewayUnreachableAndBackRfc4555Section3_10) {
  World w;
  w.Start();
  w.MoveAt(T(3), kD);
  w.sim().RunUntil(T(3) + Duration::Millis(1));
  const std::uint64_t ike_out_at_move = w.mn().counters().ike_out;
  w.sim().RunUntil(T(8));
  ASSERT_NE(w.mn().client_sa(), nullptr);
  EXPECT_TRUE(w.mn().client_sa()->task_manager().busy());  // the UPDATE, unanswered
  const std::uint64_t ike_out_in_d = w.mn().counters().ike_out;
  EXPECT_GT(ike_out_in_d, ike_out_at_move);  // retransmitted from D (2 s, 4 s)
  EXPECT_GT(w.node("rd").counters().dropped_no_route, 0u);
  EXPECT_EQ(w.Down(T(3.5), T(7.5)).delivered, 0u);
  w.MoveAt(T(8), kA);
  w.sim().RunUntil(T(11));
  EXPECT_GT(w.mn().counters().ike_out, ike_out_in_d);
  w.ExpectSameIkeSa();
  w.ExpectPath(kA.address);
  EXPECT_FALSE(w.mn().client_sa()->task_manager().busy());
  EXPECT_EQ(w.Down(T(9), T(10.5)).lost, 0u);
  EXPECT_EQ(w.Up(T(9), T(10.5)).lost, 0u);
  // Back on A: out only for the UPDATE and the return routability check.
  EXPECT_LE(w.Down(T(8), T(10.5)).lost, MaxLoss(kRtt * 2 + kStreamInterval + Duration::Millis(3)));
}

// Issue 6 item 3 "address flaps": A -> B -> A within 3 ms. The link
// events of each instant coalesce into one move (the first update is not
// delayed); the UPDATE sent from B is re-sent at once from A (RFC 4555 3.5),
// and since it went out from two source addresses a new UPDATE follows
// (3.5: "a new INFORMATIONAL request MUST be sent"). It ends on A.
TEST(IkeMobikeScenario, AddressFlapCoalescesAndEndsOnA) {
  World w;
  w.Start();
  const std::uint64_t ike_out = w.mn().counters().ike_out;
  w.MoveAt(T(3), kB);
  w.MoveAt(T(3.003), kA);
  w.sim().RunUntil(T(6));
  w.ExpectSameIkeSa();
  w.ExpectPath(kA.address);
  EXPECT_EQ(w.mn().client_sa()->path_generation(), 2u);
  std::vector<std::string> updates;
  for (const std::string& l : w.net().log_sink().lines()) {
    if (l.find("[node.mn.ike-mn.sa] MOBIKE: UPDATE_SA_ADDRESSES") != std::string::npos) {
      updates.push_back(l);
    }
  }
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_NE(updates[0].find(kB.address.ToString()), std::string::npos) << updates[0];
  EXPECT_NE(updates[1].find(kA.address.ToString()), std::string::npos) << updates[1];
  // The UPDATE (from B, again from A), the new UPDATE from A and the answer
  // to the gateway's return routability check: no retransmission storm.
  const std::uint64_t sent = w.mn().counters().ike_out - ike_out;
  std::printf("[ measure ] flap: %llu IKE messages sent by the client\n",
              static_cast<unsigned long long>(sent));
  EXPECT_LE(sent, 4u);
  EXPECT_EQ(w.Down(T(4), T(5.5)).lost, 0u);
  EXPECT_EQ(w.Up(T(4), T(5.5)).lost, 0u);
}

// Issue 6 item 3 "the update lost": B drops the first IKE message (the
// UPDATE); it is retransmitted (RFC 7296 2.1) and the tunnel survives.
TEST(IkeMobikeScenario, LostUpdateIsRetransmittedRfc7296Section2_1) {
  World w;
  DropIke drop(P("10.20.0.0/24"), 1);
  w.node("r").AddFilter(&drop);
  w.Start();
  w.MoveAt(T(3), kB);
  w.sim().RunUntil(T(8));
  EXPECT_EQ(drop.dropped, 1);
  w.ExpectSameIkeSa();
  w.ExpectPath(kB.address);
  const std::optional<Timestamp> down_first = w.mn().FirstEspInTo(kB.address);
  ASSERT_TRUE(down_first.has_value());
  // The downlink waits for the retransmission (initial timeout 2 s).
  EXPECT_GE(*down_first - T(3), Duration::Seconds(2));
  EXPECT_LE(*down_first - T(3), Duration::Seconds(2) + kRtt * 2 + Duration::Millis(10));
  std::printf("[ measure ] lost UPDATE: downlink back after %s\n",
              (*down_first - T(3)).ToString().c_str());
  EXPECT_LE(w.Down(T(2.5), T(6.5)).lost, MaxLoss(*down_first - T(3)));
  EXPECT_EQ(w.Up(T(2.5), T(7.5)).lost, 0u);  // the uplink never stopped
  EXPECT_EQ(w.Down(T(6), T(7.5)).lost, 0u);
}

// Issue 6 item 3: a move while a CHILD SA rekey (RFC 7296 1.3.3) is in
// flight: the CREATE_CHILD_SA request goes again over the new path at once
// (RFC 4555 3.5), the rekey completes, the new CHILD SA uses the new path.
TEST(IkeMobikeScenario, MoveDuringChildRekey) {
  World w;
  w.Start();
  const std::uint32_t old_spi = w.ClientChildSpi();
  w.sim().ScheduleFn(T(3), [&] {
    ASSERT_TRUE(w.mn().RekeyChild(old_spi).ok());
    w.Move(kB);
  });
  w.sim().RunUntil(T(6));
  w.ExpectSameIkeSa();
  ASSERT_EQ(w.mn().children().size(), 1u);
  ASSERT_EQ(w.gw().children().size(), 1u);
  EXPECT_NE(w.ClientChildSpi(), old_spi);
  EXPECT_EQ(w.mn().CountEvents(IkeAppEvent::Kind::kChildUp), 2u);
  w.ExpectPath(kB.address);
  EXPECT_EQ(w.Down(T(4), T(5.5)).lost, 0u);
  EXPECT_EQ(w.Up(T(4), T(5.5)).lost, 0u);
  // The UPDATE waits for the CREATE_CHILD_SA exchange (one request at a
  // time, RFC 7296 2.3): one round trip, then the UPDATE and the return
  // routability check (RFC 4555 3.7): the downlink is out for about three.
  const std::optional<Timestamp> down_first = w.mn().FirstEspInTo(kB.address);
  ASSERT_TRUE(down_first.has_value());
  std::printf("[ measure ] move during rekey: downlink back after %s\n",
              (*down_first - T(3)).ToString().c_str());
  const Duration budget = kRtt * 3 + kStreamInterval + Duration::Millis(3);
  EXPECT_LE(*down_first - T(3), budget);
  EXPECT_LE(w.Down(T(2.5), T(5.5)).lost, MaxLoss(budget));
  EXPECT_LE(w.Up(T(2.5), T(5.5)).lost, MaxLoss(kRtt / 2 + kStreamInterval));
}

// Issue 6 item 3: a move while another request is being retransmitted: the
// CHILD SA rekey request is lost twice on A; the move to B re-sends it there
// at once (RFC 4555 3.5) instead of waiting for the next timeout.
TEST(IkeMobikeScenario, MoveDuringRetransmission) {
  World w;
  DropIke drop(P("10.10.0.0/24"), 2);
  w.Start();
  w.node("r").AddFilter(&drop);
  const std::uint32_t old_spi = w.ClientChildSpi();
  w.sim().ScheduleFn(T(3), [&] { ASSERT_TRUE(w.mn().RekeyChild(old_spi).ok()); });
  w.MoveAt(T(5.5), kB);  // after the first retransmission (t = 5 s)
  w.sim().RunUntil(T(5.4));
  EXPECT_EQ(drop.dropped, 2);
  EXPECT_EQ(w.mn().CountEvents(IkeAppEvent::Kind::kChildUp), 1u);
  w.sim().RunUntil(T(5.5) + kRtt * 3);
  // Done within a few round trips of the move, not at the next timeout (9 s).
  EXPECT_EQ(w.mn().CountEvents(IkeAppEvent::Kind::kChildUp), 2u);
  w.sim().RunUntil(T(8));
  w.ExpectSameIkeSa();
  ASSERT_EQ(w.mn().children().size(), 1u);
  EXPECT_NE(w.ClientChildSpi(), old_spi);
  w.ExpectPath(kB.address);
  EXPECT_EQ(w.Down(T(6.5), T(7.5)).lost, 0u);
  EXPECT_EQ(w.Up(T(6.5), T(7.5)).lost, 0u);
}

// RFC 4555 1.3: after the IKE SA is rekeyed (RFC 7296 2.8) the client is
// still the one that decides the addresses; the new IKE SA (which the app
// follows) moves, with the CHILD SAs it inherited.
TEST(IkeMobikeScenario, MoveAfterIkeRekeyRfc4555Section1_3) {
  World w;
  w.Start();
  const std::uint64_t old_id = *w.mn().client_sa_id();
  w.sim().ScheduleFn(T(3), [&] { ASSERT_TRUE(w.mn().RekeyIke().ok()); });
  w.sim().RunUntil(T(4));
  ASSERT_TRUE(w.mn().client_sa_id().has_value());
  EXPECT_NE(*w.mn().client_sa_id(), old_id);
  EXPECT_EQ(w.mn().CountEvents(IkeAppEvent::Kind::kIkeRekeyed), 1u);
  ASSERT_NE(w.mn().client_sa(), nullptr);
  EXPECT_TRUE(w.mn().client_sa()->mobike_initiator());
  w.MoveAt(T(4), kB);
  w.sim().RunUntil(T(7));
  EXPECT_EQ(w.mn().CountEvents(IkeAppEvent::Kind::kIkeUp), 1u);
  // Only the replaced IKE SA went down (kRekeyed), on each side.
  EXPECT_EQ(w.mn().CountEvents(IkeAppEvent::Kind::kIkeDown), 1u);
  EXPECT_EQ(w.gw().CountEvents(IkeAppEvent::Kind::kIkeDown), 1u);
  EXPECT_EQ(w.gw().manager().size(), 1u);
  EXPECT_EQ(w.mn().children().size(), 1u);
  w.ExpectPath(kB.address);
  EXPECT_EQ(w.Down(T(5), T(6.5)).lost, 0u);
  EXPECT_EQ(w.Up(T(5), T(6.5)).lost, 0u);
  EXPECT_LE(w.Down(T(3.5), T(6.5)).lost, MaxLoss(kRtt * 2 + kStreamInterval + Duration::Millis(3)));
}

// Issue 6 item 3 "both peers updating at once": the gateway gains an
// address in the instant the client moves. The gateway announces its list
// (RFC 4555 3.6) while the client's UPDATE (3.5) crosses it.
TEST(IkeMobikeScenario, BothPeersUpdateAtOnceRfc4555Section3_6) {
  World w;
  w.Start();
  const Ipv4Address extra = A("198.51.100.11");
  w.sim().ScheduleFn(T(3), [&] {
    ASSERT_TRUE(w.node("gw").AddAddress(1, extra, 24).ok());
    w.Move(kB);
  });
  w.sim().RunUntil(T(6));
  w.ExpectSameIkeSa();
  w.ExpectPath(kB.address);
  const std::vector<Ipv4Address>& peer = w.mn().client_sa()->peer_addresses();
  EXPECT_NE(std::find(peer.begin(), peer.end(), extra), peer.end());
  EXPECT_EQ(peer.front(), kGw);
  EXPECT_GE(w.gw().CountEvents(IkeAppEvent::Kind::kAddressesUpdated), 1u);
  EXPECT_EQ(w.Down(T(4), T(5.5)).lost, 0u);
  EXPECT_EQ(w.Up(T(4), T(5.5)).lost, 0u);
}

// Determinism (docs/ARCHITECTURE.md): the same scenario twice gives the
// same event log, line for line, the same pcap bytes on every segment and
// the same counters.
TEST(IkeMobikeScenario, SameScenarioTwiceGivesIdenticalLogsAndPcaps) {
  struct Run {
    std::vector<std::string> log;
    std::vector<Bytes> pcaps;
    std::uint64_t esp_in = 0;
  };
  auto run = [] {
    auto w = std::make_unique<World>();
    w->Start();
    w->MoveAt(T(3), kC);
    w->MoveAt(T(4), kB);
    w->sim().RunUntil(T(6));
    Run r;
    r.log = w->net().log_sink().lines();
    for (Segment* seg : w->net().segments()) r.pcaps.push_back(seg->pcap().bytes());
    r.esp_in = w->mn().counters().esp_in;
    return r;
  };
  const Run first = run();
  const Run second = run();
  ASSERT_GT(first.log.size(), 20u);
  EXPECT_TRUE(first.log == second.log);
  ASSERT_EQ(first.pcaps.size(), second.pcaps.size());
  std::size_t with_packets = 0;
  for (std::size_t i = 0; i < first.pcaps.size(); ++i) {
    if (first.pcaps[i].size() > 24) ++with_packets;  // more than the file header
    EXPECT_TRUE(first.pcaps[i] == second.pcaps[i]) << "segment " << i;
  }
  EXPECT_EQ(with_packets, 5u);  // a, b, c, backbone, internal (not d)
  EXPECT_GT(first.esp_in, 500u);
  EXPECT_EQ(first.esp_in, second.esp_in);
  bool moved = false;
  for (const std::string& l : first.log) moved |= l.find("path-changed") != std::string::npos;
  EXPECT_TRUE(moved);
}

// ---- An owner drives the client (follow_links = false) ----
// What the RFC 5266 mobile-node controller needs from IkeApp: it decides
// when IKE moves (UpdateAddresses), learns in the same instant what
// happened (SetObserver), sees when the gateway has answered on the new
// path (kPathConfirmed, RFC 5266 3.4), and tears the VPN down (Disconnect).

using K = IkeAppEvent::Kind;

std::vector<IkeAppEvent> EventsOfKind(const IkeApp& app, K kind) {
  std::vector<IkeAppEvent> v;
  for (const IkeAppEvent& e : app.events()) {
    if (e.kind == kind) v.push_back(e);
  }
  return v;
}

// Where the first event of `kind` is in the app's log (events().size() if none).
std::size_t IndexOf(const IkeApp& app, K kind) {
  const std::vector<IkeAppEvent>& ev = app.events();
  std::size_t k = 0;
  while (k < ev.size() && ev[k].kind != kind) ++k;
  return k;
}

// RFC 4555 3.5 with the owner in charge: the move of the link alone does
// not touch IKE; UpdateAddresses moves the IKE SA and sends the UPDATE in
// its own instant, and the gateway's answer is recorded as kPathConfirmed
// one round trip later.
TEST(IkeMobikeScenario, OwnerMovesTheClientAndThePathIsConfirmedOneRttLater) {
  World w({.follow_links = false});
  w.Start();
  EXPECT_EQ(w.mn().gateway_address(), kGw);
  EXPECT_EQ(w.mn().tia(), w.tia());
  const std::size_t updates = w.mn().CountEvents(K::kAddressesUpdated);
  w.MoveAt(T(3), kB);
  const Timestamp t1 = T(3.5);
  w.sim().RunUntil(t1);
  ASSERT_EQ(w.sim().now(), t1);
  ASSERT_NE(w.mn().client_sa(), nullptr);
  EXPECT_EQ(w.mn().client_sa()->local().address, kA.address);  // the link moved, IKE did not
  EXPECT_EQ(w.mn().client_sa()->path_generation(), 0u);
  EXPECT_EQ(w.mn().CountEvents(K::kAddressesUpdated), updates);
  EXPECT_EQ(w.mn().CountEvents(K::kPathChanged), 0u);
  EXPECT_EQ(w.mn().CountEvents(K::kPathConfirmed), 0u);

  const std::uint64_t ike_out = w.mn().counters().ike_out;
  Status st = w.mn().UpdateAddresses({kB.address}, kB.address);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  // At once: moved, recorded, and the UPDATE left in this instant.
  EXPECT_EQ(w.mn().client_sa()->local().address, kB.address);
  EXPECT_EQ(w.mn().counters().ike_out, ike_out + 1);
  EXPECT_EQ(w.mn().CountEvents(K::kAddressesUpdated), updates + 1);
  const std::vector<IkeAppEvent> changed = EventsOfKind(w.mn(), K::kPathChanged);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].at, t1);
  EXPECT_EQ(changed[0].local.address, kB.address);
  EXPECT_EQ(w.mn().CountEvents(K::kPathConfirmed), 0u);  // not before the answer

  w.sim().RunUntil(T(6));
  const std::vector<IkeAppEvent> confirmed = EventsOfKind(w.mn(), K::kPathConfirmed);
  ASSERT_EQ(confirmed.size(), 1u);
  const Duration took = confirmed[0].at - t1;
  std::printf("[ measure ] owner-driven move: path confirmed after %s (rtt %s)\n",
              took.ToString().c_str(), kRtt.ToString().c_str());
  EXPECT_GE(took, kRtt);
  EXPECT_LE(took, kRtt + Duration::Millis(5));
  EXPECT_EQ(confirmed[0].local, (Ipv4Endpoint{kB.address, 4500}));
  EXPECT_EQ(confirmed[0].remote, (Ipv4Endpoint{kGw, 4500}));
  EXPECT_EQ(confirmed[0].udp_encap, changed[0].udp_encap);
  EXPECT_EQ(confirmed[0].sa_id, *w.mn().client_sa_id());
  EXPECT_LT(IndexOf(w.mn(), K::kPathChanged), IndexOf(w.mn(), K::kPathConfirmed));
  w.ExpectSameIkeSa();
  w.ExpectPath(kB.address);
  EXPECT_EQ(w.mn().client_sa()->path_generation(), 1u);
  EXPECT_EQ(w.mn().gateway_address(), kGw);
  EXPECT_EQ(w.Down(T(4.5), T(5.5)).lost, 0u);
  EXPECT_EQ(w.Up(T(4.5), T(5.5)).lost, 0u);
}

// The observer sees every recorded event, in record order, in the instant
// it was recorded; calling back into the app from it is safe. Here it tears
// the VPN down as soon as the gateway confirmed the new path: the IKE SA
// goes down (kIkeDown) one round trip later on both sides, with the TIA and
// the routes into tun0. Connect from a chosen source brings it back.
TEST(IkeMobikeScenario, ObserverSeesEventsInOrderAndDisconnectTakesTheVpnDown) {
  World w({.follow_links = false});
  std::vector<IkeAppEvent> seen;
  int disconnects = 0;
  w.mn().SetObserver([&](const IkeAppEvent& e) {
    EXPECT_EQ(e.at, w.sim().now()) << IkeAppEventKindName(e.kind);  // same instant
    seen.push_back(e);
    if (e.kind == K::kPathConfirmed && disconnects++ == 0) w.mn().Disconnect();
  });
  w.Start();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().kind, K::kAddressesUpdated);  // Connect's address list
  const Ipv4Address tia = w.tia();
  w.sim().ScheduleFn(T(3), [&] {
    w.Move(kB);
    EXPECT_TRUE(w.mn().UpdateAddresses({kB.address}, kB.address).ok());
  });
  w.sim().RunUntil(T(5));

  // Every event, in order, exactly once.
  const std::vector<IkeAppEvent>& all = w.mn().events();
  ASSERT_EQ(seen.size(), all.size());
  for (std::size_t k = 0; k < all.size(); ++k) {
    EXPECT_EQ(seen[k].kind, all[k].kind) << k;
    EXPECT_EQ(seen[k].at, all[k].at) << k;
    EXPECT_EQ(seen[k].sa_id, all[k].sa_id) << k;
    EXPECT_EQ(seen[k].detail, all[k].detail) << k;
  }
  EXPECT_EQ(disconnects, 1);
  const std::size_t up = IndexOf(w.mn(), K::kIkeUp);
  const std::size_t vip = IndexOf(w.mn(), K::kVirtualIp);
  const std::size_t changed = IndexOf(w.mn(), K::kPathChanged);
  const std::size_t confirmed = IndexOf(w.mn(), K::kPathConfirmed);
  const std::size_t down = IndexOf(w.mn(), K::kIkeDown);
  ASSERT_LT(down, all.size());
  EXPECT_LT(up, vip);
  EXPECT_LT(vip, changed);
  EXPECT_LT(changed, confirmed);
  EXPECT_LT(confirmed, down);
  EXPECT_LT(IndexOf(w.mn(), K::kChildDown), down);
  // The Delete exchange (RFC 7296 1.4.1) took one round trip.
  EXPECT_GE(all[down].at - all[confirmed].at, kRtt);
  EXPECT_LE(all[down].at - all[confirmed].at, kRtt + Duration::Millis(5));
  EXPECT_EQ(w.mn().CountEvents(K::kIkeDown), 1u);
  EXPECT_EQ(w.gw().CountEvents(K::kIkeDown), 1u);
  EXPECT_EQ(w.gw().manager().size(), 0u);
  EXPECT_EQ(w.mn().client_sa(), nullptr);
  EXPECT_FALSE(w.mn().client_sa_id().has_value());
  EXPECT_TRUE(w.mn().children().empty());
  EXPECT_TRUE(w.gw().children().empty());
  EXPECT_FALSE(w.mn().tia().has_value());
  EXPECT_FALSE(w.mn().gateway_address().has_value());
  EXPECT_FALSE(w.node("mn").IsLocalAddress(tia));
  for (const Route& r : w.node("mn").routes().routes()) {
    EXPECT_NE(r.ifindex, w.mn().tun_ifindex()) << r.ToString();
  }
  // Nothing left to do.
  w.mn().Disconnect();
  Status st = w.mn().UpdateAddresses({kB.address}, kB.address);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Errc::kState);

  // Back up, from a source address chosen by the owner.
  st = w.mn().Connect(kA.address);  // A is gone
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Errc::kInvalidArgument);
  ASSERT_TRUE(w.mn().Connect(kB.address).ok());
  w.sim().RunUntil(T(6));
  ASSERT_NE(w.mn().client_sa(), nullptr);
  EXPECT_EQ(w.mn().client_sa()->state(), ikev2::IkeSaState::kEstablished);
  EXPECT_EQ(w.mn().client_sa()->local().address, kB.address);
  EXPECT_TRUE(w.mn().tia().has_value());
  EXPECT_EQ(w.mn().gateway_address(), kGw);
  EXPECT_EQ(seen.size(), w.mn().events().size());
}

// The owner as the controller will be: a link observer of the node that
// calls UpdateAddresses on every new address. The TIA going on tun0 wakes
// it while the app handles the core's output; that call is applied right
// after (docs/ARCHITECTURE.md rule 4), in the same instant. A real move is
// applied at once and confirmed as usual.
TEST(IkeMobikeScenario, OwnerCallsFromALinkObserverDuringTheDrainAreApplied) {
  World w({.follow_links = false});
  std::vector<Timestamp> calls;
  struct Guard {  // the node's observers outlive this test's locals
    std::shared_ptr<bool> live = std::make_shared<bool>(true);
    ~Guard() { *live = false; }
  } guard;
  w.node("mn").AddLinkObserver([&w, &calls, live = guard.live](Timestamp now,
                                                                const LinkEvent& ev) {
    if (!*live || ev.kind != LinkEvent::Kind::kAddressAdded) return;
    if (w.mn().client_sa() == nullptr) return;
    std::vector<Ipv4Address> addresses;
    for (const InterfaceAddress& a : w.node("mn").InterfaceByIndex(1)->addresses()) {
      addresses.push_back(a.address);
    }
    calls.push_back(now);
    EXPECT_TRUE(w.mn().UpdateAddresses(addresses, w.node("mn").SourceAddressFor(kGw)).ok());
  });
  w.Start();
  // The TIA on tun0 called the owner from inside the drain.
  const std::vector<IkeAppEvent> vip = EventsOfKind(w.mn(), K::kVirtualIp);
  ASSERT_EQ(vip.size(), 1u);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], vip[0].at);
  const std::vector<IkeAppEvent> updates = EventsOfKind(w.mn(), K::kAddressesUpdated);
  ASSERT_EQ(updates.size(), 2u);  // Connect's, then the owner's
  EXPECT_EQ(updates[1].at, vip[0].at);
  EXPECT_NE(updates[1].detail.find("(owner)"), std::string::npos) << updates[1].detail;
  EXPECT_EQ(w.mn().client_sa()->path_generation(), 0u);  // nothing moved

  w.MoveAt(T(3), kB);
  w.sim().RunUntil(T(6));
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1], T(3));
  w.ExpectSameIkeSa();
  w.ExpectPath(kB.address);
  EXPECT_EQ(w.mn().client_sa()->path_generation(), 1u);
  const std::vector<IkeAppEvent> confirmed = EventsOfKind(w.mn(), K::kPathConfirmed);
  ASSERT_EQ(confirmed.size(), 1u);
  EXPECT_GE(confirmed[0].at - T(3), kRtt);
  EXPECT_LE(confirmed[0].at - T(3), kRtt + Duration::Millis(5));
  EXPECT_EQ(w.Down(T(4), T(5.5)).lost, 0u);
}

// IkeApp refuses configurations that cannot work, naming what is wrong.
TEST(IkeApp, CreateRefusesConfigsThatCannotWork) {
  Network net(1);
  Node* n = *net.AddNode("n", false);
  ASSERT_TRUE(net.AddSegment("s", LinkParams{}).ok());
  ASSERT_TRUE(net.Connect("n", "eth0", "s", A("192.0.2.1"), 24).ok());
  IkeAppConfig c;
  c.role = IkeAppRole::kClient;
  c.gateway = kGw;
  Result<std::unique_ptr<IkeApp>> r = IkeApp::Create(*n, c);  // no IKE interface
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().ToString().find("ike_ifindexes"), std::string::npos);
  c.ike_ifindexes = {7};
  EXPECT_FALSE(IkeApp::Create(*n, c).ok());
  c.ike_ifindexes = {1};
  c.gateway = Ipv4Address::Any();
  EXPECT_FALSE(IkeApp::Create(*n, c).ok());
  c.role = IkeAppRole::kGateway;  // without an AddressProvider
  EXPECT_FALSE(IkeApp::Create(*n, c).ok());
  c.role = IkeAppRole::kClient;
  c.gateway = kGw;
  Result<std::unique_ptr<IkeApp>> ok = IkeApp::Create(*n, c);
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  // UDP 500 and 4500 are taken now.
  EXPECT_FALSE(IkeApp::Create(*n, c).ok());
  EXPECT_FALSE((*ok)->RekeyIke().ok());  // not connected
}

}  // namespace
}  // namespace mipsec::sim

#include "sim/nat.h"

#include <cmath>
#include <deque>
#include <set>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "common/checksum.h"
#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "sim/network.h"

namespace mipsec::sim {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }
Ipv4Endpoint E(const char* s) { return *Ipv4Endpoint::Parse(s); }
Timestamp Sec(double s) { return Timestamp::Zero() + Duration::Nanos(std::llround(s * 1e9)); }

struct Got {
  Ipv4Endpoint local;
  Ipv4Endpoint remote;
  Bytes payload;
  Timestamp at;
};

// A received IPv4 datagram (raw protocol handler), copied.
struct RawGot {
  Bytes datagram;
  Timestamp at;
};

//   h1 10.0.0.2 --+                         +-- s1 198.51.100.10
//   h2 10.0.0.3 --+-- lan --[nat]-- wan ----+-- s2 198.51.100.20
//                  10.0.0.1    198.51.100.1 +-- r2 198.51.100.254 -- far -- s3 203.0.113.10
//
// Every host checks IP and UDP checksums on receipt (node.cc); the ICMP
// watchers below check ICMP checksums and the quoted datagram's.
class Lab {
 public:
  explicit Lab(std::uint64_t seed = 1) : net_(seed, LogLevel::kDebug) {
    for (const char* s : {"lan", "wan", "far"}) EXPECT_TRUE(net_.AddSegment(s, {}).ok());
    for (const char* n : {"h1", "h2", "s1", "s2", "s3"}) EXPECT_TRUE(net_.AddNode(n, false).ok());
    for (const char* n : {"nat", "r2"}) EXPECT_TRUE(net_.AddNode(n, true).ok());
    EXPECT_TRUE(net_.Connect("h1", "eth0", "lan", A("10.0.0.2"), 24).ok());
    EXPECT_TRUE(net_.Connect("h2", "eth0", "lan", A("10.0.0.3"), 24).ok());
    EXPECT_TRUE(net_.Connect("nat", "in0", "lan", A("10.0.0.1"), 24).ok());
    EXPECT_TRUE(net_.Connect("nat", "out0", "wan", A("198.51.100.1"), 24).ok());
    EXPECT_TRUE(net_.Connect("s1", "eth0", "wan", A("198.51.100.10"), 24).ok());
    EXPECT_TRUE(net_.Connect("s2", "eth0", "wan", A("198.51.100.20"), 24).ok());
    EXPECT_TRUE(net_.Connect("r2", "eth0", "wan", A("198.51.100.254"), 24).ok());
    EXPECT_TRUE(net_.Connect("r2", "eth1", "far", A("203.0.113.1"), 24).ok());
    EXPECT_TRUE(net_.Connect("s3", "eth0", "far", A("203.0.113.10"), 24).ok());
    h1 = net_.FindNode("h1");
    h2 = net_.FindNode("h2");
    nat_node = net_.FindNode("nat");
    s1 = net_.FindNode("s1");
    s2 = net_.FindNode("s2");
    s3 = net_.FindNode("s3");
    r2 = net_.FindNode("r2");
    EXPECT_TRUE(h1->AddRoute(Ipv4Prefix(), A("10.0.0.1")).ok());
    EXPECT_TRUE(h2->AddRoute(Ipv4Prefix(), A("10.0.0.1")).ok());
    EXPECT_TRUE(nat_node->AddRoute(Ipv4Prefix(), A("198.51.100.254")).ok());
    EXPECT_TRUE(s1->AddRoute(Ipv4Prefix(), A("198.51.100.254")).ok());
    EXPECT_TRUE(s2->AddRoute(Ipv4Prefix(), A("198.51.100.254")).ok());
    EXPECT_TRUE(s3->AddRoute(Ipv4Prefix(), A("203.0.113.1")).ok());
  }

  // Installs the NAT with `config` (outside: out0).
  void Install(NaptConfig config = {}) {
    config.outside_ifindex = nat_node->FindInterface("out0")->ifindex();
    Result<std::unique_ptr<Napt>> n = Napt::Create(*nat_node, std::move(config));
    ASSERT_TRUE(n.ok()) << n.error().ToString();
    nat = std::move(*n);
  }

  std::vector<Got>& BindUdp(Node* n, std::uint16_t port) {
    got_.emplace_back();
    std::vector<Got>* v = &got_.back();
    EXPECT_TRUE(n->BindUdp({Ipv4Address::Any(), port}, [v](Timestamp now,
                                                                 const UdpDelivery& d) {
                   v->push_back({d.local, d.remote, Bytes(d.payload.begin(), d.payload.end()),
                                 now});
                 }).ok());
    return *v;
  }

  // Every datagram of `protocol` that `n` receives. ICMP ones must carry a
  // valid ICMP checksum.
  std::vector<RawGot>& Watch(Node* n, std::uint8_t protocol) {
    raw_.emplace_back();
    std::vector<RawGot>* v = &raw_.back();
    n->BindProtocol(protocol, [v, protocol](Timestamp now, const RawDelivery& d) {
      if (protocol == ip::kProtoIcmp) {
        EXPECT_TRUE(ip::ParseIpv4Icmp(d.datagram).ok()) << "bad ICMP checksum";
      }
      v->push_back({Bytes(d.datagram.begin(), d.datagram.end()), now});
    });
    return *v;
  }

  void Udp(Node* from, std::uint16_t from_port, const char* to, ByteSpan payload = AsBytes("x"),
           UdpSendOptions o = {}) {
    Status s = from->SendUdp(E(to), from_port, payload, o);
    EXPECT_TRUE(s.ok()) << s.error().ToString();
  }
  void Ping(Node* from, const char* to, std::uint16_t id, std::uint8_t ttl = 64) {
    Ipv4Address src = *from->interfaces()[0]->PrimaryAddress();
    Result<Bytes> p = ip::BuildIcmpPacket(src, A(to), ip::BuildIcmpEchoRequest(id, 1, {}), ttl);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(from->SendRaw(*p).ok());
  }
  void Raw(Node* from, std::uint8_t protocol, const char* to, ByteSpan payload) {
    ip::Ipv4Header h;
    h.src = *from->interfaces()[0]->PrimaryAddress();
    h.dst = A(to);
    h.protocol = protocol;
    Result<Bytes> p = ip::BuildIpv4(h, payload);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(from->SendRaw(*p).ok());
  }
  void RunUntil(double seconds) { net_.sim().RunUntil(Sec(seconds)); }
  void At(double seconds, std::function<void()> fn) {
    net_.sim().ScheduleFn(Sec(seconds), std::move(fn));
  }
  bool LogHas(std::string_view needle) {
    for (const std::string& l : net_.log_sink().lines()) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  std::string LogLine(std::string_view needle) {
    for (const std::string& l : net_.log_sink().lines()) {
      if (l.find(needle) != std::string::npos) return l;
    }
    return "";
  }
  Network& net() { return net_; }

  Node *h1, *h2, *nat_node, *s1, *s2, *s3, *r2;

 private:
  Network net_;
  std::deque<std::vector<Got>> got_;
  std::deque<std::vector<RawGot>> raw_;

 public:
  std::unique_ptr<Napt> nat;  // after net_: destroyed first, and no event runs after
};

// The quoted datagram of an ICMP error, checked: its IP header checksum, and
// when the whole UDP datagram is quoted, its UDP checksum.
struct Quote {
  ip::Ipv4Header outer;
  ip::IcmpMessage icmp;
  ip::Ipv4Header inner;
  std::uint16_t inner_sport = 0, inner_dport = 0;
  bool inner_ip_checksum_ok = false;
  std::optional<bool> inner_udp_checksum_ok;  // whole UDP datagram quoted
  std::optional<bool> inner_icmp_checksum_ok;  // whole echo message quoted
};

Quote ReadQuote(const Bytes& datagram) {
  Quote q;
  Result<ip::Ipv4IcmpPacket> p = ip::ParseIpv4Icmp(datagram);
  EXPECT_TRUE(p.ok());
  if (!p.ok()) return q;
  q.outer = p->ip;
  q.icmp = p->icmp;
  Result<ip::Ipv4Packet> inner = ip::ParseIcmpQuote(p->icmp);
  EXPECT_TRUE(inner.ok());
  if (!inner.ok()) return q;
  q.inner = inner->header;
  ByteSpan body = p->icmp.body;
  std::size_t ihl = inner->header.header_length();
  q.inner_ip_checksum_ok = ChecksumIsValid(body.first(ihl));
  ByteSpan t = body.subspan(ihl);
  if (t.size() >= 4) {
    q.inner_sport = static_cast<std::uint16_t>(t[0] << 8 | t[1]);
    q.inner_dport = static_cast<std::uint16_t>(t[2] << 8 | t[3]);
  }
  std::size_t inner_payload = inner->header.total_length - ihl;
  if (inner->header.protocol == ip::kProtoUdp && t.size() >= inner_payload) {
    q.inner_udp_checksum_ok =
        ip::UdpChecksum(inner->header.src, inner->header.dst, t.first(inner_payload)) == 0;
  }
  if (inner->header.protocol == ip::kProtoIcmp && t.size() >= inner_payload) {
    q.inner_icmp_checksum_ok = ChecksumIsValid(t.first(inner_payload));
    q.inner_sport = static_cast<std::uint16_t>(t[4] << 8 | t[5]);  // the echo identifier
  }
  return q;
}

TEST(NaptTest, UdpGoesOutAsTheOutsideAddressWithItsPortAndRepliesComeBack) {
  Lab lab;
  lab.Install();
  auto& at_s1 = lab.BindUdp(lab.s1, 7);
  auto& at_h1 = lab.BindUdp(lab.h1, 5000);
  lab.Udp(lab.h1, 5000, "198.51.100.10:7", AsBytes("ping"));
  lab.RunUntil(0.1);
  ASSERT_EQ(at_s1.size(), 1u);
  EXPECT_EQ(at_s1[0].remote, E("198.51.100.1:5000"));  // port preserved
  EXPECT_EQ(at_s1[0].payload, Bytes(AsBytes("ping").begin(), AsBytes("ping").end()));
  ASSERT_TRUE(lab.s1->SendUdp(at_s1[0].remote, 7, AsBytes("pong")).ok());
  lab.RunUntil(0.2);
  ASSERT_EQ(at_h1.size(), 1u);
  EXPECT_EQ(at_h1[0].remote, E("198.51.100.10:7"));
  EXPECT_EQ(at_h1[0].local, E("10.0.0.2:5000"));
  EXPECT_EQ(lab.nat->counters().mappings_created, 1u);
  EXPECT_EQ(lab.nat->counters().translated_out, 1u);
  EXPECT_EQ(lab.nat->counters().translated_in, 1u);
  std::vector<NatMappingInfo> m = lab.nat->Mappings();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].ToString(), "udp 10.0.0.2:5000 -> 198.51.100.1:5000");
  EXPECT_EQ(m[0].expires, m[0].created + Duration::Seconds(120));
  EXPECT_TRUE(lab.LogHas("[node.nat.nat] mapping created udp 10.0.0.2:5000 -> 198.51.100.1:5000"));
  EXPECT_EQ(lab.s1->counters().dropped_malformed, 0u);
  EXPECT_EQ(lab.h1->counters().dropped_malformed, 0u);
}

// Records every datagram a node receives, before anything else sees it.
class Tap : public PacketFilter {
 public:
  Verdict Filter(Hook hook, Interface*, Interface*, Bytes& packet) override {
    if (hook == Hook::kPrerouting) seen.push_back(packet);
    return Verdict::kAccept;
  }
  std::vector<Bytes> seen;
};

TEST(NaptTest, AUdpChecksumThatComesOutZeroIsSentAsAllOnes) {
  // RFC 768: a computed checksum of 0 is sent as 0xffff (0 means "none").
  // Two payload bytes chosen so that, after translation to
  // 198.51.100.1:5000 -> 198.51.100.10:7, the checksum computes to 0.
  std::uint16_t rest = Checksum()
                           .AddU32(A("198.51.100.1").ToHostOrder())
                           .AddU32(A("198.51.100.10").ToHostOrder())
                           .AddU16(ip::kProtoUdp)
                           .AddU16(10)
                           .AddU16(5000)
                           .AddU16(7)
                           .AddU16(10)
                           .Sum();
  std::uint16_t w = static_cast<std::uint16_t>(~rest);
  Bytes payload{static_cast<std::uint8_t>(w >> 8), static_cast<std::uint8_t>(w)};
  Lab lab;
  lab.Install();
  Tap tap;
  lab.s1->AddFilter(&tap);
  auto& at_s1 = lab.BindUdp(lab.s1, 7);
  lab.Udp(lab.h1, 5000, "198.51.100.10:7", payload);
  lab.RunUntil(0.1);
  ASSERT_EQ(at_s1.size(), 1u);
  ASSERT_EQ(tap.seen.size(), 1u);
  Result<ip::Ipv4UdpPacket> p = ip::ParseIpv4Udp(tap.seen[0]);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->udp.checksum, 0xffff);
}

TEST(NaptTest, PortPreservationTakesTheNextFreePortWhenTaken) {
  Lab lab;
  lab.Install();
  auto& at_s1 = lab.BindUdp(lab.s1, 7);
  auto& at_h1 = lab.BindUdp(lab.h1, 5000);
  auto& at_h2 = lab.BindUdp(lab.h2, 5000);
  lab.Udp(lab.h1, 5000, "198.51.100.10:7", AsBytes("1"));
  lab.RunUntil(0.1);
  lab.Udp(lab.h2, 5000, "198.51.100.10:7", AsBytes("2"));
  lab.Udp(lab.h1, 500, "198.51.100.10:7", AsBytes("3"));  // below the range: translated
  lab.RunUntil(0.2);
  ASSERT_EQ(at_s1.size(), 3u);
  EXPECT_EQ(at_s1[0].remote, E("198.51.100.1:5000"));
  EXPECT_EQ(at_s1[1].remote, E("198.51.100.1:5001"));
  EXPECT_EQ(at_s1[2].remote, E("198.51.100.1:1024"));
  // Replies find their way to the right host.
  ASSERT_TRUE(lab.s1->SendUdp(E("198.51.100.1:5001"), 7, AsBytes("to h2")).ok());
  ASSERT_TRUE(lab.s1->SendUdp(E("198.51.100.1:5000"), 7, AsBytes("to h1")).ok());
  lab.RunUntil(0.3);
  ASSERT_EQ(at_h1.size(), 1u);
  ASSERT_EQ(at_h2.size(), 1u);
  EXPECT_EQ(at_h1[0].payload, Bytes(AsBytes("to h1").begin(), AsBytes("to h1").end()));
  EXPECT_EQ(at_h2[0].payload, Bytes(AsBytes("to h2").begin(), AsBytes("to h2").end()));
  EXPECT_EQ(at_h2[0].local, E("10.0.0.3:5000"));
}

// The external ports s1 sees for flows from h1 and h2, with random ports.
std::vector<std::uint16_t> RandomPorts(std::uint64_t seed) {
  Lab lab(seed);
  NaptConfig c;
  c.name = "cgn";
  c.port_assignment = NatPortAssignment::kRandom;
  c.port_min = 20000;
  c.port_max = 20999;
  lab.Install(c);
  auto& at_s1 = lab.BindUdp(lab.s1, 7);
  for (std::uint16_t p = 20000; p < 20006; ++p) lab.Udp(lab.h1, p, "198.51.100.10:7");
  lab.Udp(lab.h2, 20000, "198.51.100.10:7");
  lab.RunUntil(1);
  std::vector<std::uint16_t> ports;
  for (const Got& g : at_s1) {
    EXPECT_EQ(g.remote.address, A("198.51.100.1"));
    ports.push_back(g.remote.port);
  }
  EXPECT_EQ(ports.size(), 7u);
  return ports;
}

TEST(NaptTest, RandomPortsStayInRangeAndRepeatForTheSameSeed) {
  std::vector<std::uint16_t> a = RandomPorts(1);
  std::vector<std::uint16_t> again = RandomPorts(1);
  std::vector<std::uint16_t> b = RandomPorts(2);
  EXPECT_EQ(a, again);
  EXPECT_NE(a, b);
  std::set<std::uint16_t> distinct(a.begin(), a.end());
  EXPECT_EQ(distinct.size(), a.size());
  std::size_t preserved = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_GE(a[i], 20000);
    EXPECT_LE(a[i], 20999);
    if (i < 6 && a[i] == 20000 + i) ++preserved;
  }
  EXPECT_LT(preserved, 3u) << "random assignment should not look like preservation";
}

// The external ports s1 and s2 see for h1:5000 -> s1:7, s1:8, s2:7.
std::vector<std::uint16_t> PortsSeen(NatBehavior mapping) {
  Lab lab;
  NaptConfig c;
  c.mapping = mapping;
  lab.Install(c);
  auto& s1_7 = lab.BindUdp(lab.s1, 7);
  auto& s1_8 = lab.BindUdp(lab.s1, 8);
  auto& s2_7 = lab.BindUdp(lab.s2, 7);
  lab.Udp(lab.h1, 5000, "198.51.100.10:7");
  lab.Udp(lab.h1, 5000, "198.51.100.10:8");
  lab.Udp(lab.h1, 5000, "198.51.100.20:7");
  lab.RunUntil(0.1);
  EXPECT_EQ(s1_7.size(), 1u);
  EXPECT_EQ(s1_8.size(), 1u);
  EXPECT_EQ(s2_7.size(), 1u);
  if (s1_7.empty() || s1_8.empty() || s2_7.empty()) return {};
  return {s1_7[0].remote.port, s1_8[0].remote.port, s2_7[0].remote.port};
}

TEST(NaptTest, EndpointIndependentMappingShowsOnePortToEveryone) {
  EXPECT_EQ(PortsSeen(NatBehavior::kEndpointIndependent),
            (std::vector<std::uint16_t>{5000, 5000, 5000}));
}

TEST(NaptTest, AddressDependentMappingShowsOnePortPerRemoteAddress) {
  EXPECT_EQ(PortsSeen(NatBehavior::kAddressDependent),
            (std::vector<std::uint16_t>{5000, 5000, 5001}));
}

TEST(NaptTest, AddressAndPortDependentMappingShowsOnePortPerRemoteEndpoint) {
  EXPECT_EQ(PortsSeen(NatBehavior::kAddressAndPortDependent),
            (std::vector<std::uint16_t>{5000, 5001, 5002}));
}

// After h1:5000 -> s1:7, which of s1:7, s1:9 and s2:7 get through to h1.
std::vector<std::string> Admitted(NatBehavior filtering, std::uint64_t* filtered) {
  Lab lab;
  NaptConfig c;
  c.filtering = filtering;
  lab.Install(c);
  auto& at_h1 = lab.BindUdp(lab.h1, 5000);
  lab.Udp(lab.h1, 5000, "198.51.100.10:7");
  lab.RunUntil(0.1);
  lab.Udp(lab.s1, 7, "198.51.100.1:5000", AsBytes("s1:7"));
  lab.Udp(lab.s1, 9, "198.51.100.1:5000", AsBytes("s1:9"));
  lab.Udp(lab.s2, 7, "198.51.100.1:5000", AsBytes("s2:7"));
  lab.RunUntil(0.2);
  std::vector<std::string> who;
  for (const Got& g : at_h1) who.push_back(g.remote.ToString());
  *filtered = lab.nat->counters().dropped_filtered;
  return who;
}

TEST(NaptTest, EndpointIndependentFilteringAdmitsAnyone) {
  std::uint64_t filtered = 0;
  EXPECT_EQ(Admitted(NatBehavior::kEndpointIndependent, &filtered),
            (std::vector<std::string>{"198.51.100.10:7", "198.51.100.10:9", "198.51.100.20:7"}));
  EXPECT_EQ(filtered, 0u);
}

TEST(NaptTest, AddressDependentFilteringAdmitsOnlyAddressesSentTo) {
  std::uint64_t filtered = 0;
  EXPECT_EQ(Admitted(NatBehavior::kAddressDependent, &filtered),
            (std::vector<std::string>{"198.51.100.10:7", "198.51.100.10:9"}));
  EXPECT_EQ(filtered, 1u);
}

TEST(NaptTest, AddressAndPortDependentFilteringAdmitsOnlyEndpointsSentTo) {
  std::uint64_t filtered = 0;
  EXPECT_EQ(Admitted(NatBehavior::kAddressAndPortDependent, &filtered),
            (std::vector<std::string>{"198.51.100.10:7"}));
  EXPECT_EQ(filtered, 2u);
}

TEST(NaptTest, UdpMappingExpiresAtTheTimeoutAndInboundDoesNotRefreshIt) {
  Lab lab;
  lab.Install();  // 120 s, outbound refresh only
  auto& at_h1 = lab.BindUdp(lab.h1, 5000);
  lab.Udp(lab.h1, 5000, "198.51.100.10:7");  // mapping at 0.001 s (one 1 ms hop)
  lab.At(100, [&] { lab.Udp(lab.s1, 7, "198.51.100.1:5000", AsBytes("at 100")); });
  lab.At(119.5, [&] { lab.Udp(lab.s1, 7, "198.51.100.1:5000", AsBytes("at 119.5")); });
  lab.At(121, [&] { lab.Udp(lab.s1, 7, "198.51.100.1:5000", AsBytes("at 121")); });
  lab.RunUntil(120.0005);
  EXPECT_EQ(lab.nat->Mappings().size(), 1u);
  lab.RunUntil(120.002);
  // The timer expired it on time, and said so.
  EXPECT_EQ(lab.nat->counters().mappings_expired, 1u);
  EXPECT_TRUE(lab.nat->Mappings().empty());
  std::string line = lab.LogLine("mapping expired udp 10.0.0.2:5000 -> 198.51.100.1:5000");
  EXPECT_EQ(line.rfind("120.001", 0), 0u) << line;
  lab.RunUntil(130);
  ASSERT_EQ(at_h1.size(), 2u);
  EXPECT_EQ(at_h1[1].payload, Bytes(AsBytes("at 119.5").begin(), AsBytes("at 119.5").end()));
  // At 121 s there was no mapping: the datagram went to the NAT's own
  // stack (port unreachable), not to h1.
  EXPECT_EQ(lab.nat->counters().passed_to_self, 1u);
}

TEST(NaptTest, OutboundTrafficRefreshesTheMapping) {
  Lab lab;
  lab.Install();
  auto& at_h1 = lab.BindUdp(lab.h1, 5000);
  lab.Udp(lab.h1, 5000, "198.51.100.10:7");
  lab.At(100, [&] { lab.Udp(lab.h1, 5000, "198.51.100.10:7"); });
  lab.At(200, [&] { lab.Udp(lab.s1, 7, "198.51.100.1:5000", AsBytes("200")); });
  lab.At(221, [&] { lab.Udp(lab.s1, 7, "198.51.100.1:5000", AsBytes("221")); });
  lab.RunUntil(230);
  ASSERT_EQ(at_h1.size(), 1u);
  EXPECT_EQ(at_h1[0].at, Sec(200.002));
  EXPECT_EQ(lab.nat->counters().mappings_created, 1u);
  EXPECT_EQ(lab.nat->counters().mappings_expired, 1u);
}

TEST(NaptTest, InboundRefreshIsOptional) {
  for (bool refresh : {false, true}) {
    Lab lab;
    NaptConfig c;
    c.refresh_on_inbound = refresh;
    c.udp_timeout = Duration::Seconds(30);
    lab.Install(c);
    auto& at_h1 = lab.BindUdp(lab.h1, 5000);
    lab.Udp(lab.h1, 5000, "198.51.100.10:7");
    for (int t = 20; t <= 80; t += 20) {
      lab.At(t, [&] { lab.Udp(lab.s1, 7, "198.51.100.1:5000"); });
    }
    lab.RunUntil(100);
    EXPECT_EQ(at_h1.size(), refresh ? 4u : 1u) << "refresh_on_inbound " << refresh;
  }
}

TEST(NaptTest, EchoIsTranslatedByIdentifier) {
  Lab lab;
  lab.Install();
  auto& at_s1 = lab.Watch(lab.s1, ip::kProtoIcmp);
  auto& at_h1 = lab.Watch(lab.h1, ip::kProtoIcmp);
  auto& at_h2 = lab.Watch(lab.h2, ip::kProtoIcmp);
  lab.Ping(lab.h1, "198.51.100.10", 77);
  lab.Ping(lab.h2, "198.51.100.10", 77);
  lab.RunUntil(0.1);
  ASSERT_EQ(at_s1.size(), 2u);
  Result<ip::Ipv4IcmpPacket> r1 = ip::ParseIpv4Icmp(at_s1[0].datagram);
  Result<ip::Ipv4IcmpPacket> r2 = ip::ParseIpv4Icmp(at_s1[1].datagram);
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(r1->ip.src, A("198.51.100.1"));
  EXPECT_EQ(r2->ip.src, A("198.51.100.1"));
  EXPECT_EQ(r1->icmp.echo_identifier(), 77);
  EXPECT_EQ(r2->icmp.echo_identifier(), 78);  // 77 was taken
  // s1's stack answered both; each reply reached its requester as id 77.
  ASSERT_EQ(at_h1.size(), 1u);
  ASSERT_EQ(at_h2.size(), 1u);
  for (auto* got : {&at_h1, &at_h2}) {
    Result<ip::Ipv4IcmpPacket> p = ip::ParseIpv4Icmp((*got)[0].datagram);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->icmp.type, ip::kIcmpEchoReply);
    EXPECT_EQ(p->icmp.echo_identifier(), 77);
    EXPECT_EQ(p->ip.src, A("198.51.100.10"));
  }
  EXPECT_EQ(lab.nat->Mappings().size(), 2u);
}

TEST(NaptTest, InboundIcmpErrorsAreTranslatedBackIncludingTheQuote) {
  Lab lab;
  lab.Install();
  auto& icmp = lab.Watch(lab.h1, ip::kProtoIcmp);
  // Port unreachable from s1 about an empty datagram: the quote holds the
  // whole UDP datagram, so its checksum can be checked too.
  lab.Udp(lab.h1, 5000, "198.51.100.10:9", Bytes{});
  lab.RunUntil(0.1);
  // Time exceeded from r2, about UDP and about an echo request.
  UdpSendOptions ttl2;
  ttl2.ttl = 2;
  lab.Udp(lab.h1, 5001, "203.0.113.10:9", Bytes{}, ttl2);
  lab.Ping(lab.h1, "203.0.113.10", 99, 2);
  lab.RunUntil(0.2);
  ASSERT_EQ(icmp.size(), 3u);

  Quote pu = ReadQuote(icmp[0].datagram);
  EXPECT_EQ(pu.icmp.type, ip::kIcmpDestinationUnreachable);
  EXPECT_EQ(pu.icmp.code, ip::kIcmpPortUnreachable);
  EXPECT_EQ(pu.outer.src, A("198.51.100.10"));
  EXPECT_EQ(pu.outer.dst, A("10.0.0.2"));
  EXPECT_EQ(pu.inner.src, A("10.0.0.2"));
  EXPECT_EQ(pu.inner.dst, A("198.51.100.10"));
  EXPECT_EQ(pu.inner_sport, 5000);
  EXPECT_EQ(pu.inner_dport, 9);
  EXPECT_TRUE(pu.inner_ip_checksum_ok);
  ASSERT_TRUE(pu.inner_udp_checksum_ok.has_value());
  EXPECT_TRUE(*pu.inner_udp_checksum_ok);

  Quote te = ReadQuote(icmp[1].datagram);
  EXPECT_EQ(te.icmp.type, ip::kIcmpTimeExceeded);
  EXPECT_EQ(te.outer.src, A("198.51.100.254"));
  EXPECT_EQ(te.outer.dst, A("10.0.0.2"));
  EXPECT_EQ(te.inner.src, A("10.0.0.2"));
  EXPECT_EQ(te.inner_sport, 5001);
  EXPECT_TRUE(te.inner_ip_checksum_ok);
  ASSERT_TRUE(te.inner_udp_checksum_ok.has_value());
  EXPECT_TRUE(*te.inner_udp_checksum_ok);

  Quote te_echo = ReadQuote(icmp[2].datagram);
  EXPECT_EQ(te_echo.icmp.type, ip::kIcmpTimeExceeded);
  EXPECT_EQ(te_echo.outer.dst, A("10.0.0.2"));
  EXPECT_EQ(te_echo.inner.src, A("10.0.0.2"));
  EXPECT_EQ(te_echo.inner_sport, 99);  // the echo identifier
  EXPECT_TRUE(te_echo.inner_ip_checksum_ok);
  ASSERT_TRUE(te_echo.inner_icmp_checksum_ok.has_value());
  EXPECT_TRUE(*te_echo.inner_icmp_checksum_ok);

  EXPECT_EQ(lab.nat->counters().icmp_errors_translated, 3u);
}

TEST(NaptTest, ErrorsFromInsideQuoteTheExternalEndpoint) {
  Lab lab;
  lab.Install();
  auto& icmp = lab.Watch(lab.s1, ip::kProtoIcmp);
  // h1 sends from 6000 but has no socket there: s1's reply draws a port
  // unreachable from h1.
  lab.Udp(lab.h1, 6000, "198.51.100.10:7");
  lab.RunUntil(0.1);
  lab.Udp(lab.s1, 7, "198.51.100.1:6000", Bytes{});
  lab.RunUntil(0.2);
  ASSERT_EQ(icmp.size(), 1u);
  Quote q = ReadQuote(icmp[0].datagram);
  EXPECT_EQ(q.icmp.code, ip::kIcmpPortUnreachable);
  EXPECT_EQ(q.outer.src, A("198.51.100.1"));
  EXPECT_EQ(q.inner.src, A("198.51.100.10"));
  EXPECT_EQ(q.inner.dst, A("198.51.100.1"));
  EXPECT_EQ(q.inner_sport, 7);
  EXPECT_EQ(q.inner_dport, 6000);
  EXPECT_TRUE(q.inner_ip_checksum_ok);
  ASSERT_TRUE(q.inner_udp_checksum_ok.has_value());
  EXPECT_TRUE(*q.inner_udp_checksum_ok);
  EXPECT_EQ(lab.h1->counters().dropped_no_socket, 1u);
}

TEST(NaptTest, TheNatsOwnErrorsAboutTranslatedPacketsQuoteTheExternalEndpoint) {
  Lab lab;
  lab.Install();
  auto& icmp = lab.Watch(lab.s1, ip::kProtoIcmp);
  lab.Udp(lab.h1, 6000, "198.51.100.10:7");
  lab.RunUntil(0.1);
  // TTL 1: the NAT translates it inbound, then its TTL runs out there.
  UdpSendOptions ttl1;
  ttl1.ttl = 1;
  lab.Udp(lab.s1, 7, "198.51.100.1:6000", Bytes{}, ttl1);
  lab.RunUntil(0.2);
  ASSERT_EQ(icmp.size(), 1u);
  Quote q = ReadQuote(icmp[0].datagram);
  EXPECT_EQ(q.icmp.type, ip::kIcmpTimeExceeded);
  EXPECT_EQ(q.outer.src, A("198.51.100.1"));
  EXPECT_EQ(q.inner.dst, A("198.51.100.1"));  // not 10.0.0.2
  EXPECT_EQ(q.inner_dport, 6000);
  EXPECT_TRUE(q.inner_ip_checksum_ok);
  ASSERT_TRUE(q.inner_udp_checksum_ok.has_value());
  EXPECT_TRUE(*q.inner_udp_checksum_ok);
  EXPECT_EQ(lab.nat_node->counters().dropped_ttl, 1u);
}

TEST(NaptTest, EspAndIpInIpAreMappedByAddressOneInsideHostPerRemote) {
  Lab lab;
  lab.Install();
  auto& esp_s1 = lab.Watch(lab.s1, ip::kProtoEsp);
  auto& esp_s2 = lab.Watch(lab.s2, ip::kProtoEsp);
  auto& ipip_s1 = lab.Watch(lab.s1, ip::kProtoIpip);
  auto& esp_h1 = lab.Watch(lab.h1, ip::kProtoEsp);
  auto& esp_h2 = lab.Watch(lab.h2, ip::kProtoEsp);
  Bytes esp(24, 0xe5);  // SPI, sequence number, opaque bytes
  lab.Raw(lab.h1, ip::kProtoEsp, "198.51.100.10", esp);
  lab.Raw(lab.h1, ip::kProtoIpip, "198.51.100.10", esp);
  lab.RunUntil(0.1);
  lab.Raw(lab.h2, ip::kProtoEsp, "198.51.100.10", esp);  // s1's ESP is h1's
  lab.Raw(lab.h2, ip::kProtoEsp, "198.51.100.20", esp);
  lab.RunUntil(0.2);
  ASSERT_EQ(esp_s1.size(), 1u);
  ASSERT_EQ(ipip_s1.size(), 1u);
  ASSERT_EQ(esp_s2.size(), 1u);
  EXPECT_EQ(ip::ParseIpv4(esp_s1[0].datagram)->header.src, A("198.51.100.1"));
  EXPECT_EQ(ip::ParseIpv4(ipip_s1[0].datagram)->header.src, A("198.51.100.1"));
  EXPECT_EQ(ip::ParseIpv4(esp_s2[0].datagram)->header.src, A("198.51.100.1"));
  EXPECT_EQ(lab.nat->counters().dropped_exhausted, 1u);
  // Back in: by remote address.
  lab.Raw(lab.s1, ip::kProtoEsp, "198.51.100.1", esp);
  lab.Raw(lab.s2, ip::kProtoEsp, "198.51.100.1", esp);
  lab.Raw(lab.s3, ip::kProtoEsp, "198.51.100.1", esp);  // no mapping: the NAT's own stack
  lab.RunUntil(0.3);
  ASSERT_EQ(esp_h1.size(), 1u);
  ASSERT_EQ(esp_h2.size(), 1u);
  EXPECT_EQ(ip::ParseIpv4(esp_h1[0].datagram)->header.src, A("198.51.100.10"));
  EXPECT_EQ(ip::ParseIpv4(esp_h1[0].datagram)->header.dst, A("10.0.0.2"));
  EXPECT_EQ(ip::ParseIpv4(esp_h2[0].datagram)->header.src, A("198.51.100.20"));
  EXPECT_EQ(ip::ParseIpv4(esp_h2[0].datagram)->header.dst, A("10.0.0.3"));
  Bytes payload(ip::ParseIpv4(esp_h1[0].datagram)->payload.begin(),
                ip::ParseIpv4(esp_h1[0].datagram)->payload.end());
  EXPECT_EQ(payload, esp);
  EXPECT_EQ(lab.nat->counters().passed_to_self, 1u);
  EXPECT_EQ(lab.nat->Mappings().size(), 3u);
  EXPECT_EQ(lab.nat->Mappings()[0].ToString(), "esp 10.0.0.2 -> 198.51.100.1 (for 198.51.100.10)");
}

TEST(NaptTest, FragmentsFollowTheirFirstFragmentBothWays) {
  Lab lab;
  lab.Install();
  lab.h1->InterfaceByIndex(1)->set_mtu(576);
  lab.s1->InterfaceByIndex(1)->set_mtu(576);
  auto& at_s1 = lab.BindUdp(lab.s1, 7);
  auto& at_h1 = lab.BindUdp(lab.h1, 5000);
  Bytes big(2000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 13);
  lab.Udp(lab.h1, 5000, "198.51.100.10:7", big);
  lab.RunUntil(0.1);
  ASSERT_EQ(at_s1.size(), 1u);
  EXPECT_EQ(at_s1[0].remote, E("198.51.100.1:5000"));
  EXPECT_EQ(at_s1[0].payload, big);
  EXPECT_EQ(lab.s1->counters().reassembled, 1u);
  ASSERT_TRUE(lab.s1->SendUdp(at_s1[0].remote, 7, big).ok());
  lab.RunUntil(0.2);
  ASSERT_EQ(at_h1.size(), 1u);
  EXPECT_EQ(at_h1[0].payload, big);
  EXPECT_EQ(at_h1[0].remote, E("198.51.100.10:7"));
  EXPECT_EQ(lab.h1->counters().reassembled, 1u);
  EXPECT_EQ(lab.nat->counters().translated_out, 4u);  // four fragments each way
  EXPECT_EQ(lab.nat->counters().translated_in, 4u);
  EXPECT_EQ(lab.nat->counters().dropped_fragments, 0u);
}

TEST(NaptTest, AFragmentAheadOfItsFirstFragmentIsDropped) {
  Lab lab;
  lab.Install();
  auto& at_s1 = lab.BindUdp(lab.s1, 7);
  ip::Ipv4Header h;
  h.src = A("10.0.0.2");
  h.dst = A("198.51.100.10");
  h.identification = 4242;
  Result<Bytes> whole = ip::BuildIpv4Udp(h, 5000, 7, Bytes(100, 1));
  ASSERT_TRUE(whole.ok());
  ByteSpan udp = ByteSpan(*whole).subspan(20);  // 108 bytes of UDP
  ip::Ipv4Header f1 = h, f2 = h;
  f1.protocol = f2.protocol = ip::kProtoUdp;
  f1.more_fragments = true;
  f2.fragment_offset = 64 / 8;
  Result<Bytes> first = ip::BuildIpv4(f1, udp.first(64));
  Result<Bytes> second = ip::BuildIpv4(f2, udp.subspan(64));
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(lab.h1->SendRaw(*second).ok());
  lab.RunUntil(0.1);
  ASSERT_TRUE(lab.h1->SendRaw(*first).ok());
  lab.RunUntil(0.2);
  EXPECT_EQ(lab.nat->counters().dropped_fragments, 1u);
  EXPECT_TRUE(at_s1.empty());
  // In order, the same datagram gets through.
  ASSERT_TRUE(lab.h1->SendRaw(*first).ok());
  ASSERT_TRUE(lab.h1->SendRaw(*second).ok());
  lab.RunUntil(0.3);
  ASSERT_EQ(at_s1.size(), 1u);
  EXPECT_EQ(at_s1[0].remote, E("198.51.100.1:5000"));
  EXPECT_EQ(at_s1[0].payload, Bytes(100, 1));
}

TEST(NaptTest, UnsolicitedInboundReachesTheNatItselfButNeverTheInside) {
  Lab lab;
  lab.Install();
  auto& icmp_s2 = lab.Watch(lab.s2, ip::kProtoIcmp);
  auto& service = lab.BindUdp(lab.nat_node, 53);
  auto& at_h1 = lab.BindUdp(lab.h1, 7777);
  lab.Udp(lab.s2, 4000, "198.51.100.1:53", AsBytes("query"));  // the NAT's own service
  lab.Udp(lab.s2, 4000, "198.51.100.1:7777");                  // nobody: port unreachable
  lab.Ping(lab.s2, "198.51.100.1", 5);                          // the NAT answers
  // s2 tries the inside directly through the NAT.
  ASSERT_TRUE(lab.s2->AddRoute(*Ipv4Prefix::Parse("10.0.0.0/24"), A("198.51.100.1")).ok());
  lab.Udp(lab.s2, 4000, "10.0.0.2:7777");
  lab.RunUntil(0.1);
  ASSERT_EQ(service.size(), 1u);
  EXPECT_EQ(service[0].remote, E("198.51.100.20:4000"));
  EXPECT_TRUE(at_h1.empty());
  ASSERT_EQ(icmp_s2.size(), 2u);
  std::set<std::uint8_t> types;
  for (const RawGot& g : icmp_s2) types.insert(ip::ParseIpv4Icmp(g.datagram)->icmp.type);
  EXPECT_EQ(types, (std::set<std::uint8_t>{ip::kIcmpDestinationUnreachable, ip::kIcmpEchoReply}));
  EXPECT_EQ(lab.nat->counters().passed_to_self, 3u);
  EXPECT_EQ(lab.nat->counters().dropped_filtered, 1u);
  EXPECT_EQ(lab.nat->counters().mappings_created, 0u);
}

TEST(NaptTest, UnmatchedInboundCanBeDroppedInstead) {
  Lab lab;
  NaptConfig c;
  c.deliver_unmatched_to_self = false;
  lab.Install(c);
  auto& icmp_s2 = lab.Watch(lab.s2, ip::kProtoIcmp);
  lab.Udp(lab.s2, 4000, "198.51.100.1:7777");
  lab.Ping(lab.s2, "198.51.100.1", 5);
  lab.RunUntil(0.1);
  EXPECT_TRUE(icmp_s2.empty());
  EXPECT_EQ(lab.nat->counters().dropped_filtered, 2u);
}

TEST(NaptTest, AnExhaustedPortRangeDropsNewFlowsUntilAMappingExpires) {
  Lab lab;
  NaptConfig c;
  c.port_min = 40000;
  c.port_max = 40001;
  c.udp_timeout = Duration::Seconds(30);
  lab.Install(c);
  auto& at_s1 = lab.BindUdp(lab.s1, 7);
  lab.Udp(lab.h1, 1, "198.51.100.10:7");
  lab.Udp(lab.h1, 2, "198.51.100.10:7");
  lab.Udp(lab.h1, 3, "198.51.100.10:7");
  lab.RunUntil(1);
  ASSERT_EQ(at_s1.size(), 2u);
  EXPECT_EQ(at_s1[0].remote.port, 40000);
  EXPECT_EQ(at_s1[1].remote.port, 40001);
  EXPECT_EQ(lab.nat->counters().dropped_exhausted, 1u);
  EXPECT_TRUE(lab.LogHas("no free udp port for 10.0.0.2:3: dropped"));
  lab.At(40, [&] { lab.Udp(lab.h1, 3, "198.51.100.10:7"); });
  lab.RunUntil(41);
  ASSERT_EQ(at_s1.size(), 3u);
  EXPECT_EQ(at_s1[2].remote.port, 40000);
}

TEST(NaptTest, ResetForgetsEveryMapping) {
  Lab lab;
  lab.Install();
  auto& at_h1 = lab.BindUdp(lab.h1, 5000);
  lab.Udp(lab.h1, 5000, "198.51.100.10:7");
  lab.RunUntil(0.1);
  lab.nat->Reset();
  EXPECT_TRUE(lab.nat->Mappings().empty());
  lab.Udp(lab.s1, 7, "198.51.100.1:5000");
  lab.RunUntil(0.2);
  EXPECT_TRUE(at_h1.empty());
  EXPECT_EQ(lab.nat->counters().mappings_expired, 0u);
}

TEST(NaptTest, CreateRefusesBadConfigurations) {
  Lab lab;
  NaptConfig c;
  c.outside_ifindex = 9;
  EXPECT_EQ(Napt::Create(*lab.nat_node, c).error().code(), Errc::kNotFound);
  c.outside_ifindex = 2;
  c.outside_address = A("192.0.2.1");
  EXPECT_EQ(Napt::Create(*lab.nat_node, c).error().code(), Errc::kNotFound);
  c.outside_address.reset();
  c.port_min = 2000;
  c.port_max = 1999;
  Result<std::unique_ptr<Napt>> r = Napt::Create(*lab.nat_node, c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail(),
            "nat 'nat' on node 'nat': port range 2000-1999 is empty or includes port 0");
  c.port_max = 3000;
  c.icmp_timeout = Duration::Zero();
  EXPECT_EQ(Napt::Create(*lab.nat_node, c).error().code(), Errc::kInvalidArgument);
  c.icmp_timeout = Duration::Seconds(60);
  EXPECT_EQ(Napt::Create(*lab.h1, c).error().code(), Errc::kInvalidArgument);  // not a router
  Result<std::unique_ptr<Napt>> ok = Napt::Create(*lab.nat_node, c);
  EXPECT_TRUE(ok.ok());
}

// RFC 1191 through a NAT: the router's "fragmentation needed" quotes the
// packet as the inside host sent it and reaches that host, because the MTU
// check comes before the NAT rewrites the packet (node.cc, Forward()).
TEST(NaptTest, PathMtuDiscoveryWorksThroughTheNat) {
  Lab lab;
  lab.Install();
  lab.nat_node->FindInterface("out0")->set_mtu(1000);
  std::vector<RawGot>& icmp = lab.Watch(lab.h1, ip::kProtoIcmp);
  UdpSendOptions df;
  df.dont_fragment = true;
  ASSERT_TRUE(lab.h1->SendUdp(E("198.51.100.10:5000"), 4000, Bytes(1200, 1), df).ok());
  lab.net().sim().RunFor(Duration::Millis(50));
  ASSERT_EQ(icmp.size(), 1u);
  Result<ip::Ipv4IcmpPacket> err = ip::ParseIpv4Icmp(icmp[0].datagram);
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->icmp.code, ip::kIcmpFragmentationNeeded);
  EXPECT_EQ(err->icmp.next_hop_mtu(), 1000);
  Result<ip::Ipv4Packet> quoted = ip::ParseIcmpQuote(err->icmp);
  ASSERT_TRUE(quoted.ok());
  EXPECT_EQ(quoted->header.src, A("10.0.0.2"));  // untranslated
}

}  // namespace
}  // namespace mipsec::sim

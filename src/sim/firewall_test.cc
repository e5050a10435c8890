#include "sim/firewall.h"

#include <cmath>
#include <deque>
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
Ipv4Prefix P(const char* s) { return *Ipv4Prefix::Parse(s); }
Timestamp Sec(double s) { return Timestamp::Zero() + Duration::Nanos(std::llround(s * 1e9)); }

struct Got {
  Ipv4Endpoint local;
  Ipv4Endpoint remote;
  Bytes payload;
};

// The enterprise of RFC 5266 Figure 1, reduced to what the firewall sees:
//
//   home  10.1.0.0/24     i-HA 10.1.0.10        zone internal
//   corp  10.2.0.0/24     host 10.2.0.20        zone internal
//   dmz   192.0.2.0/24    VPN gateway .10,      zone dmz
//                         web server .80
//   ext   198.51.100.0/24 outsider .50          zone external
//
// The firewall `fw` is .1 on each; every host routes through it.
class Enterprise {
 public:
  Enterprise() : net_(1, LogLevel::kDebug) {
    for (const char* s : {"home", "corp", "dmz", "ext"}) EXPECT_TRUE(net_.AddSegment(s, {}).ok());
    EXPECT_TRUE(net_.AddNode("fw", true).ok());
    struct H {
      const char* name;
      const char* seg;
      const char* addr;
      const char* gw;
    };
    for (H h : {H{"iha", "home", "10.1.0.10", "10.1.0.1"},
                H{"host", "corp", "10.2.0.20", "10.2.0.1"},
                H{"vpngw", "dmz", "192.0.2.10", "192.0.2.1"},
                H{"web", "dmz", "192.0.2.80", "192.0.2.1"},
                H{"outsider", "ext", "198.51.100.50", "198.51.100.1"}}) {
      EXPECT_TRUE(net_.AddNode(h.name, false).ok());
      EXPECT_TRUE(net_.Connect(h.name, "eth0", h.seg, A(h.addr), 24).ok());
      EXPECT_TRUE(net_.FindNode(h.name)->AddRoute(Ipv4Prefix(), A(h.gw)).ok());
    }
    EXPECT_TRUE(net_.Connect("fw", "home0", "home", A("10.1.0.1"), 24).ok());
    EXPECT_TRUE(net_.Connect("fw", "corp0", "corp", A("10.2.0.1"), 24).ok());
    EXPECT_TRUE(net_.Connect("fw", "dmz0", "dmz", A("192.0.2.1"), 24).ok());
    EXPECT_TRUE(net_.Connect("fw", "ext0", "ext", A("198.51.100.1"), 24).ok());
    fw_node = net_.FindNode("fw");
    iha = net_.FindNode("iha");
    host = net_.FindNode("host");
    vpngw = net_.FindNode("vpngw");
    web = net_.FindNode("web");
    outsider = net_.FindNode("outsider");
  }

  // The zones, and the rules RFC 5265 3.1 / R25 call for.
  static FirewallConfig Figure1() {
    FirewallConfig c;
    c.zones = {{"home0", "internal"}, {"corp0", "internal"}, {"dmz0", "dmz"}, {"ext0", "external"}};
    FirewallRule mip;
    mip.name = "r25-registration";
    mip.from_zones = {"dmz"};
    mip.to_zones = {"internal"};
    mip.src = P("192.0.2.10/32");
    mip.dst = P("10.1.0.10/32");
    mip.protocol = ip::kProtoUdp;
    mip.dst_ports = {434, 434};
    FirewallRule ipip = mip;
    ipip.name = "r25-tunnel";
    ipip.protocol = ip::kProtoIpip;
    ipip.dst_ports = {};
    FirewallRule out;
    out.name = "internal-out";
    out.from_zones = {"internal"};
    FirewallRule www;
    www.name = "web";
    www.from_zones = {"external"};
    www.to_zones = {"dmz"};
    www.dst = P("192.0.2.80/32");
    www.protocol = ip::kProtoUdp;
    www.dst_ports = {80, 80};
    FirewallRule telnet;
    telnet.name = "no-telnet";
    telnet.from_zones = {"external"};
    telnet.protocol = ip::kProtoUdp;
    telnet.dst_ports = {23, 23};
    telnet.action = FirewallAction::kReject;
    c.rules = {mip, ipip, out, www, telnet};
    return c;
  }

  void Install(FirewallConfig c) {
    Result<std::unique_ptr<Firewall>> f = Firewall::Create(*fw_node, std::move(c));
    ASSERT_TRUE(f.ok()) << f.error().ToString();
    fw = std::move(*f);
  }

  std::vector<Got>& BindUdp(Node* n, std::uint16_t port) {
    got_.emplace_back();
    std::vector<Got>* v = &got_.back();
    EXPECT_TRUE(n->BindUdp({Ipv4Address::Any(), port}, [v](Timestamp, const UdpDelivery& d) {
                   v->push_back({d.local, d.remote, Bytes(d.payload.begin(), d.payload.end())});
                 }).ok());
    return *v;
  }
  // Every datagram of `protocol` `n` receives (ICMP: checksums checked).
  std::vector<Bytes>& Watch(Node* n, std::uint8_t protocol) {
    raw_.emplace_back();
    std::vector<Bytes>* v = &raw_.back();
    n->BindProtocol(protocol, [v, protocol](Timestamp, const RawDelivery& d) {
      if (protocol == ip::kProtoIcmp) {
        EXPECT_TRUE(ip::ParseIpv4Icmp(d.datagram).ok());
      }
      v->emplace_back(d.datagram.begin(), d.datagram.end());
    });
    return *v;
  }
  void Udp(Node* from, std::uint16_t from_port, const char* to, ByteSpan payload = AsBytes("x")) {
    Status s = from->SendUdp(E(to), from_port, payload);
    EXPECT_TRUE(s.ok()) << s.error().ToString();
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
  void Ping(Node* from, const char* to, std::uint16_t id) {
    Result<Bytes> p = ip::BuildIcmpPacket(*from->interfaces()[0]->PrimaryAddress(), A(to),
                                          ip::BuildIcmpEchoRequest(id, 1, AsBytes("ping")));
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(from->SendRaw(*p).ok());
  }
  void RunUntil(double s) { net_.sim().RunUntil(Sec(s)); }
  void At(double s, std::function<void()> fn) { net_.sim().ScheduleFn(Sec(s), std::move(fn)); }
  bool LogHas(std::string_view needle) {
    for (const std::string& l : net_.log_sink().lines()) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  Node *fw_node, *iha, *host, *vpngw, *web, *outsider;

 private:
  Network net_;
  std::deque<std::vector<Got>> got_;
  std::deque<std::vector<Bytes>> raw_;

 public:
  std::unique_ptr<Firewall> fw;  // after net_: destroyed first, and no event runs after
};

TEST(FirewallTest, Figure1OutsidersCannotReachTheHomeAgentTheDmzGatewayAndInsidersCan) {
  Enterprise e;
  e.Install(Enterprise::Figure1());
  auto& at_iha = e.BindUdp(e.iha, 434);
  auto& at_gw = e.BindUdp(e.vpngw, 434);
  auto& tunnel = e.Watch(e.iha, ip::kProtoIpip);
  auto& icmp_outsider = e.Watch(e.outsider, ip::kProtoIcmp);
  e.Udp(e.outsider, 434, "10.1.0.10:434", AsBytes("outsider"));
  e.Udp(e.vpngw, 434, "10.1.0.10:434", AsBytes("gateway"));
  e.Udp(e.vpngw, 434, "10.1.0.10:9999", AsBytes("gateway, another port"));
  e.Raw(e.vpngw, ip::kProtoIpip, "10.1.0.10", Bytes(28, 0x45));
  e.Raw(e.web, ip::kProtoIpip, "10.1.0.10", Bytes(28, 0x45));  // not the gateway
  e.Udp(e.host, 5000, "10.1.0.10:434", AsBytes("insider"));
  e.RunUntil(0.1);
  std::vector<std::string> who;
  for (const Got& g : at_iha) who.push_back(g.remote.ToString());
  EXPECT_EQ(who, (std::vector<std::string>{"192.0.2.10:434", "10.2.0.20:5000"}));
  ASSERT_EQ(tunnel.size(), 1u);
  EXPECT_EQ(ip::ParseIpv4(tunnel[0])->header.src, A("192.0.2.10"));
  EXPECT_TRUE(icmp_outsider.empty());  // dropped silently
  // The i-HA's reply to the gateway is part of the accepted flow.
  ASSERT_TRUE(e.iha->SendUdp(E("192.0.2.10:434"), 434, AsBytes("reply")).ok());
  e.RunUntil(0.2);
  ASSERT_EQ(at_gw.size(), 1u);
  EXPECT_EQ(at_gw[0].remote, E("10.1.0.10:434"));
  EXPECT_EQ(e.fw->rule_hits(), (std::vector<std::uint64_t>{1, 1, 1, 0, 0}));
  EXPECT_EQ(e.fw->counters().accepted_established, 1u);
  EXPECT_EQ(e.fw->counters().dropped_by_policy, 3u);
  EXPECT_EQ(e.fw->counters().dropped, 3u);
}

TEST(FirewallTest, RepliesToAcceptedFlowsGetBackAndNothingElseDoes) {
  Enterprise e;
  e.Install(Enterprise::Figure1());
  auto& at_host = e.BindUdp(e.host, 5000);
  e.Udp(e.host, 5000, "198.51.100.50:7");
  e.RunUntil(0.1);
  e.Udp(e.outsider, 7, "10.2.0.20:5000", AsBytes("reply"));
  e.Udp(e.outsider, 8, "10.2.0.20:5000", AsBytes("other port"));
  e.RunUntil(0.2);
  ASSERT_EQ(at_host.size(), 1u);
  EXPECT_EQ(at_host[0].remote, E("198.51.100.50:7"));
  // Replies keep the connection alive; 120 s of silence ends it.
  e.At(100, [&] { e.Udp(e.outsider, 7, "10.2.0.20:5000", AsBytes("at 100")); });
  e.At(219, [&] { e.Udp(e.outsider, 7, "10.2.0.20:5000", AsBytes("at 219")); });
  e.At(340, [&] { e.Udp(e.outsider, 7, "10.2.0.20:5000", AsBytes("at 340")); });
  e.RunUntil(400);
  EXPECT_EQ(at_host.size(), 3u);
  EXPECT_EQ(e.fw->rule_hits()[2], 1u);  // one new flow
  EXPECT_EQ(e.fw->counters().accepted_established, 3u);
  EXPECT_EQ(e.fw->counters().dropped, 2u);
  EXPECT_EQ(e.fw->ConnectionCount(), 0u);
}

TEST(FirewallTest, EchoRepliesAndRelatedErrorsGetBackUnrelatedErrorsDoNot) {
  Enterprise e;
  e.Install(Enterprise::Figure1());
  auto& icmp_host = e.Watch(e.host, ip::kProtoIcmp);
  auto& icmp_outsider = e.Watch(e.outsider, ip::kProtoIcmp);
  e.Ping(e.host, "198.51.100.50", 42);
  e.Udp(e.host, 5000, "198.51.100.50:9");  // closed: port unreachable comes back
  e.Ping(e.outsider, "10.2.0.20", 43);      // not allowed in
  e.RunUntil(0.1);
  ASSERT_EQ(icmp_host.size(), 2u);
  EXPECT_EQ(ip::ParseIpv4Icmp(icmp_host[0])->icmp.type, ip::kIcmpEchoReply);
  EXPECT_EQ(ip::ParseIpv4Icmp(icmp_host[1])->icmp.code, ip::kIcmpPortUnreachable);
  // The outsider saw the host's echo request, and no reply to its own ping.
  ASSERT_EQ(icmp_outsider.size(), 1u);
  EXPECT_EQ(ip::ParseIpv4Icmp(icmp_outsider[0])->icmp.type, ip::kIcmpEchoRequest);
  EXPECT_EQ(ip::ParseIpv4Icmp(icmp_outsider[0])->ip.src, A("10.2.0.20"));
  EXPECT_EQ(e.fw->counters().accepted_related, 1u);
  // An error about a flow that never existed is judged by the rules: dropped.
  ip::Ipv4Header fake;
  fake.src = A("10.2.0.20");
  fake.dst = A("198.51.100.50");
  Result<Bytes> never = ip::BuildIpv4Udp(fake, 6000, 53, {});
  ASSERT_TRUE(never.ok());
  Result<Bytes> err = ip::BuildIcmpDestinationUnreachable(ip::kIcmpPortUnreachable, *never);
  ASSERT_TRUE(err.ok());
  ASSERT_TRUE(e.outsider->SendRaw(*ip::BuildIcmpPacket(A("198.51.100.50"), A("10.2.0.20"), *err))
                  .ok());
  e.RunUntil(0.2);
  EXPECT_EQ(icmp_host.size(), 2u);
  EXPECT_EQ(e.fw->counters().accepted_related, 1u);
}

TEST(FirewallTest, RejectAnswersWithAdministrativelyProhibited) {
  Enterprise e;
  e.Install(Enterprise::Figure1());
  auto& icmp = e.Watch(e.outsider, ip::kProtoIcmp);
  e.Udp(e.outsider, 4000, "192.0.2.80:23", Bytes{});
  e.RunUntil(0.1);
  ASSERT_EQ(icmp.size(), 1u);
  Result<ip::Ipv4IcmpPacket> p = ip::ParseIpv4Icmp(icmp[0]);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->ip.src, A("198.51.100.1"));  // the interface it came in on
  EXPECT_EQ(p->icmp.type, ip::kIcmpDestinationUnreachable);
  EXPECT_EQ(p->icmp.code, ip::kIcmpAdminProhibited);
  Result<ip::Ipv4Packet> quote = ip::ParseIcmpQuote(p->icmp);
  ASSERT_TRUE(quote.ok());
  EXPECT_EQ(quote->header.dst, A("192.0.2.80"));
  EXPECT_EQ(e.fw->counters().rejected, 1u);
  EXPECT_EQ(e.fw->counters().rejects_sent, 1u);
  EXPECT_EQ(e.fw->rule_hits()[4], 1u);
  EXPECT_EQ(e.web->counters().received, 0u);
  EXPECT_TRUE(e.LogHas("reject (rule 5 no-telnet: reject from external udp dport 23) "));
}

TEST(FirewallTest, RuleHitsCountNewFlowsNotEveryPacket) {
  Enterprise e;
  e.Install(Enterprise::Figure1());
  auto& at_web = e.BindUdp(e.web, 80);
  for (int i = 0; i < 3; ++i) e.Udp(e.outsider, 4000, "192.0.2.80:80");
  e.Udp(e.outsider, 4001, "192.0.2.80:80");
  e.Udp(e.outsider, 4001, "192.0.2.80:81");  // no rule: policy
  e.RunUntil(0.1);
  EXPECT_EQ(at_web.size(), 4u);
  EXPECT_EQ(e.fw->rule_hits(), (std::vector<std::uint64_t>{0, 0, 0, 2, 0}));
  EXPECT_EQ(e.fw->counters().accepted_by_rule, 2u);
  EXPECT_EQ(e.fw->counters().accepted_established, 2u);
  EXPECT_EQ(e.fw->counters().dropped_by_policy, 1u);
  EXPECT_EQ(e.fw->ConnectionCount(), 2u);
}

TEST(FirewallTest, ZonePairPoliciesApplyWhenNoRuleMatches) {
  Enterprise e;
  FirewallConfig c = Enterprise::Figure1();
  c.policies = {{"dmz", "external", FirewallAction::kAccept},
                {"external", "dmz", FirewallAction::kReject}};
  e.Install(c);
  auto& at_outsider = e.BindUdp(e.outsider, 500);
  auto& icmp_outsider = e.Watch(e.outsider, ip::kProtoIcmp);
  e.Udp(e.vpngw, 4500, "198.51.100.50:500");
  e.Udp(e.outsider, 4500, "192.0.2.10:501");  // new, external -> dmz: rejected
  e.Udp(e.outsider, 4500, "10.1.0.10:434");   // external -> internal: default drop
  e.RunUntil(0.1);
  EXPECT_EQ(at_outsider.size(), 1u);
  ASSERT_EQ(icmp_outsider.size(), 1u);
  EXPECT_EQ(ip::ParseIpv4Icmp(icmp_outsider[0])->icmp.code, ip::kIcmpAdminProhibited);
  EXPECT_EQ(e.fw->counters().accepted_by_policy, 1u);
  EXPECT_EQ(e.fw->counters().dropped_by_policy, 2u);
}

TEST(FirewallTest, InputFilteringGuardsTheFirewallAndLetsItsOwnRepliesIn) {
  Enterprise e;
  FirewallConfig c = Enterprise::Figure1();
  c.filter_input = true;
  FirewallRule admin;
  admin.name = "admin-ping";
  admin.from_zones = {"internal"};
  admin.to_zones = {"self"};
  admin.protocol = ip::kProtoIcmp;
  c.rules.insert(c.rules.begin(), admin);  // before internal-out, which matches "self" too
  e.Install(c);
  auto& icmp_host = e.Watch(e.host, ip::kProtoIcmp);
  auto& icmp_outsider = e.Watch(e.outsider, ip::kProtoIcmp);
  auto& at_fw = e.BindUdp(e.fw_node, 9000);
  e.Ping(e.host, "10.2.0.1", 1);
  e.Ping(e.outsider, "198.51.100.1", 2);
  e.Udp(e.outsider, 7, "198.51.100.1:9000", AsBytes("unsolicited"));
  e.RunUntil(0.1);
  EXPECT_EQ(icmp_host.size(), 1u);
  EXPECT_TRUE(icmp_outsider.empty());
  EXPECT_TRUE(at_fw.empty());
  // The firewall's own flow out: the reply is let in.
  ASSERT_TRUE(e.fw_node->SendUdp(E("198.51.100.50:7"), 9000, AsBytes("hello")).ok());
  e.RunUntil(0.2);
  e.Udp(e.outsider, 7, "198.51.100.1:9000", AsBytes("reply"));
  e.RunUntil(0.3);
  ASSERT_EQ(at_fw.size(), 1u);
  EXPECT_EQ(at_fw[0].payload, Bytes(AsBytes("reply").begin(), AsBytes("reply").end()));
  EXPECT_EQ(e.fw->rule_hits()[0], 1u);
}

TEST(FirewallTest, LaterFragmentsFollowTheFirstFragmentsVerdict) {
  Enterprise e;
  e.Install(Enterprise::Figure1());
  e.vpngw->InterfaceByIndex(1)->set_mtu(576);
  e.outsider->InterfaceByIndex(1)->set_mtu(576);
  auto& at_iha = e.BindUdp(e.iha, 434);
  Bytes big(2000, 0x5a);
  e.Udp(e.vpngw, 434, "10.1.0.10:434", big);
  e.Udp(e.outsider, 434, "10.1.0.10:434", big);
  e.RunUntil(0.1);
  ASSERT_EQ(at_iha.size(), 1u);
  EXPECT_EQ(at_iha[0].remote, E("192.0.2.10:434"));
  EXPECT_EQ(at_iha[0].payload, big);
  EXPECT_EQ(e.fw->counters().accepted_fragments, 3u);  // four fragments each
  EXPECT_EQ(e.fw->counters().dropped_fragments, 3u);
  EXPECT_EQ(e.fw->counters().dropped_by_policy, 1u);
  EXPECT_EQ(e.iha->counters().reassembly_timeouts, 0u);
}

TEST(FirewallTest, TheConnectionTableIsBounded) {
  Enterprise e;
  FirewallConfig c = Enterprise::Figure1();
  c.max_connections = 2;
  e.Install(c);
  auto& at_outsider = e.BindUdp(e.outsider, 7);
  for (std::uint16_t port : {5001, 5002, 5003}) e.Udp(e.host, port, "198.51.100.50:7");
  e.RunUntil(0.1);
  EXPECT_EQ(at_outsider.size(), 2u);
  EXPECT_EQ(e.fw->counters().dropped_table_full, 1u);
  // Once the first two time out there is room again.
  e.At(200, [&] { e.Udp(e.host, 5003, "198.51.100.50:7"); });
  e.RunUntil(201);
  EXPECT_EQ(at_outsider.size(), 3u);
}

TEST(FirewallTest, RulesPrintForLogs) {
  FirewallConfig c = Enterprise::Figure1();
  EXPECT_EQ(c.rules[0].ToString(),
            "r25-registration: accept from dmz to internal udp 192.0.2.10/32 -> 10.1.0.10/32 "
            "dport 434");
  EXPECT_EQ(c.rules[1].ToString(),
            "r25-tunnel: accept from dmz to internal ipip 192.0.2.10/32 -> 10.1.0.10/32");
  EXPECT_EQ(c.rules[2].ToString(), "internal-out: accept from internal");
  FirewallRule r;
  r.protocol = 51;
  r.dst = P("10.0.0.0/8");
  r.from_zones = {"dmz", "external"};
  r.action = FirewallAction::kDrop;
  r.dst_ports = {};
  EXPECT_EQ(r.ToString(), "drop from dmz,external proto 51 any -> 10.0.0.0/8");
}

TEST(FirewallTest, CreateRefusesBadConfigurations) {
  Enterprise e;
  auto error = [&](FirewallConfig c) {
    Result<std::unique_ptr<Firewall>> r = Firewall::Create(*e.fw_node, std::move(c));
    return r.ok() ? std::string("ok") : r.error().detail();
  };
  FirewallConfig c = Enterprise::Figure1();
  c.zones["wlan0"] = "internal";
  EXPECT_EQ(error(c), "firewall 'fw' on node 'fw': no interface 'wlan0'");
  c = Enterprise::Figure1();
  c.zones["ext0"] = "self";
  EXPECT_EQ(error(c),
            "firewall 'fw' on node 'fw': interface 'ext0' has zone name 'self' (empty or "
            "reserved)");
  c = Enterprise::Figure1();
  c.rules[3].to_zones = {"dmz2"};
  EXPECT_EQ(error(c), "firewall 'fw' on node 'fw': rule 4 'web': no interface is in zone 'dmz2'");
  c = Enterprise::Figure1();
  c.rules[1].dst_ports = {1, 2};
  EXPECT_EQ(error(c),
            "firewall 'fw' on node 'fw': rule 2 'r25-tunnel': a port range needs protocol udp or "
            "tcp");
  c = Enterprise::Figure1();
  c.policies = {{"dmz", "mars", FirewallAction::kAccept}};
  EXPECT_EQ(error(c),
            "firewall 'fw' on node 'fw': policy dmz -> mars: no interface is in zone 'mars'");
  c = Enterprise::Figure1();
  c.udp_timeout = Duration::Zero();
  EXPECT_EQ(error(c), "firewall 'fw' on node 'fw': udp_timeout must be positive");
  EXPECT_EQ(e.fw_node->counters().dropped_filter, 0u);
}

}  // namespace
}  // namespace mipsec::sim

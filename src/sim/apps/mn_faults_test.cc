// The RFC 5266 mobile node (MnApp) in faulty variants of the built-in
// Figure 1 scenario (issue 7 item 4): loss on every link it visits, NATs
// between it and the i-HA (RFC 3519 in c and f, ESP in UDP 4500 in mc, both
// at once for a private TIA), a restarted i-HA that lost its bindings, and a
// restarted VPN gateway that hands out another TIA. Each test names the
// MISSION.md requirement it checks and asserts, as every hostile or faulty
// scenario must, that no user packet of the MN (home 10.1.0.10) leaves an
// untrusted segment in clear (sim/pcap_invariants.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "sim/apps/mn_walk_test_util.h"
#include "sim/pcap_invariants.h"
#include "sim/scenario/builtin.h"
#include "sim/scenario/runner.h"
#include "sim/scenario/toml_loader.h"

namespace mipsec::sim {
namespace {

using scenario::EventSpec;
using scenario::LegReport;
using scenario::Scenario;
using scenario::ScenarioReport;
using scenario::ScenarioRun;

using mn_walk::ExpectNothingInClear;
using mn_walk::kHome;
using mn_walk::Modes;
const Ipv4Address kHa = *Ipv4Address::Parse("10.1.0.2");

struct Edit {
  std::string from, to;
  bool all = false;  // every occurrence
};

struct Walk {
  std::unique_ptr<ScenarioRun> run;
  ScenarioReport report;
};

// Figure 1 with text edits, then `tweak` on the parsed scenario; the run
// ends at `end`, and the walk's events from `drop_from` (default: `end`) on
// are dropped: each test runs only what its point needs.
Walk RunVariant(const std::vector<Edit>& edits, Duration end,
                const std::function<void(Scenario&)>& tweak = nullptr,
                std::optional<Duration> drop_from = std::nullopt) {
  std::string text(*scenario::BuiltinScenario("figure1"));
  for (const Edit& e : edits) {
    std::size_t at = text.find(e.from);
    EXPECT_NE(at, std::string::npos) << e.from;
    while (at != std::string::npos) {
      text.replace(at, e.from.size(), e.to);
      if (!e.all) break;
      at = text.find(e.from, at + e.to.size());
    }
  }
  Walk w;
  std::optional<Scenario> sc = mn_walk::Parse(text, "figure1.toml");
  if (!sc) return w;
  sc->duration = end;
  const Duration cut = drop_from.value_or(end);
  std::erase_if(sc->events, [&](const EventSpec& e) {
    return e.at >= cut && e.kind != EventSpec::Kind::kEnd;
  });
  for (EventSpec& e : sc->events) {
    if (e.kind == EventSpec::Kind::kEnd) e.at = end;
  }
  if (tweak) tweak(*sc);
  // MIPSEC_FAULTS_SEED=n replays a test with another random seed (loss,
  // jitter, NAT ports): the bounds are meant to hold for any seed.
  std::optional<std::uint64_t> seed;
  if (const char* env = std::getenv("MIPSEC_FAULTS_SEED")) seed = std::strtoull(env, nullptr, 10);
  w.run = mn_walk::Build(*sc, seed);
  if (w.run) w.report = w.run->Run();
  return w;
}



// --- A minimal reader of our pcaps (LINKTYPE_RAW, nanoseconds, host order) ---
struct Packet {
  double t = 0;  // seconds
  Ipv4Address src, dst;
  std::uint8_t proto = 0;
  std::uint16_t sport = 0, dport = 0;
  std::uint8_t udp_first = 0;       // first payload byte (Mobile IP message type)
  std::uint32_t udp_first4 = 0;     // first 4 payload bytes (the non-ESP marker: 0)
  std::size_t udp_len = 0;
};

std::uint32_t Le32(const std::uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t{p[3]} << 24);
}

std::vector<Packet> ReadPcap(const Bytes& b) {
  std::vector<Packet> out;
  if (b.size() < 24) return out;
  std::size_t off = 24;
  while (off + 16 <= b.size()) {
    const std::uint8_t* h = b.data() + off;
    std::uint32_t sec = Le32(h), frac = Le32(h + 4), incl = Le32(h + 8);
    off += 16;
    if (off + incl > b.size()) break;
    const std::uint8_t* ip = b.data() + off;
    off += incl;
    if (incl < 20 || (ip[0] >> 4) != 4) continue;
    std::size_t ihl = (ip[0] & 0xf) * 4u;
    Packet p;
    p.t = sec + frac / 1e9;
    p.proto = ip[9];
    p.src = Ipv4Address::FromBytes(ByteSpan(ip + 12, 4).subspan<0, 4>());
    p.dst = Ipv4Address::FromBytes(ByteSpan(ip + 16, 4).subspan<0, 4>());
    if (p.proto == 17 && incl >= ihl + 8) {
      const std::uint8_t* u = ip + ihl;
      p.sport = static_cast<std::uint16_t>((u[0] << 8) | u[1]);
      p.dport = static_cast<std::uint16_t>((u[2] << 8) | u[3]);
      p.udp_len = incl - ihl - 8;
      if (p.udp_len >= 1) p.udp_first = u[8];
      if (p.udp_len >= 4) {
        p.udp_first4 = (std::uint32_t{u[8]} << 24) | (u[9] << 16) | (u[10] << 8) | u[11];
      }
    }
    out.push_back(p);
  }
  return out;
}

std::vector<Packet> SegmentPackets(ScenarioRun& run, const char* name) {
  Segment* seg = run.network().FindSegment(name);
  EXPECT_NE(seg, nullptr) << name;
  return seg ? ReadPcap(seg->pcap().bytes()) : std::vector<Packet>{};
}

bool IsTunnelData(const Packet& p) {  // RFC 3519 Tunnel Data message (type 4)
  return p.proto == 17 && (p.sport == 434 || p.dport == 434) && p.udp_first == 4;
}

std::optional<Ipv4Address> LeaseAddress(const LegReport& leg) {
  for (const std::string& a : leg.addresses) {
    auto slash = a.find('/');
    if (a.substr(slash + 1) == "32") continue;  // the home address as a host address
    return *Ipv4Address::Parse(a.substr(0, slash));
  }
  return std::nullopt;
}

bool TimelineHas(const ScenarioReport& r, const std::string& requirement, const std::string& text,
                 double after_s = 0) {
  for (const auto& e : r.timeline) {
    if ((e.at - Timestamp::Zero()).SecondsF() < after_s) continue;
    if (e.requirement.find(requirement) != std::string::npos &&
        e.text.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// The event log lines in [from_s, to_s] whose text contains `filter`
// (MIPSEC_FAULTS_LOG=1 prints them: for a human reading a failure).
void PrintLog(ScenarioRun& run, double from_s, double to_s, const std::string& filter = "") {
  if (!std::getenv("MIPSEC_FAULTS_LOG")) return;
  for (const std::string& l : run.network().log_sink().lines()) {
    double t = std::atof(l.c_str());
    if (t < from_s || t > to_s) continue;
    if (!filter.empty() && l.find(filter) == std::string::npos) continue;
    std::printf("%s\n", l.c_str());
  }
}

void PrintTimeline(const ScenarioReport& r, double from_s, double to_s) {
  for (const auto& e : r.timeline) {
    double t = (e.at - Timestamp::Zero()).SecondsF();
    if (t < from_s || t > to_s) continue;
    std::printf("  %9.4f s %-7s %-8s %s [%s]\n", t, e.where.c_str(), e.kind.c_str(),
                e.text.c_str(), e.requirement.c_str());
  }
}

// Upper bound of a Binomial(n, p) count: mean + 4 standard deviations.
double Bound(double n, double p) { return n * p + 4 * std::sqrt(n * p * (1 - p)) + 1; }

// ---------------------------------------------------------------------------
// 1. 5 % loss on every link the MN visits (home, visit-c, visit-f, ext-pub,
// ext-nat): every leg still reaches its mode and the stream recovers.
//
// The run is deterministic (seed 1). MIPSEC_FAULTS_SEED=n replays it with
// another loss pattern; over seeds 1-30, 23 pass. The 7 others fail for
// three reasons, none a leak: DHCP backing off past the leg (INIT-REBOOT
// NAK, DISCOVER and REQUEST each retransmitted after 4 s then 8 s: seeds
// 10, 14, 23); a lost FA registration reply (f: the i-HA already points at
// the FA while the MN still reverse-tunnels from its co-located CoA until
// its retransmission is answered, 1 s + 2 s: seeds 16, 26); and the VPN
// "ready" before the gateway's ESP follows (its RFC 4555 3.7 return
// routability check lost: seeds 24, 30).
//
// Legs last 15 s instead of 10 s: with loss, DHCP (RFC 2131 4.1: retransmit
// after 4 s, then 8 s, each +-1 s) may need two retransmissions of the same
// message (4 + 8 + 2 = 14 s), and the leg must hold that. The home link is
// lossy only while the MN is on it (it is also the i-HA's link, which every
// later registration crosses).
TEST(MnFaults, R2_R3_R10_R11_FivePercentLossOnEveryVisitedLink) {
  const double kLoss = 0.05;
  Walk w = RunVariant({}, Duration::Seconds(90), [&](Scenario& sc) {
    for (auto& s : sc.segments) {
      if (s.name == "home" || s.name == "visit-c" || s.name == "visit-f" ||
          s.name == "ext-pub" || s.name == "ext-nat") {
        s.params.loss = kLoss;
      }
    }
    for (EventSpec& e : sc.events) e.at = Duration::Nanos(e.at.nanos() * 3 / 2);
    for (auto& st : sc.streams) st.stop = Duration::Seconds(89);
    EventSpec home_clean;
    home_clean.at = Duration::Seconds(15);
    home_clean.kind = EventSpec::Kind::kLink;
    home_clean.segment = "home";
    for (const auto& seg : sc.segments) {
      if (seg.name == "home") home_clean.params = seg.params;
    }
    home_clean.params->loss = 0;
    sc.events.push_back(home_clean);
    std::stable_sort(sc.events.begin(), sc.events.end(),
                     [](const EventSpec& a, const EventSpec& b) { return a.at < b.at; });
  });
  ASSERT_TRUE(w.run);
  std::printf("%s", scenario::FormatReportText(w.report).c_str());
  PrintLog(*w.run, 0, 90, "node.mn.mn]");
  PrintLog(*w.run, 0, 90, "dhcp");
  PrintLog(*w.run, 0, 90, "ike-gw");
  EXPECT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c", "f", "mc", "mc", "c"}));
  for (std::size_t i = 0; i < w.report.legs.size(); ++i) {
    const LegReport& l = w.report.legs[i];
    ASSERT_TRUE(l.ready_after) << l.name;
    // Each direction of the stream crosses the MN's lossy link once (at
    // home the CN's packets cross the home link twice: r-home -> i-HA ->
    // MN). Past the handover (ready_after, plus one second for a
    // retransmission or the FA switch of leg f), at most Binomial(sent, p)
    // + 4 sigma may go; during it, everything may (100 packets per second).
    double handover_s = (l.ready_after->nanos() / 1e9) + 1.0;
    for (const auto* dir : {&l.forward[0], &l.reverse[0]}) {
      double n = static_cast<double>(dir->sent);
      double p = i == 0 && dir == &l.forward[0] ? 1 - (1 - kLoss) * (1 - kLoss) : kLoss;
      double bound = Bound(n, p) + handover_s * 100;
      EXPECT_LE(static_cast<double>(dir->lost), bound) << l.name << " sent " << n;
      // It recovers: once the MN is ready, no silence longer than 1 s
      // (5 % loss makes gaps of a few packets; 1 s would be ~20 lost in a
      // row, p = 0.05^20).
      EXPECT_LE(dir->longest_gap, *l.ready_after + Duration::Seconds(1)) << l.name;
    }
    // The handover itself stays bounded despite the loss: DHCP as above
    // (14 s) for c, f and home. Outside, a lost MOBIKE update or its answer
    // costs IKE's retransmission timer (RFC 7296 2.1: 2 s, then 4 s, 8 s)
    // and a lost registration through the tunnel 1 s, 2 s, 4 s. The leg
    // (15 s) bounds it.
    EXPECT_LT(l.ready_after->nanos() / 1e9, 15.0) << l.name;
  }
  ExpectNothingInClear(*w.run);
}

// ---------------------------------------------------------------------------
// 2a. A NAT between visit-c and the core: the i-HA sees the NAT's address,
// not the co-located CoA, and grants RFC 3519 UDP tunnelling (R16).
TEST(MnFaults, R16_NatInFrontOfVisitCUsesUdpTunnellingInC) {
  Walk w = RunVariant({{"[[nat]]\nnode = \"nat\"",
                        "[[nat]]\nnode = \"r-c\"\noutside = \"eth1\"\n\n[[nat]]\nnode = \"nat\""}},
                      Duration::Seconds(15));
  ASSERT_TRUE(w.run);
  std::printf("%s", scenario::FormatReportText(w.report).c_str());
  ASSERT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c"}));
  const LegReport& c = w.report.legs[1];
  MnApp* mn = w.run->mobile_node("mn");
  ASSERT_NE(mn, nullptr);
  ASSERT_TRUE(mn->controller().active_interface());
  const auto* engine = mn->controller().engine(*mn->controller().active_interface());
  ASSERT_TRUE(engine && engine->binding());
  EXPECT_EQ(engine->binding()->encapsulation, mip4::TunnelEncapsulation::kUdp);
  auto ha = w.run->home_agent("i-ha")->Bindings(kHome);
  ASSERT_EQ(ha.size(), 1u);
  EXPECT_TRUE(ha[0].udp_tunnel);
  EXPECT_EQ(ha[0].tunnel_endpoint.address, *Ipv4Address::Parse("10.0.0.3"));  // r-c's outside
  // On the wire: tunnel data both ways on visit-c (the MN's lease), and
  // none in IP-in-IP.
  std::optional<Ipv4Address> lease = LeaseAddress(c);
  ASSERT_TRUE(lease);
  int up = 0, down = 0, ipip = 0;
  for (const Packet& p : SegmentPackets(*w.run, "visit-c")) {
    if (IsTunnelData(p) && p.src == *lease) ++up;
    if (IsTunnelData(p) && p.dst == *lease) ++down;
    if (p.proto == 4) ++ipip;
  }
  std::printf("visit-c: RFC 3519 tunnel data %d up, %d down; IP-in-IP %d\n", up, down, ipip);
  EXPECT_GT(up, 300);
  EXPECT_GT(down, 300);
  EXPECT_EQ(ipip, 0);
  // Data flows: past the handover nothing is lost (no loss configured).
  EXPECT_GT(c.forward[0].delivered, 400u);
  EXPECT_LE(c.forward[0].lost, c.ready_after ? c.ready_after->nanos() / 10'000'000 + 5 : 0);
  ExpectNothingInClear(*w.run);
}

// 2b. A NAT between the i-FA and the core (a new router r-f masquerading
// the FA's uplink; the FA is configured behind_nat, RFC 3519 3.4): the
// probe (c) and the registration through the FA (f) both reach the i-HA
// from r-f's address, and both get RFC 3519 UDP tunnelling.
TEST(MnFaults, R16_NatBehindForeignAgentUsesUdpTunnellingInF) {
  const std::string r_f = R"(
[[segment]]
name = "f-up"
delay = "0.5ms"

[[node]]
name = "r-f"
kind = "router"
  [[node.interface]]
  name = "eth0"
  segment = "f-up"
  address = "10.5.0.1/30"
  [[node.interface]]
  name = "eth1"
  segment = "core"
  address = "10.0.0.4/24"
  [[node.route]]
  to = "10.4.0.0/24"
  via = "10.5.0.2"
  [[node.route]]
  to = "default"
  via = "10.0.0.1"

[[nat]]
node = "r-f"
outside = "eth1"

# --- Firewall and DMZ)";
  Walk w = RunVariant(
      {
          {"segment = \"core\"\n  address = \"10.0.0.4/24\"\n  [[node.route]]\n  to = "
           "\"default\"\n  via = \"10.0.0.1\"",
           "segment = \"f-up\"\n  address = \"10.5.0.2/30\"\n  [[node.route]]\n  to = "
           "\"default\"\n  via = \"10.5.0.1\""},
          {"# --- Firewall and DMZ", r_f},
          {"reverse_tunnel = true\n", "reverse_tunnel = true\nbehind_nat = true\n"},
      },
      Duration::Seconds(25));
  ASSERT_TRUE(w.run);
  std::printf("%s", scenario::FormatReportText(w.report).c_str());
  PrintTimeline(w.report, 20, 25);
  PrintLog(*w.run, 20, 25, "i-fa");
  ASSERT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c", "f"}));
  auto ha = w.run->home_agent("i-ha")->Bindings(kHome);
  ASSERT_EQ(ha.size(), 1u);
  std::printf("i-HA binding: CoA %s endpoint %s udp %d\n", ha[0].care_of_address.ToString().c_str(),
              ha[0].tunnel_endpoint.ToString().c_str(), ha[0].udp_tunnel);
  EXPECT_EQ(ha[0].care_of_address, *Ipv4Address::Parse("10.4.0.1"));
  EXPECT_TRUE(ha[0].udp_tunnel);
  EXPECT_EQ(ha[0].tunnel_endpoint.address, *Ipv4Address::Parse("10.0.0.4"));  // r-f's outside
  // On the FA's uplink: RFC 3519 tunnel data between the FA and the i-HA.
  int up = 0, down = 0, ipip = 0;
  for (const Packet& p : SegmentPackets(*w.run, "f-up")) {
    if (p.t < 21) continue;  // mode f from ~20.9 s
    if (IsTunnelData(p) && p.src == *Ipv4Address::Parse("10.4.0.1")) ++up;
    if (IsTunnelData(p) && p.dst == *Ipv4Address::Parse("10.4.0.1")) ++down;
    if (p.proto == 4) ++ipip;
  }
  std::printf("f-up: RFC 3519 tunnel data %d up, %d down; IP-in-IP %d\n", up, down, ipip);
  EXPECT_GT(up, 300);
  EXPECT_GT(down, 300);
  EXPECT_EQ(ipip, 0);
  const LegReport& f = w.report.legs[2];
  ASSERT_TRUE(f.ready_after);
  EXPECT_GT(f.forward[0].delivered, 400u);
  EXPECT_LE(f.forward[0].lost, f.ready_after->nanos() / 10'000'000 + 5);
  ExpectNothingInClear(*w.run);
}

// 2c. mc behind the NAT of ext-nat (figure1's leg 5): ESP in UDP 4500
// (RFC 3948), never raw ESP, from the MN's private address.
TEST(MnFaults, R16_McBehindNatUsesEspInUdp4500) {
  Walk w = RunVariant({}, Duration::Seconds(45));
  ASSERT_TRUE(w.run);
  ASSERT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c", "f", "mc", "mc"}));
  std::optional<Ipv4Address> lease = LeaseAddress(w.report.legs[4]);
  ASSERT_TRUE(lease);
  int esp_in_udp = 0, raw_esp = 0, ike_4500 = 0;
  for (const Packet& p : SegmentPackets(*w.run, "ext-nat")) {
    if (p.src != *lease && p.dst != *lease) continue;
    if (p.proto == 50) ++raw_esp;
    if (p.proto == 17 && (p.sport == 4500 || p.dport == 4500)) {
      if (p.udp_len >= 4 && p.udp_first4 == 0) {
        ++ike_4500;
      } else if (p.udp_len > 1) {
        ++esp_in_udp;
      }
    }
  }
  std::printf("ext-nat: ESP in UDP 4500 %d, IKE on 4500 %d, raw ESP %d\n", esp_in_udp, ike_4500,
              raw_esp);
  EXPECT_GT(esp_in_udp, 800);  // ~100 echoes per second out, as many in
  EXPECT_GT(ike_4500, 0);      // MOBIKE's UPDATE_SA_ADDRESSES on 4500
  EXPECT_EQ(raw_esp, 0);
  ExpectNothingInClear(*w.run);
}

// 2d. R16 "both at once": the gateway NATs the TIA pool toward the intranet
// (the TIA is an address the i-HA cannot reach directly; the firewall no
// longer routes the pool to the gateway). The registration through the
// tunnel reaches the i-HA from the gateway's address, so the i-HA grants
// RFC 3519 inside the ESP tunnel.
TEST(MnFaults, R16_PrivateTiaBehindGatewayNatUsesUdpTunnellingInsideEsp) {
  Walk w = RunVariant(
      {
          // The gateway masquerades what leaves its DMZ interface.
          {"[[nat]]\nnode = \"nat\"",
           "[[nat]]\nnode = \"mvpn\"\noutside = \"eth0\"\n\n[[nat]]\nnode = \"nat\""},
          // Nobody routes the TIA pool: the i-HA cannot reach a TIA directly.
          {"  [[node.route]]\n  to = \"10.10.0.0/24\"\n  via = \"192.0.2.2\"\n", ""},
          // The gateway itself (the NAT's outside address) may register.
          {"trusted_subnets = [\"10.0.0.0/8\"]",
           "trusted_subnets = [\"10.0.0.0/8\", \"192.0.2.2/32\"]"},
      },
      Duration::Seconds(36));
  ASSERT_TRUE(w.run);
  std::printf("%s", scenario::FormatReportText(w.report).c_str());
  PrintTimeline(w.report, 30, 36);
  ASSERT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c", "f", "mc"}));
  MnApp* mn = w.run->mobile_node("mn");
  const auto& tb = mn->controller().tunnel_engine().binding();
  ASSERT_TRUE(tb);
  EXPECT_EQ(tb->encapsulation, mip4::TunnelEncapsulation::kUdp);
  auto ha = w.run->home_agent("i-ha")->Bindings(kHome);
  ASSERT_EQ(ha.size(), 1u);
  EXPECT_TRUE(ha[0].udp_tunnel);
  EXPECT_EQ(ha[0].care_of_address, mn->controller().vpn()->tia);
  EXPECT_EQ(ha[0].tunnel_endpoint.address, *Ipv4Address::Parse("192.0.2.2"));
  // On the DMZ, the i-HA's RFC 3519 tunnel data to the gateway's NAT.
  int to_gw = 0, from_gw = 0;
  for (const Packet& p : SegmentPackets(*w.run, "dmz")) {
    if (IsTunnelData(p) && p.dst == *Ipv4Address::Parse("192.0.2.2") && p.src == kHa) ++to_gw;
    if (IsTunnelData(p) && p.src == *Ipv4Address::Parse("192.0.2.2") && p.dst == kHa) ++from_gw;
  }
  std::printf("dmz: RFC 3519 tunnel data i-HA -> gateway %d, gateway -> i-HA %d\n", to_gw,
              from_gw);
  EXPECT_GT(to_gw, 300);
  EXPECT_GT(from_gw, 300);
  const LegReport& mc = w.report.legs[3];
  ASSERT_TRUE(mc.ready_after);
  EXPECT_GT(mc.forward[0].delivered, 400u);
  EXPECT_GT(mc.reverse[0].delivered, 400u);
  EXPECT_LE(mc.forward[0].lost, mc.ready_after->nanos() / 10'000'000 + 5);
  ExpectNothingInClear(*w.run);
}

// ---------------------------------------------------------------------------
// 3. The i-HA restarts mid-leg in c and forgets the binding. R22: the MN
// re-registers every T_MONITOR - N (here 6 s - 2 s), so the binding is back
// within 4 s and the stream with it.
TEST(MnFaults, R22_HomeAgentRestartInCRecoversWithinTMonitorMinusN) {
  const double kRestartAt = 13.0, kPeriod = 4.0;  // t_monitor - monitor_margin
  Walk w = RunVariant({{"t_monitor = \"60s\"", "t_monitor = \"6s\""},
                       {"monitor_margin = \"10s\"", "monitor_margin = \"2s\""}},
                      Duration::Seconds(20), [&](Scenario& sc) {
                        EventSpec e;
                        e.at = Duration::Millis(static_cast<std::int64_t>(kRestartAt * 1000));
                        e.kind = EventSpec::Kind::kRestart;
                        e.node = "i-ha";
                        sc.events.push_back(e);
                        std::stable_sort(sc.events.begin(), sc.events.end(),
                                         [](const EventSpec& a, const EventSpec& b) {
                                           return a.at < b.at;
                                         });
                      });
  ASSERT_TRUE(w.run);
  std::printf("%s", scenario::FormatReportText(w.report).c_str());
  PrintTimeline(w.report, 10, 20);
  ASSERT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c"}));
  const LegReport& c = w.report.legs[1];
  // The binding is back, pointing at the MN's lease.
  auto ha = w.run->home_agent("i-ha")->Bindings(kHome);
  ASSERT_EQ(ha.size(), 1u);
  EXPECT_EQ(ha[0].care_of_address, *LeaseAddress(c));
  EXPECT_TRUE(TimelineHas(w.report, "R22", "re-registering", kRestartAt));
  // Bounded loss: the restart costs at most one re-registration period
  // (plus a round trip): 100 packets per second each way.
  double ready_s = c.ready_after->nanos() / 1e9;
  double bound = (ready_s + kPeriod + 0.1) * 100;
  EXPECT_GT(c.forward[0].lost, 0u);  // the restart does cost something
  EXPECT_LE(static_cast<double>(c.forward[0].lost), bound);
  EXPECT_LE(c.forward[0].longest_gap,
            Duration::Millis(static_cast<std::int64_t>(kPeriod * 1000 + 100)));
  std::printf("restart in c: forward lost %llu, longest gap %s\n",
              static_cast<unsigned long long>(c.forward[0].lost),
              c.forward[0].longest_gap.ToString().c_str());
  ExpectNothingInClear(*w.run);
}

// 3b. The same restart while the MN is outside (mc). R22's T_MONITOR applies
// inside only: nothing checks the binding through the tunnel but its
// lifetime. The engine re-registers min(15 s, lifetime / 2) before the
// binding expires: with lifetime 20 s, 10 s after registering (~30.1 s ->
// ~40.1 s), so the restart at 32 s costs ~8 s. (With figure1's 10 min it
// would cost up to 5 min: see the report.)
TEST(MnFaults, R3_HomeAgentRestartInMcRecoversByLifetimeRenewal) {
  Walk w = RunVariant({{"lifetime = \"10m\"", "lifetime = \"20s\""}}, Duration::Seconds(43),
                      [&](Scenario& sc) {
                        EventSpec e;
                        e.at = Duration::Seconds(32);
                        e.kind = EventSpec::Kind::kRestart;
                        e.node = "i-ha";
                        sc.events.push_back(e);
                        std::stable_sort(sc.events.begin(), sc.events.end(),
                                         [](const EventSpec& a, const EventSpec& b) {
                                           return a.at < b.at;
                                         });
                      },
                      Duration::Seconds(40));  // the MN stays on ext-pub
  ASSERT_TRUE(w.run);
  std::printf("%s", scenario::FormatReportText(w.report).c_str());
  PrintTimeline(w.report, 30, 43);
  PrintLog(*w.run, 30, 43, "node.mn.mn");
  PrintLog(*w.run, 30, 43, "i-ha");
  ASSERT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c", "f", "mc"}));
  const LegReport& mc = w.report.legs[3];
  auto ha = w.run->home_agent("i-ha")->Bindings(kHome);
  std::printf("restart in mc: forward lost %llu, longest gap %s, i-HA bindings %zu\n",
              static_cast<unsigned long long>(mc.forward[0].lost),
              mc.forward[0].longest_gap.ToString().c_str(), ha.size());
  ASSERT_EQ(ha.size(), 1u);
  EXPECT_EQ(ha[0].care_of_address, w.run->mobile_node("mn")->controller().vpn()->tia);
  // The outage: from the restart to the renewal at registration + 10 s.
  EXPECT_GE(mc.forward[0].longest_gap, Duration::Seconds(7));
  EXPECT_LE(mc.forward[0].longest_gap, Duration::Millis(8'300));
  EXPECT_LE(mc.forward[0].lost, 850u);
  ExpectNothingInClear(*w.run);
}

// ---------------------------------------------------------------------------
// 4. R4: the VPN gateway restarts while the MN is outside, with a pool that
// no longer holds the old TIA. The MN's IKE liveness check finds the IKE SA
// gone (the gateway sends nothing for an unknown SPI), the MN connects
// again, gets a new TIA and registers it with the i-HA.
TEST(MnFaults, R4_GatewayRestartNewTiaNewTunnelRegistration) {
  const Ipv4Address kNewFirst = *Ipv4Address::Parse("10.10.0.100");
  Walk w = RunVariant(
      {{"vpn_routes = [\"10.0.0.0/8\"]",
        "vpn_routes = [\"10.0.0.0/8\"]\nvpn_dpd_interval = \"2s\"\nvpn_retransmit_timeout = "
        "\"500ms\"\nvpn_retransmits = 2"}},
      Duration::Seconds(48), [&](Scenario& sc) {
        EventSpec e;
        e.at = Duration::Seconds(33);
        e.kind = EventSpec::Kind::kRestart;
        e.node = "mvpn";
        e.tia_first = kNewFirst;
        e.tia_last = *Ipv4Address::Parse("10.10.0.199");
        sc.events.push_back(e);
        std::stable_sort(sc.events.begin(), sc.events.end(),
                         [](const EventSpec& a, const EventSpec& b) { return a.at < b.at; });
      },
      Duration::Seconds(40));  // the MN stays on ext-pub
  ASSERT_TRUE(w.run);
  std::printf("%s", scenario::FormatReportText(w.report).c_str());
  PrintTimeline(w.report, 30, 48);
  PrintLog(*w.run, 32.9, 48, "mn-ike");
  ASSERT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c", "f", "mc"}));
  MnApp* mn = w.run->mobile_node("mn");
  ASSERT_TRUE(mn->controller().vpn());
  EXPECT_EQ(mn->controller().vpn()->tia, kNewFirst);
  EXPECT_TRUE(TimelineHas(w.report, "R15", "VPN down", 33));
  EXPECT_TRUE(
      TimelineHas(w.report, "R4", "registration through the VPN tunnel, TIA 10.10.0.100", 33));
  auto ha = w.run->home_agent("i-ha")->Bindings(kHome);
  ASSERT_EQ(ha.size(), 1u);
  EXPECT_EQ(ha[0].care_of_address, kNewFirst);
  const auto& tb = mn->controller().tunnel_engine().binding();
  ASSERT_TRUE(tb);
  EXPECT_EQ(tb->care_of_address, kNewFirst);
  // Bounded by the MN's IKE settings: DPD after 2 s of silence, then 2
  // retransmissions (0.5 + 1 s) and a last wait (2 s), then vpn_retry (5 s)
  // and a new IKE_SA_INIT/IKE_AUTH + registration (< 0.5 s): ~11 s.
  const LegReport& mc = w.report.legs[3];
  std::printf("gateway restart: forward lost %llu, longest gap %s\n",
              static_cast<unsigned long long>(mc.forward[0].lost),
              mc.forward[0].longest_gap.ToString().c_str());
  EXPECT_LE(mc.forward[0].longest_gap, Duration::Seconds(12));
  // The stream is back before the end.
  EXPECT_GT(mc.forward[0].delivered, 500u);
  ExpectNothingInClear(*w.run);
}

// ---------------------------------------------------------------------------
// 5. A second VPN gateway (R4). MnApp takes one gateway address (MnAppConfig
// gateway), so it cannot fail over between two; configured with the second
// gateway's address instead, it behaves the same: mc through that gateway,
// with a TIA from that gateway's pool.
// A second VPN gateway in the DMZ (mvpn2, 192.0.2.3, TIA pool
// 10.10.1.0/24) with the firewall and routes that let it work: the edits
// to figure1.toml, to which a test adds its own.
std::vector<Edit> SecondGatewayEdits() {
  const std::string second = R"(
[[node]]
name = "mvpn2"
kind = "router"
role = "mVPN"
  [[node.interface]]
  name = "eth0"
  segment = "dmz"
  address = "192.0.2.3/24"
  [[node.route]]
  to = "default"
  via = "192.0.2.1"

[[vpn_gateway]]
node = "mvpn2"
interface = "eth0"
local_id = "fqdn:mvpn.corp.example"
psk = "6d697073656320666967757265203121"
tia_pool = "10.10.1.0/24"
intranet = ["10.0.0.0/8"]
mobike = true

[[vpn_gateway]]
node = "mvpn"
)";
  return {
          {"[[vpn_gateway]]\nnode = \"mvpn\"\n", second},
          {"192.0.2.2/32", "192.0.2.0/29", /*all=*/true},
          {"  [[node.route]]\n  to = \"10.10.0.0/24\"\n  via = \"192.0.2.2\"\n",
           "  [[node.route]]\n  to = \"10.10.0.0/24\"\n  via = \"192.0.2.2\"\n"
           "  [[node.route]]\n  to = \"10.10.1.0/24\"\n  via = \"192.0.2.3\"\n"},
  };
}

TEST(MnFaults, R3_R4_SecondGatewayConfiguredInsteadBehavesTheSame) {
  std::vector<Edit> edits = SecondGatewayEdits();
  edits.push_back({"vpn_gateway = \"192.0.2.2\"", "vpn_gateway = \"192.0.2.3\""});
  Walk w = RunVariant(edits, Duration::Seconds(45));
  ASSERT_TRUE(w.run);
  std::printf("%s", scenario::FormatReportText(w.report).c_str());
  ASSERT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c", "f", "mc", "mc"}));
  MnApp* mn = w.run->mobile_node("mn");
  ASSERT_TRUE(mn->controller().vpn());
  EXPECT_EQ(mn->controller().vpn()->gateway, *Ipv4Address::Parse("192.0.2.3"));
  EXPECT_TRUE(Ipv4Prefix::Parse("10.10.1.0/24")->Contains(mn->controller().vpn()->tia));
  auto ha = w.run->home_agent("i-ha")->Bindings(kHome);
  ASSERT_EQ(ha.size(), 1u);
  EXPECT_EQ(ha[0].care_of_address, mn->controller().vpn()->tia);
  EXPECT_EQ(w.run->vpn_gateway("mvpn")->counters().ike_in, 0u);
  for (std::size_t i = 3; i < 5; ++i) {
    const LegReport& l = w.report.legs[i];
    ASSERT_TRUE(l.ready_after) << l.name;
    EXPECT_LE(l.forward[0].lost, l.ready_after->nanos() / 10'000'000 + 5) << l.name;
  }
  ExpectNothingInClear(*w.run);
}

// R4 with real failover: the MN is configured with two gateways. The first
// one dies while the MN is outside; the MN's IKE liveness check finds it
// gone, its reconnect to the first gateway fails, it sets up the VPN with
// the second one, and registers the second one's TIA with the i-HA.
TEST(MnFaults, R4_FailsOverToTheSecondGatewayAndRegistersItsTia) {
  std::vector<Edit> edits = SecondGatewayEdits();
  edits.push_back({"vpn_routes = [\"10.0.0.0/8\"]",
                   "vpn_routes = [\"10.0.0.0/8\"]\nvpn_backup_gateways = \"192.0.2.3\"\n"
                   "vpn_dpd_interval = \"2s\"\nvpn_retransmit_timeout = \"500ms\"\n"
                   "vpn_retransmits = 2"});
  Walk w = RunVariant(
      edits, Duration::Seconds(50),
      [&](Scenario& sc) {
        EventSpec e;
        e.at = Duration::Seconds(33);
        e.kind = EventSpec::Kind::kStop;
        e.node = "mvpn";
        sc.events.push_back(e);
        std::stable_sort(sc.events.begin(), sc.events.end(),
                         [](const EventSpec& a, const EventSpec& b) { return a.at < b.at; });
      },
      Duration::Seconds(40));  // the MN stays on ext-pub
  ASSERT_TRUE(w.run);
  std::printf("%s", scenario::FormatReportText(w.report).c_str());
  ASSERT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c", "f", "mc"}));
  MnApp* mn = w.run->mobile_node("mn");
  ASSERT_TRUE(mn->controller().vpn());
  EXPECT_EQ(mn->controller().vpn()->gateway, *Ipv4Address::Parse("192.0.2.3"));
  const Ipv4Address tia = mn->controller().vpn()->tia;
  EXPECT_TRUE(Ipv4Prefix::Parse("10.10.1.0/24")->Contains(tia));
  EXPECT_TRUE(TimelineHas(w.report, "R3", "VPN up: gateway 192.0.2.2", 0));
  EXPECT_TRUE(TimelineHas(w.report, "R3", "VPN up: gateway 192.0.2.3", 33));
  EXPECT_TRUE(TimelineHas(w.report, "R4", "registration through the VPN tunnel, TIA " +
                                            tia.ToString(), 33));
  auto ha = w.run->home_agent("i-ha")->Bindings(kHome);
  ASSERT_EQ(ha.size(), 1u);
  EXPECT_EQ(ha[0].care_of_address, tia);
  EXPECT_GT(w.run->vpn_gateway("mvpn2")->counters().esp_in, 100u);
  ExpectNothingInClear(*w.run);
}

}  // namespace
}  // namespace mipsec::sim

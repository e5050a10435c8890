// The RFC 5266 mobile node walking the Appendix A operator network of the
// built-in `operator` scenario (src/sim/scenario/operator.toml): trusted
// access networks where Mobile IPv4 runs directly, untrusted WLAN hotspots
// behind NATs where it runs inside the MOBIKE VPN, and the home link. Every
// part is the real core (MnApp's controller, the i-HA, the i-FA, the mVPN,
// DHCP, the NATs). Each test names the MISSION.md requirement it checks.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/apps/mn_walk_test_util.h"
#include "sim/pcap_invariants.h"
#include "sim/scenario/builtin.h"
#include "sim/scenario/runner.h"
#include "sim/scenario/toml_loader.h"

namespace mipsec::sim {
namespace {

using scenario::LegReport;
using scenario::ScenarioReport;
using scenario::ScenarioRun;

using mn_walk::kHome;
using mn_walk::Modes;

struct Walk {
  std::unique_ptr<ScenarioRun> run;
  ScenarioReport report;
};

Walk RunOperator(std::optional<std::uint64_t> seed = std::nullopt) {
  Walk w;
  std::optional<std::string_view> text = scenario::BuiltinScenario("operator");
  EXPECT_TRUE(text.has_value());
  if (!text) return w;
  std::optional<scenario::Scenario> sc = mn_walk::Parse(std::string(*text), "operator.toml");
  if (!sc) return w;
  w.run = mn_walk::Build(*sc, seed);
  if (w.run) w.report = w.run->Run();
  return w;
}


// The untrusted side of Appendix A: the two hotspots (the MN's access
// links) and the Internet between them and the operator.
const char* const kUntrusted[] = {"hotspot-1", "hotspot-2", "internet"};

void ExpectNothingInClear(ScenarioRun& run) {
  mn_walk::ExpectNothingInClear(run, {std::begin(kUntrusted), std::end(kUntrusted)});
}

// Every built-in scenario (`mipsec demo --scenario NAME`) loads under its
// own name; the operator network trusts its own access networks and the TIA
// pool, and neither hotspot.
TEST(MnOperator, BuiltinScenariosLoad) {
  std::vector<std::string_view> names = scenario::BuiltinScenarioNames();
  EXPECT_EQ(names, (std::vector<std::string_view>{"figure1", "operator"}));
  for (std::string_view name : names) {
    std::optional<std::string_view> text = scenario::BuiltinScenario(name);
    ASSERT_TRUE(text.has_value()) << name;
    Result<scenario::Scenario> sc =
        scenario::ParseScenarioToml(std::string(*text), std::string(name) + ".toml");
    ASSERT_TRUE(sc.ok()) << sc.error().ToString();
    EXPECT_EQ(sc->name, name);
  }
  Result<scenario::Scenario> op =
      scenario::ParseScenarioToml(std::string(*scenario::BuiltinScenario("operator")), "operator.toml");
  ASSERT_TRUE(op.ok());
  ASSERT_EQ(op->home_agents.size(), 1u);
  ASSERT_EQ(op->vpn_gateways.size(), 1u);
  EXPECT_EQ(op->foreign_agents.size(), 1u);
  EXPECT_EQ(op->nats.size(), 3u);          // the operator's CGN and one per hotspot
  EXPECT_EQ(op->dhcp_servers.size(), 4u);  // DHCP on every access network
  auto trusted = [&](const char* a) {
    Ipv4Address addr = *Ipv4Address::Parse(a);
    for (const Ipv4Prefix& p : op->home_agents[0].trusted_subnets) {
      if (p.Contains(addr)) return true;
    }
    return false;
  };
  EXPECT_TRUE(trusted("10.2.0.100"));    // tan-c
  EXPECT_TRUE(trusted("10.4.0.100"));    // tan-f
  EXPECT_TRUE(trusted("10.10.0.1"));     // a TIA
  EXPECT_FALSE(trusted("192.168.1.100"));  // hotspot-1
  EXPECT_FALSE(trusted("100.64.0.100"));   // hotspot-2
  EXPECT_FALSE(trusted("198.51.100.11"));  // the Internet
}

// R18 (with R2, R3, R10): the operator network of Appendix A takes the same
// modes as the enterprise: c and f on the trusted access networks, mc on the
// untrusted hotspots, and the home link itself at both ends of the walk.
TEST(MnOperator, R18_R10_AppendixAWalkTakesEveryMode) {
  Walk w = RunOperator();
  ASSERT_TRUE(w.run);
  std::printf("%s", scenario::FormatReportText(w.report).c_str());
  EXPECT_EQ(Modes(w.report),
            (std::vector<std::string>{"home", "c", "mc", "mc", "f", "home"}));
  for (const LegReport& l : w.report.legs) {
    EXPECT_TRUE(l.ready_after) << l.name;
  }
  // Both directions of the stream got through in every leg.
  ASSERT_EQ(w.report.streams.size(), 1u);
  for (const LegReport& l : w.report.legs) {
    ASSERT_EQ(l.forward.size(), 1u);
    ASSERT_EQ(l.reverse.size(), 1u);
    EXPECT_GT(l.forward[0].delivered, 0u) << l.name;
    EXPECT_GT(l.reverse[0].delivered, 0u) << l.name;
  }
  // R18: on the home link the MN is an ordinary host, in both directions,
  // also when it comes home with the IKE SA kept idle (vpn_when_inside =
  // keep): its routes into the VPN must not swallow what it sends there.
  const LegReport& back = w.report.legs.back();
  EXPECT_EQ(back.mode, "home");
  EXPECT_EQ(back.forward[0].lost, 0u);
  EXPECT_EQ(back.reverse[0].lost, 0u);
}

// R5, R12: between the hotspots only the outer address changes: a MOBIKE
// update moves the VPN, the TIA and the i-HA's binding stay (no
// registration through the tunnel in that leg). One IKE SA serves the whole
// walk: set up once (from the trusted access network, R15 1), then moved by
// MOBIKE only.
TEST(MnOperator, R5_R12_HotspotToHotspotIsMobikeOnly) {
  Walk w = RunOperator();
  ASSERT_TRUE(w.run);
  ASSERT_EQ(w.report.legs.size(), 6u);
  const LegReport& cgn = w.report.legs[3];
  ASSERT_EQ(cgn.name, "mc: hotspot behind CGN");
  int setups = 0, r5 = 0, tunnel_regs_in_leg = 0, mobike_in_leg = 0;
  for (const scenario::TimelineEntry& e : w.report.timeline) {
    if (e.text.find("VPN set-up (IKE_SA_INIT)") != std::string::npos) ++setups;
    if (e.at < cgn.start || e.at >= cgn.end) continue;
    if (e.requirement == "R5") ++r5;
    if (e.text.find("MOBIKE: UPDATE_SA_ADDRESSES") != std::string::npos &&
        e.text.find("from 100.64.0.") != std::string::npos) {
      ++mobike_in_leg;
    }
    if (e.text.find("registration through the VPN tunnel") != std::string::npos) {
      ++tunnel_regs_in_leg;
    }
  }
  EXPECT_EQ(setups, 1);
  EXPECT_EQ(mobike_in_leg, 1);
  EXPECT_GE(r5, 1);
  EXPECT_EQ(tunnel_regs_in_leg, 0);
}

// R24 (RFC 5265 4.1): on the untrusted access networks, and on the Internet
// behind them, nothing to or from the home address travels in clear.
TEST(MnOperator, R24_NoUserDataInClearOnUntrustedAccess) {
  Walk w = RunOperator();
  ASSERT_TRUE(w.run);
  ExpectNothingInClear(*w.run);
}

// The same holds with another seed (other NAT ports, other jitter).
TEST(MnOperator, R18_R24_AnotherSeed) {
  Walk w = RunOperator(7);
  ASSERT_TRUE(w.run);
  EXPECT_EQ(Modes(w.report),
            (std::vector<std::string>{"home", "c", "mc", "mc", "f", "home"}));
  ExpectNothingInClear(*w.run);
}

}  // namespace
}  // namespace mipsec::sim

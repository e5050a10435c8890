// The RFC 5266 mobile node (MnApp: src/mn's controller, the real Mobile
// IPv4 engines, the real IKEv2/MOBIKE initiator and ESP) walking the Figure 1
// enterprise of the built-in scenario: the i-HA, i-FA and mVPN are the real
// cores too, as are DHCP, the firewall and the NAT. Each test names the
// MISSION.md requirement it checks.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/pcap_invariants.h"
#include "sim/scenario/builtin.h"
#include "sim/scenario/runner.h"
#include "sim/scenario/toml_loader.h"

namespace mipsec::sim {
namespace {

using scenario::LegReport;
using scenario::ScenarioReport;
using scenario::ScenarioRun;

const Ipv4Address kHome = *Ipv4Address::Parse("10.1.0.10");

struct Walk {
  std::unique_ptr<ScenarioRun> run;
  ScenarioReport report;
};

Walk RunFigure1(const std::string& edit_from = "", const std::string& edit_to = "",
                std::optional<std::uint64_t> seed = std::nullopt) {
  std::string text(*scenario::BuiltinScenario("figure1"));
  if (!edit_from.empty()) {
    auto at = text.find(edit_from);
    EXPECT_NE(at, std::string::npos) << edit_from;
    if (at != std::string::npos) text.replace(at, edit_from.size(), edit_to);
  }
  Walk w;
  Result<scenario::Scenario> sc = scenario::ParseScenarioToml(text, "figure1.toml");
  EXPECT_TRUE(sc.ok()) << (sc.ok() ? "" : sc.error().ToString());
  if (!sc.ok()) return w;
  auto run = ScenarioRun::Build(*sc, seed);
  EXPECT_TRUE(run.ok()) << (run.ok() ? "" : run.error().ToString());
  if (!run.ok()) return w;
  w.run = std::move(*run);
  w.report = w.run->Run();
  return w;
}

std::vector<std::string> Modes(const ScenarioReport& r) {
  std::vector<std::string> v;
  for (const LegReport& l : r.legs) v.push_back(l.mode);
  return v;
}

// Every segment the MN visits outside the firewall.
// (The DMZ is inside the firewall: the Mobile IP tunnel between the i-HA
// and the mVPN crosses it in clear by design, RFC 5266 Figure 1.)
const char* const kUntrusted[] = {"ext-pub", "ext-nat", "ext-link", "wan"};

void ExpectNothingInClear(ScenarioRun& run) {
  for (const char* name : kUntrusted) {
    Segment* seg = run.network().FindSegment(name);
    ASSERT_NE(seg, nullptr) << name;
    auto v = FindCleartextViolations(seg->pcap().bytes(), {kHome});
    ASSERT_TRUE(v.ok()) << name << ": " << v.error().ToString();
    for (const PcapViolation& x : *v) ADD_FAILURE() << name << ": " << x.ToString();
  }
}

TEST(MnScenario, R2_R3_R10_Figure1WalkTakesEveryMode) {
  Walk w = RunFigure1();
  ASSERT_TRUE(w.run);
  std::printf("%s", scenario::FormatReportText(w.report).c_str());
  EXPECT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c", "f", "mc", "mc", "c"}));
  for (const LegReport& l : w.report.legs) {
    EXPECT_TRUE(l.ready_after) << l.name;
  }
  ExpectNothingInClear(*w.run);
}

}  // namespace
}  // namespace mipsec::sim

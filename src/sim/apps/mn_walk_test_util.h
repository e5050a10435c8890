// Test-only helpers shared by the mobile node's scenario tests (sim_mn_test,
// sim_mn_hostile_test, sim_mn_faults_test): parse and build a scenario,
// read the modes of its legs, and check the RFC 5265 4.1 invariant that no
// user packet of the home address crosses an untrusted segment in clear.
#ifndef MIPSEC_SIM_APPS_MN_WALK_TEST_UTIL_H_
#define MIPSEC_SIM_APPS_MN_WALK_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip/address.h"
#include "sim/pcap_invariants.h"
#include "sim/scenario/runner.h"
#include "sim/scenario/toml_loader.h"

namespace mipsec::sim::mn_walk {

// The MN's home address in figure1.toml and operator.toml.
inline const Ipv4Address kHome = *Ipv4Address::Parse("10.1.0.10");

// figure1.toml's segments outside the firewall. (The DMZ is inside: the
// Mobile IP tunnel between the i-HA and the mVPN crosses it in clear by
// design, RFC 5266 Figure 1.)
inline const std::vector<std::string> kFigure1Untrusted = {"ext-pub", "ext-nat", "ext-link",
                                                           "wan"};

// The scenario in `text`, or a test failure and nullopt.
inline std::optional<scenario::Scenario> Parse(const std::string& text, const std::string& file) {
  Result<scenario::Scenario> sc = scenario::ParseScenarioToml(text, file);
  EXPECT_TRUE(sc.ok()) << (sc.ok() ? "" : sc.error().ToString());
  if (!sc.ok()) return std::nullopt;
  return std::move(*sc);
}

// The built run, or a test failure and null.
inline std::unique_ptr<scenario::ScenarioRun> Build(const scenario::Scenario& sc,
                                                    std::optional<std::uint64_t> seed) {
  auto run = scenario::ScenarioRun::Build(sc, seed);
  EXPECT_TRUE(run.ok()) << (run.ok() ? "" : run.error().ToString());
  if (!run.ok()) return nullptr;
  return std::move(*run);
}

// The mode at the end of each leg ("home", "c", "f", "mc" or "").
inline std::vector<std::string> Modes(const scenario::ScenarioReport& r) {
  std::vector<std::string> v;
  for (const scenario::LegReport& l : r.legs) v.push_back(l.mode);
  return v;
}

// RFC 5265 4.1 / R24: a failure for every packet of `home` in clear on
// these segments.
inline void ExpectNothingInClear(scenario::ScenarioRun& run,
                                 const std::vector<std::string>& segments = kFigure1Untrusted,
                                 Ipv4Address home = kHome) {
  for (const std::string& name : segments) {
    Segment* seg = run.network().FindSegment(name);
    ASSERT_NE(seg, nullptr) << name;
    auto v = FindCleartextViolations(seg->pcap().bytes(), {home});
    ASSERT_TRUE(v.ok()) << name << ": " << v.error().ToString();
    for (const PcapViolation& x : *v) ADD_FAILURE() << name << ": " << x.ToString();
  }
}

}  // namespace mipsec::sim::mn_walk

#endif  // MIPSEC_SIM_APPS_MN_WALK_TEST_UTIL_H_

// The pcaps of the built-in Figure 1 walk (what `mipsec demo --pcap` writes)
// open in tshark with no malformed packet, no error-level expert item and no
// bad checksum, and show the traffic the walk consists of.
#include <unistd.h>

#include <gtest/gtest.h>

#include "sim/scenario/builtin.h"
#include "sim/scenario/runner.h"
#include "sim/scenario/toml_loader.h"
#include "testing/require_root.h"
#include "testing/tshark/tshark.h"

namespace mipsec::sim::scenario {
namespace {

TEST(Figure1TsharkTest, EveryLinkPcapIsClean) {
  MIPSEC_REQUIRE_TSHARK();
  Result<Scenario> sc = ParseScenarioToml(*BuiltinScenario("figure1"), "figure1.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  Result<std::unique_ptr<ScenarioRun>> run = ScenarioRun::Build(*sc, std::nullopt);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  (*run)->Run();
  int checked = 0;
  for (Segment* seg : (*run)->network().segments()) {
    if (seg->pcap().records() == 0) continue;
    Result<std::string> path = testing::WriteTempFile("mipsec-fig1-" + seg->name(), seg->pcap().bytes());
    ASSERT_TRUE(path.ok());
    Result<std::string> problems = testing::TsharkProblems(*path);
    ASSERT_TRUE(problems.ok()) << problems.error().ToString();
    EXPECT_EQ(*problems, "") << seg->name();
    if (seg->name() == "visit-c") {
      // The MN's lease on the c subnet, twice (two visits).
      Result<std::string> dhcp = testing::RunTshark(
          *path, {"-Y", "dhcp.option.dhcp == 5", "-T", "fields", "-e", "dhcp.ip.your"});
      ASSERT_TRUE(dhcp.ok());
      EXPECT_EQ(*dhcp, "10.2.0.100\n10.2.0.100\n");
    }
    unlink(path->c_str());
    ++checked;
  }
  EXPECT_GE(checked, 6);
}

}  // namespace
}  // namespace mipsec::sim::scenario

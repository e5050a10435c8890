#include "sim/scenario/runner.h"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "sim/scenario/toml_loader.h"

namespace mipsec::sim::scenario {
namespace {

// A CN streaming across a lossy, jittery link to a node that later moves
// away and comes back.
constexpr char kWalk[] = R"(
[scenario]
name = "walk"
duration = "6s"
first_leg = "at home"

[[segment]]
name = "home"
delay = "1ms"
jitter = "2ms"
loss = 0.05
duplicate = 0.01

[[segment]]
name = "away"

[[node]]
name = "cn"
  [[node.interface]]
  name = "eth0"
  segment = "home"
  address = "10.0.0.1/24"

[[node]]
name = "mn"
  [[node.interface]]
  name = "eth0"
  segment = "home"
  address = "10.0.0.2/24"

[[stream]]
from = "cn"
to = "10.0.0.2:7000"
echo = "mn"
interval = "10ms"
start = "0s"
stop = "5s"

[[event]]
at = "2s"
leg = "away"
move = { node = "mn", interface = "eth0", segment = "away" }

[[event]]
at = "4s"
leg = "back"
move = { node = "mn", interface = "eth0", segment = "home" }
)";

struct Outcome {
  ScenarioReport report;
  std::string json;
  std::vector<Bytes> pcaps;
  std::vector<std::string> log;
};

Outcome RunWalk(std::optional<std::uint64_t> seed) {
  Result<Scenario> sc = ParseScenarioToml(kWalk, "walk.toml");
  EXPECT_TRUE(sc.ok()) << sc.error().ToString();
  Result<std::unique_ptr<ScenarioRun>> run = ScenarioRun::Build(*sc, seed);
  EXPECT_TRUE(run.ok()) << run.error().ToString();
  Outcome o;
  o.report = (*run)->Run();
  o.json = FormatReportJson(o.report);
  for (Segment* s : (*run)->network().segments()) o.pcaps.push_back(s->pcap().bytes());
  o.log = (*run)->network().log_sink().lines();
  return o;
}

TEST(ScenarioRunTest, LegsReportWhatTheNetworkDid) {
  Outcome o = RunWalk(std::nullopt);
  ASSERT_EQ(o.report.legs.size(), 3u);
  EXPECT_EQ(o.report.legs[0].name, "at home");
  EXPECT_EQ(o.report.legs[1].name, "away");
  EXPECT_EQ(o.report.legs[1].mover, "mn/eth0");
  const StreamStats& home = o.report.legs[0].forward[0];
  const StreamStats& away = o.report.legs[1].forward[0];
  const StreamStats& back = o.report.legs[2].forward[0];
  EXPECT_EQ(home.sent, 200u);
  EXPECT_NEAR(static_cast<double>(home.lost), 10.0, 8.0);  // 5% loss
  EXPECT_EQ(away.delivered, 0u);                           // nobody owns 10.0.0.2 there
  EXPECT_EQ(away.lost, away.sent);
  EXPECT_GE(away.longest_gap, Duration::Millis(1990));
  EXPECT_GT(back.delivered, 80u);  // 4..5 s: back home, the stream resumes
  EXPECT_EQ(o.report.streams[0].total.forward.sent, 500u);
  std::string text = FormatReportText(o.report);
  EXPECT_NE(text.find("away"), std::string::npos);
  EXPECT_NE(text.find("mn/eth0: 10.0.0.2/24"), std::string::npos) << text;
  // Counters: the packets sent to 10.0.0.2 while it was away had no owner
  // on the home segment.
  ASSERT_EQ(o.report.segments.size(), 2u);
  EXPECT_GT(o.report.segments[0].counters.dropped_unresolved, 150u);
  EXPECT_NE(FormatCountersText(o.report).find("segment home: tx_packets="), std::string::npos);
  EXPECT_NE(o.json.find("\"dropped_unresolved\""), std::string::npos);
}

TEST(ScenarioRunTest, SameSeedIsBitIdentical) {
  Outcome a = RunWalk(7), b = RunWalk(7);
  EXPECT_EQ(a.json, b.json);
  EXPECT_EQ(a.log, b.log);
  ASSERT_EQ(a.pcaps.size(), b.pcaps.size());
  for (std::size_t i = 0; i < a.pcaps.size(); ++i) EXPECT_EQ(a.pcaps[i], b.pcaps[i]) << i;
  EXPECT_GT(a.pcaps[0].size(), 24u);
}

TEST(ScenarioRunTest, DifferentSeedDifferentLossPattern) {
  Outcome a = RunWalk(7), b = RunWalk(8);
  EXPECT_NE(a.pcaps[0], b.pcaps[0]);  // jitter and loss drawn differently
  EXPECT_NE(a.json, b.json);
}

TEST(ScenarioRunTest, BuildErrorsNameTheLine) {
  // The echo port is already taken by a second stream on the same node:
  // found when building, reported at the stream's line.
  std::string text = kWalk;
  text += R"(
[[stream]]
from = "cn"
to = "10.0.0.2:7000"
echo = "mn"
port = 9001
)";
  Result<Scenario> sc = ParseScenarioToml(text, "walk.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  Result<std::unique_ptr<ScenarioRun>> run = ScenarioRun::Build(*sc, std::nullopt);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().detail(), "walk.toml:49: mn: UDP 0.0.0.0:7000 already bound");
}

TEST(ScenarioRunTest, TimelineStopsStartsAndDegradesLinks) {
  std::string text = kWalk;
  // Replace the walk by: the echoer stops 1..2 s, then the link loses
  // everything from 3 s, and comes back down-then-up at 4..4.5 s.
  text = text.substr(0, text.find("[[event]]"));
  text += R"(
[[event]]
at = "1s"
stop = "mn"
[[event]]
at = "2s"
start = "mn"
[[event]]
at = "3s"
link = { segment = "home", loss = 1.0 }
[[event]]
at = "4s"
link = { segment = "home", loss = 0.0, up = false }
[[event]]
at = "4.5s"
link = { segment = "home", up = true }
[[event]]
at = "5.5s"
end = true
)";
  Result<Scenario> sc = ParseScenarioToml(text, "timeline.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  Result<std::unique_ptr<ScenarioRun>> run = ScenarioRun::Build(*sc, 3);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  ScenarioReport r = (*run)->Run();
  EXPECT_EQ(r.end, Timestamp::Zero() + Duration::Millis(5500));
  const StreamStats& f = r.streams[0].total.forward;
  // Lost: ~5% of 200 (0..1 s and 2..3 s), all of 1..2 s (stopped), all of
  // 3..4.5 s (loss 1, then down). 4.5..5 s delivers again.
  EXPECT_GE(f.lost, 100u + 150u);
  EXPECT_LE(f.lost, 100u + 150u + 45u);
  EXPECT_GE(f.longest_gap, Duration::Millis(1490));  // 3.0 .. 4.5 s
  Node* mn = (*run)->network().FindNode("mn");
  EXPECT_TRUE(mn->running());
  EXPECT_GT(mn->counters().dropped_down, 0u);  // while stopped
  EXPECT_TRUE((*run)->network().FindSegment("home")->up());
}

// The example scenarios shipped in examples/scenarios load and run, and
// show what they describe.
TEST(ScenarioRunTest, ExampleLossyNatRuns) {
  std::ifstream in(std::string(MIPSEC_SOURCE_DIR) + "/examples/scenarios/lossy-nat.toml");
  ASSERT_TRUE(in.good());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<Scenario> sc = ParseScenarioToml(text, "lossy-nat.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  Result<std::unique_ptr<ScenarioRun>> run = ScenarioRun::Build(*sc, std::nullopt);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  ScenarioReport r = (*run)->Run();
  ASSERT_EQ(r.legs.size(), 2u);
  const StreamStats& wifi1 = r.legs[0].forward[0];
  const StreamStats& wifi2 = r.legs[1].forward[0];
  EXPECT_GT(wifi1.delivered, 1000u);
  EXPECT_GT(wifi1.lost, 50u);         // bad wifi, a NAT reboot
  EXPECT_GT(wifi2.delivered, 300u);   // a new lease on wifi2, a new mapping
  EXPECT_EQ(r.legs[1].addresses.size(), 1u);
  EXPECT_EQ(r.legs[1].addresses[0].rfind("192.168.2.", 0), 0u);
}

}  // namespace
}  // namespace mipsec::sim::scenario

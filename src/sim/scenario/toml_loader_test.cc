#include "sim/scenario/toml_loader.h"

#include <gtest/gtest.h>

#include "sim/scenario/builtin.h"

namespace mipsec::sim::scenario {
namespace {

constexpr char kSmall[] = R"(
[scenario]
name = "small"
duration = "5s"

[[segment]]
name = "lan"
delay = "2ms"
loss = 0.01
burst = { enter = 0.01, exit = 0.5 }

[[segment]]
name = "lan2"

[[node]]
name = "a"
  [[node.interface]]
  name = "eth0"
  segment = "lan"
  address = "10.0.0.2/24"
  [[node.route]]
  to = "default"
  via = "10.0.0.1"

[[node]]
name = "r"
kind = "router"
  [[node.interface]]
  name = "eth0"
  segment = "lan"
  address = "10.0.0.1/24"

[[event]]
at = "1s"
move = { node = "a", interface = "eth0", segment = "lan2" }
[[event]]
at = "500ms"
link = { segment = "lan", loss = 0.5 }
)";

TEST(TomlLoaderTest, ParsesAScenario) {
  Result<Scenario> sc = ParseScenarioToml(kSmall, "small.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  EXPECT_EQ(sc->name, "small");
  EXPECT_EQ(sc->duration, Duration::Seconds(5));
  ASSERT_EQ(sc->segments.size(), 2u);
  EXPECT_EQ(sc->segments[0].params.delay, Duration::Millis(2));
  EXPECT_DOUBLE_EQ(sc->segments[0].params.loss, 0.01);
  EXPECT_DOUBLE_EQ(sc->segments[0].params.burst_exit, 0.5);
  ASSERT_EQ(sc->nodes.size(), 2u);
  EXPECT_FALSE(sc->nodes[0].router);
  EXPECT_TRUE(sc->nodes[1].router);
  EXPECT_EQ(sc->nodes[0].interfaces[0].address->ToString(), "10.0.0.2");
  EXPECT_EQ(sc->nodes[0].routes[0].to.length(), 0);
  EXPECT_EQ(sc->nodes[0].where.line, 15);
  // Events are sorted by time.
  ASSERT_EQ(sc->events.size(), 2u);
  EXPECT_EQ(sc->events[0].kind, EventSpec::Kind::kLink);
  EXPECT_DOUBLE_EQ(sc->events[0].params->loss, 0.5);
  EXPECT_EQ(sc->events[0].params->delay, Duration::Millis(2));  // others kept
  EXPECT_EQ(sc->events[1].kind, EventSpec::Kind::kMove);
}

// Each bad input is the small scenario with one change; the error must name
// file, line and key.
struct BadCase {
  const char* from;
  const char* to;
  const char* expected;
};

class TomlLoaderErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(TomlLoaderErrorTest, NamesFileLineAndKey) {
  std::string text = kSmall;
  auto pos = text.find(GetParam().from);
  ASSERT_NE(pos, std::string::npos) << GetParam().from;
  text.replace(pos, std::string(GetParam().from).size(), GetParam().to);
  Result<Scenario> sc = ParseScenarioToml(text, "bad.toml");
  ASSERT_FALSE(sc.ok());
  EXPECT_EQ(sc.error().detail(), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TomlLoaderErrorTest,
    ::testing::Values(
        BadCase{"delay = \"2ms\"", "delay = 2", "bad.toml:8: segment[0].delay: must be a string with a unit, e.g. \"10ms\" or \"1.5s\""},
        BadCase{"delay = \"2ms\"", "delay = \"2\"", "bad.toml:8: segment[0].delay: '2' needs a unit: ns, us, ms, s, m or h"},
        BadCase{"loss = 0.01", "loss = 1.01", "bad.toml:9: segment[0].loss: must be a probability in [0, 1]"},
        BadCase{"loss = 0.01", "los = 0.01", "bad.toml:9: segment[0].los: unknown key (expected one of: name, description, delay, jitter, bandwidth, mtu, loss, duplicate, burst, reorder, up)"},
        BadCase{"address = \"10.0.0.2/24\"", "address = \"10.0.0.300/24\"", "bad.toml:20: node[0].interface[0].address: '10.0.0.300/24' is not an IPv4 address with a prefix length (a.b.c.d/n)"},
        BadCase{"segment = \"lan\"\n  address = \"10.0.0.2/24\"", "segment = \"wlan\"\n  address = \"10.0.0.2/24\"", "bad.toml:19: node[0].interface[0].segment: no segment named 'wlan'"},
        BadCase{"via = \"10.0.0.1\"", "via = \"10.9.0.1\"", "bad.toml:23: node[0].route[0].via: gateway 10.9.0.1 is on none of node 'a''s static interface subnets"},
        BadCase{"name = \"r\"", "name = \"a\"", "bad.toml:26: node[1].name: node 'a' is already defined at line 15"},
        BadCase{"kind = \"router\"", "kind = \"switch\"", "bad.toml:27: node[1].kind: must be \"host\" or \"router\""},
        BadCase{"segment = \"lan2\" }", "segment = \"nowhere\" }", "bad.toml:35: event[0].move.segment: no segment named 'nowhere'"},
        BadCase{"at = \"1s\"", "when = \"1s\"", "bad.toml:34: event[0].when: unknown key (expected one of: at, move, detach, link, stop, start, end, leg)"},
        BadCase{"[[event]]\nat = \"500ms\"", "[[event]]\nat = \"500ms\"\nstop = \"a\"", "bad.toml:36: event[1]: needs exactly one of move, detach, link, stop, start, end"},
        BadCase{"name = \"small\"", "name = \"small", "bad.toml:3: TOML syntax: Error while parsing string: unescaped control characters other than TAB (U+0009) are explicitly prohibited"}));

TEST(TomlLoaderTest, DurationsAndBandwidths) {
  EXPECT_EQ(*ParseDurationText("1.5s"), Duration::Millis(1500));
  EXPECT_EQ(*ParseDurationText("250us"), Duration::Micros(250));
  EXPECT_EQ(*ParseDurationText("2m"), Duration::Seconds(120));
  EXPECT_FALSE(ParseDurationText("-1s").ok());
  EXPECT_FALSE(ParseDurationText("s").ok());
  EXPECT_FALSE(ParseDurationText("10 ms").ok());
  EXPECT_EQ(*ParseBandwidthText("100Mbit"), 100'000'000u);
  EXPECT_EQ(*ParseBandwidthText("1.5Gbit"), 1'500'000'000u);
  EXPECT_FALSE(ParseBandwidthText("100MB").ok());
  EXPECT_FALSE(ParseBandwidthText("0bit").ok());
}

TEST(TomlLoaderTest, BuiltinFigure1Loads) {
  std::optional<std::string_view> text = BuiltinScenario("figure1");
  ASSERT_TRUE(text.has_value());
  Result<Scenario> sc = ParseScenarioToml(*text, "figure1.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  EXPECT_EQ(sc->name, "figure1");
  EXPECT_EQ(sc->nats.size(), 1u);
  EXPECT_EQ(sc->firewalls.size(), 1u);
  EXPECT_EQ(sc->dhcp_servers.size(), 4u);
  EXPECT_EQ(sc->streams.size(), 1u);
  EXPECT_FALSE(BuiltinScenario("nope").has_value());
}

}  // namespace
}  // namespace mipsec::sim::scenario

#include "sim/scenario/toml_loader.h"

#include <gmock/gmock.h>
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
        BadCase{"at = \"1s\"", "when = \"1s\"", "bad.toml:34: event[0].when: unknown key (expected one of: at, move, detach, link, stop, start, restart, end, leg)"},
        BadCase{"[[event]]\nat = \"500ms\"", "[[event]]\nat = \"500ms\"\nstop = \"a\"", "bad.toml:36: event[1]: needs exactly one of move, detach, link, stop, start, restart, end"},
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

// The protocol agents' sections.
constexpr char kAgents[] = R"(
[[segment]]
name = "home"
[[segment]]
name = "visit"
[[segment]]
name = "dmz"

[[node]]
name = "ha"
kind = "router"
  [[node.interface]]
  name = "eth0"
  segment = "home"
  address = "10.1.0.1/24"
[[node]]
name = "fa"
kind = "router"
  [[node.interface]]
  name = "eth0"
  segment = "visit"
  address = "10.4.0.1/24"
  [[node.interface]]
  name = "eth1"
  segment = "home"
  address = "10.1.0.4/24"
[[node]]
name = "gw"
kind = "router"
  [[node.interface]]
  name = "eth0"
  segment = "dmz"
  address = "192.0.2.2/24"
[[node]]
name = "host"
  [[node.interface]]
  name = "eth0"
  segment = "dmz"
  address = "192.0.2.9/24"

[[home_agent]]
node = "ha"
interface = "eth0"
home_network = "10.1.0.0/24"
trusted_subnets = ["10.0.0.0/8", "172.16.0.0/12"]
max_lifetime = "10m"
advertisement_interval = "2s"
  [[home_agent.mobile_node]]
  home_address = "10.1.0.10"
  spi = 4096
  key = "000102030405060708090a0b0c0d0e0f"
  replay = "nonce"

[[foreign_agent]]
node = "fa"
interface = "eth0"
care_of_addresses = ["10.4.0.1", "10.1.0.4"]
advertisement_interval = "500ms"
reverse_tunnel = false

[[vpn_gateway]]
node = "gw"
interface = "eth0"
local_id = "fqdn:gw.example"
remote_id = "email:mn@example"
psk = "00112233445566778899aabbccddeeff"
tia_pool = "10.10.0.20-10.10.0.30"
intranet = "10.0.0.0/8"
mobike_return_routability = false
)";

TEST(TomlLoaderTest, ParsesAgents) {
  Result<Scenario> sc = ParseScenarioToml(kAgents, "agents.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  ASSERT_EQ(sc->home_agents.size(), 1u);
  const HomeAgentSpec& ha = sc->home_agents[0];
  EXPECT_EQ(ha.node, "ha");
  EXPECT_EQ(ha.address.ToString(), "10.1.0.1");
  EXPECT_EQ(ha.home_network.ToString(), "10.1.0.0/24");
  ASSERT_EQ(ha.trusted_subnets.size(), 2u);
  EXPECT_EQ(ha.trusted_subnets[1].ToString(), "172.16.0.0/12");
  EXPECT_EQ(ha.max_lifetime, Duration::Seconds(600));
  EXPECT_EQ(ha.advertisement_interval, Duration::Seconds(2));
  EXPECT_TRUE(ha.reverse_tunnel);
  ASSERT_EQ(ha.mobile_nodes.size(), 1u);
  EXPECT_EQ(ha.mobile_nodes[0].home_address.ToString(), "10.1.0.10");
  EXPECT_EQ(ha.mobile_nodes[0].spi, 4096u);
  EXPECT_EQ(ha.mobile_nodes[0].key.size(), 16u);
  EXPECT_TRUE(ha.mobile_nodes[0].nonce_replay);
  EXPECT_EQ(ha.mobile_nodes[0].where.line, 48);
  ASSERT_EQ(sc->foreign_agents.size(), 1u);
  const ForeignAgentSpec& fa = sc->foreign_agents[0];
  EXPECT_EQ(fa.address.ToString(), "10.4.0.1");
  EXPECT_EQ(fa.prefix_length, 24);
  ASSERT_EQ(fa.care_of_addresses.size(), 2u);
  EXPECT_EQ(fa.care_of_addresses[1].ToString(), "10.1.0.4");
  EXPECT_EQ(fa.advertisement_interval, Duration::Millis(500));
  EXPECT_FALSE(fa.reverse_tunnel);
  ASSERT_EQ(sc->vpn_gateways.size(), 1u);
  const VpnGatewaySpec& gw = sc->vpn_gateways[0];
  EXPECT_EQ(gw.local_id, ikev2::IdPayload::Fqdn("gw.example"));
  ASSERT_TRUE(gw.remote_id.has_value());
  EXPECT_EQ(*gw.remote_id, ikev2::IdPayload::Rfc822("mn@example"));
  EXPECT_EQ(gw.psk.size(), 16u);
  EXPECT_EQ(gw.tia_first.ToString(), "10.10.0.20");
  EXPECT_EQ(gw.tia_last.ToString(), "10.10.0.30");
  EXPECT_FALSE(gw.tia_prefix.has_value());
  ASSERT_EQ(gw.intranet.size(), 1u);
  EXPECT_TRUE(gw.mobike);
  EXPECT_FALSE(gw.mobike_return_routability);
  EXPECT_FALSE(gw.force_encapsulation);

  // Defaults: the FA's care-of address is its own; a prefix pool.
  std::string text = kAgents;
  text.replace(text.find("care_of_addresses"), text.find("advertisement_interval = \"500ms\"") -
                                                   text.find("care_of_addresses"), "");
  text.replace(text.find("\"10.10.0.20-10.10.0.30\""), 23, "\"10.10.0.0/24\"");
  sc = ParseScenarioToml(text, "agents.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  ASSERT_EQ(sc->foreign_agents[0].care_of_addresses.size(), 1u);
  EXPECT_EQ(sc->foreign_agents[0].care_of_addresses[0].ToString(), "10.4.0.1");
  EXPECT_EQ(sc->vpn_gateways[0].tia_first.ToString(), "10.10.0.1");
  EXPECT_EQ(sc->vpn_gateways[0].tia_last.ToString(), "10.10.0.254");
  EXPECT_EQ(sc->vpn_gateways[0].tia_prefix->ToString(), "10.10.0.0/24");
}

class AgentErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(AgentErrorTest, NamesFileLineAndKey) {
  std::string text = kAgents;
  auto pos = text.find(GetParam().from);
  ASSERT_NE(pos, std::string::npos) << GetParam().from;
  text.replace(pos, std::string(GetParam().from).size(), GetParam().to);
  Result<Scenario> sc = ParseScenarioToml(text, "agents.toml");
  ASSERT_FALSE(sc.ok());
  EXPECT_EQ(sc.error().detail(), GetParam().expected);
  // Keys are never quoted in errors.
  EXPECT_EQ(sc.error().detail().find("0405060708"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AgentErrorTest,
    ::testing::Values(
        BadCase{"node = \"ha\"", "node = \"host\"", "agents.toml:42: home_agent[0].node: node 'host' must be a router (kind = \"router\") to run a home agent"},
        BadCase{"interface = \"eth0\"\nhome_network", "interface = \"eth9\"\nhome_network", "agents.toml:43: home_agent[0].interface: node 'ha' has no interface 'eth9'"},
        BadCase{"home_network = \"10.1.0.0/24\"", "home_network = \"10.1.0.1/24\"", "agents.toml:44: home_agent[0].home_network: '10.1.0.1/24' is not a prefix (a.b.c.0/n, host bits clear)"},
        BadCase{"home_network = \"10.1.0.0/24\"", "home_network = \"10.2.0.0/24\"", "agents.toml:44: home_agent[0].home_network: 10.2.0.0/24 does not contain the home agent's address 10.1.0.1 (ha/eth0)"},
        BadCase{"\"172.16.0.0/12\"", "\"172.16.0.1/12\"", "agents.toml:45: home_agent[0].trusted_subnets: '172.16.0.1/12' is not a prefix (a.b.c.0/n, host bits clear)"},
        BadCase{"max_lifetime = \"10m\"", "max_lifetime = \"10.5s\"", "agents.toml:46: home_agent[0].max_lifetime: must be a whole number of seconds"},
        BadCase{"max_lifetime = \"10m\"", "max_lifetime = \"20h\"", "agents.toml:46: home_agent[0].max_lifetime: 72000.000s is outside 1s..65534s"},
        BadCase{"advertisement_interval = \"2s\"", "advertisement_interval = \"50ms\"", "agents.toml:47: home_agent[0].advertisement_interval: 50.000ms is outside 100ms..1800s (0s: no advertisements)"},
        BadCase{"home_address = \"10.1.0.10\"", "home_address = \"10.2.0.10\"", "agents.toml:49: home_agent[0].mobile_node[0].home_address: 10.2.0.10 is not a host address of home_network 10.1.0.0/24 other than the home agent's"},
        BadCase{"home_address = \"10.1.0.10\"", "home_address = \"10.1.0.1\"", "agents.toml:49: home_agent[0].mobile_node[0].home_address: 10.1.0.1 is not a host address of home_network 10.1.0.0/24 other than the home agent's"},
        BadCase{"spi = 4096", "spi = 255", "agents.toml:50: home_agent[0].mobile_node[0].spi: 255 is reserved (SPIs 0-255, RFC 5944 1.6)"},
        BadCase{"spi = 4096", "sip = 4096", "agents.toml:50: home_agent[0].mobile_node[0].sip: unknown key (expected one of: home_address, spi, key, replay)"},
        BadCase{"key = \"000102030405060708090a0b0c0d0e0f\"", "key = \"0001020304050607\"", "agents.toml:51: home_agent[0].mobile_node[0].key: 8 bytes; at least 16 needed (128 bits, RFC 5944 5.1)"},
        BadCase{"key = \"000102030405060708090a0b0c0d0e0f\"", "key = \"000102030405060708090a0b0c0d0e0g\"", "agents.toml:51: home_agent[0].mobile_node[0].key: is not hexadecimal (the value is not shown)"},
        BadCase{"replay = \"nonce\"", "replay = \"counter\"", "agents.toml:52: home_agent[0].mobile_node[0].replay: 'counter' is not \"timestamp\" or \"nonce\" (RFC 5944 5.7)"},
        BadCase{"node = \"fa\"", "node = \"ha\"", "agents.toml:55: foreign_agent[0].node: node 'ha' already runs a home agent (line 41); one Mobile IP agent per node"},
        BadCase{"[\"10.4.0.1\", \"10.1.0.4\"]", "[\"10.4.0.1\", \"10.1.0.99\"]", "agents.toml:57: foreign_agent[0].care_of_addresses: 10.1.0.99 is not a static address of node 'fa'"},
        BadCase{"advertisement_interval = \"500ms\"", "advertisement_interval = \"0s\"", "agents.toml:58: foreign_agent[0].advertisement_interval: 0ns is outside 100ms..1800s"},
        BadCase{"reverse_tunnel = false", "reverse_tunnel = \"no\"", "agents.toml:59: foreign_agent[0].reverse_tunnel: must be true or false"},
        BadCase{"local_id = \"fqdn:gw.example\"", "local_id = \"x:gw\"", "agents.toml:64: vpn_gateway[0].local_id: 'x:gw' is not an identity (fqdn:, ipv4:, email: or keyid:)"},
        BadCase{"psk = \"00112233445566778899aabbccddeeff\"", "psk = \"0011\"", "agents.toml:66: vpn_gateway[0].psk: 2 bytes; at least 16 needed (128 bits)"},
        BadCase{"\"10.10.0.20-10.10.0.30\"", "\"10.10.0.30-10.10.0.20\"", "agents.toml:67: vpn_gateway[0].tia_pool: '10.10.0.30-10.10.0.20' is not a prefix (a.b.c.0/n) or a range first-last"},
        BadCase{"intranet = \"10.0.0.0/8\"", "intranet = \"10.0.0.0/33\"", "agents.toml:68: vpn_gateway[0].intranet: '10.0.0.0/33' is not a prefix (a.b.c.0/n, host bits clear)"},
        BadCase{"intranet = \"10.0.0.0/8\"", "intranet = []", "agents.toml:68: vpn_gateway[0].intranet: missing (required: the prefixes offered as TSr)"},
        BadCase{"mobike_return_routability", "mobike_rr", "agents.toml:69: vpn_gateway[0].mobike_rr: unknown key (expected one of: node, interface, local_id, remote_id, psk, tia_pool, intranet, mobike, mobike_return_routability, force_encapsulation)"}));

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
  // The agents of RFC 5266 Figure 1.
  ASSERT_EQ(sc->home_agents.size(), 1u);
  EXPECT_EQ(sc->home_agents[0].node, "i-ha");
  EXPECT_EQ(sc->home_agents[0].address.ToString(), "10.1.0.2");
  ASSERT_EQ(sc->home_agents[0].mobile_nodes.size(), 1u);
  EXPECT_EQ(sc->home_agents[0].mobile_nodes[0].home_address.ToString(), "10.1.0.10");
  EXPECT_EQ(sc->home_agents[0].mobile_nodes[0].spi, 0x1000u);
  ASSERT_EQ(sc->foreign_agents.size(), 1u);
  EXPECT_EQ(sc->foreign_agents[0].care_of_addresses[0].ToString(), "10.4.0.1");
  ASSERT_EQ(sc->vpn_gateways.size(), 1u);
  EXPECT_EQ(sc->vpn_gateways[0].node, "mvpn");
  EXPECT_EQ(sc->vpn_gateways[0].tia_prefix->ToString(), "10.10.0.0/24");
  // The TIA pool is trusted by the i-HA (registrations through the VPN are
  // answered) and routed to the mVPN by the firewall.
  bool trusted = false;
  for (const Ipv4Prefix& p : sc->home_agents[0].trusted_subnets) {
    trusted = trusted || p.Contains(*sc->vpn_gateways[0].tia_prefix);
  }
  EXPECT_TRUE(trusted);
  EXPECT_FALSE(BuiltinScenario("nope").has_value());
  // The RFC 5266 mobile node.
  ASSERT_EQ(sc->mobile_nodes.size(), 1u);
  const MobileNodeAppSpec& mn = sc->mobile_nodes[0];
  EXPECT_EQ(mn.node, "mn");
  EXPECT_EQ(mn.interfaces, std::vector<std::string>{"eth0"});
  EXPECT_EQ(mn.home_agent.ToString(), "10.1.0.2");
  EXPECT_EQ(mn.vpn_gateway->ToString(), "192.0.2.2");
  EXPECT_EQ(mn.probe_retransmissions, 2);
  EXPECT_FALSE(mn.vpn_tear_down_inside);
}

// A bad [[mobile_node]] value: file, line, key and reason, nothing built.
TEST(TomlLoaderTest, MobileNodeErrorsNameFileLineAndKey) {
  struct Case {
    const char* from;
    const char* to;
    const char* error;  // regex
  };
  const Case cases[] = {
      {"probe_timeout = \"1s\"", "probe_timeout = \"500ms\"",
       "figure1.toml:[0-9]+: mobile_node\\[0\\]\\.probe_timeout: at least 1s \\(RFC 5944 3\\.6\\.3\\)"},
      {"vpn_when_inside = \"keep\"", "vpn_when_inside = \"sometimes\"",
       "figure1.toml:[0-9]+: mobile_node\\[0\\]\\.vpn_when_inside: 'sometimes' is not"},
      {"vpn_routes = [\"10.0.0.0/8\"]", "vpn_routes = [\"192.168.0.0/16\"]",
       "figure1.toml:[0-9]+: mobile_node\\[0\\]\\.vpn_routes: must route the home agent "
       "10\\.1\\.0\\.2 into the tunnel \\(R3\\)"},
      {"t_monitor = \"60s\"", "t_monitor = \"5s\"",
       "figure1.toml:[0-9]+: mobile_node\\[0\\]\\.monitor_margin: needs 0 <= monitor_margin < "
       "t_monitor \\(R22\\)"},
      {"interfaces = [\"eth0\"]", "interfaces = [\"wlan9\"]",
       "figure1.toml:[0-9]+: mobile_node\\[0\\]\\.interfaces: node 'mn' has no interface 'wlan9'"},
  };
  for (const Case& c : cases) {
    std::string text(*BuiltinScenario("figure1"));
    auto at = text.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    text.replace(at, std::string(c.from).size(), c.to);
    Result<Scenario> sc = ParseScenarioToml(text, "figure1.toml");
    ASSERT_FALSE(sc.ok()) << c.to;
    EXPECT_THAT(sc.error().detail(), ::testing::ContainsRegex(c.error));
    EXPECT_EQ(sc.error().detail().find("0001020304"), std::string::npos);  // no key material
  }
}

// `restart` events (a reboot of a node's agents) and the mobile node's IKE
// liveness keys, on top of Figure 1.
TEST(TomlLoaderTest, RestartEventsAndVpnLiveness) {
  std::string text(*BuiltinScenario("figure1"));
  const std::string routes = "vpn_routes = [\"10.0.0.0/8\"]";
  text.replace(text.find(routes), routes.size(),
               "vpn_routes = [\"10.0.0.0/8\"]\nvpn_dpd_interval = \"2s\"\n"
               "vpn_retransmit_timeout = \"500ms\"\nvpn_retransmits = 2");
  std::string events = text +
                       "\n[[event]]\nat = \"12s\"\nrestart = \"i-ha\"\n"
                       "[[event]]\nat = \"33s\"\nrestart = { node = \"mvpn\", tia_pool = "
                       "\"10.10.0.100-10.10.0.199\" }\n";
  Result<Scenario> sc = ParseScenarioToml(events, "figure1.toml");
  ASSERT_TRUE(sc.ok()) << sc.error().ToString();
  ASSERT_EQ(sc->mobile_nodes.size(), 1u);
  EXPECT_EQ(sc->mobile_nodes[0].vpn_dpd_interval, Duration::Seconds(2));
  EXPECT_EQ(sc->mobile_nodes[0].vpn_retransmit_timeout, Duration::Millis(500));
  EXPECT_EQ(sc->mobile_nodes[0].vpn_retransmits, 2u);
  std::vector<const EventSpec*> restarts;
  for (const EventSpec& e : sc->events) {
    if (e.kind == EventSpec::Kind::kRestart) restarts.push_back(&e);
  }
  ASSERT_EQ(restarts.size(), 2u);
  EXPECT_EQ(restarts[0]->node, "i-ha");
  EXPECT_FALSE(restarts[0]->tia_first);
  EXPECT_EQ(restarts[1]->node, "mvpn");
  EXPECT_EQ(restarts[1]->tia_first->ToString(), "10.10.0.100");
  EXPECT_EQ(restarts[1]->tia_last->ToString(), "10.10.0.199");
  EXPECT_FALSE(restarts[1]->tia_prefix);

  struct Bad {
    std::string event, error;
  };
  for (const Bad& b : {
           Bad{"restart = \"cn\"", "restart: node 'cn' runs no home_agent, foreign_agent or vpn_gateway"},
           Bad{"restart = \"nobody\"", "restart: no node named 'nobody'"},
           Bad{"restart = 3", "restart: must be a node name or a table { node, tia_pool }"},
           Bad{"restart = { node = \"i-ha\", tia_pool = \"10.10.0.0/24\" }",
               "restart.tia_pool: node 'i-ha' runs no vpn_gateway"},
           Bad{"restart = { node = \"mvpn\", tia_pool = \"10.10.0.9-10.10.0.1\" }",
               "restart.tia_pool: '10.10.0.9-10.10.0.1' is not a prefix (a.b.c.0/n) or a range first-last"},
           Bad{"restart = { node = \"mvpn\", pool = \"10.10.0.0/24\" }",
               "restart.pool: unknown key (expected one of: node, tia_pool)"},
       }) {
    Result<Scenario> bad =
        ParseScenarioToml(text + "\n[[event]]\nat = \"1s\"\n" + b.event + "\n", "f.toml");
    ASSERT_FALSE(bad.ok()) << b.event;
    EXPECT_NE(bad.error().ToString().find(b.error), std::string::npos)
        << b.event << ": " << bad.error().ToString();
  }
}

}  // namespace
}  // namespace mipsec::sim::scenario

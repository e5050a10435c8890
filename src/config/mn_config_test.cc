#include "config/mn_config.h"
#include "config/fake_files_test_util.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace mipsec::config {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

constexpr char kKey[] = "000102030405060708090a0b0c0d0e0f";
constexpr char kPsk[] = "00112233445566778899aabbccddeeff";

// [mobile_node] first so that tests can append keys to it.
std::string Mn(const std::string& mn_extra, const std::string& rest = "") {
  return std::string("[mobile_node]\nhome_address = \"10.1.0.10\"\nhome_agent = \"10.1.0.1\"\n"
                     "spi = 1000\nkey = \"") +
         kKey + "\"\n" + mn_extra + "\n[[interface]]\nname = \"eth0\"\n" + rest;
}

std::string Vpn(const std::string& extra = "") {
  return std::string("\n[vpn]\ngateway = \"192.0.2.1\"\nlocal_id = \"email:mn@example.com\"\n"
                     "psk = \"") +
         kPsk + "\"\nroutes = [\"10.1.0.0/16\"]\n" + extra;
}

std::string MnError(const std::string& text, FakeFiles* files = nullptr) {
  FakeFiles none;
  Result<MnConfig> r = ParseMnConfig(text, "conf/mn.toml", (files ? files : &none)->Reader());
  if (r.ok()) return "(parsed)";
  return r.error().detail();
}

TEST(MnConfig, MinimalHasTheDefaults) {
  FakeFiles files;
  Result<MnConfig> r = ParseMnConfig(Mn(""), "mn.toml", files.Reader());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->home_address, A("10.1.0.10"));
  EXPECT_EQ(r->home_agent, A("10.1.0.1"));
  EXPECT_EQ(r->home_prefix_length, 24);
  EXPECT_FALSE(r->home_gateway);
  EXPECT_EQ(r->sa.spi, 1000u);
  EXPECT_EQ(ToHex(r->sa.key.Reveal()), kKey);
  EXPECT_EQ(r->replay, ReplayMethod::kTimestamp);
  EXPECT_EQ(r->lifetime, Duration::Seconds(1800));
  EXPECT_EQ(r->retransmissions, 3);
  EXPECT_EQ(r->retransmit_timeout, Duration::Seconds(1));
  EXPECT_EQ(r->t_monitor, Duration::Seconds(60));
  EXPECT_EQ(r->monitor_margin, Duration::Seconds(10));
  EXPECT_TRUE(r->use_foreign_agents);
  EXPECT_EQ(r->tun_name, "mipmn0");
  EXPECT_EQ(r->table_base, 2100u);
  EXPECT_EQ(r->rule_priority, 100u);
  EXPECT_EQ(r->control_socket, "/run/mipsec/mn.sock");
  ASSERT_EQ(r->interfaces.size(), 1u);
  EXPECT_EQ(r->interfaces[0].name, "eth0");
  EXPECT_FALSE(r->interfaces[0].address);  // DHCP
  EXPECT_FALSE(r->vpn);
  EXPECT_TRUE(files.asked.empty());
}

// The ESP TUN takes the home-address TUN's datagrams plus the Mobile IPv4
// tunnel inside the VPN.
TEST(MnConfig, VpnTunMtuFollowsTheHomeTun) {
  FakeFiles files;
  auto r = ParseMnConfig(Mn("tun_mtu = 1300\n", Vpn()), "mn.toml", files.Reader());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_TRUE(r->vpn);
  EXPECT_EQ(r->vpn->client.tun_mtu, 1332u);
}

TEST(MnConfig, EveryKey) {
  FakeFiles files;
  files.files["conf/keys/mn-ha.hex"] = std::string(kKey) + "\n";
  files.files["conf/psk.hex"] = kPsk;
  const std::string text =
      "[mobile_node]\nhome_address = \"10.1.0.10\"\nhome_prefix_length = 16\n"
      "home_gateway = \"10.1.0.254\"\nhome_agent = \"10.1.0.1\"\nnai = \"mn@example.com\"\n"
      "spi = 4096\nalgorithm = \"hmac-md5\"\nkey_file = \"keys/mn-ha.hex\"\nreplay = \"nonce\"\n"
      "tolerance = \"3s\"\nlifetime = \"600s\"\nretransmissions = 5\nretransmit_timeout = \"2s\"\n"
      "udp_tunnel = \"force\"\nvpn_udp_tunnel = \"never\"\nuse_foreign_agents = false\n"
      "t_monitor = \"30s\"\nmonitor_margin = \"5s\"\nprobe_domains = [\"corp.example.com\"]\n"
      "tun = \"home0\"\ntun_mtu = 1300\ntable_base = 500\nrule_priority = 50\n"
      "log_level = \"debug\"\ncontrol_socket = \"/tmp/mn.sock\"\n"
      "[[interface]]\nname = \"wlan0\"\n"
      "[[interface]]\nname = \"eth1\"\naddress = \"10.2.0.5/24\"\nrouter = \"10.2.0.1\"\n"
      "domain = \"corp.example.com\"\n"
      "[vpn]\ngateway = \"192.0.2.1\"\ngateway_port = 4500\n"
      "backup_gateways = [\"192.0.2.2\", \"192.0.2.3\"]\nlocal_id = \"email:mn@example.com\"\n"
      "remote_id = \"fqdn:vpn.example.com\"\npsk_file = \"psk.hex\"\n"
      "routes = [\"10.1.0.0/16\", \"10.3.0.0/16\"]\ntun = \"vpn0\"\ntun_mtu = 1380\n"
      "vpn_when_inside = \"tear-down\"\nvpn_retry = \"2s\"\nvpn_retry_max = \"1m\"\n"
      "mobike = true\ndpd_interval = \"off\"\n";
  Result<MnConfig> r = ParseMnConfig(text, "conf/mn.toml", files.Reader());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->home_prefix_length, 16);
  EXPECT_EQ(r->home_gateway, A("10.1.0.254"));
  EXPECT_EQ(r->nai, "mn@example.com");
  EXPECT_EQ(r->sa.spi, 4096u);
  EXPECT_EQ(ToHex(r->sa.key.Reveal()), kKey);
  EXPECT_EQ(r->replay, ReplayMethod::kNonce);
  EXPECT_EQ(r->tolerance, Duration::Seconds(3));
  EXPECT_EQ(r->lifetime, Duration::Seconds(600));
  EXPECT_EQ(r->retransmissions, 5);
  EXPECT_EQ(r->retransmit_timeout, Duration::Seconds(2));
  EXPECT_EQ(r->udp_tunnel, MnUdpTunnel::kForce);
  EXPECT_EQ(r->tunnel_udp_tunnel, MnUdpTunnel::kNever);
  EXPECT_FALSE(r->use_foreign_agents);
  EXPECT_EQ(r->t_monitor, Duration::Seconds(30));
  EXPECT_EQ(r->monitor_margin, Duration::Seconds(5));
  EXPECT_EQ(r->probe_domains, std::vector<std::string>{"corp.example.com"});
  EXPECT_EQ(r->tun_name, "home0");
  EXPECT_EQ(r->tun_mtu, 1300u);
  EXPECT_EQ(r->table_base, 500u);
  EXPECT_EQ(r->rule_priority, 50u);
  EXPECT_EQ(r->log_level, LogLevel::kDebug);
  EXPECT_EQ(r->control_socket, "/tmp/mn.sock");
  ASSERT_EQ(r->interfaces.size(), 2u);
  EXPECT_EQ(r->interfaces[0].name, "wlan0");
  EXPECT_EQ(r->interfaces[1].address, A("10.2.0.5"));
  EXPECT_EQ(r->interfaces[1].prefix_length, 24);
  EXPECT_EQ(r->interfaces[1].router, A("10.2.0.1"));
  EXPECT_EQ(r->interfaces[1].domain, "corp.example.com");
  EXPECT_EQ(r->interfaces[1].line, 29);
  ASSERT_TRUE(r->vpn);
  EXPECT_EQ(r->vpn->client.gateway, A("192.0.2.1"));
  EXPECT_EQ(r->vpn->client.gateway_port, 4500);
  EXPECT_EQ(r->vpn->backup_gateways, (std::vector<Ipv4Address>{A("192.0.2.2"), A("192.0.2.3")}));
  EXPECT_EQ(ToHex(r->vpn->client.ike.auth.psk.Reveal()), kPsk);
  EXPECT_TRUE(r->vpn->client.ike.remote_id);
  EXPECT_TRUE(r->vpn->client.request_virtual_ip);
  EXPECT_EQ(r->vpn->client.routes.size(), 2u);
  EXPECT_EQ(r->vpn->client.tun_name, "vpn0");
  EXPECT_EQ(r->vpn->client.tun_mtu, 1380u);
  EXPECT_TRUE(r->vpn->client.ike.dpd_interval.IsInfinite());
  EXPECT_TRUE(r->vpn->tear_down_when_inside);
  EXPECT_EQ(r->vpn->retry, Duration::Seconds(2));
  EXPECT_EQ(r->vpn->retry_max, Duration::Seconds(60));
  // Relative files are read from the config's directory.
  EXPECT_EQ(files.asked, (std::vector<std::string>{"conf/keys/mn-ha.hex", "conf/psk.hex"}));
}

TEST(MnConfig, ErrorsNameFileLineAndKey) {
  struct Case {
    std::string text;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"[mobile_node]\nhome_address = \"10.1.0.10\"\n", "mobile_node.home_agent: missing"},
      {"[[interface]]\nname = \"eth0\"\n", "mn.toml:1: mobile_node: missing (required table"},
      {Mn("colour = \"red\""), "mn.toml:6: mobile_node.colour: unknown key"},
      {Mn("spi = 200", ""), "TOML syntax"},  // a duplicate key
      {Mn("", "").replace(Mn("", "").find("spi = 1000"), 10, "spi = 200"),
       "mn.toml:4: mobile_node.spi: 200 is reserved (SPIs 0-255, RFC 5944 1.6)"},
      {Mn("lifetime = \"0s\""), "mn.toml:6: mobile_node.lifetime: 0s is outside 1s..65534s"},
      {Mn("lifetime = \"1.5s\""), "mobile_node.lifetime: must be a whole number of seconds"},
      {Mn("retransmit_timeout = \"500ms\""), "mobile_node.retransmit_timeout: 500ms is outside"},
      {Mn("t_monitor = \"10s\""), "mobile_node.t_monitor: monitor_margin 10s must be below t_monitor 10s"},
      {Mn("monitor_margin = \"70s\""), "mobile_node.monitor_margin: monitor_margin 70s must be below"},
      {Mn("replay = \"sometimes\""), "mobile_node.replay: 'sometimes' is not one of timestamp, nonce"},
      {Mn("udp_tunnel = \"maybe\""), "mobile_node.udp_tunnel: 'maybe' is not one of never, request, force"},
      {Mn("home_gateway = \"10.2.0.1\""), "mobile_node.home_gateway: 10.2.0.1 is not another host of the home network 10.1.0.0/24"},
      {Mn("home_prefix_length = 31"), "mobile_node.home_prefix_length"},
      {Mn("tun = \"a/b\""), "mobile_node.tun: 'a/b' is not an interface name"},
      {Mn("rule_priority = 32766"), "mobile_node.rule_priority"},
      {Mn("log_level = \"loud\""), "mobile_node.log_level: 'loud' is not one of"},
      {Mn("nai = \"a b\""), "mobile_node.nai: must not contain spaces"},
      {Mn("", "address = \"10.2.0.5\"\n"), "interface[0].address: '10.2.0.5' is not a unicast address with a prefix length"},
      {Mn("", "address = \"10.1.0.10/24\"\n"), "interface[0].address: is the home address"},
      {Mn("", "router = \"10.2.0.1\"\n"), "mn.toml:9: interface[0].router: only with a static address"},
      {Mn("", "address = \"10.2.0.5/24\"\nrouter = \"10.3.0.1\"\n"), "interface[0].router: 10.3.0.1 is not another host of 10.2.0.0/24"},
      {Mn("", "speed = 10\n"), "interface[0].speed: unknown key"},
      {Mn("", "[[interface]]\nname = \"eth0\"\n"), "mn.toml:10: interface[1].name: 'eth0' is listed twice"},
      {Mn("tun = \"eth0\""), "mobile_node.tun: 'eth0' is also an [[interface]]"},
      {std::string("[mobile_node]\nhome_address = \"10.1.0.10\"\nhome_agent = \"10.1.0.1\"\nspi = 1000\nkey = \"") + kKey + "\"\n",
       "interface: missing (at least one [[interface]] is required)"},
      {Mn("", Vpn("routes2 = 1")), "vpn.routes2: unknown key"},
      {Mn("", Vpn().replace(Vpn().find("10.1.0.0/16"), 11, "10.9.0.0/16")),
       "vpn.routes: no prefix holds the home agent 10.1.0.1"},
      {Mn("", Vpn("backup_gateways = [\"192.0.2.1\"]")), "vpn.backup_gateways[0]: 192.0.2.1 is listed twice"},
      {Mn("", Vpn("vpn_when_inside = \"never\"")), "vpn.vpn_when_inside: 'never' is not one of keep, tear-down"},
      {Mn("", Vpn("vpn_retry = \"10s\"\nvpn_retry_max = \"5s\"")), "vpn.vpn_retry_max: vpn_retry_max 5s is below vpn_retry 10s"},
      {Mn("", Vpn("local_address = \"192.0.2.9\"")), "vpn.local_address: unknown key"},
      {Mn("", Vpn("tun_mtu = 1431")),
       "vpn.tun_mtu: 1431 is below mobile_node.tun_mtu 1400 + 32"},
      {Mn("", Vpn("ike_proposals = [\"aes128-md5-x25519\"]")), "vpn.ike_proposals[0]: 'aes128-md5-x25519': unsupported algorithm 'md5'"},
      {"[mobile_node]\nhome_address = \"10.1.0.10\"\nhome_agent = \"10.1.0.1\"\nspi = 1000\n"
       "[[interface]]\nname = \"eth0\"\n",
       "mobile_node.key: missing (required: key or key_file)"},
  };
  for (const Case& c : cases) {
    const std::string e = MnError(c.text);
    EXPECT_NE(e.find(c.error), std::string::npos) << "text:\n" << c.text << "\nerror: " << e
                                                  << "\nexpected: " << c.error;
  }
}

TEST(MnConfig, KeysAreNeverQuoted) {
  const std::string short_key = "0a0b0c0d0e0f";
  std::string text = Mn("");
  text.replace(text.find(kKey), sizeof(kKey) - 1, short_key);
  const std::string e = MnError(text);
  EXPECT_NE(e.find("mobile_node.key: 6 bytes; hmac-md5 needs at least 16"), std::string::npos) << e;
  EXPECT_EQ(e.find(short_key), std::string::npos) << e;
  std::string bad_psk = Mn("", Vpn());
  bad_psk.replace(bad_psk.find(kPsk), sizeof(kPsk) - 1, "zz112233445566778899aabbccddeeff");
  const std::string e2 = MnError(bad_psk);
  EXPECT_NE(e2.find("vpn.psk: is not hexadecimal"), std::string::npos) << e2;
  EXPECT_EQ(e2.find("zz1122"), std::string::npos) << e2;
  FakeFiles files;
  const std::string e3 = MnError(
      std::string("[mobile_node]\nhome_address = \"10.1.0.10\"\nhome_agent = \"10.1.0.1\"\n"
                  "spi = 1000\nkey_file = \"missing.hex\"\n[[interface]]\nname = \"eth0\"\n"),
      &files);
  EXPECT_NE(e3.find("mn.toml:5: mobile_node.key_file: cannot read 'conf/missing.hex'"),
            std::string::npos)
      << e3;
}

TEST(MnConfig, ExampleFileParses) {
  const std::string path = std::string(MIPSEC_SOURCE_DIR) + "/examples/mn.toml";
  Result<MnConfig> r = LoadMnConfig(path);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->interfaces.size(), 2u);
  EXPECT_TRUE(r->vpn);
}

MnConfig Parsed(const std::string& text) {
  FakeFiles files;
  Result<MnConfig> r = ParseMnConfig(text, "mn.toml", files.Reader());
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  return r.ok() ? std::move(r).value() : MnConfig{};
}

TEST(MnConfigReload, LiveKeysAreChangedTheRestNeedsARestart) {
  const MnConfig running = Parsed(Mn(""));
  EXPECT_TRUE(DiffMnConfig(running, Parsed(Mn(""))).empty());
  EXPECT_EQ(DiffMnConfig(running, Parsed(Mn(""))).Summary(""), "no changes");

  const MnConfig live = Parsed(Mn(
      "log_level = \"debug\"\nuse_foreign_agents = false\nt_monitor = \"30s\"\n"
      "monitor_margin = \"5s\"\nprobe_domains = [\"corp.example.com\"]"));
  ReloadDiff d = DiffMnConfig(running, live);
  EXPECT_EQ(d.changed, (std::vector<std::string>{"log_level", "use_foreign_agents", "t_monitor",
                                                 "monitor_margin", "probe_domains"}));
  EXPECT_TRUE(d.restart_only.empty());
  MnConfig merged = MergeMnReload(running, live);
  EXPECT_EQ(merged.log_level, LogLevel::kDebug);
  EXPECT_FALSE(merged.use_foreign_agents);
  EXPECT_EQ(merged.t_monitor, Duration::Seconds(30));
  EXPECT_EQ(merged.monitor_margin, Duration::Seconds(5));
  EXPECT_EQ(merged.probe_domains, (std::vector<std::string>{"corp.example.com"}));

  // Restart-only keys are named (the key by name only) and not merged.
  const std::string other_key = "ffeeddccbbaa99887766554433221100";
  std::string text = Mn("lifetime = \"600s\"\ntun = \"mipmn1\"\ncontrol_socket = \"/tmp/x.sock\"",
                        "[[interface]]\nname = \"wlan0\"\n");
  text.replace(text.find(kKey), std::string(kKey).size(), other_key);
  const MnConfig restart = Parsed(text);
  d = DiffMnConfig(running, restart);
  EXPECT_TRUE(d.changed.empty());
  EXPECT_EQ(d.RestartKeys(), "key, lifetime, tun, control_socket, interface");
  EXPECT_EQ(d.Summary("").find(other_key), std::string::npos);
  merged = MergeMnReload(running, restart);
  EXPECT_EQ(merged.lifetime, running.lifetime);
  EXPECT_EQ(merged.tun_name, "mipmn0");
  EXPECT_EQ(merged.control_socket, running.control_socket);
  EXPECT_EQ(merged.interfaces.size(), 1u);
  EXPECT_TRUE(merged.sa.key.Equals(running.sa.key));

  // [vpn]: added, or one of its keys changed (the PSK by name only).
  const MnConfig with_vpn = Parsed(Mn("", Vpn()));
  EXPECT_EQ(DiffMnConfig(running, with_vpn).RestartKeys(), "vpn");
  std::string other_vpn = Mn("", Vpn("vpn_retry = \"10s\"\n"));
  other_vpn.replace(other_vpn.find(kPsk), std::string(kPsk).size(), other_key);
  EXPECT_EQ(DiffMnConfig(with_vpn, Parsed(other_vpn)).RestartKeys(), "vpn.psk, vpn.vpn_retry");
}

}  // namespace
}  // namespace mipsec::config

#include "config/daemon_config.h"
#include "config/fake_files_test_util.h"

#include <gtest/gtest.h>

#include <map>
#include <ostream>

namespace mipsec::config {
namespace {

// Keys from the config can never be streamed (and so never logged).
template <typename T>
concept Streamable = requires(std::ostream& os, const T& v) { os << v; };
static_assert(!Streamable<SecretBytes>);

std::string KeyHex(const SecretBytes& k) { return ToHex(k.Reveal()); }

constexpr char kMinimalHa[] = R"([home_agent]
address = "192.0.2.1"
home_network = "192.0.2.0/24"
interface = "eth1"
)";

std::string HaWith(const std::string& extra) { return std::string(kMinimalHa) + extra; }

std::string HaError(const std::string& text, FakeFiles* files = nullptr) {
  FakeFiles none;
  Result<HaConfig> r = ParseHaConfig(text, "ha.toml", (files ? files : &none)->Reader());
  return r.ok() ? "(parsed)" : r.error().detail();
}

std::string FaError(const std::string& text) {
  FakeFiles none;
  Result<FaConfig> r = ParseFaConfig(text, "fa.toml", none.Reader());
  return r.ok() ? "(parsed)" : r.error().detail();
}

TEST(ConfigExamplesTest, ExampleHaLoads) {
  Result<HaConfig> r = LoadHaConfig(MIPSEC_SOURCE_DIR "/examples/ha.toml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const HaConfig& c = *r;
  EXPECT_EQ(c.address.ToString(), "192.0.2.1");
  EXPECT_EQ(c.home_network.ToString(), "192.0.2.0/24");
  EXPECT_EQ(c.interface, "eth1");
  EXPECT_EQ(c.port, 434);
  EXPECT_EQ(c.max_lifetime, Duration::Seconds(1800));
  ASSERT_EQ(c.trusted_subnets.size(), 1u);
  EXPECT_EQ(c.trusted_subnets[0].ToString(), "10.10.0.0/16");
  EXPECT_TRUE(c.reverse_tunnel_allowed);
  EXPECT_FALSE(c.reverse_tunnel_mandatory);
  EXPECT_TRUE(c.udp_tunnel_enabled);
  EXPECT_TRUE(c.udp_tunnel_accept_forcing);
  EXPECT_EQ(c.udp_keepalive_interval, Duration::Seconds(110));
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_EQ(c.control_socket, "/run/mipsec/ha.sock");
  ASSERT_EQ(c.mobile_nodes.size(), 2u);
  EXPECT_EQ(c.mobile_nodes[0].home_address, Ipv4Address::FromOctets(192, 0, 2, 10));
  EXPECT_EQ(c.mobile_nodes[0].nai, "alice@example.net");
  EXPECT_EQ(c.mobile_nodes[0].sa.spi, 1000u);
  EXPECT_EQ(KeyHex(c.mobile_nodes[0].sa.key), "000102030405060708090a0b0c0d0e0f");
  EXPECT_EQ(c.mobile_nodes[0].replay, ReplayMethod::kTimestamp);
  EXPECT_EQ(c.mobile_nodes[0].tolerance, Duration::Seconds(7));
  EXPECT_FALSE(c.mobile_nodes[1].home_address.has_value());
  EXPECT_EQ(c.mobile_nodes[1].nai, "bob@example.net");
  EXPECT_EQ(KeyHex(c.mobile_nodes[1].sa.key), "00112233445566778899aabbccddeeff");  // key_file
  EXPECT_EQ(c.mobile_nodes[1].replay, ReplayMethod::kNonce);
  ASSERT_EQ(c.fa_peers.size(), 1u);
  EXPECT_EQ(c.fa_peers[0].address.ToString(), "198.51.100.1");
  EXPECT_EQ(c.fa_peers[0].sa.spi, 2000u);
}

TEST(ConfigExamplesTest, ExampleFaLoads) {
  Result<FaConfig> r = LoadFaConfig(MIPSEC_SOURCE_DIR "/examples/fa.toml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const FaConfig& c = *r;
  EXPECT_EQ(c.advertisement_interval, Duration::Seconds(1));
  EXPECT_EQ(c.advertisement_lifetime, Duration::Seconds(3));
  EXPECT_EQ(c.max_lifetime, Duration::Seconds(1800));
  EXPECT_TRUE(c.registration_required);
  EXPECT_TRUE(c.reverse_tunnel);
  EXPECT_TRUE(c.udp_tunnel);
  EXPECT_FALSE(c.behind_nat);
  EXPECT_EQ(c.max_visitors, 4096u);
  EXPECT_EQ(c.pending_timeout, Duration::Seconds(7));
  ASSERT_EQ(c.interfaces.size(), 1u);
  EXPECT_EQ(c.interfaces[0].name, "eth1");
  EXPECT_EQ(c.interfaces[0].address.ToString(), "10.20.0.1");
  EXPECT_EQ(c.interfaces[0].prefix_length, 24);
  ASSERT_EQ(c.interfaces[0].care_of_addresses.size(), 1u);
  EXPECT_EQ(c.interfaces[0].care_of_addresses[0].ToString(), "198.51.100.1");
  ASSERT_EQ(c.ha_peers.size(), 1u);
  EXPECT_EQ(KeyHex(c.ha_peers[0].sa.key), "f0e0d0c0b0a090807060504030201000");
  ASSERT_EQ(c.mobile_nodes.size(), 1u);
  EXPECT_EQ(c.mobile_nodes[0].sa.spi, 3000u);
}

TEST(HaConfigTest, Defaults) {
  Result<HaConfig> r = ParseHaConfig(kMinimalHa, "ha.toml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->port, 434);
  EXPECT_EQ(r->max_lifetime, Duration::Seconds(1800));
  EXPECT_TRUE(r->trusted_subnets.empty());  // RFC 5265 4.3: none by default
  EXPECT_FALSE(r->require_fa_ha_auth);
  EXPECT_TRUE(r->reverse_tunnel_allowed);
  EXPECT_FALSE(r->reverse_tunnel_mandatory);
  EXPECT_TRUE(r->udp_tunnel_enabled);
  EXPECT_EQ(r->udp_keepalive_interval, Duration::Seconds(110));
  EXPECT_TRUE(r->mobile_nodes.empty());
  // RFC 5944 2.3: the HA advertises on the home link by default.
  EXPECT_EQ(r->advertisement_interval, Duration::Seconds(1));
  EXPECT_EQ(r->advertisement_lifetime, Duration::Seconds(3));
}

TEST(HaConfigTest, HomeLinkAdvertisements) {
  Result<HaConfig> r = ParseHaConfig(HaWith("advertisement_interval = \"500ms\"\n"), "ha.toml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->advertisement_interval, Duration::Millis(500));
  EXPECT_EQ(r->advertisement_lifetime, Duration::Seconds(2));  // 1.5 s rounded up
  // 0s: a virtual home network, no advertisements.
  r = ParseHaConfig(HaWith("advertisement_interval = \"0s\"\n"), "ha.toml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->advertisement_interval, Duration::Zero());
  EXPECT_EQ(HaError(HaWith("advertisement_interval = \"50ms\"\n")),
            "ha.toml:5: home_agent.advertisement_interval: 50.000ms is outside 100ms..1800s "
            "(0s: no advertisements)");
  EXPECT_EQ(HaError(HaWith("advertisement_interval = \"10s\"\nadvertisement_lifetime = \"5s\"\n")),
            "ha.toml:6: home_agent.advertisement_lifetime: 5.000s is shorter than three "
            "advertisement intervals (10.000s each; RFC 5944 2.1)");
}

TEST(HaConfigTest, ErrorsNameFileLineKeyAndReason) {
  const std::string mn = "\n[[mobile_node]]\nhome_address = \"192.0.2.10\"\nspi = 1000\n"
                         "key = \"000102030405060708090a0b0c0d0e0f\"\n";
  // The brief's example: the third mobile node's reserved SPI.
  EXPECT_EQ(HaError(HaWith(mn +
                           "[[mobile_node]]\nnai = \"b@x\"\nspi = 1001\n"
                           "key = \"000102030405060708090a0b0c0d0e0f\"\n"
                           "[[mobile_node]]\nnai = \"c@x\"\nspi = 200\n"
                           "key = \"000102030405060708090a0b0c0d0e0f\"\n")),
            "ha.toml:16: mobile_node[2].spi: 200 is reserved (SPIs 0-255, RFC 5944 1.6)");
  EXPECT_EQ(HaError(HaWith("colour = \"blue\"\n")),
            "ha.toml:5: home_agent.colour: unknown key (expected one of: address, home_network, "
            "interface, port, max_lifetime, trusted_subnets, require_fa_ha_auth, "
            "advertisement_interval, advertisement_lifetime, log_level, control_socket)");
  EXPECT_EQ(HaError("[reverse_tunnel]\nallowed = true\n"),
            "ha.toml:1: home_agent: missing (required table [home_agent])");
  EXPECT_EQ(HaError("[home_agent]\naddress = \"192.0.2.1\"\nhome_network = \"192.0.2.1/24\"\n"),
            "ha.toml:3: home_agent.home_network: '192.0.2.1/24' is not a prefix a.b.c.d/len "
            "without host bits");
  EXPECT_EQ(HaError("[home_agent]\naddress = \"10.0.0.1\"\nhome_network = \"192.0.2.0/24\"\n"
                    "interface = \"eth1\"\n"),
            "ha.toml:2: home_agent.address: 10.0.0.1 is not a host address in home_network "
            "192.0.2.0/24");
  EXPECT_EQ(HaError(HaWith("max_lifetime = \"70000s\"\n")),
            "ha.toml:5: home_agent.max_lifetime: 70000.000s is outside 1s..65534s");
  EXPECT_EQ(HaError(HaWith("max_lifetime = \"1.5s\"\n")),
            "ha.toml:5: home_agent.max_lifetime: must be a whole number of seconds");
  EXPECT_EQ(HaError(HaWith("trusted_subnets = [\"10.0.0.0/33\"]\n")),
            "ha.toml:5: home_agent.trusted_subnets: '10.0.0.0/33' is not a prefix a.b.c.d/len "
            "without host bits");
  EXPECT_EQ(HaError(HaWith("log_level = \"loud\"\n")),
            "ha.toml:5: home_agent.log_level: 'loud' is not one of trace, debug, info, notice, "
            "warning, error, off");
  EXPECT_EQ(HaError(HaWith("[reverse_tunnel]\nallowed = false\nmandatory = true\n")),
            "ha.toml:7: reverse_tunnel.mandatory: cannot be true when reverse_tunnel.allowed is "
            "false");
  EXPECT_EQ(HaError(HaWith("[udp_tunnel]\nkeepalive_interval = 110\n")),
            "ha.toml:6: udp_tunnel.keepalive_interval: must be a string with a unit, e.g. "
            "\"10ms\" or \"1.5s\"");
  EXPECT_EQ(HaError(HaWith("[udp_tunnel]\nkeepalive_interval = \"0s\"\n")),
            "ha.toml:6: udp_tunnel.keepalive_interval: 0ns is outside 1s..65535s");
}

TEST(HaConfigTest, MobileNodeRules) {
  const std::string key = "key = \"000102030405060708090a0b0c0d0e0f\"\n";
  EXPECT_EQ(HaError(HaWith("[[mobile_node]]\nspi = 1000\n" + key)),
            "ha.toml:5: mobile_node[0]: needs home_address, nai or both");
  EXPECT_EQ(HaError(HaWith("[[mobile_node]]\nhome_address = \"10.0.0.5\"\nspi = 1000\n" + key)),
            "ha.toml:6: mobile_node[0].home_address: 10.0.0.5 is not a host address in "
            "home_network 192.0.2.0/24");
  EXPECT_EQ(HaError(HaWith("[[mobile_node]]\nhome_address = \"192.0.2.1\"\nspi = 1000\n" + key)),
            "ha.toml:6: mobile_node[0].home_address: is the home agent's own address");
  EXPECT_EQ(HaError(HaWith("[[mobile_node]]\nhome_address = \"192.0.2.9\"\nspi = 1000\n" + key +
                           "[[mobile_node]]\nhome_address = \"192.0.2.9\"\nspi = 1001\n" + key)),
            "ha.toml:10: mobile_node[1].home_address: 192.0.2.9 is already mobile_node[0] "
            "(line 5)");
  EXPECT_EQ(HaError(HaWith("[[mobile_node]]\nnai = \"a@x\"\nspi = 1000\n" + key +
                           "[[mobile_node]]\nnai = \"a@x\"\nspi = 1001\n" + key)),
            "ha.toml:10: mobile_node[1].nai: 'a@x' is already mobile_node[0] (line 5)");
  EXPECT_EQ(HaError(HaWith("[[mobile_node]]\nnai = \"a b\"\nspi = 1000\n" + key)),
            "ha.toml:6: mobile_node[0].nai: must not contain spaces or control characters");
  EXPECT_EQ(HaError(HaWith("[[mobile_node]]\nnai = \"a@x\"\n" + key)),
            "ha.toml:5: mobile_node[0].spi: missing (required)");
  EXPECT_EQ(HaError(HaWith("[[mobile_node]]\nnai = \"a@x\"\nspi = 5000000000\n" + key)),
            "ha.toml:7: mobile_node[0].spi: 5000000000 is outside 0..4294967295");
  EXPECT_EQ(HaError(HaWith("[[mobile_node]]\nnai = \"a@x\"\nspi = 1000\nalgorithm = \"md5\"\n" +
                           key)),
            "ha.toml:8: mobile_node[0].algorithm: 'md5' is not supported (supported: hmac-md5)");
  EXPECT_EQ(HaError(HaWith("[[mobile_node]]\nnai = \"a@x\"\nspi = 1000\nreplay = \"none\"\n" +
                           key)),
            "ha.toml:8: mobile_node[0].replay: 'none' is not \"timestamp\" or \"nonce\" "
            "(RFC 5944 5.7)");
  EXPECT_EQ(HaError(HaWith("[[mobile_node]]\nnai = \"a@x\"\nspi = 1000\nreplay = \"nonce\"\n"
                           "tolerance = \"5s\"\n" + key)),
            "ha.toml:9: mobile_node[0].tolerance: only applies to replay = \"timestamp\"");
  EXPECT_EQ(HaError(HaWith("[[mobile_node]]\nnai = \"a@x\"\nspi = 1000\ntolerance = \"500ms\"\n" +
                           key)),
            "ha.toml:8: mobile_node[0].tolerance: 500.000ms is outside 1s..1h");
  EXPECT_EQ(HaError(HaWith("[[mobile_node]]\nnai = \"a@x\"\nspi = 1000\nkeys = 1\n" + key)),
            "ha.toml:8: mobile_node[0].keys: unknown key (expected one of: home_address, nai, "
            "spi, algorithm, key, key_file, replay, tolerance)");
}

TEST(HaConfigTest, KeysAreCheckedAndNeverQuoted) {
  const std::string head = HaWith("[[mobile_node]]\nnai = \"a@x\"\nspi = 1000\n");
  std::string e = HaError(head + "key = \"s3cr3t-passw0rd-not-hex\"\n");
  EXPECT_EQ(e, "ha.toml:8: mobile_node[0].key: is not hexadecimal (the value is not shown)");
  EXPECT_EQ(e.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(HaError(head + "key = \"0001020304050607\"\n"),
            "ha.toml:8: mobile_node[0].key: 8 bytes; hmac-md5 needs at least 16 (128 bits, "
            "RFC 5944 5.1)");
  EXPECT_EQ(HaError(head),
            "ha.toml:5: mobile_node[0].key: missing (required: key or key_file)");
  EXPECT_EQ(HaError(head + "key = \"000102030405060708090a0b0c0d0e0f\"\nkey_file = \"k\"\n"),
            "ha.toml:9: mobile_node[0].key_file: give either key or key_file, not both");
  EXPECT_EQ(HaError(head + "key = 12\n"), "ha.toml:8: mobile_node[0].key: must be a string");
}

TEST(HaConfigTest, KeyFilesAreRelativeToTheConfig) {
  FakeFiles files;
  files.files["/etc/mipsec/keys/a.key"] = "  00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f\n";
  files.files["/etc/mipsec/ha.toml"] =
      HaWith("[[mobile_node]]\nnai = \"a@x\"\nspi = 1000\nkey_file = \"keys/a.key\"\n");
  Result<HaConfig> r = LoadHaConfig("/etc/mipsec/ha.toml", files.Reader());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(KeyHex(r->mobile_nodes[0].sa.key), "000102030405060708090a0b0c0d0e0f");
  EXPECT_EQ(files.asked.back(), "/etc/mipsec/keys/a.key");

  files.files["/etc/mipsec/keys/bad.key"] = "not hex secret\n";
  std::string e = HaError(
      HaWith("[[mobile_node]]\nnai = \"a@x\"\nspi = 1000\nkey_file = \"/etc/mipsec/keys/bad.key\"\n"),
      &files);
  EXPECT_EQ(e, "ha.toml:8: mobile_node[0].key_file '/etc/mipsec/keys/bad.key': is not "
               "hexadecimal (the value is not shown)");
  e = HaError(HaWith("[[mobile_node]]\nnai = \"a@x\"\nspi = 1000\nkey_file = \"missing.key\"\n"),
              &files);
  EXPECT_EQ(e, "ha.toml:8: mobile_node[0].key_file: cannot read 'missing.key': No such file");
}

TEST(HaConfigTest, FaPeers) {
  const std::string peer = "[[fa_peer]]\naddress = \"198.51.100.1\"\nspi = 2000\n"
                           "key = \"000102030405060708090a0b0c0d0e0f\"\n";
  Result<HaConfig> r = ParseHaConfig(HaWith("require_fa_ha_auth = true\n" + peer), "ha.toml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->require_fa_ha_auth);
  ASSERT_EQ(r->fa_peers.size(), 1u);
  EXPECT_EQ(HaError(HaWith(peer + peer)),
            "ha.toml:11: fa_peer[1].spi: peer 198.51.100.1 already has SPI 2000 (fa_peer[0])");
  EXPECT_EQ(HaError(HaWith("[[fa_peer]]\naddress = \"224.0.0.1\"\nspi = 2000\n")),
            "ha.toml:6: fa_peer[0].address: 224.0.0.1 is not a unicast address");
}

TEST(HaConfigTest, SyntaxErrorIsReported) {
  EXPECT_EQ(HaError("[home_agent\n").rfind("ha.toml:1: TOML syntax: ", 0), 0u);
}

constexpr char kMinimalFa[] = R"([[interface]]
name = "eth1"
address = "10.20.0.1/24"
care_of_addresses = "198.51.100.1"
)";

TEST(FaConfigTest, DefaultsAndDerivedLifetime) {
  Result<FaConfig> r = ParseFaConfig(kMinimalFa, "fa.toml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->advertisement_interval, Duration::Seconds(1));
  EXPECT_EQ(r->advertisement_lifetime, Duration::Seconds(3));
  EXPECT_FALSE(r->udp_tunnel);
  EXPECT_FALSE(r->behind_nat);
  EXPECT_EQ(r->interfaces[0].care_of_addresses.size(), 1u);

  r = ParseFaConfig(std::string("[foreign_agent]\nadvertisement_interval = \"2.5s\"\n") +
                        kMinimalFa, "fa.toml");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->advertisement_lifetime, Duration::Seconds(8));  // 7.5 s rounded up
}

TEST(FaConfigTest, Errors) {
  EXPECT_EQ(FaError("[foreign_agent]\nport = 434\n"),
            "fa.toml:1: interface: missing (at least one [[interface]])");
  EXPECT_EQ(FaError(std::string("[foreign_agent]\nbehind_nat = true\n") + kMinimalFa),
            "fa.toml:2: foreign_agent.behind_nat: needs udp_tunnel = true (the U flag offers "
            "RFC 3519 UDP tunnelling)");
  EXPECT_EQ(FaError(std::string("[foreign_agent]\nadvertisement_interval = \"5s\"\n"
                                "advertisement_lifetime = \"2s\"\n") + kMinimalFa),
            "fa.toml:3: foreign_agent.advertisement_lifetime: 2.000s is shorter than three "
            "advertisement intervals (5.000s each; RFC 5944 2.1)");
  EXPECT_EQ(FaError(std::string("[foreign_agent]\npending_timeout = \"2m\"\n") + kMinimalFa),
            "fa.toml:2: foreign_agent.pending_timeout: 120.000s is outside 1s..60s");
  EXPECT_EQ(FaError("[[interface]]\nname = \"eth1\"\naddress = \"10.20.0.1\"\n"
                    "care_of_addresses = [\"198.51.100.1\"]\n"),
            "fa.toml:3: interface[0].address: '10.20.0.1' is not a unicast address with a prefix "
            "length up to 30 (a.b.c.d/len)");
  EXPECT_EQ(FaError("[[interface]]\nname = \"eth1\"\naddress = \"10.20.0.1/24\"\n"),
            "fa.toml:1: interface[0].care_of_addresses: missing (at least one address)");
  EXPECT_EQ(FaError("[[interface]]\nname = \"eth1\"\naddress = \"10.20.0.1/24\"\n"
                    "care_of_addresses = [\"0.0.0.0\"]\n"),
            "fa.toml:4: interface[0].care_of_addresses: '0.0.0.0' is not a unicast IPv4 address");
  EXPECT_EQ(FaError(std::string(kMinimalFa) + kMinimalFa),
            "fa.toml:6: interface[1].name: 'eth1' is already interface[0]");
  EXPECT_EQ(FaError(std::string(kMinimalFa) + "[[mobile_node]]\nnai = \"a@x\"\nspi = 1000\n"
                    "replay = \"nonce\"\n"),
            "fa.toml:8: mobile_node[0].replay: unknown key (expected one of: home_address, nai, "
            "spi, algorithm, key, key_file)");
  EXPECT_EQ(FaError(std::string(kMinimalFa) + "[[ha_peer]]\naddress = \"192.0.2.1\"\nspi = 7\n"
                    "key = \"000102030405060708090a0b0c0d0e0f\"\n"),
            "fa.toml:7: ha_peer[0].spi: 7 is reserved (SPIs 0-255, RFC 5944 1.6)");
}

}  // namespace
}  // namespace mipsec::config

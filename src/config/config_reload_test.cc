#include "config/config_reload.h"

#include <gtest/gtest.h>

#include <string>

namespace mipsec::config {
namespace {

Result<std::string> NoFiles(const std::string& path) {
  return Error(Errc::kSystem, "cannot read '" + path + "'");
}

constexpr char kHa[] = R"([home_agent]
address = "192.0.2.1"
home_network = "192.0.2.0/24"
interface = "eth1"
trusted_subnets = ["10.10.0.0/16"]
)";

constexpr char kAlice[] = R"(
[[mobile_node]]
home_address = "192.0.2.10"
spi = 1000
key = "000102030405060708090a0b0c0d0e0f"
)";

constexpr char kAliceRekeyed[] = R"(
[[mobile_node]]
home_address = "192.0.2.10"
spi = 1000
key = "ffeeddccbbaa99887766554433221100"
)";

constexpr char kBob[] = R"(
[[mobile_node]]
nai = "bob@example.net"
spi = 1001
key = "101112131415161718191a1b1c1d1e1f"
)";

constexpr char kPeer[] = R"(
[[fa_peer]]
address = "198.51.100.1"
spi = 2000
key = "f0e0d0c0b0a090807060504030201000"
)";

HaConfig Ha(const std::string& text) {
  Result<HaConfig> r = ParseHaConfig(text, "ha.toml", NoFiles);
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  return r.ok() ? *r : HaConfig{};
}

TEST(ConfigReloadTest, SameConfigHasNoChanges) {
  const std::string t = std::string(kHa) + kAlice + kBob + kPeer;
  ReloadDiff d = DiffHaConfig(Ha(t), Ha(t));
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(d.Summary("FA peer"), "no changes");
}

TEST(ConfigReloadTest, MobileNodesAddedRemovedRekeyed) {
  const HaConfig before = Ha(std::string(kHa) + kAlice + kPeer);
  const HaConfig after = Ha(std::string(kHa) + kAliceRekeyed + kBob);
  ReloadDiff d = DiffHaConfig(before, after);
  EXPECT_EQ(d.mobile_nodes_added, 1);
  EXPECT_EQ(d.mobile_nodes_rekeyed, 1);
  EXPECT_EQ(d.mobile_nodes_removed, 0);
  EXPECT_EQ(d.peers_removed, 1);
  EXPECT_TRUE(d.changed.empty());
  EXPECT_TRUE(d.restart_only.empty());
  EXPECT_EQ(d.Summary("FA peer"),
            "1 mobile node added, 1 mobile node re-keyed, 1 FA peer removed");
  // The reverse: bob removed.
  ReloadDiff back = DiffHaConfig(after, before);
  EXPECT_EQ(back.mobile_nodes_removed, 1);
  EXPECT_EQ(back.mobile_nodes_rekeyed, 1);
  EXPECT_EQ(back.peers_added, 1);
}

TEST(ConfigReloadTest, SummaryNeverHoldsKeys) {
  ReloadDiff d = DiffHaConfig(Ha(std::string(kHa) + kAlice), Ha(std::string(kHa) + kAliceRekeyed));
  const std::string s = d.Summary("FA peer");
  EXPECT_EQ(s.find("0001020304"), std::string::npos);
  EXPECT_EQ(s.find("ffeeddcc"), std::string::npos);
  EXPECT_EQ(s, "1 mobile node re-keyed");
}

TEST(ConfigReloadTest, PeerRekeyedByKeyOnly) {
  std::string rekeyed = kPeer;
  rekeyed.replace(rekeyed.find("f0e0"), 4, "aaaa");
  ReloadDiff d = DiffHaConfig(Ha(std::string(kHa) + kPeer), Ha(std::string(kHa) + rekeyed));
  EXPECT_EQ(d.peers_rekeyed, 1);
  EXPECT_EQ(d.peers_added, 0);
  EXPECT_EQ(d.peers_removed, 0);
}

TEST(ConfigReloadTest, LiveKeysAreChangedRestartKeysAreReportedAndKeptBack) {
  const HaConfig before = Ha(kHa);
  const HaConfig after = Ha(R"([home_agent]
address = "192.0.2.2"
home_network = "192.0.2.0/24"
interface = "eth2"
port = 4343
trusted_subnets = ["10.10.0.0/16", "10.20.0.0/16"]
max_lifetime = "10m"
log_level = "debug"
control_socket = "/run/other.sock"
)");
  ReloadDiff d = DiffHaConfig(before, after);
  EXPECT_EQ(d.changed, (std::vector<std::string>{"max_lifetime", "trusted_subnets", "log_level"}));
  EXPECT_EQ(d.restart_only,
            (std::vector<std::string>{"address", "interface", "port", "control_socket"}));
  EXPECT_EQ(d.RestartKeys(), "address, interface, port, control_socket");

  const HaConfig applied = MergeRestartKeys(before, after);
  EXPECT_EQ(applied.address, before.address);
  EXPECT_EQ(applied.interface, "eth1");
  EXPECT_EQ(applied.port, 434);
  EXPECT_EQ(applied.control_socket, before.control_socket);
  EXPECT_EQ(applied.trusted_subnets.size(), 2u);
  EXPECT_EQ(applied.max_lifetime, Duration::Seconds(600));
  EXPECT_EQ(applied.log_level, LogLevel::kDebug);
  // What is applied differs from the running config in live keys only.
  EXPECT_TRUE(DiffHaConfig(before, applied).restart_only.empty());
}

TEST(ConfigReloadTest, AdvertisingOnOffNeedsARestart) {
  const HaConfig before = Ha(kHa);
  const HaConfig off = Ha(std::string(kHa) + "advertisement_interval = \"0s\"\n");
  ReloadDiff d = DiffHaConfig(before, off);
  EXPECT_EQ(d.restart_only, (std::vector<std::string>{"advertisement_interval (on/off)"}));
  EXPECT_EQ(MergeRestartKeys(before, off).advertisement_interval, before.advertisement_interval);
  const HaConfig slower = Ha(std::string(kHa) + "advertisement_interval = \"2s\"\n"
                                                "advertisement_lifetime = \"6s\"\n");
  ReloadDiff s = DiffHaConfig(before, slower);
  EXPECT_TRUE(s.restart_only.empty());
  EXPECT_EQ(s.changed,
            (std::vector<std::string>{"advertisement_interval", "advertisement_lifetime"}));
}

TEST(ConfigReloadTest, FaInterfacesNeedARestart) {
  const char* fa = R"([foreign_agent]
max_visitors = 100

[[interface]]
name = "eth1"
address = "10.10.1.1/24"
care_of_addresses = ["198.51.100.1"]

[[ha_peer]]
address = "192.0.2.1"
spi = 2000
key = "f0e0d0c0b0a090807060504030201000"
)";
  Result<FaConfig> a = ParseFaConfig(fa, "fa.toml", NoFiles);
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  std::string t = fa;
  t.replace(t.find("eth1"), 4, "eth9");
  t.replace(t.find("100"), 3, "200");
  t.replace(t.find("2000"), 4, "2001");
  Result<FaConfig> b = ParseFaConfig(t, "fa.toml", NoFiles);
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  ReloadDiff d = DiffFaConfig(*a, *b);
  EXPECT_EQ(d.restart_only, (std::vector<std::string>{"interface"}));
  EXPECT_EQ(d.changed, (std::vector<std::string>{"max_visitors"}));
  EXPECT_EQ(d.peers_added, 1);
  EXPECT_EQ(d.peers_removed, 1);
  EXPECT_EQ(MergeRestartKeys(*a, *b).interfaces[0].name, "eth1");
  EXPECT_EQ(d.Summary("HA peer"),
            "1 HA peer added, 1 HA peer removed; changed: max_visitors; not applied (restart "
            "needed): interface");
}

}  // namespace
}  // namespace mipsec::config

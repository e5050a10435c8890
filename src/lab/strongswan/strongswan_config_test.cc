#include "lab/strongswan/strongswan_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lab/strongswan/swan_files.h"

namespace mipsec::lab {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

StrongswanConfig Client() {
  StrongswanConfig cfg;
  SwanConnection& c = cfg.AddConnection("home");
  c.remote_addrs = {"203.0.113.2"};
  c.local.id = "client@example.org";
  c.remote.id = "gw.example.org";
  c.psk = "test-psk";
  c.request_virtual_ip = true;
  SwanChild& ch = c.AddChild("home");
  ch.remote_ts = {"192.0.2.0/25"};
  return cfg;
}

SwanPaths Paths() { return SwanPaths::InDir("/tmp/mipsec-swan-1-gw-abcdef"); }

TEST(StrongswanConfig, StrongswanConfHasLoadOrderLogAndSockets) {
  auto conf = RenderStrongswanConf(Client(), Paths());
  ASSERT_TRUE(conf.ok()) << conf.error().ToString();
  // kernel-libipsec must be registered before kernel-netlink.
  size_t libipsec = conf->find("kernel-libipsec kernel-netlink");
  EXPECT_NE(libipsec, std::string::npos) << *conf;
  EXPECT_THAT(*conf, HasSubstr("path = /tmp/mipsec-swan-1-gw-abcdef/charon.log"));
  EXPECT_THAT(*conf, HasSubstr("time_add_ms = yes"));
  EXPECT_THAT(*conf, HasSubstr("ike = 2"));
  // vici for charon and the swanctl key (swanctl ignores the charon one).
  EXPECT_THAT(*conf, HasSubstr("socket = unix:///tmp/mipsec-swan-1-gw-abcdef/charon.vici"));
  EXPECT_THAT(*conf, HasSubstr("swanctl {\n  socket = unix:///tmp/mipsec-swan-1-gw-abcdef/"));
  EXPECT_THAT(*conf, HasSubstr("journal {\n    default = -1"));
  EXPECT_THAT(*conf, Not(HasSubstr("\ninclude")));
}

TEST(StrongswanConfig, InterfacesUseExtraPluginsAndCharonLines) {
  StrongswanConfig cfg = Client();
  cfg.interfaces_use = "ext0";
  cfg.extra_plugins = {"load-tester"};
  cfg.extra_charon = {"retransmit_tries = 2"};
  auto conf = RenderStrongswanConf(cfg, Paths());
  ASSERT_TRUE(conf.ok()) << conf.error().ToString();
  EXPECT_THAT(*conf, HasSubstr("socket-default vici load-tester\n"));
  EXPECT_THAT(*conf, HasSubstr("  interfaces_use = ext0\n"));
  EXPECT_THAT(*conf, HasSubstr("  retransmit_tries = 2\n"));
}

TEST(StrongswanConfig, ClientSwanctlConf) {
  auto conf = RenderSwanctlConf(Client());
  ASSERT_TRUE(conf.ok()) << conf.error().ToString();
  EXPECT_THAT(*conf, HasSubstr("  home {\n    version = 2\n    remote_addrs = 203.0.113.2\n"));
  EXPECT_THAT(*conf, Not(HasSubstr("local_addrs")));
  EXPECT_THAT(*conf, HasSubstr("proposals = aes128gcm16-prfsha256-x25519\n"));
  EXPECT_THAT(*conf, HasSubstr("vips = 0.0.0.0\n"));
  EXPECT_THAT(*conf, HasSubstr("mobike = yes\n"));
  EXPECT_THAT(*conf, HasSubstr("encap = no\n"));
  EXPECT_THAT(*conf, HasSubstr("rekey_time = 0s\n"));
  EXPECT_THAT(*conf, HasSubstr("dpd_delay = 0s\n"));
  EXPECT_THAT(*conf, HasSubstr("local {\n      auth = psk\n      id = \"client@example.org\"\n"));
  EXPECT_THAT(*conf, HasSubstr("remote_ts = 192.0.2.0/25\n"));
  EXPECT_THAT(*conf, HasSubstr("esp_proposals = aes128gcm16\n"));
  EXPECT_THAT(*conf, Not(HasSubstr("send_cert =")));
  // The PSK is bound to both identities.
  EXPECT_THAT(*conf, HasSubstr("ike-home {\n    id-1 = \"client@example.org\"\n    id-2 = "
                               "\"gw.example.org\"\n    secret = \"test-psk\"\n"));
}

TEST(StrongswanConfig, GatewayPoolCertsAndTimers) {
  StrongswanConfig cfg;
  SwanConnection& c = cfg.AddConnection("rw");
  c.local_addrs = {"203.0.113.2"};
  c.proposals = "aes256-sha256-ecp256";
  c.local = {SwanAuth::kPubkey, "gw.example.org", "/p/gw.cert.pem", "/p/gw.key.pem", ""};
  c.remote = {SwanAuth::kPubkey, "%any", "", "", "/p/ca.cert.pem"};
  c.pool_addrs = "192.0.2.128/25";
  c.pool_dns = {"192.0.2.53"};
  c.encap = true;
  c.mobike = false;
  c.rekey_time_s = 600;
  c.dpd_delay_s = 5;
  c.unique = "never";
  SwanChild& ch = c.AddChild("net");
  ch.local_ts = {"192.0.2.0/25", "198.18.0.0/16"};
  ch.esp_proposals = "aes256-sha256";
  ch.rekey_time_s = 30;
  ch.life_time_s = 40;
  ch.start_action = "trap";
  auto conf = RenderSwanctlConf(cfg);
  ASSERT_TRUE(conf.ok()) << conf.error().ToString();
  EXPECT_THAT(*conf, HasSubstr("local_addrs = 203.0.113.2\n"));
  EXPECT_THAT(*conf, HasSubstr("pools = rw_pool\n"));
  EXPECT_THAT(*conf, HasSubstr("rw_pool {\n    addrs = 192.0.2.128/25\n    dns = 192.0.2.53\n"));
  EXPECT_THAT(*conf, HasSubstr("mobike = no\n    encap = yes\n    rekey_time = 600s\n"));
  EXPECT_THAT(*conf, HasSubstr("dpd_delay = 5s\n"));
  EXPECT_THAT(*conf, HasSubstr("auth = pubkey\n      id = \"gw.example.org\"\n      certs = "
                               "/p/gw.cert.pem\n"));
  EXPECT_THAT(*conf, HasSubstr("cacerts = /p/ca.cert.pem\n"));
  EXPECT_THAT(*conf, HasSubstr("send_cert = always\n"));
  EXPECT_THAT(*conf, HasSubstr("local_ts = 192.0.2.0/25, 198.18.0.0/16\n"));
  EXPECT_THAT(*conf, HasSubstr("rekey_time = 30s\n        life_time = 40s\n"));
  EXPECT_THAT(*conf, HasSubstr("start_action = trap\n"));
  // Certificates: no PSK entry at all.
  EXPECT_THAT(*conf, Not(HasSubstr("ike-rw")));
  EXPECT_EQ(SwanPrivateKeyFileName("rw"), "rw.pem");
}

TEST(StrongswanConfig, PskWithAnyRemoteIsBoundToLocalIdOnly) {
  StrongswanConfig cfg = Client();
  cfg.connections[0].remote.id = "%any";
  auto conf = RenderSwanctlConf(cfg);
  ASSERT_TRUE(conf.ok());
  EXPECT_THAT(*conf, HasSubstr("id-1 = \"client@example.org\"\n    secret"));
  EXPECT_THAT(*conf, Not(HasSubstr("id-2")));
}

TEST(StrongswanConfig, ValidateRejectsWhatWouldBreakTheFiles) {
  struct Case {
    const char* what;
    void (*mutate)(StrongswanConfig&);
    const char* expect;
  };
  const Case cases[] = {
      {"no connections", [](StrongswanConfig& c) { c.connections.clear(); }, "no connections"},
      {"bad name", [](StrongswanConfig& c) { c.connections[0].name = "a b"; }, "name must be"},
      {"duplicate", [](StrongswanConfig& c) { c.connections.push_back(c.connections[0]); },
       "defined twice"},
      {"brace in psk", [](StrongswanConfig& c) { c.connections[0].psk = "x}y"; }, "brace"},
      {"quote in id", [](StrongswanConfig& c) { c.connections[0].local.id = "a\"b"; }, "local.id"},
      {"newline in ts", [](StrongswanConfig& c) { c.connections[0].children[0].remote_ts = {"a\nb"}; },
       "newline"},
      {"comma in list", [](StrongswanConfig& c) { c.connections[0].remote_addrs = {"a,b"}; },
       "contains ','"},
      {"psk missing", [](StrongswanConfig& c) { c.connections[0].psk.clear(); }, "needs psk"},
      {"pubkey without cert",
       [](StrongswanConfig& c) {
         c.connections[0].local.auth = SwanAuth::kPubkey;
         c.connections[0].psk.clear();
         c.connections[0].remote.auth = SwanAuth::kPubkey;
       },
       "needs local.cert"},
      {"relative cert",
       [](StrongswanConfig& c) { c.connections[0].local.cert = "gw.pem"; }, "not an absolute path"},
      {"negative rekey", [](StrongswanConfig& c) { c.connections[0].rekey_time_s = -1; }, ">= 0"},
      {"no children", [](StrongswanConfig& c) { c.connections[0].children.clear(); }, "no children"},
      {"child twice",
       [](StrongswanConfig& c) {
         SwanConnection copy = c.connections[0];
         copy.name = "other";
         c.connections.push_back(copy);
       },
       "child name used twice"},
      {"empty esp", [](StrongswanConfig& c) { c.connections[0].children[0].esp_proposals = ""; },
       "esp_proposals"},
      {"unbalanced extra", [](StrongswanConfig& c) { c.connections[0].extra = {"a = {"}; },
       "unbalanced"},
      {"log level", [](StrongswanConfig& c) { c.log_levels["ike"] = 9; }, "-1..4"},
      {"plugin", [](StrongswanConfig& c) { c.extra_plugins = {"a;b"}; }, "bad plugin"},
  };
  for (const auto& tc : cases) {
    StrongswanConfig cfg = Client();
    tc.mutate(cfg);
    Status s = cfg.Validate();
    ASSERT_FALSE(s.ok()) << tc.what;
    EXPECT_EQ(s.error().code(), Errc::kInvalidArgument) << tc.what;
    EXPECT_THAT(s.error().detail(), HasSubstr(tc.expect)) << tc.what;
    EXPECT_FALSE(RenderSwanctlConf(cfg).ok()) << tc.what;
    EXPECT_FALSE(RenderStrongswanConf(cfg, Paths()).ok()) << tc.what;
  }
  EXPECT_TRUE(Client().Validate().ok());
}

TEST(SwanFiles, TempDirWriteReadTailAndRemove) {
  auto dir = MakeSwanTempDir("unit");
  ASSERT_TRUE(dir.ok()) << dir.error().ToString();
  EXPECT_EQ(dir->rfind(SwanDirPrefix() + "unit-", 0), 0u) << *dir;
  std::string f = *dir + "/f.txt";
  ASSERT_TRUE(WriteTextFile(f, "one\ntwo\nthree\nfour\n").ok());
  EXPECT_EQ(*ReadTextFile(f), "one\ntwo\nthree\nfour\n");
  EXPECT_EQ(TailOfFile(f, 2), "three\nfour\n");
  EXPECT_EQ(TailOfFile(f, 10), "one\ntwo\nthree\nfour\n");
  ASSERT_TRUE(WriteTextFile(f, "a\nb").ok());
  EXPECT_EQ(TailOfFile(f, 1), "b");
  EXPECT_EQ(TailOfFile(*dir + "/missing", 3), "");
  EXPECT_FALSE(MakeSwanTempDir("Bad/Kind").ok());
  // Our own directory is not stale (this process runs).
  SweepStaleSwanDirs();
  EXPECT_TRUE(ReadTextFile(f).ok());
  RemoveTree(*dir);
  EXPECT_FALSE(ReadTextFile(f).ok());
}

}  // namespace
}  // namespace mipsec::lab

// SIGHUP on the real `mipsec ha` (HaDaemon::Reload) in namespaces, with
// mobile nodes driven by the real registration engine over real sockets:
//
//        cn (home link)             ha (router)                 mn
//   192.0.2.50 eth0 ---- home0 192.0.2.1   core0 10.10.0.1 ---- eth0 10.10.0.20
//
//   1. alice (192.0.2.10) registers; cn pings her through the tunnel;
//   2. the file gains bob (192.0.2.11) + SIGHUP: "reloaded ... 1 mobile node
//      added"; alice's route and tunnel still work; bob registers;
//   3. a broken file + SIGHUP: one error naming file:line and key; the
//      daemon runs on with the old config (bob re-registers);
//   4. alice re-keyed + SIGHUP: the old key no longer registers, the new
//      one does; no key ever appears in the log;
//   5. bob removed + SIGHUP: his binding and route go at once (revoked);
//   6. SIGTERM: exit 0, no route left.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common/checksum.h"
#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "common/log.h"
#include "common/random.h"
#include "mip4/mn_reg/registration.h"
#include "platform/linux/mip4/agent_io.h"
#include "platform/linux/mip4/test_mn.h"
#include "testing/netns/require_root.h"
#include "lab/netns/topology.h"
#include "testing/lab_names.h"

#ifndef MIPSEC_BINARY
#error "MIPSEC_BINARY must name the mipsec program"
#endif

namespace mipsec::mip4d {
namespace {

using mipsec::testing::Child;
using mipsec::testing::Topology;

constexpr char kTun[] = "mipha0";

Ipv4Address Ip(const char* s) { return Ipv4Address::Parse(s).value(); }


// The config file, removed however the test ends.
struct TempFile {
  std::string path;
  ~TempFile() { std::remove(path.c_str()); }
};

constexpr char kAliceKey[] = "00112233445566778899aabbccddeeff";
constexpr char kAliceNewKey[] = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";
constexpr char kBobKey[] = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf";

struct Node {
  const char* home;
  std::uint32_t spi;
  const char* key;
};

std::string ConfigText(const std::vector<Node>& nodes, const std::string& extra = "") {
  std::string s =
      "[home_agent]\n"
      "address = \"192.0.2.1\"\n"
      "home_network = \"192.0.2.0/24\"\n"
      "interface = \"home0\"\n"
      "max_lifetime = \"5m\"\n"
      "trusted_subnets = [\"10.10.0.0/16\"]\n"
      "log_level = \"debug\"\n";
  s += extra;
  for (const Node& n : nodes) {
    s += std::string("[[mobile_node]]\nhome_address = \"") + n.home + "\"\nspi = " +
         std::to_string(n.spi) + "\nkey = \"" + n.key + "\"\n";
  }
  return s;
}

void Rewrite(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
}

std::string NewConfig(const std::string& text) {
  char path[] = "/tmp/mipsec-ha-reload-XXXXXX.toml";
  int fd = mkstemps(path, 5);
  EXPECT_GE(fd, 0);
  close(fd);
  Rewrite(path, text);
  return path;
}

std::string Routes(const Topology& topo) {
  auto r = topo.Exec("ha", {"ip", "-4", "route", "show"});
  return r.ok() ? r->out : "";
}

bool HasRoute(const Topology& topo, const std::string& home) {
  return Routes(topo).find(home + " dev " + kTun) != std::string::npos;
}

std::size_t Count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// SIGHUP, then waits until the log holds one more line with `marker`.
bool Hup(Child* ha, const std::string& marker) {
  const std::size_t before = Count(ha->Stderr(), marker);
  if (kill(ha->pid(), SIGHUP) != 0) return false;
  for (int i = 0; i < 250; ++i) {
    if (Count(ha->Stderr(), marker) > before) return true;
    if (!ha->Running()) return false;
    usleep(20'000);
  }
  return false;
}

bool Registers(TestMn& mn, const char* coa) {
  if (!mn.engine().RegisterColocated(MonoNow(), Ip(coa), 0).ok()) return false;
  auto ev = mn.Pump(Duration::Seconds(4));
  auto* reg = ev ? std::get_if<mip4::RegisteredEvent>(&*ev) : nullptr;
  return reg != nullptr && reg->code == 0;
}

// cn pings `home` while `mn` answers through its tunnel.
void Ping(Topology& topo, TestMn& mn, const char* home, Child* ha) {
  const int before = mn.echoes_answered();
  auto ping_or = topo.Spawn("cn", {"ping", "-c", "2", "-i", "0.3", "-W", "2", home});
  ASSERT_TRUE(ping_or.ok());
  Child* ping = *ping_or;
  for (int i = 0; i < 40 && ping->Running(); ++i) (void)mn.Pump(Duration::Millis(100));
  auto r = ping->Wait(Duration::Seconds(3));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << ping->Stdout() << ping->Stderr() << ha->Stderr();
  EXPECT_GT(mn.echoes_answered(), before);
}

TEST(HaDaemonReloadRoot, SighupAddsRekeysRevokesAndKeepsBindings) {
  MIPSEC_REQUIRE_NETNS();
  auto topo_or = Topology::Create(R"(
    ns cn
    ns ha router
    ns mn
    link cn:eth0 192.0.2.50/24 ha:home0 192.0.2.1/24
    link ha:core0 10.10.0.1/24 mn:eth0 10.10.0.20/24
    route cn default via 192.0.2.1
    route mn 192.0.2.0/24 via 10.10.0.1
  )");
  ASSERT_TRUE(topo_or.ok()) << topo_or.error().ToString();
  Topology& topo = **topo_or;
  const Node alice{"192.0.2.10", 1000, kAliceKey};
  const Node alice_rekeyed{"192.0.2.10", 1000, kAliceNewKey};
  const Node bob{"192.0.2.11", 1001, kBobKey};
  const TempFile file{NewConfig(ConfigText({alice}))};

  auto child_or = topo.Spawn("ha", {MIPSEC_BINARY, "ha", "--config", file.path, "--tun", kTun,
                                     "--control-socket", file.path + ".sock"});
  ASSERT_TRUE(child_or.ok()) << child_or.error().ToString();
  Child* ha = *child_or;
  for (int i = 0; i < 250 && ha->Stderr().find("home agent 192.0.2.1") == std::string::npos; ++i) {
    if (!ha->Running()) break;
    usleep(20'000);
  }
  ASSERT_NE(ha->Stderr().find("home agent 192.0.2.1"), std::string::npos) << ha->Stderr();

  // 1. alice registers; her traffic flows.
  TestMn mn_alice(topo, Ip("10.10.0.20"), {.spi = 1000, .key_hex = kAliceKey});
  ASSERT_TRUE(Registers(mn_alice, "10.10.0.20")) << ha->Stderr();
  ASSERT_TRUE(HasRoute(topo, "192.0.2.10")) << Routes(topo);
  Ping(topo, mn_alice, "192.0.2.10", ha);

  // 2. bob added: alice's binding untouched, bob can register.
  Rewrite(file.path, ConfigText({alice, bob}));
  ASSERT_TRUE(Hup(ha, "reloaded " + file.path)) << ha->Stderr();
  EXPECT_NE(ha->Stderr().find("reloaded " + file.path + ": 1 mobile node added"),
            std::string::npos)
      << ha->Stderr();
  EXPECT_EQ(ha->Stderr().find("binding removed 192.0.2.10"), std::string::npos) << ha->Stderr();
  EXPECT_TRUE(HasRoute(topo, "192.0.2.10")) << Routes(topo);
  Ping(topo, mn_alice, "192.0.2.10", ha);
  TestMn mn_bob(topo, Ip("10.10.0.20"),
                {.home = Ip("192.0.2.11"), .spi = 1001, .key_hex = kBobKey});
  ASSERT_TRUE(Registers(mn_bob, "10.10.0.20")) << ha->Stderr();
  EXPECT_TRUE(HasRoute(topo, "192.0.2.11")) << Routes(topo);

  // 3. A broken file (line 10: a reserved SPI; also a restart-only key
  // changed): one error with file:line: key, nothing applied.
  Rewrite(file.path, ConfigText({alice, {"192.0.2.12", 200, kBobKey}, bob}, "port = 4343\n"));
  ASSERT_TRUE(Hup(ha, "reload failed")) << ha->Stderr();
  EXPECT_NE(ha->Stderr().find(file.path + ":15: mobile_node[1].spi"), std::string::npos)
      << ha->Stderr();
  ASSERT_TRUE(ha->Running());
  EXPECT_TRUE(HasRoute(topo, "192.0.2.10"));
  ASSERT_TRUE(Registers(mn_bob, "10.10.0.20")) << "old config still serves bob\n" << ha->Stderr();

  // 4. alice re-keyed (and a restart-only key changed: warned, not
  // applied): the old key no longer registers, the new one does, and the
  // binding (made with the old key) lived on until then.
  Rewrite(file.path, ConfigText({alice_rekeyed, bob}, "port = 4343\n"));
  ASSERT_TRUE(Hup(ha, "reloaded " + file.path)) << ha->Stderr();
  EXPECT_NE(ha->Stderr().find("1 mobile node re-keyed"), std::string::npos) << ha->Stderr();
  EXPECT_NE(ha->Stderr().find("not applied (needs a restart): port"), std::string::npos)
      << ha->Stderr();
  EXPECT_TRUE(HasRoute(topo, "192.0.2.10"));
  EXPECT_FALSE(Registers(mn_alice, "10.10.0.20")) << "the old key must be refused";
  TestMn mn_alice2(topo, Ip("10.10.0.20"), {.spi = 1000, .key_hex = kAliceNewKey});
  ASSERT_TRUE(Registers(mn_alice2, "10.10.0.20")) << ha->Stderr();
  Ping(topo, mn_alice2, "192.0.2.10", ha);

  // 5. bob removed: revoked at once.
  Rewrite(file.path, ConfigText({alice_rekeyed}));
  ASSERT_TRUE(Hup(ha, "reloaded " + file.path)) << ha->Stderr();
  EXPECT_NE(ha->Stderr().find("binding removed 192.0.2.11 (revoked)"), std::string::npos)
      << ha->Stderr();
  EXPECT_FALSE(HasRoute(topo, "192.0.2.11")) << Routes(topo);
  EXPECT_TRUE(HasRoute(topo, "192.0.2.10")) << Routes(topo);
  EXPECT_FALSE(Registers(mn_bob, "10.10.0.20"));

  // Keys never reach the log.
  for (const char* k : {kAliceKey, kAliceNewKey, kBobKey}) {
    EXPECT_EQ(ha->Stderr().find(k), std::string::npos) << k;
  }

  // 6. SIGTERM still stops cleanly.
  mipsec::testing::ExecResult done = ha->Stop(Duration::Seconds(5));
  EXPECT_EQ(done.exit_code, 0) << done.Describe() << "\n" << done.err;
  EXPECT_FALSE(HasRoute(topo, "192.0.2.10")) << Routes(topo);
  if (std::getenv("MIPSEC_SHOW_LOG") != nullptr) std::fprintf(stderr, "%s", done.err.c_str());
}

}  // namespace
}  // namespace mipsec::mip4d

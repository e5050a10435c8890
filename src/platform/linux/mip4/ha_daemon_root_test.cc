// The real `mipsec ha` in a network namespace, driven from another one by
// the real mobile-node registration engine (mip4::MobileNodeRegistration)
// over a real UDP socket:
//
//        cn (home link)             ha (router)                 mn
//   192.0.2.50 eth0 ---- home0 192.0.2.1   core0 10.10.0.1 ---- eth0 10.10.0.20 (trusted)
//                                             10.99.0.1         10.99.0.20 (untrusted)
//
//   1. a request from 10.99.0.20 (outside trusted_subnets) gets no reply and
//      installs nothing (RFC 5265 4.3);
//   2. a request for the co-located care-of address 10.10.0.20 is accepted
//      (code 0) with TNC, and `ip route` in ha shows 192.0.2.10 dev <tun>;
//   3. cn pings the home address: the HA intercepts (proxy ARP + TUN),
//      tunnels IP-in-IP to the CoA, the MN engine decapsulates, the test
//      answers through the engine's reverse tunnel (T), the HA decapsulates
//      and forwards: the ping succeeds;
//   4. deregistration removes the route;
//   5. a second registration, then SIGTERM: exit 0 and no route left.
// Throughout, the real `mipsec ctl` asks the daemon's control socket (mode
// 0600, in a private temp directory): `bindings` shows the registration
// (human and --json), deregistration empties it, no response carries the
// MN-HA key, and the socket file goes with the daemon.
// A second test does the same through a NAT with RFC 3519 UDP tunnelling.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <variant>

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
#include <nlohmann/json.hpp>

#ifndef MIPSEC_BINARY
#error "MIPSEC_BINARY must name the mipsec program"
#endif

namespace mipsec::mip4d {
namespace {

using mipsec::testing::Child;
using mipsec::testing::Topology;

constexpr char kKeyHex[] = "00112233445566778899aabbccddeeff";
constexpr char kTun[] = "mipha0";

Ipv4Address Ip(const char* s) { return Ipv4Address::Parse(s).value(); }

// The config file, removed however the test ends.
struct TempFile {
  std::string path;
  ~TempFile() { std::remove(path.c_str()); }
};

std::string WriteConfig() {
  char path[] = "/tmp/mipsec-ha-test-XXXXXX.toml";
  int fd = mkstemps(path, 5);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream f(path);
  f << "[home_agent]\n"
       "address = \"192.0.2.1\"\n"
       "home_network = \"192.0.2.0/24\"\n"
       "interface = \"home0\"\n"
       "max_lifetime = \"5m\"\n"
       "trusted_subnets = [\"10.10.0.0/16\"]\n"
       "log_level = \"debug\"\n"
       "[[mobile_node]]\n"
       "home_address = \"192.0.2.10\"\n"
       "spi = 1000\n"
       "key = \""
    << kKeyHex << "\"\n";
  return path;
}

std::string Routes(const Topology& topo) {
  auto r = topo.Exec("ha", {"ip", "-4", "route", "show"});
  return r.ok() ? r->out : "";
}

bool HasHomeRoute(const Topology& topo) {
  return Routes(topo).find(std::string("192.0.2.10 dev ") + kTun) != std::string::npos;
}

// A private directory for the control socket, removed however the test ends.
struct CtlDir {
  CtlDir() {
    char t[] = "/tmp/mipsec-ha-ctl-XXXXXX";
    EXPECT_NE(mkdtemp(t), nullptr);
    dir = t;
  }
  ~CtlDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string socket() const { return dir + "/ha.sock"; }
  std::string dir;
};

struct CtlRun {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

// The real `mipsec ctl` (a Unix socket needs no namespace).
CtlRun Ctl(const std::string& socket, const std::string& args) {
  CtlRun r;
  const std::string cmd =
      std::string(MIPSEC_BINARY) + " ctl --socket " + socket + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Spawns `mipsec ha` in namespace ha; returns it once it logged its start-up
// line (nullptr and a test failure otherwise).
Child* StartHa(Topology& topo, const std::string& config, const CtlDir& ctl) {
  auto child_or = topo.Spawn("ha", {MIPSEC_BINARY, "ha", "--config", config, "--tun", kTun,
                                    "--control-socket", ctl.socket()});
  EXPECT_TRUE(child_or.ok()) << child_or.error().ToString();
  if (!child_or.ok()) return nullptr;
  Child* ha = *child_or;
  for (int i = 0; i < 250 && ha->Stderr().find("home agent 192.0.2.1") == std::string::npos; ++i) {
    if (!ha->Running()) break;
    usleep(20'000);
  }
  EXPECT_NE(ha->Stderr().find("home agent 192.0.2.1"), std::string::npos) << ha->Stderr();
  return ha->Stderr().find("home agent 192.0.2.1") == std::string::npos ? nullptr : ha;
}

// cn pings the home address while `mn` answers through its tunnel.
void PingThroughTunnel(Topology& topo, TestMn& mn, Child* ha) {
  auto ping_or = topo.Spawn("cn", {"ping", "-c", "2", "-i", "0.3", "-W", "2", "192.0.2.10"});
  ASSERT_TRUE(ping_or.ok());
  Child* ping = *ping_or;
  for (int i = 0; i < 40 && ping->Running(); ++i) (void)mn.Pump(Duration::Millis(100));
  auto ping_result = ping->Wait(Duration::Seconds(3));
  ASSERT_TRUE(ping_result.ok());
  EXPECT_EQ(ping_result->exit_code, 0) << ping->Stdout() << ping->Stderr() << ha->Stderr();
  EXPECT_GE(mn.echoes_answered(), 1);
  EXPECT_GE(mn.engine().counters().tunnelled_in, 1u);
  EXPECT_GE(mn.engine().counters().tunnelled_out, 1u);
}

TEST(HaDaemonRoot, RegistersInterceptsTunnelsAndCleansUp) {
  MIPSEC_REQUIRE_NETNS();
  auto topo_or = Topology::Create(R"(
    ns cn
    ns ha router
    ns mn
    link cn:eth0 192.0.2.50/24 ha:home0 192.0.2.1/24
    link ha:core0 10.10.0.1/24 mn:eth0 10.10.0.20/24
    addr ha:core0 10.99.0.1/24
    addr mn:eth0 10.99.0.20/24
    route cn default via 192.0.2.1
    route mn 192.0.2.0/24 via 10.10.0.1
  )");
  ASSERT_TRUE(topo_or.ok()) << topo_or.error().ToString();
  Topology& topo = **topo_or;
  const TempFile config_file{WriteConfig()};
  const std::string& config = config_file.path;
  const CtlDir ctl;
  Child* ha = StartHa(topo, config, ctl);
  ASSERT_NE(ha, nullptr);
  {
    struct stat st {};
    ASSERT_EQ(stat(ctl.socket().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    // A second daemon on the same control socket stops before it changes
    // anything on the host, naming the path; the first one carries on.
    auto second = topo.Exec("ha", {MIPSEC_BINARY, "ha", "--config", config, "--tun", "mipha9",
                                   "--control-socket", ctl.socket()},
                            Duration::Seconds(10));
    ASSERT_TRUE(second.ok()) << second.error().ToString();
    EXPECT_EQ(second->exit_code, 1) << second->Describe();
    EXPECT_NE(second->err.find("control socket " + ctl.socket() +
                               ": another process is listening on it"),
              std::string::npos)
        << second->err;
    CtlRun empty = Ctl(ctl.socket(), "bindings");
    EXPECT_EQ(empty.exit_code, 0) << empty.out;
    EXPECT_TRUE(std::regex_search(empty.out, std::regex("^total +0\n"))) << empty.out;
  }

  // 1. Untrusted source: silence, nothing installed.
  {
    TestMn untrusted(topo, Ip("10.99.0.20"), {.reverse_tunnel = false});
    ASSERT_TRUE(untrusted.engine().RegisterColocated(MonoNow(), Ip("10.99.0.20"), 0).ok());
    auto ev = untrusted.Pump(Duration::Seconds(4));
    ASSERT_TRUE(ev.has_value());
    EXPECT_TRUE(std::holds_alternative<mip4::RegistrationTimeoutEvent>(*ev));
    EXPECT_EQ(untrusted.engine().counters().replies_accepted, 0u);
    EXPECT_FALSE(HasHomeRoute(topo));
  }

  // 2. Trusted source, co-located CoA, reverse tunnelling.
  TestMn mn(topo, Ip("10.10.0.20"), {});
  ASSERT_TRUE(mn.engine().RegisterColocated(MonoNow(), Ip("10.10.0.20"), 0).ok());
  auto ev = mn.Pump(Duration::Seconds(4));
  ASSERT_TRUE(ev.has_value()) << ha->Stderr();
  auto* reg = std::get_if<mip4::RegisteredEvent>(&*ev);
  ASSERT_NE(reg, nullptr) << "event index " << ev->index() << "\n" << ha->Stderr();
  EXPECT_EQ(reg->code, 0);
  EXPECT_TRUE(reg->binding.tnc) << "RFC 5265 4.3: a trusted source's reply carries TNC";
  EXPECT_EQ(reg->binding.encapsulation, mip4::TunnelEncapsulation::kIpInIp);
  EXPECT_TRUE(reg->binding.reverse_tunnel);
  EXPECT_TRUE(HasHomeRoute(topo)) << Routes(topo);
  EXPECT_NE(ha->Stderr().find("binding added 192.0.2.10 coa 10.10.0.20 ip-in-ip"), std::string::npos)
      << ha->Stderr();

  // `mipsec ctl bindings`, for people and for scripts.
  {
    CtlRun human = Ctl(ctl.socket(), "bindings");
    EXPECT_EQ(human.exit_code, 0) << human.out;
    EXPECT_NE(human.out.find("home address  care of address  tunnel    endpoint      lifetime  "
                             "remaining  flags  routed"),
              std::string::npos)
        << human.out;
    EXPECT_NE(human.out.find("192.0.2.10    10.10.0.20       ip-in-ip  10.10.0.20:0  120"),
              std::string::npos)
        << human.out;
    CtlRun js = Ctl(ctl.socket(), "--json bindings");
    ASSERT_EQ(js.exit_code, 0) << js.out;
    auto j = nlohmann::json::parse(js.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << js.out;
    EXPECT_EQ(j["ok"], true);
    EXPECT_EQ(j["data"]["total"], 1);
    const auto& b = j["data"]["bindings"][0];
    EXPECT_EQ(b["home_address"], "192.0.2.10");
    EXPECT_EQ(b["care_of_address"], "10.10.0.20");
    EXPECT_EQ(b["tunnel"], "ip-in-ip");
    EXPECT_EQ(b["flags"], "T");
    EXPECT_EQ(b["routed"], true);
    ASSERT_TRUE(b["remaining"].is_number()) << js.out;
    EXPECT_GT(b["remaining"].get<int>(), 100);
    EXPECT_LE(b["remaining"].get<int>(), 120);

    CtlRun counters = Ctl(ctl.socket(), "--json counters");
    ASSERT_EQ(counters.exit_code, 0) << counters.out;
    auto c = nlohmann::json::parse(counters.out, nullptr, false);
    ASSERT_FALSE(c.is_discarded());
    EXPECT_EQ(c["data"]["registration"]["replies_by_code"]["0"], 1);
    EXPECT_GE(c["data"]["registration"]["requests"].get<int>(), 2);

    CtlRun status = Ctl(ctl.socket(), "status");
    EXPECT_EQ(status.exit_code, 0) << status.out;
    EXPECT_TRUE(std::regex_search(status.out, std::regex("\nhome network +192\\.0\\.2\\.0/24\n")))
        << status.out;

    // Unknown command: exit 1, the available ones listed.
    CtlRun unknown = Ctl(ctl.socket(), "visitors");
    EXPECT_EQ(unknown.exit_code, 1) << unknown.out;
    EXPECT_NE(unknown.out.find("unknown command 'visitors'"), std::string::npos) << unknown.out;
    EXPECT_NE(unknown.out.find("available commands: bindings, counters, help, status"),
              std::string::npos)
        << unknown.out;

    // No response carries the MN-HA key, in any spelling.
    std::string upper = kKeyHex;
    for (char& ch : upper) ch = static_cast<char>(toupper(ch));
    for (const char* cmd : {"status", "bindings", "counters", "help"}) {
      for (const char* fmt : {"", "--json "}) {
        CtlRun r = Ctl(ctl.socket(), std::string(fmt) + cmd);
        EXPECT_EQ(r.exit_code, 0) << cmd << ": " << r.out;
        EXPECT_EQ(r.out.find(kKeyHex), std::string::npos) << cmd;
        EXPECT_EQ(r.out.find(upper), std::string::npos) << cmd;
        EXPECT_EQ(r.out.find("00112233"), std::string::npos) << cmd;
      }
    }
  }

  // 3. cn -> home address: intercepted, tunnelled, answered via the reverse
  // tunnel. ping runs in the background while this thread pumps the MN.
  PingThroughTunnel(topo, mn, ha);

  // 4. Deregistration removes the route.
  ASSERT_TRUE(mn.engine().Deregister(MonoNow(), 0, Ip("10.10.0.20")).ok());
  ev = mn.Pump(Duration::Seconds(4));
  ASSERT_TRUE(ev.has_value());
  EXPECT_TRUE(std::holds_alternative<mip4::DeregisteredEvent>(*ev)) << ev->index();
  EXPECT_FALSE(HasHomeRoute(topo)) << Routes(topo);
  {
    CtlRun r = Ctl(ctl.socket(), "--json bindings");
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out;
    EXPECT_EQ(j["data"]["total"], 0);
    EXPECT_TRUE(j["data"]["bindings"].empty());
  }

  // 5. Register again, then SIGTERM: clean exit, no route left.
  ASSERT_TRUE(mn.engine().RegisterColocated(MonoNow(), Ip("10.10.0.20"), 0).ok());
  ev = mn.Pump(Duration::Seconds(4));
  ASSERT_TRUE(ev.has_value() && std::holds_alternative<mip4::RegisteredEvent>(*ev));
  EXPECT_TRUE(HasHomeRoute(topo));
  mipsec::testing::ExecResult done = ha->Stop(Duration::Seconds(5));
  EXPECT_EQ(done.exit_code, 0) << done.Describe() << "\n" << done.err;
  EXPECT_FALSE(HasHomeRoute(topo)) << Routes(topo);
  EXPECT_NE(done.err.find("counters at exit: requests"), std::string::npos) << done.err;
  struct stat gone {};
  EXPECT_NE(stat(ctl.socket().c_str(), &gone), 0) << "the control socket goes with the daemon";
  CtlRun after = Ctl(ctl.socket(), "status");
  EXPECT_EQ(after.exit_code, 2);
  EXPECT_NE(after.out.find("no control socket at " + ctl.socket()), std::string::npos)
      << after.out;
  auto proxy = topo.Exec("ha", {"sysctl", "-n", "net.ipv4.conf.home0.proxy_arp"});
  ASSERT_TRUE(proxy.ok());
  EXPECT_EQ(proxy->out, "0\n") << "proxy_arp restored";
}

// RFC 3519: the MN behind a NAT (masquerade) registers its private
// co-located address; the HA sees the NAT's address as source, answers with
// a UDP Tunnel Reply, and the ping runs through Tunnel Data messages on UDP
// 434 both ways.
//
//   cn 192.0.2.50 ---- home0 ha core0 10.10.0.1 ---- wan 10.10.0.2 nat lan ---- mn 172.16.0.20
TEST(HaDaemonRoot, UdpTunnellingThroughANat) {
  MIPSEC_REQUIRE_NETNS();
  auto topo_or = Topology::Create(R"(
    ns cn
    ns ha router
    ns nat router
    ns mn
    link cn:eth0 192.0.2.50/24 ha:home0 192.0.2.1/24
    link ha:core0 10.10.0.1/24 nat:wan 10.10.0.2/24
    link nat:lan 172.16.0.1/24 mn:eth0 172.16.0.20/24
    route cn default via 192.0.2.1
    route mn default via 172.16.0.1
    route nat default via 10.10.0.1
    nat nat masquerade oif wan
  )");
  ASSERT_TRUE(topo_or.ok()) << topo_or.error().ToString();
  Topology& topo = **topo_or;
  const TempFile config_file{WriteConfig()};
  const std::string& config = config_file.path;
  const CtlDir ctl;
  Child* ha = StartHa(topo, config, ctl);
  ASSERT_NE(ha, nullptr);

  TestMn mn(topo, Ip("172.16.0.20"), {.udp = mip4::UdpTunnelPolicy::kRequest});
  ASSERT_TRUE(mn.engine().RegisterColocated(MonoNow(), Ip("172.16.0.20"), 0).ok());
  auto ev = mn.Pump(Duration::Seconds(4));
  ASSERT_TRUE(ev.has_value()) << ha->Stderr();
  auto* reg = std::get_if<mip4::RegisteredEvent>(&*ev);
  ASSERT_NE(reg, nullptr) << "event index " << ev->index() << "\n" << ha->Stderr();
  EXPECT_EQ(reg->code, 0);
  EXPECT_TRUE(reg->binding.tnc);  // the NAT's address 10.10.0.2 is trusted
  EXPECT_EQ(reg->binding.encapsulation, mip4::TunnelEncapsulation::kUdp);
  EXPECT_TRUE(HasHomeRoute(topo)) << Routes(topo);
  EXPECT_NE(ha->Stderr().find("binding added 192.0.2.10 coa 172.16.0.20 udp 10.10.0.2:"),
            std::string::npos)
      << ha->Stderr();

  {
    // The UDP tunnel through the NAT, as `mipsec ctl` shows it.
    CtlRun r = Ctl(ctl.socket(), "--json bindings");
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out;
    const auto& b = j["data"]["bindings"][0];
    EXPECT_EQ(b["care_of_address"], "172.16.0.20");
    EXPECT_EQ(b["tunnel"], "udp");
    EXPECT_EQ(b["flags"], "TU");
    EXPECT_EQ(b["endpoint"].get<std::string>().rfind("10.10.0.2:", 0), 0u) << r.out;
  }

  PingThroughTunnel(topo, mn, ha);

  mipsec::testing::ExecResult done = ha->Stop(Duration::Seconds(5));
  EXPECT_EQ(done.exit_code, 0) << done.Describe() << "\n" << done.err;
  EXPECT_FALSE(HasHomeRoute(topo)) << Routes(topo);
  EXPECT_NE(done.err.find("tunnelled ipip 0 udp "), std::string::npos) << done.err;
}

}  // namespace
}  // namespace mipsec::mip4d

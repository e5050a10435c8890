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
// A second test does the same through a NAT with RFC 3519 UDP tunnelling; a
// third has a router with a smaller MTU between the HA and the care-of
// address (RFC 2003 5.1 tunnel MTU discovery); a fourth follows the home
// link's ARP while the MN leaves and comes home (RFC 5944 4.6), and a fifth
// comes home with a MAC the HA cannot learn.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <variant>

#include "common/checksum.h"
#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "common/log.h"
#include "common/random.h"
#include "mip4/mn_reg/registration.h"
#include "platform/linux/mip4/agent_io.h"
#include "platform/linux/mip4/test_mn.h"
#include "platform/linux/test_arp.h"
#include "platform/linux/test_ctl.h"
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

std::string WriteConfig(const std::string& trusted = "\"10.10.0.0/16\"") {
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
       "trusted_subnets = ["
    << trusted
    << "]\n"
       "log_level = \"debug\"\n"
       "[[mobile_node]]\n"
       "home_address = \"192.0.2.10\"\n"
       "spi = 1000\n"
       "key = \""
    << kKeyHex << "\"\n";
  return path;
}

// The daemon's stderr once it holds `text` (it may log a moment after the
// reply the test saw), or after two seconds as it is.
std::string LogWith(Child& c, const std::string& text) {
  const Timestamp end = MonoNow() + Duration::Seconds(2);
  std::string log = c.Stderr();
  while (log.find(text) == std::string::npos && MonoNow() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = c.Stderr();
  }
  return log;
}

std::string Routes(const Topology& topo) {
  auto r = topo.Exec("ha", {"ip", "-4", "route", "show"});
  return r.ok() ? r->out : "";
}

std::string ShowNeigh(const Topology& topo) {
  std::string s;
  for (const char* ns : {"ha", "mn"}) {
    auto r = topo.Exec(ns, {"ip", "neigh"});
    s += std::string(ns) + " neigh:\n" + (r.ok() ? r->out : "") + "\n";
  }
  return s;
}

bool HasHomeRoute(const Topology& topo) {
  return Routes(topo).find(std::string("192.0.2.10 dev ") + kTun) != std::string::npos;
}

// The control socket's directory, and the real `mipsec ctl` on it.
struct CtlDir : platform::TestCtlDir {
  CtlDir() : platform::TestCtlDir("ha") {}
};
using platform::CtlRun;
CtlRun Ctl(const std::string& socket, const std::string& args) {
  return platform::RunCtl(MIPSEC_BINARY, socket, args);
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
  EXPECT_NE(LogWith(*ha, "binding added 192.0.2.10 coa 10.10.0.20 ip-in-ip").find("binding added 192.0.2.10 coa 10.10.0.20 ip-in-ip"), std::string::npos)
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
  EXPECT_NE(LogWith(*ha, "binding added 192.0.2.10 coa 172.16.0.20 udp 10.10.0.2:").find("binding added 192.0.2.10 coa 172.16.0.20 udp 10.10.0.2:"),
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

// A file descriptor closed however the test ends.
struct Fd {
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int fd;
};

// A UDP socket connected to `to`, with IP_MTU_DISCOVER `pmtu` (made in the
// caller's current namespace).
int UdpTo(Ipv4Address to, std::uint16_t port, int pmtu) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return -1;
  if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) != 0) {
    close(fd);
    return -1;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  const auto b = to.ToBytes();
  std::memcpy(&sa.sin_addr, b.data(), 4);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Takes (and so clears) the error an ICMP message left on a connected UDP
// socket; the next send would fail with it otherwise.
int TakeError(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 ? err : -1;
}

// Waits up to `limit` on raw ICMP socket `fd` for a Fragmentation Needed
// from `from` about a datagram to `about`; returns its next-hop MTU.
std::optional<std::uint16_t> WaitFragNeeded(int fd, Ipv4Address from, Ipv4Address about,
                                            Duration limit) {
  const Timestamp end = MonoNow() + limit;
  std::uint8_t buf[2048];
  while (MonoNow() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) continue;
    auto icmp = ip::ParseIpv4Icmp(ByteSpan(buf, static_cast<std::size_t>(n)));
    if (!icmp.ok() || icmp->ip.src != from ||
        icmp->icmp.type != ip::kIcmpDestinationUnreachable ||
        icmp->icmp.code != ip::kIcmpFragmentationNeeded) {
      continue;
    }
    auto quoted = ip::ParseIcmpQuote(icmp->icmp);
    if (quoted.ok() && quoted->header.dst == about) return icmp->icmp.next_hop_mtu();
  }
  return std::nullopt;
}

// RFC 2003 4.1 / 5.1: the care-of address sits behind a router whose link
// to it has MTU 1400 (as a VPN gateway's tunnel would):
//
//   cn 192.0.2.50 ---- home0 ha core0 10.10.0.1 ---- eth0 10.10.0.2 r eth1 10.10.5.1
//                                                       (mtu 1400) ---- mn 10.10.5.20
//
// A 1480-byte DF datagram from cn to the home address becomes a 1500-byte
// IP-in-IP datagram with DF (3.1): the router drops it and tells the HA
// (ICMP Fragmentation Needed, MTU 1400). The HA relays that to cn with MTU
// 1380, so cn's kernel caches path MTU 1380 for the home address; a second
// 1480-byte DF datagram (sent ignoring that cache, IP_PMTUDISC_PROBE) is
// answered by the HA from its soft state without reaching the router, and a
// 1380-byte one still reaches the mobile node.
TEST(HaDaemonRoot, TunnelMtuLearnedFromTheRouterReachesTheSender) {
  MIPSEC_REQUIRE_NETNS();
  auto topo_or = Topology::Create(R"(
    ns cn
    ns ha router
    ns r router
    ns mn
    link cn:eth0 192.0.2.50/24 ha:home0 192.0.2.1/24
    link ha:core0 10.10.0.1/24 r:eth0 10.10.0.2/24
    link r:eth1 10.10.5.1/24 mn:eth0 10.10.5.20/24 mtu 1400
    route cn default via 192.0.2.1
    route ha 10.10.5.0/24 via 10.10.0.2
    route r default via 10.10.0.1
    route mn default via 10.10.5.1
  )");
  ASSERT_TRUE(topo_or.ok()) << topo_or.error().ToString();
  Topology& topo = **topo_or;
  const TempFile config_file{WriteConfig()};
  const CtlDir ctl;
  Child* ha = StartHa(topo, config_file.path, ctl);
  ASSERT_NE(ha, nullptr);
  TestMn mn(topo, Ip("10.10.5.20"), {});
  ASSERT_TRUE(mn.engine().RegisterColocated(MonoNow(), Ip("10.10.5.20"), 0).ok());
  auto ev = mn.Pump(Duration::Seconds(4));
  ASSERT_TRUE(ev.has_value() && std::holds_alternative<mip4::RegisteredEvent>(*ev))
      << ha->Stderr();

  const Ipv4Address home = Ip("192.0.2.10");
  const Ipv4Address ha_address = Ip("192.0.2.1");
  int icmp_fd = -1, do_fd = -1, probe_fd = -1;
  {
    auto guard = topo.Enter("cn");
    ASSERT_TRUE(guard.ok());
    icmp_fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    do_fd = UdpTo(home, 9999, IP_PMTUDISC_DO);        // DF, and obeys the path MTU
    probe_fd = UdpTo(home, 9999, IP_PMTUDISC_PROBE);  // DF, ignores it
  }
  const Fd icmp(icmp_fd), pmtu_do(do_fd), probe(probe_fd);
  ASSERT_GE(icmp.fd, 0);
  ASSERT_GE(pmtu_do.fd, 0);
  ASSERT_GE(probe.fd, 0);
  const Bytes payload(1480 - 28, 0x5a);

  // 1. Lost inside the tunnel; the router's ICMP reaches the HA, which
  // relays it (RFC 2003 4.1) with the tunnel MTU less 20.
  ASSERT_EQ(send(pmtu_do.fd, payload.data(), payload.size(), 0),
            static_cast<ssize_t>(payload.size()));
  std::optional<std::uint16_t> mtu =
      WaitFragNeeded(icmp.fd, ha_address, home, Duration::Seconds(3));
  ASSERT_TRUE(mtu.has_value()) << ha->Stderr();
  EXPECT_EQ(*mtu, 1380);
  EXPECT_NE(LogWith(*ha, "tunnel MTU to 10.10.5.20 is now 1400").find("tunnel MTU to 10.10.5.20 is now 1400"), std::string::npos)
      << ha->Stderr();
  // cn's kernel took it: the path MTU to the home address is 1380, and a
  // DF datagram over it is refused locally.
  int cached = 0;
  for (int i = 0; i < 50 && cached != 1380; ++i) {
    socklen_t len = sizeof cached;
    ASSERT_EQ(getsockopt(pmtu_do.fd, IPPROTO_IP, IP_MTU, &cached, &len), 0);
    if (cached != 1380) usleep(20'000);
  }
  EXPECT_EQ(cached, 1380);
  auto route = topo.Exec("cn", {"ip", "-4", "route", "get", "192.0.2.10"});
  ASSERT_TRUE(route.ok());
  EXPECT_NE(route->out.find("mtu 1380"), std::string::npos) << route->out;
  EXPECT_EQ(TakeError(pmtu_do.fd), EMSGSIZE) << "the ICMP reached the socket";
  EXPECT_LT(send(pmtu_do.fd, payload.data(), payload.size(), 0), 0);
  EXPECT_EQ(errno, EMSGSIZE);

  // 2. Sent regardless of that cache: the HA answers from its soft state
  // (RFC 2003 5.1) and does not send it into the tunnel.
  ASSERT_EQ(send(probe.fd, payload.data(), payload.size(), 0),
            static_cast<ssize_t>(payload.size()));
  mtu = WaitFragNeeded(icmp.fd, ha_address, home, Duration::Seconds(3));
  ASSERT_TRUE(mtu.has_value()) << ha->Stderr();
  EXPECT_EQ(*mtu, 1380);

  // 3. What fits the tunnel still reaches the mobile node.
  const std::uint64_t before = mn.engine().counters().tunnelled_in;
  EXPECT_EQ(TakeError(probe.fd), EMSGSIZE) << "the HA's ICMP reached the socket";
  const Bytes fits(1380 - 28, 0x5b);
  ASSERT_EQ(send(probe.fd, fits.data(), fits.size(), 0), static_cast<ssize_t>(fits.size()));
  for (int i = 0; i < 20 && mn.engine().counters().tunnelled_in == before; ++i) {
    (void)mn.Pump(Duration::Millis(100));
  }
  EXPECT_EQ(mn.engine().counters().tunnelled_in, before + 1);

  CtlRun counters = Ctl(ctl.socket(), "--json counters");
  ASSERT_EQ(counters.exit_code, 0) << counters.out;
  auto c = nlohmann::json::parse(counters.out, nullptr, false);
  ASSERT_FALSE(c.is_discarded()) << counters.out;
  const auto& t = c["data"]["tunnel"];
  EXPECT_EQ(t["icmp_too_big_received"], 1) << counters.out;
  EXPECT_EQ(t["icmp_too_big_accepted"], 1) << counters.out;
  EXPECT_EQ(t["icmp_too_big_sent"], 2) << counters.out;
  EXPECT_EQ(c["data"]["drops"]["too big for the tunnel"], 1) << counters.out;
  EXPECT_EQ(t["tunnelled_ipip"], 2) << counters.out;  // the lost one and the one that fits

  mipsec::testing::ExecResult done = ha->Stop(Duration::Seconds(5));
  EXPECT_EQ(done.exit_code, 0) << done.Describe() << "\n" << done.err;
}

// RFC 5944 4.6 on the home link, seen from the mobile node's own end of it
// (an AF_PACKET socket on mn:h0):
//   away (co-located CoA 10.10.0.20 on eth0): the HA announces the home
//   address with its own MAC and answers ARP for it (proxy ARP);
//   back home (192.0.2.10 on h0, deregistration of all care-of addresses
//   from the home address): the HA stops answering for it and broadcasts a
//   gratuitous ARP carrying the MN's MAC (sender IP = target IP = home).
//
//   ha home0 192.0.2.1 ---- mn:h0 (the home link; 192.0.2.10 once home)
//   ha core0 10.10.0.1 ---- mn:eth0 10.10.0.20
TEST(HaDaemonRoot, Rfc5944_4_6_ProxyArpAwayAndGratuitousArpWithTheMnsMacBackHome) {
  MIPSEC_REQUIRE_NETNS();
  auto topo_or = Topology::Create(R"(
    ns ha router
    ns mn
    link ha:home0 192.0.2.1/24 mn:h0
    link ha:core0 10.10.0.1/24 mn:eth0 10.10.0.20/24
    route mn 192.0.2.0/24 via 10.10.0.1
  )");
  ASSERT_TRUE(topo_or.ok()) << topo_or.error().ToString();
  Topology& topo = **topo_or;
  const Ipv4Address home = Ip("192.0.2.10");
  const Ipv4Address stranger = Ip("192.0.2.99");  // asks the home link who has `home`
  platform::MacAddress ha_mac{};
  {
    auto g = topo.Enter("ha");
    ASSERT_TRUE(g.ok());
    auto m = platform::InterfaceMac(static_cast<int>(if_nametoindex("home0")));
    ASSERT_TRUE(m.ok()) << m.error().ToString();
    ha_mac = *m;
  }
  platform::MacAddress mn_mac{};
  std::unique_ptr<platform::ArpProbe> link;  // on mn:h0
  {
    auto g = topo.Enter("mn");
    ASSERT_TRUE(g.ok());
    const int h0 = static_cast<int>(if_nametoindex("h0"));
    auto m = platform::InterfaceMac(h0);
    ASSERT_TRUE(m.ok()) << m.error().ToString();
    mn_mac = *m;
    link = std::make_unique<platform::ArpProbe>(h0);
    ASSERT_TRUE(link->ok());
  }
  ASSERT_NE(ha_mac, mn_mac);
  // Frames from outside (not our own probes) that announce `home` at `mac`.
  auto announced = [&](const std::vector<platform::ArpFrame>& frames,
                       const platform::MacAddress& mac) {
    int n = 0;
    for (const platform::ArpFrame& f : frames) {
      if (f.incoming() && f.broadcast() && f.Gratuitous(home) && f.sha == mac) ++n;
    }
    return n;
  };
  // Incoming ARP replies saying `home` is at `mac`, to the stranger.
  auto answered = [&](const std::vector<platform::ArpFrame>& frames,
                      const platform::MacAddress& mac) {
    int n = 0;
    for (const platform::ArpFrame& f : frames) {
      if (f.incoming() && f.op == ARPOP_REPLY && f.spa == home && f.tpa == stranger &&
          f.sha == mac) {
        ++n;
      }
    }
    return n;
  };
  auto dump = [](const std::vector<platform::ArpFrame>& frames) {
    std::string s;
    for (const platform::ArpFrame& f : frames) s += platform::Describe(f) + "\n";
    return s;
  };

  // The home link is trusted too (the deregistration comes from there).
  const TempFile config_file{WriteConfig("\"10.10.0.0/16\", \"192.0.2.0/24\"")};
  const CtlDir ctl;
  Child* ha = StartHa(topo, config_file.path, ctl);
  ASSERT_NE(ha, nullptr);

  // Away: registered with the co-located care-of address.
  TestMn away(topo, Ip("10.10.0.20"), {});
  ASSERT_TRUE(away.engine().RegisterColocated(MonoNow(), Ip("10.10.0.20"), 0).ok());
  auto ev = away.Pump(Duration::Seconds(4));
  ASSERT_TRUE(ev.has_value() && std::holds_alternative<mip4::RegisteredEvent>(*ev))
      << ha->Stderr();
  ASSERT_TRUE(HasHomeRoute(topo)) << Routes(topo);
  // The binding's announcement with the HA's MAC (sent at once, then twice
  // 0.5 s apart), and the HA's proxy answer.
  std::vector<platform::ArpFrame> frames = link->Read(Duration::Millis(1200));
  EXPECT_GE(announced(frames, ha_mac), 1) << dump(frames);
  EXPECT_EQ(announced(frames, mn_mac), 0) << dump(frames);
  ASSERT_TRUE(link->Request(mn_mac, stranger, home));
  frames = link->Read(Duration::Millis(500));
  EXPECT_EQ(answered(frames, ha_mac), 1) << "proxy ARP while away\n" << dump(frames);

  // Home: the home address on h0 (the MN answers ARP for it itself now),
  // and the deregistration of all care-of addresses from it.
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"ip", "route", "del", "192.0.2.0/24", "via", "10.10.0.1"},
        std::vector<std::string>{"ip", "addr", "add", "192.0.2.10/24", "dev", "h0"}}) {
    auto r = topo.Exec("mn", cmd);
    ASSERT_TRUE(r.ok() && r->exit_code == 0) << r->Describe();
  }
  TestMn back(topo, home, {});
  int h0 = 0;
  {
    auto g = topo.Enter("mn");
    h0 = static_cast<int>(if_nametoindex("h0"));
  }
  ASSERT_TRUE(back.engine().Deregister(MonoNow(), h0).ok());
  ev = back.Pump(Duration::Seconds(4));
  ASSERT_TRUE(ev.has_value()) << ha->Stderr();
  ASSERT_TRUE(std::holds_alternative<mip4::DeregisteredEvent>(*ev))
      << ev->index() << "\n" << ha->Stderr() << ShowNeigh(topo);
  EXPECT_FALSE(HasHomeRoute(topo)) << Routes(topo);
  frames = link->Read(Duration::Millis(1500));
  // RFC 5944 4.6: broadcast, sender IP = target IP = the home address,
  // sender MAC = the MN's own; repeated (three in all, 0.5 s apart).
  EXPECT_GE(announced(frames, mn_mac), 2) << dump(frames) << ha->Stderr();
  EXPECT_EQ(announced(frames, ha_mac), 0) << dump(frames);
  const std::string home_line = "192.0.2.10 is home: gratuitous ARP on home0 with its link-layer "
                                "address " +
                                platform::MacString(mn_mac);
  EXPECT_NE(LogWith(*ha, home_line).find(home_line), std::string::npos)
      << ha->Stderr();
  // And no proxy answer any more: the HA leaves `home` to the MN.
  ASSERT_TRUE(link->Request(mn_mac, stranger, home));
  frames = link->Read(Duration::Millis(500));
  EXPECT_EQ(answered(frames, ha_mac), 0) << "proxy ARP after the MN came home\n" << dump(frames);

  mipsec::testing::ExecResult done = ha->Stop(Duration::Seconds(5));
  EXPECT_EQ(done.exit_code, 0) << done.Describe() << "\n" << done.err;
}

// The same return home, but the mobile node's link-layer address cannot
// be learned (it never ARPs for the HA, a permanent entry says where the HA
// is, and it answers no ARP): the HA logs one warning and announces
// nothing rather than a wrong address.
TEST(HaDaemonRoot, Rfc5944_4_6_NoGratuitousArpWithoutTheMnsMac) {
  MIPSEC_REQUIRE_NETNS();
  auto topo_or = Topology::Create(R"(
    ns ha router
    ns mn
    link ha:home0 192.0.2.1/24 mn:h0
    link ha:core0 10.10.0.1/24 mn:eth0 10.10.0.20/24
    route mn 192.0.2.0/24 via 10.10.0.1
  )");
  ASSERT_TRUE(topo_or.ok()) << topo_or.error().ToString();
  Topology& topo = **topo_or;
  const Ipv4Address home = Ip("192.0.2.10");
  platform::MacAddress ha_mac{};
  {
    auto g = topo.Enter("ha");
    ASSERT_TRUE(g.ok());
    auto m = platform::InterfaceMac(static_cast<int>(if_nametoindex("home0")));
    ASSERT_TRUE(m.ok());
    ha_mac = *m;
  }
  std::unique_ptr<platform::ArpProbe> link;
  int h0 = 0;
  {
    auto g = topo.Enter("mn");
    ASSERT_TRUE(g.ok());
    h0 = static_cast<int>(if_nametoindex("h0"));
    link = std::make_unique<platform::ArpProbe>(h0);
    ASSERT_TRUE(link->ok());
  }
  const TempFile config_file{WriteConfig("\"10.10.0.0/16\", \"192.0.2.0/24\"")};
  const CtlDir ctl;
  Child* ha = StartHa(topo, config_file.path, ctl);
  ASSERT_NE(ha, nullptr);
  TestMn away(topo, Ip("10.10.0.20"), {});
  ASSERT_TRUE(away.engine().RegisterColocated(MonoNow(), Ip("10.10.0.20"), 0).ok());
  auto ev = away.Pump(Duration::Seconds(4));
  ASSERT_TRUE(ev.has_value() && std::holds_alternative<mip4::RegisteredEvent>(*ev))
      << ha->Stderr();
  ASSERT_TRUE(HasHomeRoute(topo));

  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"ip", "route", "del", "192.0.2.0/24", "via", "10.10.0.1"},
        std::vector<std::string>{"sysctl", "-qw", "net.ipv4.conf.h0.arp_ignore=8"},
        std::vector<std::string>{"ip", "neigh", "replace", "192.0.2.1", "lladdr",
                                 platform::MacString(ha_mac), "dev", "h0", "nud", "permanent"},
        std::vector<std::string>{"ip", "addr", "add", "192.0.2.10/24", "dev", "h0"}}) {
    auto r = topo.Exec("mn", cmd);
    ASSERT_TRUE(r.ok() && r->exit_code == 0) << r->Describe();
  }
  (void)link->Read(Duration::Millis(1200));  // the binding's announcements
  TestMn back(topo, home, {});
  ASSERT_TRUE(back.engine().Deregister(MonoNow(), h0).ok());
  (void)back.Pump(Duration::Millis(300));  // its reply cannot arrive: the HA cannot resolve it
  const std::string warning =
      "192.0.2.10 is home, but its link-layer address is not in the neighbour table of home0: "
      "no gratuitous ARP for it";
  for (int i = 0; i < 40 && ha->Stderr().find(warning) == std::string::npos; ++i) usleep(50'000);
  EXPECT_NE(LogWith(*ha, warning).find(warning), std::string::npos) << ha->Stderr() << ShowNeigh(topo);
  EXPECT_FALSE(HasHomeRoute(topo)) << "the deregistration was accepted";
  std::string seen;
  int gratuitous = 0;
  for (const platform::ArpFrame& f : link->Read(Duration::Millis(700))) {
    seen += platform::Describe(f) + "\n";
    if (f.incoming() && f.Gratuitous(home)) ++gratuitous;
  }
  EXPECT_EQ(gratuitous, 0) << seen;
  mipsec::testing::ExecResult done = ha->Stop(Duration::Seconds(5));
  EXPECT_EQ(done.exit_code, 0) << done.Describe() << "\n" << done.err;
}

}  // namespace
}  // namespace mipsec::mip4d

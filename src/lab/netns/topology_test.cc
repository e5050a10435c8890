// Real namespaces (ROOT tests). Every address used here exists only inside
// namespaces these tests create; no packet leaves them.
#include "lab/netns/topology.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testing/netns/require_root.h"

namespace mipsec::lab {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char kPair[] = R"(
ns a
ns b
link a:eth0 10.1.0.1/24  b:eth0 10.1.0.2/24  mtu 1400
)";

// Gone, or a zombie (an init that never reaps would keep zombies around;
// a zombie has left every namespace).
bool ProcessGone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

bool NetnsExists(const std::string& name) {
  auto all = ListNetns();
  return std::find(all.begin(), all.end(), name) != all.end();
}

// Namespaces this test process created and did not delete.
std::set<std::string> OurNetns() {
  std::string mine = "mipsec-" + std::to_string(::getpid()) + "-";
  std::set<std::string> out;
  for (const auto& n : ListNetns()) {
    if (n.rfind(mine, 0) == 0) out.insert(n);
  }
  return out;
}

std::string Exec1(const Topology& t, std::string_view ns, const std::vector<std::string>& argv) {
  auto r = t.Exec(ns, argv);
  if (!r.ok()) return "ERROR " + r.error().ToString();
  return r->out;
}

ino_t InodeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

// --- small UDP helpers (sockets are opened inside a namespace via RunIn) ---

sockaddr_in Addr(const char* ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

std::string AddrString(const sockaddr_in& a) {
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(ntohs(a.sin_port));
}

int UdpBound(const char* ip, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a = Addr(ip, port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendTo(int fd, std::string_view data, const sockaddr_in& to) {
  return ::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                  sizeof to) == static_cast<ssize_t>(data.size());
}

// One datagram within `ms`, or nullopt.
std::optional<std::pair<std::string, sockaddr_in>> Receive(int fd, int ms = 2000) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, ms) != 1) return std::nullopt;
  char buf[2048];
  sockaddr_in from{};
  socklen_t len = sizeof from;
  ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
  if (n < 0) return std::nullopt;
  return std::make_pair(std::string(buf, static_cast<size_t>(n)), from);
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// ---------------------------------------------------------------------------

TEST(NetnsTopologyTest, TwoNamespacesPingAcrossVeth) {
  MIPSEC_REQUIRE_NETNS();
  auto t = Topology::Create(kPair);
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  const Topology& topo = **t;

  Status ping = topo.Run("a", {"ping", "-c1", "-W2", "-n", "10.1.0.2"});
  EXPECT_TRUE(ping.ok()) << ping.error().ToString();

  // The namespace holds exactly lo and its veth end, as configured.
  std::string links = Exec1(topo, "a", {"ip", "-o", "link", "show"});
  EXPECT_EQ(std::count(links.begin(), links.end(), '\n'), 2) << links;
  EXPECT_THAT(links, HasSubstr("lo: <LOOPBACK,UP,LOWER_UP>"));
  EXPECT_THAT(links, HasSubstr("eth0@"));
  EXPECT_THAT(links, HasSubstr("mtu 1400"));
  EXPECT_THAT(Exec1(topo, "b", {"ip", "-o", "-4", "addr", "show", "dev", "eth0"}),
              HasSubstr("inet 10.1.0.2/24"));
  // Sysctls: no forwarding (not a router), rp_filter off, IPv6 off.
  EXPECT_EQ(Exec1(topo, "a", {"cat", "/proc/sys/net/ipv4/ip_forward"}), "0\n");
  EXPECT_EQ(Exec1(topo, "a", {"cat", "/proc/sys/net/ipv4/conf/eth0/rp_filter"}), "0\n");
  EXPECT_EQ(Exec1(topo, "a", {"cat", "/proc/sys/net/ipv4/conf/all/rp_filter"}), "0\n");
  if (::access("/proc/sys/net/ipv6", F_OK) == 0) {
    EXPECT_EQ(Exec1(topo, "b", {"cat", "/proc/sys/net/ipv6/conf/eth0/disable_ipv6"}), "1\n");
    EXPECT_EQ(Exec1(topo, "b", {"ip", "-6", "addr", "show"}), "");
  }
  // The child runs in the namespace, not where the test runs.
  EXPECT_NE(InodeOf("/proc/self/ns/net"), 0u);
  std::string inode = Exec1(topo, "a", {"stat", "-L", "-c", "%i", "/proc/self/ns/net"});
  EXPECT_EQ(inode, std::to_string(*NetnsInode(topo.NsFd("a"))) + "\n");
  EXPECT_NE(inode, std::to_string(InodeOf("/proc/self/ns/net")) + "\n");
}

TEST(NetnsTopologyTest, ExecInNamespaceTimesOutAndReportsUnknownNames) {
  MIPSEC_REQUIRE_NETNS();
  auto t = Topology::Create("ns a\n");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  auto start = std::chrono::steady_clock::now();
  auto r = (*t)->Exec("a", {"sleep", "10"}, Duration::Millis(200));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));

  auto unknown = (*t)->Exec("zz", {"true"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), Errc::kNotFound);
  Status failed = (*t)->Run("a", {"ping", "-c1", "-W1", "-n", "10.77.0.1"});
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.error().detail(), HasSubstr("in a: ping -c1 -W1 -n 10.77.0.1: exit 2"));
}

TEST(NetnsTopologyTest, RoutedThroughRouterNamespace) {
  MIPSEC_REQUIRE_NETNS();
  auto t = Topology::Create(R"(
    ns mn
    ns router router
    ns server
    link mn:eth0 10.1.0.2/24      router:eth0 10.1.0.1/24
    link router:eth1 10.2.0.1/24  server:eth0 10.2.0.2/24
    route mn default via 10.1.0.1
    route server 10.1.0.0/24 via 10.2.0.1
  )");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  const Topology& topo = **t;
  EXPECT_EQ(Exec1(topo, "router", {"cat", "/proc/sys/net/ipv4/ip_forward"}), "1\n");

  auto ping = topo.Exec("mn", {"ping", "-c1", "-W2", "-n", "10.2.0.2"});
  ASSERT_TRUE(ping.ok()) << ping.error().ToString();
  EXPECT_TRUE(ping->Success()) << ping->out << ping->err;
  EXPECT_THAT(ping->out, HasSubstr("ttl=63"));  // one hop: the router forwarded it

  EXPECT_THAT(Exec1(topo, "mn", {"ip", "route", "show"}), HasSubstr("default via 10.1.0.1"));

  // Control: the same path fails once the router stops forwarding.
  ASSERT_TRUE(topo.Run("router", {"sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward"}).ok());
  auto blocked = topo.Exec("mn", {"ping", "-c1", "-W1", "-n", "10.2.0.2"});
  ASSERT_TRUE(blocked.ok());
  EXPECT_FALSE(blocked->Success());
}

constexpr const char kNatBase[] = R"(
ns mn
ns gw router
ns server
link mn:eth0 10.1.0.2/24      gw:eth0 10.1.0.1/24
link gw:eth1 192.168.5.1/24   server:eth0 192.168.5.10/24
route mn default via 10.1.0.1
)";

struct UdpProbe {
  std::string seen_by_server;  // source address:port the server saw
  std::string reply_from;      // source of the reply the client got, "" if none
};

// Client in mn (10.1.0.2:port) sends to the server (192.168.5.10:4500),
// which replies to whatever source it saw.
UdpProbe ProbeUdp(const Topology& topo, uint16_t client_port) {
  UdpProbe probe;
  Fd server, client;
  EXPECT_TRUE(topo.RunIn("server", [&] { server.reset(UdpBound("192.168.5.10", 4500)); }).ok());
  EXPECT_TRUE(topo.RunIn("mn", [&] { client.reset(UdpBound("10.1.0.2", client_port)); }).ok());
  if (server.get() < 0 || client.get() < 0) {
    ADD_FAILURE() << "sockets: " << std::strerror(errno);
    return probe;
  }
  EXPECT_TRUE(SendTo(client.get(), "hello", Addr("192.168.5.10", 4500)));
  auto got = Receive(server.get());
  if (!got) {
    ADD_FAILURE() << "server got nothing";
    return probe;
  }
  EXPECT_EQ(got->first, "hello");
  probe.seen_by_server = AddrString(got->second);
  // Without a route back this fails at once (ENETUNREACH): no reply then.
  if (!SendTo(server.get(), "reply", got->second)) return probe;
  auto back = Receive(client.get(), 1000);
  if (back) {
    EXPECT_EQ(back->first, "reply");
    probe.reply_from = AddrString(back->second);
  }
  return probe;
}

TEST(NetnsTopologyTest, MasqueradeRewritesSourceAndReplyComesBack) {
  MIPSEC_REQUIRE_NETNS();
  auto t = Topology::Create(std::string(kNatBase) + "nat gw masquerade oif eth1\n");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  UdpProbe p = ProbeUdp(**t, 5000);
  // The server has no route to 10.1.0.0/24: only the NAT makes the reply work.
  EXPECT_EQ(p.seen_by_server, "192.168.5.1:5000");
  EXPECT_EQ(p.reply_from, "192.168.5.10:4500");
  EXPECT_THAT(Exec1(**t, "gw", {"nft", "list", "ruleset"}),
              HasSubstr("oifname \"eth1\" masquerade"));
}

TEST(NetnsTopologyTest, WithoutNatTheServerSeesTheClientAddress) {
  MIPSEC_REQUIRE_NETNS();
  auto t = Topology::Create(kNatBase);
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  UdpProbe p = ProbeUdp(**t, 5000);
  EXPECT_EQ(p.seen_by_server, "10.1.0.2:5000");
  EXPECT_EQ(p.reply_from, "");  // the server has no route back
}

TEST(NetnsTopologyTest, MasqueradeRandomChangesPorts) {
  MIPSEC_REQUIRE_NETNS();
  auto t = Topology::Create(std::string(kNatBase) + "nat gw masquerade oif eth1 random\n");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  int kept = 0;
  for (uint16_t port : {5000, 5001, 5002}) {
    UdpProbe p = ProbeUdp(**t, port);
    ASSERT_THAT(p.seen_by_server, HasSubstr("192.168.5.1:"));
    EXPECT_EQ(p.reply_from, "192.168.5.10:4500");
    if (p.seen_by_server == "192.168.5.1:" + std::to_string(port)) ++kept;
  }
  EXPECT_LT(kept, 3) << "random port mapping kept every source port";
}

TEST(NetnsTopologyTest, RawNftRulesApply) {
  MIPSEC_REQUIRE_NETNS();
  auto t = Topology::Create(std::string(kNatBase) + R"(
    route server 10.1.0.0/24 via 192.168.5.1
    nft gw "add table inet fw"
    nft gw add chain inet fw fchain { type filter hook forward priority 0; policy accept; }
    nft gw add rule inet fw fchain icmp type echo-request drop
  )");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  // ICMP is dropped in gw's forward chain, UDP still passes.
  EXPECT_FALSE((*t)->Run("mn", {"ping", "-c1", "-W1", "-n", "192.168.5.10"}).ok());
  UdpProbe p = ProbeUdp(**t, 5000);
  EXPECT_EQ(p.seen_by_server, "10.1.0.2:5000");
  EXPECT_EQ(p.reply_from, "192.168.5.10:4500");
}

TEST(NetnsTopologyTest, NamesAreUniqueAcrossSimultaneousTopologies) {
  MIPSEC_REQUIRE_NETNS();
  auto t1 = Topology::Create(kPair);
  auto t2 = Topology::Create(kPair);
  ASSERT_TRUE(t1.ok()) << t1.error().ToString();
  ASSERT_TRUE(t2.ok()) << t2.error().ToString();
  std::string pid = std::to_string(::getpid());
  EXPECT_THAT((*t1)->NsName("a"), HasSubstr("mipsec-" + pid + "-"));
  EXPECT_NE((*t1)->NsName("a"), (*t2)->NsName("a"));
  EXPECT_NE((*t1)->prefix(), (*t2)->prefix());
  for (const auto* t : {&t1, &t2}) {
    for (const auto& n : (**t)->NsNames()) EXPECT_TRUE(NetnsExists(n)) << n;
    // Same addresses in both: each topology is its own world.
    EXPECT_TRUE((**t)->Run("a", {"ping", "-c1", "-W2", "-n", "10.1.0.2"}).ok());
  }
  EXPECT_NE(*NetnsInode((*t1)->NsFd("a")), *NetnsInode((*t2)->NsFd("a")));
  EXPECT_THAT((*t1)->Describe(), HasSubstr("a = " + (*t1)->NsName("a") + "\n"));
}

TEST(NetnsTopologyTest, RunInAndEnterSwitchOnlyTheCallingThread) {
  MIPSEC_REQUIRE_NETNS();
  auto t = Topology::Create(kPair);
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  const Topology& topo = **t;
  ino_t home = *CurrentNetnsInode();
  ino_t a = *NetnsInode(topo.NsFd("a"));
  ino_t b = *NetnsInode(topo.NsFd("b"));

  ino_t inside = 0;
  ino_t other_thread = 0;
  Fd sock;
  ASSERT_TRUE(topo.RunIn("a",
                         [&] {
                           inside = *CurrentNetnsInode();
                           std::thread([&] { other_thread = *CurrentNetnsInode(); }).join();
                           sock.reset(UdpBound("10.1.0.1", 7000));  // exists only in a
                         })
                  .ok());
  EXPECT_EQ(inside, a);
  EXPECT_EQ(other_thread, a);  // a new thread starts where its creator is
  EXPECT_EQ(*CurrentNetnsInode(), home);
  ASSERT_GE(sock.get(), 0) << std::strerror(errno);
  // The socket stays in a: b can reach it after we are back home.
  Fd from_b;
  ASSERT_TRUE(topo.RunIn("b", [&] { from_b.reset(UdpBound("10.1.0.2", 7001)); }).ok());
  ASSERT_TRUE(SendTo(from_b.get(), "x", Addr("10.1.0.1", 7000)));
  auto got = Receive(sock.get());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(AddrString(got->second), "10.1.0.2:7001");

  {
    auto ga = topo.Enter("a");
    ASSERT_TRUE(ga.ok()) << ga.error().ToString();
    EXPECT_EQ(*CurrentNetnsInode(), a);
    {
      auto gb = topo.Enter("b");
      ASSERT_TRUE(gb.ok());
      EXPECT_EQ(*CurrentNetnsInode(), b);
    }
    EXPECT_EQ(*CurrentNetnsInode(), a);
  }
  EXPECT_EQ(*CurrentNetnsInode(), home);
}

TEST(NetnsTopologyTest, DestroyRemovesNamespacesAndKillsProcesses) {
  MIPSEC_REQUIRE_NETNS();
  auto before = OurNetns();
  auto t = Topology::Create(kPair);
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  std::vector<std::string> names = (*t)->NsNames();
  for (const auto& n : names) ASSERT_TRUE(NetnsExists(n)) << n;

  auto child = (*t)->Spawn("b", {"sleep", "30"});
  ASSERT_TRUE(child.ok()) << child.error().ToString();
  pid_t spawned = (*child)->pid();
  ASSERT_TRUE(WaitFor(
      [&] {
        return InodeOf("/proc/" + std::to_string(spawned) + "/ns/net") ==
               *NetnsInode((*t)->NsFd("b"));
      },
      std::chrono::seconds(2)));
  // A daemon that escaped its parent (reparented away from us).
  std::string out = Exec1(**t, "a", {"sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!"});
  pid_t daemon = static_cast<pid_t>(std::atol(out.c_str()));
  ASSERT_GT(daemon, 0) << out;
  ASSERT_FALSE(ProcessGone(daemon));
  pid_t reaper = (*t)->reaper_pid();
  ASSERT_GT(reaper, 0);
  ASSERT_FALSE(ProcessGone(reaper));

  t->reset();  // destructor

  for (const auto& n : names) EXPECT_FALSE(NetnsExists(n)) << n;
  EXPECT_EQ(OurNetns(), before);
  EXPECT_TRUE(ProcessGone(spawned));
  EXPECT_TRUE(WaitFor([&] { return ProcessGone(daemon); }, std::chrono::seconds(2)));
  // Disarmed: the watchdog exits without waiting for this process to end.
  EXPECT_TRUE(WaitFor([&] { return ProcessGone(reaper); }, std::chrono::seconds(2)));
}

TEST(NetnsTopologyTest, FailedCreateLeavesNothing) {
  MIPSEC_REQUIRE_NETNS();
  auto before = OurNetns();
  // Valid text, but the kernel rejects the route: no link reaches 10.5.5.5.
  auto t = Topology::Create(std::string(kPair) + "route a 10.9.0.0/16 via 10.5.5.5\n");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.error().detail(), HasSubstr("route add 10.9.0.0/16 via 10.5.5.5"));
  EXPECT_EQ(OurNetns(), before);

  auto bad_nft = Topology::Create(std::string(kPair) + "nft b add rule ip nosuch c drop\n");
  ASSERT_FALSE(bad_nft.ok());
  EXPECT_THAT(bad_nft.error().detail(), HasSubstr("nft -f -"));
  EXPECT_THAT(bad_nft.error().detail(), HasSubstr("add rule ip nosuch c drop"));
  EXPECT_EQ(OurNetns(), before);

  auto parse = Topology::Create("ns a\nlink a:eth0\n");
  ASSERT_FALSE(parse.ok());
  EXPECT_EQ(parse.error().detail(), "line 2: expected NS:IF [ADDR/LEN] twice");
}

void ForceDeleteNetns(const std::string& name) {
  int fd = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)KillProcessesInNetns(fd);
    ::close(fd);
  }
  (void)ExecInNetns(-1, {"ip", "netns", "del", name});
}

// The test process dies without running destructors; the reaper must clean
// up namespaces and the processes in them.
class NetnsReaperTest : public ::testing::TestWithParam<bool> {};  // true: SIGKILL, false: _exit

TEST_P(NetnsReaperTest, CleansUpAfterTheOwnerDies) {
  MIPSEC_REQUIRE_NETNS();
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  const bool sigkill = GetParam();
  pid_t owner = ::fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    ::close(p[0]);
    auto t = Topology::Create(kPair);
    std::string msg;
    if (!t.ok()) {
      msg = "ERROR " + t.error().ToString() + "\n";
    } else {
      auto c = (*t)->Spawn("b", {"sleep", "60"});
      msg = (*t)->NsName("a") + " " + (*t)->NsName("b") + " " +
            std::to_string(c.ok() ? (*c)->pid() : 0) + " " + std::to_string((*t)->reaper_pid()) +
            "\n";
    }
    ssize_t n = ::write(p[1], msg.data(), msg.size());
    (void)n;
    if (sigkill) {
      for (;;) ::pause();
    }
    ::_exit(0);  // no destructors, no atexit
  }
  ::close(p[1]);
  std::string line;
  char buf[256];
  pollfd pf{p[0], POLLIN, 0};
  while (line.find('\n') == std::string::npos && ::poll(&pf, 1, 10'000) == 1) {
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  ::close(p[0]);
  if (sigkill) ::kill(owner, SIGKILL);
  int wst;
  ::waitpid(owner, &wst, 0);
  ASSERT_THAT(line, Not(HasSubstr("ERROR"))) << line;
  std::istringstream in(line);
  std::string ns_a, ns_b;
  pid_t sleeper = 0, reaper = 0;
  in >> ns_a >> ns_b >> sleeper >> reaper;
  ASSERT_FALSE(ns_a.empty()) << line;
  ASSERT_GT(sleeper, 0) << line;
  ASSERT_GT(reaper, 0) << line;

  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(
      WaitFor([&] { return !NetnsExists(ns_a) && !NetnsExists(ns_b); }, std::chrono::seconds(3)))
      << "namespaces still there: " << ns_a << " " << ns_b;
  EXPECT_TRUE(WaitFor([&] { return ProcessGone(sleeper); }, std::chrono::seconds(1)));
  EXPECT_TRUE(WaitFor([&] { return ProcessGone(reaper); }, std::chrono::seconds(1)));
  // If the reaper failed, do not leave its work behind.
  for (const auto& n : {ns_a, ns_b}) {
    if (NetnsExists(n)) ForceDeleteNetns(n);
  }
  if (!ProcessGone(sleeper)) ::kill(sleeper, SIGKILL);
  std::printf("reaper cleaned up in %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count()));
}

INSTANTIATE_TEST_SUITE_P(OwnerDeath, NetnsReaperTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Sigkill" : "ExitNoDtors";
                         });

// The guard itself: run one guarded test of this binary as an unprivileged
// user, once plain and once with CI=true.
TEST(NetnsRequireRootProbe, Guarded) {
  MIPSEC_REQUIRE_NETNS();
  EXPECT_EQ(::geteuid(), 0u);  // only root gets past the guard
}

struct ProbeRun {
  int exit_code = -1;
  std::string output;
};

// Runs `binary --gtest_filter=NetnsRequireRootProbe.Guarded` as user nobody.
ProbeRun RunProbeAsNobody(const std::string& binary, bool ci) {
  ProbeRun r;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return r;
  std::string bin = binary;
  std::string filter = "--gtest_filter=NetnsRequireRootProbe.Guarded";
  std::string ci_env = ci ? "CI=true" : "CI=";
  std::string path_env = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  std::string asan_env = "ASAN_OPTIONS=detect_leaks=0";
  char* argv[] = {bin.data(), filter.data(), nullptr};
  char* envp[] = {ci_env.data(), path_env.data(), asan_env.data(), nullptr};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p[1], 1);
    ::dup2(p[1], 2);
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(99);
    ::execve(bin.c_str(), argv, envp);
    ::_exit(98);
  }
  ::close(p[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) r.output.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int wst = 0;
  ::waitpid(pid, &wst, 0);
  r.exit_code = WIFEXITED(wst) ? WEXITSTATUS(wst) : -1;
  return r;
}

TEST(NetnsRequireRootTest, SkipsWhenNotRootButFailsInCi) {
  MIPSEC_REQUIRE_ROOT();  // we need root to become someone else
  // A copy of this binary where user nobody can run it (the build tree may
  // not be reachable for other users).
  char dir_template[] = "/tmp/mipsec-require-root-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr) << std::strerror(errno);
  std::string dir = dir_template;
  std::string copy = dir + "/probe";
  {
    std::ifstream src("/proc/self/exe", std::ios::binary);
    std::ofstream dst(copy, std::ios::binary);
    dst << src.rdbuf();
    ASSERT_TRUE(dst.good());
  }
  ASSERT_EQ(::chmod(copy.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  ProbeRun plain = RunProbeAsNobody(copy, false);
  ProbeRun ci = RunProbeAsNobody(copy, true);
  ::unlink(copy.c_str());
  ::rmdir(dir.c_str());

  EXPECT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_THAT(plain.output, HasSubstr("[  SKIPPED ]"));
  EXPECT_THAT(plain.output, HasSubstr("needs root"));

  EXPECT_EQ(ci.exit_code, 1) << ci.output;
  EXPECT_THAT(ci.output, HasSubstr("needs root"));
  EXPECT_THAT(ci.output, HasSubstr("CI=true"));
  EXPECT_THAT(ci.output, HasSubstr("[  FAILED  ]"));
}

}  // namespace
}  // namespace mipsec::lab

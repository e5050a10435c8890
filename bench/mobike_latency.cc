// MOBIKE handover gap (issue 6 item 5): from the moment the mobile node's
// outer address changes to the first data packet through the tunnel on the
// new path, for `mipsec vpn` against `mipsec gw` and for strongSwan 5.9.8
// against strongSwan (charon with kernel-libipsec at both ends), side by side
// in one run on the same namespace topology (testing/strongswan's
// kInteropTopology: mn on link A, B or C (behind ext's NAPT) -> ext -> gw ->
// int). Needs root; not a Google Benchmark program and not run by `make
// bench`.
//
//   build/release/bench/mobike_latency --runs 5
//
// Per move (A -> B, B -> C, C -> A, `--runs` times each):
//   - a prober in mn sends a 16-byte UDP datagram every 200 us through the
//     tunnel to an echo server on the intranet host (int) and timestamps the
//     echoes;
//   - the move is a hard handover done over netlink from inside mn (add the
//     new address, replace the default route, delete the old addresses), as
//     `topology.sh move` does with `ip -batch`; t0 is taken right before the
//     first netlink request;
//   - t1 is taken when the last netlink request (the old address deleted)
//     has returned; only probes that left mn after t1 count, so none can
//     have used the old path;
//   - "first packet" = the arrival at int of the first such probe (one way,
//     mn -> int, through the tunnel on the new path), relative to t0;
//   - "resumed" = the first echo back at mn of such a probe (both ways on
//     the new path: what a user's application sees), relative to t0.
// Both are reported relative to t0, with the tunnel RTT measured just before
// the move. Prints a Markdown table (BENCHMARKS.md, "MOBIKE handover gap").
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "platform/linux/netlink.h"
#include "scenarios/ikev2/interop_configs.h"
#include "lab/netns/exec.h"
#include "lab/netns/topology.h"
#include "testing/strongswan/interop_net.h"
#include "testing/strongswan/require_strongswan.h"
#include "lab/strongswan/strongswan_peer.h"
#include "testing/lab_names.h"

namespace mipsec::testing {
namespace {

constexpr std::uint16_t kEchoPort = 9999;
constexpr auto kProbeInterval = std::chrono::microseconds(200);

std::int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// A UDP socket created inside namespace `ns`.
Result<int> SocketIn(const Topology& topo, std::string_view ns, std::uint16_t port) {
  int fd = -1;
  Status st = topo.RunIn(ns, [&] {
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      close(fd);
      fd = -1;
    }
  });
  if (!st.ok()) return st.error();
  if (fd < 0) return Error(Errc::kSystem, std::string("socket in ") + std::string(ns) + ": " +
                                              std::strerror(errno));
  return fd;
}

// Probes: seq and send time out; the echo server in int stamps the arrival.
struct Probe {
  std::int64_t sent = 0;
  std::int64_t arrived = 0;  // at int (the same clock: one machine)
  std::int64_t echoed = 0;   // back at mn
};

class Prober {
 public:
  Prober(int mn_fd, int int_fd) : mn_(mn_fd), int_(int_fd) {}
  ~Prober() { Stop(); }

  void Start() {
    running_ = true;
    echo_ = std::thread([this] { EchoLoop(); });
    rx_ = std::thread([this] { RxLoop(); });
    tx_ = std::thread([this] { TxLoop(); });
  }
  void Stop() {
    if (!running_.exchange(false)) return;
    tx_.join();
    rx_.join();
    echo_.join();
  }
  std::vector<Probe> Take() {
    std::lock_guard<std::mutex> l(mu_);
    return probes_;
  }

 private:
  void TxLoop() {
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(kEchoPort);
    inet_pton(AF_INET, kInteropIntHost, &dst.sin_addr);
    auto next = std::chrono::steady_clock::now();
    for (std::uint64_t seq = 0; running_; ++seq) {
      {
        std::lock_guard<std::mutex> l(mu_);
        probes_.push_back(Probe{NowNs(), 0, 0});
      }
      std::uint64_t msg[2] = {seq, 0};
      (void)sendto(mn_, msg, sizeof(msg), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&dst),
                   sizeof(dst));
      next += kProbeInterval;
      std::this_thread::sleep_until(next);
    }
  }
  void EchoLoop() {
    pollfd p{int_, POLLIN, 0};
    while (running_) {
      if (poll(&p, 1, 50) <= 0) continue;
      std::uint64_t msg[2];
      sockaddr_in from{};
      socklen_t fl = sizeof(from);
      ssize_t n = recvfrom(int_, msg, sizeof(msg), 0, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n != sizeof(msg)) continue;
      const std::int64_t t = NowNs();
      {
        std::lock_guard<std::mutex> l(mu_);
        if (msg[0] < probes_.size() && probes_[msg[0]].arrived == 0) probes_[msg[0]].arrived = t;
      }
      (void)sendto(int_, msg, sizeof(msg), 0, reinterpret_cast<sockaddr*>(&from), fl);
    }
  }
  void RxLoop() {
    pollfd p{mn_, POLLIN, 0};
    while (running_) {
      if (poll(&p, 1, 50) <= 0) continue;
      std::uint64_t msg[2];
      if (recv(mn_, msg, sizeof(msg), 0) != sizeof(msg)) continue;
      const std::int64_t t = NowNs();
      std::lock_guard<std::mutex> l(mu_);
      if (msg[0] < probes_.size() && probes_[msg[0]].echoed == 0) probes_[msg[0]].echoed = t;
    }
  }

  int mn_;
  int int_;
  std::atomic<bool> running_{false};
  std::mutex mu_;
  std::vector<Probe> probes_;
  std::thread tx_, rx_, echo_;
};

// The hard handover of mn to `to`, over netlink from inside mn: t0 right
// before the first request, t1 after the last (the old address is gone).
struct MoveTimes {
  std::int64_t t0 = 0;
  std::int64_t t1 = 0;
};
Result<MoveTimes> Move(const Topology& topo, char to) {
  std::int64_t t0 = 0;
  std::int64_t t1 = 0;
  Status result = Ok{};
  Status st = topo.RunIn("mn", [&] {
    auto nl = platform::LinuxNetlink::Open();
    if (!nl.ok()) {
      result = nl.error();
      return;
    }
    const Uplink up = InteropLink(to);
    auto link = (*nl)->GetLinkByName(up.dev);
    auto gw = Ipv4Address::Parse(up.gateway);
    auto all = (*nl)->ListAddresses(0);
    if (!link.ok() || !gw.ok() || !all.ok()) {
      result = Error(Errc::kInternal, "netlink lookups in mn failed");
      return;
    }
    const std::size_t slash = up.address.find('/');  // "198.51.100.10/25"
    auto ip = Ipv4Address::Parse(up.address.substr(0, slash));
    const int length = std::stoi(up.address.substr(slash + 1));
    if (!ip.ok()) {
      result = ip.error();
      return;
    }
    t0 = NowNs();
    Status s = (*nl)->AddAddress(link->ifindex, platform::InterfaceAddress{*ip, length});
    platform::Route r;
    r.destination = Ipv4Prefix::Parse("0.0.0.0/0").value();
    r.gateway = *gw;
    r.oif = link->ifindex;
    if (s.ok()) s = (*nl)->ReplaceRoute(r);
    for (const platform::AddressInfo& old : *all) {
      if (!s.ok()) break;
      if (old.ifindex == link->ifindex || old.local.address.IsLoopback()) continue;
      auto l = (*nl)->GetLink(old.ifindex);
      if (!l.ok() || (l->name != "a0" && l->name != "b0" && l->name != "c0")) continue;
      s = (*nl)->DeleteAddress(old.ifindex, old.local);
    }
    t1 = NowNs();
    result = s;
  });
  if (!st.ok()) return st.error();
  if (!result.ok()) return result.error();
  return MoveTimes{t0, t1};
}

struct Gap {
  double rtt_ms = 0;        // median echo RTT before the move
  double first_ms = -1;     // first probe sent after the move that reached int
  double resumed_ms = -1;   // first probe sent after the move echoed back to mn
  int lost = 0;             // probes sent in [t0, t0 + 2 s] never echoed
  double move_ms = 0;       // t1 - t0: the netlink requests of the move
};

Result<Gap> MeasureMove(const Topology& topo, char to) {
  auto mn_fd = SocketIn(topo, "mn", 0);
  if (!mn_fd.ok()) return mn_fd.error();
  auto int_fd = SocketIn(topo, "int", kEchoPort);
  if (!int_fd.ok()) {
    close(*mn_fd);
    return int_fd.error();
  }
  Prober p(*mn_fd, *int_fd);
  p.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto times = Move(topo, to);
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  p.Stop();
  close(*mn_fd);
  close(*int_fd);
  if (!times.ok()) return times.error();
  // Times are relative to t0; a probe counts once it left after t1 (the old
  // address gone), so none can have used the old path.
  const std::int64_t t0 = times->t0;
  const std::int64_t t1 = times->t1;
  const std::vector<Probe> probes = p.Take();
  Gap g;
  std::vector<double> rtts;
  for (const Probe& pr : probes) {
    if (pr.sent < t0 - 200'000'000 || pr.sent >= t0) continue;
    if (pr.echoed != 0) rtts.push_back(static_cast<double>(pr.echoed - pr.sent) / 1e6);
  }
  if (!rtts.empty()) {
    std::sort(rtts.begin(), rtts.end());
    g.rtt_ms = rtts[rtts.size() / 2];
  }
  for (const Probe& pr : probes) {
    if (pr.sent < t0) continue;
    if (pr.sent < t0 + 2'000'000'000 && pr.echoed == 0) ++g.lost;
    if (pr.sent < t1) continue;
    if (g.first_ms < 0 && pr.arrived != 0) g.first_ms = static_cast<double>(pr.arrived - t0) / 1e6;
    if (g.resumed_ms < 0 && pr.echoed != 0) {
      g.resumed_ms = static_cast<double>(pr.echoed - t0) / 1e6;
    }
  }
  g.move_ms = static_cast<double>(t1 - t0) / 1e6;
  if (g.first_ms < 0 || g.resumed_ms < 0) {
    return Error(Errc::kTimeout,
                 std::string("no probe got through within 3 s of the move to ") + to);
  }
  return g;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1 : v[v.size() / 2];
}

std::string Cell(const std::vector<Gap>& gaps, double Gap::*field) {
  if (gaps.empty()) return "-";
  std::vector<double> v;
  for (const Gap& g : gaps) v.push_back(g.*field);
  std::sort(v.begin(), v.end());
  char b[96];
  std::snprintf(b, sizeof(b), "**%.2f** (%.2f-%.2f)", Median(v), v.front(), v.back());
  return b;
}

// Runs `runs` rounds of A -> B -> C -> A with a tunnel already up.
Result<std::vector<std::vector<Gap>>> Moves(const Topology& topo, int runs) {
  std::vector<std::vector<Gap>> per(3);
  const char order[3] = {'B', 'C', 'A'};
  for (int r = 0; r < runs; ++r) {
    for (int i = 0; i < 3; ++i) {
      auto g = MeasureMove(topo, order[i]);
      if (!g.ok()) return g.error();
      std::cerr << "  move to " << order[i] << ": first " << g->first_ms << " ms, resumed "
                << g->resumed_ms << " ms, rtt " << g->rtt_ms << " ms, netlink " << g->move_ms
                << " ms, lost " << g->lost << "\n";
      per[i].push_back(*g);
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }
  return per;
}

int Main(int argc, char** argv) {
  CLI::App app{"MOBIKE handover gap: mipsec vpn/gw against strongSwan/strongSwan"};
  int runs = 5;
  std::string only;
  app.add_option("--runs", runs, "rounds of A->B->C->A per implementation")->capture_default_str();
  app.add_option("--only", only, "measure only one side")->check(CLI::IsMember({"mipsec", "strongswan"}));
  CLI11_PARSE(app, argc, argv);
  if (std::string why = MissingStrongswanParts(); !why.empty()) {
    std::cerr << "mobike_latency: " << why << "\n";
    return 1;
  }
  char tmpl[] = "/tmp/mipsec-mobike-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  GwSettings gs;
  gs.log_level = "info";
  VpnSettings vs;
  vs.log_level = "info";
  std::ofstream(dir + "/gw.toml") << GwToml(gs);
  std::ofstream(dir + "/vpn.toml") << VpnToml(vs);

  std::vector<std::vector<Gap>> ours(3), swan(3);
  if (only != "strongswan") {
    auto topo = Topology::Create(kInteropTopology);
    if (!topo.ok()) {
      std::cerr << topo.error().ToString() << "\n";
      return 1;
    }
    auto gw = SpawnInNetns((*topo)->NsFd("gw"), {MIPSEC_BINARY, "gw", "--config", dir + "/gw.toml",
                              "--control-socket", dir + "/gw.sock"});
    if (!gw.ok()) return 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto vpn = SpawnInNetns((*topo)->NsFd("mn"), {MIPSEC_BINARY, "vpn", "--config", dir + "/vpn.toml"});
    if (!vpn.ok()) return 1;
    if (!Ping(**topo, "mn", kInteropIntHost, 5).ok()) {
      std::this_thread::sleep_for(std::chrono::seconds(2));
      if (!Ping(**topo, "mn", kInteropIntHost, 3).ok()) {
        std::cerr << "mipsec: no tunnel\n" << (*vpn)->Stderr() << (*gw)->Stderr();
        return 1;
      }
    }
    std::cerr << "mipsec vpn -> mipsec gw\n";
    auto m = Moves(**topo, runs);
    (void)(*vpn)->Stop(Duration::Seconds(5));
    (void)(*gw)->Stop(Duration::Seconds(5));
    if (!m.ok()) {
      std::cerr << m.error().ToString() << "\n" << (*vpn)->Stderr();
      return 1;
    }
    ours = std::move(*m);
  }
  if (only != "mipsec") {
    auto topo = Topology::Create(kInteropTopology);
    if (!topo.ok()) return 1;
    auto gw = StrongswanPeer::Start(**topo, "gw", SwanGateway());
    if (!gw.ok()) {
      std::cerr << gw.error().ToString() << "\n";
      return 1;
    }
    auto mn = StrongswanPeer::Start(**topo, "mn", ClientConfig());
    if (!mn.ok() || !(*mn)->Initiate("home").ok()) {
      std::cerr << "strongSwan client did not connect\n";
      return 1;
    }
    bool up = false;
    for (int i = 0; i < 20 && !up; ++i) up = Ping(**topo, "mn", kInteropIntHost, 1).ok();
    if (!up) {
      std::cerr << "strongSwan: no tunnel\n" << (*mn)->LogTail(40);
      return 1;
    }
    std::cerr << "strongSwan -> strongSwan\n";
    auto m = Moves(**topo, runs);
    (*mn)->RequestStop();
    (*gw)->RequestStop();
    if (!m.ok()) {
      std::cerr << m.error().ToString() << "\n" << (*mn)->LogTail(40);
      return 1;
    }
    swan = std::move(*m);
  }
  const char* names[3] = {"A -> B", "B -> C (into NAPT)", "C -> A (out of NAPT)"};
  std::cout << "| move | tunnel RTT (ms) | first packet on the new path, ours (ms) | strongSwan "
               "(ms) | resumed both ways, ours (ms) | strongSwan (ms) |\n"
            << "|---|---|---|---|---|---|\n";
  for (int i = 0; i < 3; ++i) {
    std::cout << "| " << names[i] << " | " << Cell(ours[i], &Gap::rtt_ms) << " | "
              << Cell(ours[i], &Gap::first_ms) << " | " << Cell(swan[i], &Gap::first_ms) << " | "
              << Cell(ours[i], &Gap::resumed_ms) << " | " << Cell(swan[i], &Gap::resumed_ms)
              << " |\n";
  }
  std::cout << "\nmedian (min-max) of " << runs << " runs each\n";
  return 0;
}

}  // namespace
}  // namespace mipsec::testing

int main(int argc, char** argv) { return mipsec::testing::Main(argc, argv); }

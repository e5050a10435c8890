// esp_throughput: iperf3 TCP throughput through an ESP tunnel between
// network namespaces, side by side in one run on one topology (issue 5 item
// 10): our data path (esp_datapath_tool on platform/linux/esp_datapath.h)
// and strongSwan 5.9.8's kernel-libipsec (two charons, PSK), each with
// AES-GCM-16-128 and with AES-CBC-128 + HMAC-SHA-256-128, plus the plain
// routed path without a tunnel for reference. Needs root, iperf3 and, for
// the strongSwan rows, the strongSwan packages (else they are skipped).
//
//   sudo build/release/bench/esp_throughput [--runs 3] [--seconds 8]
//
// The topology is kInteropTopology (testing/strongswan/interop_net.h), the
// one the strongSwan figure in ../shared/interop was measured on:
//
//   mn a0 198.51.100.10 -- ext (router) -- 203.0.113.2 ext0 gw int0 192.0.2.1 -- int 192.0.2.10
//
// Each tunnel carries mn (inner 192.0.2.129, strongSwan's first pool
// address) to the intranet 192.0.2.0/25; iperf3 runs mn -> int 192.0.2.10,
// one TCP stream, so the data is encrypted by mn and decrypted by gw, which
// forwards it to int (and the ACKs go back the other way). TUN MTU 1400 at
// both ends in both implementations (kernel-libipsec's default). The
// reference row is iperf3 mn -> gw's outer address, routed through ext.
// Both implementations bind UDP 4500 in the same namespaces, so they run
// one after the other. Per row: the median receiver bit rate of `runs`
// iperf3 runs, every run, and the CPU the tunnel processes used (user +
// system seconds per second of test, from /proc/<pid>/stat; 2.0 = both
// cores). For our rows the tool's timing counters are printed too.
//   Pinning (--pin, default on): the two tunnel ends share this machine's
// two cores, so each end gets one, as if they were two machines: mn's TX
// and RX workers on CPU 0, gw's on CPU 1. strongSwan is measured both as it
// runs by default (unpinned) and with every charon thread pinned the same
// way; the ratio uses its better row.
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lab/netns/topology.h"
#include "testing/strongswan/interop_net.h"
#include "testing/strongswan/require_strongswan.h"
#include "lab/strongswan/strongswan_peer.h"
#include "testing/lab_names.h"

namespace mipsec::testing {
namespace {

struct Suite {
  const char* label;     // table label
  const char* ours;      // esp_datapath_tool --cipher
  const char* swan_esp;  // strongSwan esp_proposals
  const char* key;       // enc key (+ salt) hex, both directions derived below
  const char* integ;     // HMAC key hex or ""
};

constexpr Suite kSuites[] = {
    {"AES-GCM-16-128", "aes128gcm16", "aes128gcm16", "0123456789abcdef0123456789abcdef01234567",
     ""},
    {"AES-CBC-128 + HMAC-SHA-256-128", "aes128-sha256", "aes128-sha256",
     "00112233445566778899aabbccddeeff",
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
};

struct Options {
  int runs = 3;
  int seconds = 8;
  std::string tool;
  int batch = 64;
  bool skip_swan = false;
  bool skip_ours = false;
  // Each tunnel end on its own core (mn's on CPU 0, gw's on CPU 1), as if
  // they were two machines: our TX and RX workers, and every charon thread.
  bool pin = true;
  int tx_cpu_mn = -1, rx_cpu_mn = -1, tx_cpu_gw = -1, rx_cpu_gw = -1;
};

// sched_setaffinity for every thread of `pid` (charon starts its threads
// at start-up; threads made later inherit the mask).
void PinProcess(pid_t pid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    (void)sched_setaffinity(std::stoi(e.path().filename().string()), sizeof set, &set);
  }
}

struct Row {
  std::string what;
  std::vector<double> mbps;
  double cpu = 0;  // tunnel processes, core-seconds per second
  std::string note;

  double Median() const {
    if (mbps.empty()) return 0;
    std::vector<double> v = mbps;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
};

double CpuSeconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::size_t close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(s.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; in >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// One iperf3 run from mn; the receiver's bit rate in Mbit/s.
Result<double> Iperf(const Topology& topo, const std::string& dst, int seconds) {
  auto r = topo.Exec("mn", {"iperf3", "-c", dst, "-t", std::to_string(seconds), "-J"},
                     Duration::Seconds(seconds + 20));
  if (!r.ok()) return r.error();
  try {
    nlohmann::json j = nlohmann::json::parse(r->out);
    if (j.contains("error"))
      return Error(Errc::kSystem, "iperf3: " + j["error"].get<std::string>());
    return j["end"]["sum_received"]["bits_per_second"].get<double>() / 1e6;
  } catch (const std::exception& e) {
    return Error(Errc::kSystem, "iperf3 output: " + std::string(e.what()) + ": " + r->err);
  }
}

Status WaitForReady(Child* c) {
  for (int i = 0; i < 500; ++i) {
    if (c->Stdout().find("ready") != std::string::npos) return Ok{};
    if (!c->Running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Error(Errc::kTimeout, "esp_datapath_tool did not start: " + c->Stderr());
}

std::string Flip(const std::string& hex) {  // the other direction's key
  std::string out = hex;
  for (char& ch : out) {
    int v = std::stoi(std::string(1, ch), nullptr, 16) ^ 0x5;
    ch = "0123456789abcdef"[v];
  }
  return out;
}

std::vector<std::string> ToolArgs(const Options& o, const Suite& s, bool mn, int tx_cpu,
                                  int rx_cpu) {
  const std::string k1 = s.key, k2 = Flip(s.key);
  std::vector<std::string> a = {o.tool,  "--tun",   "esp0",
                                "--mtu", "1400",    "--cipher",
                                s.ours,  "--batch", std::to_string(o.batch)};
  if (mn) {
    a.insert(a.end(), {"--tun-address", "192.0.2.129/32", "--local", "198.51.100.10", "--remote",
                       "203.0.113.2", "--route", "192.0.2.0/25", "--out-spi", "0xc0000001",
                       "--in-spi", "0xc0000002", "--out-key", k1, "--in-key", k2});
  } else {
    a.insert(a.end(), {"--tun-address", "10.255.255.1/32", "--local", "203.0.113.2", "--remote",
                       "198.51.100.10", "--route", "192.0.2.128/25", "--allow-src",
                       "192.0.2.128/25", "--out-spi", "0xc0000002", "--in-spi", "0xc0000001",
                       "--out-key", k2, "--in-key", k1});
  }
  if (*s.integ) {
    const std::string i1 = s.integ, i2 = Flip(s.integ);
    a.insert(a.end(), {"--out-integ-key", mn ? i1 : i2, "--in-integ-key", mn ? i2 : i1});
  }
  if (tx_cpu >= 0) a.insert(a.end(), {"--tx-cpu", std::to_string(tx_cpu)});
  if (rx_cpu >= 0) a.insert(a.end(), {"--rx-cpu", std::to_string(rx_cpu)});
  return a;
}

Result<Row> RunOurs(Topology& topo, const Options& o, const Suite& s) {
  Row row;
  row.what = std::string("mipsec EspDataPath, ") + s.label;
  MIPSEC_ASSIGN_OR_RETURN(Child * mn,
                          topo.Spawn("mn", ToolArgs(o, s, true, o.tx_cpu_mn, o.rx_cpu_mn)));
  MIPSEC_ASSIGN_OR_RETURN(Child * gw,
                          topo.Spawn("gw", ToolArgs(o, s, false, o.tx_cpu_gw, o.rx_cpu_gw)));
  MIPSEC_TRY(WaitForReady(mn));
  MIPSEC_TRY(WaitForReady(gw));
  MIPSEC_TRY(Ping(topo, "mn", kInteropIntHost, 1));
  double cpu0 = CpuSeconds(mn->pid()) + CpuSeconds(gw->pid());
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < o.runs; ++i) {
    MIPSEC_ASSIGN_OR_RETURN(double mbps, Iperf(topo, kInteropIntHost, o.seconds));
    row.mbps.push_back(mbps);
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  row.cpu = (CpuSeconds(mn->pid()) + CpuSeconds(gw->pid()) - cpu0) / wall;
  mn->Stop(Duration::Seconds(2));
  gw->Stop(Duration::Seconds(2));
  auto last_line = [](const std::string& out) {
    std::size_t p = out.rfind("stats ");
    return p == std::string::npos ? std::string("(no stats)") : out.substr(p);
  };
  row.note = "mn: " + last_line(mn->Stdout()) + "    gw: " + last_line(gw->Stdout());
  return row;
}

Result<Row> RunSwan(Topology& topo, const Options& o, const Suite& s, bool pin) {
  Row row;
  row.what =
      std::string("strongSwan 5.9.8 kernel-libipsec") + (pin ? " (pinned)" : "") + ", " + s.label;
  const std::string psk = "esp-throughput-bench-psk";
  StrongswanConfig gw_cfg;
  gw_cfg.interfaces_use = "ext0";
  gw_cfg.log_levels = {{"default", 0}};
  SwanConnection& rw = gw_cfg.AddConnection("rw");
  rw.local_addrs = {kInteropGwExt};
  rw.local.id = "gw.example.org";
  rw.remote.id = "%any";
  rw.psk = psk;
  rw.pool_addrs = kInteropPool;
  rw.unique = "never";
  SwanChild& net = rw.AddChild("net");
  net.local_ts = {kInteropIntranet};
  net.esp_proposals = s.swan_esp;
  StrongswanConfig mn_cfg;
  mn_cfg.log_levels = {{"default", 0}};
  SwanConnection& home = mn_cfg.AddConnection("home");
  home.remote_addrs = {kInteropGwExt};
  home.local.id = "client@example.org";
  home.remote.id = "gw.example.org";
  home.psk = psk;
  home.request_virtual_ip = true;
  SwanChild& ch = home.AddChild("home");
  ch.remote_ts = {kInteropIntranet};
  ch.esp_proposals = s.swan_esp;

  MIPSEC_ASSIGN_OR_RETURN(std::unique_ptr<StrongswanPeer> gw,
                          StrongswanPeer::Start(topo, "gw", gw_cfg));
  MIPSEC_ASSIGN_OR_RETURN(std::unique_ptr<StrongswanPeer> mn,
                          StrongswanPeer::Start(topo, "mn", mn_cfg));
  if (pin) {
    PinProcess(mn->pid(), 0);
    PinProcess(gw->pid(), 1);
  }
  Status st = mn->Initiate("home");
  if (st.ok()) st = Ping(topo, "mn", kInteropIntHost, 1);
  if (st.ok()) {
    double cpu0 = CpuSeconds(mn->pid()) + CpuSeconds(gw->pid());
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < o.runs && st.ok(); ++i) {
      Result<double> mbps = Iperf(topo, kInteropIntHost, o.seconds);
      if (!mbps.ok()) {
        st = mbps.error();
        break;
      }
      row.mbps.push_back(*mbps);
    }
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    row.cpu = (CpuSeconds(mn->pid()) + CpuSeconds(gw->pid()) - cpu0) / wall;
    auto sa = mn->EstablishedSa("home");
    if (sa.ok() && !sa->children.empty()) {
      const ChildSaInfo& c = sa->children[0];
      row.note = "strongSwan CHILD_SA: " + c.encr_alg + "/" + std::to_string(c.encr_keysize) +
                 (c.integ_alg.empty() ? "" : " " + c.integ_alg) + (c.encap ? ", ESP-in-UDP" : "");
    }
  }
  (void)StopPeers({mn.get(), gw.get()});
  if (!st.ok()) return st.error();
  return row;
}

std::string Fmt(double v, int prec = 0) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

int Main(int argc, char** argv) {
  Options o;
  o.tool = MIPSEC_ESP_DATAPATH_TOOL;
  CLI::App app{"iperf3 through our ESP tunnel vs strongSwan kernel-libipsec", "esp_throughput"};
  app.add_option("--runs", o.runs, "iperf3 runs per row")->capture_default_str();
  app.add_option("--seconds", o.seconds, "seconds per iperf3 run")->capture_default_str();
  app.add_option("--tool", o.tool, "esp_datapath_tool binary")->capture_default_str();
  app.add_option("--batch", o.batch, "esp_datapath_tool --batch")->capture_default_str();
  app.add_option("--tx-cpu-mn", o.tx_cpu_mn, "pin mn's TX worker");
  app.add_option("--rx-cpu-mn", o.rx_cpu_mn, "pin mn's RX worker");
  app.add_option("--tx-cpu-gw", o.tx_cpu_gw, "pin gw's TX worker");
  app.add_option("--rx-cpu-gw", o.rx_cpu_gw, "pin gw's RX worker");
  app.add_option("--pin", o.pin,
                 "pin mn's tunnel end to CPU 0 and gw's to CPU 1 (both "
                 "implementations)")
      ->capture_default_str();
  app.add_flag("--skip-strongswan", o.skip_swan, "only the reference and our rows");
  app.add_flag("--skip-ours", o.skip_ours, "only the reference and strongSwan rows");
  CLI11_PARSE(app, argc, argv);
  if (o.pin) {
    if (o.tx_cpu_mn < 0) o.tx_cpu_mn = 0;
    if (o.rx_cpu_mn < 0) o.rx_cpu_mn = 0;
    if (o.tx_cpu_gw < 0) o.tx_cpu_gw = 1;
    if (o.rx_cpu_gw < 0) o.rx_cpu_gw = 1;
  }

  if (geteuid() != 0) {
    std::cerr << "esp_throughput: needs root (namespaces, TUN)\n";
    return 2;
  }
  if (!FindExecutable("iperf3").ok()) {
    std::cerr << "esp_throughput: iperf3 not found (Debian package iperf3)\n";
    return 2;
  }
  std::string swan_missing = MissingStrongswanParts();
  if (!swan_missing.empty() && !o.skip_swan) {
    std::cerr << "esp_throughput: strongSwan rows skipped: " << swan_missing << "\n";
    o.skip_swan = true;
  }
  auto topo = Topology::Create(kInteropTopology);
  if (!topo.ok()) {
    std::cerr << "esp_throughput: topology: " << topo.error().ToString() << "\n";
    return 1;
  }
  Topology& t = **topo;
  for (auto [ns, addr] : {std::pair{"int", kInteropIntHost}, std::pair{"gw", kInteropGwExt}}) {
    auto s = t.Spawn(ns, {"iperf3", "-s", "-B", addr});
    if (!s.ok()) {
      std::cerr << "esp_throughput: iperf3 -s: " << s.error().ToString() << "\n";
      return 1;
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  std::vector<Row> rows;
  auto report = [&](Result<Row> r, const std::string& what) {
    if (!r.ok()) {
      std::cerr << what << ": FAILED: " << r.error().ToString() << "\n";
      return;
    }
    std::cerr << r->what << ": median " << Fmt(r->Median()) << " Mbit/s\n";
    if (!r->note.empty()) std::cerr << "  " << r->note << "\n";
    rows.push_back(std::move(*r));
  };
  {
    Row ref;
    ref.what = "no tunnel: mn -> gw outer address, routed through ext";
    for (int i = 0; i < o.runs; ++i) {
      Result<double> mbps = Iperf(t, kInteropGwExt, o.seconds);
      if (!mbps.ok()) {
        report(mbps.error(), ref.what);
        break;
      }
      ref.mbps.push_back(*mbps);
    }
    if (ref.mbps.size() == static_cast<std::size_t>(o.runs)) report(ref, ref.what);
  }
  for (const Suite& s : kSuites) {
    if (!o.skip_ours) report(RunOurs(t, o, s), std::string("ours ") + s.label);
    if (!o.skip_swan) {
      report(RunSwan(t, o, s, false), std::string("strongSwan ") + s.label);
      if (o.pin) report(RunSwan(t, o, s, true), std::string("strongSwan pinned ") + s.label);
    }
  }

  std::printf("\n| path | cipher | Mbit/s (median) | runs (Mbit/s) | tunnel CPU (cores) |\n");
  std::printf("|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    std::string runs;
    for (double v : r.mbps) runs += (runs.empty() ? "" : ", ") + Fmt(v);
    std::string what = r.what, cipher = "-";
    if (std::size_t c = what.find(", "); c != std::string::npos && what.find("no tunnel") != 0) {
      cipher = what.substr(c + 2);
      what = what.substr(0, c);
    }
    std::printf("| %s | %s | %s | %s | %s |\n", what.c_str(), cipher.c_str(),
                Fmt(r.Median()).c_str(), runs.c_str(), r.cpu > 0 ? Fmt(r.cpu, 2).c_str() : "-");
  }
  for (const Suite& s : kSuites) {
    double ours = 0, swan = 0;
    for (const Row& r : rows) {
      if (r.what.find(s.label) == std::string::npos) continue;
      double& best = r.what.rfind("mipsec", 0) == 0 ? ours : swan;
      best = std::max(best, r.Median());
    }
    if (ours > 0 && swan > 0) {
      std::printf("\n%s: mipsec / strongSwan (its better row) = %.1fx", s.label, ours / swan);
    }
  }
  std::printf("\n");
  return 0;
}

}  // namespace
}  // namespace mipsec::testing

int main(int argc, char** argv) { return mipsec::testing::Main(argc, argv); }

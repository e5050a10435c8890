// MipsecProcess: the real `mipsec` binary running one daemon subcommand
// (`gw`, `vpn`) inside a test's network namespace, with its TOML config
// written to a private temporary directory; its stderr (the log) is
// captured. For the interop tests of scenarios/ikev2, with a background
// ping flood (StartPings) and its count of answers (Received), and small
// helpers the interop tests use (SecondsSince, InPool; Hex comes with
// interop_configs.h).
//
//   auto gw = MipsecProcess::Start(topo, "gw", {"gw"}, toml, "tia pool");
//
// Start() returns once the log contains `ready` (or an error when the
// process exits first or 10 s pass). The destructor stops the process
// (SIGTERM, SIGKILL after 5 s), prints its log's tail when the test failed,
// and removes the directory. MIPSEC_BINARY is the program's path (set by
// the test's CMake target).
#ifndef MIPSEC_SCENARIOS_IKEV2_MIPSEC_PROCESS_H_
#define MIPSEC_SCENARIOS_IKEV2_MIPSEC_PROCESS_H_

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "lab/netns/exec.h"
#include "lab/netns/topology.h"
#include "testing/lab_names.h"
#include "scenarios/ikev2/interop_configs.h"

namespace mipsec::testing {

class MipsecProcess {
 public:
  static Result<std::unique_ptr<MipsecProcess>> Start(const Topology& topo,
                                                      const std::string& ns,
                                                      std::vector<std::string> args,
                                                      const std::string& toml,
                                                      const std::string& ready) {
    std::unique_ptr<MipsecProcess> g(new MipsecProcess);
    g->what_ = "mipsec " + args[0];
    char tmpl[] = "/tmp/mipsec-test-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return Error(Errc::kSystem, "mkdtemp failed");
    g->dir_ = tmpl;
    const std::string config = g->dir_ + "/" + args[0] + ".toml";
    g->config_ = config;
    std::ofstream(config) << toml;
    std::vector<std::string> argv = {MIPSEC_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--config", config});
    if (args[0] == "gw" || args[0] == "ha" || args[0] == "fa") {
      // The control socket in the private directory, never /run/mipsec.
      argv.insert(argv.end(), {"--control-socket", g->dir_ + "/" + args[0] + ".sock"});
    }
    auto child = SpawnInNetns(topo.NsFd(ns), argv);
    if (!child.ok()) return child.error();
    g->child_ = std::move(*child);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (g->child_->Stderr().find(ready) != std::string::npos) return g;
      if (!g->child_->Running()) {
        return Error(Errc::kState, g->what_ + " exited: " + g->child_->Stderr());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Error(Errc::kTimeout, g->what_ + " did not start: " + g->child_->Stderr());
  }
  ~MipsecProcess() {
    if (child_) {
      ExecResult r = child_->Stop(Duration::Seconds(5));
      if (::testing::Test::HasFailure()) {
        std::cerr << "---- " << what_ << " stderr (" << r.Describe() << ") ----\n"
                  << Tail(child_->Stderr(), 80) << "\n";
      }
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  MipsecProcess(const MipsecProcess&) = delete;
  MipsecProcess& operator=(const MipsecProcess&) = delete;

  // SIGTERM, then how it ended.
  ExecResult Terminate() { return child_->Stop(Duration::Seconds(5)); }
  // Waits up to `timeout` for the process to exit by itself, then how it
  // ended (SIGTERM first if it is still running then).
  ExecResult WaitExit(Duration timeout) {
    const auto end = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(timeout.nanos() / 1'000'000);
    while (child_->Running() && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return child_->Stop(Duration::Seconds(5));
  }
  bool Running() { return child_->Running(); }
  // The config file it was started with (a test may rewrite it and SIGHUP).
  const std::string& ConfigPath() const { return config_; }
  std::string Log() const { return child_->Stderr(); }
  pid_t pid() const { return child_->pid(); }
  // SIGUSR1 and the counters line it logs.
  std::string Counters() {
    const std::size_t before = Count("counters: ");
    kill(child_->pid(), SIGUSR1);
    for (int i = 0; i < 100 && Count("counters: ") == before; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::string log = Log();
    auto pos = log.rfind("counters: ");
    if (pos == std::string::npos) return "";
    return log.substr(pos, log.find('\n', pos) - pos);
  }
  // Waits until `needle` occurs at least `n` times in the log.
  bool WaitForLog(const std::string& needle, int n, Duration timeout) const {
    const auto end = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(timeout.nanos() / 1'000'000);
    while (std::chrono::steady_clock::now() < end) {
      if (static_cast<int>(Count(needle)) >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  std::size_t Count(const std::string& needle) const {
    std::string log = Log();
    std::size_t n = 0;
    for (std::size_t p = log.find(needle); p != std::string::npos; p = log.find(needle, p + 1)) {
      ++n;
    }
    return n;
  }
  const std::string& dir() const { return dir_; }
  // The daemon's control socket (gw, ha, fa): `mipsec ctl --socket` this.
  std::string control_socket() const { return dir_ + "/" + what_.substr(7) + ".sock"; }

 private:
  MipsecProcess() = default;
  static std::string Tail(const std::string& s, int lines) {
    std::size_t p = s.size();
    for (int i = 0; i < lines && p > 0; ++i) {
      p = s.rfind('\n', p - 1);
      if (p == std::string::npos) return s;
    }
    return s.substr(p);
  }
  std::string what_;
  std::string dir_;
  std::string config_;
  std::unique_ptr<Child> child_;
};

// A ping flood in the background: `count` pings 10 ms apart (1 s wait).
inline std::unique_ptr<Child> StartPings(const Topology& topo, std::string_view ns,
                                         std::string_view dst, int count) {
  auto c = SpawnInNetns(topo.NsFd(ns), {"ping", "-q", "-n", "-c", std::to_string(count), "-i",
                                        "0.01", "-W", "1", std::string(dst)});
  return c.ok() ? std::move(*c) : nullptr;
}

// The "N received" of ping's summary (-1 when absent).
inline int Received(const ExecResult& r) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("([0-9]+) received"))) return -1;
  return std::stoi(m[1].str());
}

inline double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Whether `ip` is in the interop topology's TIA pool (192.0.2.128/25).
inline bool InPool(const std::string& ip) {
  return ip.rfind("192.0.2.", 0) == 0 && std::stoi(ip.substr(8)) >= 128;
}

}  // namespace mipsec::testing

#endif  // MIPSEC_SCENARIOS_IKEV2_MIPSEC_PROCESS_H_

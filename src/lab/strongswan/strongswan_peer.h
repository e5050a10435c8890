// StrongswanPeer: a real strongSwan 5.9.8 charon (charon-systemd, Debian
// packages) running as an IKEv2 peer inside a namespace of a test Topology.
//
//   MIPSEC_REQUIRE_STRONGSWAN();                  // require_strongswan.h
//   auto topo = Topology::Create(...);            // lab/netns
//   StrongswanConfig cfg;  ...                    // strongswan_config.h
//   auto gw = StrongswanPeer::Start(**topo, "gw", cfg);
//   ASSERT_TRUE(gw.ok()) << gw.error().ToString();
//   ASSERT_TRUE((*client)->Initiate("home").ok());
//   auto sas = (*gw)->ListSas();
//
// Start():
//  1. sweeps directories left by killed tests (swan_files.h), makes this
//     peer's run directory <tmp>/mipsec-swan-<pid>-<label>-XXXXXX and writes
//     strongswan.conf (standalone, kernel-libipsec before kernel-netlink,
//     filelog charon.log with time_add_ms, vici socket charon.vici, the
//     swanctl socket key) and swanctl/swanctl.conf with its credential
//     directories (local private keys copied into swanctl/private);
//  2. forks; the child joins the namespace (setns), calls setsid (charon's
//     load-tester signals its whole process group) and execs charon-systemd
//     with STRONGSWAN_CONF and a minimal environment; stdout/stderr go to
//     charon.out. pid() is charon's own pid (it does not fork);
//  3. waits (bounded by options.start_timeout) until `swanctl --stats`
//     answers on the socket; if charon exits first, the error carries
//     charon.out and the log tail;
//  4. `swanctl --load-all` (connections, pools, secrets, keys).
// Any failure stops charon and removes the directory before returning.
//
// Teardown, always: the destructor calls Stop() (SIGTERM, SIGKILL after
// options.stop_grace; charon needs ~2 s to exit on SIGTERM), dumps the log
// tail to stderr when the failure probe says the run failed (a test: the
// running gtest test has failed; SetStrongswanFailureProbe), and removes the
// run directory. If the test process is killed instead, the Topology's
// watchdog (lab/netns/reaper.h) kills every process in the namespace
// (charon included) and deletes the namespace, and the next Start() sweeps
// the directory. Destroy peers before their Topology (declare the topology
// first); a Topology destroyed first SIGKILLs charon, which Stop() then
// just reaps. The peer keeps no namespace fd after Start().
//
// Not thread-safe; one thread drives a peer. swanctl runs in the caller's
// namespace (the socket is a file path).
#ifndef MIPSEC_LAB_STRONGSWAN_STRONGSWAN_PEER_H_
#define MIPSEC_LAB_STRONGSWAN_STRONGSWAN_PEER_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "lab/netns/exec.h"
#include "lab/netns/topology.h"
#include "lab/strongswan/strongswan_config.h"
#include "lab/strongswan/swanctl_sas.h"

namespace mipsec::lab {

struct StrongswanPeerOptions {
  Duration start_timeout = Duration::Seconds(10);  // until vici answers
  Duration stop_grace = Duration::Seconds(5);      // SIGTERM -> SIGKILL
  Duration swanctl_timeout = Duration::Seconds(20);
  // Dump charon.out and the last log lines to stderr at destruction when
  // the failure probe (SetStrongswanFailureProbe) says the run failed.
  bool dump_log_on_failure = true;
  size_t dump_lines = 80;
  // Keep the run directory after Stop() (debugging; also when the
  // environment has MIPSEC_KEEP_STRONGSWAN=1). It is still swept once this
  // process has exited.
  bool keep_files = false;
};

class StrongswanPeer {
 public:
  // `ns`: a namespace of `topo` (its short name). `label` names the run
  // directory and log dumps; empty: `ns`.
  static Result<std::unique_ptr<StrongswanPeer>> Start(const Topology& topo, std::string_view ns,
                                                       const StrongswanConfig& config,
                                                       const StrongswanPeerOptions& options = {},
                                                       std::string_view label = "");
  ~StrongswanPeer();
  StrongswanPeer(const StrongswanPeer&) = delete;
  StrongswanPeer& operator=(const StrongswanPeer&) = delete;

  const std::string& label() const { return label_; }
  const std::string& netns() const { return netns_; }  // real namespace name
  const SwanPaths& paths() const { return paths_; }
  const std::string& run_dir() const { return paths_.run_dir; }
  const std::string& log_path() const { return paths_.log; }
  std::string charon_out_path() const { return paths_.run_dir + "/charon.out"; }
  const StrongswanConfig& config() const { return config_; }
  pid_t pid() const { return pid_; }
  // False once charon has exited (it is then reaped).
  bool Running();

  // --- swanctl ---
  // Runs `swanctl <command> --uri <socket> <args...>` (swanctl wants the
  // command first). An Error only if it could not run at all.
  Result<ExecResult> Swanctl(std::string_view command, const std::vector<std::string>& args = {},
                             std::optional<Duration> timeout = std::nullopt);
  // Swanctl that must exit 0; the error carries its output.
  Status SwanctlOk(std::string_view command, const std::vector<std::string>& args = {},
                   std::optional<Duration> timeout = std::nullopt);

  // Rewrites swanctl.conf from `config` and loads it again (--load-all; no
  // longer configured connections are unloaded). Established SAs stay.
  Status Reload(const StrongswanConfig& config);
  // Initiates CHILD_SA `child` (and its IKE_SA when needed) and waits for
  // the result, at most `timeout_s` seconds.
  Status Initiate(std::string_view child, int timeout_s = 15);
  // IKE_SA only (no children are created beyond the config's start ones).
  Status InitiateIke(std::string_view conn, int timeout_s = 15);
  Status TerminateChild(std::string_view child, int timeout_s = 10);
  Status TerminateIke(std::string_view conn, int timeout_s = 10);
  // Rekeys now (CREATE_CHILD_SA); swanctl returns once the request is
  // queued, so wait on ChildRekeys()/IkeRekeys() for completion.
  Status RekeyChild(std::string_view child);
  Status RekeyIke(std::string_view conn);

  // All IKE_SAs (optionally only those of connection `conn`).
  Result<std::vector<IkeSaInfo>> ListSas(std::string_view conn = "");
  // The first IKE_SA of `conn` in state ESTABLISHED; kNotFound if none.
  Result<IkeSaInfo> EstablishedSa(std::string_view conn);
  // Polls ListSas() every 50 ms until `pred` holds for an IKE_SA of `conn`
  // (returned), or kTimeout with the last listing.
  Result<IkeSaInfo> WaitForSa(std::string_view conn,
                              const std::function<bool(const IkeSaInfo&)>& pred,
                              Duration timeout);

  // --- the charon log (charon.log, millisecond time stamps) ---
  std::string Log() const;
  std::string LogTail(size_t lines) const;
  // Lines of the log matching `re` (std::regex_search).
  int CountLog(const std::regex& re) const;
  // CHILD_SAs of config `child` installed by a rekey (both roles log
  // "outbound CHILD_SA <child>{N} established" for them, not for the first).
  int ChildRekeys(std::string_view child) const;
  // Completed IKE_SA rekeys of connection `conn` ("IKE_SA <conn>[N] rekeyed").
  int IkeRekeys(std::string_view conn) const;
  // Waits until CountLog(re) >= n; the count, or kTimeout.
  Result<int> WaitForLog(const std::regex& re, int n, Duration timeout) const;

  // --- stopping ---
  // Sends SIGTERM (if running) without waiting, so several peers stop in
  // parallel; Stop() then waits.
  void RequestStop();
  // SIGTERM, SIGKILL after `grace` (default options.stop_grace), reaps.
  // Files stay until destruction. Idempotent. An error if charon had to be
  // killed or had exited by itself with a failure before.
  Status Stop(std::optional<Duration> grace = std::nullopt);

 private:
  StrongswanPeer() = default;
  Status WriteFiles();
  Status Spawn(int netns_fd);
  Status WaitForVici();
  Status LoadAll();
  std::string Diagnostics() const;
  bool Reap(bool block);

  std::string label_;
  std::string netns_;
  StrongswanConfig config_;
  StrongswanPeerOptions options_;
  SwanPaths paths_;
  std::string charon_;
  std::string swanctl_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::optional<int> wait_status_;
  bool term_sent_ = false;
  bool killed_ = false;
};

// RequestStop() on each, then Stop() on each: charon takes ~2 s to exit, so
// this halves a two-peer teardown. The first error, if any.
Status StopPeers(const std::vector<StrongswanPeer*>& peers);

// Whether whoever runs the peers has failed, asked by each peer's destructor
// (StrongswanPeerOptions::dump_log_on_failure). Tests install gtest's
// HasFailure() (testing/strongswan/require_strongswan.cc), since only a test
// knows; without a probe nothing is dumped. Process-wide.
using StrongswanFailureProbe = bool (*)();
void SetStrongswanFailureProbe(StrongswanFailureProbe probe);

// Path of charon-systemd, or kNotFound naming the Debian package.
Result<std::string> FindCharon();

}  // namespace mipsec::lab

#endif  // MIPSEC_LAB_STRONGSWAN_STRONGSWAN_PEER_H_

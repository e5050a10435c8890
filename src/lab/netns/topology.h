// Topology: real network namespaces built from a TopologySpec, torn down for
// sure.
//
//   (a test would first call MIPSEC_REQUIRE_NETNS(), testing/netns/require_root.h)
//   auto topo = Topology::Create(R"(
//     ns a
//     ns b
//     link a:eth0 10.1.0.1/24  b:eth0 10.1.0.2/24
//   )");
//   ASSERT_TRUE(topo.ok()) << topo.error().ToString();
//   auto ping = (*topo)->Exec("a", {"ping", "-c1", "-W2", "10.1.0.2"});
//
// What Create() does, in order, stopping at the first error (after which
// everything made so far is deleted again):
//  1. checks the spec, that we are root, and that `ip` (Debian package
//     iproute2) and, when the spec has nat/nft lines, `nft` (nftables) exist;
//  2. starts a NetnsReaper (reaper.h), so the namespaces go away even if this
//     process is killed;
//  3. per `ns`: registers its name with the reaper, `ip netns add`, then
//     inside it: net.ipv6.conf.{all,default}.disable_ipv6=1 (no IPv6 chatter),
//     net.ipv4.conf.{all,default,lo}.rp_filter=0, net.ipv4.ip_forward=1 for
//     routers (else 0), `lo` up;
//  4. per `link`: the veth pair is created from inside the first end's
//     namespace with its peer placed straight into the other one, so no
//     interface ever exists in the host namespace; addresses, mtu, up;
//  5. `addr` lines, then `route` lines, in order;
//  6. per namespace with `nat`/`nft` lines: one `nft -f -` transaction; nat
//     lines become table `ip mipsec_nat`, chain `postrouting` (nat hook,
//     priority srcnat) with `oifname "IF" masquerade [flags]`.
//
// Names are unique per run: the real namespace name is
//   mipsec-<pid>-<salt>-<n>-<name>      e.g. mipsec-4711-9f3a-2-mn
// with <salt> random per process and <n> counting topologies in the process,
// so parallel ctest processes and several topologies in one test never
// collide, and a namespace's owner is visible in `ip netns list`.
//
// Teardown: Destroy() (also run by the destructor) stops spawned children,
// kills every process whose network namespace is one of ours, and runs
// `ip netns del` for each. If the process dies first (crash, SIGKILL, ctest
// TIMEOUT), the reaper does the same.
//
// Threads: everything except Destroy() may be called from several threads at
// once; Destroy() must not overlap other calls. Unknown namespace names passed
// to NsName()/NsFd() are bugs (MIPSEC_BUG); the other calls return kNotFound.
#ifndef MIPSEC_LAB_NETNS_TOPOLOGY_H_
#define MIPSEC_LAB_NETNS_TOPOLOGY_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "lab/netns/exec.h"
#include "lab/netns/netns_guard.h"
#include "lab/netns/reaper.h"
#include "lab/netns/topology_spec.h"

namespace mipsec::lab {

class Topology {
 public:
  // Parses `description` (format in topology_spec.h) and builds it.
  static Result<std::unique_ptr<Topology>> Create(std::string_view description);
  static Result<std::unique_ptr<Topology>> Create(const TopologySpec& spec);

  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  // Tears everything down now (idempotent). Errors list what could not be
  // deleted; the reaper then retries when this process exits.
  Status Destroy();

  const TopologySpec& spec() const { return spec_; }
  // "mipsec-4711-9f3a-2-": every namespace name of this topology starts so.
  const std::string& prefix() const { return prefix_; }
  // Real (`ip netns`) name of namespace `name`, e.g. for `ip -n`.
  std::string NsName(std::string_view name) const;
  // An O_RDONLY fd of /run/netns/<real name>, valid until Destroy(); for
  // setns() or NetnsGuard::Enter().
  int NsFd(std::string_view name) const;
  // All real names, in declaration order.
  std::vector<std::string> NsNames() const;
  // "mn = mipsec-4711-9f3a-2-mn" lines, for test logs.
  std::string Describe() const;
  pid_t reaper_pid() const { return reaper_ ? reaper_->watchdog_pid() : 0; }

  // Runs a command in namespace `ns` and waits for it (see exec.h).
  Result<ExecResult> Exec(std::string_view ns, const std::vector<std::string>& argv,
                          const ExecOptions& options = {}) const;
  Result<ExecResult> Exec(std::string_view ns, const std::vector<std::string>& argv,
                          Duration timeout) const;
  // Exec that must succeed: otherwise an Error with the command, how it ended
  // and its stderr.
  Status Run(std::string_view ns, const std::vector<std::string>& argv,
             Duration timeout = Duration::Seconds(10)) const;
  // Starts a background process in `ns`. The Topology owns it: the pointer
  // is valid until Destroy(), which kills it.
  Result<Child*> Spawn(std::string_view ns, const std::vector<std::string>& argv);

  // Runs `fn` on the calling thread inside `ns` (see netns_guard.h).
  Status RunIn(std::string_view ns, const std::function<void()>& fn) const;
  Result<NetnsGuard> Enter(std::string_view ns) const;

 private:
  struct Ns {
    std::string name;  // as in the spec
    std::string real;  // prefix + name
    int fd = -1;
    bool created = false;
  };

  explicit Topology(TopologySpec spec);
  Status Build();
  Status ConfigureNamespace(const Ns& ns, bool router);
  Status CreateLink(const LinkSpec& link);
  Status ApplyNftables(const Ns& ns);
  const Ns* Find(std::string_view name) const;
  Result<const Ns*> Lookup(std::string_view name) const;

  TopologySpec spec_;
  std::string prefix_;
  std::string ip_;
  std::string nft_;
  std::vector<Ns> ns_;
  std::unique_ptr<NetnsReaper> reaper_;
  std::mutex children_mu_;
  std::vector<std::unique_ptr<Child>> children_;
  bool destroyed_ = false;
};

// Kills (SIGKILL) every process other than this one whose network namespace
// is the one behind `netns_fd`, in rounds until none is left (at most 5).
// Returns how many were signalled.
Result<int> KillProcessesInNetns(int netns_fd);

// Real names of all namespaces `ip netns` knows (the entries of /run/netns).
std::vector<std::string> ListNetns();

}  // namespace mipsec::lab

#endif  // MIPSEC_LAB_NETNS_TOPOLOGY_H_

// Running programs inside a network namespace, for the namespace lab
// (src/lab: the namespace tests and `mipsec demo --netns`).
//
// ExecInNetns() runs a command to completion with a timeout and captures its
// output; SpawnInNetns() starts a long-running one. Both fork, switch the
// child into the namespace with setns(CLONE_NEWNET) and exec the program
// directly (no shell, no `ip netns exec`). The child gets its own process
// group, so a timeout or Stop() also kills what it started.
//
// Only the network namespace changes: the child keeps the caller's mount
// namespace, so /sys/class/net shows the host's interfaces. Use netlink
// tools (`ip`) to look at the namespace's interfaces.
//
// Lab code (src/lab, not a protocol core): it reads the monotonic clock and
// makes syscalls freely.
#ifndef MIPSEC_LAB_NETNS_EXEC_H_
#define MIPSEC_LAB_NETNS_EXEC_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"

namespace mipsec::lab {

struct ExecOptions {
  // After this the whole process group is killed (SIGKILL) and the result
  // says timed_out.
  Duration timeout = Duration::Seconds(10);
  // Written to the child's stdin, which is then closed. Empty: /dev/null.
  std::string stdin_data;
};

struct ExecResult {
  int exit_code = -1;   // exit status when the process exited, else -1
  int term_signal = 0;  // the signal that ended it, else 0
  bool timed_out = false;
  std::string out;  // everything it wrote to stdout
  std::string err;  // ... and to stderr

  bool Success() const { return !timed_out && term_signal == 0 && exit_code == 0; }
  // "exit 0", "exit 2", "signal 9", "timed out"
  std::string Describe() const;
};

// Absolute path of `name` (a name without '/' is looked up in $PATH and then
// in /usr/sbin:/usr/bin:/sbin:/bin, since a non-root PATH often lacks sbin).
// kNotFound when there is no executable file of that name.
Result<std::string> FindExecutable(std::string_view name);

// Absolute path of the running program (/proc/self/exe), e.g. to start
// `mipsec` subcommands of this very binary in a namespace.
Result<std::string> SelfExecutable();

// Runs argv (argv[0] looked up as by FindExecutable) in the network
// namespace `netns_fd` (an fd of /run/netns/NAME; -1: the calling thread's
// namespace) and waits for it. A command that runs and fails is a successful
// Result with a non-zero exit_code; an Error means it could not run at all
// (not found, fork/setns/exec failed).
Result<ExecResult> ExecInNetns(int netns_fd, const std::vector<std::string>& argv,
                               const ExecOptions& options = {});

// "ip link set lo up" style, for error messages.
std::string JoinArgv(const std::vector<std::string>& argv);

// A background process. Its stdout and stderr go to anonymous memory files
// that can be read at any time. Destroying a Child kills its process group
// (SIGKILL) and reaps it. Not thread-safe.
class Child {
 public:
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  const std::vector<std::string>& argv() const { return argv_; }
  // False once the process has exited (it is then reaped).
  bool Running();
  // Waits up to `timeout` for the process to exit by itself; kTimeout if it
  // is still running then (it keeps running).
  Result<ExecResult> Wait(Duration timeout);
  // SIGTERM to the process group, SIGKILL after `grace`, then the result.
  ExecResult Stop(Duration grace = Duration::Millis(500));
  // Output written so far.
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  friend Result<std::unique_ptr<Child>> SpawnInNetns(int, const std::vector<std::string>&);
  Child() = default;
  bool Reap(int options);  // true once reaped
  ExecResult Collect() const;

  pid_t pid_ = -1;
  int pidfd_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::vector<std::string> argv_;
  std::optional<int> wait_status_;
};

// Starts argv in the namespace `netns_fd` (-1: the caller's), stdin from
// /dev/null. Errors as for ExecInNetns.
Result<std::unique_ptr<Child>> SpawnInNetns(int netns_fd, const std::vector<std::string>& argv);

}  // namespace mipsec::lab

#endif  // MIPSEC_LAB_NETNS_EXEC_H_

// NetnsReaper: deletes a test's namespaces after the test process dies.
//
// A destructor does not run when ctest's TIMEOUT kills a test, on SIGKILL or
// on a crash. So at Start() the harness forks a small watchdog, detached from
// the test (double fork + setsid, so it is not in the test's process tree or
// session and a kill of either does not reach it). It reads namespace names
// from one end of a socket pair whose other end only the test process holds
// (close-on-exec, so commands the test runs do not inherit it). When that end
// closes — the process exited or was killed — the watchdog reads EOF and, for
// every registered namespace that still exists, kills the processes inside
// (three rounds, for processes that fork) and runs `ip netns del`.
//
// A normal teardown calls Disarm() after deleting everything itself, and the
// watchdog exits without doing anything. The watchdog is /bin/sh running a
// fixed script (see reaper.cc): the fork child only calls async-signal-safe
// functions before exec, which keeps it safe in a multithreaded test.
#ifndef MIPSEC_LAB_NETNS_REAPER_H_
#define MIPSEC_LAB_NETNS_REAPER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/time.h"

namespace mipsec::lab {

class NetnsReaper {
 public:
  // Starts the watchdog and waits up to `ready_timeout` until it runs.
  // `ip_path` is the absolute path of `ip` it will use.
  static Result<std::unique_ptr<NetnsReaper>> Start(const std::string& ip_path,
                                                    Duration ready_timeout = Duration::Seconds(5));

  // Closing without Disarm() makes the watchdog clean up now.
  ~NetnsReaper();
  NetnsReaper(const NetnsReaper&) = delete;
  NetnsReaper& operator=(const NetnsReaper&) = delete;

  // Adds a namespace (a name under /run/netns) to the watchdog's list. Call
  // it before creating the namespace. Names must be valid (see
  // IsSafeNetnsName).
  Status Register(std::string_view netns_name);

  // Everything was cleaned up: the watchdog exits without acting.
  void Disarm();

  pid_t watchdog_pid() const { return pid_; }

 private:
  NetnsReaper(int fd, pid_t pid) : fd_(fd), pid_(pid) {}
  int fd_ = -1;
  pid_t pid_ = 0;
};

// Only [A-Za-z0-9_.-], 1..200 characters, not "." or "..": safe as a file
// name and as a word in the watchdog's shell script.
bool IsSafeNetnsName(std::string_view name);

}  // namespace mipsec::lab

#endif  // MIPSEC_LAB_NETNS_REAPER_H_

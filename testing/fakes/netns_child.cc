#include "testing/fakes/netns_child.h"

#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

namespace mipsec::testing {
namespace {

// SIOCSIFFLAGS on "lo": the one set-up step every namespace needs, done
// without the platform layer under test.
bool BringUpLoopback() {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  if (ok) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    ok = ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  }
  close(s);
  return ok;
}

}  // namespace

::testing::AssertionResult RunInNewNetns(const std::function<void()>& body, Duration timeout) {
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  if (pid == 0) {
    int code = 0;
    if (unshare(CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", std::strerror(errno));
      code = 2;
    } else if (!BringUpLoopback()) {
      std::fprintf(stderr, "bringing up lo in the new namespace: %s\n", std::strerror(errno));
      code = 3;
    } else {
      body();
      code = ::testing::Test::HasFailure() ? 1 : 0;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(code);  // no atexit handlers, no return into the test framework
  }

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout.nanos());
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      return ::testing::AssertionFailure() << "waitpid: " << std::strerror(errno);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return ::testing::AssertionFailure()
             << "the namespace child did not finish within " << timeout.ToString();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (WIFSIGNALED(status)) {
    return ::testing::AssertionFailure()
           << "the namespace child died of signal " << WTERMSIG(status) << " ("
           << strsignal(WTERMSIG(status)) << ")";
  }
  int code = WEXITSTATUS(status);
  switch (code) {
    case 0:
      return ::testing::AssertionSuccess();
    case 1:
      return ::testing::AssertionFailure()
             << "the namespace child failed: assertions or a sanitizer report (above)";
    case 2:
      return ::testing::AssertionFailure() << "could not create a network namespace";
    case 3:
      return ::testing::AssertionFailure() << "could not bring up lo in the new namespace";
    default:
      return ::testing::AssertionFailure() << "the namespace child exited with " << code;
  }
}

}  // namespace mipsec::testing

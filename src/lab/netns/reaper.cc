#include "lab/netns/reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

namespace mipsec::lab {
namespace {

// The watchdog. stdin is its end of the socket pair. "+NAME" lines register
// namespaces; "done" means the test cleaned up by itself; EOF without "done"
// means the test process is gone. $1 is the path of `ip`.
constexpr const char kScript[] = R"sh(
trap '' HUP INT PIPE
ip=$1
echo "ready $$"
exec >/dev/null 2>&1
names=
while IFS= read -r line; do
  case $line in
    done) exit 0 ;;
    +*) names="$names ${line#+}" ;;
  esac
done
for round in 1 2 3; do
  for n in $names; do
    [ -e "/run/netns/$n" ] || continue
    for p in $("$ip" netns pids "$n"); do kill -9 "$p"; done
  done
done
for n in $names; do
  [ -e "/run/netns/$n" ] && "$ip" netns del "$n"
done
exit 0
)sh";

Error SysError(std::string_view what, int err) {
  return Error(Errc::kSystem, std::string(what) + ": " + std::strerror(err));
}

Status SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return SysError("netns reaper is gone (send)", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok{};
}

// In the forked children: async-signal-safe calls only.
[[noreturn]] void RunWatchdog(int sock, int devnull, char* const* argv, char* const* envp) {
  ::setsid();
  pid_t pid = ::fork();
  if (pid != 0) ::_exit(pid < 0 ? 1 : 0);  // the middle process exits at once
  ::dup2(sock, 0);
  ::dup2(sock, 1);
  ::dup2(devnull, 2);
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  if (::chdir("/") != 0) ::_exit(126);
  ::execve("/bin/sh", argv, envp);
  ::_exit(127);
}

}  // namespace

bool IsSafeNetnsName(std::string_view name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<std::unique_ptr<NetnsReaper>> NetnsReaper::Start(const std::string& ip_path,
                                                        Duration ready_timeout) {
  std::string script(kScript);
  std::string name = "mipsec-netns-reaper";
  std::string ip = ip_path;
  std::string sh = "/bin/sh";
  std::string dash_c = "-c";
  char* argv[] = {sh.data(), dash_c.data(), script.data(), name.data(), ip.data(), nullptr};
  std::string env_path = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  std::string env_lc = "LC_ALL=C";
  char* envp[] = {env_path.data(), env_lc.data(), nullptr};

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return SysError("socketpair", errno);
  }
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) {
    int e = errno;
    ::close(sv[0]);
    ::close(sv[1]);
    return SysError("open /dev/null", e);
  }
  pid_t mid = ::fork();
  if (mid == 0) RunWatchdog(sv[1], devnull, argv, envp);
  int fork_errno = errno;
  ::close(sv[1]);
  ::close(devnull);
  if (mid < 0) {
    ::close(sv[0]);
    return SysError("fork", fork_errno);
  }
  int wst = 0;
  while (::waitpid(mid, &wst, 0) < 0 && errno == EINTR) {
  }
  // From here the fd is owned by the reaper object, whose destructor closes it.
  std::unique_ptr<NetnsReaper> reaper(new NetnsReaper(sv[0], 0));
  if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0) {
    return Error(Errc::kSystem, "netns reaper: second fork failed");
  }

  // Wait for "ready PID\n": the watchdog runs and holds its end.
  std::string line;
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::nanoseconds(ready_timeout.nanos());
  while (line.find('\n') == std::string::npos) {
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Error(Errc::kTimeout, "netns reaper did not start within " + ready_timeout.ToString());
    }
    pollfd p{sv[0], POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno != EINTR) return SysError("poll", errno);
    if (rc <= 0) continue;
    char buf[64];
    ssize_t n = ::read(sv[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error(Errc::kSystem, "netns reaper exited at start (is /bin/sh there?)");
    line.append(buf, static_cast<size_t>(n));
  }
  if (line.rfind("ready ", 0) != 0) {
    return Error(Errc::kSystem, "netns reaper said '" + line + "' instead of ready");
  }
  reaper->pid_ = static_cast<pid_t>(std::atoi(line.c_str() + 6));
  return reaper;
}

NetnsReaper::~NetnsReaper() {
  if (fd_ >= 0) ::close(fd_);
}

Status NetnsReaper::Register(std::string_view netns_name) {
  if (!IsSafeNetnsName(netns_name)) {
    return Error(Errc::kInvalidArgument, "unsafe namespace name '" + std::string(netns_name) + "'");
  }
  if (fd_ < 0) return Error(Errc::kState, "netns reaper already disarmed");
  return SendAll(fd_, "+" + std::string(netns_name) + "\n");
}

void NetnsReaper::Disarm() {
  if (fd_ < 0) return;
  (void)SendAll(fd_, "done\n");
  ::close(fd_);
  fd_ = -1;
}

}  // namespace mipsec::lab

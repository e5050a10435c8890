#include "lab/netns/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace mipsec::lab {
namespace {

Error SysError(std::string_view what, int err) {
  return Error(Errc::kSystem, std::string(what) + ": " + std::strerror(err));
}

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// What the child reports through the status pipe when it cannot exec.
struct ChildFailure {
  int stage;  // 1 setns, 2 exec
  int err;
};

// The child side between fork and exec: async-signal-safe calls only.
[[noreturn]] void ChildExec(int netns_fd, const char* path, char* const* argv, int in_fd,
                            int out_fd, int err_fd, int status_fd) {
  auto fail = [status_fd](int stage) {
    ChildFailure f{stage, errno};
    ssize_t n = ::write(status_fd, &f, sizeof f);
    (void)n;
    ::_exit(127);
  };
  ::setpgid(0, 0);
  if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) fail(1);
  const int fds[3] = {in_fd, out_fd, err_fd};
  for (int target = 0; target < 3; ++target) {
    if (fds[target] == target) {
      ::fcntl(target, F_SETFD, 0);
    } else {
      ::dup2(fds[target], target);
    }
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  ::execv(path, argv);
  fail(2);
  ::_exit(127);  // not reached
}

// Forks and execs; returns once the child has exec'd (or failed to).
Result<pid_t> ForkExec(int netns_fd, const std::vector<std::string>& argv, int in_fd, int out_fd,
                       int err_fd) {
  if (argv.empty()) return Error(Errc::kInvalidArgument, "empty command");
  MIPSEC_ASSIGN_OR_RETURN(std::string path, FindExecutable(argv[0]));
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  int status[2];
  if (::pipe2(status, O_CLOEXEC) != 0) return SysError("pipe2", errno);
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(status[0]);
    ::close(status[1]);
    return SysError("fork", e);
  }
  if (pid == 0) {
    ::close(status[0]);
    ChildExec(netns_fd, path.c_str(), cargv.data(), in_fd, out_fd, err_fd, status[1]);
  }
  ::close(status[1]);
  ::setpgid(pid, pid);  // also here, so the group exists whichever runs first
  ChildFailure f{};
  ssize_t n;
  do {
    n = ::read(status[0], &f, sizeof f);
  } while (n < 0 && errno == EINTR);
  ::close(status[0]);
  if (n == 0) return pid;  // EOF: exec closed the pipe
  int wst;
  while (::waitpid(pid, &wst, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof f)) return Error(Errc::kSystem, "child status pipe broke");
  return SysError(std::string(f.stage == 1 ? "setns for " : "exec ") + JoinArgv(argv), f.err);
}

void FillStatus(int wst, ExecResult& r) {
  if (wst == -1) return;  // could not be reaped: unknown
  if (WIFEXITED(wst)) r.exit_code = WEXITSTATUS(wst);
  if (WIFSIGNALED(wst)) r.term_signal = WTERMSIG(wst);
}

// Reads what is available now; false at EOF or on a hard error.
bool ReadSome(int fd, std::string& into) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

std::string ReadMemfd(int fd) {
  std::string out;
  if (fd < 0) return out;
  char buf[4096];
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

// Milliseconds left until `deadline`, rounded up, for poll().
int MillisLeft(std::chrono::steady_clock::time_point deadline) {
  auto left = deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<std::int64_t>(ms, 60'000));
}

std::chrono::steady_clock::time_point DeadlineAfter(Duration d) {
  auto now = std::chrono::steady_clock::now();
  if (d.IsInfinite() || d > Duration::Seconds(365 * 24 * 3600)) {
    return now + std::chrono::hours(24 * 365);
  }
  return now + std::chrono::nanoseconds(std::max<std::int64_t>(d.nanos(), 0));
}

// Waits until the process behind `pidfd` exits or `timeout` passes.
bool WaitPidfd(int pidfd, Duration timeout) {
  auto deadline = DeadlineAfter(timeout);
  for (;;) {
    pollfd p{pidfd, POLLIN, 0};
    int ms = MillisLeft(deadline);
    int rc = ::poll(&p, 1, ms);
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
    if (rc == 0 && std::chrono::steady_clock::now() >= deadline) return false;
  }
}

}  // namespace

std::string ExecResult::Describe() const {
  if (timed_out) return "timed out";
  if (term_signal != 0) return "signal " + std::to_string(term_signal);
  return "exit " + std::to_string(exit_code);
}

std::string JoinArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

Result<std::string> SelfExecutable() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) {
    return Error(Errc::kSystem, std::string("readlink /proc/self/exe: ") + std::strerror(errno));
  }
  return std::string(buf, static_cast<std::size_t>(n));
}

Result<std::string> FindExecutable(std::string_view name) {
  if (name.empty()) return Error(Errc::kInvalidArgument, "empty program name");
  std::string n(name);
  if (n.find('/') != std::string::npos) {
    if (IsExecutableFile(n)) return n;
    return Error(Errc::kNotFound, "not an executable file: " + n);
  }
  std::string dirs;
  if (const char* path = std::getenv("PATH")) dirs = path;
  dirs += ":/usr/sbin:/usr/bin:/sbin:/bin";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t colon = dirs.find(':', pos);
    if (colon == std::string::npos) colon = dirs.size();
    std::string dir = dirs.substr(pos, colon - pos);
    pos = colon + 1;
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + n;
    if (IsExecutableFile(candidate)) return candidate;
  }
  return Error(Errc::kNotFound, "command not found: " + n);
}

Result<ExecResult> ExecInNetns(int netns_fd, const std::vector<std::string>& argv,
                               const ExecOptions& options) {
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  int in[2] = {-1, -1};  // socketpair, so a child that stops reading gives EPIPE, not SIGPIPE
  auto close_all = [&] {
    for (int* p : {out, err, in}) {
      CloseFd(p[0]);
      CloseFd(p[1]);
    }
  };
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    int e = errno;
    close_all();
    return SysError("pipe2", e);
  }
  if (options.stdin_data.empty()) {
    in[1] = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  } else if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) {
    in[0] = in[1] = -1;
  }
  if (in[1] < 0) {
    int e = errno;
    close_all();
    return SysError("stdin for child", e);
  }
  // in[1] is the child's stdin, in[0] our writing end (if any).
  auto pid_or = ForkExec(netns_fd, argv, in[1], out[1], err[1]);
  CloseFd(out[1]);
  CloseFd(err[1]);
  CloseFd(in[1]);
  if (!pid_or.ok()) {
    close_all();
    return std::move(pid_or).error();
  }
  pid_t pid = *pid_or;
  int pidfd = PidfdOpen(pid);
  if (pidfd < 0) {
    int e = errno;
    ::kill(-pid, SIGKILL);
    int wst;
    ::waitpid(pid, &wst, 0);
    close_all();
    return SysError("pidfd_open", e);
  }
  for (int fd : {out[0], err[0], in[0]}) {
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }

  ExecResult r;
  size_t written = 0;
  auto deadline = DeadlineAfter(options.timeout);
  bool exited = false;
  while (!exited) {
    pollfd fds[4];
    int nfds = 0;
    auto add = [&](int fd, short events) {
      if (fd >= 0) fds[nfds++] = pollfd{fd, events, 0};
    };
    add(pidfd, POLLIN);
    add(out[0], POLLIN);
    add(err[0], POLLIN);
    add(in[0], POLLOUT);
    int ms = MillisLeft(deadline);
    if (ms == 0) {
      r.timed_out = true;
      break;
    }
    int rc = ::poll(fds, static_cast<nfds_t>(nfds), ms);
    if (rc < 0 && errno != EINTR) {
      r.timed_out = true;  // cannot watch it any more: treat as a hang
      break;
    }
    for (int i = 0; i < nfds && rc > 0; ++i) {
      if (fds[i].revents == 0) continue;
      int fd = fds[i].fd;
      if (fd == pidfd) {
        exited = true;
      } else if (fd == out[0]) {
        if (!ReadSome(fd, r.out)) CloseFd(out[0]);
      } else if (fd == err[0]) {
        if (!ReadSome(fd, r.err)) CloseFd(err[0]);
      } else if (fd == in[0]) {
        const std::string& data = options.stdin_data;
        ssize_t n =
            ::send(fd, data.data() + written, data.size() - written, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) written += static_cast<size_t>(n);
        if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == data.size()) {
          CloseFd(in[0]);
        }
      }
    }
  }
  if (r.timed_out) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  }
  int wst = -1;
  while (::waitpid(pid, &wst, 0) < 0) {
    if (errno != EINTR) {
      wst = -1;
      break;
    }
  }
  FillStatus(wst, r);
  // Whatever the child wrote before it exited is in the pipes now. Later
  // writers (its own children) are not waited for.
  if (out[0] >= 0) ReadSome(out[0], r.out);
  if (err[0] >= 0) ReadSome(err[0], r.err);
  ::close(pidfd);
  close_all();
  return r;
}

Child::~Child() {
  if (!wait_status_ && pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    Reap(0);
  }
  CloseFd(pidfd_);
  CloseFd(out_fd_);
  CloseFd(err_fd_);
}

bool Child::Reap(int options) {
  if (wait_status_) return true;
  int wst = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &wst, options);
    if (r == pid_) {
      wait_status_ = wst;
      return true;
    }
    if (r == 0) return false;
    if (errno == EINTR) continue;
    wait_status_ = -1;  // ECHILD: someone else reaped it; the status is lost
    return true;
  }
}

bool Child::Running() { return !Reap(WNOHANG); }

ExecResult Child::Collect() const {
  ExecResult r;
  FillStatus(wait_status_.value_or(-1), r);
  r.out = Stdout();
  r.err = Stderr();
  return r;
}

Result<ExecResult> Child::Wait(Duration timeout) {
  if (!Reap(WNOHANG)) {
    if (!WaitPidfd(pidfd_, timeout)) {
      return Error(Errc::kTimeout, JoinArgv(argv_) + " still running after " + timeout.ToString());
    }
    Reap(0);
  }
  return Collect();
}

ExecResult Child::Stop(Duration grace) {
  if (!Reap(WNOHANG)) {
    ::kill(-pid_, SIGTERM);
    WaitPidfd(pidfd_, grace);
    // Kill the rest of the group too (the leader may be gone already; it is
    // not reaped yet, so the group id cannot have been reused).
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    Reap(0);
  }
  return Collect();
}

std::string Child::Stdout() const { return ReadMemfd(out_fd_); }
std::string Child::Stderr() const { return ReadMemfd(err_fd_); }

Result<std::unique_ptr<Child>> SpawnInNetns(int netns_fd, const std::vector<std::string>& argv) {
  std::unique_ptr<Child> c(new Child());
  c->argv_ = argv;
  c->out_fd_ = ::memfd_create("mipsec-child-stdout", MFD_CLOEXEC);
  c->err_fd_ = ::memfd_create("mipsec-child-stderr", MFD_CLOEXEC);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (c->out_fd_ < 0 || c->err_fd_ < 0 || devnull < 0) {
    int e = errno;
    CloseFd(devnull);
    return SysError("memfd_create", e);
  }
  auto pid_or = ForkExec(netns_fd, argv, devnull, c->out_fd_, c->err_fd_);
  ::close(devnull);
  if (!pid_or.ok()) return std::move(pid_or).error();
  c->pid_ = *pid_or;
  c->pidfd_ = PidfdOpen(c->pid_);
  if (c->pidfd_ < 0) return SysError("pidfd_open", errno);  // ~Child kills it
  return c;
}

}  // namespace mipsec::lab

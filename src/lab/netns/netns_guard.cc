#include "lab/netns/netns_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace mipsec::lab {
namespace {

Error SysError(std::string_view what, int err) {
  return Error(Errc::kSystem, std::string(what) + ": " + std::strerror(err));
}

[[noreturn]] void Die(const char* what, int err) {
  std::fprintf(stderr, "mipsec netns harness: %s: %s; aborting (thread namespace unknown)\n", what,
               std::strerror(err));
  std::abort();
}

}  // namespace

Result<NetnsGuard> NetnsGuard::Enter(int netns_fd) {
  int saved = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved < 0) return SysError("open /proc/thread-self/ns/net", errno);
  if (::setns(netns_fd, CLONE_NEWNET) != 0) {
    int e = errno;
    ::close(saved);
    return SysError("setns into network namespace", e);
  }
  return NetnsGuard(saved, ::gettid());
}

NetnsGuard::NetnsGuard(NetnsGuard&& other) noexcept : saved_fd_(other.saved_fd_), tid_(other.tid_) {
  other.saved_fd_ = -1;
}

NetnsGuard::~NetnsGuard() {
  if (saved_fd_ < 0) return;
  if (::gettid() != tid_) Die("NetnsGuard destroyed on another thread", EINVAL);
  if (::setns(saved_fd_, CLONE_NEWNET) != 0) Die("setns back to the original namespace", errno);
  ::close(saved_fd_);
}

Status RunInNetns(int netns_fd, const std::function<void()>& fn) {
  MIPSEC_ASSIGN_OR_RETURN(NetnsGuard guard, NetnsGuard::Enter(netns_fd));
  fn();
  return Ok{};
}

Result<ino_t> CurrentNetnsInode() {
  struct stat st {};
  if (::stat("/proc/thread-self/ns/net", &st) != 0) {
    return SysError("stat /proc/thread-self/ns/net", errno);
  }
  return st.st_ino;
}

Result<ino_t> NetnsInode(int netns_fd) {
  struct stat st {};
  if (::fstat(netns_fd, &st) != 0) return SysError("fstat of a namespace fd", errno);
  return st.st_ino;
}

}  // namespace mipsec::lab

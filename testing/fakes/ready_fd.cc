#include "testing/fakes/ready_fd.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace mipsec::testing {

ReadyFd::ReadyFd() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) {
    std::perror("ReadyFd: eventfd");
    std::abort();
  }
}

ReadyFd::~ReadyFd() { close(fd_); }

void ReadyFd::Set(bool ready) {
  if (ready == ready_) return;
  std::uint64_t v = 1;
  // Writing 1 makes the counter non-zero (readable); reading resets it.
  ssize_t r = ready ? write(fd_, &v, sizeof v) : read(fd_, &v, sizeof v);
  if (r != static_cast<ssize_t>(sizeof v)) {
    std::perror("ReadyFd: eventfd read/write");
    std::abort();
  }
  ready_ = ready;
}

}  // namespace mipsec::testing

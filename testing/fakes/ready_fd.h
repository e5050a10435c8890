// ReadyFd: a pollable descriptor that mirrors "this fake has input waiting".
//
// Fakes are in-memory, but daemons wait on fds (EventLoop::RegisterFd). Each
// fake owns an eventfd that is readable exactly while its queue is not
// empty, so a fake can sit in the real EpollEventLoop or in FakeEventLoop
// like a kernel object would.
#ifndef MIPSEC_TESTING_FAKES_READY_FD_H_
#define MIPSEC_TESTING_FAKES_READY_FD_H_

namespace mipsec::testing {

class ReadyFd {
 public:
  ReadyFd();  // aborts if no eventfd can be made: the test cannot run anyway
  ~ReadyFd();
  ReadyFd(const ReadyFd&) = delete;
  ReadyFd& operator=(const ReadyFd&) = delete;

  int fd() const { return fd_; }
  // Makes the fd readable (true) or not (false); idempotent.
  void Set(bool ready);
  bool ready() const { return ready_; }

 private:
  int fd_;
  bool ready_ = false;
};

}  // namespace mipsec::testing

#endif  // MIPSEC_TESTING_FAKES_READY_FD_H_

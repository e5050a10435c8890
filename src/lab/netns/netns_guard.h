// Moving the calling thread into a network namespace and back.
//
// setns(CLONE_NEWNET) changes the namespace of the calling thread only. A
// socket, TUN device or netlink socket opened while inside stays in that
// namespace after the thread returns, so one test process can build
// endpoints in several namespaces:
//
//   int server_fd = -1;
//   ASSERT_TRUE(RunInNetns(topo->NsFd("server"), [&] {
//     server_fd = socket(AF_INET, SOCK_DGRAM, 0);   // belongs to "server"
//   }).ok());
//
// (A TUN device is created in the namespace of the thread that opened
// /dev/net/tun.) Failing to return to the original namespace would leave the
// thread somewhere unknown, so that aborts the process.
#ifndef MIPSEC_LAB_NETNS_NETNS_GUARD_H_
#define MIPSEC_LAB_NETNS_NETNS_GUARD_H_

#include <sys/types.h>

#include <functional>

#include "common/result.h"

namespace mipsec::lab {

// While alive, the creating thread is in another network namespace; the
// destructor moves it back. Must be destroyed on the thread that created it
// (checked; aborts otherwise). Guards on one thread must nest.
class NetnsGuard {
 public:
  // Moves the calling thread into `netns_fd` (an fd of /run/netns/NAME or
  // /proc/PID/ns/net).
  static Result<NetnsGuard> Enter(int netns_fd);

  NetnsGuard(NetnsGuard&& other) noexcept;
  NetnsGuard& operator=(NetnsGuard&&) = delete;
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;
  ~NetnsGuard();

 private:
  NetnsGuard(int saved_fd, pid_t tid) : saved_fd_(saved_fd), tid_(tid) {}
  int saved_fd_ = -1;  // the thread's namespace before Enter()
  pid_t tid_ = 0;
};

// Runs `fn` on the calling thread inside `netns_fd`, then returns the thread
// to its namespace.
Status RunInNetns(int netns_fd, const std::function<void()>& fn);

// Inode number of the calling thread's network namespace (the same for every
// thread and process in it), or of the namespace behind `netns_fd`.
Result<ino_t> CurrentNetnsInode();
Result<ino_t> NetnsInode(int netns_fd);

}  // namespace mipsec::lab

#endif  // MIPSEC_LAB_NETNS_NETNS_GUARD_H_

// EpollEventLoop: the Linux EventLoop (platform/event_loop.h).
//
// One epoll instance watches the caller's fds plus three of its own:
//   - ONE timerfd on CLOCK_MONOTONIC, armed with TFD_TIMER_ABSTIME for the
//     earliest deadline of all timers. It is re-programmed only when that
//     earliest deadline changes (or after it expired), never per timer.
//   - an eventfd that Stop() writes from any thread;
//   - a signalfd, created by the first HandleSignal().
// Timestamps are CLOCK_MONOTONIC nanoseconds, so a core's deadlines can be
// handed to SetDeadline() unchanged.
#ifndef MIPSEC_PLATFORM_LINUX_EPOLL_EVENT_LOOP_H_
#define MIPSEC_PLATFORM_LINUX_EPOLL_EVENT_LOOP_H_

#include <signal.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <utility>

#include "common/result.h"
#include "common/time.h"
#include "platform/event_loop.h"
#include "platform/linux/fd.h"

namespace mipsec::platform {

// CLOCK_MONOTONIC as a Timestamp (the epoch is the clock's: boot time).
Timestamp MonotonicNow();
// CLOCK_REALTIME in nanoseconds since the Unix epoch (time of day, e.g. for
// RFC 5944 5.7 timestamps).
std::int64_t RealtimeNanos();

class EpollEventLoop final : public EventLoop {
 public:
  static Result<std::unique_ptr<EpollEventLoop>> Create();
  // Unblocks the signals HandleSignal() blocked (after draining any pending
  // ones, so they are not delivered with their default action).
  ~EpollEventLoop() override;

  Timestamp Now() override { return MonotonicNow(); }

  Status RegisterFd(int fd, std::uint32_t events, FdCallback callback) override;
  Status ModifyFd(int fd, std::uint32_t events) override;
  Status UnregisterFd(int fd) override;

  TimerId CreateTimer(TimerCallback callback) override;
  void SetDeadline(TimerId id, Timestamp deadline) override;
  Timestamp Deadline(TimerId id) const override;
  void DestroyTimer(TimerId id) override;

  Status HandleSignal(int signo, SignalCallback callback) override;

  Result<std::size_t> RunOnce(Duration max_wait) override;
  Status Run() override;
  void Stop() override;

  // For tests: how often the timerfd was programmed, and the absolute
  // deadline it holds now (Infinite() when disarmed).
  std::uint64_t timerfd_programmings() const { return timerfd_programmings_; }
  Timestamp timerfd_deadline() const { return armed_; }

 private:
  EpollEventLoop() = default;
  Status Init();

  struct FdEntry {
    int fd;
    std::uint32_t events;
    std::shared_ptr<FdCallback> callback;
  };
  struct TimerEntry {
    Timestamp deadline;
    std::shared_ptr<TimerCallback> callback;
  };

  void ProgramTimerFd();
  std::size_t FireDueTimers(Timestamp now);
  std::size_t DispatchSignals();
  void DrainFd(int fd);

  ScopedFd epoll_;
  ScopedFd timer_fd_;
  ScopedFd wake_fd_;
  ScopedFd signal_fd_;

  // epoll's data.u64 carries a key, never the fd, so that an fd closed and
  // reused within one round is not mistaken for the old registration.
  std::unordered_map<std::uint64_t, FdEntry> fds_by_key_;
  std::unordered_map<int, std::uint64_t> key_of_fd_;
  std::uint64_t next_key_ = 16;  // keys below 16 are the loop's own fds

  std::unordered_map<TimerId, TimerEntry> timers_;
  std::set<std::pair<Timestamp, TimerId>> queue_;  // armed timers only
  TimerId next_timer_ = 1;
  Timestamp armed_ = Timestamp::Infinite();
  std::uint64_t timerfd_programmings_ = 0;

  std::map<int, std::shared_ptr<SignalCallback>> signal_callbacks_;
  sigset_t signal_mask_{};
  sigset_t blocked_by_us_{};

  std::atomic<bool> stop_requested_{false};
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_EPOLL_EVENT_LOOP_H_

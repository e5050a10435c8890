// EventLoop: the driver's one thread of control (fd readiness, timers,
// signals), behind an interface so daemons can run on the Linux epoll loop
// (platform/linux/epoll_event_loop.h) or on a virtual-time fake in tests
// (testing/fakes/fake_event_loop.h).
//
// Protocol cores never see this: a driver asks a core for NextTimeout() and
// hands it to SetDeadline() on the core's timer, and calls the core's
// OnTimeout(now) from the timer callback (docs/ARCHITECTURE.md).
//
// Threading: every method except Stop() must be called on the loop's thread
// (the one calling Run/RunOnce). Callbacks run on that thread.
//
// Re-entrancy: any callback may register, modify or unregister fds, create,
// re-arm or destroy timers (its own included) and call Stop(). A callback for
// an fd unregistered (or a timer destroyed or disarmed) earlier in the same
// dispatch round is not called.
#ifndef MIPSEC_PLATFORM_EVENT_LOOP_H_
#define MIPSEC_PLATFORM_EVENT_LOOP_H_

#include <cstddef>
#include <cstdint>
#include <functional>

#include "common/result.h"
#include "common/time.h"

namespace mipsec::platform {

// Readiness bits, independent of epoll's values.
enum IoEvent : std::uint32_t {
  kReadable = 1u << 0,
  kWritable = 1u << 1,
  kIoError = 1u << 2,  // always reported, need not be requested
  kHangup = 1u << 3,   // always reported, need not be requested
};

class EventLoop {
 public:
  using TimerId = std::uint64_t;
  static constexpr TimerId kNoTimer = 0;
  // `now` is the loop's clock when the timer fired (>= its deadline).
  using TimerCallback = std::function<void(Timestamp now)>;
  // `events` is a mask of IoEvent bits.
  using FdCallback = std::function<void(std::uint32_t events)>;
  using SignalCallback = std::function<void(int signo)>;

  virtual ~EventLoop() = default;

  // The loop's clock (CLOCK_MONOTONIC for the Linux loop, virtual time for
  // the fake). Never goes backwards.
  virtual Timestamp Now() = 0;

  // --- File descriptors (level-triggered) ---
  // `events` is a mask of kReadable/kWritable. The fd stays owned by the
  // caller, who must Unregister it before closing it. Registering an fd twice
  // is Errc::kAlreadyExists.
  virtual Status RegisterFd(int fd, std::uint32_t events, FdCallback callback) = 0;
  virtual Status ModifyFd(int fd, std::uint32_t events) = 0;
  virtual Status UnregisterFd(int fd) = 0;

  // --- Timers ---
  // A timer is created disarmed and re-armed as often as needed: one timer
  // per core, its deadline following the core's NextTimeout(). A timer fires
  // once per arming; it is disarmed before its callback runs.
  virtual TimerId CreateTimer(TimerCallback callback) = 0;
  // Arms (or re-arms) the timer for an absolute time on Now()'s clock.
  // Timestamp::Infinite() disarms it. A deadline in the past fires on the
  // next dispatch round. Unknown ids are a BUG.
  virtual void SetDeadline(TimerId id, Timestamp deadline) = 0;
  // Current deadline, Infinite() when disarmed or unknown.
  virtual Timestamp Deadline(TimerId id) const = 0;
  // Disarms and forgets the timer. Unknown ids are ignored.
  virtual void DestroyTimer(TimerId id) = 0;

  // --- Signals ---
  // Calls `callback` on the loop thread whenever `signo` arrives; a second
  // call for the same signal replaces the callback. The Linux loop blocks the
  // signal in the calling thread (do this before starting other threads so
  // they inherit the mask) and reads it from a signalfd.
  virtual Status HandleSignal(int signo, SignalCallback callback) = 0;

  // --- Running ---
  // Waits up to `max_wait` (Duration::Infinite(): no limit) for something to
  // happen, then dispatches ready fds, signals and due timers once. Returns
  // the number of callbacks run (0 on a plain timeout).
  virtual Result<std::size_t> RunOnce(Duration max_wait) = 0;
  // Dispatches until Stop(). An error from the OS ends the loop.
  virtual Status Run() = 0;
  // Makes Run() return after the current dispatch round. Safe from any
  // thread and from signal-handling callbacks. A Stop() before Run() makes
  // the next Run() return at once.
  virtual void Stop() = 0;
};

// An owned timer: created on construction, destroyed with the object, which
// must not outlive its loop.
//
//   Timer t(loop, [&](Timestamp now) { core.OnTimeout(now); Rearm(); });
//   t.Set(core.NextTimeout());
class Timer {
 public:
  Timer(EventLoop& loop, EventLoop::TimerCallback callback)
      : loop_(&loop), id_(loop.CreateTimer(std::move(callback))) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { loop_->DestroyTimer(id_); }

  void Set(Timestamp deadline) { loop_->SetDeadline(id_, deadline); }
  void Cancel() { loop_->SetDeadline(id_, Timestamp::Infinite()); }
  Timestamp deadline() const { return loop_->Deadline(id_); }
  bool armed() const { return !deadline().IsInfinite(); }
  EventLoop::TimerId id() const { return id_; }

 private:
  EventLoop* loop_;
  EventLoop::TimerId id_;
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_EVENT_LOOP_H_

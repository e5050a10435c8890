// FakeEventLoop: an EventLoop (platform/event_loop.h) on virtual time.
//
// Time moves only when the loop has nothing else to do, and then jumps
// straight to the next timer deadline, so a test of a daemon's retransmit
// or lifetime logic runs in microseconds and the same way every time.
// Registered fds (the fakes' ReadyFds, or real ones) are checked with a
// zero-timeout poll(2); nothing ever blocks.
//
//   FakeEventLoop loop;
//   ... register fakes, create timers ...
//   loop.AdvanceBy(Duration::Seconds(30));  // everything due in 30 virtual s
//
// Signals are not real: RaiseSignal() queues one for the next dispatch.
#ifndef MIPSEC_TESTING_FAKES_FAKE_EVENT_LOOP_H_
#define MIPSEC_TESTING_FAKES_FAKE_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <utility>

#include "platform/event_loop.h"

namespace mipsec::testing {

class FakeEventLoop final : public platform::EventLoop {
 public:
  explicit FakeEventLoop(Timestamp start = Timestamp::FromNanos(1'000'000'000)) : now_(start) {}

  Timestamp Now() override { return now_; }

  Status RegisterFd(int fd, std::uint32_t events, FdCallback callback) override;
  Status ModifyFd(int fd, std::uint32_t events) override;
  Status UnregisterFd(int fd) override;

  TimerId CreateTimer(TimerCallback callback) override;
  void SetDeadline(TimerId id, Timestamp deadline) override;
  Timestamp Deadline(TimerId id) const override;
  void DestroyTimer(TimerId id) override;

  Status HandleSignal(int signo, SignalCallback callback) override;

  // One round: pending signals, ready fds, timers due now. If none of those
  // ran anything, virtual time jumps to min(next deadline, Now() + max_wait)
  // and the timers due then fire. Returns the number of callbacks run.
  Result<std::size_t> RunOnce(Duration max_wait) override;
  // Rounds until Stop(). Returns Errc::kState if the loop goes idle (no
  // ready fd, no pending signal, no armed timer): in virtual time nothing
  // could ever happen again, and a test should not hang.
  Status Run() override;
  void Stop() override { stop_requested_.store(true); }

  // --- test controls ---
  // Runs every round possible without moving time. Returns callbacks run.
  std::size_t RunUntilIdle();
  // Runs everything due up to Now() + d, jumping from deadline to deadline,
  // and leaves Now() at exactly Now() + d. (A timer that always re-arms
  // itself never lets AdvanceTo(Timestamp::Infinite()) return.)
  std::size_t AdvanceBy(Duration d);
  std::size_t AdvanceTo(Timestamp t);
  // Queues `signo` as if the process had received it.
  void RaiseSignal(int signo) { pending_signals_.push_back(signo); }
  std::size_t armed_timers() const { return queue_.size(); }

 private:
  struct FdEntry {
    int fd;
    std::uint32_t events;
    std::shared_ptr<FdCallback> callback;
  };
  struct TimerEntry {
    Timestamp deadline;
    std::shared_ptr<TimerCallback> callback;
  };

  // Signals and ready fds, without moving time.
  Result<std::size_t> DispatchIo();
  std::size_t FireDueTimers();
  Timestamp NextDeadline() const {
    return queue_.empty() ? Timestamp::Infinite() : queue_.begin()->first;
  }

  Timestamp now_;
  std::map<int, FdEntry> fds_;  // ordered: dispatch order is deterministic
  std::unordered_map<TimerId, TimerEntry> timers_;
  std::set<std::pair<Timestamp, TimerId>> queue_;
  TimerId next_timer_ = 1;
  std::map<int, std::shared_ptr<SignalCallback>> signal_callbacks_;
  std::deque<int> pending_signals_;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace mipsec::testing

#endif  // MIPSEC_TESTING_FAKES_FAKE_EVENT_LOOP_H_

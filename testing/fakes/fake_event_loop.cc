#include "testing/fakes/fake_event_loop.h"

#include <poll.h>

#include <cerrno>
#include <string>
#include <vector>

#include "common/bug.h"

namespace mipsec::testing {

using platform::kHangup;
using platform::kIoError;
using platform::kReadable;
using platform::kWritable;

namespace {
constexpr std::size_t kMaxIdleRounds = 1'000'000;  // a livelock guard for RunUntilIdle
}  // namespace

Status FakeEventLoop::RegisterFd(int fd, std::uint32_t events, FdCallback callback) {
  if (fd < 0) return Error(Errc::kInvalidArgument, "RegisterFd: negative fd");
  if (fds_.contains(fd)) {
    return Error(Errc::kAlreadyExists,
                 "RegisterFd: fd " + std::to_string(fd) + " already registered");
  }
  fds_[fd] = FdEntry{fd, events, std::make_shared<FdCallback>(std::move(callback))};
  return Ok{};
}

Status FakeEventLoop::ModifyFd(int fd, std::uint32_t events) {
  auto it = fds_.find(fd);
  if (it == fds_.end())
    return Error(Errc::kNotFound, "ModifyFd: fd " + std::to_string(fd) + " not registered");
  it->second.events = events;
  return Ok{};
}

Status FakeEventLoop::UnregisterFd(int fd) {
  if (fds_.erase(fd) == 0) {
    return Error(Errc::kNotFound, "UnregisterFd: fd " + std::to_string(fd) + " not registered");
  }
  return Ok{};
}

platform::EventLoop::TimerId FakeEventLoop::CreateTimer(TimerCallback callback) {
  TimerId id = next_timer_++;
  timers_[id] =
      TimerEntry{Timestamp::Infinite(), std::make_shared<TimerCallback>(std::move(callback))};
  return id;
}

void FakeEventLoop::SetDeadline(TimerId id, Timestamp deadline) {
  auto it = timers_.find(id);
  if (MIPSEC_BUG_IF(it == timers_.end(), "SetDeadline on an unknown timer")) return;
  if (!it->second.deadline.IsInfinite()) queue_.erase({it->second.deadline, id});
  it->second.deadline = deadline;
  if (!deadline.IsInfinite()) queue_.insert({deadline, id});
}

Timestamp FakeEventLoop::Deadline(TimerId id) const {
  auto it = timers_.find(id);
  return it == timers_.end() ? Timestamp::Infinite() : it->second.deadline;
}

void FakeEventLoop::DestroyTimer(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  if (!it->second.deadline.IsInfinite()) queue_.erase({it->second.deadline, id});
  timers_.erase(it);
}

Status FakeEventLoop::HandleSignal(int signo, SignalCallback callback) {
  if (signo <= 0 || signo >= 65) {
    return Error(Errc::kInvalidArgument, "HandleSignal: bad signal " + std::to_string(signo));
  }
  signal_callbacks_[signo] = std::make_shared<SignalCallback>(std::move(callback));
  return Ok{};
}

Result<std::size_t> FakeEventLoop::DispatchIo() {
  std::size_t n = 0;
  while (!pending_signals_.empty()) {
    int signo = pending_signals_.front();
    pending_signals_.pop_front();
    auto it = signal_callbacks_.find(signo);
    if (it == signal_callbacks_.end()) continue;  // as if blocked and ignored
    std::shared_ptr<SignalCallback> cb = it->second;
    (*cb)(signo);
    ++n;
  }
  if (fds_.empty()) return n;
  std::vector<pollfd> pfds;
  pfds.reserve(fds_.size());
  for (const auto& [fd, e] : fds_) {
    short want = 0;
    if (e.events & kReadable) want |= POLLIN;
    if (e.events & kWritable) want |= POLLOUT;
    pfds.push_back(pollfd{fd, want, 0});
  }
  if (poll(pfds.data(), pfds.size(), 0) < 0 && errno != EINTR) {
    return Error(Errc::kSystem, "poll: " + std::to_string(errno));
  }
  for (const pollfd& p : pfds) {
    if (p.revents == 0) continue;
    auto it = fds_.find(p.fd);
    if (it == fds_.end()) continue;  // unregistered by an earlier callback
    std::uint32_t ev = 0;
    if (p.revents & (POLLIN | POLLPRI)) ev |= kReadable;
    if (p.revents & POLLOUT) ev |= kWritable;
    if (p.revents & (POLLERR | POLLNVAL)) ev |= kIoError;
    if (p.revents & POLLHUP) ev |= kHangup;
    std::shared_ptr<FdCallback> cb = it->second.callback;
    (*cb)(ev);
    ++n;
  }
  return n;
}

std::size_t FakeEventLoop::FireDueTimers() {
  std::vector<TimerId> due;
  for (const auto& [deadline, id] : queue_) {
    if (deadline > now_) break;
    due.push_back(id);
  }
  std::size_t fired = 0;
  for (TimerId id : due) {
    auto it = timers_.find(id);
    if (it == timers_.end() || it->second.deadline > now_) continue;
    queue_.erase({it->second.deadline, id});
    it->second.deadline = Timestamp::Infinite();
    std::shared_ptr<TimerCallback> cb = it->second.callback;
    (*cb)(now_);
    ++fired;
  }
  return fired;
}

Result<std::size_t> FakeEventLoop::RunOnce(Duration max_wait) {
  MIPSEC_ASSIGN_OR_RETURN(std::size_t n, DispatchIo());
  n += FireDueTimers();
  if (n > 0) return n;
  Timestamp target = now_ + max_wait;
  Timestamp next = NextDeadline();
  if (next < target) target = next;
  if (target.IsInfinite()) return std::size_t{0};  // nothing to wait for
  if (target > now_) now_ = target;
  return FireDueTimers();
}

Status FakeEventLoop::Run() {
  while (!stop_requested_.exchange(false)) {
    MIPSEC_ASSIGN_OR_RETURN(std::size_t n, RunOnce(Duration::Infinite()));
    if (n == 0 && queue_.empty() && pending_signals_.empty()) {
      return Error(Errc::kState, "fake event loop idle: no ready fd, no signal, no armed timer");
    }
  }
  return Ok{};
}

std::size_t FakeEventLoop::RunUntilIdle() {
  std::size_t total = 0;
  for (std::size_t round = 0; round < kMaxIdleRounds; ++round) {
    Result<std::size_t> io = DispatchIo();
    std::size_t n = (io.ok() ? *io : 0) + FireDueTimers();
    if (n == 0) return total;
    total += n;
  }
  MIPSEC_BUG("FakeEventLoop::RunUntilIdle: still busy after a million rounds (livelock?)");
  return total;
}

std::size_t FakeEventLoop::AdvanceTo(Timestamp t) {
  std::size_t total = RunUntilIdle();
  while (NextDeadline() <= t) {
    if (NextDeadline() > now_) now_ = NextDeadline();
    total += RunUntilIdle();
  }
  if (t > now_) now_ = t;
  return total;
}

std::size_t FakeEventLoop::AdvanceBy(Duration d) { return AdvanceTo(now_ + d); }

}  // namespace mipsec::testing

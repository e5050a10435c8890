#include "platform/linux/epoll_event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>
#include <vector>

#include "common/bug.h"
#include "platform/linux/sys_error.h"

namespace mipsec::platform {
namespace {

constexpr std::uint64_t kTimerKey = 1;
constexpr std::uint64_t kWakeKey = 2;
constexpr std::uint64_t kSignalKey = 3;
constexpr int kMaxEventsPerWait = 64;

std::uint32_t ToEpoll(std::uint32_t events) {
  std::uint32_t e = 0;
  if (events & kReadable) e |= EPOLLIN;
  if (events & kWritable) e |= EPOLLOUT;
  return e;
}

std::uint32_t FromEpoll(std::uint32_t e) {
  std::uint32_t events = 0;
  if (e & (EPOLLIN | EPOLLPRI)) events |= kReadable;
  if (e & EPOLLOUT) events |= kWritable;
  if (e & EPOLLERR) events |= kIoError;
  if (e & (EPOLLHUP | EPOLLRDHUP)) events |= kHangup;
  return events;
}

int WaitMillis(Duration d) {
  if (d.IsInfinite()) return -1;
  if (d <= Duration::Zero()) return 0;
  std::int64_t ms = (d.nanos() + 999'999) / 1'000'000;  // round up: never wake early
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace

Timestamp MonotonicNow() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Timestamp::FromNanos(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec);
}

std::int64_t RealtimeNanos() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Result<std::unique_ptr<EpollEventLoop>> EpollEventLoop::Create() {
  std::unique_ptr<EpollEventLoop> loop(new EpollEventLoop());
  MIPSEC_TRY(loop->Init());
  return loop;
}

Status EpollEventLoop::Init() {
  sigemptyset(&signal_mask_);
  sigemptyset(&blocked_by_us_);
  epoll_.Reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) return SysError("epoll_create1");
  timer_fd_.Reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer_fd_.valid()) return SysError("timerfd_create(CLOCK_MONOTONIC)");
  wake_fd_.Reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_fd_.valid()) return SysError("eventfd");
  for (auto [fd, key] :
       {std::pair{timer_fd_.get(), kTimerKey}, std::pair{wake_fd_.get(), kWakeKey}}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = key;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return SysError("epoll_ctl(ADD)");
  }
  return Ok{};
}

EpollEventLoop::~EpollEventLoop() {
  if (signal_fd_.valid()) {
    // Consume what is pending so unblocking does not deliver it with the
    // default action (which for SIGTERM/SIGINT/SIGHUP is to terminate).
    DrainFd(signal_fd_.get());
    pthread_sigmask(SIG_UNBLOCK, &blocked_by_us_, nullptr);
  }
}

// --- fds ---

Status EpollEventLoop::RegisterFd(int fd, std::uint32_t events, FdCallback callback) {
  if (fd < 0) return Error(Errc::kInvalidArgument, "RegisterFd: negative fd");
  if (key_of_fd_.contains(fd)) {
    return Error(Errc::kAlreadyExists,
                 "RegisterFd: fd " + std::to_string(fd) + " already registered");
  }
  std::uint64_t key = next_key_++;
  epoll_event ev{};
  ev.events = ToEpoll(events);
  ev.data.u64 = key;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return SysError("epoll_ctl(ADD, fd " + std::to_string(fd) + ")");
  }
  fds_by_key_[key] = FdEntry{fd, events, std::make_shared<FdCallback>(std::move(callback))};
  key_of_fd_[fd] = key;
  return Ok{};
}

Status EpollEventLoop::ModifyFd(int fd, std::uint32_t events) {
  auto it = key_of_fd_.find(fd);
  if (it == key_of_fd_.end()) {
    return Error(Errc::kNotFound, "ModifyFd: fd " + std::to_string(fd) + " not registered");
  }
  epoll_event ev{};
  ev.events = ToEpoll(events);
  ev.data.u64 = it->second;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) {
    return SysError("epoll_ctl(MOD, fd " + std::to_string(fd) + ")");
  }
  fds_by_key_[it->second].events = events;
  return Ok{};
}

Status EpollEventLoop::UnregisterFd(int fd) {
  auto it = key_of_fd_.find(fd);
  if (it == key_of_fd_.end()) {
    return Error(Errc::kNotFound, "UnregisterFd: fd " + std::to_string(fd) + " not registered");
  }
  fds_by_key_.erase(it->second);
  key_of_fd_.erase(it);
  // The entry is gone either way; a failure here means the caller closed
  // the fd before unregistering it (then epoll already forgot it).
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr) != 0 && errno != EBADF) {
    return SysError("epoll_ctl(DEL, fd " + std::to_string(fd) + ")");
  }
  return Ok{};
}

// --- timers ---

EventLoop::TimerId EpollEventLoop::CreateTimer(TimerCallback callback) {
  TimerId id = next_timer_++;
  timers_[id] =
      TimerEntry{Timestamp::Infinite(), std::make_shared<TimerCallback>(std::move(callback))};
  return id;
}

void EpollEventLoop::SetDeadline(TimerId id, Timestamp deadline) {
  auto it = timers_.find(id);
  if (MIPSEC_BUG_IF(it == timers_.end(), "SetDeadline on an unknown timer")) return;
  TimerEntry& t = it->second;
  if (t.deadline == deadline) return;
  if (!t.deadline.IsInfinite()) queue_.erase({t.deadline, id});
  t.deadline = deadline;
  if (!deadline.IsInfinite()) queue_.insert({deadline, id});
  ProgramTimerFd();
}

Timestamp EpollEventLoop::Deadline(TimerId id) const {
  auto it = timers_.find(id);
  return it == timers_.end() ? Timestamp::Infinite() : it->second.deadline;
}

void EpollEventLoop::DestroyTimer(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  if (!it->second.deadline.IsInfinite()) queue_.erase({it->second.deadline, id});
  timers_.erase(it);
  ProgramTimerFd();
}

void EpollEventLoop::ProgramTimerFd() {
  Timestamp earliest = queue_.empty() ? Timestamp::Infinite() : queue_.begin()->first;
  if (earliest == armed_) return;
  itimerspec spec{};  // all zero: disarm
  if (!earliest.IsInfinite()) {
    // it_value of zero would disarm: a deadline at or before the clock's
    // epoch becomes 1ns, which is in the past and fires at once.
    std::int64_t ns = earliest.nanos() > 0 ? earliest.nanos() : 1;
    spec.it_value.tv_sec = ns / 1'000'000'000;
    spec.it_value.tv_nsec = ns % 1'000'000'000;
  }
  if (timerfd_settime(timer_fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
    // Only EINVAL is possible with our arguments: a broken invariant.
    MIPSEC_BUG("timerfd_settime failed");
    return;
  }
  armed_ = earliest;
  ++timerfd_programmings_;
}

std::size_t EpollEventLoop::FireDueTimers(Timestamp now) {
  // Only timers due now when the round starts fire in it; a callback that
  // re-arms a timer in the past makes it fire in the next round, so a
  // zero-delay re-arm cannot starve fds.
  std::vector<TimerId> due;
  for (const auto& [deadline, id] : queue_) {
    if (deadline > now) break;
    due.push_back(id);
  }
  std::size_t fired = 0;
  for (TimerId id : due) {
    auto it = timers_.find(id);
    if (it == timers_.end() || it->second.deadline > now) continue;  // destroyed or moved
    queue_.erase({it->second.deadline, id});
    it->second.deadline = Timestamp::Infinite();
    std::shared_ptr<TimerCallback> cb = it->second.callback;  // survives DestroyTimer in cb
    (*cb)(now);
    ++fired;
  }
  ProgramTimerFd();
  return fired;
}

// --- signals ---

Status EpollEventLoop::HandleSignal(int signo, SignalCallback callback) {
  sigset_t one;
  sigemptyset(&one);
  if (sigaddset(&one, signo) != 0) {
    return Error(Errc::kInvalidArgument, "HandleSignal: bad signal " + std::to_string(signo));
  }
  sigset_t old;
  if (int err = pthread_sigmask(SIG_BLOCK, &one, &old); err != 0) {
    return SysError("pthread_sigmask(SIG_BLOCK)", err);
  }
  if (!sigismember(&old, signo)) sigaddset(&blocked_by_us_, signo);
  sigaddset(&signal_mask_, signo);
  if (!signal_fd_.valid()) {
    signal_fd_.Reset(signalfd(-1, &signal_mask_, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!signal_fd_.valid()) return SysError("signalfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kSignalKey;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, signal_fd_.get(), &ev) != 0) {
      return SysError("epoll_ctl(ADD, signalfd)");
    }
  } else if (signalfd(signal_fd_.get(), &signal_mask_, 0) < 0) {
    return SysError("signalfd(update mask)");
  }
  signal_callbacks_[signo] = std::make_shared<SignalCallback>(std::move(callback));
  return Ok{};
}

std::size_t EpollEventLoop::DispatchSignals() {
  std::size_t n = 0;
  for (;;) {
    signalfd_siginfo info;
    ssize_t r = read(signal_fd_.get(), &info, sizeof info);
    if (r != static_cast<ssize_t>(sizeof info)) break;  // EAGAIN: drained
    int signo = static_cast<int>(info.ssi_signo);
    auto it = signal_callbacks_.find(signo);
    if (it == signal_callbacks_.end()) continue;
    std::shared_ptr<SignalCallback> cb = it->second;
    (*cb)(signo);
    ++n;
  }
  return n;
}

void EpollEventLoop::DrainFd(int fd) {
  char buf[sizeof(signalfd_siginfo) * 4];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

// --- running ---

Result<std::size_t> EpollEventLoop::RunOnce(Duration max_wait) {
  epoll_event events[kMaxEventsPerWait];
  int n = epoll_wait(epoll_.get(), events, kMaxEventsPerWait, WaitMillis(max_wait));
  if (n < 0) {
    if (errno == EINTR) return std::size_t{0};
    return SysError("epoll_wait");
  }
  std::size_t callbacks = 0;
  for (int i = 0; i < n; ++i) {
    std::uint64_t key = events[i].data.u64;
    if (key == kTimerKey) {
      std::uint64_t expirations;
      if (read(timer_fd_.get(), &expirations, sizeof expirations) > 0) {
        armed_ = Timestamp::Infinite();  // a one-shot timerfd disarms itself
      }
      continue;  // timers are checked below, after the fds
    }
    if (key == kWakeKey) {
      DrainFd(wake_fd_.get());
      continue;
    }
    if (key == kSignalKey) {
      callbacks += DispatchSignals();
      continue;
    }
    auto it = fds_by_key_.find(key);
    if (it == fds_by_key_.end()) continue;  // unregistered earlier in this round
    std::shared_ptr<FdCallback> cb = it->second.callback;
    (*cb)(FromEpoll(events[i].events));
    ++callbacks;
  }
  callbacks += FireDueTimers(Now());
  return callbacks;
}

Status EpollEventLoop::Run() {
  while (!stop_requested_.exchange(false)) {
    MIPSEC_TRY(RunOnce(Duration::Infinite()));
  }
  return Ok{};
}

void EpollEventLoop::Stop() {
  stop_requested_.store(true);
  std::uint64_t one = 1;
  // Only fails if the counter would overflow, which means a wake-up is
  // pending anyway.
  [[maybe_unused]] ssize_t r = write(wake_fd_.get(), &one, sizeof one);
}

}  // namespace mipsec::platform

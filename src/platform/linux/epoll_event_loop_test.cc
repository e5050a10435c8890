#include "platform/linux/epoll_event_loop.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

namespace mipsec::platform {
namespace {

std::unique_ptr<EpollEventLoop> MakeLoop() {
  auto loop = EpollEventLoop::Create();
  if (!loop.ok()) ADD_FAILURE() << loop.error().ToString();
  return std::move(loop).value();
}

// Runs rounds until `done` or a wall-clock limit.
void RunUntil(EventLoop& loop, const std::function<bool()>& done, Duration limit = Duration::Seconds(5)) {
  Timestamp end = loop.Now() + limit;
  while (!done() && loop.Now() < end) {
    auto r = loop.RunOnce(Duration::Millis(50));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }
}

TEST(EpollEventLoop, NowIsMonotonic) {
  auto loop = MakeLoop();
  Timestamp a = loop->Now();
  Timestamp b = loop->Now();
  EXPECT_LE(a, b);
  EXPECT_GT(a.nanos(), 0);
}

TEST(EpollEventLoop, TimersFireInDeadlineOrderNotCreationOrder) {
  auto loop = MakeLoop();
  std::vector<int> order;
  Timestamp base = loop->Now();
  Timer t3(*loop, [&](Timestamp) { order.push_back(3); });
  Timer t1(*loop, [&](Timestamp) { order.push_back(1); });
  Timer t2(*loop, [&](Timestamp) { order.push_back(2); });
  t3.Set(base + Duration::Millis(30));
  t1.Set(base + Duration::Millis(10));
  t2.Set(base + Duration::Millis(20));
  RunUntil(*loop, [&] { return order.size() == 3; });
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE(t1.armed());
  EXPECT_TRUE(loop->timerfd_deadline().IsInfinite());  // nothing left: disarmed
}

TEST(EpollEventLoop, TimerNeverFiresEarlyAndGetsNow) {
  auto loop = MakeLoop();
  Timestamp deadline = loop->Now() + Duration::Millis(15);
  Timestamp fired_at;
  Timer t(*loop, [&](Timestamp now) { fired_at = now; });
  t.Set(deadline);
  RunUntil(*loop, [&] { return fired_at != Timestamp(); });
  EXPECT_GE(fired_at, deadline);
}

TEST(EpollEventLoop, CancelledTimerDoesNotFire) {
  auto loop = MakeLoop();
  int fired = 0;
  Timer cancelled(*loop, [&](Timestamp) { ++fired; });
  bool other = false;
  Timer later(*loop, [&](Timestamp) { other = true; });
  cancelled.Set(loop->Now() + Duration::Millis(5));
  later.Set(loop->Now() + Duration::Millis(20));
  cancelled.Cancel();
  RunUntil(*loop, [&] { return other; });
  EXPECT_TRUE(other);
  EXPECT_EQ(fired, 0);
}

TEST(EpollEventLoop, DestroyedTimerDoesNotFire) {
  auto loop = MakeLoop();
  int fired = 0;
  auto id = loop->CreateTimer([&](Timestamp) { ++fired; });
  loop->SetDeadline(id, loop->Now() + Duration::Millis(1));
  loop->DestroyTimer(id);
  EXPECT_TRUE(loop->Deadline(id).IsInfinite());
  auto r = loop->RunOnce(Duration::Millis(20));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(fired, 0);
}

TEST(EpollEventLoop, TimerFdFollowsEarliestDeadlineOnly) {
  auto loop = MakeLoop();
  Timestamp base = loop->Now() + Duration::Seconds(100);
  Timer a(*loop, [](Timestamp) {});
  Timer b(*loop, [](Timestamp) {});
  Timer c(*loop, [](Timestamp) {});
  a.Set(base + Duration::Seconds(10));
  EXPECT_EQ(loop->timerfd_deadline(), base + Duration::Seconds(10));
  std::uint64_t after_first = loop->timerfd_programmings();
  // Later deadlines do not touch the timerfd.
  b.Set(base + Duration::Seconds(20));
  c.Set(base + Duration::Seconds(30));
  EXPECT_EQ(loop->timerfd_programmings(), after_first);
  // An earlier one re-arms it.
  c.Set(base + Duration::Seconds(5));
  EXPECT_EQ(loop->timerfd_deadline(), base + Duration::Seconds(5));
  EXPECT_EQ(loop->timerfd_programmings(), after_first + 1);
  // Cancelling the earliest moves it to the next.
  c.Cancel();
  EXPECT_EQ(loop->timerfd_deadline(), base + Duration::Seconds(10));
  // Cancelling a non-earliest one does not.
  std::uint64_t before = loop->timerfd_programmings();
  b.Cancel();
  EXPECT_EQ(loop->timerfd_programmings(), before);
  a.Cancel();
  EXPECT_TRUE(loop->timerfd_deadline().IsInfinite());
}

TEST(EpollEventLoop, RearmingToAnEarlierDeadlineWakesTheLoopEarlier) {
  auto loop = MakeLoop();
  Timestamp start = loop->Now();
  bool fired = false;
  Timer t(*loop, [&](Timestamp) { fired = true; });
  t.Set(start + Duration::Seconds(60));
  t.Set(start + Duration::Millis(10));
  // One wait with no limit must return because of the timer, not the limit.
  auto r = loop->RunOnce(Duration::Infinite());
  ASSERT_TRUE(r.ok());
  while (!fired) ASSERT_TRUE(loop->RunOnce(Duration::Infinite()).ok());
  EXPECT_LT(loop->Now() - start, Duration::Seconds(5));
}

TEST(EpollEventLoop, PastDeadlineFiresOnNextRound) {
  auto loop = MakeLoop();
  bool fired = false;
  Timer t(*loop, [&](Timestamp) { fired = true; });
  t.Set(Timestamp::FromNanos(1));
  auto r = loop->RunOnce(Duration::Seconds(5));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(fired);
}

TEST(EpollEventLoop, TimerCanRearmAndDestroyItself) {
  auto loop = MakeLoop();
  int count = 0;
  EventLoop::TimerId id = 0;
  id = loop->CreateTimer([&](Timestamp now) {
    if (++count < 3) {
      loop->SetDeadline(id, now + Duration::Millis(1));
    } else {
      loop->DestroyTimer(id);
    }
  });
  loop->SetDeadline(id, loop->Now());
  RunUntil(*loop, [&] { return count >= 3; });
  EXPECT_EQ(count, 3);
  ASSERT_TRUE(loop->RunOnce(Duration::Millis(10)).ok());
  EXPECT_EQ(count, 3);
}

TEST(EpollEventLoop, FdReadinessCallback) {
  auto loop = MakeLoop();
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  std::vector<std::uint32_t> seen;
  ASSERT_TRUE(loop->RegisterFd(efd, kReadable, [&](std::uint32_t ev) {
    seen.push_back(ev);
    std::uint64_t v;
    ASSERT_EQ(read(efd, &v, sizeof v), 8);
  }).ok());
  auto r = loop->RunOnce(Duration::Millis(10));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);  // not readable yet
  std::uint64_t one = 1;
  ASSERT_EQ(write(efd, &one, sizeof one), 8);
  r = loop->RunOnce(Duration::Seconds(5));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0] & kReadable);

  // Double registration is refused; Modify to writable reports writability.
  EXPECT_EQ(loop->RegisterFd(efd, kReadable, [](std::uint32_t) {}).error().code(),
            Errc::kAlreadyExists);
  seen.clear();
  ASSERT_TRUE(loop->ModifyFd(efd, kWritable).ok());
  // The callback reads, which would fail on an empty eventfd: replace it by
  // re-registering.
  ASSERT_TRUE(loop->UnregisterFd(efd).ok());
  ASSERT_TRUE(loop->RegisterFd(efd, kWritable, [&](std::uint32_t ev) { seen.push_back(ev); }).ok());
  ASSERT_TRUE(loop->RunOnce(Duration::Seconds(1)).ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0] & kWritable);

  ASSERT_TRUE(loop->UnregisterFd(efd).ok());
  EXPECT_EQ(loop->UnregisterFd(efd).error().code(), Errc::kNotFound);
  EXPECT_EQ(loop->ModifyFd(efd, kReadable).error().code(), Errc::kNotFound);
  close(efd);
}

TEST(EpollEventLoop, CallbackUnregisteringAnotherReadyFdSuppressesIt) {
  auto loop = MakeLoop();
  int a = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);  // both readable at once
  int b = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
  int calls = 0;
  auto cb = [&](int other) {
    return [&, other](std::uint32_t) {
      ++calls;
      (void)loop->UnregisterFd(other);
    };
  };
  ASSERT_TRUE(loop->RegisterFd(a, kReadable, cb(b)).ok());
  ASSERT_TRUE(loop->RegisterFd(b, kReadable, cb(a)).ok());
  ASSERT_TRUE(loop->RunOnce(Duration::Seconds(1)).ok());
  EXPECT_EQ(calls, 1);  // whichever ran first removed the other
  close(a);
  close(b);
}

TEST(EpollEventLoop, StopFromAnotherThread) {
  auto loop = MakeLoop();
  std::atomic<bool> returned{false};
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    loop->Stop();
  });
  Timestamp start = loop->Now();
  Status s = loop->Run();  // blocks: no fds, no timers
  returned = true;
  t.join();
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(returned);
  EXPECT_LT(loop->Now() - start, Duration::Seconds(5));
}

TEST(EpollEventLoop, StopBeforeRunReturnsAtOnceAndRunIsReusable) {
  auto loop = MakeLoop();
  loop->Stop();
  EXPECT_TRUE(loop->Run().ok());
  // Stop from a timer callback ends the next Run.
  Timer t(*loop, [&](Timestamp) { loop->Stop(); });
  t.Set(loop->Now() + Duration::Millis(5));
  EXPECT_TRUE(loop->Run().ok());
}

TEST(EpollEventLoop, SignalIsDeliveredThroughSignalfd) {
  auto loop = MakeLoop();
  std::vector<int> got;
  ASSERT_TRUE(loop->HandleSignal(SIGUSR1, [&](int signo) { got.push_back(signo); }).ok());
  ASSERT_TRUE(loop->HandleSignal(SIGUSR2, [&](int signo) {
    got.push_back(signo);
    loop->Stop();
  }).ok());
  // Blocked now, so raise() queues them instead of killing the process.
  ASSERT_EQ(raise(SIGUSR1), 0);
  ASSERT_EQ(raise(SIGUSR2), 0);
  EXPECT_TRUE(loop->Run().ok());
  EXPECT_EQ(got, (std::vector<int>{SIGUSR1, SIGUSR2}));
}

TEST(EpollEventLoop, DestroyingTheLoopRestoresTheSignalMask) {
  {
    auto loop = MakeLoop();
    ASSERT_TRUE(loop->HandleSignal(SIGUSR1, [](int) {}).ok());
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, nullptr, &now);
    EXPECT_TRUE(sigismember(&now, SIGUSR1));
    ASSERT_EQ(raise(SIGUSR1), 0);  // pending when the loop goes away: drained, not fatal
  }
  sigset_t after;
  pthread_sigmask(SIG_BLOCK, nullptr, &after);
  EXPECT_FALSE(sigismember(&after, SIGUSR1));
}

TEST(EpollEventLoop, BadSignalIsAnError) {
  auto loop = MakeLoop();
  EXPECT_EQ(loop->HandleSignal(1000, [](int) {}).error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace mipsec::platform

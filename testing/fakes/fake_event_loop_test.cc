#include "testing/fakes/fake_event_loop.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <vector>

#include "testing/fakes/ready_fd.h"

namespace mipsec::testing {
namespace {

using platform::kReadable;
using platform::Timer;

TEST(FakeEventLoop, TimeJumpsToTheNextDeadline) {
  FakeEventLoop loop;
  Timestamp t0 = loop.Now();
  std::vector<std::pair<int, Timestamp>> fired;
  Timer a(loop, [&](Timestamp now) { fired.push_back({1, now}); });
  Timer b(loop, [&](Timestamp now) { fired.push_back({2, now}); });
  b.Set(t0 + Duration::Seconds(30));
  a.Set(t0 + Duration::Seconds(10));
  auto n = loop.RunOnce(Duration::Infinite());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(loop.Now(), t0 + Duration::Seconds(10));
  ASSERT_TRUE(loop.RunOnce(Duration::Infinite()).ok());
  EXPECT_EQ(loop.Now(), t0 + Duration::Seconds(30));
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0], (std::pair{1, t0 + Duration::Seconds(10)}));
  EXPECT_EQ(fired[1], (std::pair{2, t0 + Duration::Seconds(30)}));
}

TEST(FakeEventLoop, RunOnceWaitsAtMostMaxWait) {
  FakeEventLoop loop;
  Timestamp t0 = loop.Now();
  bool fired = false;
  Timer t(loop, [&](Timestamp) { fired = true; });
  t.Set(t0 + Duration::Seconds(10));
  auto n = loop.RunOnce(Duration::Seconds(4));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_FALSE(fired);
  EXPECT_EQ(loop.Now(), t0 + Duration::Seconds(4));
}

TEST(FakeEventLoop, AdvanceByRunsPeriodicTimersAndCancelWorks) {
  FakeEventLoop loop;
  int ticks = 0;
  platform::EventLoop::TimerId id = loop.CreateTimer([&](Timestamp now) {
    ++ticks;
    loop.SetDeadline(id, now + Duration::Seconds(1));
  });
  loop.SetDeadline(id, loop.Now() + Duration::Seconds(1));
  Timestamp t0 = loop.Now();
  loop.AdvanceBy(Duration::Millis(10'500));
  EXPECT_EQ(ticks, 10);
  EXPECT_EQ(loop.Now(), t0 + Duration::Millis(10'500));
  loop.SetDeadline(id, Timestamp::Infinite());
  loop.AdvanceBy(Duration::Seconds(100));
  EXPECT_EQ(ticks, 10);
  EXPECT_EQ(loop.armed_timers(), 0u);
  loop.DestroyTimer(id);
  EXPECT_TRUE(loop.Deadline(id).IsInfinite());
}

TEST(FakeEventLoop, ReadyFdsAreDispatchedAndIoComesBeforeTime) {
  FakeEventLoop loop;
  ReadyFd r;
  int calls = 0;
  ASSERT_TRUE(loop.RegisterFd(r.fd(), kReadable,
                              [&](std::uint32_t ev) {
                                EXPECT_TRUE(ev & kReadable);
                                ++calls;
                                r.Set(false);
                              })
                  .ok());
  Timestamp t0 = loop.Now();
  bool timer = false;
  Timer t(loop, [&](Timestamp) { timer = true; });
  t.Set(t0 + Duration::Seconds(5));
  r.Set(true);
  auto n = loop.RunOnce(Duration::Infinite());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(timer);
  EXPECT_EQ(loop.Now(), t0);  // time did not move while there was I/O
  EXPECT_EQ(loop.RegisterFd(r.fd(), kReadable, [](std::uint32_t) {}).error().code(),
            Errc::kAlreadyExists);
  ASSERT_TRUE(loop.UnregisterFd(r.fd()).ok());
  EXPECT_EQ(loop.UnregisterFd(r.fd()).error().code(), Errc::kNotFound);
}

TEST(FakeEventLoop, SignalsStopAndIdleRun) {
  FakeEventLoop loop;
  std::vector<int> got;
  ASSERT_TRUE(loop.HandleSignal(SIGHUP, [&](int s) { got.push_back(s); }).ok());
  ASSERT_TRUE(loop.HandleSignal(SIGTERM,
                                [&](int s) {
                                  got.push_back(s);
                                  loop.Stop();
                                })
                  .ok());
  loop.RaiseSignal(SIGHUP);
  loop.RaiseSignal(SIGUSR1);  // no handler: ignored
  loop.RaiseSignal(SIGTERM);
  EXPECT_TRUE(loop.Run().ok());
  EXPECT_EQ(got, (std::vector<int>{SIGHUP, SIGTERM}));
  // Nothing left that could ever happen: Run reports it instead of hanging.
  Status idle = loop.Run();
  ASSERT_FALSE(idle.ok());
  EXPECT_EQ(idle.error().code(), Errc::kState);
}

}  // namespace
}  // namespace mipsec::testing

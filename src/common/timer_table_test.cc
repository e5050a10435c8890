#include "common/timer_table.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "common/bug.h"

namespace mipsec {
namespace {

enum class Timer { kRetransmit, kLifetime, kDpd, kCount };

Timestamp At(std::int64_t seconds) { return Timestamp::Zero() + Duration::Seconds(seconds); }

TEST(TimerTableTest, StartsEmpty) {
  TimerTable<Timer> t;
  EXPECT_EQ(TimerTable<Timer>::kSize, 3u);
  EXPECT_TRUE(t.empty());
  EXPECT_FALSE(t.IsSet(Timer::kDpd));
  EXPECT_EQ(t.Get(Timer::kDpd), std::nullopt);
  EXPECT_EQ(t.Earliest(), std::nullopt);
  EXPECT_TRUE(t.NextDeadline().IsInfinite());
  EXPECT_EQ(t.PopExpired(At(1000)), std::nullopt);
}

TEST(TimerTableTest, SetGetClear) {
  TimerTable<Timer> t;
  t.Set(Timer::kLifetime, At(30));
  EXPECT_TRUE(t.IsSet(Timer::kLifetime));
  EXPECT_EQ(t.Get(Timer::kLifetime), At(30));
  EXPECT_FALSE(t.IsSet(Timer::kRetransmit));
  t.Set(Timer::kLifetime, At(40));  // re-arm replaces
  EXPECT_EQ(t.Get(Timer::kLifetime), At(40));
  t.Clear(Timer::kLifetime);
  EXPECT_FALSE(t.IsSet(Timer::kLifetime));
  EXPECT_TRUE(t.empty());
  t.Set(Timer::kDpd, At(5));
  t.Set(Timer::kDpd, Timestamp::Infinite());  // same as Clear
  EXPECT_FALSE(t.IsSet(Timer::kDpd));
  t.Set(Timer::kRetransmit, At(1));
  t.Set(Timer::kDpd, At(2));
  t.ClearAll();
  EXPECT_TRUE(t.empty());
}

TEST(TimerTableTest, EarliestAndNextDeadline) {
  TimerTable<Timer> t;
  t.Set(Timer::kDpd, At(20));
  t.Set(Timer::kLifetime, At(10));
  auto e = t.Earliest();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->first, Timer::kLifetime);
  EXPECT_EQ(e->second, At(10));
  EXPECT_EQ(t.NextDeadline(), At(10));
  t.Clear(Timer::kLifetime);
  EXPECT_EQ(t.NextDeadline(), At(20));
  EXPECT_EQ(t.Earliest()->first, Timer::kDpd);
}

TEST(TimerTableTest, TiesGoToTheLowerKind) {
  TimerTable<Timer> t;
  t.Set(Timer::kDpd, At(7));
  t.Set(Timer::kLifetime, At(7));
  EXPECT_EQ(t.Earliest()->first, Timer::kLifetime);
  t.Set(Timer::kRetransmit, At(7));
  EXPECT_EQ(t.Earliest()->first, Timer::kRetransmit);
}

TEST(TimerTableTest, PopExpiredDrainsInDeadlineOrder) {
  TimerTable<Timer> t;
  t.Set(Timer::kDpd, At(3));
  t.Set(Timer::kRetransmit, At(5));
  t.Set(Timer::kLifetime, At(3));
  EXPECT_EQ(t.PopExpired(At(2)), std::nullopt);  // nothing due yet
  std::vector<Timer> fired;
  while (std::optional<Timer> k = t.PopExpired(At(4))) fired.push_back(*k);
  EXPECT_EQ(fired, (std::vector<Timer>{Timer::kLifetime, Timer::kDpd}));
  EXPECT_EQ(t.NextDeadline(), At(5));
  // A deadline equal to now has expired.
  EXPECT_EQ(t.PopExpired(At(5)), Timer::kRetransmit);
  EXPECT_TRUE(t.empty());
}

TEST(TimerTableTest, HandlerMayRearmWhileDraining) {
  TimerTable<Timer> t;
  t.Set(Timer::kRetransmit, At(1));
  int fired = 0;
  while (std::optional<Timer> k = t.PopExpired(At(10))) {
    ++fired;
    // Re-arm into the future: must not fire again in this drain.
    t.Set(*k, At(10) + Duration::Seconds(1));
  }
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(t.Get(Timer::kRetransmit), At(11));
}

enum class Small : std::uint8_t { kA, kB };  // no kCount: N given explicitly

TEST(TimerTableTest, ExplicitSize) {
  TimerTable<Small, 2> t;
  t.Set(Small::kB, At(1));
  EXPECT_EQ(t.Earliest()->first, Small::kB);
}

enum class Signed : int { kMinus = -1, kZero = 0, kCount = 1 };

TEST(TimerTableTest, OutOfRangeKindIsABug) {
  const BugMode saved = GetBugMode();
  SetBugMode(BugMode::kLog);
  const std::uint64_t before = BugCount();
  TimerTable<Small, 2> t;
  t.Set(static_cast<Small>(2), At(1));
  EXPECT_TRUE(t.empty());
  EXPECT_FALSE(t.IsSet(static_cast<Small>(7)));
  TimerTable<Signed> s;
  s.Set(Signed::kMinus, At(1));
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(BugCount(), before + 3);
  SetBugMode(BugMode::kAbort);
  EXPECT_DEATH(t.Set(static_cast<Small>(9), At(1)), "timer kind out of range");
  SetBugMode(saved);
}

}  // namespace
}  // namespace mipsec

#include "common/time.h"

#include <gtest/gtest.h>

namespace mipsec {
namespace {

TEST(TimeTest, DurationUnits) {
  EXPECT_EQ(Duration::Seconds(2).millis(), 2000);
  EXPECT_EQ(Duration::Millis(1500).seconds(), 1);
  EXPECT_EQ(Duration::Micros(3).nanos(), 3000);
  EXPECT_DOUBLE_EQ(Duration::Millis(250).SecondsF(), 0.25);
  EXPECT_EQ(Duration::Seconds(1) + Duration::Millis(5), Duration::Millis(1005));
  EXPECT_EQ(Duration::Seconds(3) / 2, Duration::Millis(1500));
  EXPECT_LT(Duration::Millis(999), Duration::Seconds(1));
}

TEST(TimeTest, TimestampArithmetic) {
  Timestamp t0 = Timestamp::FromNanos(1'000);
  Timestamp t1 = t0 + Duration::Millis(7);
  EXPECT_EQ(t1 - t0, Duration::Millis(7));
  EXPECT_EQ(t1 - Duration::Millis(7), t0);
  EXPECT_LT(t0, t1);
}

TEST(TimeTest, InfiniteSaturates) {
  Timestamp inf = Timestamp::Infinite();
  EXPECT_TRUE((inf + Duration::Seconds(1)).IsInfinite());
  EXPECT_TRUE((Timestamp::Zero() + Duration::Infinite()).IsInfinite());
  Timestamp near = Timestamp::FromNanos(INT64_MAX - 5);
  EXPECT_TRUE((near + Duration::Nanos(10)).IsInfinite());
  EXPECT_GT(inf, Timestamp::FromNanos(INT64_MAX - 1));
}

TEST(TimeTest, Formatting) {
  EXPECT_EQ(Duration::Millis(1500).ToString(), "1.500s");
  EXPECT_EQ(Duration::Micros(2500).ToString(), "2.500ms");
  EXPECT_EQ(Duration::Nanos(12'345).ToString(), "12.345us");
  EXPECT_EQ(Duration::Nanos(7).ToString(), "7ns");
  EXPECT_EQ(Duration::Millis(-3).ToString(), "-3.000ms");
  EXPECT_EQ(Timestamp::FromNanos(12'000'250'000).ToString(), "12.000250000");
  EXPECT_EQ(Timestamp::Infinite().ToString(), "inf");
}

}  // namespace
}  // namespace mipsec

#include "mip4/security/ntp_time.h"

#include <gtest/gtest.h>

namespace mipsec::mip4 {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;

TEST(NtpTimeTest, UnixEpochIsNtpSeconds2208988800) {
  // RFC 5905 6: the NTP epoch is 1900; 1970 is 2,208,988,800 s later.
  NtpTime t = NtpTime::FromUnixNanos(0);
  EXPECT_EQ(t.seconds(), 0x83aa7e80u);
  EXPECT_EQ(t.fraction(), 0u);
  EXPECT_EQ(t.ToString(), "0x83aa7e80.00000000");
}

TEST(NtpTimeTest, FractionIsBinary) {
  EXPECT_EQ(NtpTime::FromUnixNanos(kSec / 2).fraction(), 0x80000000u);
  EXPECT_EQ(NtpTime::FromUnixNanos(kSec / 4).fraction(), 0x40000000u);
  EXPECT_EQ(NtpTime::FromUnixNanos(kSec - 1).fraction(), 0xfffffffbu);
}

TEST(NtpTimeTest, BeforeUnixEpochFloors) {
  NtpTime t = NtpTime::FromUnixNanos(-kSec / 2);  // 1969-12-31 23:59:59.5
  EXPECT_EQ(t.seconds(), 0x83aa7e7fu);
  EXPECT_EQ(t.fraction(), 0x80000000u);
}

TEST(NtpTimeTest, Era1StartsIn2036) {
  // 2036-02-07 06:28:16 UTC = Unix 2085978496: NTP seconds wrap to 0.
  NtpTime before = NtpTime::FromUnixNanos((2085978496LL - 1) * kSec);
  NtpTime after = NtpTime::FromUnixNanos(2085978496LL * kSec);
  EXPECT_EQ(before.seconds(), 0xffffffffu);
  EXPECT_EQ(after.seconds(), 0u);
  // Serial arithmetic keeps the order across the rollover.
  EXPECT_TRUE(after.IsAfter(before));
  EXPECT_FALSE(before.IsAfter(after));
  EXPECT_EQ(after.Since(before), Duration::Seconds(1));
  EXPECT_EQ(after.ToUnixNanosNear(2085978000LL * kSec), 2085978496LL * kSec);
}

TEST(NtpTimeTest, RoundTripsThroughUnixNanos) {
  const std::int64_t t = 1'700'000'000LL * kSec + 123'456'789;
  NtpTime n = NtpTime::FromUnixNanos(t);
  EXPECT_NEAR(static_cast<double>(n.ToUnixNanosNear(t)), static_cast<double>(t), 1.0);
  EXPECT_NEAR(static_cast<double>(n.ToUnixNanosNear(t + 3600 * kSec)), static_cast<double>(t), 1.0);
}

TEST(NtpTimeTest, DurationConversions) {
  EXPECT_EQ(DurationToNtpUnits(Duration::Seconds(7)), 7LL << 32);
  EXPECT_EQ(DurationToNtpUnits(Duration::Seconds(-7)), -(7LL << 32));
  EXPECT_EQ(DurationToNtpUnits(Duration::Millis(500)), 1LL << 31);
  EXPECT_EQ(NtpUnitsToDuration(7LL << 32), Duration::Seconds(7));
  EXPECT_EQ(NtpUnitsToDuration(-(1LL << 31)), Duration::Millis(-500));
  EXPECT_EQ(DurationToNtpUnits(Duration::Seconds(1LL << 32)), INT64_MAX);
  NtpTime t = NtpTime::FromParts(100, 0);
  EXPECT_EQ(t.Plus(Duration::Millis(1500)), NtpTime::FromParts(101, 0x80000000u));
  EXPECT_EQ(t.Plus(Duration::Seconds(-1)), NtpTime::FromParts(99, 0));
  EXPECT_EQ(t.Plus(Duration::Millis(1500)).Since(t), Duration::Millis(1500));
}

TEST(NtpTimeTest, WallClockMappingFollowsMonotonicTime) {
  WallClockMapping m{Timestamp::FromNanos(5 * kSec), 0};
  EXPECT_EQ(m.At(Timestamp::FromNanos(5 * kSec)), NtpTime::FromParts(0x83aa7e80u, 0));
  EXPECT_EQ(m.At(Timestamp::FromNanos(15 * kSec + kSec / 2)),
            NtpTime::FromParts(0x83aa7e80u + 10, 0x80000000u));
}

}  // namespace
}  // namespace mipsec::mip4

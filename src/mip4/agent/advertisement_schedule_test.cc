#include "mip4/agent/advertisement_schedule.h"

#include <gtest/gtest.h>

namespace mipsec::mip4 {
namespace {

TEST(AdvertisementScheduleTest, SequenceNumbersWrapTo256) {
  // RFC 5944 2.3.2: 0xffff is followed by 256, not 0.
  EXPECT_EQ(NextAdvertisementSequence(0), 1);
  EXPECT_EQ(NextAdvertisementSequence(255), 256);
  EXPECT_EQ(NextAdvertisementSequence(0xfffe), 0xffff);
  EXPECT_EQ(NextAdvertisementSequence(0xffff), 256);
  AdvertisementSchedule s({});
  EXPECT_EQ(s.TakeSequence(), 0);
  EXPECT_EQ(s.TakeSequence(), 1);
  EXPECT_EQ(s.next_sequence(), 2);
}

TEST(AdvertisementScheduleTest, InitialAdvertisementsAreAtMost16SecondsApart) {
  DeterministicRandom rng(1);
  AdvertisementTiming t;
  t.max_interval = Duration::Seconds(600);  // RFC 1256 default
  AdvertisementSchedule s(t);
  EXPECT_EQ(s.NextDue(), Timestamp::Infinite());  // not started
  Timestamp now = Timestamp::FromNanos(5);
  s.Start(now);
  EXPECT_EQ(s.NextDue(), now);
  for (int i = 1; i <= 6; ++i) {
    s.OnMulticastSent(now, rng);
    const Duration gap = s.NextDue() - now;
    if (i <= kMaxInitialAdvertisements) {
      EXPECT_EQ(gap, kMaxInitialAdvertInterval) << i;  // min (450 s) capped to 16 s
    } else {
      EXPECT_GE(gap, Duration::Seconds(450)) << i;
      EXPECT_LE(gap, Duration::Seconds(600)) << i;
    }
    now = s.NextDue();
  }
}

TEST(AdvertisementScheduleTest, IntervalsAreRandomWithinBounds) {
  DeterministicRandom rng(2);
  AdvertisementTiming t;
  t.max_interval = Duration::Seconds(8);
  t.min_interval = Duration::Seconds(2);
  AdvertisementSchedule s(t);
  Timestamp now;
  s.Start(now);
  Duration lo = Duration::Seconds(100), hi = Duration::Zero();
  for (int i = 0; i < 200; ++i) {
    s.OnMulticastSent(now, rng);
    const Duration gap = s.NextDue() - now;
    lo = std::min(lo, gap);
    hi = std::max(hi, gap);
    now = s.NextDue();
  }
  EXPECT_GE(lo, Duration::Seconds(2));
  EXPECT_LE(hi, Duration::Seconds(8));
  EXPECT_LT(lo, Duration::Seconds(3));  // spread over the range, not fixed
  EXPECT_GT(hi, Duration::Seconds(7));
}

TEST(AdvertisementScheduleTest, SolicitedOnlyHasNoPeriodicAdvertisements) {
  DeterministicRandom rng(3);
  AdvertisementTiming t;
  t.solicited_only = true;
  AdvertisementSchedule s(t);
  s.Start(Timestamp());
  EXPECT_EQ(s.NextDue(), Timestamp::Infinite());
  s.OnSolicitation(Timestamp::FromNanos(100), rng);
  EXPECT_LE(s.NextDue(), Timestamp::FromNanos(100) + kMaxResponseDelay);
  s.OnMulticastSent(s.NextDue(), rng);
  EXPECT_EQ(s.NextDue(), Timestamp::Infinite());
}

TEST(AdvertisementScheduleTest, SolicitedMulticastIsRateLimited) {
  DeterministicRandom rng(4);
  AdvertisementTiming t;
  t.max_response_delay = Duration::Zero();
  t.min_multicast_gap = Duration::Seconds(1);
  AdvertisementSchedule s(t);
  const Timestamp t0 = Timestamp::FromNanos(1'000'000'000);
  s.Start(t0);
  s.OnMulticastSent(t0, rng);
  s.OnSolicitation(t0 + Duration::Millis(100), rng);
  EXPECT_EQ(s.NextDue(), t0 + Duration::Seconds(1));  // RFC 5944 2.3 MUST limit
  s.OnSolicitation(t0 + Duration::Millis(200), rng);
  EXPECT_EQ(s.NextDue(), t0 + Duration::Seconds(1));  // merged
}

TEST(AdvertisementScheduleTest, TimingIsValidated) {
  AdvertisementTiming t;
  EXPECT_TRUE(ValidateAdvertisementTiming(t).ok());
  t.max_interval = Duration::Seconds(1801);
  EXPECT_FALSE(ValidateAdvertisementTiming(t).ok());
  t.max_interval = Duration::Millis(100);  // the daemons' configs allow it
  EXPECT_TRUE(ValidateAdvertisementTiming(t).ok());
  t.max_interval = Duration::Millis(99);
  EXPECT_FALSE(ValidateAdvertisementTiming(t).ok());
  t.max_interval = Duration::Seconds(10);
  t.min_interval = Duration::Seconds(11);
  EXPECT_FALSE(ValidateAdvertisementTiming(t).ok());
}

TEST(AdvertisementScheduleTest, SetTimingTakesEffectAtOnceAndKeepsTheSequence) {
  DeterministicRandom rng(3);
  AdvertisementTiming slow;
  slow.max_interval = Duration::Seconds(600);
  AdvertisementSchedule s(slow);
  Timestamp now = Timestamp::FromNanos(5);
  s.Start(now);
  for (int i = 0; i < 6; ++i) {  // past the initial burst
    (void)s.TakeSequence();
    s.OnMulticastSent(now, rng);
    now = s.NextDue();
  }
  s.OnMulticastSent(now, rng);
  ASSERT_GE(s.NextDue() - now, Duration::Seconds(450));
  const std::uint16_t seq = s.next_sequence();
  AdvertisementTiming fast;
  fast.max_interval = Duration::Seconds(4);
  s.SetTiming(fast, now);
  EXPECT_LE(s.NextDue(), now + Duration::Seconds(4));  // not 450 s away any more
  now = s.NextDue();
  s.OnMulticastSent(now, rng);
  EXPECT_GE(s.NextDue() - now, Duration::Seconds(3));  // 0.75 of the new maximum
  EXPECT_LE(s.NextDue() - now, Duration::Seconds(4));
  EXPECT_EQ(s.next_sequence(), seq);
  AdvertisementTiming solicited = fast;
  solicited.solicited_only = true;
  s.SetTiming(solicited, now);
  EXPECT_EQ(s.NextDue(), Timestamp::Infinite());
}

}  // namespace
}  // namespace mipsec::mip4

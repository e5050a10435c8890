#include "sim/link_model.h"

#include <gtest/gtest.h>

namespace mipsec::sim {
namespace {

TEST(LinkModelTest, NoImpairmentByDefault) {
  LinkModel m(LinkParams{}, 1);
  for (int i = 0; i < 1000; ++i) {
    PacketFate f = m.Next();
    ASSERT_FALSE(f.lost);
    ASSERT_FALSE(f.duplicated);
    ASSERT_EQ(f.extra_delay, Duration::Zero());
  }
}

TEST(LinkModelTest, RandomLossRateIsClose) {
  LinkParams p;
  p.loss = 0.1;
  LinkModel m(p, 7);
  int lost = 0;
  for (int i = 0; i < 20000; ++i) lost += m.Next().lost;
  EXPECT_NEAR(lost / 20000.0, 0.1, 0.01);
}

TEST(LinkModelTest, BurstLossClustersLosses) {
  // Same average loss, but in bursts: many more consecutive losses.
  LinkParams p;
  p.burst_enter = 0.01;
  p.burst_exit = 0.1;  // mean burst 10 packets
  p.burst_loss = 1.0;
  LinkModel m(p, 3);
  int lost = 0, runs = 0;
  bool prev = false;
  for (int i = 0; i < 50000; ++i) {
    bool l = m.Next().lost;
    lost += l;
    if (l && !prev) ++runs;
    prev = l;
  }
  ASSERT_GT(runs, 0);
  EXPECT_GT(static_cast<double>(lost) / runs, 5.0);  // mean burst length
}

TEST(LinkModelTest, SameSeedSameFatesDifferentSeedDifferent) {
  LinkParams p;
  p.loss = 0.3;
  p.duplicate = 0.1;
  p.jitter = Duration::Millis(3);
  LinkModel a(p, 11), b(p, 11), c(p, 12);
  int differ = 0;
  for (int i = 0; i < 500; ++i) {
    PacketFate fa = a.Next(), fb = b.Next(), fc = c.Next();
    ASSERT_EQ(fa.lost, fb.lost);
    ASSERT_EQ(fa.extra_delay, fb.extra_delay);
    differ += fa.lost != fc.lost;
  }
  EXPECT_GT(differ, 0);
}

TEST(LinkModelTest, JitterAndReorderBounds) {
  LinkParams p;
  p.jitter = Duration::Millis(2);
  p.reorder = 0.5;
  p.reorder_delay = Duration::Millis(10);
  LinkModel m(p, 5);
  int reordered = 0;
  for (int i = 0; i < 1000; ++i) {
    PacketFate f = m.Next();
    ASSERT_GE(f.extra_delay, Duration::Zero());
    ASSERT_LE(f.extra_delay, Duration::Millis(12));
    reordered += f.reordered;
  }
  EXPECT_GT(reordered, 400);
  EXPECT_LT(reordered, 600);
}

TEST(LinkParamsTest, ValidateNamesTheField) {
  LinkParams p;
  EXPECT_TRUE(p.Validate().ok());
  p.loss = 1.5;
  EXPECT_EQ(p.Validate().error().detail(), "loss: must be a probability in [0, 1]");
  p = LinkParams{};
  p.mtu = 40;
  EXPECT_EQ(p.Validate().error().detail(), "mtu: must be at least 68 (RFC 791)");
  p = LinkParams{};
  p.delay = Duration::Millis(-1);
  EXPECT_FALSE(p.Validate().ok());
}

}  // namespace
}  // namespace mipsec::sim

#include "sim/simulator.h"

#include <vector>

#include <gtest/gtest.h>

namespace mipsec::sim {
namespace {

class Recorder : public EventHandler {
 public:
  explicit Recorder(Simulator& sim) : sim_(sim) {}
  void OnEvent(std::uint64_t token, PacketPtr packet) override {
    seen.push_back({sim_.now(), token, packet ? packet->id : 0});
  }
  struct Seen {
    Timestamp at;
    std::uint64_t token;
    std::uint64_t packet_id;
  };
  std::vector<Seen> seen;

 private:
  Simulator& sim_;
};

Timestamp Ms(int ms) { return Timestamp::Zero() + Duration::Millis(ms); }

TEST(SimulatorTest, RunsEventsInTimeThenInsertionOrder) {
  Simulator sim(1);
  Recorder r(sim);
  sim.Schedule(Ms(5), &r, 1);
  sim.Schedule(Ms(2), &r, 2);
  sim.Schedule(Ms(5), &r, 3);  // same time as 1: after it
  sim.Schedule(Ms(2), &r, 4);
  sim.RunUntil(Ms(10));
  ASSERT_EQ(r.seen.size(), 4u);
  EXPECT_EQ(r.seen[0].token, 2u);
  EXPECT_EQ(r.seen[1].token, 4u);
  EXPECT_EQ(r.seen[2].token, 1u);
  EXPECT_EQ(r.seen[3].token, 3u);
  EXPECT_EQ(r.seen[2].at, Ms(5));
  EXPECT_EQ(sim.now(), Ms(10));
  EXPECT_EQ(sim.events_processed(), 4u);
}

TEST(SimulatorTest, PastIsClampedToNowAndPacketsTravelWithEvents) {
  Simulator sim(1);
  Recorder r(sim);
  sim.RunUntil(Ms(3));
  sim.Schedule(Ms(1), &r, 7, sim.NewPacket({1, 2, 3}));
  EXPECT_TRUE(sim.Step());
  ASSERT_EQ(r.seen.size(), 1u);
  EXPECT_EQ(r.seen[0].at, Ms(3));
  EXPECT_NE(r.seen[0].packet_id, 0u);
  EXPECT_FALSE(sim.Step());
}

TEST(SimulatorTest, RunUntilConditionStopsEarlyOrAtLimit) {
  Simulator sim(1);
  int count = 0;
  for (int i = 1; i <= 10; ++i) sim.ScheduleFn(Ms(i), [&] { ++count; });
  EXPECT_TRUE(sim.RunUntilCondition([&] { return count == 3; }, Ms(100)));
  EXPECT_EQ(sim.now(), Ms(3));
  EXPECT_FALSE(sim.RunUntilCondition([&] { return count == 99; }, Ms(50)));
  EXPECT_EQ(count, 10);
  EXPECT_EQ(sim.now(), Ms(50));
}

TEST(SimTimerTest, RearmAndCancelInvalidateQueuedEvents) {
  Simulator sim(1);
  std::vector<Timestamp> fired;
  SimTimer t(sim, [&](Timestamp now) { fired.push_back(now); });
  t.Set(Ms(10));
  t.Set(Ms(4));   // earlier
  t.Set(Ms(6));   // later again: only this one counts
  sim.RunUntil(Ms(20));
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0], Ms(6));
  EXPECT_FALSE(t.armed());
  t.Set(Ms(30));
  t.Cancel();
  sim.RunUntil(Ms(40));
  EXPECT_EQ(fired.size(), 1u);
}

TEST(SimTimerTest, CallbackMayRearm) {
  Simulator sim(1);
  int n = 0;
  SimTimer* self = nullptr;
  SimTimer t(sim, [&](Timestamp now) {
    if (++n < 3) self->Set(now + Duration::Millis(1));
  });
  self = &t;
  t.Set(Ms(1));
  sim.RunUntil(Ms(10));
  EXPECT_EQ(n, 3);
}

TEST(SimulatorTest, DerivedSeedsAreStableAndDistinct) {
  Simulator a(42), b(42), c(43);
  EXPECT_EQ(a.DeriveSeed("segment/home"), b.DeriveSeed("segment/home"));
  EXPECT_NE(a.DeriveSeed("segment/home"), a.DeriveSeed("segment/ext"));
  EXPECT_NE(a.DeriveSeed("segment/home"), c.DeriveSeed("segment/home"));
}

TEST(SimLogSinkTest, StampsVirtualTime) {
  Simulator sim(1);
  SimLogSink sink(sim);
  Logger log(&sink, "sim.test");
  sim.ScheduleFn(Ms(1500), [&] { MIPSEC_LOG(log, kInfo) << "hello"; });
  sim.RunUntil(Ms(2000));
  ASSERT_EQ(sink.lines().size(), 1u);
  EXPECT_EQ(sink.lines()[0], "1.500000000 info    [sim.test] hello");
}

}  // namespace
}  // namespace mipsec::sim

#include "sim/apps/udp_stream.h"

#include <gtest/gtest.h>

#include "sim/network.h"

namespace mipsec::sim {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

class UdpStreamTest : public ::testing::Test {
 protected:
  explicit UdpStreamTest(LinkParams p = {}) : net_(5) {
    EXPECT_TRUE(net_.AddSegment("lan", p).ok());
    EXPECT_TRUE(net_.AddNode("cn", false).ok());
    EXPECT_TRUE(net_.AddNode("mn", false).ok());
    EXPECT_TRUE(net_.Connect("cn", "eth0", "lan", A("10.0.0.1"), 24).ok());
    EXPECT_TRUE(net_.Connect("mn", "eth0", "lan", A("10.0.0.2"), 24).ok());
  }
  std::pair<std::unique_ptr<StreamSender>, std::unique_ptr<StreamEchoer>> Start(Duration stop) {
    auto echo = StreamEchoer::Create(*net_.FindNode("mn"), 7000);
    EXPECT_TRUE(echo.ok());
    StreamConfig c;
    c.target = {A("10.0.0.2"), 7000};
    c.interval = Duration::Millis(10);
    c.stop = Timestamp::Zero() + stop;
    auto send = StreamSender::Create(*net_.FindNode("cn"), c);
    EXPECT_TRUE(send.ok());
    return {std::move(*send), std::move(*echo)};
  }
  Network net_;
};

TEST_F(UdpStreamTest, CleanLinkDeliversEverythingWithIntervalGaps) {
  auto [send, echo] = Start(Duration::Seconds(1));
  net_.sim().RunFor(Duration::Seconds(2));
  StreamReport r = ScoreStream(*send, *echo, net_.sim().now());
  EXPECT_EQ(r.forward.sent, 100u);
  EXPECT_EQ(r.forward.delivered, 100u);
  EXPECT_EQ(r.forward.lost, 0u);
  EXPECT_EQ(r.reverse.delivered, 100u);
  EXPECT_EQ(r.forward.longest_gap, Duration::Millis(10));
}

TEST_F(UdpStreamTest, OutageShowsAsLossAndGap) {
  auto [send, echo] = Start(Duration::Seconds(3));
  Segment* lan = net_.FindSegment("lan");
  net_.sim().ScheduleFn(Timestamp::Zero() + Duration::Millis(1005), [&] { lan->SetUp(false); });
  net_.sim().ScheduleFn(Timestamp::Zero() + Duration::Millis(1505), [&] { lan->SetUp(true); });
  net_.sim().RunFor(Duration::Seconds(4));
  StreamReport r = ScoreStream(*send, *echo, net_.sim().now());
  EXPECT_EQ(r.forward.sent, 300u);
  EXPECT_EQ(r.forward.lost, 50u);  // 1.01 .. 1.50 s
  EXPECT_EQ(r.forward.delivered, 250u);
  EXPECT_EQ(r.forward.longest_gap, Duration::Millis(510));
  EXPECT_EQ(r.reverse.delivered, 250u);
  EXPECT_EQ(r.reverse.lost, 0u);  // nothing was echoed during the outage
}

class LossyStreamTest : public UdpStreamTest {
 protected:
  static LinkParams Lossy() {
    LinkParams p;
    p.loss = 0.05;
    p.duplicate = 0.02;
    p.reorder = 0.05;
    p.reorder_delay = Duration::Millis(25);
    return p;
  }
  LossyStreamTest() : UdpStreamTest(Lossy()) {}
};

TEST_F(LossyStreamTest, CountsAreConsistent) {
  auto [send, echo] = Start(Duration::Seconds(20));
  net_.sim().RunFor(Duration::Seconds(22));
  StreamReport r = ScoreStream(*send, *echo, net_.sim().now());
  EXPECT_EQ(r.forward.sent, 2000u);
  EXPECT_EQ(r.forward.delivered + r.forward.lost, r.forward.sent);
  EXPECT_NEAR(static_cast<double>(r.forward.lost), 100.0, 35.0);
  EXPECT_GT(r.forward.duplicated, 10u);
  EXPECT_GT(r.forward.reordered, 20u);
  EXPECT_EQ(r.reverse.sent, echo->echoes_sent());
  EXPECT_EQ(r.reverse.delivered + r.reverse.lost, r.reverse.sent);
}

TEST(StreamConfigTest, BadConfigNamesTheField) {
  StreamConfig c;
  c.target = {A("10.0.0.2"), 7000};
  c.payload_size = 10;
  EXPECT_EQ(c.Validate().error().detail(), "payload_size: must be at least 29 bytes");
  c.payload_size = 64;
  c.interval = Duration::Nanos(1);
  EXPECT_FALSE(c.Validate().ok());
}

TEST(StreamScoreTest, ForeignAndHugeSequenceNumbersAreContained) {
  StreamScore s;
  s.OnArrival(1ull << 40, Timestamp::Zero());
  s.OnForeign();
  StreamStats st = s.Finish(0, {}, Timestamp::Zero(), Duration::Zero());
  EXPECT_EQ(st.foreign, 2u);
  EXPECT_EQ(st.delivered, 0u);
}

}  // namespace
}  // namespace mipsec::sim

#include "testing/fakes/fake_tun.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <array>

namespace mipsec::testing {
namespace {

using platform::PacketBuf;

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

const Bytes kV4{0x45, 0, 0, 20, 1, 2, 3, 4, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};

TEST(FakeTun, InjectedPacketsAreReadAfterTheHeadroom) {
  FakeTun tun("tun7", 42);
  EXPECT_EQ(tun.name(), "tun7");
  EXPECT_EQ(tun.ifindex(), 42);
  EXPECT_FALSE(Readable(tun.fd()));
  ASSERT_TRUE(tun.InjectPacket(kV4));
  Bytes second = kV4;
  second[19] = 3;
  ASSERT_TRUE(tun.InjectPacket(second));
  EXPECT_TRUE(Readable(tun.fd()));

  std::array<std::array<std::uint8_t, 64>, 4> space{};
  for (auto& s : space) s.fill(0xee);
  std::array<PacketBuf, 4> bufs;
  for (std::size_t i = 0; i < bufs.size(); ++i) bufs[i].buffer = space[i];
  auto n = tun.ReadBatch(bufs, 16);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 2u);
  EXPECT_EQ(bufs[0].length, kV4.size());
  EXPECT_TRUE(std::equal(kV4.begin(), kV4.end(), bufs[0].Packet(16).begin()));
  EXPECT_EQ(bufs[1].Packet(16)[19], 3);
  EXPECT_EQ(space[0][15], 0xee);  // headroom untouched
  EXPECT_FALSE(Readable(tun.fd()));
  EXPECT_EQ(*tun.ReadBatch(bufs, 16), 0u);
}

TEST(FakeTun, LongPacketIsTruncatedLikeTheKernel) {
  FakeTun tun;
  Bytes big(100, 0x45);
  ASSERT_TRUE(tun.InjectPacket(big));
  std::array<std::uint8_t, 40> space{};
  PacketBuf b{space};
  ASSERT_EQ(*tun.ReadBatch(std::span(&b, 1), 8), 1u);
  EXPECT_EQ(b.length, 32u);
}

TEST(FakeTun, WritesAreRecordedAndNonIpIsRefused) {
  FakeTun tun;
  Bytes a(8, 0);
  a.insert(a.end(), kV4.begin(), kV4.end());
  Bytes junk(8 + 20, 0);  // version 0
  std::array<PacketBuf, 3> bufs{PacketBuf{a, kV4.size()}, PacketBuf{a, kV4.size()},
                                PacketBuf{junk, 20}};
  auto n = tun.WriteBatch(bufs, 8);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);  // stops before the bad one
  auto bad = tun.WriteBatch(std::span(bufs).subspan(2), 8);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail().find("write tun0 (20 bytes): Invalid argument"),
            std::string::npos);
  ASSERT_EQ(tun.written().size(), 2u);
  EXPECT_EQ(*tun.PopWritten(), kV4);
  EXPECT_EQ(*tun.PopWritten(), kV4);
  EXPECT_FALSE(tun.PopWritten().has_value());
}

TEST(FakeTun, QueueLimitDrops) {
  FakeTun tun;
  tun.set_queue_limit(2);
  EXPECT_TRUE(tun.InjectPacket(kV4));
  EXPECT_TRUE(tun.InjectPacket(kV4));
  EXPECT_FALSE(tun.InjectPacket(kV4));
  EXPECT_EQ(tun.dropped(), 1u);
  EXPECT_EQ(tun.pending_reads(), 2u);
}

}  // namespace
}  // namespace mipsec::testing

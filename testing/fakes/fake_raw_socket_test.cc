#include "testing/fakes/fake_raw_socket.h"

#include <gtest/gtest.h>

#include <array>

#include "common/checksum.h"
#include "testing/fakes/test_addresses.h"

namespace mipsec::testing {
namespace {

using platform::Datagram;
using platform::OutgoingDatagram;
using platform::RawSocketOptions;

Bytes Packet(Ipv4Address src, Ipv4Address dst, std::uint8_t proto, Bytes payload) {
  Bytes p{0x45, 0x10, 0, 0, 0, 1, 0, 0, 1, proto, 0, 0};
  for (auto a : {src, dst}) {
    for (std::uint8_t b : a.ToBytes()) p.push_back(b);
  }
  p.insert(p.end(), payload.begin(), payload.end());
  p[3] = static_cast<std::uint8_t>(p.size());
  return p;
}

TEST(FakeRawSocket, AcceptsLikeALinuxRawSocket) {
  RawSocketOptions o;
  o.icmp_types = {9};
  FakeRawSocket s(o);
  const auto src = Ip("10.7.0.1");
  EXPECT_TRUE(s.Inject(Packet(src, Ipv4Address::Broadcast(), 1, {9, 0, 0, 0}), 3));
  EXPECT_FALSE(s.Inject(Packet(src, Ipv4Address::Broadcast(), 1, {10, 0, 0, 0})));  // filtered type
  EXPECT_FALSE(s.Inject(Packet(src, Ipv4Address::Broadcast(), 4, {9, 0, 0, 0})));  // other protocol
  EXPECT_FALSE(s.Inject(Packet(src, Ip("224.0.0.2"), 1, {9, 0, 0, 0})));           // not joined
  EXPECT_TRUE(s.Inject(Packet(src, Ip("224.0.0.1"), 1, {9, 0, 0, 0})));            // all-hosts
  ASSERT_TRUE(s.JoinMulticast(Ip("224.0.0.2"), 0).ok());
  EXPECT_FALSE(s.JoinMulticast(Ip("224.0.0.2"), 0).ok());
  EXPECT_FALSE(s.JoinMulticast(Ip("10.0.0.2"), 0).ok());
  EXPECT_TRUE(s.Inject(Packet(src, Ip("224.0.0.2"), 1, {9, 0, 0, 0})));

  std::array<std::array<std::uint8_t, 64>, 4> space{};
  std::array<Datagram, 4> in;
  for (std::size_t i = 0; i < in.size(); ++i) in[i].buffer = space[i];
  auto n = s.RecvBatch(in);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 3u);
  EXPECT_EQ(in[0].remote.address, src);
  EXPECT_EQ(in[0].local.address, Ipv4Address::Broadcast());
  EXPECT_EQ(in[0].ifindex, 3);
  EXPECT_EQ(in[0].tos, 0x10);
  EXPECT_EQ(in[0].length, 24u);
  EXPECT_EQ(in[2].local.address, Ip("224.0.0.2"));
  ASSERT_TRUE(s.LeaveMulticast(Ip("224.0.0.2"), 0).ok());
  EXPECT_FALSE(s.LeaveMulticast(Ip("224.0.0.2"), 0).ok());
}

TEST(FakeRawSocket, SendBuildsTheHeaderTheKernelWould) {
  RawSocketOptions o;
  o.broadcast = false;
  o.ttl = 33;
  FakeRawSocket s(o, Ip("10.7.0.2"));
  OutgoingDatagram d{AsBytes("\x0a"), Ipv4Endpoint{Ip("224.0.0.2"), 0}};
  ASSERT_TRUE(s.Send(d).ok());
  d.remote.address = Ip("10.7.0.1");
  d.source = Ip("10.7.0.99");
  ASSERT_TRUE(s.Send(d).ok());
  d.remote.address = Ipv4Address::Broadcast();
  EXPECT_FALSE(s.Send(d).ok());  // no SO_BROADCAST
  ASSERT_EQ(s.sent().size(), 2u);
  const Bytes& m = s.sent()[0].packet;
  ASSERT_EQ(m.size(), 21u);
  EXPECT_EQ(m[8], 1);  // multicast TTL
  EXPECT_EQ(m[9], 1);
  EXPECT_EQ(m[15], 2);  // routing's source 10.7.0.2
  EXPECT_TRUE(ChecksumIsValid(ByteSpan(m.data(), 20)));
  const Bytes& u = s.sent()[1].packet;
  EXPECT_EQ(u[8], 33);
  EXPECT_EQ(u[15], 99);
  EXPECT_FALSE(s.sent()[1].header_included);
}

TEST(FakeRawSocket, SendIpPacketFillsWhatTheKernelFills) {
  RawSocketOptions o;
  o.protocol = platform::kIpProtoIpip;
  FakeRawSocket s(o, Ip("192.0.2.5"));
  Bytes p = Packet(Ipv4Address::Any(), Ip("198.51.100.1"), 4, Bytes(20, 0x45));
  p[4] = p[5] = 0;  // id 0
  ASSERT_TRUE(s.SendIpPacket(p, 7).ok());
  ASSERT_EQ(s.sent().size(), 1u);
  const auto& sent = s.sent()[0];
  EXPECT_TRUE(sent.header_included);
  EXPECT_EQ(sent.ifindex, 7);
  EXPECT_EQ(sent.destination, Ip("198.51.100.1"));
  EXPECT_EQ(sent.packet[15], 5);                         // source filled
  EXPECT_NE((sent.packet[4] << 8) | sent.packet[5], 0);  // id filled
  EXPECT_TRUE(ChecksumIsValid(ByteSpan(sent.packet.data(), 20)));
  EXPECT_EQ(s.SendIpPacket(AsBytes("no")).error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace mipsec::testing

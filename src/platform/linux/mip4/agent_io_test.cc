// agent_io over loopback UDP (no privileges): options, ToUdpReceived,
// SendTransmit and TransmitBatch for UdpTransmits, RecvBuffers reuse.
#include "platform/linux/mip4/agent_io.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace mipsec::mip4d {
namespace {

constexpr Ipv4Address kLo1 = Ipv4Address::FromOctets(127, 0, 0, 1);
constexpr Ipv4Address kLo2 = Ipv4Address::FromOctets(127, 0, 0, 2);

AgentSockets OpenUdpOnly(std::uint16_t port = 0) {
  AgentSocketOptions o;
  o.bind_address = kLo1;
  o.port = port;
  o.open_ipip = false;
  o.open_icmp = false;
  auto s = OpenAgentSockets(o);
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return std::move(s).value();
}

// Receives up to `want` datagrams within ~2 s.
std::vector<platform::Datagram> RecvAll(AgentSockets& s, RecvBuffers& rx, std::size_t want) {
  std::vector<platform::Datagram> got;
  for (int i = 0; i < 200 && got.size() < want; ++i) {
    const std::size_t room = std::min(rx.slots().size(), want - got.size());
    auto n = s.udp->RecvBatch(rx.slots().subspan(0, room));
    EXPECT_TRUE(n.ok());
    if (!n.ok()) break;
    for (std::size_t k = 0; k < *n; ++k) got.push_back(rx.slots()[k]);
    if (*n == 0) usleep(10'000);
  }
  return got;
}

std::string Str(ByteSpan b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

TEST(AgentIo, UdpTransmitBecomesADatagramWithSourceTtlAndPort) {
  AgentSockets agent = OpenUdpOnly();
  AgentSockets peer = OpenUdpOnly();
  ASSERT_NE(agent.udp, nullptr);
  EXPECT_EQ(agent.ipip, nullptr);
  EXPECT_EQ(agent.raw_sender(), nullptr);

  mip4::UdpTransmit t;
  t.local = Ipv4Endpoint{kLo2, 9999};  // the port is the socket's, not this
  t.remote = peer.udp->local();
  t.ttl = 255;  // RFC 3024 4.1.1-style fixed TTL
  t.payload = Bytes{'r', 'e', 'q'};
  ASSERT_TRUE(SendTransmit(agent, std::move(t)).ok());
  EXPECT_EQ(agent.counters.udp_sent, 1u);

  RecvBuffers rx(4, 256);
  std::vector<platform::Datagram> got = RecvAll(peer, rx, 1);
  ASSERT_EQ(got.size(), 1u);
  mip4::UdpReceived r = ToUdpReceived(got[0]);
  EXPECT_EQ(Str(r.payload), "req");
  EXPECT_EQ(r.remote, (Ipv4Endpoint{kLo2, agent.udp->local().port}));
  EXPECT_EQ(r.local, peer.udp->local());
  EXPECT_EQ(r.ifindex, static_cast<int>(if_nametoindex("lo")));
  ASSERT_TRUE(r.ttl.has_value());  // agent sockets always ask for IP_RECVTTL
  EXPECT_EQ(*r.ttl, 255);
}

TEST(AgentIo, ToUdpReceivedWithoutTtl) {
  std::uint8_t buf[4] = {1, 2, 3, 4};
  platform::Datagram d;
  d.buffer = MutableByteSpan(buf, 4);
  d.length = 3;
  d.remote = Ipv4Endpoint{kLo2, 7};
  d.local = Ipv4Endpoint{kLo1, 434};
  d.ifindex = 9;
  mip4::UdpReceived r = ToUdpReceived(d);
  EXPECT_EQ(r.payload.size(), 3u);
  EXPECT_EQ(r.payload.data(), buf);  // borrowed, not copied
  EXPECT_EQ(r.remote, d.remote);
  EXPECT_EQ(r.local, d.local);
  EXPECT_EQ(r.ifindex, 9);
  EXPECT_FALSE(r.ttl.has_value());
}

TEST(AgentIo, IpTransmitWithoutRawSocketIsAStateError) {
  AgentSockets agent = OpenUdpOnly();
  mip4::IpTransmit t;
  t.packet = Bytes(28, 0);
  Status s = SendTransmit(agent, std::move(t));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kState);
  EXPECT_EQ(agent.counters.raw_sent, 0u);
}

TEST(AgentIo, TransmitBatchSendsManyInOrderAndReusesBuffers) {
  AgentSockets agent = OpenUdpOnly();
  AgentSockets peer = OpenUdpOnly();
  TransmitBatch batch;
  RecvBuffers rx(64, 128);
  for (int round = 0; round < 3; ++round) {
    constexpr int kCount = 150;  // more than one sendmmsg / recvmmsg chunk
    for (int i = 0; i < kCount; ++i) {
      mip4::UdpTransmit t;
      t.remote = peer.udp->local();
      std::string p = std::to_string(round) + ":" + std::to_string(i);
      t.payload = Bytes(p.begin(), p.end());
      batch.Add(std::move(t));
    }
    EXPECT_EQ(batch.size(), static_cast<std::size_t>(kCount));
    ASSERT_TRUE(batch.Flush(agent).ok());
    EXPECT_EQ(batch.size(), 0u);
    std::vector<std::string> got;
    for (int i = 0; i < 200 && got.size() < kCount; ++i) {
      auto n = peer.udp->RecvBatch(rx.slots());
      ASSERT_TRUE(n.ok());
      for (std::size_t k = 0; k < *n; ++k) got.push_back(Str(rx.slots()[k].data()));
      if (*n == 0) usleep(5'000);
    }
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kCount));
    for (int i = 0; i < kCount; ++i) {
      EXPECT_EQ(got[i], std::to_string(round) + ":" + std::to_string(i));
    }
  }
  EXPECT_EQ(agent.counters.udp_sent, 450u);
  EXPECT_EQ(agent.counters.send_errors, 0u);
}

TEST(AgentIo, TransmitBatchDropsAFailingDatagramAndSendsTheRest) {
  AgentSockets agent = OpenUdpOnly();
  AgentSockets peer = OpenUdpOnly();
  TransmitBatch batch;
  mip4::UdpTransmit bad;
  bad.local = Ipv4Endpoint{Ipv4Address::FromOctets(203, 0, 113, 9), 0};  // not local
  bad.remote = peer.udp->local();
  bad.payload = Bytes{'x'};
  mip4::UdpTransmit good;
  good.remote = peer.udp->local();
  good.payload = Bytes{'y'};
  batch.Add(std::move(bad));
  batch.Add(std::move(good));
  Status s = batch.Flush(agent);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(agent.counters.send_errors, 1u);
  EXPECT_EQ(agent.counters.udp_sent, 1u);
  RecvBuffers rx(4, 64);
  std::vector<platform::Datagram> got = RecvAll(peer, rx, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(Str(got[0].data()), "y");
}

TEST(AgentIo, OpenErrorNamesTheSocket) {
  AgentSockets first = OpenUdpOnly();
  AgentSocketOptions o;
  o.bind_address = kLo1;
  o.port = first.udp->local().port;
  o.open_ipip = false;
  auto second = OpenAgentSockets(o);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().detail().find("udp 127.0.0.1:" + std::to_string(o.port)),
            std::string::npos)
      << second.error().detail();
}

TEST(AgentIo, BufferSizeIsApplied) {
  // Beyond net.core.rmem_max only with CAP_NET_ADMIN (SO_RCVBUFFORCE).
  if (geteuid() != 0) GTEST_SKIP() << "needs root for SO_RCVBUFFORCE";
  AgentSocketOptions o;
  o.bind_address = kLo1;
  o.port = 0;
  o.open_ipip = false;
  o.udp_buffer_bytes = 1 << 20;
  auto s = OpenAgentSockets(o);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  int v = 0;
  socklen_t len = sizeof v;
  ASSERT_EQ(getsockopt(s->udp->fd(), SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
  EXPECT_GE(v, 1 << 20);  // the kernel doubles what it was given
}

}  // namespace
}  // namespace mipsec::mip4d

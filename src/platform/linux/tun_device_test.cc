// LinuxTunDevice against the kernel, in a network namespace of its own.
#include "platform/linux/tun_device.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <string>
#include <vector>

#include "platform/linux/epoll_event_loop.h"
#include "platform/linux/netlink.h"
#include "platform/linux/test_packets.h"
#include "platform/linux/udp_socket.h"
#include "testing/fakes/netns_child.h"
#include "testing/require_root.h"
#include "testing/fakes/test_addresses.h"

namespace mipsec::platform {
namespace {

using mipsec::testing::Ifa;
using mipsec::testing::Ip;
using mipsec::testing::RunInNewNetns;
using test::Get16;
using test::GetAddr;

constexpr Ipv4Address kLocal = Ipv4Address::FromOctets(10, 99, 0, 1);
constexpr Ipv4Address kPeer = Ipv4Address::FromOctets(10, 99, 0, 2);
constexpr std::size_t kHeadroom = 28;  // room for an outer IPv4 + UDP header
constexpr std::uint8_t kPoison = 0xee;

struct Bench {
  std::unique_ptr<LinuxNetlink> nl;
  std::unique_ptr<LinuxTunDevice> tun;
};

// A TUN "mtun0" with 10.99.0.1/24, MTU 1400, up.
Bench MakeTun() {
  Bench b;
  auto nl = LinuxNetlink::Open();
  EXPECT_TRUE(nl.ok()) << nl.error().ToString();
  if (!nl.ok()) return b;
  b.nl = std::move(nl).value();
  auto tun = LinuxTunDevice::Create("mtun%d");
  EXPECT_TRUE(tun.ok()) << tun.error().ToString();
  if (!tun.ok()) return b;
  b.tun = std::move(tun).value();
  Status s = ConfigureInterface(*b.nl, b.tun->ifindex(), InterfaceAddress{kLocal, 24}, 1400);
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return b;
}

// Reads TUN packets (skipping the IPv6 chatter a new link sends) until one
// satisfies `want`, for up to 2 s. The packet lands after kHeadroom.
std::optional<Bytes> ReadUntil(TunDevice& tun, const std::function<bool(ByteSpan)>& want) {
  for (int i = 0; i < 200; ++i) {
    std::array<std::uint8_t, 2048> buf;
    buf.fill(kPoison);
    PacketBuf pb{buf};
    auto n = tun.ReadBatch(std::span(&pb, 1), kHeadroom);
    EXPECT_TRUE(n.ok()) << n.error().ToString();
    if (!n.ok()) return std::nullopt;
    if (*n == 0) {
      usleep(10'000);
      continue;
    }
    for (std::size_t j = 0; j < kHeadroom; ++j) {
      EXPECT_EQ(buf[j], kPoison) << "the read wrote into the headroom at " << j;
    }
    ByteSpan p = pb.Packet(kHeadroom);
    if (!p.empty() && (p[0] >> 4) == 4 && want(p)) return Bytes(p.begin(), p.end());
  }
  return std::nullopt;
}

bool RecvWait(UdpSocket& s, Datagram& d) {
  for (int i = 0; i < 200; ++i) {
    auto r = s.Recv(d);
    if (!r.ok()) return false;
    if (*r) return true;
    usleep(10'000);
  }
  return false;
}

TEST(LinuxTunDevice, CreateConfigureAndCarryPacketsBothWays) {
  MIPSEC_REQUIRE_ROOT();
  ::testing::AssertionResult child = RunInNewNetns([] {
    Bench b = MakeTun();
    ASSERT_NE(b.tun, nullptr);
    EXPECT_EQ(b.tun->name(), "mtun0");
    EXPECT_GT(b.tun->ifindex(), 1);
    auto link = b.nl->GetLink(b.tun->ifindex());
    ASSERT_TRUE(link.ok());
    EXPECT_EQ(link->name, "mtun0");
    EXPECT_EQ(link->kind, "tun");
    EXPECT_EQ(link->mtu, 1400u);
    EXPECT_TRUE(link->up);

    UdpOptions o;
    o.bind = Ipv4Endpoint{kLocal, 0};
    auto sock_or = LinuxUdpSocket::Open(o);
    ASSERT_TRUE(sock_or.ok()) << sock_or.error().ToString();
    LinuxUdpSocket& sock = **sock_or;

    // Host -> tunnel: a datagram to the peer comes out of the TUN as IPv4.
    const std::string out_text = "into the tunnel";
    ASSERT_TRUE(sock.Send(OutgoingDatagram{AsBytes(out_text), Ipv4Endpoint{kPeer, 5555}}).ok());
    auto pkt = ReadUntil(*b.tun, [](ByteSpan p) { return p.size() >= 28 && p[9] == 17; });
    ASSERT_TRUE(pkt.has_value()) << "no UDP packet came out of the TUN";
    ByteSpan p = *pkt;
    EXPECT_EQ(p[0], 0x45);                              // IPv4, 20-byte header
    EXPECT_EQ(Get16(p, 2), p.size());                   // total length
    EXPECT_EQ(test::InternetChecksum(p.first(20)), 0);  // header checksum verifies
    EXPECT_EQ(GetAddr(p, 12), kLocal);
    EXPECT_EQ(GetAddr(p, 16), kPeer);
    EXPECT_EQ(Get16(p, 20), sock.local().port);
    EXPECT_EQ(Get16(p, 22), 5555);
    EXPECT_EQ(std::string(p.begin() + 28, p.end()), out_text);

    // Tunnel -> host: a UDP packet written into the TUN reaches the socket.
    const std::string in_text = "out of the tunnel";
    Bytes in = test::Ipv4Packet(kPeer, kLocal, 17,
                                test::UdpDatagram(7777, sock.local().port, AsBytes(in_text)));
    Bytes wbuf(kHeadroom, kPoison);
    wbuf.insert(wbuf.end(), in.begin(), in.end());
    PacketBuf wb{wbuf, in.size()};
    auto w = b.tun->WriteBatch(std::span(&wb, 1), kHeadroom);
    ASSERT_TRUE(w.ok()) << w.error().ToString();
    EXPECT_EQ(*w, 1u);
    std::array<std::uint8_t, 128> rbuf{};
    Datagram d{rbuf};
    ASSERT_TRUE(RecvWait(sock, d));
    EXPECT_EQ(std::string(d.data().begin(), d.data().end()), in_text);
    EXPECT_EQ(d.remote, (Ipv4Endpoint{kPeer, 7777}));
    EXPECT_EQ(d.local.address, kLocal);
    EXPECT_EQ(d.ifindex, b.tun->ifindex());

    // Ping through the TUN: the host answers an echo request with a reply.
    const std::string ping_data = "ping payload";
    Bytes echo = test::Ipv4Packet(kPeer, kLocal, 1,
                                  test::IcmpMessage(8, 0, (0x77u << 16) | 1, AsBytes(ping_data)));
    PacketBuf eb{echo, echo.size()};
    ASSERT_TRUE(b.tun->WriteBatch(std::span(&eb, 1), 0).ok());
    auto reply = ReadUntil(*b.tun, [](ByteSpan q) { return q.size() >= 28 && q[9] == 1; });
    ASSERT_TRUE(reply.has_value()) << "no ICMP echo reply came out of the TUN";
    ByteSpan r = *reply;
    EXPECT_EQ(GetAddr(r, 12), kLocal);
    EXPECT_EQ(GetAddr(r, 16), kPeer);
    EXPECT_EQ(r[20], 0);            // echo reply
    EXPECT_EQ(Get16(r, 24), 0x77);  // identifier
    EXPECT_EQ(Get16(r, 26), 1);     // sequence number
    EXPECT_EQ(test::InternetChecksum(r.subspan(20)), 0);
    EXPECT_EQ(std::string(r.begin() + 28, r.end()), ping_data);
  });
  EXPECT_TRUE(child);
}

TEST(LinuxTunDevice, BatchesAndTheEventLoop) {
  MIPSEC_REQUIRE_ROOT();
  ::testing::AssertionResult child = RunInNewNetns([] {
    Bench b = MakeTun();
    ASSERT_NE(b.tun, nullptr);
    auto sock_or = LinuxUdpSocket::Open(UdpOptions{Ipv4Endpoint{kLocal, 0}});
    ASSERT_TRUE(sock_or.ok());
    LinuxUdpSocket& sock = **sock_or;

    // Five packets in one WriteBatch, all delivered to the socket.
    constexpr int kCount = 5;
    std::vector<Bytes> storage;
    std::vector<PacketBuf> bufs;
    for (int i = 0; i < kCount; ++i) {
      Bytes pkt = test::Ipv4Packet(
          kPeer, kLocal, 17,
          test::UdpDatagram(9000 + i, sock.local().port, AsBytes("batch " + std::to_string(i))));
      Bytes with_headroom(kHeadroom, 0);
      with_headroom.insert(with_headroom.end(), pkt.begin(), pkt.end());
      storage.push_back(std::move(with_headroom));
    }
    for (int i = 0; i < kCount; ++i) {
      bufs.push_back(PacketBuf{storage[i], storage[i].size() - kHeadroom});
    }
    auto w = b.tun->WriteBatch(bufs, kHeadroom);
    ASSERT_TRUE(w.ok()) << w.error().ToString();
    EXPECT_EQ(*w, static_cast<std::size_t>(kCount));
    std::vector<std::array<std::uint8_t, 64>> rs(kCount);
    std::vector<Datagram> ds(kCount);
    for (int i = 0; i < kCount; ++i) ds[i].buffer = rs[i];
    std::size_t got = 0;
    for (int t = 0; t < 200 && got < kCount; ++t) {
      auto r = sock.RecvBatch(std::span(ds).subspan(got));
      ASSERT_TRUE(r.ok());
      got += *r;
      if (*r == 0) usleep(10'000);
    }
    ASSERT_EQ(got, static_cast<std::size_t>(kCount));
    for (int i = 0; i < kCount; ++i) EXPECT_EQ(ds[i].remote.port, 9000 + i);

    // The other way, waking an event loop: datagrams to the peer are read in batches.
    auto loop_or = EpollEventLoop::Create();
    ASSERT_TRUE(loop_or.ok());
    EventLoop& loop = **loop_or;
    std::vector<Bytes> seen;
    ASSERT_TRUE(loop.RegisterFd(b.tun->fd(), kReadable,
                                [&](std::uint32_t) {
                                  std::vector<std::array<std::uint8_t, 1600>> space(8);
                                  std::vector<PacketBuf> pbs;
                                  for (auto& s : space) pbs.push_back(PacketBuf{s});
                                  auto n = b.tun->ReadBatch(pbs, kHeadroom);
                                  ASSERT_TRUE(n.ok());
                                  for (std::size_t i = 0; i < *n; ++i) {
                                    ByteSpan q = pbs[i].Packet(kHeadroom);
                                    if ((q[0] >> 4) == 4 && q[9] == 17)
                                      seen.emplace_back(q.begin(), q.end());
                                  }
                                })
                    .ok());
    std::vector<OutgoingDatagram> out;
    for (int i = 0; i < kCount; ++i)
      out.push_back(OutgoingDatagram{AsBytes("x"), Ipv4Endpoint{kPeer, 6000}});
    ASSERT_EQ(sock.SendBatch(out).value_or(0), static_cast<std::size_t>(kCount));
    for (int i = 0; i < 200 && seen.size() < kCount; ++i) {
      ASSERT_TRUE(loop.RunOnce(Duration::Millis(10)).ok());
    }
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(kCount));
    ASSERT_TRUE(loop.UnregisterFd(b.tun->fd()).ok());

    // Something that is not an IP packet is refused, and only it.
    Bytes junk(40, 0);
    PacketBuf jb{junk, junk.size()};
    auto bad = b.tun->WriteBatch(std::span(&jb, 1), 0);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code(), Errc::kSystem);
    EXPECT_NE(bad.error().detail().find("write mtun0"), std::string::npos) << bad.error().detail();
  });
  EXPECT_TRUE(child);
}

TEST(LinuxTunDevice, KernelChosenName) {
  MIPSEC_REQUIRE_ROOT();
  ::testing::AssertionResult child = RunInNewNetns([] {
    auto a = LinuxTunDevice::Create();
    auto b = LinuxTunDevice::Create();
    ASSERT_TRUE(a.ok()) << a.error().ToString();
    ASSERT_TRUE(b.ok()) << b.error().ToString();
    EXPECT_EQ((*a)->name().rfind("tun", 0), 0u) << (*a)->name();
    EXPECT_NE((*a)->name(), (*b)->name());
    EXPECT_NE((*a)->ifindex(), (*b)->ifindex());
    // The device goes away with its fd.
    auto nl = LinuxNetlink::Open();
    ASSERT_TRUE(nl.ok());
    std::string name = (*a)->name();
    EXPECT_TRUE((*nl)->GetLinkByName(name).ok());
    a->reset();
    EXPECT_FALSE((*nl)->GetLinkByName(name).ok());
  });
  EXPECT_TRUE(child);
}

}  // namespace
}  // namespace mipsec::platform

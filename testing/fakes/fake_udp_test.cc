#include "testing/fakes/fake_udp.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <array>
#include <cerrno>
#include <string>
#include <vector>

#include "testing/fakes/fake_event_loop.h"
#include "testing/fakes/test_addresses.h"

namespace mipsec::testing {
namespace {

using platform::Datagram;
using platform::OutgoingDatagram;
using platform::UdpOptions;

constexpr Ipv4Address kA = Ipv4Address::FromOctets(10, 0, 0, 1);
constexpr Ipv4Address kB = Ipv4Address::FromOctets(10, 0, 0, 2);

std::unique_ptr<FakeUdpSocket> Open(FakeUdpNetwork& net, Ipv4Endpoint bind, bool reuse = false) {
  UdpOptions o{bind};
  o.reuse_address = reuse;
  auto s = net.Open(o);
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

std::string Str(const Datagram& d) { return std::string(d.data().begin(), d.data().end()); }

TEST(FakeUdp, EphemeralPortsAndBindConflicts) {
  FakeUdpNetwork net;
  auto a = Open(net, Ipv4Endpoint{kA, 0});
  auto b = Open(net, Ipv4Endpoint{kA, 0});
  EXPECT_GE(a->local().port, 49152);
  EXPECT_NE(a->local().port, b->local().port);
  auto clash = net.Open(UdpOptions{a->local()});
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().detail().find("Address already in use"), std::string::npos);
  // A wildcard bind clashes with a specific one on the same port.
  EXPECT_FALSE(net.Open(UdpOptions{Ipv4Endpoint{Ipv4Address::Any(), a->local().port}}).ok());
  // Other address, same port: fine.
  EXPECT_TRUE(net.Open(UdpOptions{Ipv4Endpoint{kB, a->local().port}}).ok());
}

TEST(FakeUdp, DeliveryWithLocalAddressAndSource) {
  FakeUdpNetwork net;
  auto rx = Open(net, Ipv4Endpoint{Ipv4Address::Any(), 500});
  auto tx = Open(net, Ipv4Endpoint{kA, 4500});
  pollfd p{rx->fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0);
  OutgoingDatagram o{AsBytes("ike"), Ipv4Endpoint{kB, 500}};
  ASSERT_TRUE(tx->Send(o).ok());
  o.source = Ip("10.0.0.9");
  ASSERT_TRUE(tx->Send(o).ok());
  EXPECT_EQ(poll(&p, 1, 0), 1);
  std::array<std::array<std::uint8_t, 16>, 4> space{};
  std::array<Datagram, 4> in;
  for (std::size_t i = 0; i < in.size(); ++i) in[i].buffer = space[i];
  auto n = rx->RecvBatch(in);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 2u);
  EXPECT_EQ(Str(in[0]), "ike");
  EXPECT_EQ(in[0].local, (Ipv4Endpoint{kB, 500}));  // the destination, as IP_PKTINFO
  EXPECT_EQ(in[0].remote, (Ipv4Endpoint{kA, 4500}));
  EXPECT_EQ(in[1].remote.address, Ip("10.0.0.9"));
  EXPECT_EQ(in[0].ifindex, 1);
  EXPECT_EQ(poll(&p, 1, 0), 0);
  EXPECT_EQ(net.delivered(), 2u);
}

TEST(FakeUdp, ExactBindBeatsWildcardAndDefaultSource) {
  FakeUdpNetwork net;
  net.set_default_source(Ip("192.0.2.1"));
  // Both on port 53 (SO_REUSEADDR, as on Linux).
  auto any = Open(net, Ipv4Endpoint{Ipv4Address::Any(), 53}, true);
  auto exact = Open(net, Ipv4Endpoint{kB, 53}, true);
  ASSERT_NE(exact, nullptr);
  auto tx = Open(net, Ipv4Endpoint{Ipv4Address::Any(), 0});
  ASSERT_TRUE(tx->Send(OutgoingDatagram{AsBytes("q"), Ipv4Endpoint{kB, 53}}).ok());
  ASSERT_TRUE(tx->Send(OutgoingDatagram{AsBytes("r"), Ipv4Endpoint{kA, 53}}).ok());
  EXPECT_EQ(exact->queued(), 1u);
  EXPECT_EQ(any->queued(), 1u);
  std::array<std::uint8_t, 8> buf{};
  Datagram d{buf};
  ASSERT_TRUE(*exact->Recv(d));
  EXPECT_EQ(d.remote.address, Ip("192.0.2.1"));
}

TEST(FakeUdp, TruncationTosAndDropFilter) {
  FakeUdpNetwork net;
  auto rx = Open(net, Ipv4Endpoint{kB, 1});
  UdpOptions o{Ipv4Endpoint{kA, 2}};
  o.tos = 0x28;
  auto tx = net.Open(o);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)->Send(OutgoingDatagram{AsBytes("0123456789"), rx->local()}).ok());
  std::array<std::uint8_t, 4> small{};
  Datagram d{small};
  ASSERT_TRUE(*rx->Recv(d));
  EXPECT_TRUE(d.truncated);
  EXPECT_EQ(Str(d), "0123");
  EXPECT_EQ(d.tos, 0x28);

  net.set_drop_filter([](const FakeUdpPacket& p) { return p.payload.size() > 3; });
  ASSERT_TRUE((*tx)->Send(OutgoingDatagram{AsBytes("long one"), rx->local()}).ok());
  ASSERT_TRUE((*tx)->Send(OutgoingDatagram{AsBytes("ok"), rx->local()}).ok());
  EXPECT_EQ(rx->queued(), 1u);
  EXPECT_EQ(net.dropped(), 1u);
}

TEST(FakeUdp, UnboundPortQueuesConnectionRefusedWithRecvErr) {
  FakeUdpNetwork net;
  UdpOptions o{Ipv4Endpoint{kA, 7}};
  o.receive_errors = true;
  auto tx = net.Open(o);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)->Send(OutgoingDatagram{AsBytes("?"), Ipv4Endpoint{kB, 9}}).ok());
  auto e = (*tx)->ReadError();
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ((*e)->error, ECONNREFUSED);
  EXPECT_EQ((*e)->destination, (Ipv4Endpoint{kB, 9}));
  EXPECT_FALSE((*tx)->ReadError()->has_value());
}

TEST(FakeUdp, BroadcastNeedsTheOptionAndReachesWildcardBinds) {
  FakeUdpNetwork net;
  auto r1 = Open(net, Ipv4Endpoint{Ipv4Address::Any(), 434}, true);
  auto r2 = Open(net, Ipv4Endpoint{kB, 434}, true);  // specific bind: not a broadcast receiver
  ASSERT_NE(r2, nullptr);
  auto plain = Open(net, Ipv4Endpoint{kA, 0});
  Ipv4Endpoint bcast{Ipv4Address::Broadcast(), 434};
  auto s = plain->Send(OutgoingDatagram{AsBytes("x"), bcast});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail().find("Permission denied"), std::string::npos);
  UdpOptions o{Ipv4Endpoint{kA, 0}};
  o.broadcast = true;
  auto b = net.Open(o);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*b)->Send(OutgoingDatagram{AsBytes("x"), bcast}).ok());
  EXPECT_EQ(r1->queued(), 1u);
  EXPECT_EQ(r2->queued(), 0u);
}

TEST(FakeUdp, WorksInAnEventLoop) {
  FakeUdpNetwork net;
  FakeEventLoop loop;
  auto a = Open(net, Ipv4Endpoint{kA, 1000});
  auto b = Open(net, Ipv4Endpoint{kB, 2000});
  // b echoes everything back; a counts replies.
  int replies = 0;
  ASSERT_TRUE(loop.RegisterFd(b->fd(), platform::kReadable,
                              [&](std::uint32_t) {
                                std::array<std::uint8_t, 32> buf{};
                                Datagram d{buf};
                                while (*b->Recv(d))
                                  ASSERT_TRUE(b->Send(OutgoingDatagram{d.data(), d.remote}).ok());
                              })
                  .ok());
  ASSERT_TRUE(loop.RegisterFd(a->fd(), platform::kReadable,
                              [&](std::uint32_t) {
                                std::array<std::uint8_t, 32> buf{};
                                Datagram d{buf};
                                while (*a->Recv(d)) ++replies;
                              })
                  .ok());
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(a->Send(OutgoingDatagram{AsBytes("echo"), b->local()}).ok());
  loop.RunUntilIdle();
  EXPECT_EQ(replies, 3);
  ASSERT_TRUE(loop.UnregisterFd(a->fd()).ok());
  ASSERT_TRUE(loop.UnregisterFd(b->fd()).ok());
}

}  // namespace
}  // namespace mipsec::testing

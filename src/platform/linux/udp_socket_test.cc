#include "platform/linux/udp_socket.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "platform/linux/epoll_event_loop.h"

namespace mipsec::platform {
namespace {

constexpr Ipv4Address kLo1 = Ipv4Address::FromOctets(127, 0, 0, 1);
constexpr Ipv4Address kLo2 = Ipv4Address::FromOctets(127, 0, 0, 2);
constexpr Ipv4Address kLo3 = Ipv4Address::FromOctets(127, 0, 0, 3);

std::unique_ptr<LinuxUdpSocket> OpenOrDie(UdpOptions o) {
  auto s = LinuxUdpSocket::Open(o);
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return std::move(s).value();
}

std::unique_ptr<LinuxUdpSocket> OpenOrDie(Ipv4Endpoint bind) {
  UdpOptions o;
  o.bind = bind;
  return OpenOrDie(o);
}

// Receives one datagram, waiting up to ~2 s (loopback delivery is
// synchronous, but be tolerant).
bool RecvWait(UdpSocket& s, Datagram& d) {
  for (int i = 0; i < 200; ++i) {
    auto r = s.Recv(d);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    if (!r.ok()) return false;
    if (*r) return true;
    usleep(10'000);
  }
  return false;
}

std::string Str(const Datagram& d) {
  return std::string(reinterpret_cast<const char*>(d.buffer.data()), d.length);
}

TEST(LinuxUdpSocket, EphemeralPortIsReported) {
  auto s = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  EXPECT_EQ(s->local().address, kLo1);
  EXPECT_NE(s->local().port, 0);
  EXPECT_GE(s->fd(), 0);
}

TEST(LinuxUdpSocket, SendAndReceiveOneWithAddressesAndInterface) {
  auto a = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  auto b = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  ASSERT_TRUE(a->Send(OutgoingDatagram{AsBytes("hello"), b->local()}).ok());
  std::array<std::uint8_t, 64> buf{};
  Datagram d{buf};
  ASSERT_TRUE(RecvWait(*b, d));
  EXPECT_EQ(Str(d), "hello");
  EXPECT_FALSE(d.truncated);
  EXPECT_EQ(d.remote, a->local());
  EXPECT_EQ(d.local, b->local());
  EXPECT_EQ(d.ifindex, static_cast<int>(if_nametoindex("lo")));
  // Nothing more waiting.
  auto again = b->Recv(d);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST(LinuxUdpSocket, BatchSendAndReceiveKeepOrder) {
  auto a = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  auto b = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  constexpr int kCount = 100;  // more than one recvmmsg/sendmmsg chunk (64)
  std::vector<std::string> payloads;
  for (int i = 0; i < kCount; ++i) payloads.push_back("datagram #" + std::to_string(i));
  std::vector<OutgoingDatagram> out;
  for (const auto& p : payloads) out.push_back(OutgoingDatagram{AsBytes(p), b->local()});
  auto sent = a->SendBatch(out);
  ASSERT_TRUE(sent.ok()) << sent.error().ToString();
  ASSERT_EQ(*sent, static_cast<std::size_t>(kCount));

  std::vector<std::array<std::uint8_t, 64>> storage(kCount);
  std::vector<Datagram> in(kCount);
  for (int i = 0; i < kCount; ++i) in[i].buffer = storage[i];
  std::size_t got = 0;
  for (int tries = 0; got < kCount && tries < 200; ++tries) {
    auto r = b->RecvBatch(std::span(in).subspan(got));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    got += *r;
    if (*r == 0) usleep(10'000);
  }
  ASSERT_EQ(got, static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(Str(in[i]), payloads[i]);
    EXPECT_EQ(in[i].remote, a->local());
  }
}

TEST(LinuxUdpSocket, PktinfoReportsTheDestinationAddressOfAWildcardBind) {
  auto rx = OpenOrDie(Ipv4Endpoint{Ipv4Address::Any(), 0});
  auto tx = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  ASSERT_TRUE(
      tx->Send(OutgoingDatagram{AsBytes("to .2"), Ipv4Endpoint{kLo2, rx->local().port}}).ok());
  ASSERT_TRUE(
      tx->Send(OutgoingDatagram{AsBytes("to .3"), Ipv4Endpoint{kLo3, rx->local().port}}).ok());
  std::array<std::uint8_t, 64> buf{};
  Datagram d{buf};
  ASSERT_TRUE(RecvWait(*rx, d));
  EXPECT_EQ(Str(d), "to .2");
  EXPECT_EQ(d.local, (Ipv4Endpoint{kLo2, rx->local().port}));
  ASSERT_TRUE(RecvWait(*rx, d));
  EXPECT_EQ(Str(d), "to .3");
  EXPECT_EQ(d.local.address, kLo3);
}

TEST(LinuxUdpSocket, ExplicitSourceAddressIsUsed) {
  auto rx = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  auto tx = OpenOrDie(Ipv4Endpoint{Ipv4Address::Any(), 0});
  OutgoingDatagram o{AsBytes("from .3"), rx->local()};
  o.source = kLo3;
  ASSERT_TRUE(tx->Send(o).ok());
  o.source = kLo2;
  o.payload = AsBytes("from .2");
  ASSERT_TRUE(tx->Send(o).ok());
  std::array<std::uint8_t, 64> buf{};
  Datagram d{buf};
  ASSERT_TRUE(RecvWait(*rx, d));
  EXPECT_EQ(Str(d), "from .3");
  EXPECT_EQ(d.remote, (Ipv4Endpoint{kLo3, tx->local().port}));
  ASSERT_TRUE(RecvWait(*rx, d));
  EXPECT_EQ(d.remote.address, kLo2);
}

TEST(LinuxUdpSocket, NonLocalSourceFailsWithTheFirstDatagramOnly) {
  auto rx = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  auto tx = OpenOrDie(Ipv4Endpoint{Ipv4Address::Any(), 0});
  OutgoingDatagram bad{AsBytes("x"), rx->local()};
  bad.source = Ipv4Address::FromOctets(192, 0, 2, 77);  // TEST-NET-1, not ours
  OutgoingDatagram good{AsBytes("y"), rx->local()};
  std::vector<OutgoingDatagram> batch{bad, good};
  auto r = tx->SendBatch(batch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kSystem);
  EXPECT_NE(r.error().detail().find("from 192.0.2.77"), std::string::npos) << r.error().detail();
  // A good one first: it goes, and the bad one is left for the next call.
  std::vector<OutgoingDatagram> batch2{good, bad};
  r = tx->SendBatch(batch2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1u);
}

TEST(LinuxUdpSocket, TruncationIsReported) {
  auto a = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  auto b = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  ASSERT_TRUE(a->Send(OutgoingDatagram{AsBytes("0123456789"), b->local()}).ok());
  std::array<std::uint8_t, 4> small{};
  Datagram d{small};
  ASSERT_TRUE(RecvWait(*b, d));
  EXPECT_TRUE(d.truncated);
  EXPECT_EQ(d.length, 4u);
  EXPECT_EQ(Str(d), "0123");
}

TEST(LinuxUdpSocket, TosIsSentAndReported) {
  UdpOptions o;
  o.bind = Ipv4Endpoint{kLo1, 0};
  o.tos = 0x20;
  auto a = OpenOrDie(o);
  auto b = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  std::array<std::uint8_t, 16> buf{};
  Datagram d{buf};
  ASSERT_TRUE(a->Send(OutgoingDatagram{AsBytes("cs1"), b->local()}).ok());
  ASSERT_TRUE(RecvWait(*b, d));
  EXPECT_EQ(d.tos, 0x20);
  ASSERT_TRUE(a->SetTos(0xb8).ok());  // DSCP EF
  ASSERT_TRUE(a->Send(OutgoingDatagram{AsBytes("ef"), b->local()}).ok());
  ASSERT_TRUE(RecvWait(*b, d));
  EXPECT_EQ(d.tos, 0xb8);
}

TEST(LinuxUdpSocket, BindConflictNamesTheAddress) {
  auto a = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  auto b = LinuxUdpSocket::Open(UdpOptions{a->local()});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), Errc::kSystem);
  EXPECT_NE(b.error().detail().find("bind " + a->local().ToString()), std::string::npos)
      << b.error().detail();
  EXPECT_NE(b.error().detail().find("Address already in use"), std::string::npos);
}

TEST(LinuxUdpSocket, ReuseAddressAllowsASecondBind) {
  UdpOptions o;
  o.bind = Ipv4Endpoint{kLo1, 0};
  o.reuse_address = true;
  auto a = OpenOrDie(o);
  o.bind = a->local();
  auto b = LinuxUdpSocket::Open(o);
  EXPECT_TRUE(b.ok()) << b.error().ToString();
}

TEST(LinuxUdpSocket, PortUnreachableIsQueuedWithRecvErr) {
  UdpOptions o;
  o.bind = Ipv4Endpoint{kLo1, 0};
  o.receive_errors = true;
  auto tx = OpenOrDie(o);
  // A port that was just free: bind, note, close.
  std::uint16_t closed_port;
  {
    auto tmp = OpenOrDie(Ipv4Endpoint{kLo1, 0});
    closed_port = tmp->local().port;
  }
  ASSERT_TRUE(tx->Send(OutgoingDatagram{AsBytes("anyone?"), Ipv4Endpoint{kLo1, closed_port}}).ok());
  std::optional<SocketError> e;
  for (int i = 0; i < 200 && !e; ++i) {
    auto r = tx->ReadError();
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    e = *r;
    if (!e) usleep(10'000);
  }
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->error, ECONNREFUSED);
  EXPECT_EQ(e->icmp_type, 3);  // destination unreachable
  EXPECT_EQ(e->icmp_code, 3);  // port unreachable
  EXPECT_EQ(e->offender, kLo1);
  EXPECT_EQ(e->destination, (Ipv4Endpoint{kLo1, closed_port}));
  auto none = tx->ReadError();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(LinuxUdpSocket, BindToDevice) {
  UdpOptions o;
  o.bind = Ipv4Endpoint{Ipv4Address::Any(), 0};
  o.device = "lo";
  auto s = LinuxUdpSocket::Open(o);
  if (!s.ok() && s.error().detail().find("Operation not permitted") != std::string::npos) {
    GTEST_SKIP() << "SO_BINDTODEVICE needs CAP_NET_RAW on this kernel";
  }
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  auto tx = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  ASSERT_TRUE(
      tx->Send(OutgoingDatagram{AsBytes("via lo"), Ipv4Endpoint{kLo1, (*s)->local().port}}).ok());
  std::array<std::uint8_t, 16> buf{};
  Datagram d{buf};
  ASSERT_TRUE(RecvWait(**s, d));
  EXPECT_EQ(Str(d), "via lo");

  o.device = "no-such-dev0";
  auto bad = LinuxUdpSocket::Open(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail().find("SO_BINDTODEVICE, no-such-dev0"), std::string::npos);
}

TEST(LinuxUdpSocket, ReadableInTheEventLoop) {
  auto loop = EpollEventLoop::Create();
  ASSERT_TRUE(loop.ok());
  auto a = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  auto b = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  std::vector<std::string> got;
  ASSERT_TRUE((*loop)
                  ->RegisterFd(b->fd(), kReadable,
                               [&](std::uint32_t) {
                                 std::array<std::uint8_t, 32> buf{};
                                 Datagram d{buf};
                                 while (b->Recv(d).value_or(false)) got.push_back(Str(d));
                               })
                  .ok());
  ASSERT_TRUE(a->Send(OutgoingDatagram{AsBytes("ping"), b->local()}).ok());
  for (int i = 0; i < 100 && got.empty(); ++i)
    ASSERT_TRUE((*loop)->RunOnce(Duration::Millis(20)).ok());
  EXPECT_EQ(got, std::vector<std::string>{"ping"});
  ASSERT_TRUE((*loop)->UnregisterFd(b->fd()).ok());
}

TEST(LinuxUdpSocket, PerDatagramTtlIsSentAndReceived) {
  auto a = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  UdpOptions ro;
  ro.bind = Ipv4Endpoint{kLo1, 0};
  ro.receive_ttl = true;
  auto b = OpenOrDie(ro);
  // A batch mixing a per-datagram TTL, the default, and a TTL with a source
  // address (IP_PKTINFO and IP_TTL control messages together).
  OutgoingDatagram out[3] = {
      {AsBytes("one"), b->local()},
      {AsBytes("two"), b->local()},
      {AsBytes("three"), b->local()},
  };
  out[0].ttl = 1;
  out[2].ttl = 255;
  out[2].source = kLo2;
  auto sent = a->SendBatch(out);
  ASSERT_TRUE(sent.ok()) << sent.error().ToString();
  ASSERT_EQ(*sent, 3u);
  std::array<std::uint8_t, 64> buf{};
  Datagram d{buf};
  ASSERT_TRUE(RecvWait(*b, d));
  EXPECT_EQ(Str(d), "one");
  EXPECT_EQ(d.ttl, 1);
  ASSERT_TRUE(RecvWait(*b, d));
  EXPECT_EQ(Str(d), "two");
  int default_ttl = 64;  // the namespace's net.ipv4.ip_default_ttl
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_default_ttl", "r")) {
    if (std::fscanf(f, "%d", &default_ttl) != 1) default_ttl = 64;
    std::fclose(f);
  }
  EXPECT_EQ(d.ttl, default_ttl);
  ASSERT_TRUE(RecvWait(*b, d));
  EXPECT_EQ(Str(d), "three");
  EXPECT_EQ(d.ttl, 255);
  EXPECT_EQ(d.remote.address, kLo2);
}

TEST(LinuxUdpSocket, TtlIsZeroWithoutReceiveTtl) {
  auto a = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  auto b = OpenOrDie(Ipv4Endpoint{kLo1, 0});
  OutgoingDatagram out{AsBytes("x"), b->local()};
  out.ttl = 7;
  ASSERT_TRUE(a->Send(out).ok());
  std::array<std::uint8_t, 16> buf{};
  Datagram d{buf};
  d.ttl = 99;
  ASSERT_TRUE(RecvWait(*b, d));
  EXPECT_EQ(d.ttl, 0);
}

}  // namespace
}  // namespace mipsec::platform

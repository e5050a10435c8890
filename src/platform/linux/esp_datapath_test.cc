// EspDataPath over the in-memory fakes: two data paths A and B on one
// FakeUdpNetwork, each with its own FakeTun, stepped by hand with
// RunTxOnce()/RunRxOnce() (the fakes are single-threaded), plus the command
// path while the worker threads run. The real kernel (TUN, veth, threads
// with traffic) is scenarios/esp_datapath.
//
//   A tun 172.16.1.0/24   A 10.0.0.1:4500  ==ESP-in-UDP==  B 10.0.0.2:4500   B tun 172.16.2.0/24
//   A out SPI 0x1001 -> B in 0x1001;  B out 0x2002 -> A in 0x2002
#include "platform/linux/esp_datapath.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "common/random.h"
#include "esp/udp_encap.h"
#include "testing/fakes/fake_tun.h"
#include "testing/fakes/fake_udp.h"

namespace mipsec::platform {
namespace {

using esp::DropReason;
using testing::FakeTun;
using testing::FakeUdpNetwork;
using testing::FakeUdpPacket;

const Ipv4Address kA = Ipv4Address::FromOctets(10, 0, 0, 1);
const Ipv4Address kA2 = Ipv4Address::FromOctets(10, 0, 0, 11);
const Ipv4Address kB = Ipv4Address::FromOctets(10, 0, 0, 2);
const Ipv4Prefix kNetA = *Ipv4Prefix::Parse("172.16.1.0/24");
const Ipv4Prefix kNetB = *Ipv4Prefix::Parse("172.16.2.0/24");

SecretBytes Key(std::size_t n, std::uint64_t seed) {
  SecretBytes k(n);
  DeterministicRandom(seed).Fill(k.RevealMutable());
  return k;
}

esp::SaConfig Config(esp::Direction dir, std::uint32_t spi, Ipv4Address local, Ipv4Address remote,
                     esp::Cipher cipher = esp::Cipher::kAesGcm16_128) {
  esp::SaConfig c;
  c.direction = dir;
  c.spi = spi;
  c.cipher = cipher;
  c.integrity = esp::IsAead(cipher) ? esp::Integrity::kNone : esp::Integrity::kHmacSha256_128;
  c.enc_key = Key(esp::EncKeySize(c.cipher), spi);
  c.integ_key = Key(esp::IntegKeySize(c.integrity), spi + 7);
  c.local = {local, 4500};
  c.remote = {remote, 4500};
  c.udp_encap = true;
  return c;
}

Bytes Inner(const char* src, const char* dst, std::size_t payload = 100, std::uint64_t seed = 1) {
  Bytes data(payload);
  DeterministicRandom(seed).Fill(data);
  ip::Ipv4Header h;
  h.src = *Ipv4Address::Parse(src);
  h.dst = *Ipv4Address::Parse(dst);
  Result<Bytes> b = ip::BuildIpv4Udp(h, 40000, 5201, data);
  EXPECT_TRUE(b.ok());
  return *b;
}

struct Side {
  FakeTun* tun = nullptr;
  std::unique_ptr<EspDataPath> dp;
};

class EspDataPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Every datagram on the network is recorded (none dropped unless asked).
    net_.set_drop_filter([this](const FakeUdpPacket& p) {
      wire_.push_back(p);
      return drop_next_ ? (drop_next_ = false, true) : false;
    });
    a_ = Make(kA);
    b_ = Make(kB);
    ASSERT_TRUE(a_.dp->AddInboundSa(Config(esp::Direction::kInbound, 0x2002, kA, kB)).ok());
    ASSERT_TRUE(b_.dp->AddInboundSa(Config(esp::Direction::kInbound, 0x1001, kB, kA)).ok());
    ASSERT_TRUE(
        a_.dp->SetOutboundSa(1, {kNetB}, Config(esp::Direction::kOutbound, 0x1001, kA, kB)).ok());
    ASSERT_TRUE(
        b_.dp->SetOutboundSa(1, {kNetA}, Config(esp::Direction::kOutbound, 0x2002, kB, kA)).ok());
  }

  Side Make(Ipv4Address addr) {
    Side s;
    auto tun = std::make_unique<FakeTun>();
    s.tun = tun.get();
    UdpOptions uo;
    uo.bind = {addr, 4500};
    auto udp = net_.Open(uo);
    EXPECT_TRUE(udp.ok());
    EspDataPathOptions o;
    o.batch_size = 16;
    auto dp = EspDataPath::Create(std::move(tun), std::move(*udp), o);
    EXPECT_TRUE(dp.ok()) << dp.error().ToString();
    s.dp = std::move(*dp);
    return s;
  }

  // A -> B: inject into A's TUN, step A's TX and B's RX.
  std::optional<Bytes> AtoB(const Bytes& inner) {
    EXPECT_TRUE(a_.tun->InjectPacket(inner));
    a_.dp->RunTxOnce();
    b_.dp->RunRxOnce();
    return b_.tun->PopWritten();
  }

  FakeUdpNetwork net_;
  std::vector<FakeUdpPacket> wire_;
  bool drop_next_ = false;
  Side a_, b_;
};

TEST_F(EspDataPathTest, PacketsCrossBothWaysEncrypted) {
  Bytes p1 = Inner("172.16.1.5", "172.16.2.7", 300, 1);
  std::optional<Bytes> got = AtoB(p1);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, p1);
  ASSERT_EQ(wire_.size(), 1u);
  // ESP-in-UDP from A's SA endpoints, SPI first, the inner bytes not in clear.
  EXPECT_EQ(wire_[0].source, (Ipv4Endpoint{kA, 4500}));
  EXPECT_EQ(wire_[0].destination, (Ipv4Endpoint{kB, 4500}));
  EXPECT_EQ(wire::LoadU32(wire_[0].payload, 0), 0x1001u);
  EXPECT_EQ(std::search(wire_[0].payload.begin(), wire_[0].payload.end(), p1.end() - 64, p1.end()),
            wire_[0].payload.end());

  Bytes p2 = Inner("172.16.2.7", "172.16.1.5", 1400, 2);
  ASSERT_TRUE(b_.tun->InjectPacket(p2));
  EXPECT_EQ(b_.dp->RunTxOnce(), 1u);
  EXPECT_EQ(a_.dp->RunRxOnce(), 1u);
  std::optional<Bytes> back = a_.tun->PopWritten();
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, p2);

  EspDataPathStats sa = a_.dp->Stats(), sb = b_.dp->Stats();
  EXPECT_EQ(sa.tx.tun_packets, 1u);
  EXPECT_EQ(sa.tx.sent_packets, 1u);
  EXPECT_EQ(sa.tx.tun_bytes, p1.size());
  EXPECT_EQ(sb.rx.datagrams, 1u);
  EXPECT_EQ(sb.rx.delivered, 1u);
  EXPECT_EQ(sb.rx.delivered_bytes, p1.size());
  EXPECT_EQ(sa.rx.delivered, 1u);
  Result<EspSaInfo> out = a_.dp->OutboundSaInfo(1);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->next_sequence, 2u);
  Result<EspSaInfo> in = b_.dp->InboundSaInfo(0x1001);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->replay_top, 1u);
  EXPECT_EQ(in->counters.packets, 1u);
}

TEST_F(EspDataPathTest, BatchOfManyPacketsKeepsOrder) {
  std::vector<Bytes> sent;
  for (int i = 0; i < 40; ++i) {
    sent.push_back(Inner("172.16.1.5", "172.16.2.7", 50 + 30 * i, 100 + i));
    ASSERT_TRUE(a_.tun->InjectPacket(sent.back()));
  }
  // Batches of 16: three steps carry all 40.
  std::size_t moved = 0;
  while (moved < 40) {
    std::size_t n = a_.dp->RunTxOnce();
    ASSERT_GT(n, 0u);
    EXPECT_LE(n, 16u);
    moved += n;
  }
  while (b_.dp->RunRxOnce() > 0) {
  }
  ASSERT_EQ(b_.tun->written().size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(b_.tun->written()[i], sent[i]) << i;
  EXPECT_EQ(a_.dp->Stats().tx.batches, 3u);
}

TEST_F(EspDataPathTest, NoSelectorMatchIsDroppedAndCounted) {
  ASSERT_TRUE(a_.tun->InjectPacket(Inner("172.16.1.5", "192.0.2.1")));
  ASSERT_TRUE(a_.tun->InjectPacket(Bytes{0x60, 0, 0, 0}));  // not IPv4
  EXPECT_EQ(a_.dp->RunTxOnce(), 2u);
  EXPECT_TRUE(wire_.empty());
  EXPECT_EQ(a_.dp->Stats().tx.no_policy, 2u);
  EXPECT_EQ(a_.dp->Stats().tx.sent_packets, 0u);
}

TEST_F(EspDataPathTest, LongestSelectorWins) {
  ASSERT_TRUE(a_.dp
                  ->SetOutboundSa(2, {*Ipv4Prefix::Parse("172.16.0.0/16")},
                                  Config(esp::Direction::kOutbound, 0x3003, kA, kB))
                  .ok());
  a_.tun->InjectPacket(Inner("172.16.1.5", "172.16.2.7"));  // /24 of child 1
  a_.tun->InjectPacket(Inner("172.16.1.5", "172.16.9.7"));  // only the /16 of child 2
  EXPECT_EQ(a_.dp->RunTxOnce(), 2u);
  ASSERT_EQ(wire_.size(), 2u);
  EXPECT_EQ(wire::LoadU32(wire_[0].payload, 0), 0x1001u);
  EXPECT_EQ(wire::LoadU32(wire_[1].payload, 0), 0x3003u);
  EXPECT_TRUE(a_.dp->RemoveOutboundSa(2).ok());
  EXPECT_EQ(a_.dp->RemoveOutboundSa(2).error().code(), Errc::kNotFound);
}

// RFC 7296 2.8: new inbound first, then the outbound switch, then the old
// inbound goes; every packet on the way arrives.
TEST_F(EspDataPathTest, RekeySwitchesOutboundWithoutLoss) {
  ASSERT_TRUE(AtoB(Inner("172.16.1.5", "172.16.2.7", 100, 1)).has_value());
  ASSERT_TRUE(b_.dp->AddInboundSa(Config(esp::Direction::kInbound, 0x1111, kB, kA)).ok());
  ASSERT_TRUE(AtoB(Inner("172.16.1.5", "172.16.2.7", 100, 2)).has_value());  // still the old
  ASSERT_TRUE(
      a_.dp->SetOutboundSa(1, {kNetB}, Config(esp::Direction::kOutbound, 0x1111, kA, kB)).ok());
  ASSERT_TRUE(AtoB(Inner("172.16.1.5", "172.16.2.7", 100, 3)).has_value());
  ASSERT_EQ(wire_.size(), 3u);
  EXPECT_EQ(wire::LoadU32(wire_[1].payload, 0), 0x1001u);
  EXPECT_EQ(wire::LoadU32(wire_[2].payload, 0), 0x1111u);
  EXPECT_EQ(wire::LoadU32(wire_[2].payload, 4), 1u) << "a new SA starts at sequence 1";
  EXPECT_EQ(b_.dp->InboundSaInfo(0x1001)->counters.packets, 2u);
  EXPECT_EQ(b_.dp->InboundSaInfo(0x1111)->counters.packets, 1u);
  ASSERT_TRUE(b_.dp->RemoveInboundSa(0x1001).ok());
  EXPECT_EQ(b_.dp->RemoveInboundSa(0x1001).error().code(), Errc::kNotFound);
  // A late packet of the old SA is now an unknown SPI.
  UdpOptions uo;
  uo.bind = {kA, 9999};
  auto probe = net_.Open(uo);
  ASSERT_TRUE(probe.ok());
  ASSERT_TRUE((*probe)->Send(OutgoingDatagram{wire_[1].payload, {kB, 4500}}).ok());
  EXPECT_EQ(b_.dp->RunRxOnce(), 1u);
  EXPECT_EQ(b_.dp->Stats().rx.dropped(DropReason::kUnknownSpi), 1u);
  EXPECT_EQ(b_.dp->Stats().rx.delivered, 3u);
}

// RFC 4555: A's address changes; the SAs are updated in place and the
// sequence numbers go on.
TEST_F(EspDataPathTest, MobikePathUpdateInPlace) {
  ASSERT_TRUE(AtoB(Inner("172.16.1.5", "172.16.2.7", 100, 1)).has_value());
  ASSERT_TRUE(a_.dp->UpdateOutboundPath(1, {kA2, 4500}, {kB, 4500}).ok());
  ASSERT_TRUE(a_.dp->UpdateInboundPath(0x2002, {kA2, 4500}, {kB, 4500}).ok());
  ASSERT_TRUE(b_.dp->UpdateOutboundPath(1, {kB, 4500}, {kA2, 4500}).ok());
  ASSERT_TRUE(b_.dp->UpdateInboundPath(0x1001, {kB, 4500}, {kA2, 4500}).ok());
  EXPECT_EQ(a_.dp->UpdateOutboundPath(7, {kA2, 4500}, {kB, 4500}).error().code(), Errc::kNotFound);
  EXPECT_EQ(a_.dp->UpdateInboundPath(7, {kA2, 4500}, {kB, 4500}).error().code(), Errc::kNotFound);

  ASSERT_TRUE(AtoB(Inner("172.16.1.5", "172.16.2.7", 100, 2)).has_value());
  ASSERT_EQ(wire_.size(), 2u);
  EXPECT_EQ(wire_[1].source, (Ipv4Endpoint{kA2, 4500}));
  EXPECT_EQ(wire::LoadU32(wire_[1].payload, 4), 2u) << "sequence numbers continue";
  Result<EspSaInfo> out = a_.dp->OutboundSaInfo(1);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->local, (Ipv4Endpoint{kA2, 4500}));
  // The reply goes to the new address.
  b_.tun->InjectPacket(Inner("172.16.2.7", "172.16.1.5"));
  b_.dp->RunTxOnce();
  ASSERT_EQ(wire_.size(), 3u);
  EXPECT_EQ(wire_[2].destination.address, kA2);
}

TEST_F(EspDataPathTest, IkeAndKeepalivesOn4500) {
  std::vector<Bytes> ike;
  std::vector<Ipv4Endpoint> from;
  b_.dp->set_ike_handler([&](const IkeDatagram& d) {
    ike.emplace_back(d.message.begin(), d.message.end());
    from.push_back(d.remote);
  });
  Bytes msg = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE(a_.dp->SendIke({kB, 4500}, kA, msg).ok());
  ASSERT_TRUE(a_.dp->SendKeepalive({kB, 4500}, kA).ok());
  EXPECT_EQ(b_.dp->RunRxOnce(), 2u);
  ASSERT_EQ(ike.size(), 1u);
  EXPECT_EQ(ike[0], msg);
  EXPECT_EQ(from[0], (Ipv4Endpoint{kA, 4500}));
  ASSERT_EQ(wire_.size(), 2u);
  EXPECT_EQ(wire_[0].payload.size(), msg.size() + 4);  // behind the non-ESP marker
  EXPECT_EQ(wire_[1].payload, Bytes{0xff});
  EspRxStats rx = b_.dp->Stats().rx;
  EXPECT_EQ(rx.ike, 1u);
  EXPECT_EQ(rx.keepalives, 1u);
  EXPECT_EQ(rx.delivered, 0u);
  EXPECT_TRUE(b_.tun->written().empty());
}

TEST_F(EspDataPathTest, TamperedReplayedAndUnknownAreDroppedAndCounted) {
  drop_next_ = true;  // capture A's datagram without delivering it
  ASSERT_TRUE(a_.tun->InjectPacket(Inner("172.16.1.5", "172.16.2.7", 200)));
  a_.dp->RunTxOnce();
  ASSERT_EQ(wire_.size(), 1u);
  const Bytes original = wire_[0].payload;
  UdpOptions uo;
  uo.bind = {kA, 9999};
  auto attacker = net_.Open(uo);
  ASSERT_TRUE(attacker.ok());
  auto inject = [&](const Bytes& b) {
    ASSERT_TRUE((*attacker)->Send(OutgoingDatagram{b, {kB, 4500}}).ok());
    b_.dp->RunRxOnce();
  };
  Bytes tampered = original;
  tampered[40] ^= 0x01;
  inject(tampered);
  EXPECT_EQ(b_.dp->Stats().rx.dropped(DropReason::kAuth), 1u);
  inject(original);  // the genuine one, late: delivered once
  EXPECT_EQ(b_.dp->Stats().rx.delivered, 1u);
  inject(original);  // and again: a replay
  EXPECT_EQ(b_.dp->Stats().rx.dropped(DropReason::kReplay), 1u);
  Bytes unknown = original;
  wire::StoreU32(unknown, 0, 0x9999);
  inject(unknown);
  EXPECT_EQ(b_.dp->Stats().rx.dropped(DropReason::kUnknownSpi), 1u);
  inject(Bytes{1, 2, 3});  // neither ESP nor IKE nor a keepalive
  EXPECT_EQ(b_.dp->Stats().rx.dropped(DropReason::kMalformed), 1u);
  EXPECT_EQ(b_.tun->written().size(), 1u);
  EXPECT_EQ(b_.dp->Stats().rx.datagrams, 5u);
}

TEST_F(EspDataPathTest, CbcSha256SuiteWorks) {
  ASSERT_TRUE(
      b_.dp->AddInboundSa(Config(esp::Direction::kInbound, 0x4004, kB, kA, esp::Cipher::kAesCbc128))
          .ok());
  ASSERT_TRUE(a_.dp
                  ->SetOutboundSa(
                      1, {kNetB},
                      Config(esp::Direction::kOutbound, 0x4004, kA, kB, esp::Cipher::kAesCbc128))
                  .ok());
  Bytes p = Inner("172.16.1.5", "172.16.2.7", 1000, 9);
  std::optional<Bytes> got = AtoB(p);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, p);
}

TEST_F(EspDataPathTest, SoftLifetimeEventReachesHandler) {
  std::vector<esp::SaEvent> events;
  a_.dp->set_sa_event_handler([&](const esp::SaEvent& e) { events.push_back(e); });
  esp::SaConfig c = Config(esp::Direction::kOutbound, 0x5005, kA, kB);
  c.lifetime.soft_packets = 2;
  ASSERT_TRUE(a_.dp->SetOutboundSa(1, {kNetB}, c).ok());
  a_.tun->InjectPacket(Inner("172.16.1.5", "172.16.2.7"));
  a_.dp->RunTxOnce();
  EXPECT_TRUE(events.empty());
  a_.tun->InjectPacket(Inner("172.16.1.5", "172.16.2.7"));
  a_.dp->RunTxOnce();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, esp::SaEventKind::kSoftExpired);
  EXPECT_EQ(events[0].spi, 0x5005u);
}

TEST_F(EspDataPathTest, BadSaConfigsAreRefused) {
  esp::SaConfig plain = Config(esp::Direction::kOutbound, 0x6006, kA, kB);
  plain.udp_encap = false;
  EXPECT_EQ(a_.dp->SetOutboundSa(3, {kNetB}, plain).error().code(), Errc::kUnsupported);
  EXPECT_EQ(
      a_.dp->SetOutboundSa(3, {}, Config(esp::Direction::kOutbound, 0x6006, kA, kB)).error().code(),
      Errc::kInvalidArgument);
  EXPECT_EQ(a_.dp->SetOutboundSa(3, {kNetB}, Config(esp::Direction::kInbound, 0x6006, kA, kB))
                .error()
                .code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(a_.dp->AddInboundSa(Config(esp::Direction::kInbound, 0x2002, kA, kB)).error().code(),
            Errc::kAlreadyExists);
  esp::SaConfig small_spi = Config(esp::Direction::kInbound, 7, kA, kB);
  EXPECT_FALSE(a_.dp->AddInboundSa(small_spi).ok());

  FakeUdpNetwork net;
  auto udp = net.Open(UdpOptions{});
  ASSERT_TRUE(udp.ok());
  EspDataPathOptions o;
  o.batch_size = 0;
  EXPECT_EQ(EspDataPath::Create(std::make_unique<FakeTun>(), std::move(*udp), o).error().code(),
            Errc::kInvalidArgument);
}

// With the workers running, control calls are applied by the owning worker
// (the fakes are left alone while the threads run).
TEST_F(EspDataPathTest, ControlCallsWhileWorkersRun) {
  ASSERT_TRUE(a_.dp->Start().ok());
  EXPECT_TRUE(a_.dp->running());
  EXPECT_EQ(a_.dp->Start().error().code(), Errc::kState);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        a_.dp->SetOutboundSa(1, {kNetB}, Config(esp::Direction::kOutbound, 0x7000 + i, kA, kB))
            .ok());
    ASSERT_TRUE(a_.dp->AddInboundSa(Config(esp::Direction::kInbound, 0x8000 + i, kA, kB)).ok());
  }
  ASSERT_TRUE(a_.dp->UpdateOutboundPath(1, {kA2, 4500}, {kB, 4500}).ok());
  Result<EspSaInfo> out = a_.dp->OutboundSaInfo(1);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->spi, 0x7000u + 49);
  EXPECT_EQ(out->local.address, kA2);
  EXPECT_TRUE(a_.dp->InboundSaInfo(0x8000 + 49).ok());
  EXPECT_EQ(a_.dp->InboundSaInfo(0x1234).error().code(), Errc::kNotFound);
  a_.dp->Stop();
  a_.dp->Stop();
  EXPECT_FALSE(a_.dp->running());

  // The last outbound SA and the new path are what the next packet uses.
  a_.tun->InjectPacket(Inner("172.16.1.5", "172.16.2.7"));
  a_.dp->RunTxOnce();
  ASSERT_EQ(wire_.size(), 1u);
  EXPECT_EQ(wire::LoadU32(wire_[0].payload, 0), 0x7000u + 49);
  EXPECT_EQ(wire_[0].source.address, kA2);
}

}  // namespace
}  // namespace mipsec::platform

#include "esp/sa_table.h"

#include <gtest/gtest.h>

#include "common/bug.h"
#include "esp/esp_test_util.h"
#include "esp/udp_encap.h"

namespace mipsec::esp {
namespace {

using testing::InnerPacket;
using testing::TestBuf;
using testing::TestConfig;

const Timestamp kNow = Timestamp::FromNanos(5);

Sa Make(Direction d, std::uint32_t spi, std::uint8_t seed, Lifetime lifetime = {}) {
  SaConfig cfg = TestConfig(d, Cipher::kAesGcm16_128, Integrity::kNone, false, spi, seed);
  cfg.lifetime = lifetime;
  Result<Sa> sa = Sa::Create(cfg);
  EXPECT_TRUE(sa.ok());
  return std::move(*sa);
}

TEST(SaTableTest, AddFindRemove) {
  SaTable t;
  EXPECT_TRUE(t.Add(Make(Direction::kInbound, 0x1000, 1)).ok());
  EXPECT_TRUE(t.Add(Make(Direction::kInbound, 0x2000, 2)).ok());
  Status dup = t.Add(Make(Direction::kInbound, 0x1000, 3));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), Errc::kAlreadyExists);
  Status out = t.Add(Make(Direction::kOutbound, 0x3000, 3));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(t.size(), 2u);
  ASSERT_NE(t.Find(0x1000), nullptr);
  EXPECT_EQ(t.Find(0x1000)->spi(), 0x1000u);
  EXPECT_EQ(t.Find(0x4000), nullptr);
  EXPECT_TRUE(t.Remove(0x1000));
  EXPECT_FALSE(t.Remove(0x1000));
  EXPECT_EQ(t.Find(0x1000), nullptr);  // the lookup cache was dropped too
  EXPECT_EQ(t.size(), 1u);
}

TEST(SaTableTest, DispatchesBySpiAndCountsUnknown) {
  SaTable t;
  ASSERT_TRUE(t.Add(Make(Direction::kInbound, 0x1000, 1)).ok());
  ASSERT_TRUE(t.Add(Make(Direction::kInbound, 0x2000, 2)).ok());
  Sa out1 = Make(Direction::kOutbound, 0x1000, 1);
  Sa out2 = Make(Direction::kOutbound, 0x2000, 2);
  Sa out3 = Make(Direction::kOutbound, 0x3000, 3);
  const Bytes inner = InnerPacket(40);
  for (Sa* out : {&out1, &out2, &out1, &out3, &out2}) {
    TestBuf b(inner);
    ASSERT_EQ(out->Encapsulate(kNow, b.pb).action, Action::kSend);
    PacketResult r = t.Decapsulate(kNow, b.pb);
    EXPECT_EQ(r.spi, out->spi());
    if (out == &out3) {
      EXPECT_EQ(r.reason, DropReason::kUnknownSpi);
    } else {
      ASSERT_EQ(r.action, Action::kDeliver);
      EXPECT_EQ(b.bytes(), inner);
    }
  }
  EXPECT_EQ(t.Find(0x1000)->counters().packets, 2u);
  EXPECT_EQ(t.Find(0x2000)->counters().packets, 2u);
  EXPECT_EQ(t.counters().unknown_spi, 1u);
}

TEST(SaTableTest, Udp4500AndIpv4Forms) {
  SaTable t;
  ASSERT_TRUE(t.Add(Make(Direction::kInbound, 0x1000, 1)).ok());
  SaConfig cfg = TestConfig(Direction::kOutbound, Cipher::kAesGcm16_128, Integrity::kNone, false,
                            0x1000, 1);
  cfg.udp_encap = true;
  Result<Sa> out = Sa::Create(cfg);
  ASSERT_TRUE(out.ok());
  const Bytes inner = InnerPacket(100);

  // kUdp4500: ESP, IKE, keepalive, junk.
  TestBuf esp(inner);
  ASSERT_EQ(out->Encapsulate(kNow, esp.pb).action, Action::kSend);
  EXPECT_EQ(t.Decapsulate(kNow, esp.pb, InputForm::kUdp4500).action, Action::kDeliver);
  EXPECT_EQ(esp.bytes(), inner);
  const Bytes ike_msg(40, 0x2a);
  TestBuf ike(WithNonEspMarker(ike_msg));
  PacketResult r = t.Decapsulate(kNow, ike.pb, InputForm::kUdp4500);
  EXPECT_EQ(r.action, Action::kToIke);
  EXPECT_EQ(ike.bytes(), ike_msg);
  TestBuf ka(NatKeepalivePayload());
  EXPECT_EQ(t.Decapsulate(kNow, ka.pb, InputForm::kUdp4500).action, Action::kKeepalive);
  TestBuf junk(Bytes{1, 2});
  EXPECT_EQ(t.Decapsulate(kNow, junk.pb, InputForm::kUdp4500).reason, DropReason::kMalformed);

  // kIpv4: a whole outer packet as our encapsulator builds it.
  TestBuf full(inner);
  ASSERT_EQ(out->Encapsulate(kNow, full.pb, OuterForm::kIpv4).action, Action::kSend);
  r = t.Decapsulate(kNow, full.pb, InputForm::kIpv4);
  ASSERT_EQ(r.action, Action::kDeliver) << DropReasonName(r.reason);
  EXPECT_EQ(r.seq, 2u);
  EXPECT_EQ(full.bytes(), inner);
  TestBuf ka_full(BuildNatKeepalivePacket(cfg.local, cfg.remote));
  EXPECT_EQ(t.Decapsulate(kNow, ka_full.pb, InputForm::kIpv4).action, Action::kKeepalive);
  TestBuf not_ip(Bytes(30, 0x11));
  EXPECT_EQ(t.Decapsulate(kNow, not_ip.pb, InputForm::kIpv4).reason, DropReason::kMalformed);
  TestBuf short_esp(Bytes{0, 0, 0x10, 0});
  EXPECT_EQ(t.Decapsulate(kNow, short_esp.pb, InputForm::kEsp).reason, DropReason::kMalformed);

  EXPECT_EQ(t.counters().ike, 1u);
  EXPECT_EQ(t.counters().keepalives, 2u);
  EXPECT_EQ(t.counters().malformed, 3u);
}

TEST(SaTableTest, CollectsLifetimeEvents) {
  SaTable t;
  Lifetime l;
  l.soft_packets = 1;
  l.hard_packets = 2;
  ASSERT_TRUE(t.Add(Make(Direction::kInbound, 0x1000, 1, l)).ok());
  ASSERT_TRUE(t.Add(Make(Direction::kInbound, 0x2000, 2, l)).ok());
  Sa out1 = Make(Direction::kOutbound, 0x1000, 1);
  Sa out2 = Make(Direction::kOutbound, 0x2000, 2);
  const Bytes inner = InnerPacket(10);
  for (Sa* out : {&out2, &out1, &out2}) {
    TestBuf b(inner);
    ASSERT_EQ(out->Encapsulate(kNow, b.pb).action, Action::kSend);
    ASSERT_EQ(t.Decapsulate(kNow, b.pb).action, Action::kDeliver);
  }
  std::vector<std::pair<std::uint32_t, SaEventKind>> got;
  while (auto e = t.PollEvent()) got.emplace_back(e->spi, e->kind);
  EXPECT_EQ(got, (std::vector<std::pair<std::uint32_t, SaEventKind>>{
                     {0x2000, SaEventKind::kSoftExpired},
                     {0x1000, SaEventKind::kSoftExpired},
                     {0x2000, SaEventKind::kHardExpired}}));
  TestBuf b(inner);
  ASSERT_EQ(out2.Encapsulate(kNow, b.pb).action, Action::kSend);
  EXPECT_EQ(t.Decapsulate(kNow, b.pb).reason, DropReason::kExpired);
}

TEST(SaTableTest, BatchMixedInput) {
  SaTable t;
  ASSERT_TRUE(t.Add(Make(Direction::kInbound, 0x1000, 1)).ok());
  Sa out = Make(Direction::kOutbound, 0x1000, 1);
  const Bytes inner = InnerPacket(60);
  TestBuf a(inner), b(inner), c(NatKeepalivePayload()), d(WithNonEspMarker(Bytes(30, 1)));
  ASSERT_EQ(out.Encapsulate(kNow, a.pb).action, Action::kSend);
  ASSERT_EQ(out.Encapsulate(kNow, b.pb).action, Action::kSend);
  b.storage[b.pb.offset + b.pb.length - 1] ^= 1;  // break b's ICV
  std::vector<PacketBuf> pkts = {a.pb, b.pb, c.pb, d.pb};
  std::vector<PacketResult> results(pkts.size());
  t.DecapsulateBatch(kNow, pkts, results, InputForm::kUdp4500);
  EXPECT_EQ(results[0].action, Action::kDeliver);
  EXPECT_EQ(results[1].reason, DropReason::kAuth);
  EXPECT_EQ(results[2].action, Action::kKeepalive);
  EXPECT_EQ(results[3].action, Action::kToIke);
  EXPECT_EQ(pkts[0].length, inner.size());
  EXPECT_EQ(pkts[3].length, 30u);
}

}  // namespace
}  // namespace mipsec::esp

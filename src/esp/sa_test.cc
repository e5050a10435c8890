#include "esp/sa.h"

#include <algorithm>
#include <memory>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "common/bug.h"
#include "common/checksum.h"
#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "crypto/aead_gcm.h"
#include "esp/esp_test_util.h"
#include "esp/sa_table.h"
#include "esp/udp_encap.h"

namespace mipsec::esp {
namespace {

using testing::Hex;
using testing::InnerPacket;
using testing::MakePair;
using testing::SaPair;
using testing::TestBuf;
using testing::TestConfig;
using testing::TestKey;

const Timestamp kNow = Timestamp::FromNanos(1'000'000);

SecretBytes Concat(const SecretBytes& a, const SecretBytes& b) {
  Bytes v(a.Reveal().begin(), a.Reveal().end());
  v.insert(v.end(), b.Reveal().begin(), b.Reveal().end());
  return SecretBytes(v);
}

// Sends one packet out of `p.out` and through `p.in`; returns the result of
// the decapsulation and, in *inner, the delivered bytes.
PacketResult RoundTrip(SaPair& p, ByteSpan inner_pkt, Bytes* inner = nullptr) {
  TestBuf b(inner_pkt);
  PacketResult e = p.out.Encapsulate(kNow, b.pb);
  EXPECT_EQ(e.action, Action::kSend);
  PacketResult d = p.in.Decapsulate(kNow, b.pb);
  if (inner != nullptr && d.action == Action::kDeliver) *inner = b.bytes();
  return d;
}

// Walks an ESN receiver's window up to `target` by delivering packets whose
// sequence numbers advance by less than 2^32 - W each (RFC 4303 A2.2 only
// follows such steps).
void PrimeEsn(SaPair& p, std::uint64_t target) {
  const Bytes inner = InnerPacket(10);
  std::uint64_t seq = 0;
  while (target - seq > (std::uint64_t{1} << 31)) {
    seq += std::uint64_t{1} << 31;
    p.out.SetNextSequenceForTesting(seq);
    ASSERT_EQ(RoundTrip(p, inner).action, Action::kDeliver) << seq;
  }
}

// ---------------------------------------------------------------------------
// Known answers. The expected packets were computed independently of our
// code with python3-cryptography (48.0) by this script:
//
//   import struct
//   from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
//   from cryptography.hazmat.primitives.ciphers.aead import AESGCM
//   from cryptography.hazmat.primitives import hmac, hashes
//   def trailer(n, align):
//       pad = (align - (n + 2) % align) % align
//       return bytes(range(1, pad + 1)) + bytes([pad, 4])
//   def gcm(key, salt, spi, seq, esn, pt):      # RFC 4106: nonce salt|IV, IV = seq
//       iv = struct.pack('!Q', seq)
//       aad = (struct.pack('!III', spi, seq >> 32, seq & 0xffffffff) if esn
//              else struct.pack('!II', spi, seq & 0xffffffff))
//       ct = AESGCM(key).encrypt(salt + iv, pt + trailer(len(pt), 4), aad)
//       return struct.pack('!II', spi, seq & 0xffffffff) + iv + ct
//   def cbc(key, mkey, hashalg, icvlen, spi, seq, esn, pt):
//       e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # IV = E_K(0^32|SPI|seq)
//       iv = e.update(bytes(4) + struct.pack('!IQ', spi, seq)) + e.finalize()
//       c = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
//       ct = c.update(pt + trailer(len(pt), 16)) + c.finalize()
//       pkt = struct.pack('!II', spi, seq & 0xffffffff) + iv + ct
//       h = hmac.HMAC(mkey, hashalg)
//       h.update(pkt + (struct.pack('!I', seq >> 32) if esn else b''))  # RFC 4303 2.2.1
//       return pkt + h.finalize()[:icvlen]
//   K = lambda n, s: bytes((s + i * 13) & 0xff for i in range(n))
//   gcm(K(16,1), K(4,99), 0x12345678, 1, False, inner28)
//   gcm(K(32,2), K(4,77), 0xabcdef01, (1 << 32) + 5, True, inner50)
//   cbc(K(16,3), K(32,4), hashes.SHA256(), 16, 0x1000, 7, False, inner50)
//   cbc(K(32,5), K(64,6), hashes.SHA512(), 32, 0x0badcafe, (3 << 32) | 2, True, inner28)
//   cbc(K(16,7), K(48,8), hashes.SHA384(), 24, 0x01020304, 1, False, inner28)
// inner28/inner50 are the IPv4/UDP datagrams below (UDP checksum 0).

constexpr char kInner28[] = "452e001c123440004011a3e3c0000281c000020a1388177000080000";
constexpr char kInner50[] =
    "452e0032123440004011a3cdc0000281c000020a13881770001e0000030a11181f262d343b424950575e656c737a"
    "81888f96";

struct Kat {
  const char* name;
  Cipher cipher;
  Integrity integrity;
  std::uint8_t key_seed, second_seed;  // second: salt (GCM) or MAC key (CBC)
  std::uint32_t spi;
  std::uint64_t seq;
  bool esn;
  const char* inner;
  const char* expected;
};

const Kat kKats[] = {
    {"gcm128", Cipher::kAesGcm16_128, Integrity::kNone, 1, 99, 0x12345678, 1, false, kInner28,
     "1234567800000001000000000000000193f68f1d60208033c22837a85d50ccb9442895bda86ffceeb5d8d92951"
     "68a822079813d69d2c92ee861ecd878d745513"},
    {"gcm256esn", Cipher::kAesGcm16_256, Integrity::kNone, 2, 77, 0xabcdef01,
     (std::uint64_t{1} << 32) + 5, true, kInner50,
     "abcdef010000000500000001000000057809fdbcbe498846dcbb557308f3ef56af46beea0ef78ac17dae4cdc8d"
     "b935862dc5027244dbae33f98b900f032875bc7516049ad4f500dfed17dd6ed18c0da47620b7a6"},
    {"cbc128sha256", Cipher::kAesCbc128, Integrity::kHmacSha256_128, 3, 4, 0x1000, 7, false,
     kInner50,
     "0000100000000007be2001962a162703e747c956d61e8e68bc645a7144448adb70326eb28fce479177f3040228"
     "cfef5ba6555e5cc5dd0ae5aa3ee4ae8ffb58cbeccac7271696249ad01c204a5f6c30ee73c77dfad09c604af6f4"
     "f2d1a4493da1c41b2a33fc50f730"},
    {"cbc256sha512esn", Cipher::kAesCbc256, Integrity::kHmacSha512_256, 5, 6, 0x0badcafe,
     (std::uint64_t{3} << 32) | 2, true, kInner28,
     "0badcafe000000028d8a5b5bd5b9e23c5bdcb57466d40edd6bbb6c0ab04bfc18cd3a110ec9b19c392eca739556"
     "008a2134828e3f9ea9bd5c29750faa184ed02cb097475fdf656888f05ba26b5663fa59a89fa6799a18ddaa"},
    {"cbc128sha384", Cipher::kAesCbc128, Integrity::kHmacSha384_192, 7, 8, 0x01020304, 1, false,
     kInner28,
     "0102030400000001daa8141ea97c86cc376c213f62c448ed6f220fdf9f539bd27bdbcd3504dc0cd8142d769a7f"
     "adb1a7e7ee61e788003cd9a33ccf21b73bbb683d7cade1775ea3bbf7ef22a00bf4ce6f"},
};

class SaKnownAnswerTest : public ::testing::TestWithParam<Kat> {};

TEST_P(SaKnownAnswerTest, EncapsulateMatchesAndDecapsulates) {
  const Kat& k = GetParam();
  SaConfig cfg = TestConfig(Direction::kOutbound, k.cipher, k.integrity, k.esn, k.spi);
  if (IsAead(k.cipher)) {
    cfg.enc_key = Concat(TestKey(EncKeySize(k.cipher) - 4, k.key_seed), TestKey(4, k.second_seed));
  } else {
    cfg.enc_key = TestKey(EncKeySize(k.cipher), k.key_seed);
    cfg.integ_key = TestKey(IntegKeySize(k.integrity), k.second_seed);
  }
  SaPair p = MakePair(cfg);
  if (k.esn) PrimeEsn(p, k.seq);
  p.out.SetNextSequenceForTesting(k.seq);
  const Bytes inner = Hex(k.inner);
  TestBuf b(inner);
  PacketResult e = p.out.Encapsulate(kNow, b.pb);
  ASSERT_EQ(e.action, Action::kSend);
  EXPECT_EQ(e.seq, k.seq);
  EXPECT_EQ(ToHex(b.bytes()), k.expected);

  // The expected bytes, not our output, through the receiver.
  const Bytes expected = Hex(k.expected);
  TestBuf in(expected);
  PacketResult d = p.in.Decapsulate(kNow, in.pb);
  ASSERT_EQ(d.action, Action::kDeliver) << DropReasonName(d.reason);
  EXPECT_EQ(d.seq, k.seq);
  EXPECT_EQ(d.spi, k.spi);
  EXPECT_EQ(in.bytes(), inner);
  EXPECT_EQ(p.in.replay_window().top(), k.seq);
}

INSTANTIATE_TEST_SUITE_P(Vectors, SaKnownAnswerTest, ::testing::ValuesIn(kKats),
                         [](const auto& tpi) { return std::string(tpi.param.name); });

// ---------------------------------------------------------------------------
// Round trips over every algorithm, ESN on/off, sizes and both outer forms.

struct Suite {
  Cipher cipher;
  Integrity integrity;
};
const Suite kSuites[] = {
    {Cipher::kAesGcm16_128, Integrity::kNone},
    {Cipher::kAesGcm16_256, Integrity::kNone},
    {Cipher::kAesCbc128, Integrity::kHmacSha256_128},
    {Cipher::kAesCbc256, Integrity::kHmacSha256_128},
    {Cipher::kAesCbc128, Integrity::kHmacSha384_192},
    {Cipher::kAesCbc256, Integrity::kHmacSha512_256},
};

class SaRoundTripTest : public ::testing::TestWithParam<std::tuple<Suite, bool>> {
 protected:
  SaConfig Config() const {
    const auto& [s, esn] = GetParam();
    return TestConfig(Direction::kOutbound, s.cipher, s.integrity, esn);
  }
};

TEST_P(SaRoundTripTest, SizesAndPadding) {
  SaPair p = MakePair(Config());
  const std::size_t align = IsAead(p.out.cipher()) ? 4 : 16;
  std::uint64_t expected_bytes = 0;
  for (std::size_t data : {0u, 1u, 2u, 3u, 13u, 35u, 36u, 100u, 471u, 1372u, 1472u}) {
    const Bytes inner = InnerPacket(data, static_cast<std::uint8_t>(data));
    TestBuf b(inner);
    PacketResult e = p.out.Encapsulate(kNow, b.pb);
    ASSERT_EQ(e.action, Action::kSend);
    const std::size_t iv = IsAead(p.out.cipher()) ? 8 : 16;
    const std::size_t text = b.pb.length - 8 - iv - p.out.icv_size();
    EXPECT_EQ(text % align, 0u);
    EXPECT_LT(text - inner.size() - 2, align);  // minimal padding
    EXPECT_EQ(b.pb.offset, kEncapHeadroom - 8 - iv);
    PacketResult d = p.in.Decapsulate(kNow, b.pb);
    ASSERT_EQ(d.action, Action::kDeliver) << DropReasonName(d.reason) << " size " << data;
    EXPECT_EQ(b.bytes(), inner);
    EXPECT_EQ(b.pb.offset, kEncapHeadroom);  // in place
    expected_bytes += inner.size();
  }
  EXPECT_EQ(p.out.counters().packets, 11u);
  EXPECT_EQ(p.in.counters().packets, 11u);
  EXPECT_EQ(p.out.counters().bytes, expected_bytes);
  EXPECT_EQ(p.in.counters().bytes, expected_bytes);
}

TEST_P(SaRoundTripTest, OuterIpv4Forms) {
  for (bool udp : {false, true}) {
    SaConfig cfg = Config();
    cfg.udp_encap = udp;
    cfg.local.port = 4500;
    cfg.remote.port = 31337;  // a NAT-mapped peer port
    SaPair p = MakePair(cfg);
    const Bytes inner = InnerPacket(200);
    TestBuf b(inner);
    PacketResult e = p.out.Encapsulate(kNow, b.pb, OuterForm::kIpv4);
    ASSERT_EQ(e.action, Action::kSend);
    const std::size_t iv = IsAead(cfg.cipher) ? 8 : 16;
    EXPECT_EQ(b.pb.offset, kEncapHeadroom - 20 - (udp ? 8 : 0) - 8 - iv);
    Result<ip::Ipv4Packet> outer = ip::ParseIpv4(b.bytes());
    ASSERT_TRUE(outer.ok()) << outer.error().ToString();
    EXPECT_EQ(outer->header.src, cfg.local.address);
    EXPECT_EQ(outer->header.dst, cfg.remote.address);
    EXPECT_EQ(outer->header.protocol, udp ? ip::kProtoUdp : ip::kProtoEsp);
    EXPECT_EQ(outer->header.tos, 0x2e);  // copied from the inner header
    EXPECT_TRUE(outer->header.dont_fragment);
    EXPECT_EQ(outer->header.ttl, 64);
    EXPECT_EQ(outer->datagram.size(), b.pb.length);
    if (udp) {
      Result<ip::Ipv4UdpPacket> u = ip::ParseIpv4Udp(b.bytes());
      ASSERT_TRUE(u.ok()) << u.error().ToString();
      EXPECT_EQ(u->udp.src_port, 4500);
      EXPECT_EQ(u->udp.dst_port, 31337);
      EXPECT_EQ(u->udp.checksum, 0);  // RFC 3948 2.1
    }
    Result<OuterPacket> loc = LocateEsp(b.bytes());
    ASSERT_TRUE(loc.ok());
    EXPECT_EQ(loc->kind, Udp4500Kind::kEsp);
    EXPECT_EQ(loc->udp, udp);
    b.pb.offset += loc->offset;
    b.pb.length = loc->length;
    PacketResult d = p.in.Decapsulate(kNow, b.pb);
    ASSERT_EQ(d.action, Action::kDeliver) << DropReasonName(d.reason);
    EXPECT_EQ(b.bytes(), inner);
  }
}

TEST_P(SaRoundTripTest, TamperingAnyByteFailsWithoutTouchingTheWindow) {
  SaPair p = MakePair(Config());
  const Bytes inner = InnerPacket(40);
  ASSERT_EQ(RoundTrip(p, inner).action, Action::kDeliver);  // top = 1
  TestBuf b(inner);
  ASSERT_EQ(p.out.Encapsulate(kNow, b.pb).action, Action::kSend);  // seq 2
  const Bytes genuine = b.bytes();
  for (std::size_t i = 0; i < genuine.size(); ++i) {
    for (std::uint8_t bit : {0x01, 0x80}) {
      Bytes forged = genuine;
      forged[i] ^= bit;
      TestBuf f(forged);
      PacketResult d = p.in.Decapsulate(kNow, f.pb);
      ASSERT_EQ(d.action, Action::kDrop) << "byte " << i;
      if (i < 4) {
        EXPECT_EQ(d.reason, DropReason::kUnknownSpi);
      } else if (i < 8) {
        // A changed sequence number: a replay if it is 0 or already seen,
        // else an ICV failure (the sequence number is authenticated).
        const auto low = static_cast<std::uint32_t>(forged[4] << 24 | forged[5] << 16 |
                                                    forged[6] << 8 | forged[7]);
        const std::uint64_t s = p.in.replay_window().Infer(low);
        const bool replay = p.in.replay_window().Check(s) != ReplayVerdict::kAccept;
        EXPECT_EQ(d.reason, replay ? DropReason::kReplay : DropReason::kAuth) << "byte " << i;
      } else {
        EXPECT_EQ(d.reason, DropReason::kAuth) << "byte " << i;
      }
      ASSERT_EQ(p.in.replay_window().top(), 1u) << "byte " << i;
    }
  }
  EXPECT_EQ(p.in.counters().packets, 1u);
  EXPECT_GT(p.in.counters().dropped(DropReason::kAuth), 0u);
  TestBuf ok(genuine);
  PacketResult d = p.in.Decapsulate(kNow, ok.pb);
  ASSERT_EQ(d.action, Action::kDeliver);
  EXPECT_EQ(d.seq, 2u);
  EXPECT_EQ(ok.bytes(), inner);
}

TEST_P(SaRoundTripTest, BatchThroughTable) {
  SaConfig cfg = Config();
  SaPair p = MakePair(cfg);
  SaTable table;
  ASSERT_TRUE(table.Add(std::move(p.in)).ok());
  constexpr std::size_t kBatch = 64;
  std::vector<Bytes> inners;
  std::vector<std::unique_ptr<TestBuf>> bufs;
  std::vector<PacketBuf> pkts;
  for (std::size_t i = 0; i < kBatch; ++i) {
    inners.push_back(InnerPacket(i * 20, static_cast<std::uint8_t>(i)));
    bufs.push_back(std::make_unique<TestBuf>(inners.back()));
    pkts.push_back(bufs.back()->pb);
  }
  std::vector<PacketResult> results(kBatch);
  p.out.EncapsulateBatch(kNow, pkts, results);
  for (std::size_t i = 0; i < kBatch; ++i) {
    ASSERT_EQ(results[i].action, Action::kSend);
    EXPECT_EQ(results[i].seq, i + 1);
  }
  // Reverse order (within the window) to exercise out-of-order arrival.
  std::reverse(pkts.begin(), pkts.end());
  std::vector<Bytes> esp;
  for (const PacketBuf& pb : pkts) esp.emplace_back(pb.packet().begin(), pb.packet().end());
  table.DecapsulateBatch(kNow, pkts, results);
  for (std::size_t i = 0; i < kBatch; ++i) {
    ASSERT_EQ(results[i].action, Action::kDeliver) << DropReasonName(results[i].reason);
    EXPECT_EQ(results[i].seq, kBatch - i);
    const Bytes& want = inners[kBatch - 1 - i];
    ASSERT_EQ(pkts[i].length, want.size());
    EXPECT_TRUE(std::equal(want.begin(), want.end(), pkts[i].packet().begin()));
  }
  // The whole batch again: every packet is a replay now.
  std::vector<std::unique_ptr<TestBuf>> again;
  pkts.clear();
  for (const Bytes& e : esp) {
    again.push_back(std::make_unique<TestBuf>(e));
    pkts.push_back(again.back()->pb);
  }
  table.DecapsulateBatch(kNow, pkts, results);
  for (const PacketResult& r : results) EXPECT_EQ(r.reason, DropReason::kReplay);
}

INSTANTIATE_TEST_SUITE_P(
    AllSuites, SaRoundTripTest, ::testing::Combine(::testing::ValuesIn(kSuites), ::testing::Bool()),
    [](const auto& tpi) {
      const Suite& s = std::get<0>(tpi.param);
      return std::string(CipherName(s.cipher)) + "_" + std::string(IntegrityName(s.integrity)) +
             (std::get<1>(tpi.param) ? "_esn" : "");
    });

// ---------------------------------------------------------------------------
// Anti-replay.

class SaReplayTest : public ::testing::TestWithParam<std::tuple<std::uint32_t, bool>> {};

TEST_P(SaReplayTest, WindowEdges) {
  const auto [window, esn] = GetParam();
  SaConfig cfg = TestConfig(Direction::kOutbound, Cipher::kAesGcm16_128, Integrity::kNone, esn);
  cfg.replay_window = window;
  SaPair p = MakePair(cfg);
  const Bytes inner = InnerPacket(8);
  // With ESN, straddle the 2^32 boundary.
  const std::uint64_t base = esn ? (std::uint64_t{1} << 32) - window / 2 : 1000;
  if (esn) PrimeEsn(p, base);
  // Encapsulate base .. base + window + 1, keep them, deliver out of order.
  std::vector<Bytes> sent;
  p.out.SetNextSequenceForTesting(base);
  for (std::uint32_t i = 0; i <= window + 1; ++i) {
    TestBuf b(inner);
    ASSERT_EQ(p.out.Encapsulate(kNow, b.pb).action, Action::kSend);
    sent.push_back(b.bytes());
  }
  auto deliver = [&](std::size_t idx) {
    TestBuf b(sent[idx]);
    return p.in.Decapsulate(kNow, b.pb);
  };
  ASSERT_EQ(deliver(window - 1).action, Action::kDeliver);  // top = base + W - 1
  EXPECT_EQ(deliver(window - 1).reason, DropReason::kReplay);
  ASSERT_EQ(deliver(0).action, Action::kDeliver);  // the oldest inside
  EXPECT_EQ(deliver(0).reason, DropReason::kReplay);
  ASSERT_EQ(deliver(window + 1).action, Action::kDeliver);  // top = base + W + 1
  // Now too old (top - seq == W). Without ESN that is a replay. With ESN,
  // RFC 4303 A2.2 infers a sequence number below the window as belonging to
  // the next subspace (Seqh + 1), so the ICV check fails instead; either way
  // the packet is dropped and the window does not move.
  EXPECT_EQ(deliver(1).reason, esn ? DropReason::kAuth : DropReason::kReplay);
  PacketResult d2 = deliver(2);
  EXPECT_EQ(d2.action, Action::kDeliver);  // top - seq == W - 1: still inside
  EXPECT_EQ(d2.seq, base + 2);
  EXPECT_EQ(deliver(window).action, Action::kDeliver);
  EXPECT_EQ(p.in.replay_window().top(), base + window + 1);
  EXPECT_EQ(p.in.counters().dropped(DropReason::kReplay), esn ? 2u : 3u);
}

INSTANTIATE_TEST_SUITE_P(Windows, SaReplayTest,
                         ::testing::Combine(::testing::Values(32u, 64u, 1024u, 4096u),
                                            ::testing::Bool()));

TEST(SaTest, ReplayIsCheckedBeforeTheIcvAndForgeriesDoNotMoveTheWindow) {
  SaConfig cfg = TestConfig(Direction::kOutbound, Cipher::kAesCbc128, Integrity::kHmacSha256_128);
  cfg.replay_window = 32;
  SaPair p = MakePair(cfg);
  const Bytes inner = InnerPacket(8);
  std::vector<Bytes> sent;
  for (int i = 0; i < 3; ++i) {
    TestBuf b(inner);
    ASSERT_EQ(p.out.Encapsulate(kNow, b.pb).action, Action::kSend);
    sent.push_back(b.bytes());
  }
  TestBuf first(sent[0]);
  ASSERT_EQ(p.in.Decapsulate(kNow, first.pb).action, Action::kDeliver);
  // A replay of seq 1 with a broken ICV is reported as a replay: the window
  // check runs first (RFC 4303 3.4.3).
  Bytes replay = sent[0];
  replay.back() ^= 1;
  TestBuf rb(replay);
  EXPECT_EQ(p.in.Decapsulate(kNow, rb.pb).reason, DropReason::kReplay);
  // A forged packet claiming seq 5000 fails its ICV and leaves the window at
  // 1, so seq 2 (which would be too old after a jump to 5000) still passes.
  Bytes forged = sent[1];
  forged[4] = 0;
  forged[5] = 0;
  forged[6] = 0x13;
  forged[7] = 0x88;
  TestBuf fb(forged);
  EXPECT_EQ(p.in.Decapsulate(kNow, fb.pb).reason, DropReason::kAuth);
  EXPECT_EQ(p.in.replay_window().top(), 1u);
  TestBuf second(sent[1]);
  EXPECT_EQ(p.in.Decapsulate(kNow, second.pb).action, Action::kDeliver);
}

TEST(SaTest, AntiReplayOffDeliversDuplicates) {
  SaConfig cfg = TestConfig(Direction::kOutbound, Cipher::kAesGcm16_128, Integrity::kNone);
  cfg.anti_replay = false;
  SaPair p = MakePair(cfg);
  TestBuf b(InnerPacket(8));
  ASSERT_EQ(p.out.Encapsulate(kNow, b.pb).action, Action::kSend);
  const Bytes pkt = b.bytes();
  for (int i = 0; i < 3; ++i) {
    TestBuf c(pkt);
    EXPECT_EQ(p.in.Decapsulate(kNow, c.pb).action, Action::kDeliver);
  }
}

// ---------------------------------------------------------------------------
// Sequence numbers and lifetimes.

TEST(SaTest, SequenceNumberNeverCyclesWithoutEsn) {
  SaConfig cfg = TestConfig(Direction::kOutbound, Cipher::kAesGcm16_128, Integrity::kNone);
  cfg.seq_soft_margin = 10;
  SaPair p = MakePair(cfg);
  p.out.SetNextSequenceForTesting(0xfffffff0u);
  const Bytes inner = InnerPacket(8);
  EXPECT_FALSE(p.out.PollEvent().has_value());
  for (std::uint64_t s = 0xfffffff0u; s <= 0xfffffff5u; ++s) {
    EXPECT_EQ(RoundTrip(p, inner).action, Action::kDeliver);
  }
  // remaining = 0xffffffff - 0xfffffff5 = 10: not yet below the margin.
  EXPECT_FALSE(p.out.PollEvent().has_value());
  EXPECT_EQ(RoundTrip(p, inner).seq, 0xfffffff6u);
  std::optional<SaEvent> soft = p.out.PollEvent();
  ASSERT_TRUE(soft.has_value());
  EXPECT_EQ(soft->kind, SaEventKind::kSoftExpired);
  EXPECT_EQ(soft->limit, LimitKind::kSequence);
  EXPECT_EQ(soft->spi, cfg.spi);
  EXPECT_EQ(soft->direction, Direction::kOutbound);
  p.out.SetNextSequenceForTesting(0xffffffffu);
  PacketResult last = RoundTrip(p, inner);
  EXPECT_EQ(last.action, Action::kDeliver);
  EXPECT_EQ(last.seq, 0xffffffffu);
  std::optional<SaEvent> hard = p.out.PollEvent();
  ASSERT_TRUE(hard.has_value());
  EXPECT_EQ(hard->kind, SaEventKind::kHardExpired);
  EXPECT_EQ(hard->limit, LimitKind::kSequence);
  EXPECT_TRUE(p.out.hard_expired());
  TestBuf b(inner);
  const PacketBuf before = b.pb;
  PacketResult over = p.out.Encapsulate(kNow, b.pb);
  EXPECT_EQ(over.action, Action::kDrop);
  EXPECT_EQ(over.reason, DropReason::kSeqOverflow);
  EXPECT_EQ(b.pb.offset, before.offset);
  EXPECT_EQ(b.pb.length, before.length);
  EXPECT_EQ(p.out.counters().dropped(DropReason::kSeqOverflow), 1u);
  EXPECT_FALSE(p.out.PollEvent().has_value());  // each event once
}

TEST(SaTest, EsnCarriesAcrossTwoToThe32) {
  for (Suite s : {kSuites[0], kSuites[2]}) {
    SaConfig cfg = TestConfig(Direction::kOutbound, s.cipher, s.integrity, /*esn=*/true);
    SaPair p = MakePair(cfg);
    const std::uint64_t start = (std::uint64_t{1} << 32) - 3;
    PrimeEsn(p, start);
    p.out.SetNextSequenceForTesting(start);
    const Bytes inner = InnerPacket(30);
    for (std::uint64_t seq = start; seq < start + 6; ++seq) {
      Bytes got;
      PacketResult d = RoundTrip(p, inner, &got);
      ASSERT_EQ(d.action, Action::kDeliver) << DropReasonName(d.reason) << " " << seq;
      EXPECT_EQ(d.seq, seq);
      EXPECT_EQ(got, inner);
    }
    EXPECT_EQ(p.in.replay_window().top(), start + 5);
    EXPECT_FALSE(p.out.hard_expired());
  }
}

TEST(SaTest, EsnLastSequenceNumber) {
  SaConfig cfg = TestConfig(Direction::kOutbound, Cipher::kAesGcm16_128, Integrity::kNone, true);
  Result<Sa> out = Sa::Create(cfg);
  ASSERT_TRUE(out.ok());
  out->SetNextSequenceForTesting(~std::uint64_t{0});
  TestBuf b(InnerPacket(8));
  EXPECT_EQ(out->Encapsulate(kNow, b.pb).action, Action::kSend);
  TestBuf c(InnerPacket(8));
  EXPECT_EQ(out->Encapsulate(kNow, c.pb).reason, DropReason::kSeqOverflow);
}

TEST(SaTest, PacketAndByteLifetimes) {
  SaConfig cfg = TestConfig(Direction::kOutbound, Cipher::kAesGcm16_128, Integrity::kNone);
  const Bytes inner = InnerPacket(72);  // 100 bytes
  cfg.lifetime.soft_packets = 3;
  cfg.lifetime.hard_packets = 5;
  cfg.lifetime.soft_bytes = 10000;  // the packet limits come first
  SaPair p = MakePair(cfg);
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(RoundTrip(p, inner).action, Action::kDeliver);
    std::optional<SaEvent> e = p.out.PollEvent();
    if (i == 3) {
      ASSERT_TRUE(e.has_value());
      EXPECT_EQ(e->kind, SaEventKind::kSoftExpired);
      EXPECT_EQ(e->limit, LimitKind::kPackets);
    } else if (i == 5) {
      ASSERT_TRUE(e.has_value());
      EXPECT_EQ(e->kind, SaEventKind::kHardExpired);
    } else {
      EXPECT_FALSE(e.has_value()) << i;
    }
  }
  TestBuf b(inner);
  EXPECT_EQ(p.out.Encapsulate(kNow, b.pb).reason, DropReason::kExpired);
  // The inbound SA has the same limits: it expired at 5 too.
  EXPECT_TRUE(p.in.hard_expired());
  EXPECT_EQ(p.in.PollEvent()->kind, SaEventKind::kSoftExpired);
  EXPECT_EQ(p.in.PollEvent()->kind, SaEventKind::kHardExpired);

  // Bytes, inbound: soft at 250, hard at 400 inner bytes.
  SaConfig bytes_cfg = TestConfig(Direction::kOutbound, Cipher::kAesCbc128,
                                  Integrity::kHmacSha256_128);
  SaPair q = MakePair(bytes_cfg);
  bytes_cfg.direction = Direction::kInbound;
  bytes_cfg.lifetime.soft_bytes = 250;
  bytes_cfg.lifetime.hard_bytes = 400;
  Result<Sa> in = Sa::Create(bytes_cfg);
  ASSERT_TRUE(in.ok());
  std::vector<SaEvent> events;
  std::vector<DropReason> reasons;
  for (int i = 0; i < 6; ++i) {
    TestBuf c(inner);
    ASSERT_EQ(q.out.Encapsulate(kNow, c.pb).action, Action::kSend);
    reasons.push_back(in->Decapsulate(kNow + Duration::Seconds(i), c.pb).reason);
    while (auto e = in->PollEvent()) events.push_back(*e);
  }
  EXPECT_EQ(reasons, (std::vector<DropReason>{DropReason::kNone, DropReason::kNone,
                                              DropReason::kNone, DropReason::kNone,
                                              DropReason::kExpired, DropReason::kExpired}));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, SaEventKind::kSoftExpired);
  EXPECT_EQ(events[0].limit, LimitKind::kBytes);
  EXPECT_EQ(events[0].direction, Direction::kInbound);
  EXPECT_EQ(events[1].kind, SaEventKind::kHardExpired);
  EXPECT_EQ(in->counters().bytes, 400u);
  EXPECT_EQ(in->last_used(), kNow + Duration::Seconds(3));
}

// ---------------------------------------------------------------------------
// Trailer and inner-packet checks, on packets sealed by hand with AES-GCM.

class SaTrailerTest : public ::testing::Test {
 protected:
  SaTrailerTest() : cfg_(TestConfig(Direction::kInbound, Cipher::kAesGcm16_128, Integrity::kNone)) {
    Result<Sa> in = Sa::Create(cfg_);
    EXPECT_TRUE(in.ok());
    in_.emplace(std::move(*in));
  }

  // An ESP packet whose whole plaintext (payload and trailer) is `body`.
  Bytes Seal(std::uint32_t seq, ByteSpan body) {
    const ByteSpan km = cfg_.enc_key.Reveal();
    Result<crypto::AesGcm> gcm = crypto::AesGcm::Create(SecretBytes(km.first(16)));
    EXPECT_TRUE(gcm.ok());
    Bytes hdr = {static_cast<std::uint8_t>(cfg_.spi >> 24), static_cast<std::uint8_t>(cfg_.spi >> 16),
                 static_cast<std::uint8_t>(cfg_.spi >> 8), static_cast<std::uint8_t>(cfg_.spi),
                 static_cast<std::uint8_t>(seq >> 24), static_cast<std::uint8_t>(seq >> 16),
                 static_cast<std::uint8_t>(seq >> 8), static_cast<std::uint8_t>(seq)};
    const Bytes iv = {0, 0, 0, 0, hdr[4], hdr[5], hdr[6], hdr[7]};
    Bytes nonce(km.begin() + 16, km.end());
    nonce.insert(nonce.end(), iv.begin(), iv.end());
    Result<Bytes> sealed = gcm->Seal(nonce, hdr, body);
    EXPECT_TRUE(sealed.ok());
    Bytes out = hdr;
    out.insert(out.end(), iv.begin(), iv.end());
    out.insert(out.end(), sealed->begin(), sealed->end());
    return out;
  }

  static Bytes Body(ByteSpan payload, ByteSpan pad, std::uint8_t pad_len, std::uint8_t nh) {
    Bytes b(payload.begin(), payload.end());
    b.insert(b.end(), pad.begin(), pad.end());
    b.push_back(pad_len);
    b.push_back(nh);
    return b;
  }

  PacketResult Deliver(ByteSpan packet, Bytes* inner = nullptr) {
    TestBuf b(packet);
    PacketResult r = in_->Decapsulate(kNow, b.pb);
    if (inner != nullptr) *inner = b.bytes();
    return r;
  }

  SaConfig cfg_;
  std::optional<Sa> in_;
};

TEST_F(SaTrailerTest, GoodPaddingOfAnyLength) {
  const Bytes inner = InnerPacket(0);  // 28 bytes
  std::uint32_t seq = 1;
  for (std::uint8_t pad : {0, 1, 2, 6, 255}) {
    Bytes padding;
    for (int i = 1; i <= pad; ++i) padding.push_back(static_cast<std::uint8_t>(i));
    Bytes got;
    PacketResult r = Deliver(Seal(seq++, Body(inner, padding, pad, 4)), &got);
    ASSERT_EQ(r.action, Action::kDeliver) << int{pad} << " " << DropReasonName(r.reason);
    EXPECT_EQ(got, inner);
  }
}

TEST_F(SaTrailerTest, BadPadBytes) {
  const Bytes inner = InnerPacket(0);
  EXPECT_EQ(Deliver(Seal(1, Body(inner, Bytes{1, 2, 4}, 3, 4))).reason, DropReason::kBadPadding);
  EXPECT_EQ(Deliver(Seal(2, Body(inner, Bytes{0, 0}, 2, 4))).reason, DropReason::kBadPadding);
  // Pad length larger than the plaintext.
  EXPECT_EQ(Deliver(Seal(3, Body({}, {}, 200, 4))).reason, DropReason::kBadPadding);
  // The window still moved: these packets were authentic.
  EXPECT_EQ(in_->replay_window().top(), 3u);
  EXPECT_EQ(in_->counters().dropped(DropReason::kBadPadding), 3u);
}

TEST_F(SaTrailerTest, NextHeader) {
  const Bytes inner = InnerPacket(0);
  // 59: a TFC dummy packet (RFC 4303 2.6): discarded, not an error, and a
  // replay of it is caught like any other packet.
  const Bytes dummy = Seal(1, Body(Bytes{0xde, 0xad}, {}, 0, kNextHeaderNoNext));
  EXPECT_EQ(Deliver(dummy).reason, DropReason::kDummy);
  EXPECT_EQ(Deliver(dummy).reason, DropReason::kReplay);
  EXPECT_EQ(Deliver(Seal(2, Body(inner, {}, 0, 41))).reason, DropReason::kBadNextHeader);  // IPv6
  EXPECT_EQ(Deliver(Seal(3, Body(inner, {}, 0, 17))).reason, DropReason::kBadNextHeader);
  EXPECT_EQ(in_->counters().packets, 0u);
  EXPECT_EQ(in_->counters().dropped(DropReason::kDummy), 1u);
}

TEST_F(SaTrailerTest, InnerPacketValidity) {
  const Bytes inner = InnerPacket(20);
  Bytes bad_sum = inner;
  bad_sum[10] ^= 0xff;
  EXPECT_EQ(Deliver(Seal(1, Body(bad_sum, {}, 0, 4))).reason, DropReason::kBadInner);
  Bytes v6 = inner;
  v6[0] = 0x65;
  EXPECT_EQ(Deliver(Seal(2, Body(v6, {}, 0, 4))).reason, DropReason::kBadInner);
  // Total Length beyond the payload.
  EXPECT_EQ(Deliver(Seal(3, Body(ByteSpan(inner).first(inner.size() - 1), {}, 0, 4))).reason,
            DropReason::kBadInner);
  EXPECT_EQ(Deliver(Seal(4, Body(ByteSpan(inner).first(19), {}, 0, 4))).reason,
            DropReason::kBadInner);
  // TFC padding after the inner datagram (RFC 4303 2.7) is cut off.
  Bytes tfc = inner;
  tfc.resize(inner.size() + 37, 0);
  Bytes got;
  PacketResult r = Deliver(Seal(5, Body(tfc, Bytes{1, 2}, 2, 4)), &got);
  ASSERT_EQ(r.action, Action::kDeliver);
  EXPECT_EQ(got, inner);
}

TEST_F(SaTrailerTest, TooShortOrMisaligned) {
  EXPECT_EQ(Deliver(Bytes(8 + 8 + 16 + 1, 0x10)).reason, DropReason::kMalformed);
  EXPECT_EQ(Deliver(Bytes{}).reason, DropReason::kMalformed);
  // CBC: the ciphertext must be whole blocks.
  SaConfig cfg = TestConfig(Direction::kOutbound, Cipher::kAesCbc128, Integrity::kHmacSha256_128);
  SaPair p = MakePair(cfg);
  TestBuf b(InnerPacket(30));
  ASSERT_EQ(p.out.Encapsulate(kNow, b.pb).action, Action::kSend);
  Bytes pkt = b.bytes();
  pkt.insert(pkt.begin() + 40, 0);
  TestBuf c(pkt);
  EXPECT_EQ(p.in.Decapsulate(kNow, c.pb).reason, DropReason::kMalformed);
  EXPECT_EQ(p.in.replay_window().top(), 0u);
}

TEST_F(SaTrailerTest, WrongSpi) {
  cfg_.spi = 0x2000;  // Seal() now uses another SPI
  EXPECT_EQ(Deliver(Seal(1, Body(InnerPacket(0), {}, 0, 4))).reason, DropReason::kUnknownSpi);
}

// ---------------------------------------------------------------------------
// Encapsulation input checks, policy, MOBIKE, configuration.

TEST(SaTest, EncapsulateNeedsRoomAndAnIpv4Packet) {
  SaPair p = MakePair(
      TestConfig(Direction::kOutbound, Cipher::kAesCbc256, Integrity::kHmacSha512_256));
  const Bytes inner = InnerPacket(30);  // 58 bytes
  const std::size_t pad = (16 - (inner.size() + 2) % 16) % 16;  // 4
  {
    TestBuf b(inner, 8 + 16 - 1, 64);
    EXPECT_EQ(p.out.Encapsulate(kNow, b.pb).reason, DropReason::kNoRoom);
    EXPECT_EQ(b.pb.offset, 23u);
  }
  {
    TestBuf b(inner, 64, pad + 2 + 32 - 1);
    EXPECT_EQ(p.out.Encapsulate(kNow, b.pb).reason, DropReason::kNoRoom);
  }
  {
    TestBuf b(inner, 8 + 16, pad + 2 + 32);  // exactly enough for kEspOnly
    EXPECT_EQ(p.out.Encapsulate(kNow, b.pb).action, Action::kSend);
    EXPECT_EQ(b.pb.offset, 0u);
    EXPECT_EQ(b.pb.length, b.storage.size());
  }
  {
    TestBuf b(inner, 8 + 16, 64);  // kIpv4 needs 20 more
    EXPECT_EQ(p.out.Encapsulate(kNow, b.pb, OuterForm::kIpv4).reason, DropReason::kNoRoom);
  }
  Bytes v6 = inner;
  v6[0] = 0x60;
  TestBuf b6(v6);
  EXPECT_EQ(p.out.Encapsulate(kNow, b6.pb).reason, DropReason::kBadInner);
  TestBuf shorter(ByteSpan(inner).first(inner.size() - 1));  // Total Length != length
  EXPECT_EQ(p.out.Encapsulate(kNow, shorter.pb).reason, DropReason::kBadInner);
  TestBuf tiny(ByteSpan(inner).first(12));
  EXPECT_EQ(p.out.Encapsulate(kNow, tiny.pb).reason, DropReason::kBadInner);
  PacketBuf broken{MutableByteSpan(b6.storage), 10, b6.storage.size()};
  EXPECT_EQ(p.out.Encapsulate(kNow, broken).reason, DropReason::kNoRoom);
  // Failed attempts consumed no sequence numbers.
  EXPECT_EQ(p.out.next_sequence(), 2u);
  EXPECT_EQ(p.out.counters().dropped(DropReason::kNoRoom), 4u);
  EXPECT_EQ(p.out.counters().dropped(DropReason::kBadInner), 3u);
}

TEST(SaTest, InnerSourcePolicy) {
  SaConfig cfg = TestConfig(Direction::kOutbound, Cipher::kAesGcm16_128, Integrity::kNone);
  cfg.inbound_allowed_sources = {*Ipv4Prefix::Parse("10.0.0.0/8")};
  SaPair p = MakePair(cfg);
  const Bytes inner = InnerPacket(10);  // from 192.0.2.129
  EXPECT_EQ(RoundTrip(p, inner).reason, DropReason::kPolicy);
  cfg.inbound_allowed_sources.push_back(*Ipv4Prefix::Parse("192.0.2.128/25"));
  SaPair q = MakePair(cfg);
  EXPECT_EQ(RoundTrip(q, inner).action, Action::kDeliver);
}

TEST(SaTest, UpdatePathInPlace) {
  SaConfig cfg = TestConfig(Direction::kOutbound, Cipher::kAesGcm16_256, Integrity::kNone);
  SaPair p = MakePair(cfg);
  const Bytes inner = InnerPacket(64);
  TestBuf a(inner);
  ASSERT_EQ(p.out.Encapsulate(kNow, a.pb, OuterForm::kIpv4).action, Action::kSend);
  Result<ip::Ipv4Packet> pa = ip::ParseIpv4(a.bytes());
  ASSERT_TRUE(pa.ok());
  EXPECT_EQ(pa->header.protocol, ip::kProtoEsp);
  EXPECT_EQ(pa->header.src, cfg.local.address);

  // MOBIKE: the MN moved behind a NAT; ESP is now UDP-encapsulated.
  const Ipv4Endpoint new_local{Ipv4Address::FromOctets(10, 77, 0, 10), 4500};
  const Ipv4Endpoint new_remote{Ipv4Address::FromOctets(203, 0, 113, 2), 4500};
  p.out.UpdatePath(new_local, new_remote, true);
  p.in.UpdatePath(new_remote, new_local, true);
  EXPECT_EQ(p.out.local(), new_local);
  EXPECT_TRUE(p.out.udp_encap());
  TestBuf b(inner);
  PacketResult e = p.out.Encapsulate(kNow, b.pb, OuterForm::kIpv4);
  ASSERT_EQ(e.action, Action::kSend);
  EXPECT_EQ(e.seq, 2u);  // the sequence continues
  Result<ip::Ipv4UdpPacket> pb = ip::ParseIpv4Udp(b.bytes());
  ASSERT_TRUE(pb.ok());
  EXPECT_EQ(pb->source(), new_local);
  EXPECT_EQ(pb->destination(), new_remote);

  for (TestBuf* t : {&a, &b}) {
    Result<OuterPacket> loc = LocateEsp(t->bytes());
    ASSERT_TRUE(loc.ok());
    t->pb.offset += loc->offset;
    t->pb.length = loc->length;
    PacketResult d = p.in.Decapsulate(kNow, t->pb);
    ASSERT_EQ(d.action, Action::kDeliver);
    EXPECT_EQ(t->bytes(), inner);
  }
  EXPECT_EQ(p.in.replay_window().top(), 2u);
}

TEST(SaTest, CreateValidatesTheConfiguration) {
  auto err = [](const SaConfig& c) {
    Result<Sa> r = Sa::Create(c);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.error().detail();
  };
  SaConfig good = TestConfig(Direction::kOutbound, Cipher::kAesGcm16_128, Integrity::kNone);
  ASSERT_TRUE(Sa::Create(good).ok());
  SaConfig c = good;
  c.spi = 255;
  EXPECT_NE(err(c).find("spi"), std::string::npos);
  c = good;
  c.integrity = Integrity::kHmacSha256_128;
  c.integ_key = TestKey(32, 1);
  EXPECT_NE(err(c).find("integrity"), std::string::npos);
  c = good;
  c.enc_key = TestKey(16, 1);  // salt missing
  EXPECT_NE(err(c).find("enc_key"), std::string::npos);
  c = TestConfig(Direction::kOutbound, Cipher::kAesCbc128, Integrity::kHmacSha256_128);
  ASSERT_TRUE(Sa::Create(c).ok());
  c.integrity = Integrity::kNone;
  EXPECT_NE(err(c).find("integrity"), std::string::npos);
  c = TestConfig(Direction::kOutbound, Cipher::kAesCbc128, Integrity::kHmacSha256_128);
  c.integ_key = TestKey(20, 1);
  EXPECT_NE(err(c).find("integ_key"), std::string::npos);
  c = good;
  c.replay_window = 16;
  EXPECT_NE(err(c).find("replay window"), std::string::npos);
  EXPECT_EQ(EncKeySize(Cipher::kAesGcm16_256), 36u);
  EXPECT_EQ(IntegKeySize(Integrity::kHmacSha384_192), 48u);
}

TEST(SaTest, WrongDirectionIsACallerBug) {
  const BugMode saved = GetBugMode();
  SetBugMode(BugMode::kLog);
  SaPair p = MakePair(TestConfig(Direction::kOutbound, Cipher::kAesGcm16_128, Integrity::kNone));
  TestBuf b(InnerPacket(8));
  EXPECT_EQ(p.in.Encapsulate(kNow, b.pb).reason, DropReason::kWrongDirection);
  EXPECT_EQ(p.out.Decapsulate(kNow, b.pb).reason, DropReason::kWrongDirection);
  SetBugMode(saved);
}

}  // namespace
}  // namespace mipsec::esp

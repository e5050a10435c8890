#include "common/checksum.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "common/random.h"

namespace mipsec {
namespace {

// The textbook algorithm (RFC 1071 4.1, "C" example): 16 bits at a time into
// a 32-bit accumulator. An independent reference for the 64-bit fast path.
std::uint16_t ReferenceSum(ByteSpan data) {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += static_cast<std::uint32_t>(data[i]) << 8 | data[i + 1];
    sum = (sum & 0xffff) + (sum >> 16);
  }
  if (i < data.size()) sum += static_cast<std::uint32_t>(data[i]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

Bytes RandomBytes(DeterministicRandom& rng, std::size_t n) {
  Bytes b(n);
  rng.Fill(b);
  return b;
}

TEST(ChecksumTest, Rfc1071NumericalExample) {
  // RFC 1071 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
  const Bytes data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  Checksum c;
  c.Add(data);
  EXPECT_EQ(c.Sum(), 0xddf2);
  EXPECT_EQ(c.Finish(), 0x220d);
  EXPECT_EQ(InternetChecksum(data), 0x220d);
}

TEST(ChecksumTest, ClassicIpv4HeaderExample) {
  // The widely used example header 4500 0073 0000 4000 4011 b861 c0a8 0001
  // c0a8 00c7 (192.168.0.1 -> 192.168.0.199, UDP): checksum b861.
  Bytes header = *FromHex("45000073000040004011 0000 c0a80001c0a800c7");
  EXPECT_EQ(InternetChecksum(header), 0xb861);
  header[10] = 0xb8;
  header[11] = 0x61;
  EXPECT_TRUE(ChecksumIsValid(header));
  header[8] ^= 1;  // any change breaks it
  EXPECT_FALSE(ChecksumIsValid(header));
}

TEST(ChecksumTest, KernelBuiltIcmpEchoVerifies) {
  // Captured with tshark on lo from `ping -c1 -s 24 127.0.0.1` (Linux 6.x);
  // tshark reported both checksums good. IPv4 header, then ICMP echo request.
  const Bytes ip = *FromHex("45000034798940004001c33d7f0000017f000001");
  const Bytes icmp = *FromHex(
      "080039111e65000166f80c6b00000000ca7002000000000070736563216d6970");
  EXPECT_TRUE(ChecksumIsValid(ip));
  EXPECT_TRUE(ChecksumIsValid(icmp));
  Bytes zeroed = icmp;
  zeroed[2] = zeroed[3] = 0;
  EXPECT_EQ(InternetChecksum(zeroed), 0x3911);
}

TEST(ChecksumTest, EdgeValues) {
  EXPECT_EQ(Checksum().Sum(), 0);
  EXPECT_EQ(InternetChecksum({}), 0xffff);
  const Bytes zeros(100, 0);
  EXPECT_EQ(InternetChecksum(zeros), 0xffff);
  const Bytes ones(100, 0xff);
  EXPECT_EQ(Checksum().Add(ones).Sum(), 0xffff);
  const Bytes one = {0xab};  // odd length: padded with a zero byte
  EXPECT_EQ(Checksum().Add(one).Sum(), 0xab00);
  // Large input: the accumulator must fold rather than overflow.
  const Bytes big(1 << 20, 0xff);
  EXPECT_EQ(Checksum().Add(big).Sum(), ReferenceSum(big));
  const Bytes big_odd((1 << 20) + 1, 0xfe);
  EXPECT_EQ(Checksum().Add(big_odd).Sum(), ReferenceSum(big_odd));
}

TEST(ChecksumTest, FastPathMatchesReferenceAtAnyLengthAndAlignment) {
  DeterministicRandom rng(1071);
  const Bytes pool = RandomBytes(rng, 4096 + 64);
  for (std::size_t len = 0; len <= 300; ++len) {
    for (std::size_t off = 0; off < 16; ++off) {
      ByteSpan s = ByteSpan(pool).subspan(off, len);
      ASSERT_EQ(Checksum().Add(s).Sum(), ReferenceSum(s)) << "len " << len << " off " << off;
    }
  }
  for (int i = 0; i < 500; ++i) {
    std::size_t off = rng.Uniform(64);
    std::size_t len = rng.Uniform(4096);
    ByteSpan s = ByteSpan(pool).subspan(off, len);
    ASSERT_EQ(Checksum().Add(s).Sum(), ReferenceSum(s)) << "len " << len << " off " << off;
  }
}

TEST(ChecksumTest, SplittingIntoSpansDoesNotChangeTheSum) {
  DeterministicRandom rng(42);
  for (int iter = 0; iter < 3000; ++iter) {
    // Random pieces: spans of any length (many of them single odd bytes),
    // empty spans, and 16/32-bit fields, mirrored into one flat buffer.
    Bytes flat;
    Checksum c;
    const int pieces = static_cast<int>(rng.Uniform(12));
    for (int k = 0; k < pieces; ++k) {
      switch (rng.Uniform(5)) {
        case 0: {
          const std::uint16_t v = static_cast<std::uint16_t>(rng.U32());
          c.AddU16(v);
          flat.push_back(static_cast<std::uint8_t>(v >> 8));
          flat.push_back(static_cast<std::uint8_t>(v));
          break;
        }
        case 1: {
          const std::uint32_t v = rng.U32();
          c.AddU32(v);
          for (int s = 24; s >= 0; s -= 8) flat.push_back(static_cast<std::uint8_t>(v >> s));
          break;
        }
        case 2: {
          const Bytes one = RandomBytes(rng, 1);
          c.Add(one);
          flat.insert(flat.end(), one.begin(), one.end());
          break;
        }
        case 3:
          c.Add({});
          break;
        default: {
          const Bytes span = RandomBytes(rng, rng.Uniform(100));
          c.Add(span);
          flat.insert(flat.end(), span.begin(), span.end());
          break;
        }
      }
    }
    EXPECT_EQ(c.odd(), flat.size() % 2 == 1);
    ASSERT_EQ(c.Sum(), ReferenceSum(flat)) << "iteration " << iter;
    ASSERT_EQ(c.Finish(), InternetChecksum(flat)) << "iteration " << iter;
  }
}

TEST(ChecksumTest, OddSpanFollowedByWordsAndU16U32) {
  // Pseudo-header-like use: integer fields mixed with spans of odd length.
  const Bytes a = {0x12, 0x34, 0x56};  // odd
  Checksum c;
  c.Add(a).AddU16(0x789a).AddU32(0xbcdef012).Add(a);
  const Bytes flat = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x12, 0x34, 0x56};
  EXPECT_EQ(c.Sum(), ReferenceSum(flat));
  EXPECT_EQ(c.Finish(), InternetChecksum(flat));
}

TEST(ChecksumTest, Rfc1624Example) {
  // RFC 1624 4: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285. Eqn. 3 gives 0x0000
  // (~HC + ~m + m' = 0x22d0 + 0xaaaa + 0x3285 = 0xffff).
  EXPECT_EQ(ChecksumAdjust16(0xdd2f, 0x5555, 0x3285), 0x0000);
  // No change, no effect.
  EXPECT_EQ(ChecksumAdjust16(0x1234, 0xabcd, 0xabcd), 0x1234);
  EXPECT_EQ(ChecksumAdjust32(0x1234, 0xdeadbeef, 0xdeadbeef), 0x1234);
}

TEST(ChecksumTest, IncrementalUpdateEqualsFullRecomputation) {
  DeterministicRandom rng(1624);
  for (int iter = 0; iter < 5000; ++iter) {
    // A 20-byte header-like block with a checksum field at offset 10.
    Bytes h = RandomBytes(rng, 20);
    h[10] = h[11] = 0;
    std::uint16_t sum = InternetChecksum(h);
    h[10] = static_cast<std::uint8_t>(sum >> 8);
    h[11] = static_cast<std::uint8_t>(sum);

    // A 16-bit word at an even offset other than the checksum itself.
    std::size_t w16 = 2 * rng.Uniform(10);
    if (w16 == 10) w16 = 0;
    const std::uint16_t old16 = static_cast<std::uint16_t>(h[w16] << 8 | h[w16 + 1]);
    const std::uint16_t new16 = iter % 7 == 0 ? old16 : static_cast<std::uint16_t>(rng.U32());
    h[w16] = static_cast<std::uint8_t>(new16 >> 8);
    h[w16 + 1] = static_cast<std::uint8_t>(new16);
    sum = ChecksumAdjust16(sum, old16, new16);
    Bytes zeroed = h;
    zeroed[10] = zeroed[11] = 0;
    ASSERT_EQ(sum, InternetChecksum(zeroed)) << "16-bit, iteration " << iter;

    // A 32-bit field at offset 12 or 16 (source / destination address).
    const std::size_t w32 = rng.Uniform(2) == 0 ? 12 : 16;
    const std::uint32_t old32 = static_cast<std::uint32_t>(h[w32]) << 24 |
                                static_cast<std::uint32_t>(h[w32 + 1]) << 16 |
                                static_cast<std::uint32_t>(h[w32 + 2]) << 8 | h[w32 + 3];
    const std::uint32_t new32 = rng.U32();
    for (int k = 0; k < 4; ++k) h[w32 + k] = static_cast<std::uint8_t>(new32 >> (24 - 8 * k));
    sum = ChecksumAdjust32(sum, old32, new32);
    zeroed = h;
    zeroed[10] = zeroed[11] = 0;
    ASSERT_EQ(sum, InternetChecksum(zeroed)) << "32-bit, iteration " << iter;
    h[10] = static_cast<std::uint8_t>(sum >> 8);
    h[11] = static_cast<std::uint8_t>(sum);
    ASSERT_TRUE(ChecksumIsValid(h));
  }
}

}  // namespace
}  // namespace mipsec

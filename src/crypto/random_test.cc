#include "crypto/random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace mipsec::crypto {
namespace {

bool AllZero(ByteSpan b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

TEST(SystemRandomTest, FillsExactlyTheRequestedBytes) {
  SystemRandom rng;
  for (std::size_t len : {1u, 7u, 32u, 1000u}) {
    Bytes buf(len + 32, 0xee);
    MutableByteSpan inner = MutableByteSpan(buf).subspan(16, len);
    std::fill(inner.begin(), inner.end(), 0);
    rng.Fill(inner);
    // The guard bytes on both sides are untouched.
    EXPECT_TRUE(std::all_of(buf.begin(), buf.begin() + 16, [](auto x) { return x == 0xee; }));
    EXPECT_TRUE(std::all_of(buf.end() - 16, buf.end(), [](auto x) { return x == 0xee; }));
    if (len >= 7) {
      EXPECT_FALSE(AllZero(inner)) << len;  // 2^-56 chance of a false failure
    }
  }
  rng.Fill(MutableByteSpan());  // zero bytes: nothing to do, no crash
}

TEST(SystemRandomTest, OutputVariesAcrossCalls) {
  SystemRandom rng;
  std::set<Bytes> seen;
  for (int i = 0; i < 100; ++i) {
    Bytes b(16);
    rng.Fill(b);
    seen.insert(b);
  }
  EXPECT_EQ(seen.size(), 100u);
  std::set<std::uint64_t> words;
  for (int i = 0; i < 100; ++i) words.insert(rng.U64());
  EXPECT_EQ(words.size(), 100u);
}

// Larger than the 1 MiB chunk RAND_bytes is called with: every chunk filled.
TEST(SystemRandomTest, FillsBuffersLargerThanOneChunk) {
  SystemRandom rng;
  Bytes big((3u << 20) + 5, 0);
  rng.Fill(big);
  for (std::size_t off = 0; off < big.size(); off += 1u << 20) {
    const std::size_t n = std::min<std::size_t>(64, big.size() - off);
    EXPECT_FALSE(AllZero(ByteSpan(big).subspan(off, n))) << off;
  }
  EXPECT_FALSE(AllZero(ByteSpan(big).last(5)));
}

TEST(SystemRandomTest, WorksThroughTheRandomSourceInterface) {
  SystemRandom sys;
  RandomSource& rng = sys;
  for (int i = 0; i < 1000; ++i) EXPECT_LT(rng.Uniform(10), 10u);
  const double d = rng.UnitDouble();
  EXPECT_GE(d, 0.0);
  EXPECT_LT(d, 1.0);
}

}  // namespace
}  // namespace mipsec::crypto

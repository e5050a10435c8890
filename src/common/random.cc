#include "common/random.h"

#include <cstring>

#include "common/bug.h"

namespace mipsec {

std::uint32_t RandomSource::U32() {
  std::uint8_t b[4];
  Fill(b);
  return static_cast<std::uint32_t>(b[0]) << 24 | static_cast<std::uint32_t>(b[1]) << 16 |
         static_cast<std::uint32_t>(b[2]) << 8 | b[3];
}

std::uint64_t RandomSource::U64() { return static_cast<std::uint64_t>(U32()) << 32 | U32(); }

std::uint32_t RandomSource::Uniform(std::uint32_t bound) {
  if (MIPSEC_BUG_IF(bound == 0, "RandomSource::Uniform(0)")) return 0;
  // Rejection sampling: discard the top partial range so every value in
  // [0, bound) is equally likely.
  std::uint32_t limit = static_cast<std::uint32_t>(-bound) % bound;  // 2^32 mod bound
  for (;;) {
    std::uint32_t r = U32();
    if (r >= limit) return r % bound;
  }
}

double RandomSource::UnitDouble() { return static_cast<double>(U64() >> 11) * 0x1.0p-53; }

namespace {
std::uint64_t SplitMix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

DeterministicRandom::DeterministicRandom(std::uint64_t seed) {
  for (auto& s : s_) s = SplitMix64(seed);
}

std::uint64_t DeterministicRandom::Next() {
  const std::uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

void DeterministicRandom::Fill(MutableByteSpan out) {
  std::size_t i = 0;
  while (i < out.size()) {
    std::uint64_t v = Next();
    for (int k = 0; k < 8 && i < out.size(); ++k, ++i) {
      out[i] = static_cast<std::uint8_t>(v >> (56 - 8 * k));  // fixed byte order
    }
  }
}

}  // namespace mipsec

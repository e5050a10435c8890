// RandomSource: randomness is injected, never taken from a global.
//
// Protocol cores receive a RandomSource& (SPIs, nonces, identification
// values, jitter) so that the simulator and tests can run them with a seeded,
// repeatable source, and the daemons with the CSPRNG
// (crypto/random.h: crypto::SystemRandom over OpenSSL's RAND_bytes).
#ifndef MIPSEC_COMMON_RANDOM_H_
#define MIPSEC_COMMON_RANDOM_H_

#include <cstdint>

#include "common/bytes.h"

namespace mipsec {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` completely. Implementations must not fail; a CSPRNG that
  // cannot produce output aborts rather than return predictable bytes.
  virtual void Fill(MutableByteSpan out) = 0;

  std::uint32_t U32();
  std::uint64_t U64();
  // Uniform in [0, bound) without modulo bias; bound must be > 0 (BUG).
  std::uint32_t Uniform(std::uint32_t bound);
  // Uniform double in [0, 1).
  double UnitDouble();
};

// A fast, seedable, NOT cryptographic generator (xoshiro256** seeded through
// splitmix64): the same seed gives the same sequence on every platform. For
// the simulator and tests only; never for keys, SPIs or nonces in a daemon.
class DeterministicRandom final : public RandomSource {
 public:
  explicit DeterministicRandom(std::uint64_t seed);
  void Fill(MutableByteSpan out) override;
  std::uint64_t Next();

 private:
  std::uint64_t s_[4];
};

}  // namespace mipsec

#endif  // MIPSEC_COMMON_RANDOM_H_

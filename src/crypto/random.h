// SystemRandom: the CSPRNG behind mipsec::RandomSource (common/random.h).
//
// Daemons hand a SystemRandom to the protocol cores for SPIs, nonces, IVs and
// cookies; the simulator and tests hand them a DeterministicRandom instead.
// Output comes from OpenSSL's public DRBG (RAND_bytes), which is seeded from
// the operating system and reseeds itself, and is safe across fork().
//
// Fill() cannot fail: if RAND_bytes ever reports failure (no entropy source),
// SystemRandom writes one line to stderr and aborts, because returning
// predictable bytes would be worse than stopping.
#ifndef MIPSEC_CRYPTO_RANDOM_H_
#define MIPSEC_CRYPTO_RANDOM_H_

#include "common/bytes.h"
#include "common/random.h"

namespace mipsec::crypto {

class SystemRandom final : public RandomSource {
 public:
  void Fill(MutableByteSpan out) override;
};

}  // namespace mipsec::crypto

#endif  // MIPSEC_CRYPTO_RANDOM_H_

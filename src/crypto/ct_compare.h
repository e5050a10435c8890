// Constant-time comparison of MACs, ICVs and other authenticators.
#ifndef MIPSEC_CRYPTO_CT_COMPARE_H_
#define MIPSEC_CRYPTO_CT_COMPARE_H_

#include "common/bytes.h"

namespace mipsec::crypto {

// True when `a` and `b` have the same length and contents. The time taken
// depends only on the lengths, never on where the first difference is
// (CRYPTO_memcmp). A length mismatch returns false at once: lengths are
// public (they are on the wire or fixed by the algorithm).
bool ConstantTimeEqual(ByteSpan a, ByteSpan b);

}  // namespace mipsec::crypto

#endif  // MIPSEC_CRYPTO_CT_COMPARE_H_

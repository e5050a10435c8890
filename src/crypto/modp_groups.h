// The RFC 3526 MODP primes (groups 14 to 18), transcribed from the RFC text.
//
// modp_groups_test.cc checks each against a SHA-256 of the hex digits taken
// from the RFC with a script, against its bit length, against OpenSSL's own
// copy, and that (p - 1) / 2 is the order of the generator 2.
#ifndef MIPSEC_CRYPTO_MODP_GROUPS_H_
#define MIPSEC_CRYPTO_MODP_GROUPS_H_

#include <cstdint>

#include "common/bytes.h"
#include "crypto/dh_group.h"

namespace mipsec::crypto {

// RFC 3526: every group uses generator 2.
inline constexpr std::uint8_t kModpGenerator = 2;

// The prime p of a MODP group, big-endian, exactly DhPublicValueSize(group)
// bytes; an empty span for a group that is not MODP. The bytes live for the
// whole process.
ByteSpan ModpPrime(DhGroup group);

}  // namespace mipsec::crypto

#endif  // MIPSEC_CRYPTO_MODP_GROUPS_H_

// DH for IKE_SA_INIT and CREATE_CHILD_SA over crypto::KeyExchange
// (crypto/dh.h), which validates received public values (RFC 6989 2: length,
// range for MODP, on-curve for ECP, non-zero X25519 result).
#ifndef MIPSEC_IKEV2_CRYPTO_KEY_EXCHANGE_H_
#define MIPSEC_IKEV2_CRYPTO_KEY_EXCHANGE_H_

#include <memory>

#include "common/bytes.h"
#include "common/random.h"
#include "common/result.h"
#include "common/secret.h"
#include "crypto/dh.h"
#include "crypto/dh_group.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

// The group for a transform ID; kUnsupported for NONE and groups mipsec
// lacks (MODP 768/1024/1536 are refused, RFC 8247 2.4).
Result<crypto::DhGroup> DhGroupFor(DhId id);

// A fresh key pair drawn from `rng` (the core's injected randomness, so the
// simulator is reproducible; daemons pass crypto::SystemRandom).
Result<std::unique_ptr<crypto::KeyExchange>> NewKeyExchange(DhId id, RandomSource& rng);

// g^ir from the peer's KE payload. `peer_group` is the KE payload's DH Group
// Num: it must be ours (else kInvalidArgument: the caller answers
// INVALID_KE_PAYLOAD, RFC 7296 1.2, before calling this). An invalid public
// value gives kMalformed (RFC 6989 2.5: INVALID_SYNTAX or drop).
Result<SecretBytes> ComputeSharedSecret(const crypto::KeyExchange& ours, DhId peer_group,
                                        ByteSpan peer_ke_data);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CRYPTO_KEY_EXCHANGE_H_

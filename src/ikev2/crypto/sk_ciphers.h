// SkCipher implementations (codec/sk_cipher.h) for the suites of suite.h:
//
//   AES-GCM (RFC 5282): IV 8 bytes, nonce = salt (last 4 bytes of SK_e) |
//     IV, AAD = the message from the IKE header through the SK/SKF payload
//     header (everything before the IV), ICV = the 8/12/16-byte tag.
//     IVs are a 64-bit counter that starts at a random value drawn once at
//     creation and increments per Seal(), so no IV repeats under one key
//     (RFC 5282 3.1) for 2^64 messages.
//   AES-CBC + HMAC-SHA2 (RFC 7296 3.14, RFC 4868): IV 16 random bytes from
//     the RandomSource per Seal(); ICV = HMAC truncated to half its length
//     over the message from the IKE header through the last ciphertext byte.
//     Open() verifies the ICV before decrypting.
//
// The RandomSource passed in must outlive the SkCipher. SkCiphers are not
// thread-safe (one per IKE SA direction; an IKE SA is driven by one thread).
#ifndef MIPSEC_IKEV2_CRYPTO_SK_CIPHERS_H_
#define MIPSEC_IKEV2_CRYPTO_SK_CIPHERS_H_

#include <memory>

#include "common/random.h"
#include "common/result.h"
#include "common/secret.h"
#include "ikev2/codec/sk_cipher.h"
#include "ikev2/crypto/keys.h"
#include "ikev2/crypto/suite.h"

namespace mipsec::ikev2 {

// One direction: `sk_e` is SK_ei or SK_er (with salt for GCM), `sk_a` SK_ai or
// SK_ar (ignored, and normally empty, for AEAD). kInvalidArgument if a key
// length does not match the suite.
Result<std::unique_ptr<SkCipher>> MakeSkCipher(const Suite& ike, const SecretBytes& sk_e,
                                               const SecretBytes& sk_a, RandomSource& rng);

// Both directions of an IKE SA from its keys. `original_initiator` is our role
// in the IKE SA (RFC 7296 2.14: SK_ei/SK_ai protect the original initiator's
// messages; the role does not change when the SA is rekeyed by the peer).
struct SkCipherPair {
  std::unique_ptr<SkCipher> outbound;  // Seal() what we send
  std::unique_ptr<SkCipher> inbound;   // Open() what we receive
};
Result<SkCipherPair> MakeSkCipherPair(const Suite& ike, const IkeSaKeys& keys,
                                      bool original_initiator, RandomSource& rng);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CRYPTO_SK_CIPHERS_H_

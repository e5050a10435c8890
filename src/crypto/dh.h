// KeyExchange: one side of an IKEv2 Diffie-Hellman exchange (RFC 7296
// section 2.14) in any DhGroup (crypto/dh_group.h).
//
//   auto ke = KeyExchange::Generate(DhGroup::kCurve25519);   // our KE payload
//   send((*ke)->public_value());
//   Result<SecretBytes> gir = (*ke)->ComputeShared(peer_ke_data);
//
// The private key stays inside the object (in OpenSSL's key structure, freed
// with clearing) and is never exposed. Each KeyExchange is meant for one
// exchange: mipsec does not reuse DH private values (RFC 6989 section 2.2,
// second option), which is what lets the MODP check stay at a range test.
//
// Received public values are validated before use (RFC 6989 section 2):
//   - every group: the length must be exactly DhPublicValueSize(group);
//   - MODP: 1 < y < p - 1 (section 2.1; the RFC 3526 primes are safe primes);
//   - ECP: (x, y) must satisfy the curve equation with x, y < p (section 2.3);
//   - X25519: a result of all zeros (a low-order peer point) is refused
//     (RFC 7748 section 6.1, RFC 8031 section 2.3).
// A value failing any of these gives Errc::kMalformed; the caller maps that
// to its protocol reaction (RFC 6989 section 2.5: drop, or INVALID_SYNTAX).
// An OpenSSL failure unrelated to the input gives Errc::kInternal.
//
// ComputeShared() is const and does not change the object, so it may be
// called more than once (for instance for a retransmitted message).
#ifndef MIPSEC_CRYPTO_DH_H_
#define MIPSEC_CRYPTO_DH_H_

#include <memory>
#include <utility>

#include "common/bytes.h"
#include "common/random.h"
#include "common/result.h"
#include "common/secret.h"
#include "crypto/dh_group.h"

struct evp_pkey_st;  // OpenSSL EVP_PKEY

namespace mipsec::crypto {

class KeyExchange {
 public:
  // A fresh key pair, the private key drawn from OpenSSL's private DRBG.
  static Result<std::unique_ptr<KeyExchange>> Generate(DhGroup group);

  // A key pair whose private key is drawn from `rng`, so that the simulator
  // and tests can reproduce exchanges from a seed. With a DeterministicRandom
  // the key is predictable: never use that outside tests and the simulator.
  static Result<std::unique_ptr<KeyExchange>> FromRandom(DhGroup group, RandomSource& rng);

  // A key pair from a given private key (known-answer tests, the simulator).
  // Formats, else kInvalidArgument:
  //   MODP: big-endian exponent x of 1 to len(p) bytes with 1 < x < p - 1;
  //   ECP: big-endian scalar d of exactly DhPrivateKeySize(group) bytes
  //        (32, 48, 66) with 1 <= d < n, the group order;
  //   X25519: the 32-byte scalar of RFC 7748 (clamped as section 5 says).
  static Result<std::unique_ptr<KeyExchange>> FromPrivate(DhGroup group,
                                                          const SecretBytes& private_key);

  KeyExchange(const KeyExchange&) = delete;
  KeyExchange& operator=(const KeyExchange&) = delete;
  ~KeyExchange();

  DhGroup group() const { return group_; }
  // Our public value in the IKEv2 encoding, DhPublicValueSize(group()) bytes.
  // Valid as long as this object.
  ByteSpan public_value() const { return public_; }

  // g^ir from the peer's Key Exchange Data, DhSharedSecretSize(group()) bytes.
  Result<SecretBytes> ComputeShared(ByteSpan peer_public) const;

 private:
  KeyExchange(DhGroup group, evp_pkey_st* pkey, Bytes public_value)
      : group_(group), pkey_(pkey), public_(std::move(public_value)) {}

  DhGroup group_;
  evp_pkey_st* pkey_;
  Bytes public_;
};

}  // namespace mipsec::crypto

#endif  // MIPSEC_CRYPTO_DH_H_

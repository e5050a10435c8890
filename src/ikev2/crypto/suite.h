// Suite: the transforms of one negotiated proposal (RFC 7296 3.3), checked
// for consistency and for what mipsec implements, with the key and field
// sizes every later step needs (key derivation, SK payload, ESP).
//
// Supported:
//   ENCR   AES-GCM with 8/12/16-octet ICV (RFC 5282 / RFC 4106) and AES-CBC
//          (RFC 3602), key length 128/192/256 (the Key Length attribute is
//          required for both, RFC 5282 8 / RFC 3602 5.3);
//   INTEG  HMAC-SHA2-256-128, -384-192, -512-256 (RFC 4868);
//   PRF    HMAC-SHA2-256, -384, -512 (RFC 4868);
//   DH     14..18 (MODP), 19/20/21 (ECP, RFC 5903), 31 (Curve25519, RFC 8031).
// Rules enforced (RFC 7296 3.3.3, RFC 5282 8):
//   AEAD: no INTEG transform, or INTEG NONE; non-AEAD: exactly one real INTEG;
//   IKE: a PRF and a DH group other than NONE, no ESN;
//   ESP: no PRF; DH optional (NONE or absent = no PFS); ESN given.
// Any rule broken gives kMalformed; an algorithm we do not implement gives
// kUnsupported (the responder then tries the next proposal).
#ifndef MIPSEC_IKEV2_CRYPTO_SUITE_H_
#define MIPSEC_IKEV2_CRYPTO_SUITE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "crypto/dh_group.h"
#include "crypto/hash.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

// AES block size; also the CBC IV size in SK payloads and ESP.
constexpr std::size_t kAesBlockSize = 16;
// RFC 5282 3.1 / RFC 4106 3.1: explicit IV of the AEAD modes.
constexpr std::size_t kGcmIvSize = 8;
// RFC 5282 7.1 / RFC 4106 8.1: salt appended to each AES-GCM key.
constexpr std::size_t kGcmSaltSize = 4;

class Suite {
 public:
  // An IKE SA proposal. `encr_key_bits` is the Key Length attribute (0 when
  // absent); `integ` is nullopt when the proposal has no INTEG transform.
  static Result<Suite> ForIke(EncrId encr, std::uint16_t encr_key_bits, PrfId prf,
                              std::optional<IntegId> integ, DhId dh);
  // An ESP CHILD SA proposal; `dh` nullopt or kNone = no PFS.
  static Result<Suite> ForEsp(EncrId encr, std::uint16_t encr_key_bits,
                              std::optional<IntegId> integ, std::optional<DhId> dh, EsnId esn);

  bool is_ike() const { return is_ike_; }
  EncrId encr() const { return encr_; }
  std::uint16_t encr_key_bits() const { return key_bits_; }
  // IKE only (BUG for an ESP suite).
  PrfId prf() const;
  // kNone for AEAD suites.
  IntegId integ() const { return integ_; }
  // kNone when an ESP suite has no PFS.
  DhId dh() const { return dh_; }
  EsnId esn() const { return esn_; }

  bool is_aead() const;
  // The DH group, nullopt for kNone.
  std::optional<crypto::DhGroup> dh_group() const;

  // Encryption key bytes to take from the key material: the AES key plus,
  // for AES-GCM, the 4-byte salt (RFC 5282 7.1, RFC 4106 8.1).
  std::size_t EncrKeySize() const { return key_bits_ / 8 + SaltSize(); }
  std::size_t AesKeySize() const { return key_bits_ / 8; }
  std::size_t SaltSize() const { return is_aead() ? kGcmSaltSize : 0; }
  // Integrity key bytes: 32/48/64 (RFC 4868 2.1.1); 0 for AEAD (RFC 5282 7.1).
  std::size_t IntegKeySize() const;
  // ICV bytes: the truncated HMAC (16/24/32) or the GCM tag (8/12/16).
  std::size_t IcvSize() const;
  // IV bytes in an SK payload or ESP packet: 16 for CBC, 8 for GCM.
  std::size_t IvSize() const { return is_aead() ? kGcmIvSize : kAesBlockSize; }
  // Encrypted-part alignment: 16 for CBC, 1 for GCM (RFC 5282 3: no
  // alignment requirement; ESP aligns to 4 itself).
  std::size_t BlockSize() const { return is_aead() ? 1 : kAesBlockSize; }

  // IKE only: PRF output size = its preferred key size for HMAC PRFs
  // (RFC 7296 2.14: SK_d, SK_pi, SK_pr are this long).
  std::size_t PrfKeySize() const;
  crypto::HashAlg PrfHash() const;
  // The HMAC hash of the integrity algorithm (BUG for AEAD).
  crypto::HashAlg IntegHash() const;

  // strongSwan-style proposal text: "aes128gcm16-prfsha256-curve25519",
  // "aes256-sha256-ecp256", "aes128gcm16-esn" ...
  std::string ToString() const;

  bool operator==(const Suite&) const = default;

 private:
  Suite() = default;
  static Status CheckEncrInteg(EncrId encr, std::uint16_t bits, std::optional<IntegId> integ);

  bool is_ike_ = true;
  EncrId encr_ = EncrId::kAesGcm16;
  std::uint16_t key_bits_ = 0;
  PrfId prf_ = PrfId::kHmacSha2_256;
  IntegId integ_ = IntegId::kNone;
  DhId dh_ = DhId::kNone;
  EsnId esn_ = EsnId::kNoEsn;
};

// The HMAC hash behind a PRF id; kUnsupported for PRFs mipsec lacks.
Result<crypto::HashAlg> PrfHashOf(PrfId prf);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CRYPTO_SUITE_H_

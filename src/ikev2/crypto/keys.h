// IKEv2 key derivation: SKEYSEED and the IKE SA keys (RFC 7296 2.14), the
// SKEYSEED of a rekeyed IKE SA (2.18), and CHILD SA keying material (2.17).
//
// Nonces are the Nonce Data of the Ni/Nr payloads; SPIs are the 8-byte IKE
// SPIs as 64-bit values (written big-endian, as on the wire). All outputs are
// SecretBytes.
#ifndef MIPSEC_IKEV2_CRYPTO_KEYS_H_
#define MIPSEC_IKEV2_CRYPTO_KEYS_H_

#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"
#include "ikev2/codec/ids.h"
#include "ikev2/crypto/suite.h"

namespace mipsec::ikev2 {

// SK_ei/SK_er include the 4-byte salt for AES-GCM (RFC 5282 7.1) and
// SK_ai/SK_ar are then empty. "i" keys protect what the original initiator
// of the IKE SA sends.
struct IkeSaKeys {
  SecretBytes sk_d;
  SecretBytes sk_ai;
  SecretBytes sk_ar;
  SecretBytes sk_ei;
  SecretBytes sk_er;
  SecretBytes sk_pi;
  SecretBytes sk_pr;
};

// SKEYSEED = prf(Ni | Nr, g^ir)  (RFC 7296 2.14; HMAC PRFs take the whole
// nonce concatenation as key). kInvalidArgument for an empty nonce or g^ir.
Result<SecretBytes> ComputeSkeyseed(PrfId prf, ByteSpan ni, ByteSpan nr, const SecretBytes& gir);

// Rekeying an IKE SA (RFC 7296 2.18):
//   SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
// with the OLD IKE SA's PRF and SK_d, the new exchange's DH secret and
// nonces. Then DeriveIkeSaKeys() with the NEW suite, those nonces and the
// new SPIs.
Result<SecretBytes> ComputeRekeySkeyseed(PrfId old_prf, const SecretBytes& old_sk_d,
                                         const SecretBytes& gir, ByteSpan ni, ByteSpan nr);

// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
//     = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)     (RFC 7296 2.14)
// SK_d/SK_pi/SK_pr are PrfKeySize() long. `ike` must be an IKE suite
// (kInvalidArgument otherwise).
Result<IkeSaKeys> DeriveIkeSaKeys(const Suite& ike, const SecretBytes& skeyseed, ByteSpan ni,
                                  ByteSpan nr, std::uint64_t spi_i, std::uint64_t spi_r);

// Keys of one ESP SA: `encr` includes the salt for AES-GCM (RFC 4106 8.1);
// `integ` is empty for AEAD.
struct EspKeys {
  SecretBytes encr;
  SecretBytes integ;
};

// A CHILD SA's two ESP SAs. "Initiator" is the initiator of the exchange
// that created the CHILD SA (IKE_AUTH or CREATE_CHILD_SA), whose nonce is Ni.
struct ChildSaKeys {
  EspKeys initiator_to_responder;
  EspKeys responder_to_initiator;
};

// KEYMAT = prf+(SK_d, Ni | Nr), or prf+(SK_d, g^ir (new) | Ni | Nr) when
// the CREATE_CHILD_SA carried a KE exchange (`gir` non-null) (RFC 7296
// 2.17). Split as encr_i | integ_i | encr_r | integ_r: the initiator-to-
// responder SA first, encryption key before integrity key (2.17).
// `prf` is the IKE SA's PRF and `sk_d` its SK_d; `esp` an ESP suite.
Result<ChildSaKeys> DeriveChildSaKeys(PrfId prf, const SecretBytes& sk_d, const Suite& esp,
                                      ByteSpan ni, ByteSpan nr, const SecretBytes* gir);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CRYPTO_KEYS_H_

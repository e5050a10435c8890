// prf and prf+ of RFC 7296 2.13, for the HMAC-SHA2 PRFs (RFC 4868).
//
// The PRF is keyed per call; inputs are copied into OpenSSL's HMAC state and
// never kept. Outputs that are keys come back as SecretBytes; PrfPublic() is
// for outputs that go on the wire (AUTH data, the MACed IDs of 2.15).
#ifndef MIPSEC_IKEV2_CRYPTO_PRF_H_
#define MIPSEC_IKEV2_CRYPTO_PRF_H_

#include <cstddef>
#include <initializer_list>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

// Output size of a PRF in bytes (32/48/64), 0 if unsupported.
std::size_t PrfOutputSize(PrfId prf);

// prf(key, data). kUnsupported for a PRF mipsec lacks.
Result<SecretBytes> Prf(PrfId prf, const SecretBytes& key, ByteSpan data);
Result<Bytes> PrfPublic(PrfId prf, const SecretBytes& key, ByteSpan data);

// prf+(K, S) = T1 | T2 | T3 | ..., truncated to `length` bytes, where
//   T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n)   (RFC 7296 2.13).
// `seed` is S as a list of pieces, secret and public, concatenated in order
// (for instance g^ir | Ni | Nr). The counter is one octet, so at most
// 255 * PrfOutputSize() bytes can be made: kInvalidArgument beyond that.
struct SeedPiece {
  SeedPiece(ByteSpan b) : bytes(b) {}                          // NOLINT: implicit by design
  SeedPiece(const SecretBytes& s) : bytes(s.Reveal()) {}       // NOLINT
  SeedPiece(const Bytes& b) : bytes(b) {}                      // NOLINT
  ByteSpan bytes;
};
Result<SecretBytes> PrfPlus(PrfId prf, const SecretBytes& key,
                            std::initializer_list<SeedPiece> seed, std::size_t length);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CRYPTO_PRF_H_

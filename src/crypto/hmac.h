// HMAC (RFC 2104) over MD5, SHA-1, SHA-256, SHA-384 and SHA-512.
//
// Keys are SecretBytes. The one exception is CreateWithPublicKey(), for the
// places where a protocol keys HMAC with public data (IKEv2 computes
// SKEYSEED = prf(Ni | Nr, g^ir), RFC 7296 section 2.14, where the key is the
// two nonces and the data is the secret).
//
// Outputs: Finish() returns Bytes for MACs that go on the wire (MN-HA
// authenticators, ICVs); FinishSecret() returns SecretBytes for PRF outputs
// that are keys.
//
// Truncated MACs (HMAC-SHA-256-128 of RFC 4868, HMAC-SHA-1-96, ...) are the
// leftmost bytes of the full MAC (RFC 2104 section 5): HmacTruncated() and
// FinishInto() with a shorter buffer. Verification compares in constant time
// and accepts a tag only if it is at least kMinVerifyTagSize bytes, so that an
// empty or tiny tag can never verify.
#ifndef MIPSEC_CRYPTO_HMAC_H_
#define MIPSEC_CRYPTO_HMAC_H_

#include <cstddef>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"
#include "crypto/hash.h"

struct evp_mac_ctx_st;  // OpenSSL EVP_MAC_CTX

namespace mipsec::crypto {

// RFC 2104 section 5: a truncated output should not be shorter than 80 bits.
constexpr std::size_t kMinVerifyTagSize = 10;

// HMAC(key, data), HashSize(alg) bytes.
Result<Bytes> Hmac(HashAlg alg, const SecretBytes& key, ByteSpan data);
// The leftmost `out_len` bytes of HMAC(key, data); 1 <= out_len <= HashSize(alg),
// else kInvalidArgument.
Result<Bytes> HmacTruncated(HashAlg alg, const SecretBytes& key, ByteSpan data,
                            std::size_t out_len);
// Ok if `expected` equals the leftmost expected.size() bytes of HMAC(key, data);
// kAuthFailed if not. kInvalidArgument if expected.size() is outside
// [kMinVerifyTagSize, HashSize(alg)]. Constant time in the compared bytes.
Status VerifyHmac(HashAlg alg, const SecretBytes& key, ByteSpan data, ByteSpan expected);

// An HMAC keyed once and reused: Update() any number of times, then one of
// the Finish*/Verify calls, after which the context is ready for a new message
// under the same key (the key is not re-processed). Movable, not copyable.
class HmacContext {
 public:
  static Result<HmacContext> Create(HashAlg alg, const SecretBytes& key);
  // For protocol keys that are public values (see the header comment).
  static Result<HmacContext> CreateWithPublicKey(HashAlg alg, ByteSpan key);

  HmacContext(HmacContext&& o) noexcept;
  HmacContext& operator=(HmacContext&& o) noexcept;
  HmacContext(const HmacContext&) = delete;
  HmacContext& operator=(const HmacContext&) = delete;
  ~HmacContext();

  HashAlg alg() const { return alg_; }
  std::size_t size() const { return HashSize(alg_); }

  Status Update(ByteSpan data);
  // Feeds key material (for example g^ir into prf(Ni | Nr, g^ir)).
  Status UpdateSecret(const SecretBytes& data);

  Result<Bytes> Finish();
  Result<SecretBytes> FinishSecret();
  // Writes the leftmost out.size() bytes of the MAC; 1 <= out.size() <= size().
  // On any error the message is abandoned and the context restarted.
  Status FinishInto(MutableByteSpan out);
  // Finishes and compares like VerifyHmac().
  Status Verify(ByteSpan expected);

 private:
  HmacContext(HashAlg alg, evp_mac_ctx_st* ctx) : alg_(alg), ctx_(ctx) {}
  static Result<HmacContext> CreateImpl(HashAlg alg, ByteSpan key);
  Status CheckUsable() const;
  Status Restart();

  HashAlg alg_;
  evp_mac_ctx_st* ctx_;
};

}  // namespace mipsec::crypto

#endif  // MIPSEC_CRYPTO_HMAC_H_

// AES-CBC without padding (NIST SP 800-38A section 6.2), for ESP (RFC 3602)
// and the IKEv2 SK payload, which both pad the plaintext themselves.
//
// An AesCbc object expands its key once, at Create(), into one encryption
// and one decryption context (AES decryption uses the inverse key schedule);
// each call only sets the IV. Not thread-safe: one object per thread or per
// SA direction.
//
// Inputs: the IV is exactly kBlockSize (16) bytes, and must be unpredictable
// for every encryption (RFC 3602 section 3, SP 800-38A appendix C); the data
// length must be a multiple of 16 (0 is allowed and does nothing), else
// kInvalidArgument and the buffer is untouched. The in-place calls replace
// `inout` with the result, same length.
//
// CBC provides no integrity. Decrypt only what an ICV has already verified
// (ESP and IKEv2 both check the ICV first).
#ifndef MIPSEC_CRYPTO_CBC_H_
#define MIPSEC_CRYPTO_CBC_H_

#include <cstddef>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"

struct evp_cipher_ctx_st;  // OpenSSL EVP_CIPHER_CTX

namespace mipsec::crypto {

class AesCbc {
 public:
  static constexpr std::size_t kBlockSize = 16;

  // `key` is 16, 24 or 32 bytes (AES-128/192/256), else kInvalidArgument.
  static Result<AesCbc> Create(const SecretBytes& key);

  AesCbc(AesCbc&& o) noexcept;
  AesCbc& operator=(AesCbc&& o) noexcept;
  AesCbc(const AesCbc&) = delete;
  AesCbc& operator=(const AesCbc&) = delete;
  ~AesCbc();

  std::size_t key_size() const { return key_size_; }

  Status EncryptInPlace(ByteSpan iv, MutableByteSpan inout);
  Status DecryptInPlace(ByteSpan iv, MutableByteSpan inout);
  Result<Bytes> Encrypt(ByteSpan iv, ByteSpan plaintext);
  Result<Bytes> Decrypt(ByteSpan iv, ByteSpan ciphertext);

 private:
  AesCbc(evp_cipher_ctx_st* enc, evp_cipher_ctx_st* dec, std::size_t key_size)
      : enc_(enc), dec_(dec), key_size_(key_size) {}
  Status Run(evp_cipher_ctx_st* ctx, bool encrypt, ByteSpan iv, MutableByteSpan inout);

  evp_cipher_ctx_st* enc_;
  evp_cipher_ctx_st* dec_;
  std::size_t key_size_;
};

}  // namespace mipsec::crypto

#endif  // MIPSEC_CRYPTO_CBC_H_

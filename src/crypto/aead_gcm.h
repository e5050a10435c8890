// AES-GCM authenticated encryption (NIST SP 800-38D) for ESP (RFC 4106) and
// the IKEv2 SK payload (RFC 5282).
//
// An AesGcm object holds one key, expanded once (its OpenSSL cipher context
// is initialised with the key at Create()); each Seal/Open only sets the
// nonce, so the per-packet cost is the cipher work itself. One object can
// both seal and open, but it is not thread-safe: give each thread (or each
// SA direction) its own.
//
// Nonce: exactly kNonceSize (12) bytes. In ESP and IKEv2 it is the 4-byte
// salt from the keying material followed by the 8-byte IV carried in the
// packet (RFC 4106 section 4); building it is the caller's job, and so is
// never repeating a nonce under one key.
//
// Tag (ICV): 8, 12 or 16 bytes, fixed at Create() (RFC 4106 section 8 allows
// all three; 16 is the default and what RFC 8221 recommends).
//
// Contracts of the in-place calls:
//   SealInPlace: `inout` holds the plaintext and receives the ciphertext (same
//     length); `tag_out` must be exactly tag_size() bytes.
//   OpenInPlace: `inout` holds the ciphertext; `tag` must be exactly
//     tag_size() bytes. On Ok, `inout` holds the plaintext. On kAuthFailed,
//     `inout` is zeroed: unauthenticated plaintext is never handed out.
// The AAD and the buffers must not overlap `inout` except as stated.
#ifndef MIPSEC_CRYPTO_AEAD_GCM_H_
#define MIPSEC_CRYPTO_AEAD_GCM_H_

#include <cstddef>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"

struct evp_cipher_ctx_st;  // OpenSSL EVP_CIPHER_CTX

namespace mipsec::crypto {

class AesGcm {
 public:
  static constexpr std::size_t kNonceSize = 12;
  static constexpr std::size_t kMaxTagSize = 16;

  // `key` is 16, 24 or 32 bytes (AES-128/192/256); `tag_size` is 8, 12 or 16.
  // kInvalidArgument otherwise.
  static Result<AesGcm> Create(const SecretBytes& key, std::size_t tag_size = 16);

  AesGcm(AesGcm&& o) noexcept;
  AesGcm& operator=(AesGcm&& o) noexcept;
  AesGcm(const AesGcm&) = delete;
  AesGcm& operator=(const AesGcm&) = delete;
  ~AesGcm();

  std::size_t key_size() const { return key_size_; }
  std::size_t tag_size() const { return tag_size_; }

  Status SealInPlace(ByteSpan nonce, ByteSpan aad, MutableByteSpan inout, MutableByteSpan tag_out);
  Status OpenInPlace(ByteSpan nonce, ByteSpan aad, MutableByteSpan inout, ByteSpan tag);

  // Copying forms: Seal returns ciphertext || tag; Open takes that and returns
  // the plaintext (kAuthFailed without any plaintext on a bad tag, kTruncated
  // if the input is shorter than the tag).
  Result<Bytes> Seal(ByteSpan nonce, ByteSpan aad, ByteSpan plaintext);
  Result<Bytes> Open(ByteSpan nonce, ByteSpan aad, ByteSpan ciphertext_and_tag);

 private:
  AesGcm(evp_cipher_ctx_st* ctx, std::size_t key_size, std::size_t tag_size)
      : ctx_(ctx), key_size_(key_size), tag_size_(tag_size) {}
  Status Check(ByteSpan nonce, ByteSpan aad, std::size_t text_size, std::size_t tag_size) const;
  Status Start(ByteSpan nonce, ByteSpan aad, bool encrypt);

  evp_cipher_ctx_st* ctx_;
  std::size_t key_size_;
  std::size_t tag_size_;
};

}  // namespace mipsec::crypto

#endif  // MIPSEC_CRYPTO_AEAD_GCM_H_

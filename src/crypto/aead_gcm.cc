#include "crypto/aead_gcm.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <string>
#include <utility>

#include "common/bug.h"
#include "crypto/openssl_util.h"

namespace mipsec::crypto {

using internal::FitsInt;
using internal::OpenSslError;

Result<AesGcm> AesGcm::Create(const SecretBytes& key, std::size_t tag_size) {
  if (key.size() != 16 && key.size() != 24 && key.size() != 32) {
    return Error(Errc::kInvalidArgument,
                 "AES-GCM: key must be 16, 24 or 32 bytes, got " + std::to_string(key.size()));
  }
  // RFC 4106 section 8: ICVs of 8, 12 and 16 octets.
  if (tag_size != 8 && tag_size != 12 && tag_size != 16) {
    return Error(Errc::kInvalidArgument,
                 "AES-GCM: tag must be 8, 12 or 16 bytes, got " + std::to_string(tag_size));
  }
  const EVP_CIPHER* cipher = internal::FetchedAes("GCM", key.size());
  if (cipher == nullptr) {
    return Error(Errc::kUnsupported, "AES-GCM: not available from the OpenSSL provider");
  }
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return OpenSslError(Errc::kInternal, "EVP_CIPHER_CTX_new");
  // The key schedule (and GHASH key H) is computed here, once. GCM uses only
  // the forward cipher, so the same context serves encryption and decryption.
  if (EVP_CipherInit_ex2(ctx, cipher, key.Reveal().data(), nullptr, 1, nullptr) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return OpenSslError(Errc::kInternal, "EVP_CipherInit_ex2 (AES-GCM key)");
  }
  return AesGcm(ctx, key.size(), tag_size);
}

AesGcm::AesGcm(AesGcm&& o) noexcept
    : ctx_(std::exchange(o.ctx_, nullptr)), key_size_(o.key_size_), tag_size_(o.tag_size_) {}

AesGcm& AesGcm::operator=(AesGcm&& o) noexcept {
  if (this != &o) {
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = std::exchange(o.ctx_, nullptr);
    key_size_ = o.key_size_;
    tag_size_ = o.tag_size_;
  }
  return *this;
}

AesGcm::~AesGcm() { EVP_CIPHER_CTX_free(ctx_); }  // cleanses the key schedule

Status AesGcm::Check(ByteSpan nonce, ByteSpan aad, std::size_t text_size,
                     std::size_t tag_size) const {
  if (MIPSEC_BUG_IF(ctx_ == nullptr, "use of a moved-from AesGcm")) {
    return Error(Errc::kInternal, "AES-GCM: moved-from object");
  }
  if (nonce.size() != kNonceSize) {
    return Error(Errc::kInvalidArgument,
                 "AES-GCM: nonce must be 12 bytes, got " + std::to_string(nonce.size()));
  }
  if (tag_size != tag_size_) {
    return Error(Errc::kInvalidArgument, "AES-GCM: tag buffer is " + std::to_string(tag_size) +
                                             " bytes, ICV size is " + std::to_string(tag_size_));
  }
  if (!FitsInt(aad.size()) || !FitsInt(text_size)) {
    return Error(Errc::kInvalidArgument, "AES-GCM: input too long");
  }
  return Ok{};
}

Status AesGcm::Start(ByteSpan nonce, ByteSpan aad, bool encrypt) {
  // Only the IV changes per message; a null cipher and key keep the schedule.
  if (EVP_CipherInit_ex2(ctx_, nullptr, nullptr, nonce.data(), encrypt ? 1 : 0, nullptr) != 1) {
    return OpenSslError(Errc::kInternal, "EVP_CipherInit_ex2 (AES-GCM nonce)");
  }
  if (!aad.empty()) {
    int len = 0;
    if (EVP_CipherUpdate(ctx_, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
      return OpenSslError(Errc::kInternal, "EVP_CipherUpdate (AES-GCM AAD)");
    }
  }
  return Ok{};
}

Status AesGcm::SealInPlace(ByteSpan nonce, ByteSpan aad, MutableByteSpan inout,
                           MutableByteSpan tag_out) {
  MIPSEC_TRY(Check(nonce, aad, inout.size(), tag_out.size()));
  MIPSEC_TRY(Start(nonce, aad, /*encrypt=*/true));
  int len = 0;
  if (!inout.empty() && (EVP_CipherUpdate(ctx_, inout.data(), &len, inout.data(),
                                          static_cast<int>(inout.size())) != 1 ||
                         static_cast<std::size_t>(len) != inout.size())) {
    return OpenSslError(Errc::kInternal, "EVP_CipherUpdate (AES-GCM seal)");
  }
  std::uint8_t dummy[1];
  if (EVP_CipherFinal_ex(ctx_, dummy, &len) != 1 || len != 0) {
    return OpenSslError(Errc::kInternal, "EVP_CipherFinal_ex (AES-GCM seal)");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_out.size()),
                          tag_out.data()) != 1) {
    return OpenSslError(Errc::kInternal, "EVP_CTRL_AEAD_GET_TAG");
  }
  return Ok{};
}

Status AesGcm::OpenInPlace(ByteSpan nonce, ByteSpan aad, MutableByteSpan inout, ByteSpan tag) {
  MIPSEC_TRY(Check(nonce, aad, inout.size(), tag.size()));
  MIPSEC_TRY(Start(nonce, aad, /*encrypt=*/false));
  // The expected tag is set before any decryption; OpenSSL compares it (in
  // constant time) at EVP_CipherFinal_ex.
  std::uint8_t tag_copy[kMaxTagSize];
  std::copy(tag.begin(), tag.end(), tag_copy);
  if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag.size()), tag_copy) !=
      1) {
    return OpenSslError(Errc::kInternal, "EVP_CTRL_AEAD_SET_TAG");
  }
  int len = 0;
  if (!inout.empty() && (EVP_CipherUpdate(ctx_, inout.data(), &len, inout.data(),
                                          static_cast<int>(inout.size())) != 1 ||
                         static_cast<std::size_t>(len) != inout.size())) {
    OPENSSL_cleanse(inout.data(), inout.size());
    return OpenSslError(Errc::kInternal, "EVP_CipherUpdate (AES-GCM open)");
  }
  std::uint8_t dummy[1];
  if (EVP_CipherFinal_ex(ctx_, dummy, &len) != 1) {
    // The only way decryption fails here is a tag mismatch (the inputs were
    // checked above). Withhold the plaintext.
    OPENSSL_cleanse(inout.data(), inout.size());
    internal::ClearOpenSslErrors();
    return Error(Errc::kAuthFailed, "AES-GCM: ICV mismatch");
  }
  return Ok{};
}

Result<Bytes> AesGcm::Seal(ByteSpan nonce, ByteSpan aad, ByteSpan plaintext) {
  Bytes out(plaintext.size() + tag_size_);
  std::copy(plaintext.begin(), plaintext.end(), out.begin());
  MutableByteSpan all(out);
  MIPSEC_TRY(SealInPlace(nonce, aad, all.first(plaintext.size()), all.last(tag_size_)));
  return out;
}

Result<Bytes> AesGcm::Open(ByteSpan nonce, ByteSpan aad, ByteSpan ciphertext_and_tag) {
  if (ciphertext_and_tag.size() < tag_size_) {
    return Error(Errc::kTruncated,
                 "AES-GCM: input of " + std::to_string(ciphertext_and_tag.size()) +
                     " bytes is shorter than the " + std::to_string(tag_size_) + "-byte ICV");
  }
  const std::size_t n = ciphertext_and_tag.size() - tag_size_;
  Bytes out(ciphertext_and_tag.begin(), ciphertext_and_tag.begin() + n);
  MIPSEC_TRY(OpenInPlace(nonce, aad, out, ciphertext_and_tag.last(tag_size_)));
  return out;
}

}  // namespace mipsec::crypto

#include "crypto/cbc.h"

#include <openssl/evp.h>

#include <string>
#include <utility>

#include "common/bug.h"
#include "crypto/openssl_util.h"

namespace mipsec::crypto {

using internal::OpenSslError;

namespace {

Result<EVP_CIPHER_CTX*> NewKeyedContext(const EVP_CIPHER* cipher, const SecretBytes& key,
                                        bool encrypt) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return OpenSslError(Errc::kInternal, "EVP_CIPHER_CTX_new");
  if (EVP_CipherInit_ex2(ctx, cipher, key.Reveal().data(), nullptr, encrypt ? 1 : 0, nullptr) !=
          1 ||
      EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {  // ESP and IKEv2 pad themselves
    EVP_CIPHER_CTX_free(ctx);
    return OpenSslError(Errc::kInternal, "EVP_CipherInit_ex2 (AES-CBC key)");
  }
  return ctx;
}

}  // namespace

Result<AesCbc> AesCbc::Create(const SecretBytes& key) {
  if (key.size() != 16 && key.size() != 24 && key.size() != 32) {
    return Error(Errc::kInvalidArgument,
                 "AES-CBC: key must be 16, 24 or 32 bytes, got " + std::to_string(key.size()));
  }
  const EVP_CIPHER* cipher = internal::FetchedAes("CBC", key.size());
  if (cipher == nullptr) {
    return Error(Errc::kUnsupported, "AES-CBC: not available from the OpenSSL provider");
  }
  MIPSEC_ASSIGN_OR_RETURN(EVP_CIPHER_CTX * enc, NewKeyedContext(cipher, key, true));
  Result<EVP_CIPHER_CTX*> dec = NewKeyedContext(cipher, key, false);
  if (!dec.ok()) {
    EVP_CIPHER_CTX_free(enc);
    return std::move(dec).error();
  }
  return AesCbc(enc, *dec, key.size());
}

AesCbc::AesCbc(AesCbc&& o) noexcept
    : enc_(std::exchange(o.enc_, nullptr)),
      dec_(std::exchange(o.dec_, nullptr)),
      key_size_(o.key_size_) {}

AesCbc& AesCbc::operator=(AesCbc&& o) noexcept {
  if (this != &o) {
    EVP_CIPHER_CTX_free(enc_);
    EVP_CIPHER_CTX_free(dec_);
    enc_ = std::exchange(o.enc_, nullptr);
    dec_ = std::exchange(o.dec_, nullptr);
    key_size_ = o.key_size_;
  }
  return *this;
}

AesCbc::~AesCbc() {  // EVP_CIPHER_CTX_free cleanses the key schedules
  EVP_CIPHER_CTX_free(enc_);
  EVP_CIPHER_CTX_free(dec_);
}

Status AesCbc::Run(EVP_CIPHER_CTX* ctx, bool encrypt, ByteSpan iv, MutableByteSpan inout) {
  if (MIPSEC_BUG_IF(ctx == nullptr, "use of a moved-from AesCbc")) {
    return Error(Errc::kInternal, "AES-CBC: moved-from object");
  }
  if (iv.size() != kBlockSize) {
    return Error(Errc::kInvalidArgument,
                 "AES-CBC: IV must be 16 bytes, got " + std::to_string(iv.size()));
  }
  if (inout.size() % kBlockSize != 0) {
    return Error(Errc::kInvalidArgument,
                 "AES-CBC: length " + std::to_string(inout.size()) + " is not a multiple of 16");
  }
  if (!internal::FitsInt(inout.size())) {
    return Error(Errc::kInvalidArgument, "AES-CBC: input too long");
  }
  if (inout.empty()) return Ok{};
  // A null cipher and key keep the expanded key; only the IV is reset.
  if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, iv.data(), encrypt ? 1 : 0, nullptr) != 1) {
    return OpenSslError(Errc::kInternal, "EVP_CipherInit_ex2 (AES-CBC IV)");
  }
  int len = 0;
  if (EVP_CipherUpdate(ctx, inout.data(), &len, inout.data(), static_cast<int>(inout.size())) !=
          1 ||
      static_cast<std::size_t>(len) != inout.size()) {
    return OpenSslError(Errc::kInternal, "EVP_CipherUpdate (AES-CBC)");
  }
  return Ok{};
}

Status AesCbc::EncryptInPlace(ByteSpan iv, MutableByteSpan inout) {
  return Run(enc_, true, iv, inout);
}

Status AesCbc::DecryptInPlace(ByteSpan iv, MutableByteSpan inout) {
  return Run(dec_, false, iv, inout);
}

Result<Bytes> AesCbc::Encrypt(ByteSpan iv, ByteSpan plaintext) {
  Bytes out(plaintext.begin(), plaintext.end());
  MIPSEC_TRY(EncryptInPlace(iv, out));
  return out;
}

Result<Bytes> AesCbc::Decrypt(ByteSpan iv, ByteSpan ciphertext) {
  Bytes out(ciphertext.begin(), ciphertext.end());
  MIPSEC_TRY(DecryptInPlace(iv, out));
  return out;
}

}  // namespace mipsec::crypto

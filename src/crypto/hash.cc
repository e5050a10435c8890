#include "crypto/hash.h"

#include <openssl/evp.h>

#include <utility>

#include "common/bug.h"
#include "crypto/openssl_util.h"

namespace mipsec::crypto {

using internal::OpenSslError;

std::string_view HashAlgName(HashAlg alg) {
  switch (alg) {
    case HashAlg::kMd5: return "MD5";
    case HashAlg::kSha1: return "SHA-1";
    case HashAlg::kSha256: return "SHA-256";
    case HashAlg::kSha384: return "SHA-384";
    case HashAlg::kSha512: return "SHA-512";
  }
  return "?";
}

Result<Bytes> Hash(HashAlg alg, ByteSpan data) {
  MIPSEC_ASSIGN_OR_RETURN(Hasher h, Hasher::Create(alg));
  MIPSEC_TRY(h.Update(data));
  return h.Finish();
}

Result<Hasher> Hasher::Create(HashAlg alg) {
  const EVP_MD* md = internal::FetchedMd(alg);
  if (md == nullptr) {
    return Error(Errc::kUnsupported,
                 std::string(HashAlgName(alg)) + ": not available from the OpenSSL provider");
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return OpenSslError(Errc::kInternal, "EVP_MD_CTX_new");
  if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return OpenSslError(Errc::kInternal, "EVP_DigestInit_ex2");
  }
  return Hasher(alg, ctx);
}

Hasher::Hasher(Hasher&& o) noexcept : alg_(o.alg_), ctx_(std::exchange(o.ctx_, nullptr)) {}

Hasher& Hasher::operator=(Hasher&& o) noexcept {
  if (this != &o) {
    EVP_MD_CTX_free(ctx_);
    alg_ = o.alg_;
    ctx_ = std::exchange(o.ctx_, nullptr);
  }
  return *this;
}

Hasher::~Hasher() { EVP_MD_CTX_free(ctx_); }

Status Hasher::CheckUsable() const {
  if (MIPSEC_BUG_IF(ctx_ == nullptr, "use of a moved-from Hasher")) {
    return Error(Errc::kInternal, "hash: moved-from Hasher");
  }
  return Ok{};
}

Status Hasher::Update(ByteSpan data) {
  MIPSEC_TRY(CheckUsable());
  if (data.empty()) return Ok{};
  if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) {
    return OpenSslError(Errc::kInternal, "EVP_DigestUpdate");
  }
  return Ok{};
}

Result<Bytes> Hasher::Finish() {
  Bytes out(size());
  MIPSEC_TRY(FinishInto(out));
  return out;
}

Status Hasher::FinishInto(MutableByteSpan out) {
  MIPSEC_TRY(CheckUsable());
  if (out.size() != size()) {
    return Error(Errc::kInvalidArgument, std::string(HashAlgName(alg_)) + ": output needs " +
                                             std::to_string(size()) + " bytes, got " +
                                             std::to_string(out.size()));
  }
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, out.data(), &len) != 1 || len != out.size()) {
    return OpenSslError(Errc::kInternal, "EVP_DigestFinal_ex");
  }
  // Ready for the next message.
  if (EVP_DigestInit_ex2(ctx_, internal::FetchedMd(alg_), nullptr) != 1) {
    return OpenSslError(Errc::kInternal, "EVP_DigestInit_ex2");
  }
  return Ok{};
}

}  // namespace mipsec::crypto

#include "crypto/hmac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <string>
#include <utility>

#include "common/bug.h"
#include "crypto/ct_compare.h"
#include "crypto/openssl_util.h"

namespace mipsec::crypto {

using internal::OpenSslError;

namespace {

std::string Name(HashAlg alg) { return "HMAC-" + std::string(HashAlgName(alg)); }

Status CheckTruncation(HashAlg alg, std::size_t n) {
  if (n == 0 || n > HashSize(alg)) {
    return Error(Errc::kInvalidArgument, Name(alg) + ": output length " + std::to_string(n) +
                                             " outside 1.." + std::to_string(HashSize(alg)));
  }
  return Ok{};
}

Status CheckVerifyLength(HashAlg alg, std::size_t n) {
  if (n < kMinVerifyTagSize || n > HashSize(alg)) {
    return Error(Errc::kInvalidArgument, Name(alg) + ": tag length " + std::to_string(n) +
                                             " outside " + std::to_string(kMinVerifyTagSize) +
                                             ".." + std::to_string(HashSize(alg)));
  }
  return Ok{};
}

}  // namespace

Result<Bytes> Hmac(HashAlg alg, const SecretBytes& key, ByteSpan data) {
  MIPSEC_ASSIGN_OR_RETURN(HmacContext ctx, HmacContext::Create(alg, key));
  MIPSEC_TRY(ctx.Update(data));
  return ctx.Finish();
}

Result<Bytes> HmacTruncated(HashAlg alg, const SecretBytes& key, ByteSpan data,
                            std::size_t out_len) {
  MIPSEC_TRY(CheckTruncation(alg, out_len));
  MIPSEC_ASSIGN_OR_RETURN(HmacContext ctx, HmacContext::Create(alg, key));
  MIPSEC_TRY(ctx.Update(data));
  Bytes out(out_len);
  MIPSEC_TRY(ctx.FinishInto(out));
  return out;
}

Status VerifyHmac(HashAlg alg, const SecretBytes& key, ByteSpan data, ByteSpan expected) {
  MIPSEC_TRY(CheckVerifyLength(alg, expected.size()));
  MIPSEC_ASSIGN_OR_RETURN(HmacContext ctx, HmacContext::Create(alg, key));
  MIPSEC_TRY(ctx.Update(data));
  return ctx.Verify(expected);
}

Result<HmacContext> HmacContext::Create(HashAlg alg, const SecretBytes& key) {
  return CreateImpl(alg, key.Reveal());
}

Result<HmacContext> HmacContext::CreateWithPublicKey(HashAlg alg, ByteSpan key) {
  return CreateImpl(alg, key);
}

Result<HmacContext> HmacContext::CreateImpl(HashAlg alg, ByteSpan key) {
  EVP_MAC* mac = internal::FetchedHmac();
  if (mac == nullptr || internal::FetchedMd(alg) == nullptr) {
    return Error(Errc::kUnsupported, Name(alg) + ": not available from the OpenSSL provider");
  }
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  if (ctx == nullptr) return OpenSslError(Errc::kInternal, "EVP_MAC_CTX_new");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                       const_cast<char*>(internal::MdName(alg)), 0),
      OSSL_PARAM_construct_end(),
  };
  // A null key pointer means "keep the previous key" to EVP_MAC_init, so an
  // empty key is passed as a valid pointer with length 0.
  if (EVP_MAC_init(ctx, internal::NonNull(key.data()), key.size(), params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return OpenSslError(Errc::kInternal, "EVP_MAC_init (" + Name(alg) + ")");
  }
  return HmacContext(alg, ctx);
}

HmacContext::HmacContext(HmacContext&& o) noexcept
    : alg_(o.alg_), ctx_(std::exchange(o.ctx_, nullptr)) {}

HmacContext& HmacContext::operator=(HmacContext&& o) noexcept {
  if (this != &o) {
    EVP_MAC_CTX_free(ctx_);
    alg_ = o.alg_;
    ctx_ = std::exchange(o.ctx_, nullptr);
  }
  return *this;
}

HmacContext::~HmacContext() { EVP_MAC_CTX_free(ctx_); }  // frees and cleanses the key

Status HmacContext::CheckUsable() const {
  if (MIPSEC_BUG_IF(ctx_ == nullptr, "use of a moved-from HmacContext")) {
    return Error(Errc::kInternal, "hmac: moved-from HmacContext");
  }
  return Ok{};
}

Status HmacContext::Update(ByteSpan data) {
  MIPSEC_TRY(CheckUsable());
  if (data.empty()) return Ok{};
  if (EVP_MAC_update(ctx_, data.data(), data.size()) != 1) {
    return OpenSslError(Errc::kInternal, "EVP_MAC_update");
  }
  return Ok{};
}

Status HmacContext::UpdateSecret(const SecretBytes& data) { return Update(data.Reveal()); }

Status HmacContext::FinishInto(MutableByteSpan out) {
  MIPSEC_TRY(CheckUsable());
  if (Status st = CheckTruncation(alg_, out.size()); !st.ok()) {
    (void)Restart();
    return st;
  }
  std::uint8_t full[kMaxHashSize];
  std::size_t len = 0;
  const int ok = EVP_MAC_final(ctx_, full, &len, sizeof(full));
  Status st = Ok{};
  if (ok != 1 || len != size()) {
    st = OpenSslError(Errc::kInternal, "EVP_MAC_final");
  } else {
    std::copy(full, full + out.size(), out.begin());
  }
  OPENSSL_cleanse(full, sizeof(full));  // a PRF output may be key material
  Status restarted = Restart();
  return st.ok() ? restarted : st;
}

Status HmacContext::Restart() {
  // A null key keeps the current one and resets the message state.
  if (EVP_MAC_init(ctx_, nullptr, 0, nullptr) != 1) {
    return OpenSslError(Errc::kInternal, "EVP_MAC_init (restart)");
  }
  return Ok{};
}

Result<Bytes> HmacContext::Finish() {
  Bytes out(size());
  MIPSEC_TRY(FinishInto(out));
  return out;
}

Result<SecretBytes> HmacContext::FinishSecret() {
  SecretBytes out(size());
  MIPSEC_TRY(FinishInto(out.RevealMutable()));
  return out;
}

Status HmacContext::Verify(ByteSpan expected) {
  MIPSEC_TRY(CheckUsable());
  if (Status st = CheckVerifyLength(alg_, expected.size()); !st.ok()) {
    (void)Restart();  // the next message must not continue this one
    return st;
  }
  std::uint8_t mac[kMaxHashSize];
  MutableByteSpan computed(mac, expected.size());
  Status st = FinishInto(computed);
  const bool equal = st.ok() && ConstantTimeEqual(computed, expected);
  OPENSSL_cleanse(mac, sizeof(mac));
  MIPSEC_TRY(st);
  if (!equal) return Error(Errc::kAuthFailed, Name(alg_) + ": MAC mismatch");
  return Ok{};
}

}  // namespace mipsec::crypto

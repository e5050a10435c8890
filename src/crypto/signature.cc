#include "crypto/signature.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "crypto/openssl_util.h"

namespace mipsec::crypto {

using internal::ClearOpenSslErrors;
using internal::OpenSslError;

namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct AlgorDeleter {
  void operator()(X509_ALGOR* p) const { X509_ALGOR_free(p); }
};
struct PssDeleter {
  void operator()(RSA_PSS_PARAMS* p) const { RSA_PSS_PARAMS_free(p); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using AlgorPtr = std::unique_ptr<X509_ALGOR, AlgorDeleter>;
using PssPtr = std::unique_ptr<RSA_PSS_PARAMS, PssDeleter>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;

bool IsPss(SignatureScheme s) {
  return s == SignatureScheme::kRsaPssSha256 || s == SignatureScheme::kRsaPssSha384 ||
         s == SignatureScheme::kRsaPssSha512;
}

// Sets up `ctx` for signing or verifying with `scheme`.
Status Init(EVP_MD_CTX* ctx, EVP_PKEY* pkey, SignatureScheme scheme, bool sign) {
  const char* md = internal::MdName(SchemeHash(scheme));
  EVP_PKEY_CTX* pctx = nullptr;
  int rc = sign ? EVP_DigestSignInit_ex(ctx, &pctx, md, nullptr, nullptr, pkey, nullptr)
                : EVP_DigestVerifyInit_ex(ctx, &pctx, md, nullptr, nullptr, pkey, nullptr);
  if (rc != 1) {
    return OpenSslError(Errc::kInternal, sign ? "EVP_DigestSignInit" : "EVP_DigestVerifyInit");
  }
  if (SchemeIsRsa(scheme)) {
    if (IsPss(scheme)) {
      if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
          EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, nullptr) != 1 ||
          EVP_PKEY_CTX_set_rsa_pss_saltlen(
              pctx, sign ? RSA_PSS_SALTLEN_DIGEST : RSA_PSS_SALTLEN_AUTO) != 1) {
        return OpenSslError(Errc::kInternal, "RSA-PSS parameters");
      }
    } else if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
      return OpenSslError(Errc::kInternal, "RSA PKCS#1 padding");
    }
  }
  return Ok{};
}

Status CheckFits(SignatureScheme scheme, KeyType key) {
  if (!SchemeFitsKey(scheme, key)) {
    return Error(Errc::kInvalidArgument, std::string("signature scheme ") +
                                             std::string(SchemeName(scheme)) + " does not fit a " +
                                             std::string(KeyTypeName(key)) + " key");
  }
  return Ok{};
}

// RFC 7427 Appendix A encodings.
constexpr std::uint8_t kPkcs1Prefix[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                         0xf7, 0x0d, 0x01, 0x01};  // + id, 05 00
constexpr std::uint8_t kEcdsaPrefix[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                         0x48, 0xce, 0x3d, 0x04, 0x03};  // + id
// A.4.3 (RSASSA-PSS with SHA-256); the SHA-384/512 forms differ only in the
// two hash OIDs' last byte (offsets 0x1d and 0x3b) and the salt (0x42).
constexpr std::uint8_t kPssSha256[] = {
    0x30, 0x46, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x39,
    0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
    0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
    0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
    0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20, 0xa3, 0x03, 0x02, 0x01, 0x01};

std::optional<HashAlg> HashFromNid(int nid) {
  switch (nid) {
    case NID_sha1: return HashAlg::kSha1;
    case NID_sha256: return HashAlg::kSha256;
    case NID_sha384: return HashAlg::kSha384;
    case NID_sha512: return HashAlg::kSha512;
    default: return std::nullopt;
  }
}

// The hash named by an AlgorithmIdentifier (absent = SHA-1, RFC 4055 3.1).
Result<HashAlg> HashOfAlgor(const X509_ALGOR* a) {
  if (a == nullptr) return HashAlg::kSha1;
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, a);
  std::optional<HashAlg> h = HashFromNid(OBJ_obj2nid(obj));
  if (!h) return Error(Errc::kUnsupported, "RSASSA-PSS: unsupported hash algorithm");
  return *h;
}

Result<SignatureScheme> PssScheme(int ptype, const void* pval) {
  if (ptype != V_ASN1_SEQUENCE || pval == nullptr) {
    return Error(Errc::kMalformed, "RSASSA-PSS: parameters missing");
  }
  const ASN1_STRING* seq = static_cast<const ASN1_STRING*>(pval);
  const unsigned char* p = ASN1_STRING_get0_data(seq);
  const long len = ASN1_STRING_length(seq);
  PssPtr params(d2i_RSA_PSS_PARAMS(nullptr, &p, len));
  if (!params) {
    ClearOpenSslErrors();
    return Error(Errc::kMalformed, "RSASSA-PSS: parameters do not parse");
  }
  MIPSEC_ASSIGN_OR_RETURN(HashAlg hash, HashOfAlgor(params->hashAlgorithm));
  // MGF1 with its own hash; default mgf1SHA1.
  HashAlg mgf_hash = HashAlg::kSha1;
  if (params->maskGenAlgorithm != nullptr) {
    const ASN1_OBJECT* mobj = nullptr;
    int mtype = 0;
    const void* mval = nullptr;
    X509_ALGOR_get0(&mobj, &mtype, &mval, params->maskGenAlgorithm);
    if (OBJ_obj2nid(mobj) != NID_mgf1 || mtype != V_ASN1_SEQUENCE || mval == nullptr) {
      return Error(Errc::kUnsupported, "RSASSA-PSS: mask generation is not MGF1");
    }
    const ASN1_STRING* mseq = static_cast<const ASN1_STRING*>(mval);
    const unsigned char* mp = ASN1_STRING_get0_data(mseq);
    AlgorPtr mgf_md(d2i_X509_ALGOR(nullptr, &mp, ASN1_STRING_length(mseq)));
    if (!mgf_md) {
      ClearOpenSslErrors();
      return Error(Errc::kMalformed, "RSASSA-PSS: MGF1 hash does not parse");
    }
    MIPSEC_ASSIGN_OR_RETURN(mgf_hash, HashOfAlgor(mgf_md.get()));
  }
  if (mgf_hash != hash) return Error(Errc::kUnsupported, "RSASSA-PSS: MGF1 hash differs");
  if (params->trailerField != nullptr && ASN1_INTEGER_get(params->trailerField) != 1) {
    return Error(Errc::kUnsupported, "RSASSA-PSS: trailer field is not 1");
  }
  switch (hash) {
    case HashAlg::kSha256: return SignatureScheme::kRsaPssSha256;
    case HashAlg::kSha384: return SignatureScheme::kRsaPssSha384;
    case HashAlg::kSha512: return SignatureScheme::kRsaPssSha512;
    default: return Error(Errc::kUnsupported, "RSASSA-PSS: hash not supported with PSS");
  }
}

}  // namespace

HashAlg SchemeHash(SignatureScheme s) {
  switch (s) {
    case SignatureScheme::kRsaPkcs1Sha1: return HashAlg::kSha1;
    case SignatureScheme::kRsaPkcs1Sha256:
    case SignatureScheme::kRsaPssSha256:
    case SignatureScheme::kEcdsaSha256: return HashAlg::kSha256;
    case SignatureScheme::kRsaPkcs1Sha384:
    case SignatureScheme::kRsaPssSha384:
    case SignatureScheme::kEcdsaSha384: return HashAlg::kSha384;
    case SignatureScheme::kRsaPkcs1Sha512:
    case SignatureScheme::kRsaPssSha512:
    case SignatureScheme::kEcdsaSha512: return HashAlg::kSha512;
  }
  return HashAlg::kSha256;
}

bool SchemeIsEcdsa(SignatureScheme s) {
  return s == SignatureScheme::kEcdsaSha256 || s == SignatureScheme::kEcdsaSha384 ||
         s == SignatureScheme::kEcdsaSha512;
}
bool SchemeIsRsa(SignatureScheme s) { return !SchemeIsEcdsa(s); }

std::string_view SchemeName(SignatureScheme s) {
  switch (s) {
    case SignatureScheme::kRsaPkcs1Sha1: return "rsa-pkcs1-sha1";
    case SignatureScheme::kRsaPkcs1Sha256: return "rsa-pkcs1-sha256";
    case SignatureScheme::kRsaPkcs1Sha384: return "rsa-pkcs1-sha384";
    case SignatureScheme::kRsaPkcs1Sha512: return "rsa-pkcs1-sha512";
    case SignatureScheme::kRsaPssSha256: return "rsa-pss-sha256";
    case SignatureScheme::kRsaPssSha384: return "rsa-pss-sha384";
    case SignatureScheme::kRsaPssSha512: return "rsa-pss-sha512";
    case SignatureScheme::kEcdsaSha256: return "ecdsa-sha256";
    case SignatureScheme::kEcdsaSha384: return "ecdsa-sha384";
    case SignatureScheme::kEcdsaSha512: return "ecdsa-sha512";
  }
  return "?";
}

bool SchemeFitsKey(SignatureScheme s, KeyType key) {
  if (SchemeIsRsa(s)) return key == KeyType::kRsa;
  return key == KeyType::kEcP256 || key == KeyType::kEcP384 || key == KeyType::kEcP521;
}

std::size_t EcFieldSize(KeyType key) {
  switch (key) {
    case KeyType::kEcP256: return 32;
    case KeyType::kEcP384: return 48;
    case KeyType::kEcP521: return 66;
    default: return 0;
  }
}

Result<Bytes> Sign(const PrivateKey& key, SignatureScheme scheme, ByteSpan message) {
  MIPSEC_TRY(CheckFits(scheme, key.type()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return OpenSslError(Errc::kInternal, "EVP_MD_CTX_new");
  MIPSEC_TRY(Init(ctx.get(), key.raw(), scheme, /*sign=*/true));
  std::size_t len = 0;
  const unsigned char* msg = internal::NonNull(message.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, msg, message.size()) != 1) {
    return OpenSslError(Errc::kInternal, "EVP_DigestSign (size)");
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, msg, message.size()) != 1) {
    return OpenSslError(Errc::kInternal, "EVP_DigestSign");
  }
  sig.resize(len);
  return sig;
}

Status Verify(const PublicKey& key, SignatureScheme scheme, ByteSpan message, ByteSpan signature) {
  MIPSEC_TRY(CheckFits(scheme, key.type()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return OpenSslError(Errc::kInternal, "EVP_MD_CTX_new");
  MIPSEC_TRY(Init(ctx.get(), key.raw(), scheme, /*sign=*/false));
  int rc = EVP_DigestVerify(ctx.get(), internal::NonNull(signature.data()), signature.size(),
                            internal::NonNull(message.data()), message.size());
  if (rc == 1) return Ok{};
  ClearOpenSslErrors();
  return Error(Errc::kAuthFailed,
               std::string(SchemeName(scheme)) + " signature does not verify");
}

Result<Bytes> EcdsaDerToRaw(ByteSpan der, std::size_t field_size) {
  if (field_size == 0 || !internal::FitsInt(der.size())) {
    return Error(Errc::kInvalidArgument, "ECDSA: bad field size");
  }
  const unsigned char* p = internal::NonNull(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) {
    ClearOpenSslErrors();
    return Error(Errc::kMalformed, "ECDSA signature: DER does not parse");
  }
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  Bytes raw(2 * field_size);
  if (BN_bn2binpad(r, raw.data(), static_cast<int>(field_size)) < 0 ||
      BN_bn2binpad(s, raw.data() + field_size, static_cast<int>(field_size)) < 0) {
    ClearOpenSslErrors();
    return Error(Errc::kMalformed, "ECDSA signature: r or s longer than the field");
  }
  return raw;
}

Result<Bytes> EcdsaRawToDer(ByteSpan raw) {
  if (raw.empty() || raw.size() % 2 != 0 || !internal::FitsInt(raw.size())) {
    return Error(Errc::kMalformed, "ECDSA signature: raw r|s needs an even, non-zero length, got " +
                                       std::to_string(raw.size()));
  }
  const int half = static_cast<int>(raw.size() / 2);
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), half, nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + half, half, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return OpenSslError(Errc::kInternal, "ECDSA_SIG_set0");
  }
  unsigned char* out = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &out);
  if (len <= 0) return OpenSslError(Errc::kInternal, "i2d_ECDSA_SIG");
  Bytes der(out, out + len);
  OPENSSL_free(out);
  return der;
}

Bytes AlgorithmIdentifierDer(SignatureScheme s) {
  auto pkcs1 = [](std::uint8_t id) {
    Bytes b(std::begin(kPkcs1Prefix), std::end(kPkcs1Prefix));
    b.insert(b.end(), {id, 0x05, 0x00});
    return b;
  };
  auto ecdsa = [](std::uint8_t id) {
    Bytes b(std::begin(kEcdsaPrefix), std::end(kEcdsaPrefix));
    b.push_back(id);
    return b;
  };
  auto pss = [](std::uint8_t hash_id, std::uint8_t salt) {
    Bytes b(std::begin(kPssSha256), std::end(kPssSha256));
    b[0x1d] = hash_id;
    b[0x3b] = hash_id;
    b[0x42] = salt;
    return b;
  };
  switch (s) {
    case SignatureScheme::kRsaPkcs1Sha1: return pkcs1(0x05);
    case SignatureScheme::kRsaPkcs1Sha256: return pkcs1(0x0b);
    case SignatureScheme::kRsaPkcs1Sha384: return pkcs1(0x0c);
    case SignatureScheme::kRsaPkcs1Sha512: return pkcs1(0x0d);
    case SignatureScheme::kRsaPssSha256: return pss(0x01, 32);
    case SignatureScheme::kRsaPssSha384: return pss(0x02, 48);
    case SignatureScheme::kRsaPssSha512: return pss(0x03, 64);
    case SignatureScheme::kEcdsaSha256: return ecdsa(0x02);
    case SignatureScheme::kEcdsaSha384: return ecdsa(0x03);
    case SignatureScheme::kEcdsaSha512: return ecdsa(0x04);
  }
  return Bytes();
}

Result<SignatureScheme> SchemeFromAlgorithmIdentifier(ByteSpan der) {
  if (der.empty() || !internal::FitsInt(der.size())) {
    return Error(Errc::kMalformed, "AlgorithmIdentifier: empty");
  }
  const unsigned char* p = der.data();
  AlgorPtr alg(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(der.size())));
  if (!alg) {
    ClearOpenSslErrors();
    return Error(Errc::kMalformed, "AlgorithmIdentifier: does not parse");
  }
  if (p != der.data() + der.size()) {
    return Error(Errc::kMalformed, "AlgorithmIdentifier: trailing bytes");
  }
  const ASN1_OBJECT* obj = nullptr;
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(&obj, &ptype, &pval, alg.get());
  const int nid = OBJ_obj2nid(obj);
  // PKCS#1 v1.5: parameters NULL (preferredPresent) or absent; ECDSA:
  // absent (preferredAbsent), NULL tolerated (RFC 7427 3).
  const bool null_or_absent = ptype == V_ASN1_NULL || ptype == V_ASN1_UNDEF;
  auto simple = [&](SignatureScheme sch) -> Result<SignatureScheme> {
    if (!null_or_absent) {
      return Error(Errc::kMalformed, "AlgorithmIdentifier: unexpected parameters for " +
                                         std::string(SchemeName(sch)));
    }
    return sch;
  };
  switch (nid) {
    case NID_sha1WithRSAEncryption: return simple(SignatureScheme::kRsaPkcs1Sha1);
    case NID_sha256WithRSAEncryption: return simple(SignatureScheme::kRsaPkcs1Sha256);
    case NID_sha384WithRSAEncryption: return simple(SignatureScheme::kRsaPkcs1Sha384);
    case NID_sha512WithRSAEncryption: return simple(SignatureScheme::kRsaPkcs1Sha512);
    case NID_ecdsa_with_SHA256: return simple(SignatureScheme::kEcdsaSha256);
    case NID_ecdsa_with_SHA384: return simple(SignatureScheme::kEcdsaSha384);
    case NID_ecdsa_with_SHA512: return simple(SignatureScheme::kEcdsaSha512);
    case NID_rsassaPss: return PssScheme(ptype, pval);
    default: {
      char name[80] = {};
      OBJ_obj2txt(name, sizeof(name), obj, 1);
      return Error(Errc::kUnsupported,
                   std::string("AlgorithmIdentifier: unsupported signature algorithm ") + name);
    }
  }
}

}  // namespace mipsec::crypto

#include "crypto/x509.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <ctime>
#include <string>
#include <utility>

#include "crypto/openssl_util.h"

namespace mipsec::crypto {

using internal::ClearOpenSslErrors;
using internal::OpenSslError;

namespace {

struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

std::shared_ptr<evp_pkey_st> SharePkey(EVP_PKEY* p) {
  return std::shared_ptr<evp_pkey_st>(p, [](EVP_PKEY* k) { EVP_PKEY_free(k); });
}

Result<BioPtr> MemBio(std::string_view text) {
  if (!internal::FitsInt(text.size())) return Error(Errc::kInvalidArgument, "PEM text too long");
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return OpenSslError(Errc::kInternal, "BIO_new_mem_buf");
  return bio;
}

KeyType TypeOf(EVP_PKEY* k) {
  if (EVP_PKEY_is_a(k, "RSA")) return KeyType::kRsa;
  if (EVP_PKEY_is_a(k, "EC")) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) != 1) {
      ClearOpenSslErrors();
      return KeyType::kOther;
    }
    std::string_view g(group, len);
    if (g == "prime256v1" || g == "P-256") return KeyType::kEcP256;
    if (g == "secp384r1" || g == "P-384") return KeyType::kEcP384;
    if (g == "secp521r1" || g == "P-521") return KeyType::kEcP521;
  }
  return KeyType::kOther;
}

// ASN1_TIME to Unix seconds.
std::int64_t ToUnix(const ASN1_TIME* t) {
  struct tm tm_value;
  std::memset(&tm_value, 0, sizeof(tm_value));
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm_value) != 1) {
    ClearOpenSslErrors();
    return 0;
  }
  // Days from civil (proleptic Gregorian), no timegm() needed.
  std::int64_t y = tm_value.tm_year + 1900;
  const unsigned m = static_cast<unsigned>(tm_value.tm_mon + 1);
  const unsigned d = static_cast<unsigned>(tm_value.tm_mday);
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = era * 146097 + static_cast<std::int64_t>(doe) - 719468;
  return days * 86400 + tm_value.tm_hour * 3600 + tm_value.tm_min * 60 + tm_value.tm_sec;
}

Bytes NameDer(const X509_NAME* name) {
  unsigned char* out = nullptr;
  int len = i2d_X509_NAME(name, &out);
  if (len <= 0) {
    ClearOpenSslErrors();
    return Bytes();
  }
  Bytes b(out, out + len);
  OPENSSL_free(out);
  return b;
}

struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};

// Calls f(GENERAL_NAME*) for each subjectAltName entry.
template <typename F>
void ForEachAltName(X509* cert, F&& f) {
  std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) {
    ClearOpenSslErrors();
    return;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    f(sk_GENERAL_NAME_value(names.get(), i));
  }
}

std::string Ia5(const ASN1_IA5STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

}  // namespace

std::string_view KeyTypeName(KeyType t) {
  switch (t) {
    case KeyType::kRsa: return "RSA";
    case KeyType::kEcP256: return "ECDSA-P256";
    case KeyType::kEcP384: return "ECDSA-P384";
    case KeyType::kEcP521: return "ECDSA-P521";
    case KeyType::kOther: return "other";
  }
  return "other";
}

// ---- PublicKey ------------------------------------------------------------

PublicKey::PublicKey(std::shared_ptr<evp_pkey_st> key)
    : key_(std::move(key)), type_(TypeOf(key_.get())) {}

Result<PublicKey> PublicKey::FromSpkiDer(ByteSpan der) {
  if (!internal::FitsInt(der.size())) return Error(Errc::kMalformed, "public key too long");
  const unsigned char* p = internal::NonNull(der.data());
  EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (k == nullptr) return OpenSslError(Errc::kMalformed, "SubjectPublicKeyInfo");
  auto shared = SharePkey(k);
  if (p != der.data() + der.size()) {
    return Error(Errc::kMalformed, "SubjectPublicKeyInfo: trailing bytes");
  }
  return PublicKey(std::move(shared));
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  MIPSEC_ASSIGN_OR_RETURN(BioPtr bio, MemBio(pem));
  EVP_PKEY* k = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (k == nullptr) return OpenSslError(Errc::kMalformed, "PEM public key");
  return PublicKey(SharePkey(k));
}

std::size_t PublicKey::bits() const { return static_cast<std::size_t>(EVP_PKEY_get_bits(raw())); }

Result<Bytes> PublicKey::ToSpkiDer() const {
  unsigned char* out = nullptr;
  int len = i2d_PUBKEY(raw(), &out);
  if (len <= 0) return OpenSslError(Errc::kInternal, "i2d_PUBKEY");
  Bytes b(out, out + len);
  OPENSSL_free(out);
  return b;
}

bool PublicKey::Equals(const PublicKey& o) const {
  Result<Bytes> a = ToSpkiDer();
  Result<Bytes> b = o.ToSpkiDer();
  return a.ok() && b.ok() && *a == *b;
}

// ---- PrivateKey -----------------------------------------------------------

PrivateKey::PrivateKey(std::shared_ptr<evp_pkey_st> key)
    : key_(std::move(key)), type_(TypeOf(key_.get())) {}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  if (pem.find("ENCRYPTED") != std::string_view::npos) {
    return Error(Errc::kUnsupported, "PEM private key: encrypted keys are not supported");
  }
  MIPSEC_ASSIGN_OR_RETURN(BioPtr bio, MemBio(pem));
  // A null password callback with no user data would prompt on a terminal for
  // encrypted keys; the check above keeps that from happening.
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>(""));
  if (k == nullptr) return OpenSslError(Errc::kMalformed, "PEM private key");
  return PrivateKey(SharePkey(k));
}

std::size_t PrivateKey::bits() const {
  return static_cast<std::size_t>(EVP_PKEY_get_bits(raw()));
}

// ---- Certificate ----------------------------------------------------------

Result<Certificate> Certificate::FromDer(ByteSpan der) {
  if (der.empty()) return Error(Errc::kMalformed, "certificate: empty");
  if (!internal::FitsInt(der.size())) return Error(Errc::kMalformed, "certificate too long");
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr) return OpenSslError(Errc::kMalformed, "certificate DER");
  std::shared_ptr<x509_st> cert(x, [](X509* c) { X509_free(c); });
  if (p != der.data() + der.size()) {
    return Error(Errc::kMalformed, "certificate DER: trailing bytes");
  }
  return Certificate(std::move(cert), std::make_shared<const Bytes>(der.begin(), der.end()));
}

Result<std::vector<Certificate>> Certificate::AllFromPem(std::string_view pem) {
  MIPSEC_ASSIGN_OR_RETURN(BioPtr bio, MemBio(pem));
  std::vector<Certificate> out;
  for (;;) {
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (x == nullptr) break;
    std::shared_ptr<x509_st> cert(x, [](X509* c) { X509_free(c); });
    unsigned char* der = nullptr;
    int len = i2d_X509(x, &der);
    if (len <= 0) return OpenSslError(Errc::kInternal, "i2d_X509");
    auto bytes = std::make_shared<const Bytes>(der, der + len);
    OPENSSL_free(der);
    out.push_back(Certificate(std::move(cert), std::move(bytes)));
  }
  // The loop ends on "no start line" at the end of the text; anything else is
  // a broken block.
  unsigned long err = ERR_peek_last_error();
  ClearOpenSslErrors();
  const bool end_of_text =
      ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  if (err != 0 && !end_of_text) {
    return Error(Errc::kMalformed, "PEM certificate " + std::to_string(out.size() + 1) +
                                       ": does not parse");
  }
  if (out.empty()) return Error(Errc::kNotFound, "PEM: no CERTIFICATE block");
  return out;
}

Bytes Certificate::SubjectDer() const { return NameDer(X509_get_subject_name(raw())); }
Bytes Certificate::IssuerDer() const { return NameDer(X509_get_issuer_name(raw())); }

std::string Certificate::SubjectText() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return std::string();
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(raw()), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

Result<PublicKey> Certificate::public_key() const {
  EVP_PKEY* k = X509_get_pubkey(raw());  // takes a reference we own
  if (k == nullptr) return OpenSslError(Errc::kUnsupported, "certificate public key");
  return PublicKey(SharePkey(k));
}

std::vector<std::string> Certificate::DnsNames() const {
  std::vector<std::string> out;
  ForEachAltName(raw(), [&](GENERAL_NAME* n) {
    if (n->type == GEN_DNS) out.push_back(Ia5(n->d.dNSName));
  });
  return out;
}

std::vector<std::string> Certificate::EmailAddresses() const {
  std::vector<std::string> out;
  ForEachAltName(raw(), [&](GENERAL_NAME* n) {
    if (n->type == GEN_EMAIL) out.push_back(Ia5(n->d.rfc822Name));
  });
  return out;
}

std::vector<Bytes> Certificate::IpAddresses() const {
  std::vector<Bytes> out;
  ForEachAltName(raw(), [&](GENERAL_NAME* n) {
    if (n->type == GEN_IPADD) {
      const unsigned char* d = ASN1_STRING_get0_data(n->d.iPAddress);
      out.emplace_back(d, d + ASN1_STRING_length(n->d.iPAddress));
    }
  });
  return out;
}

bool Certificate::IsCa() const { return X509_check_ca(raw()) != 0; }

std::int64_t Certificate::NotBefore() const { return ToUnix(X509_get0_notBefore(raw())); }
std::int64_t Certificate::NotAfter() const { return ToUnix(X509_get0_notAfter(raw())); }

// ---- chain verification ---------------------------------------------------

namespace {
struct StoreDeleter {
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
};
struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};
struct StackDeleter {
  void operator()(STACK_OF(X509)* p) const { sk_X509_free(p); }  // does not free the certs
};
}  // namespace

Status VerifyCertificateChain(const Certificate& leaf, std::span<const Certificate> intermediates,
                              std::span<const Certificate> trust_anchors,
                              std::optional<std::int64_t> unix_time) {
  if (trust_anchors.empty()) {
    return Error(Errc::kInvalidArgument, "certificate chain: no trust anchors configured");
  }
  std::unique_ptr<X509_STORE, StoreDeleter> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  std::unique_ptr<STACK_OF(X509), StackDeleter> untrusted(sk_X509_new_null());
  if (!store || !ctx || !untrusted) return OpenSslError(Errc::kInternal, "X509_STORE_new");
  for (const Certificate& ca : trust_anchors) {
    if (X509_STORE_add_cert(store.get(), ca.raw()) != 1) {
      // A duplicate anchor is harmless.
      ClearOpenSslErrors();
    }
  }
  for (const Certificate& c : intermediates) {
    if (sk_X509_push(untrusted.get(), c.raw()) <= 0) {
      return OpenSslError(Errc::kInternal, "sk_X509_push");
    }
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.raw(), untrusted.get()) != 1) {
    return OpenSslError(Errc::kInternal, "X509_STORE_CTX_init");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // A configured CA need not be self-signed (an intermediate as anchor).
  unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT;
  if (unix_time.has_value()) {
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(*unix_time));
  } else {
    flags |= X509_V_FLAG_NO_CHECK_TIME;
  }
  X509_VERIFY_PARAM_set_flags(param, flags);
  int rc = X509_verify_cert(ctx.get());
  if (rc == 1) return Ok{};
  int err = X509_STORE_CTX_get_error(ctx.get());
  X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
  std::string detail = "certificate chain: ";
  detail += X509_verify_cert_error_string(err);
  if (bad != nullptr) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (bio) {
      X509_NAME_print_ex(bio.get(), X509_get_subject_name(bad), 0, XN_FLAG_RFC2253);
      char* data = nullptr;
      long len = BIO_get_mem_data(bio.get(), &data);
      if (len > 0) detail += " (at " + std::string(data, static_cast<std::size_t>(len)) + ")";
    }
  }
  ClearOpenSslErrors();
  return Error(Errc::kAuthFailed, std::move(detail));
}

}  // namespace mipsec::crypto

// Test-only PKI: fresh keys and X.509 certificates made with OpenSSL at test
// time, so no key or certificate file is committed (src/crypto and
// src/ikev2/crypto tests). Not part of any library.
#ifndef MIPSEC_CRYPTO_PKI_TEST_UTIL_H_
#define MIPSEC_CRYPTO_PKI_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "crypto/x509.h"

namespace mipsec::crypto::testing {

inline std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

// A new key as PKCS#8 PEM: RSA of `rsa_bits`, or EC on the curve of `type`.
inline std::string NewKeyPem(KeyType type, unsigned rsa_bits = 2048) {
  EVP_PKEY* k = nullptr;
  switch (type) {
    case KeyType::kRsa:
      k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{rsa_bits});
      break;
    case KeyType::kEcP256: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case KeyType::kEcP384: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
    case KeyType::kEcP521: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"); break;
    case KeyType::kOther: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
  }
  if (k == nullptr) {
    ADD_FAILURE() << "key generation failed";
    return std::string();
  }
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  std::string pem = BioText(bio);
  BIO_free(bio);
  EVP_PKEY_free(k);
  return pem;
}

inline PrivateKey NewKey(KeyType type, unsigned rsa_bits = 2048) {
  Result<PrivateKey> k = PrivateKey::FromPem(NewKeyPem(type, rsa_bits));
  if (!k.ok()) {
    ADD_FAILURE() << k.error().ToString();
    std::abort();
  }
  return *k;
}

struct CertSpec {
  std::string cn;
  std::string org = "mipsec test";
  std::vector<std::string> dns = {};
  std::vector<std::string> emails = {};
  std::vector<std::string> ips = {};  // dotted text
  bool ca = false;
  std::int64_t not_before = 1'600'000'000;  // 2020-09-13
  std::int64_t not_after = 4'000'000'000;   // 2096-10-02
  long serial = 1;
};

// A certificate for `subject_key` signed by `issuer_key` (whose certificate
// is `issuer`, or self-signed when issuer is null), as PEM.
inline std::string MakeCertPem(const CertSpec& spec, const PrivateKey& subject_key,
                               const Certificate* issuer, const PrivateKey& issuer_key) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), spec.serial);
  ASN1_TIME* nb = ASN1_TIME_set(nullptr, static_cast<time_t>(spec.not_before));
  ASN1_TIME* na = ASN1_TIME_set(nullptr, static_cast<time_t>(spec.not_after));
  X509_set1_notBefore(x, nb);
  X509_set1_notAfter(x, na);
  ASN1_TIME_free(nb);
  ASN1_TIME_free(na);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.org.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer->raw()) : name);
  X509_set_pubkey(x, subject_key.raw());
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->raw() : x, x, nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) {
      ADD_FAILURE() << "extension " << nid << " = " << value;
      return;
    }
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  };
  add(NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add(NID_key_usage, spec.ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add(NID_subject_key_identifier, "hash");
  add(NID_authority_key_identifier, "keyid:always");
  std::string san;
  for (const auto& d : spec.dns) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& e : spec.emails) san += (san.empty() ? "" : ",") + std::string("email:") + e;
  for (const auto& i : spec.ips) san += (san.empty() ? "" : ",") + std::string("IP:") + i;
  if (!san.empty()) add(NID_subject_alt_name, san);
  if (X509_sign(x, issuer_key.raw(), EVP_sha256()) <= 0) ADD_FAILURE() << "X509_sign";
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  std::string pem = BioText(bio);
  BIO_free(bio);
  X509_free(x);
  return pem;
}

inline Certificate MakeCert(const CertSpec& spec, const PrivateKey& subject_key,
                            const Certificate* issuer, const PrivateKey& issuer_key) {
  Result<std::vector<Certificate>> c =
      Certificate::AllFromPem(MakeCertPem(spec, subject_key, issuer, issuer_key));
  if (!c.ok() || c->size() != 1) {
    ADD_FAILURE() << "certificate generation failed";
    std::abort();
  }
  return (*c)[0];
}

}  // namespace mipsec::crypto::testing

#endif  // MIPSEC_CRYPTO_PKI_TEST_UTIL_H_

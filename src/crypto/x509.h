// X.509 certificates and asymmetric keys over OpenSSL 3, for IKEv2
// certificate authentication (RFC 7296 sections 2.15 and 3.6, RFC 7427).
//
// Everything here parses from bytes or text that the caller supplies; nothing
// reads files or clocks (configuration loaders read the PEM files, drivers pass
// the wall-clock time used for validity checks).
//
// The three value types share their OpenSSL object (reference-counted,
// immutable after parsing), so copies are cheap and may be read from several
// threads at once.
//
//   PublicKey   an RSA or EC public key (from a certificate or SPKI DER);
//   PrivateKey  an RSA or EC private key (from PEM; the OpenSSL key structure
//               clears itself when the last copy goes);
//   Certificate a parsed X.509 certificate plus its DER encoding.
#ifndef MIPSEC_CRYPTO_X509_H_
#define MIPSEC_CRYPTO_X509_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

struct evp_pkey_st;  // OpenSSL EVP_PKEY
struct x509_st;      // OpenSSL X509

namespace mipsec::crypto {

// Key algorithms mipsec signs and verifies with. EC keys on other curves and
// other algorithms (DSA, Ed25519, ...) parse as kOther and are refused by the
// signature layer.
enum class KeyType : std::uint8_t { kRsa, kEcP256, kEcP384, kEcP521, kOther };

// "RSA", "ECDSA-P256", "ECDSA-P384", "ECDSA-P521", "other".
std::string_view KeyTypeName(KeyType t);

class PublicKey {
 public:
  // From a DER SubjectPublicKeyInfo (RFC 5280 4.1.2.7). kMalformed if it does
  // not parse.
  static Result<PublicKey> FromSpkiDer(ByteSpan der);
  // From PEM "-----BEGIN PUBLIC KEY-----" text.
  static Result<PublicKey> FromPem(std::string_view pem);

  KeyType type() const { return type_; }
  // Modulus bits for RSA, field bits for EC.
  std::size_t bits() const;
  // The DER SubjectPublicKeyInfo.
  Result<Bytes> ToSpkiDer() const;
  // Same key (compares the SPKI encodings).
  bool Equals(const PublicKey& o) const;

  // For src/crypto internals (the signature layer). Never null.
  evp_pkey_st* raw() const { return key_.get(); }

 private:
  friend class Certificate;
  friend class PrivateKey;
  explicit PublicKey(std::shared_ptr<evp_pkey_st> key);
  std::shared_ptr<evp_pkey_st> key_;
  KeyType type_;
};

class PrivateKey {
 public:
  // From unencrypted PEM: "PRIVATE KEY" (PKCS#8), "RSA PRIVATE KEY" or
  // "EC PRIVATE KEY". Encrypted PEM is refused (kUnsupported): keys for a
  // daemon are protected by file permissions, not by a passphrase prompt.
  static Result<PrivateKey> FromPem(std::string_view pem);

  KeyType type() const { return type_; }
  std::size_t bits() const;
  // The matching public key.
  PublicKey public_key() const { return PublicKey(key_); }

  evp_pkey_st* raw() const { return key_.get(); }

 private:
  explicit PrivateKey(std::shared_ptr<evp_pkey_st> key);
  std::shared_ptr<evp_pkey_st> key_;
  KeyType type_;
};

class Certificate {
 public:
  // One DER-encoded certificate, as carried in an IKEv2 CERT payload with
  // encoding 4 (X.509 Certificate - Signature). kMalformed if it does not
  // parse or has trailing bytes.
  static Result<Certificate> FromDer(ByteSpan der);
  // Every "-----BEGIN CERTIFICATE-----" block of `pem`, in order.
  // kMalformed if a block does not parse, kNotFound if there is none.
  static Result<std::vector<Certificate>> AllFromPem(std::string_view pem);

  // The DER encoding (what goes into a CERT payload).
  const Bytes& der() const { return *der_; }
  // DER of the subject and issuer Names (the subject DER is what an
  // ID_DER_ASN1_DN identification carries, RFC 7296 3.5).
  Bytes SubjectDer() const;
  Bytes IssuerDer() const;
  // RFC 2253 text of the subject, for logs and errors ("CN=gw,O=example").
  std::string SubjectText() const;

  // The subject public key; kUnsupported if OpenSSL cannot use its algorithm.
  Result<PublicKey> public_key() const;

  // subjectAltName entries (RFC 5280 4.2.1.6): dNSName, rfc822Name and
  // iPAddress (4 or 16 bytes). Empty when the extension is absent.
  std::vector<std::string> DnsNames() const;
  std::vector<std::string> EmailAddresses() const;
  std::vector<Bytes> IpAddresses() const;

  // basicConstraints cA is set.
  bool IsCa() const;
  // Validity (RFC 5280 4.1.2.5) as seconds since the Unix epoch.
  std::int64_t NotBefore() const;
  std::int64_t NotAfter() const;

  bool operator==(const Certificate& o) const { return der() == o.der(); }

  x509_st* raw() const { return cert_.get(); }

 private:
  Certificate(std::shared_ptr<x509_st> cert, std::shared_ptr<const Bytes> der)
      : cert_(std::move(cert)), der_(std::move(der)) {}
  std::shared_ptr<x509_st> cert_;
  std::shared_ptr<const Bytes> der_;
};

// Verifies that `leaf` chains to one of `trust_anchors` (self-signed or not:
// a configured CA certificate is trusted as given), possibly through some of
// `intermediates` (for example further CERT payloads), checking every
// signature, the CA and path-length constraints and key usage for signing
// certificates (RFC 5280 6.1, as OpenSSL's X509_verify_cert does).
//
// `unix_time` is the wall-clock time (seconds since the Unix epoch) at which
// the validity periods must hold; nullopt skips the validity-period check
// (for tests and for callers that have no trustworthy wall clock).
//
// Ok, or kAuthFailed with OpenSSL's reason ("certificate has expired",
// "unable to get local issuer certificate", ...) and the subject concerned.
// kInvalidArgument if `trust_anchors` is empty.
Status VerifyCertificateChain(const Certificate& leaf, std::span<const Certificate> intermediates,
                              std::span<const Certificate> trust_anchors,
                              std::optional<std::int64_t> unix_time);

}  // namespace mipsec::crypto

#endif  // MIPSEC_CRYPTO_X509_H_

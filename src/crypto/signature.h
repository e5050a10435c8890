// Digital signatures with RSA (RSASSA-PKCS1-v1_5 and RSASSA-PSS) and ECDSA
// (P-256, P-384, P-521) over OpenSSL 3, plus the encodings IKEv2 needs:
// the PKIX AlgorithmIdentifier that RFC 7427 puts in front of a signature,
// and the raw r|s ECDSA form of RFC 4754.
//
// Sign() draws its randomness (ECDSA k, PSS salt) from OpenSSL's DRBG, like
// KeyExchange::Generate(): signatures are not reproducible, and that does not
// affect determinism of the protocol cores (a signature is checked, never
// compared).
#ifndef MIPSEC_CRYPTO_SIGNATURE_H_
#define MIPSEC_CRYPTO_SIGNATURE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "crypto/hash.h"
#include "crypto/x509.h"

namespace mipsec::crypto {

enum class SignatureScheme : std::uint8_t {
  kRsaPkcs1Sha1,  // legacy only (RFC 8247 3.2: SHA-1 signatures are deprecated)
  kRsaPkcs1Sha256,
  kRsaPkcs1Sha384,
  kRsaPkcs1Sha512,
  kRsaPssSha256,  // MGF1 with the same hash, salt length = hash length
  kRsaPssSha384,
  kRsaPssSha512,
  kEcdsaSha256,
  kEcdsaSha384,
  kEcdsaSha512,
};

HashAlg SchemeHash(SignatureScheme s);
bool SchemeIsRsa(SignatureScheme s);
bool SchemeIsEcdsa(SignatureScheme s);
// "rsa-pkcs1-sha256", "rsa-pss-sha384", "ecdsa-sha256", ...
std::string_view SchemeName(SignatureScheme s);
// RSA schemes need an RSA key; ECDSA schemes any supported EC key (ECDSA with
// any hash on any curve is valid, RFC 7427 leaves the pairing to policy).
bool SchemeFitsKey(SignatureScheme s, KeyType key);

// Signs `message` (the scheme hashes it). ECDSA signatures are returned in
// their DER form (ECDSA-Sig-Value, RFC 3279 2.2.3) as RFC 7427 carries them.
// kInvalidArgument if the scheme does not fit the key.
Result<Bytes> Sign(const PrivateKey& key, SignatureScheme scheme, ByteSpan message);

// Ok if `signature` is a valid signature of `message`; kAuthFailed if not
// (including a malformed signature); kInvalidArgument if the scheme does not
// fit the key. ECDSA takes DER. RSA-PSS accepts any salt length the
// signature carries (RFC 8017 9.1.2 recovers it).
Status Verify(const PublicKey& key, SignatureScheme scheme, ByteSpan message, ByteSpan signature);

// ECDSA signature format conversions. Raw form is r | s, each left-padded to
// `field_size` bytes (32, 48, 66 for P-256/384/521; RFC 4754 7).
// kMalformed if the input is not a valid encoding or does not fit.
Result<Bytes> EcdsaDerToRaw(ByteSpan der, std::size_t field_size);
Result<Bytes> EcdsaRawToDer(ByteSpan raw);
// 32, 48, 66 for the EC key types, 0 otherwise.
std::size_t EcFieldSize(KeyType key);

// The DER AlgorithmIdentifier for a scheme (RFC 7427 3 and Appendix A:
// parameters NULL for PKCS#1 v1.5, absent for ECDSA, RSASSA-PSS-params with
// hash, MGF1 with the same hash, salt length = hash length, for PSS).
Bytes AlgorithmIdentifierDer(SignatureScheme s);
// The scheme an AlgorithmIdentifier names. Parses the DER (not a byte
// comparison), so PKCS#1 with absent instead of NULL parameters, and PSS
// with any salt length, are understood. PSS must use MGF1 with the same hash
// as the message hash and trailer field 1. kUnsupported for other
// algorithms, kMalformed if the DER does not parse or has trailing bytes.
Result<SignatureScheme> SchemeFromAlgorithmIdentifier(ByteSpan der);

}  // namespace mipsec::crypto

#endif  // MIPSEC_CRYPTO_SIGNATURE_H_

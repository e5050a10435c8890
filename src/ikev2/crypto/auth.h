// IKE_AUTH authentication (RFC 7296 2.15): the octets each side signs or
// MACs, PSK authentication, and signature authentication with the classic
// methods (1: RSA PKCS#1 v1.5 with SHA-1; 9/10/11: ECDSA of RFC 4754) and
// RFC 7427 Digital Signature (14), plus SIGNATURE_HASH_ALGORITHMS (RFC 7427 4).
//
// Call order for one side (the initiator; the responder is symmetric with
// its own message, the initiator's nonce and SK_pr):
//   octets = SignedOctets(IKE_SA_INIT request as sent, Nr, prf, SK_pi, IDi body)
//   AUTH   = PskAuthData(prf, psk, octets)  or  SignAuth(key, octets, ...)
// and to check the peer: the same octets from the peer's view, then
// VerifyPskAuth() or VerifySignatureAuth(), then (certificates) the chain
// (crypto::VerifyCertificateChain) and the identity (identity.h).
#ifndef MIPSEC_IKEV2_CRYPTO_AUTH_H_
#define MIPSEC_IKEV2_CRYPTO_AUTH_H_

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"
#include "crypto/signature.h"
#include "crypto/x509.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

// <SignedOctets> = RealMessage | NonceData | prf(SK_p, RestOfIDPayload)
// (RFC 7296 2.15). `real_message` is the whole first message of the IKE SA
// that this side sent (its IKE_SA_INIT request or response, exactly as on the
// wire, header included); `peer_nonce` the Nonce Data the peer sent; `sk_p`
// this side's SK_pi/SK_pr; `id_payload_body` the ID payload without its
// 4-byte generic header (ID Type, 3 RESERVED octets, Identification Data).
Result<Bytes> SignedOctets(ByteSpan real_message, ByteSpan peer_nonce, PrfId prf,
                           const SecretBytes& sk_p, ByteSpan id_payload_body);

// AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
// (RFC 7296 2.15; the pad is the 17 ASCII octets without a terminator).
// kInvalidArgument for an empty secret.
Result<Bytes> PskAuthData(PrfId prf, const SecretBytes& psk, ByteSpan signed_octets);
// Constant-time comparison; kAuthFailed on mismatch.
Status VerifyPskAuth(PrfId prf, const SecretBytes& psk, ByteSpan signed_octets,
                     ByteSpan auth_data);

// ---- SIGNATURE_HASH_ALGORITHMS (RFC 7427 4) -------------------------------

// What mipsec announces: SHA2-256, SHA2-384, SHA2-512 (RFC 8247 3.2: SHA-1
// MUST NOT be used in Digital Signature).
std::span<const SigHashAlg> SupportedSignatureHashes();
// Notify data: a list of 2-octet hash algorithm identifiers.
Bytes EncodeSignatureHashAlgorithms(std::span<const SigHashAlg> algs);
// kMalformed for an odd length or no entries; unknown values are kept.
Result<std::vector<SigHashAlg>> DecodeSignatureHashAlgorithms(ByteSpan notify_data);

// ---- signature authentication ---------------------------------------------

struct AuthPayloadData {
  AuthMethod method;
  Bytes data;  // Authentication Data of the AUTH payload
};

struct SignOptions {
  // RSA only: sign RSASSA-PSS instead of PKCS#1 v1.5 under method 14.
  bool rsa_pss = false;
};

// The scheme to sign with under method 14 given the hashes the peer announced:
// for ECDSA the hash matching the curve (P-256/SHA-256, P-384/SHA-384,
// P-521/SHA-512) if announced, else the first of SHA-256/384/512 announced;
// for RSA the first of SHA-256/384/512 announced. kUnsupported if none is.
Result<crypto::SignatureScheme> SelectSignatureScheme(crypto::KeyType key,
                                                      std::span<const SigHashAlg> peer_hashes,
                                                      const SignOptions& options);

// Signs `signed_octets`. With `peer_hashes` (both sides sent
// SIGNATURE_HASH_ALGORITHMS) the method is 14: one ASN.1 length octet, the
// AlgorithmIdentifier, the signature (RFC 7427 3). Without, the classic
// method for the key: RSA -> 1 (PKCS#1 v1.5, SHA-1; RFC 7296 3.8), P-256 -> 9,
// P-384 -> 10, P-521 -> 11 (raw r|s, RFC 4754). kUnsupported for other keys,
// and for RSA keys below kMinRsaBits.
Result<AuthPayloadData> SignAuth(const crypto::PrivateKey& key, ByteSpan signed_octets,
                                 std::optional<std::span<const SigHashAlg>> peer_hashes,
                                 const SignOptions& options = {});

// RFC 8247 3 / 4.1: RSA keys must have at least 2048 bits.
constexpr std::size_t kMinRsaBits = 2048;

struct VerifyPolicy {
  // Accept method 1 (RSA with SHA-1). RFC 8247 keeps method 1 a MUST for
  // interoperability; SHA-1 under method 14 is always refused (RFC 8247 3.2).
  bool allow_rsa_sha1_method = true;
  std::size_t min_rsa_bits = kMinRsaBits;
};

// Verifies the peer's AUTH payload against its public key (from its verified
// certificate). Method 14: the AlgorithmIdentifier must name a scheme that
// fits the key and a hash in SupportedSignatureHashes() (RFC 7427 4: the
// signer picks from our list). Methods 9/10/11 require the matching curve.
// kAuthFailed for a signature that does not verify or a key/method mismatch,
// kMalformed for unparsable data, kUnsupported for other methods (2 is PSK:
// use VerifyPskAuth).
Status VerifySignatureAuth(AuthMethod method, ByteSpan auth_data, const crypto::PublicKey& key,
                           ByteSpan signed_octets, const VerifyPolicy& policy = {});

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CRYPTO_AUTH_H_

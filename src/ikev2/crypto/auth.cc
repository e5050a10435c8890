#include "ikev2/crypto/auth.h"

#include <algorithm>
#include <string>

#include "common/wire/reader.h"
#include "crypto/ct_compare.h"
#include "ikev2/crypto/prf.h"

namespace mipsec::ikev2 {

using crypto::KeyType;
using crypto::SignatureScheme;

namespace {

constexpr std::string_view kKeyPad = "Key Pad for IKEv2";  // RFC 7296 2.15

constexpr SigHashAlg kSupported[] = {SigHashAlg::kSha2_256, SigHashAlg::kSha2_384,
                                     SigHashAlg::kSha2_512};

bool Has(std::span<const SigHashAlg> list, SigHashAlg h) {
  return std::find(list.begin(), list.end(), h) != list.end();
}

SigHashAlg SigHashOf(crypto::HashAlg h) {
  switch (h) {
    case crypto::HashAlg::kSha1: return SigHashAlg::kSha1;
    case crypto::HashAlg::kSha384: return SigHashAlg::kSha2_384;
    case crypto::HashAlg::kSha512: return SigHashAlg::kSha2_512;
    default: return SigHashAlg::kSha2_256;
  }
}

SignatureScheme SchemeFor(KeyType key, SigHashAlg h, bool pss) {
  if (key == KeyType::kRsa) {
    switch (h) {
      case SigHashAlg::kSha2_384:
        return pss ? SignatureScheme::kRsaPssSha384 : SignatureScheme::kRsaPkcs1Sha384;
      case SigHashAlg::kSha2_512:
        return pss ? SignatureScheme::kRsaPssSha512 : SignatureScheme::kRsaPkcs1Sha512;
      default: return pss ? SignatureScheme::kRsaPssSha256 : SignatureScheme::kRsaPkcs1Sha256;
    }
  }
  switch (h) {
    case SigHashAlg::kSha2_384: return SignatureScheme::kEcdsaSha384;
    case SigHashAlg::kSha2_512: return SignatureScheme::kEcdsaSha512;
    default: return SignatureScheme::kEcdsaSha256;
  }
}

// RFC 4754: the curve and hash of methods 9, 10, 11.
struct ClassicEcdsa {
  AuthMethod method;
  KeyType key;
  SignatureScheme scheme;
};
constexpr ClassicEcdsa kClassicEcdsa[] = {
    {AuthMethod::kEcdsaSha256P256, KeyType::kEcP256, SignatureScheme::kEcdsaSha256},
    {AuthMethod::kEcdsaSha384P384, KeyType::kEcP384, SignatureScheme::kEcdsaSha384},
    {AuthMethod::kEcdsaSha512P521, KeyType::kEcP521, SignatureScheme::kEcdsaSha512},
};

Status CheckRsaSize(const crypto::PublicKey& key, std::size_t min_bits) {
  if (key.type() == KeyType::kRsa && key.bits() < min_bits) {
    return Error(Errc::kAuthFailed, "RSA key of " + std::to_string(key.bits()) +
                                        " bits, at least " + std::to_string(min_bits) +
                                        " required (RFC 8247)");
  }
  return Ok{};
}

std::string MethodNum(AuthMethod m) { return std::to_string(static_cast<int>(m)); }

}  // namespace

Result<Bytes> SignedOctets(ByteSpan real_message, ByteSpan peer_nonce, PrfId prf,
                           const SecretBytes& sk_p, ByteSpan id_payload_body) {
  if (id_payload_body.size() < 4) {
    return Error(Errc::kInvalidArgument, "SignedOctets: ID payload body shorter than 4 octets");
  }
  // RFC 7296 2.15: MACedIDFor{I,R} = prf(SK_p{i,r}, RestOf{Init,Resp}IDPayload).
  MIPSEC_ASSIGN_OR_RETURN(Bytes maced_id, PrfPublic(prf, sk_p, id_payload_body));
  Bytes out;
  out.reserve(real_message.size() + peer_nonce.size() + maced_id.size());
  out.insert(out.end(), real_message.begin(), real_message.end());
  out.insert(out.end(), peer_nonce.begin(), peer_nonce.end());
  out.insert(out.end(), maced_id.begin(), maced_id.end());
  return out;
}

Result<Bytes> PskAuthData(PrfId prf, const SecretBytes& psk, ByteSpan signed_octets) {
  if (psk.empty()) return Error(Errc::kInvalidArgument, "PSK auth: empty shared secret");
  MIPSEC_ASSIGN_OR_RETURN(SecretBytes padded, Prf(prf, psk, AsBytes(kKeyPad)));
  return PrfPublic(prf, padded, signed_octets);
}

Status VerifyPskAuth(PrfId prf, const SecretBytes& psk, ByteSpan signed_octets,
                     ByteSpan auth_data) {
  MIPSEC_ASSIGN_OR_RETURN(Bytes expected, PskAuthData(prf, psk, signed_octets));
  if (!crypto::ConstantTimeEqual(expected, auth_data)) {
    return Error(Errc::kAuthFailed, "AUTH (shared key) does not match");
  }
  return Ok{};
}

std::span<const SigHashAlg> SupportedSignatureHashes() { return kSupported; }

Bytes EncodeSignatureHashAlgorithms(std::span<const SigHashAlg> algs) {
  Bytes out;
  out.reserve(2 * algs.size());
  for (SigHashAlg a : algs) {
    const auto v = static_cast<std::uint16_t>(a);
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
  }
  return out;
}

Result<std::vector<SigHashAlg>> DecodeSignatureHashAlgorithms(ByteSpan notify_data) {
  if (notify_data.empty() || notify_data.size() % 2 != 0) {
    return Error(Errc::kMalformed, "SIGNATURE_HASH_ALGORITHMS: length " +
                                       std::to_string(notify_data.size()) +
                                       " is not a non-zero multiple of 2");
  }
  std::vector<SigHashAlg> out;
  wire::Reader r(notify_data);
  while (!r.empty()) {
    MIPSEC_ASSIGN_OR_RETURN(std::uint16_t v, r.U16("hash algorithm"));
    out.push_back(static_cast<SigHashAlg>(v));
  }
  return out;
}

Result<SignatureScheme> SelectSignatureScheme(KeyType key, std::span<const SigHashAlg> peer_hashes,
                                              const SignOptions& options) {
  if (key == KeyType::kOther) return Error(Errc::kUnsupported, "signature: unsupported key type");
  // RFC 7427 3: pick one the peer sent; ECDSA prefers the hash matching the
  // curve's strength.
  std::vector<SigHashAlg> order;
  switch (key) {
    case KeyType::kEcP384: order = {SigHashAlg::kSha2_384, SigHashAlg::kSha2_512,
                                    SigHashAlg::kSha2_256}; break;
    case KeyType::kEcP521: order = {SigHashAlg::kSha2_512, SigHashAlg::kSha2_384,
                                    SigHashAlg::kSha2_256}; break;
    default: order = {SigHashAlg::kSha2_256, SigHashAlg::kSha2_384, SigHashAlg::kSha2_512};
  }
  for (SigHashAlg h : order) {
    if (Has(peer_hashes, h)) return SchemeFor(key, h, options.rsa_pss);
  }
  return Error(Errc::kUnsupported,
               "signature: the peer's SIGNATURE_HASH_ALGORITHMS has no SHA-2 hash we support");
}

Result<AuthPayloadData> SignAuth(const crypto::PrivateKey& key, ByteSpan signed_octets,
                                 std::optional<std::span<const SigHashAlg>> peer_hashes,
                                 const SignOptions& options) {
  const KeyType type = key.type();
  if (type == KeyType::kOther) {
    return Error(Errc::kUnsupported, "signature auth: key type not supported");
  }
  if (type == KeyType::kRsa && key.bits() < kMinRsaBits) {
    return Error(Errc::kUnsupported, "signature auth: RSA key shorter than 2048 bits");
  }
  if (peer_hashes.has_value()) {
    MIPSEC_ASSIGN_OR_RETURN(SignatureScheme scheme,
                            SelectSignatureScheme(type, *peer_hashes, options));
    MIPSEC_ASSIGN_OR_RETURN(Bytes sig, crypto::Sign(key, scheme, signed_octets));
    const Bytes alg = crypto::AlgorithmIdentifierDer(scheme);
    AuthPayloadData out{AuthMethod::kDigitalSignature, Bytes()};
    out.data.reserve(1 + alg.size() + sig.size());
    out.data.push_back(static_cast<std::uint8_t>(alg.size()));  // RFC 7427 3
    out.data.insert(out.data.end(), alg.begin(), alg.end());
    out.data.insert(out.data.end(), sig.begin(), sig.end());
    return out;
  }
  if (type == KeyType::kRsa) {
    // RFC 7296 3.8 method 1: RSASSA-PKCS1-v1_5 (with SHA-1, as RFC 4306 and
    // every implementation of method 1 use it).
    MIPSEC_ASSIGN_OR_RETURN(Bytes sig,
                            crypto::Sign(key, SignatureScheme::kRsaPkcs1Sha1, signed_octets));
    return AuthPayloadData{AuthMethod::kRsaSig, std::move(sig)};
  }
  for (const ClassicEcdsa& c : kClassicEcdsa) {
    if (c.key != type) continue;
    MIPSEC_ASSIGN_OR_RETURN(Bytes der, crypto::Sign(key, c.scheme, signed_octets));
    // RFC 4754 7: r | s, each the size of the field.
    MIPSEC_ASSIGN_OR_RETURN(Bytes raw, crypto::EcdsaDerToRaw(der, crypto::EcFieldSize(type)));
    return AuthPayloadData{c.method, std::move(raw)};
  }
  return Error(Errc::kUnsupported, "signature auth: key type not supported");
}

Status VerifySignatureAuth(AuthMethod method, ByteSpan auth_data, const crypto::PublicKey& key,
                           ByteSpan signed_octets, const VerifyPolicy& policy) {
  MIPSEC_TRY(CheckRsaSize(key, policy.min_rsa_bits));
  switch (method) {
    case AuthMethod::kDigitalSignature: {
      // RFC 7427 3: ASN.1 Length | AlgorithmIdentifier | Signature Value.
      wire::Reader r(auth_data);
      MIPSEC_ASSIGN_OR_RETURN(std::uint8_t alg_len, r.U8("AUTH ASN.1 Length"));
      MIPSEC_ASSIGN_OR_RETURN(ByteSpan alg, r.Span(alg_len, "AUTH AlgorithmIdentifier"));
      MIPSEC_ASSIGN_OR_RETURN(SignatureScheme scheme, crypto::SchemeFromAlgorithmIdentifier(alg));
      if (!Has(kSupported, SigHashOf(crypto::SchemeHash(scheme)))) {
        // RFC 8247 3.2: SHA-1 MUST NOT be used here; RFC 7427 4: and the
        // peer must pick one of the hashes we announced.
        return Error(Errc::kAuthFailed, "AUTH: signature hash of " +
                                            std::string(crypto::SchemeName(scheme)) +
                                            " was not offered");
      }
      if (!crypto::SchemeFitsKey(scheme, key.type())) {
        return Error(Errc::kAuthFailed, "AUTH: " + std::string(crypto::SchemeName(scheme)) +
                                            " does not fit the peer's " +
                                            std::string(crypto::KeyTypeName(key.type())) + " key");
      }
      return crypto::Verify(key, scheme, signed_octets, r.Rest());
    }
    case AuthMethod::kRsaSig: {
      if (key.type() != KeyType::kRsa) {
        return Error(Errc::kAuthFailed, "AUTH method 1 (RSA) with a non-RSA key");
      }
      if (!policy.allow_rsa_sha1_method) {
        return Error(Errc::kAuthFailed, "AUTH method 1 (RSA with SHA-1) refused by policy");
      }
      return crypto::Verify(key, SignatureScheme::kRsaPkcs1Sha1, signed_octets, auth_data);
    }
    case AuthMethod::kEcdsaSha256P256:
    case AuthMethod::kEcdsaSha384P384:
    case AuthMethod::kEcdsaSha512P521: {
      for (const ClassicEcdsa& c : kClassicEcdsa) {
        if (c.method != method) continue;
        if (key.type() != c.key) {
          return Error(Errc::kAuthFailed, "AUTH method " + MethodNum(method) + " needs a " +
                                              std::string(crypto::KeyTypeName(c.key)) +
                                              " key, the peer has " +
                                              std::string(crypto::KeyTypeName(key.type())));
        }
        const std::size_t field = crypto::EcFieldSize(c.key);
        if (auth_data.size() != 2 * field) {
          return Error(Errc::kAuthFailed, "AUTH method " + MethodNum(method) + ": signature is " +
                                              std::to_string(auth_data.size()) + " octets, not " +
                                              std::to_string(2 * field));
        }
        MIPSEC_ASSIGN_OR_RETURN(Bytes der, crypto::EcdsaRawToDer(auth_data));
        return crypto::Verify(key, c.scheme, signed_octets, der);
      }
      break;
    }
    default: break;
  }
  return Error(Errc::kUnsupported, "AUTH method " + MethodNum(method) + " not supported here");
}

}  // namespace mipsec::ikev2

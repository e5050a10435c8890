// IKEv2 numbers from the IANA registries (RFC 7296 section 3 and the RFCs
// that extend it). Shared by the codec, the crypto provider and the SA layer.
// Values are the on-the-wire numbers; the enums are open (a received value
// outside the named ones is kept as is and handled by the caller).
#ifndef MIPSEC_IKEV2_CODEC_IDS_H_
#define MIPSEC_IKEV2_CODEC_IDS_H_

#include <cstdint>
#include <string>

namespace mipsec::ikev2 {

// RFC 7296 3.1.
enum class ExchangeType : std::uint8_t {
  kIkeSaInit = 34,
  kIkeAuth = 35,
  kCreateChildSa = 36,
  kInformational = 37,
};

// RFC 7296 3.2; SKF is RFC 7383 2.5.
enum class PayloadType : std::uint8_t {
  kNone = 0,
  kSa = 33,
  kKe = 34,
  kIdi = 35,
  kIdr = 36,
  kCert = 37,
  kCertReq = 38,
  kAuth = 39,
  kNonce = 40,
  kNotify = 41,
  kDelete = 42,
  kVendorId = 43,
  kTsi = 44,
  kTsr = 45,
  kSk = 46,
  kCp = 47,
  kEap = 48,
  kSkf = 53,
};

// RFC 7296 3.3.1 (Protocol ID in proposals, notifies and deletes).
enum class ProtocolId : std::uint8_t { kNone = 0, kIke = 1, kAh = 2, kEsp = 3 };

// RFC 7296 3.3.2.
enum class TransformType : std::uint8_t {
  kEncr = 1,
  kPrf = 2,
  kInteg = 3,
  kDh = 4,  // "Key Exchange Method" in later registries
  kEsn = 5,
};

// Transform type 1 (IANA "Transform Type 1 - Encryption Algorithm IDs").
enum class EncrId : std::uint16_t {
  kDes3 = 3,
  kNull = 11,
  kAesCbc = 12,  // RFC 3602; key length attribute required
  kAesCtr = 13,
  kAesGcm8 = 18,  // RFC 4106 / RFC 5282
  kAesGcm12 = 19,
  kAesGcm16 = 20,
  kChaCha20Poly1305 = 28,  // RFC 7634
};

// Transform type 2.
enum class PrfId : std::uint16_t {
  kHmacMd5 = 1,
  kHmacSha1 = 2,
  kAes128Xcbc = 4,
  kHmacSha2_256 = 5,  // RFC 4868
  kHmacSha2_384 = 6,
  kHmacSha2_512 = 7,
};

// Transform type 3.
enum class IntegId : std::uint16_t {
  kNone = 0,
  kHmacMd5_96 = 1,
  kHmacSha1_96 = 2,
  kAesXcbc96 = 5,
  kHmacSha2_256_128 = 12,  // RFC 4868
  kHmacSha2_384_192 = 13,
  kHmacSha2_512_256 = 14,
};

// Transform type 4 (Diffie-Hellman group numbers).
enum class DhId : std::uint16_t {
  kNone = 0,
  kModp1024 = 2,
  kModp1536 = 5,
  kModp2048 = 14,
  kModp3072 = 15,
  kModp4096 = 16,
  kModp6144 = 17,
  kModp8192 = 18,
  kEcp256 = 19,  // RFC 5903
  kEcp384 = 20,
  kEcp521 = 21,
  kCurve25519 = 31,  // RFC 8031
  kCurve448 = 32,
};

// Transform type 5.
enum class EsnId : std::uint16_t { kNoEsn = 0, kEsn = 1 };

// RFC 7296 3.3.5: the only transform attribute defined.
constexpr std::uint16_t kAttrKeyLength = 14;

// RFC 7296 3.8; 14 is RFC 7427 Digital Signature.
enum class AuthMethod : std::uint8_t {
  kRsaSig = 1,
  kSharedKeyMic = 2,
  kDssSig = 3,
  kEcdsaSha256P256 = 9,  // RFC 4754
  kEcdsaSha384P384 = 10,
  kEcdsaSha512P521 = 11,
  kDigitalSignature = 14,  // RFC 7427
};

// RFC 7296 3.5.
enum class IdType : std::uint8_t {
  kIpv4Addr = 1,
  kFqdn = 2,
  kRfc822Addr = 3,
  kIpv6Addr = 5,
  kDerAsn1Dn = 9,
  kDerAsn1Gn = 10,
  kKeyId = 11,
};

// RFC 7296 3.6 (Certificate Encoding).
enum class CertEncoding : std::uint8_t {
  kX509Signature = 4,
  kRawRsaKey = 11,
  kHashUrlX509 = 12,
  kHashUrlBundle = 13,
};

// RFC 7296 3.10.1 error types (< 16384) and status types (>= 16384), plus
// RFC 4555 (MOBIKE), RFC 7383 (fragmentation) and RFC 7427.
enum class NotifyType : std::uint16_t {
  kUnsupportedCriticalPayload = 1,
  kInvalidIkeSpi = 4,
  kInvalidMajorVersion = 5,
  kInvalidSyntax = 7,
  kInvalidMessageId = 9,
  kInvalidSpi = 11,
  kNoProposalChosen = 14,
  kInvalidKePayload = 17,
  kAuthenticationFailed = 24,
  kSinglePairRequired = 34,
  kNoAdditionalSas = 35,
  kInternalAddressFailure = 36,
  kFailedCpRequired = 37,
  kTsUnacceptable = 38,
  kInvalidSelectors = 39,
  kUnacceptableAddresses = 40,  // RFC 4555
  kUnexpectedNatDetected = 41,  // RFC 4555
  kTemporaryFailure = 43,
  kChildSaNotFound = 44,

  kInitialContact = 16384,
  kSetWindowSize = 16385,
  kAdditionalTsPossible = 16386,
  kIpcompSupported = 16387,
  kNatDetectionSourceIp = 16388,
  kNatDetectionDestinationIp = 16389,
  kCookie = 16390,
  kUseTransportMode = 16391,
  kHttpCertLookupSupported = 16392,
  kRekeySa = 16393,
  kEspTfcPaddingNotSupported = 16394,
  kNonFirstFragmentsAlso = 16395,
  kMobikeSupported = 16396,              // RFC 4555
  kAdditionalIp4Address = 16397,         // RFC 4555
  kAdditionalIp6Address = 16398,         // RFC 4555
  kNoAdditionalAddresses = 16399,        // RFC 4555
  kUpdateSaAddresses = 16400,            // RFC 4555
  kCookie2 = 16401,                      // RFC 4555
  kNoNatsAllowed = 16402,                // RFC 4555
  kAuthLifetime = 16403,                 // RFC 4478
  kRedirectSupported = 16406,            // RFC 5685
  kIkev2FragmentationSupported = 16430,  // RFC 7383
  kSignatureHashAlgorithms = 16431,      // RFC 7427
};

// Notify types below this value are errors (RFC 7296 3.10.1).
constexpr std::uint16_t kFirstStatusNotify = 16384;

// RFC 7296 3.15.
enum class CfgType : std::uint8_t {
  kRequest = 1,
  kReply = 2,
  kSet = 3,
  kAck = 4,
};

// RFC 7296 3.15.1.
enum class CfgAttr : std::uint16_t {
  kInternalIp4Address = 1,
  kInternalIp4Netmask = 2,
  kInternalIp4Dns = 3,
  kInternalIp4Nbns = 4,
  kInternalIp4Dhcp = 6,
  kApplicationVersion = 7,
  kInternalIp6Address = 8,
  kInternalIp6Dns = 10,
  kInternalIp6Dhcp = 12,
  kInternalIp4Subnet = 13,
  kSupportedAttributes = 14,
  kInternalIp6Subnet = 15,
};

// RFC 7296 3.13.1.
enum class TsType : std::uint8_t { kIpv4AddrRange = 7, kIpv6AddrRange = 8 };

// RFC 7427 3: hash algorithms in SIGNATURE_HASH_ALGORITHMS (RFC 7427 / IANA).
enum class SigHashAlg : std::uint16_t {
  kSha1 = 1,
  kSha2_256 = 2,
  kSha2_384 = 3,
  kSha2_512 = 4,
};

// Names for logs and error details: the IANA mnemonic ("IKE_SA_INIT",
// "NAT_DETECTION_SOURCE_IP", "SA", ...) or, for a value outside the named
// ones, the kind and the number ("PAYLOAD(99)"). Defined in ids.cc.
std::string ExchangeTypeName(ExchangeType t);
std::string PayloadTypeName(PayloadType t);
std::string ProtocolIdName(ProtocolId p);
std::string TransformTypeName(TransformType t);
std::string NotifyTypeName(NotifyType t);
std::string CfgAttrName(CfgAttr a);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_IDS_H_

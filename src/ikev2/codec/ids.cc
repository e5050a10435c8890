#include "ikev2/codec/ids.h"

#include <string>

namespace mipsec::ikev2 {
namespace {

std::string Unknown(const char* kind, unsigned v) {
  return std::string(kind) + "(" + std::to_string(v) + ")";
}

}  // namespace

std::string ExchangeTypeName(ExchangeType t) {
  switch (t) {
    case ExchangeType::kIkeSaInit:
      return "IKE_SA_INIT";
    case ExchangeType::kIkeAuth:
      return "IKE_AUTH";
    case ExchangeType::kCreateChildSa:
      return "CREATE_CHILD_SA";
    case ExchangeType::kInformational:
      return "INFORMATIONAL";
  }
  return Unknown("EXCHANGE", static_cast<unsigned>(t));
}

std::string PayloadTypeName(PayloadType t) {
  switch (t) {
    case PayloadType::kNone:
      return "NONE";
    case PayloadType::kSa:
      return "SA";
    case PayloadType::kKe:
      return "KE";
    case PayloadType::kIdi:
      return "IDi";
    case PayloadType::kIdr:
      return "IDr";
    case PayloadType::kCert:
      return "CERT";
    case PayloadType::kCertReq:
      return "CERTREQ";
    case PayloadType::kAuth:
      return "AUTH";
    case PayloadType::kNonce:
      return "No";
    case PayloadType::kNotify:
      return "N";
    case PayloadType::kDelete:
      return "D";
    case PayloadType::kVendorId:
      return "V";
    case PayloadType::kTsi:
      return "TSi";
    case PayloadType::kTsr:
      return "TSr";
    case PayloadType::kSk:
      return "SK";
    case PayloadType::kCp:
      return "CP";
    case PayloadType::kEap:
      return "EAP";
    case PayloadType::kSkf:
      return "SKF";
  }
  return Unknown("PAYLOAD", static_cast<unsigned>(t));
}

std::string ProtocolIdName(ProtocolId p) {
  switch (p) {
    case ProtocolId::kNone:
      return "NONE";
    case ProtocolId::kIke:
      return "IKE";
    case ProtocolId::kAh:
      return "AH";
    case ProtocolId::kEsp:
      return "ESP";
  }
  return Unknown("PROTOCOL", static_cast<unsigned>(p));
}

std::string TransformTypeName(TransformType t) {
  switch (t) {
    case TransformType::kEncr:
      return "ENCR";
    case TransformType::kPrf:
      return "PRF";
    case TransformType::kInteg:
      return "INTEG";
    case TransformType::kDh:
      return "DH";
    case TransformType::kEsn:
      return "ESN";
  }
  return Unknown("TRANSFORM", static_cast<unsigned>(t));
}

std::string NotifyTypeName(NotifyType t) {
  switch (t) {
    case NotifyType::kUnsupportedCriticalPayload:
      return "UNSUPPORTED_CRITICAL_PAYLOAD";
    case NotifyType::kInvalidIkeSpi:
      return "INVALID_IKE_SPI";
    case NotifyType::kInvalidMajorVersion:
      return "INVALID_MAJOR_VERSION";
    case NotifyType::kInvalidSyntax:
      return "INVALID_SYNTAX";
    case NotifyType::kInvalidMessageId:
      return "INVALID_MESSAGE_ID";
    case NotifyType::kInvalidSpi:
      return "INVALID_SPI";
    case NotifyType::kNoProposalChosen:
      return "NO_PROPOSAL_CHOSEN";
    case NotifyType::kInvalidKePayload:
      return "INVALID_KE_PAYLOAD";
    case NotifyType::kAuthenticationFailed:
      return "AUTHENTICATION_FAILED";
    case NotifyType::kSinglePairRequired:
      return "SINGLE_PAIR_REQUIRED";
    case NotifyType::kNoAdditionalSas:
      return "NO_ADDITIONAL_SAS";
    case NotifyType::kInternalAddressFailure:
      return "INTERNAL_ADDRESS_FAILURE";
    case NotifyType::kFailedCpRequired:
      return "FAILED_CP_REQUIRED";
    case NotifyType::kTsUnacceptable:
      return "TS_UNACCEPTABLE";
    case NotifyType::kInvalidSelectors:
      return "INVALID_SELECTORS";
    case NotifyType::kUnacceptableAddresses:
      return "UNACCEPTABLE_ADDRESSES";
    case NotifyType::kUnexpectedNatDetected:
      return "UNEXPECTED_NAT_DETECTED";
    case NotifyType::kTemporaryFailure:
      return "TEMPORARY_FAILURE";
    case NotifyType::kChildSaNotFound:
      return "CHILD_SA_NOT_FOUND";
    case NotifyType::kInitialContact:
      return "INITIAL_CONTACT";
    case NotifyType::kSetWindowSize:
      return "SET_WINDOW_SIZE";
    case NotifyType::kAdditionalTsPossible:
      return "ADDITIONAL_TS_POSSIBLE";
    case NotifyType::kIpcompSupported:
      return "IPCOMP_SUPPORTED";
    case NotifyType::kNatDetectionSourceIp:
      return "NAT_DETECTION_SOURCE_IP";
    case NotifyType::kNatDetectionDestinationIp:
      return "NAT_DETECTION_DESTINATION_IP";
    case NotifyType::kCookie:
      return "COOKIE";
    case NotifyType::kUseTransportMode:
      return "USE_TRANSPORT_MODE";
    case NotifyType::kHttpCertLookupSupported:
      return "HTTP_CERT_LOOKUP_SUPPORTED";
    case NotifyType::kRekeySa:
      return "REKEY_SA";
    case NotifyType::kEspTfcPaddingNotSupported:
      return "ESP_TFC_PADDING_NOT_SUPPORTED";
    case NotifyType::kNonFirstFragmentsAlso:
      return "NON_FIRST_FRAGMENTS_ALSO";
    case NotifyType::kMobikeSupported:
      return "MOBIKE_SUPPORTED";
    case NotifyType::kAdditionalIp4Address:
      return "ADDITIONAL_IP4_ADDRESS";
    case NotifyType::kAdditionalIp6Address:
      return "ADDITIONAL_IP6_ADDRESS";
    case NotifyType::kNoAdditionalAddresses:
      return "NO_ADDITIONAL_ADDRESSES";
    case NotifyType::kUpdateSaAddresses:
      return "UPDATE_SA_ADDRESSES";
    case NotifyType::kCookie2:
      return "COOKIE2";
    case NotifyType::kNoNatsAllowed:
      return "NO_NATS_ALLOWED";
    case NotifyType::kAuthLifetime:
      return "AUTH_LIFETIME";
    case NotifyType::kRedirectSupported:
      return "REDIRECT_SUPPORTED";
    case NotifyType::kIkev2FragmentationSupported:
      return "IKEV2_FRAGMENTATION_SUPPORTED";
    case NotifyType::kSignatureHashAlgorithms:
      return "SIGNATURE_HASH_ALGORITHMS";
  }
  return Unknown("NOTIFY", static_cast<unsigned>(t));
}

std::string CfgAttrName(CfgAttr a) {
  switch (a) {
    case CfgAttr::kInternalIp4Address:
      return "INTERNAL_IP4_ADDRESS";
    case CfgAttr::kInternalIp4Netmask:
      return "INTERNAL_IP4_NETMASK";
    case CfgAttr::kInternalIp4Dns:
      return "INTERNAL_IP4_DNS";
    case CfgAttr::kInternalIp4Nbns:
      return "INTERNAL_IP4_NBNS";
    case CfgAttr::kInternalIp4Dhcp:
      return "INTERNAL_IP4_DHCP";
    case CfgAttr::kApplicationVersion:
      return "APPLICATION_VERSION";
    case CfgAttr::kInternalIp6Address:
      return "INTERNAL_IP6_ADDRESS";
    case CfgAttr::kInternalIp6Dns:
      return "INTERNAL_IP6_DNS";
    case CfgAttr::kInternalIp6Dhcp:
      return "INTERNAL_IP6_DHCP";
    case CfgAttr::kInternalIp4Subnet:
      return "INTERNAL_IP4_SUBNET";
    case CfgAttr::kSupportedAttributes:
      return "SUPPORTED_ATTRIBUTES";
    case CfgAttr::kInternalIp6Subnet:
      return "INTERNAL_IP6_SUBNET";
  }
  return Unknown("CFG_ATTR", static_cast<unsigned>(a));
}

}  // namespace mipsec::ikev2

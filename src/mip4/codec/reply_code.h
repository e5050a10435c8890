// Registration Reply codes (RFC 5944 3.4 and 6.4; RFC 3024 3.4; RFC 2794 5;
// RFC 3115; RFC 3519 3.5; RFC 5944 3.7.2 for 194).
//
// RFC 5944 6.4 divides the space: 0-8 success, 64-127 denied by the foreign
// agent, 128-192 denied by the home agent, 193-200 denied by a (gateway)
// foreign agent. RFC 3543 (revocation) defines no codes.
#ifndef MIPSEC_MIP4_CODEC_REPLY_CODE_H_
#define MIPSEC_MIP4_CODEC_REPLY_CODE_H_

#include <cstdint>
#include <string_view>

namespace mipsec::mip4 {

enum class ReplyCode : std::uint8_t {
  // Success (RFC 5944 3.4).
  kAccepted = 0,
  kAcceptedNoSimultaneousBindings = 1,

  // Denied by the foreign agent (RFC 5944 3.4).
  kFaUnspecified = 64,
  kFaAdministrativelyProhibited = 65,
  kFaInsufficientResources = 66,
  kFaMnFailedAuthentication = 67,
  kFaHaFailedAuthentication = 68,
  kFaLifetimeTooLong = 69,
  kFaPoorlyFormedRequest = 70,
  kFaPoorlyFormedReply = 71,
  kFaEncapsulationUnavailable = 72,
  kFaReservedUnavailable = 73,
  // RFC 3024 3.4.
  kFaReverseTunnelUnavailable = 74,
  kFaReverseTunnelMandatory = 75,
  kFaMnTooDistant = 76,
  // RFC 5944 3.4.
  kFaInvalidCareOfAddress = 77,
  kFaRegistrationTimeout = 78,
  // RFC 3024 3.4.
  kFaDeliveryStyleUnsupported = 79,
  // RFC 5944 3.4 (ICMP errors received while relaying, 3.7.3).
  kFaHomeNetworkUnreachable = 80,
  kFaHaHostUnreachable = 81,
  kFaHaPortUnreachable = 82,
  kFaHaUnreachable = 88,
  // RFC 2794 5.
  kFaNonzeroHomeAddressRequired = 96,
  kFaMissingNai = 97,
  kFaMissingHomeAgent = 98,
  kFaMissingHomeAddress = 99,
  // RFC 3115: a CVSE the foreign agent cannot interpret, from the MN / the HA.
  kFaCvseFromMnUnsupported = 100,
  kFaCvseFromHaUnsupported = 101,

  // Denied by the home agent (RFC 5944 3.4).
  kHaUnspecified = 128,
  kHaAdministrativelyProhibited = 129,
  kHaInsufficientResources = 130,
  kHaMnFailedAuthentication = 131,
  kHaFaFailedAuthentication = 132,
  kHaIdentificationMismatch = 133,
  kHaPoorlyFormedRequest = 134,
  kHaTooManyBindings = 135,
  kHaUnknownHomeAgentAddress = 136,
  // RFC 3024 3.4.
  kHaReverseTunnelUnavailable = 137,
  kHaReverseTunnelMandatory = 138,
  kHaEncapsulationUnavailable = 139,
  // RFC 3115: a CVSE the home agent cannot interpret, from the MN / the FA.
  kHaCvseFromMnUnsupported = 140,
  kHaCvseFromFaUnsupported = 141,
  // RFC 3519 3.5 (ERROR_HA_UDP_ENCAP_UNAVAIL).
  kHaUdpEncapsulationUnavailable = 142,

  // RFC 5944 3.7.2: the FA owns the Home Agent address but is not the MN's
  // home agent.
  kFaInvalidHomeAgentAddress = 194,
};

// Every code above, in increasing order (for tables and tests).
inline constexpr ReplyCode kAllReplyCodes[] = {
    ReplyCode::kAccepted, ReplyCode::kAcceptedNoSimultaneousBindings,
    ReplyCode::kFaUnspecified, ReplyCode::kFaAdministrativelyProhibited,
    ReplyCode::kFaInsufficientResources, ReplyCode::kFaMnFailedAuthentication,
    ReplyCode::kFaHaFailedAuthentication, ReplyCode::kFaLifetimeTooLong,
    ReplyCode::kFaPoorlyFormedRequest, ReplyCode::kFaPoorlyFormedReply,
    ReplyCode::kFaEncapsulationUnavailable, ReplyCode::kFaReservedUnavailable,
    ReplyCode::kFaReverseTunnelUnavailable, ReplyCode::kFaReverseTunnelMandatory,
    ReplyCode::kFaMnTooDistant, ReplyCode::kFaInvalidCareOfAddress,
    ReplyCode::kFaRegistrationTimeout, ReplyCode::kFaDeliveryStyleUnsupported,
    ReplyCode::kFaHomeNetworkUnreachable, ReplyCode::kFaHaHostUnreachable,
    ReplyCode::kFaHaPortUnreachable, ReplyCode::kFaHaUnreachable,
    ReplyCode::kFaNonzeroHomeAddressRequired, ReplyCode::kFaMissingNai,
    ReplyCode::kFaMissingHomeAgent, ReplyCode::kFaMissingHomeAddress,
    ReplyCode::kFaCvseFromMnUnsupported, ReplyCode::kFaCvseFromHaUnsupported,
    ReplyCode::kHaUnspecified, ReplyCode::kHaAdministrativelyProhibited,
    ReplyCode::kHaInsufficientResources, ReplyCode::kHaMnFailedAuthentication,
    ReplyCode::kHaFaFailedAuthentication, ReplyCode::kHaIdentificationMismatch,
    ReplyCode::kHaPoorlyFormedRequest, ReplyCode::kHaTooManyBindings,
    ReplyCode::kHaUnknownHomeAgentAddress, ReplyCode::kHaReverseTunnelUnavailable,
    ReplyCode::kHaReverseTunnelMandatory, ReplyCode::kHaEncapsulationUnavailable,
    ReplyCode::kHaCvseFromMnUnsupported, ReplyCode::kHaCvseFromFaUnsupported,
    ReplyCode::kHaUdpEncapsulationUnavailable, ReplyCode::kFaInvalidHomeAgentAddress,
};

// "registration accepted", "reverse tunnel is mandatory and 'T' bit not set",
// ... (the RFC's wording); "unknown code" for a value not listed above.
std::string_view ReplyCodeName(std::uint8_t code);
inline std::string_view ReplyCodeName(ReplyCode code) {
  return ReplyCodeName(static_cast<std::uint8_t>(code));
}

// RFC 5944 6.4 ranges, by value (listed or not).
constexpr bool IsAcceptedCode(std::uint8_t code) { return code <= 8; }
constexpr bool IsForeignAgentCode(std::uint8_t code) {
  return (code >= 64 && code <= 127) || (code >= 193 && code <= 200);
}
constexpr bool IsHomeAgentCode(std::uint8_t code) { return code >= 128 && code <= 192; }

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_REPLY_CODE_H_

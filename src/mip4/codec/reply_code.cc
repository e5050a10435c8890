#include "mip4/codec/reply_code.h"

namespace mipsec::mip4 {

std::string_view ReplyCodeName(std::uint8_t code) {
  switch (static_cast<ReplyCode>(code)) {
    case ReplyCode::kAccepted: return "registration accepted";
    case ReplyCode::kAcceptedNoSimultaneousBindings:
      return "registration accepted, but simultaneous mobility bindings unsupported";
    case ReplyCode::kFaUnspecified: return "FA: reason unspecified";
    case ReplyCode::kFaAdministrativelyProhibited: return "FA: administratively prohibited";
    case ReplyCode::kFaInsufficientResources: return "FA: insufficient resources";
    case ReplyCode::kFaMnFailedAuthentication: return "FA: mobile node failed authentication";
    case ReplyCode::kFaHaFailedAuthentication: return "FA: home agent failed authentication";
    case ReplyCode::kFaLifetimeTooLong: return "FA: requested Lifetime too long";
    case ReplyCode::kFaPoorlyFormedRequest: return "FA: poorly formed Request";
    case ReplyCode::kFaPoorlyFormedReply: return "FA: poorly formed Reply";
    case ReplyCode::kFaEncapsulationUnavailable:
      return "FA: requested encapsulation unavailable";
    case ReplyCode::kFaReservedUnavailable: return "FA: reserved and unavailable";
    case ReplyCode::kFaReverseTunnelUnavailable:
      return "FA: requested reverse tunnel unavailable";
    case ReplyCode::kFaReverseTunnelMandatory:
      return "FA: reverse tunnel is mandatory and 'T' bit not set";
    case ReplyCode::kFaMnTooDistant: return "FA: mobile node too distant";
    case ReplyCode::kFaInvalidCareOfAddress: return "FA: invalid care-of address";
    case ReplyCode::kFaRegistrationTimeout: return "FA: registration timeout";
    case ReplyCode::kFaDeliveryStyleUnsupported: return "FA: delivery style not supported";
    case ReplyCode::kFaHomeNetworkUnreachable:
      return "FA: home network unreachable (ICMP error received)";
    case ReplyCode::kFaHaHostUnreachable:
      return "FA: home agent host unreachable (ICMP error received)";
    case ReplyCode::kFaHaPortUnreachable:
      return "FA: home agent port unreachable (ICMP error received)";
    case ReplyCode::kFaHaUnreachable:
      return "FA: home agent unreachable (other ICMP error received)";
    case ReplyCode::kFaNonzeroHomeAddressRequired: return "FA: nonzero home address required";
    case ReplyCode::kFaMissingNai: return "FA: missing NAI";
    case ReplyCode::kFaMissingHomeAgent: return "FA: missing home agent";
    case ReplyCode::kFaMissingHomeAddress: return "FA: missing home address";
    case ReplyCode::kFaCvseFromMnUnsupported:
      return "FA: unsupported vendor ID or CVSE type in a CVSE sent by the mobile node";
    case ReplyCode::kFaCvseFromHaUnsupported:
      return "FA: unsupported vendor ID or CVSE type in a CVSE sent by the home agent";
    case ReplyCode::kHaUnspecified: return "HA: reason unspecified";
    case ReplyCode::kHaAdministrativelyProhibited: return "HA: administratively prohibited";
    case ReplyCode::kHaInsufficientResources: return "HA: insufficient resources";
    case ReplyCode::kHaMnFailedAuthentication: return "HA: mobile node failed authentication";
    case ReplyCode::kHaFaFailedAuthentication: return "HA: foreign agent failed authentication";
    case ReplyCode::kHaIdentificationMismatch: return "HA: registration Identification mismatch";
    case ReplyCode::kHaPoorlyFormedRequest: return "HA: poorly formed Request";
    case ReplyCode::kHaTooManyBindings: return "HA: too many simultaneous mobility bindings";
    case ReplyCode::kHaUnknownHomeAgentAddress: return "HA: unknown home agent address";
    case ReplyCode::kHaReverseTunnelUnavailable:
      return "HA: requested reverse tunnel unavailable";
    case ReplyCode::kHaReverseTunnelMandatory:
      return "HA: reverse tunnel is mandatory and 'T' bit not set";
    case ReplyCode::kHaEncapsulationUnavailable:
      return "HA: requested encapsulation unavailable";
    case ReplyCode::kHaCvseFromMnUnsupported:
      return "HA: unsupported vendor ID or CVSE type in a CVSE sent by the mobile node";
    case ReplyCode::kHaCvseFromFaUnsupported:
      return "HA: unsupported vendor ID or CVSE type in a CVSE sent by the foreign agent";
    case ReplyCode::kHaUdpEncapsulationUnavailable:
      return "HA: requested UDP tunnel encapsulation unavailable";
    case ReplyCode::kFaInvalidHomeAgentAddress: return "FA: invalid home agent address";
  }
  return "unknown code";
}

}  // namespace mipsec::mip4

#include "mip4/codec/rules.h"

#include <array>

#include "mip4/codec/constants.h"
#include "mip4/codec/nai_extension.h"

namespace mipsec::mip4 {

namespace {

constexpr ExtensionRule kRules[] = {
    {kExtPadding, "one-byte padding", true, true, 0, Placement::kAnywhere, "RFC 5944 1.8"},
    {kExtMnHaAuth, "MN-HA authentication", true, true, 1, Placement::kMnHa, "RFC 5944 3.5.2"},
    {kExtMnFaAuth, "MN-FA authentication", true, true, 1, Placement::kFinalAuth,
     "RFC 5944 3.6.1.3 e, 3.7.3.2"},
    {kExtFaHaAuth, "FA-HA authentication", true, true, 1, Placement::kFinalAuth,
     "RFC 5944 3.7.2.2, 3.8.3.3 e"},
    {kExtCvse, "CVSE", true, true, 0, Placement::kAnywhere, "RFC 3115"},
    {kExtUdpTunnelReply, "UDP Tunnel Reply", false, true, 1, Placement::kAnywhere,
     "RFC 3519 3.2, 4.6"},
    {kExtDeliveryStyle, "Encapsulating Delivery Style", true, false, 1, Placement::kAfterMnHa,
     "RFC 3024 3.3"},
    {kExtNai, "MN NAI", true, true, 1, Placement::kBeforeMnHa, "RFC 2794 2"},
    {kExtNvse, "NVSE", true, true, 0, Placement::kAnywhere, "RFC 3115"},
    {kExtRevocationSupport, "Revocation Support", true, true, 1, Placement::kBeforeHaAuth,
     "RFC 3543 3.2"},
    {kExtUdpTunnelRequest, "UDP Tunnel Request", true, false, 1, Placement::kAnywhere,
     "RFC 3519 3.1, 4.4, 4.5"},
    {kExtTnc, "Trusted Networks Configured", false, true, 1, Placement::kBeforeMnHa,
     "RFC 5265 3.4, 4.1"},
};

std::string Name(std::uint8_t type) {
  const ExtensionRule* r = FindRegistrationRule(type);
  return r ? std::string(r->name) + " (" + std::to_string(type) + ")"
           : "extension " + std::to_string(type);
}

Violation V(RuleId id, std::optional<std::size_t> index, std::string detail) {
  return Violation{id, index, std::move(detail)};
}

// The checks common to both kinds. `is_request` selects the column.
std::optional<Violation> ValidateExtensions(const ExtensionList& list, bool is_request,
                                            bool mn_ha_required) {
  const std::optional<std::size_t> mnha = list.Find(kExtMnHaAuth);
  std::optional<std::size_t> final_auth;
  std::array<std::size_t, 256> counts{};

  if (!mnha && mn_ha_required) {
    return V(RuleId::kMissingAuthorization, std::nullopt,
             "no MN-HA authentication extension (the authorization-enabling extension, "
             "RFC 5944 3.5.2)");
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Extension& e = list[i];
    if (!e.recognized) continue;
    if (final_auth) {
      return V(RuleId::kAfterFinalAuth, i,
               Name(e.type) + " follows the final " + Name(list[*final_auth].type) +
                   " extension (RFC 5944 3.6.1.3, 3.8.3.3)");
    }
    const ExtensionRule* rule = FindRegistrationRule(e.type);
    if (rule == nullptr) continue;  // recognised by the parser: nothing more to check
    if (is_request ? !rule->in_request : !rule->in_reply) {
      return V(RuleId::kNotAllowedInKind, i,
               Name(e.type) + " is not allowed in a Registration " +
                   (is_request ? "Request" : "Reply") + " (" + std::string(rule->reference) +
                   ")");
    }
    if (rule->max_count != 0 && ++counts[e.type] > rule->max_count) {
      return V(RuleId::kTooMany, i,
               "more than " + std::to_string(rule->max_count) + " " + Name(e.type) + " (" +
                   std::string(rule->reference) + ")");
    }
    switch (rule->placement) {
      case Placement::kAnywhere:
      case Placement::kMnHa:
        break;
      case Placement::kBeforeMnHa:
        if (!mnha || i > *mnha) {
          return V(RuleId::kMisplaced, i,
                   Name(e.type) + " must precede the MN-HA authentication extension (" +
                       std::string(rule->reference) + ")");
        }
        break;
      case Placement::kAfterMnHa:
        if (!mnha || i < *mnha) {
          return V(RuleId::kMisplaced, i,
                   Name(e.type) + " must follow the MN-HA authentication extension (" +
                       std::string(rule->reference) + ")");
        }
        break;
      case Placement::kFinalAuth:
        if (mnha && i < *mnha) {
          return V(RuleId::kMisplaced, i,
                   Name(e.type) + " must follow the MN-HA authentication extension (" +
                       std::string(rule->reference) + ")");
        }
        final_auth = i;
        break;
      case Placement::kBeforeHaAuth: {
        const std::optional<std::size_t> mnha_after = list.Find(kExtMnHaAuth, i + 1);
        const std::optional<std::size_t> faha_after = list.Find(kExtFaHaAuth, i + 1);
        if (!mnha_after && !faha_after) {
          return V(RuleId::kMisplaced, i,
                   Name(e.type) + " must be covered by an MN-HA or FA-HA authentication "
                                  "extension after it (" +
                       std::string(rule->reference) + ")");
        }
        break;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::span<const ExtensionRule> RegistrationRules() { return kRules; }

const ExtensionRule* FindRegistrationRule(std::uint8_t type) {
  for (const ExtensionRule& r : kRules) {
    if (r.type == type) return &r;
  }
  return nullptr;
}

std::string_view RuleIdName(RuleId id) {
  switch (id) {
    case RuleId::kMissingAuthorization: return "missing authorization-enabling extension";
    case RuleId::kTooMany: return "too many extensions of a type";
    case RuleId::kNotAllowedInKind: return "extension not allowed in this message";
    case RuleId::kMisplaced: return "extension misplaced";
    case RuleId::kAfterFinalAuth: return "extension after the final authenticator";
    case RuleId::kFaHaOnDeregistration: return "FA-HA authentication on a deregistration";
    case RuleId::kDeliveryStyleWithoutT: return "delivery style without 'T'";
    case RuleId::kUdpTunnelWithoutD: return "UDP tunnel request without 'D'";
    case RuleId::kZeroHomeAddressNoNai: return "zero home address without NAI";
    case RuleId::kAdvMobilityNotFirst: return "mobility agent advertisement extension not first";
    case RuleId::kAdvFlags: return "inconsistent advertisement flags";
    case RuleId::kAdvPrefixLengths: return "prefix-lengths extension mismatch";
    case RuleId::kAdvCode: return "advertisement code";
  }
  return "?";
}

Error Violation::ToError() const {
  return Error(Errc::kMalformed, std::string(RuleIdName(rule)) + ": " + detail);
}

std::optional<Violation> Validate(const ParsedRegistrationRequest& p) {
  const RegistrationRequest& q = p.request;
  const ExtensionList& list = p.extensions;
  if (std::optional<Violation> v = ValidateExtensions(list, true, true)) return v;
  // RFC 5944 3.5.4: no FA-HA on a deregistration (Lifetime 0, or the home
  // address as care-of address).
  if (std::optional<std::size_t> faha = list.Find(kExtFaHaAuth);
      faha && (q.lifetime == 0 || q.home_address == q.care_of_address)) {
    return V(RuleId::kFaHaOnDeregistration, faha,
             "FA-HA authentication on a deregistration (RFC 5944 3.5.4)");
  }
  // RFC 3024 3.3.
  if (std::optional<std::size_t> eds = list.Find(kExtDeliveryStyle); eds && !q.reverse_tunnel) {
    return V(RuleId::kDeliveryStyleWithoutT, eds,
             "Encapsulating Delivery Style without the 'T' bit (RFC 3024 3.3)");
  }
  // RFC 3519 3.1.5, 4.4: the MN's own request (before MN-HA) needs 'D'; an
  // FA's (after MN-HA, 4.5) is for the FA care-of address.
  if (std::optional<std::size_t> utr = list.Find(kExtUdpTunnelRequest);
      utr && *utr < *list.Find(kExtMnHaAuth) && !q.decapsulation_by_mn) {
    return V(RuleId::kUdpTunnelWithoutD, utr,
             "the mobile node's UDP Tunnel Request without the 'D' bit (RFC 3519 3.1.5)");
  }
  // RFC 2794 2: the NAI is what lets the Home Address be zero.
  if (q.home_address.IsAny() && !list.Find(kExtNai)) {
    return V(RuleId::kZeroHomeAddressNoNai, std::nullopt,
             "Home Address 0.0.0.0 without an MN NAI extension (RFC 2794 2)");
  }
  return std::nullopt;
}

std::optional<Violation> Validate(const ParsedRegistrationReply& p) {
  // RFC 5944 3.6.2.1 b: replies from the HA carry exactly one MN-HA; an FA's
  // own denial cannot.
  return ValidateExtensions(p.extensions, false, !IsForeignAgentCode(p.reply.code));
}

}  // namespace mipsec::mip4

// Semantic rules for registration messages, separate from parsing: which
// extensions a Request or a Reply may carry, how many, and where relative to
// the authorization-enabling (MN-HA) extension; plus the flag/field
// constraints the extensions bring. Parsing (framing, RFC 5944 1.8) is done
// by the Parse* functions; Validate() runs on a parsed message.
//
// Ordering (RFC 5944 3.6.1.3 for a mobile node's Request, 3.7.2.2 for the
// FA relaying it, 3.8.3.3 for the HA's Reply, 3.7.3.2 for the FA relaying
// that):
//
//   fixed part
//   (b) extensions for the authorizing agent (HA, and MN for replies)
//   (c) Mobile-Home Authentication — the authorization-enabling extension
//   (d) extensions for the FA only / appended by the FA
//   (e) Mobile-Foreign or Foreign-Home Authentication, last
//
// Hence, for both kinds: MN-FA and FA-HA follow MN-HA, at most one of the
// two appears, and nothing follows it (a second one is "after the final
// authenticator"). Per-extension placement comes from
// the table (RegistrationRules()):
//
//   type  name                       Req Rep max  placement
//   0     One-byte padding            y   y   -   anywhere before (e)
//   32    MN-HA auth                  y   y   1   (c)
//   33    MN-FA auth                  y   y   1   (e)
//   34    FA-HA auth                  y   y   1   (e)
//   38    CVSE                        y   y   -   anywhere before (e)
//   44    UDP Tunnel Reply            n   y   1   anywhere before (e)  RFC 3519 4.6
//   130   Encapsulating Delivery St.  y   n   1   (d)                  RFC 3024 3.3
//   131   MN NAI                      y   y   1   (b)                  RFC 2794 2
//   134   NVSE                        y   y   -   anywhere before (e)
//   137   Revocation Support          y   y   1   before an MN-HA or FA-HA (RFC 3543 3.2)
//   144   UDP Tunnel Request          y   n   1   (b) from the MN, (d) from an FA
//                                                 (RFC 3519 4.4, 4.5)
//   149   TNC                         n   y   1   (b), so MN-HA covers it (RFC 5265 3.4, 4.1)
//
// Skipped (unrecognised 128-255) extensions are not checked.
//
// What to do on a violation is the core's decision (reply 70/134, or a
// silent discard where RFC 5944 3.8.2.1 or 3.6.2.1 demands it — e.g. a
// missing or duplicated MN-HA extension).
#ifndef MIPSEC_MIP4_CODEC_RULES_H_
#define MIPSEC_MIP4_CODEC_RULES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/codec/registration_request.h"

namespace mipsec::mip4 {

enum class Placement : std::uint8_t {
  kAnywhere,        // before the final (e) authentication extension
  kBeforeMnHa,      // part (b): covered by the MN-HA authenticator
  kAfterMnHa,       // part (d)
  kMnHa,            // part (c)
  kFinalAuth,       // part (e)
  kBeforeHaAuth,    // followed by an MN-HA or FA-HA extension (RFC 3543 3.2)
};

struct ExtensionRule {
  std::uint8_t type = 0;
  std::string_view name;
  bool in_request = false;
  bool in_reply = false;
  std::uint8_t max_count = 0;  // 0: no limit
  Placement placement = Placement::kAnywhere;
  std::string_view reference;
};

std::span<const ExtensionRule> RegistrationRules();
// nullptr for a type not in the table.
const ExtensionRule* FindRegistrationRule(std::uint8_t type);

enum class RuleId : std::uint8_t {
  kMissingAuthorization,   // no MN-HA (RFC 5944 3.3, 3.5.2, 3.8.2.1 a; 3.6.2.1 b)
  kTooMany,                // more of a type than max_count
  kNotAllowedInKind,       // e.g. a TNC in a Request, a Tunnel Request in a Reply
  kMisplaced,              // placement rule of the table
  kAfterFinalAuth,         // anything after MN-FA / FA-HA
  kFaHaOnDeregistration,   // RFC 5944 3.5.4
  kDeliveryStyleWithoutT,  // RFC 3024 3.3
  kUdpTunnelWithoutD,      // RFC 3519 3.1.5 (MN's request)
  kZeroHomeAddressNoNai,   // RFC 2794 2: Home Address 0 only with an NAI
  // Agent advertisement rules (agent_advertisement.h).
  kAdvMobilityNotFirst,
  kAdvFlags,
  kAdvPrefixLengths,
  kAdvCode,
};

std::string_view RuleIdName(RuleId id);

struct Violation {
  RuleId rule = RuleId::kMisplaced;
  std::optional<std::size_t> extension_index;  // into the ExtensionList
  std::string detail;

  // Errc::kMalformed with "<rule>: <detail>".
  Error ToError() const;
};

// The rules above for a Request as a home agent or foreign agent receives
// it (from the MN or relayed by an FA). nullopt when it conforms.
std::optional<Violation> Validate(const ParsedRegistrationRequest& request);
// For a Reply: the MN-HA extension is required unless the code is a foreign
// agent's denial (RFC 5944 3.6.2.1 b; 6.4 ranges).
std::optional<Violation> Validate(const ParsedRegistrationReply& reply);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_RULES_H_

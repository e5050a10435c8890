// Which payloads each IKEv2 message may carry (RFC 7296 1.2-1.5, 2.x), as
// a table per exchange type and request/response, after strongSwan's
// message rules: for each payload type the minimum and maximum count and
// whether it must be inside SK. Validate() applies the table and a few
// per-payload semantic checks that depend on the message (proposal
// numbering, nonce size) and says what to answer.
//
// Types not in a message's table are refused (INVALID_SYNTAX), except
// unknown non-critical payloads, which are allowed anywhere (2.5). Minimum
// counts are waived for responses that carry an error notify (2.21: the
// response to a failed request is the error notify, e.g. NO_PROPOSAL_CHOSEN,
// INVALID_KE_PAYLOAD, AUTHENTICATION_FAILED) and for an IKE_SA_INIT response
// carrying COOKIE (2.6).
#ifndef MIPSEC_IKEV2_CODEC_MESSAGE_RULES_H_
#define MIPSEC_IKEV2_CODEC_MESSAGE_RULES_H_

#include <cstdint>
#include <optional>
#include <span>

#include "common/result.h"
#include "ikev2/codec/error_notify.h"
#include "ikev2/codec/ids.h"
#include "ikev2/codec/message.h"

namespace mipsec::ikev2 {

struct PayloadRule {
  static constexpr std::uint16_t kMany = 0xffff;

  PayloadType type;
  std::uint16_t min;
  std::uint16_t max;
  bool encrypted;  // must be inside SK
};

struct MessageRules {
  ExchangeType exchange;
  bool response;
  // IKE_SA_INIT / IKE_AUTH requests come from the original initiator and
  // their responses from the original responder (I flag, RFC 7296 3.1).
  // CREATE_CHILD_SA and INFORMATIONAL go either way.
  bool fixed_roles;
  std::span<const PayloadRule> payloads;
};

// The table for an exchange and direction, or null for an exchange type we
// do not know.
const MessageRules* FindMessageRules(ExchangeType exchange, bool response);

// Checks `m` (after DecodeProtected or reassembly for protected messages;
// `m.header.response` picks the table) against the rules:
//  - a known exchange type (kUnsupported, no answer: RFC 7296 doesn't say);
//  - IKE_SA_INIT unprotected, with a non-zero initiator SPI, a zero
//    responder SPI in the request, Message ID 0 (2.2, 3.1); the other
//    exchanges protected, with no unprotected payload (1.2-1.5);
//  - the I flag for IKE_SA_INIT and IKE_AUTH (3.1);
//  - counts, encryption and allowed types per the table;
//  - SA payloads: CheckProposalNumbering() (3.3.1);
//    Nonces: 16..256 bytes (3.9);
//    Notify: SPI Size 0 for protocol 0/IKE, 4 for ESP/AH (3.10).
// Returns Ok or kMalformed/kUnsupported naming the rule. For requests it
// suggests INVALID_SYNTAX (2.21.2: the SA layer answers only when it may,
// i.e. in a protected exchange); for responses nothing.
Status Validate(const Message& m, std::optional<ErrorNotify>* notify = nullptr);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_MESSAGE_RULES_H_

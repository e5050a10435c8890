// IkeInit: the IKE_SA_INIT concern (RFC 7296 1.2, 2.6, 2.7, 2.10, 2.14):
// SA, KE and Nonce, key derivation, COOKIE and INVALID_KE_PAYLOAD retries,
// and the IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383 2.3) and
// SIGNATURE_HASH_ALGORITHMS (RFC 7427 4) announcements.
//
// Initiator: offers config().ike_proposals (one proposal per Suite) with a
// KE of the first one's group. A response with COOKIE is answered by the
// same request with N(COOKIE) first (2.6); INVALID_KE_PAYLOAD naming a
// group we offered by the same request with that group's KE (1.2, 2.7);
// both keep Message ID 0, at most kMaxRetries times. Any other error notify
// (NO_PROPOSAL_CHOSEN, ...) fails the IKE SA.
// Responder: selects a proposal (preferring the KE's group); none:
// NO_PROPOSAL_CHOSEN; another group than the KE's: INVALID_KE_PAYLOAD with
// the selected group. Either way the IKE SA is dropped after the response.
#ifndef MIPSEC_IKEV2_TASKS_IKE_INIT_H_
#define MIPSEC_IKEV2_TASKS_IKE_INIT_H_

#include <memory>
#include <optional>

#include "crypto/dh.h"
#include "ikev2/sa/proposals.h"
#include "ikev2/sa/task.h"

namespace mipsec::ikev2 {

class IkeInit final : public Task {
 public:
  static constexpr int kMaxRetries = 5;

  explicit IkeInit(bool initiator) : Task(initiator) {}
  TaskType type() const override { return TaskType::kIkeInit; }
  ExchangeType exchange() const override { return ExchangeType::kIkeSaInit; }
  TaskStatus Build(IkeSa& sa, Timestamp now, Message& m) override;
  TaskStatus Process(IkeSa& sa, Timestamp now, const Message& m) override;
  std::optional<NotifyPayload> FailureNotify() const override { return failure_; }

 private:
  TaskStatus ProcessResponse(IkeSa& sa, const Message& m);
  TaskStatus ProcessRequest(IkeSa& sa, const Message& m);
  Status DeriveKeys(IkeSa& sa, const Suite& suite, const KePayload& peer_ke);
  void AddAnnouncements(IkeSa& sa, Message& m) const;
  void ReadAnnouncements(IkeSa& sa, const Message& m) const;

  DhId group_ = DhId::kNone;
  std::unique_ptr<crypto::KeyExchange> ke_;
  std::optional<Selection> selected_;  // responder
  std::optional<NotifyPayload> failure_;
  int retries_ = 0;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_TASKS_IKE_INIT_H_

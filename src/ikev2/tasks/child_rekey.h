// ChildRekey: rekeying a CHILD SA with CREATE_CHILD_SA and REKEY_SA (RFC 7296
// 1.3.3, 2.8), including simultaneous rekeying (2.8.1). The new CHILD SA is
// negotiated by an inner ChildCreate with the old SA's selectors.
//
// Initiator: marks the old CHILD SA kRekeying and sends
// N(REKEY_SA, old inbound SPI) SA Ni [KEi] TSi TSr. On success the new
// CHILD SA comes up (ChildSaUp with rekeyed_spi_in) and the old one is
// deleted with an INFORMATIONAL (ChildSaDown{kRekeyed}). On an error notify
// (CHILD_SA_NOT_FOUND, TEMPORARY_FAILURE, NO_PROPOSAL_CHOSEN, ...) the old
// SA stays as it was (ChildSaFailed); after TEMPORARY_FAILURE the rekey is
// tried again after a random delay (2.25, IkeSa::RetryChildRekeyLater).
// Responder: the REKEY_SA SPI is the peer's inbound SPI (our outbound).
// Unknown: CHILD_SA_NOT_FOUND; being deleted or already replaced:
// TEMPORARY_FAILURE. Otherwise the new CHILD SA is created and the old one
// marked kRekeyed; the peer deletes it.
// Collision (both sides rekey the same CHILD SA): each side answers the
// other's request as usual and notes it on its own initiator task; when
// both exchanges are done, the new SA made by the exchange holding the
// lowest of the four nonces is deleted by the side that initiated that
// exchange, and the winner deletes the old SA (2.8.1).
#ifndef MIPSEC_IKEV2_TASKS_CHILD_REKEY_H_
#define MIPSEC_IKEV2_TASKS_CHILD_REKEY_H_

#include <cstdint>
#include <optional>

#include "ikev2/tasks/child_create.h"

namespace mipsec::ikev2 {

class ChildRekey final : public Task {
 public:
  // Initiator: `old_spi_in` names the CHILD SA to rekey. Responder: unused.
  explicit ChildRekey(bool initiator, std::uint32_t old_spi_in = 0);
  TaskType type() const override { return TaskType::kChildRekey; }
  ExchangeType exchange() const override { return ExchangeType::kCreateChildSa; }
  TaskStatus Build(IkeSa& sa, Timestamp now, Message& m) override;
  TaskStatus Process(IkeSa& sa, Timestamp now, const Message& m) override;
  void Abort(IkeSa& sa) override;

  std::uint32_t old_spi_in() const { return old_spi_in_; }
  // Collision hook: the peer rekeyed the same CHILD SA in an exchange with
  // nonces `ni`/`nr` that created our CHILD SA `new_spi_in`.
  void NoteCollision(Bytes ni, Bytes nr, std::uint32_t new_spi_in);

 private:
  void ResolveCollision(IkeSa& sa);

  std::uint32_t old_spi_in_;
  ChildCreate child_;
  std::optional<NotifyPayload> refusal_;  // responder
  bool started_ = false;                  // initiator: the request was built
  struct Collision {
    Bytes ni, nr;
    std::uint32_t new_spi_in;
  };
  std::optional<Collision> collision_;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_TASKS_CHILD_REKEY_H_

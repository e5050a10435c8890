// IkeRekey: rekeying the IKE SA with CREATE_CHILD_SA (RFC 7296 1.3.2, 2.8,
// 2.18), including simultaneous rekeying (2.8.2) and the collisions of 2.25.
//
// Initiator: SA(IKE proposals, our new SPI) Ni KEi on the old IKE SA. On
// success the new IKE SA is made (IkeSa::MakeSuccessor: keys from
// SKEYSEED = prf(SK_d old, g^ir new | Ni | Nr), 2.18; we are its original
// initiator), inherits everything (IkeSa::HandOver: CHILD SAs, identities,
// virtual IPs, queued tasks; event IkeSaRekeyed) and the old IKE SA is
// deleted with an INFORMATIONAL Delete (IkeSaDown{kRekeyed}).
// INVALID_KE_PAYLOAD: one retry with the named group. TEMPORARY_FAILURE:
// retried after a random delay (2.25, IkeSa::ScheduleRekeyRetry). Other
// errors leave the old IKE SA as it was (the hard lifetime deletes it).
// Responder: refuses with TEMPORARY_FAILURE while a CHILD SA of ours is
// being created, rekeyed or deleted, while we delete the IKE SA, and once
// it has been rekeyed already (2.25.1, 2.25.2, 2.8.2). Otherwise it answers
// SA Nr KEr, makes the new IKE SA and hands over at once, and the old one
// waits for the peer's Delete.
// Collision (our own IkeRekey is in flight, 2.8.2): the peer's new IKE SA
// is made but not handed over yet and noted on our task. When our exchange
// is done, the new IKE SA from the exchange holding the lowest of the four
// nonces is deleted by the side that initiated that exchange, the other new
// SA inherits everything, and its initiator deletes the old IKE SA. If our
// request fails instead (TEMPORARY_FAILURE: the peer had finished first) or
// the old IKE SA is deleted by the peer meanwhile (2.25.2), the peer's new
// IKE SA inherits (Abort()).
#ifndef MIPSEC_IKEV2_TASKS_IKE_REKEY_H_
#define MIPSEC_IKEV2_TASKS_IKE_REKEY_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "common/bytes.h"
#include "common/secret.h"
#include "crypto/dh.h"
#include "ikev2/sa/proposals.h"
#include "ikev2/sa/task.h"

namespace mipsec::ikev2 {

class IkeRekey final : public Task {
 public:
  explicit IkeRekey(bool initiator) : Task(initiator) {}
  TaskType type() const override { return TaskType::kIkeRekey; }
  ExchangeType exchange() const override { return ExchangeType::kCreateChildSa; }
  TaskStatus Build(IkeSa& sa, Timestamp now, Message& m) override;
  TaskStatus Process(IkeSa& sa, Timestamp now, const Message& m) override;
  void Abort(IkeSa& sa) override;

  // Collision hook (initiator task): the peer rekeyed the same IKE SA in an
  // exchange with nonces `ni`/`nr`, which made the IKE SA `peer_sa`.
  void NoteCollision(Bytes ni, Bytes nr, std::weak_ptr<IkeSa> peer_sa);

 private:
  TaskStatus ProcessResponse(IkeSa& sa, Timestamp now, const Message& m);
  void ProcessRequest(IkeSa& sa, const Message& m);
  // Adopts the peer's new IKE SA of a collision if it is still there.
  bool AdoptPeerSa(IkeSa& sa);

  DhId group_ = DhId::kNone;
  std::unique_ptr<crypto::KeyExchange> ke_;
  std::uint64_t new_spi_ = 0;  // our SPI of the new IKE SA
  Bytes ni_, nr_;
  int ke_retries_ = 0;
  // Responder.
  std::optional<NotifyPayload> refusal_;
  std::optional<Selection> selected_;
  std::uint64_t peer_spi_ = 0;
  std::optional<SecretBytes> gir_;
  // Initiator: the peer's simultaneous rekey.
  struct Collision {
    Bytes ni, nr;
    std::weak_ptr<IkeSa> sa;
  };
  std::optional<Collision> collision_;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_TASKS_IKE_REKEY_H_

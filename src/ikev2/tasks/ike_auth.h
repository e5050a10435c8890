// IkeAuth: the authentication concern of IKE_AUTH (RFC 7296 1.2, 2.15, 2.16,
// 3.5-3.8; RFC 7427): IDi/IDr, CERT/CERTREQ, AUTH with a PSK or a
// certificate (RSA or ECDSA, RFC 7427 Digital Signature when both sides
// announced SIGNATURE_HASH_ALGORITHMS, else the classic method of the key),
// INITIAL_CONTACT.
//
// Initiator: sends IDi, our CERT chain (certificate auth), CERTREQ naming
// our trust anchors (so peers that send certificates "if asked" do), IDr
// when config().send_idr, AUTH, INITIAL_CONTACT. Verifies the response's
// IDr/CERT/AUTH; AUTHENTICATION_FAILED from the peer, an EAP payload, or a
// failed check takes the IKE SA down (kAuthFailed). On success the IKE SA is
// established.
// Responder: an IKE_AUTH request without AUTH or with EAP (2.16) is refused
// with AUTHENTICATION_FAILED (mipsec has no EAP), as is one whose AUTH,
// certificate chain or identity does not verify; the response is then that
// notify alone and the IKE SA goes down. INITIAL_CONTACT is reported as an
// InitialContact event. With PeerConfig::psk_provider the PSK is the one of
// the initiator's IDi, for its AUTH and for ours.
#ifndef MIPSEC_IKEV2_TASKS_IKE_AUTH_H_
#define MIPSEC_IKEV2_TASKS_IKE_AUTH_H_

#include <optional>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"
#include "ikev2/sa/task.h"

namespace mipsec::ikev2 {

class IkeAuth final : public Task {
 public:
  explicit IkeAuth(bool initiator) : Task(initiator) {}
  TaskType type() const override { return TaskType::kIkeAuth; }
  ExchangeType exchange() const override { return ExchangeType::kIkeAuth; }
  TaskStatus Build(IkeSa& sa, Timestamp now, Message& m) override;
  TaskStatus Process(IkeSa& sa, Timestamp now, const Message& m) override;
  std::optional<NotifyPayload> FailureNotify() const override { return failure_; }

 private:
  Status AddOurAuth(IkeSa& sa, Message& m);
  Status VerifyPeer(IkeSa& sa, Timestamp now, const Message& m, const IdPayload& id);

  std::optional<NotifyPayload> failure_;
  // Responder with a PskProvider: the key of the peer's IDi (owned by the
  // provider), used for its AUTH and ours.
  const SecretBytes* peer_psk_ = nullptr;
};

// The ID payload body as AUTH covers it (RFC 7296 2.15: ID Type, RESERVED,
// Identification Data).
Bytes IdPayloadBody(const IdPayload& id);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_TASKS_IKE_AUTH_H_

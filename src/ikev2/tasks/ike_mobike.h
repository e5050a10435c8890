// IkeMobike: MOBIKE (RFC 4555), the IKEv2 mobility and multihoming protocol.
//
// One task type in several kinds, each one concern of an exchange:
//
//   kAuth (IKE_AUTH, both roles, 3.2-3.4, 3.9): MOBIKE_SUPPORTED, our
//     other addresses as ADDITIONAL_IP4_ADDRESS, and NO_NATS_ALLOWED when
//     the peer does not do NAT-T. MOBIKE is in use when both sent
//     MOBIKE_SUPPORTED. A responder refuses a NO_NATS_ALLOWED that does not
//     match the IP header with UNEXPECTED_NAT_DETECTED.
//   kUpdate (INFORMATIONAL, original initiator, 3.5): UPDATE_SA_ADDRESSES
//     with NAT detection (or NO_NATS_ALLOWED), our address list (3.6) and
//     COOKIE2. A response to an UPDATE sent before a newer move is ignored
//     (a newer UPDATE is queued); one to the current UPDATE confirms the
//     path (event PathConfirmed). UNEXPECTED_NAT_DETECTED is retried with
//     new requests (3.9); UNACCEPTABLE_ADDRESSES moves back to the last
//     confirmed path when we still have its address, else the IKE SA fails.
//   kAddresses (INFORMATIONAL, either role, 3.6): our address list changed.
//   kCheck (INFORMATIONAL, original initiator, 3.10): an empty request with
//     COOKIE2 sent over every pair of our addresses and the peer's; the pair
//     whose response arrives first is moved to (IkeSa does that).
//   kRoutability (INFORMATIONAL, responder of the IKE SA, 3.7): COOKIE2 to
//     an initiator's new address; the IPsec SAs follow the IKE SA there
//     when the response comes back from the address the check was sent to.
//   kDpd (INFORMATIONAL, original initiator behind a NAT, 3.8): the
//     liveness check with NAT detection; a NAT_DETECTION_DESTINATION_IP
//     different from the last one means the NAT mapping changed and an
//     UPDATE_SA_ADDRESSES follows.
//   kInformational (responder side of every INFORMATIONAL request): copies
//     COOKIE2 as-is into the response (3.7 MUST); with MOBIKE in use, answers
//     NAT detection (3.8), checks NO_NATS_ALLOWED (3.9), applies
//     UPDATE_SA_ADDRESSES (only from the original initiator; path policy,
//     UNACCEPTABLE_ADDRESSES) and the peer's address list.
//
// Every COOKIE2 we send is 16 random bytes; a response that does not echo
// it exactly closes the IKE SA (3.7 MUST).
#ifndef MIPSEC_IKEV2_TASKS_IKE_MOBIKE_H_
#define MIPSEC_IKEV2_TASKS_IKE_MOBIKE_H_

#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "ikev2/sa/task.h"

namespace mipsec::ikev2 {

class IkeMobike final : public Task {
 public:
  enum class Kind : std::uint8_t {
    kAuth,
    kUpdate,
    kAddresses,
    kCheck,
    kRoutability,
    kDpd,
    kInformational,
  };

  IkeMobike(bool initiator, Kind kind) : Task(initiator), kind_(kind) {}
  TaskType type() const override { return TaskType::kIkeMobike; }
  ExchangeType exchange() const override {
    return kind_ == Kind::kAuth ? ExchangeType::kIkeAuth : ExchangeType::kInformational;
  }
  Kind kind() const { return kind_; }
  // kUpdate: how many times UNEXPECTED_NAT_DETECTED was answered so far.
  void set_nat_retries(std::uint32_t n) { nat_retries_ = n; }

  TaskStatus Build(IkeSa& sa, Timestamp now, Message& m) override;
  TaskStatus Process(IkeSa& sa, Timestamp now, const Message& m) override;
  std::optional<NotifyPayload> FailureNotify() const override { return failure_; }

 private:
  TaskStatus BuildInitiator(IkeSa& sa, Message& m);
  TaskStatus ProcessInitiator(IkeSa& sa, const Message& m);
  TaskStatus ProcessResponder(IkeSa& sa, Timestamp now, const Message& m);
  void AddCookie2(IkeSa& sa, Message& m);
  bool CookieMatches(IkeSa& sa, const Message& m);

  Kind kind_;
  Bytes cookie2_;                  // initiator: what we sent
  std::uint64_t generation_ = 0;   // kUpdate: IkeSa::path_generation() when built
  Ipv4Endpoint checked_{};         // kRoutability: where the check went
  std::uint32_t nat_retries_ = 0;  // kUpdate
  // Responder.
  std::optional<NotifyPayload> cookie2_echo_;
  std::optional<NotifyType> refuse_;  // UNEXPECTED_NAT_DETECTED / UNACCEPTABLE_ADDRESSES
  bool answer_natd_ = false;
  bool peer_mobike_ = false;
  std::optional<NotifyPayload> failure_;
};

const char* MobikeKindName(IkeMobike::Kind k);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_TASKS_IKE_MOBIKE_H_

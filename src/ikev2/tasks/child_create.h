// ChildCreate: one new CHILD SA (ESP, tunnel mode), in IKE_AUTH (RFC 7296
// 1.2) or in its own CREATE_CHILD_SA exchange (1.3.1).
//
// Initiator: offers config().esp_proposals (without DH in IKE_AUTH; in
// CREATE_CHILD_SA a group other than NONE adds KEi for PFS, 1.3.1) with a
// fresh inbound SPI, and the traffic selectors (TSi = ours, TSr = the
// peer's). The response must select one offered proposal and may only
// narrow the selectors (2.9). Error notifies (NO_PROPOSAL_CHOSEN,
// TS_UNACCEPTABLE, SINGLE_PAIR_REQUIRED, INTERNAL_ADDRESS_FAILURE, ...) give
// ChildSaFailed and leave the IKE SA up; INVALID_KE_PAYLOAD in
// CREATE_CHILD_SA retries once with the requested group. We never ask for
// transport mode, and a response carrying USE_TRANSPORT_MODE fails the
// CHILD SA.
// Responder: selects an ESP proposal, narrows TSi to config().remote_ts (and
// to the peer's virtual IP when one was assigned) and TSr to
// config().local_ts; USE_TRANSPORT_MODE is declined by creating a tunnel
// mode SA without echoing it (1.3.1). Refusals: NO_PROPOSAL_CHOSEN,
// TS_UNACCEPTABLE, INVALID_KE_PAYLOAD (the group of the selected proposal),
// NO_ADDITIONAL_SAS for rekey requests that do not come through ChildRekey
// or IkeRekey (the TaskManager dispatches those). In CREATE_CHILD_SA the
// error notify is the whole response; in IKE_AUTH it goes with the IKE_AUTH
// payloads.
//
// Keys: KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) with the IKE_SA_INIT nonces in
// IKE_AUTH (2.17). ChildSaUp carries them per direction.
#ifndef MIPSEC_IKEV2_TASKS_CHILD_CREATE_H_
#define MIPSEC_IKEV2_TASKS_CHILD_CREATE_H_

#include <memory>
#include <optional>
#include <vector>

#include "crypto/dh.h"
#include "ikev2/sa/io.h"
#include "ikev2/sa/proposals.h"
#include "ikev2/sa/task.h"

namespace mipsec::ikev2 {

class ChildCreate final : public Task {
 public:
  // `exchange` is kIkeAuth or kCreateChildSa.
  ChildCreate(bool initiator, ExchangeType exchange) : Task(initiator), exchange_(exchange) {}
  TaskType type() const override { return TaskType::kChildCreate; }
  ExchangeType exchange() const override { return exchange_; }
  TaskStatus Build(IkeSa& sa, Timestamp now, Message& m) override;
  TaskStatus Process(IkeSa& sa, Timestamp now, const Message& m) override;
  void Abort(IkeSa& sa) override;

  // This CHILD SA replaces (rekeys) the one whose inbound SPI is
  // `old_spi_in` (ChildRekey drives it; RFC 7296 1.3.3). The responder then
  // accepts the request's REKEY_SA; ChildSaUp names the old SA.
  void SetRekey(std::uint32_t old_spi_in) { replaces_ = old_spi_in; }
  // After the exchange: the nonces it used and the CHILD SA it created.
  const Bytes& exchange_ni() const { return ni_; }
  const Bytes& exchange_nr() const { return nr_; }
  std::optional<std::uint32_t> created_spi_in() const { return created_; }

  // Initiator: the selectors to propose (default: the configured ones).
  void SetSelectors(std::vector<TrafficSelector> local, std::vector<TrafficSelector> remote) {
    local_ts_ = std::move(local);
    remote_ts_ = std::move(remote);
  }

 private:
  TaskStatus ProcessResponse(IkeSa& sa, const Message& m);
  void ProcessRequest(IkeSa& sa, const Message& m);
  void Refuse(IkeSa& sa, NotifyPayload n, const std::string& why);
  bool in_auth() const { return exchange_ == ExchangeType::kIkeAuth; }

  ExchangeType exchange_;
  std::vector<TrafficSelector> local_ts_;   // initiator: proposed TSi; responder: narrowed TSr
  std::vector<TrafficSelector> remote_ts_;  // initiator: proposed TSr; responder: narrowed TSi
  std::vector<Suite> offered_;
  std::uint32_t spi_in_ = 0;
  Bytes ni_, nr_;  // CREATE_CHILD_SA nonces
  DhId group_ = DhId::kNone;
  std::unique_ptr<crypto::KeyExchange> ke_;
  int retries_ = 0;
  bool skip_ = false;                   // responder: nothing to answer
  std::optional<NotifyPayload> error_;  // responder: the refusal
  std::optional<ChildSaInfo> child_;    // responder: ready to install
  std::uint8_t proposal_number_ = 0;
  std::optional<std::uint32_t> replaces_;
  std::optional<std::uint32_t> created_;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_TASKS_CHILD_CREATE_H_

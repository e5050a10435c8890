// IkeNatd: NAT detection in IKE_SA_INIT (RFC 7296 2.23).
//
// Both sides send NAT_DETECTION_SOURCE_IP (hash of the SPIs of the message
// and the sender's address and port) and NAT_DETECTION_DESTINATION_IP (the
// receiver's), and compare the peer's with what they see: a SOURCE that
// does not match means the peer is behind a NAT, a DESTINATION that does
// not match means we are. Either result makes the IKE SA use UDP
// encapsulation for ESP (RFC 3948) and the initiator move IKE to the NAT-T
// port (IkeSa::SetNatState). The responder answers with its own notifies
// only if the initiator sent some. With config().force_encapsulation the
// SOURCE hash is random, so the peer believes we are behind a NAT; a peer
// faking it the same way is accepted as being behind a NAT.
//
// Note: hashes are computed over IkeSa::local()/remote(), so the runtime
// must give the IkeSa its real local address (not 0.0.0.0).
#ifndef MIPSEC_IKEV2_TASKS_IKE_NATD_H_
#define MIPSEC_IKEV2_TASKS_IKE_NATD_H_

#include "common/bytes.h"
#include "common/ip/address.h"
#include "ikev2/sa/task.h"

namespace mipsec::ikev2 {

// The NAT detection both IkeNatd (IKE_SA_INIT) and IkeMobike (RFC 4555 3.5,
// 3.8: UPDATE_SA_ADDRESSES, liveness checks) use.
//
// Adds our NAT_DETECTION_SOURCE_IP / _DESTINATION_IP for a message with SPIs
// `spi_i`/`spi_r` from `source` to `destination` (a random SOURCE hash with
// config().force_encapsulation).
void AddNatDetection(IkeSa& sa, Message& m, std::uint64_t spi_i, std::uint64_t spi_r,
                     const Ipv4Endpoint& source, const Ipv4Endpoint& destination);

struct NatDetectionResult {
  bool present = false;            // both notifies were there
  bool local_behind_nat = false;   // our address was changed on the way (or we force it)
  bool remote_behind_nat = false;  // the sender's was
  Bytes destination;               // the first NAT_DETECTION_DESTINATION_IP as received
};
// Compares the notifies of `m` (sent from `sender` to `us`, as seen on the
// wire) with the hashes of those endpoints under m's SPIs. Several SOURCE
// notifies are allowed (a multihomed sender): any match counts.
NatDetectionResult EvaluateNatDetection(const IkeSa& sa, const Message& m, const Ipv4Endpoint& us,
                                        const Ipv4Endpoint& sender);

class IkeNatd final : public Task {
 public:
  explicit IkeNatd(bool initiator) : Task(initiator) {}
  TaskType type() const override { return TaskType::kIkeNatd; }
  ExchangeType exchange() const override { return ExchangeType::kIkeSaInit; }
  TaskStatus Build(IkeSa& sa, Timestamp now, Message& m) override;
  TaskStatus Process(IkeSa& sa, Timestamp now, const Message& m) override;

 private:
  bool peer_supports_ = false;  // responder: the request had NAT_DETECTION_*
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_TASKS_IKE_NATD_H_

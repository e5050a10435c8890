#include "ikev2/tasks/ike_natd.h"

#include "common/log.h"
#include "ikev2/crypto/nat_detect.h"
#include "ikev2/sa/ike_sa.h"

namespace mipsec::ikev2 {
namespace {

Bytes Hash(std::uint64_t spi_i, std::uint64_t spi_r, const Ipv4Endpoint& ep) {
  Result<Bytes> h = NatDetectionHash(spi_i, spi_r, ep.address, ep.port);
  return h.ok() ? std::move(*h) : Bytes();
}

}  // namespace

TaskStatus IkeNatd::Build(IkeSa& sa, Timestamp /*now*/, Message& m) {
  if (!initiator() && !peer_supports_) return TaskStatus::kDone;
  // The SPIs as they will be in this message's header (2.23).
  const std::uint64_t spi_i = sa.spi_i();
  const std::uint64_t spi_r = initiator() ? 0 : sa.spi_r();
  Bytes src = Hash(spi_i, spi_r, sa.local());
  if (sa.config().force_encapsulation) sa.rng().Fill(src);
  AddPayload(m, Payload::Notify(NotifyPayload::Make(NotifyType::kNatDetectionSourceIp, src)));
  AddPayload(m, Payload::Notify(NotifyPayload::Make(NotifyType::kNatDetectionDestinationIp,
                                                    Hash(spi_i, spi_r, sa.remote()))));
  return initiator() ? TaskStatus::kNeedMore : TaskStatus::kDone;
}

TaskStatus IkeNatd::Process(IkeSa& sa, Timestamp /*now*/, const Message& m) {
  bool have_src = false, have_dst = false, src_match = false, dst_match = false;
  const Bytes src_hash = Hash(m.header.spi_i, m.header.spi_r, sa.remote());
  const Bytes dst_hash = Hash(m.header.spi_i, m.header.spi_r, sa.local());
  for (const NotifyPayload* n : m.Notifies()) {
    if (n->type == NotifyType::kNatDetectionSourceIp) {
      have_src = true;  // several are allowed (a multihomed sender)
      src_match = src_match || n->data == src_hash;
    } else if (n->type == NotifyType::kNatDetectionDestinationIp) {
      have_dst = true;
      dst_match = dst_match || n->data == dst_hash;
    }
  }
  if (!have_src || !have_dst) {
    // No NAT-T support on the other side (or a COOKIE/INVALID_KE response).
    return initiator() ? TaskStatus::kDone : TaskStatus::kNeedMore;
  }
  peer_supports_ = true;
  sa.set_peer_natt(true);
  if (initiator()) {
    // RFC 4555 3.8: what later liveness checks compare against.
    if (const NotifyPayload* d = m.FindNotify(NotifyType::kNatDetectionDestinationIp)) {
      sa.last_natd_destination() = d->data;
    }
  }
  // Forcing encapsulation, we act as if we were behind a NAT ourselves.
  sa.SetNatState(/*local_behind_nat=*/!dst_match || sa.config().force_encapsulation,
                 /*remote_behind_nat=*/!src_match);
  return initiator() ? TaskStatus::kDone : TaskStatus::kNeedMore;
}

}  // namespace mipsec::ikev2

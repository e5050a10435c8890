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

void AddNatDetection(IkeSa& sa, Message& m, std::uint64_t spi_i, std::uint64_t spi_r,
                     const Ipv4Endpoint& source, const Ipv4Endpoint& destination) {
  Bytes src = Hash(spi_i, spi_r, source);
  if (sa.config().force_encapsulation) sa.rng().Fill(src);
  AddPayload(m, Payload::Notify(NotifyPayload::Make(NotifyType::kNatDetectionSourceIp, src)));
  AddPayload(m, Payload::Notify(NotifyPayload::Make(NotifyType::kNatDetectionDestinationIp,
                                                    Hash(spi_i, spi_r, destination))));
}

NatDetectionResult EvaluateNatDetection(const IkeSa& sa, const Message& m, const Ipv4Endpoint& us,
                                        const Ipv4Endpoint& sender) {
  NatDetectionResult r;
  bool have_src = false, have_dst = false, src_match = false, dst_match = false;
  const Bytes src_hash = Hash(m.header.spi_i, m.header.spi_r, sender);
  const Bytes dst_hash = Hash(m.header.spi_i, m.header.spi_r, us);
  for (const NotifyPayload* n : m.Notifies()) {
    if (n->type == NotifyType::kNatDetectionSourceIp) {
      have_src = true;
      src_match = src_match || n->data == src_hash;
    } else if (n->type == NotifyType::kNatDetectionDestinationIp) {
      if (!have_dst) r.destination = n->data;
      have_dst = true;
      dst_match = dst_match || n->data == dst_hash;
    }
  }
  r.present = have_src && have_dst;
  // Forcing encapsulation, we act as if we were behind a NAT ourselves.
  r.local_behind_nat = !dst_match || sa.config().force_encapsulation;
  r.remote_behind_nat = !src_match;
  return r;
}

TaskStatus IkeNatd::Build(IkeSa& sa, Timestamp /*now*/, Message& m) {
  if (!initiator() && !peer_supports_) return TaskStatus::kDone;
  // The SPIs as they will be in this message's header (2.23).
  AddNatDetection(sa, m, sa.spi_i(), initiator() ? 0 : sa.spi_r(), sa.local(), sa.remote());
  return initiator() ? TaskStatus::kNeedMore : TaskStatus::kDone;
}

TaskStatus IkeNatd::Process(IkeSa& sa, Timestamp /*now*/, const Message& m) {
  const NatDetectionResult nat = EvaluateNatDetection(sa, m, sa.local(), sa.remote());
  if (!nat.present) {
    // No NAT-T support on the other side (or a COOKIE/INVALID_KE response).
    return initiator() ? TaskStatus::kDone : TaskStatus::kNeedMore;
  }
  peer_supports_ = true;
  sa.set_peer_natt(true);
  // RFC 4555 3.8: what later liveness checks compare against.
  if (initiator()) sa.last_natd_destination() = nat.destination;
  sa.SetNatState(nat.local_behind_nat, nat.remote_behind_nat);
  return initiator() ? TaskStatus::kDone : TaskStatus::kNeedMore;
}

}  // namespace mipsec::ikev2

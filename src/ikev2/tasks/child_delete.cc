#include "ikev2/tasks/child_delete.h"

#include "common/log.h"
#include "ikev2/sa/ike_sa.h"

namespace mipsec::ikev2 {

TaskStatus ChildDelete::Build(IkeSa& sa, Timestamp /*now*/, Message& m) {
  if (!initiator()) {
    if (!answer_.empty()) AddPayload(m, Payload::Delete(DeletePayload::Esp(answer_)));
    return TaskStatus::kDone;
  }
  ChildSa* c = sa.FindChildMutable(spi_in_);
  if (c == nullptr || c->state == ChildSaState::kDeleting) {
    return TaskStatus::kDone;  // gone meanwhile (the peer deleted it), or already going
  }
  // A replaced SA keeps its kRekeyed mark (ChildSaDown{kRekeyed}).
  if (c->state != ChildSaState::kRekeyed) c->state = ChildSaState::kDeleting;
  AddPayload(m, Payload::Delete(DeletePayload::Esp({spi_in_})));
  return TaskStatus::kNeedMore;
}

TaskStatus ChildDelete::Process(IkeSa& sa, Timestamp /*now*/, const Message& m) {
  if (initiator()) {
    const ChildSa* c = sa.FindChild(spi_in_);
    sa.RemoveChild(spi_in_, c != nullptr && c->state == ChildSaState::kRekeyed
                                ? ChildDownReason::kRekeyed
                                : ChildDownReason::kDeleted);
    return TaskStatus::kDone;
  }
  for (const Payload* p : m.FindAll(PayloadType::kDelete)) {
    const DeletePayload* d = p->As<DeletePayload>();
    if (d == nullptr || d->protocol != ProtocolId::kEsp) continue;
    for (std::uint32_t spi : d->spis) {
      ChildSa* c = sa.FindChildByOutbound(spi);
      if (c == nullptr) continue;
      const std::uint32_t ours = c->info.spi_in;
      if (c->state != ChildSaState::kDeleting) answer_.push_back(ours);
      sa.RemoveChild(ours, c->state == ChildSaState::kRekeyed ? ChildDownReason::kRekeyed
                                                              : ChildDownReason::kDeletedByPeer);
    }
  }
  return TaskStatus::kNeedMore;
}

}  // namespace mipsec::ikev2

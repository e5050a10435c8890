#include "ikev2/tasks/child_rekey.h"

#include <algorithm>

#include "common/log.h"
#include "common/wire/writer.h"
#include "ikev2/codec/notify_data.h"
#include "ikev2/sa/ike_sa.h"
#include "ikev2/tasks/child_delete.h"

namespace mipsec::ikev2 {
namespace {

// RFC 7296 2.8.1: octet by octet; a nonce that is a prefix of the other is
// the lower one.
const Bytes& Lower(const Bytes& a, const Bytes& b) {
  return std::lexicographical_compare(b.begin(), b.end(), a.begin(), a.end()) ? b : a;
}

bool Less(const Bytes& a, const Bytes& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

ChildRekey::ChildRekey(bool initiator, std::uint32_t old_spi_in)
    : Task(initiator), old_spi_in_(old_spi_in), child_(initiator, ExchangeType::kCreateChildSa) {}

void ChildRekey::NoteCollision(Bytes ni, Bytes nr, std::uint32_t new_spi_in) {
  collision_ = Collision{std::move(ni), std::move(nr), new_spi_in};
}

TaskStatus ChildRekey::Build(IkeSa& sa, Timestamp now, Message& m) {
  if (!initiator()) {
    if (refusal_) {
      AddPayload(m, Payload::Notify(*refusal_));
      return TaskStatus::kDone;
    }
    const TaskStatus st = child_.Build(sa, now, m);
    if (child_.created_spi_in()) {
      ChildSa* old = sa.FindChildMutable(old_spi_in_);
      if (old != nullptr && old->state == ChildSaState::kRekeying) {
        // 2.8.1: our own rekey of this SA is under way; it decides.
        if (Task* t = sa.task_manager().FindActive(TaskType::kChildRekey)) {
          auto* mine = static_cast<ChildRekey*>(t);
          if (mine->old_spi_in() == old_spi_in_) {
            mine->NoteCollision(child_.exchange_ni(), child_.exchange_nr(),
                                *child_.created_spi_in());
          }
        }
      } else if (old != nullptr) {
        old->state = ChildSaState::kRekeyed;  // the peer deletes it
      }
    }
    return st;
  }
  ChildSa* old = sa.FindChildMutable(old_spi_in_);
  if (old == nullptr || old->state != ChildSaState::kInstalled) {
    return TaskStatus::kDone;  // deleted or rekeyed meanwhile
  }
  if (!started_) {
    child_.SetRekey(old_spi_in_);
    child_.SetSelectors(old->info.local_ts, old->info.remote_ts);
    started_ = true;
  }
  old->state = ChildSaState::kRekeying;
  AddPayload(m, Payload::Notify(MakeRekeySa(ProtocolId::kEsp, old_spi_in_)));
  return child_.Build(sa, now, m);
}

TaskStatus ChildRekey::Process(IkeSa& sa, Timestamp now, const Message& m) {
  if (!initiator()) {
    const NotifyPayload* n = m.FindNotify(NotifyType::kRekeySa);
    Result<RekeySa> r = n != nullptr ? ParseRekeySa(*n) : Result<RekeySa>(Error(Errc::kMalformed, ""));
    ChildSa* old = r.ok() ? sa.FindChildByOutbound(r->spi) : nullptr;
    if (old == nullptr) {
      Bytes spi(4, 0);
      if (r.ok()) wire::StoreU32(spi, 0, r->spi);
      refusal_ = NotifyPayload{ProtocolId::kEsp, spi, NotifyType::kChildSaNotFound, {}};
      return TaskStatus::kNeedMore;
    }
    if (old->state == ChildSaState::kDeleting || old->state == ChildSaState::kRekeyed) {
      refusal_ = NotifyPayload::Make(NotifyType::kTemporaryFailure);
      return TaskStatus::kNeedMore;
    }
    old_spi_in_ = old->info.spi_in;
    child_.SetRekey(old_spi_in_);
    return child_.Process(sa, now, m);
  }
  const TaskStatus st = child_.Process(sa, now, m);
  if (st == TaskStatus::kNeedMore) {  // INVALID_KE_PAYLOAD retry
    if (ChildSa* old = sa.FindChildMutable(old_spi_in_)) old->state = ChildSaState::kInstalled;
    return st;
  }
  ChildSa* old = sa.FindChildMutable(old_spi_in_);
  if (!child_.created_spi_in()) {
    // Refused: the old SA stays (unless the peer deleted it meanwhile).
    if (old != nullptr && old->state == ChildSaState::kRekeying) {
      old->state = ChildSaState::kInstalled;
      // RFC 7296 2.25: not at once, but after a while.
      if (m.FindNotify(NotifyType::kTemporaryFailure) != nullptr) {
        sa.RetryChildRekeyLater(now, old_spi_in_);
      }
    }
    return TaskStatus::kDone;
  }
  if (collision_) {
    ResolveCollision(sa);
  } else if (old != nullptr) {
    old->state = ChildSaState::kRekeyed;
    sa.task_manager().Queue(std::make_unique<ChildDelete>(true, old_spi_in_));
  }
  return TaskStatus::kDone;
}

void ChildRekey::ResolveCollision(IkeSa& sa) {
  const Bytes& ours = Lower(child_.exchange_ni(), child_.exchange_nr());
  const Bytes& theirs = Lower(collision_->ni, collision_->nr);
  ChildSa* old = sa.FindChildMutable(old_spi_in_);
  if (Less(ours, theirs)) {
    // Our exchange holds the lowest nonce: our new SA is redundant and ours
    // to delete; the peer's new SA survives and the peer deletes the old.
    MIPSEC_LOG(sa.log(), kInfo) << "rekey collision lost, deleting redundant CHILD SA "
                                << *child_.created_spi_in();
    if (old != nullptr) old->state = ChildSaState::kRekeyed;
    if (ChildSa* mine = sa.FindChildMutable(*child_.created_spi_in())) {
      mine->state = ChildSaState::kRekeyed;
    }
    sa.task_manager().Queue(std::make_unique<ChildDelete>(true, *child_.created_spi_in()));
  } else {
    MIPSEC_LOG(sa.log(), kInfo) << "rekey collision won, deleting the old CHILD SA";
    if (old != nullptr) {
      old->state = ChildSaState::kRekeyed;
      sa.task_manager().Queue(std::make_unique<ChildDelete>(true, old_spi_in_));
    }
    // The peer deletes its redundant SA (ours: collision_->new_spi_in).
  }
}

void ChildRekey::Abort(IkeSa& /*sa*/) {}

}  // namespace mipsec::ikev2

#include "ikev2/tasks/ike_delete.h"

#include "ikev2/sa/ike_sa.h"

namespace mipsec::ikev2 {

TaskStatus IkeDelete::Build(IkeSa& sa, Timestamp /*now*/, Message& m) {
  if (!initiator()) {
    sa.FailAfterResponse(IkeDownReason::kDeletedByPeer, "deleted by the peer");
    return TaskStatus::kDone;
  }
  sa.SetDeleting();
  AddPayload(m, Payload::Delete(DeletePayload::Ike()));
  return TaskStatus::kNeedMore;
}

TaskStatus IkeDelete::Process(IkeSa& sa, Timestamp /*now*/, const Message& /*m*/) {
  if (initiator()) {
    sa.Fail(IkeDownReason::kDeleted, "deleted");
    return TaskStatus::kDone;
  }
  return TaskStatus::kNeedMore;
}

}  // namespace mipsec::ikev2

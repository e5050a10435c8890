// IkeDelete: deleting the IKE SA with an INFORMATIONAL D(IKE) (RFC 7296
// 1.4.1). Deleting the IKE SA deletes its CHILD SAs implicitly.
//
// Initiator: the IKE SA goes to kDeleting, sends D(IKE), and goes down
// (IkeSaDown{kDeleted}) when the response arrives or retransmissions give up.
// Responder: answers with an empty INFORMATIONAL and goes down
// (kDeletedByPeer) once the response is sent.
#ifndef MIPSEC_IKEV2_TASKS_IKE_DELETE_H_
#define MIPSEC_IKEV2_TASKS_IKE_DELETE_H_

#include "ikev2/sa/task.h"

namespace mipsec::ikev2 {

class IkeDelete final : public Task {
 public:
  explicit IkeDelete(bool initiator) : Task(initiator) {}
  TaskType type() const override { return TaskType::kIkeDelete; }
  ExchangeType exchange() const override { return ExchangeType::kInformational; }
  TaskStatus Build(IkeSa& sa, Timestamp now, Message& m) override;
  TaskStatus Process(IkeSa& sa, Timestamp now, const Message& m) override;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_TASKS_IKE_DELETE_H_

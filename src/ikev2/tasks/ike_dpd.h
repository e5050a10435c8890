// IkeDpd: the liveness check (RFC 7296 2.4): an empty INFORMATIONAL request
// that the peer must answer. IkeSa queues it when nothing authenticated came
// from the peer for config().dpd_interval; if retransmissions give up, the
// IKE SA goes down (IkeSaDown{kTimeout}). The responder side needs no task:
// an empty INFORMATIONAL request gets an empty response.
#ifndef MIPSEC_IKEV2_TASKS_IKE_DPD_H_
#define MIPSEC_IKEV2_TASKS_IKE_DPD_H_

#include "ikev2/sa/task.h"

namespace mipsec::ikev2 {

class IkeDpd final : public Task {
 public:
  explicit IkeDpd(bool initiator) : Task(initiator) {}
  TaskType type() const override { return TaskType::kIkeDpd; }
  ExchangeType exchange() const override { return ExchangeType::kInformational; }
  TaskStatus Build(IkeSa&, Timestamp, Message&) override { return TaskStatus::kNeedMore; }
  TaskStatus Process(IkeSa&, Timestamp, const Message&) override { return TaskStatus::kDone; }
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_TASKS_IKE_DPD_H_

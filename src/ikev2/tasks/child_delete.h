// ChildDelete: deleting CHILD SAs with INFORMATIONAL Delete payloads
// (RFC 7296 1.4.1, 3.11).
//
// Initiator: D(ESP, our inbound SPI) for one CHILD SA (several ChildDelete
// tasks share one exchange); the CHILD SA goes down (ChildSaDown{kDeleted})
// when the response arrives. Responder: each SPI in the request names the
// peer's inbound SPI, i.e. our outbound one; those CHILD SAs go down
// (kDeletedByPeer) and the response lists our inbound SPIs of them, except
// for CHILD SAs we are deleting ourselves at the same time (1.4.1: the
// crossing requests each delete one direction; the responses carry no
// Delete for them). Unknown SPIs are ignored.
#ifndef MIPSEC_IKEV2_TASKS_CHILD_DELETE_H_
#define MIPSEC_IKEV2_TASKS_CHILD_DELETE_H_

#include <cstdint>
#include <vector>

#include "ikev2/sa/task.h"

namespace mipsec::ikev2 {

class ChildDelete final : public Task {
 public:
  // Initiator: `spi_in` names the CHILD SA. Responder: spi_in unused.
  explicit ChildDelete(bool initiator, std::uint32_t spi_in = 0)
      : Task(initiator), spi_in_(spi_in) {}
  TaskType type() const override { return TaskType::kChildDelete; }
  ExchangeType exchange() const override { return ExchangeType::kInformational; }
  TaskStatus Build(IkeSa& sa, Timestamp now, Message& m) override;
  TaskStatus Process(IkeSa& sa, Timestamp now, const Message& m) override;
  std::uint32_t spi_in() const { return spi_in_; }

 private:
  std::uint32_t spi_in_;
  std::vector<std::uint32_t> answer_;  // responder: our inbound SPIs deleted
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_TASKS_CHILD_DELETE_H_

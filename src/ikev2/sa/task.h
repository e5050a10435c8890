// Task: one concern of an IKE SA (docs/STYLE.md 6, after strongSwan's
// sa/task.h). The TaskManager composes the queued tasks of one exchange type
// into a request, and on the responder creates fresh responder tasks for a
// request. The role is fixed at construction:
//
//   initiator: Build(request) ... Process(response)
//   responder: Process(request) ... Build(response)
//
// Status after each call:
//   kDone     the task is finished and removed;
//   kNeedMore the task takes part in the next exchange too (IKE_SA_INIT
//             retried with a COOKIE or another KE group: same Message ID 0;
//             otherwise a new exchange);
//   kFailed   the IKE SA fails: an initiator task has set the reason with
//             IkeSa::Fail(); a responder task names the error notify that
//             alone makes up the response (FailureNotify()), after which the
//             IKE SA goes down.
// Tasks never send; they add payloads to the message they are given
// (AddPayload puts them outside SK for IKE_SA_INIT and inside otherwise).
#ifndef MIPSEC_IKEV2_SA_TASK_H_
#define MIPSEC_IKEV2_SA_TASK_H_

#include <cstdint>
#include <optional>

#include "common/time.h"
#include "ikev2/codec/ids.h"
#include "ikev2/codec/message.h"

namespace mipsec::ikev2 {

class IkeSa;

enum class TaskType : std::uint8_t {
  kIkeInit,
  kIkeNatd,
  kIkeAuth,
  kIkeConfig,
  kChildCreate,
  kChildDelete,
  kChildRekey,
  kIkeDelete,
  kIkeDpd,
  kIkeRekey,
  kIkeMobike,
};

const char* TaskTypeName(TaskType t);

enum class TaskStatus : std::uint8_t { kDone, kNeedMore, kFailed };

class Task {
 public:
  explicit Task(bool initiator) : initiator_(initiator) {}
  virtual ~Task() = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  virtual TaskType type() const = 0;
  virtual ExchangeType exchange() const = 0;
  bool initiator() const { return initiator_; }

  virtual TaskStatus Build(IkeSa& sa, Timestamp now, Message& m) = 0;
  virtual TaskStatus Process(IkeSa& sa, Timestamp now, const Message& m) = 0;

  // Responder, after Process() returned kFailed: the response's only payload.
  virtual std::optional<NotifyPayload> FailureNotify() const { return std::nullopt; }
  // Initiator: the request could not be delivered (retransmissions gave up
  // or the IKE SA went down with the task queued or in flight).
  virtual void Abort(IkeSa& /*sa*/) {}

 private:
  bool initiator_;
};

// Appends `p` where it belongs in `m`: unprotected for IKE_SA_INIT, inside
// SK for every other exchange.
inline void AddPayload(Message& m, Payload p) {
  if (m.header.exchange == ExchangeType::kIkeSaInit) {
    m.payloads.push_back(std::move(p));
  } else {
    m.inner.push_back(std::move(p));
  }
}

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_SA_TASK_H_

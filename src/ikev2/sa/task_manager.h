// TaskManager: composes an IKE SA's tasks into exchanges and owns Message IDs
// and retransmission (RFC 7296 2.1-2.3, docs/STYLE.md 6).
//
// Initiator side: tasks are queued; when no request is in flight the next
// exchange is built from the first queued task and the queued tasks that
// share its exchange (IKE_SA_INIT: IkeInit + IkeNatd; IKE_AUTH: IkeAuth +
// IkeConfig + ChildCreate; INFORMATIONAL: several ChildDelete; others one
// task). The request is retransmitted after the configured timeout with
// exponential backoff until the response arrives or the retries are used up,
// which takes the IKE SA down (IkeDownReason::kTimeout).
//
// Responder side: a request with the next expected Message ID is dispatched
// to fresh responder tasks chosen from its exchange and content; the
// response is cached and sent again, unchanged, when the same request comes
// again (2.1). Window size 1 both ways (no SET_WINDOW_SIZE).
//
// The IkeSa does the wire work (decode, decrypt, encrypt, fragment, send);
// the TaskManager calls IkeSa::SendMessage() and receives decoded messages.
#ifndef MIPSEC_IKEV2_SA_TASK_MANAGER_H_
#define MIPSEC_IKEV2_SA_TASK_MANAGER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/time.h"
#include "ikev2/codec/message.h"
#include "ikev2/sa/task.h"

namespace mipsec::ikev2 {

class IkeSa;

class TaskManager {
 public:
  explicit TaskManager(IkeSa& sa) : sa_(sa) {}

  // Initiator side.
  void Queue(std::unique_ptr<Task> task);
  // Starts the next exchange if none is in flight and a queued task may run
  // in the IKE SA's state. Call after queueing and after each exchange.
  void Initiate(Timestamp now);
  bool HasQueued(TaskType t) const;
  bool HasQueuedIf(const std::function<bool(const Task&)>& pred) const;
  bool HasActive(TaskType t) const;
  // A request is in flight.
  bool busy() const { return !active_.empty(); }
  std::size_t queued() const { return queue_.size(); }
  // Message ID of the next request we send / of the request in flight.
  std::uint32_t next_request_id() const { return request_id_; }
  // Whether a response with this Message ID is the one we wait for.
  bool ExpectsResponse(std::uint32_t message_id) const {
    return !active_.empty() && message_id == request_id_;
  }
  void OnResponse(Timestamp now, const Message& m);

  // Responder side.
  enum class RequestKind : std::uint8_t { kNew, kRetransmit, kInvalid };
  RequestKind ClassifyRequest(std::uint32_t message_id) const;
  void OnRequest(Timestamp now, const Message& m);
  // Sends the cached response again (2.1).
  void ResendResponse();
  // Answers a request that cannot be processed with a lone error notify
  // (INVALID_SYNTAX, UNSUPPORTED_CRITICAL_PAYLOAD), consuming its Message ID.
  void RespondWithError(Timestamp now, const IkeHeader& request, NotifyPayload n);

  // Retransmission timer.
  Timestamp NextTimeout() const { return retransmit_at_; }
  void OnTimeout(Timestamp now);
  // The IKE SA's path changed (MOBIKE) with a request in flight: sends it
  // again now over the new path and restarts the backoff (RFC 4555 3.5).
  void RetransmitNow(Timestamp now);

  // The IKE SA is going down: aborts queued and active tasks, stops
  // retransmitting.
  void AbortAll();
  // Destroys finished tasks. Tasks are never destroyed while one of their
  // methods may be on the stack; IkeSa calls this at each entry point.
  void Collect() { retired_.clear(); }
  // Removes and returns the queued (not yet started) tasks; IKE rekeying
  // moves them to the new IKE SA (RFC 7296 2.8).
  std::deque<std::unique_ptr<Task>> TakeQueued();

  // Hook for rekey collision handling (RFC 7296 2.8.1, 2.25): the active
  // initiator task of type `t`, if any.
  Task* FindActive(TaskType t) const;
  Task* FindQueued(TaskType t) const;

 private:
  void SendRequest(Timestamp now);
  void ArmRetransmit(Timestamp now);
  std::vector<std::unique_ptr<Task>> CreateResponderTasks(const Message& m);

  IkeSa& sa_;
  std::deque<std::unique_ptr<Task>> queue_;
  std::vector<std::unique_ptr<Task>> active_;
  ExchangeType active_exchange_ = ExchangeType::kIkeSaInit;
  std::uint32_t request_id_ = 0;        // of the request in flight / next one
  std::vector<Bytes> request_bytes_;    // in flight, for retransmission
  std::uint32_t retransmits_ = 0;
  Timestamp retransmit_at_ = Timestamp::Infinite();

  std::uint32_t expected_request_id_ = 0;  // next request we accept
  bool have_response_ = false;             // a response to expected_request_id_-1 is cached
  std::vector<Bytes> response_bytes_;
  std::vector<std::unique_ptr<Task>> retired_;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_SA_TASK_MANAGER_H_

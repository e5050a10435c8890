#include "ikev2/sa/task_manager.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "ikev2/sa/ike_sa.h"
#include "ikev2/tasks/child_create.h"
#include "ikev2/tasks/child_delete.h"
#include "ikev2/tasks/child_rekey.h"
#include "ikev2/tasks/ike_auth.h"
#include "ikev2/tasks/ike_config.h"
#include "ikev2/tasks/ike_delete.h"
#include "ikev2/tasks/ike_init.h"
#include "ikev2/tasks/ike_mobike.h"
#include "ikev2/tasks/ike_natd.h"
#include "ikev2/tasks/ike_rekey.h"

namespace mipsec::ikev2 {
namespace {

// Whether a queued task may share the exchange that `first` starts.
bool Combinable(const Task& first, const Task& t) {
  if (t.exchange() != first.exchange()) return false;
  switch (first.exchange()) {
    case ExchangeType::kIkeSaInit:
    case ExchangeType::kIkeAuth:
      return true;
    case ExchangeType::kInformational:
      return first.type() == TaskType::kChildDelete && t.type() == TaskType::kChildDelete;
    default:
      return false;
  }
}

bool MayRun(const Task& t, const IkeSa& sa) {
  switch (t.exchange()) {
    case ExchangeType::kIkeSaInit:
    case ExchangeType::kIkeAuth:
      return sa.state() == IkeSaState::kConnecting;
    default:
      // A superseded IKE SA (rekeyed, 2.8) only deletes itself.
      return sa.state() == IkeSaState::kEstablished &&
             (!sa.superseded() || t.type() == TaskType::kIkeDelete);
  }
}

IkeDownReason ReasonFor(NotifyType n) {
  switch (n) {
    case NotifyType::kAuthenticationFailed: return IkeDownReason::kAuthFailed;
    case NotifyType::kNoProposalChosen: return IkeDownReason::kNoProposal;
    default: return IkeDownReason::kFailed;
  }
}

}  // namespace

void TaskManager::Queue(std::unique_ptr<Task> task) { queue_.push_back(std::move(task)); }

bool TaskManager::HasQueued(TaskType t) const { return FindQueued(t) != nullptr; }
bool TaskManager::HasActive(TaskType t) const { return FindActive(t) != nullptr; }

bool TaskManager::HasQueuedIf(const std::function<bool(const Task&)>& pred) const {
  return std::any_of(queue_.begin(), queue_.end(), [&](const auto& t) { return pred(*t); });
}

Task* TaskManager::FindActive(TaskType t) const {
  for (const auto& a : active_) {
    if (a->type() == t) return a.get();
  }
  return nullptr;
}

Task* TaskManager::FindQueued(TaskType t) const {
  for (const auto& q : queue_) {
    if (q->type() == t) return q.get();
  }
  return nullptr;
}

void TaskManager::Initiate(Timestamp now) {
  if (busy() || queue_.empty() || sa_.state() == IkeSaState::kDown) return;
  // The first queued task that may run now starts the exchange.
  auto first = std::find_if(queue_.begin(), queue_.end(),
                            [&](const auto& t) { return MayRun(*t, sa_); });
  if (first == queue_.end()) return;
  active_.push_back(std::move(*first));
  queue_.erase(first);
  const Task& lead = *active_.front();
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (Combinable(lead, **it)) {
      active_.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  active_exchange_ = lead.exchange();
  SendRequest(now);
}

void TaskManager::SendRequest(Timestamp now) {
  Message m;
  m.header.exchange = active_exchange_;
  m.header.message_id = request_id_;
  m.header.response = false;
  for (std::size_t i = 0; i < active_.size();) {
    const TaskStatus st = active_[i]->Build(sa_, now, m);
    if (sa_.state() == IkeSaState::kDown) return;
    if (st == TaskStatus::kFailed) {
      sa_.Fail(IkeDownReason::kFailed,
               std::string("building ") + TaskTypeName(active_[i]->type()) + " failed");
      return;
    }
    if (st == TaskStatus::kDone) {  // nothing to wait for
      retired_.push_back(std::move(active_[i]));
      active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    ++i;
  }
  if (active_.empty()) {
    sa_.OnExchangeDone(now);
    return;
  }
  Result<std::vector<Bytes>> sent = sa_.SendMessage(m);
  if (!sent.ok()) {
    sa_.Fail(IkeDownReason::kFailed, "sending " + ExchangeTypeName(active_exchange_) +
                                         " request: " + sent.error().ToString());
    return;
  }
  request_bytes_ = std::move(*sent);
  retransmits_ = 0;
  ArmRetransmit(now);
}

void TaskManager::ArmRetransmit(Timestamp now) {
  const RetransmitConfig& rc = sa_.config().retransmit;
  Duration wait = rc.initial_timeout;
  for (std::uint32_t i = 0; i < retransmits_ && wait < rc.max_timeout; ++i) {
    wait = wait * static_cast<std::int64_t>(std::max<std::uint32_t>(rc.backoff_factor, 1));
  }
  if (wait > rc.max_timeout) wait = rc.max_timeout;
  retransmit_at_ = now + wait;
}

void TaskManager::OnTimeout(Timestamp now) {
  if (retransmit_at_ > now || active_.empty()) return;
  retransmit_at_ = Timestamp::Infinite();
  if (retransmits_ >= sa_.config().retransmit.max_retransmits) {
    MIPSEC_LOG(sa_.log(), kNotice) << ExchangeTypeName(active_exchange_) << " request "
                                   << request_id_ << " unanswered after " << retransmits_
                                   << " retransmits, giving up";
    sa_.OnRetransmitGiveUp();
    return;
  }
  ++retransmits_;
  MIPSEC_LOG(sa_.log(), kDebug) << "retransmit " << retransmits_ << " of "
                                << ExchangeTypeName(active_exchange_) << " request " << request_id_;
  sa_.ResendRequest(request_bytes_, retransmits_);
  ArmRetransmit(now);
}

void TaskManager::RetransmitNow(Timestamp now) {
  if (active_.empty() || request_bytes_.empty()) return;
  MIPSEC_LOG(sa_.log(), kDebug) << "sending " << ExchangeTypeName(active_exchange_) << " request "
                                << request_id_ << " again over the new path";
  retransmits_ = 0;
  sa_.ResendRequest(request_bytes_, retransmits_);
  ArmRetransmit(now);
}

void TaskManager::OnResponse(Timestamp now, const Message& m) {
  retransmit_at_ = Timestamp::Infinite();
  std::vector<std::unique_ptr<Task>> tasks = std::move(active_);
  active_.clear();
  bool need_more = false;
  std::vector<bool> keep(tasks.size(), false);
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const TaskStatus st = tasks[i]->Process(sa_, now, m);
    if (sa_.state() == IkeSaState::kDown) {
      for (auto& t : tasks) retired_.push_back(std::move(t));
      return;
    }
    if (st == TaskStatus::kFailed) {
      sa_.Fail(IkeDownReason::kFailed,
               std::string(TaskTypeName(tasks[i]->type())) + " failed on the response");
      for (auto& t : tasks) retired_.push_back(std::move(t));
      return;
    }
    if (st == TaskStatus::kNeedMore) {
      keep[i] = true;
      need_more = true;
    }
  }
  if (need_more && m.header.exchange == ExchangeType::kIkeSaInit) {
    // RFC 7296 1.2 / 2.6: the IKE_SA_INIT request is sent again (COOKIE or
    // another KE group) with Message ID 0 by all its tasks.
    active_ = std::move(tasks);
    SendRequest(now);
    return;
  }
  ++request_id_;
  request_bytes_.clear();
  for (std::size_t i = tasks.size(); i-- > 0;) {
    if (keep[i]) {
      queue_.push_front(std::move(tasks[i]));
    } else {
      retired_.push_back(std::move(tasks[i]));
    }
  }
  sa_.OnExchangeDone(now);
}

TaskManager::RequestKind TaskManager::ClassifyRequest(std::uint32_t message_id) const {
  if (message_id == expected_request_id_) return RequestKind::kNew;
  if (have_response_ && message_id + 1 == expected_request_id_) return RequestKind::kRetransmit;
  return RequestKind::kInvalid;
}

std::vector<std::unique_ptr<Task>> TaskManager::CreateResponderTasks(const Message& m) {
  std::vector<std::unique_ptr<Task>> t;
  switch (m.header.exchange) {
    case ExchangeType::kIkeSaInit:
      t.push_back(std::make_unique<IkeInit>(false));
      t.push_back(std::make_unique<IkeNatd>(false));
      break;
    case ExchangeType::kIkeAuth:
      t.push_back(std::make_unique<IkeAuth>(false));
      t.push_back(std::make_unique<IkeConfig>(false));
      t.push_back(std::make_unique<ChildCreate>(false, ExchangeType::kIkeAuth));
      t.push_back(std::make_unique<IkeMobike>(false, IkeMobike::Kind::kAuth));
      break;
    case ExchangeType::kCreateChildSa: {
      const Payload* sa = m.Find(PayloadType::kSa);
      const SaPayload* body = sa != nullptr ? sa->As<SaPayload>() : nullptr;
      const bool ike = body != nullptr && !body->proposals.empty() &&
                       body->proposals[0].protocol == ProtocolId::kIke;
      if (ike) {
        t.push_back(std::make_unique<IkeRekey>(false));
      } else if (m.FindNotify(NotifyType::kRekeySa) != nullptr) {
        t.push_back(std::make_unique<ChildRekey>(false));
      } else {
        t.push_back(std::make_unique<ChildCreate>(false, ExchangeType::kCreateChildSa));
      }
      break;
    }
    case ExchangeType::kInformational: {
      bool ike_delete = false, child_delete = false;
      for (const Payload* p : m.FindAll(PayloadType::kDelete)) {
        const DeletePayload* d = p->As<DeletePayload>();
        if (d == nullptr) continue;
        if (d->protocol == ProtocolId::kIke) ike_delete = true;
        if (d->protocol == ProtocolId::kEsp) child_delete = true;
      }
      if (ike_delete) {
        t.push_back(std::make_unique<IkeDelete>(false));
      } else if (child_delete) {
        t.push_back(std::make_unique<ChildDelete>(false));
      }
      // COOKIE2 echo, NAT detection and MOBIKE (RFC 4555) for every
      // INFORMATIONAL request; anything else (an empty liveness check,
      // 2.4; unknown status notifies) gets an otherwise empty response.
      t.push_back(std::make_unique<IkeMobike>(false, IkeMobike::Kind::kInformational));
      break;
    }
  }
  return t;
}

std::deque<std::unique_ptr<Task>> TaskManager::TakeQueued() {
  std::deque<std::unique_ptr<Task>> q = std::move(queue_);
  queue_.clear();
  return q;
}

void TaskManager::OnRequest(Timestamp now, const Message& m) {
  if (m.header.exchange == ExchangeType::kCreateChildSa) {
    const Payload* sa = m.Find(PayloadType::kSa);
    const SaPayload* body = sa != nullptr ? sa->As<SaPayload>() : nullptr;
    const bool ike = body != nullptr && !body->proposals.empty() &&
                     body->proposals[0].protocol == ProtocolId::kIke;
    // RFC 7296 2.25.2: no new or rekeyed CHILD SA while we rekey the IKE
    // SA (or once it has been rekeyed: it would be lost with it).
    if (!ike && (HasActive(TaskType::kIkeRekey) || sa_.superseded())) {
      MIPSEC_LOG(sa_.log(), kInfo) << "CREATE_CHILD_SA request during IKE SA rekeying: "
                                      "TEMPORARY_FAILURE";
      RespondWithError(now, m.header, NotifyPayload::Make(NotifyType::kTemporaryFailure));
      return;
    }
  }
  std::vector<std::unique_ptr<Task>> tasks = CreateResponderTasks(m);
  Message resp;
  resp.header.exchange = m.header.exchange;
  resp.header.message_id = m.header.message_id;
  resp.header.response = true;
  std::optional<NotifyPayload> failure;
  for (auto& t : tasks) {
    if (t->Process(sa_, now, m) == TaskStatus::kFailed) {
      failure = t->FailureNotify();
      if (!failure) failure = NotifyPayload::Make(NotifyType::kInvalidSyntax);
      break;
    }
    if (sa_.state() == IkeSaState::kDown) break;
  }
  if (!failure) {
    for (auto& t : tasks) {
      if (t->Build(sa_, now, resp) == TaskStatus::kFailed) {
        failure = t->FailureNotify();
        if (!failure) failure = NotifyPayload::Make(NotifyType::kInvalidSyntax);
        break;
      }
    }
  }
  if (failure) {
    resp.payloads.clear();
    resp.inner.clear();
    AddPayload(resp, Payload::Notify(*failure));
    sa_.FailAfterResponse(ReasonFor(failure->type),
                          "refused " + ExchangeTypeName(m.header.exchange) + " with " +
                              NotifyTypeName(failure->type));
  }
  expected_request_id_ = m.header.message_id + 1;
  Result<std::vector<Bytes>> sent = sa_.SendMessage(resp);
  for (auto& t : tasks) retired_.push_back(std::move(t));
  if (!sent.ok()) {
    sa_.Fail(IkeDownReason::kFailed, "sending " + ExchangeTypeName(m.header.exchange) +
                                         " response: " + sent.error().ToString());
    return;
  }
  response_bytes_ = std::move(*sent);
  have_response_ = true;
  sa_.OnResponseSent(now);
}

void TaskManager::ResendResponse() {
  if (have_response_) sa_.ResendResponse(response_bytes_);
}

void TaskManager::RespondWithError(Timestamp now, const IkeHeader& request, NotifyPayload n) {
  Message resp;
  resp.header.exchange = request.exchange;
  resp.header.message_id = request.message_id;
  resp.header.response = true;
  AddPayload(resp, Payload::Notify(std::move(n)));
  expected_request_id_ = request.message_id + 1;
  Result<std::vector<Bytes>> sent = sa_.SendMessage(resp);
  if (!sent.ok()) return;
  response_bytes_ = std::move(*sent);
  have_response_ = true;
  sa_.OnResponseSent(now);
}

void TaskManager::AbortAll() {
  retransmit_at_ = Timestamp::Infinite();
  request_bytes_.clear();
  for (auto& t : active_) {
    t->Abort(sa_);
    retired_.push_back(std::move(t));
  }
  active_.clear();
  for (auto& t : queue_) {
    t->Abort(sa_);
    retired_.push_back(std::move(t));
  }
  queue_.clear();
}

}  // namespace mipsec::ikev2

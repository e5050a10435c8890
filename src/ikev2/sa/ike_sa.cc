#include "ikev2/sa/ike_sa.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "common/bug.h"
#include "ikev2/codec/header.h"
#include "ikev2/codec/message_rules.h"
#include "ikev2/crypto/prf.h"
#include "ikev2/tasks/child_create.h"
#include "ikev2/tasks/child_delete.h"
#include "ikev2/tasks/child_rekey.h"
#include "ikev2/tasks/ike_auth.h"
#include "ikev2/tasks/ike_config.h"
#include "ikev2/tasks/ike_delete.h"
#include "ikev2/tasks/ike_dpd.h"
#include "ikev2/tasks/ike_init.h"
#include "ikev2/tasks/ike_mobike.h"
#include "ikev2/tasks/ike_natd.h"
#include "ikev2/tasks/ike_rekey.h"

namespace mipsec::ikev2 {
namespace {

constexpr std::size_t kMarkerSize = 4;  // RFC 3948 2.2: non-ESP marker

std::uint64_t NonZeroU64(RandomSource& rng) {
  std::uint64_t v = 0;
  while (v == 0) v = rng.U64();
  return v;
}

std::string Spis(std::uint64_t i, std::uint64_t r) {
  Bytes b(16);
  for (int k = 0; k < 8; ++k) {
    b[k] = static_cast<std::uint8_t>(i >> (56 - 8 * k));
    b[8 + k] = static_cast<std::uint8_t>(r >> (56 - 8 * k));
  }
  return ToHex(ByteSpan(b).first(8)) + "_i " + ToHex(ByteSpan(b).last(8)) + "_r";
}

}  // namespace

const char* IkeSaStateName(IkeSaState s) {
  switch (s) {
    case IkeSaState::kCreated: return "CREATED";
    case IkeSaState::kConnecting: return "CONNECTING";
    case IkeSaState::kEstablished: return "ESTABLISHED";
    case IkeSaState::kDeleting: return "DELETING";
    case IkeSaState::kDown: return "DOWN";
  }
  return "?";
}

const char* TaskTypeName(TaskType t) {
  switch (t) {
    case TaskType::kIkeInit: return "IKE_INIT";
    case TaskType::kIkeNatd: return "IKE_NATD";
    case TaskType::kIkeAuth: return "IKE_AUTH";
    case TaskType::kIkeConfig: return "IKE_CONFIG";
    case TaskType::kChildCreate: return "CHILD_CREATE";
    case TaskType::kChildDelete: return "CHILD_DELETE";
    case TaskType::kChildRekey: return "CHILD_REKEY";
    case TaskType::kIkeDelete: return "IKE_DELETE";
    case TaskType::kIkeDpd: return "IKE_DPD";
    case TaskType::kIkeRekey: return "IKE_REKEY";
    case TaskType::kIkeMobike: return "IKE_MOBIKE";
  }
  return "?";
}

IkeSa::IkeSa(PeerConfig config, Ipv4Endpoint local, Ipv4Endpoint remote, RandomSource& rng,
             Logger log, bool initiator, Timestamp now)
    : config_(std::move(config)),
      rng_(rng),
      log_(std::move(log)),
      original_initiator_(initiator),
      mobike_initiator_(initiator),
      state_(initiator ? IkeSaState::kCreated : IkeSaState::kConnecting),
      now_(now),
      created_(now),
      local_(local),
      remote_(remote),
      last_inbound_(now),
      last_outbound_(now),
      tm_(*this) {}

IkeSa::~IkeSa() = default;

std::unique_ptr<IkeSa> IkeSa::CreateInitiator(PeerConfig config, Ipv4Endpoint local,
                                              Ipv4Endpoint remote, RandomSource& rng, Logger log,
                                              Timestamp now) {
  std::unique_ptr<IkeSa> sa(
      new IkeSa(std::move(config), local, remote, rng, std::move(log), true, now));
  sa->spi_i_ = NonZeroU64(rng);
  return sa;
}

std::unique_ptr<IkeSa> IkeSa::CreateResponder(PeerConfig config, Ipv4Endpoint local,
                                              Ipv4Endpoint remote, std::uint64_t spi_i,
                                              RandomSource& rng, Logger log, Timestamp now) {
  std::unique_ptr<IkeSa> sa(
      new IkeSa(std::move(config), local, remote, rng, std::move(log), false, now));
  sa->spi_i_ = spi_i;
  sa->spi_r_ = NonZeroU64(rng);
  sa->timers_.Set(Timer::kSetup, now + sa->config_.setup_timeout);
  return sa;
}

// ---- Commands ----

Status IkeSa::Connect(Timestamp now) {
  now_ = now;
  tm_.Collect();
  if (state_ != IkeSaState::kCreated) {
    return Error(Errc::kState, std::string("Connect() in state ") + IkeSaStateName(state_));
  }
  if (config_.ike_proposals.empty()) {
    return Error(Errc::kInvalidArgument, "no IKE proposals configured");
  }
  state_ = IkeSaState::kConnecting;
  created_ = now;
  timers_.Set(Timer::kSetup, now + config_.setup_timeout);
  MIPSEC_LOG(log_, kInfo) << "initiating IKE SA " << Spis(spi_i_, 0) << " to "
                          << remote_.ToString();
  tm_.Queue(std::make_unique<IkeInit>(true));
  tm_.Queue(std::make_unique<IkeNatd>(true));
  tm_.Queue(std::make_unique<IkeAuth>(true));
  if (config_.request_virtual_ip) tm_.Queue(std::make_unique<IkeConfig>(true));
  if (!config_.esp_proposals.empty() && !config_.local_ts.empty() && !config_.remote_ts.empty()) {
    tm_.Queue(std::make_unique<ChildCreate>(true, ExchangeType::kIkeAuth));
  }
  tm_.Queue(std::make_unique<IkeMobike>(true, IkeMobike::Kind::kAuth));
  tm_.Initiate(now);
  return Ok{};
}

Status IkeSa::CreateChildSa(Timestamp now, std::optional<std::vector<TrafficSelector>> local_ts,
                            std::optional<std::vector<TrafficSelector>> remote_ts) {
  now_ = now;
  tm_.Collect();
  if (superseded_) return Error(Errc::kState, "IKE SA was rekeyed");
  if (state_ != IkeSaState::kEstablished) {
    return Error(Errc::kState, std::string("CreateChildSa() in state ") + IkeSaStateName(state_));
  }
  if (config_.esp_proposals.empty()) {
    return Error(Errc::kInvalidArgument, "no ESP proposals configured");
  }
  auto task = std::make_unique<ChildCreate>(true, ExchangeType::kCreateChildSa);
  task->SetSelectors(local_ts.value_or(config_.local_ts), remote_ts.value_or(config_.remote_ts));
  tm_.Queue(std::move(task));
  tm_.Initiate(now);
  return Ok{};
}

Status IkeSa::DeleteChildSa(Timestamp now, std::uint32_t spi_in) {
  now_ = now;
  tm_.Collect();
  if (superseded_) return Error(Errc::kState, "IKE SA was rekeyed");
  if (state_ != IkeSaState::kEstablished) {
    return Error(Errc::kState, std::string("DeleteChildSa() in state ") + IkeSaStateName(state_));
  }
  ChildSa* c = FindChildMutable(spi_in);
  if (c == nullptr) return Error(Errc::kNotFound, "no CHILD SA with inbound SPI " +
                                                      std::to_string(spi_in));
  if (c->state == ChildSaState::kDeleting) return Error(Errc::kState, "CHILD SA already deleting");
  tm_.Queue(std::make_unique<ChildDelete>(true, spi_in));
  tm_.Initiate(now);
  return Ok{};
}

Status IkeSa::RekeyChildSa(Timestamp now, std::uint32_t spi_in) {
  now_ = now;
  tm_.Collect();
  if (superseded_) return Error(Errc::kState, "IKE SA was rekeyed");
  if (state_ != IkeSaState::kEstablished) {
    return Error(Errc::kState, std::string("RekeyChildSa() in state ") + IkeSaStateName(state_));
  }
  const ChildSa* c = FindChild(spi_in);
  if (c == nullptr) return Error(Errc::kNotFound, "no CHILD SA with inbound SPI " +
                                                      std::to_string(spi_in));
  if (c->state != ChildSaState::kInstalled) return Error(Errc::kState, "CHILD SA not installed");
  tm_.Queue(std::make_unique<ChildRekey>(true, spi_in));
  tm_.Initiate(now);
  return Ok{};
}

Status IkeSa::RekeyIkeSa(Timestamp now) {
  now_ = now;
  tm_.Collect();
  if (state_ != IkeSaState::kEstablished || superseded_) {
    return Error(Errc::kState, std::string("RekeyIkeSa() in state ") + IkeSaStateName(state_) +
                                   (superseded_ ? " (already rekeyed)" : ""));
  }
  if (tm_.HasQueued(TaskType::kIkeRekey) || tm_.HasActive(TaskType::kIkeRekey)) return Ok{};
  timers_.Clear(Timer::kRekeyRetry);
  tm_.Queue(std::make_unique<IkeRekey>(true));
  tm_.Initiate(now);
  return Ok{};
}

void IkeSa::Delete(Timestamp now) {
  now_ = now;
  tm_.Collect();
  if (state_ == IkeSaState::kDown || state_ == IkeSaState::kDeleting) return;
  if (state_ != IkeSaState::kEstablished) {
    Fail(IkeDownReason::kDeleted, "deleted before establishment");
    return;
  }
  if (tm_.HasQueued(TaskType::kIkeDelete)) return;
  tm_.Queue(std::make_unique<IkeDelete>(true));
  tm_.Initiate(now);
}

void IkeSa::Terminate(IkeDownReason reason, const std::string& detail) { Fail(reason, detail); }

// ---- Input ----

bool IkeSa::UsesMarker(const Ipv4Endpoint& local, const Ipv4Endpoint& remote,
                       std::uint16_t natt_port) {
  return local.port == natt_port || remote.port == natt_port;
}

void IkeSa::OnDatagram(Timestamp now, const Ipv4Endpoint& local, const Ipv4Endpoint& remote,
                       ByteSpan payload) {
  now_ = now;
  tm_.Collect();
  if (state_ == IkeSaState::kDown) return;
  if (local.port == config_.natt_port || remote.port == config_.natt_port) {
    // RFC 3948 2.2 / RFC 7296 2.23: IKE on the NAT-T port follows 4 zero
    // bytes; anything else there is ESP or a keepalive, not ours.
    if (payload.size() < kMarkerSize || payload[0] != 0 || payload[1] != 0 || payload[2] != 0 ||
        payload[3] != 0) {
      MIPSEC_LOG(log_, kDebug) << "dropped datagram on the NAT-T port without non-ESP marker";
      return;
    }
    payload = payload.subspan(kMarkerSize);
  }
  HandleMessage(now, local, remote, payload);
}

std::optional<Message> IkeSa::Unprotect(ByteSpan message, const IkeHeader& h,
                                        std::optional<ErrorNotify>* notify) {
  if (!ciphers_.inbound) return std::nullopt;
  Result<Message> outer = DecodeMessage(message, notify);
  if (!outer.ok()) {
    MIPSEC_LOG(log_, kDebug) << "dropped message: " << outer.error().ToString();
    return std::nullopt;
  }
  if (!outer->encrypted) {
    MIPSEC_LOG(log_, kDebug) << "dropped unprotected " << ExchangeTypeName(h.exchange);
    return std::nullopt;
  }
  if (outer->encrypted->is_fragment()) {
    if (!config_.fragmentation) return std::nullopt;
    FragmentReassembler& r = h.response ? response_fragments_ : request_fragments_;
    Result<std::optional<Message>> m = r.Add(message, *ciphers_.inbound, notify);
    if (!m.ok()) {
      MIPSEC_LOG(log_, kDebug) << "dropped fragment: " << m.error().ToString();
      return std::nullopt;
    }
    return std::move(*m);
  }
  Result<Message> m = DecodeProtected(message, *ciphers_.inbound, notify);
  if (!m.ok()) {
    MIPSEC_LOG(log_, kDebug) << "dropped protected " << ExchangeTypeName(h.exchange) << ": "
                             << m.error().ToString();
    return std::nullopt;
  }
  return std::move(*m);
}

void IkeSa::HandleMessage(Timestamp now, const Ipv4Endpoint& local, const Ipv4Endpoint& remote,
                          ByteSpan message) {
  Result<IkeHeader> hr = DecodeHeader(message);
  if (!hr.ok()) {
    MIPSEC_LOG(log_, kDebug) << "dropped: " << hr.error().ToString();
    return;
  }
  const IkeHeader& h = *hr;
  // RFC 7296 3.1: SPIs name this IKE SA; the I flag names the sender's role.
  if (h.spi_i != spi_i_ || h.initiator == original_initiator_) {
    MIPSEC_LOG(log_, kDebug) << "dropped message for another IKE SA or with a wrong I flag";
    return;
  }
  const bool init = h.exchange == ExchangeType::kIkeSaInit;
  if (!init && h.spi_r != spi_r_) {
    MIPSEC_LOG(log_, kDebug) << "dropped message with an unknown responder SPI";
    return;
  }
  msg_local_ = local;
  msg_remote_ = remote;
  if (h.response) {
    if (!tm_.ExpectsResponse(h.message_id)) {
      MIPSEC_LOG(log_, kDebug) << "dropped unexpected response " << h.message_id;
      return;
    }
    std::optional<Message> m;
    if (init) {
      if (!original_initiator_ || state_ != IkeSaState::kConnecting) return;
      Result<Message> d = DecodeMessage(message);
      if (!d.ok()) {
        MIPSEC_LOG(log_, kDebug) << "dropped IKE_SA_INIT response: " << d.error().ToString();
        return;
      }
      m = std::move(*d);
    } else {
      m = Unprotect(message, h, nullptr);
      if (!m) return;
    }
    if (Status v = Validate(*m); !v.ok()) {
      MIPSEC_LOG(log_, kNotice) << "dropped invalid response: " << v.error().ToString();
      return;
    }
    if (init) {
      init_response_.assign(message.begin(), message.end());
    } else {
      if (multi_path_request_ && mobike_ && mobike_initiator_ &&
          (local != local_ || remote != remote_)) {
        // RFC 4555 3.10: the request went over several address pairs and
        // this one answered first: use it, and tell the peer (3.5).
        MIPSEC_LOG(log_, kInfo) << "MOBIKE: path test answered over " << local.ToString()
                                << " - " << remote.ToString();
        MoveTo(now, local, remote, /*resend_in_flight=*/false);
      } else {
        UpdatePath(local, remote);
      }
      last_inbound_ = now;
    }
    tm_.OnResponse(now, *m);
    return;
  }

  // A request.
  const TaskManager::RequestKind kind = tm_.ClassifyRequest(h.message_id);
  if (kind == TaskManager::RequestKind::kInvalid) {
    MIPSEC_LOG(log_, kDebug) << "dropped request with message ID " << h.message_id;
    return;
  }
  if (init) {
    if (original_initiator_) return;
    if (kind == TaskManager::RequestKind::kRetransmit) {
      // 2.1: the same request again gets the same response.
      if (std::equal(message.begin(), message.end(), init_request_.begin(), init_request_.end())) {
        tm_.ResendResponse();
      }
      return;
    }
    std::optional<ErrorNotify> notify;
    Result<Message> d = DecodeMessage(message, &notify);
    Status v = d.ok() ? Validate(*d, &notify) : Status(d.error());
    if (!v.ok()) {
      MIPSEC_LOG(log_, kNotice) << "refused IKE_SA_INIT request: " << v.error().ToString();
      if (notify && notify->type == NotifyType::kUnsupportedCriticalPayload) {
        FailAfterResponse(IkeDownReason::kFailed, "unsupported critical payload");
        tm_.RespondWithError(now, h, NotifyPayload::Make(notify->type, notify->data));
      } else {
        Fail(IkeDownReason::kFailed, "invalid IKE_SA_INIT request");
      }
      return;
    }
    init_request_.assign(message.begin(), message.end());
    tm_.OnRequest(now, *d);
    return;
  }
  if (!ciphers_.inbound) return;
  std::optional<ErrorNotify> notify;
  std::optional<Message> m = Unprotect(message, h, &notify);
  if (!m) {
    // 2.21.2: once the ICV verified, a malformed request gets an error.
    if (notify && kind == TaskManager::RequestKind::kNew) {
      tm_.RespondWithError(now, h, NotifyPayload::Make(notify->type, notify->data));
    }
    return;
  }
  if (kind == TaskManager::RequestKind::kRetransmit) {
    MIPSEC_LOG(log_, kDebug) << "request " << h.message_id << " retransmitted, resending response";
    tm_.ResendResponse();
    return;
  }
  if (Status v = Validate(*m, &notify); !v.ok()) {
    MIPSEC_LOG(log_, kNotice) << "refused request: " << v.error().ToString();
    if (notify) tm_.RespondWithError(now, h, NotifyPayload::Make(notify->type, notify->data));
    return;
  }
  const bool auth = h.exchange == ExchangeType::kIkeAuth;
  const bool allowed = auth ? state_ == IkeSaState::kConnecting && !original_initiator_
                            : state_ == IkeSaState::kEstablished || state_ == IkeSaState::kDeleting;
  if (!allowed) {
    MIPSEC_LOG(log_, kDebug) << "dropped " << ExchangeTypeName(h.exchange) << " request in state "
                             << IkeSaStateName(state_);
    return;
  }
  if (auth) {
    // RFC 4555 3.3: the IKE SA's addresses are those of the first IKE_AUTH
    // request (the initiator may have moved to the NAT-T port).
    local_ = local;
    remote_ = remote;
  } else {
    UpdatePath(local, remote);
  }
  last_inbound_ = now;
  tm_.OnRequest(now, *m);
  if (state_ == IkeSaState::kEstablished) ArmDpd(now);
}

void IkeSa::UpdatePath(const Ipv4Endpoint& local, const Ipv4Endpoint& remote) {
  // RFC 7296 2.23: with a NAT in the path, follow the peer's mapping (and
  // our move to the NAT-T port) using authenticated messages only. RFC 4555
  // 3.8: with MOBIKE the host not behind a NAT MUST NOT (only
  // UPDATE_SA_ADDRESSES moves the IKE SA), and the one behind it chooses
  // its own addresses.
  if (!nat_detected() || mobike_) return;
  if (local == local_ && remote == remote_) return;
  MIPSEC_LOG(log_, kInfo) << "IKE SA path now " << local.ToString() << " - " << remote.ToString();
  local_ = local;
  remote_ = remote;
  SyncChildren();
}

EspPath IkeSa::esp_path() const {
  if (rr_hold_) return *rr_hold_;
  return EspPath{local_, remote_, nat_detected()};
}

void IkeSa::SyncChildren() {
  const EspPath p = esp_path();
  for (ChildSa& c : children_) {
    c.info.local = p.local;
    c.info.remote = p.remote;
    c.info.udp_encap = p.udp_encap;
  }
  if (p == applied_path_) return;
  applied_path_ = p;
  if (state_ == IkeSaState::kEstablished) Emit(PathChanged{p.local, p.remote, p.udp_encap});
}

// ---- MOBIKE (RFC 4555) ----

namespace {

void SortUnique(std::vector<Ipv4Address>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

bool Contains(const std::vector<Ipv4Address>& v, Ipv4Address a) {
  return std::find(v.begin(), v.end(), a) != v.end();
}

}  // namespace

Status IkeSa::UpdateLocalAddresses(Timestamp now, std::vector<Ipv4Address> addresses,
                                   std::optional<Ipv4Address> preferred) {
  now_ = now;
  tm_.Collect();
  if (preferred && preferred->IsAny()) preferred.reset();
  if (preferred) addresses.push_back(*preferred);
  std::erase_if(addresses, [](Ipv4Address a) { return a.IsAny(); });
  SortUnique(addresses);
  const bool list_changed = addresses != local_addresses_;
  local_addresses_ = std::move(addresses);
  if (state_ != IkeSaState::kEstablished || superseded_) return Ok{};
  const bool have_current = Contains(local_addresses_, local_.address);
  std::optional<Ipv4Address> target = preferred;
  if (!target && have_current) target = local_.address;
  const bool must_move = !target || *target != local_.address;
  if (!mobike_) {
    if (must_move && !local_addresses_.empty()) {
      return Error(Errc::kUnsupported, "the peer did not negotiate MOBIKE: the IKE SA on " +
                                           local_.ToString() + " cannot move");
    }
    return Ok{};
  }
  if (!mobike_initiator_) {
    // 3.5: a responder whose address became unusable may move its IPsec
    // SAs to another one, and tells the initiator its addresses (3.6).
    if (!have_current && target) {
      MIPSEC_LOG(log_, kInfo) << "MOBIKE: our address " << local_.address.ToString()
                              << " is gone, using " << target->ToString();
      local_.address = *target;
      SyncChildren();
      if (tm_.busy()) tm_.RetransmitNow(now);
    }
    if (list_changed || !have_current) QueueMobike(IkeMobike::Kind::kAddresses);
    tm_.Initiate(now);
    return Ok{};
  }
  if (!target) {
    if (local_addresses_.empty()) {
      MIPSEC_LOG(log_, kInfo) << "MOBIKE: no local address left, waiting for one";
      return Ok{};
    }
    // 3.10: our address is gone and routing names none: test every pair.
    MIPSEC_LOG(log_, kInfo) << "MOBIKE: " << local_.address.ToString()
                            << " is gone, testing every address pair";
    QueueMobike(IkeMobike::Kind::kCheck);
    tm_.Initiate(now);
    return Ok{};
  }
  if (*target != local_.address) {
    MoveTo(now, Ipv4Endpoint{*target, local_.port}, remote_, /*resend_in_flight=*/true);
    return Ok{};
  }
  if (list_changed) {
    QueueMobike(IkeMobike::Kind::kAddresses);
    tm_.Initiate(now);
  }
  return Ok{};
}

void IkeSa::MoveTo(Timestamp now, const Ipv4Endpoint& local, const Ipv4Endpoint& remote,
                   bool resend_in_flight) {
  MIPSEC_LOG(log_, kInfo) << "MOBIKE: moving from " << local_.ToString() << " - "
                          << remote_.ToString() << " to " << local.ToString() << " - "
                          << remote.ToString();
  local_ = local;
  remote_ = remote;
  ++path_generation_;
  // 3.5: the initiator updates its IPsec SAs at once, retransmits what is
  // in flight over the new path, and sends UPDATE_SA_ADDRESSES when the
  // window allows.
  SyncChildren();
  if (resend_in_flight && tm_.busy()) tm_.RetransmitNow(now);
  QueueMobike(IkeMobike::Kind::kUpdate);
  tm_.Initiate(now);
}

std::vector<Ipv4Address> IkeSa::AdditionalLocalAddresses() const {
  std::vector<Ipv4Address> v;
  for (Ipv4Address a : local_addresses_) {
    if (a != local_.address) v.push_back(a);
  }
  return v;
}

void IkeSa::SetPeerAddresses(Ipv4Address primary, std::vector<Ipv4Address> additional) {
  std::erase_if(additional, [&](Ipv4Address a) { return a == primary || a.IsAny(); });
  SortUnique(additional);
  peer_addresses_.clear();
  peer_addresses_.push_back(primary);
  peer_addresses_.insert(peer_addresses_.end(), additional.begin(), additional.end());
  if (state_ == IkeSaState::kEstablished && mobike_initiator_ &&
      !Contains(peer_addresses_, remote_.address)) {
    // 3.5: the peer no longer lists the address we use.
    MIPSEC_LOG(log_, kInfo) << "MOBIKE: the peer no longer has " << remote_.address.ToString()
                            << ", testing its addresses";
    QueueMobike(IkeMobike::Kind::kCheck);
  }
}

void IkeSa::AcceptPeerMove(Timestamp now, std::optional<std::pair<bool, bool>> nat) {
  const bool moved = msg_local_ != local_ || msg_remote_ != remote_;
  const bool verified =
      std::find(verified_.begin(), verified_.end(), msg_remote_) != verified_.end();
  const bool check = moved && config_.mobike.return_routability_check && !verified;
  if (check && !rr_hold_) rr_hold_ = applied_path_;  // 3.7: the IPsec SAs wait
  if (moved) {
    MIPSEC_LOG(log_, kInfo) << "MOBIKE: peer moved to " << msg_remote_.ToString() << " - "
                            << msg_local_.ToString()
                            << (check ? " (checking return routability first)" : "");
  }
  local_ = msg_local_;
  remote_ = msg_remote_;
  if (nat) {
    nat_local_ = nat->first;
    nat_remote_ = nat->second;
    ArmKeepalive(now);
  }
  if (moved && !check && rr_hold_) rr_hold_.reset();  // back to a verified address
  if (check) QueueMobike(IkeMobike::Kind::kRoutability);
  SyncChildren();
  // Our own request in flight goes to the peer's new address at once.
  if (moved && tm_.busy()) tm_.RetransmitNow(now);
}

void IkeSa::RoutabilityChecked(const Ipv4Endpoint& checked) {
  if (std::find(verified_.begin(), verified_.end(), checked) == verified_.end()) {
    verified_.push_back(checked);
    if (verified_.size() > 8) verified_.erase(verified_.begin());
  }
  if (!rr_hold_) return;
  if (checked != remote_ || multi_path_request_) {
    // 3.7: the peer moved again while we checked; check the new address.
    QueueMobike(IkeMobike::Kind::kRoutability);
    return;
  }
  MIPSEC_LOG(log_, kInfo) << "MOBIKE: " << checked.ToString()
                          << " passed the return routability check";
  rr_hold_.reset();
  SyncChildren();
}

void IkeSa::ApplyMobikeNatState(bool local_behind_nat, bool remote_behind_nat) {
  if (local_behind_nat != nat_local_ || remote_behind_nat != nat_remote_) {
    MIPSEC_LOG(log_, kInfo) << "MOBIKE: NAT now" << (local_behind_nat ? " in front of us" : "")
                            << (remote_behind_nat ? " in front of the peer" : "")
                            << (!local_behind_nat && !remote_behind_nat ? " gone" : "");
  }
  nat_local_ = local_behind_nat;
  nat_remote_ = remote_behind_nat;
  ArmKeepalive(now_);
  SyncChildren();
}

void IkeSa::QueueMobike(IkeMobike::Kind kind, std::uint32_t nat_retries) {
  if (tm_.HasQueuedIf([&](const Task& t) {
        return t.type() == TaskType::kIkeMobike &&
               static_cast<const IkeMobike&>(t).kind() == kind;
      })) {
    return;
  }
  auto task = std::make_unique<IkeMobike>(true, kind);
  task->set_nat_retries(nat_retries);
  tm_.Queue(std::move(task));
}

void IkeSa::ConfirmPath() {
  confirmed_local_ = local_;
  confirmed_remote_ = remote_;
  // 3.5: the peer took the path of our latest move (the caller checked that
  // no newer move made this UPDATE outdated). esp_path() is not used: only
  // the responder holds its IPsec SAs back for a return routability check.
  MIPSEC_LOG(log_, kInfo) << "MOBIKE: peer confirmed " << local_.ToString() << " - "
                          << remote_.ToString() << (nat_detected() ? " (UDP-encapsulated)" : "");
  Emit(ikev2::PathConfirmed{local_, remote_, nat_detected()});
}

void IkeSa::AddressesRefused() {
  if (Contains(local_addresses_, confirmed_local_.address) &&
      (confirmed_local_ != local_ || confirmed_remote_ != remote_)) {
    // 3.5: the initiator MAY keep using the previous addresses. The peer
    // never moved, so no update is needed.
    MIPSEC_LOG(log_, kNotice) << "MOBIKE: peer refused " << local_.ToString() << " - "
                              << remote_.ToString() << " (UNACCEPTABLE_ADDRESSES), back to "
                              << confirmed_local_.ToString();
    local_ = confirmed_local_;
    remote_ = confirmed_remote_;
    ++path_generation_;
    SyncChildren();
    return;
  }
  Fail(IkeDownReason::kFailed,
       "peer refused our new addresses " + local_.ToString() + " - " + remote_.ToString() +
           " (UNACCEPTABLE_ADDRESSES) and the previous ones are gone");
}

std::vector<std::pair<Ipv4Endpoint, Ipv4Endpoint>> IkeSa::AllPaths() const {
  std::vector<std::pair<Ipv4Endpoint, Ipv4Endpoint>> v;
  v.emplace_back(local_, remote_);
  std::vector<Ipv4Address> locals = local_addresses_;
  if (locals.empty()) locals.push_back(local_.address);
  std::vector<Ipv4Address> peers = peer_addresses_;
  if (peers.empty()) peers.push_back(remote_.address);
  for (Ipv4Address l : locals) {
    for (Ipv4Address r : peers) {
      std::pair<Ipv4Endpoint, Ipv4Endpoint> p{{l, local_.port}, {r, remote_.port}};
      if (p != v.front()) v.push_back(p);
    }
  }
  // The current path first, and only when our address is still there.
  if (!local_addresses_.empty() && !Contains(local_addresses_, local_.address)) {
    v.erase(v.begin());
  }
  return v;
}

// ---- Output ----

void IkeSa::SendRaw(ByteSpan ike_message, const Ipv4Endpoint& local,
                    const Ipv4Endpoint& remote) {
  IkeTransmit t;
  t.local = local;
  t.remote = remote;
  if (UsesMarker(local, remote, config_.natt_port)) t.payload.assign(kMarkerSize, 0);
  t.payload.insert(t.payload.end(), ike_message.begin(), ike_message.end());
  out_.push_back(std::move(t));
  last_outbound_ = now_;
}

Result<std::vector<Bytes>> IkeSa::SendMessage(Message& m) {
  IkeHeader& h = m.header;
  h.spi_i = spi_i_;
  h.spi_r = spi_r_;
  h.initiator = original_initiator_;
  h.major_version = IkeHeader::kMajorVersion;
  h.minor_version = IkeHeader::kMinorVersion;
  std::vector<Bytes> out;
  if (h.exchange == ExchangeType::kIkeSaInit) {
    if (!h.response) h.spi_r = 0;
    // A refused IKE_SA_INIT leaves no state here: answer with SPIr 0 (2.6).
    if (h.response && down_after_response_) h.spi_r = 0;
    MIPSEC_ASSIGN_OR_RETURN(Bytes b, EncodeMessage(m));
    if (!h.response) {
      init_request_ = b;
    } else if (!down_after_response_) {
      init_response_ = b;
    }
    out.push_back(std::move(b));
  } else {
    if (!ciphers_.outbound) return Error(Errc::kState, "no keys to protect the message");
    const bool marker = h.response ? UsesMarker(msg_local_, msg_remote_, config_.natt_port)
                                   : UsesMarker(local_, remote_, config_.natt_port);
    const std::size_t overhead = marker ? kMarkerSize : 0;
    if (config_.fragmentation && peer_fragmentation_ &&
        ProtectedSize(m, *ciphers_.outbound) + overhead > config_.fragment_size) {
      MIPSEC_ASSIGN_OR_RETURN(
          out, EncodeFragmented(m, *ciphers_.outbound, config_.fragment_size - overhead));
    } else {
      MIPSEC_ASSIGN_OR_RETURN(Bytes b, EncodeProtected(m, *ciphers_.outbound));
      out.push_back(std::move(b));
    }
  }
  if (h.response) {
    // RFC 7296 2.11: a response goes to where its request came from.
    for (const Bytes& b : out) SendRaw(b, msg_local_, msg_remote_);
  } else {
    const bool all = all_paths_next_ && mobike_;
    all_paths_next_ = false;
    SendRequestBytes(out, all);
  }
  MIPSEC_LOG(log_, kDebug) << "sent " << ExchangeTypeName(h.exchange)
                           << (h.response ? " response " : " request ") << h.message_id << " ("
                           << out.size() << " datagram(s))";
  return out;
}

void IkeSa::SendRequestBytes(const std::vector<Bytes>& messages, bool all_paths) {
  multi_path_request_ = false;
  if (all_paths) {
    const auto paths = AllPaths();
    multi_path_request_ = paths.size() > 1;
    for (const auto& [l, r] : paths) {
      for (const Bytes& b : messages) SendRaw(b, l, r);
    }
    return;
  }
  for (const Bytes& b : messages) SendRaw(b, local_, remote_);
}

void IkeSa::ResendRequest(const std::vector<Bytes>& messages, std::uint32_t retransmits) {
  // RFC 4555 3.5/3.10: a request unanswered after several retransmissions
  // suggests the path broke; try every pair (the answer picks one).
  const std::uint32_t after = config_.mobike.probe_after_retransmits;
  const bool all = mobike_ && mobike_initiator_ && after > 0 && retransmits >= after &&
                   state_ == IkeSaState::kEstablished;
  SendRequestBytes(messages, all || multi_path_request_);
}

void IkeSa::ResendResponse(const std::vector<Bytes>& messages) {
  for (const Bytes& b : messages) SendRaw(b, msg_local_, msg_remote_);
}

std::optional<IkeTransmit> IkeSa::PollTransmit() {
  if (out_.empty()) return std::nullopt;
  IkeTransmit t = std::move(out_.front());
  out_.pop_front();
  return t;
}

std::optional<IkeEvent> IkeSa::PollEvent() {
  if (events_.empty()) return std::nullopt;
  IkeEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

Timestamp IkeSa::NextTimeout() const {
  return std::min(timers_.NextDeadline(), tm_.NextTimeout());
}

// ---- Timers ----

void IkeSa::OnTimeout(Timestamp now) {
  now_ = now;
  tm_.Collect();
  while (std::optional<Timer> t = timers_.PopExpired(now)) {
    if (state_ == IkeSaState::kDown) return;
    HandleTimer(*t, now);
  }
  if (state_ != IkeSaState::kDown) tm_.OnTimeout(now);
}

void IkeSa::HandleTimer(Timer t, Timestamp now) {
  switch (t) {
    case Timer::kSetup:
      if (state_ == IkeSaState::kConnecting || state_ == IkeSaState::kCreated) {
        Fail(IkeDownReason::kSetupTimeout, "not established within " +
                                               config_.setup_timeout.ToString());
      }
      break;
    case Timer::kDpd:
      if (state_ != IkeSaState::kEstablished) break;
      // RFC 7296 2.4: only when nothing came from the peer for a while and
      // no exchange is under way (an unanswered request detects death too).
      if (now - last_inbound_ >= config_.dpd_interval && !tm_.busy() &&
          !tm_.HasQueued(TaskType::kIkeDpd) && !tm_.HasQueued(TaskType::kIkeMobike)) {
        if (mobike_ && mobike_initiator_ && nat_local_) {
          // RFC 4555 3.8 (SHOULD): behind a NAT, the liveness check carries
          // NAT detection so a changed mapping is noticed.
          QueueMobike(IkeMobike::Kind::kDpd);
        } else {
          tm_.Queue(std::make_unique<IkeDpd>(true));
        }
        tm_.Initiate(now);
      }
      ArmDpd(now);
      break;
    case Timer::kKeepalive:
      if (now - last_outbound_ >= config_.nat_keepalive_interval) {
        // RFC 3948 2.3: one 0xFF octet, from and to the NAT-T port.
        IkeTransmit k;
        k.local = local_;
        k.remote = remote_;
        k.payload = Bytes{0xff};
        k.keepalive = true;
        out_.push_back(std::move(k));
        last_outbound_ = now;
      }
      ArmKeepalive(now);
      break;
    case Timer::kIkeSoft:
      MIPSEC_LOG(log_, kInfo) << "IKE SA soft lifetime reached, rekeying";
      if (Status st = RekeyIkeSa(now); !st.ok()) {
        MIPSEC_LOG(log_, kDebug) << "no IKE SA rekey: " << st.error().ToString();
      }
      break;
    case Timer::kRekeyRetry:
      if (state_ == IkeSaState::kEstablished && !superseded_) {
        MIPSEC_LOG(log_, kInfo) << "retrying IKE SA rekey (" << rekey_retries_ << ")";
        if (!tm_.HasQueued(TaskType::kIkeRekey) && !tm_.HasActive(TaskType::kIkeRekey)) {
          tm_.Queue(std::make_unique<IkeRekey>(true));
          tm_.Initiate(now);
        }
      }
      break;
    case Timer::kSuperseded:
      // The peer never deleted the replaced IKE SA; forget it quietly.
      Fail(IkeDownReason::kRekeyed, "replaced IKE SA not deleted by the peer");
      break;
    case Timer::kIkeHard:
      if (superseded_) break;
      MIPSEC_LOG(log_, kInfo) << "IKE SA hard lifetime reached, deleting";
      Delete(now);
      break;
    case Timer::kChildLifetime:
      for (ChildSa& c : children_) {
        if (c.hard_deadline <= now && c.state == ChildSaState::kInstalled) {
          MIPSEC_LOG(log_, kInfo) << "CHILD SA " << c.info.spi_in << " hard lifetime reached";
          c.hard_deadline = Timestamp::Infinite();
          tm_.Queue(std::make_unique<ChildDelete>(true, c.info.spi_in));
        }
        if (c.soft_deadline <= now) {
          c.soft_deadline = Timestamp::Infinite();
          if (c.state == ChildSaState::kInstalled) {
            MIPSEC_LOG(log_, kInfo) << "CHILD SA " << c.info.spi_in << " soft lifetime reached";
            tm_.Queue(std::make_unique<ChildRekey>(true, c.info.spi_in));
          }
        }
      }
      tm_.Initiate(now);
      ArmChildLifetimeTimer();
      break;
    case Timer::kCount:
      break;
  }
}

Duration IkeSa::RekeyJitter(Duration soft) {
  // RFC 7296 2.8.1 (SHOULD): jitter rekeying so that peers with the same
  // policy rarely collide: start up to rekey_jitter_percent earlier.
  if (soft.IsInfinite()) return Duration::Zero();
  const std::int64_t span =
      soft.millis() * std::min<std::uint32_t>(config_.lifetimes.rekey_jitter_percent, 100) / 100;
  if (span <= 0) return Duration::Zero();
  const auto bound = static_cast<std::uint32_t>(
      std::min<std::int64_t>(span, std::numeric_limits<std::uint32_t>::max()));
  return Duration::Millis(rng_.Uniform(bound));
}

void IkeSa::ArmIkeLifetimes(Timestamp now) {
  const Lifetimes& l = config_.lifetimes;
  if (!l.ike_soft.IsInfinite()) {
    timers_.Set(Timer::kIkeSoft, now + l.ike_soft - RekeyJitter(l.ike_soft));
  }
  if (!l.ike_hard.IsInfinite()) timers_.Set(Timer::kIkeHard, now + l.ike_hard);
}

void IkeSa::ArmDpd(Timestamp now) {
  if (config_.dpd_interval.IsInfinite() || state_ != IkeSaState::kEstablished) {
    timers_.Clear(Timer::kDpd);
    return;
  }
  Timestamp at = last_inbound_ + config_.dpd_interval;
  if (at <= now) at = now + config_.dpd_interval;
  timers_.Set(Timer::kDpd, at);
}

void IkeSa::ArmKeepalive(Timestamp now) {
  const bool wanted = (nat_local_ || config_.force_encapsulation) && state_ != IkeSaState::kDown &&
                      !config_.nat_keepalive_interval.IsInfinite();
  if (!wanted) {
    timers_.Clear(Timer::kKeepalive);
    return;
  }
  Timestamp at = last_outbound_ + config_.nat_keepalive_interval;
  if (at <= now) at = now + config_.nat_keepalive_interval;
  timers_.Set(Timer::kKeepalive, at);
}

void IkeSa::ArmChildLifetimeTimer() {
  Timestamp at = Timestamp::Infinite();
  for (const ChildSa& c : children_) at = std::min({at, c.soft_deadline, c.hard_deadline});
  timers_.Set(Timer::kChildLifetime, at);
}

// ---- Task API ----

PrfId IkeSa::prf() const { return suite_ ? suite_->prf() : PrfId::kHmacSha2_256; }

Status IkeSa::InstallKeys(const Suite& suite, IkeSaKeys keys) {
  MIPSEC_ASSIGN_OR_RETURN(SkCipherPair pair,
                          MakeSkCipherPair(suite, keys, original_initiator_, rng_));
  suite_ = suite;
  keys_ = std::move(keys);
  ciphers_ = std::move(pair);
  return Ok{};
}

void IkeSa::SetNatState(bool local_behind_nat, bool remote_behind_nat) {
  nat_local_ = local_behind_nat;
  nat_remote_ = remote_behind_nat;
  // RFC 4555 3.3: with MOBIKE and NAT-T on both sides the initiator MUST
  // move to port 4500 even without a NAT (MOBIKE support is only known in
  // IKE_AUTH, so our own setting decides, as other implementations do).
  const bool float_anyway = config_.mobike.enabled && peer_natt_;
  if (!nat_detected() && !float_anyway) return;
  if (nat_detected()) {
    MIPSEC_LOG(log_, kInfo) << "NAT detected:" << (nat_local_ ? " we are behind a NAT" : "")
                            << (nat_remote_ ? " the peer is behind a NAT" : "");
  }
  // RFC 7296 2.23: the initiator moves to the NAT-T port for IKE_AUTH.
  if (original_initiator_) {
    local_.port = config_.natt_port;
    remote_.port = config_.natt_port;
  }
  ArmKeepalive(now_);
}

void IkeSa::SetEstablished(Timestamp now) {
  state_ = IkeSaState::kEstablished;
  applied_path_ = esp_path();
  verified_ = {remote_};  // the handshake itself came from there
  confirmed_local_ = local_;
  confirmed_remote_ = remote_;
  timers_.Clear(Timer::kSetup);
  ArmIkeLifetimes(now);
  last_inbound_ = now;
  ArmDpd(now);
  ArmKeepalive(now);
  MIPSEC_LOG(log_, kInfo) << "IKE SA " << Spis(spi_i_, spi_r_) << " established with "
                          << remote_.ToString() << " (" << suite_->ToString() << ")";
  IkeSaUp up{*suite_};
  up.spi_i = spi_i_;
  up.spi_r = spi_r_;
  up.original_initiator = original_initiator_;
  up.local_id = config_.local_id;
  up.remote_id = remote_id_.value_or(IdPayload{});
  up.local = local_;
  up.remote = remote_;
  up.local_behind_nat = nat_local_;
  up.remote_behind_nat = nat_remote_;
  Emit(std::move(up));
}

void IkeSa::AddChild(Timestamp now, ChildSaInfo info, std::optional<std::uint32_t> rekeyed) {
  const EspPath path = esp_path();
  info.local = path.local;
  info.remote = path.remote;
  info.udp_encap = path.udp_encap;
  ChildSa c{info};
  c.established = now;
  c.soft_deadline = now + config_.lifetimes.child_soft;
  if (!c.soft_deadline.IsInfinite()) {
    c.soft_deadline = c.soft_deadline - RekeyJitter(config_.lifetimes.child_soft);
  }
  c.hard_deadline = now + config_.lifetimes.child_hard;
  MIPSEC_LOG(log_, kInfo) << "CHILD SA " << info.spi_in << "_i " << info.spi_out << "_o up ("
                          << info.suite.ToString() << ")";
  children_.push_back(std::move(c));
  Emit(ChildSaUp{std::move(info), rekeyed});
  ArmChildLifetimeTimer();
}

const ChildSa* IkeSa::FindChild(std::uint32_t spi_in) const {
  for (const ChildSa& c : children_) {
    if (c.info.spi_in == spi_in) return &c;
  }
  return nullptr;
}

ChildSa* IkeSa::FindChildMutable(std::uint32_t spi_in) {
  for (ChildSa& c : children_) {
    if (c.info.spi_in == spi_in) return &c;
  }
  return nullptr;
}

ChildSa* IkeSa::FindChildByOutbound(std::uint32_t spi_out) {
  for (ChildSa& c : children_) {
    if (c.info.spi_out == spi_out) return &c;
  }
  return nullptr;
}

void IkeSa::RemoveChild(std::uint32_t spi_in, ChildDownReason reason) {
  auto it = std::find_if(children_.begin(), children_.end(),
                         [&](const ChildSa& c) { return c.info.spi_in == spi_in; });
  if (it == children_.end()) return;
  MIPSEC_LOG(log_, kInfo) << "CHILD SA " << it->info.spi_in << "_i " << it->info.spi_out
                          << "_o down";
  Emit(ChildSaDown{it->info.spi_in, it->info.spi_out, reason});
  children_.erase(it);
  ArmChildLifetimeTimer();
}

void IkeSa::Fail(IkeDownReason reason, const std::string& detail) {
  if (state_ == IkeSaState::kDown) return;
  state_ = IkeSaState::kDown;
  // Aborting an IkeRekey may hand the CHILD SAs over to the peer's new IKE
  // SA (2.25.2), which makes this one superseded.
  tm_.AbortAll();
  if (superseded_) reason = IkeDownReason::kRekeyed;
  MIPSEC_LOG(log_, kInfo) << "IKE SA " << Spis(spi_i_, spi_r_) << " down: " << detail;
  for (const ChildSa& c : children_) {
    Emit(ChildSaDown{c.info.spi_in, c.info.spi_out, ChildDownReason::kIkeSaDown});
  }
  children_.clear();
  if (peer_virtual_ip_ && config_.address_provider != nullptr && remote_id_) {
    config_.address_provider->Release(*remote_id_, *peer_virtual_ip_);
    peer_virtual_ip_.reset();
  }
  timers_.ClearAll();
  Emit(IkeSaDown{reason, detail});
}

void IkeSa::FailAfterResponse(IkeDownReason reason, const std::string& detail) {
  down_after_response_ = IkeSaDown{reason, detail};
}

void IkeSa::OnResponseSent(Timestamp now) {
  if (down_after_response_) {
    IkeSaDown d = std::move(*down_after_response_);
    down_after_response_.reset();
    Fail(d.reason, d.detail);
    return;
  }
  OnExchangeDone(now);
}

void IkeSa::OnExchangeDone(Timestamp now) {
  if (state_ == IkeSaState::kDown) return;
  tm_.Initiate(now);
}

void IkeSa::OnRetransmitGiveUp() {
  Fail(IkeDownReason::kTimeout, "peer did not answer (retransmissions exhausted)");
}

// ---- IKE SA rekeying (RFC 7296 2.8) ----

std::vector<std::shared_ptr<IkeSa>> IkeSa::TakeNewSas() {
  std::vector<std::shared_ptr<IkeSa>> v = std::move(new_sas_);
  new_sas_.clear();
  return v;
}

Result<std::shared_ptr<IkeSa>> IkeSa::MakeSuccessor(Timestamp now, bool initiator,
                                                    std::uint64_t spi_i, std::uint64_t spi_r,
                                                    const Suite& suite, IkeSaKeys keys) {
  std::shared_ptr<IkeSa> n(new IkeSa(config_, local_, remote_, rng_, log_, initiator, now));
  n->spi_i_ = spi_i;
  n->spi_r_ = spi_r;
  MIPSEC_TRY(n->InstallKeys(suite, std::move(keys)));
  CopyPathState(*n);
  n->remote_id_ = remote_id_;
  n->peer_sig_hashes_ = peer_sig_hashes_;
  n->peer_fragmentation_ = peer_fragmentation_;
  n->mobike_ = mobike_;
  n->mobike_initiator_ = mobike_initiator_;
  n->peer_natt_ = peer_natt_;
  // Not last_natd_dst_: the hash covers the SPIs, so the new IKE SA's first
  // NAT-detecting liveness check records it afresh instead of taking the
  // new SPIs for a NAT change (RFC 4555 3.8 calls that extra update
  // harmless, but strongSwan with kernel-libipsec rekeys every CHILD SA
  // after each update).
  n->state_ = IkeSaState::kEstablished;
  n->superseded_ = true;  // a candidate until HandOver()
  // Message IDs start at 0 in the new IKE SA (2.8, 2.18).
  n->timers_.Set(Timer::kSuperseded, now + config_.setup_timeout);
  new_sas_.push_back(n);
  MIPSEC_LOG(log_, kInfo) << "new IKE SA " << Spis(spi_i, spi_r) << " from rekeying "
                          << Spis(spi_i_, spi_r_);
  return n;
}

void IkeSa::CopyPathState(IkeSa& to) const {
  to.local_ = local_;
  to.remote_ = remote_;
  to.nat_local_ = nat_local_;
  to.nat_remote_ = nat_remote_;
  to.local_addresses_ = local_addresses_;
  to.peer_addresses_ = peer_addresses_;
  to.applied_path_ = applied_path_;
  to.rr_hold_ = rr_hold_;
  to.verified_ = verified_;
  to.path_generation_ = path_generation_;
  to.confirmed_local_ = confirmed_local_;
  to.confirmed_remote_ = confirmed_remote_;
}

void IkeSa::HandOver(Timestamp now, IkeSa& next) {
  MIPSEC_BUG_IF(&next == this, "IKE SA handed over to itself");
  MIPSEC_LOG(log_, kInfo) << "IKE SA " << Spis(spi_i_, spi_r_) << " rekeyed to "
                          << Spis(next.spi_i_, next.spi_r_) << ", " << children_.size()
                          << " CHILD SA(s) inherited";
  for (ChildSa& c : children_) next.children_.push_back(std::move(c));
  children_.clear();
  next.virtual_ip_ = virtual_ip_;
  next.peer_virtual_ip_ = peer_virtual_ip_;
  next.virtual_ip_failed_ = virtual_ip_failed_;
  virtual_ip_.reset();
  peer_virtual_ip_.reset();  // the new IKE SA releases it
  for (auto& t : tm_.TakeQueued()) {
    if (t->type() == TaskType::kIkeRekey || t->type() == TaskType::kIkeDelete ||
        t->type() == TaskType::kIkeDpd) {
      continue;
    }
    next.tm_.Queue(std::move(t));
  }
  // MOBIKE moves during the rekey (the new IKE SA copied our paths when it
  // was made), and a pending RR check.
  CopyPathState(next);
  if (next.rr_hold_) next.QueueMobike(IkeMobike::Kind::kRoutability);
  if (tm_.HasActive(TaskType::kIkeMobike)) {
    // An UPDATE or address list in flight on this IKE SA dies with it.
    next.QueueMobike(mobike_initiator_ ? IkeMobike::Kind::kUpdate : IkeMobike::Kind::kAddresses);
  }
  next.superseded_ = false;
  next.timers_.Clear(Timer::kSuperseded);
  next.ArmIkeLifetimes(now);
  next.last_inbound_ = now;
  next.ArmDpd(now);
  next.ArmKeepalive(now);
  next.ArmChildLifetimeTimer();
  superseded_ = true;
  rekey_retries_ = 0;
  timers_.Clear(Timer::kIkeSoft);
  timers_.Clear(Timer::kIkeHard);
  timers_.Clear(Timer::kDpd);
  timers_.Clear(Timer::kChildLifetime);
  timers_.Clear(Timer::kRekeyRetry);
  timers_.Set(Timer::kSuperseded, now + config_.setup_timeout);
  IkeSaRekeyed ev{*next.suite_};
  ev.spi_i = next.spi_i_;
  ev.spi_r = next.spi_r_;
  ev.original_initiator = next.original_initiator_;
  Emit(std::move(ev));
  next.tm_.Initiate(now);
}

Duration IkeSa::TemporaryFailureDelay() {
  const Lifetimes& l = config_.lifetimes;
  Duration wait = l.temporary_failure_retry_min;
  const Duration spread = l.temporary_failure_retry_max - l.temporary_failure_retry_min;
  if (spread.millis() > 0) {
    const auto bound = static_cast<std::uint32_t>(
        std::min<std::int64_t>(spread.millis(), std::numeric_limits<std::uint32_t>::max()));
    wait += Duration::Millis(rng_.Uniform(bound));
  }
  return wait;
}

void IkeSa::RetryChildRekeyLater(Timestamp now, std::uint32_t spi_in) {
  ChildSa* c = FindChildMutable(spi_in);
  if (c == nullptr) return;
  const Duration wait = TemporaryFailureDelay();
  MIPSEC_LOG(log_, kInfo) << "CHILD SA " << spi_in
                          << " rekey got TEMPORARY_FAILURE, retrying in " << wait.ToString();
  c->soft_deadline = now + wait;
  ArmChildLifetimeTimer();
}

void IkeSa::ScheduleRekeyRetry(Timestamp now) {
  const Lifetimes& l = config_.lifetimes;
  if (++rekey_retries_ > l.temporary_failure_max_retries) {
    // 2.25: still TEMPORARY_FAILURE after several tries: out of sync.
    MIPSEC_LOG(log_, kNotice) << "IKE SA rekey refused " << rekey_retries_
                              << " times with TEMPORARY_FAILURE, deleting the IKE SA";
    // Called from a task during an exchange: only queue (the TaskManager
    // starts it when the exchange is done).
    if (!tm_.HasQueued(TaskType::kIkeDelete)) tm_.Queue(std::make_unique<IkeDelete>(true));
    return;
  }
  const Duration wait = TemporaryFailureDelay();
  MIPSEC_LOG(log_, kInfo) << "IKE SA rekey got TEMPORARY_FAILURE, retrying in "
                          << wait.ToString();
  timers_.Set(Timer::kRekeyRetry, now + wait);
}

std::uint32_t IkeSa::AllocateChildSpi() {
  for (;;) {
    const std::uint32_t v = rng_.U32();
    if (v < 256 || FindChild(v) != nullptr) continue;
    return v;
  }
}

Bytes IkeSa::NewNonce() {
  Bytes n(std::clamp<std::size_t>(config_.nonce_size, NoncePayload::kMinSize,
                                  NoncePayload::kMaxSize));
  rng_.Fill(n);
  return n;
}

}  // namespace mipsec::ikev2

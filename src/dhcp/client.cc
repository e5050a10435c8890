#include "dhcp/client.h"

#include <algorithm>
#include <limits>
#include <sstream>

#include "common/bug.h"

namespace mipsec::dhcp {

namespace {

// RFC 2131 3.3: times are unsigned seconds; 0xffffffff is infinity.
Duration Seconds(std::uint32_t s) { return Duration::Seconds(static_cast<std::int64_t>(s)); }

std::uint32_t LeaseSeconds(Duration d) {
  if (d.IsInfinite()) return kInfiniteLease;
  return static_cast<std::uint32_t>(std::min<std::int64_t>(d.seconds(), kInfiniteLease - 1));
}

// The default mask of the address's class (RFC 1122 3.3.1.1 leaves a host
// without a mask option to its own default; the classful one is the usual).
int ClassfulPrefix(Ipv4Address a) {
  const std::uint32_t top = a.ToHostOrder() >> 24;
  if (top < 128) return 8;
  if (top < 192) return 16;
  return 24;
}

std::string Hex32(std::uint32_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

}  // namespace

Status ClientConfig::Validate() const {
  if (hlen == 0 || hlen > chaddr.size()) {
    return Error(Errc::kInvalidArgument, "hlen: must be 1..16, is " + std::to_string(hlen));
  }
  if (client_id.size() == 1 || client_id.size() > 255) {
    return Error(Errc::kInvalidArgument, "client_id: 2..255 bytes, or empty for none");
  }
  if (initial_timeout < Duration::Millis(10)) {
    return Error(Errc::kInvalidArgument, "initial_timeout: at least 10ms");
  }
  if (max_timeout < initial_timeout || max_timeout > Duration::Seconds(3600)) {
    return Error(Errc::kInvalidArgument, "max_timeout: between initial_timeout and 1h");
  }
  if (jitter < Duration::Zero() || jitter > Duration::Seconds(60)) {
    return Error(Errc::kInvalidArgument, "jitter: 0..60s");
  }
  if (request_attempts < 1 || request_attempts > 100) {
    return Error(Errc::kInvalidArgument, "request_attempts: 1..100");
  }
  if (init_reboot_attempts < 1 || init_reboot_attempts > 100) {
    return Error(Errc::kInvalidArgument, "init_reboot_attempts: 1..100");
  }
  if (renew_min_retransmit < Duration::Millis(1) ||
      renew_min_retransmit > Duration::Seconds(3600)) {
    return Error(Errc::kInvalidArgument, "renew_min_retransmit: 1ms..1h");
  }
  if (start_delay_max < Duration::Zero() || start_delay_max > Duration::Seconds(60)) {
    return Error(Errc::kInvalidArgument, "start_delay_max: 0..60s");
  }
  if (remembered_networks < 1 || remembered_networks > 1024) {
    return Error(Errc::kInvalidArgument, "remembered_networks: 1..1024");
  }
  if (requested_lease && !requested_lease->IsInfinite() &&
      (*requested_lease < Duration::Seconds(1) ||
       *requested_lease >= Duration::Seconds(kInfiniteLease))) {
    return Error(Errc::kInvalidArgument, "requested_lease: 1s..2^32-2 s, or infinite");
  }
  return Ok{};
}

Ipv4Prefix Lease::Subnet() const {
  return *Ipv4Prefix::FromAddressAndLength(address, prefix_length);
}

std::string_view ClientStateName(ClientState s) {
  switch (s) {
    case ClientState::kStopped: return "STOPPED";
    case ClientState::kInit: return "INIT";
    case ClientState::kSelecting: return "SELECTING";
    case ClientState::kRequesting: return "REQUESTING";
    case ClientState::kRebooting: return "INIT-REBOOT";
    case ClientState::kBound: return "BOUND";
    case ClientState::kRenewing: return "RENEWING";
    case ClientState::kRebinding: return "REBINDING";
  }
  return "?";
}

std::string_view LeaseLostReasonName(LeaseLostReason r) {
  switch (r) {
    case LeaseLostReason::kExpired: return "expired";
    case LeaseLostReason::kNak: return "nak";
    case LeaseLostReason::kReleased: return "released";
    case LeaseLostReason::kStopped: return "stopped";
  }
  return "?";
}

std::string_view ClientDropName(ClientDrop d) {
  switch (d) {
    case ClientDrop::kMalformed: return "malformed";
    case ClientDrop::kNotBootReply: return "not-bootreply";
    case ClientDrop::kNotRunning: return "not-running";
    case ClientDrop::kNoTransaction: return "no-transaction";
    case ClientDrop::kWrongXid: return "wrong-xid";
    case ClientDrop::kWrongChaddr: return "wrong-chaddr";
    case ClientDrop::kUnexpectedType: return "unexpected-type";
    case ClientDrop::kNoServerId: return "no-server-id";
    case ClientDrop::kWrongServer: return "wrong-server";
    case ClientDrop::kBadAddress: return "bad-address";
    case ClientDrop::kBadLease: return "bad-lease";
    case ClientDrop::kBadOptions: return "bad-options";
    case ClientDrop::kCount: break;
  }
  return "?";
}

std::uint64_t ClientCounters::TotalDropped() const {
  std::uint64_t n = 0;
  for (std::uint64_t d : dropped) n += d;
  return n;
}

Result<std::unique_ptr<Client>> Client::Create(const ClientConfig& config, RandomSource& random,
                                               Logger log) {
  Status valid = config.Validate();
  if (!valid.ok()) return valid.error().WithContext("DHCP client config");
  return std::unique_ptr<Client>(new Client(config, random, std::move(log)));
}

Client::Client(const ClientConfig& config, RandomSource& random, Logger log)
    : config_(config), random_(random), log_(std::move(log)) {}

// --- Commands ---

void Client::Start(Timestamp now, std::string_view network) {
  if (state_ != ClientState::kStopped) Stop(now);
  network_ = std::string(network);
  consecutive_naks_ = 0;
  auto it = remembered_.find(network_);
  if (it != remembered_.end() && it->second.lease.expires_at <= now) {
    remembered_.erase(it);
    it = remembered_.end();
  }
  if (config_.init_reboot && it != remembered_.end()) {
    // RFC 2131 4.4.2: INIT-REBOOT, verify the cached lease.
    rebooting_ = it->second.lease;
    NewXid();
    exchange_started_ = now;
    attempt_ = 0;
    SetState(ClientState::kRebooting);
    SendRequest(now);
    timers_.Set(Timer::kRetransmit, now + Backoff(attempt_));
    return;
  }
  Duration delay = Duration::Zero();
  if (config_.start_delay_max > Duration::Zero()) {
    const std::int64_t us = std::min<std::int64_t>(config_.start_delay_max.micros(),
                                                   std::numeric_limits<std::uint32_t>::max() - 1);
    delay = Duration::Micros(random_.Uniform(static_cast<std::uint32_t>(us + 1)));
  }
  BeginInit(now, delay);
}

void Client::Stop(Timestamp now) {
  (void)now;
  if (state_ == ClientState::kStopped) return;
  timers_.ClearAll();
  transmits_.clear();
  offer_.reset();
  rebooting_.reset();
  LoseLease(LeaseLostReason::kStopped);
  SetState(ClientState::kStopped);
}

void Client::Release(Timestamp now) {
  if (state_ == ClientState::kStopped) return;
  timers_.ClearAll();
  transmits_.clear();
  offer_.reset();
  rebooting_.reset();
  if (lease_) {
    // RFC 2131 4.4.6 and Table 5: unicast to the server, ciaddr set, a new
    // xid, 'secs' 0, no requested address or parameter list.
    NewXid();
    Message m = BaseRequest(MessageType::kRelease);
    m.options.parameter_request_list.clear();
    m.options.lease_time.reset();
    m.set_broadcast(false);
    m.ciaddr = lease_->address;
    m.options.server_id = lease_->server;
    Queue(now, std::move(m), {lease_->server, kServerPort}, lease_->address);
    LoseLease(LeaseLostReason::kReleased);
  }
  Forget();  // a released (or unconfirmed) lease is not INIT-REBOOT material
  SetState(ClientState::kStopped);
}

// --- Sending ---

void Client::NewXid() { xid_ = random_.U32(); }

Message Client::BaseRequest(MessageType type) const {
  Message m;
  m.op = Op::kBootRequest;
  m.type = type;
  m.htype = config_.htype;
  m.hlen = config_.hlen;
  m.chaddr = config_.chaddr;
  m.xid = xid_;
  m.set_broadcast(config_.broadcast_flag);
  m.options.client_id = config_.client_id;
  m.options.parameter_request_list = config_.parameter_request_list;
  if (config_.requested_lease) m.options.lease_time = LeaseSeconds(*config_.requested_lease);
  return m;
}

void Client::Queue(Timestamp now, Message m, Ipv4Endpoint to, Ipv4Address source) {
  (void)now;
  MIPSEC_LOG(log_, kDebug) << "send " << Describe(m) << " to " << to;
  ++counters_.transmitted;
  transmits_.push_back(ClientTransmit{to, source, m.type, SerializeMessage(m)});
}

void Client::BeginInit(Timestamp now, Duration delay) {
  offer_.reset();
  rebooting_.reset();
  timers_.Clear(Timer::kRetransmit);
  if (delay > Duration::Zero()) {
    SetState(ClientState::kInit);
    timers_.Set(Timer::kStartDelay, now + delay);
    return;
  }
  SendDiscover(now);
}

void Client::SendDiscover(Timestamp now) {
  // RFC 2131 4.4.1: a fresh xid; ciaddr 0; broadcast.
  NewXid();
  exchange_started_ = now;
  attempt_ = 1;
  SetState(ClientState::kSelecting);
  Message m = BaseRequest(MessageType::kDiscover);
  Queue(now, std::move(m), {Ipv4Address::Broadcast(), kServerPort}, Ipv4Address::Any());
  timers_.Set(Timer::kRetransmit, now + Backoff(attempt_));
}

void Client::SendRequest(Timestamp now) {
  // RFC 2131 4.3.6, Table 4: which fields each state fills in.
  Message m = BaseRequest(MessageType::kRequest);
  const std::int64_t secs = (now - exchange_started_).seconds();
  m.secs = static_cast<std::uint16_t>(std::clamp<std::int64_t>(secs, 0, 0xffff));
  Ipv4Endpoint to{Ipv4Address::Broadcast(), kServerPort};
  Ipv4Address source = Ipv4Address::Any();
  switch (state_) {
    case ClientState::kRequesting:
      if (MIPSEC_BUG_IF(!offer_, "REQUESTING without an offer")) return;
      m.options.server_id = offer_->server;
      m.options.requested_ip = offer_->address;
      break;
    case ClientState::kRebooting:
      if (MIPSEC_BUG_IF(!rebooting_, "INIT-REBOOT without a remembered lease")) return;
      m.options.requested_ip = rebooting_->address;
      break;
    case ClientState::kRenewing:
    case ClientState::kRebinding:
      if (MIPSEC_BUG_IF(!lease_, "RENEWING/REBINDING without a lease")) return;
      m.ciaddr = lease_->address;
      m.set_broadcast(false);  // it has an address: unicast replies reach it
      source = lease_->address;
      if (state_ == ClientState::kRenewing) to.address = lease_->server;
      break;
    default:
      MIPSEC_BUG("DHCPREQUEST in a state that sends none");
      return;
  }
  if (attempt_ == 0) {
    request_first_sent_ = now;
  } else {
    ++counters_.retransmissions;
  }
  ++attempt_;
  Queue(now, std::move(m), to, source);
}

Duration Client::Randomize(Duration d) {
  // RFC 2131 4.1: +-1 s around 4 s; never more than a quarter of the delay,
  // so short (fast-handover) timeouts keep their shape.
  const Duration j = std::min(config_.jitter, d / 4);
  std::int64_t us = j.micros();
  if (us <= 0) return d;
  us = std::min<std::int64_t>(us, (std::numeric_limits<std::uint32_t>::max() - 1) / 2);
  const std::int64_t r = random_.Uniform(static_cast<std::uint32_t>(2 * us + 1));
  return d + Duration::Micros(r - us);
}

Duration Client::Backoff(int attempt) {
  // Delay after the attempt-th transmission: initial, 2x, 4x, ... capped.
  Duration d = config_.initial_timeout;
  for (int i = 1; i < attempt && d < config_.max_timeout; ++i) d = d * 2;
  return Randomize(std::min(d, config_.max_timeout));
}

void Client::ArmRenewRetransmit(Timestamp now, Timestamp limit) {
  // RFC 2131 4.4.5: half the time left, at least the minimum, not past the
  // next phase (whose own timer then takes over).
  const Duration wait = std::max((limit - now) / 2, config_.renew_min_retransmit);
  const Timestamp at = now + wait;
  if (at < limit) {
    timers_.Set(Timer::kRetransmit, at);
  } else {
    timers_.Clear(Timer::kRetransmit);
  }
}

// --- Timers ---

void Client::OnTimeout(Timestamp now) {
  while (std::optional<Timer> t = timers_.PopExpired(now)) OnTimer(*t, now);
}

void Client::OnTimer(Timer t, Timestamp now) {
  switch (t) {
    case Timer::kStartDelay:
      if (state_ == ClientState::kInit) SendDiscover(now);
      return;
    case Timer::kRetransmit:
      switch (state_) {
        case ClientState::kSelecting:
          ++attempt_;
          ++counters_.retransmissions;
          {
            Message m = BaseRequest(MessageType::kDiscover);
            const std::int64_t secs = (now - exchange_started_).seconds();
            m.secs = static_cast<std::uint16_t>(std::clamp<std::int64_t>(secs, 0, 0xffff));
            Queue(now, std::move(m), {Ipv4Address::Broadcast(), kServerPort}, Ipv4Address::Any());
          }
          timers_.Set(Timer::kRetransmit, now + Backoff(attempt_));
          return;
        case ClientState::kRequesting:
          if (attempt_ >= config_.request_attempts) {
            // RFC 2131 3.1 step 5: no ACK or NAK after retransmitting: INIT.
            MIPSEC_LOG(log_, kInfo) << "no answer to DHCPREQUEST after " << attempt_
                                    << " attempts, restarting";
            BeginInit(now);
            return;
          }
          SendRequest(now);
          timers_.Set(Timer::kRetransmit, now + Backoff(attempt_));
          return;
        case ClientState::kRebooting:
          if (attempt_ >= config_.init_reboot_attempts) {
            // A server without a record stays silent (4.3.2): give up on the
            // cached lease and acquire a new one.
            MIPSEC_LOG(log_, kInfo) << "INIT-REBOOT unanswered after " << attempt_
                                    << " attempts, forgetting " << rebooting_->address;
            remembered_.erase(network_);
            BeginInit(now);
            return;
          }
          SendRequest(now);
          timers_.Set(Timer::kRetransmit, now + Backoff(attempt_));
          return;
        case ClientState::kRenewing:
          SendRequest(now);
          ArmRenewRetransmit(now, lease_->rebind_at);
          return;
        case ClientState::kRebinding:
          SendRequest(now);
          ArmRenewRetransmit(now, lease_->expires_at);
          return;
        default:
          return;
      }
    case Timer::kRenew:
      if (state_ != ClientState::kBound || !lease_ || lease_->rebind_at <= now) return;
      // RFC 2131 4.4.5: T1, unicast to the leasing server.
      NewXid();
      exchange_started_ = now;
      attempt_ = 0;
      SetState(ClientState::kRenewing);
      SendRequest(now);
      ArmRenewRetransmit(now, lease_->rebind_at);
      return;
    case Timer::kRebind:
      if (!lease_ || lease_->expires_at <= now) return;
      // T2: broadcast to any server.
      NewXid();
      exchange_started_ = now;
      attempt_ = 0;
      SetState(ClientState::kRebinding);
      SendRequest(now);
      ArmRenewRetransmit(now, lease_->expires_at);
      return;
    case Timer::kExpire:
      if (!lease_) return;
      // The lease is gone: stop using the address, start over (4.4.5).
      ++counters_.expiries;
      MIPSEC_LOG(log_, kInfo) << "lease on " << lease_->address << " expired";
      LoseLease(LeaseLostReason::kExpired);
      BeginInit(now);
      return;
    case Timer::kCount:
      break;
  }
}

// --- Receiving ---

Status Client::Drop(ClientDrop reason, std::string detail) {
  ++counters_.dropped[static_cast<std::size_t>(reason)];
  MIPSEC_LOG(log_, kDebug) << "dropped (" << ClientDropName(reason) << "): " << detail;
  const Errc code = (reason == ClientDrop::kNotRunning || reason == ClientDrop::kNoTransaction ||
                     reason == ClientDrop::kUnexpectedType)
                        ? Errc::kState
                        : Errc::kMalformed;
  return Error(code, "DHCP reply dropped (" + std::string(ClientDropName(reason)) + "): " + detail);
}

Status Client::OnDatagram(Timestamp now, const Path& path, ByteSpan bytes) {
  if (state_ == ClientState::kStopped) return Drop(ClientDrop::kNotRunning, "client is stopped");
  Result<Message> parsed = ParseMessage(bytes);
  if (!parsed.ok()) {
    return Drop(ClientDrop::kMalformed,
                parsed.error().ToString() + " (from " + path.remote.ToString() + ")");
  }
  const Message& m = *parsed;
  if (m.op != Op::kBootReply) return Drop(ClientDrop::kNotBootReply, Describe(m));
  if (state_ == ClientState::kBound || state_ == ClientState::kInit) {
    return Drop(ClientDrop::kNoTransaction,
                Describe(m) + " in state " + std::string(ClientStateName(state_)));
  }
  if (m.xid != xid_) {
    return Drop(ClientDrop::kWrongXid, Describe(m) + ", expected xid " + Hex32(xid_));
  }
  if (m.htype != config_.htype || m.hlen != config_.hlen ||
      !std::equal(m.chaddr.begin(), m.chaddr.begin() + config_.hlen, config_.chaddr.begin())) {
    return Drop(ClientDrop::kWrongChaddr, Describe(m) + " for hardware address " +
                                              ToHex(m.hardware_address()));
  }
  switch (m.type) {
    case MessageType::kOffer:
      return HandleOffer(now, m);
    case MessageType::kAck:
      return HandleAck(now, m);
    case MessageType::kNak:
      return HandleNak(now, m);
    default:
      return Drop(ClientDrop::kUnexpectedType, Describe(m) + " is not a server reply");
  }
}

Result<Lease> Client::LeaseFrom(const Message& m, Timestamp base, ClientDrop* reason) const {
  auto fail = [&](ClientDrop r, std::string why) -> Error {
    *reason = r;
    return Error(Errc::kMalformed, std::move(why));
  };
  Lease l;
  l.address = m.yiaddr;
  if (!l.address.IsUnicast() || (l.address.ToHostOrder() >> 24) == 0 ||
      l.address.IsLinkLocal()) {
    return fail(ClientDrop::kBadAddress, "yiaddr " + l.address.ToString() + " is not usable");
  }
  if (m.options.subnet_mask) {
    std::optional<int> len = MaskToPrefixLength(*m.options.subnet_mask);
    if (!len || *len == 0) {
      return fail(ClientDrop::kBadOptions,
                  "subnet mask " + m.options.subnet_mask->ToString() + " is not a usable prefix");
    }
    l.prefix_length = *len;
  } else {
    l.prefix_length = ClassfulPrefix(l.address);
  }
  const Ipv4Prefix subnet = l.Subnet();
  if (l.prefix_length < 31 &&
      (l.address == subnet.address() || l.address == subnet.Broadcast())) {
    return fail(ClientDrop::kBadAddress, "yiaddr " + l.address.ToString() +
                                             " is the network or broadcast address of " +
                                             subnet.ToString());
  }
  if (!m.options.server_id) return fail(ClientDrop::kNoServerId, "no server identifier");
  l.server = *m.options.server_id;
  if (!m.options.lease_time || *m.options.lease_time == 0) {
    return fail(ClientDrop::kBadLease, "no usable lease time (option 51)");
  }
  l.obtained = base;
  if (*m.options.lease_time == kInfiniteLease) {
    l.lease_time = Duration::Infinite();
    l.renew_at = l.rebind_at = l.expires_at = Timestamp::Infinite();
  } else {
    // RFC 2131 4.4.5: T1 < T2 < lease, else the defaults 0.5 and 0.875.
    l.lease_time = Seconds(*m.options.lease_time);
    Duration t1 = m.options.renewal_time ? Seconds(*m.options.renewal_time) : l.lease_time / 2;
    Duration t2 = m.options.rebinding_time ? Seconds(*m.options.rebinding_time)
                                           : l.lease_time - l.lease_time / 8;
    if (!(t1 < t2 && t2 < l.lease_time)) {
      t1 = l.lease_time / 2;
      t2 = l.lease_time - l.lease_time / 8;
    }
    l.renew_at = base + t1;
    l.rebind_at = base + t2;
    l.expires_at = base + l.lease_time;
  }
  for (Ipv4Address r : m.options.routers) {
    if (r != l.address && r.IsUnicast() && subnet.Contains(r)) {
      l.router = r;
      break;
    }
  }
  l.dns_servers = m.options.dns_servers;
  l.domain_name = m.options.domain_name;
  return l;
}

Status Client::HandleOffer(Timestamp now, const Message& m) {
  if (state_ != ClientState::kSelecting) {
    return Drop(ClientDrop::kUnexpectedType,
                Describe(m) + " in state " + std::string(ClientStateName(state_)));
  }
  ClientDrop reason = ClientDrop::kMalformed;
  Result<Lease> offered = LeaseFrom(m, now, &reason);
  if (!offered.ok()) return Drop(reason, Describe(m) + ": " + offered.error().detail());
  ++counters_.accepted;
  // RFC 2131 4.4.1: take this offer; REQUEST it with the same xid.
  MIPSEC_LOG(log_, kInfo) << "offer of " << offered->address << " from " << offered->server;
  offer_ = Offer{offered->server, offered->address};
  attempt_ = 0;
  SetState(ClientState::kRequesting);
  SendRequest(now);
  timers_.Set(Timer::kRetransmit, now + Backoff(attempt_));
  return Ok{};
}

Status Client::HandleAck(Timestamp now, const Message& m) {
  const std::string what = Describe(m);
  if (!m.options.server_id) return Drop(ClientDrop::kNoServerId, what);
  const Ipv4Address server = *m.options.server_id;
  switch (state_) {
    case ClientState::kRequesting:
      if (server != offer_->server) {
        return Drop(ClientDrop::kWrongServer, what + ", chose " + offer_->server.ToString());
      }
      if (m.yiaddr != offer_->address) {
        return Drop(ClientDrop::kBadAddress, what + ", requested " + offer_->address.ToString());
      }
      break;
    case ClientState::kRebooting:
      if (m.yiaddr != rebooting_->address) {
        return Drop(ClientDrop::kBadAddress,
                    what + ", requested " + rebooting_->address.ToString());
      }
      break;
    case ClientState::kRenewing:
      if (server != lease_->server) {
        return Drop(ClientDrop::kWrongServer, what + ", leased from " + lease_->server.ToString());
      }
      [[fallthrough]];
    case ClientState::kRebinding:
      if (m.yiaddr != lease_->address) {
        return Drop(ClientDrop::kBadAddress, what + ", holding " + lease_->address.ToString());
      }
      break;
    default:
      return Drop(ClientDrop::kUnexpectedType,
                  what + " in state " + std::string(ClientStateName(state_)));
  }
  ClientDrop reason = ClientDrop::kMalformed;
  Result<Lease> lease = LeaseFrom(m, request_first_sent_, &reason);
  if (!lease.ok()) return Drop(reason, what + ": " + lease.error().detail());
  if (lease->expires_at <= now) {
    return Drop(ClientDrop::kBadLease, what + ": lease already over when it arrived");
  }
  ++counters_.accepted;
  const bool renewed = state_ == ClientState::kRenewing || state_ == ClientState::kRebinding;
  Bind(now, std::move(*lease), renewed);
  return Ok{};
}

Status Client::HandleNak(Timestamp now, const Message& m) {
  const std::string what = Describe(m);
  if (!m.options.server_id) return Drop(ClientDrop::kNoServerId, what);
  const Ipv4Address server = *m.options.server_id;
  switch (state_) {
    case ClientState::kRequesting:
      if (server != offer_->server) {
        return Drop(ClientDrop::kWrongServer, what + ", chose " + offer_->server.ToString());
      }
      break;
    case ClientState::kRenewing:
      if (server != lease_->server) {
        return Drop(ClientDrop::kWrongServer, what + ", leased from " + lease_->server.ToString());
      }
      break;
    case ClientState::kRebooting:
    case ClientState::kRebinding:
      break;
    default:
      return Drop(ClientDrop::kUnexpectedType,
                  what + " in state " + std::string(ClientStateName(state_)));
  }
  ++counters_.accepted;
  ++counters_.naks;
  MIPSEC_LOG(log_, kInfo) << "NAK from " << server << " in " << ClientStateName(state_)
                          << (m.options.message.empty() ? "" : ": ") << m.options.message;
  events_.push_back(NakEvent{server, m.options.message});
  if (state_ == ClientState::kRebooting) remembered_.erase(network_);
  LoseLease(LeaseLostReason::kNak);
  // RFC 2131 3.1 step 5 / 3.2 step 4: restart; back off on repeated NAKs.
  ++consecutive_naks_;
  Duration delay = Duration::Zero();
  if (consecutive_naks_ > 1) {
    delay = config_.initial_timeout;
    for (int i = 2; i < consecutive_naks_ && delay < config_.max_timeout; ++i) delay = delay * 2;
    delay = std::min(delay, config_.max_timeout);
  }
  BeginInit(now, delay);
  return Ok{};
}

void Client::Bind(Timestamp now, Lease lease, bool renewed) {
  (void)now;
  consecutive_naks_ = 0;
  offer_.reset();
  rebooting_.reset();
  lease_ = std::move(lease);
  timers_.Clear(Timer::kRetransmit);
  timers_.Set(Timer::kRenew, lease_->renew_at);
  timers_.Set(Timer::kRebind, lease_->rebind_at);
  timers_.Set(Timer::kExpire, lease_->expires_at);
  SetState(ClientState::kBound);
  Remember(*lease_);
  if (renewed) {
    ++counters_.renewals;
    MIPSEC_LOG(log_, kInfo) << "lease on " << lease_->address << " extended by "
                            << lease_->server << ", " << lease_->lease_time.ToString();
    events_.push_back(RenewedEvent{*lease_});
  } else {
    ++counters_.leases;
    MIPSEC_LOG(log_, kInfo) << "bound to " << lease_->address << "/" << lease_->prefix_length
                            << " from " << lease_->server << ", lease "
                            << (lease_->lease_time.IsInfinite() ? std::string("infinite")
                                                                : lease_->lease_time.ToString());
    events_.push_back(BoundEvent{*lease_});
  }
}

void Client::LoseLease(LeaseLostReason reason) {
  timers_.Clear(Timer::kRenew);
  timers_.Clear(Timer::kRebind);
  timers_.Clear(Timer::kExpire);
  if (reason != LeaseLostReason::kStopped) Forget();
  if (!lease_) return;
  MIPSEC_LOG(log_, kInfo) << "lease on " << lease_->address << " lost ("
                          << LeaseLostReasonName(reason) << ")";
  events_.push_back(LeaseLostEvent{*lease_, reason});
  lease_.reset();
}

void Client::Remember(const Lease& lease) {
  remembered_[network_] = Remembered{lease, ++remember_seq_};
  while (remembered_.size() > config_.remembered_networks) {
    auto oldest = std::min_element(
        remembered_.begin(), remembered_.end(),
        [](const auto& a, const auto& b) { return a.second.seq < b.second.seq; });
    remembered_.erase(oldest);
  }
}

void Client::Forget() { remembered_.erase(network_); }

std::optional<Ipv4Address> Client::RememberedAddress(std::string_view network) const {
  auto it = remembered_.find(network);
  if (it == remembered_.end()) return std::nullopt;
  return it->second.lease.address;
}

void Client::SetState(ClientState s) {
  if (s == state_) return;
  MIPSEC_LOG(log_, kDebug) << ClientStateName(state_) << " -> " << ClientStateName(s);
  state_ = s;
}

// --- Outputs ---

std::optional<ClientTransmit> Client::PollTransmit() {
  if (transmits_.empty()) return std::nullopt;
  ClientTransmit t = std::move(transmits_.front());
  transmits_.pop_front();
  return t;
}

std::optional<ClientEvent> Client::PollEvent() {
  if (events_.empty()) return std::nullopt;
  ClientEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace mipsec::dhcp

#include "dhcp/server.h"

#include <algorithm>

#include "common/bug.h"

namespace mipsec::dhcp {

namespace {

std::uint32_t LeaseSeconds(Duration d) {
  if (d.IsInfinite()) return kInfiniteLease;
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(d.seconds(), 0, kInfiniteLease - 1));
}

bool IsNetworkOrBroadcast(const Ipv4Prefix& subnet, Ipv4Address a) {
  return subnet.length() < 31 && (a == subnet.address() || a == subnet.Broadcast());
}

}  // namespace

Status ServerConfig::Validate() const {
  if (subnet.length() < 1 || subnet.length() > 30) {
    return Error(Errc::kInvalidArgument, "subnet: prefix length must be 1..30");
  }
  auto on_subnet = [&](Ipv4Address a) {
    return a.IsUnicast() && subnet.Contains(a) && !IsNetworkOrBroadcast(subnet, a);
  };
  if (!on_subnet(server_address)) {
    return Error(Errc::kInvalidArgument,
                 "server_address: " + server_address.ToString() + " is not a host of " +
                     subnet.ToString());
  }
  if (!on_subnet(pool_first) || !on_subnet(pool_last) || pool_last < pool_first) {
    return Error(Errc::kInvalidArgument, "pool: " + pool_first.ToString() + ".." +
                                             pool_last.ToString() + " is not a range of hosts of " +
                                             subnet.ToString());
  }
  if (pool_first == pool_last && pool_first == server_address) {
    return Error(Errc::kInvalidArgument, "pool: holds only the server's own address");
  }
  for (Ipv4Address r : routers) {
    if (!on_subnet(r)) {
      return Error(Errc::kInvalidArgument, "routers: " + r.ToString() + " is not on " +
                                               subnet.ToString());
    }
  }
  for (Ipv4Address d : dns_servers) {
    if (!d.IsUnicast()) {
      return Error(Errc::kInvalidArgument, "dns_servers: " + d.ToString() + " is not unicast");
    }
  }
  if (domain_name.size() > 1024) {
    return Error(Errc::kInvalidArgument, "domain_name: longer than 1024 bytes");
  }
  const Duration max_finite = Duration::Seconds(kInfiniteLease - 1);
  if (!lease_time.IsInfinite() && (lease_time < Duration::Seconds(1) || lease_time > max_finite)) {
    return Error(Errc::kInvalidArgument, "lease_time: 1s..2^32-2 s, or infinite");
  }
  if (min_lease_time < Duration::Seconds(1) || min_lease_time > lease_time) {
    return Error(Errc::kInvalidArgument, "min_lease_time: 1s..lease_time");
  }
  if (max_lease_time && (*max_lease_time < lease_time ||
                         (!max_lease_time->IsInfinite() && *max_lease_time > max_finite))) {
    return Error(Errc::kInvalidArgument, "max_lease_time: at least lease_time");
  }
  if (offer_timeout < Duration::Millis(1) || offer_timeout > Duration::Seconds(3600)) {
    return Error(Errc::kInvalidArgument, "offer_timeout: 1ms..1h");
  }
  if (decline_hold < Duration::Zero() || decline_hold > Duration::Seconds(86400 * 7)) {
    return Error(Errc::kInvalidArgument, "decline_hold: 0..7 days");
  }
  return Ok{};
}

std::string_view ReplyDeliveryName(ReplyDelivery d) {
  switch (d) {
    case ReplyDelivery::kBroadcast: return "broadcast";
    case ReplyDelivery::kUnicast: return "unicast";
    case ReplyDelivery::kRelay: return "relay";
    case ReplyDelivery::kHardwareUnicast: return "hardware-unicast";
  }
  return "?";
}

std::string_view BindingStateName(BindingState s) {
  switch (s) {
    case BindingState::kOffered: return "offered";
    case BindingState::kBound: return "bound";
    case BindingState::kFree: return "free";
  }
  return "?";
}

std::string_view ServerEventKindName(ServerEvent::Kind k) {
  switch (k) {
    case ServerEvent::Kind::kOffered: return "offered";
    case ServerEvent::Kind::kAcked: return "acked";
    case ServerEvent::Kind::kNaked: return "naked";
    case ServerEvent::Kind::kReleased: return "released";
    case ServerEvent::Kind::kDeclined: return "declined";
    case ServerEvent::Kind::kExpired: return "expired";
  }
  return "?";
}

std::string_view ServerDropName(ServerDrop d) {
  switch (d) {
    case ServerDrop::kMalformed: return "malformed";
    case ServerDrop::kNotBootRequest: return "not-bootrequest";
    case ServerDrop::kUnexpectedType: return "unexpected-type";
    case ServerDrop::kOtherServer: return "other-server";
    case ServerDrop::kBadRequest: return "bad-request";
    case ServerDrop::kUnknownClient: return "unknown-client";
    case ServerDrop::kWrongRelay: return "wrong-relay";
    case ServerDrop::kPoolExhausted: return "pool-exhausted";
    case ServerDrop::kCount: break;
  }
  return "?";
}

Result<std::unique_ptr<Server>> Server::Create(const ServerConfig& config, Logger log) {
  Status valid = config.Validate();
  if (!valid.ok()) return valid.error().WithContext("DHCP server config");
  return std::unique_ptr<Server>(new Server(config, std::move(log)));
}

Server::Server(const ServerConfig& config, Logger log)
    : config_(config),
      max_lease_(config.max_lease_time.value_or(config.lease_time)),
      log_(std::move(log)),
      next_fresh_(config.pool_first.ToHostOrder()) {}

Bytes Server::ClientKey(const Message& m) {
  // RFC 2131 4.2: the client identifier if present, else chaddr.
  // Sized up front and filled by copy: GCC 12's -Warray-bounds misfires on
  // push_back followed by insert into a vector.
  if (!m.options.client_id.empty()) {
    const auto& id = m.options.client_id;
    Bytes key(1 + id.size());
    key[0] = 0x00;
    std::copy(id.begin(), id.end(), key.begin() + 1);
    return key;
  }
  const ByteSpan hw = m.hardware_address();
  Bytes key(2 + hw.size());
  key[0] = 0x01;
  key[1] = m.htype;
  std::copy(hw.begin(), hw.end(), key.begin() + 2);
  return key;
}

// --- Inputs ---

Status Server::Drop(ServerDrop reason, std::string detail) {
  ++counters_.dropped[static_cast<std::size_t>(reason)];
  MIPSEC_LOG(log_, kDebug) << "dropped (" << ServerDropName(reason) << "): " << detail;
  const Errc code = reason == ServerDrop::kPoolExhausted ? Errc::kResource
                    : (reason == ServerDrop::kOtherServer || reason == ServerDrop::kUnknownClient)
                        ? Errc::kNotFound
                        : Errc::kMalformed;
  return Error(code,
               "DHCP request dropped (" + std::string(ServerDropName(reason)) + "): " + detail);
}

Status Server::OnDatagram(Timestamp now, const Path& path, ByteSpan bytes) {
  ++counters_.received;
  Result<Message> parsed = ParseMessage(bytes);
  if (!parsed.ok()) {
    return Drop(ServerDrop::kMalformed,
                parsed.error().ToString() + " (from " + path.remote.ToString() + ")");
  }
  const Message& m = *parsed;
  if (m.op != Op::kBootRequest) return Drop(ServerDrop::kNotBootRequest, Describe(m));
  if (!m.giaddr.IsAny() && !config_.subnet.Contains(m.giaddr)) {
    return Drop(ServerDrop::kWrongRelay, Describe(m) + ": relay not on " +
                                             config_.subnet.ToString());
  }
  switch (m.type) {
    case MessageType::kDiscover: return HandleDiscover(now, m);
    case MessageType::kRequest: return HandleRequest(now, path, m);
    case MessageType::kDecline: return HandleDecline(now, m);
    case MessageType::kRelease: return HandleRelease(now, m);
    case MessageType::kInform: return HandleInform(now, m);
    default: return Drop(ServerDrop::kUnexpectedType, Describe(m) + " sent to a server");
  }
}

Status Server::HandleDiscover(Timestamp now, const Message& m) {
  const Bytes key = ClientKey(m);
  std::optional<Ipv4Address> address = Allocate(key, m);
  if (!address) {
    MIPSEC_LOG(log_, kWarning) << "pool " << config_.pool_first << ".." << config_.pool_last
                               << " exhausted, no offer for " << ToHex(m.hardware_address());
    return Drop(ServerDrop::kPoolExhausted, Describe(m));
  }
  Binding& b = Assign(now, key, m, *address);
  if (b.state != BindingState::kBound) {
    // RFC 2131 4.3.1: SHOULD NOT reuse an offered address before the client
    // answers; reserve it for offer_timeout.
    b.state = BindingState::kOffered;
    b.expires = now + config_.offer_timeout;
    SetDeadline(b.address, b.expires);
  }
  Message reply = Reply(m, MessageType::kOffer);
  reply.yiaddr = b.address;
  AddLeaseOptions(reply, ChooseLease(m));
  AddParameters(reply);
  ++counters_.offers;
  MIPSEC_LOG(log_, kDebug) << "offer " << b.address << " to " << ToHex(m.hardware_address());
  Send(m, std::move(reply));
  Emit(ServerEvent::Kind::kOffered, b);
  return Ok{};
}

Status Server::HandleRequest(Timestamp now, const Path& path, const Message& m) {
  const Bytes key = ClientKey(m);
  auto it = bindings_.find(key);
  Binding* b = it == bindings_.end() ? nullptr : &it->second;

  if (m.options.server_id) {
    // SELECTING (RFC 2131 4.3.2).
    if (*m.options.server_id != config_.server_address) {
      // The client chose another server: our offer is free again.
      if (b && b->state == BindingState::kOffered) Free(now, *b);
      return Drop(ServerDrop::kOtherServer, Describe(m));
    }
    if (!m.ciaddr.IsAny() || !m.options.requested_ip) {
      return Drop(ServerDrop::kBadRequest,
                  Describe(m) + ": a SELECTING REQUEST needs ciaddr 0 and a requested address");
    }
    const Ipv4Address want = *m.options.requested_ip;
    if (b && b->address == want && Usable(want, key)) {
      Ack(now, m, *b, ChooseLease(m));
    } else if (!b && InPool(want) && Usable(want, key)) {
      Ack(now, m, Assign(now, key, m, want), ChooseLease(m));
    } else {
      Nak(m, key, want, "requested address not offered to this client");
    }
    return Ok{};
  }

  if (m.options.requested_ip) {
    // INIT-REBOOT.
    if (!m.ciaddr.IsAny()) {
      return Drop(ServerDrop::kBadRequest, Describe(m) + ": INIT-REBOOT with ciaddr set");
    }
    const Ipv4Address want = *m.options.requested_ip;
    if (!config_.subnet.Contains(want)) {
      Nak(m, key, want, "wrong network");
      return Ok{};
    }
    if (!b) {
      // "If the DHCP server has no record of this client, then it MUST
      // remain silent."
      return Drop(ServerDrop::kUnknownClient, Describe(m));
    }
    if (b->address != want || !Usable(want, key)) {
      Nak(m, key, want, "address is not this client's");
      return Ok{};
    }
    Ack(now, m, *b, ChooseLease(m));
    return Ok{};
  }

  // RENEWING (unicast to us) or REBINDING (broadcast).
  if (m.ciaddr.IsAny()) {
    return Drop(ServerDrop::kBadRequest,
                Describe(m) + ": no server identifier, requested address or ciaddr");
  }
  const bool broadcast = path.local.address.IsLimitedBroadcast() ||
                         path.local.address == config_.subnet.Broadcast();
  if (!config_.subnet.Contains(m.ciaddr)) {
    Nak(m, key, m.ciaddr, "wrong network");
    return Ok{};
  }
  if (b && b->address == m.ciaddr && Usable(m.ciaddr, key)) {
    Ack(now, m, *b, ChooseLease(m));
  } else if (b || !broadcast) {
    Nak(m, key, m.ciaddr, b ? "address is not this client's" : "no lease for this client");
  } else {
    return Drop(ServerDrop::kUnknownClient, Describe(m));
  }
  return Ok{};
}

Status Server::HandleDecline(Timestamp now, const Message& m) {
  if (m.options.server_id != config_.server_address) {
    return Drop(ServerDrop::kOtherServer, Describe(m));
  }
  if (!m.options.requested_ip) {
    return Drop(ServerDrop::kBadRequest, Describe(m) + ": no requested address");
  }
  const Bytes key = ClientKey(m);
  auto it = bindings_.find(key);
  const Ipv4Address a = *m.options.requested_ip;
  if (it == bindings_.end() || it->second.address != a ||
      it->second.state == BindingState::kFree) {
    return Drop(ServerDrop::kBadRequest, Describe(m) + ": declines an address it was not given");
  }
  // RFC 2131 4.3.3: mark the address not available.
  Binding gone = it->second;
  EraseBinding(key);
  declined_[a] = now + config_.decline_hold;
  SetDeadline(a, now + config_.decline_hold);
  ++counters_.declines;
  MIPSEC_LOG(log_, kWarning) << "address " << a << " declined by "
                             << ToHex(ByteSpan(gone.chaddr.data(),
                                               std::min<std::size_t>(gone.hlen, 16)))
                             << ": in use by someone else? held for "
                             << config_.decline_hold.ToString();
  Emit(ServerEvent::Kind::kDeclined, gone);
  return Ok{};
}

Status Server::HandleRelease(Timestamp now, const Message& m) {
  if (m.options.server_id != config_.server_address) {
    return Drop(ServerDrop::kOtherServer, Describe(m));
  }
  const Bytes key = ClientKey(m);
  auto it = bindings_.find(key);
  if (it == bindings_.end() || it->second.address != m.ciaddr ||
      it->second.state != BindingState::kBound) {
    return Drop(ServerDrop::kBadRequest, Describe(m) + ": releases an address it does not hold");
  }
  // RFC 2131 4.3.4: not allocated any more, remembered for the client.
  Free(now, it->second);
  ++counters_.releases;
  MIPSEC_LOG(log_, kInfo) << "address " << m.ciaddr << " released";
  Emit(ServerEvent::Kind::kReleased, it->second);
  return Ok{};
}

Status Server::HandleInform(Timestamp now, const Message& m) {
  (void)now;
  if (m.ciaddr.IsAny()) return Drop(ServerDrop::kBadRequest, Describe(m) + ": ciaddr is 0");
  // RFC 2131 4.3.5: parameters only; no lease time, no yiaddr.
  Message reply = Reply(m, MessageType::kAck);
  reply.ciaddr = m.ciaddr;
  AddParameters(reply);
  ++counters_.informs;
  Send(m, std::move(reply));
  return Ok{};
}

// --- Addresses and bindings ---

bool Server::InPool(Ipv4Address a) const {
  return config_.pool_first <= a && a <= config_.pool_last && a != config_.server_address &&
         !IsNetworkOrBroadcast(config_.subnet, a) && config_.subnet.Contains(a);
}

bool Server::Usable(Ipv4Address a, const Bytes& key) const {
  if (!InPool(a) || declined_.contains(a)) return false;
  auto it = owner_.find(a);
  return it == owner_.end() || it->second == key;
}

std::optional<Ipv4Address> Server::Allocate(const Bytes& key, const Message& m) {
  // RFC 2131 4.3.1, in order.
  if (auto it = bindings_.find(key); it != bindings_.end() && Usable(it->second.address, key)) {
    return it->second.address;
  }
  if (m.options.requested_ip && Usable(*m.options.requested_ip, key)) {
    return *m.options.requested_ip;
  }
  while (!fresh_exhausted_) {
    const Ipv4Address a = Ipv4Address::FromHostOrder(next_fresh_);
    if (a >= config_.pool_last) {
      fresh_exhausted_ = true;
    } else {
      ++next_fresh_;
    }
    if (Usable(a, key) && !owner_.contains(a) && !free_at_.contains(a)) return a;
  }
  if (!free_.empty()) {
    const Ipv4Address a = free_.begin()->second;
    if (auto o = owner_.find(a); o != owner_.end()) {
      MIPSEC_LOG(log_, kDebug) << "reclaiming " << a << ", free since "
                               << free_.begin()->first.ToString();
      EraseBinding(Bytes(o->second));
    } else {
      UnmarkFree(a);
    }
    return a;
  }
  return std::nullopt;
}

Binding& Server::Assign(Timestamp now, const Bytes& key, const Message& m, Ipv4Address address) {
  auto [it, fresh] = bindings_.try_emplace(key);
  Binding& b = it->second;
  if (fresh) {
    b.client_key = key;
    b.state = BindingState::kOffered;
  } else if (b.address != address) {
    // The client moves to another address: its old one is free and nobody's.
    owner_.erase(b.address);
    ClearDeadline(b.address);
    UnmarkFree(b.address);
    MarkFree(b.address, now);
    if (b.state == BindingState::kBound) b.state = BindingState::kOffered;
  }
  b.address = address;
  b.htype = m.htype;
  b.hlen = m.hlen;
  b.chaddr = m.chaddr;
  owner_[address] = key;
  UnmarkFree(address);
  return b;
}

void Server::Commit(Timestamp now, Binding& b, Duration lease) {
  b.state = BindingState::kBound;
  b.expires = now + lease;
  owner_[b.address] = b.client_key;
  UnmarkFree(b.address);
  if (b.expires.IsInfinite()) {
    ClearDeadline(b.address);
  } else {
    SetDeadline(b.address, b.expires);
  }
}

void Server::Free(Timestamp now, Binding& b) {
  b.state = BindingState::kFree;
  b.free_since = now;
  ClearDeadline(b.address);
  MarkFree(b.address, now);
}

void Server::EraseBinding(const Bytes& key) {
  auto it = bindings_.find(key);
  if (it == bindings_.end()) return;
  const Ipv4Address a = it->second.address;
  owner_.erase(a);
  ClearDeadline(a);
  UnmarkFree(a);
  bindings_.erase(it);
}

Duration Server::ChooseLease(const Message& m) const {
  if (!m.options.lease_time) return config_.lease_time;
  const Duration want = *m.options.lease_time == kInfiniteLease
                            ? Duration::Infinite()
                            : Duration::Seconds(static_cast<std::int64_t>(*m.options.lease_time));
  return std::clamp(want, config_.min_lease_time, max_lease_);
}

void Server::SetDeadline(Ipv4Address a, Timestamp t) {
  ClearDeadline(a);
  if (t.IsInfinite()) return;
  deadlines_.emplace(t, a);
  deadline_of_[a] = t;
}

void Server::ClearDeadline(Ipv4Address a) {
  auto it = deadline_of_.find(a);
  if (it == deadline_of_.end()) return;
  deadlines_.erase({it->second, a});
  deadline_of_.erase(it);
}

void Server::MarkFree(Ipv4Address a, Timestamp since) {
  UnmarkFree(a);
  free_.emplace(since, a);
  free_at_[a] = since;
}

void Server::UnmarkFree(Ipv4Address a) {
  auto it = free_at_.find(a);
  if (it == free_at_.end()) return;
  free_.erase({it->second, a});
  free_at_.erase(it);
}

void Server::OnTimeout(Timestamp now) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const Ipv4Address a = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    deadline_of_.erase(a);
    OnDeadline(now, a);
  }
}

void Server::OnDeadline(Timestamp now, Ipv4Address a) {
  if (auto d = declined_.find(a); d != declined_.end()) {
    if (d->second > now) return;
    declined_.erase(d);
    MIPSEC_LOG(log_, kInfo) << "declined address " << a << " back in the pool";
    MarkFree(a, now);
    return;
  }
  auto o = owner_.find(a);
  if (o == owner_.end()) return;
  auto it = bindings_.find(o->second);
  if (MIPSEC_BUG_IF(it == bindings_.end(), "address owner without a binding")) return;
  Binding& b = it->second;
  if (b.state == BindingState::kOffered) {
    MIPSEC_LOG(log_, kDebug) << "offer of " << a << " timed out";
    Free(now, b);
  } else if (b.state == BindingState::kBound) {
    ++counters_.expiries;
    MIPSEC_LOG(log_, kInfo) << "lease on " << a << " expired";
    Free(now, b);
    Emit(ServerEvent::Kind::kExpired, b);
  }
}

Timestamp Server::NextTimeout() const {
  return deadlines_.empty() ? Timestamp::Infinite() : deadlines_.begin()->first;
}

// --- Replies ---

Message Server::Reply(const Message& request, MessageType type) const {
  // RFC 2131 Table 3.
  Message r;
  r.op = Op::kBootReply;
  r.type = type;
  r.htype = request.htype;
  r.hlen = request.hlen;
  r.chaddr = request.chaddr;
  r.xid = request.xid;
  r.flags = request.flags;
  r.giaddr = request.giaddr;
  r.options.server_id = config_.server_address;
  return r;
}

void Server::AddLeaseOptions(Message& reply, Duration lease) const {
  reply.options.lease_time = LeaseSeconds(lease);
  if (lease.IsInfinite()) return;
  // RFC 2131 4.4.5 defaults, stated explicitly.
  const std::uint32_t t1 = LeaseSeconds(lease / 2);
  const std::uint32_t t2 = LeaseSeconds(lease - lease / 8);
  if (t1 > 0 && t1 < t2 && t2 < *reply.options.lease_time) {
    reply.options.renewal_time = t1;
    reply.options.rebinding_time = t2;
  }
}

void Server::AddParameters(Message& reply) const {
  reply.options.subnet_mask = config_.subnet.Netmask();
  reply.options.routers = config_.routers;
  reply.options.dns_servers = config_.dns_servers;
  reply.options.domain_name = config_.domain_name;
}

void Server::Send(const Message& request, Message reply) {
  // RFC 2131 4.1: where a reply goes.
  ServerTransmit t;
  t.source = config_.server_address;
  t.type = reply.type;
  if (!request.giaddr.IsAny()) {
    t.destination = {request.giaddr, kServerPort};
    t.delivery = ReplyDelivery::kRelay;
    if (reply.type == MessageType::kNak) reply.set_broadcast(true);  // 4.3.2
  } else if (reply.type == MessageType::kNak) {
    t.destination = {Ipv4Address::Broadcast(), kClientPort};
    t.delivery = ReplyDelivery::kBroadcast;
  } else if (!request.ciaddr.IsAny()) {
    t.destination = {request.ciaddr, kClientPort};
    t.delivery = ReplyDelivery::kUnicast;
  } else if (request.broadcast()) {
    t.destination = {Ipv4Address::Broadcast(), kClientPort};
    t.delivery = ReplyDelivery::kBroadcast;
  } else {
    t.destination = {reply.yiaddr, kClientPort};
    t.delivery = ReplyDelivery::kHardwareUnicast;
    const ByteSpan hw = request.hardware_address();
    t.hardware_address.assign(hw.begin(), hw.end());
  }
  MIPSEC_LOG(log_, kDebug) << "send " << Describe(reply) << " " << ReplyDeliveryName(t.delivery)
                           << " to " << t.destination;
  t.bytes = SerializeMessage(reply);
  transmits_.push_back(std::move(t));
}

void Server::Ack(Timestamp now, const Message& request, Binding& b, Duration lease) {
  Commit(now, b, lease);
  Message reply = Reply(request, MessageType::kAck);
  reply.ciaddr = request.ciaddr;
  reply.yiaddr = b.address;
  AddLeaseOptions(reply, lease);
  AddParameters(reply);
  ++counters_.acks;
  MIPSEC_LOG(log_, kInfo) << "lease " << b.address << " to " << ToHex(request.hardware_address())
                          << " for "
                          << (lease.IsInfinite() ? std::string("ever") : lease.ToString());
  Send(request, std::move(reply));
  Emit(ServerEvent::Kind::kAcked, b);
}

void Server::Nak(const Message& request, const Bytes& key, Ipv4Address address, std::string why) {
  Message reply = Reply(request, MessageType::kNak);
  reply.options.message = why;
  ++counters_.naks;
  MIPSEC_LOG(log_, kInfo) << "NAK " << address << " to " << ToHex(request.hardware_address())
                          << ": " << why;
  Send(request, std::move(reply));
  events_.push_back(ServerEvent{ServerEvent::Kind::kNaked, address, key, Timestamp::Infinite()});
}

void Server::Emit(ServerEvent::Kind kind, const Binding& b) {
  events_.push_back(ServerEvent{kind, b.address, b.client_key, b.expires});
}

// --- Outputs and introspection ---

std::optional<ServerTransmit> Server::PollTransmit() {
  if (transmits_.empty()) return std::nullopt;
  ServerTransmit t = std::move(transmits_.front());
  transmits_.pop_front();
  return t;
}

std::optional<ServerEvent> Server::PollEvent() {
  if (events_.empty()) return std::nullopt;
  ServerEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

const Binding* Server::FindBinding(ByteSpan client_key) const {
  auto it = bindings_.find(Bytes(client_key.begin(), client_key.end()));
  return it == bindings_.end() ? nullptr : &it->second;
}

const Binding* Server::BindingFor(Ipv4Address address) const {
  auto o = owner_.find(address);
  if (o == owner_.end()) return nullptr;
  auto it = bindings_.find(o->second);
  return it == bindings_.end() ? nullptr : &it->second;
}

std::vector<Binding> Server::Bindings() const {
  std::vector<Binding> out;
  for (const auto& [address, key] : owner_) {
    auto it = bindings_.find(key);
    if (it != bindings_.end()) out.push_back(it->second);
  }
  return out;
}

std::size_t Server::ActiveLeases() const {
  return static_cast<std::size_t>(
      std::count_if(bindings_.begin(), bindings_.end(),
                    [](const auto& kv) { return kv.second.state == BindingState::kBound; }));
}

}  // namespace mipsec::dhcp

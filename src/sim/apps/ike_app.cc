#include "sim/apps/ike_app.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <variant>

#include "common/bug.h"
#include "common/ip/ipv4.h"
#include "esp/udp_encap.h"
#include "ikev2/child/esp_install.h"
#include "ikev2/sa/io_names.h"

namespace mipsec::sim {

namespace {

constexpr std::uint8_t kProtoEsp = 50;

std::string Hex32(std::uint32_t v) {
  char b[12];
  std::snprintf(b, sizeof b, "%08x", v);
  return b;
}

bool Covers(const std::vector<Ipv4Prefix>& prefixes, Ipv4Address a) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const Ipv4Prefix& p) { return p.Contains(a); });
}

// The ESP SA of one direction of a CHILD SA (RFC 7296 2.17 keys).
}  // namespace

std::string_view IkeAppEventKindName(IkeAppEvent::Kind k) {
  switch (k) {
    case IkeAppEvent::Kind::kIkeUp: return "ike-up";
    case IkeAppEvent::Kind::kIkeDown: return "ike-down";
    case IkeAppEvent::Kind::kIkeRekeyed: return "ike-rekeyed";
    case IkeAppEvent::Kind::kVirtualIp: return "virtual-ip";
    case IkeAppEvent::Kind::kChildUp: return "child-up";
    case IkeAppEvent::Kind::kChildDown: return "child-down";
    case IkeAppEvent::Kind::kChildFailed: return "child-failed";
    case IkeAppEvent::Kind::kPathChanged: return "path-changed";
    case IkeAppEvent::Kind::kPathConfirmed: return "path-confirmed";
    case IkeAppEvent::Kind::kAddressesUpdated: return "addresses-updated";
  }
  return "?";
}

// Takes what is routed into tun0 (the TUN device's read side).
class IkeApp::Tunnel final : public PacketFilter {
 public:
  Tunnel(IkeApp& app, Hook hook) : app_(app), hook_(hook) {}
  Verdict Filter(Hook hook, Interface*, Interface* out, Bytes& packet) override {
    if (hook != hook_ || out == nullptr || out->ifindex() != app_.tun_ifindex_) {
      return Verdict::kAccept;
    }
    return app_.Outgoing(packet) ? Verdict::kDrop : Verdict::kAccept;
  }

 private:
  IkeApp& app_;
  Hook hook_;
};

IkeApp::IkeApp(Node& node, IkeAppConfig config)
    : node_(node),
      config_(std::move(config)),
      rng_(node.sim().DeriveSeed(config_.random_label.empty() ? "ike/" + node.name()
                                                              : config_.random_label)),
      log_(node.log().Child(config_.log_name)),
      timer_(node.sim(), [this](Timestamp now) {
        manager_->OnTimeout(now);
        Drain(now);
      }) {}

IkeApp::~IkeApp() {
  if (self_) *self_ = nullptr;
  if (tunnel_) node_.RemoveFilter(tunnel_.get());
  // Events queued for the timer die with the app (a restart mid-run).
  node_.sim().Forget(&timer_);
  // What was routed into tun0 goes with the app (a restarted app routes
  // again); the interface stays, for the next app on the node to reuse.
  if (tun_ifindex_ > 0) {
    node_.routes().RemoveIf([this](const Route& r) { return r.ifindex == tun_ifindex_; });
  }
  if (!wired_) return;
  node_.UnbindUdp({Ipv4Address::Any(), ikev2::kIkePort});
  node_.UnbindUdp({Ipv4Address::Any(), config_.peer.natt_port});
  node_.UnbindProtocol(kProtoEsp);
}

Result<std::unique_ptr<IkeApp>> IkeApp::Create(Node& node, IkeAppConfig config) {
  if (config.ike_ifindexes.empty()) {
    return Error(Errc::kInvalidArgument, "ike_ifindexes: no interface for IKE");
  }
  for (int i : config.ike_ifindexes) {
    if (node.InterfaceByIndex(i) == nullptr) {
      return Error(Errc::kInvalidArgument,
                   "ike_ifindexes: " + node.name() + " has no interface " + std::to_string(i));
    }
  }
  const bool gateway = config.role == IkeAppRole::kGateway;
  if (gateway && config.peer.address_provider == nullptr) {
    return Error(Errc::kInvalidArgument, "gateway: the peer config has no address provider");
  }
  if (!gateway && config.gateway.IsAny()) {
    return Error(Errc::kInvalidArgument, "client: no gateway address");
  }
  ikev2::IkeSaManagerConfig mc;
  if (gateway) mc.responder = config.peer;
  std::unique_ptr<IkeApp> app(new IkeApp(node, std::move(config)));
  IkeApp* raw = app.get();
  Logger sa_log = node.log().Child(app->config_.log_name + ".sa");
  sa_log.set_min_level(app->config_.ike_log_level);
  app->manager_ = std::make_unique<ikev2::IkeSaManager>(std::move(mc), app->rng_, sa_log);
  MIPSEC_TRY(node.BindUdp({Ipv4Address::Any(), ikev2::kIkePort},
                          [raw](Timestamp now, const UdpDelivery& d) { raw->OnIke(now, d); }));
  Status natt = node.BindUdp({Ipv4Address::Any(), app->config_.peer.natt_port},
                             [raw](Timestamp now, const UdpDelivery& d) { raw->OnNatt(now, d); });
  if (!natt.ok()) {
    node.UnbindUdp({Ipv4Address::Any(), ikev2::kIkePort});
    return natt.error();
  }
  app->wired_ = true;
  node.BindProtocol(kProtoEsp,
                    [raw](Timestamp now, const RawDelivery& d) { raw->OnRawEsp(now, d); });
  // A node keeps its tun0 when an app goes (a restarted gateway): reuse it.
  Interface* existing = node.FindInterface("tun0");
  if (existing && existing->segment() == nullptr) node.FlushAddresses(existing->ifindex());
  Interface& tun = existing && existing->segment() == nullptr ? *existing : node.AddInterface("tun0");
  app->tun_ifindex_ = tun.ifindex();
  // A client's prefixes are routed into the tunnel once it has its TIA; a
  // gateway's pool at once.
  if (gateway) {
    for (const Ipv4Prefix& p : app->config_.tunnel_prefixes) {
      node.routes().Add(Route{p, app->tun_ifindex_, std::nullopt, 0});
    }
  }
  app->tunnel_ = std::make_unique<Tunnel>(*app, gateway ? Hook::kForward : Hook::kOutput);
  node.AddFilter(app->tunnel_.get());
  app->self_ = std::make_shared<IkeApp*>(raw);
  std::shared_ptr<IkeApp*> self = app->self_;
  node.AddLinkObserver([self](Timestamp now, const LinkEvent& ev) {
    if (*self) (*self)->OnLink(now, ev);
  });
  return app;
}

Status IkeApp::Connect(std::optional<Ipv4Address> source) {
  if (config_.role != IkeAppRole::kClient || client_sa_id_) {
    return Error(Errc::kState, "Connect: not a client, or already connected");
  }
  const Timestamp now = node_.sim().now();
  if (source) {
    const std::vector<Ipv4Address> usable = UsableAddresses();
    if (std::find(usable.begin(), usable.end(), *source) == usable.end()) {
      return Error(Errc::kInvalidArgument,
                   "Connect: " + source->ToString() +
                       " is not an address of a running IKE interface of " + node_.name());
    }
  }
  std::optional<Ipv4Address> src = source ? source : node_.SourceAddressFor(config_.gateway);
  if (!src) return Error(Errc::kNotFound, node_.name() + ": no route to the gateway");
  MIPSEC_ASSIGN_OR_RETURN(ikev2::IkeSa * sa,
                          manager_->Initiate(now, config_.peer, {*src, ikev2::kIkePort},
                                             {config_.gateway, ikev2::kIkePort}));
  client_sa_id_ = manager_->IdOf(sa);
  MIPSEC_LOG(log_, kInfo) << "connecting to " << config_.gateway << " from " << *src;
  // The address list, for IKE_AUTH's ADDITIONAL_IP4_ADDRESS (RFC 4555 3.4).
  addresses_dirty_ = true;
  Drain(now);
  return Ok{};
}

Status IkeApp::RekeyChild(std::uint32_t spi_in) {
  auto it = children_.find(spi_in);
  if (it == children_.end()) return Error(Errc::kNotFound, "no CHILD SA " + Hex32(spi_in));
  ikev2::IkeSa* sa = manager_->Find(it->second.sa_id);
  if (sa == nullptr) return Error(Errc::kNotFound, "the IKE SA of " + Hex32(spi_in) + " is gone");
  const Timestamp now = node_.sim().now();
  Status st = sa->RekeyChildSa(now, spi_in);
  Drain(now);
  return st;
}

Status IkeApp::RekeyIke() {
  ikev2::IkeSa* sa = client_sa();
  if (sa == nullptr) return Error(Errc::kState, "RekeyIke: no IKE SA");
  const Timestamp now = node_.sim().now();
  Status st = sa->RekeyIkeSa(now);
  Drain(now);
  return st;
}

Status IkeApp::UpdateAddresses(std::vector<Ipv4Address> addresses,
                               std::optional<Ipv4Address> preferred) {
  if (config_.role != IkeAppRole::kClient) {
    return Error(Errc::kState, "UpdateAddresses: not a client");
  }
  if (client_sa() == nullptr) return Error(Errc::kState, "UpdateAddresses: no IKE SA");
  const Timestamp now = node_.sim().now();
  if (draining_) {
    // Rule 4: not from inside the core's output handling; the drain in
    // progress applies it when it is done, still in this instant.
    pending_update_ = PendingUpdate{std::move(addresses), preferred};
    return Ok{};
  }
  Status st = UpdateClient(now, std::move(addresses), preferred);
  Drain(now);  // RFC 4555 3.5: the UPDATE leaves in this instant
  return st;
}

void IkeApp::Disconnect() {
  if (config_.role != IkeAppRole::kClient || client_sa() == nullptr) return;
  if (draining_) {
    disconnect_pending_ = true;  // rule 4, as above
    return;
  }
  const Timestamp now = node_.sim().now();
  MIPSEC_LOG(log_, kInfo) << "disconnecting from " << config_.gateway;
  client_sa()->Delete(now);
  Drain(now);
}

void IkeApp::SetObserver(std::function<void(const IkeAppEvent&)> observer) {
  observer_ = std::move(observer);
  notified_ = events_.size();  // from now on
}

ikev2::IkeSa* IkeApp::client_sa() {
  return client_sa_id_ ? manager_->Find(*client_sa_id_) : nullptr;
}

std::optional<Ipv4Address> IkeApp::gateway_address() const {
  ikev2::IkeSa* sa = client_sa_id_ ? manager_->Find(*client_sa_id_) : nullptr;
  if (sa == nullptr) return std::nullopt;
  return sa->remote().address;
}

std::size_t IkeApp::CountEvents(IkeAppEvent::Kind k) const {
  return static_cast<std::size_t>(std::count_if(
      events_.begin(), events_.end(), [k](const IkeAppEvent& e) { return e.kind == k; }));
}

std::optional<Timestamp> IkeApp::FirstEspInTo(Ipv4Address local) const {
  auto it = first_in_to_.find(local);
  if (it == first_in_to_.end()) return std::nullopt;
  return it->second;
}

std::optional<Timestamp> IkeApp::FirstEspInFrom(Ipv4Address remote) const {
  auto it = first_in_from_.find(remote);
  if (it == first_in_from_.end()) return std::nullopt;
  return it->second;
}

std::optional<Timestamp> IkeApp::FirstEspOutFrom(Ipv4Address local) const {
  auto it = first_out_from_.find(local);
  if (it == first_out_from_.end()) return std::nullopt;
  return it->second;
}

void IkeApp::Record(Timestamp now, IkeAppEvent ev) {
  ev.at = now;
  MIPSEC_LOG(log_, kInfo) << IkeAppEventKindName(ev.kind) << " #" << ev.sa_id
                          << (ev.spi_in ? " spi " + Hex32(ev.spi_in) : std::string())
                          << (ev.local.address.IsAny() ? std::string()
                                                       : " " + ev.local.ToString() + " <-> " +
                                                             ev.remote.ToString())
                          << (ev.udp_encap ? " udp-encap" : "")
                          << (ev.detail.empty() ? "" : " " + ev.detail);
  events_.push_back(std::move(ev));
}

// ---- Driving the core ----

void IkeApp::Drain(Timestamp now) {
  if (draining_) return;  // the outer Drain finishes the job
  draining_ = true;
  for (;;) {
    while (std::optional<ikev2::IkeTransmit> t = manager_->PollTransmit()) Send(*t);
    while (std::optional<ikev2::IkeSaManager::Event> e = manager_->PollEvent()) {
      HandleEvent(now, e->sa_id, e->event);
    }
    // Link events seen while handling output (the TIA going on tun0), and
    // the owner's commands from then, are applied now, outside the core's
    // output handling (rule 4).
    if (pending_update_) {
      PendingUpdate u = std::move(*pending_update_);
      pending_update_.reset();
      if (client_sa() != nullptr) (void)UpdateClient(now, std::move(u.addresses), u.preferred);
      continue;
    }
    if (disconnect_pending_) {
      disconnect_pending_ = false;
      if (ikev2::IkeSa* sa = client_sa()) {
        MIPSEC_LOG(log_, kInfo) << "disconnecting from " << config_.gateway;
        sa->Delete(now);
      }
      continue;
    }
    if (!addresses_dirty_) break;
    addresses_dirty_ = false;
    ApplyAddresses(now);
  }
  draining_ = false;
  timer_.Set(manager_->NextTimeout());
  Notify();
}

void IkeApp::Notify() {
  // The outer Notify delivers what the observer's own calls recorded, after
  // the event being delivered, so the order stays the record order.
  if (notifying_) return;
  notifying_ = true;
  while (observer_ && notified_ < events_.size()) {
    // A copy: the observer may record more (events_ may reallocate).
    const IkeAppEvent ev = events_[notified_++];
    observer_(ev);
  }
  notified_ = events_.size();  // none left, or the observer was removed
  notifying_ = false;
}

void IkeApp::OnLink(Timestamp now, const LinkEvent& ev) {
  if (ev.ifindex == tun_ifindex_) return;
  // The owner drives the addresses (UpdateAddresses); a gateway always
  // follows its own.
  if (!config_.follow_links && config_.role == IkeAppRole::kClient) return;
  if (std::find(config_.ike_ifindexes.begin(), config_.ike_ifindexes.end(), ev.ifindex) ==
      config_.ike_ifindexes.end()) {
    return;
  }
  // RFC 4555 3.5 / issue 6: the update starts at once, in this instant.
  addresses_dirty_ = true;
  Drain(now);
}

std::vector<Ipv4Address> IkeApp::UsableAddresses() const {
  std::vector<Ipv4Address> v;
  for (int i : config_.ike_ifindexes) {
    const Interface* ifc = node_.InterfaceByIndex(i);
    if (ifc == nullptr || !ifc->Running()) continue;
    for (const InterfaceAddress& a : ifc->addresses()) {
      if (tia_ && a.address == *tia_) continue;
      if (std::find(config_.exclude_addresses.begin(), config_.exclude_addresses.end(),
                    a.address) != config_.exclude_addresses.end()) {
        continue;
      }
      v.push_back(a.address);
    }
  }
  return v;
}

void IkeApp::ApplyAddresses(Timestamp now) {
  std::vector<std::uint64_t> ids;
  if (config_.role == IkeAppRole::kClient) {
    if (client_sa_id_) ids.push_back(*client_sa_id_);
  } else {
    ids.assign(established_.begin(), established_.end());
  }
  const std::vector<Ipv4Address> addresses = UsableAddresses();
  for (std::uint64_t id : ids) {
    ikev2::IkeSa* sa = manager_->Find(id);
    if (sa == nullptr) continue;
    std::optional<Ipv4Address> preferred = node_.SourceAddressFor(sa->remote().address);
    // Only an address IKE may use (not the TIA, not an internal one).
    if (preferred && std::find(addresses.begin(), addresses.end(), *preferred) == addresses.end()) {
      preferred.reset();
    }
    ++counters_.address_updates;
    std::string list;
    for (Ipv4Address a : addresses) list += (list.empty() ? "" : ",") + a.ToString();
    Status st = sa->UpdateLocalAddresses(now, addresses, preferred);
    Record(now, {.kind = IkeAppEvent::Kind::kAddressesUpdated,
                 .sa_id = id,
                 .detail = "[" + list + "] preferred " +
                           (preferred ? preferred->ToString() : std::string("none")) +
                           (st.ok() ? "" : ": " + st.error().ToString())});
  }
}

Status IkeApp::UpdateClient(Timestamp now, std::vector<Ipv4Address> addresses,
                            std::optional<Ipv4Address> preferred) {
  ikev2::IkeSa* sa = client_sa();
  if (sa == nullptr) return Error(Errc::kState, "UpdateAddresses: no IKE SA");
  ++counters_.address_updates;
  std::string list;
  for (Ipv4Address a : addresses) list += (list.empty() ? "" : ",") + a.ToString();
  Status st = sa->UpdateLocalAddresses(now, std::move(addresses), preferred);
  Record(now, {.kind = IkeAppEvent::Kind::kAddressesUpdated,
               .sa_id = *client_sa_id_,
               .detail = "[" + list + "] preferred " +
                         (preferred ? preferred->ToString() : std::string("none")) +
                         " (owner)" + (st.ok() ? "" : ": " + st.error().ToString())});
  return st;
}

// ---- Input ----

void IkeApp::OnIke(Timestamp now, const UdpDelivery& d) {
  ++counters_.ike_in;
  manager_->OnDatagram(now, d.local, d.remote, d.payload);
  Drain(now);
}

void IkeApp::OnNatt(Timestamp now, const UdpDelivery& d) {
  const esp::Udp4500Classified c = esp::ClassifyUdp4500(d.payload);
  switch (c.kind) {
    case esp::Udp4500Kind::kKeepalive:
      ++counters_.keepalives_in;  // RFC 3948 2.3: ignored
      return;
    case esp::Udp4500Kind::kIke:
      ++counters_.ike_in;
      manager_->OnDatagram(now, d.local, d.remote, d.payload);
      Drain(now);
      return;
    case esp::Udp4500Kind::kEsp:
      OnEsp(now, d.local.address, d.remote.address, d.payload.subspan(c.offset));
      return;
    case esp::Udp4500Kind::kInvalid:
      ++counters_.esp_dropped;
      return;
  }
}

void IkeApp::OnRawEsp(Timestamp now, const RawDelivery& d) {
  Result<ip::Ipv4Packet> pkt = ip::ParseIpv4(d.datagram);
  if (!pkt.ok()) {
    ++counters_.esp_dropped;
    return;
  }
  OnEsp(now, pkt->header.dst, pkt->header.src, pkt->payload);
}

void IkeApp::OnEsp(Timestamp now, Ipv4Address local, Ipv4Address remote, ByteSpan esp_bytes) {
  if (esp_bytes.size() < 4) {
    ++counters_.esp_dropped;
    return;
  }
  const std::uint32_t spi = (std::uint32_t{esp_bytes[0]} << 24) |
                            (std::uint32_t{esp_bytes[1]} << 16) |
                            (std::uint32_t{esp_bytes[2]} << 8) | esp_bytes[3];
  auto it = children_.find(spi);
  if (it == children_.end()) {
    ++counters_.esp_dropped;
    MIPSEC_LOG(log_, kDebug) << "ESP for unknown SPI " << Hex32(spi) << " from " << remote;
    return;
  }
  Bytes buf(esp_bytes.begin(), esp_bytes.end());
  esp::PacketBuf pb{buf, 0, buf.size()};
  esp::PacketResult r = it->second.in.Decapsulate(now, pb);
  if (r.action != esp::Action::kDeliver) {
    ++counters_.esp_dropped;
    MIPSEC_LOG(log_, kDebug) << "ESP " << Hex32(spi) << " dropped: "
                             << esp::DropReasonName(r.reason);
    return;
  }
  ++counters_.esp_in;
  first_in_to_.emplace(local, now);
  first_in_from_.emplace(remote, now);
  Bytes inner(pb.packet().begin(), pb.packet().end());
  Status st = config_.role == IkeAppRole::kClient
                  ? node_.InjectLocal(std::move(inner), tun_ifindex_)
                  : node_.InjectReceive(std::move(inner), tun_ifindex_);
  if (!st.ok()) {
    ++counters_.esp_dropped;
    MIPSEC_LOG(log_, kDebug) << "inner packet of " << Hex32(spi) << ": " << st.error().ToString();
  }
}

// ---- Output ----

void IkeApp::Send(const ikev2::IkeTransmit& t) {
  // Like sendmsg() with IP_PKTINFO: only from an address the host has.
  if (!node_.IsLocalAddress(t.local.address)) {
    ++counters_.send_errors;
    MIPSEC_LOG(log_, kDebug) << "not sending from " << t.local.ToString()
                             << ": no longer a local address";
    return;
  }
  UdpSendOptions o;
  o.source = t.local.address;
  Status st = node_.SendUdp(t.remote, t.local.port, t.payload, o);
  if (!st.ok()) {
    ++counters_.send_errors;
    MIPSEC_LOG(log_, kDebug) << "send to " << t.remote.ToString() << ": "
                             << st.error().ToString();
    return;
  }
  if (t.keepalive) {
    ++counters_.keepalives_out;
  } else {
    ++counters_.ike_out;
  }
}

bool IkeApp::Outgoing(Bytes& packet) {
  Result<ip::Ipv4Packet> parsed = ip::ParseIpv4(packet);
  if (!parsed.ok()) {
    ++counters_.seal_errors;
    return true;
  }
  const Ipv4Address src = parsed->header.src;
  const Ipv4Address dst = parsed->header.dst;
  IkeAppChild* child = nullptr;
  for (auto& [spi, c] : children_) {
    if (!c.outbound_active || !Covers(c.local_prefixes, src) || !Covers(c.remote_prefixes, dst)) {
      continue;
    }
    if (child == nullptr || c.seq > child->seq) child = &c;
  }
  if (child == nullptr) {
    ++counters_.no_policy;  // RFC 4301 5.1: no SA for it, discarded
    return true;
  }
  const std::size_t length = parsed->datagram.size();
  Bytes buf(esp::kEncapHeadroom + length + esp::kEncapTailroom);
  std::copy_n(packet.begin(), length, buf.begin() + esp::kEncapHeadroom);
  esp::PacketBuf pb{buf, esp::kEncapHeadroom, length};
  const Timestamp now = node_.sim().now();
  const bool udp = child->out.udp_encap();
  esp::PacketResult r =
      child->out.Encapsulate(now, pb, udp ? esp::OuterForm::kEspOnly : esp::OuterForm::kIpv4);
  if (r.action != esp::Action::kSend) {
    ++counters_.seal_errors;
    MIPSEC_LOG(log_, kDebug) << "seal on " << Hex32(child->spi_out) << ": "
                             << esp::DropReasonName(r.reason);
    return true;
  }
  const Ipv4Endpoint local = child->out.local();
  if (!node_.IsLocalAddress(local.address)) {
    ++counters_.send_errors;
    return true;
  }
  Status st = Ok{};
  if (udp) {
    UdpSendOptions o;
    o.source = local.address;
    st = node_.SendUdp(child->out.remote(), local.port, pb.packet(), o);
  } else {
    st = node_.SendRaw(Bytes(pb.packet().begin(), pb.packet().end()));
  }
  if (!st.ok()) {
    ++counters_.send_errors;
    return true;
  }
  ++counters_.esp_out;
  first_out_from_.emplace(local.address, now);
  return true;
}

// ---- Events ----

void IkeApp::HandleEvent(Timestamp now, std::uint64_t sa_id, const ikev2::IkeEvent& e) {
  using K = IkeAppEvent::Kind;
  if (const auto* up = std::get_if<ikev2::IkeSaUp>(&e)) {
    established_.insert(sa_id);
    Record(now, {.kind = K::kIkeUp,
                 .sa_id = sa_id,
                 .local = up->local,
                 .remote = up->remote,
                 .udp_encap = up->local_behind_nat || up->remote_behind_nat,
                 .detail = up->suite.ToString()});
  } else if (const auto* down = std::get_if<ikev2::IkeSaDown>(&e)) {
    established_.erase(sa_id);
    Record(now, {.kind = K::kIkeDown,
                 .sa_id = sa_id,
                 .detail = std::string(ikev2::IkeDownReasonName(down->reason)) + ": " + down->detail});
    std::vector<std::uint32_t> gone;
    for (const auto& [spi, c] : children_) {
      if (c.sa_id == sa_id) gone.push_back(spi);
    }
    for (std::uint32_t spi : gone) OnChildDown(spi);
    if (client_sa_id_ == sa_id) {
      client_sa_id_.reset();
      // Without the tunnel its address and routes only blackhole traffic
      // (an MN back inside reaches the intranet directly, RFC 5266 3.4).
      DropTia();
    }
  } else if (const auto* vip = std::get_if<ikev2::VirtualIpAssigned>(&e)) {
    Record(now, {.kind = K::kVirtualIp, .sa_id = sa_id, .detail = vip->address.ToString()});
    OnVirtualIp(*vip);
  } else if (const auto* cup = std::get_if<ikev2::ChildSaUp>(&e)) {
    OnChildUp(now, sa_id, *cup);
  } else if (const auto* cdown = std::get_if<ikev2::ChildSaDown>(&e)) {
    Record(now, {.kind = K::kChildDown,
                 .sa_id = sa_id,
                 .spi_in = cdown->spi_in,
                 .detail = "reason " + std::to_string(static_cast<int>(cdown->reason))});
    OnChildDown(cdown->spi_in);
  } else if (const auto* fail = std::get_if<ikev2::ChildSaFailed>(&e)) {
    Record(now, {.kind = K::kChildFailed, .sa_id = sa_id, .detail = fail->detail});
  } else if (const auto* path = std::get_if<ikev2::PathChanged>(&e)) {
    Record(now, {.kind = K::kPathChanged,
                 .sa_id = sa_id,
                 .local = path->local,
                 .remote = path->remote,
                 .udp_encap = path->udp_encap});
    // RFC 4555 3.5: the IPsec SAs take the new addresses; keys, sequence
    // numbers and replay windows stay.
    for (auto& [spi, c] : children_) {
      if (c.sa_id != sa_id) continue;
      c.in.UpdatePath(path->local, path->remote, path->udp_encap);
      c.out.UpdatePath(path->local, path->remote, path->udp_encap);
    }
  } else if (const auto* conf = std::get_if<ikev2::PathConfirmed>(&e)) {
    // RFC 4555 3.5: the gateway answered the UPDATE of our latest move; the
    // CHILD SAs took the path with PathChanged already.
    Record(now, {.kind = K::kPathConfirmed,
                 .sa_id = sa_id,
                 .local = conf->local,
                 .remote = conf->remote,
                 .udp_encap = conf->udp_encap});
  } else if (const auto* rk = std::get_if<ikev2::IkeSaRekeyed>(&e)) {
    Record(now, {.kind = K::kIkeRekeyed,
                 .sa_id = rk->old_sa_id,
                 .detail = "into #" + std::to_string(rk->new_sa_id)});
    for (auto& [spi, c] : children_) {
      if (c.sa_id == rk->old_sa_id) c.sa_id = rk->new_sa_id;
    }
    if (established_.erase(rk->old_sa_id) > 0) established_.insert(rk->new_sa_id);
    if (client_sa_id_ == rk->old_sa_id) client_sa_id_ = rk->new_sa_id;
  }
}

void IkeApp::OnChildUp(Timestamp now, std::uint64_t sa_id, const ikev2::ChildSaUp& up) {
  const ikev2::ChildSaInfo& info = up.child;
  Result<esp::SaConfig> in_cfg = ikev2::MakeEspSaConfig(info, esp::Direction::kInbound);
  Result<esp::SaConfig> out_cfg = ikev2::MakeEspSaConfig(info, esp::Direction::kOutbound);
  std::vector<Ipv4Prefix> remote = ikev2::SelectorsToPrefixes(info.remote_ts);
  if (in_cfg.ok()) in_cfg->inbound_allowed_sources = remote;  // RFC 4301 5.2
  Result<esp::Sa> in = in_cfg.ok() ? esp::Sa::Create(*in_cfg) : Result<esp::Sa>(in_cfg.error());
  Result<esp::Sa> out =
      out_cfg.ok() ? esp::Sa::Create(*out_cfg) : Result<esp::Sa>(out_cfg.error());
  if (!in.ok() || !out.ok()) {
    ++counters_.install_errors;
    MIPSEC_LOG(log_, kError) << "CHILD SA " << Hex32(info.spi_in) << " not installed: "
                             << (in.ok() ? out.error() : in.error()).ToString();
    return;
  }
  IkeAppChild* old = nullptr;
  if (up.rekeyed_spi_in) {
    auto it = children_.find(*up.rekeyed_spi_in);
    if (it != children_.end()) old = &it->second;
  }
  // RFC 7296 2.8: the initiator of the rekey may send on the new SA at
  // once; the responder waits until the old one is deleted (the initiator
  // may not have installed the new inbound SA before our response arrives).
  const bool activate = old == nullptr || info.initiator || !old->outbound_active;
  if (activate && old != nullptr) old->outbound_active = false;
  IkeAppChild c{.sa_id = sa_id,
                .spi_in = info.spi_in,
                .spi_out = info.spi_out,
                .in = std::move(*in),
                .out = std::move(*out),
                .local_prefixes = ikev2::SelectorsToPrefixes(info.local_ts),
                .remote_prefixes = std::move(remote),
                .seq = next_seq_++,
                .child_id = old != nullptr ? old->child_id : next_child_id_++,
                .outbound_active = activate,
                .ever_active = activate};
  const std::uint32_t spi_in = info.spi_in;
  if (!children_.emplace(spi_in, std::move(c)).second) {
    ++counters_.install_errors;
    return;
  }
  Record(now, {.kind = IkeAppEvent::Kind::kChildUp,
               .sa_id = sa_id,
               .spi_in = spi_in,
               .local = info.local,
               .remote = info.remote,
               .udp_encap = info.udp_encap,
               .detail = "out " + Hex32(info.spi_out) +
                         (up.rekeyed_spi_in ? " rekeys " + Hex32(*up.rekeyed_spi_in) : "") +
                         (activate ? "" : " (outbound after the old SA's delete)")});
}

void IkeApp::OnChildDown(std::uint32_t spi_in) {
  auto it = children_.find(spi_in);
  if (it == children_.end()) return;
  const bool was_active = it->second.outbound_active;
  const std::uint64_t child_id = it->second.child_id;
  children_.erase(it);
  if (!was_active) return;
  // A rekeyed successor that waited for this delete takes over.
  IkeAppChild* next = nullptr;
  for (auto& [spi, c] : children_) {
    if (c.child_id == child_id && !c.ever_active && (next == nullptr || c.seq > next->seq)) {
      next = &c;
    }
  }
  if (next != nullptr) {
    next->outbound_active = true;
    next->ever_active = true;
  }
}

void IkeApp::DropTia() {
  if (config_.role != IkeAppRole::kClient || !tia_) return;
  const Ipv4Address tia = *tia_;
  tia_.reset();
  node_.routes().RemoveIf([this](const Route& r) {
    return r.ifindex == tun_ifindex_ && std::find(config_.tunnel_prefixes.begin(),
                                                  config_.tunnel_prefixes.end(),
                                                  r.prefix) != config_.tunnel_prefixes.end();
  });
  Status st = node_.RemoveAddress(tun_ifindex_, tia);
  if (!st.ok()) {
    MIPSEC_LOG(log_, kWarning) << "removing TIA " << tia << ": " << st.error().ToString();
  }
}

void IkeApp::OnVirtualIp(const ikev2::VirtualIpAssigned& vip) {
  if (config_.role != IkeAppRole::kClient) return;
  if (tia_ && *tia_ != vip.address) (void)node_.RemoveAddress(tun_ifindex_, *tia_);
  tia_ = vip.address;
  Status st = node_.AddAddress(tun_ifindex_, vip.address, 32);
  if (!st.ok() && st.error().code() != Errc::kAlreadyExists) {
    MIPSEC_LOG(log_, kError) << "TIA " << vip.address << ": " << st.error().ToString();
    return;
  }
  for (const Ipv4Prefix& p : config_.tunnel_prefixes) {
    node_.routes().Remove(p);
    node_.routes().Add(Route{p, tun_ifindex_, std::nullopt, 0});
  }
}

}  // namespace mipsec::sim

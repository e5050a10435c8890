#include "sim/apps/dhcp_client_app.h"

#include <algorithm>
#include <variant>

namespace mipsec::sim {

namespace {
// Removes exactly the route we installed, not another one for 0.0.0.0/0.
void RemoveRoute(Node& node, const Route& route) {
  node.routes().RemoveIf([&](const Route& r) {
    return r.prefix == route.prefix && r.ifindex == route.ifindex && r.gateway == route.gateway &&
           r.metric == route.metric;
  });
}
}  // namespace

Result<std::unique_ptr<DhcpClientApp>> DhcpClientApp::Create(Node& node) {
  std::unique_ptr<DhcpClientApp> app(new DhcpClientApp(node));
  DhcpClientApp* raw = app.get();
  MIPSEC_TRY(node.BindUdp({Ipv4Address::Any(), dhcp::kClientPort},
                          [raw](Timestamp now, const UdpDelivery& d) { raw->OnDatagram(now, d); }));
  app->self_ = std::make_shared<DhcpClientApp*>(raw);
  std::weak_ptr<DhcpClientApp*> weak = app->self_;
  node.AddLinkObserver([weak](Timestamp now, const LinkEvent& ev) {
    if (std::shared_ptr<DhcpClientApp*> self = weak.lock(); self && *self) (*self)->OnLink(now, ev);
  });
  return app;
}

DhcpClientApp::~DhcpClientApp() {
  if (self_) *self_ = nullptr;
  node_.UnbindUdp({Ipv4Address::Any(), dhcp::kClientPort});
}

Status DhcpClientApp::Enable(std::string_view ifname, const DhcpClientOptions& options) {
  Interface* ifc = node_.FindInterface(ifname);
  if (!ifc) {
    return Error(Errc::kNotFound, node_.name() + ": no interface '" + std::string(ifname) + "'");
  }
  if (clients_.contains(ifc->ifindex())) {
    return Error(Errc::kAlreadyExists, ifc->FullName() + " already runs a DHCP client");
  }
  auto p = std::make_unique<PerInterface>();
  p->ifindex = ifc->ifindex();
  p->options = options;
  dhcp::ClientConfig& cc = p->options.client;
  if (std::all_of(cc.chaddr.begin(), cc.chaddr.end(), [](std::uint8_t b) { return b == 0; })) {
    // A locally administered unicast MAC (first octet 0x02), stable per
    // node and interface name.
    const std::uint64_t h = node_.sim().DeriveSeed("dhcp-mac/" + ifc->FullName());
    cc.chaddr = {0x02,
                 static_cast<std::uint8_t>(h >> 32),
                 static_cast<std::uint8_t>(h >> 24),
                 static_cast<std::uint8_t>(h >> 16),
                 static_cast<std::uint8_t>(h >> 8),
                 static_cast<std::uint8_t>(h)};
    cc.htype = dhcp::kHtypeEthernet;
    cc.hlen = 6;
  }
  p->random = std::make_unique<DeterministicRandom>(
      node_.sim().DeriveSeed("dhcp-client/" + ifc->FullName()));
  Result<std::unique_ptr<dhcp::Client>> core =
      dhcp::Client::Create(cc, *p->random, node_.log().Child("dhcpc." + ifc->name()));
  if (!core.ok()) return core.error().WithContext(ifc->FullName());
  p->core = std::move(*core);
  PerInterface* raw = p.get();
  p->timer = std::make_unique<SimTimer>(node_.sim(), [this, raw](Timestamp now) {
    raw->core->OnTimeout(now);
    Drain(*raw, now);
  });
  clients_.emplace(ifc->ifindex(), std::move(p));
  if (ifc->Running()) Start(*raw, node_.sim().now());
  return Ok{};
}

Status DhcpClientApp::Release(std::string_view ifname) {
  PerInterface* p = Find(ifname);
  if (!p) {
    return Error(Errc::kNotFound, "no DHCP client on " + node_.name() + "/" + std::string(ifname));
  }
  const Timestamp now = node_.sim().now();
  p->core->Release(now);
  p->link_up_at.reset();
  Drain(*p, now);
  return Ok{};
}

DhcpClientApp::PerInterface* DhcpClientApp::Find(std::string_view ifname) const {
  Interface* ifc = node_.FindInterface(ifname);
  if (!ifc) return nullptr;
  auto it = clients_.find(ifc->ifindex());
  return it == clients_.end() ? nullptr : it->second.get();
}

const dhcp::Client* DhcpClientApp::client(std::string_view ifname) const {
  PerInterface* p = Find(ifname);
  return p ? p->core.get() : nullptr;
}

std::optional<dhcp::Lease> DhcpClientApp::lease(std::string_view ifname) const {
  PerInterface* p = Find(ifname);
  if (!p) return std::nullopt;
  return p->core->lease();
}

std::vector<Duration> DhcpClientApp::acquisitions(std::string_view ifname) const {
  PerInterface* p = Find(ifname);
  return p ? p->acquisitions : std::vector<Duration>{};
}

void DhcpClientApp::OnLink(Timestamp now, const LinkEvent& ev) {
  auto it = clients_.find(ev.ifindex);
  if (it == clients_.end()) return;
  PerInterface& p = *it->second;
  switch (ev.kind) {
    case LinkEvent::Kind::kLinkUp:
      Start(p, now);
      break;
    case LinkEvent::Kind::kLinkDown:
      p.core->Stop(now);
      p.link_up_at.reset();
      Drain(p, now);
      // Only what the lease configured goes; static addresses (the MN's
      // home address, say) belong to someone else.
      Unconfigure(p);
      break;
    case LinkEvent::Kind::kAddressAdded:
    case LinkEvent::Kind::kAddressRemoved:
      break;  // ours or someone else's: nothing to do
  }
}

void DhcpClientApp::Start(PerInterface& p, Timestamp now) {
  std::string network;
  if (p.options.network_key) {
    if (Interface* ifc = node_.InterfaceByIndex(p.ifindex)) network = p.options.network_key(*ifc);
  }
  p.link_up_at = now;
  p.core->Start(now, network);
  Drain(p, now);
}

void DhcpClientApp::OnDatagram(Timestamp now, const UdpDelivery& d) {
  ++counters_.received;
  auto it = clients_.find(d.ifindex);
  if (it == clients_.end()) {
    ++counters_.ignored_interface;
    return;
  }
  PerInterface& p = *it->second;
  // A refusal is counted by the core (ClientCounters::dropped).
  (void)p.core->OnDatagram(now, dhcp::Path{d.local, d.remote, d.ifindex}, d.payload);
  Drain(p, now);
}

void DhcpClientApp::Drain(PerInterface& p, Timestamp now) {
  while (std::optional<dhcp::ClientTransmit> t = p.core->PollTransmit()) {
    UdpSendOptions o;
    o.source = t->source;
    o.ifindex = p.ifindex;
    if (node_.SendUdp(t->destination, dhcp::kClientPort, t->bytes, o).ok()) {
      ++counters_.sent;
    } else {
      ++counters_.send_errors;
    }
  }
  while (std::optional<dhcp::ClientEvent> e = p.core->PollEvent()) {
    if (const auto* bound = std::get_if<dhcp::BoundEvent>(&*e)) {
      Configure(p, bound->lease);
      if (p.link_up_at) p.acquisitions.push_back(now - *p.link_up_at);
      p.link_up_at.reset();
    } else if (const auto* renewed = std::get_if<dhcp::RenewedEvent>(&*e)) {
      Configure(p, renewed->lease);
    } else if (std::holds_alternative<dhcp::LeaseLostEvent>(*e)) {
      Unconfigure(p);
    }
    if (on_event_) on_event_(now, p.ifindex, *e);
  }
  p.timer->Set(p.core->NextTimeout());
}

void DhcpClientApp::Configure(PerInterface& p, const dhcp::Lease& lease) {
  const InterfaceAddress want{lease.address, lease.prefix_length};
  if (!p.address || p.address->address != want.address ||
      p.address->prefix_length != want.prefix_length) {
    if (p.route) {  // the old route may hang off the old subnet
      RemoveRoute(node_, *p.route);
      p.route.reset();
    }
    if (p.address) (void)node_.RemoveAddress(p.ifindex, p.address->address);
    p.address.reset();
    Status s = node_.AddAddress(p.ifindex, want.address, want.prefix_length);
    if (s.ok()) {
      p.address = want;
    } else if (s.error().code() != Errc::kAlreadyExists) {
      ++counters_.configure_errors;
      MIPSEC_LOG(node_.log(), kWarning) << "DHCP lease " << want.address << ": "
                                        << s.error().ToString();
    }
  }
  std::optional<Route> route;
  if (p.options.install_default_route && lease.router) {
    route = Route{Ipv4Prefix(), p.ifindex, *lease.router, p.options.route_metric};
  }
  const bool same = route.has_value() == p.route.has_value() &&
                    (!route || (route->gateway == p.route->gateway &&
                                route->metric == p.route->metric));
  if (same) return;
  if (p.route) RemoveRoute(node_, *p.route);
  p.route = route;
  if (route) node_.routes().Add(*route);
}

void DhcpClientApp::Unconfigure(PerInterface& p) {
  if (p.route) {
    RemoveRoute(node_, *p.route);
    p.route.reset();
  }
  if (p.address) {
    (void)node_.RemoveAddress(p.ifindex, p.address->address);
    p.address.reset();
  }
}

}  // namespace mipsec::sim

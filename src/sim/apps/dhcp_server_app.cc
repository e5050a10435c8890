#include "sim/apps/dhcp_server_app.h"

#include <string>

namespace mipsec::sim {

Result<std::unique_ptr<DhcpServerApp>> DhcpServerApp::Create(Node& node) {
  std::unique_ptr<DhcpServerApp> app(new DhcpServerApp(node));
  DhcpServerApp* raw = app.get();
  MIPSEC_TRY(node.BindUdp({Ipv4Address::Any(), dhcp::kServerPort},
                          [raw](Timestamp now, const UdpDelivery& d) { raw->OnDatagram(now, d); }));
  return app;
}

DhcpServerApp::~DhcpServerApp() { node_.UnbindUdp({Ipv4Address::Any(), dhcp::kServerPort}); }

Status DhcpServerApp::Serve(std::string_view ifname, const dhcp::ServerConfig& config,
                            Duration response_delay) {
  Interface* ifc = node_.FindInterface(ifname);
  if (!ifc) {
    return Error(Errc::kNotFound, node_.name() + ": no interface '" + std::string(ifname) + "'");
  }
  if (served_.contains(ifc->ifindex())) {
    return Error(Errc::kAlreadyExists, ifc->FullName() + " already has a DHCP server");
  }
  if (!ifc->HasAddress(config.server_address)) {
    return Error(Errc::kInvalidArgument, "server_address " + config.server_address.ToString() +
                                             " is not an address of " + ifc->FullName());
  }
  if (response_delay < Duration::Zero()) {
    return Error(Errc::kInvalidArgument, "response_delay: must not be negative");
  }
  Result<std::unique_ptr<dhcp::Server>> core =
      dhcp::Server::Create(config, node_.log().Child("dhcpd." + ifc->name()));
  if (!core.ok()) return core.error().WithContext(ifc->FullName());

  auto s = std::make_unique<Served>();
  Served* raw = s.get();
  s->ifindex = ifc->ifindex();
  s->delay = response_delay;
  s->core = std::move(*core);
  s->input_timer = std::make_unique<SimTimer>(node_.sim(),
                                              [this, raw](Timestamp now) { Process(*raw, now); });
  s->core_timer = std::make_unique<SimTimer>(node_.sim(), [this, raw](Timestamp now) {
    raw->core->OnTimeout(now);
    Drain(*raw, now);
  });
  served_.emplace(ifc->ifindex(), std::move(s));
  return Ok{};
}

const dhcp::Server* DhcpServerApp::server(std::string_view ifname) const {
  Interface* ifc = node_.FindInterface(ifname);
  if (!ifc) return nullptr;
  auto it = served_.find(ifc->ifindex());
  return it == served_.end() ? nullptr : it->second->core.get();
}

void DhcpServerApp::OnDatagram(Timestamp now, const UdpDelivery& d) {
  ++counters_.received;
  auto it = served_.find(d.ifindex);
  if (it == served_.end()) {
    ++counters_.ignored_interface;
    return;
  }
  Served& s = *it->second;
  if (s.queue.size() >= kMaxQueue) {
    ++counters_.queue_overflow;
    return;
  }
  // The payload is borrowed for this call only: keep a copy until it is
  // processed.
  s.queue.push_back(Pending{now + s.delay, dhcp::Path{d.local, d.remote, d.ifindex},
                            Bytes(d.payload.begin(), d.payload.end())});
  if (s.queue.size() == 1) s.input_timer->Set(s.queue.front().due);
}

void DhcpServerApp::Process(Served& s, Timestamp now) {
  while (!s.queue.empty() && s.queue.front().due <= now) {
    Pending p = std::move(s.queue.front());
    s.queue.pop_front();
    // A refusal is counted by the core (its counters name the reason).
    (void)s.core->OnDatagram(now, p.path, p.bytes);
    Drain(s, now);
  }
  if (!s.queue.empty()) s.input_timer->Set(s.queue.front().due);
}

void DhcpServerApp::Drain(Served& s, Timestamp now) {
  while (std::optional<dhcp::ServerTransmit> t = s.core->PollTransmit()) {
    UdpSendOptions o;
    o.source = t->source;
    Ipv4Endpoint to = t->destination;
    switch (t->delivery) {
      case dhcp::ReplyDelivery::kRelay:
        break;  // routed to the relay agent
      case dhcp::ReplyDelivery::kUnicast:
        o.ifindex = s.ifindex;
        break;
      case dhcp::ReplyDelivery::kBroadcast:
      case dhcp::ReplyDelivery::kHardwareUnicast:
        // No link layer to reach chaddr: broadcast (RFC 2131 4.1 MAY).
        to = {Ipv4Address::Broadcast(), dhcp::kClientPort};
        o.ifindex = s.ifindex;
        break;
    }
    if (node_.SendUdp(to, dhcp::kServerPort, t->bytes, o).ok()) {
      ++counters_.sent;
    } else {
      ++counters_.send_errors;
    }
  }
  while (std::optional<dhcp::ServerEvent> e = s.core->PollEvent()) {
    if (on_event_) on_event_(now, s.ifindex, *e);
  }
  s.core_timer->Set(s.core->NextTimeout());
}

}  // namespace mipsec::sim

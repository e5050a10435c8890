#include "sim/apps/mn_app.h"

#include <algorithm>
#include <string>
#include <utility>
#include <variant>

#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "common/log.h"
#include "mip4/io.h"
#include "sim/apps/mip4_transmit.h"
#include "sim/routing_table.h"

namespace mipsec::sim {

namespace {
constexpr std::uint8_t kProtoIpip = 4;
constexpr std::uint8_t kIcmpRouterAdvertisement = 9;
}  // namespace

class MnApp::Interceptor final : public PacketFilter {
 public:
  explicit Interceptor(MnApp& app) : app_(app) {}
  Verdict Filter(Hook hook, Interface*, Interface* out, Bytes& packet) override {
    if (hook != Hook::kOutput) return Verdict::kAccept;
    app_.Measure(out, packet);
    return app_.Outgoing(out, packet) ? Verdict::kDrop : Verdict::kAccept;
  }

 private:
  MnApp& app_;
};

MnApp::MnApp(Node& node, MnAppConfig config)
    : node_(node), config_(std::move(config)), timer_(node.sim(), [this](Timestamp now) {
        controller_->OnTimeout(now);
        Drain(now);
      }) {}

MnApp::~MnApp() {
  if (self_) *self_ = nullptr;
  if (filter_) node_.RemoveFilter(filter_.get());
  if (!wired_) return;
  node_.UnbindUdp({Ipv4Address::Any(), controller_->config().mip.source_port});
  node_.UnbindProtocol(kProtoIpip);
  node_.UnbindProtocol(ip::kProtoIcmp);
}

Result<std::unique_ptr<MnApp>> MnApp::Create(Node& node, MnAppConfig config,
                                             mip4::SecurityAssociation sa,
                                             mip4::WallClockMapping clock, DhcpClientApp* dhcp) {
  if (!config.controller.mip.home_address) {
    return Error(Errc::kInvalidArgument, "the mobile node needs a home address");
  }
  if (config.ifindexes.empty()) {
    return Error(Errc::kInvalidArgument, "the mobile node needs at least one moving interface");
  }
  for (int i : config.ifindexes) {
    if (!node.InterfaceByIndex(i)) {
      return Error(Errc::kNotFound,
                   "ifindex " + std::to_string(i) + " is not an interface of " + node.name());
    }
  }
  if (!dhcp) return Error(Errc::kInvalidArgument, "the mobile node needs a DHCP client");
  std::unique_ptr<MnApp> app(new MnApp(node, std::move(config)));
  MnApp* raw = app.get();
  app->home_ = *app->config_.controller.mip.home_address;
  app->random_ = std::make_unique<DeterministicRandom>(node.sim().DeriveSeed("mn/" + node.name()));
  // The interceptor goes before IkeApp's filter: a datagram from the home
  // address is the controller's to decide (mc: Mobile IP inside the tunnel,
  // R6), never a plain packet for the VPN's policy.
  app->filter_ = std::make_unique<Interceptor>(*app);
  node.AddFilter(app->filter_.get());
  int tun_ifindex = -1;
  if (app->config_.controller.vpn) {
    IkeAppConfig ic;
    ic.role = IkeAppRole::kClient;
    ic.peer = app->config_.ike;
    ic.gateway = app->config_.gateway;
    ic.ike_ifindexes = app->config_.ifindexes;
    ic.exclude_addresses = {app->home_};
    ic.tunnel_prefixes = app->config_.tunnel_prefixes;
    ic.log_name = "mn-ike";
    ic.ike_log_level = app->config_.ike_log_level;
    ic.follow_links = false;  // the controller moves IKE (R12)
    MIPSEC_ASSIGN_OR_RETURN(app->ike_, IkeApp::Create(node, std::move(ic)));
    tun_ifindex = app->ike_->tun_ifindex();
    app->ike_->SetObserver([raw](const IkeAppEvent& ev) { raw->OnIkeEvent(ev); });
  }
  MIPSEC_ASSIGN_OR_RETURN(
      app->controller_,
      mn::MnController::Create(app->config_.controller, std::move(sa), clock, tun_ifindex,
                               *app->random_, node.log().Child("mn")));
  app->self_ = std::make_shared<MnApp*>(raw);
  MIPSEC_TRY(node.BindUdp({Ipv4Address::Any(), app->config_.controller.mip.source_port},
                          [raw](Timestamp now, const UdpDelivery& d) { raw->OnUdp(now, d); }));
  app->wired_ = true;
  node.BindProtocol(kProtoIpip, [raw](Timestamp now, const RawDelivery& d) { raw->OnRaw(now, d); });
  node.BindProtocol(ip::kProtoIcmp,
                    [raw](Timestamp now, const RawDelivery& d) { raw->OnRaw(now, d); });
  std::shared_ptr<MnApp*> self = app->self_;
  node.AddLinkObserver([self](Timestamp now, const LinkEvent& ev) {
    if (*self) (*self)->OnLink(now, ev);
  });
  dhcp->SetEventCallback([self](Timestamp now, int ifindex, const dhcp::ClientEvent& ev) {
    if (*self) (*self)->OnDhcp(now, ifindex, ev);
  });
  // The interfaces that are up already: detection starts now. The home
  // address stays where it is configured until detection says otherwise;
  // user data waits for the proof either way.
  Timestamp now = node.sim().now();
  for (int i : app->config_.ifindexes) {
    Interface* ifc = node.InterfaceByIndex(i);
    if (ifc->HasAddress(app->home_)) app->home_ifindex_ = i;
    if (!ifc->Running()) continue;
    app->controller_->OnLinkUp(now, i, ifc->name());
  }
  app->Drain(now);
  return app;
}

bool MnApp::Moving(int ifindex) const {
  return std::find(config_.ifindexes.begin(), config_.ifindexes.end(), ifindex) !=
         config_.ifindexes.end();
}

void MnApp::OnLink(Timestamp now, const LinkEvent& ev) {
  if (!Moving(ev.ifindex)) return;
  if (ev.kind == LinkEvent::Kind::kLinkDown) {
    controller_->OnLinkDown(now, ev.ifindex);
    Drain(now);
  } else if (ev.kind == LinkEvent::Kind::kLinkUp) {
    // A new link: the home address is only a host address of ours until the
    // home link is proven (RFC 5944 4.2.1 / 4.6).
    if (home_ifindex_) {
      (void)node_.RemoveAddress(*home_ifindex_, home_);
      node_.routes().RemoveIf([&](const Route& r) {
        return r.prefix.length() == 0 && r.gateway && *r.gateway == config_.home_gateway;
      });
      home_ifindex_.reset();
    }
    Interface* ifc = node_.InterfaceByIndex(ev.ifindex);
    if (ifc && !ifc->HasAddress(home_)) (void)node_.AddAddress(ev.ifindex, home_, 32);
    controller_->OnLinkUp(now, ev.ifindex, ev.ifname);
    Drain(now);
  }
}

void MnApp::OnDhcp(Timestamp now, int ifindex, const dhcp::ClientEvent& ev) {
  if (!Moving(ifindex)) return;
  std::optional<mn::AddressInfo> info;
  bool lost = false;
  if (const auto* b = std::get_if<dhcp::BoundEvent>(&ev)) {
    info = mn::AddressInfo{b->lease.address, b->lease.prefix_length, b->lease.router,
                           b->lease.domain_name};
  } else if (const auto* r = std::get_if<dhcp::RenewedEvent>(&ev)) {
    info = mn::AddressInfo{r->lease.address, r->lease.prefix_length, r->lease.router,
                           r->lease.domain_name};
  } else if (std::holds_alternative<dhcp::LeaseLostEvent>(ev)) {
    lost = true;
  } else {
    return;
  }
  // The DHCP app must not be re-entered from its callback: act from a fresh
  // event in the same instant.
  std::shared_ptr<MnApp*> self = self_;
  node_.sim().ScheduleFn(now, [self, ifindex, info, lost]() {
    MnApp* app = *self;
    if (!app) return;
    Timestamp t = app->node_.sim().now();
    if (lost) {
      app->controller_->OnAddressLost(t, ifindex);
    } else if (Status s = app->controller_->OnAddress(t, ifindex, *info); !s.ok()) {
      MIPSEC_LOG(app->node_.log(), kDebug) << "mn: lease ignored: " << s.error().ToString();
    }
    app->Drain(t);
  });
}

void MnApp::OnUdp(Timestamp now, const UdpDelivery& d) {
  mip4::UdpReceived rx{d.local, d.remote, d.ifindex, d.payload, d.ttl};
  (void)controller_->OnUdp(now, rx);
  Drain(now);
}

void MnApp::OnRaw(Timestamp now, const RawDelivery& d) {
  Result<ip::Ipv4Packet> pkt = ip::ParseIpv4(d.datagram, {.verify_checksum = false});
  if (!pkt.ok()) return;
  if (pkt->header.protocol == ip::kProtoIcmp) {
    if (pkt->payload.empty() || pkt->payload[0] != kIcmpRouterAdvertisement) return;
  }
  (void)controller_->OnIpPacket(now, d.ifindex, d.datagram);
  Drain(now);
}

void MnApp::OnIkeEvent(const IkeAppEvent& ev) {
  Timestamp now = node_.sim().now();
  in_ike_callback_ = true;
  switch (ev.kind) {
    case IkeAppEvent::Kind::kVirtualIp:
      tia_ = ike_->tia();
      break;
    case IkeAppEvent::Kind::kChildUp:
      child_up_ = true;
      break;
    case IkeAppEvent::Kind::kPathConfirmed:
      if (vpn_reported_) controller_->OnVpnPathConfirmed(now, ev.local.address);
      break;
    case IkeAppEvent::Kind::kIkeDown:
      if (!ike_->client_sa() && !restarting_vpn_) {
        bool next_gateway = false;
        if (!vpn_reported_ && !config_.backup_gateways.empty()) {
          // The set-up failed: the next configured gateway gets the next try.
          gateway_index_ = (gateway_index_ + 1) % (config_.backup_gateways.size() + 1);
          Ipv4Address next =
              gateway_index_ == 0 ? config_.gateway : config_.backup_gateways[gateway_index_ - 1];
          MIPSEC_LOG(node_.log(), kInfo) << "mn: VPN set-up to " << ike_->configured_gateway()
                                         << " failed; next try: " << next;
          ike_->SetGateway(next);
          // A fresh gateway is tried at once; after a whole round, back off.
          next_gateway = gateway_index_ != 0;
        }
        tia_.reset();
        child_up_ = false;
        controller_->OnVpnDown(now, ev.detail, next_gateway);
        vpn_reported_ = false;
      }
      break;
    default:
      break;
  }
  if (!vpn_reported_ && tia_ && child_up_ && ike_->client_sa()) {
    vpn_reported_ = true;
    ikev2::IkeSa* sa = ike_->client_sa();
    controller_->OnVpnUp(now, mn::VpnUp{*tia_, sa->remote().address, sa->local().address});
  }
  in_ike_callback_ = false;
  // IkeApp calls its observer after its own drain: commands the controller
  // gave meanwhile may go to it at once (same instant).
  Drain(now);
}

void MnApp::Execute(Timestamp now, const mn::VpnCommand& c) {
  Status s = Ok{};
  switch (c.kind) {
    case mn::VpnCommand::Kind::kConnect:
      // A set-up from an old address restarts from the new one; its end is
      // not news for the controller (it asked for it).
      restarting_vpn_ = true;
      if (ike_->client_sa()) ike_->Disconnect();
      restarting_vpn_ = false;
      tia_.reset();
      child_up_ = false;
      vpn_reported_ = false;
      s = ike_->Connect(c.preferred);
      break;
    case mn::VpnCommand::Kind::kUpdateAddresses:
      s = ike_->UpdateAddresses(c.addresses, c.preferred);
      break;
    case mn::VpnCommand::Kind::kDisconnect:
      ike_->Disconnect();
      break;
  }
  if (!s.ok()) {
    ++counters_.vpn_command_errors;
    MIPSEC_LOG(node_.log(), kInfo) << "mn: vpn " << mn::VpnCommandKindName(c.kind)
                                   << " failed: " << s.error().ToString();
  }
  (void)now;
}

std::string MnApp::InterfaceName(int ifindex) const {
  if (ifindex == 0) return "vpn";
  if (ike_ && ifindex == ike_->tun_ifindex()) return "tunnel";
  const Interface* ifc = node_.InterfaceByIndex(ifindex);
  return ifc ? ifc->name() : "if" + std::to_string(ifindex);
}

void MnApp::Measure(Interface* out, const Bytes& packet) {
  if (!controller_) return;
  // The first packet that leaves a moving interface while a user datagram
  // is being sent is its encapsulated form (the simulator sends
  // synchronously: controller -> engine -> node -> IkeApp's ESP -> here).
  if (!measuring_ || !out || !Moving(out->ifindex())) return;
  if (packet.size() >= *measuring_ && overhead_.size() < 100'000) {
    overhead_.push_back({node_.sim().now(), static_cast<std::uint32_t>(packet.size() - *measuring_)});
  }
  measuring_.reset();
}

bool MnApp::Outgoing(Interface* out, Bytes& packet) {
  if (draining_ || !controller_) return false;  // the controller's own output
  Result<ip::Ipv4Packet> pkt = ip::ParseIpv4(packet, {.verify_checksum = false});
  if (!pkt.ok() || pkt->header.src != home_) return false;
  Timestamp now = node_.sim().now();
  ++counters_.user_out;
  measuring_ = packet.size();
  Result<mn::SendVerdict> v = controller_->SendPacket(now, packet);
  Drain(now);
  if (v.ok() && *v == mn::SendVerdict::kPass) {
    ++counters_.user_passed;
    measuring_.reset();
    if (overhead_.size() < 100'000) overhead_.push_back({now, 0});  // sent as it is
    if (home_ifindex_ && out && out->ifindex() != *home_ifindex_) {
      // At home with the IKE SA kept idle (vpn_when_inside = keep) the
      // VPN's routes still lead the intranet into tun0, and the datagram
      // would be lost there. At home the MN is an ordinary host on the home
      // link (RFC 5944 4.2.1) and uses no VPN (RFC 5266 1): send it out of
      // the home interface, by its routes through that interface.
      mip4::IpTransmit t;
      t.ifindex = *home_ifindex_;
      t.packet = packet;
      draining_ = true;  // our own copy: let it through
      if (Status st = SendMip4Transmit(node_, std::move(t)); !st.ok()) {
        ++counters_.send_errors;
        MIPSEC_LOG(node_.log(), kDebug) << "mn: home link send failed: " << st.error().ToString();
      }
      draining_ = false;
      return true;
    }
    return false;
  }
  measuring_.reset();
  if (!v.ok() || *v == mn::SendVerdict::kBlocked) ++counters_.user_blocked;
  return true;
}

void MnApp::ApplyPlanes(Timestamp now) {
  (void)now;
  // The home link: the home address with its prefix, the home router as
  // default (RFC 5944 4.2.1: at home the MN is an ordinary host).
  std::optional<int> home;
  for (int i : config_.ifindexes) {
    if (controller_->plane(i) == mn::DataPlane::kHomeLink) home = i;
  }
  if (!home || home == home_ifindex_) return;
  for (int i : config_.ifindexes) {
    Interface* ifc = node_.InterfaceByIndex(i);
    if (ifc && ifc->HasAddress(home_)) (void)node_.RemoveAddress(i, home_);
  }
  (void)node_.AddAddress(*home, home_, config_.home_prefix_length);
  node_.routes().Add(Route{Ipv4Prefix(), *home, config_.home_gateway, 0});
  home_ifindex_ = home;
}

void MnApp::Drain(Timestamp now) {
  if (draining_ || in_ike_callback_) return;
  draining_ = true;
  for (;;) {
    bool any = false;
    while (std::optional<mip4::Transmit> t = controller_->PollTransmit()) {
      any = true;
      ++counters_.transmits;
      if (Status s = SendMip4Transmit(node_, std::move(*t)); !s.ok()) {
        ++counters_.send_errors;
        MIPSEC_LOG(node_.log(), kDebug) << "mn: send failed: " << s.error().ToString();
      }
    }
    while (std::optional<Bytes> d = controller_->PollDelivery()) {
      any = true;
      if (node_.InjectLocal(std::move(*d), controller_->active_interface().value_or(0)).ok()) {
        ++counters_.delivered_in;
      }
    }
    while (std::optional<mn::ControllerEvent> e = controller_->PollEvent()) {
      any = true;
      timeline_.push_back(std::move(*e));
    }
    std::vector<mn::VpnCommand> commands;
    while (std::optional<mn::VpnCommand> c = controller_->PollVpnCommand()) {
      commands.push_back(std::move(*c));
    }
    if (!commands.empty()) {
      any = true;
      draining_ = false;  // IKE's packets are not ours to filter anyway
      for (const mn::VpnCommand& c : commands) {
        if (ike_) Execute(now, c);
      }
      draining_ = true;
    }
    if (!any) break;
  }
  ApplyPlanes(now);
  draining_ = false;
  timer_.Set(controller_->NextTimeout());
}

}  // namespace mipsec::sim

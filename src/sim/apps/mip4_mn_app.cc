#include "sim/apps/mip4_mn_app.h"

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

std::string_view Mip4MnAppEventKindName(Mip4MnAppEvent::Kind k) {
  switch (k) {
    case Mip4MnAppEvent::Kind::kLinkUp:
      return "link-up";
    case Mip4MnAppEvent::Kind::kLinkDown:
      return "link-down";
    case Mip4MnAppEvent::Kind::kAtHome:
      return "at-home";
    case Mip4MnAppEvent::Kind::kRegistering:
      return "registering";
    case Mip4MnAppEvent::Kind::kRegistered:
      return "registered";
    case Mip4MnAppEvent::Kind::kDenied:
      return "denied";
    case Mip4MnAppEvent::Kind::kTimeout:
      return "timeout";
    case Mip4MnAppEvent::Kind::kDeregistered:
      return "deregistered";
    case Mip4MnAppEvent::Kind::kBindingExpired:
      return "binding-expired";
    case Mip4MnAppEvent::Kind::kKeepaliveLost:
      return "keepalive-lost";
  }
  return "?";
}

class Mip4MnApp::Tunneller final : public PacketFilter {
 public:
  explicit Tunneller(Mip4MnApp& app) : app_(app) {}
  Verdict Filter(Hook hook, Interface*, Interface*, Bytes& packet) override {
    if (hook != Hook::kOutput) return Verdict::kAccept;
    return app_.Outgoing(packet) ? Verdict::kDrop : Verdict::kAccept;
  }

 private:
  Mip4MnApp& app_;
};

Mip4MnApp::Mip4MnApp(Node& node, const Mip4MnAppConfig& config, mip4::SecurityAssociation sa,
                     mip4::WallClockMapping clock)
    : node_(node),
      config_(config),
      security_(std::make_unique<mip4::MnHaSecurity>(std::move(sa), clock)),
      timer_(node.sim(), [this](Timestamp now) {
        core_->OnTimeout(now);
        Drain(now);
      }) {}

Mip4MnApp::~Mip4MnApp() {
  if (self_) *self_ = nullptr;
  if (!wired_) return;  // Create failed before taking the node's port
  node_.UnbindUdp({Ipv4Address::Any(), core_->config().source_port});
  node_.UnbindProtocol(kProtoIpip);
  node_.UnbindProtocol(ip::kProtoIcmp);
}

Result<std::unique_ptr<Mip4MnApp>> Mip4MnApp::Create(
    Node& node, const mip4::MobileNodeConfig& config, mip4::SecurityAssociation sa,
    mip4::WallClockMapping clock, DhcpClientApp* dhcp, const Mip4MnAppConfig& app_config) {
  if (!config.home_address) {
    return Error(Errc::kInvalidArgument, "home_address is required by the simulator's MN app");
  }
  Interface* ifc = node.InterfaceByIndex(app_config.ifindex);
  if (!ifc) {
    return Error(Errc::kNotFound, "ifindex " + std::to_string(app_config.ifindex) +
                                      " is not an interface of " + node.name());
  }
  if (app_config.home_prefix_length < 0 || app_config.home_prefix_length > 32) {
    return Error(Errc::kInvalidArgument, "home_prefix_length outside 0..32");
  }
  std::unique_ptr<Mip4MnApp> app(new Mip4MnApp(node, app_config, std::move(sa), clock));
  app->home_ = *config.home_address;
  app->random_ =
      std::make_unique<DeterministicRandom>(node.sim().DeriveSeed("mip4-mn/" + node.name()));
  MIPSEC_ASSIGN_OR_RETURN(
      app->core_, mip4::MobileNodeRegistration::Create(config, *app->security_, *app->random_,
                                                       node.log().Child("mip4-mn")));
  Mip4MnApp* raw = app.get();
  app->self_ = std::make_shared<Mip4MnApp*>(raw);
  MIPSEC_TRY(node.BindUdp({Ipv4Address::Any(), config.source_port},
                          [raw](Timestamp now, const UdpDelivery& d) { raw->OnUdp(now, d); }));
  app->wired_ = true;
  node.BindProtocol(kProtoIpip, [raw](Timestamp now, const RawDelivery& d) { raw->OnRaw(now, d); });
  node.BindProtocol(ip::kProtoIcmp,
                    [raw](Timestamp now, const RawDelivery& d) { raw->OnRaw(now, d); });
  std::shared_ptr<Mip4MnApp*> self = app->self_;
  node.AddLinkObserver([self](Timestamp now, const LinkEvent& ev) {
    if (*self) (*self)->OnLink(now, ev);
  });
  if (dhcp) {
    dhcp->SetEventCallback([self](Timestamp now, int ifindex, const dhcp::ClientEvent& ev) {
      if (*self) (*self)->OnDhcp(now, ifindex, ev);
    });
  }
  app->tunneller_ = std::make_unique<Tunneller>(*app);
  node.AddFilter(app->tunneller_.get());
  // Where are we? With the home address configured with the home prefix on
  // the interface we start at home; otherwise we look for agents.
  bool home = false;
  for (const InterfaceAddress& a : ifc->addresses()) {
    if (a.address == app->home_ && a.prefix_length == app_config.home_prefix_length) home = true;
  }
  if (!home) {
    app->location_ = Location::kUnknown;
    if (ifc->Running()) {
      app->SetHomeAddress(32);
      app->core_->StartSolicitation(node.sim().now(), app_config.ifindex, Ipv4Address::Any(), true);
      app->Drain(node.sim().now());
    }
  }
  return app;
}

void Mip4MnApp::Record(Timestamp now, Mip4MnAppEvent ev, const std::string& detail) {
  ev.at = now;
  MIPSEC_LOG(node_.log(), kInfo) << "mip4-mn " << Mip4MnAppEventKindName(ev.kind) << detail;
  events_.push_back(ev);
}

void Mip4MnApp::SetHomeAddress(int prefix_length) {
  for (const auto& ifc : node_.interfaces()) {
    if (ifc->HasAddress(home_)) (void)node_.RemoveAddress(ifc->ifindex(), home_);
  }
  (void)node_.AddAddress(config_.ifindex, home_, prefix_length);
}

void Mip4MnApp::SetDefaultRoute(std::optional<Ipv4Address> gateway) {
  if (installed_gateway_) {
    Ipv4Address old = *installed_gateway_;
    node_.routes().RemoveIf([&](const Route& r) {
      return r.prefix.length() == 0 && r.gateway && *r.gateway == old &&
             r.ifindex == config_.ifindex;
    });
    installed_gateway_.reset();
  }
  if (gateway) {
    node_.routes().Add(Route{Ipv4Prefix(), config_.ifindex, *gateway, 0});
    installed_gateway_ = gateway;
  }
}

void Mip4MnApp::OnLink(Timestamp now, const LinkEvent& ev) {
  if (ev.ifindex != config_.ifindex) return;
  if (ev.kind == LinkEvent::Kind::kLinkDown) {
    core_->Stop(now, config_.ifindex);
    SetDefaultRoute(std::nullopt);
    location_ = Location::kUnknown;
    Record(now, {.kind = Mip4MnAppEvent::Kind::kLinkDown}, "");
    Drain(now);
  } else if (ev.kind == LinkEvent::Kind::kLinkUp) {
    // A new link: until an agent or a lease tells where we are, the home
    // address is only a host address of ours (RFC 5944 4.2.1 / 4.6: never
    // answer for it on a foreign link).
    location_ = Location::kUnknown;
    SetDefaultRoute(std::nullopt);
    SetHomeAddress(32);
    Record(now, {.kind = Mip4MnAppEvent::Kind::kLinkUp}, "");
    core_->StartSolicitation(now, config_.ifindex, Ipv4Address::Any(), true);
    Drain(now);
  }
}

void Mip4MnApp::OnDhcp(Timestamp now, int ifindex, const dhcp::ClientEvent& ev) {
  if (ifindex != config_.ifindex || !config_.colocated_from_dhcp) return;
  const auto* bound = std::get_if<dhcp::BoundEvent>(&ev);
  if (!bound || location_ != Location::kUnknown) return;
  Ipv4Address coa = bound->lease.address;
  // The DHCP app calls us before returning to its own code: act at once
  // from a fresh event (its callback must not re-enter it).
  std::shared_ptr<Mip4MnApp*> self = self_;
  node_.sim().ScheduleFn(now, [self, coa]() {
    Mip4MnApp* app = *self;
    if (!app || app->location_ != Location::kUnknown) return;
    Timestamp t = app->node_.sim().now();
    app->location_ = Location::kColocated;
    Status s = app->core_->RegisterColocated(t, coa, app->config_.ifindex);
    app->Record(
        t, {.kind = Mip4MnAppEvent::Kind::kRegistering, .care_of_address = coa},
        " co-located coa " + coa.ToString() + (s.ok() ? "" : " failed: " + s.error().ToString()));
    if (s.ok()) app->registered_since_home_ = true;
    app->Drain(t);
  });
}

void Mip4MnApp::OnUdp(Timestamp now, const UdpDelivery& d) {
  mip4::UdpReceived rx{d.local, d.remote, d.ifindex, d.payload, d.ttl};
  if (!core_->OnUdp(now, rx).ok()) ++counters_.core_input_errors;
  Drain(now);
}

void Mip4MnApp::OnRaw(Timestamp now, const RawDelivery& d) {
  Result<ip::Ipv4Packet> pkt = ip::ParseIpv4(d.datagram, {.verify_checksum = false});
  if (!pkt.ok()) return;
  if (pkt->header.protocol == ip::kProtoIcmp) {
    // Only Agent Advertisements go to the core; the stack answers echoes.
    if (pkt->payload.empty() || pkt->payload[0] != kIcmpRouterAdvertisement) return;
  }
  if (!core_->OnIpPacket(now, d.ifindex, d.datagram).ok()) ++counters_.core_input_errors;
  Drain(now);
}

bool Mip4MnApp::Outgoing(Bytes& packet) {
  if (draining_ || location_ == Location::kHome) return false;
  const std::optional<mip4::MnBinding>& b = core_->binding();
  if (!b) return false;
  if (!b->reverse_tunnel && b->encapsulation != mip4::TunnelEncapsulation::kUdp) return false;
  Result<ip::Ipv4Packet> pkt = ip::ParseIpv4(packet, {.verify_checksum = false});
  if (!pkt.ok() || pkt->header.src != home_) return false;
  Timestamp now = node_.sim().now();
  Status s = core_->SendPacket(now, packet);
  if (s.ok()) {
    ++counters_.tunnelled_out;
  } else {
    ++counters_.send_packet_errors;
  }
  Drain(now);
  return true;
}

void Mip4MnApp::HandleEvent(Timestamp now, const mip4::MnEvent& e) {
  using K = Mip4MnAppEvent::Kind;
  if (const auto* r = std::get_if<mip4::RegisteredEvent>(&e)) {
    const mip4::MnBinding& b = r->binding;
    Mip4MnAppEvent ev{.kind = K::kRegistered,
                      .care_of_address = b.care_of_address,
                      .via_fa = !b.co_located(),
                      .udp_tunnel = b.encapsulation == mip4::TunnelEncapsulation::kUdp,
                      .reverse_tunnel = b.reverse_tunnel,
                      .renewal = r->renewal,
                      .code = r->code,
                      .lifetime = b.granted_lifetime};
    Record(now, ev,
           " coa " + b.care_of_address.ToString() + (b.co_located() ? " co-located" : " via fa") +
               " " + std::string(mip4::TunnelEncapsulationName(b.encapsulation)) + " lifetime " +
               std::to_string(b.granted_lifetime) + (r->renewal ? " renewal" : ""));
  } else if (const auto* d = std::get_if<mip4::DeniedEvent>(&e)) {
    Record(now, {.kind = K::kDenied, .care_of_address = d->care_of_address, .code = d->code},
           " code " + std::to_string(d->code));
  } else if (const auto* t = std::get_if<mip4::RegistrationTimeoutEvent>(&e)) {
    Record(now, {.kind = K::kTimeout, .care_of_address = t->care_of_address},
           " after " + std::to_string(t->transmissions) + " requests");
  } else if (const auto* dr = std::get_if<mip4::DeregisteredEvent>(&e)) {
    registered_since_home_ = false;
    Record(now, {.kind = K::kDeregistered, .care_of_address = dr->care_of_address},
           " coa " + dr->care_of_address.ToString());
  } else if (const auto* x = std::get_if<mip4::BindingExpiredEvent>(&e)) {
    Record(now, {.kind = K::kBindingExpired, .care_of_address = x->binding.care_of_address}, "");
  } else if (const auto* k = std::get_if<mip4::KeepaliveLostEvent>(&e)) {
    Record(now, {.kind = K::kKeepaliveLost, .care_of_address = k->binding.care_of_address}, "");
  } else if (const auto* a = std::get_if<mip4::AgentAdvertisedEvent>(&e)) {
    const mip4::AgentInfo& agent = a->agent;
    if (agent.ifindex != config_.ifindex) return;
    if (agent.is_our_home_agent) {
      if (location_ == Location::kHome) return;
      // RFC 5944 2.4.3 / 3.6.1.2: back home; deregister every binding.
      location_ = Location::kHome;
      SetHomeAddress(config_.home_prefix_length);
      SetDefaultRoute(config_.home_gateway);
      core_->StopSolicitation();
      Record(now, {.kind = K::kAtHome}, " (agent " + agent.address.ToString() + ")");
      if (registered_since_home_) {
        Status s = core_->Deregister(now, config_.ifindex);
        if (!s.ok()) {
          MIPSEC_LOG(node_.log(), kInfo)
              << "mip4-mn deregistration not sent: " << s.error().ToString();
        }
      }
    } else if (agent.is_foreign_agent() && location_ == Location::kUnknown) {
      Result<mip4::ForeignAgentTarget> fa = mip4::ForeignAgentTarget::From(agent);
      if (!fa.ok()) return;
      location_ = Location::kViaFa;
      SetDefaultRoute(agent.address);  // RFC 5944 4.2.2: the FA as default router
      Status s = core_->RegisterViaFa(now, *fa, config_.ifindex);
      Record(now, {.kind = K::kRegistering, .care_of_address = fa->care_of_address, .via_fa = true},
             " via fa " + agent.address.ToString() + " coa " + fa->care_of_address.ToString() +
                 (s.ok() ? "" : " failed: " + s.error().ToString()));
      if (s.ok()) registered_since_home_ = true;
    }
  }
}

void Mip4MnApp::Drain(Timestamp now) {
  if (draining_) return;
  draining_ = true;
  // Commands issued while handling events queue more output: loop until
  // everything is out.
  for (;;) {
    bool any = false;
    while (std::optional<mip4::Transmit> t = core_->PollTransmit()) {
      any = true;
      ++counters_.transmits;
      Status s = SendMip4Transmit(node_, std::move(*t));
      if (!s.ok()) {
        ++counters_.send_errors;
        MIPSEC_LOG(node_.log(), kDebug) << "mip4-mn send failed: " << s.error().ToString();
      }
    }
    while (std::optional<Bytes> d = core_->PollDelivery()) {
      any = true;
      if (node_.InjectLocal(std::move(*d), config_.ifindex).ok()) ++counters_.delivered_in;
    }
    while (std::optional<mip4::MnEvent> e = core_->PollEvent()) {
      any = true;
      HandleEvent(now, *e);
    }
    if (!any) break;
  }
  draining_ = false;
  timer_.Set(core_->NextTimeout());
}

}  // namespace mipsec::sim

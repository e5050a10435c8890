#include "sim/apps/mip4_ha_app.h"

#include <utility>
#include <variant>

#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "common/log.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/ha/home_agent.h"
#include "mip4/io.h"
#include "sim/apps/mip4_transmit.h"

namespace mipsec::sim {
namespace {

constexpr std::uint8_t kProtoIpip = 4;
const Ipv4Address kAllMobilityAgents = Ipv4Address::FromHostOrder(0xe000000bu);  // 224.0.0.11

Mip4HaBinding Flatten(Ipv4Address home, const mip4::HaTunnel& t) {
  Mip4HaBinding b;
  b.home_address = home;
  b.care_of_address = t.care_of_address;
  b.tunnel_endpoint = t.endpoint;
  b.udp_tunnel = t.encapsulation == mip4::TunnelEncapsulation::kUdp;
  b.reverse_tunnel = t.reverse_tunnel;
  b.granted_lifetime = t.granted_lifetime;
  b.expires = t.expires;
  return b;
}


}  // namespace

class Mip4HaApp::Interceptor final : public PacketFilter {
 public:
  explicit Interceptor(Mip4HaApp& app) : app_(app) {}
  Verdict Filter(Hook hook, Interface*, Interface*, Bytes& packet) override {
    if (hook != Hook::kPrerouting) return Verdict::kAccept;
    return app_.Intercept(packet) ? Verdict::kDrop : Verdict::kAccept;
  }

 private:
  Mip4HaApp& app_;
};

Mip4HaApp::Mip4HaApp(Node& node, const Mip4HaAppConfig& config)
    : node_(node),
      config_(config),
      timer_(node.sim(),
             [this](Timestamp now) {
               core_->OnTimeout(now);
               Drain(now);
             }) {}

Mip4HaApp::~Mip4HaApp() {
  if (interceptor_) node_.RemoveFilter(interceptor_.get());
  // Events queued for the timer die with the app (a restart mid-run).
  node_.sim().Forget(&timer_);
  if (!wired_) return;  // Create failed before taking the node's port 434
  node_.UnbindUdp({Ipv4Address::Any(), mip4::kMipPort});
  node_.UnbindProtocol(kProtoIpip);
  node_.UnbindProtocol(ip::kProtoIcmp);
}

Result<std::unique_ptr<Mip4HaApp>> Mip4HaApp::Create(Node& node,
                                                     const mip4::HomeAgentOptions& options,
                                                     mip4::SaDatabase& sas,
                                                     const Mip4HaAppConfig& config) {
  if (config.advertisement_interval < Duration::Zero()) {
    return Error(Errc::kInvalidArgument, "advertisement_interval is negative");
  }
  if (!node.InterfaceByIndex(config.home_ifindex)) {
    return Error(Errc::kNotFound, "home_ifindex " + std::to_string(config.home_ifindex) +
                                      " is not an interface of " + node.name());
  }
  std::unique_ptr<Mip4HaApp> app(new Mip4HaApp(node, config));
  app->random_ =
      std::make_unique<DeterministicRandom>(node.sim().DeriveSeed("mip4-ha/" + node.name()));
  mip4::HomeAgentOptions o = options;
  if (config.advertisement_interval != Duration::Zero()) {
    o.home_ifindex = config.home_ifindex;
    o.advertisement.max_interval = config.advertisement_interval;
    o.advertisement.min_interval = config.advertisement_interval;
  }
  MIPSEC_ASSIGN_OR_RETURN(app->core_, mip4::HomeAgent::Create(std::move(o), sas, *app->random_,
                                                              node.log().Child("mip4-ha")));
  Mip4HaApp* self = app.get();
  MIPSEC_TRY(node.BindUdp({Ipv4Address::Any(), mip4::kMipPort},
                          [self](Timestamp now, const UdpDelivery& d) { self->OnUdp(now, d); }));
  app->wired_ = true;
  node.BindProtocol(kProtoIpip,
                    [self](Timestamp now, const RawDelivery& d) { self->OnTunnel(now, d); });
  node.BindProtocol(ip::kProtoIcmp,
                    [self](Timestamp now, const RawDelivery& d) { self->OnIcmp(now, d); });
  node.JoinMulticast(config.home_ifindex, kAllMobilityAgents);
  app->interceptor_ = std::make_unique<Interceptor>(*app);
  node.AddFilter(app->interceptor_.get());
  app->timer_.Set(app->core_->NextTimeout());
  return app;
}

std::vector<Mip4HaBinding> Mip4HaApp::Bindings(Ipv4Address home) const {
  std::vector<Mip4HaBinding> out;
  for (const mip4::HaTunnel& t : core_->Bindings(home)) out.push_back(Flatten(home, t));
  return out;
}

Mip4HaAppCounters Mip4HaApp::counters() const {
  Mip4HaAppCounters c = counters_;
  const mip4::HaCounters& k = core_->counters();
  c.requests = k.requests;
  c.replies = k.replies;
  c.tunnelled_ipip = k.tunnelled_ipip;
  c.tunnelled_udp = k.tunnelled_udp;
  c.decapsulated_ipip = k.decapsulated_ipip;
  c.decapsulated_udp = k.decapsulated_udp;
  c.bindings_expired = k.bindings_expired;
  c.advertisements = k.advertisements;
  c.drops = 0;
  for (std::uint64_t d : k.drops) c.drops += d;
  return c;
}

void Mip4HaApp::OnUdp(Timestamp now, const UdpDelivery& d) {
  ++counters_.udp_in;
  mip4::UdpReceived rx{d.local, d.remote, d.ifindex, d.payload, d.ttl};
  mip4::HaResult r = core_->OnUdp(now, rx);
  if (r.action == mip4::HaResult::Action::kForward) {
    ++counters_.forwarded;
    if (!node_.SendRaw(std::move(r.forward)).ok()) ++counters_.send_errors;
  }
  Drain(now);
}

void Mip4HaApp::OnTunnel(Timestamp now, const RawDelivery& d) {
  ++counters_.tunnel_in;
  mip4::HaResult r = core_->OnTunnelPacket(now, d.datagram);
  if (r.action == mip4::HaResult::Action::kForward) {
    ++counters_.forwarded;
    if (!node_.SendRaw(std::move(r.forward)).ok()) ++counters_.send_errors;
  }
  Drain(now);
}

void Mip4HaApp::OnIcmp(Timestamp now, const RawDelivery& d) {
  core_->OnIcmp(now, d.ifindex, d.datagram);
  Drain(now);
}

bool Mip4HaApp::Intercept(Bytes& packet) {
  if (draining_ || bound_.empty()) return false;
  Result<ip::Ipv4Packet> pkt = ip::ParseIpv4(packet, {.verify_checksum = false});
  if (!pkt.ok()) return false;
  Ipv4Address dst = pkt->header.dst;
  if (!bound_.contains(dst) || node_.IsLocalAddress(dst)) return false;
  ++counters_.intercepted;
  Timestamp now = node_.sim().now();
  mip4::HaResult r = core_->OnHomePacket(now, packet);
  Drain(now);
  // kNotBound: the mobile node is at home after all; deliver it there.
  return r.action != mip4::HaResult::Action::kNotBound;
}

void Mip4HaApp::Drain(Timestamp now) {
  if (draining_) return;  // a send re-entered the app; the outer loop drains
  draining_ = true;
  while (std::optional<mip4::Transmit> t = core_->PollTransmit()) {
    ++counters_.transmits;
    Status s = SendMip4Transmit(node_, std::move(*t));
    if (!s.ok()) {
      ++counters_.send_errors;
      MIPSEC_LOG(node_.log(), kDebug) << "mip4-ha send failed: " << s.error().ToString();
    }
  }
  while (std::optional<mip4::HaEvent> e = core_->PollEvent()) {
    Mip4HaAppEvent ev;
    ev.at = now;
    ev.kind = static_cast<Mip4HaAppEvent::Kind>(e->kind);
    ev.cause = static_cast<Mip4HaAppEvent::Cause>(e->cause);
    ev.home_address = e->home_address;
    for (const mip4::HaTunnel& t : e->tunnels) ev.bindings.push_back(Flatten(e->home_address, t));
    if (e->kind == mip4::HaEvent::Kind::kBindingRemoved) {
      bound_.erase(e->home_address);
    } else {
      bound_.insert(e->home_address);
    }
    std::string line = "mip4-ha " + std::string(mip4::HaEventKindName(e->kind)) + " " +
                       e->home_address.ToString() + " (" +
                       std::string(mip4::HaEventCauseName(e->cause)) + ")";
    for (const Mip4HaBinding& b : ev.bindings) {
      line += " coa " + b.care_of_address.ToString() + (b.udp_tunnel ? " udp " : " ipip ") +
              b.tunnel_endpoint.ToString() + " lifetime " + std::to_string(b.granted_lifetime) +
              (b.reverse_tunnel ? " T" : "");
    }
    MIPSEC_LOG(node_.log(), kInfo) << line;
    events_.push_back(std::move(ev));
  }
  draining_ = false;
  timer_.Set(core_->NextTimeout());
}

}  // namespace mipsec::sim

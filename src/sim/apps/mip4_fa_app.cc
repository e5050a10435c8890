#include "sim/apps/mip4_fa_app.h"

#include <algorithm>
#include <string>
#include <utility>
#include <variant>

#include "common/ip/ipv4.h"
#include "common/log.h"
#include "mip4/io.h"
#include "sim/apps/mip4_transmit.h"
#include "sim/routing_table.h"

namespace mipsec::sim {
namespace {

constexpr std::uint8_t kProtoIpip = 4;
const Ipv4Address kAllMobilityAgents = Ipv4Address::FromHostOrder(0xe000000bu);  // 224.0.0.11

}  // namespace

class Mip4FaApp::VisitorFilter final : public PacketFilter {
 public:
  explicit VisitorFilter(Mip4FaApp& app) : app_(app) {}
  Verdict Filter(Hook hook, Interface* in, Interface*, Bytes& packet) override {
    if (hook != Hook::kPrerouting) return Verdict::kAccept;
    return app_.Intercept(in, packet) ? Verdict::kDrop : Verdict::kAccept;
  }

 private:
  Mip4FaApp& app_;
};

Mip4FaApp::Mip4FaApp(Node& node)
    : node_(node), timer_(node.sim(), [this](Timestamp now) {
        core_->OnTimeout(now);
        Drain(now);
      }) {}

Mip4FaApp::~Mip4FaApp() {
  if (filter_) node_.RemoveFilter(filter_.get());
  // Events queued for the timer die with the app (a restart mid-run).
  node_.sim().Forget(&timer_);
  if (!wired_) return;  // Create failed before taking the node's port 434
  node_.UnbindUdp({Ipv4Address::Any(), mip4::kMipPort});
  node_.UnbindProtocol(kProtoIpip);
  node_.UnbindProtocol(ip::kProtoIcmp);
}

Result<std::unique_ptr<Mip4FaApp>> Mip4FaApp::Create(Node& node, mip4::ForeignAgentOptions options,
                                                     mip4::SaDatabase& sas) {
  for (const mip4::FaInterface& f : options.interfaces) {
    if (!node.InterfaceByIndex(f.ifindex)) {
      return Error(Errc::kNotFound, "interfaces: ifindex " + std::to_string(f.ifindex) +
                                        " is not an interface of " + node.name());
    }
  }
  std::unique_ptr<Mip4FaApp> app(new Mip4FaApp(node));
  app->random_ =
      std::make_unique<DeterministicRandom>(node.sim().DeriveSeed("mip4-fa/" + node.name()));
  MIPSEC_ASSIGN_OR_RETURN(app->core_, mip4::ForeignAgent::Create(options, sas, *app->random_,
                                                                 node.log().Child("mip4-fa")));
  Mip4FaApp* self = app.get();
  MIPSEC_TRY(node.BindUdp({Ipv4Address::Any(), mip4::kMipPort},
                          [self](Timestamp now, const UdpDelivery& d) { self->OnUdp(now, d); }));
  app->wired_ = true;
  node.BindProtocol(ip::kProtoIcmp,
                    [self](Timestamp now, const RawDelivery& d) { self->OnIcmp(now, d); });
  node.BindProtocol(kProtoIpip,
                    [self](Timestamp now, const RawDelivery& d) { self->OnTunnel(now, d); });
  for (const mip4::FaInterface& f : options.interfaces) {
    node.JoinMulticast(f.ifindex, kAllMobilityAgents);
  }
  app->filter_ = std::make_unique<VisitorFilter>(*app);
  node.AddFilter(app->filter_.get());
  // io.h: NextTimeout() is Zero before the first call; the first OnTimeout
  // starts the advertisement schedules.
  app->timer_.Set(app->core_->NextTimeout());
  return app;
}

bool Mip4FaApp::Served(int ifindex) const {
  const auto& ifs = core_->options().interfaces;
  return std::any_of(ifs.begin(), ifs.end(),
                     [ifindex](const mip4::FaInterface& f) { return f.ifindex == ifindex; });
}

void Mip4FaApp::OnUdp(Timestamp now, const UdpDelivery& d) {
  ++counters_.udp_in;
  core_->OnUdp(now, mip4::UdpReceived{d.local, d.remote, d.ifindex, d.payload, d.ttl});
  Drain(now);
}

void Mip4FaApp::OnIcmp(Timestamp now, const RawDelivery& d) {
  ++counters_.icmp_in;
  core_->OnIcmp(now, d.ifindex, d.datagram);
  Drain(now);
}

void Mip4FaApp::OnTunnel(Timestamp now, const RawDelivery& d) {
  ++counters_.tunnel_in;
  // From a visitor on a served link: the encapsulating delivery style (RFC
  // 3024 5.2); otherwise the HA->FA tunnel (RFC 5944 4.2.2).
  mip4::FaResult r = Served(d.ifindex) ? core_->OnVisitorPacket(now, d.ifindex, d.datagram)
                                       : core_->OnTunnelPacket(now, d.datagram);
  (void)r;  // an IP-in-IP datagram for the FA itself is never routed on
  Drain(now);
}

bool Mip4FaApp::Intercept(Interface* in, Bytes& packet) {
  if (draining_ || in == nullptr || !Served(in->ifindex())) return false;
  Result<ip::Ipv4Packet> pkt = ip::ParseIpv4(packet, {.verify_checksum = false});
  if (!pkt.ok()) return false;
  Ipv4Address dst = pkt->header.dst;
  if (node_.IsLocalAddress(dst) || dst.IsMulticast() || dst.IsLimitedBroadcast()) return false;
  for (const InterfaceAddress& a : in->addresses()) {
    if (a.Subnet().Broadcast() == dst) return false;
  }
  ++counters_.visitor_packets;
  Timestamp now = node_.sim().now();
  mip4::FaResult r = core_->OnVisitorPacket(now, in->ifindex(), packet);
  Drain(now);
  return r.action != mip4::FaResult::Action::kRoute;
}

void Mip4FaApp::Drain(Timestamp now) {
  if (draining_) return;
  draining_ = true;
  while (std::optional<mip4::Transmit> t = core_->PollTransmit()) {
    ++counters_.transmits;
    Status s = SendMip4Transmit(node_, std::move(*t));
    if (!s.ok()) {
      ++counters_.send_errors;
      MIPSEC_LOG(node_.log(), kDebug) << "mip4-fa send failed: " << s.error().ToString();
    }
  }
  while (std::optional<mip4::FaEvent> e = core_->PollEvent()) {
    if (!e->home_address.IsAny()) {
      Ipv4Prefix host = Ipv4Prefix::Host(e->home_address);
      if (e->kind == mip4::FaEvent::Kind::kVisitorRemoved) {
        node_.routes().Remove(host);
      } else {
        node_.routes().Add(Route{host, e->ifindex, std::nullopt, 0});
      }
    }
    MIPSEC_LOG(node_.log(), kInfo)
        << "mip4-fa " << mip4::FaEventKindName(e->kind) << " " << e->home_address.ToString()
        << " coa " << e->care_of_address.ToString() << " ha " << e->home_agent.ToString()
        << " lifetime " << e->lifetime << (e->reverse_tunnel ? " T" : "")
        << (e->udp_tunnel ? " udp" : "");
    events_.emplace_back(now, std::move(*e));
  }
  draining_ = false;
  timer_.Set(core_->NextTimeout());
}

}  // namespace mipsec::sim

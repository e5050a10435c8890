#include "mn/controller.h"

#include <algorithm>
#include <utility>

namespace mipsec::mn {

std::string_view IfStateName(IfState s) {
  switch (s) {
    case IfState::kDown: return "down";
    case IfState::kDetecting: return "detecting";
    case IfState::kInsideC: return "c";
    case IfState::kInsideF: return "f";
    case IfState::kOutside: return "outside";
    case IfState::kHome: return "home";
  }
  return "?";
}

std::string_view DataPlaneName(DataPlane p) {
  switch (p) {
    case DataPlane::kBlocked: return "blocked";
    case DataPlane::kDirectMip: return "mip";
    case DataPlane::kMipInVpn: return "mip-in-vpn";
    case DataPlane::kHomeLink: return "home";
  }
  return "?";
}

std::string_view VpnCommandKindName(VpnCommand::Kind k) {
  switch (k) {
    case VpnCommand::Kind::kConnect: return "connect";
    case VpnCommand::Kind::kUpdateAddresses: return "update-addresses";
    case VpnCommand::Kind::kDisconnect: return "disconnect";
  }
  return "?";
}

Status ControllerConfig::Validate() const {
  if (Status s = mip.Validate(); !s.ok()) return s;
  if (!mip.home_address) {
    return Error(Errc::kInvalidArgument, "mip.home_address: the controller needs a home address");
  }
  if (t_monitor <= Duration::Zero()) {
    return Error(Errc::kInvalidArgument, "t_monitor: must be positive");
  }
  if (monitor_margin < Duration::Zero() || monitor_margin >= t_monitor) {
    return Error(Errc::kInvalidArgument, "monitor_margin: must be >= 0 and below t_monitor");
  }
  if (vpn_retry <= Duration::Zero()) {
    return Error(Errc::kInvalidArgument, "vpn_retry: must be positive");
  }
  if (vpn_retry_max < vpn_retry) {
    return Error(Errc::kInvalidArgument, "vpn_retry_max: must be at least vpn_retry");
  }
  for (const std::string& d : probe_domains) {
    if (d.empty()) return Error(Errc::kInvalidArgument, "probe_domains: empty domain name");
  }
  if (shutdown_wait <= Duration::Zero()) {
    return Error(Errc::kInvalidArgument, "shutdown_wait: must be positive");
  }
  return Ok{};
}

struct MnController::Interface {
  int ifindex = 0;
  std::string name;
  IfState state = IfState::kDown;
  DataPlane plane = DataPlane::kBlocked;
  std::optional<AddressInfo> addr;
  std::unique_ptr<mip4::MobileNodeRegistration> reg;
  // The current detection: when its probe started (Infinite: none).
  Timestamp probe_started = Timestamp::Infinite();
  // The foreign agent heard on this link (R8: noted in parallel, used only
  // once the link is trusted, R7).
  std::optional<mip4::ForeignAgentTarget> fa;
  bool fa_attempt = false;  // registering through the FA
  bool fa_failed = false;   // the FA refused or did not answer on this link
  bool deregistering = false;
  // Re-registering directly after the registration through the tunnel may
  // have overtaken the probe at the HA.
  bool confirm_direct = false;
  Timestamp monitor_rereg = Timestamp::Infinite();
  Timestamp monitor_deadline = Timestamp::Infinite();
  Timestamp changed_at = Timestamp::Zero();
};

namespace {

mip4::MobileNodeConfig DirectConfig(const ControllerConfig& c) {
  mip4::MobileNodeConfig m = c.mip;
  m.reverse_tunnel = true;
  return m;
}

mip4::MobileNodeConfig TunnelConfig(const ControllerConfig& c) {
  mip4::MobileNodeConfig m = c.mip;
  m.reverse_tunnel = true;  // R6: MUST reverse-tunnel in mc
  m.udp_tunnel = c.tunnel_udp;
  return m;
}

int Rank(DataPlane p) {
  switch (p) {
    case DataPlane::kHomeLink: return 0;
    case DataPlane::kDirectMip: return 1;
    case DataPlane::kMipInVpn: return 2;
    case DataPlane::kBlocked: return 3;
  }
  return 3;
}

}  // namespace

Result<std::unique_ptr<MnController>> MnController::Create(const ControllerConfig& config,
                                                            mip4::SecurityAssociation sa,
                                                            mip4::WallClockMapping clock,
                                                            int tunnel_ifindex,
                                                            RandomSource& random, Logger log) {
  if (Status s = config.Validate(); !s.ok()) return s.error();
  std::unique_ptr<MnController> c(
      new MnController(config, std::move(sa), clock, tunnel_ifindex, random, log));
  auto tunnel = mip4::MobileNodeRegistration::Create(TunnelConfig(config), *c->security_, random,
                                                     log.Child("tunnel"));
  if (!tunnel.ok()) return tunnel.error();
  c->tunnel_ = std::move(*tunnel);
  return c;
}

MnController::MnController(const ControllerConfig& config, mip4::SecurityAssociation sa,
                           mip4::WallClockMapping clock, int tunnel_ifindex,
                           RandomSource& random, Logger log)
    : config_(config),
      home_(*config.mip.home_address),
      tunnel_ifindex_(tunnel_ifindex),
      random_(random),
      log_(log),
      security_(std::make_unique<mip4::MnHaSecurity>(std::move(sa), clock)) {}

MnController::~MnController() = default;

MnController::Interface* MnController::Find(int ifindex) {
  auto it = interfaces_.find(ifindex);
  return it == interfaces_.end() ? nullptr : it->second.get();
}
const MnController::Interface* MnController::Find(int ifindex) const {
  auto it = interfaces_.find(ifindex);
  return it == interfaces_.end() ? nullptr : it->second.get();
}

IfState MnController::state(int ifindex) const {
  const Interface* i = Find(ifindex);
  return i ? i->state : IfState::kDown;
}
DataPlane MnController::plane(int ifindex) const {
  const Interface* i = Find(ifindex);
  return i ? i->plane : DataPlane::kBlocked;
}
const mip4::MobileNodeRegistration* MnController::engine(int ifindex) const {
  const Interface* i = Find(ifindex);
  return i ? i->reg.get() : nullptr;
}

std::string_view MnController::mode() const {
  if (!active_) return "";
  const Interface* i = Find(*active_);
  switch (active_plane_) {
    case DataPlane::kHomeLink: return "home";
    case DataPlane::kMipInVpn: return "mc";
    case DataPlane::kDirectMip:
      return i && i->state == IfState::kInsideF ? "f" : "c";
    case DataPlane::kBlocked: return "";
  }
  return "";
}

// ---- Events and commands ----

void MnController::Emit(ControllerEvent e) {
  const Interface* i = Find(e.ifindex);
  std::string where = i ? i->name : (e.ifindex == tunnel_ifindex_ ? "tunnel" : "-");
  // "[R11 R22] " before the text; nothing for a step no requirement names.
  const std::string req = e.requirement.empty() ? "" : "[" + e.requirement + "] ";
  switch (e.kind) {
    case ControllerEvent::Kind::kState:
      MIPSEC_LOG(log_, kInfo) << where << ": " << IfStateName(e.from) << " -> "
                              << IfStateName(e.to) << " " << req << e.text;
      break;
    case ControllerEvent::Kind::kDataPlane:
      MIPSEC_LOG(log_, kInfo) << "user data: " << DataPlaneName(e.plane) << " via " << where
                              << " " << req << e.text;
      break;
    case ControllerEvent::Kind::kAction:
      MIPSEC_LOG(log_, kInfo) << where << ": " << req << e.text;
      break;
    case ControllerEvent::Kind::kRejected:
      MIPSEC_LOG(log_, kNotice) << where << ": " << req << e.text;
      break;
  }
  events_.push_back(std::move(e));
}

void MnController::Note(Timestamp now, ControllerEvent::Kind kind, int ifindex,
                        const std::string& requirement, const std::string& text) {
  ControllerEvent e;
  e.at = now;
  e.kind = kind;
  e.ifindex = ifindex;
  e.requirement = requirement;
  e.text = text;
  Emit(std::move(e));
}

void MnController::Action(Timestamp now, int ifindex, const std::string& requirement,
                          const std::string& text) {
  Note(now, ControllerEvent::Kind::kAction, ifindex, requirement, text);
}

void MnController::Rejected(Timestamp now, int ifindex, const std::string& requirement,
                            const std::string& text) {
  Note(now, ControllerEvent::Kind::kRejected, ifindex, requirement, text);
}

void MnController::Command(VpnCommand c) {
  ++counters_.vpn_commands;
  commands_.push_back(std::move(c));
}

void MnController::SetState(Timestamp now, Interface& ifc, IfState to,
                            const std::string& requirement, const std::string& text) {
  if (ifc.state == to) return;
  ControllerEvent e;
  e.at = now;
  e.kind = ControllerEvent::Kind::kState;
  e.ifindex = ifc.ifindex;
  e.from = ifc.state;
  e.to = to;
  e.requirement = requirement;
  e.text = text;
  ifc.state = to;
  ifc.changed_at = now;
  if (to != IfState::kInsideC && to != IfState::kInsideF) {
    ifc.monitor_rereg = ifc.monitor_deadline = Timestamp::Infinite();
    ifc.confirm_direct = false;
  }
  Emit(std::move(e));
}

// ---- Interfaces ----

void MnController::OnLinkUp(Timestamp now, int ifindex, std::string name) {
  if (shutting_down_) return;  // no new detection while stopping
  Interface* ifc = Find(ifindex);
  if (!ifc) {
    auto made = std::make_unique<Interface>();
    made->ifindex = ifindex;
    made->name = name.empty() ? "if" + std::to_string(ifindex) : std::move(name);
    auto reg = mip4::MobileNodeRegistration::Create(DirectConfig(config_), *security_, random_,
                                                    log_.Child(made->name));
    if (!reg.ok()) {
      // The config validated in Create(); this cannot fail.
      MIPSEC_LOG(log_, kError) << "interface " << made->name << ": " << reg.error().ToString();
      return;
    }
    made->reg = std::move(*reg);
    ifc = made.get();
    interfaces_[ifindex] = std::move(made);
  } else if (!name.empty()) {
    ifc->name = std::move(name);
  }
  ifc->addr.reset();
  ifc->fa.reset();
  ifc->fa_attempt = ifc->fa_failed = ifc->deregistering = false;
  ifc->probe_started = Timestamp::Infinite();
  SetState(now, *ifc, IfState::kDetecting, "R21", "link up: detection starts, user data stopped");
  // R8: agent discovery runs from the start, in parallel with DHCP.
  ifc->reg->StartSolicitation(now, ifindex, Ipv4Address(), /*new_link=*/true);
  Action(now, ifindex, "R8", "agent solicitation started, in parallel with DHCP");
  UpdatePlane(now, "R13 R21", "connectivity change on " + ifc->name);
  Pump(now);
}

void MnController::OnLinkDown(Timestamp now, int ifindex) {
  Interface* ifc = Find(ifindex);
  if (!ifc || ifc->state == IfState::kDown) return;
  if (shutting_down_) {
    // Its deregistration, if any, cannot leave any more.
    ifc->reg->Stop(now, ifindex);
    ifc->addr.reset();
    SetState(now, *ifc, IfState::kDown, "R21", "link down while shutting down");
    Pump(now);
    return;
  }
  bool had_address = ifc->addr.has_value();
  ifc->reg->Stop(now, ifindex);
  ifc->addr.reset();
  ifc->fa.reset();
  ifc->fa_attempt = ifc->deregistering = false;
  ifc->probe_started = Timestamp::Infinite();
  SetState(now, *ifc, IfState::kDown, "R21", "link down");
  UpdatePlane(now, "R21", "link down on " + ifc->name);
  if (had_address) TellVpn(now, "R12");
  MaybeRegisterOutside(now);
  Pump(now);
}

Status MnController::OnAddress(Timestamp now, int ifindex, const AddressInfo& info) {
  if (shutting_down_) return Error(Errc::kState, "the mobile node is shutting down");
  Interface* ifc = Find(ifindex);
  if (!ifc || ifc->state == IfState::kDown) {
    return Error(Errc::kNotFound, "interface " + std::to_string(ifindex) + " is not up");
  }
  if (!info.address.IsUnicast()) {
    return Error(Errc::kInvalidArgument, "address " + info.address.ToString() + " is not unicast");
  }
  if (ifc->addr && ifc->addr->address == info.address && ifc->addr->domain == info.domain) {
    ifc->addr = info;  // a renewal: nothing moved
    return Ok{};
  }
  ifc->addr = info;
  ifc->reg->StartSolicitation(now, ifindex, info.address, /*new_link=*/false);
  StartDetection(now, *ifc, ("address " + info.address.ToString()).c_str());
  Pump(now);
  return Ok{};
}

void MnController::OnAddressLost(Timestamp now, int ifindex) {
  Interface* ifc = Find(ifindex);
  if (!ifc || !ifc->addr) return;
  if (shutting_down_) {
    ifc->addr.reset();
    ifc->reg->Stop(now, ifindex);
    Pump(now);
    return;
  }
  ifc->addr.reset();
  ifc->reg->Cancel();
  ifc->probe_started = Timestamp::Infinite();
  SetState(now, *ifc, IfState::kDetecting, "R21", "address lost");
  UpdatePlane(now, "R21", "address lost on " + ifc->name);
  TellVpn(now, "R12");
  MaybeRegisterOutside(now);
  Pump(now);
}

bool MnController::ProbeAllowed(const Interface& ifc) const {
  if (config_.probe_domains.empty()) return true;
  if (!ifc.addr) return false;
  return std::find(config_.probe_domains.begin(), config_.probe_domains.end(),
                   ifc.addr->domain) != config_.probe_domains.end();
}

void MnController::StartDetection(Timestamp now, Interface& ifc, const char* why) {
  // R21: user data on this interface stops at once; R13: none while
  // detecting.
  ifc.fa_attempt = false;
  ifc.deregistering = false;
  ifc.probe_started = Timestamp::Infinite();
  if (ifc.state == IfState::kDetecting) ifc.changed_at = now;
  SetState(now, ifc, IfState::kDetecting, "R11 R21",
           std::string("connectivity change (") + why + "): detecting inside/outside");
  UpdatePlane(now, "R13 R21", "detection on " + ifc.name);
  if (ifc.addr) {
    if (ProbeAllowed(ifc)) {
      SendProbe(now, ifc);
    } else {
      SetState(now, ifc, IfState::kOutside, "R17",
               "DHCP domain \"" + ifc.addr->domain +
                   "\" matches no probe hint: untrusted, no direct probe sent");
    }
  }
  // R12: the MOBIKE update (or a new VPN, R15 1) leaves in the same step as
  // the probe.
  vpn_backoff_ = Duration::Zero();
  TellVpn(now, "R12 R14 R15");
  if (ifc.state == IfState::kOutside) GoOutsideIfReady(now, ifc, "R17");
  MaybeRegisterOutside(now);
}

void MnController::SendProbe(Timestamp now, Interface& ifc) {
  Status s = ifc.reg->RegisterColocated(now, ifc.addr->address, ifc.ifindex);
  if (!s.ok()) {
    MIPSEC_LOG(log_, kWarning) << ifc.name << ": probe not sent: " << s.error().ToString();
    return;
  }
  ifc.probe_started = now;
  ++counters_.probes;
  Action(now, ifc.ifindex, "R11",
         "direct registration (probe) from " + ifc.addr->address.ToString() + " to the i-HA " +
             config_.mip.home_agent.ToString() + ", no VPN encapsulation");
}

std::optional<Ipv4Address> MnController::VpnPreferred() const {
  const Interface* best = nullptr;
  auto score = [](const Interface& i) {
    switch (i.state) {
      case IfState::kOutside: return 0;
      case IfState::kDetecting: return 1;
      default: return 2;
    }
  };
  for (const auto& [index, ifc] : interfaces_) {
    if (!ifc->addr || ifc->state == IfState::kDown) continue;
    if (!best || score(*ifc) < score(*best) ||
        (score(*ifc) == score(*best) && ifc->changed_at > best->changed_at)) {
      best = ifc.get();
    }
  }
  if (!best) return std::nullopt;
  return best->addr->address;
}

void MnController::TellVpn(Timestamp now, const char* requirement) {
  if (!config_.vpn || shutting_down_) return;
  VpnCommand c;
  for (const auto& [index, ifc] : interfaces_) {
    if (ifc->addr && ifc->state != IfState::kDown) c.addresses.push_back(ifc->addr->address);
  }
  c.preferred = VpnPreferred();
  if (vpn_ && !vpn_connecting_) {
    c.kind = VpnCommand::Kind::kUpdateAddresses;
    Action(now, 0, requirement,
           c.preferred ? "MOBIKE: UPDATE_SA_ADDRESSES towards " + vpn_->gateway.ToString() +
                             " from " + c.preferred->ToString()
                       : std::string("MOBIKE: no usable address left; the IKE SA waits for one"));
    Command(std::move(c));
    return;
  }
  if (!c.preferred) return;
  // R15 1: no VPN (or one still being set up from an old address): a new
  // one from the new address.
  c.kind = VpnCommand::Kind::kConnect;
  vpn_connecting_ = true;
  vpn_retry_at_ = Timestamp::Infinite();
  Action(now, 0, requirement, "VPN set-up (IKE_SA_INIT) from " + c.preferred->ToString());
  Command(std::move(c));
}

// ---- Decisions ----

void MnController::GoInside(Timestamp now, Interface& ifc, const mip4::RegisteredEvent& r) {
  SetState(now, ifc, IfState::kInsideC, "R11 R22 R24",
           "authenticated TNC reply received directly on " + ifc.name + ": inside (mode c, CoA " +
               r.binding.care_of_address.ToString() + ")");
  ArmMonitor(ifc, r.binding.registered_at);
  // The registration through the tunnel, if one left after this probe, may
  // have reached the HA after it: register directly once more so the
  // binding is surely the direct one (R15 3: "Mobile IP only with the new
  // CoA").
  if (tunnel_started_at_ != Timestamp::Infinite() && ifc.probe_started != Timestamp::Infinite() &&
      tunnel_started_at_ >= ifc.probe_started) {
    ifc.confirm_direct = true;
    (void)ifc.reg->RegisterColocated(now, ifc.addr->address, ifc.ifindex);
    Action(now, ifc.ifindex, "R15",
           "re-registering directly: the registration through the tunnel may have reached the "
           "i-HA after the probe");
  }
  tunnel_->Cancel();
  tunnel_registered_ = false;
  tunnel_started_at_ = Timestamp::Infinite();
  if (vpn_ && config_.vpn_when_inside == VpnWhenInside::kTearDown) {
    Action(now, 0, "R14", "inside: VPN torn down (vpn_when_inside = tear-down)");
    VpnCommand c;
    c.kind = VpnCommand::Kind::kDisconnect;
    Command(std::move(c));
    vpn_.reset();
    vpn_connecting_ = false;
    vpn_confirmed_local_.reset();
  } else if (vpn_) {
    Action(now, 0, "R15", "inside: the IKE SA is kept alive, idle");
  }
  UpdatePlane(now, "R2 R10 R11", "inside on " + ifc.name);
  if (ifc.fa && config_.use_foreign_agents && !ifc.fa_failed && !ifc.confirm_direct) {
    TryForeignAgent(now, ifc);
  }
}

void MnController::TryForeignAgent(Timestamp now, Interface& ifc) {
  // R8, R10: only on a link already proven trusted (the callers check).
  ifc.fa_attempt = true;
  if (ifc.reg->RegisterViaFa(now, *ifc.fa, ifc.ifindex).ok()) {
    Action(now, ifc.ifindex, "R8 R10",
           "trusted and an FA is present: registering through the FA " +
               ifc.fa->agent_address.ToString());
  } else {
    ifc.fa_attempt = false;
    ifc.fa_failed = true;
  }
}

void MnController::GoOutsideIfReady(Timestamp now, Interface& ifc, const char* why) {
  if (!ifc.addr) return;
  if (ifc.state == IfState::kDetecting) {
    SetState(now, ifc, IfState::kOutside, why,
             "the VPN gateway answered on " + ifc.addr->address.ToString() +
                 " and no direct TNC reply came (yet): outside");
  }
  if (ifc.state != IfState::kOutside) return;
  if (!vpn_ || !vpn_confirmed_local_ || *vpn_confirmed_local_ != ifc.addr->address) return;
  if (AnyInside()) {
    // R20: another interface is inside; its direct binding stays at the
    // i-HA, and this one carries no user data for now.
    UpdatePlane(now, "R20", "outside on " + ifc.name + ", another interface is inside");
    return;
  }
  if (TunnelBindingCurrent()) {
    Action(now, ifc.ifindex, "R5",
           "only the outer address changed (TIA " + vpn_->tia.ToString() + ", gateway " +
               vpn_->gateway.ToString() + " unchanged): the i-HA binding stays");
  } else if (!(tunnel_->pending() && tunnel_tia_ == vpn_->tia && tunnel_gateway_ == vpn_->gateway)) {
    RegisterThroughTunnel(now, tunnel_tia_ ? "R4" : "R3",
                          tunnel_tia_ ? "the TIA or the gateway changed" : "outside");
  }
  UpdatePlane(now, "R3 R6", "outside on " + ifc.name);
}

bool MnController::AnyInside() const {
  for (const auto& [index, ifc] : interfaces_) {
    if (ifc->state == IfState::kInsideC || ifc->state == IfState::kInsideF ||
        ifc->state == IfState::kHome) {
      return true;
    }
  }
  return false;
}

void MnController::MaybeRegisterOutside(Timestamp now) {
  if (AnyInside() || shutting_down_) return;
  for (auto& [index, ifc] : interfaces_) {
    if (ifc->state == IfState::kOutside) {
      GoOutsideIfReady(now, *ifc, "R3 R20");
      return;
    }
  }
}

bool MnController::TunnelBindingCurrent() const {
  return vpn_ && tunnel_registered_ && tunnel_tia_ == vpn_->tia &&
         tunnel_gateway_ == vpn_->gateway && tunnel_->binding().has_value();
}

void MnController::RegisterThroughTunnel(Timestamp now, const char* requirement,
                                         const std::string& why) {
  if (!vpn_) return;
  tunnel_registered_ = false;
  Status s = tunnel_->RegisterColocated(now, vpn_->tia, tunnel_ifindex_);
  if (!s.ok()) {
    MIPSEC_LOG(log_, kWarning) << "registration through the tunnel not sent: "
                               << s.error().ToString();
    return;
  }
  tunnel_tia_ = vpn_->tia;
  tunnel_gateway_ = vpn_->gateway;
  tunnel_started_at_ = now;
  tunnel_retry_at_ = Timestamp::Infinite();
  ++counters_.tunnel_registrations;
  Action(now, tunnel_ifindex_, requirement,
         "registration through the VPN tunnel, TIA " + vpn_->tia.ToString() +
             " as co-located CoA, reverse tunnelling (" + why + ")");
}

void MnController::ArmMonitor(Interface& ifc, Timestamp registered_at) {
  // R22 (RFC 5265 3.2.4): re-register every T_MONITOR - N; past T_MONITOR
  // without success, no user data and detection again.
  ifc.monitor_rereg = registered_at + (config_.t_monitor - config_.monitor_margin);
  ifc.monitor_deadline = registered_at + config_.t_monitor;
}

void MnController::OnMonitorTimer(Timestamp now, Interface& ifc) {
  if (now >= ifc.monitor_deadline) {
    SetState(now, ifc, IfState::kDetecting, "R22",
             "T_MONITOR passed without a successful re-registration: user data stopped");
    UpdatePlane(now, "R22", "T_MONITOR lapsed on " + ifc.name);
    StartDetection(now, ifc, "T_MONITOR");
    return;
  }
  if (now >= ifc.monitor_rereg) {
    ifc.monitor_rereg = Timestamp::Infinite();
    if (ifc.reg->pending()) return;  // one is already on its way
    if (ifc.reg->Reregister(now).ok()) {
      Action(now, ifc.ifindex, "R22", "T_MONITOR - N: re-registering");
    }
  }
}

void MnController::UpdatePlane(Timestamp now, const char* requirement, const std::string& why) {
  auto tunnel_ok = [&](const Interface& i) {
    return vpn_ && vpn_confirmed_local_ && i.addr && *vpn_confirmed_local_ == i.addr->address &&
           TunnelBindingCurrent();
  };
  std::optional<int> best;
  DataPlane best_plane = DataPlane::kBlocked;
  for (auto& [index, ifc] : interfaces_) {
    DataPlane p = DataPlane::kBlocked;
    // Shutting down: nothing carries user data any more (the kill switch).
    switch (shutting_down_ ? IfState::kDown : ifc->state) {
      case IfState::kHome: p = DataPlane::kHomeLink; break;
      case IfState::kInsideC:
      case IfState::kInsideF:
        if (ifc->confirm_direct) {
          p = tunnel_ok(*ifc) ? DataPlane::kMipInVpn : DataPlane::kBlocked;
        } else {
          p = ifc->reg->binding() ? DataPlane::kDirectMip : DataPlane::kBlocked;
        }
        break;
      case IfState::kOutside:
        p = tunnel_ok(*ifc) ? DataPlane::kMipInVpn : DataPlane::kBlocked;
        break;
      case IfState::kDown:
      case IfState::kDetecting: p = DataPlane::kBlocked; break;
    }
    ifc->plane = p;
    if (p != DataPlane::kBlocked && (!best || Rank(p) < Rank(best_plane))) {
      best = index;
      best_plane = p;
    }
  }
  if (best == active_ && best_plane == active_plane_) return;
  active_ = best;
  active_plane_ = best_plane;
  ControllerEvent e;
  e.at = now;
  e.kind = ControllerEvent::Kind::kDataPlane;
  e.ifindex = best.value_or(0);
  e.plane = best_plane;
  if (best) {
    e.from = e.to = Find(*best)->state;
  }
  e.requirement = requirement;
  e.text = why;
  Emit(std::move(e));
}

// ---- The VPN ----

void MnController::OnVpnUp(Timestamp now, const VpnUp& up) {
  if (shutting_down_) {
    // A set-up that completes now is deleted with the rest.
    vpn_ = up;
    vpn_connecting_ = false;
    vpn_confirmed_local_ = up.local;
    if (shutdown_complete_) {
      Action(now, 0, "", "VPN up after the shutdown: disconnecting it");
      Command(VpnCommand{VpnCommand::Kind::kDisconnect, {}, std::nullopt});
      vpn_.reset();
      vpn_confirmed_local_.reset();
    }
    return;
  }
  bool changed = !vpn_ || vpn_->tia != up.tia || vpn_->gateway != up.gateway;
  vpn_ = up;
  vpn_connecting_ = false;
  vpn_retry_at_ = Timestamp::Infinite();
  vpn_backoff_ = Duration::Zero();
  vpn_confirmed_local_ = up.local;
  Action(now, 0, "R3",
         "VPN up: gateway " + up.gateway.ToString() + ", TIA " + up.tia.ToString() + ", from " +
             up.local.ToString());
  if (changed && tunnel_tia_ && (*tunnel_tia_ != up.tia || *tunnel_gateway_ != up.gateway)) {
    tunnel_registered_ = false;
  }
  bool all_inside = !interfaces_.empty();
  for (auto& [index, ifc] : interfaces_) {
    if (ifc->addr && ifc->addr->address == up.local &&
        (ifc->state == IfState::kDetecting || ifc->state == IfState::kOutside)) {
      GoOutsideIfReady(now, *ifc, "R15");
    }
    if (ifc->state != IfState::kInsideC && ifc->state != IfState::kInsideF &&
        ifc->state != IfState::kHome && ifc->state != IfState::kDown) {
      all_inside = false;
    }
  }
  if (all_inside && config_.vpn_when_inside == VpnWhenInside::kTearDown) {
    Action(now, 0, "R14", "inside: VPN torn down (vpn_when_inside = tear-down)");
    VpnCommand c;
    c.kind = VpnCommand::Kind::kDisconnect;
    Command(std::move(c));
    vpn_.reset();
    vpn_confirmed_local_.reset();
  }
  UpdatePlane(now, "R3", "VPN up");
  Pump(now);
}

void MnController::OnVpnPathConfirmed(Timestamp now, Ipv4Address local) {
  if (!vpn_) return;
  vpn_confirmed_local_ = local;
  vpn_->local = local;
  if (shutting_down_) return;
  Action(now, 0, "R12", "the VPN gateway answered the MOBIKE update on " + local.ToString());
  for (auto& [index, ifc] : interfaces_) {
    if (ifc->addr && ifc->addr->address == local &&
        (ifc->state == IfState::kDetecting || ifc->state == IfState::kOutside)) {
      GoOutsideIfReady(now, *ifc, "R14 R15");
    }
  }
  UpdatePlane(now, "R5", "VPN path confirmed");
  Pump(now);
}

void MnController::OnVpnDown(Timestamp now, std::string reason, bool next_gateway) {
  bool was = vpn_.has_value() || vpn_connecting_;
  vpn_.reset();
  vpn_connecting_ = false;
  vpn_confirmed_local_.reset();
  tunnel_->Cancel();
  tunnel_registered_ = false;
  if (!was) return;
  if (shutting_down_) {
    // The deregistration through the tunnel (if any) cannot leave now.
    tunnel_->Stop(now, tunnel_ifindex_);
    Action(now, 0, "", "VPN down while shutting down: " + reason);
    Pump(now);
    return;
  }
  Action(now, 0, "R15", "VPN down: " + reason);
  UpdatePlane(now, "R24", "VPN down: no encrypted path");
  bool needed = false;
  for (const auto& [index, ifc] : interfaces_) {
    if (ifc->state == IfState::kOutside || ifc->state == IfState::kDetecting) needed = true;
    if (config_.vpn_when_inside == VpnWhenInside::kKeep && ifc->addr &&
        ifc->state != IfState::kDown) {
      needed = true;
    }
  }
  if (config_.vpn && needed && next_gateway) {
    // R4: another gateway is worth a try at once (the runtime has switched).
    vpn_retry_at_ = now;
  } else if (config_.vpn && needed) {
    // Back off while the gateway stays unreachable (e.g. from inside): a
    // move resets it (StartDetection connects at once).
    vpn_backoff_ = vpn_backoff_ == Duration::Zero()
                       ? config_.vpn_retry
                       : std::min(vpn_backoff_ + vpn_backoff_, config_.vpn_retry_max);
    vpn_retry_at_ = now + vpn_backoff_;
  }
  Pump(now);
}

// ---- Mobile IPv4 traffic ----

Status MnController::OnUdp(Timestamp now, const mip4::UdpReceived& rx) {
  Status s = Ok{};
  if (rx.ifindex == tunnel_ifindex_) {
    s = tunnel_->OnUdp(now, rx);
  } else if (Interface* ifc = Find(rx.ifindex); ifc && ifc->state != IfState::kDown) {
    s = ifc->reg->OnUdp(now, rx);
  } else {
    return Error(Errc::kNotFound, "UDP 434 on unknown interface " + std::to_string(rx.ifindex));
  }
  Pump(now);
  return s;
}

Status MnController::OnIpPacket(Timestamp now, int ifindex, ByteSpan packet) {
  Status s = Ok{};
  if (ifindex == tunnel_ifindex_) {
    s = tunnel_->OnIpPacket(now, ifindex, packet);
  } else if (Interface* ifc = Find(ifindex); ifc && ifc->state != IfState::kDown) {
    s = ifc->reg->OnIpPacket(now, ifindex, packet);
  } else {
    return Error(Errc::kNotFound, "packet on unknown interface " + std::to_string(ifindex));
  }
  Pump(now);
  return s;
}

// ---- Engine events ----

void MnController::HandleEngineEvent(Timestamp now, Interface* ifc, const mip4::MnEvent& ev) {
  if (shutting_down_) {
    HandleShutdownEvent(now, ifc ? ifc->ifindex : tunnel_ifindex_, ev);
    return;
  }
  if (!ifc) {
    HandleTunnelEvent(now, ev);
    return;
  }
  Interface& i = *ifc;
  if (const auto* r = std::get_if<mip4::RegisteredEvent>(&ev)) {
    const mip4::MnBinding& b = r->binding;
    bool direct = b.co_located() && b.ifindex == i.ifindex;
    if (b.tnc && direct) {
      if (i.state == IfState::kDetecting || i.state == IfState::kOutside) {
        GoInside(now, i, *r);
      } else if (i.state == IfState::kInsideC || i.state == IfState::kInsideF) {
        ArmMonitor(i, b.registered_at);
        if (i.state == IfState::kInsideF) {
          SetState(now, i, IfState::kInsideC, "R8", "registered co-located again");
        }
        if (i.confirm_direct) {
          i.confirm_direct = false;
          Action(now, i.ifindex, "R15", "the direct binding is confirmed");
        }
        UpdatePlane(now, "R2", "registered on " + i.name);
        if (i.fa && config_.use_foreign_agents && !i.fa_failed && !i.fa_attempt &&
            i.state == IfState::kInsideC) {
          TryForeignAgent(now, i);
        }
      }
      return;
    }
    if (b.tnc && !b.co_located() && i.fa_attempt &&
        (i.state == IfState::kInsideC || i.state == IfState::kInsideF)) {
      // The link was proven trusted directly first (R8); the FA's relay of
      // the HA's authenticated TNC reply keeps T_MONITOR running.
      i.fa_attempt = false;
      ArmMonitor(i, b.registered_at);
      SetState(now, i, IfState::kInsideF, "R8 R10",
               "registered through the FA " + b.care_of_address.ToString() + " (mode f)");
      UpdatePlane(now, "R10", "mode f on " + i.name);
      return;
    }
    if (b.tnc && !b.co_located() && i.state == IfState::kInsideF) {
      ArmMonitor(i, b.registered_at);  // a renewal through the FA
      return;
    }
    // Accepted without a TNC that can count: never proof (R24).
    ++counters_.tnc_ignored;
    Rejected(now, i.ifindex, "R24",
             "registration accepted without a usable TNC: not proof of being inside");
    if (i.state == IfState::kInsideC || i.state == IfState::kInsideF) {
      StartDetection(now, i, "reply without TNC");
    } else if (vpn_) {
      // The HA's binding now points outside the tunnel: put it back.
      tunnel_registered_ = false;
      GoOutsideIfReady(now, i, "R3");
    }
    return;
  }
  if (const auto* d = std::get_if<mip4::DeniedEvent>(&ev)) {
    if (i.fa_attempt) {
      i.fa_attempt = false;
      i.fa_failed = true;
      Action(now, i.ifindex, "R8",
             "registration through the FA denied (code " + std::to_string(d->code) +
                 "): back to the co-located care-of address");
      if (i.addr) (void)i.reg->RegisterColocated(now, i.addr->address, i.ifindex);
      return;
    }
    Rejected(now, i.ifindex, d->tnc ? "R22" : "R19",
             "registration denied, code " + std::to_string(d->code) +
             (d->tnc ? " (authenticated TNC: the network is trusted, but no binding)" : ""));
    return;
  }
  if (const auto* t = std::get_if<mip4::RegistrationTimeoutEvent>(&ev)) {
    if (i.fa_attempt) {
      i.fa_attempt = false;
      i.fa_failed = true;
      Action(now, i.ifindex, "R8", "the FA did not answer: back to the co-located care-of address");
      if (i.addr) (void)i.reg->RegisterColocated(now, i.addr->address, i.ifindex);
      return;
    }
    if (i.deregistering) {
      i.deregistering = false;
      Action(now, i.ifindex, "R18", "no answer to the deregistration: not proven to be at home");
      return;
    }
    if (i.state == IfState::kDetecting && t->kind == mip4::AttemptKind::kRegister) {
      SetState(now, i, IfState::kOutside, "R11",
               "no direct reply after " + std::to_string(t->transmissions) +
                   " transmissions: untrusted");
      GoOutsideIfReady(now, i, "R14 R15");
    }
    return;
  }
  if (const auto* dr = std::get_if<mip4::DeregisteredEvent>(&ev)) {
    if (!i.deregistering) return;
    i.deregistering = false;
    if (dr->tnc) {
      SetState(now, i, IfState::kHome, "R18 R24",
               "deregistered at home with an authenticated TNC reply: on the home link");
      tunnel_->Cancel();
      tunnel_registered_ = false;
      tunnel_started_at_ = Timestamp::Infinite();
      if (vpn_ && config_.vpn_when_inside == VpnWhenInside::kTearDown) {
        VpnCommand c;
        c.kind = VpnCommand::Kind::kDisconnect;
        Command(std::move(c));
        vpn_.reset();
        vpn_confirmed_local_.reset();
      }
      UpdatePlane(now, "R18", "home link");
    } else {
      ++counters_.tnc_ignored;
      Rejected(now, i.ifindex, "R24",
               "deregistration accepted without TNC: the home link is not trusted");
    }
    return;
  }
  if (std::holds_alternative<mip4::BindingExpiredEvent>(ev)) {
    if (i.state == IfState::kInsideC || i.state == IfState::kInsideF) {
      StartDetection(now, i, "binding expired");
    }
    return;
  }
  if (const auto* a = std::get_if<mip4::AgentAdvertisedEvent>(&ev)) {
    const mip4::AgentInfo& agent = a->agent;
    if (agent.is_our_home_agent) {
      if (i.state == IfState::kHome || i.deregistering) return;
      if (!config_.probe_domains.empty() && !ProbeAllowed(i)) return;  // R17
      // An advertisement is not authenticated: only the HA's TNC reply to
      // our deregistration proves the home link (R24).
      if (i.reg->Deregister(now, i.ifindex).ok()) {
        i.deregistering = true;
        if (i.state != IfState::kDetecting) {
          SetState(now, i, IfState::kDetecting, "R18",
                   "our home agent advertises here: deregistering");
          UpdatePlane(now, "R13", "detecting on " + i.name);
        }
        Action(now, i.ifindex, "R18",
               "our home agent " + agent.address.ToString() +
                   " advertises on this link: deregistration from the home address");
      }
      return;
    }
    if (agent.is_foreign_agent()) {
      auto target = mip4::ForeignAgentTarget::From(agent);
      if (!target.ok()) return;
      bool is_new = !i.fa || i.fa->agent_address != target->agent_address;
      i.fa = *target;
      if (!is_new) return;
      if (i.state == IfState::kInsideC && config_.use_foreign_agents && !i.fa_failed &&
          !i.fa_attempt && !i.confirm_direct) {
        TryForeignAgent(now, i);
      } else if (i.state != IfState::kInsideC && i.state != IfState::kInsideF) {
        Action(now, i.ifindex, "R7 R8",
               "foreign agent " + target->agent_address.ToString() +
                   " heard; not used before the link is proven trusted");
      }
    }
    return;
  }
  if (const auto* lost = std::get_if<mip4::AgentLostEvent>(&ev)) {
    if (i.fa && i.fa->agent_address == lost->address) {
      i.fa.reset();
      if (i.state == IfState::kInsideF && i.addr) {
        Action(now, i.ifindex, "R8", "lost the FA: back to the co-located care-of address");
        (void)i.reg->RegisterColocated(now, i.addr->address, i.ifindex);
      }
    }
    return;
  }
  if (const auto* rb = std::get_if<mip4::AgentRebootedEvent>(&ev)) {
    if (i.state == IfState::kInsideF && i.fa && i.fa->agent_address == rb->address) {
      (void)i.reg->Reregister(now);
    }
    return;
  }
}

void MnController::HandleTunnelEvent(Timestamp now, const mip4::MnEvent& ev) {
  if (const auto* r = std::get_if<mip4::RegisteredEvent>(&ev)) {
    if (r->binding.tnc) {
      // R22: a reply that came back through the VPN tunnel never counts.
      ++counters_.tnc_ignored;
      Rejected(now, tunnel_ifindex_, "R22",
               "TNC in a reply through the tunnel: ignored, it proves nothing");
    }
    bool outside = false;
    for (const auto& [index, ifc] : interfaces_) {
      if (ifc->state == IfState::kOutside) outside = true;
    }
    if (!outside) {
      // Went inside meanwhile: this binding is not wanted; the direct
      // registration replaces it.
      return;
    }
    tunnel_registered_ = true;
    Action(now, tunnel_ifindex_, r->renewal ? "R3" : "R3 R6",
           std::string(r->renewal ? "re-registered" : "registered") +
               " through the tunnel: CoA " + r->binding.care_of_address.ToString() + ", " +
               std::string(mip4::TunnelEncapsulationName(r->binding.encapsulation)) +
               (r->binding.reverse_tunnel ? ", reverse tunnelled" : ""));
    UpdatePlane(now, "R3 R6", "registered through the VPN tunnel (mode mc)");
    return;
  }
  if (const auto* d = std::get_if<mip4::DeniedEvent>(&ev)) {
    Action(now, tunnel_ifindex_, "R3",
           "registration through the tunnel denied, code " + std::to_string(d->code));
    tunnel_registered_ = false;
    tunnel_retry_at_ = now + config_.vpn_retry;
    UpdatePlane(now, "R3", "no binding through the tunnel");
    return;
  }
  if (std::holds_alternative<mip4::RegistrationTimeoutEvent>(ev) ||
      std::holds_alternative<mip4::BindingExpiredEvent>(ev)) {
    Action(now, tunnel_ifindex_, "R3", "no answer through the tunnel");
    tunnel_registered_ = false;
    tunnel_retry_at_ = now + config_.vpn_retry;
    UpdatePlane(now, "R3", "no binding through the tunnel");
    return;
  }
}

// ---- Pumping the engines ----

void MnController::PumpEngine(Timestamp now, Interface* ifc, mip4::MobileNodeRegistration& engine) {
  while (std::optional<mip4::Transmit> t = engine.PollTransmit()) transmits_.push_back(std::move(*t));
  while (std::optional<Bytes> d = engine.PollDelivery()) {
    bool allowed = ifc ? (ifc->plane == DataPlane::kDirectMip && active_ == ifc->ifindex)
                       : (active_plane_ == DataPlane::kMipInVpn);
    if (allowed) {
      ++counters_.delivered;
      deliveries_.push_back(std::move(*d));
    } else {
      ++counters_.delivery_blocked;
    }
  }
  while (std::optional<mip4::MnEvent> e = engine.PollEvent()) HandleEngineEvent(now, ifc, *e);
}

void MnController::Pump(Timestamp now) {
  if (pumping_) return;
  pumping_ = true;
  // Handling an event may give an engine more to do; loop until quiet.
  for (int round = 0; round < 64; ++round) {
    std::size_t before = transmits_.size() + events_.size() + deliveries_.size() +
                         commands_.size();
    for (auto& [index, ifc] : interfaces_) PumpEngine(now, ifc.get(), *ifc->reg);
    PumpEngine(now, nullptr, *tunnel_);
    std::size_t after = transmits_.size() + events_.size() + deliveries_.size() +
                        commands_.size();
    if (after == before) break;
  }
  pumping_ = false;
  if (shutting_down_ && !shutdown_complete_) MaybeFinishShutdown(now);
}

// ---- User data ----

Result<SendVerdict> MnController::SendPacket(Timestamp now, ByteSpan datagram) {
  if (datagram.size() < 20 || (datagram[0] >> 4) != 4) {
    return Error(Errc::kInvalidArgument, "not an IPv4 datagram");
  }
  Ipv4Address src = Ipv4Address::FromBytes(datagram.subspan<12, 4>());
  if (src != home_) {
    return Error(Errc::kInvalidArgument,
                 "source " + src.ToString() + " is not the home address " + home_.ToString());
  }
  Status s = Ok{};
  SendVerdict v = SendVerdict::kTunnelled;
  switch (active_plane_) {
    case DataPlane::kHomeLink:
      ++counters_.passed;
      return SendVerdict::kPass;
    case DataPlane::kDirectMip: s = Find(*active_)->reg->SendPacket(now, datagram); break;
    case DataPlane::kMipInVpn: s = tunnel_->SendPacket(now, datagram); break;
    case DataPlane::kBlocked: s = Error(Errc::kState, "blocked"); break;
  }
  if (s.ok()) {
    ++counters_.sent;
  } else {
    ++counters_.blocked;
    v = SendVerdict::kBlocked;
  }
  Pump(now);
  return v;
}

// ---- Time ----

void MnController::OnTimeout(Timestamp now) {
  for (auto& [index, ifc] : interfaces_) {
    if (ifc->reg->NextTimeout() <= now) ifc->reg->OnTimeout(now);
  }
  if (tunnel_->NextTimeout() <= now) tunnel_->OnTimeout(now);
  Pump(now);
  for (auto& [index, ifc] : interfaces_) {
    if (ifc->monitor_deadline <= now || ifc->monitor_rereg <= now) OnMonitorTimer(now, *ifc);
  }
  if (vpn_retry_at_ <= now) {
    vpn_retry_at_ = Timestamp::Infinite();
    if (!vpn_ && !vpn_connecting_) TellVpn(now, "R15");
  }
  if (shutting_down_) {
    MaybeFinishShutdown(now);
    Pump(now);
    return;
  }
  if (tunnel_retry_at_ <= now) {
    tunnel_retry_at_ = Timestamp::Infinite();
    for (auto& [index, ifc] : interfaces_) {
      if (ifc->state == IfState::kOutside) {
        GoOutsideIfReady(now, *ifc, "R3");
        break;
      }
    }
  }
  Pump(now);
}

Timestamp MnController::NextTimeout() const {
  Timestamp t = std::min(
      {tunnel_->NextTimeout(), vpn_retry_at_, tunnel_retry_at_, shutdown_deadline_});
  for (const auto& [index, ifc] : interfaces_) {
    t = std::min({t, ifc->reg->NextTimeout(), ifc->monitor_rereg, ifc->monitor_deadline});
  }
  return t;
}

// ---- Reconfiguration ----

Status MnController::ApplyLiveSettings(const LiveSettings& s) {
  ControllerConfig next = config_;
  next.use_foreign_agents = s.use_foreign_agents;
  next.t_monitor = s.t_monitor;
  next.monitor_margin = s.monitor_margin;
  next.probe_domains = s.probe_domains;
  MIPSEC_TRY(next.Validate());
  config_ = std::move(next);
  return Ok{};
}

void MnController::set_log_level(LogLevel level) {
  log_.set_min_level(level);
  tunnel_->set_log_level(level);
  for (auto& [index, ifc] : interfaces_) ifc->reg->set_log_level(level);
}

// ---- Clean stop ----

void MnController::Shutdown(Timestamp now) {
  if (shutting_down_) return;
  shutting_down_ = true;
  shutdown_deadline_ = now + config_.shutdown_wait;
  vpn_retry_at_ = tunnel_retry_at_ = Timestamp::Infinite();
  Action(now, 0, "R24", "shutdown: user data blocked at once; deregistering from the i-HA");
  // Inside or at home, the i-HA's one binding is a direct one (R20).
  const bool direct_binding = AnyInside();
  // The kill switch: nothing carries user data from here on.
  UpdatePlane(now, "R24", "shutting down");
  for (auto& [index, ifc] : interfaces_) {
    Interface& i = *ifc;
    i.monitor_rereg = i.monitor_deadline = Timestamp::Infinite();
    i.fa_attempt = i.deregistering = i.confirm_direct = false;
    i.reg->StopSolicitation();
    const std::optional<mip4::MnBinding>& b = i.reg->binding();
    if (!b) {
      i.reg->Cancel();  // a probe or registration under way stops here
      continue;
    }
    const std::string coa = b->care_of_address.ToString();
    // A c binding leaves from its care-of address, which must still be on
    // the interface; an f binding through the FA on this link.
    const bool path = i.state != IfState::kDown &&
                      (!b->co_located() || (i.addr && i.addr->address == b->care_of_address));
    // RFC 5944 3.6.1.2: Lifetime 0 and the care-of address of the binding
    // to delete.
    if (path && i.reg->DeregisterBinding(now).ok()) {
      Action(now, i.ifindex, "RFC 5944 3.6.1.2",
             "deregistering care-of " + coa +
                 (b->co_located() ? " directly with the i-HA"
                                  : " through the FA " +
                                        b->foreign_agent->agent_address.ToString()) +
                 " (Lifetime 0)");
    } else {
      i.reg->Cancel();
      Action(now, i.ifindex, "",
             "binding with care-of " + coa +
                 " not deregistered: its path is gone; it expires at the i-HA");
    }
  }
  const std::optional<mip4::MnBinding>& tb = tunnel_->binding();
  if (tb && !tunnel_registered_ && direct_binding) {
    // A direct registration (or the deregistration at home) replaced it at
    // the i-HA: the engine's record is all that is left of it.
    Action(now, tunnel_ifindex_, "",
           "binding with care-of " + tb->care_of_address.ToString() +
               " was replaced by a direct registration: nothing to deregister");
    tunnel_->Cancel();
  } else if (tb && vpn_ && vpn_confirmed_local_ && tb->care_of_address == vpn_->tia &&
             tunnel_->DeregisterBinding(now).ok()) {
    // mc: from the TIA, through the VPN tunnel, before it is torn down.
    Action(now, tunnel_ifindex_, "RFC 5944 3.6.1.2",
           "deregistering care-of " + tb->care_of_address.ToString() +
               " (the TIA) through the VPN tunnel (Lifetime 0)");
  } else {
    if (tb) {
      Action(now, tunnel_ifindex_, "",
             "binding with care-of " + tb->care_of_address.ToString() +
                 " not deregistered: the VPN path is gone; it expires at the i-HA");
    }
    tunnel_->Cancel();
  }
  tunnel_registered_ = false;
  Pump(now);  // sends them; finishes at once when there was nothing to do
}

void MnController::HandleShutdownEvent(Timestamp now, int ifindex, const mip4::MnEvent& ev) {
  if (const auto* d = std::get_if<mip4::DeregisteredEvent>(&ev)) {
    Action(now, ifindex, "RFC 5944 3.6.1.2",
           "the i-HA accepted the deregistration of care-of " + d->care_of_address.ToString());
  } else if (const auto* n = std::get_if<mip4::DeniedEvent>(&ev);
             n && n->kind == mip4::AttemptKind::kDeregister) {
    Action(now, ifindex, "RFC 5944 3.6.1.2",
           "deregistration of care-of " + n->care_of_address.ToString() + " denied, code " +
               std::to_string(n->code));
  } else if (const auto* t = std::get_if<mip4::RegistrationTimeoutEvent>(&ev);
             t && t->kind == mip4::AttemptKind::kDeregister) {
    Action(now, ifindex, "RFC 5944 3.6.1.2",
           "no answer to the deregistration of care-of " + t->care_of_address.ToString() +
               " after " + std::to_string(t->transmissions) + " transmissions");
  }
  // Anything else (advertisements, renewals, expiries) decides nothing now.
}

void MnController::MaybeFinishShutdown(Timestamp now) {
  if (!shutting_down_ || shutdown_complete_) return;
  bool pending = tunnel_->pending_kind() == mip4::AttemptKind::kDeregister;
  for (const auto& [index, ifc] : interfaces_) {
    pending = pending || ifc->reg->pending_kind() == mip4::AttemptKind::kDeregister;
  }
  if (pending && now < shutdown_deadline_) return;
  if (pending) {
    Action(now, 0, "", "deregistration unanswered after " + config_.shutdown_wait.ToString() +
                           ": stopping anyway; the i-HA binding expires with its lifetime");
  }
  shutdown_complete_ = true;
  shutdown_deadline_ = Timestamp::Infinite();
  for (auto& [index, ifc] : interfaces_) {
    ifc->reg->Stop(now, index);
    ifc->addr.reset();
    SetState(now, *ifc, IfState::kDown, "", "stopped: the mobile node shut down");
  }
  tunnel_->Stop(now, tunnel_ifindex_);
  if (vpn_ || vpn_connecting_) {
    // After the deregistration through the tunnel, never before.
    Action(now, 0, "", "VPN disconnect: the IKE SA is deleted");
    Command(VpnCommand{VpnCommand::Kind::kDisconnect, {}, std::nullopt});
    vpn_.reset();
    vpn_connecting_ = false;
    vpn_confirmed_local_.reset();
  }
  Action(now, 0, "", "shutdown complete");
  Pump(now);
}

// ---- Outputs ----

std::optional<mip4::Transmit> MnController::PollTransmit() {
  if (transmits_.empty()) return std::nullopt;
  mip4::Transmit t = std::move(transmits_.front());
  transmits_.pop_front();
  return t;
}
std::optional<VpnCommand> MnController::PollVpnCommand() {
  if (commands_.empty()) return std::nullopt;
  VpnCommand c = std::move(commands_.front());
  commands_.pop_front();
  return c;
}
std::optional<Bytes> MnController::PollDelivery() {
  if (deliveries_.empty()) return std::nullopt;
  Bytes b = std::move(deliveries_.front());
  deliveries_.pop_front();
  return b;
}
std::optional<ControllerEvent> MnController::PollEvent() {
  if (events_.empty()) return std::nullopt;
  ControllerEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace mipsec::mn

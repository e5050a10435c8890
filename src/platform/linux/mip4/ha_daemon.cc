#include "platform/linux/mip4/ha_daemon.h"

#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <utility>
#include <variant>

#include "common/ip/ipv4.h"
#include "config/config_reload.h"
#include "platform/linux/mip4/sa_config.h"
#include "platform/linux/reload_report.h"
#include "platform/linux/sys_error.h"
#include "platform/linux/sysctl.h"

namespace mipsec::mip4d {
namespace {

constexpr std::size_t kTunMtu = 1500;
constexpr std::size_t kTunBufferSize = 65535;


// CLOCK_REALTIME minus CLOCK_MONOTONIC, sampled now, as a mapping of the
// loop's monotonic `now` to the time of day (RFC 5944 5.7 timestamps).
mip4::WallClockMapping SampleWallClock(Timestamp monotonic_now) {
  return mip4::WallClockMapping{monotonic_now, platform::RealtimeNanos()};
}

platform::Route HostRoute(Ipv4Address home, int tun_ifindex) {
  platform::Route r;
  r.destination = Ipv4Prefix::Host(home);
  r.oif = tun_ifindex;
  return r;
}

}  // namespace

HaDaemon::HaDaemon(const config::HaConfig& config, const HaDaemonOptions& options, LogSink* sink)
    : config_(config),
      options_(options),
      log_(sink, "ha", options.log_level.value_or(config.log_level)),
      rx_(options.receive_batch == 0 ? 1 : options.receive_batch, kTunBufferSize),
      tun_buffer_(kTunBufferSize),
      adv_interval_(options.advertisement_interval.value_or(config.advertisement_interval)) {}

Result<std::unique_ptr<HaDaemon>> HaDaemon::Create(const config::HaConfig& config,
                                                   const HaDaemonOptions& options,
                                                   LogSink* sink) {
  std::unique_ptr<HaDaemon> d(new HaDaemon(config, options, sink));
  Status st = d->Init();
  if (!st.ok()) return st.error();  // the destructor undoes what Init did
  return d;
}

Status HaDaemon::Init() {
  // The core's options first: nothing is opened for a config it refuses.
  MIPSEC_TRY(mip4::HomeAgent::ValidateOptions(HomeAgentOptionsFromConfig(config_, {})));

  MIPSEC_ASSIGN_OR_RETURN(loop_, platform::EpollEventLoop::Create());
  arp_ = std::make_unique<platform::GratuitousArp>(*loop_);
  // Signals first (blocked from here on and read from a signalfd), so that a
  // SIGTERM during start-up still goes through the clean shutdown.
  MIPSEC_TRY(loop_->HandleSignal(SIGINT, [this](int) {
    MIPSEC_LOG(log_, kInfo) << "SIGINT: shutting down";
    loop_->Stop();
  }));
  MIPSEC_TRY(loop_->HandleSignal(SIGTERM, [this](int) {
    MIPSEC_LOG(log_, kInfo) << "SIGTERM: shutting down";
    loop_->Stop();
  }));
  MIPSEC_TRY(loop_->HandleSignal(SIGUSR1, [this](int) {
    MIPSEC_LOG(log_, kNotice) << "counters: " << CountersLine();
  }));
  MIPSEC_TRY(loop_->HandleSignal(SIGHUP, [this](int) { (void)Reload(); }));
  MIPSEC_ASSIGN_OR_RETURN(netlink_, platform::LinuxNetlink::Open());
  auto home = netlink_->GetLinkByName(config_.interface);
  if (!home.ok()) {
    return Error(home.error().code(),
                 "home interface " + config_.interface + ": " + home.error().detail());
  }
  home_ifindex_ = home->ifindex;
  // Once the config is known to be usable, before anything on the host
  // changes: a second daemon with the same socket stops here. (The
  // handlers run only once the loop runs.)
  started_ = loop_->Now();
  MIPSEC_TRY(OpenControlSocket());

  AgentSocketOptions so;
  so.port = config_.port;
  so.udp_buffer_bytes = options_.udp_buffer_bytes;
  so.open_ipip = true;
  // Always: Fragmentation Needed from inside the tunnels (RFC 2003 5.1),
  // and solicitations when advertising.
  so.open_icmp = true;
  so.icmp_destination_unreachable = true;
  MIPSEC_ASSIGN_OR_RETURN(sockets_, OpenAgentSockets(so));
  if (adv_interval_ > Duration::Zero()) {
    // RFC 5944 2.4 / RFC 1256: solicitations go to 224.0.0.2 (all routers)
    // or 224.0.0.11 (all mobility agents, 3.6.1.1 style).
    MIPSEC_TRY(sockets_.icmp->JoinMulticast(Ipv4Address::FromOctets(224, 0, 0, 2), home_ifindex_));
    MIPSEC_TRY(sockets_.icmp->JoinMulticast(Ipv4Address::AllMobilityAgents(), home_ifindex_));
  }

  auto tun = platform::LinuxTunDevice::Create(options_.tun_name);
  if (!tun.ok()) return Error(tun.error().code(), "tun device: " + tun.error().detail());
  tun_ = std::move(tun).value();
  MIPSEC_TRY(netlink_->SetMtu(tun_->ifindex(), kTunMtu));
  MIPSEC_TRY(netlink_->SetLinkUp(tun_->ifindex(), true));

  // Decapsulated datagrams come out of the TUN with a home address as
  // source: no reverse-path filtering there.
  MIPSEC_TRY(platform::WriteSysctl("/proc/sys/net/ipv4/conf/" + tun_->name() + "/rp_filter", "0"));
  // RFC 5944 4.6: the HA answers ARP for away mobile nodes on the home link
  // (proxy ARP for every address routed via the TUN).
  MIPSEC_TRY(
      sysctls_.Set("/proc/sys/net/ipv4/conf/" + config_.interface + "/proxy_arp", "1"));
  // Answer at once rather than after a random delay of up to 0.8 s (the
  // default proxy_delay): interception starts with the binding.
  MIPSEC_TRY(
      sysctls_.Set("/proc/sys/net/ipv4/neigh/" + config_.interface + "/proxy_delay", "0"));
  auto forwarding = platform::ReadSysctl("/proc/sys/net/ipv4/ip_forward");
  if (!forwarding.ok() || *forwarding != "1") {
    MIPSEC_LOG(log_, kWarning)
        << "net.ipv4.ip_forward is not 1: decapsulated traffic from mobile nodes and traffic "
           "for them from other networks will not be forwarded (sysctl -w "
           "net.ipv4.ip_forward=1)";
  }
  auto all_rp = platform::ReadSysctl("/proc/sys/net/ipv4/conf/all/rp_filter");
  if (all_rp.ok() && *all_rp != "0") {
    MIPSEC_LOG(log_, kInfo) << "net.ipv4.conf.all.rp_filter=" << *all_rp
                            << ": reverse-tunnelled datagrams still pass (the /32 route to "
                               "each bound home address points at "
                            << tun_->name() << ")";
  }

  MIPSEC_TRY(AddHaMobileNodeSas(config_, *sas_));
  const Timestamp now = loop_->Now();
  MIPSEC_ASSIGN_OR_RETURN(core_, mip4::HomeAgent::Create(CoreOptions(config_, SampleWallClock(now)),
                                                         *sas_, random_, log_.Child("core")));
  MIPSEC_TRY(AddHaPeerSas(config_, *core_));

  // File descriptors and timers.
  auto reg = [this](int fd, std::function<void()> f) -> Status {
    MIPSEC_TRY(loop_->RegisterFd(fd, platform::kReadable, [f](std::uint32_t) { f(); }));
    registered_fds_.push_back(fd);
    return Ok{};
  };
  MIPSEC_TRY(reg(sockets_.udp->fd(), [this] { OnUdpReadable(); }));
  MIPSEC_TRY(reg(sockets_.ipip->fd(), [this] { OnTunnelReadable(); }));
  MIPSEC_TRY(reg(tun_->fd(), [this] { OnTunReadable(); }));
  if (sockets_.icmp) MIPSEC_TRY(reg(sockets_.icmp->fd(), [this] { OnIcmpReadable(); }));
  timer_ = loop_->CreateTimer([this](Timestamp t) {
    core_->OnTimeout(t);
    Drain(t);
  });
  loop_->SetDeadline(timer_, core_->NextTimeout());

  if (config_.trusted_subnets.empty()) {
    MIPSEC_LOG(log_, kWarning)
        << "NO trusted_subnets configured: as RFC 5265 4.3 requires of an i-HA, every "
           "Registration Request will be dropped silently. Set [home_agent] trusted_subnets "
           "to the internal networks mobile nodes register from.";
  }
  std::string trusted;
  for (const Ipv4Prefix& p : config_.trusted_subnets) trusted += " " + p.ToString();
  MIPSEC_LOG(log_, kInfo) << "home agent " << config_.address.ToString() << " for "
                          << config_.home_network.ToString() << " on " << config_.interface
                          << ", udp port " << sockets_.udp->local().port << ", tun "
                          << tun_->name() << ", " << config_.mobile_nodes.size()
                          << " mobile nodes, " << config_.fa_peers.size()
                          << " FA peers, trusted:" << (trusted.empty() ? " none" : trusted);
  return Ok{};
}

mip4::HomeAgentOptions HaDaemon::CoreOptions(const config::HaConfig& config,
                                             const mip4::WallClockMapping& wall_clock) const {
  mip4::HomeAgentOptions o = HomeAgentOptionsFromConfig(config, wall_clock);
  const Duration interval = options_.advertisement_interval.value_or(config.advertisement_interval);
  if (interval > Duration::Zero()) {
    // RFC 5944 2.3: advertisements on the home link, timed by the core.
    o.home_ifindex = home_ifindex_;
    o.advertisement.max_interval = interval;
    o.advertisement_lifetime =
        options_.advertisement_interval
            ? 0  // three of the overriding intervals
            : static_cast<std::uint16_t>(config.advertisement_lifetime.seconds());
  }
  return o;
}

Status HaDaemon::Reload() {
  const std::string& path = options_.config_path;
  const platform::ReloadReport report(log_, path);
  MIPSEC_TRY(report.CheckPath());
  // 1. The whole file, validated (errors name file:line: key: reason).
  Result<config::HaConfig> loaded = config::LoadHaConfig(path);
  if (!loaded.ok()) return report.Failed(loaded.error());
  if (options_.log_level) loaded->log_level = *options_.log_level;
  const config::ReloadDiff diff = config::DiffHaConfig(config_, *loaded);
  config::HaConfig next = config::MergeRestartKeys(config_, std::move(loaded).value());
  // 2. The new security associations, in a database of their own.
  auto db = std::make_unique<mip4::SaDatabase>();
  Status st = AddHaMobileNodeSas(next, *db);
  if (st.ok()) st = AddHaPeerSas(next, *db);
  if (!st.ok()) return report.FailedIn(st.error());
  // 3. The core switches (all or nothing); the old database goes after.
  const Timestamp now = loop_->Now();
  st = core_->Reconfigure(now, CoreOptions(next, core_->options().wall_clock), *db);
  if (!st.ok()) return report.FailedIn(st.error());
  sas_ = std::move(db);
  config_ = std::move(next);
  adv_interval_ = options_.advertisement_interval.value_or(config_.advertisement_interval);
  log_.set_min_level(config_.log_level);
  core_->set_log_level(config_.log_level);
  report.RestartOnly(diff.RestartKeys());
  MIPSEC_LOG(log_, kNotice) << "reloaded " << path << ": " << diff.Summary("FA peer");
  Drain(now);  // revoked bindings: their routes go
  return Ok{};
}

HaDaemon::~HaDaemon() {
  control_.reset();  // socket file removed
  RemoveAllRoutes();
  if (loop_) {
    for (int fd : registered_fds_) (void)loop_->UnregisterFd(fd);
    if (timer_ != platform::EventLoop::kNoTimer) loop_->DestroyTimer(timer_);
  }
  sysctls_.Restore();
}

Status HaDaemon::Run() {
  Drain(loop_->Now());
  Status st = loop_->Run();
  RemoveAllRoutes();
  MIPSEC_LOG(log_, kNotice) << "counters at exit: " << CountersLine();
  return st;
}

void HaDaemon::OnUdpReadable() {
  for (std::size_t round = 0; round < options_.batches_per_wakeup; ++round) {
    auto n = sockets_.udp->RecvBatch(rx_.slots());
    if (!n.ok()) {
      ++sockets_.counters.receive_errors;
      MIPSEC_LOG(log_, kWarning) << n.error().ToString();
      return;
    }
    if (*n == 0) return;
    const Timestamp now = loop_->Now();
    for (std::size_t i = 0; i < *n; ++i) {
      const platform::Datagram& d = rx_.slots()[i];
      ++sockets_.counters.udp_received;
      if (d.truncated) {
        ++sockets_.counters.udp_truncated;
        continue;
      }
      mip4::HaResult r = core_->OnUdp(now, ToUdpReceived(d));
      if (r.action == mip4::HaResult::Action::kForward) Forward(std::move(r.forward));
    }
    Drain(now);
    if (*n < rx_.slots().size()) return;
  }
}

void HaDaemon::OnTunnelReadable() {
  for (std::size_t round = 0; round < options_.batches_per_wakeup; ++round) {
    auto n = sockets_.ipip->RecvBatch(rx_.slots());
    if (!n.ok()) {
      ++sockets_.counters.receive_errors;
      MIPSEC_LOG(log_, kWarning) << n.error().ToString();
      return;
    }
    if (*n == 0) return;
    const Timestamp now = loop_->Now();
    for (std::size_t i = 0; i < *n; ++i) {
      const platform::Datagram& d = rx_.slots()[i];
      ++sockets_.counters.raw_received;
      ++counters_.tunnel_in;
      if (d.truncated) continue;
      mip4::HaResult r = core_->OnTunnelPacket(now, d.data());
      if (r.action == mip4::HaResult::Action::kForward) Forward(std::move(r.forward));
    }
    Drain(now);
    if (*n < rx_.slots().size()) return;
  }
}

void HaDaemon::OnTunReadable() {
  for (std::size_t i = 0; i < options_.batches_per_wakeup * 4; ++i) {
    platform::PacketBuf buf{MutableByteSpan(tun_buffer_.data(), tun_buffer_.size()), 0};
    auto n = tun_->ReadBatch(std::span<platform::PacketBuf>(&buf, 1), 0);
    if (!n.ok()) {
      ++sockets_.counters.receive_errors;
      MIPSEC_LOG(log_, kWarning) << "tun read: " << n.error().ToString();
      return;
    }
    if (*n == 0) return;
    ++counters_.tun_in;
    const Timestamp now = loop_->Now();
    mip4::HaResult r = core_->OnHomePacket(now, buf.Packet(0));
    if (r.action == mip4::HaResult::Action::kNotBound) ++counters_.not_bound;
    Drain(now);
  }
}

void HaDaemon::OnIcmpReadable() {
  const Timestamp now = loop_->Now();
  for (;;) {
    auto n = sockets_.icmp->RecvBatch(rx_.slots());
    if (!n.ok() || *n == 0) break;
    for (std::size_t i = 0; i < *n; ++i) {
      const platform::Datagram& d = rx_.slots()[i];
      ++sockets_.counters.raw_received;
      // Agent Solicitations on the home link (the core checks the link) and
      // Fragmentation Needed about its tunnels (RFC 2003 5.1).
      core_->OnIcmp(now, d.ifindex, d.data());
    }
  }
  Drain(now);
}

void HaDaemon::Forward(Bytes&& packet) {
  platform::PacketBuf buf{MutableByteSpan(packet.data(), packet.size()), packet.size()};
  auto n = tun_->WriteBatch(std::span<const platform::PacketBuf>(&buf, 1), 0);
  if (n.ok() && *n == 1) {
    ++counters_.forwarded;
  } else {
    ++counters_.tun_write_errors;
    if (!n.ok()) {
      MIPSEC_LOG(log_, kDebug) << "tun write: " << n.error().ToString();
    }
  }
}

void HaDaemon::Drain(Timestamp now) {
  while (std::optional<mip4::Transmit> t = core_->PollTransmit()) tx_.Add(std::move(*t));
  if (tx_.size() > 0) {
    Status st = tx_.Flush(sockets_);
    if (!st.ok()) {
      MIPSEC_LOG(log_, kDebug) << "send: " << st.error().ToString();
    }
  }
  while (std::optional<mip4::HaEvent> e = core_->PollEvent()) HandleEvent(*e);
  (void)now;
  loop_->SetDeadline(timer_, core_->NextTimeout());
}

void HaDaemon::HandleEvent(const mip4::HaEvent& e) {
  ++counters_.events;
  if (e.kind == mip4::HaEvent::Kind::kBindingRemoved) {
    // The route goes first: proxy_arp answers only for addresses routed out
    // of another interface (the TUN), so the HA stops answering for the
    // home address here (RFC 5944 4.6: before its gratuitous ARP).
    RemoveRoute(e.home_address);
    arp_->Cancel(home_ifindex_, e.home_address);
    returning_.erase(e.home_address);
    if (e.returned_home) AnnounceReturnedHome(e.home_address, 0);
  } else {
    AddRoute(e.home_address);
    returning_.erase(e.home_address);  // it left again before we found it
  }
  if (e.kind == mip4::HaEvent::Kind::kBindingAdded) {
    // RFC 5944 4.6: a binding for a mobile node that had none (it was
    // assumed at home) MUST be announced with a gratuitous ARP, broadcast
    // on the home link, with the HA's link-layer address (repeated a few
    // times), so that the home link's nodes (its router above all) stop
    // sending the mobile node's traffic to its old link-layer address.
    if (Status s = arp_->Announce(home_ifindex_, e.home_address); !s.ok()) {
      MIPSEC_LOG(log_, kWarning) << "gratuitous ARP: " << s.error().ToString();
    }
  }
  // At registration rates the line is the dearest part: build it only when
  // it will be written.
  if (!log_.Enabled(LogLevel::kInfo)) return;
  std::ostringstream line;
  switch (e.kind) {
    case mip4::HaEvent::Kind::kBindingAdded:
      line << "binding added ";
      break;
    case mip4::HaEvent::Kind::kBindingUpdated:
      line << "binding updated ";
      break;
    case mip4::HaEvent::Kind::kBindingRemoved:
      line << "binding removed ";
      break;
  }
  line << e.home_address.ToString();
  for (const mip4::HaTunnel& t : e.tunnels) {
    line << " coa " << t.care_of_address.ToString() << " " << mip4::TunnelEncapsulationName(t.encapsulation)
         << " " << t.endpoint.ToString() << " lifetime " << t.granted_lifetime
         << (t.reverse_tunnel ? " T" : "") << (t.half_bound ? " half-bound" : "");
  }
  line << " (" << mip4::HaEventCauseName(e.cause) << ")";
  MIPSEC_LOG(log_, kInfo) << line.str();
}

// RFC 5944 4.6: the HA accepted the deregistration of a mobile node back
// on its home link, so it MUST broadcast a gratuitous ARP there with the
// mobile node's own link-layer address. That address comes from the
// kernel's neighbour table on the home interface: the node's own gratuitous
// ARP (sent before its deregistration) updates an entry we have, and the
// reply we just sent it resolves one otherwise. Looked up at once, then
// every kReturnedHomeRetry until kReturnedHomeTries (in parallel with the
// reply, as 4.6 says); never announced with a guessed address.
void HaDaemon::AnnounceReturnedHome(Ipv4Address home, int attempt) {
  constexpr int kReturnedHomeTries = 10;
  constexpr Duration kReturnedHomeRetry = Duration::Millis(100);
  auto n = netlink_->GetNeighbour(home_ifindex_, home);
  if (n.ok() && n->has_value() && (*n)->Usable()) {
    returning_.erase(home);
    const platform::MacAddress mac = *(*n)->lladdr;
    if (Status s = arp_->Announce(home_ifindex_, home, mac); !s.ok()) {
      MIPSEC_LOG(log_, kWarning) << "gratuitous ARP for " << home.ToString()
                                 << " (back home): " << s.error().ToString();
      return;
    }
    char text[18];
    std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
                  mac[3], mac[4], mac[5]);
    MIPSEC_LOG(log_, kInfo) << home.ToString() << " is home: gratuitous ARP on "
                            << config_.interface << " with its link-layer address " << text;
    return;
  }
  if (!n.ok()) {
    MIPSEC_LOG(log_, kDebug) << "neighbour lookup " << home.ToString() << ": "
                             << n.error().ToString();
  }
  if (attempt + 1 >= kReturnedHomeTries) {
    returning_.erase(home);
    MIPSEC_LOG(log_, kWarning)
        << home.ToString() << " is home, but its link-layer address is not in the neighbour "
                              "table of "
        << config_.interface
        << ": no gratuitous ARP for it (hosts there keep our address until their ARP "
           "entries expire)";
    return;
  }
  Returning& r = returning_[home];
  r.attempt = attempt;
  if (!r.timer) {
    r.timer = std::make_unique<platform::Timer>(*loop_, [this, home](Timestamp) {
      auto it = returning_.find(home);
      if (it != returning_.end()) AnnounceReturnedHome(home, it->second.attempt + 1);
    });
  }
  r.timer->Set(loop_->Now() + kReturnedHomeRetry);
}

void HaDaemon::AddRoute(Ipv4Address home) {
  if (routed_.contains(home)) return;
  Status st = netlink_->ReplaceRoute(HostRoute(home, tun_->ifindex()));
  if (!st.ok()) {
    ++counters_.route_errors;
    MIPSEC_LOG(log_, kError) << "route " << home.ToString() << "/32 dev " << tun_->name()
                             << ": " << st.error().ToString();
    return;
  }
  routed_.insert(home);
  ++counters_.routes_added;
}

void HaDaemon::RemoveRoute(Ipv4Address home) {
  if (!routed_.erase(home)) return;
  Status st = netlink_->DeleteRoute(HostRoute(home, tun_->ifindex()));
  if (!st.ok()) {
    ++counters_.route_errors;
    MIPSEC_LOG(log_, kWarning) << "delete route " << home.ToString() << "/32: "
                               << st.error().ToString();
    return;
  }
  ++counters_.routes_removed;
}

void HaDaemon::RemoveAllRoutes() {
  if (!netlink_ || !tun_) return;
  std::vector<Ipv4Address> all(routed_.begin(), routed_.end());
  for (Ipv4Address a : all) RemoveRoute(a);
}

Status HaDaemon::OpenControlSocket() {
  platform::ControlServerOptions co;
  co.path = options_.control_socket.empty() ? config_.control_socket : options_.control_socket;
  MIPSEC_ASSIGN_OR_RETURN(control_,
                          platform::ControlServer::Create(*loop_, co, log_.Child("ctl")));
  using platform::ControlJson;
  MIPSEC_TRY(control_->Register("status", "the home agent: addresses, links, binding count",
                                [this](const ControlJson&) -> Result<ControlJson> {
                                  return StatusJson();
                                }));
  MIPSEC_TRY(control_->Register(
      "bindings",
      "the binding cache: home address, care-of address, tunnel, remaining lifetime, flags "
      "(\"limit\": at most this many, default 10000)",
      [this](const ControlJson& req) -> Result<ControlJson> {
        std::size_t limit = 10000;
        if (auto it = req.find("limit"); it != req.end()) {
          if (!it->is_number_unsigned()) {
            return Error(Errc::kInvalidArgument, "\"limit\" must be a non-negative integer");
          }
          limit = it->get<std::size_t>();
        }
        return BindingsJson(limit);
      }));
  MIPSEC_TRY(control_->Register("counters", "registrations, replies by code, drops, tunnels, I/O",
                                [this](const ControlJson&) -> Result<ControlJson> {
                                  return CountersJson();
                                }));
  return Ok{};
}

platform::ControlJson HaDaemon::StatusJson() const {
  platform::ControlJson trusted = platform::ControlJson::array();
  for (const Ipv4Prefix& p : config_.trusted_subnets) trusted.push_back(p.ToString());
  const Timestamp now = loop_->Now();
  return platform::ControlJson{
      {"daemon", "ha"},
      {"address", config_.address.ToString()},
      {"home_network", config_.home_network.ToString()},
      {"interface", config_.interface},
      {"udp_port", sockets_.udp->local().port},
      {"tun", tun_->name()},
      {"trusted_subnets", trusted},
      {"mobile_nodes_configured", config_.mobile_nodes.size()},
      {"fa_peers", config_.fa_peers.size()},
      {"bound_mobile_nodes", core_->bound_mobile_node_count()},
      {"bindings", core_->binding_count()},
      {"advertisement_interval_ms", adv_interval_.millis()},
      {"uptime_s", (now - started_).seconds()},
  };
}

platform::ControlJson HaDaemon::BindingsJson(std::size_t limit) const {
  const Timestamp now = loop_->Now();
  platform::ControlJson rows = platform::ControlJson::array();
  std::size_t shown = 0;
  for (Ipv4Address home : core_->BoundHomeAddresses()) {
    for (const mip4::HaTunnel& t : core_->Bindings(home)) {
      if (shown == limit) break;
      ++shown;
      std::string flags;
      if (t.reverse_tunnel) flags += "T";
      if (t.encapsulation == mip4::TunnelEncapsulation::kUdp) flags += "U";
      if (t.half_bound) flags += flags.empty() ? "half-bound" : " half-bound";
      platform::ControlJson remaining;  // null: infinite
      if (t.expires != Timestamp::Infinite()) {
        remaining = t.expires > now ? (t.expires - now).seconds() : 0;
      }
      rows.push_back(platform::ControlJson{
          {"home_address", home.ToString()},
          {"care_of_address", t.care_of_address.ToString()},
          {"tunnel", std::string(mip4::TunnelEncapsulationName(t.encapsulation))},
          {"endpoint", t.endpoint.ToString()},
          {"lifetime", t.granted_lifetime},
          {"remaining", remaining},
          {"flags", flags},
          {"routed", routed_.contains(home)},
      });
    }
  }
  return platform::ControlJson{{"total", core_->binding_count()},
                               {"shown", shown},
                               {"bindings", rows}};
}

platform::ControlJson HaDaemon::CountersJson() const {
  const mip4::HaCounters& k = core_->counters();
  platform::ControlJson by_code = platform::ControlJson::object();
  for (std::size_t code = 0; code < k.replies_by_code.size(); ++code) {
    if (k.replies_by_code[code] != 0) by_code[std::to_string(code)] = k.replies_by_code[code];
  }
  platform::ControlJson drops = platform::ControlJson::object();
  for (std::size_t i = 0; i < k.drops.size(); ++i) {
    if (k.drops[i] != 0) {
      drops[std::string(mip4::HaDropName(static_cast<mip4::HaDrop>(i)))] = k.drops[i];
    }
  }
  const AgentIoCounters& io = sockets_.counters;
  return platform::ControlJson{
      {"registration",
       {{"requests", k.requests},
        {"replies", k.replies},
        {"replies_by_code", by_code},
        {"mn_auth_failures", k.mn_auth_failures},
        {"fa_auth_failures", k.fa_auth_failures},
        {"replay_rejections", k.replay_rejections},
        {"bindings", core_->binding_count()},
        {"bindings_expired", k.bindings_expired}}},
      {"drops", drops},
      {"tunnel",
       {{"tunnelled_ipip", k.tunnelled_ipip},
        {"tunnelled_udp", k.tunnelled_udp},
        {"decapsulated_ipip", k.decapsulated_ipip},
        {"decapsulated_udp", k.decapsulated_udp},
        {"keepalives", k.keepalives},
        {"not_bound", k.not_bound},
        {"advertisements", k.advertisements},
        {"solicitations", k.solicitations},
        {"icmp_too_big_received", k.icmp_too_big_received},
        {"icmp_too_big_accepted", k.icmp_too_big_accepted},
        {"icmp_too_big_sent", k.icmp_too_big_sent}}},
      {"io",
       {{"udp_in", io.udp_received},
        {"udp_truncated", io.udp_truncated},
        {"raw_in", io.raw_received},
        {"udp_out", io.udp_sent},
        {"raw_out", io.raw_sent},
        {"send_errors", io.send_errors},
        {"send_would_block", io.send_would_block},
        {"receive_errors", io.receive_errors},
        {"tun_in", counters_.tun_in},
        {"forwarded", counters_.forwarded},
        {"tun_write_errors", counters_.tun_write_errors},
        {"routes_added", counters_.routes_added},
        {"routes_removed", counters_.routes_removed},
        {"route_errors", counters_.route_errors}}},
  };
}

std::string HaDaemon::CountersLine() const {
  std::ostringstream s;
  const mip4::HaCounters& k = core_->counters();
  s << "requests " << k.requests << " replies " << k.replies << " (";
  bool first = true;
  for (std::size_t code = 0; code < k.replies_by_code.size(); ++code) {
    if (k.replies_by_code[code] == 0) continue;
    s << (first ? "" : " ") << "code" << code << " " << k.replies_by_code[code];
    first = false;
  }
  s << ") bindings " << core_->binding_count() << " expired " << k.bindings_expired
    << " mn_auth_failures " << k.mn_auth_failures << " replay_rejections "
    << k.replay_rejections << " tunnelled ipip " << k.tunnelled_ipip << " udp "
    << k.tunnelled_udp << " decapsulated ipip " << k.decapsulated_ipip << " udp "
    << k.decapsulated_udp << " keepalives " << k.keepalives << " drops:";
  for (std::size_t i = 0; i < k.drops.size(); ++i) {
    if (k.drops[i] == 0) continue;
    s << " " << mip4::HaDropName(static_cast<mip4::HaDrop>(i)) << " " << k.drops[i];
  }
  const AgentIoCounters& io = sockets_.counters;
  s << " | udp_in " << io.udp_received << " truncated " << io.udp_truncated << " raw_in "
    << io.raw_received << " udp_out " << io.udp_sent << " raw_out " << io.raw_sent
    << " send_errors " << io.send_errors << " would_block " << io.send_would_block
    << " receive_errors " << io.receive_errors << " | tun_in " << counters_.tun_in
    << " forwarded " << counters_.forwarded << " not_bound " << counters_.not_bound
    << " tun_write_errors " << counters_.tun_write_errors << " routes +"
    << counters_.routes_added << " -" << counters_.routes_removed << " route_errors "
    << counters_.route_errors << " advertisements " << k.advertisements << " solicitations "
    << k.solicitations;
  return s.str();
}

}  // namespace mipsec::mip4d

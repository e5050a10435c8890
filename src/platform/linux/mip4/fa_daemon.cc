#include "platform/linux/mip4/fa_daemon.h"

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>
#include <variant>

#include "common/checksum.h"
#include "common/ip/ipv4.h"
#include "common/wire/reader.h"
#include "common/wire/writer.h"
#include "config/config_reload.h"
#include "platform/linux/mip4/sa_config.h"
#include "platform/linux/reload_report.h"

namespace mipsec::mip4d {
namespace {

constexpr std::size_t kRecvSlots = 64;
constexpr std::size_t kTunMtuRoom = 65535;
constexpr int kMaxRoundsPerWakeup = 16;  // bounded, so one source cannot starve the others
// ICMP the FA listens to: Destination Unreachable, Agent Solicitation, Time
// Exceeded, Parameter Problem (RFC 5944 2.2, 3.7.3).
const std::vector<std::uint8_t> kIcmpTypes = {3, 10, 11, 12};
constexpr std::size_t kIpTtlOffset = 8;
constexpr std::size_t kIpChecksumOffset = 10;

std::string Key(std::size_t i, const char* field) {
  return "interface[" + std::to_string(i) + "]." + field;
}

// Whole seconds of a config duration, clamped to 16 bits (the config parser
// has already bounded every such value).
std::uint16_t Seconds16(Duration d) {
  std::int64_t s = d.seconds();
  return static_cast<std::uint16_t>(std::clamp<std::int64_t>(s, 0, 0xffff));
}

// Undoes the kernel's forwarding decrement of the TTL (RFC 1624 incremental
// checksum), so the core sees the datagram as it arrived on the visitor's
// link. False when it is not an IPv4 header or the TTL would overflow.
bool RestoreArrivalTtl(MutableByteSpan packet) {
  if (packet.size() < ip::Ipv4Header::kMinSize || packet[0] >> 4 != 4) return false;
  if (packet[kIpTtlOffset] == 0xff) return false;
  const std::uint16_t old_word = wire::LoadU16(packet, kIpTtlOffset);
  const std::uint16_t new_word = static_cast<std::uint16_t>(old_word + 0x100);
  wire::StoreU16(packet, kIpTtlOffset, new_word);
  wire::StoreU16(packet, kIpChecksumOffset,
                 ChecksumAdjust16(wire::LoadU16(packet, kIpChecksumOffset), old_word, new_word));
  return true;
}

std::optional<Ipv4Address> PacketSource(ByteSpan packet) {
  if (packet.size() < ip::Ipv4Header::kMinSize || packet[0] >> 4 != 4) return std::nullopt;
  return Ipv4Address::FromBytes(packet.subspan<12, 4>());
}

std::string_view CauseName(mip4::FaEvent::Cause c) {
  using C = mip4::FaEvent::Cause;
  switch (c) {
    case C::kRelayed: return "relayed";
    case C::kAccepted: return "accepted";
    case C::kDenied: return "denied";
    case C::kDeregistered: return "deregistered";
    case C::kExpired: return "expired";
    case C::kPendingTimeout: return "pending-timeout";
    case C::kHaUnreachable: return "ha-unreachable";
  }
  return "?";
}

}  // namespace

Result<mip4::ForeignAgentOptions> FaDaemon::OptionsFromConfig(const config::FaConfig& config,
                                                              platform::Netlink& netlink) {
  mip4::ForeignAgentOptions o;
  for (std::size_t i = 0; i < config.interfaces.size(); ++i) {
    const config::FaInterfaceConfig& c = config.interfaces[i];
    Result<platform::LinkInfo> link = netlink.GetLinkByName(c.name);
    if (!link.ok()) {
      return Error(Errc::kNotFound, Key(i, "name") + ": no link named " + c.name + " (" +
                                        link.error().detail() + ")");
    }
    mip4::FaInterface f;
    f.ifindex = link->ifindex;
    f.address = c.address;
    f.care_of_addresses = c.care_of_addresses;
    if (c.prefix_length > 0) f.prefix_length = c.prefix_length;
    f.advertisement_address = Ipv4Address::AllSystems();
    o.interfaces.push_back(std::move(f));
  }
  // RFC 1256 MaxAdvertisementInterval; MinAdvertisementInterval keeps its
  // default (0.75 of it).
  o.advertisement.max_interval = config.advertisement_interval;
  o.advertisement_lifetime = Seconds16(config.advertisement_lifetime);
  o.registration_required = config.registration_required;
  o.max_registration_lifetime = Seconds16(config.max_lifetime);
  o.reverse_tunnelling = config.reverse_tunnel;
  o.behind_nat = config.behind_nat;
  o.max_visitors = config.max_visitors;
  o.pending_timeout = config.pending_timeout;
  if (Status s = mip4::ForeignAgent::ValidateOptions(o); !s.ok()) {
    std::string detail = s.error().detail();
    // Name the config keys behind the core's options.
    if (detail.find("advertisement_lifetime") != std::string::npos) {
      detail = "foreign_agent.advertisement_lifetime: " + detail;
    } else if (detail.find("interval") != std::string::npos) {
      detail = "foreign_agent.advertisement_interval: " + detail;
    } else {
      detail = "foreign_agent: " + detail;
    }
    return Error(Errc::kInvalidArgument, detail);
  }
  return o;
}

FaDaemon::FaDaemon(const config::FaConfig& config, platform::EventLoop& loop, Logger log,
                   FaDaemonOptions options)
    : config_(config), loop_(loop), log_(std::move(log)), options_(std::move(options)) {
  // What runs is what reloads compare with.
  if (options_.log_level) config_.log_level = *options_.log_level;
}

Result<std::unique_ptr<FaDaemon>> FaDaemon::Create(const config::FaConfig& config,
                                                   platform::EventLoop& loop, Logger log,
                                                   FaDaemonOptions options) {
  std::unique_ptr<FaDaemon> d(new FaDaemon(config, loop, std::move(log), std::move(options)));
  Status s = d->Open(config);
  if (!s.ok()) {
    (void)d->Shutdown();  // undo what was done; the first error is the one to report
    return s.error();
  }
  return d;
}

Status FaDaemon::Open(const config::FaConfig& config) {
  MIPSEC_ASSIGN_OR_RETURN(netlink_, platform::LinuxNetlink::Open());
  MIPSEC_ASSIGN_OR_RETURN(mip4::ForeignAgentOptions fa_options,
                          OptionsFromConfig(config, *netlink_));
  // Once the config is known to be usable, before anything on the host
  // changes: a second daemon with the same socket stops here. (The
  // handlers run only once the loop runs.)
  udp_port_ = config.port;
  ha_peers_ = config.ha_peers.size();
  started_ = loop_.Now();
  MIPSEC_TRY(OpenControlSocket(config));
  for (std::size_t i = 0; i < config.interfaces.size(); ++i) {
    served_[fa_options.interfaces[i].ifindex] = config.interfaces[i].name;
  }

  // RFC 5944 4.2.2: the FA routes its visitors' datagrams.
  {
    std::ifstream f("/proc/sys/net/ipv4/ip_forward");
    int forwarding = 1;
    if (f >> forwarding && forwarding == 0) {
      MIPSEC_LOG(log_, kWarning) << "net.ipv4.ip_forward is 0: visitors' traffic will not be "
                                    "routed (set it to 1)";
    }
  }

  // Sockets: UDP (port, TTL), IP-in-IP raw (receives tunnels, sends every
  // IpTransmit), and our own ICMP socket (solicitations and errors).
  AgentSocketOptions so;
  so.port = config.port;
  so.open_ipip = true;
  so.open_icmp = false;
  MIPSEC_ASSIGN_OR_RETURN(sockets_, OpenAgentSockets(so));
  platform::RawSocketOptions ro;
  ro.protocol = platform::kIpProtoIcmp;
  ro.icmp_types = kIcmpTypes;
  ro.multicast_loop = false;
  Result<std::unique_ptr<platform::LinuxRawSocket>> icmp = platform::LinuxRawSocket::Open(ro);
  if (!icmp.ok()) return Error(icmp.error().code(), "icmp raw socket: " + icmp.error().detail());
  icmp_ = std::move(icmp).value();
  for (const mip4::FaInterface& f : fa_options.interfaces) {
    // RFC 5944 2.2: solicitations to All Mobility Agents; RFC 1256 ones to
    // All Routers. The UDP socket sees 224.0.0.11 through the same
    // membership (IP_MULTICAST_ALL).
    for (Ipv4Address g : {Ipv4Address::AllMobilityAgents(), Ipv4Address::AllRouters()}) {
      Status j = icmp_->JoinMulticast(g, f.ifindex);
      if (!j.ok()) {
        return Error(j.error().code(), "join " + g.ToString() + " on " + served_[f.ifindex] +
                                           ": " + j.error().detail());
      }
    }
  }

  // Reverse tunnelling (RFC 3024): the TUN the per-visitor rules lead into.
  MIPSEC_ASSIGN_OR_RETURN(tun_, platform::LinuxTunDevice::Create(options_.tun_name));
  MIPSEC_TRY(netlink_->SetLinkUp(tun_->ifindex(), true));
  RemoveStaleRules();
  platform::Route table_default;
  table_default.destination = Ipv4Prefix();
  table_default.oif = tun_->ifindex();
  table_default.table = options_.reverse_tunnel_table;
  MIPSEC_TRY(netlink_->ReplaceRoute(table_default));
  table_route_ = true;

  // The core and its SAs.
  MIPSEC_ASSIGN_OR_RETURN(core_,
                          mip4::ForeignAgent::Create(fa_options, *sas_, rng_, log_.Child("core")));
  MIPSEC_TRY(AddFaConfigSas(config, *sas_, *core_));

  rx_ = std::make_unique<RecvBuffers>(kRecvSlots);
  tun_storage_.resize(platform::LinuxTunDevice::kBatchSize * kTunMtuRoom);
  tun_bufs_.resize(platform::LinuxTunDevice::kBatchSize);
  for (std::size_t i = 0; i < tun_bufs_.size(); ++i) {
    tun_bufs_[i].buffer = MutableByteSpan(tun_storage_.data() + i * kTunMtuRoom, kTunMtuRoom);
  }

  auto reg = [&](int fd, std::function<void()> fn) -> Status {
    MIPSEC_TRY(loop_.RegisterFd(fd, platform::kReadable, [fn](std::uint32_t) { fn(); }));
    registered_fds_.push_back(fd);
    return Ok{};
  };
  MIPSEC_TRY(reg(sockets_.udp->fd(), [this] { OnUdpReadable(); }));
  MIPSEC_TRY(reg(sockets_.ipip->fd(), [this] { OnIpipReadable(); }));
  MIPSEC_TRY(reg(icmp_->fd(), [this] { OnIcmpReadable(); }));
  MIPSEC_TRY(reg(tun_->fd(), [this] { OnTunReadable(); }));
  timer_ = std::make_unique<platform::Timer>(loop_, [this](Timestamp now) {
    core_->OnTimeout(now);
    Drain(now);
  });
  // io.h: NextTimeout() is Zero before the first call; the first OnTimeout
  // starts the advertisement schedules.
  timer_->Set(core_->NextTimeout());

  std::ostringstream links;
  for (const mip4::FaInterface& f : fa_options.interfaces) {
    links << " " << served_[f.ifindex] << "(" << f.address.ToString() << " coa";
    for (Ipv4Address c : f.care_of_addresses) links << " " << c.ToString();
    links << ")";
  }
  MIPSEC_LOG(log_, kInfo) << "foreign agent up: udp port " << config.port << ", links"
                          << links.str() << ", reverse tunnel " << tun_->name() << " table "
                          << options_.reverse_tunnel_table << ", " << config.ha_peers.size()
                          << " ha peer(s)";
  return Ok{};
}

FaDaemon::~FaDaemon() { (void)Shutdown(); }

Status FaDaemon::OpenControlSocket(const config::FaConfig& config) {
  platform::ControlServerOptions co;
  co.path = options_.control_socket.empty() ? config.control_socket : options_.control_socket;
  MIPSEC_ASSIGN_OR_RETURN(control_, platform::ControlServer::Create(loop_, co, log_.Child("ctl")));
  using platform::ControlJson;
  MIPSEC_TRY(control_->Register("status", "the foreign agent: links, care-of addresses, visitors",
                                [this](const ControlJson&) -> Result<ControlJson> {
                                  return StatusJson();
                                }));
  MIPSEC_TRY(control_->Register(
      "visitors",
      "the visitor list: home address, NAI, home agent, care-of address, link, remaining "
      "lifetime, flags, pending relays",
      [this](const ControlJson&) -> Result<ControlJson> { return VisitorsJson(); }));
  MIPSEC_TRY(control_->Register("counters", "relays, denials by code, drops, tunnels, I/O",
                                [this](const ControlJson&) -> Result<ControlJson> {
                                  return CountersJson();
                                }));
  return Ok{};
}

platform::ControlJson FaDaemon::StatusJson() const {
  using platform::ControlJson;
  ControlJson links = ControlJson::array();
  for (const mip4::FaInterface& f : core_->options().interfaces) {
    ControlJson coas = ControlJson::array();
    for (Ipv4Address c : f.care_of_addresses) coas.push_back(c.ToString());
    auto name = served_.find(f.ifindex);
    links.push_back(ControlJson{{"interface", name == served_.end() ? "?" : name->second},
                                {"address", f.address.ToString()},
                                {"care_of_addresses", coas}});
  }
  const mip4::VisitorList& v = core_->visitors();
  return ControlJson{{"daemon", "fa"},
                     {"udp_port", udp_port_},
                     {"reverse_tunnel", tun_->name()},
                     {"reverse_tunnel_table", options_.reverse_tunnel_table},
                     {"ha_peers", ha_peers_},
                     {"visitors", v.active_count()},
                     {"pending", v.pending_count()},
                     {"uptime_s", (loop_.Now() - started_).seconds()},
                     {"links", links}};
}

platform::ControlJson FaDaemon::VisitorsJson() const {
  using platform::ControlJson;
  const Timestamp now = loop_.Now();
  auto link = [this](int ifindex) -> std::string {
    auto it = served_.find(ifindex);
    return it == served_.end() ? std::to_string(ifindex) : it->second;
  };
  auto remaining = [now](Timestamp t) -> ControlJson {
    if (t == Timestamp::Infinite()) return nullptr;
    return t > now ? (t - now).seconds() : 0;
  };
  ControlJson rows = ControlJson::array();
  core_->visitors().ForEach([&](const mip4::Visitor& v) {
    ControlJson row{{"home_address", v.key.home_address.ToString()},
                    {"nai", v.key.nai.empty() ? ControlJson(nullptr) : ControlJson(v.key.nai)}};
    if (v.active) {
      const mip4::ActiveRegistration& a = *v.active;
      std::string flags;
      if (a.reverse_tunnel) flags += "T";
      if (a.colocated) flags += "D";
      if (a.udp_tunnel) flags += "U";
      if (a.encapsulating_delivery) flags += "E";
      row["state"] = v.pending ? "active+pending" : "active";
      row["home_agent"] = a.home_agent.ToString();
      row["care_of_address"] = a.care_of_address.ToString();
      row["link"] = link(a.ifindex);
      row["mn_source"] = a.mn_source.ToString();
      row["lifetime"] = a.granted_lifetime;
      row["remaining"] = remaining(a.expires);
      row["flags"] = flags;
    } else if (v.pending) {
      const mip4::PendingRegistration& p = *v.pending;
      row["state"] = "pending";
      row["home_agent"] = p.request.home_agent.ToString();
      row["care_of_address"] = p.request.care_of_address.ToString();
      row["link"] = link(p.ifindex);
      row["mn_source"] = p.mn_source.ToString();
      row["lifetime"] = p.request.lifetime;
      row["remaining"] = remaining(p.deadline);
      row["flags"] = "";
    }
    rows.push_back(std::move(row));
  });
  return ControlJson{{"active", core_->visitors().active_count()},
                     {"pending", core_->visitors().pending_count()},
                     {"visitors", rows}};
}

platform::ControlJson FaDaemon::CountersJson() const {
  using platform::ControlJson;
  const mip4::FaCounters& k = core_->counters();
  ControlJson by_code = ControlJson::object();
  for (std::size_t code = 0; code < k.denials_by_code.size(); ++code) {
    if (k.denials_by_code[code] != 0) by_code[std::to_string(code)] = k.denials_by_code[code];
  }
  ControlJson drops = ControlJson::object();
  for (std::size_t i = 0; i < k.drops.size(); ++i) {
    if (k.drops[i] != 0) {
      drops[std::string(mip4::FaDropName(static_cast<mip4::FaDrop>(i)))] = k.drops[i];
    }
  }
  const AgentIoCounters& io = sockets_.counters;
  return ControlJson{
      {"registration",
       {{"requests", k.requests},
        {"requests_relayed", k.requests_relayed},
        {"replies", k.replies},
        {"replies_relayed", k.replies_relayed},
        {"denials", k.denials},
        {"denials_by_code", by_code},
        {"mn_fa_auth_failures", k.mn_fa_auth_failures},
        {"fa_ha_auth_failures", k.fa_ha_auth_failures},
        {"pending_timeouts", k.pending_timeouts},
        {"visitors_expired", k.visitors_expired}}},
      {"drops", drops},
      {"tunnel",
       {{"delivered", k.delivered},
        {"reverse_tunnelled_ipip", k.reverse_tunnelled_ipip},
        {"reverse_tunnelled_udp", k.reverse_tunnelled_udp},
        {"keepalives_sent", k.keepalives_sent},
        {"keepalive_replies", k.keepalive_replies},
        {"advertisements", k.advertisements},
        {"solicitations", k.solicitations}}},
      {"io",
       {{"udp_in", counters_.udp_in},
        {"udp_truncated", counters_.udp_truncated},
        {"icmp_in", counters_.icmp_in},
        {"tunnel_in", counters_.tunnel_in},
        {"encapsulated_in", counters_.encapsulated_in},
        {"tun_in", counters_.tun_in},
        {"tun_unknown", counters_.tun_unknown},
        {"routed", counters_.routed},
        {"udp_out", io.udp_sent},
        {"raw_out", io.raw_sent},
        {"send_errors", io.send_errors},
        {"kernel_errors", counters_.kernel_errors},
        {"receive_errors", counters_.receive_errors}}},
  };
}

void FaDaemon::RemoveStaleRules() {
  Result<std::vector<platform::Rule>> rules = netlink_->ListRules();
  if (!rules.ok()) return;
  for (const platform::Rule& r : *rules) {
    if (r.priority == options_.rule_priority && r.table == options_.reverse_tunnel_table) {
      if (netlink_->DeleteRule(r).ok()) {
        MIPSEC_LOG(log_, kNotice) << "removed a stale rule from an earlier run: " << r.ToString();
      }
    }
  }
}

Status FaDaemon::Shutdown() {
  if (shut_down_) return Ok{};
  shut_down_ = true;
  Status first = Ok{};
  auto note = [&](Status s) {
    if (!s.ok() && first.ok()) first = std::move(s);
  };
  control_.reset();  // socket file removed
  timer_.reset();
  for (int fd : registered_fds_) note(loop_.UnregisterFd(fd));
  registered_fds_.clear();
  if (netlink_) {
    for (auto& [home, st] : visitors_) note(RemoveVisitorState(home, st));
    visitors_.clear();
    if (table_route_ && tun_) {
      platform::Route r;
      r.destination = Ipv4Prefix();
      r.oif = tun_->ifindex();
      r.table = options_.reverse_tunnel_table;
      note(netlink_->DeleteRoute(r));
      table_route_ = false;
    }
  }
  tun_.reset();  // the interface goes with its fd
  if (core_) {
    LogCounters();
    MIPSEC_LOG(log_, kInfo) << "foreign agent stopped";
  }
  if (!first.ok()) {
    MIPSEC_LOG(log_, kWarning) << "cleanup: " << first.error().ToString();
  }
  return first;
}

Status FaDaemon::Run() {
  auto stop = [this](int signo) {
    MIPSEC_LOG(log_, kInfo) << "signal " << signo << ": stopping";
    loop_.Stop();
  };
  MIPSEC_TRY(loop_.HandleSignal(SIGTERM, stop));
  MIPSEC_TRY(loop_.HandleSignal(SIGINT, stop));
  MIPSEC_TRY(loop_.HandleSignal(SIGUSR1, [this](int) { LogCounters(); }));
  MIPSEC_TRY(loop_.HandleSignal(SIGHUP, [this](int) { (void)Reload(); }));
  Status ran = loop_.Run();
  Status cleaned = Shutdown();
  if (!ran.ok()) return ran;
  return cleaned;
}

Status FaDaemon::Reload() {
  const std::string& path = options_.config_path;
  const platform::ReloadReport report(log_, path);
  MIPSEC_TRY(report.CheckPath());
  if (!core_) return Error(Errc::kState, "reload: not running");
  // 1. The whole file, validated (errors name file:line: key: reason).
  Result<config::FaConfig> loaded = config::LoadFaConfig(path);
  if (!loaded.ok()) return report.Failed(loaded.error());
  if (options_.log_level) loaded->log_level = *options_.log_level;
  const config::ReloadDiff diff = config::DiffFaConfig(config_, *loaded);
  config::FaConfig next = config::MergeRestartKeys(config_, std::move(loaded).value());
  // 2. The core's options and the new SAs, in a database of their own.
  Result<mip4::ForeignAgentOptions> fa_options = OptionsFromConfig(next, *netlink_);
  if (!fa_options.ok()) return report.FailedIn(fa_options.error());
  auto db = std::make_unique<mip4::SaDatabase>();
  Status st = AddFaMobileNodeSas(next, *db);
  if (st.ok()) st = AddFaPeerSas(next, *db);
  if (!st.ok()) return report.FailedIn(st.error());
  // 3. The core switches (all or nothing); the old database goes after.
  const Timestamp now = loop_.Now();
  st = core_->Reconfigure(now, std::move(fa_options).value(), *db);
  if (!st.ok()) return report.FailedIn(st.error());
  sas_ = std::move(db);
  config_ = std::move(next);
  log_.set_min_level(config_.log_level);
  core_->set_log_level(config_.log_level);
  report.RestartOnly(diff.RestartKeys());
  MIPSEC_LOG(log_, kNotice) << "reloaded " << path << ": " << diff.Summary("HA peer") << " ("
                            << visitors_.size() << " visitors kept)";
  Drain(now);
  return Ok{};
}

void FaDaemon::LogCounters() const {
  if (!core_) return;
  const mip4::FaCounters& c = core_->counters();
  std::uint64_t drops = 0;
  for (std::uint64_t d : c.drops) drops += d;
  std::ostringstream o;
  o << "counters: requests " << c.requests << " relayed " << c.requests_relayed << ", replies "
    << c.replies << " relayed " << c.replies_relayed << ", denials " << c.denials
    << ", advertisements " << c.advertisements << ", solicitations " << c.solicitations
    << ", visitors " << core_->visitors().size() << ", delivered " << c.delivered
    << ", reverse tunnelled " << (c.reverse_tunnelled_ipip + c.reverse_tunnelled_udp)
    << ", core drops " << drops << ", auth failures "
    << (c.mn_fa_auth_failures + c.fa_ha_auth_failures)
    << "; udp in " << counters_.udp_in << ", icmp in " << counters_.icmp_in << ", tunnel in "
    << counters_.tunnel_in << ", tun in " << counters_.tun_in << ", routed " << counters_.routed
    << ", kernel errors " << counters_.kernel_errors << "; sent udp " << sockets_.counters.udp_sent
    << " raw " << sockets_.counters.raw_sent << ", send errors "
    << (sockets_.counters.send_errors + sockets_.counters.send_would_block);
  for (std::size_t i = 0; i < c.drops.size(); ++i) {
    if (c.drops[i] != 0) {
      o << ", drop " << mip4::FaDropName(static_cast<mip4::FaDrop>(i)) << " " << c.drops[i];
    }
  }
  MIPSEC_LOG(log_, kInfo) << o.str();
}

bool FaDaemon::Served(int ifindex) const { return served_.count(ifindex) != 0; }

void FaDaemon::OnUdpReadable() {
  for (int round = 0; round < kMaxRoundsPerWakeup; ++round) {
    Result<std::size_t> n = sockets_.udp->RecvBatch(rx_->slots());
    if (!n.ok()) {
      ++counters_.receive_errors;
      MIPSEC_LOG(log_, kDebug) << "udp receive: " << n.error().ToString();
      return;
    }
    if (*n == 0) return;
    Timestamp now = loop_.Now();
    for (std::size_t i = 0; i < *n; ++i) {
      const platform::Datagram& d = rx_->slots()[i];
      if (d.truncated) {
        ++counters_.udp_truncated;
        continue;
      }
      ++counters_.udp_in;
      core_->OnUdp(now, ToUdpReceived(d));
    }
    Drain(now);
  }
}

void FaDaemon::OnIcmpReadable() {
  for (int round = 0; round < kMaxRoundsPerWakeup; ++round) {
    Result<std::size_t> n = icmp_->RecvBatch(rx_->slots());
    if (!n.ok()) {
      ++counters_.receive_errors;
      return;
    }
    if (*n == 0) return;
    Timestamp now = loop_.Now();
    for (std::size_t i = 0; i < *n; ++i) {
      const platform::Datagram& d = rx_->slots()[i];
      if (d.truncated) continue;
      ++counters_.icmp_in;
      core_->OnIcmp(now, d.ifindex, d.data());
    }
    Drain(now);
  }
}

void FaDaemon::OnIpipReadable() {
  for (int round = 0; round < kMaxRoundsPerWakeup; ++round) {
    Result<std::size_t> n = sockets_.ipip->RecvBatch(rx_->slots());
    if (!n.ok()) {
      ++counters_.receive_errors;
      return;
    }
    if (*n == 0) return;
    Timestamp now = loop_.Now();
    for (std::size_t i = 0; i < *n; ++i) {
      const platform::Datagram& d = rx_->slots()[i];
      if (d.truncated) continue;
      // From a visitor on a served link: the encapsulating delivery style
      // (RFC 3024 5.2); otherwise the HA->FA tunnel (RFC 5944 4.2.2). An
      // IP-in-IP datagram for the FA itself is never routed on.
      if (Served(d.ifindex)) {
        ++counters_.encapsulated_in;
        core_->OnVisitorPacket(now, d.ifindex, d.data());
      } else {
        ++counters_.tunnel_in;
        core_->OnTunnelPacket(now, d.data());
      }
    }
    Drain(now);
  }
}

void FaDaemon::OnTunReadable() {
  for (int round = 0; round < kMaxRoundsPerWakeup; ++round) {
    Result<std::size_t> n = tun_->ReadBatch(tun_bufs_, 0);
    if (!n.ok()) {
      ++counters_.receive_errors;
      return;
    }
    if (*n == 0) return;
    Timestamp now = loop_.Now();
    for (std::size_t i = 0; i < *n; ++i) {
      MutableByteSpan pkt(tun_bufs_[i].buffer.data(), tun_bufs_[i].length);
      ++counters_.tun_in;
      // The TUN does not say where the datagram came in: the rule that sent
      // it here names the visitor's link, which we installed.
      std::optional<Ipv4Address> src = PacketSource(pkt);
      if (!src) {
        ++counters_.tun_not_ipv4;  // e.g. IPv6 the host sends on the TUN
        continue;
      }
      auto it = visitors_.find(*src);
      if (it == visitors_.end() || !RestoreArrivalTtl(pkt)) {
        ++counters_.tun_unknown;
        SendRouted(pkt);
        continue;
      }
      mip4::FaResult r = core_->OnVisitorPacket(now, it->second.ifindex, pkt);
      if (r.action == mip4::FaResult::Action::kRoute) {
        // Routed as any router would: with the TTL the kernel's forwarding
        // gave it.
        if (ip::DecrementTtl(pkt).ok()) SendRouted(pkt);
      }
    }
    Drain(now);
  }
}

void FaDaemon::SendRouted(ByteSpan packet) {
  mip4::IpTransmit t;
  t.packet.assign(packet.begin(), packet.end());
  Status s = SendTransmit(sockets_, mip4::Transmit(std::move(t)));
  if (s.ok()) {
    ++counters_.routed;
  } else {
    MIPSEC_LOG(log_, kDebug) << "routing a visitor datagram: " << s.error().ToString();
  }
}

void FaDaemon::Drain(Timestamp now) {
  if (draining_) return;
  draining_ = true;
  // io.h's order (transmits, then events), but the kernel state of the
  // events (a visitor's route) is in place before the round's datagrams
  // leave: a home agent's fast reply then always finds the route.
  while (std::optional<mip4::Transmit> t = core_->PollTransmit()) tx_.Add(std::move(*t));
  while (std::optional<mip4::FaEvent> e = core_->PollEvent()) HandleEvent(*e);
  if (Status s = tx_.Flush(sockets_); !s.ok()) {
    MIPSEC_LOG(log_, kDebug) << "send: " << s.error().ToString();
  }
  draining_ = false;
  (void)now;
  if (timer_) timer_->Set(core_->NextTimeout());
}

platform::Rule FaDaemon::VisitorRule(Ipv4Address home, int ifindex) const {
  auto it = served_.find(ifindex);
  return platform::Rule{Ipv4Prefix::Host(home), it == served_.end() ? "" : it->second,
                        options_.reverse_tunnel_table, options_.rule_priority};
}

platform::Route FaDaemon::VisitorRoute(Ipv4Address home, int ifindex) const {
  platform::Route r;
  r.destination = Ipv4Prefix::Host(home);
  r.oif = ifindex;
  return r;
}

Status FaDaemon::RemoveVisitorState(Ipv4Address home, Installed& st) {
  Status first = Ok{};
  if (st.rule) {
    Status s = netlink_->DeleteRule(VisitorRule(home, st.ifindex));
    if (!s.ok()) {
      ++counters_.kernel_errors;
      first = s;
    }
    st.rule = false;
  }
  if (st.route) {
    Status s = netlink_->DeleteRoute(VisitorRoute(home, st.ifindex));
    if (!s.ok()) {
      ++counters_.kernel_errors;
      if (first.ok()) first = s;
    }
    st.route = false;
  }
  return first;
}

void FaDaemon::HandleEvent(const mip4::FaEvent& e) {
  ++counters_.events;
  auto link = served_.find(e.ifindex);
  MIPSEC_LOG(log_, kInfo) << mip4::FaEventKindName(e.kind) << " ("
                          << CauseName(e.cause) << ") home " << e.home_address.ToString()
                          << (e.nai.empty() ? "" : " nai " + e.nai) << " on "
                          << (link == served_.end() ? std::to_string(e.ifindex) : link->second)
                          << " coa " << e.care_of_address.ToString() << " ha "
                          << e.home_agent.ToString() << " lifetime " << e.lifetime
                          << (e.reverse_tunnel ? " T" : "") << (e.udp_tunnel ? " udp" : "")
                          << (e.colocated ? " colocated" : "");
  if (e.home_address.IsAny()) return;  // NAI-only pending request: nothing to route yet
  const Ipv4Address home = e.home_address;
  auto warn = [&](const Status& s) {
    if (s.ok()) return;
    ++counters_.kernel_errors;
    MIPSEC_LOG(log_, kWarning) << "visitor " << home.ToString() << ": " << s.error().ToString();
  };

  if (e.kind == mip4::FaEvent::Kind::kVisitorRemoved) {
    auto it = visitors_.find(home);
    if (it == visitors_.end()) return;
    warn(RemoveVisitorState(home, it->second));
    visitors_.erase(it);
    return;
  }

  Installed& st = visitors_[home];
  if (st.ifindex != 0 && st.ifindex != e.ifindex) {
    warn(RemoveVisitorState(home, st));  // moved to another served link
  }
  st.ifindex = e.ifindex;
  // RFC 5944 4.2.2 / 3.7.2.3: the home address is reached on the visitor's
  // link, for the reply and for decapsulated datagrams.
  if (!st.route) {
    Status s = netlink_->ReplaceRoute(VisitorRoute(home, st.ifindex));
    warn(s);
    st.route = s.ok();
  }
  // RFC 3024 5.1: a 'T' registration's datagrams are intercepted for the
  // reverse tunnel; a pending re-registration keeps what is active.
  if (e.kind == mip4::FaEvent::Kind::kVisitorActive) {
    const bool want_rule = e.reverse_tunnel && !e.colocated;
    if (want_rule && !st.rule) {
      Status s = netlink_->AddRule(VisitorRule(home, st.ifindex));
      if (!s.ok() && s.error().detail().find("File exists") != std::string::npos) s = Ok{};
      warn(s);
      st.rule = s.ok();
    } else if (!want_rule && st.rule) {
      warn(netlink_->DeleteRule(VisitorRule(home, st.ifindex)));
      st.rule = false;
    }
  }
}

}  // namespace mipsec::mip4d

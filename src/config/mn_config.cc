#include "config/mn_config.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <utility>

#include "config/section_parsers.h"
#include "config/toml_reader.h"

namespace mipsec::config {

namespace {

// RFC 5944 3.3: Lifetime 0xffff means infinity, so a finite request is at
// most 65534 s.
constexpr std::int64_t kMaxLifetimeSeconds = 65534;

// "3h", "50m", "20s", "500ms", else Duration::ToString().
std::string Human(Duration d) {
  const std::int64_t ns = d.nanos();
  constexpr std::int64_t kS = 1'000'000'000;
  constexpr std::int64_t kMs = 1'000'000;
  if (ns == 0) return "0s";
  if (ns % (3600 * kS) == 0) return std::to_string(ns / (3600 * kS)) + "h";
  if (ns % (60 * kS) == 0) return std::to_string(ns / (60 * kS)) + "m";
  if (ns % kS == 0) return std::to_string(ns / kS) + "s";
  if (ns % kMs == 0) return std::to_string(ns / kMs) + "ms";
  return d.ToString();
}

struct Ctx {
  TomlReader L;
  const FileReader& read_file;
  std::string file;
};

// A positive duration; with `whole`, in whole seconds; within [min, max].
Result<std::optional<Duration>> OptDurationIn(const Ctx& c, const toml::table& t,
                                              const std::string& path, std::string_view key,
                                              Duration min, Duration max, bool whole) {
  MIPSEC_ASSIGN_OR_RETURN(auto d, c.L.OptDuration(t, path, key));
  if (!d) return d;
  const toml::node& n = *t.get(key);
  const std::string p = TomlReader::Join(path, key);
  if (whole && d->nanos() % 1'000'000'000 != 0) {
    return c.L.Err(n, p, "must be a whole number of seconds");
  }
  if (*d < min || *d > max) {
    return c.L.Err(n, p, Human(*d) + " is outside " + Human(min) + ".." + Human(max));
  }
  return d;
}

Result<std::optional<MnUdpTunnel>> OptUdpTunnel(const Ctx& c, const toml::table& t,
                                                const std::string& path, std::string_view key) {
  MIPSEC_ASSIGN_OR_RETURN(auto s, c.L.OptString(t, path, key));
  if (!s) return std::optional<MnUdpTunnel>();
  if (*s == "never") return std::optional<MnUdpTunnel>(MnUdpTunnel::kNever);
  if (*s == "request") return std::optional<MnUdpTunnel>(MnUdpTunnel::kRequest);
  if (*s == "force") return std::optional<MnUdpTunnel>(MnUdpTunnel::kForce);
  return c.L.Err(*t.get(key), TomlReader::Join(path, key),
                 "'" + *s + "' is not one of never, request, force");
}

bool IsInterfaceName(const std::string& s) {
  return !s.empty() && s.size() <= 15 && s.find_first_of("/ \t\n:") == std::string::npos &&
         s != "." && s != "..";
}

Status ParseMobileNode(const Ctx& c, const toml::table& t, MnConfig& cfg) {
  const std::string p = "mobile_node";
  MIPSEC_TRY(c.L.CheckKeys(
      t, p,
      {"home_address", "home_prefix_length", "home_gateway", "home_agent", "nai", "spi",
       "algorithm", "key", "key_file", "replay", "tolerance", "lifetime", "retransmissions",
       "retransmit_timeout", "udp_tunnel", "vpn_udp_tunnel", "use_foreign_agents", "t_monitor",
       "monitor_margin", "probe_domains", "tun", "tun_mtu", "table_base", "rule_priority",
       "log_level", "control_socket"}));
  MIPSEC_ASSIGN_OR_RETURN(cfg.home_address, c.L.Unicast(t, p, "home_address"));
  MIPSEC_ASSIGN_OR_RETURN(auto plen, c.L.OptInt(t, p, "home_prefix_length", 8, 30));
  if (plen) cfg.home_prefix_length = static_cast<int>(*plen);
  const Ipv4Prefix home_net =
      Ipv4Prefix::FromAddressAndLength(cfg.home_address, cfg.home_prefix_length)
          .value_or(Ipv4Prefix::Host(cfg.home_address));
  if (cfg.home_address == home_net.address() || cfg.home_address == home_net.Broadcast()) {
    return c.L.Err(*t.get("home_address"), p + ".home_address",
                   cfg.home_address.ToString() + " is not a host address of " +
                       home_net.ToString());
  }
  MIPSEC_ASSIGN_OR_RETURN(cfg.home_gateway, c.L.OptUnicast(t, p, "home_gateway"));
  if (cfg.home_gateway &&
      (!home_net.Contains(*cfg.home_gateway) || *cfg.home_gateway == cfg.home_address)) {
    return c.L.Err(*t.get("home_gateway"), p + ".home_gateway",
                   cfg.home_gateway->ToString() + " is not another host of the home network " +
                       home_net.ToString());
  }
  MIPSEC_ASSIGN_OR_RETURN(cfg.home_agent, c.L.Unicast(t, p, "home_agent"));
  if (cfg.home_agent == cfg.home_address) {
    return c.L.Err(*t.get("home_agent"), p + ".home_agent",
                   "must differ from home_address");
  }
  MIPSEC_ASSIGN_OR_RETURN(auto nai, c.L.OptString(t, p, "nai"));
  if (nai) {
    if (nai->empty() || nai->size() > 255) {
      return c.L.Err(*t.get("nai"), p + ".nai", "must be 1 to 255 bytes");
    }
    for (unsigned char ch : *nai) {
      if (ch <= 0x20 || ch == 0x7f) {
        return c.L.Err(*t.get("nai"), p + ".nai",
                       "must not contain spaces or control characters");
      }
    }
    cfg.nai = *nai;
  }
  MIPSEC_ASSIGN_OR_RETURN(cfg.sa, ParseSaSection(t, p, c.file, c.read_file));
  MIPSEC_ASSIGN_OR_RETURN(auto replay, c.L.OptString(t, p, "replay"));
  if (replay) {
    if (*replay == "timestamp") {
      cfg.replay = ReplayMethod::kTimestamp;
    } else if (*replay == "nonce") {
      cfg.replay = ReplayMethod::kNonce;
    } else {
      return c.L.Err(*t.get("replay"), p + ".replay",
                     "'" + *replay + "' is not one of timestamp, nonce");
    }
  }
  MIPSEC_ASSIGN_OR_RETURN(auto tol, OptDurationIn(c, t, p, "tolerance", Duration::Seconds(1),
                                                  Duration::Seconds(3600), true));
  if (tol) cfg.tolerance = *tol;
  MIPSEC_ASSIGN_OR_RETURN(auto life, OptDurationIn(c, t, p, "lifetime", Duration::Seconds(1),
                                                   Duration::Seconds(kMaxLifetimeSeconds), true));
  if (life) cfg.lifetime = *life;
  MIPSEC_ASSIGN_OR_RETURN(auto rt, c.L.OptInt(t, p, "retransmissions", 0, 10));
  if (rt) cfg.retransmissions = static_cast<int>(*rt);
  // RFC 5944 3.6.3: the first retransmission timeout MUST NOT be less than
  // one second.
  MIPSEC_ASSIGN_OR_RETURN(auto rto, OptDurationIn(c, t, p, "retransmit_timeout",
                                                  Duration::Seconds(1), Duration::Seconds(60),
                                                  false));
  if (rto) cfg.retransmit_timeout = *rto;
  MIPSEC_ASSIGN_OR_RETURN(auto udp, OptUdpTunnel(c, t, p, "udp_tunnel"));
  if (udp) cfg.udp_tunnel = *udp;
  MIPSEC_ASSIGN_OR_RETURN(auto vudp, OptUdpTunnel(c, t, p, "vpn_udp_tunnel"));
  if (vudp) cfg.tunnel_udp_tunnel = *vudp;
  MIPSEC_ASSIGN_OR_RETURN(auto fa, c.L.OptBool(t, p, "use_foreign_agents"));
  cfg.use_foreign_agents = fa.value_or(true);
  MIPSEC_ASSIGN_OR_RETURN(auto tm, OptDurationIn(c, t, p, "t_monitor", Duration::Seconds(2),
                                                 Duration::Seconds(86400), false));
  if (tm) cfg.t_monitor = *tm;
  MIPSEC_ASSIGN_OR_RETURN(auto mm, OptDurationIn(c, t, p, "monitor_margin", Duration::Millis(1),
                                                 Duration::Seconds(86400), false));
  if (mm) cfg.monitor_margin = *mm;
  if (cfg.monitor_margin >= cfg.t_monitor) {
    const char* k = mm ? "monitor_margin" : "t_monitor";
    return c.L.Err(*t.get(k), TomlReader::Join(p, k),
                   "monitor_margin " + Human(cfg.monitor_margin) + " must be below t_monitor " +
                       Human(cfg.t_monitor));
  }
  MIPSEC_ASSIGN_OR_RETURN(cfg.probe_domains, c.L.StringOrList(t, p, "probe_domains"));
  for (std::size_t i = 0; i < cfg.probe_domains.size(); ++i) {
    const std::string& d = cfg.probe_domains[i];
    if (d.empty() || d.size() > 253 || d.find_first_of(" \t\r\n") != std::string::npos) {
      return c.L.Err(*t.get("probe_domains"), Indexed(p + ".probe_domains", i),
                     "'" + d + "' is not a domain name");
    }
  }
  MIPSEC_ASSIGN_OR_RETURN(auto tun, c.L.OptString(t, p, "tun"));
  if (tun) {
    if (!IsInterfaceName(*tun)) {
      return c.L.Err(*t.get("tun"), p + ".tun",
                     "'" + *tun + "' is not an interface name (1 to 15 characters, no '/', ':' or spaces)");
    }
    cfg.tun_name = *tun;
  }
  MIPSEC_ASSIGN_OR_RETURN(auto mtu, c.L.OptInt(t, p, "tun_mtu", 576, 9000));
  if (mtu) cfg.tun_mtu = static_cast<std::uint32_t>(*mtu);
  MIPSEC_ASSIGN_OR_RETURN(auto tb, c.L.OptInt(t, p, "table_base", 1, 0xffff0000LL));
  if (tb) cfg.table_base = static_cast<std::uint32_t>(*tb);
  // Below 32766 (the main table's rule): our rules must be looked at first.
  MIPSEC_ASSIGN_OR_RETURN(auto rp, c.L.OptInt(t, p, "rule_priority", 1, 32765));
  if (rp) cfg.rule_priority = static_cast<std::uint32_t>(*rp);
  MIPSEC_ASSIGN_OR_RETURN(auto level, c.L.OptLogLevel(t, p));
  if (level) cfg.log_level = *level;
  MIPSEC_ASSIGN_OR_RETURN(auto sock, c.L.OptString(t, p, "control_socket"));
  if (sock) {
    // sockaddr_un.sun_path holds 108 bytes including the terminator.
    if (sock->empty() || sock->size() > 107) {
      return c.L.Err(*t.get("control_socket"), p + ".control_socket",
                     "must be 1 to 107 bytes (a Unix socket path)");
    }
    cfg.control_socket = *sock;
  }
  return Ok{};
}

Status ParseInterfaces(const Ctx& c, const toml::table& root, MnConfig& cfg) {
  MIPSEC_ASSIGN_OR_RETURN(auto tables, c.L.Tables(root, "", "interface"));
  if (tables.empty()) {
    return c.L.Err(root, "interface", "missing (at least one [[interface]] is required)");
  }
  if (tables.size() > 64) {
    return c.L.Err(*tables[64], "interface[64]", "at most 64 interfaces");
  }
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const toml::table& t = *tables[i];
    const std::string p = Indexed("interface", i);
    MIPSEC_TRY(c.L.CheckKeys(t, p, {"name", "address", "router", "domain"}));
    MnInterfaceConfig ifc;
    ifc.line = TomlReader::Line(t);
    MIPSEC_ASSIGN_OR_RETURN(ifc.name, c.L.String(t, p, "name"));
    if (!IsInterfaceName(ifc.name)) {
      return c.L.Err(*t.get("name"), p + ".name",
                     "'" + ifc.name + "' is not an interface name (1 to 15 characters, no '/', ':' or spaces)");
    }
    for (const MnInterfaceConfig& other : cfg.interfaces) {
      if (other.name == ifc.name) {
        return c.L.Err(*t.get("name"), p + ".name", "'" + ifc.name + "' is listed twice");
      }
    }
    MIPSEC_ASSIGN_OR_RETURN(auto addr, c.L.OptString(t, p, "address"));
    if (addr) {
      const std::size_t slash = addr->find('/');
      Result<Ipv4Address> a = Ipv4Address::Parse(addr->substr(0, slash));
      int len = -1;
      bool len_ok = false;
      if (slash != std::string::npos) {
        const std::string ls = addr->substr(slash + 1);
        auto [ptr, ec] = std::from_chars(ls.data(), ls.data() + ls.size(), len);
        len_ok = !ls.empty() && ec == std::errc() && ptr == ls.data() + ls.size() && len >= 8 &&
                 len <= 30 && !(ls.size() > 1 && ls[0] == '0');
      }
      if (!a.ok() || !len_ok || !a->IsUnicast()) {
        return c.L.Err(*t.get("address"), p + ".address",
                       "'" + *addr + "' is not a unicast address with a prefix length 8..30 "
                       "(a.b.c.d/len)");
      }
      if (*a == cfg.home_address) {
        return c.L.Err(*t.get("address"), p + ".address",
                       "is the home address (the daemon places the home address itself)");
      }
      ifc.address = *a;
      ifc.prefix_length = len;
    }
    MIPSEC_ASSIGN_OR_RETURN(ifc.router, c.L.OptUnicast(t, p, "router"));
    MIPSEC_ASSIGN_OR_RETURN(auto dom, c.L.OptString(t, p, "domain"));
    if (dom) ifc.domain = *dom;
    if (!ifc.address && (ifc.router || dom)) {
      const char* k = ifc.router ? "router" : "domain";
      return c.L.Err(*t.get(k), TomlReader::Join(p, k),
                     "only with a static address (DHCP supplies it otherwise)");
    }
    if (ifc.address && ifc.router) {
      const Ipv4Prefix net = Ipv4Prefix::FromAddressAndLength(*ifc.address, ifc.prefix_length)
                                 .value_or(Ipv4Prefix::Host(*ifc.address));
      if (!net.Contains(*ifc.router) || *ifc.router == *ifc.address) {
        return c.L.Err(*t.get("router"), p + ".router",
                       ifc.router->ToString() + " is not another host of " + net.ToString());
      }
    }
    cfg.interfaces.push_back(std::move(ifc));
  }
  return Ok{};
}

Status ParseVpn(const Ctx& c, const toml::table& t, MnConfig& cfg) {
  const std::string p = "vpn";
  MIPSEC_TRY(c.L.CheckKeys(
      t, p,
      {"gateway", "gateway_port", "backup_gateways", "local_id", "remote_id", "auth", "psk",
       "psk_file", "certificate", "private_key", "ca", "rsa_pss", "ike_proposals",
       "esp_proposals", "ike_soft_lifetime", "ike_hard_lifetime", "child_soft_lifetime",
       "child_hard_lifetime", "dpd_interval", "nat_keepalive", "force_encapsulation",
       "fragmentation", "mobike", "mobike_return_routability", "routes", "tun", "tun_mtu",
       "vpn_when_inside", "vpn_retry", "vpn_retry_max"}));
  MnVpnConfig vpn;
  MIPSEC_ASSIGN_OR_RETURN(vpn.client, ParseVpnClientSection(t, p, c.file, c.read_file));
  // RFC 5266 3.3: the MN registers the TIA as its co-located care-of
  // address, so it always asks the gateway for one (CP, RFC 7296 3.15).
  vpn.client.request_virtual_ip = true;
  // RFC 5265 4.2 / R25: the registrations to the i-HA go through the tunnel.
  bool ha_routed = false;
  for (const Ipv4Prefix& r : vpn.client.routes) ha_routed = ha_routed || r.Contains(cfg.home_agent);
  if (!ha_routed) {
    return c.L.Err(*t.get("routes"), p + ".routes",
                   "no prefix holds the home agent " + cfg.home_agent.ToString() +
                       " (the registration in mc goes through the tunnel, RFC 5266 3.3)");
  }
  MIPSEC_ASSIGN_OR_RETURN(auto backups, c.L.StringOrList(t, p, "backup_gateways"));
  for (std::size_t i = 0; i < backups.size(); ++i) {
    const std::string bp = Indexed(p + ".backup_gateways", i);
    Result<Ipv4Address> a = Ipv4Address::Parse(backups[i]);
    if (!a.ok() || !a->IsUnicast()) {
      return c.L.Err(*t.get("backup_gateways"), bp,
                     "'" + backups[i] + "' is not a unicast IPv4 address");
    }
    if (*a == vpn.client.gateway ||
        std::find(vpn.backup_gateways.begin(), vpn.backup_gateways.end(), *a) !=
            vpn.backup_gateways.end()) {
      return c.L.Err(*t.get("backup_gateways"), bp, a->ToString() + " is listed twice");
    }
    vpn.backup_gateways.push_back(*a);
  }
  MIPSEC_ASSIGN_OR_RETURN(auto when, c.L.OptString(t, p, "vpn_when_inside"));
  if (when) {
    if (*when == "keep") {
      vpn.tear_down_when_inside = false;
    } else if (*when == "tear-down") {
      vpn.tear_down_when_inside = true;
    } else {
      return c.L.Err(*t.get("vpn_when_inside"), p + ".vpn_when_inside",
                     "'" + *when + "' is not one of keep, tear-down");
    }
  }
  MIPSEC_ASSIGN_OR_RETURN(auto retry, OptDurationIn(c, t, p, "vpn_retry", Duration::Millis(100),
                                                    Duration::Seconds(3600), false));
  if (retry) vpn.retry = *retry;
  MIPSEC_ASSIGN_OR_RETURN(auto rmax, OptDurationIn(c, t, p, "vpn_retry_max",
                                                   Duration::Millis(100),
                                                   Duration::Seconds(86400), false));
  if (rmax) vpn.retry_max = *rmax;
  if (vpn.retry_max < vpn.retry) {
    const char* k = rmax ? "vpn_retry_max" : "vpn_retry";
    return c.L.Err(*t.get(k), TomlReader::Join(p, k),
                   "vpn_retry_max " + Human(vpn.retry_max) + " is below vpn_retry " +
                       Human(vpn.retry));
  }
  for (const MnInterfaceConfig& ifc : cfg.interfaces) {
    if (ifc.name == vpn.client.tun_name) {
      return c.L.Err(t, p + ".tun", "'" + ifc.name + "' is also an [[interface]]");
    }
  }
  // The tunnel engine's datagrams are the home-address TUN's plus IP-in-IP
  // (20 bytes) or an RFC 3519 UDP tunnel (20 + 8 + 4): the ESP TUN must
  // take them whole, or the MN's own datagrams of full size would be
  // refused by the kernel (EMSGSIZE) with nobody to tell the sender.
  constexpr std::uint32_t kTunnelOverhead = 32;
  if (!t.contains("tun_mtu")) {
    vpn.client.tun_mtu = cfg.tun_mtu + kTunnelOverhead;
  } else if (vpn.client.tun_mtu < cfg.tun_mtu + kTunnelOverhead) {
    return c.L.Err(*t.get("tun_mtu"), p + ".tun_mtu",
                   std::to_string(vpn.client.tun_mtu) + " is below mobile_node.tun_mtu " +
                       std::to_string(cfg.tun_mtu) + " + 32 (the Mobile IPv4 tunnel inside "
                       "the VPN: IP-in-IP, or RFC 3519 UDP)");
  }
  if (vpn.client.tun_name == cfg.tun_name) {
    return c.L.Err(t, p + ".tun", "'" + cfg.tun_name + "' is also mobile_node.tun");
  }
  cfg.vpn = std::move(vpn);
  return Ok{};
}

}  // namespace

std::string_view MnUdpTunnelName(MnUdpTunnel p) {
  switch (p) {
    case MnUdpTunnel::kNever: return "never";
    case MnUdpTunnel::kRequest: return "request";
    case MnUdpTunnel::kForce: return "force";
  }
  return "unknown";
}

namespace {

bool SameInterfaces(const std::vector<MnInterfaceConfig>& a,
                    const std::vector<MnInterfaceConfig>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].address != b[i].address ||
        a[i].prefix_length != b[i].prefix_length || a[i].router != b[i].router ||
        a[i].domain != b[i].domain) {
      return false;
    }
  }
  return true;
}

void DiffVpn(const std::optional<MnVpnConfig>& r, const std::optional<MnVpnConfig>& l,
             std::vector<std::string>& x) {
  if (r.has_value() != l.has_value()) {
    x.emplace_back("vpn");
    return;
  }
  if (!r) return;
  const VpnClientConfig& a = r->client;
  const VpnClientConfig& b = l->client;
  NoteChangedKey(x, "vpn.gateway", a.gateway, b.gateway);
  NoteChangedKey(x, "vpn.gateway_port", a.gateway_port, b.gateway_port);
  NoteChangedKey(x, "vpn.backup_gateways", r->backup_gateways, l->backup_gateways);
  NoteChangedKey(x, "vpn.local_id", a.ike.local_id, b.ike.local_id);
  NoteChangedKey(x, "vpn.remote_id", a.ike.remote_id, b.ike.remote_id);
  NoteChangedKey(x, "vpn.auth", a.ike.auth.kind, b.ike.auth.kind);
  if (!a.ike.auth.psk.Equals(b.ike.auth.psk)) x.emplace_back("vpn.psk");
  NoteChangedKey(x, "vpn.ike_proposals", a.ike.ike_proposals, b.ike.ike_proposals);
  NoteChangedKey(x, "vpn.esp_proposals", a.ike.esp_proposals, b.ike.esp_proposals);
  if (!(a.ike.lifetimes.ike_soft == b.ike.lifetimes.ike_soft &&
        a.ike.lifetimes.ike_hard == b.ike.lifetimes.ike_hard &&
        a.ike.lifetimes.child_soft == b.ike.lifetimes.child_soft &&
        a.ike.lifetimes.child_hard == b.ike.lifetimes.child_hard)) {
    x.emplace_back("vpn.lifetimes");
  }
  NoteChangedKey(x, "vpn.dpd_interval", a.ike.dpd_interval, b.ike.dpd_interval);
  NoteChangedKey(x, "vpn.nat_keepalive", a.ike.nat_keepalive, b.ike.nat_keepalive);
  NoteChangedKey(x, "vpn.force_encapsulation", a.ike.force_encapsulation,
                 b.ike.force_encapsulation);
  NoteChangedKey(x, "vpn.fragmentation", a.ike.fragmentation, b.ike.fragmentation);
  NoteChangedKey(x, "vpn.mobike", a.ike.mobike, b.ike.mobike);
  NoteChangedKey(x, "vpn.routes", a.routes, b.routes);
  NoteChangedKey(x, "vpn.tun", a.tun_name, b.tun_name);
  NoteChangedKey(x, "vpn.tun_mtu", a.tun_mtu, b.tun_mtu);
  NoteChangedKey(x, "vpn.vpn_when_inside", r->tear_down_when_inside, l->tear_down_when_inside);
  NoteChangedKey(x, "vpn.vpn_retry", r->retry, l->retry);
  NoteChangedKey(x, "vpn.vpn_retry_max", r->retry_max, l->retry_max);
}

}  // namespace

ReloadDiff DiffMnConfig(const MnConfig& r, const MnConfig& l) {
  ReloadDiff d;
  std::vector<std::string>& c = d.changed;
  NoteChangedKey(c, "log_level", r.log_level, l.log_level);
  NoteChangedKey(c, "use_foreign_agents", r.use_foreign_agents, l.use_foreign_agents);
  NoteChangedKey(c, "t_monitor", r.t_monitor, l.t_monitor);
  NoteChangedKey(c, "monitor_margin", r.monitor_margin, l.monitor_margin);
  NoteChangedKey(c, "probe_domains", r.probe_domains, l.probe_domains);
  std::vector<std::string>& x = d.restart_only;
  NoteChangedKey(x, "home_address", r.home_address, l.home_address);
  NoteChangedKey(x, "home_prefix_length", r.home_prefix_length, l.home_prefix_length);
  NoteChangedKey(x, "home_gateway", r.home_gateway, l.home_gateway);
  NoteChangedKey(x, "home_agent", r.home_agent, l.home_agent);
  NoteChangedKey(x, "nai", r.nai, l.nai);
  NoteChangedKey(x, "spi", r.sa.spi, l.sa.spi);
  NoteChangedKey(x, "algorithm", r.sa.algorithm, l.sa.algorithm);
  if (!r.sa.key.Equals(l.sa.key)) x.emplace_back("key");
  NoteChangedKey(x, "replay", r.replay, l.replay);
  NoteChangedKey(x, "tolerance", r.tolerance, l.tolerance);
  NoteChangedKey(x, "lifetime", r.lifetime, l.lifetime);
  NoteChangedKey(x, "retransmissions", r.retransmissions, l.retransmissions);
  NoteChangedKey(x, "retransmit_timeout", r.retransmit_timeout, l.retransmit_timeout);
  NoteChangedKey(x, "udp_tunnel", r.udp_tunnel, l.udp_tunnel);
  NoteChangedKey(x, "vpn_udp_tunnel", r.tunnel_udp_tunnel, l.tunnel_udp_tunnel);
  NoteChangedKey(x, "tun", r.tun_name, l.tun_name);
  NoteChangedKey(x, "tun_mtu", r.tun_mtu, l.tun_mtu);
  NoteChangedKey(x, "table_base", r.table_base, l.table_base);
  NoteChangedKey(x, "rule_priority", r.rule_priority, l.rule_priority);
  NoteChangedKey(x, "control_socket", r.control_socket, l.control_socket);
  if (!SameInterfaces(r.interfaces, l.interfaces)) x.emplace_back("interface");
  DiffVpn(r.vpn, l.vpn, x);
  return d;
}

MnConfig MergeMnReload(const MnConfig& running, const MnConfig& loaded) {
  MnConfig c = running;
  c.log_level = loaded.log_level;
  c.use_foreign_agents = loaded.use_foreign_agents;
  c.t_monitor = loaded.t_monitor;
  c.monitor_margin = loaded.monitor_margin;
  c.probe_domains = loaded.probe_domains;
  return c;
}

Result<MnConfig> ParseMnConfig(std::string_view text, std::string_view file,
                               const FileReader& read_file) {
  Ctx c{TomlReader(file), read_file, std::string(file)};
  MIPSEC_ASSIGN_OR_RETURN(const toml::table root, ParseTomlDocument(text, file));
  MIPSEC_TRY(c.L.CheckKeys(root, "", {"mobile_node", "interface", "vpn"}));
  MnConfig cfg;
  MIPSEC_ASSIGN_OR_RETURN(const toml::table* mn, c.L.OptTable(root, "", "mobile_node"));
  if (!mn) return c.L.Err(root, "mobile_node", "missing (required table [mobile_node])");
  MIPSEC_TRY(ParseMobileNode(c, *mn, cfg));
  MIPSEC_TRY(ParseInterfaces(c, root, cfg));
  for (const MnInterfaceConfig& ifc : cfg.interfaces) {
    if (ifc.name == cfg.tun_name) {
      return c.L.Err(*mn, "mobile_node.tun", "'" + ifc.name + "' is also an [[interface]]");
    }
  }
  // Interface tables table_base + 0..63, the FA next-hop table + 64, the
  // TIA's table (mc) + 65.
  if (static_cast<std::uint64_t>(cfg.table_base) + 65 > 0xffff0000ULL) {
    return c.L.Err(*mn->get("table_base"), "mobile_node.table_base",
                   "too large: tables table_base..table_base+65 are used");
  }
  MIPSEC_ASSIGN_OR_RETURN(const toml::table* vpn, c.L.OptTable(root, "", "vpn"));
  if (vpn) MIPSEC_TRY(ParseVpn(c, *vpn, cfg));
  return cfg;
}

Result<MnConfig> LoadMnConfig(const std::string& path, const FileReader& read_file) {
  MIPSEC_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return ParseMnConfig(text, path, read_file);
}

}  // namespace mipsec::config

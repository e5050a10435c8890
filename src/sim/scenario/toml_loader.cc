// Scenario TOML loader. The typed getters, error formatting and duration
// parsing are shared with the daemon configuration (config/toml_reader.h).
#include "sim/scenario/toml_loader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "config/gw_config.h"  // ParseIdentity: the same identities as gw.toml
#include "config/toml_reader.h"

namespace mipsec::sim::scenario {

namespace {

using config::Indexed;

// The shared reader plus the scenario's source positions.
class Loader : public config::TomlReader {
 public:
  using TomlReader::TomlReader;
  Where At(const toml::node& n) const { return Where{file(), Line(n)}; }
};

Result<LinkParams> ParseLinkParams(const Loader& L, const toml::table& t, const std::string& path,
                                   LinkParams p) {
  MIPSEC_ASSIGN_OR_RETURN(auto delay, L.OptDuration(t, path, "delay"));
  if (delay) p.delay = *delay;
  MIPSEC_ASSIGN_OR_RETURN(auto jitter, L.OptDuration(t, path, "jitter"));
  if (jitter) p.jitter = *jitter;
  if (const toml::node* n = t.get("bandwidth")) {
    if (!n->is_string()) return L.Err(*n, Loader::Join(path, "bandwidth"), "must be a string like \"100Mbit\"");
    Result<std::uint64_t> bw = ParseBandwidthText(n->as_string()->get());
    if (!bw.ok()) return L.Err(*n, Loader::Join(path, "bandwidth"), bw.error().detail());
    p.bandwidth_bps = *bw;
  }
  MIPSEC_ASSIGN_OR_RETURN(auto mtu, L.OptInt(t, path, "mtu", 68, 65535));
  if (mtu) p.mtu = static_cast<std::uint32_t>(*mtu);
  MIPSEC_ASSIGN_OR_RETURN(auto loss, L.OptProbability(t, path, "loss"));
  if (loss) p.loss = *loss;
  MIPSEC_ASSIGN_OR_RETURN(auto dup, L.OptProbability(t, path, "duplicate"));
  if (dup) p.duplicate = *dup;
  if (const toml::node* n = t.get("burst")) {
    const toml::table* b = n->as_table();
    std::string bp = Loader::Join(path, "burst");
    if (!b) return L.Err(*n, bp, "must be a table { enter = .., exit = .., loss = .. }");
    MIPSEC_TRY(L.CheckKeys(*b, bp, {"enter", "exit", "loss"}));
    MIPSEC_ASSIGN_OR_RETURN(auto enter, L.OptProbability(*b, bp, "enter"));
    MIPSEC_ASSIGN_OR_RETURN(auto exit_p, L.OptProbability(*b, bp, "exit"));
    MIPSEC_ASSIGN_OR_RETURN(auto bloss, L.OptProbability(*b, bp, "loss"));
    if (!enter) return L.Err(*b, Loader::Join(bp, "enter"), "missing (required)");
    p.burst_enter = *enter;
    if (exit_p) p.burst_exit = *exit_p;
    if (bloss) p.burst_loss = *bloss;
  }
  if (const toml::node* n = t.get("reorder")) {
    const toml::table* r = n->as_table();
    std::string rp = Loader::Join(path, "reorder");
    if (!r) return L.Err(*n, rp, "must be a table { probability = .., delay = \"5ms\" }");
    MIPSEC_TRY(L.CheckKeys(*r, rp, {"probability", "delay"}));
    MIPSEC_ASSIGN_OR_RETURN(auto prob, L.OptProbability(*r, rp, "probability"));
    MIPSEC_ASSIGN_OR_RETURN(auto rd, L.OptDuration(*r, rp, "delay"));
    if (!prob) return L.Err(*r, Loader::Join(rp, "probability"), "missing (required)");
    p.reorder = *prob;
    if (rd) p.reorder_delay = *rd;
  }
  Status v = p.Validate();
  if (!v.ok()) return L.Err(t, path, v.error().detail());
  return p;
}

Result<std::pair<Ipv4Address, int>> ParseAddressWithLength(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return Error(Errc::kMalformed, "no prefix length");
  MIPSEC_ASSIGN_OR_RETURN(Ipv4Address a, Ipv4Address::Parse(s.substr(0, slash)));
  int len = -1;
  std::string_view ls = s.substr(slash + 1);
  auto [ptr, ec] = std::from_chars(ls.data(), ls.data() + ls.size(), len);
  if (ec != std::errc() || ptr != ls.data() + ls.size() || len < 0 || len > 32 || ls.empty()) {
    return Error(Errc::kMalformed, "bad prefix length");
  }
  return std::make_pair(a, len);
}

Result<NatBehavior> ParseBehaviour(std::string_view s) {
  if (s == "endpoint-independent") return NatBehavior::kEndpointIndependent;
  if (s == "address-dependent") return NatBehavior::kAddressDependent;
  if (s == "address-and-port-dependent" || s == "symmetric") {
    return NatBehavior::kAddressAndPortDependent;
  }
  return Error(Errc::kMalformed, "behaviour");
}

Result<FirewallAction> ParseAction(std::string_view s) {
  if (s == "accept") return FirewallAction::kAccept;
  if (s == "drop") return FirewallAction::kDrop;
  if (s == "reject") return FirewallAction::kReject;
  return Error(Errc::kMalformed, "action");
}

Result<std::uint8_t> ParseProtocol(std::string_view s) {
  if (s == "udp") return std::uint8_t{17};
  if (s == "tcp") return std::uint8_t{6};
  if (s == "icmp") return std::uint8_t{1};
  if (s == "esp") return std::uint8_t{50};
  if (s == "ipip") return std::uint8_t{4};
  if (s == "gre") return std::uint8_t{47};
  return Error(Errc::kMalformed, "protocol");
}

Status ParseNodes(const Loader& L, const toml::table& root, Scenario& sc) {
  MIPSEC_ASSIGN_OR_RETURN(auto nodes, L.Tables(root, "", "node"));
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const toml::table& t = *nodes[i];
    std::string path = Indexed("node", i);
    MIPSEC_TRY(L.CheckKeys(t, path, {"name", "kind", "role", "interface", "route"}));
    NodeSpec n;
    n.where = L.At(t);
    MIPSEC_ASSIGN_OR_RETURN(n.name, L.String(t, path, "name"));
    MIPSEC_ASSIGN_OR_RETURN(auto kind, L.OptString(t, path, "kind"));
    if (kind && *kind != "host" && *kind != "router") {
      return L.Err(*t.get("kind"), path + ".kind", "must be \"host\" or \"router\"");
    }
    n.router = kind && *kind == "router";
    MIPSEC_ASSIGN_OR_RETURN(auto role, L.OptString(t, path, "role"));
    n.role = role.value_or("");
    for (const NodeSpec& other : sc.nodes) {
      if (other.name == n.name) {
        return L.Err(*t.get("name"), path + ".name",
                     "node '" + n.name + "' is already defined at line " +
                         std::to_string(other.where.line));
      }
    }
    MIPSEC_ASSIGN_OR_RETURN(auto ifcs, L.Tables(t, path, "interface"));
    for (std::size_t j = 0; j < ifcs.size(); ++j) {
      const toml::table& it = *ifcs[j];
      std::string ip = path + "." + Indexed("interface", j);
      MIPSEC_TRY(L.CheckKeys(it, ip, {"name", "segment", "address", "mtu", "dhcp"}));
      InterfaceSpec ifc;
      ifc.where = L.At(it);
      MIPSEC_ASSIGN_OR_RETURN(ifc.name, L.String(it, ip, "name"));
      MIPSEC_ASSIGN_OR_RETURN(auto seg, L.OptString(it, ip, "segment"));
      ifc.segment = seg.value_or("");
      if (!ifc.segment.empty() &&
          std::none_of(sc.segments.begin(), sc.segments.end(),
                       [&](const SegmentSpec& s) { return s.name == ifc.segment; })) {
        return L.Err(*it.get("segment"), ip + ".segment", "no segment named '" + ifc.segment + "'");
      }
      MIPSEC_ASSIGN_OR_RETURN(auto addr, (L.OptParsed<std::pair<Ipv4Address, int>>(
                                             it, ip, "address", ParseAddressWithLength,
                                             "an IPv4 address with a prefix length (a.b.c.d/n)")));
      if (addr) {
        if (!addr->first.IsUnicast()) {
          return L.Err(*it.get("address"), ip + ".address", "must be a unicast address");
        }
        ifc.address = addr->first;
        ifc.prefix_length = addr->second;
      }
      MIPSEC_ASSIGN_OR_RETURN(auto mtu, L.OptInt(it, ip, "mtu", 68, 65535));
      if (mtu) ifc.mtu = static_cast<std::uint32_t>(*mtu);
      MIPSEC_ASSIGN_OR_RETURN(auto dhcp, L.OptBool(it, ip, "dhcp"));
      ifc.dhcp = dhcp.value_or(false);
      for (const InterfaceSpec& other : n.interfaces) {
        if (other.name == ifc.name) {
          return L.Err(*it.get("name"), ip + ".name", "interface '" + ifc.name + "' defined twice");
        }
      }
      n.interfaces.push_back(std::move(ifc));
    }
    MIPSEC_ASSIGN_OR_RETURN(auto routes, L.Tables(t, path, "route"));
    for (std::size_t j = 0; j < routes.size(); ++j) {
      const toml::table& rt = *routes[j];
      std::string rp = path + "." + Indexed("route", j);
      MIPSEC_TRY(L.CheckKeys(rt, rp, {"to", "via", "metric"}));
      RouteSpec r;
      r.where = L.At(rt);
      MIPSEC_ASSIGN_OR_RETURN(auto to, (L.OptParsed<Ipv4Prefix>(
                                           rt, rp, "to", [](std::string_view s) {
                                             return s == "default" ? Result<Ipv4Prefix>(Ipv4Prefix())
                                                                   : Ipv4Prefix::Parse(s);
                                           },
                                           "a prefix (a.b.c.0/n, host bits clear) or \"default\"")));
      if (!to) return L.Err(rt, rp + ".to", "missing (required)");
      r.to = *to;
      MIPSEC_ASSIGN_OR_RETURN(auto via, L.OptParsed<Ipv4Address>(rt, rp, "via", Ipv4Address::Parse,
                                                                 "an IPv4 address"));
      if (!via) return L.Err(rt, rp + ".via", "missing (required)");
      r.via = *via;
      bool on_link = false;
      for (const InterfaceSpec& ifc : n.interfaces) {
        if (ifc.address && Ipv4Prefix::FromAddressAndLength(*ifc.address, ifc.prefix_length)
                               ->Contains(r.via)) {
          on_link = true;
        }
      }
      if (!on_link) {
        return L.Err(*rt.get("via"), rp + ".via",
                     "gateway " + r.via.ToString() + " is on none of node '" + n.name +
                         "''s static interface subnets");
      }
      MIPSEC_ASSIGN_OR_RETURN(auto metric, L.OptInt(rt, rp, "metric", 0, 0xffffffffLL));
      r.metric = static_cast<std::uint32_t>(metric.value_or(0));
      n.routes.push_back(r);
    }
    sc.nodes.push_back(std::move(n));
  }
  return Ok{};
}

const NodeSpec* FindNode(const Scenario& sc, std::string_view name) {
  for (const NodeSpec& n : sc.nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

const InterfaceSpec* FindInterface(const NodeSpec& n, std::string_view name) {
  for (const InterfaceSpec& i : n.interfaces) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

// Resolves `node` (and optionally `interface`) keys against the scenario.
Status CheckNodeRef(const Loader& L, const Scenario& sc, const toml::table& t,
                    const std::string& path, const std::string& node,
                    const std::string* interface_key, const std::string* interface) {
  const NodeSpec* n = FindNode(sc, node);
  if (!n) return L.Err(*t.get("node"), path + ".node", "no node named '" + node + "'");
  if (interface && !FindInterface(*n, *interface)) {
    return L.Err(*t.get(*interface_key), path + "." + *interface_key,
                 "node '" + node + "' has no interface '" + *interface + "'");
  }
  return Ok{};
}

// ---- Protocol agents ----

// A duration in whole seconds within [min_s, max_s] (the protocol carries
// seconds).
Result<std::optional<Duration>> OptSeconds(const Loader& L, const toml::table& t,
                                           const std::string& path, std::string_view key,
                                           std::int64_t min_s, std::int64_t max_s) {
  MIPSEC_ASSIGN_OR_RETURN(auto d, L.OptDuration(t, path, key));
  if (!d) return d;
  const toml::node& n = *t.get(key);
  if (d->nanos() % 1'000'000'000 != 0) {
    return L.Err(n, Loader::Join(path, key), "must be a whole number of seconds");
  }
  if (d->seconds() < min_s || d->seconds() > max_s) {
    return L.Err(n, Loader::Join(path, key),
                 d->ToString() + " is outside " + std::to_string(min_s) + "s.." +
                     std::to_string(max_s) + "s");
  }
  return d;
}

// advertisement_interval: 100ms..1800s (the daemons' range), or "0s" for none
// when `allow_off`.
Status ParseAdvertisementInterval(const Loader& L, const toml::table& t, const std::string& path,
                                  bool allow_off, Duration& interval) {
  MIPSEC_ASSIGN_OR_RETURN(auto iv, L.OptDuration(t, path, "advertisement_interval"));
  if (!iv) return Ok{};
  const bool off = allow_off && *iv == Duration::Zero();
  if (!off && (*iv < Duration::Millis(100) || *iv > Duration::Seconds(1800))) {
    return L.Err(*t.get("advertisement_interval"), path + ".advertisement_interval",
                 iv->ToString() + " is outside 100ms..1800s" +
                     (allow_off ? " (0s: no advertisements)" : ""));
  }
  interval = *iv;
  return Ok{};
}

// A required hex secret of at least `min_size` bytes. Errors never quote it.
Result<SecretBytes> HexSecret(const Loader& L, const toml::table& t, const std::string& path,
                              std::string_view key, std::size_t min_size, const char* why) {
  const toml::node* n = t.get(key);
  const std::string kp = Loader::Join(path, key);
  if (!n) return L.Err(t, kp, "missing (required)");
  if (!n->is_string()) return L.Err(*n, kp, "must be a string of hex digits");
  Result<Bytes> bytes = FromHex(n->as_string()->get());
  if (!bytes.ok()) return L.Err(*n, kp, "is not hexadecimal (the value is not shown)");
  SecretBytes secret(*bytes);
  std::fill(bytes->begin(), bytes->end(), 0);
  if (secret.size() < min_size) {
    return L.Err(*n, kp,
                 std::to_string(secret.size()) + " bytes; at least " + std::to_string(min_size) +
                     " needed (" + why + ")");
  }
  return secret;
}

// An agent's `node` and `interface`: the node must exist and be a router (an
// agent forwards), the interface must exist and have a static address. Only
// one Mobile IP agent per node: both bind UDP 434 (RFC 5944 3.1).
Result<const InterfaceSpec*> AgentInterface(const Loader& L, const Scenario& sc,
                                            const toml::table& t, const std::string& path,
                                            const std::string& node, const std::string& interface,
                                            const char* what) {
  std::string ik = "interface";
  MIPSEC_TRY(CheckNodeRef(L, sc, t, path, node, &ik, &interface));
  const NodeSpec* n = FindNode(sc, node);
  if (!n->router) {
    return L.Err(*t.get("node"), path + ".node",
                 "node '" + node + "' must be a router (kind = \"router\") to run " + what);
  }
  const InterfaceSpec* ifc = FindInterface(*n, interface);
  if (!ifc->address) {
    return L.Err(*t.get("interface"), path + ".interface",
                 std::string(what) + " needs a static address on '" + interface + "'");
  }
  return ifc;
}

Status CheckOneMip4Agent(const Loader& L, const Scenario& sc, const toml::table& t,
                         const std::string& path, const std::string& node) {
  for (const HomeAgentSpec& h : sc.home_agents) {
    if (h.node == node) {
      return L.Err(*t.get("node"), path + ".node",
                   "node '" + node + "' already runs a home agent (line " +
                       std::to_string(h.where.line) + "); one Mobile IP agent per node");
    }
  }
  for (const ForeignAgentSpec& f : sc.foreign_agents) {
    if (f.node == node) {
      return L.Err(*t.get("node"), path + ".node",
                   "node '" + node + "' already runs a foreign agent (line " +
                       std::to_string(f.where.line) + "); one Mobile IP agent per node");
    }
  }
  return Ok{};
}

Result<std::vector<Ipv4Prefix>> PrefixList(const Loader& L, const toml::table& t,
                                           const std::string& path, std::string_view key) {
  MIPSEC_ASSIGN_OR_RETURN(auto list, L.StringOrList(t, path, key));
  std::vector<Ipv4Prefix> out;
  for (const std::string& s : list) {
    Result<Ipv4Prefix> p = Ipv4Prefix::Parse(s);
    if (!p.ok()) {
      return L.Err(*t.get(key), Loader::Join(path, key),
                   "'" + s + "' is not a prefix (a.b.c.0/n, host bits clear)");
    }
    out.push_back(*p);
  }
  return out;
}

Status ParseHomeAgents(const Loader& L, const toml::table& root, Scenario& sc) {
  MIPSEC_ASSIGN_OR_RETURN(auto tables, L.Tables(root, "", "home_agent"));
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const toml::table& t = *tables[i];
    std::string path = Indexed("home_agent", i);
    MIPSEC_TRY(L.CheckKeys(t, path, {"node", "interface", "home_network", "trusted_subnets",
                                     "max_lifetime", "advertisement_interval", "reverse_tunnel",
                                     "mobile_node"}));
    HomeAgentSpec s;
    s.where = L.At(t);
    MIPSEC_ASSIGN_OR_RETURN(s.node, L.String(t, path, "node"));
    MIPSEC_ASSIGN_OR_RETURN(s.interface, L.String(t, path, "interface"));
    MIPSEC_ASSIGN_OR_RETURN(const InterfaceSpec* ifc,
                            AgentInterface(L, sc, t, path, s.node, s.interface, "a home agent"));
    MIPSEC_TRY(CheckOneMip4Agent(L, sc, t, path, s.node));
    s.address = *ifc->address;
    MIPSEC_ASSIGN_OR_RETURN(auto net, L.OptParsed<Ipv4Prefix>(
                                          t, path, "home_network", Ipv4Prefix::Parse,
                                          "a prefix (a.b.c.0/n, host bits clear)"));
    if (!net) return L.Err(t, path + ".home_network", "missing (required)");
    if (net->length() > 30) {
      return L.Err(*t.get("home_network"), path + ".home_network",
                   net->ToString() + " is too small for a home network (at most /30)");
    }
    if (!net->Contains(s.address)) {
      return L.Err(*t.get("home_network"), path + ".home_network",
                   net->ToString() + " does not contain the home agent's address " +
                       s.address.ToString() + " (" + s.node + "/" + s.interface + ")");
    }
    s.home_network = *net;
    MIPSEC_ASSIGN_OR_RETURN(s.trusted_subnets, PrefixList(L, t, path, "trusted_subnets"));
    MIPSEC_ASSIGN_OR_RETURN(auto life, OptSeconds(L, t, path, "max_lifetime", 1, 65534));
    if (life) s.max_lifetime = *life;
    MIPSEC_TRY(
        ParseAdvertisementInterval(L, t, path, /*allow_off=*/true, s.advertisement_interval));
    MIPSEC_ASSIGN_OR_RETURN(auto rt, L.OptBool(t, path, "reverse_tunnel"));
    s.reverse_tunnel = rt.value_or(true);
    MIPSEC_ASSIGN_OR_RETURN(auto mns, L.Tables(t, path, "mobile_node"));
    for (std::size_t j = 0; j < mns.size(); ++j) {
      const toml::table& mt = *mns[j];
      std::string mp = path + "." + Indexed("mobile_node", j);
      MIPSEC_TRY(L.CheckKeys(mt, mp, {"home_address", "spi", "key", "replay"}));
      MobileNodeSpec m;
      m.where = L.At(mt);
      MIPSEC_ASSIGN_OR_RETURN(auto home, L.OptParsed<Ipv4Address>(mt, mp, "home_address",
                                                                  Ipv4Address::Parse,
                                                                  "an IPv4 address"));
      if (!home) return L.Err(mt, mp + ".home_address", "missing (required)");
      if (!s.home_network.Contains(*home) || *home == s.home_network.address() ||
          *home == s.home_network.Broadcast() || *home == s.address) {
        return L.Err(*mt.get("home_address"), mp + ".home_address",
                     home->ToString() + " is not a host address of home_network " +
                         s.home_network.ToString() + " other than the home agent's");
      }
      for (const MobileNodeSpec& other : s.mobile_nodes) {
        if (other.home_address == *home) {
          return L.Err(*mt.get("home_address"), mp + ".home_address",
                       home->ToString() + " is already defined at line " +
                           std::to_string(other.where.line));
        }
      }
      m.home_address = *home;
      MIPSEC_ASSIGN_OR_RETURN(auto spi, L.OptInt(mt, mp, "spi", 0, 0xffffffffLL));
      if (!spi) return L.Err(mt, mp + ".spi", "missing (required)");
      if (*spi < 256) {
        // RFC 5944 1.6: SPI values 0 through 255 are reserved.
        return L.Err(*mt.get("spi"), mp + ".spi",
                     std::to_string(*spi) + " is reserved (SPIs 0-255, RFC 5944 1.6)");
      }
      m.spi = static_cast<std::uint32_t>(*spi);
      // RFC 5944 5.1: HMAC-MD5 with keys of at least 128 bits.
      MIPSEC_ASSIGN_OR_RETURN(m.key, HexSecret(L, mt, mp, "key", 16, "128 bits, RFC 5944 5.1"));
      MIPSEC_ASSIGN_OR_RETURN(auto replay, L.OptString(mt, mp, "replay"));
      if (replay && *replay != "timestamp" && *replay != "nonce") {
        return L.Err(*mt.get("replay"), mp + ".replay",
                     "'" + *replay + "' is not \"timestamp\" or \"nonce\" (RFC 5944 5.7)");
      }
      m.nonce_replay = replay && *replay == "nonce";
      s.mobile_nodes.push_back(std::move(m));
    }
    sc.home_agents.push_back(std::move(s));
  }
  return Ok{};
}

Status ParseForeignAgents(const Loader& L, const toml::table& root, Scenario& sc) {
  MIPSEC_ASSIGN_OR_RETURN(auto tables, L.Tables(root, "", "foreign_agent"));
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const toml::table& t = *tables[i];
    std::string path = Indexed("foreign_agent", i);
    MIPSEC_TRY(L.CheckKeys(t, path, {"node", "interface", "care_of_addresses",
                                     "advertisement_interval", "max_lifetime",
                                     "reverse_tunnel", "behind_nat"}));
    ForeignAgentSpec s;
    s.where = L.At(t);
    MIPSEC_ASSIGN_OR_RETURN(s.node, L.String(t, path, "node"));
    MIPSEC_ASSIGN_OR_RETURN(s.interface, L.String(t, path, "interface"));
    MIPSEC_ASSIGN_OR_RETURN(const InterfaceSpec* ifc,
                            AgentInterface(L, sc, t, path, s.node, s.interface, "a foreign agent"));
    MIPSEC_TRY(CheckOneMip4Agent(L, sc, t, path, s.node));
    s.address = *ifc->address;
    s.prefix_length = ifc->prefix_length;
    if (s.prefix_length > 30) {
      return L.Err(*t.get("interface"), path + ".interface",
                   "'" + s.interface + "' has a /" + std::to_string(s.prefix_length) +
                       " address; a visited link needs at most /30");
    }
    MIPSEC_ASSIGN_OR_RETURN(auto coas, L.StringOrList(t, path, "care_of_addresses"));
    const NodeSpec* n = FindNode(sc, s.node);
    for (const std::string& c : coas) {
      Result<Ipv4Address> a = Ipv4Address::Parse(c);
      if (!a.ok()) {
        return L.Err(*t.get("care_of_addresses"), path + ".care_of_addresses",
                     "'" + c + "' is not an IPv4 address");
      }
      // RFC 5944 2.1.1: the FA receives tunnels at its care-of addresses.
      if (std::none_of(n->interfaces.begin(), n->interfaces.end(),
                       [&](const InterfaceSpec& x) { return x.address == *a; })) {
        return L.Err(*t.get("care_of_addresses"), path + ".care_of_addresses",
                     c + " is not a static address of node '" + s.node + "'");
      }
      s.care_of_addresses.push_back(*a);
    }
    if (coas.size() > 62) {
      return L.Err(*t.get("care_of_addresses"), path + ".care_of_addresses",
                   "at most 62 care-of addresses (RFC 5944 2.1.1)");
    }
    if (s.care_of_addresses.empty()) s.care_of_addresses.push_back(s.address);
    MIPSEC_TRY(
        ParseAdvertisementInterval(L, t, path, /*allow_off=*/false, s.advertisement_interval));
    MIPSEC_ASSIGN_OR_RETURN(auto life, OptSeconds(L, t, path, "max_lifetime", 1, 65534));
    if (life) s.max_lifetime = *life;
    MIPSEC_ASSIGN_OR_RETURN(auto rt, L.OptBool(t, path, "reverse_tunnel"));
    s.reverse_tunnel = rt.value_or(true);
    MIPSEC_ASSIGN_OR_RETURN(auto nat, L.OptBool(t, path, "behind_nat"));
    s.behind_nat = nat.value_or(false);
    sc.foreign_agents.push_back(std::move(s));
  }
  return Ok{};
}

// `tia_pool` of table `t`: a prefix (its host addresses) or "first-last".
Status TiaPoolOf(const Loader& L, const toml::table& t, const std::string& path,
                 Ipv4Address& first_out, Ipv4Address& last_out,
                 std::optional<Ipv4Prefix>& prefix_out) {
  MIPSEC_ASSIGN_OR_RETURN(std::string pool, L.String(t, path, "tia_pool"));
  const toml::node& pn = *t.get("tia_pool");
  if (Result<Ipv4Prefix> p = Ipv4Prefix::Parse(pool); p.ok()) {
    // Network and broadcast addresses are never handed out.
    if (p->length() > 30) return L.Err(pn, path + ".tia_pool", "'" + pool + "': at most /30");
    prefix_out = *p;
    first_out = Ipv4Address::FromHostOrder(p->address().ToHostOrder() + 1);
    last_out = Ipv4Address::FromHostOrder(p->Broadcast().ToHostOrder() - 1);
    return Ok{};
  }
  auto dash = pool.find('-');
  Result<Ipv4Address> first =
      dash == std::string::npos ? Result<Ipv4Address>(Error(Errc::kMalformed, ""))
                                : Ipv4Address::Parse(pool.substr(0, dash));
  Result<Ipv4Address> last =
      dash == std::string::npos ? Result<Ipv4Address>(Error(Errc::kMalformed, ""))
                                : Ipv4Address::Parse(pool.substr(dash + 1));
  if (!first.ok() || !last.ok() || *last < *first) {
    return L.Err(pn, path + ".tia_pool",
                 "'" + pool + "' is not a prefix (a.b.c.0/n) or a range first-last");
  }
  prefix_out.reset();
  first_out = *first;
  last_out = *last;
  return Ok{};
}

Status ParseVpnGateways(const Loader& L, const toml::table& root, Scenario& sc) {
  MIPSEC_ASSIGN_OR_RETURN(auto tables, L.Tables(root, "", "vpn_gateway"));
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const toml::table& t = *tables[i];
    std::string path = Indexed("vpn_gateway", i);
    MIPSEC_TRY(L.CheckKeys(t, path, {"node", "interface", "local_id", "remote_id", "psk",
                                     "tia_pool", "intranet", "mobike",
                                     "mobike_return_routability", "force_encapsulation"}));
    VpnGatewaySpec s;
    s.where = L.At(t);
    MIPSEC_ASSIGN_OR_RETURN(s.node, L.String(t, path, "node"));
    MIPSEC_ASSIGN_OR_RETURN(s.interface, L.String(t, path, "interface"));
    MIPSEC_TRY(AgentInterface(L, sc, t, path, s.node, s.interface, "a VPN gateway"));
    for (const VpnGatewaySpec& other : sc.vpn_gateways) {
      if (other.node == s.node) {
        return L.Err(*t.get("node"), path + ".node",
                     "node '" + s.node + "' already runs a VPN gateway (line " +
                         std::to_string(other.where.line) + ")");
      }
    }
    const char* id_form = "an identity (fqdn:, ipv4:, email: or keyid:)";
    MIPSEC_ASSIGN_OR_RETURN(auto local, L.OptParsed<ikev2::IdPayload>(
                                            t, path, "local_id", config::ParseIdentity, id_form));
    if (!local) return L.Err(t, path + ".local_id", "missing (required)");
    s.local_id = *local;
    MIPSEC_ASSIGN_OR_RETURN(s.remote_id, L.OptParsed<ikev2::IdPayload>(
                                             t, path, "remote_id", config::ParseIdentity, id_form));
    MIPSEC_ASSIGN_OR_RETURN(s.psk, HexSecret(L, t, path, "psk", 16, "128 bits"));
    MIPSEC_TRY(TiaPoolOf(L, t, path, s.tia_first, s.tia_last, s.tia_prefix));
    MIPSEC_ASSIGN_OR_RETURN(s.intranet, PrefixList(L, t, path, "intranet"));
    if (s.intranet.empty()) {
      return L.Err(t.get("intranet") ? *t.get("intranet") : static_cast<const toml::node&>(t),
                   path + ".intranet", "missing (required: the prefixes offered as TSr)");
    }
    MIPSEC_ASSIGN_OR_RETURN(auto mobike, L.OptBool(t, path, "mobike"));
    s.mobike = mobike.value_or(true);
    MIPSEC_ASSIGN_OR_RETURN(auto rr, L.OptBool(t, path, "mobike_return_routability"));
    s.mobike_return_routability = rr.value_or(true);
    MIPSEC_ASSIGN_OR_RETURN(auto fe, L.OptBool(t, path, "force_encapsulation"));
    s.force_encapsulation = fe.value_or(false);
    sc.vpn_gateways.push_back(std::move(s));
  }
  return Ok{};
}

Status ParseMobileNodes(const Loader& L, const toml::table& root, Scenario& sc) {
  MIPSEC_ASSIGN_OR_RETURN(auto tables, L.Tables(root, "", "mobile_node"));
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const toml::table& t = *tables[i];
    std::string path = Indexed("mobile_node", i);
    MIPSEC_TRY(L.CheckKeys(
        t, path,
        {"node", "interfaces", "home_address", "home_prefix_length", "home_agent", "home_gateway",
         "spi", "key", "replay", "lifetime", "probe_retransmissions", "probe_timeout",
         "t_monitor", "monitor_margin", "vpn_when_inside", "foreign_agents", "probe_domains",
         "udp_tunnel", "vpn_gateway", "vpn_backup_gateways", "vpn_local_id", "vpn_remote_id", "vpn_psk", "vpn_routes",
         "vpn_mobike", "vpn_dpd_interval", "vpn_retransmit_timeout", "vpn_retransmits"}));
    MobileNodeAppSpec s;
    s.where = L.At(t);
    MIPSEC_ASSIGN_OR_RETURN(s.node, L.String(t, path, "node"));
    const NodeSpec* n = FindNode(sc, s.node);
    if (!n) return L.Err(*t.get("node"), path + ".node", "no node '" + s.node + "'");
    for (const MobileNodeAppSpec& other : sc.mobile_nodes) {
      if (other.node == s.node) {
        return L.Err(*t.get("node"), path + ".node",
                     "node '" + s.node + "' already runs a mobile node (line " +
                         std::to_string(other.where.line) + ")");
      }
    }
    MIPSEC_ASSIGN_OR_RETURN(s.interfaces, L.StringOrList(t, path, "interfaces"));
    if (s.interfaces.empty()) return L.Err(t, path + ".interfaces", "missing (required)");
    for (const std::string& name : s.interfaces) {
      auto it = std::find_if(n->interfaces.begin(), n->interfaces.end(),
                             [&](const InterfaceSpec& x) { return x.name == name; });
      if (it == n->interfaces.end()) {
        return L.Err(*t.get("interfaces"), path + ".interfaces",
                     "node '" + s.node + "' has no interface '" + name + "'");
      }
      if (!it->dhcp) {
        // R8: every new link gets its address by DHCP.
        return L.Err(*t.get("interfaces"), path + ".interfaces",
                     "'" + name + "' needs dhcp = true (R8: addresses come from DHCP)");
      }
    }
    const char* addr_form = "an IPv4 address";
    for (auto [key, out] : {std::pair<const char*, Ipv4Address*>{"home_address", &s.home_address},
                            {"home_agent", &s.home_agent},
                            {"home_gateway", &s.home_gateway}}) {
      MIPSEC_ASSIGN_OR_RETURN(auto a, L.OptParsed<Ipv4Address>(t, path, key, Ipv4Address::Parse,
                                                               addr_form));
      if (!a) return L.Err(t, path + "." + key, "missing (required)");
      *out = *a;
    }
    MIPSEC_ASSIGN_OR_RETURN(auto plen, L.OptInt(t, path, "home_prefix_length", 1, 30));
    if (plen) s.home_prefix_length = static_cast<int>(*plen);
    MIPSEC_ASSIGN_OR_RETURN(auto spi, L.OptInt(t, path, "spi", 0, 0xffffffffLL));
    if (!spi) return L.Err(t, path + ".spi", "missing (required)");
    if (*spi < 256) {
      return L.Err(*t.get("spi"), path + ".spi",
                   std::to_string(*spi) + " is reserved (SPIs 0-255, RFC 5944 1.6)");
    }
    s.spi = static_cast<std::uint32_t>(*spi);
    MIPSEC_ASSIGN_OR_RETURN(s.key, HexSecret(L, t, path, "key", 16, "128 bits, RFC 5944 5.1"));
    MIPSEC_ASSIGN_OR_RETURN(auto replay, L.OptString(t, path, "replay"));
    if (replay && *replay != "timestamp" && *replay != "nonce") {
      return L.Err(*t.get("replay"), path + ".replay",
                   "'" + *replay + "' is not \"timestamp\" or \"nonce\" (RFC 5944 5.7)");
    }
    s.nonce_replay = replay && *replay == "nonce";
    MIPSEC_ASSIGN_OR_RETURN(auto life, OptSeconds(L, t, path, "lifetime", 1, 65534));
    if (life) s.lifetime = *life;
    MIPSEC_ASSIGN_OR_RETURN(auto rtx, L.OptInt(t, path, "probe_retransmissions", 0, 20));
    if (rtx) s.probe_retransmissions = static_cast<int>(*rtx);
    MIPSEC_ASSIGN_OR_RETURN(auto pto, L.OptDuration(t, path, "probe_timeout"));
    if (pto) {
      // RFC 5944 3.6.3: the first retransmission timeout MUST NOT be below 1 s.
      if (*pto < Duration::Seconds(1)) {
        return L.Err(*t.get("probe_timeout"), path + ".probe_timeout",
                     "at least 1s (RFC 5944 3.6.3)");
      }
      s.probe_timeout = *pto;
    }
    MIPSEC_ASSIGN_OR_RETURN(auto tm, L.OptDuration(t, path, "t_monitor"));
    if (tm) s.t_monitor = *tm;
    MIPSEC_ASSIGN_OR_RETURN(auto mm, L.OptDuration(t, path, "monitor_margin"));
    if (mm) s.monitor_margin = *mm;
    if (s.t_monitor <= Duration::Zero() || s.monitor_margin < Duration::Zero() ||
        s.monitor_margin >= s.t_monitor) {
      return L.Err(t.get("monitor_margin") ? *t.get("monitor_margin") : *t.get("t_monitor"),
                   path + (t.get("monitor_margin") ? ".monitor_margin" : ".t_monitor"),
                   "needs 0 <= monitor_margin < t_monitor (R22)");
    }
    MIPSEC_ASSIGN_OR_RETURN(auto inside, L.OptString(t, path, "vpn_when_inside"));
    if (inside && *inside != "keep" && *inside != "tear-down") {
      return L.Err(*t.get("vpn_when_inside"), path + ".vpn_when_inside",
                   "'" + *inside + "' is not \"keep\" or \"tear-down\"");
    }
    s.vpn_tear_down_inside = inside && *inside == "tear-down";
    MIPSEC_ASSIGN_OR_RETURN(auto fa, L.OptBool(t, path, "foreign_agents"));
    s.foreign_agents = fa.value_or(true);
    MIPSEC_ASSIGN_OR_RETURN(s.probe_domains, L.StringOrList(t, path, "probe_domains"));
    MIPSEC_ASSIGN_OR_RETURN(auto udp, L.OptString(t, path, "udp_tunnel"));
    if (udp && *udp != "never" && *udp != "request" && *udp != "force") {
      return L.Err(*t.get("udp_tunnel"), path + ".udp_tunnel",
                   "'" + *udp + "' is not \"never\", \"request\" or \"force\" (RFC 3519)");
    }
    if (udp) s.udp_tunnel = *udp;
    MIPSEC_ASSIGN_OR_RETURN(s.vpn_gateway, L.OptParsed<Ipv4Address>(t, path, "vpn_gateway",
                                                                    Ipv4Address::Parse, addr_form));
    if (s.vpn_gateway) {
      const char* id_form = "an identity (fqdn:, ipv4:, email: or keyid:)";
      MIPSEC_ASSIGN_OR_RETURN(auto local, L.OptParsed<ikev2::IdPayload>(
                                              t, path, "vpn_local_id", config::ParseIdentity,
                                              id_form));
      if (!local) return L.Err(t, path + ".vpn_local_id", "missing (required with vpn_gateway)");
      s.vpn_local_id = *local;
      MIPSEC_ASSIGN_OR_RETURN(s.vpn_remote_id,
                              L.OptParsed<ikev2::IdPayload>(t, path, "vpn_remote_id",
                                                            config::ParseIdentity, id_form));
      MIPSEC_ASSIGN_OR_RETURN(s.vpn_psk, HexSecret(L, t, path, "vpn_psk", 16, "128 bits"));
      MIPSEC_ASSIGN_OR_RETURN(s.vpn_routes, PrefixList(L, t, path, "vpn_routes"));
      bool covers_ha = std::any_of(s.vpn_routes.begin(), s.vpn_routes.end(),
                                   [&](const Ipv4Prefix& p) { return p.Contains(s.home_agent); });
      if (!covers_ha) {
        // R3: the registration through the tunnel must reach the i-HA.
        return L.Err(t.get("vpn_routes") ? *t.get("vpn_routes") : static_cast<const toml::node&>(t),
                     path + ".vpn_routes",
                     "must route the home agent " + s.home_agent.ToString() +
                         " into the tunnel (R3)");
      }
      MIPSEC_ASSIGN_OR_RETURN(auto mobike, L.OptBool(t, path, "vpn_mobike"));
      s.vpn_mobike = mobike.value_or(true);
      MIPSEC_ASSIGN_OR_RETURN(auto backups, L.StringOrList(t, path, "vpn_backup_gateways"));
      for (const std::string& b : backups) {
        Result<Ipv4Address> a = Ipv4Address::Parse(b);
        if (!a.ok() || !a->IsUnicast()) {
          return L.Err(*t.get("vpn_backup_gateways"), path + ".vpn_backup_gateways",
                       "'" + b + "' is not a unicast IPv4 address");
        }
        s.vpn_backup_gateways.push_back(*a);
      }
      MIPSEC_ASSIGN_OR_RETURN(s.vpn_dpd_interval, L.OptDuration(t, path, "vpn_dpd_interval"));
      if (s.vpn_dpd_interval && *s.vpn_dpd_interval <= Duration::Zero()) {
        return L.Err(*t.get("vpn_dpd_interval"), path + ".vpn_dpd_interval", "must be positive");
      }
      MIPSEC_ASSIGN_OR_RETURN(s.vpn_retransmit_timeout,
                              L.OptDuration(t, path, "vpn_retransmit_timeout"));
      if (s.vpn_retransmit_timeout && *s.vpn_retransmit_timeout < Duration::Millis(100)) {
        return L.Err(*t.get("vpn_retransmit_timeout"), path + ".vpn_retransmit_timeout",
                     "at least 100ms");
      }
      MIPSEC_ASSIGN_OR_RETURN(auto rtx_ike, L.OptInt(t, path, "vpn_retransmits", 0, 20));
      if (rtx_ike) s.vpn_retransmits = static_cast<std::uint32_t>(*rtx_ike);
    } else {
      for (const char* k : {"vpn_local_id", "vpn_remote_id", "vpn_psk", "vpn_routes", "vpn_mobike",
                            "vpn_dpd_interval", "vpn_retransmit_timeout", "vpn_retransmits"}) {
        if (t.get(k)) return L.Err(*t.get(k), path + "." + k, "needs vpn_gateway");
      }
    }
    sc.mobile_nodes.push_back(std::move(s));
  }
  return Ok{};
}

}  // namespace

Result<Duration> ParseDurationText(std::string_view text) {
  return config::ParseDurationText(text);
}

Result<std::uint64_t> ParseBandwidthText(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  std::string_view num = text.substr(0, i), unit = text.substr(i);
  double v = 0;
  auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (num.empty() || ec != std::errc() || ptr != num.data() + num.size() || v <= 0) {
    return Error(Errc::kMalformed, "'" + std::string(text) + "' is not a bandwidth like \"100Mbit\"");
  }
  double mult;
  if (unit == "bit") {
    mult = 1;
  } else if (unit == "kbit") {
    mult = 1e3;
  } else if (unit == "Mbit") {
    mult = 1e6;
  } else if (unit == "Gbit") {
    mult = 1e9;
  } else {
    return Error(Errc::kMalformed, "'" + std::string(text) + "' needs a unit: bit, kbit, Mbit or Gbit");
  }
  if (v * mult > 1e13) return Error(Errc::kMalformed, "'" + std::string(text) + "' is too fast");
  return static_cast<std::uint64_t>(std::llround(v * mult));
}

Result<Scenario> ParseScenarioToml(std::string_view text, std::string_view file) {
  Loader L(file);
  MIPSEC_ASSIGN_OR_RETURN(const toml::table root, config::ParseTomlDocument(text, file));
  MIPSEC_TRY(L.CheckKeys(root, "", {"scenario", "segment", "node", "nat", "firewall", "dhcp",
                                    "stream", "home_agent", "foreign_agent", "vpn_gateway", "mobile_node",
                                    "event"}));
  Scenario sc;

  if (const toml::node* n = root.get("scenario")) {
    const toml::table* t = n->as_table();
    if (!t) return L.Err(*n, "scenario", "must be a table");
    MIPSEC_TRY(L.CheckKeys(*t, "scenario", {"name", "description", "seed", "duration",
                                            "log_level", "first_leg"}));
    MIPSEC_ASSIGN_OR_RETURN(auto name, L.OptString(*t, "scenario", "name"));
    sc.name = name.value_or("");
    MIPSEC_ASSIGN_OR_RETURN(auto desc, L.OptString(*t, "scenario", "description"));
    sc.description = desc.value_or("");
    MIPSEC_ASSIGN_OR_RETURN(auto seed, L.OptInt(*t, "scenario", "seed", 0, INT64_MAX));
    if (seed) sc.seed = static_cast<std::uint64_t>(*seed);
    MIPSEC_ASSIGN_OR_RETURN(auto dur, L.OptDuration(*t, "scenario", "duration"));
    if (dur) {
      if (*dur <= Duration::Zero()) return L.Err(*t->get("duration"), "scenario.duration", "must be positive");
      sc.duration = *dur;
    }
    MIPSEC_ASSIGN_OR_RETURN(auto lvl, L.OptString(*t, "scenario", "log_level"));
    if (lvl) {
      std::optional<LogLevel> l = ParseLogLevel(*lvl);
      if (!l) {
        return L.Err(*t->get("log_level"), "scenario.log_level",
                     "'" + *lvl + "' is not one of trace, debug, info, notice, warning, error, off");
      }
      sc.log_level = *l;
    }
    MIPSEC_ASSIGN_OR_RETURN(auto first_leg, L.OptString(*t, "scenario", "first_leg"));
    if (first_leg) sc.first_leg = *first_leg;
  }

  MIPSEC_ASSIGN_OR_RETURN(auto segments, L.Tables(root, "", "segment"));
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const toml::table& t = *segments[i];
    std::string path = Indexed("segment", i);
    MIPSEC_TRY(L.CheckKeys(t, path, {"name", "description", "delay", "jitter", "bandwidth", "mtu",
                                     "loss", "duplicate", "burst", "reorder", "up"}));
    SegmentSpec s;
    s.where = L.At(t);
    MIPSEC_ASSIGN_OR_RETURN(s.name, L.String(t, path, "name"));
    for (const SegmentSpec& other : sc.segments) {
      if (other.name == s.name) {
        return L.Err(*t.get("name"), path + ".name",
                     "segment '" + s.name + "' is already defined at line " +
                         std::to_string(other.where.line));
      }
    }
    MIPSEC_ASSIGN_OR_RETURN(auto desc, L.OptString(t, path, "description"));
    s.description = desc.value_or("");
    MIPSEC_ASSIGN_OR_RETURN(s.params, ParseLinkParams(L, t, path, LinkParams{}));
    MIPSEC_ASSIGN_OR_RETURN(auto up, L.OptBool(t, path, "up"));
    s.up = up.value_or(true);
    sc.segments.push_back(std::move(s));
  }

  MIPSEC_TRY(ParseNodes(L, root, sc));

  MIPSEC_ASSIGN_OR_RETURN(auto nats, L.Tables(root, "", "nat"));
  for (std::size_t i = 0; i < nats.size(); ++i) {
    const toml::table& t = *nats[i];
    std::string path = Indexed("nat", i);
    MIPSEC_TRY(L.CheckKeys(t, path, {"node", "outside", "mapping", "filtering", "udp_timeout",
                                     "ports"}));
    NatSpec s;
    s.where = L.At(t);
    MIPSEC_ASSIGN_OR_RETURN(s.node, L.String(t, path, "node"));
    MIPSEC_ASSIGN_OR_RETURN(s.outside, L.String(t, path, "outside"));
    std::string outside_key = "outside";
    MIPSEC_TRY(CheckNodeRef(L, sc, t, path, s.node, &outside_key, &s.outside));
    if (!FindNode(sc, s.node)->router) {
      return L.Err(*t.get("node"), path + ".node", "node '" + s.node + "' must be a router to NAT");
    }
    const char* kinds = "endpoint-independent, address-dependent or address-and-port-dependent";
    MIPSEC_ASSIGN_OR_RETURN(auto m, L.OptParsed<NatBehavior>(t, path, "mapping", ParseBehaviour, kinds));
    if (m) s.mapping = *m;
    MIPSEC_ASSIGN_OR_RETURN(auto f, L.OptParsed<NatBehavior>(t, path, "filtering", ParseBehaviour, kinds));
    if (f) s.filtering = *f;
    MIPSEC_ASSIGN_OR_RETURN(auto to, L.OptDuration(t, path, "udp_timeout"));
    if (to) {
      if (*to < Duration::Seconds(1)) return L.Err(*t.get("udp_timeout"), path + ".udp_timeout", "must be at least 1s");
      s.udp_timeout = *to;
    }
    MIPSEC_ASSIGN_OR_RETURN(auto ports, L.OptString(t, path, "ports"));
    if (ports && *ports != "preserve" && *ports != "random") {
      return L.Err(*t.get("ports"), path + ".ports", "must be \"preserve\" or \"random\"");
    }
    s.random_ports = ports && *ports == "random";
    sc.nats.push_back(std::move(s));
  }

  MIPSEC_ASSIGN_OR_RETURN(auto fws, L.Tables(root, "", "firewall"));
  for (std::size_t i = 0; i < fws.size(); ++i) {
    const toml::table& t = *fws[i];
    std::string path = Indexed("firewall", i);
    MIPSEC_TRY(L.CheckKeys(t, path, {"node", "zones", "default", "rule"}));
    FirewallSpec s;
    s.where = L.At(t);
    MIPSEC_ASSIGN_OR_RETURN(s.node, L.String(t, path, "node"));
    MIPSEC_TRY(CheckNodeRef(L, sc, t, path, s.node, nullptr, nullptr));
    const NodeSpec* fn = FindNode(sc, s.node);
    const toml::node* zn = t.get("zones");
    if (!zn || !zn->is_table()) {
      return L.Err(zn ? *zn : static_cast<const toml::node&>(t), path + ".zones",
                   "required: a table interface = \"zone\"");
    }
    std::set<std::string> zone_names;
    for (auto&& [k, v] : *zn->as_table()) {
      if (!FindInterface(*fn, k.str())) {
        return L.Err(v, path + ".zones." + std::string(k.str()),
                     "node '" + s.node + "' has no interface '" + std::string(k.str()) + "'");
      }
      if (!v.is_string()) return L.Err(v, path + ".zones." + std::string(k.str()), "must be a zone name");
      s.zones[std::string(k.str())] = v.as_string()->get();
      zone_names.insert(v.as_string()->get());
    }
    MIPSEC_ASSIGN_OR_RETURN(auto def, L.OptParsed<FirewallAction>(t, path, "default", ParseAction,
                                                                            "accept, drop or reject"));
    if (def) s.default_action = *def;
    MIPSEC_ASSIGN_OR_RETURN(auto rules, L.Tables(t, path, "rule"));
    for (std::size_t j = 0; j < rules.size(); ++j) {
      const toml::table& rt = *rules[j];
      std::string rp = path + "." + Indexed("rule", j);
      MIPSEC_TRY(L.CheckKeys(rt, rp, {"from", "to", "src", "dst", "proto", "dport", "action"}));
      FirewallRuleSpec r;
      r.where = L.At(rt);
      MIPSEC_ASSIGN_OR_RETURN(r.from, L.StringOrList(rt, rp, "from"));
      MIPSEC_ASSIGN_OR_RETURN(r.to, L.StringOrList(rt, rp, "to"));
      for (const std::string& z : r.from) {
        if (z != "any" && !zone_names.contains(z)) return L.Err(*rt.get("from"), rp + ".from", "no zone '" + z + "'");
      }
      for (const std::string& z : r.to) {
        if (z != "any" && !zone_names.contains(z)) return L.Err(*rt.get("to"), rp + ".to", "no zone '" + z + "'");
      }
      std::erase(r.from, "any");
      std::erase(r.to, "any");
      MIPSEC_ASSIGN_OR_RETURN(r.src, L.OptParsed<Ipv4Prefix>(rt, rp, "src", Ipv4Prefix::Parse, "a prefix"));
      MIPSEC_ASSIGN_OR_RETURN(r.dst, L.OptParsed<Ipv4Prefix>(rt, rp, "dst", Ipv4Prefix::Parse, "a prefix"));
      MIPSEC_ASSIGN_OR_RETURN(r.protocol, L.OptParsed<std::uint8_t>(rt, rp, "proto", ParseProtocol,
                                                                    "udp, tcp, icmp, esp, ipip or gre"));
      if (const toml::node* dp = rt.get("dport")) {
        std::string dpp = rp + ".dport";
        if (!r.protocol || (*r.protocol != 17 && *r.protocol != 6)) {
          return L.Err(*dp, dpp, "needs proto = \"udp\" or \"tcp\"");
        }
        if (dp->is_integer()) {
          std::int64_t v = dp->as_integer()->get();
          if (v < 1 || v > 65535) return L.Err(*dp, dpp, "port outside 1..65535");
          r.dport_min = r.dport_max = static_cast<std::uint16_t>(v);
        } else if (const toml::array* arr = dp->as_array(); arr && arr->size() == 2 &&
                   (*arr)[0].is_integer() && (*arr)[1].is_integer()) {
          std::int64_t lo = (*arr)[0].as_integer()->get(), hi = (*arr)[1].as_integer()->get();
          if (lo < 1 || hi > 65535 || lo > hi) return L.Err(*dp, dpp, "range must be [low, high] within 1..65535");
          r.dport_min = static_cast<std::uint16_t>(lo);
          r.dport_max = static_cast<std::uint16_t>(hi);
        } else {
          return L.Err(*dp, dpp, "must be a port or a [low, high] range");
        }
      }
      MIPSEC_ASSIGN_OR_RETURN(auto act, L.OptParsed<FirewallAction>(rt, rp, "action", ParseAction,
                                                                              "accept, drop or reject"));
      if (!act) return L.Err(rt, rp + ".action", "missing (required)");
      r.action = *act;
      s.rules.push_back(std::move(r));
    }
    sc.firewalls.push_back(std::move(s));
  }

  MIPSEC_ASSIGN_OR_RETURN(auto dhcps, L.Tables(root, "", "dhcp"));
  for (std::size_t i = 0; i < dhcps.size(); ++i) {
    const toml::table& t = *dhcps[i];
    std::string path = Indexed("dhcp", i);
    MIPSEC_TRY(L.CheckKeys(t, path, {"node", "interface", "pool", "router", "dns", "domain",
                                     "lease", "delay"}));
    DhcpServerSpec s;
    s.where = L.At(t);
    MIPSEC_ASSIGN_OR_RETURN(s.node, L.String(t, path, "node"));
    MIPSEC_ASSIGN_OR_RETURN(s.interface, L.String(t, path, "interface"));
    std::string ik = "interface";
    MIPSEC_TRY(CheckNodeRef(L, sc, t, path, s.node, &ik, &s.interface));
    const InterfaceSpec* ifc = FindInterface(*FindNode(sc, s.node), s.interface);
    if (!ifc->address) {
      return L.Err(*t.get("interface"), path + ".interface",
                   "a DHCP server needs a static address on '" + s.interface + "'");
    }
    Ipv4Prefix subnet = *Ipv4Prefix::FromAddressAndLength(*ifc->address, ifc->prefix_length);
    MIPSEC_ASSIGN_OR_RETURN(std::string pool, L.String(t, path, "pool"));
    auto dash = pool.find('-');
    Result<Ipv4Address> first = Ipv4Address::Parse(pool.substr(0, dash == std::string::npos ? 0 : dash));
    Result<Ipv4Address> last = dash == std::string::npos ? Result<Ipv4Address>(Error(Errc::kMalformed, ""))
                                                         : Ipv4Address::Parse(pool.substr(dash + 1));
    if (!first.ok() || !last.ok() || *last < *first) {
      return L.Err(*t.get("pool"), path + ".pool", "'" + pool + "' is not a range first-last");
    }
    if (!subnet.Contains(*first) || !subnet.Contains(*last)) {
      return L.Err(*t.get("pool"), path + ".pool",
                   "'" + pool + "' is not inside " + subnet.ToString() + " of " + s.node + "/" +
                       s.interface);
    }
    s.pool_first = *first;
    s.pool_last = *last;
    MIPSEC_ASSIGN_OR_RETURN(s.router, L.OptParsed<Ipv4Address>(t, path, "router", Ipv4Address::Parse,
                                                               "an IPv4 address"));
    MIPSEC_ASSIGN_OR_RETURN(auto dns, L.StringOrList(t, path, "dns"));
    for (const std::string& d : dns) {
      Result<Ipv4Address> a = Ipv4Address::Parse(d);
      if (!a.ok()) return L.Err(*t.get("dns"), path + ".dns", "'" + d + "' is not an IPv4 address");
      s.dns.push_back(*a);
    }
    MIPSEC_ASSIGN_OR_RETURN(auto domain, L.OptString(t, path, "domain"));
    s.domain = domain.value_or("");
    MIPSEC_ASSIGN_OR_RETURN(auto lease, L.OptDuration(t, path, "lease"));
    if (lease) {
      if (*lease < Duration::Seconds(10)) return L.Err(*t.get("lease"), path + ".lease", "must be at least 10s");
      s.lease = *lease;
    }
    MIPSEC_ASSIGN_OR_RETURN(auto delay, L.OptDuration(t, path, "delay"));
    if (delay) s.delay = *delay;
    sc.dhcp_servers.push_back(std::move(s));
  }

  MIPSEC_ASSIGN_OR_RETURN(auto streams, L.Tables(root, "", "stream"));
  for (std::size_t i = 0; i < streams.size(); ++i) {
    const toml::table& t = *streams[i];
    std::string path = Indexed("stream", i);
    MIPSEC_TRY(L.CheckKeys(t, path, {"from", "to", "echo", "port", "interval", "size", "start", "stop"}));
    StreamSpec s;
    s.where = L.At(t);
    MIPSEC_ASSIGN_OR_RETURN(s.from, L.String(t, path, "from"));
    if (!FindNode(sc, s.from)) return L.Err(*t.get("from"), path + ".from", "no node named '" + s.from + "'");
    MIPSEC_ASSIGN_OR_RETURN(s.echo, L.String(t, path, "echo"));
    if (!FindNode(sc, s.echo)) return L.Err(*t.get("echo"), path + ".echo", "no node named '" + s.echo + "'");
    MIPSEC_ASSIGN_OR_RETURN(auto to, L.OptParsed<Ipv4Endpoint>(t, path, "to", Ipv4Endpoint::Parse,
                                                               "an address:port"));
    if (!to) return L.Err(t, path + ".to", "missing (required)");
    s.to = *to;
    MIPSEC_ASSIGN_OR_RETURN(auto port, L.OptInt(t, path, "port", 1, 65535));
    if (port) s.local_port = static_cast<std::uint16_t>(*port);
    MIPSEC_ASSIGN_OR_RETURN(auto interval, L.OptDuration(t, path, "interval"));
    if (interval) s.interval = *interval;
    MIPSEC_ASSIGN_OR_RETURN(auto size, L.OptInt(t, path, "size", 29, 1400));
    if (size) s.size = static_cast<std::size_t>(*size);
    MIPSEC_ASSIGN_OR_RETURN(auto start, L.OptDuration(t, path, "start"));
    if (start) s.start = *start;
    MIPSEC_ASSIGN_OR_RETURN(s.stop, L.OptDuration(t, path, "stop"));
    if (interval && *interval < Duration::Micros(10)) {
      return L.Err(*t.get("interval"), path + ".interval", "must be at least 10us");
    }
    sc.streams.push_back(std::move(s));
  }

  MIPSEC_TRY(ParseHomeAgents(L, root, sc));
  MIPSEC_TRY(ParseForeignAgents(L, root, sc));
  MIPSEC_TRY(ParseVpnGateways(L, root, sc));
  MIPSEC_TRY(ParseMobileNodes(L, root, sc));

  MIPSEC_ASSIGN_OR_RETURN(auto events, L.Tables(root, "", "event"));
  for (std::size_t i = 0; i < events.size(); ++i) {
    const toml::table& t = *events[i];
    std::string path = Indexed("event", i);
    MIPSEC_TRY(L.CheckKeys(t, path, {"at", "move", "detach", "link", "stop", "start", "restart",
                                     "end", "leg"}));
    EventSpec e;
    e.where = L.At(t);
    MIPSEC_ASSIGN_OR_RETURN(auto at, L.OptDuration(t, path, "at"));
    if (!at) return L.Err(t, path + ".at", "missing (required)");
    e.at = *at;
    MIPSEC_ASSIGN_OR_RETURN(auto leg, L.OptString(t, path, "leg"));
    e.leg = leg.value_or("");
    int kinds = 0;
    for (const char* k : {"move", "detach", "link", "stop", "start", "restart", "end"}) {
      kinds += t.contains(k);
    }
    if (kinds != 1) {
      return L.Err(t, path, "needs exactly one of move, detach, link, stop, start, restart, end");
    }
    if (const toml::node* n = t.get("move")) {
      const toml::table* mt = n->as_table();
      std::string mp = path + ".move";
      if (!mt) return L.Err(*n, mp, "must be a table { node, interface, segment }");
      MIPSEC_TRY(L.CheckKeys(*mt, mp, {"node", "interface", "segment"}));
      e.kind = EventSpec::Kind::kMove;
      MIPSEC_ASSIGN_OR_RETURN(e.node, L.String(*mt, mp, "node"));
      MIPSEC_ASSIGN_OR_RETURN(e.interface, L.String(*mt, mp, "interface"));
      MIPSEC_ASSIGN_OR_RETURN(e.segment, L.String(*mt, mp, "segment"));
      std::string ik = "interface";
      MIPSEC_TRY(CheckNodeRef(L, sc, *mt, mp, e.node, &ik, &e.interface));
      if (std::none_of(sc.segments.begin(), sc.segments.end(),
                       [&](const SegmentSpec& s) { return s.name == e.segment; })) {
        return L.Err(*mt->get("segment"), mp + ".segment", "no segment named '" + e.segment + "'");
      }
    } else if (const toml::node* dn = t.get("detach")) {
      const toml::table* dt = dn->as_table();
      std::string dp = path + ".detach";
      if (!dt) return L.Err(*dn, dp, "must be a table { node, interface }");
      MIPSEC_TRY(L.CheckKeys(*dt, dp, {"node", "interface"}));
      e.kind = EventSpec::Kind::kDetach;
      MIPSEC_ASSIGN_OR_RETURN(e.node, L.String(*dt, dp, "node"));
      MIPSEC_ASSIGN_OR_RETURN(e.interface, L.String(*dt, dp, "interface"));
      std::string ik = "interface";
      MIPSEC_TRY(CheckNodeRef(L, sc, *dt, dp, e.node, &ik, &e.interface));
    } else if (const toml::node* ln = t.get("link")) {
      const toml::table* lt = ln->as_table();
      std::string lp = path + ".link";
      if (!lt) return L.Err(*ln, lp, "must be a table { segment, up, loss, delay, ... }");
      MIPSEC_TRY(L.CheckKeys(*lt, lp, {"segment", "up", "delay", "jitter", "bandwidth", "mtu",
                                       "loss", "duplicate", "burst", "reorder"}));
      e.kind = EventSpec::Kind::kLink;
      MIPSEC_ASSIGN_OR_RETURN(e.segment, L.String(*lt, lp, "segment"));
      auto seg = std::find_if(sc.segments.begin(), sc.segments.end(),
                              [&](const SegmentSpec& s) { return s.name == e.segment; });
      if (seg == sc.segments.end()) {
        return L.Err(*lt->get("segment"), lp + ".segment", "no segment named '" + e.segment + "'");
      }
      MIPSEC_ASSIGN_OR_RETURN(e.up, L.OptBool(*lt, lp, "up"));
      if (lt->size() > (e.up ? 2u : 1u)) {
        // Parameters change relative to the segment's configured ones.
        MIPSEC_ASSIGN_OR_RETURN(LinkParams p, ParseLinkParams(L, *lt, lp, seg->params));
        e.params = p;
      }
    } else if (const toml::node* sn = t.get("stop")) {
      e.kind = EventSpec::Kind::kStop;
      if (!sn->is_string()) return L.Err(*sn, path + ".stop", "must be a node name");
      e.node = sn->as_string()->get();
      if (!FindNode(sc, e.node)) return L.Err(*sn, path + ".stop", "no node named '" + e.node + "'");
    } else if (const toml::node* stn = t.get("start")) {
      e.kind = EventSpec::Kind::kStart;
      if (!stn->is_string()) return L.Err(*stn, path + ".start", "must be a node name");
      e.node = stn->as_string()->get();
      if (!FindNode(sc, e.node)) return L.Err(*stn, path + ".start", "no node named '" + e.node + "'");
    } else if (const toml::node* rn = t.get("restart")) {
      e.kind = EventSpec::Kind::kRestart;
      std::string rp = path + ".restart";
      const toml::table* rt = rn->as_table();
      if (rn->is_string()) {
        e.node = rn->as_string()->get();
      } else if (rt) {
        MIPSEC_TRY(L.CheckKeys(*rt, rp, {"node", "tia_pool"}));
        MIPSEC_ASSIGN_OR_RETURN(e.node, L.String(*rt, rp, "node"));
      } else {
        return L.Err(*rn, rp, "must be a node name or a table { node, tia_pool }");
      }
      if (!FindNode(sc, e.node)) return L.Err(*rn, rp, "no node named '" + e.node + "'");
      bool agent =
          std::any_of(sc.home_agents.begin(), sc.home_agents.end(),
                      [&](const HomeAgentSpec& x) { return x.node == e.node; }) ||
          std::any_of(sc.foreign_agents.begin(), sc.foreign_agents.end(),
                      [&](const ForeignAgentSpec& x) { return x.node == e.node; }) ||
          std::any_of(sc.vpn_gateways.begin(), sc.vpn_gateways.end(),
                      [&](const VpnGatewaySpec& x) { return x.node == e.node; });
      if (!agent) {
        return L.Err(*rn, rp, "node '" + e.node + "' runs no home_agent, foreign_agent or vpn_gateway");
      }
      if (rt && rt->contains("tia_pool")) {
        if (std::none_of(sc.vpn_gateways.begin(), sc.vpn_gateways.end(),
                         [&](const VpnGatewaySpec& x) { return x.node == e.node; })) {
          return L.Err(*rt->get("tia_pool"), rp + ".tia_pool",
                       "node '" + e.node + "' runs no vpn_gateway");
        }
        Ipv4Address first, last;
        std::optional<Ipv4Prefix> prefix;
        MIPSEC_TRY(TiaPoolOf(L, *rt, rp, first, last, prefix));
        e.tia_first = first;
        e.tia_last = last;
        e.tia_prefix = prefix;
      }
    } else {
      const toml::node* en = t.get("end");
      if (!en->is_boolean() || !en->as_boolean()->get()) return L.Err(*en, path + ".end", "must be true");
      e.kind = EventSpec::Kind::kEnd;
    }
    sc.events.push_back(std::move(e));
  }
  std::stable_sort(sc.events.begin(), sc.events.end(),
                   [](const EventSpec& a, const EventSpec& b) { return a.at < b.at; });
  return sc;
}

}  // namespace mipsec::sim::scenario

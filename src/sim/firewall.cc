#include "sim/firewall.h"

#include <algorithm>
#include <sstream>

#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "common/wire/writer.h"

namespace mipsec::sim {

namespace {

// How long a first fragment's verdict covers the rest of its datagram:
// Linux's reassembly timeout (ipfrag_time), as in node.cc.
constexpr Duration kFragmentMemory = Duration::Seconds(30);
constexpr std::size_t kMaxFragmentMemory = 1024;
constexpr std::size_t kMinSweep = 1024;
constexpr int kSelfZone = 0;
constexpr int kNoZone = -1;


bool HasPorts(std::uint8_t protocol) {
  return protocol == ip::kProtoUdp || protocol == ip::kProtoTcp;
}

std::string ProtocolName(std::uint8_t p) {
  switch (p) {
    case ip::kProtoUdp: return "udp";
    case ip::kProtoTcp: return "tcp";
    case ip::kProtoIcmp: return "icmp";
    case ip::kProtoEsp: return "esp";
    case ip::kProtoIpip: return "ipip";
    case ip::kProtoGre: return "gre";
    default: return "proto " + std::to_string(p);
  }
}

std::string JoinZones(const std::vector<std::string>& zones) {
  std::string out;
  for (const std::string& z : zones) {
    if (!out.empty()) out += ",";
    out += z;
  }
  return out;
}

}  // namespace

std::string_view FirewallActionName(FirewallAction a) {
  switch (a) {
    case FirewallAction::kAccept: return "accept";
    case FirewallAction::kDrop: return "drop";
    case FirewallAction::kReject: return "reject";
  }
  return "?";
}

std::string FirewallRule::ToString() const {
  std::ostringstream os;
  if (!name.empty()) os << name << ": ";
  os << FirewallActionName(action);
  if (!from_zones.empty()) os << " from " << JoinZones(from_zones);
  if (!to_zones.empty()) os << " to " << JoinZones(to_zones);
  if (protocol) os << " " << ProtocolName(*protocol);
  if (src.length() != 0 || dst.length() != 0) {
    os << " " << (src.length() == 0 ? std::string("any") : src.ToString()) << " -> "
       << (dst.length() == 0 ? std::string("any") : dst.ToString());
  }
  if (!dst_ports.IsAny()) {
    os << " dport " << dst_ports.first;
    if (dst_ports.last != dst_ports.first) os << "-" << dst_ports.last;
  }
  return os.str();
}

// What the rules and the connection table look at in one datagram.
struct Firewall::Flow {
  std::uint8_t protocol = 0;
  Ipv4Address src;
  Ipv4Address dst;
  bool has_ports = false;  // UDP/TCP with the ports present
  std::uint16_t dst_port = 0;
  // Its connection: the key, whether a reply matches it reversed, and
  // whether this packet may start one.
  std::optional<FlowKey> key;
  bool reversible = false;
  bool creates = false;
  bool icmp_error = false;
  std::optional<FlowKey> related_key;  // an ICMP error's quoted datagram
  bool related_reversible = false;
};

namespace {

// The connection key of a datagram given its header and transport bytes:
// (key, reversible, may create). Echo requests key as (requester, id,
// responder); replies look up the same key; other ICMP has none.
struct KeyInfo {
  std::optional<std::tuple<std::uint8_t, Ipv4Address, std::uint16_t, Ipv4Address, std::uint16_t>>
      key;
  bool reversible = false;
  bool creates = false;
};

KeyInfo KeyOf(std::uint8_t protocol, Ipv4Address src, Ipv4Address dst, ByteSpan transport) {
  KeyInfo k;
  if (HasPorts(protocol)) {
    if (transport.size() < 4) return k;
    k.key = {protocol, src, wire::LoadU16(transport, 0), dst, wire::LoadU16(transport, 2)};
    k.reversible = true;
    k.creates = true;
  } else if (protocol == ip::kProtoIcmp) {
    if (transport.size() < ip::IcmpMessage::kHeaderSize) return k;
    std::uint16_t id = wire::LoadU16(transport, 4);
    if (transport[0] == ip::kIcmpEchoRequest) {
      k.key = {protocol, src, id, dst, 0};
      k.creates = true;
    } else if (transport[0] == ip::kIcmpEchoReply) {
      k.key = {protocol, dst, id, src, 0};
    }
  } else {
    k.key = {protocol, src, 0, dst, 0};
    k.reversible = true;
    k.creates = true;
  }
  return k;
}

}  // namespace

Result<std::unique_ptr<Firewall>> Firewall::Create(Node& node, FirewallConfig config) {
  if (config.name.empty()) return Error(Errc::kInvalidArgument, "firewall name is empty");
  std::string what = "firewall '" + config.name + "' on node '" + node.name() + "'";
  std::unique_ptr<Firewall> fw(new Firewall(node, std::move(config)));
  const FirewallConfig& c = fw->config_;
  std::map<std::string, int, std::less<>> ids{{std::string(kFirewallSelfZone), kSelfZone}};
  fw->zone_names_.push_back(std::string(kFirewallSelfZone));
  for (const auto& [ifname, zone] : c.zones) {
    Interface* ifc = node.FindInterface(ifname);
    if (!ifc) return Error(Errc::kNotFound, what + ": no interface '" + ifname + "'");
    if (zone.empty() || zone == kFirewallSelfZone) {
      return Error(Errc::kInvalidArgument,
                   what + ": interface '" + ifname + "' has zone name '" + zone +
                       "' (empty or reserved)");
    }
    auto [it, added] = ids.emplace(zone, static_cast<int>(fw->zone_names_.size()));
    if (added) fw->zone_names_.push_back(zone);
    if (fw->zone_of_ifindex_.size() <= static_cast<std::size_t>(ifc->ifindex())) {
      fw->zone_of_ifindex_.resize(ifc->ifindex() + 1, kNoZone);
    }
    fw->zone_of_ifindex_[ifc->ifindex()] = it->second;
  }
  auto resolve = [&](const std::string& zone, const std::string& where) -> Result<int> {
    auto it = ids.find(zone);
    if (it == ids.end()) {
      return Error(Errc::kInvalidArgument,
                   what + ": " + where + ": no interface is in zone '" + zone + "'");
    }
    return it->second;
  };
  for (std::size_t i = 0; i < c.rules.size(); ++i) {
    const FirewallRule& r = c.rules[i];
    std::string where = "rule " + std::to_string(i + 1);
    if (!r.name.empty()) where += " '" + r.name + "'";
    CompiledRule cr;
    for (const std::string& z : r.from_zones) {
      if (z == kFirewallSelfZone) {
        return Error(Errc::kInvalidArgument,
                     what + ": " + where + ": the firewall's own traffic is not filtered (from "
                     "'self')");
      }
      MIPSEC_ASSIGN_OR_RETURN(int id, resolve(z, where));
      cr.from.push_back(id);
    }
    for (const std::string& z : r.to_zones) {
      MIPSEC_ASSIGN_OR_RETURN(int id, resolve(z, where));
      cr.to.push_back(id);
    }
    if (r.dst_ports.first > r.dst_ports.last) {
      return Error(Errc::kInvalidArgument, what + ": " + where + ": port range " +
                                               std::to_string(r.dst_ports.first) + "-" +
                                               std::to_string(r.dst_ports.last) + " is empty");
    }
    if (!r.dst_ports.IsAny() && !(r.protocol && HasPorts(*r.protocol))) {
      return Error(Errc::kInvalidArgument,
                   what + ": " + where + ": a port range needs protocol udp or tcp");
    }
    fw->compiled_.push_back(std::move(cr));
  }
  for (const ZonePolicy& p : c.policies) {
    std::string where = "policy " + p.from + " -> " + p.to;
    MIPSEC_ASSIGN_OR_RETURN(int from, resolve(p.from, where));
    MIPSEC_ASSIGN_OR_RETURN(int to, resolve(p.to, where));
    fw->policies_[{from, to}] = p.action;
  }
  for (auto [name, d] : {std::pair<const char*, Duration>{"udp_timeout", c.udp_timeout},
                         {"icmp_timeout", c.icmp_timeout},
                         {"other_timeout", c.other_timeout}}) {
    if (d <= Duration::Zero()) {
      return Error(Errc::kInvalidArgument, what + ": " + name + " must be positive");
    }
  }
  if (c.max_connections == 0) {
    return Error(Errc::kInvalidArgument, what + ": max_connections must be positive");
  }
  fw->rule_hits_.assign(c.rules.size(), 0);
  node.AddFilter(fw.get());
  MIPSEC_LOG(fw->log_, kInfo) << "firewall with " << c.rules.size() << " rules, "
                              << fw->zone_names_.size() - 1 << " zones, default "
                              << FirewallActionName(c.default_action);
  return fw;
}

Firewall::Firewall(Node& node, FirewallConfig config)
    : node_(node), config_(std::move(config)), log_(node.log().Child(config_.name)) {}

Firewall::~Firewall() = default;

int Firewall::ZoneOf(const Interface* ifc) const {
  if (!ifc) return kNoZone;
  auto i = static_cast<std::size_t>(ifc->ifindex());
  return i < zone_of_ifindex_.size() ? zone_of_ifindex_[i] : kNoZone;
}

const std::string& Firewall::ZoneName(int zone) const {
  static const std::string kUnzoned = "(no zone)";
  return zone >= 0 && static_cast<std::size_t>(zone) < zone_names_.size() ? zone_names_[zone]
                                                                          : kUnzoned;
}

Duration Firewall::TimeoutFor(std::uint8_t protocol) const {
  switch (protocol) {
    case ip::kProtoUdp: return config_.udp_timeout;
    case ip::kProtoIcmp: return config_.icmp_timeout;
    default: return config_.other_timeout;
  }
}

// --- Connection table ---

bool Firewall::Tracked(const FlowKey& key, bool reversible, bool refresh) {
  Timestamp now = node_.sim().now();
  auto live = [&](const FlowKey& k) -> bool {
    auto it = connections_.find(k);
    if (it == connections_.end()) return false;
    if (!(now < it->second + TimeoutFor(std::get<0>(k)))) {
      connections_.erase(it);
      return false;
    }
    if (refresh) it->second = now;
    return true;
  };
  if (live(key)) return true;
  if (!reversible) return false;
  const auto& [p, src, sport, dst, dport] = key;
  return live(FlowKey{p, dst, dport, src, sport});
}

bool Firewall::Track(const FlowKey& key) {
  if (connections_.size() >= sweep_at_) Sweep();
  auto it = connections_.find(key);
  if (it == connections_.end()) {
    if (connections_.size() >= config_.max_connections) {
      Sweep();  // make room from expired connections, if any
      if (connections_.size() >= config_.max_connections) return false;
    }
    connections_.emplace(key, node_.sim().now());
    ++counters_.connections_created;
  } else {
    it->second = node_.sim().now();
  }
  return true;
}

void Firewall::Sweep() {
  Timestamp now = node_.sim().now();
  std::erase_if(connections_, [&](const auto& c) {
    return !(now < c.second + TimeoutFor(std::get<0>(c.first)));
  });
  sweep_at_ = std::max(kMinSweep, 2 * connections_.size());
}

std::size_t Firewall::ConnectionCount() {
  Sweep();
  return connections_.size();
}

void Firewall::Reset() {
  connections_.clear();
  fragments_.clear();
  fragment_order_.clear();
  sweep_at_ = kMinSweep;
}

// --- Packet path ---

Verdict Firewall::Filter(Hook hook, Interface* in, Interface* out, Bytes& packet) {
  switch (hook) {
    case Hook::kForward:
      return Decide(ZoneOf(in), ZoneOf(out), in, packet);
    case Hook::kInput:
      if (!config_.filter_input) return Verdict::kAccept;
      return Decide(ZoneOf(in), kSelfZone, in, packet);
    case Hook::kOutput:
      if (config_.filter_input) {
        Result<ip::Ipv4Packet> p = ip::ParseIpv4(packet, {.verify_checksum = false});
        if (p.ok() && p->header.fragment_offset == 0) {
          KeyInfo k = KeyOf(p->header.protocol, p->header.src, p->header.dst, p->payload);
          if (k.key && k.creates) (void)Track(*k.key);
        }
      }
      return Verdict::kAccept;
    case Hook::kPrerouting:
    case Hook::kPostrouting:
      break;
  }
  return Verdict::kAccept;
}

bool Firewall::Matches(const FirewallRule& rule, const CompiledRule& compiled, int from, int to,
                       const Flow& flow) const {
  auto in_list = [](const std::vector<int>& zones, int z) {
    return zones.empty() || std::find(zones.begin(), zones.end(), z) != zones.end();
  };
  if (!in_list(compiled.from, from) || !in_list(compiled.to, to)) return false;
  if (!rule.src.Contains(flow.src) || !rule.dst.Contains(flow.dst)) return false;
  if (rule.protocol && *rule.protocol != flow.protocol) return false;
  if (!rule.dst_ports.IsAny() && !(flow.has_ports && rule.dst_ports.Contains(flow.dst_port))) {
    return false;
  }
  return true;
}

Verdict Firewall::Decide(int from, int to, Interface* in, Bytes& packet) {
  Result<ip::Ipv4Packet> parsed = ip::ParseIpv4(packet, {.verify_checksum = false});
  if (!parsed.ok()) {
    ++counters_.dropped;
    return Verdict::kDrop;
  }
  const ip::Ipv4Header& h = parsed->header;
  Timestamp now = node_.sim().now();
  FragmentKey fkey{h.src, h.dst, h.protocol, h.identification};
  auto accept = [&] {
    if (h.more_fragments) {
      // Remember the verdict for the rest of the datagram.
      while (!fragment_order_.empty() && (fragment_order_.front().first <= now ||
                                          fragments_.size() >= kMaxFragmentMemory)) {
        auto it = fragments_.find(fragment_order_.front().second);
        if (it != fragments_.end() && it->second == fragment_order_.front().first) {
          fragments_.erase(it);
        }
        fragment_order_.pop_front();
      }
      fragments_[fkey] = now + kFragmentMemory;
      fragment_order_.emplace_back(now + kFragmentMemory, fkey);
    }
    return Verdict::kAccept;
  };

  if (h.fragment_offset != 0) {
    auto it = fragments_.find(fkey);
    if (it != fragments_.end() && now < it->second) {
      ++counters_.accepted_fragments;
      return Verdict::kAccept;
    }
    ++counters_.dropped_fragments;
    ++counters_.dropped;
    MIPSEC_LOG(log_, kDebug) << "drop (fragment without an accepted first) " << h.ToString();
    return Verdict::kDrop;
  }

  Flow f;
  f.protocol = h.protocol;
  f.src = h.src;
  f.dst = h.dst;
  ByteSpan transport = parsed->payload;
  if (HasPorts(h.protocol) && transport.size() >= 4) {
    f.has_ports = true;
    f.dst_port = wire::LoadU16(transport, 2);
  }
  KeyInfo k = KeyOf(h.protocol, h.src, h.dst, transport);
  f.key = k.key;
  f.reversible = k.reversible;
  f.creates = k.creates;
  if (h.protocol == ip::kProtoIcmp && transport.size() >= ip::IcmpMessage::kHeaderSize &&
      ip::IsIcmpErrorType(transport[0])) {
    f.icmp_error = true;
    Result<ip::Ipv4Packet> quoted =
        ip::ParseIpv4(transport.subspan(ip::IcmpMessage::kHeaderSize),
                      {.verify_checksum = false, .allow_truncated = true});
    if (quoted.ok() && quoted->header.fragment_offset == 0) {
      KeyInfo qk = KeyOf(quoted->header.protocol, quoted->header.src, quoted->header.dst,
                         quoted->payload);
      f.related_key = qk.key;
      f.related_reversible = qk.reversible;
    }
  }

  // 1. Established. 2. Related.
  if (f.key && Tracked(*f.key, f.reversible, true)) {
    ++counters_.accepted_established;
    return accept();
  }
  if (f.related_key && Tracked(*f.related_key, f.related_reversible, false)) {
    ++counters_.accepted_related;
    return accept();
  }
  // 3. Rules. 4. Policy.
  std::optional<std::size_t> rule;
  for (std::size_t i = 0; i < config_.rules.size(); ++i) {
    if (Matches(config_.rules[i], compiled_[i], from, to, f)) {
      rule = i;
      ++rule_hits_[i];
      break;
    }
  }
  FirewallAction action = config_.default_action;
  if (rule) {
    action = config_.rules[*rule].action;
  } else if (auto p = policies_.find({from, to}); p != policies_.end()) {
    action = p->second;
  }
  auto why = [&] {
    return rule ? "rule " + std::to_string(*rule + 1) + " " + config_.rules[*rule].ToString()
                : "policy " + ZoneName(from) + " -> " + ZoneName(to);
  };
  if (action == FirewallAction::kAccept) {
    if (f.key && f.creates && !f.icmp_error && !Track(*f.key)) {
      ++counters_.dropped_table_full;
      ++counters_.dropped;
      MIPSEC_LOG(log_, kDebug) << "drop (connection table full) " << h.ToString();
      return Verdict::kDrop;
    }
    ++(rule ? counters_.accepted_by_rule : counters_.accepted_by_policy);
    return accept();
  }
  ++counters_.dropped;
  ++(rule ? counters_.dropped_by_rule : counters_.dropped_by_policy);
  MIPSEC_LOG(log_, kDebug) << FirewallActionName(action) << " (" << why() << ") "
                           << h.ToString();
  if (action == FirewallAction::kReject) {
    ++counters_.rejected;
    SendReject(in, parsed->datagram);
  }
  return Verdict::kDrop;
}

void Firewall::SendReject(Interface* in, ByteSpan packet) {
  // RFC 1812 4.3.2.7 limits are checked by the builder.
  Result<Bytes> msg = ip::BuildIcmpDestinationUnreachable(ip::kIcmpAdminProhibited, packet);
  if (!msg.ok()) return;
  std::optional<Ipv4Address> src = in ? in->PrimaryAddress() : std::nullopt;
  if (!src) return;
  Result<ip::Ipv4Packet> orig = ip::ParseIpv4(packet, {.verify_checksum = false});
  if (!orig.ok()) return;
  Result<Bytes> dgram = ip::BuildIcmpPacket(*src, orig->header.src, *msg);
  if (!dgram.ok()) return;
  if (node_.SendRaw(std::move(*dgram)).ok()) ++counters_.rejects_sent;
}

}  // namespace mipsec::sim

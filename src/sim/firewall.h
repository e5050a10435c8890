// A stateful zone firewall for the simulator: the enterprise firewall of
// RFC 5266 Figure 1, which must keep external traffic away from the internal
// home agent (RFC 5265 3.1) while the VPN gateway in the DMZ reaches it
// (RFC 5265 R25: Mobile IPv4 registration, UDP 434, and IP-in-IP from the
// gateway to the i-HA).
//
// Zones. Each interface of the node belongs to one named zone ("internal",
// "dmz", "external", ...); several interfaces may share one. The reserved
// zone "self" (kFirewallSelfZone) is the firewall node itself: the
// destination zone of traffic addressed to it. An interface in no zone is in
// an unnamed zone that only "any" matches.
//
// Where it runs (node.h hooks):
//   kForward  every packet crossing the firewall, from the zone of the
//             interface it came in on to the zone of the one it leaves by;
//   kInput    traffic to the node itself (to zone "self"), only when
//             `filter_input` is set; otherwise accepted untouched;
//   kOutput   the node's own packets: always accepted, and tracked when
//             `filter_input` is set, so their replies get back in.
//
// Decision, per packet, first match wins:
//   1. Established: the packet belongs to a tracked connection, in either
//      direction: accept (and refresh the connection's timer). Connections
//      are UDP (and TCP) flows by 5-tuple, ICMP echo by (requester, responder,
//      identifier): requests refresh it, replies use it, and port-less
//      protocols (ESP, IP-in-IP, ...) by (protocol, address pair).
//   2. Related: an ICMP error whose quoted datagram belongs to a tracked
//      connection (either direction): accept. Errors never create state.
//   3. The rules, in order: the first rule that matches decides, and counts
//      a hit. Rules see only packets that are not established or related, so
//      a hit is a new flow (or an unrelated packet), as with a "ct state new"
//      chain.
//   4. The policy for the (from zone, to zone) pair, else `default_action`.
//   An accepted UDP/TCP datagram, ICMP echo request or port-less packet that
//   was not already tracked starts a connection. Connection timeouts follow
//   Linux nf_conntrack's defaults: UDP 120 s (udp_timeout_stream), ICMP
//   30 s, other protocols 600 s; each is configurable.
//
// Actions: accept; drop (silently); reject: drop and send the source ICMP
// Destination Unreachable, code 13 "communication administratively
// prohibited" (RFC 1812 5.2.7.1), from the address of the interface the
// packet came in on (RFC 1812 4.3.2.4), unless RFC 1812 4.3.2.7 forbids an
// error about it (an ICMP error, a non-first fragment, a broadcast...).
//
// Fragments: the first fragment is judged like a whole datagram (it carries
// the ports); the verdict is remembered for 30 s by (source, destination,
// protocol, identification) and applied to the later fragments, which carry
// no ports. A non-first fragment whose first fragment was not accepted (or
// came later) is dropped (dropped_fragments).
//
// State is bounded by `max_connections`: a new flow that would exceed it is
// dropped (dropped_table_full), as Linux does when its conntrack table is
// full. Expired connections are forgotten lazily and swept when the table
// grows.
#ifndef MIPSEC_SIM_FIREWALL_H_
#define MIPSEC_SIM_FIREWALL_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/log.h"
#include "common/result.h"
#include "common/time.h"
#include "sim/node.h"

namespace mipsec::sim {

inline constexpr std::string_view kFirewallSelfZone = "self";

enum class FirewallAction { kAccept, kDrop, kReject };
// "accept", "drop", "reject".
std::string_view FirewallActionName(FirewallAction a);

// Inclusive; the default is every port.
struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 65535;
  bool IsAny() const { return first == 0 && last == 65535; }
  bool Contains(std::uint16_t port) const { return port >= first && port <= last; }
  bool operator==(const PortRange&) const = default;
};

struct FirewallRule {
  std::string name;                     // for logs; may be empty
  std::vector<std::string> from_zones;  // empty: any
  std::vector<std::string> to_zones;    // empty: any ("self": the node itself)
  Ipv4Prefix src;                       // 0.0.0.0/0: any
  Ipv4Prefix dst;
  std::optional<std::uint8_t> protocol;  // IANA number; nullopt: any
  // Destination ports; a range other than "any" needs protocol UDP or TCP
  // and matches only datagrams of that protocol.
  PortRange dst_ports;
  FirewallAction action = FirewallAction::kAccept;

  // "r25: accept from dmz to internal udp 192.0.2.10/32 -> 10.1.0.2/32 dport 434":
  // for logs and reports; parts that match anything are left out.
  std::string ToString() const;
};

// The action for traffic from one zone to another that no rule matched.
struct ZonePolicy {
  std::string from;
  std::string to;
  FirewallAction action = FirewallAction::kDrop;
};

struct FirewallConfig {
  std::string name = "fw";  // log tag
  // Interface name -> zone.
  std::map<std::string, std::string> zones;
  std::vector<FirewallRule> rules;
  std::vector<ZonePolicy> policies;
  FirewallAction default_action = FirewallAction::kDrop;
  bool filter_input = false;
  Duration udp_timeout = Duration::Seconds(120);
  Duration icmp_timeout = Duration::Seconds(30);
  Duration other_timeout = Duration::Seconds(600);
  std::size_t max_connections = 65536;
};

struct FirewallCounters {
  std::uint64_t accepted_established = 0;
  std::uint64_t accepted_related = 0;   // ICMP errors about tracked connections
  std::uint64_t accepted_by_rule = 0;
  std::uint64_t accepted_by_policy = 0;
  std::uint64_t accepted_fragments = 0;  // later fragments of an accepted first one
  std::uint64_t dropped = 0;             // every packet dropped, rejects included
  std::uint64_t dropped_by_rule = 0;     // drop and reject rules
  std::uint64_t dropped_by_policy = 0;   // zone policy or default
  std::uint64_t rejected = 0;            // of the dropped, by a reject action
  std::uint64_t rejects_sent = 0;        // ICMP administratively prohibited sent
  std::uint64_t dropped_fragments = 0;
  std::uint64_t dropped_table_full = 0;
  std::uint64_t connections_created = 0;
};

class Firewall final : public PacketFilter {
 public:
  // Validates `config` against `node` (kNotFound: an interface the node does
  // not have; kInvalidArgument: an empty or reserved zone name on an
  // interface, a rule or policy naming a zone no interface is in, a port
  // range without UDP/TCP or with first > last, a non-positive timeout) and
  // installs the firewall on the node (filters run in the order installed).
  // The Firewall must outlive the node's packet processing.
  static Result<std::unique_ptr<Firewall>> Create(Node& node, FirewallConfig config);

  Firewall(const Firewall&) = delete;
  Firewall& operator=(const Firewall&) = delete;
  ~Firewall() override;

  Verdict Filter(Hook hook, Interface* in, Interface* out, Bytes& packet) override;

  const FirewallConfig& config() const { return config_; }
  const FirewallCounters& counters() const { return counters_; }
  // Hits per rule, parallel to config().rules.
  const std::vector<std::uint64_t>& rule_hits() const { return rule_hits_; }
  // Live tracked connections (expired ones are forgotten first).
  std::size_t ConnectionCount();
  // Forgets every tracked connection and fragment verdict.
  void Reset();

 private:
  // protocol, source, source port (echo identifier), destination,
  // destination port (0 for echo and port-less protocols).
  using FlowKey = std::tuple<std::uint8_t, Ipv4Address, std::uint16_t, Ipv4Address, std::uint16_t>;
  using FragmentKey = std::tuple<Ipv4Address, Ipv4Address, std::uint8_t, std::uint16_t>;
  struct Flow;
  struct CompiledRule {
    std::vector<int> from;  // zone ids; empty: any
    std::vector<int> to;
  };

  Firewall(Node& node, FirewallConfig config);
  int ZoneOf(const Interface* ifc) const;
  const std::string& ZoneName(int zone) const;
  Duration TimeoutFor(std::uint8_t protocol) const;
  // The live tracked connection `key` (either direction when `reversible`).
  bool Tracked(const FlowKey& key, bool reversible, bool refresh);
  bool Track(const FlowKey& key);
  void Sweep();
  Verdict Decide(int from, int to, Interface* in, Bytes& packet);
  void SendReject(Interface* in, ByteSpan packet);
  bool Matches(const FirewallRule& rule, const CompiledRule& compiled, int from, int to,
               const Flow& flow) const;

  Node& node_;
  FirewallConfig config_;
  Logger log_;
  std::vector<std::string> zone_names_;  // zone id -> name; id 0 is "self"
  std::vector<int> zone_of_ifindex_;     // -1: no zone
  std::vector<CompiledRule> compiled_;
  std::map<std::pair<int, int>, FirewallAction> policies_;
  std::vector<std::uint64_t> rule_hits_;
  std::map<FlowKey, Timestamp> connections_;  // original direction -> last packet
  std::size_t sweep_at_ = 1024;
  std::map<FragmentKey, Timestamp> fragments_;  // accepted first fragments -> expiry
  std::deque<std::pair<Timestamp, FragmentKey>> fragment_order_;
  FirewallCounters counters_;
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_FIREWALL_H_

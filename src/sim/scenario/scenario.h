// A scenario: the topology of a simulated network and what happens to it
// over time. Parsed from TOML (toml_loader.h; the format is documented in
// docs/scenarios.md), built into a sim::Network and run (runner.h).
//
// This is plain data: every field has been validated by the loader, and each
// element remembers the line it came from so that later errors (a route via
// an unreachable gateway, say) can still point at the file.
#ifndef MIPSEC_SIM_SCENARIO_SCENARIO_H_
#define MIPSEC_SIM_SCENARIO_SCENARIO_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ip/address.h"
#include "common/log.h"
#include "common/time.h"
#include "sim/firewall.h"
#include "sim/link_model.h"
#include "sim/nat.h"

namespace mipsec::sim::scenario {

struct Where {
  std::string file;
  int line = 0;
  std::string ToString() const { return file + ":" + std::to_string(line); }
};

struct SegmentSpec {
  std::string name;
  std::string description;
  LinkParams params;
  bool up = true;
  Where where;
};

struct InterfaceSpec {
  std::string name;
  std::string segment;                   // empty: not attached at start
  std::optional<Ipv4Address> address;    // static address
  int prefix_length = 24;
  std::uint32_t mtu = 1500;
  bool dhcp = false;                     // run a DHCP client on it
  Where where;
};

struct RouteSpec {
  Ipv4Prefix to;
  Ipv4Address via;
  std::uint32_t metric = 0;
  Where where;
};

struct NodeSpec {
  std::string name;
  bool router = false;
  std::string role;                      // free text shown in reports ("i-HA", "CN")
  std::vector<InterfaceSpec> interfaces;
  std::vector<RouteSpec> routes;
  Where where;
};

struct NatSpec {
  std::string node;
  std::string outside;                   // outside interface name
  NatBehavior mapping = NatBehavior::kEndpointIndependent;
  NatBehavior filtering = NatBehavior::kAddressDependent;
  Duration udp_timeout = Duration::Seconds(120);
  bool random_ports = false;             // else: preserve ports when possible
  Where where;
};

struct FirewallRuleSpec {
  std::vector<std::string> from;         // zones; empty: any
  std::vector<std::string> to;
  std::optional<Ipv4Prefix> src;
  std::optional<Ipv4Prefix> dst;
  std::optional<std::uint8_t> protocol;  // IP protocol number; none: any
  std::uint16_t dport_min = 0, dport_max = 65535;
  FirewallAction action = FirewallAction::kAccept;
  Where where;
};

struct FirewallSpec {
  std::string node;
  std::map<std::string, std::string> zones;  // interface -> zone
  FirewallAction default_action = FirewallAction::kDrop;
  std::vector<FirewallRuleSpec> rules;
  Where where;
};

struct DhcpServerSpec {
  std::string node;
  std::string interface;
  Ipv4Address pool_first, pool_last;
  std::optional<Ipv4Address> router;     // default: the interface's address
  std::vector<Ipv4Address> dns;
  std::string domain;
  Duration lease = Duration::Seconds(3600);
  Duration delay = Duration::Millis(2);  // modelled server processing time
  Where where;
};

struct StreamSpec {
  std::string from;                      // the correspondent node
  Ipv4Endpoint to;                       // the address it streams to
  std::string echo;                      // the node that echoes
  std::uint16_t local_port = 9000;
  Duration interval = Duration::Millis(10);
  std::size_t size = 64;
  Duration start = Duration::Zero();
  std::optional<Duration> stop;
  Where where;
};

struct EventSpec {
  enum class Kind {
    kMove,     // node's interface -> segment (detach + attach)
    kDetach,   // node's interface leaves its segment
    kLink,     // a segment's parameters or up/down change
    kStop,     // a node stops
    kStart,    // a node starts again
    kEnd,      // the run ends
  };
  Duration at;
  Kind kind = Kind::kEnd;
  std::string node, interface, segment;
  std::optional<bool> up;                // kLink
  std::optional<LinkParams> params;      // kLink: full new parameters
  std::string leg;                       // a move starts a new leg of the report
  Where where;
};

struct Scenario {
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  Duration duration = Duration::Seconds(60);
  LogLevel log_level = LogLevel::kInfo;
  std::string first_leg = "start";       // name of the leg before the first move
  std::vector<SegmentSpec> segments;
  std::vector<NodeSpec> nodes;
  std::vector<NatSpec> nats;
  std::vector<FirewallSpec> firewalls;
  std::vector<DhcpServerSpec> dhcp_servers;
  std::vector<StreamSpec> streams;
  std::vector<EventSpec> events;         // sorted by time, stable
};

}  // namespace mipsec::sim::scenario

#endif  // MIPSEC_SIM_SCENARIO_SCENARIO_H_

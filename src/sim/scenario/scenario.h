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
#include "common/secret.h"
#include "common/time.h"
#include "ikev2/codec/id_payload.h"
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

// A mobile node a home agent serves: its MN-HA security association
// (RFC 5944 3.5.2; keys as in docs/configuration.md's [[mobile_node]]).
struct MobileNodeSpec {
  Ipv4Address home_address;              // inside the HA's home_network
  std::uint32_t spi = 0;                 // 256..2^32-1 (0-255 reserved, RFC 5944 1.6)
  SecretBytes key;                       // HMAC-MD5, at least 16 bytes (RFC 5944 5.1)
  bool nonce_replay = false;             // replay = "nonce"; else "timestamp" (RFC 5944 5.7)
  Where where;
};

// An i-HA (RFC 5944 home agent with the RFC 5265 4.3 trusted-network rules).
struct HomeAgentSpec {
  std::string node;                      // a router
  std::string interface;                 // the home link; its static address is the HA's
  Ipv4Address address;                   // that address (filled in by the loader)
  Ipv4Prefix home_network;
  // RFC 5265 4.3 (R23): requests from other sources are dropped silently;
  // replies to these carry TNC. Empty: the HA answers nobody.
  std::vector<Ipv4Prefix> trusted_subnets;
  Duration max_lifetime = Duration::Seconds(1800);           // whole seconds
  Duration advertisement_interval = Duration::Seconds(1);    // zero: none
  bool reverse_tunnel = true;            // RFC 3024 T requests accepted
  std::vector<MobileNodeSpec> mobile_nodes;
  Where where;
};

// A foreign agent on one visited link (RFC 5944 3.7).
struct ForeignAgentSpec {
  std::string node;                      // a router
  std::string interface;                 // the visited link (static address)
  Ipv4Address address;                   // that address (filled in by the loader)
  int prefix_length = 24;
  std::vector<Ipv4Address> care_of_addresses;  // default: `address`
  Duration advertisement_interval = Duration::Seconds(1);
  Duration max_lifetime = Duration::Seconds(1800);           // whole seconds
  bool reverse_tunnel = true;            // RFC 3024: the T flag
  bool behind_nat = false;               // RFC 3519 3.4: 'U' advertised, UDP tunnelling requested
  Where where;
};

// The mVPN: an IKEv2 responder with MOBIKE that gives clients a TIA
// (RFC 5266 2, RFC 7296 2.19) and forwards their traffic into the intranet.
struct VpnGatewaySpec {
  std::string node;                      // a router
  std::string interface;                 // the public side (IKE, ESP)
  ikev2::IdPayload local_id;
  std::optional<ikev2::IdPayload> remote_id;  // none: any identity the PSK proves
  SecretBytes psk;                       // at least 16 bytes
  Ipv4Address tia_first, tia_last;       // the TIA pool
  std::optional<Ipv4Prefix> tia_prefix;  // when given as a prefix
  std::vector<Ipv4Prefix> intranet;      // offered as TSr
  bool mobike = true;                    // RFC 4555
  bool mobike_return_routability = true; // RFC 4555 3.7
  bool force_encapsulation = false;      // ESP always in UDP 4500
  Where where;
};

// The RFC 5266 mobile node (src/mn's controller in sim::MnApp): its
// identity at the i-HA, the direct probe's settings, and its VPN client.
struct MobileNodeAppSpec {
  std::string node;
  std::vector<std::string> interfaces;   // the moving ones (R20)
  Ipv4Address home_address;
  int home_prefix_length = 24;
  Ipv4Address home_agent;
  Ipv4Address home_gateway;              // default router on the home link
  std::uint32_t spi = 0;
  SecretBytes key;
  bool nonce_replay = false;
  Duration lifetime = Duration::Seconds(600);  // requested, whole seconds
  int probe_retransmissions = 2;               // R11: configurable
  Duration probe_timeout = Duration::Seconds(1);
  Duration t_monitor = Duration::Seconds(60);  // R22
  Duration monitor_margin = Duration::Seconds(10);
  bool vpn_tear_down_inside = false;           // R14/R15: "keep" or "tear-down"
  bool foreign_agents = true;                  // R8
  std::vector<std::string> probe_domains;      // R17
  std::string udp_tunnel = "request";          // RFC 3519: never, request, force
  // The VPN client; no gateway: no VPN.
  std::optional<Ipv4Address> vpn_gateway;
  std::vector<Ipv4Address> vpn_backup_gateways;  // tried in turn when a set-up fails (R4)
  ikev2::IdPayload vpn_local_id;
  std::optional<ikev2::IdPayload> vpn_remote_id;
  SecretBytes vpn_psk;
  std::vector<Ipv4Prefix> vpn_routes;          // routed into the tunnel (the i-HA's too)
  bool vpn_mobike = true;
  // The IKE SA's liveness (RFC 7296 2.1, 2.4): DPD after this long without
  // an authenticated message from the gateway, and the retransmissions
  // after which the gateway is declared dead. None: the IKE defaults.
  std::optional<Duration> vpn_dpd_interval;
  std::optional<Duration> vpn_retransmit_timeout;
  std::optional<std::uint32_t> vpn_retransmits;
  Where where;
};

struct EventSpec {
  enum class Kind {
    kMove,     // node's interface -> segment (detach + attach)
    kDetach,   // node's interface leaves its segment
    kLink,     // a segment's parameters or up/down change
    kStop,     // a node stops
    kStart,    // a node starts again
    kRestart,  // a node's protocol agents restart with empty state (and it runs)
    kEnd,      // the run ends
  };
  Duration at;
  Kind kind = Kind::kEnd;
  std::string node, interface, segment;
  std::optional<bool> up;                // kLink
  std::optional<LinkParams> params;      // kLink: full new parameters
  std::string leg;                       // a move starts a new leg of the report
  // kRestart of a [[vpn_gateway]] node: the restarted gateway's TIA pool
  // (none: the configured one).
  std::optional<Ipv4Address> tia_first, tia_last;
  std::optional<Ipv4Prefix> tia_prefix;
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
  std::vector<HomeAgentSpec> home_agents;
  std::vector<ForeignAgentSpec> foreign_agents;
  std::vector<VpnGatewaySpec> vpn_gateways;
  std::vector<MobileNodeAppSpec> mobile_nodes;
  std::vector<EventSpec> events;         // sorted by time, stable
};

}  // namespace mipsec::sim::scenario

#endif  // MIPSEC_SIM_SCENARIO_SCENARIO_H_

// Configuration of the RFC 5266 mobile node daemon (`mipsec mn`), parsed
// from TOML (format and every key: docs/configuration.md; commented
// example: examples/mn.toml).
//
// Same rules as daemon_config.h and gw_config.h: parsing is all or nothing;
// one Error names the file, the line, the key path and the reason, e.g.
//   "mn.toml:12: mobile_node.t_monitor: monitor_margin 60s must be below
//    t_monitor 60s"
// unknown keys are errors; cross-field rules are checked here (a config that
// parses can be started). The MN-HA key is SecretBytes, inline (`key`, hex)
// or in a file (`key_file`, relative to the config file's directory), and
// errors never quote it.
//
// Tables:
//   [mobile_node]  identity (home address, i-HA, NAI, the MN-HA SA of RFC
//                  5944 3.5.1), registration behaviour (lifetime, the direct
//                  probe's retransmissions: RFC 5266 3.4 "configurable"),
//                  the controller's knobs (T_MONITOR, FA use, R17 probe
//                  domains), the home address's TUN, routing tables and log.
//   [[interface]]  the links the MN moves on (R20: each tracked alone),
//                  addressed by DHCP unless a static address is given.
//   [vpn]          optional: the IKEv2/MOBIKE VPN to the mVPN for the
//                  outside mode mc, with the keys of vpn-client.toml's
//                  [client] (section_parsers.h) plus backup_gateways and
//                  the controller's VPN knobs. Without it the MN never
//                  carries user data on an untrusted link (R24).
//
// Library mn_config (config + gw_config); the daemon maps the plain data
// onto mn::ControllerConfig and mip4::SecurityAssociation.
#ifndef MIPSEC_CONFIG_MN_CONFIG_H_
#define MIPSEC_CONFIG_MN_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip/address.h"
#include "common/log.h"
#include "common/result.h"
#include "common/time.h"
#include "config/config_reload.h"
#include "config/daemon_config.h"
#include "config/gw_config.h"

namespace mipsec::config {

// mirrors mip4::UdpTunnelPolicy (RFC 3519 3.1): "never", "request", "force".
enum class MnUdpTunnel : std::uint8_t { kNever, kRequest, kForce };
std::string_view MnUdpTunnelName(MnUdpTunnel p);

struct MnInterfaceConfig {
  std::string name;  // name (required; at most 15 characters)
  // address = "a.b.c.d/len": a static address instead of DHCP (tests, links
  // without a server); router and domain only with it.
  std::optional<Ipv4Address> address;
  int prefix_length = 0;
  std::optional<Ipv4Address> router;  // router
  std::string domain;                 // domain (R17's probe_domains)
  int line = 0;
};

struct MnVpnConfig {
  // gateway, gateway_port, IKE identity/auth/proposals/lifetimes/DPD/MOBIKE,
  // routes (the intranet prefixes, which must hold the i-HA), tun, tun_mtu.
  VpnClientConfig client;
  // backup_gateways: tried in order after the gateway when a set-up fails
  // (R4: a new gateway means a new TIA and a new registration).
  std::vector<Ipv4Address> backup_gateways;
  // vpn_when_inside = "keep" | "tear-down" (R14.2 / R15).
  bool tear_down_when_inside = false;
  Duration retry = Duration::Seconds(5);        // vpn_retry
  Duration retry_max = Duration::Seconds(300);  // vpn_retry_max
};

struct MnConfig {
  // [mobile_node]
  Ipv4Address home_address;                   // home_address (required)
  int home_prefix_length = 24;                // home_prefix_length (8..30)
  std::optional<Ipv4Address> home_gateway;    // home_gateway: router on the home link
  Ipv4Address home_agent;                     // home_agent (required, in the home prefix
                                              // or not: a virtual home network is allowed)
  std::string nai;                            // nai (RFC 2794), optional
  SaConfig sa;                                // spi, algorithm, key | key_file
  ReplayMethod replay = ReplayMethod::kTimestamp;  // replay
  Duration tolerance = Duration::Seconds(7);       // tolerance (RFC 5944 5.7.1)
  Duration lifetime = Duration::Seconds(1800);     // lifetime: requested, whole s, 1..65534
  int retransmissions = 3;                         // retransmissions (0..10)
  Duration retransmit_timeout = Duration::Seconds(1);  // >= 1s (RFC 5944 3.6.3)
  MnUdpTunnel udp_tunnel = MnUdpTunnel::kRequest;      // udp_tunnel (direct, c)
  MnUdpTunnel tunnel_udp_tunnel = MnUdpTunnel::kRequest;  // vpn_udp_tunnel (mc, R16)
  bool use_foreign_agents = true;                  // use_foreign_agents (R8)
  Duration t_monitor = Duration::Seconds(60);      // t_monitor (R22)
  Duration monitor_margin = Duration::Seconds(10); // monitor_margin, below t_monitor
  std::vector<std::string> probe_domains;          // probe_domains (R17)
  std::string tun_name = "mipmn0";                 // tun: holds the home address
  std::uint32_t tun_mtu = 1400;                    // tun_mtu (576..9000)
  // Routing: interface i (0-based, in file order) gets table table_base + i,
  // and rules "from <its address> lookup <table>" at rule_priority; the FA
  // next hop uses table_base + 64, the TIA (mc) table_base + 65.
  std::uint32_t table_base = 2100;                 // table_base (1..0xffff0000)
  std::uint32_t rule_priority = 100;               // rule_priority (1..32765)
  LogLevel log_level = LogLevel::kInfo;
  std::string control_socket = "/run/mipsec/mn.sock";

  std::vector<MnInterfaceConfig> interfaces;  // [[interface]], at least one
  std::optional<MnVpnConfig> vpn;             // [vpn]
};

// ---- Reload (SIGHUP) ----
// What `mipsec mn` applies live (mn::LiveSettings and the log level):
// log_level, use_foreign_agents, t_monitor, monitor_margin, probe_domains.
// Every other key needs a restart and is named in restart_only (the MN-HA
// key only as "key", never its value; [vpn] keys as "vpn.<key>";
// certificates are not compared: a restart changes them).
ReloadDiff DiffMnConfig(const MnConfig& running, const MnConfig& loaded);
// `running` with the live keys of `loaded`: what the daemon applies.
MnConfig MergeMnReload(const MnConfig& running, const MnConfig& loaded);

Result<MnConfig> ParseMnConfig(std::string_view text, std::string_view file,
                               const FileReader& read_file = ReadFileToString);
Result<MnConfig> LoadMnConfig(const std::string& path,
                              const FileReader& read_file = ReadFileToString);

}  // namespace mipsec::config

#endif  // MIPSEC_CONFIG_MN_CONFIG_H_

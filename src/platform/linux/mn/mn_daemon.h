// MnDaemon: the RFC 5266 mobile node on Linux (`mipsec mn`). It runs the
// sans-I/O mn::MnController unchanged, in its call order, over a TUN device,
// netlink, a DHCP client per interface and real sockets, the way
// sim/apps/mn_app.cc does in the simulator.
//
// Wiring:
//   TUN "<tun>" holds the home address (/32). Routes 0.0.0.0/1 and
//       128.0.0.0/1 dev <tun> src <home> in the main table make every
//       unbound flow of the host enter it: each datagram read from the TUN
//       goes to MnController::SendPacket (tunnelled to the HA/FA, passed at
//       home, or dropped: the kill switch, R13 R21 R22); deliveries the
//       controller hands out are written back into the TUN.
//   netlink (links, addresses) on the configured interfaces: a link that
//       gains carrier (IFF_RUNNING) -> OnLinkUp + DHCP Start (or the static
//       address); carrier lost -> OnLinkDown + DHCP Stop; our address
//       removed by someone else -> OnAddressLost.
//   DHCP: one dhcp::Client core per interface over a UDP port-68 socket
//       with SO_BINDTODEVICE and SO_BROADCAST (broadcast flag set); Bound /
//       Renewed -> the address goes on the interface and the routing below,
//       then OnAddress; LeaseLost -> undone, OnAddressLost.
//   Per-interface routing: interface i (config order) has table
//       table_base + i holding its subnet and its default router, and a
//       rule "from <its address> lookup <table>" at rule_priority. Every
//       datagram the controller sends from an interface address (direct
//       registrations, reverse-tunnelled IP-in-IP with the care-of address
//       as source, DHCP renewals) carries that address as source
//       (IP_PKTINFO) and the interface as oif, so it leaves that link by
//       that link's router and never enters the TUN (R11: "direct
//       registrations outside the tunnel").
//   Datagrams from 0.0.0.0 (DHCP before a lease, agent solicitations before
//       an address) leave through an AF_PACKET socket: an IP socket would
//       get the home address of the TUN as source and reveal it on a link
//       that may be untrusted (RFC 2131 4.1, RFC 5265 4.1).
//   UDP 434: one socket per interface (SO_BINDTODEVICE) -> OnUdp;
//       raw IP protocol 4 (IP-in-IP from the HA/FA) and raw ICMP (Agent
//       Advertisements) -> OnIpPacket with the arrival interface.
//   ARP for the home address (RFC 5944 4.6): Linux answers ARP for any
//       local address on any link, the home address on the TUN included;
//       arp_ignore=1 on every interface we take (LinkUp) stops that away
//       from home. At home the MN is an ordinary host there: arp_ignore=0
//       on the home link from the moment its deregistration there starts
//       (the HA must resolve it to answer) and while it is in kHome; back
//       to 1 once it leaves. Also 0 on a trusted link where a foreign agent
//       is heard or registered through (4.6 lets the MN answer that FA,
//       which delivers to the home address on the link; Linux cannot tell
//       the FA's unicast requests from others'). ApplyHomeRule applies it
//       after each input; the original values come back at exit.
//   At home: the deregistration from the home address to the HA is
//       preceded by a gratuitous ARP for the home address with the
//       interface's own link-layer address, repeated twice 0.5 s apart
//       (RFC 5944 4.6); a registration through an FA (also from the home
//       address) has none: away from home the MN broadcasts no ARP for it.
//   At home (an interface in kHome): a rule "from <home> lookup <that
//       interface's table>" so the host's flows leave the home link as an
//       ordinary host's (RFC 5944 4.2.1); removed as soon as that interface
//       leaves kHome.
//   In mode f (RFC 3024 5.1.1 direct delivery to the FA): a table
//       table_base + 64 with "default via <FA> dev <link>" and a rule
//       "from <home> lookup" it, while that interface carries user data
//       through its FA (the raw socket cannot pick the FA as next hop).
//   rp_filter is set to 0 on the TUN and the moving interfaces (datagrams
//       to the home address arrive on a link whose reverse path is the TUN);
//       arp_ignore as above.
// Everything added to the host (TUN, addresses, routes, rules, sysctls) is
// removed or restored by the destructor.
//
// The outside mode mc (with [vpn]; RFC 5266 3.3, R3-R6, R12, R14-R16):
//   IKEv2/MOBIKE through ikev2d::IkeRuntime: the IKE socket (UDP 500) and
//       the ESP data path (UDP 4500, RFC 3948) are bound to 0.0.0.0 and
//       every datagram names its source (IP_PKTINFO): the care-of address
//       the controller chose, whose rule sends it out of that interface's
//       own table -- IKE and ESP never enter a tunnel (RFC 5266 3.3).
//   The controller's VpnCommands are carried out in the same input step
//       (R12): kConnect initiates an IKE SA from `preferred` (with the
//       other addresses for RFC 4555 3.4's ADDITIONAL_IP4_ADDRESS; a set-up
//       in progress is replaced), kUpdateAddresses hands the addresses to
//       the IKE SA (MOBIKE UPDATE_SA_ADDRESSES, RFC 4555 3.5), kDisconnect
//       deletes it. A set-up that fails moves on to the next of gateway,
//       backup_gateways (R4: a new gateway means a new TIA).
//   The ESP TUN "<vpn.tun>" holds the TIA (/32) once the gateway assigned
//       it (CP, RFC 7296 2.19); table table_base + 65 routes the [vpn]
//       routes into it with the TIA as source, and the rule "from <TIA>
//       lookup" that table (rule_priority) makes the tunnel engine's
//       registrations (UDP 434, TIA -> i-HA) and its reverse tunnel
//       (IP-in-IP TIA -> i-HA, R6) enter the ESP tunnel and nothing else:
//       the host's own flows keep their source, the home address, and so
//       stay in the home-address TUN under the controller's control.
//   Inbound, decrypted datagrams come out of the ESP TUN to the TIA: UDP
//       434 on a socket bound to that device, IP-in-IP on the raw socket,
//       both fed to the controller with the ESP TUN's ifindex (the
//       controller's tunnel pseudo-interface).
//   The VPN is reported up (OnVpnUp) once the IKE SA is established, its
//       CHILD SA installed and the TIA on the ESP TUN; MOBIKE's
//       PathConfirmed becomes OnVpnPathConfirmed; an IKE SA that goes down
//       (not replaced on the controller's own order) becomes OnVpnDown.
//
// Clean stop (SIGTERM, SIGINT, Stop()): MnController::Shutdown blocks user
// data at once and deregisters every binding (RFC 5944 3.6.1.2; the c
// binding from its interface, the f binding through its FA, the mc binding
// through the tunnel), then disconnects the VPN; the loop runs on until the
// controller reports shutdown_complete() or options.shutdown_grace passed
// (default 3 s), then Run() returns Ok (exit 0) and the destructor undoes
// the host changes. A second signal stops at once.
// Reload (SIGHUP): options.config_path is parsed in full first
// (config::LoadMnConfig); a bad file logs "reload failed, running
// configuration kept: mn.toml:12: key: reason" and changes nothing. Applied
// live (config::DiffMnConfig): log_level, use_foreign_agents, t_monitor,
// monitor_margin, probe_domains (mn::LiveSettings: each from the next
// decision that reads it); every other key is named in one warning "not
// applied (needs a restart): ..." and keeps its running value.
// Control socket (`mipsec ctl -d mn`, control_server.h): status,
// interfaces, history, sas, counters (mn_control.h), at
// options.control_socket, else config.control_socket.
//
// Threading: one loop thread (the ESP data path has its own RX/TX workers,
// ike_runtime.h); Run() blocks until the clean stop is over.
#ifndef MIPSEC_PLATFORM_LINUX_MN_MN_DAEMON_H_
#define MIPSEC_PLATFORM_LINUX_MN_MN_DAEMON_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip/address.h"
#include "common/log.h"
#include "common/result.h"
#include "common/time.h"
#include "config/mn_config.h"
#include "crypto/random.h"
#include "dhcp/client.h"
#include "mn/controller.h"
#include "platform/linux/control_server.h"
#include "platform/linux/epoll_event_loop.h"
#include "platform/linux/gratuitous_arp.h"
#include "platform/linux/ikev2/ike_runtime.h"
#include "platform/linux/mip4/agent_io.h"
#include "platform/linux/netlink.h"
#include "platform/linux/sysctl.h"
#include "platform/linux/tun_device.h"
#include "platform/linux/udp_socket.h"

namespace mipsec::mnd {

struct MnDaemonCounters {
  mip4d::AgentIoCounters io;
  std::uint64_t tun_in = 0;          // datagrams read from the TUN (user data)
  std::uint64_t tun_out = 0;         // deliveries written into the TUN
  std::uint64_t tun_write_errors = 0;
  std::uint64_t user_passed = 0;     // kPass, sent out of the home link
  std::uint64_t user_tunnelled = 0;
  std::uint64_t user_blocked = 0;
  std::uint64_t dhcp_sent = 0;
  std::uint64_t dhcp_received = 0;
  std::uint64_t dhcp_send_errors = 0;
  std::uint64_t netlink_errors = 0;  // a route/rule/address change the kernel refused
  std::uint64_t vpn_commands = 0;        // VpnCommands carried out
  std::uint64_t vpn_command_errors = 0;  // ... that failed (logged)
};

// One interface as the status query shows it.
struct MnInterfaceStatus {
  std::string name;
  int ifindex = 0;       // 0: not present
  bool running = false;  // carrier
  mn::IfState state = mn::IfState::kDown;
  mn::DataPlane plane = mn::DataPlane::kBlocked;
  std::optional<Ipv4Address> address;
  int prefix_length = 0;
  std::optional<Ipv4Address> router;
  std::string dhcp;      // the DHCP client state, "static" for a static address
  std::uint32_t table = 0;
};

// The `status` query (for `mipsec ctl`, mn_control.h, and the tests).
struct MnStatus {
  std::string mode;  // "c", "f", "mc", "home" or "" (no interface carries user data)
  std::optional<std::string> active;  // the interface carrying user data
  Ipv4Address home_address;
  Ipv4Address home_agent;
  std::string tun;
  int tun_ifindex = 0;  // events on it are the tunnel's
  bool vpn_configured = false;
  std::optional<mn::VpnUp> vpn;  // the VPN as the controller sees it
  bool shutting_down = false;
  Timestamp now;                 // the loop's clock at the snapshot
  std::int64_t realtime_ns = 0;  // CLOCK_REALTIME at the snapshot (event times)
  Timestamp started;
  std::vector<MnInterfaceStatus> interfaces;
  mn::ControllerCounters controller;
  MnDaemonCounters daemon;
  std::vector<mn::ControllerEvent> recent;  // the last events, oldest first
};

struct MnDaemonOptions {
  std::string config_path;     // SIGHUP re-reads it (empty: reload refused)
  std::string control_socket;  // empty: config.control_socket
  // --log-level: wins over the file's log_level at every reload.
  std::optional<LogLevel> log_level;
  // SIGTERM: how long the deregistrations (and the VPN disconnect) may take.
  Duration shutdown_grace = Duration::Seconds(3);
};

class MnDaemon {
 public:
  // Maps and validates the config, opens the TUN, netlink, the raw sockets
  // and every interface's sockets, installs the TUN routes and starts
  // detection on the interfaces that are up. Errors name the step; on error
  // everything done so far is undone. `sink` must outlive the daemon.
  static Result<std::unique_ptr<MnDaemon>> Create(const config::MnConfig& config,
                                                  const MnDaemonOptions& options, LogSink* sink);
  static Result<std::unique_ptr<MnDaemon>> Create(const config::MnConfig& config, LogSink* sink) {
    return Create(config, MnDaemonOptions{}, sink);
  }
  ~MnDaemon();
  MnDaemon(const MnDaemon&) = delete;
  MnDaemon& operator=(const MnDaemon&) = delete;

  // Runs until the clean stop (Stop() or SIGINT/SIGTERM, handlers
  // installed by Create) is over.
  Status Run();
  // The clean stop (see the file comment); a second call stops at once.
  // Loop thread only.
  void Stop() { BeginShutdown("stop requested"); }
  // SIGHUP: re-reads options.config_path (see the file comment). The Error
  // (nothing changed) is also logged.
  Status Reload();
  // One round of the loop (tests that drive the daemon themselves).
  Result<std::size_t> RunOnce(Duration max_wait) { return loop_->RunOnce(max_wait); }

  MnStatus status() const;
  const mn::MnController& controller() const { return *controller_; }
  const std::string& tun_name() const { return tun_->name(); }
  std::string CountersLine() const;

 private:
  struct Ifc;
  explicit MnDaemon(const config::MnConfig& config, LogSink* sink);
  Status Init();
  // mn_daemon_ops.cc: the control socket, the clean stop.
  Status OpenControlSocket();
  void BeginShutdown(const char* why);
  void StopIfShutDown();
  // The daemon's, the controller's and the DHCP clients' (a reload).
  void SetLogLevel(LogLevel level);

  Ifc* FindByIndex(int ifindex);
  void OnNetlink();
  void OnLinkState(Timestamp now, Ifc& ifc, const platform::LinkInfo& link);
  void LinkUp(Timestamp now, Ifc& ifc);
  void LinkDown(Timestamp now, Ifc& ifc);
  Status OpenInterfaceSockets(Ifc& ifc);
  void CloseInterfaceSockets(Ifc& ifc);
  void OnDhcpReadable(Ifc& ifc);
  void DrainDhcp(Timestamp now, Ifc& ifc);
  void ApplyAddress(Timestamp now, Ifc& ifc, const mn::AddressInfo& info);
  void RemoveAddress(Ifc& ifc);
  void OnUdpReadable(Ifc& ifc);
  void OnRawReadable(platform::LinuxRawSocket& sock);
  void OnTunReadable();
  Status SendIp(const mip4::IpTransmit& t);
  Status SendUnaddressed(Ifc& ifc, ByteSpan packet);
  void Drain(Timestamp now);
  void ApplyHomeRule();
  bool AnswersArpForHome(const Ifc& ifc) const;
  void SetArpIgnore(Ifc& ifc, bool answer_home);
  void EnsureNextHop(int ifindex, Ipv4Address next_hop);

  // The VPN (mc).
  Status InitVpn();
  void ExecuteVpn(Timestamp now, const mn::VpnCommand& c);
  Status ConnectVpn(Timestamp now, const mn::VpnCommand& c);
  // Ends our IKE SA without telling the controller (it asked for it).
  void TerminateVpn(const std::string& why);
  void OnIkeEvent(std::uint64_t sa_id, const ikev2::IkeEvent& e);
  void OnVirtualIp(std::uint64_t sa_id, const ikev2::VirtualIpAssigned& v);
  void ApplyTia(Ipv4Address tia);
  void DropTia();
  void OnVpnUdpReadable();
  Ipv4Address CurrentGateway() const;
  int vpn_ifindex() const { return vpn_tun_ifindex_; }

  // Host changes, remembered for the destructor.
  void AddRoute(const platform::Route& r);
  void DeleteRoute(const platform::Route& r);
  void AddRule(const platform::Rule& r);
  void DeleteRule(const platform::Rule& r);

  config::MnConfig config_;
  MnDaemonOptions options_;
  Logger log_;
  std::unique_ptr<platform::EpollEventLoop> loop_;
  std::unique_ptr<platform::GratuitousArp> arp_;  // RFC 5944 4.6, at home
  std::unique_ptr<platform::LinuxNetlink> netlink_;
  std::unique_ptr<platform::NetlinkMonitor> monitor_;
  std::unique_ptr<platform::LinuxTunDevice> tun_;
  mip4d::AgentSockets raw_;  // ipip + icmp (the UDP one is a placeholder on an ephemeral port)
  crypto::SystemRandom random_;
  std::unique_ptr<mn::MnController> controller_;
  std::vector<std::unique_ptr<Ifc>> ifcs_;
  platform::EventLoop::TimerId timer_ = platform::EventLoop::kNoTimer;
  std::vector<int> registered_fds_;
  mip4d::RecvBuffers rx_;
  std::vector<std::uint8_t> tun_buffer_;
  std::vector<platform::Route> routes_;
  platform::SysctlChanges sysctls_;  // restored by the destructor
  std::optional<platform::Rule> home_rule_;
  std::vector<platform::Route> home_routes_;
  std::optional<platform::Rule> next_hop_;
  platform::Route next_hop_route_;
  std::string logged_mode_ = "?";
  std::optional<int> logged_active_;
  std::deque<mn::ControllerEvent> recent_;
  MnDaemonCounters counters_;
  bool draining_ = false;

  // The VPN (mc); all empty without [vpn].
  std::unique_ptr<ikev2d::IkeRuntime> ike_;
  ikev2::PeerConfig peer_;
  int vpn_tun_ifindex_ = 0;
  std::string vpn_tun_name_;
  std::unique_ptr<platform::LinuxUdpSocket> vpn_mip_sock_;  // UDP 434 on the ESP TUN
  std::optional<std::uint64_t> sa_id_;  // our IKE SA
  std::optional<Ipv4Address> tia_;      // on the ESP TUN, with its table and rule
  std::vector<platform::Route> tia_routes_;
  std::optional<platform::Rule> tia_rule_;
  bool child_up_ = false;
  bool vpn_reported_ = false;   // OnVpnUp given for sa_id_
  bool restarting_vpn_ = false; // our own TerminateVpn: not news for the controller
  bool in_ike_callback_ = false;
  std::size_t gateway_index_ = 0;  // 0: gateway, i: backup_gateways[i - 1]
  // Drains the controller after an IKE event (not from inside the runtime).
  platform::EventLoop::TimerId post_timer_ = platform::EventLoop::kNoTimer;
  std::unique_ptr<platform::ControlServer> control_;
  Timestamp started_;
  bool stopping_ = false;
  platform::EventLoop::TimerId grace_timer_ = platform::EventLoop::kNoTimer;
};

}  // namespace mipsec::mnd

#endif  // MIPSEC_PLATFORM_LINUX_MN_MN_DAEMON_H_

// FaDaemon: `mipsec fa`, the Mobile IPv4 foreign agent on Linux. It runs the
// sans-I/O core (mip4::ForeignAgent, unchanged) on real sockets, a TUN
// device and policy routes, in mip4/io.h's call order, exactly as the
// simulator's app does (sim/apps/mip4_fa_app.cc).
//
// Wiring (one EventLoop thread):
//   UDP port `config.port` on 0.0.0.0, IP_PKTINFO + IP_RECVTTL
//                               -> ForeignAgent::OnUdp (requests from
//                                  visitors to the FA's address, a care-of
//                                  address, 224.0.0.11 or a broadcast;
//                                  replies and RFC 3519 Tunnel Data from
//                                  HAs; the TTL feeds RFC 3024 4.2.1);
//   raw ICMP, types 3 10 11 12  -> ForeignAgent::OnIcmp (Agent Solicitations;
//                                  errors quoting a relayed request, RFC
//                                  5944 3.7.3); each served interface joins
//                                  224.0.0.11 (2.2) and 224.0.0.2;
//   raw IP protocol 4           -> from a served interface: OnVisitorPacket
//                                  (RFC 3024 5.2 encapsulating delivery);
//                                  else OnTunnelPacket (HA->FA tunnel, 4.2.2);
//   TUN "mipfa%d"               -> OnVisitorPacket(ifindex of the visitor's
//                                  link) for datagrams of visitors with 'T'
//                                  (RFC 3024 5.1 direct delivery), see below;
//   PollTransmit                -> SendTransmit semantics (agent_io.h):
//                                  advertisements (TTL 1, 224.0.0.1 or
//                                  broadcast), relays, denials, on-link
//                                  delivery (link_next_hop), reverse tunnels;
//   FaEvent                     -> one log line each, and the kernel state
//                                  (applied before the round's transmits
//                                  are sent):
//                                  pending/active: "<home>/32 dev <visitor
//                                  link>" in the main table; active with 'T':
//                                  also the rule "from <home>/32 iif <visitor
//                                  link> lookup <table>"; removed: both go;
//   NextTimeout                 -> one timer (advertisements included).
//
// Reverse tunnelling on Linux: <table> holds one route, "default dev <tun>".
// A datagram from a 'T' visitor arriving on its link matches the rule, the
// kernel forwards it into the TUN (decrementing its TTL), the daemon reads
// it, restores the TTL it arrived with (the core decrements it once more as
// the forwarding step, RFC 2003 3.1) and gives it to the core. A kRoute
// answer (e.g. RFC 3024 5.2.1 plain datagrams of an encapsulating visitor)
// sends it on as routed, through the raw socket, with the kernel's TTL.
// Datagrams of visitors without 'T' match no rule and are forwarded by the
// kernel as usual (RFC 5944 4.2.2). The TUN's own packets are never looked
// at otherwise. The FA's own addresses are matched first by the local table
// (rule 0), so registrations and solicitations from visitors are unaffected.
//
// Requirements: root (CAP_NET_ADMIN, CAP_NET_RAW, port 434), IPv4
// forwarding on (net.ipv4.ip_forward=1; a warning is logged when it is off),
// no strict rp_filter on the served links. Every route and rule the daemon
// adds is removed by Shutdown() (and the destructor); rules left by a
// killed earlier run (same priority and table) are removed at start.
//
// Not thread-safe; everything runs on the loop's thread.
#ifndef MIPSEC_PLATFORM_LINUX_MIP4_FA_DAEMON_H_
#define MIPSEC_PLATFORM_LINUX_MIP4_FA_DAEMON_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip/address.h"
#include "common/log.h"
#include "common/result.h"
#include "common/time.h"
#include "config/daemon_config.h"
#include "crypto/random.h"
#include "mip4/fa/foreign_agent.h"
#include "mip4/security/sa_database.h"
#include "platform/event_loop.h"
#include "platform/linux/control_server.h"
#include "platform/linux/mip4/agent_io.h"
#include "platform/linux/netlink.h"
#include "platform/linux/raw_socket.h"
#include "platform/linux/tun_device.h"

namespace mipsec::mip4d {

// Linux settings that are not in the config file.
struct FaDaemonOptions {
  // The routing table holding "default dev <tun>" and the priority of the
  // per-visitor rules pointing at it.
  std::uint32_t reverse_tunnel_table = 434;
  std::uint32_t rule_priority = 434;
  // TUN name or pattern ("%d": the kernel picks the number).
  std::string tun_name = "mipfa%d";
  // The file the config came from (SIGHUP / Reload() re-read it); empty:
  // reloading is refused (an error is logged).
  std::string config_path;
  // Overrides the file's log_level at every reload (the CLI's --log-level).
  std::optional<LogLevel> log_level;
  // Overrides the config's control_socket when not empty.
  std::string control_socket;
};

// What happened around the core (the core's own counters: core().counters()).
struct FaDaemonCounters {
  std::uint64_t udp_in = 0;
  std::uint64_t udp_truncated = 0;   // longer than the receive buffer: dropped
  std::uint64_t icmp_in = 0;
  std::uint64_t tunnel_in = 0;       // IP-in-IP from the network side
  std::uint64_t encapsulated_in = 0; // IP-in-IP from a visitor (RFC 3024 5.2)
  std::uint64_t tun_in = 0;          // visitor datagrams intercepted by the rule
  std::uint64_t tun_unknown = 0;     // from no known visitor: sent on as routed
  std::uint64_t tun_not_ipv4 = 0;    // dropped
  std::uint64_t routed = 0;          // kRoute answers sent on
  std::uint64_t events = 0;
  std::uint64_t kernel_errors = 0;   // route/rule changes the kernel refused
  std::uint64_t receive_errors = 0;
};

class FaDaemon {
 public:
  // The core's options from the config: interface names become ifindexes
  // through `netlink` (kNotFound "interface[1].name: no link named eth7").
  // Advertisements: max interval = advertisement_interval (RFC 1256's
  // default minimum, 0.75 of it), ICMP lifetime = advertisement_lifetime,
  // to 224.0.0.1; registration lifetime = max_lifetime; R, T, U (behind_nat)
  // as configured. The core's stricter rules (e.g. an interval of at least
  // 1 s, a lifetime of at least three intervals) are checked here, the error
  // naming the config key.
  static Result<mip4::ForeignAgentOptions> OptionsFromConfig(const config::FaConfig& config,
                                                             platform::Netlink& netlink);

  // Opens everything (sockets, TUN, table route), creates the core with the
  // config's SAs and registers with `loop`; on error nothing stays open or
  // installed. `loop` must outlive the daemon. The first advertisements go
  // out on the loop's first round.
  static Result<std::unique_ptr<FaDaemon>> Create(const config::FaConfig& config,
                                                  platform::EventLoop& loop, Logger log,
                                                  FaDaemonOptions options = {});
  ~FaDaemon();  // Shutdown()
  FaDaemon(const FaDaemon&) = delete;
  FaDaemon& operator=(const FaDaemon&) = delete;

  // Handles SIGTERM and SIGINT (stop), SIGUSR1 (LogCounters) and SIGHUP
  // (Reload) on the loop, runs it until stopped, then Shutdown(). Errors:
  // the loop's, or the first cleanup failure.
  Status Run();
  // Re-reads options.config_path: parsed and validated in full first (a bad
  // file logs one error "fa.toml:12: key: reason" and changes nothing), then
  // applied live through ForeignAgent::Reconfigure with a new SaDatabase:
  // HA peers and MN-FA keys added, removed, re-keyed; advertisement
  // interval and lifetime, max_lifetime, R/T/U flags, max_visitors,
  // pending_timeout, log_level. Every visitor, its route and rule, stays.
  // Restart-only keys (interfaces, port, control_socket) are named in one
  // warning and not applied. One summary line; keys never reach the log.
  Status Reload();
  // Removes every route and rule this daemon installed, the table's default
  // route and the TUN, and unregisters from the loop. Idempotent; the first
  // failure is returned after trying everything.
  Status Shutdown();
  // One info line with the core's and the daemon's counters.
  void LogCounters() const;

  const mip4::ForeignAgent& core() const { return *core_; }
  const FaDaemonCounters& counters() const { return counters_; }
  const AgentIoCounters& io_counters() const { return sockets_.counters; }
  const std::string& tun_name() const { return tun_->name(); }

  // What `mipsec ctl` shows (the control socket's handlers; no keys).
  platform::ControlJson StatusJson() const;
  platform::ControlJson VisitorsJson() const;
  platform::ControlJson CountersJson() const;

 private:
  struct Installed {  // kernel state for one visitor's home address
    int ifindex = 0;
    bool route = false;
    bool rule = false;
  };

  FaDaemon(const config::FaConfig& config, platform::EventLoop& loop, Logger log,
           FaDaemonOptions options);
  Status Open(const config::FaConfig& config);
  Status OpenControlSocket(const config::FaConfig& config);
  bool Served(int ifindex) const;
  void OnUdpReadable();
  void OnIcmpReadable();
  void OnIpipReadable();
  void OnTunReadable();
  void Drain(Timestamp now);
  void HandleEvent(const mip4::FaEvent& e);
  void SendRouted(ByteSpan packet);
  platform::Rule VisitorRule(Ipv4Address home, int ifindex) const;
  platform::Route VisitorRoute(Ipv4Address home, int ifindex) const;
  Status RemoveVisitorState(Ipv4Address home, Installed& st);
  void RemoveStaleRules();

  config::FaConfig config_;  // as applied (reloads included)
  platform::EventLoop& loop_;
  Logger log_;
  FaDaemonOptions options_;
  std::unique_ptr<platform::LinuxNetlink> netlink_;
  crypto::SystemRandom rng_;
  // Replaced whole by Reload (the core switches to the new one first).
  std::unique_ptr<mip4::SaDatabase> sas_ = std::make_unique<mip4::SaDatabase>();
  std::unique_ptr<mip4::ForeignAgent> core_;
  AgentSockets sockets_;
  std::unique_ptr<platform::LinuxRawSocket> icmp_;
  std::unique_ptr<platform::LinuxTunDevice> tun_;
  std::unique_ptr<RecvBuffers> rx_;
  TransmitBatch tx_;
  std::vector<std::uint8_t> tun_storage_;
  std::vector<platform::PacketBuf> tun_bufs_;
  std::unique_ptr<platform::Timer> timer_;
  std::map<int, std::string> served_;  // ifindex -> interface name
  std::map<Ipv4Address, Installed> visitors_;
  std::vector<int> registered_fds_;
  bool table_route_ = false;
  bool shut_down_ = false;
  bool draining_ = false;
  FaDaemonCounters counters_;
  std::uint16_t udp_port_ = 0;
  std::size_t ha_peers_ = 0;
  Timestamp started_{};
  std::unique_ptr<platform::ControlServer> control_;
};

}  // namespace mipsec::mip4d

#endif  // MIPSEC_PLATFORM_LINUX_MIP4_FA_DAEMON_H_

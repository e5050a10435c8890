// HaDaemon: the Mobile IPv4 home agent on Linux (`mipsec ha`). It runs the
// sans-I/O mip4::HomeAgent core unchanged, in mip4/io.h's call order, over
// real sockets, a TUN device and netlink, the way sim/apps/mip4_ha_app.cc
// does in the simulator.
//
// Wiring (the HA is the router of the home subnet):
//   UDP <port> (434), recvmmsg batches -> HomeAgent::OnUdp (Registration
//                          Requests, RFC 3519 Tunnel Data); replies and UDP
//                          tunnel traffic leave in sendmmsg batches;
//   raw IP protocol 4 ->   HomeAgent::OnTunnelPacket (RFC 2003 / 3024
//                          reverse tunnel);
//   TUN "<tun_name>"  ->   HomeAgent::OnHomePacket: on every BindingAdded the
//                          daemon adds a /32 route to the home address via
//                          the TUN (RTPROT_STATIC, main table) and removes it
//                          on BindingRemoved, so the kernel hands it the
//                          datagrams for away mobile nodes (from the home
//                          link thanks to proxy_arp on the home interface,
//                          from anywhere else by plain routing); a
//                          BindingAdded (the node had no binding) is also
//                          announced on the home link with a gratuitous ARP
//                          carrying the HA's link-layer address, sent three
//                          times 0.5 s apart (RFC 5944 4.6), so that the
//                          home link's router stops using the node's own;
//                          proxy ARP answers for the address exactly while
//                          its route exists (the kernel proxies only for
//                          addresses routed out of another interface);
//   BindingRemoved with returned_home (the node deregistered all care-of
//                          addresses from its home address, on the home
//                          link) -> the route goes (no more proxy ARP),
//                          then a gratuitous ARP carrying the node's own
//                          link-layer address, three times 0.5 s apart
//                          (RFC 5944 4.6). That address is read from the
//                          kernel's neighbour table on the home interface
//                          (RTM_GETNEIGH; the node's own gratuitous ARP and
//                          the reply we send it fill it), retried every
//                          0.1 s for 1 s; not found: one warning, nothing
//                          announced;
//   kForward results  ->   written into the TUN: the kernel receives the
//                          decapsulated datagram on the TUN and forwards it
//                          (rp_filter 0 on the TUN; net.ipv4.ip_forward must
//                          be 1, a warning is logged otherwise);
//   kNotBound         ->   dropped and counted (the route goes with the
//                          binding's BindingRemoved, which is already queued);
//   NextTimeout()     ->   one loop timer;
//   SIGINT / SIGTERM  ->   Stop(); SIGUSR1 -> the counters are logged;
//   control socket    ->   `mipsec ctl` (platform/linux/control_server.h):
//                          status, bindings (home address, care-of address,
//                          tunnel, remaining lifetime, flags), counters.
//   SIGHUP            ->   Reload() of options.config_path (below).
//
// Reload (SIGHUP): the file is parsed and validated in full first
// (config::LoadHaConfig); a bad file logs one error line "ha.toml:12:
// mobile_node[2].spi: reason" and changes nothing. A good one is applied
// live through HomeAgent::Reconfigure with a new SaDatabase (mobile nodes
// and FA peers added, removed, re-keyed; trusted_subnets, max_lifetime,
// tunnelling and advertisement settings, log_level), while every binding,
// its route and its replay state stay. A mobile node removed from the file
// loses its binding at once (revoked: see HomeAgent::Reconfigure for why).
// Restart-only keys (config_reload.h: address, home_network, interface,
// port, control_socket, advertising on/off) are named in one warning and
// not applied. One summary line follows ("reloaded ha.toml: 1 mobile node
// added, ..."); keys never reach the log.
//
// Time: the loop's CLOCK_MONOTONIC `now`; the core's wall clock (timestamp
// replay protection, RFC 5944 5.7) is CLOCK_REALTIME sampled once at
// start-up against the loop clock (mip4::WallClockMapping).
//
// Start-up changes to the host, all undone by the destructor: the TUN
// interface (deleted with the fd), proxy_arp and neigh proxy_delay (0) on
// the home interface (the old values are restored), rp_filter on the TUN,
// the /32 routes (every route the daemon added and still holds is deleted).
//
// Logging: every HaEvent is one info line ("binding added 192.0.2.10 coa
// 198.51.100.7 ipip 198.51.100.7:0 lifetime 600 T (registration)");
// CountersLine() at SIGUSR1 and at exit. RFC 5265 4.3: with no
// trusted_subnets the core answers nobody; Create logs a warning then.
//
// Threading: one thread; Run() blocks. Stop() may be called from a signal
// callback or another thread (EventLoop::Stop is thread-safe).
#ifndef MIPSEC_PLATFORM_LINUX_MIP4_HA_DAEMON_H_
#define MIPSEC_PLATFORM_LINUX_MIP4_HA_DAEMON_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/ip/address.h"
#include "common/log.h"
#include "common/result.h"
#include "common/time.h"
#include "config/daemon_config.h"
#include "crypto/random.h"
#include "mip4/ha/home_agent.h"
#include "mip4/security/sa_database.h"
#include "platform/linux/control_server.h"
#include "platform/linux/epoll_event_loop.h"
#include "platform/linux/gratuitous_arp.h"
#include "platform/linux/mip4/agent_io.h"
#include "platform/linux/netlink.h"
#include "platform/linux/sysctl.h"
#include "platform/linux/tun_device.h"

namespace mipsec::mip4d {

struct HaDaemonOptions {
  // Name of the interception TUN (a "%d" pattern is completed by the kernel).
  std::string tun_name = "mipha%d";
  // Overrides the config's [home_agent] advertisement_interval when set.
  // The core sends Agent Advertisements on the home link (RFC 5944 2.3: H
  // set, so that a mobile node can tell it is at home, 2.4.2) at intervals
  // drawn from 0.75..1 times this (RFC 1256 4.1) and answers Agent
  // Solicitations there; the ICMP lifetime is the config's
  // advertisement_lifetime, or three intervals with an override. Zero:
  // none (no ICMP socket).
  std::optional<Duration> advertisement_interval;
  // SO_RCVBUF/SO_SNDBUF of the UDP socket.
  int udp_buffer_bytes = 4 << 20;
  // Datagrams per recvmmsg, and batches per readiness callback before other
  // fds get a turn.
  std::size_t receive_batch = 64;
  std::size_t batches_per_wakeup = 16;
  // The file the config came from: what SIGHUP / Reload() re-reads. Empty:
  // reloading is refused (an error is logged).
  std::string config_path;
  // Overrides the file's log_level, at start and at every reload (the CLI's
  // --log-level).
  std::optional<LogLevel> log_level;
  // Overrides the config's control_socket when not empty.
  std::string control_socket;
};

// What happened outside the core (the core's own: mip4::HaCounters).
struct HaDaemonCounters {
  AgentIoCounters io;
  std::uint64_t tunnel_in = 0;         // IP-in-IP datagrams read
  std::uint64_t tun_in = 0;            // intercepted datagrams read from the TUN
  std::uint64_t forwarded = 0;         // kForward datagrams written into the TUN
  std::uint64_t not_bound = 0;         // kNotBound (dropped)
  std::uint64_t tun_write_errors = 0;
  std::uint64_t routes_added = 0;
  std::uint64_t routes_removed = 0;
  std::uint64_t route_errors = 0;
  std::uint64_t events = 0;            // HaEvents logged
};

class HaDaemon {
 public:
  // Validates `config` against the core (HomeAgent::ValidateOptions), finds
  // the home interface, opens every socket, the TUN and netlink, writes the
  // sysctls and creates the core with `config`'s SAs. Errors name the step
  // ("home interface eth9: ...", "udp 0.0.0.0:434: bind ...",
  // "rp_filter on mipha0: ..."); on error everything opened so far is closed
  // and every sysctl restored. `sink` must outlive the daemon.
  static Result<std::unique_ptr<HaDaemon>> Create(const config::HaConfig& config,
                                                  const HaDaemonOptions& options,
                                                  LogSink* sink);
  ~HaDaemon();  // removes the routes, restores the sysctls
  HaDaemon(const HaDaemon&) = delete;
  HaDaemon& operator=(const HaDaemon&) = delete;

  // Runs until Stop() (or SIGINT/SIGTERM; the handlers are installed by
  // Create, which blocks those signals in the calling thread),
  // then removes every route it added and logs the counters. An OS error of
  // the loop ends it with that error (routes still removed).
  Status Run();
  void Stop() { loop_->Stop(); }
  // Re-reads options.config_path and applies it (see the file comment). On
  // error (logged as one line naming file:line: key: reason) the daemon
  // runs on exactly as before. Loop thread only (SIGHUP calls it there).
  Status Reload();
  const config::HaConfig& config() const { return config_; }

  // Queries (tests, the CLI).
  const mip4::HomeAgent& core() const { return *core_; }
  const HaDaemonCounters& counters() const { return counters_; }
  const std::string& tun_name() const { return tun_->name(); }
  int tun_ifindex() const { return tun_->ifindex(); }
  std::uint16_t udp_port() const { return sockets_.udp->local().port; }
  // Home addresses with an interception route right now.
  const std::unordered_set<Ipv4Address>& routed() const { return routed_; }
  // "requests 10 replies 9 (code0 8 code133 1) drops ... | udp_in ... ".
  std::string CountersLine() const;
  // What `mipsec ctl` shows (the control socket's handlers; no keys).
  platform::ControlJson StatusJson() const;
  platform::ControlJson BindingsJson(std::size_t limit) const;
  platform::ControlJson CountersJson() const;

 private:
  HaDaemon(const config::HaConfig& config, const HaDaemonOptions& options, LogSink* sink);
  Status Init();
  mip4::HomeAgentOptions CoreOptions(const config::HaConfig& config,
                                     const mip4::WallClockMapping& wall_clock) const;
  Status OpenControlSocket();

  void OnUdpReadable();
  void OnTunnelReadable();
  void OnTunReadable();
  void OnIcmpReadable();
  void Forward(Bytes&& packet);
  // Drains transmits and events, re-arms the timer.
  void Drain(Timestamp now);
  void HandleEvent(const mip4::HaEvent& e);
  // RFC 5944 4.6: the gratuitous ARP with the mobile node's own
  // link-layer address once it deregistered from its home link (`attempt`:
  // neighbour lookups so far).
  void AnnounceReturnedHome(Ipv4Address home, int attempt);
  void AddRoute(Ipv4Address home);
  void RemoveRoute(Ipv4Address home);
  void RemoveAllRoutes();

  config::HaConfig config_;
  HaDaemonOptions options_;
  Logger log_;
  std::unique_ptr<platform::EpollEventLoop> loop_;
  std::unique_ptr<platform::LinuxNetlink> netlink_;
  std::unique_ptr<platform::LinuxTunDevice> tun_;
  AgentSockets sockets_;
  int home_ifindex_ = 0;
  crypto::SystemRandom random_;
  // Replaced whole by Reload (the core switches to the new one first).
  std::unique_ptr<mip4::SaDatabase> sas_ = std::make_unique<mip4::SaDatabase>();
  std::unique_ptr<mip4::HomeAgent> core_;
  std::unique_ptr<platform::GratuitousArp> arp_;  // RFC 5944 4.6
  // Mobile nodes back home whose link-layer address is still being looked
  // up (AnnounceReturnedHome).
  struct Returning {
    int attempt = 0;
    std::unique_ptr<platform::Timer> timer;
  };
  std::unordered_map<Ipv4Address, Returning> returning_;

  platform::EventLoop::TimerId timer_ = platform::EventLoop::kNoTimer;
  std::vector<int> registered_fds_;
  RecvBuffers rx_;
  TransmitBatch tx_;
  std::vector<std::uint8_t> tun_buffer_;
  std::unordered_set<Ipv4Address> routed_;
  // Sysctl paths written at start-up and their old values.
  platform::SysctlChanges sysctls_;
  HaDaemonCounters counters_;
  Duration adv_interval_;
  Timestamp started_{};
  // Last: closed first (its handlers read everything above).
  std::unique_ptr<platform::ControlServer> control_;
};

}  // namespace mipsec::mip4d

#endif  // MIPSEC_PLATFORM_LINUX_MIP4_HA_DAEMON_H_

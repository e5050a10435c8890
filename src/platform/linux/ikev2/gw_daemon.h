// GwDaemon: the VPN gateway of RFC 5266 (`mipsec gw`): an IKEv2 responder
// on IkeRuntime (ike_runtime.h) that gives each client a tunnel inner
// address (TIA) from its TiaPool via CP (INTERNAL_IP4_ADDRESS, NETMASK,
// DNS; RFC 7296 2.19) and forwards the clients' decrypted traffic into the
// intranet through a TUN device, and back.
//
// Wiring:
//   UDP <listen>:500 and <listen>:4500 (ESP-in-UDP and IKE behind the
//   non-ESP marker) -> IkeRuntime -> EspDataPath workers -> TUN <tun>.
//   Decrypted packets are written into the TUN; the kernel routes them into
//   the intranet (net.ipv4.ip_forward must be 1: the daemon warns if it is
//   not, it does not change it). The TIA pool range is routed into the TUN
//   by the daemon (routes added at start, removed at exit), so replies from
//   the intranet reach the data path, which encrypts them to the client
//   whose traffic selector (its TIA) matches.
//   UDP encapsulation is always used (PeerConfig::force_encapsulation is
//   set: the userspace data path is ESP-in-UDP only; strongSwan with
//   kernel-libipsec forces it anyway).
//
// RFC 5265 4.2 policy (config [policy]): enforced by nftables rules the
// daemon installs in its own table `ip mipsec_<tun>` and deletes at exit:
// in the forward and the input hooks, a packet that arrived on the TUN
// (i.e. decrypted traffic from a client) is accepted only when one allow
// rule matches (UDP 434 and IP-in-IP to each i-HA first, then the
// [[policy.allow]] entries); anything else is counted and dropped
// ("policy_drops" in the counters). Traffic towards the clients is not
// filtered. Why nftables: the data path writes decrypted packets straight
// into the TUN from its RX worker; the kernel's filter is where they can be
// dropped without a second copy, and `nft list table` shows the counters.
// Without [policy] only the CHILD SA's traffic selectors apply (inbound
// inner sources must be the client's TIA).
//
// Addresses: the gateway binds IKE and ESP to its `listen` address and
// sends no ADDITIONAL_*_ADDRESS notifies (it never reports a local address
// list to the SA layer), so it advertises only its external address. With
// more than one `listen` address the sockets are bound to 0.0.0.0 and the
// source of each reply is the address the request arrived on (IP_PKTINFO).
//
// MOBIKE (RFC 4555, `mobike` in [gateway], on by default): a client may move
// its IKE and CHILD SAs to a new address with UPDATE_SA_ADDRESSES; the CHILD
// SAs follow after a return routability check (3.7) unless
// `mobike_return_routability = false`. A move to an address inside the
// intranet or the TIA pool is refused with UNACCEPTABLE_ADDRESSES: the
// gateway faces the outside, and such a path would loop through the tunnel.
//
// Control socket (config control_socket, or GwDaemonOptions::control_socket):
// `mipsec ctl` status, sas (IKE SAs: SPIs, peer addresses and ports, NAT,
// MOBIKE, TIA, identities; CHILD SAs: SPIs in hex, traffic selectors, byte
// and packet counters from the data path; never keys) and counters.
//
// Signals: SIGINT/SIGTERM stop cleanly (every IKE SA deleted with an
// INFORMATIONAL Delete, up to shutdown_grace; routes and nft table removed;
// exit 0); SIGUSR1 logs the counters; SIGHUP reloads (below).
//
// Reload (SIGHUP, Reload()): options.config_path is parsed and validated in
// full (config::LoadGwConfig); a bad file logs one error line naming
// file:line: key: reason and changes nothing. A good one applies what
// config::DiffGwConfig calls live: the [[peer]] PSKs (clients added,
// removed, re-keyed) and the shared psk, through the PSK table every new
// IKE_AUTH consults, and log_level. Established IKE and CHILD SAs are not
// touched (a removed client keeps its SA until it ends; it cannot set up a
// new one). Restart-only keys (listen, ports, identities, auth method,
// certificates, proposals, lifetimes, pool, intranet, TUN, policy, ...) are
// named in one warning and not applied. One summary line follows; keys
// never reach the log.
#ifndef MIPSEC_PLATFORM_LINUX_IKEV2_GW_DAEMON_H_
#define MIPSEC_PLATFORM_LINUX_IKEV2_GW_DAEMON_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip/address.h"
#include "common/log.h"
#include "common/result.h"
#include "common/time.h"
#include "config/gw_config.h"
#include "crypto/random.h"
#include "ikev2/sa/config.h"
#include "ikev2/sa/tia_pool.h"
#include "platform/linux/control_server.h"
#include "platform/linux/epoll_event_loop.h"
#include "platform/linux/ikev2/ike_runtime.h"
#include "platform/linux/netlink.h"

namespace mipsec::ikev2d {

struct GwDaemonOptions {
  // How long SIGTERM waits for the peers to answer our Deletes.
  Duration shutdown_grace = Duration::Seconds(2);
  // The file the config came from (SIGHUP re-reads it); empty: no reload.
  std::string config_path;
  // Overrides the file's log_level at start and at every reload (--log-level).
  std::optional<LogLevel> log_level;
  // Overrides the config's control_socket when not empty.
  std::string control_socket;
};

// MOBIKE path policy of the gateway (RFC 4555 3.5): a client may not move its
// SAs to an address inside what the gateway protects (the intranet, the TIA
// pool); such an UPDATE_SA_ADDRESSES is answered UNACCEPTABLE_ADDRESSES. The
// gateway faces the outside, and such a path would loop through the tunnel.
class OutsideOnlyPolicy final : public ikev2::PathPolicy {
 public:
  explicit OutsideOnlyPolicy(std::vector<Ipv4Prefix> inside) : inside_(std::move(inside)) {}
  bool Acceptable(const Ipv4Endpoint& local, const Ipv4Endpoint& remote) const override;

 private:
  std::vector<Ipv4Prefix> inside_;
};

// The nftables script for `policy` on TUN `tun` in table `table` (pure;
// unit-tested). Empty rules still drop everything from the TUN.
std::string PolicyNftScript(const config::GwPolicy& policy, const std::string& tun,
                            const std::string& table);

class GwDaemon {
 public:
  // Opens everything (loop, signals, sockets, TUN, routes, nft policy);
  // errors name the step. On error everything is undone. `sink` must
  // outlive the daemon.
  static Result<std::unique_ptr<GwDaemon>> Create(const config::GwConfig& config,
                                                  const GwDaemonOptions& options, LogSink* sink);
  ~GwDaemon();  // routes and the nft table removed
  GwDaemon(const GwDaemon&) = delete;
  GwDaemon& operator=(const GwDaemon&) = delete;

  // Runs until Stop() or SIGINT/SIGTERM, then deletes the IKE SAs.
  Status Run();
  void Stop() { loop_->Stop(); }
  // Re-reads options.config_path and applies its live keys (see the file
  // comment); on error nothing changes. Loop thread only.
  Status Reload();

  IkeRuntime& runtime() { return *runtime_; }
  const ikev2::TiaPool& pool() const { return *pool_; }
  const std::string& tun_name() const { return tun_name_; }
  // Packets the policy dropped so far (from the nft counter; 0 without a
  // policy or when nft cannot be read).
  std::uint64_t PolicyDrops() const;
  std::string CountersLine() const;
  // What `mipsec ctl` shows (the control socket's handlers; no keys).
  platform::ControlJson StatusJson() const;
  platform::ControlJson SasJson();
  platform::ControlJson CountersJson() const;

 private:
  GwDaemon(const config::GwConfig& config, const GwDaemonOptions& options, LogSink* sink);
  Status Init();
  Status InstallPolicy();
  Status OpenControlSocket();
  void RemovePolicy();
  void RemoveRoutes();

  config::GwConfig config_;
  GwDaemonOptions options_;
  Logger log_;
  std::unique_ptr<platform::EpollEventLoop> loop_;
  std::unique_ptr<platform::LinuxNetlink> netlink_;
  crypto::SystemRandom random_;
  std::unique_ptr<ikev2::TiaPool> pool_;
  std::unique_ptr<config::GwPskTable> psks_;  // per-client PSKs ([[peer]])
  std::unique_ptr<ikev2::PathPolicy> path_policy_;  // MOBIKE: refuses inside addresses
  std::unique_ptr<IkeRuntime> runtime_;
  std::string tun_name_;
  int tun_ifindex_ = 0;
  std::vector<platform::Route> routes_;
  std::string nft_table_;  // set while installed
  Timestamp started_{};
  std::unique_ptr<platform::ControlServer> control_;
};

}  // namespace mipsec::ikev2d

#endif  // MIPSEC_PLATFORM_LINUX_IKEV2_GW_DAEMON_H_

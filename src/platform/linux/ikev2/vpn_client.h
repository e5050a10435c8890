// VpnClient: the IKEv2 initiator side of RFC 5266's VPN (`mipsec vpn`), on
// IkeRuntime (ike_runtime.h) — what the mobile node uses outside the
// enterprise, runnable on its own against `mipsec gw` or any IKEv2 gateway
// (strongSwan).
//
// It opens the IKE socket (port 500) and the ESP data path (UDP 4500 and a
// TUN), initiates one IKE SA to the configured gateway asking for a TIA
// (CP INTERNAL_IP4_ADDRESS/NETMASK/DNS, RFC 7296 2.19) and one CHILD SA for
// the configured routes (TSr), and when the TIA arrives puts it on the TUN
// and routes those prefixes into the TUN with the TIA as source
// (ApplyVirtualIp). Without request_virtual_ip the routes use the local
// address as source and are added at start.
//
// UDP encapsulation is always used (PeerConfig::force_encapsulation: the
// userspace data path is ESP-in-UDP only, RFC 3948).
//
// Local address: with `local_address`, IKE and ESP are bound to it and it
// never changes. Without it (the default) they are bound to 0.0.0.0 and
// every datagram leaves from the address the IKE SA names (IP_PKTINFO),
// which starts as the source address the kernel's routing picks for the
// gateway. The client then follows the host's addresses with MOBIKE (RFC
// 4555): it watches links, addresses and routes on netlink, and after each
// batch of notifications reads the addresses and the route to the gateway
// again and hands them to the IKE SA at once (IkeSa::UpdateLocalAddresses,
// no delay; a burst is one batch). The IKE SA moves itself and its CHILD
// SAs and sends UPDATE_SA_ADDRESSES. An IKE SA that is not up yet is
// restarted from the new address instead; a peer without MOBIKE gets a new
// IKE SA. A route prefix that contains the gateway's address is refused at
// start: it would send IKE and ESP into the tunnel.
//
// Failures: when the IKE SA goes down for any reason other than our own
// Stop() (peer Delete, dead peer, authentication failure, setup timeout),
// the TIA and its routes are removed and, with `retry`, a new IKE SA is
// started after a delay that doubles from retry_min to retry_max (reset
// once an IKE SA is up); without `retry`, Run() returns the failure.
//
// Signals: SIGINT/SIGTERM delete the IKE SA (INFORMATIONAL Delete, up to
// shutdown_grace) and exit 0; SIGUSR1 logs the counters.
#ifndef MIPSEC_PLATFORM_LINUX_IKEV2_VPN_CLIENT_H_
#define MIPSEC_PLATFORM_LINUX_IKEV2_VPN_CLIENT_H_

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
#include "platform/linux/epoll_event_loop.h"
#include "platform/linux/ikev2/ike_runtime.h"
#include "platform/linux/netlink.h"

namespace mipsec::ikev2d {

struct VpnClientOptions {
  Duration shutdown_grace = Duration::Seconds(2);
  // Reconnect after the IKE SA failed or went down (false: Run() returns
  // an error instead).
  bool retry = true;
  Duration retry_min = Duration::Seconds(1);
  Duration retry_max = Duration::Seconds(30);
};

// The source address the kernel would use towards `destination` (a
// connected UDP socket's local address); kNotFound without a route.
Result<Ipv4Address> SourceAddressFor(Ipv4Address destination);

class VpnClient {
 public:
  // Opens everything and starts the first IKE SA; errors name the step. On
  // error everything is undone. `sink` must outlive the client.
  static Result<std::unique_ptr<VpnClient>> Create(const config::VpnClientConfig& config,
                                                   const VpnClientOptions& options, LogSink* sink);
  ~VpnClient();  // TIA and routes removed (with the TUN)
  VpnClient(const VpnClient&) = delete;
  VpnClient& operator=(const VpnClient&) = delete;

  // Runs until Stop() or SIGINT/SIGTERM, then deletes the IKE SA. Without
  // options.retry, returns the reason the IKE SA went down or failed.
  Status Run();
  void Stop() { loop_->Stop(); }

  IkeRuntime& runtime() { return *runtime_; }
  std::optional<Ipv4Address> virtual_ip() const { return vip_; }
  const std::string& tun_name() const { return tun_name_; }
  std::string CountersLine() const;

 private:
  VpnClient(const config::VpnClientConfig& config, const VpnClientOptions& options,
            LogSink* sink);
  Status Init();
  void Connect();
  void ScheduleReconnect();
  void OnEvent(std::uint64_t sa_id, const ikev2::IkeEvent& e);
  void OnVirtualIp(std::uint64_t sa_id, const ikev2::VirtualIpAssigned& vip);
  void DropVirtualIp();
  // MOBIKE: the host's usable addresses and the one routing picks towards
  // the gateway, as netlink tells them now.
  struct HostAddresses {
    std::vector<Ipv4Address> addresses;  // sorted
    std::optional<Ipv4Address> preferred;
    bool operator==(const HostAddresses&) const = default;
  };
  HostAddresses ReadHostAddresses();
  void OnNetlinkReadable();
  // Hands changed addresses to the IKE SA (or restarts one not yet up).
  void FollowAddresses();
  void Restart(const std::string& why);

  config::VpnClientConfig config_;
  VpnClientOptions options_;
  Logger log_;
  crypto::SystemRandom random_;
  std::unique_ptr<platform::EpollEventLoop> loop_;
  std::unique_ptr<platform::LinuxNetlink> netlink_;
  std::unique_ptr<IkeRuntime> runtime_;
  std::string tun_name_;
  int tun_ifindex_ = 0;
  Ipv4Address local_;
  ikev2::PeerConfig peer_;

  std::optional<std::uint64_t> sa_id_;  // the current IKE SA
  std::optional<Ipv4Address> vip_;      // on the TUN, with the routes
  bool static_routes_ = false;          // routes without a TIA (added at start)
  bool stopping_ = false;
  std::optional<Status> failure_;       // !retry: why Run() ends
  bool follow_addresses_ = false;       // no local_address: MOBIKE follows routing
  bool restarting_ = false;             // Restart() is replacing the IKE SA
  std::unique_ptr<platform::NetlinkMonitor> monitor_;
  HostAddresses reported_;              // what the IKE SA was told last
  Duration retry_delay_;
  platform::EventLoop::TimerId retry_timer_ = platform::EventLoop::kNoTimer;
};

}  // namespace mipsec::ikev2d

#endif  // MIPSEC_PLATFORM_LINUX_IKEV2_VPN_CLIENT_H_

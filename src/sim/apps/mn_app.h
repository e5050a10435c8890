// MnApp: the RFC 5266 mobile node on a simulated host. It runs the
// controller core (mn::MnController, unchanged) with the IKEv2 initiator and
// ESP data plane of an IkeApp (client role, follow_links off: the controller
// alone decides when IKE moves), the node's DHCP client, and the Mobile IPv4
// data path.
//
// Wiring:
//   link events of the moving interfaces -> OnLinkUp / OnLinkDown (and the
//       home address becomes a /32 host address on a link that came up:
//       RFC 5944 4.2.1, never answer for it on a foreign link);
//   DHCP Bound/Renewed/LeaseLost           -> OnAddress / OnAddressLost (the
//       lease's domain name feeds R17);
//   UDP 434, IP-in-IP, ICMP advertisements -> OnUdp / OnIpPacket, with the
//       interface they arrived on (tun0 for what the VPN opened);
//   IkeApp events (VirtualIp + ChildUp, PathConfirmed, IkeDown)
//                                          -> OnVpnUp / OnVpnPathConfirmed /
//                                             OnVpnDown;
//   VpnCommands                            -> IkeApp Connect / UpdateAddresses
//                                             / Disconnect, in the same
//                                             simulated instant (R12);
//   a PacketFilter at kOutput              -> every datagram from the home
//       address that is not the controller's own goes to SendPacket: kPass
//       lets it go (home link), anything else stops the original (it was
//       tunnelled, or blocked: R13, R21, R22);
//   PollTransmit -> SendMip4Transmit; PollDelivery -> Node::InjectLocal.
// When an interface is proven to be the home link (kHome), the home address
// gets the home prefix back and a default route via `home_gateway`.
//
// Every controller event is kept (timeline()) and logged. Lifetime: must
// outlive the run.
#ifndef MIPSEC_SIM_APPS_MN_APP_H_
#define MIPSEC_SIM_APPS_MN_APP_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/random.h"
#include "common/result.h"
#include "mip4/security/ntp_time.h"
#include "mip4/security/security_association.h"
#include "mn/controller.h"
#include "sim/apps/dhcp_client_app.h"
#include "sim/apps/ike_app.h"
#include "sim/node.h"

namespace mipsec::sim {

struct MnAppConfig {
  std::vector<int> ifindexes;  // the moving interfaces (R20: each its own state)
  int home_prefix_length = 24;
  Ipv4Address home_gateway{};  // default router on the home link
  mn::ControllerConfig controller;
  // The VPN client, used when controller.vpn: the IKE SA's config
  // (initiator, CP request, MOBIKE), the gateway, and what is routed into
  // the tunnel (the intranet, which holds the i-HA).
  ikev2::PeerConfig ike;
  Ipv4Address gateway{};
  // More gateways, tried in order (then `gateway` again) each time a VPN
  // set-up fails before it is up: the MN attaches to another gateway, and
  // registers its new TIA (R4).
  std::vector<Ipv4Address> backup_gateways;
  std::vector<Ipv4Prefix> tunnel_prefixes;
  LogLevel ike_log_level = LogLevel::kInfo;
};

struct MnAppCounters {
  std::uint64_t user_out = 0;      // datagrams from the home address handed to the controller
  std::uint64_t user_passed = 0;   // kPass
  std::uint64_t user_blocked = 0;  // kBlocked
  std::uint64_t delivered_in = 0;
  std::uint64_t transmits = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t vpn_command_errors = 0;
};

// What the tunnels added to one user datagram, measured on the wire: the
// size of what left the moving interface minus the datagram's own size.
struct MnOverheadSample {
  Timestamp at;
  std::uint32_t bytes = 0;
};

class MnApp {
 public:
  // `dhcp` (required) must outlive the app; the app takes its callback.
  static Result<std::unique_ptr<MnApp>> Create(Node& node, MnAppConfig config,
                                               mip4::SecurityAssociation sa,
                                               mip4::WallClockMapping clock, DhcpClientApp* dhcp);
  ~MnApp();
  MnApp(const MnApp&) = delete;
  MnApp& operator=(const MnApp&) = delete;

  mn::MnController& controller() { return *controller_; }
  const mn::MnController& controller() const { return *controller_; }
  IkeApp* ike() { return ike_.get(); }
  const std::vector<mn::ControllerEvent>& timeline() const { return timeline_; }
  const MnAppCounters& counters() const { return counters_; }
  Ipv4Address home_address() const { return home_; }
  // Up to 100 000 samples, oldest first.
  const std::vector<MnOverheadSample>& overhead() const { return overhead_; }
  // "eth0", "tunnel" (the VPN pseudo-interface), "vpn" (ifindex 0).
  std::string InterfaceName(int ifindex) const;

 private:
  class Interceptor;
  MnApp(Node& node, MnAppConfig config);

  void OnLink(Timestamp now, const LinkEvent& ev);
  void OnDhcp(Timestamp now, int ifindex, const dhcp::ClientEvent& ev);
  void OnUdp(Timestamp now, const UdpDelivery& d);
  void OnRaw(Timestamp now, const RawDelivery& d);
  void OnIkeEvent(const IkeAppEvent& ev);
  bool Outgoing(Interface* out, Bytes& packet);
  void Measure(Interface* out, const Bytes& packet);
  void Drain(Timestamp now);
  void Execute(Timestamp now, const mn::VpnCommand& c);
  void ApplyPlanes(Timestamp now);
  bool Moving(int ifindex) const;

  Node& node_;
  MnAppConfig config_;
  Ipv4Address home_;
  std::unique_ptr<DeterministicRandom> random_;
  std::unique_ptr<IkeApp> ike_;
  std::unique_ptr<mn::MnController> controller_;
  std::unique_ptr<Interceptor> filter_;
  SimTimer timer_;
  bool draining_ = false;
  bool wired_ = false;
  bool in_ike_callback_ = false;
  bool restarting_vpn_ = false;  // our own Disconnect before a Connect
  std::size_t gateway_index_ = 0;  // into {gateway, backup_gateways...}
  std::vector<mn::VpnCommand> deferred_;
  std::optional<Ipv4Address> tia_;
  bool child_up_ = false;
  bool vpn_reported_ = false;
  std::optional<int> home_ifindex_;  // the interface holding the home prefix
  std::vector<mn::ControllerEvent> timeline_;
  std::optional<std::size_t> measuring_;  // size of the user datagram being sent
  std::vector<MnOverheadSample> overhead_;
  MnAppCounters counters_;
  std::shared_ptr<MnApp*> self_;
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_APPS_MN_APP_H_

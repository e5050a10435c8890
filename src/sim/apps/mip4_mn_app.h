// Mip4MnApp: runs the Mobile IPv4 mobile-node registration engine
// (mip4::MobileNodeRegistration, unchanged) on a simulated host with one
// moving interface, and plays the part of the (future) RFC 5266 controller
// for plain Mobile IPv4 movement: detect the link, pick the care-of address,
// register, deregister at home.
//
// Addresses on the moving interface:
//   at home   the home address with the home prefix, default route via
//             `home_gateway` (configured by the caller before the run);
//   away      the home address as a /32 (so the host stack accepts
//             datagrams for it and an FA's on-link delivery to it resolves),
//             plus the DHCP lease (co-located care-of address) or a default
//             route via the foreign agent (FA care-of address, RFC 5944
//             4.2.2: the FA is the default router).
//
// Movement (link events of the interface, DhcpClientApp events, the core's
// agent discovery events):
//   link down      core.Stop(): binding forgotten (no deregistration);
//   link up        the home address becomes a /32, routes we installed are
//                  removed, and agent solicitation starts (new link);
//   advertisement  from our home agent (H, 2.4.3): at home — the home
//                  address gets the home prefix back, default route via
//                  home_gateway, and Deregister() (3.6.1.2) when we had
//                  registered since the last deregistration; from a foreign
//                  agent while nothing is chosen yet: default route via the
//                  agent and RegisterViaFa(), D clear;
//   DHCP Bound     while nothing is chosen yet: RegisterColocated(lease),
//                  D set.
//
// Data path: a PacketFilter at kOutput on the node hands every datagram
// sourced from the home address to MobileNodeRegistration::SendPacket while
// the binding is reverse tunnelled ('T') or UDP tunnelled (RFC 3519), and
// stops the original; other traffic (and the core's own transmits) goes out
// unchanged. Received IP-in-IP (protocol 4), Agent Advertisements (ICMP 9)
// and UDP 434 go to the core; PollDelivery() datagrams go back into the
// node's local delivery (Node::InjectLocal), where the sockets bound on the
// home address (e.g. a StreamEchoer) get them.
//
// Every core event is logged ("mip4-mn ...") and kept as an Mip4MnAppEvent.
// The app takes over the DhcpClientApp's event callback. Lifetime: must
// outlive the run.
#ifndef MIPSEC_SIM_APPS_MIP4_MN_APP_H_
#define MIPSEC_SIM_APPS_MIP4_MN_APP_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "mip4/mn_reg/registration.h"
#include "mip4/security/ntp_time.h"
#include "mip4/security/security_association.h"
#include "sim/apps/dhcp_client_app.h"
#include "sim/node.h"
#include "sim/simulator.h"

namespace mipsec::sim {

struct Mip4MnAppConfig {
  int ifindex = 0;              // the moving interface
  int home_prefix_length = 24;  // the home network's prefix
  Ipv4Address home_gateway{};   // default router on the home link
  // Register a DHCP lease as a co-located care-of address.
  bool colocated_from_dhcp = true;
};

// What happened, as the tests and reports read it.
struct Mip4MnAppEvent {
  enum class Kind : std::uint8_t {
    kLinkUp,
    kLinkDown,
    kAtHome,       // our HA's advertisement heard: home link
    kRegistering,  // a registration was started
    kRegistered,   // accepted (RegisteredEvent)
    kDenied,
    kTimeout,
    kDeregistered,
    kBindingExpired,
    kKeepaliveLost,
  };
  Timestamp at{};
  Kind kind = Kind::kLinkUp;
  Ipv4Address care_of_address{};
  bool via_fa = false;
  bool udp_tunnel = false;
  bool reverse_tunnel = false;
  bool renewal = false;
  std::uint8_t code = 0;
  std::uint16_t lifetime = 0;
};
std::string_view Mip4MnAppEventKindName(Mip4MnAppEvent::Kind k);

struct Mip4MnAppCounters {
  std::uint64_t tunnelled_out = 0;  // handed to SendPacket
  std::uint64_t send_packet_errors = 0;
  std::uint64_t delivered_in = 0;       // PollDelivery datagrams injected
  std::uint64_t core_input_errors = 0;  // inputs the core refused (counted there too)
  std::uint64_t transmits = 0;
  std::uint64_t send_errors = 0;
};

class Mip4MnApp {
 public:
  // `config.home_address` is required. The MnHaSecurity is built from `sa`
  // and `clock` and owned by the app; the RandomSource is a
  // DeterministicRandom seeded from DeriveSeed("mip4-mn/<node>"). `dhcp`
  // may be null (no co-located addresses then); it must outlive the app.
  static Result<std::unique_ptr<Mip4MnApp>> Create(Node& node, const mip4::MobileNodeConfig& config,
                                                   mip4::SecurityAssociation sa,
                                                   mip4::WallClockMapping clock,
                                                   DhcpClientApp* dhcp,
                                                   const Mip4MnAppConfig& app_config);
  ~Mip4MnApp();
  Mip4MnApp(const Mip4MnApp&) = delete;
  Mip4MnApp& operator=(const Mip4MnApp&) = delete;

  // The core, for commands from outside the app (e.g. Reregister()); call
  // PollNow() after such a command so its output is sent.
  mip4::MobileNodeRegistration& core() { return *core_; }
  void PollNow() { Drain(node_.sim().now()); }
  const mip4::MobileNodeRegistration& core() const { return *core_; }
  bool at_home() const { return location_ == Location::kHome; }
  const std::vector<Mip4MnAppEvent>& events() const { return events_; }
  const Mip4MnAppCounters& counters() const { return counters_; }

 private:
  enum class Location : std::uint8_t { kHome, kUnknown, kColocated, kViaFa };
  class Tunneller;
  Mip4MnApp(Node& node, const Mip4MnAppConfig& config, mip4::SecurityAssociation sa,
            mip4::WallClockMapping clock);
  void OnLink(Timestamp now, const LinkEvent& ev);
  void OnDhcp(Timestamp now, int ifindex, const dhcp::ClientEvent& ev);
  void OnUdp(Timestamp now, const UdpDelivery& d);
  void OnRaw(Timestamp now, const RawDelivery& d);
  bool Outgoing(Bytes& packet);
  void Drain(Timestamp now);
  void HandleEvent(Timestamp now, const mip4::MnEvent& e);
  void SetHomeAddress(int prefix_length);
  void SetDefaultRoute(std::optional<Ipv4Address> gateway);
  void Record(Timestamp now, Mip4MnAppEvent ev, const std::string& detail);

  Node& node_;
  Mip4MnAppConfig config_;
  Ipv4Address home_;
  std::unique_ptr<mip4::MnHaSecurity> security_;
  std::unique_ptr<DeterministicRandom> random_;
  std::unique_ptr<mip4::MobileNodeRegistration> core_;
  std::unique_ptr<Tunneller> tunneller_;
  SimTimer timer_;
  Location location_ = Location::kHome;
  bool registered_since_home_ = false;
  std::optional<Ipv4Address> installed_gateway_;
  std::vector<Mip4MnAppEvent> events_;
  Mip4MnAppCounters counters_;
  bool draining_ = false;
  bool wired_ = false;  // the node's handlers are ours
  // Link observers cannot be removed from a Node: this flag keeps a late
  // event away from a destroyed app (as DhcpClientApp does).
  std::shared_ptr<Mip4MnApp*> self_;
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_APPS_MIP4_MN_APP_H_

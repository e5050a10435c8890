// Mip4HaApp: runs the Mobile IPv4 home agent core (mip4::HomeAgent,
// unchanged) on a simulated router, driven in mip4/io.h's call order.
//
// Wiring on the node (the HA is the router of the home subnet):
//   UDP port 434 on every address  -> HomeAgent::OnUdp (requests, RFC 3519
//                                     Tunnel Data);
//   IP protocol 4 (IP-in-IP)       -> HomeAgent::OnTunnelPacket;
//   a PacketFilter at kPrerouting  -> HomeAgent::OnHomePacket for datagrams
//                                     whose destination is a home address the
//                                     core reported bound (BindingAdded) and
//                                     that are not the node's own; kNotBound
//                                     lets the datagram go on (forwarded onto
//                                     the home link), anything else stops it;
//   kForward results               -> Node::SendRaw (routed like any
//                                     forwarded datagram);
//   PollTransmit                   -> Node::SendUdp / SendRaw / SendRawOnLink;
//   NextTimeout                    -> one SimTimer.
// Every HaEvent is logged on the node's event log ("mip4-ha ...") and kept
// (events()). ICMP on the home link goes to HomeAgent::OnIcmp: the core
// advertises there (RFC 5944 2.3) every `advertisement_interval` (fixed, as
// min = max interval) and answers Agent Solicitations, so that a mobile node
// can tell it is at home (2.4.2).
//
// Bindings are reported through the plain Mip4HaBinding below, so that
// users of the app need not include the HA core's headers.
//
// Lifetime: like every simulator app, it must outlive the run (its timers
// and the node's handlers refer to it).
#ifndef MIPSEC_SIM_APPS_MIP4_HA_APP_H_
#define MIPSEC_SIM_APPS_MIP4_HA_APP_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/ip/address.h"
#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "sim/node.h"
#include "sim/simulator.h"

namespace mipsec::mip4 {
class HomeAgent;
class SaDatabase;
struct HomeAgentOptions;
}  // namespace mipsec::mip4

namespace mipsec::sim {

// One care-of address of a bound mobile node (mip4::HaTunnel, flattened).
struct Mip4HaBinding {
  Ipv4Address home_address;
  Ipv4Address care_of_address;
  Ipv4Endpoint tunnel_endpoint;  // CoA for IP-in-IP; the NAT'd source for UDP
  bool udp_tunnel = false;       // RFC 3519 in force
  bool reverse_tunnel = false;
  std::uint16_t granted_lifetime = 0;
  Timestamp expires;
};

// A binding change the core reported (mip4::HaEvent, flattened).
struct Mip4HaAppEvent {
  enum class Kind : std::uint8_t { kAdded, kUpdated, kRemoved };
  enum class Cause : std::uint8_t { kRegistration, kDeregistration, kExpiry, kKeepalive };
  Timestamp at;
  Kind kind = Kind::kAdded;
  Cause cause = Cause::kRegistration;
  Ipv4Address home_address;
  std::vector<Mip4HaBinding> bindings;  // after the change
};

struct Mip4HaAppCounters {
  std::uint64_t udp_in = 0;
  std::uint64_t tunnel_in = 0;
  std::uint64_t intercepted = 0;  // handed to OnHomePacket
  std::uint64_t forwarded = 0;    // kForward results sent
  std::uint64_t transmits = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t advertisements = 0;
  // From the core.
  std::uint64_t requests = 0;
  std::uint64_t replies = 0;
  std::uint64_t tunnelled_ipip = 0;
  std::uint64_t tunnelled_udp = 0;
  std::uint64_t decapsulated_ipip = 0;
  std::uint64_t decapsulated_udp = 0;
  std::uint64_t bindings_expired = 0;
  std::uint64_t drops = 0;  // all HaDrop reasons together
};

struct Mip4HaAppConfig {
  // The home link's interface on the node (advertisements go there).
  int home_ifindex = 0;
  // 0: no advertisements; otherwise at least 1 s (AdvertisementTiming).
  Duration advertisement_interval = Duration::Seconds(1);
};

class Mip4HaApp {
 public:
  // Creates the core from `options` (HomeAgent::Create errors as is), binds
  // UDP 434 and protocol 4 and installs the interception filter on `node`.
  // `sas` must outlive the app; the RandomSource is a DeterministicRandom
  // seeded from Simulator::DeriveSeed("mip4-ha/<node>").
  static Result<std::unique_ptr<Mip4HaApp>> Create(Node& node,
                                                   const mip4::HomeAgentOptions& options,
                                                   mip4::SaDatabase& sas,
                                                   const Mip4HaAppConfig& config);
  ~Mip4HaApp();
  Mip4HaApp(const Mip4HaApp&) = delete;
  Mip4HaApp& operator=(const Mip4HaApp&) = delete;

  mip4::HomeAgent& core() { return *core_; }
  // The current bindings of `home` (empty: at home / unknown).
  std::vector<Mip4HaBinding> Bindings(Ipv4Address home) const;
  const std::vector<Mip4HaAppEvent>& events() const { return events_; }
  Mip4HaAppCounters counters() const;

 private:
  class Interceptor;
  Mip4HaApp(Node& node, const Mip4HaAppConfig& config);
  void OnUdp(Timestamp now, const UdpDelivery& d);
  void OnTunnel(Timestamp now, const RawDelivery& d);
  void OnIcmp(Timestamp now, const RawDelivery& d);
  // true: the interceptor keeps (drops) the datagram.
  bool Intercept(Bytes& packet);
  void Drain(Timestamp now);

  Node& node_;
  Mip4HaAppConfig config_;
  std::unique_ptr<DeterministicRandom> random_;
  std::unique_ptr<mip4::HomeAgent> core_;
  std::unique_ptr<Interceptor> interceptor_;
  SimTimer timer_;
  std::unordered_set<Ipv4Address> bound_;
  std::vector<Mip4HaAppEvent> events_;
  Mip4HaAppCounters counters_;
  bool draining_ = false;
  bool wired_ = false;  // the node's handlers are ours
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_APPS_MIP4_HA_APP_H_

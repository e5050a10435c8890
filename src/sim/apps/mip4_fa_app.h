// Mip4FaApp: runs the Mobile IPv4 foreign agent core (mip4::ForeignAgent,
// unchanged) on a simulated router, driven in mip4/io.h's call order.
//
// Wiring on the node:
//   UDP port 434 on every address  -> ForeignAgent::OnUdp (with the IP TTL,
//                                     for RFC 3024 4.2.1's check);
//   ICMP (protocol 1)              -> ForeignAgent::OnIcmp (solicitations,
//                                     errors about relayed requests);
//   IP protocol 4 (IP-in-IP)       -> ForeignAgent::OnTunnelPacket;
//   a PacketFilter at kPrerouting  -> ForeignAgent::OnVisitorPacket for a
//                                     datagram arriving on a served link that
//                                     is not for the node itself; kRoute lets
//                                     it be routed, anything else stops it;
//   PollTransmit                   -> Node::SendUdp / SendRaw / SendRawOnLink
//                                     (link_next_hop: on-link delivery to a
//                                     visitor, RFC 5944 4.2.2);
//   FaEvent                        -> a host route for the visitor's home
//                                     address on its link while pending or
//                                     active, removed with the visitor; the
//                                     event is logged ("mip4-fa ...");
//   NextTimeout                    -> one SimTimer (advertisements included).
// Each served interface also joins 224.0.0.11 (RFC 5944 2.2).
//
// Lifetime: must outlive the run (timers and handlers refer to it).
#ifndef MIPSEC_SIM_APPS_MIP4_FA_APP_H_
#define MIPSEC_SIM_APPS_MIP4_FA_APP_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "mip4/fa/foreign_agent.h"
#include "mip4/security/sa_database.h"
#include "sim/node.h"
#include "sim/simulator.h"

namespace mipsec::sim {

struct Mip4FaAppCounters {
  std::uint64_t udp_in = 0;
  std::uint64_t icmp_in = 0;
  std::uint64_t tunnel_in = 0;
  std::uint64_t visitor_packets = 0;  // handed to OnVisitorPacket
  std::uint64_t transmits = 0;
  std::uint64_t send_errors = 0;
};

class Mip4FaApp {
 public:
  // Creates the core (ForeignAgent::Create errors as is) and wires it to
  // `node`; every FaInterface::ifindex must be an interface of the node
  // (kNotFound). `sas` must outlive the app; the RandomSource is a
  // DeterministicRandom seeded from DeriveSeed("mip4-fa/<node>").
  static Result<std::unique_ptr<Mip4FaApp>> Create(Node& node, mip4::ForeignAgentOptions options,
                                                   mip4::SaDatabase& sas);
  ~Mip4FaApp();
  Mip4FaApp(const Mip4FaApp&) = delete;
  Mip4FaApp& operator=(const Mip4FaApp&) = delete;

  mip4::ForeignAgent& core() { return *core_; }
  const mip4::ForeignAgent& core() const { return *core_; }
  // Every event, with the virtual time it was polled at.
  const std::vector<std::pair<Timestamp, mip4::FaEvent>>& events() const { return events_; }
  const Mip4FaAppCounters& counters() const { return counters_; }

 private:
  class VisitorFilter;
  explicit Mip4FaApp(Node& node);
  void OnUdp(Timestamp now, const UdpDelivery& d);
  void OnIcmp(Timestamp now, const RawDelivery& d);
  void OnTunnel(Timestamp now, const RawDelivery& d);
  bool Intercept(Interface* in, Bytes& packet);
  bool Served(int ifindex) const;
  void Drain(Timestamp now);

  Node& node_;
  std::unique_ptr<DeterministicRandom> random_;
  std::unique_ptr<mip4::ForeignAgent> core_;
  std::unique_ptr<VisitorFilter> filter_;
  SimTimer timer_;
  std::vector<std::pair<Timestamp, mip4::FaEvent>> events_;
  Mip4FaAppCounters counters_;
  bool draining_ = false;
  bool wired_ = false;  // the node's handlers are ours
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_APPS_MIP4_FA_APP_H_

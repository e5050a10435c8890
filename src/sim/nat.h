// NAPT (RFC 3022 "Network Address Port Translation") for the simulator, with
// the behaviours RFC 4787 names selectable, so scenarios can put a mobile
// node behind the kinds of NAT it meets in the wild.
//
// A Napt is a PacketFilter on a forwarding Node. One interface is "outside";
// every other interface is inside. Packets leaving through the outside
// interface get their source rewritten to the outside address (and a mapped
// port); packets arriving on it addressed to the outside address get their
// destination rewritten back, before routing, so the node then forwards them
// inside:
//
//   inside host -> [kPostrouting, out == outside]: src 10.0.0.2:5000
//                                                  -> 198.51.100.1:5000
//   outside     -> [kPrerouting, in == outside]:   dst 198.51.100.1:5000
//                                                  -> 10.0.0.2:5000
//
// Every rewrite keeps the IPv4 header, UDP and ICMP checksums right by
// RFC 1624 incremental update (a checksum that was wrong stays wrong; a UDP
// checksum of 0, "none", stays 0).
//
// Terms (RFC 4787 section 4): a mapping binds an internal endpoint X:x to an
// external endpoint X1':x1' for traffic to remote endpoints Y:y.
//   Mapping behaviour (4.1), which remote endpoints share one mapping:
//     kEndpointIndependent     X:x -> X1':x1' whatever Y:y (REQ-1, "full cone").
//     kAddressDependent        a new mapping per remote address Y.
//     kAddressAndPortDependent a new mapping per remote endpoint Y:y
//                              ("symmetric").
//   Filtering behaviour (5), which inbound packets to X1':x1' get through:
//     kEndpointIndependent     any source.
//     kAddressDependent        only from addresses X:x has sent to.
//     kAddressAndPortDependent only from endpoints X:x has sent to.
//   Each remote endpoint X:x has sent to is a "permission" with its own
//   timer (refreshed by outbound traffic to it); filtering consults the live
//   permissions of the mapping.
//   Port assignment (4.2.1): kPreserve keeps x1' = x when x lies in the port
//   range and is free, else takes the next free port upwards (wrapping in
//   the range); kRandom draws x1' uniformly from the range (a
//   DeterministicRandom seeded with sim.DeriveSeed("nat/" + name), so a
//   scenario and seed always give the same ports). Every mapping gets its
//   own external port, so with kAddress[AndPort]Dependent mapping the same
//   internal endpoint shows a different port to each remote (the classic
//   symmetric NAT), and a port taken by one mapping is never shared.
//   Mapping refresh (4.3): outbound packets always refresh (REQ-6);
//   inbound ones only with `refresh_on_inbound`.
//   Timeouts: UDP `udp_timeout` (REQ-5: at least 2 minutes; default 120 s,
//   RFC 4787 recommends 300 s and real NATs often use less), ICMP query
//   `icmp_timeout` (RFC 5508 REQ-1: at least 60 s), others `other_timeout`.
//   Mappings expire exactly at last refresh + timeout on virtual time: a
//   SimTimer follows the earliest deadline and the expiry is logged then; a
//   lookup also treats an expired mapping as gone, whatever the event order
//   at that instant.
//
// Protocols:
//   UDP            by port, as above. The UDP port range is [port_min,
//                  port_max] (default 1024-65535: an internal port below it,
//                  e.g. IKE's 500, is always translated, as many NATs do).
//   ICMP echo      the identifier is the "port" (RFC 5508 3.1); identifiers
//                  use the whole 0-65535 range; only echo requests create
//                  mappings, echo replies use them. The remote "port" is 0,
//                  so address-dependent and address-and-port-dependent
//                  behave alike.
//   ICMP errors    (RFC 5508 4) translated when the packet they quote belongs
//                  to a mapping: inbound, the outer destination and the
//                  quoted source (address, port or echo identifier, the
//                  quoted IP checksum and quoted UDP/ICMP checksum) are put
//                  back to the internal endpoint; outbound (from an inside
//                  host, or from this node about a packet it translated
//                  inbound, e.g. TTL exceeded), the quoted destination is
//                  rewritten to the external endpoint and the outer source,
//                  unless it is this node's own address, to the outside
//                  address. Inbound errors pass the filter if the quoted
//                  destination (the remote the internal host sent to) does.
//                  Errors never refresh a mapping.
//   TCP            not translated (the simulator has no TCP): dropped,
//                  counted in dropped_unsupported.
//   other ICMP     outbound: dropped (dropped_unsupported). Inbound: treated
//                  as unmatched (below).
//   anything else  (ESP 50, IP-in-IP 4, GRE 47, ...) protocols without ports
//                  or a pseudo-header checksum: the address alone is
//                  translated, one inside host per (protocol, remote
//                  address) at a time, like Linux masquerading does for
//                  port-less protocols. A second inside host sending the same
//                  protocol to the same remote while the first's mapping
//                  lives is dropped (dropped_exhausted). Inbound, only the
//                  remote address of a live mapping gets in (these mappings
//                  are always address-dependent, whatever the configured
//                  behaviours).
//
// Fragments: the first fragment is translated like a whole datagram (its
// UDP/ICMP checksum covers the whole datagram and is updated incrementally)
// and its translation is remembered for 30 s by (source, destination,
// protocol, identification), so the later fragments of the same datagram,
// which carry no ports, get the same addresses. A non-first fragment whose
// first fragment has not been seen (reordered ahead of it, or never sent) is
// dropped and counted (dropped_fragments); port-less protocols need no
// memory and are translated fragment by fragment. The IP identification is
// not rewritten (two inside hosts may collide at a far reassembler, as with
// most real NATs).
//
// Unmatched inbound packets: a packet arriving on the outside interface
// addressed to the outside address that belongs to no mapping (an echo
// request to the router, a UDP datagram for one of its own services, an
// error about a packet it sent itself) goes to the node's own host stack
// when `deliver_unmatched_to_self` (the default: its services work and an
// unknown UDP port gets the usual port unreachable), and is dropped and
// counted in dropped_filtered otherwise. A unicast packet arriving on the
// outside interface for an address that is not the node's own (an outside
// host routing to inside addresses directly) is dropped (dropped_filtered):
// the inside is reachable only through mappings. Broadcast, multicast and
// packets to the node's other addresses pass untouched.
//
// Locally originated packets (the node's own, source a local address) leave
// untranslated, except ICMP errors about packets translated inbound. A local
// service's source port that equals a mapping's external port would have its
// replies taken by the mapping: keep local services outside the port range.
//
// Not modelled: hairpinning (RFC 4787 REQ-9: a packet from inside to the
// outside address is for this node's own stack, like any packet to one of
// its addresses, and is never translated and looped back to the inside host
// behind the mapping), port parity and contiguity (REQ-3/4), several outside
// addresses ("pooling", REQ-2), ALGs. State survives Node::SetRunning(false):
// call Reset() when a scenario restarts the NAT's node.
#ifndef MIPSEC_SIM_NAT_H_
#define MIPSEC_SIM_NAT_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/log.h"
#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "sim/node.h"
#include "sim/simulator.h"

namespace mipsec::sim {

// RFC 4787 4.1 / 5 behaviours (see the file comment).
enum class NatBehavior { kEndpointIndependent, kAddressDependent, kAddressAndPortDependent };
enum class NatPortAssignment { kPreserve, kRandom };

// "endpoint-independent", "address-dependent", "address-and-port-dependent".
std::string_view NatBehaviorName(NatBehavior b);
// "preserve", "random".
std::string_view NatPortAssignmentName(NatPortAssignment p);

struct NaptConfig {
  // Names the NAT in logs and seeds its port randomisation ("nat/" + name).
  std::string name = "nat";
  // The outside interface (Interface::ifindex on the node). Required.
  int outside_ifindex = 0;
  // The address mappings use; default: the outside interface's primary
  // address when the NAT is created. Must be one of the node's addresses.
  std::optional<Ipv4Address> outside_address;
  NatBehavior mapping = NatBehavior::kEndpointIndependent;  // RFC 4787 REQ-1
  NatBehavior filtering = NatBehavior::kAddressDependent;   // REQ-8, the stricter advice
  NatPortAssignment port_assignment = NatPortAssignment::kPreserve;
  // UDP external ports (inclusive). ICMP identifiers use 0-65535.
  std::uint16_t port_min = 1024;
  std::uint16_t port_max = 65535;
  Duration udp_timeout = Duration::Seconds(120);
  Duration icmp_timeout = Duration::Seconds(60);
  Duration other_timeout = Duration::Seconds(120);
  bool refresh_on_inbound = false;
  bool deliver_unmatched_to_self = true;
};

struct NaptCounters {
  std::uint64_t mappings_created = 0;
  std::uint64_t mappings_expired = 0;
  std::uint64_t translated_out = 0;       // packets rewritten outbound (incl. errors, fragments)
  std::uint64_t translated_in = 0;        // packets rewritten inbound
  std::uint64_t icmp_errors_translated = 0;  // of the above, ICMP errors (either way)
  std::uint64_t dropped_filtered = 0;     // inbound: filtered, no mapping, or transit
  std::uint64_t dropped_exhausted = 0;    // no free port / port-less protocol taken
  std::uint64_t dropped_fragments = 0;    // non-first fragment without its first
  std::uint64_t dropped_unsupported = 0;  // TCP, outbound ICMP other than echo/errors,
                                          // outbound errors about nothing we mapped
  std::uint64_t dropped_malformed = 0;    // too short to carry the ports it needs
  std::uint64_t passed_to_self = 0;       // unmatched inbound handed to the host stack
};

// A live mapping, for reports and tests.
struct NatMappingInfo {
  std::uint8_t protocol = 0;
  Ipv4Endpoint internal;
  Ipv4Endpoint external;
  // The remote part of the mapping key: Any:0 for endpoint-independent
  // mapping, Y:0 address-dependent (and port-less protocols), Y:y otherwise.
  Ipv4Endpoint remote_key;
  Timestamp created;
  Timestamp expires;
  // "udp 10.0.0.2:5000 -> 198.51.100.1:5000".
  std::string ToString() const;
};

class Napt final : public PacketFilter {
 public:
  // Validates `config` against `node` and installs the NAT on it
  // (node.AddFilter: filters run in the order installed). kInvalidArgument
  // names the bad field; kNotFound for a missing interface or address. The
  // Napt must outlive the node's packet processing (keep it beside the
  // Network that owns the node).
  static Result<std::unique_ptr<Napt>> Create(Node& node, NaptConfig config);

  Napt(const Napt&) = delete;
  Napt& operator=(const Napt&) = delete;
  ~Napt() override;

  Verdict Filter(Hook hook, Interface* in, Interface* out, Bytes& packet) override;

  const NaptConfig& config() const { return config_; }
  Ipv4Address outside_address() const { return outside_address_; }
  const NaptCounters& counters() const { return counters_; }
  // Live mappings in creation order (expired ones are swept first).
  std::vector<NatMappingInfo> Mappings();
  // Forgets every mapping and remembered fragment (a rebooted NAT).
  void Reset();

 private:
  Napt(Node& node, NaptConfig config, Ipv4Address outside_address);

  // The mapping key: protocol, internal endpoint, and the remote endpoint
  // masked by the mapping behaviour.
  using MappingKey = std::tuple<std::uint8_t, Ipv4Endpoint, Ipv4Endpoint>;
  // Inbound lookup: protocol, external port, and the remote address for
  // port-less protocols (Any for the others).
  using ExternalKey = std::tuple<std::uint8_t, std::uint16_t, Ipv4Address>;
  // Fragment memory: direction (0 out, 1 in), source, destination, protocol,
  // identification, as seen before translation.
  using FragmentKey = std::tuple<int, Ipv4Address, Ipv4Address, std::uint8_t, std::uint16_t>;

  struct Mapping {
    std::uint64_t id = 0;
    MappingKey key;
    ExternalKey external_key;
    std::uint8_t protocol = 0;
    Ipv4Endpoint internal;
    Ipv4Endpoint external;
    Timestamp created;
    Timestamp last_refresh;
    // Remote endpoints sent to (the remote port is 0 for ICMP and port-less
    // protocols) -> time of the last outbound packet to each.
    std::map<Ipv4Endpoint, Timestamp> permissions;
  };
  struct Fragment {
    Ipv4Address new_address;
    Timestamp expires;
  };

  static bool HasPorts(std::uint8_t protocol);
  Duration TimeoutFor(std::uint8_t protocol) const;
  bool Alive(const Mapping& m, Timestamp now) const;
  MappingKey KeyFor(std::uint8_t protocol, Ipv4Endpoint internal, Ipv4Endpoint remote) const;
  // The live mapping for a key / an external key, expiring a stale one.
  // The mapping `id` if still alive; an expired one is removed (nullptr).
  Mapping* Live(std::uint64_t id);
  Mapping* FindByKey(const MappingKey& key);
  Mapping* FindByExternal(const ExternalKey& key);
  // Finds or creates the mapping for an outbound packet; null when none can
  // be made (counted).
  Mapping* MappingForOutbound(std::uint8_t protocol, Ipv4Endpoint internal, Ipv4Endpoint remote);
  std::optional<std::uint16_t> AllocatePort(std::uint8_t protocol, std::uint16_t wanted);
  // Whether `remote` may send to `m` (filtering behaviour and permissions).
  bool Permits(const Mapping& m, Ipv4Endpoint remote, Timestamp now) const;
  void Refresh(Mapping& m, Timestamp now);
  void Expire(std::uint64_t id, bool log);
  void OnTimer(Timestamp now);
  void ArmTimer();

  Verdict Outbound(Interface* in, Bytes& packet);
  Verdict Inbound(Bytes& packet);
  Verdict Unmatched();
  // `ihl`: the outer header length; `total`: the datagram's length.
  Verdict OutboundIcmpError(Bytes& packet, std::size_t ihl, std::size_t total,
                            bool rewrite_outer_source);
  Verdict InboundIcmpError(Bytes& packet, std::size_t ihl, std::size_t total);
  void RememberFragment(const FragmentKey& key, Ipv4Address new_address);
  std::optional<Ipv4Address> FragmentTranslation(const FragmentKey& key);

  Node& node_;
  Simulator& sim_;
  NaptConfig config_;
  Ipv4Address outside_address_;
  Logger log_;
  DeterministicRandom rng_;
  SimTimer timer_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Mapping> mappings_;  // by id: creation order
  std::map<MappingKey, std::uint64_t> by_key_;
  std::map<ExternalKey, std::uint64_t> by_external_;
  // (deadline when queued, mapping id): a mapping refreshed since is
  // re-queued with its new deadline when its old one comes up.
  std::set<std::pair<Timestamp, std::uint64_t>> expiry_;
  std::map<FragmentKey, Fragment> fragments_;
  std::deque<std::pair<Timestamp, FragmentKey>> fragment_order_;
  NaptCounters counters_;
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_NAT_H_

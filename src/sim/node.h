// A simulated IPv4 node: interfaces, addresses, a routing table, forwarding,
// and a host stack that hands UDP, ICMP and raw-protocol packets to the
// applications bound on it. Routers, hosts, NATs and firewalls are all Nodes;
// what differs is forwarding and the packet filters installed.
//
// Packet path (netfilter-like hooks where filters run):
//
//   Receive(ifc) -> [kPrerouting] -> local? -> [kInput] -> host stack
//                                  \-> forward: TTL, route, MTU
//                                       -> [kForward] -> [kPostrouting] -> out
//   host stack send -> route -> [kOutput] -> [kPostrouting] -> out
//
// Errors a router owes the sender are sent as ICMP (RFC 1812 4.3.2.7 rules:
// never about an ICMP error, a non-first fragment, or a broadcast/multicast
// destination): net unreachable (no route), host unreachable (next hop does
// not answer is not modelled), time exceeded (TTL), fragmentation needed
// (DF set and too big, RFC 1191 next-hop MTU), port unreachable (a host with
// no socket on the UDP port). Packets larger than the MTU without DF are
// fragmented (RFC 791) and reassembled by the destination's host stack.
#ifndef MIPSEC_SIM_NODE_H_
#define MIPSEC_SIM_NODE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/ip/ipv4.h"
#include "common/log.h"
#include "common/result.h"
#include "sim/routing_table.h"
#include "sim/simulator.h"

namespace mipsec::sim {

class Node;
class Segment;

struct InterfaceAddress {
  Ipv4Address address;
  int prefix_length = 24;
  Ipv4Prefix Subnet() const;
};

class Interface {
 public:
  Interface(Node* node, int ifindex, std::string name, std::uint32_t mtu, std::uint64_t uid)
      : node_(node), ifindex_(ifindex), name_(std::move(name)), mtu_(mtu), uid_(uid) {}

  Node* node() const { return node_; }
  int ifindex() const { return ifindex_; }
  const std::string& name() const { return name_; }
  // "node/ifname", for logs.
  std::string FullName() const;
  std::uint64_t uid() const { return uid_; }
  std::uint32_t mtu() const { return mtu_; }
  void set_mtu(std::uint32_t mtu) { mtu_ = mtu; }
  Segment* segment() const { return segment_; }
  std::uint64_t attach_epoch() const { return attach_epoch_; }
  const std::vector<InterfaceAddress>& addresses() const { return addresses_; }
  // First address, if any (the source for packets sent out of here).
  std::optional<Ipv4Address> PrimaryAddress() const;
  bool HasAddress(Ipv4Address a) const;
  // Carrier: attached to a segment that is up.
  bool Running() const;

 private:
  friend class Node;
  friend class Segment;
  Node* node_;
  int ifindex_;
  std::string name_;
  std::uint32_t mtu_;
  std::uint64_t uid_;
  Segment* segment_ = nullptr;
  std::uint64_t attach_epoch_ = 0;
  std::vector<InterfaceAddress> addresses_;
  std::vector<Ipv4Address> multicast_groups_;
};

// What an observer of a node (a daemon's netlink listener, in the real world)
// is told.
struct LinkEvent {
  enum class Kind { kLinkUp, kLinkDown, kAddressAdded, kAddressRemoved };
  Kind kind;
  int ifindex;
  std::string ifname;
  std::optional<InterfaceAddress> address;  // for the address kinds
};
std::string_view LinkEventKindName(LinkEvent::Kind k);

// A received UDP datagram as a bound application sees it: the platform
// layer's Datagram (local and remote endpoint, interface).
struct UdpDelivery {
  Ipv4Endpoint local;   // destination address and port as received
  Ipv4Endpoint remote;  // source address and port
  int ifindex = 0;      // interface it arrived on
  std::uint8_t tos = 0;
  std::uint8_t ttl = 0;
  ByteSpan payload;     // valid for the call only
};

struct UdpSendOptions {
  std::optional<Ipv4Address> source;  // default: the outgoing interface's address
  std::optional<int> ifindex;         // like SO_BINDTODEVICE: bypasses routing
  std::uint8_t ttl = ip::kDefaultTtl;
  std::uint8_t tos = 0;
  bool dont_fragment = false;
};

// A received IP datagram for a raw-protocol handler (ICMP, IP-in-IP, ESP):
// the whole datagram, header included, as a raw socket gives it.
struct RawDelivery {
  ByteSpan datagram;
  int ifindex = 0;
};

enum class Hook { kPrerouting, kInput, kForward, kOutput, kPostrouting };
enum class Verdict { kAccept, kDrop };

// A packet filter (NAT, firewall) installed on a node. It may rewrite the
// packet in place (keeping it a valid IPv4 datagram, checksums included) or
// drop it. `in` / `out` are null where the hook has no such interface.
class PacketFilter {
 public:
  virtual ~PacketFilter() = default;
  virtual Verdict Filter(Hook hook, Interface* in, Interface* out, Bytes& packet) = 0;
};

struct NodeCounters {
  std::uint64_t received = 0;
  std::uint64_t delivered_local = 0;
  std::uint64_t forwarded = 0;
  std::uint64_t sent = 0;                 // originated by the host stack
  std::uint64_t dropped_malformed = 0;
  std::uint64_t dropped_no_route = 0;
  std::uint64_t dropped_ttl = 0;
  std::uint64_t dropped_too_big = 0;      // DF set, larger than MTU
  std::uint64_t dropped_filter = 0;
  std::uint64_t dropped_not_for_us = 0;   // host (not forwarding) got a transit packet
  std::uint64_t dropped_no_socket = 0;    // UDP to a port nobody bound
  std::uint64_t dropped_down = 0;         // node stopped or interface not running
  std::uint64_t icmp_errors_sent = 0;
  std::uint64_t fragments_created = 0;
  std::uint64_t reassembled = 0;
  std::uint64_t reassembly_timeouts = 0;
};

class Node final : public EventHandler {
 public:
  using UdpHandler = std::function<void(Timestamp now, const UdpDelivery&)>;
  using RawHandler = std::function<void(Timestamp now, const RawDelivery&)>;
  using LinkObserver = std::function<void(Timestamp now, const LinkEvent&)>;

  Node(Simulator& sim, std::string name, bool forwarding, Logger log);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  ~Node() override;

  const std::string& name() const { return name_; }
  Simulator& sim() { return sim_; }
  bool forwarding() const { return forwarding_; }
  void set_forwarding(bool f) { forwarding_ = f; }
  const Logger& log() const { return log_; }

  // --- Interfaces and addresses ---
  Interface& AddInterface(const std::string& name, std::uint32_t mtu = 1500);
  Interface* FindInterface(std::string_view name);
  Interface* InterfaceByIndex(int ifindex);
  const std::vector<std::unique_ptr<Interface>>& interfaces() const { return interfaces_; }
  // Attaches to `segment` (detaching from the current one first). Observers
  // see link-down (if it was running) then link-up.
  void Attach(Interface& ifc, Segment& segment);
  void Detach(Interface& ifc);
  // Adds an address and its connected route. kAlreadyExists if present.
  Status AddAddress(int ifindex, Ipv4Address address, int prefix_length);
  Status RemoveAddress(int ifindex, Ipv4Address address);
  void FlushAddresses(int ifindex);
  bool IsLocalAddress(Ipv4Address a) const;
  void JoinMulticast(int ifindex, Ipv4Address group);

  RoutingTable& routes() { return routes_; }
  // Convenience: route `prefix` via `gateway`, resolving the interface from
  // the connected routes. kNotFound when the gateway is not on a link.
  Status AddRoute(const Ipv4Prefix& prefix, Ipv4Address gateway, std::uint32_t metric = 0);

  void AddLinkObserver(LinkObserver observer);

  // --- Host stack ---
  // Binds a UDP port on `local` (Any: every address, incl. broadcasts). One
  // binding per (address, port): kAlreadyExists otherwise.
  Status BindUdp(Ipv4Endpoint local, UdpHandler handler);
  void UnbindUdp(Ipv4Endpoint local);
  // Sends a UDP datagram. Errors: kNotFound (no route / no source address),
  // kInvalidArgument (too big for one datagram), kResource (DF set and
  // larger than the interface MTU: EMSGSIZE), kState (node stopped).
  Status SendUdp(Ipv4Endpoint to, std::uint16_t from_port, ByteSpan payload,
                 const UdpSendOptions& options = {});
  // Registers the handler for an IP protocol (ICMP is also answered by the
  // stack itself: echo requests get replies).
  void BindProtocol(std::uint8_t protocol, RawHandler handler);
  void UnbindProtocol(std::uint8_t protocol);
  // Sends a complete IPv4 datagram built by the caller (IP_HDRINCL), routed
  // by its destination unless `ifindex` is given.
  Status SendRaw(Bytes datagram, std::optional<int> ifindex = std::nullopt);
  // Sends a complete IPv4 datagram out of `ifindex` to the on-link
  // `next_hop`, without a route lookup (a Mobile IPv4 foreign agent
  // delivering to a visitor's home address, RFC 5944 4.2.2). The output and
  // postrouting hooks run as for SendRaw. kNotFound: no such interface.
  Status SendRawOnLink(Bytes datagram, int ifindex, Ipv4Address next_hop);
  // Hands a complete IPv4 datagram to this node's local delivery as if it
  // had arrived on `ifindex` (input hook, then sockets and raw handlers), as
  // an event at the current time: what a user-space tunnel endpoint writing
  // a decapsulated datagram into a TUN device does. Its destination is not
  // checked. kState when stopped, kNotFound without such an interface,
  // IPv4 parse errors as is.
  Status InjectLocal(Bytes datagram, int ifindex);
  // Hands a complete IPv4 datagram to this node as if it had arrived on
  // `ifindex` from its link, as an event at the current time: prerouting
  // filters, then local delivery or (on a forwarding node) forwarding with
  // its TTL, route and filters. What a user-space tunnel endpoint on a
  // router (a VPN gateway) writing a decapsulated datagram into a TUN
  // device does. The interface need not be attached. Errors as InjectLocal.
  Status InjectReceive(Bytes datagram, int ifindex);

  // The source address the host stack would pick to send to `dst` now: the
  // primary address of the interface routing names (what `ip route get`
  // shows as "src"). nullopt when there is no route, or that interface has
  // no carrier or no address. Does not change any state.
  std::optional<Ipv4Address> SourceAddressFor(Ipv4Address dst) const;

  // Stop: the node drops everything and its timers stay quiet; Start again
  // resumes (addresses and routes are kept, reassembly state is lost).
  void SetRunning(bool running);
  bool running() const { return running_; }

  void AddFilter(PacketFilter* filter);  // not owned; run in order added
  // Forgets `filter` (an app that goes away before the node); no-op if
  // absent. Not from inside a filter.
  void RemoveFilter(PacketFilter* filter);

  const NodeCounters& counters() const { return counters_; }

  // Called by Segment when a packet arrives on `ifc`.
  void Receive(Interface& ifc, PacketPtr packet);
  // Called by Segment when its state changes (link up/down).
  void NotifyLink(Interface& ifc, bool running);

  void OnEvent(std::uint64_t token, PacketPtr packet) override;

 private:
  struct Reassembly;
  struct NextHop {
    Interface* ifc;
    Ipv4Address next_hop;
  };
  Result<NextHop> Resolve(Ipv4Address dst) const;
  // Sends an already-routed datagram out of `hop.ifc`: postrouting filters,
  // MTU (fragment or ICMP), then the segment.
  void Output(Bytes packet, const NextHop& hop, Interface* in, bool originated);
  // `header` and `length` describe `packet` as Receive parsed it.
  void Forward(Interface& in, Bytes packet, const ip::Ipv4Header& header, std::size_t length);
  // `parsed` describes `packet` (nullopt: parse it here).
  void DeliverLocal(Interface& in, Bytes packet, std::optional<ip::Ipv4Packet> parsed);
  void DeliverUdp(Interface& in, const ip::Ipv4Packet& pkt);
  void HandleIcmp(Interface& in, const ip::Ipv4Packet& pkt);
  // Sends ICMP error `type`/`code` about `offending` (RFC 1812 4.3.2.7).
  void SendIcmpError(std::uint8_t type, std::uint8_t code, std::uint32_t rest,
                     ByteSpan offending, Interface* arrived_on);
  std::optional<Bytes> Reassemble(const ip::Ipv4Packet& frag);
  void Notify(const LinkEvent& ev);
  bool RunFilters(Hook hook, Interface* in, Interface* out, Bytes& packet);

  Simulator& sim_;
  std::string name_;
  bool forwarding_;
  Logger log_;
  bool running_ = true;
  std::vector<std::unique_ptr<Interface>> interfaces_;
  RoutingTable routes_;
  std::vector<LinkObserver> observers_;
  // Handlers are shared so that one may unbind itself while it runs.
  std::map<Ipv4Endpoint, std::shared_ptr<UdpHandler>> udp_;
  std::unordered_map<Ipv4Address, int> local_addresses_;  // address -> count
  std::map<std::uint8_t, RawHandler> raw_;
  std::vector<PacketFilter*> filters_;
  using ReassemblyKey = std::tuple<std::uint32_t, std::uint32_t, std::uint8_t, std::uint16_t>;
  std::map<ReassemblyKey, std::unique_ptr<Reassembly>> reassembly_;
  std::uint16_t next_ip_id_ = 1;
  NodeCounters counters_;
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_NODE_H_

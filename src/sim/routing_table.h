// A longest-prefix-match IPv4 routing table for simulated nodes.
//
// A route sends a prefix out of an interface, to a gateway or (no gateway)
// straight to the destination on that link. Among matches the longest prefix
// wins, then the lowest metric, then the earliest added (deterministic).
#ifndef MIPSEC_SIM_ROUTING_TABLE_H_
#define MIPSEC_SIM_ROUTING_TABLE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/ip/address.h"
#include "common/result.h"

namespace mipsec::sim {

struct Route {
  Ipv4Prefix prefix;
  int ifindex = 0;                     // outgoing interface
  std::optional<Ipv4Address> gateway;  // none: on-link
  std::uint32_t metric = 0;
  std::string ToString() const;        // "10.0.0.0/8 via 10.1.0.1 if 2 metric 0"
};

class RoutingTable {
 public:
  // Adds a route; an identical prefix+metric route is replaced.
  void Add(const Route& route);
  // Removes routes for `prefix` (all metrics). Returns how many.
  std::size_t Remove(const Ipv4Prefix& prefix);
  // Removes the route for `prefix` with exactly `metric`.
  std::size_t Remove(const Ipv4Prefix& prefix, std::uint32_t metric);
  // Removes the routes `pred` selects.
  std::size_t RemoveIf(const std::function<bool(const Route&)>& pred);
  // Removes every route through `ifindex` (link down, interface moved).
  std::size_t RemoveInterface(int ifindex);
  // The route for `dst`, or nullopt (no route: ICMP net unreachable).
  std::optional<Route> Lookup(Ipv4Address dst) const;
  // The best route for `dst` among those through `ifindex`: what Linux picks
  // for a socket bound to that device (SO_BINDTODEVICE), where routes of
  // other interfaces (a VPN's, say) do not apply.
  std::optional<Route> LookupVia(Ipv4Address dst, int ifindex) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;  // kept sorted: longest prefix first, then metric
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_ROUTING_TABLE_H_

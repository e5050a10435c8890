#include "sim/routing_table.h"

#include <algorithm>

namespace mipsec::sim {

std::string Route::ToString() const {
  std::string s = prefix.ToString();
  if (gateway) s += " via " + gateway->ToString();
  s += " if " + std::to_string(ifindex) + " metric " + std::to_string(metric);
  return s;
}

void RoutingTable::Add(const Route& route) {
  Remove(route.prefix, route.metric);
  // Insert after every route that sorts before or equal, keeping insertion
  // order among equals.
  auto pos = std::find_if(routes_.begin(), routes_.end(), [&](const Route& r) {
    if (r.prefix.length() != route.prefix.length()) return r.prefix.length() < route.prefix.length();
    return r.metric > route.metric;
  });
  routes_.insert(pos, route);
}

std::size_t RoutingTable::Remove(const Ipv4Prefix& prefix, std::uint32_t metric) {
  auto n = routes_.size();
  std::erase_if(routes_, [&](const Route& r) { return r.prefix == prefix && r.metric == metric; });
  return n - routes_.size();
}

std::size_t RoutingTable::Remove(const Ipv4Prefix& prefix) {
  auto n = routes_.size();
  std::erase_if(routes_, [&](const Route& r) { return r.prefix == prefix; });
  return n - routes_.size();
}

std::size_t RoutingTable::RemoveIf(const std::function<bool(const Route&)>& pred) {
  auto n = routes_.size();
  std::erase_if(routes_, pred);
  return n - routes_.size();
}

std::size_t RoutingTable::RemoveInterface(int ifindex) {
  auto n = routes_.size();
  std::erase_if(routes_, [&](const Route& r) { return r.ifindex == ifindex; });
  return n - routes_.size();
}

std::optional<Route> RoutingTable::Lookup(Ipv4Address dst) const {
  // Sorted longest-first then lowest metric: the first match is the answer.
  for (const Route& r : routes_) {
    if (r.prefix.Contains(dst)) return r;
  }
  return std::nullopt;
}

std::optional<Route> RoutingTable::LookupVia(Ipv4Address dst, int ifindex) const {
  for (const Route& r : routes_) {
    if (r.ifindex == ifindex && r.prefix.Contains(dst)) return r;
  }
  return std::nullopt;
}

}  // namespace mipsec::sim

#include "sim/apps/mip4_transmit.h"

#include <optional>
#include <utility>
#include <variant>

#include "common/ip/ipv4.h"
#include "sim/routing_table.h"

namespace mipsec::sim {

Status SendMip4Transmit(Node& node, mip4::Transmit&& transmit) {
  if (auto* u = std::get_if<mip4::UdpTransmit>(&transmit)) {
    UdpSendOptions o;
    if (!u->local.address.IsAny()) o.source = u->local.address;
    o.ifindex = u->ifindex;
    if (u->ttl) o.ttl = *u->ttl;
    return node.SendUdp(u->remote, u->local.port, u->payload, o);
  }
  auto& ipt = std::get<mip4::IpTransmit>(transmit);
  if (ipt.link_next_hop && ipt.ifindex) {
    return node.SendRawOnLink(std::move(ipt.packet), *ipt.ifindex, *ipt.link_next_hop);
  }
  if (!ipt.ifindex) return node.SendRaw(std::move(ipt.packet));
  // Bound to the interface: on-link, unless a route through it names a
  // gateway (as SO_BINDTODEVICE would).
  Result<ip::Ipv4Packet> p = ip::ParseIpv4(ipt.packet, {.verify_checksum = false});
  Ipv4Address next = p.ok() ? p->header.dst : Ipv4Address::Any();
  std::optional<Route> r = node.routes().LookupVia(next, *ipt.ifindex);
  if (p.ok() && !next.IsMulticast() && !next.IsLimitedBroadcast() && r && r->gateway) {
    next = *r->gateway;
  }
  return node.SendRawOnLink(std::move(ipt.packet), *ipt.ifindex, next);
}

}  // namespace mipsec::sim

// What the Mobile IPv4 cores (HomeAgent, ForeignAgent, MobileNodeRegistration)
// exchange with the runtime that drives them (the simulator's apps or the
// Linux daemons). The cores are sans-I/O (docs/ARCHITECTURE.md): every entry
// point takes `now`, output is polled.
//
// Call order for every core, the same in both runtimes:
//   1. feed input: On...(now, ...) for each received datagram/packet/event;
//   2. drain output: PollTransmit() until empty, then PollEvent() until empty;
//   3. arm one timer for NextTimeout(); when it fires call OnTimeout(now) and
//      go to 2.
// `now` never decreases between calls. Wall-clock time (needed only for
// timestamp replay protection, RFC 5944 5.7) is `now` plus the offset the
// runtime gives each core at construction or with SetWallClockOffset().
#ifndef MIPSEC_MIP4_IO_H_
#define MIPSEC_MIP4_IO_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "common/bytes.h"
#include "common/ip/address.h"

namespace mipsec::mip4 {

// RFC 5944 3.2 / 3.3: registration messages use UDP port 434; RFC 3519 tunnel
// data shares it.
constexpr std::uint16_t kMipPort = 434;

// A UDP datagram received by the runtime on a socket the core asked for.
struct UdpReceived {
  Ipv4Endpoint local;   // the address/port it was sent to (IP_PKTINFO)
  Ipv4Endpoint remote;  // the sender as seen on the wire (after any NAT)
  int ifindex = 0;      // the interface it arrived on
  ByteSpan payload;     // valid only during the call
  // The datagram's IP TTL when the runtime can tell (IP_RECVTTL): RFC 3024
  // 4.2.1's "mobile node too distant" check at an FA needs it.
  std::optional<std::uint8_t> ttl;
};

// A UDP datagram the core wants sent. `local.address` may be unspecified
// (0.0.0.0): the runtime picks the source address by routing.
struct UdpTransmit {
  Ipv4Endpoint local;
  Ipv4Endpoint remote;
  std::optional<int> ifindex;  // force the egress interface (e.g. on-link to a visitor)
  bool broadcast = false;      // allowed to go to a broadcast/limited-broadcast address
  Bytes payload;
  // The IP TTL to send with; unset: the runtime's default. Set by a core
  // where an RFC fixes it (RFC 3024 4.1.1: 255 on a request to an FA; RFC
  // 5944 3.6.1.1: 1 to the all-mobility-agents group).
  std::optional<std::uint8_t> ttl;
};

// A whole IPv4 datagram the core wants sent as is (tunnelled traffic, ICMP
// agent advertisements and solicitations). `link_next_hop`, when set, sends it
// on-link to that address out of `ifindex` without a route lookup (an FA
// delivering to a visitor's home address, RFC 5944 4.2.2).
struct IpTransmit {
  std::optional<int> ifindex;
  std::optional<Ipv4Address> link_next_hop;
  Bytes packet;
};

using Transmit = std::variant<UdpTransmit, IpTransmit>;

// How traffic for a home address travels between the HA and the care-of
// address; shared by the HA's binding cache and the MN's binding.
enum class TunnelEncapsulation : std::uint8_t {
  kNone,    // FA care-of address seen from the MN: the FA de/encapsulates
  kIpInIp,  // RFC 2003: outer protocol 4 to the care-of address
  kUdp,     // RFC 3519 IP-in-UDP: outer IP + UDP (port 434) + Tunnel Data (type 4)
};

// "none" (an FA care-of address), "ip-in-ip", "udp": the one vocabulary of
// logs, events and tool output.
constexpr std::string_view TunnelEncapsulationName(TunnelEncapsulation e) {
  switch (e) {
    case TunnelEncapsulation::kNone: return "none";
    case TunnelEncapsulation::kIpInIp: return "ip-in-ip";
    case TunnelEncapsulation::kUdp: return "udp";
  }
  return "?";
}

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_IO_H_

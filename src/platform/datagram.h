// Datagram descriptors shared by the UDP and raw IPv4 socket interfaces.
//
// Batches are arrays the caller owns (wireguard-go's Bind shape): the socket
// fills or reads them and never keeps a pointer after the call returns.
#ifndef MIPSEC_PLATFORM_DATAGRAM_H_
#define MIPSEC_PLATFORM_DATAGRAM_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/ip/address.h"

namespace mipsec::platform {

// One received datagram. The caller sets `buffer`; a receive fills the rest.
struct Datagram {
  MutableByteSpan buffer{};  // caller's storage, not owned
  std::size_t length = 0;    // bytes stored at buffer[0, length)
  bool truncated = false;    // it was longer than buffer; the rest is lost
  Ipv4Endpoint remote{};     // sender (raw sockets: IP source, port 0)
  Ipv4Endpoint local{};      // where it was sent: the IP destination address
                             // (IP_PKTINFO) and the socket's port (raw: 0)
  int ifindex = 0;           // interface it arrived on
  std::uint8_t tos = 0;      // the IP header's TOS octet
  std::uint8_t ttl = 0;      // the IP header's TTL (IP_RECVTTL, UDP sockets
                             // opened with UdpOptions::receive_ttl); 0: unknown

  ByteSpan data() const { return ByteSpan(buffer.data(), length); }
};

// One datagram to send. The payload is borrowed for the duration of the call.
struct OutgoingDatagram {
  ByteSpan payload{};
  Ipv4Endpoint remote{};  // destination (raw sockets ignore the port)
  Ipv4Address source{};   // source address to use (IP_PKTINFO); must be local.
                          // Any() (the default): the routing decides.
  int ifindex = 0;        // outgoing interface (IP_PKTINFO); 0: routing
  // IP TTL for this datagram only (an IP_TTL control message); unset: the
  // socket's default. Raw sockets sending with IP_HDRINCL ignore it.
  std::optional<std::uint8_t> ttl{};
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_DATAGRAM_H_

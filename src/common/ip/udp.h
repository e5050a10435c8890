// UDP over IPv4 (RFC 768): header codec, pseudo-header checksum, and
// builders for a whole IPv4+UDP datagram.
//
//    0      7 8     15 16    23 24    31
//   +--------+--------+--------+--------+
//   |   Source Port   | Destination Port|
//   +--------+--------+--------+--------+
//   |     Length      |    Checksum     |
//   +--------+--------+--------+--------+
//   |          data octets ...          |
//
// The checksum covers a pseudo-header (source address, destination address,
// zero, protocol 17, UDP length), the UDP header and the data. A received
// checksum of 0 means the sender computed none and is accepted as such; a
// computed checksum of 0 is sent as 0xffff (RFC 768, "Fields").
//
// Parsed spans point into the caller's buffer.
#ifndef MIPSEC_COMMON_IP_UDP_H_
#define MIPSEC_COMMON_IP_UDP_H_

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/ip/ipv4.h"
#include "common/result.h"

namespace mipsec::ip {

struct UdpHeader {
  static constexpr std::size_t kSize = 8;
  static constexpr std::size_t kMaxPayload = 65535 - kSize;

  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  // As received (header + data); builders compute it.
  std::uint16_t length = 0;
  // As received, 0 when the sender sent none; builders compute it.
  std::uint16_t checksum = 0;
};

struct UdpParseOptions {
  // Verify a non-zero checksum (kMalformed on mismatch).
  bool verify_checksum = true;
};

struct UdpDatagram {
  UdpHeader header;
  ByteSpan payload;  // Length - 8 bytes
};

// Parses the UDP datagram at the start of `segment` (the payload of an IPv4
// datagram from `src` to `dst`). Requires 8 <= Length <= segment.size();
// bytes of `segment` past Length are not part of the datagram and ignored.
Result<UdpDatagram> ParseUdp(ByteSpan segment, Ipv4Address src, Ipv4Address dst,
                             const UdpParseOptions& options = {});

// The checksum over the pseudo-header and `segment` (header and data, the
// checksum field as it is in `segment`). With the field zeroed this is the
// value to send (before the 0 -> 0xffff rule); over a received segment with
// a checksum it is 0 when that checksum is right. The pseudo-header length is
// segment.size().
std::uint16_t UdpChecksum(Ipv4Address src, Ipv4Address dst, ByteSpan segment);

// Header and payload with Length and Checksum filled in (checksum 0, "none",
// when `with_checksum` is false). kInvalidArgument when the payload exceeds
// 65527 bytes.
Result<Bytes> BuildUdp(Ipv4Address src, Ipv4Address dst, std::uint16_t src_port,
                       std::uint16_t dst_port, ByteSpan payload, bool with_checksum = true);

struct Ipv4UdpPacket {
  Ipv4Header ip;
  UdpHeader udp;
  ByteSpan payload;

  Ipv4Endpoint source() const { return {ip.src, udp.src_port}; }
  Ipv4Endpoint destination() const { return {ip.dst, udp.dst_port}; }
};

// An IPv4 datagram carrying UDP, both headers checked. A datagram for another
// protocol is kMalformed; a fragment is kUnsupported (reassemble first).
Result<Ipv4UdpPacket> ParseIpv4Udp(ByteSpan bytes, const Ipv4ParseOptions& ip_options = {},
                                   const UdpParseOptions& udp_options = {});

// A whole IPv4+UDP datagram. `ip` gives every IPv4 field except protocol
// (always 17), total length and checksum; the UDP checksum is always
// computed. kInvalidArgument when it would not fit in 65535 bytes.
Result<Bytes> BuildIpv4Udp(const Ipv4Header& ip, std::uint16_t src_port, std::uint16_t dst_port,
                           ByteSpan payload);

}  // namespace mipsec::ip

#endif  // MIPSEC_COMMON_IP_UDP_H_

// ICMP for IPv4 (RFC 792): header codec, echo, and the error messages a
// tunnel endpoint or forwarder sends (Destination Unreachable including
// RFC 1191's Fragmentation Needed with next-hop MTU, Time Exceeded).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |     Code      |          Checksum             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                     Rest of header (4 bytes)                  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                     Body ...                                  |
//
// Rest of header: echo identifier and sequence number; for Destination
// Unreachable code 4 the low 16 bits are the next-hop MTU (RFC 1191 4);
// otherwise unused (zero). The checksum covers the whole ICMP message.
// Error messages carry the original datagram's IP header and the first 8
// bytes of its payload (RFC 792).
//
// Router advertisement / solicitation (RFC 1256, Mobile IPv4 agent
// discovery) are parsed here only as generic messages; their bodies belong to
// the mip4 codec. Parsed spans point into the caller's buffer.
#ifndef MIPSEC_COMMON_IP_ICMP_H_
#define MIPSEC_COMMON_IP_ICMP_H_

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/ip/ipv4.h"
#include "common/result.h"

namespace mipsec::ip {

// Types (RFC 792, RFC 1256).
inline constexpr std::uint8_t kIcmpEchoReply = 0;
inline constexpr std::uint8_t kIcmpDestinationUnreachable = 3;
inline constexpr std::uint8_t kIcmpSourceQuench = 4;
inline constexpr std::uint8_t kIcmpRedirect = 5;
inline constexpr std::uint8_t kIcmpEchoRequest = 8;
inline constexpr std::uint8_t kIcmpRouterAdvertisement = 9;
inline constexpr std::uint8_t kIcmpRouterSolicitation = 10;
inline constexpr std::uint8_t kIcmpTimeExceeded = 11;
inline constexpr std::uint8_t kIcmpParameterProblem = 12;

// Destination Unreachable codes (RFC 792; 13 from RFC 1812 5.2.7.1).
inline constexpr std::uint8_t kIcmpNetUnreachable = 0;
inline constexpr std::uint8_t kIcmpHostUnreachable = 1;
inline constexpr std::uint8_t kIcmpProtocolUnreachable = 2;
inline constexpr std::uint8_t kIcmpPortUnreachable = 3;
inline constexpr std::uint8_t kIcmpFragmentationNeeded = 4;
inline constexpr std::uint8_t kIcmpSourceRouteFailed = 5;
inline constexpr std::uint8_t kIcmpAdminProhibited = 13;

// Time Exceeded codes (RFC 792).
inline constexpr std::uint8_t kIcmpTtlExceeded = 0;
inline constexpr std::uint8_t kIcmpReassemblyTimeExceeded = 1;

// How many payload bytes of the original datagram an error quotes (RFC 792).
inline constexpr std::size_t kIcmpQuotedPayload = 8;

// True for the types that report an error about another datagram and carry
// its quote: 3, 4, 5, 11, 12.
bool IsIcmpErrorType(std::uint8_t type);

struct IcmpMessage {
  static constexpr std::size_t kHeaderSize = 8;

  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint16_t checksum = 0;  // as received; builders compute it
  std::uint32_t rest = 0;      // bytes 4..7 as a big-endian value
  ByteSpan body;

  std::uint16_t echo_identifier() const { return static_cast<std::uint16_t>(rest >> 16); }
  std::uint16_t echo_sequence() const { return static_cast<std::uint16_t>(rest); }
  // Destination Unreachable code 4 (RFC 1191 4); 0 from a pre-1191 router.
  std::uint16_t next_hop_mtu() const { return static_cast<std::uint16_t>(rest); }
  bool IsError() const { return IsIcmpErrorType(type); }
};

struct IcmpParseOptions {
  bool verify_checksum = true;  // kMalformed on mismatch
};

// Parses an ICMP message (an IPv4 payload, exactly the message's bytes: the
// checksum covers all of them).
Result<IcmpMessage> ParseIcmp(ByteSpan message, const IcmpParseOptions& options = {});

// For an error message: the quoted original datagram, parsed leniently
// (header checksum not verified, fewer bytes than its Total Length allowed).
// kInvalidArgument if `error` is not an error type.
Result<Ipv4Packet> ParseIcmpQuote(const IcmpMessage& error);

// The message bytes, checksum computed.
Bytes BuildIcmp(std::uint8_t type, std::uint8_t code, std::uint32_t rest, ByteSpan body);
Bytes BuildIcmpEchoRequest(std::uint16_t identifier, std::uint16_t sequence, ByteSpan data);
// RFC 792: a reply echoes the request's identifier, sequence number and data.
Bytes BuildIcmpEchoReply(std::uint16_t identifier, std::uint16_t sequence, ByteSpan data);

// Whether an ICMP error may be sent about `original` (an IPv4 datagram as
// received). RFC 1122 3.2.2 / RFC 1812 4.3.2.7: never about an ICMP error
// message, a datagram to a multicast or the limited broadcast address, a
// fragment other than the first, or a datagram whose source is not one host
// (0.0.0.0, loopback, multicast, broadcast, class E). The caller still owns
// what this cannot see: link-layer broadcast and directed broadcast
// destinations, and rate limiting. Returns kInvalidArgument naming the rule,
// or kMalformed if `original` is no IPv4 header at all.
Status IcmpErrorAllowed(ByteSpan original);

// Destination Unreachable about `original` with `code`; for code 4
// (kIcmpFragmentationNeeded) `next_hop_mtu` goes in the low 16 bits of the
// rest of header (RFC 1191 4), otherwise it must be 0. The body is the
// original header + first 8 payload bytes. Fails as IcmpErrorAllowed does.
Result<Bytes> BuildIcmpDestinationUnreachable(std::uint8_t code, ByteSpan original,
                                              std::uint16_t next_hop_mtu = 0);
// Time Exceeded (code kIcmpTtlExceeded or kIcmpReassemblyTimeExceeded).
Result<Bytes> BuildIcmpTimeExceeded(std::uint8_t code, ByteSpan original);

// An IPv4 datagram (protocol 1, no options, DF clear) carrying `message`.
Result<Bytes> BuildIcmpPacket(Ipv4Address src, Ipv4Address dst, ByteSpan message,
                              std::uint8_t ttl = kDefaultTtl, std::uint16_t identification = 0);

struct Ipv4IcmpPacket {
  Ipv4Header ip;
  IcmpMessage icmp;
};

// An IPv4 datagram carrying ICMP, both checked. Another protocol is
// kMalformed; a fragment kUnsupported.
Result<Ipv4IcmpPacket> ParseIpv4Icmp(ByteSpan bytes, const Ipv4ParseOptions& ip_options = {},
                                     const IcmpParseOptions& icmp_options = {});

}  // namespace mipsec::ip

#endif  // MIPSEC_COMMON_IP_ICMP_H_

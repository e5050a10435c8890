// IPv4 header codec (RFC 791) and in-place header edits.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version|  IHL  |    DSCP   |ECN|          Total Length         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Identification        |R|D|M|      Fragment Offset    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Time to Live |    Protocol   |         Header Checksum       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                       Source Address                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Destination Address                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Options (IHL*4 - 20 bytes)                 |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Parsing borrows: the options, `datagram` and `payload` spans of a parsed
// packet point into the caller's buffer, which must outlive them. Parsing
// never reads outside the given span and returns kTruncated / kMalformed with
// the field named. Serializing computes Total Length and the checksum; local
// misuse (options not a multiple of 4, oversize datagram) is kInvalidArgument.
//
// Fragments are parsed like any datagram; reassembly is not done here.
// Option contents are kept as bytes and not interpreted.
#ifndef MIPSEC_COMMON_IP_IPV4_H_
#define MIPSEC_COMMON_IP_IPV4_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "common/wire/writer.h"

namespace mipsec::ip {

// IANA protocol numbers used by mipsec.
inline constexpr std::uint8_t kProtoIcmp = 1;
inline constexpr std::uint8_t kProtoIpip = 4;     // IP in IP, RFC 2003
inline constexpr std::uint8_t kProtoTcp = 6;
inline constexpr std::uint8_t kProtoUdp = 17;
inline constexpr std::uint8_t kProtoGre = 47;     // RFC 2784
inline constexpr std::uint8_t kProtoEsp = 50;     // RFC 4303
inline constexpr std::uint8_t kProtoMinEnc = 55;  // minimal encapsulation, RFC 2004

// The default TTL for datagrams mipsec originates (the IANA "Assigned
// Numbers" default, as in RFC 1700 and Linux's ip_default_ttl).
inline constexpr std::uint8_t kDefaultTtl = 64;

struct Ipv4Header {
  static constexpr std::size_t kMinSize = 20;
  static constexpr std::size_t kMaxSize = 60;
  static constexpr std::size_t kMaxOptionsSize = kMaxSize - kMinSize;
  static constexpr std::size_t kMaxTotalLength = 65535;
  static constexpr std::uint16_t kMaxFragmentOffset = 0x1fff;

  std::uint8_t tos = 0;  // the whole byte: DSCP (high 6 bits) | ECN (low 2)
  // As received; Serialize computes it from the header and payload sizes.
  std::uint16_t total_length = 0;
  std::uint16_t identification = 0;
  bool reserved_flag = false;  // must be zero on send (RFC 791); kept as read
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint16_t fragment_offset = 0;  // in 8-octet units, 0..8191
  std::uint8_t ttl = kDefaultTtl;
  std::uint8_t protocol = 0;
  // As received; Serialize computes it.
  std::uint16_t checksum = 0;
  Ipv4Address src;
  Ipv4Address dst;
  // Raw option bytes (IHL*4 - 20, a multiple of 4, at most 40).
  ByteSpan options;

  std::uint8_t dscp() const { return tos >> 2; }
  std::uint8_t ecn() const { return tos & 0x3; }
  void set_dscp(std::uint8_t d) { tos = static_cast<std::uint8_t>((d & 0x3f) << 2 | ecn()); }
  void set_ecn(std::uint8_t e) { tos = static_cast<std::uint8_t>((tos & 0xfc) | (e & 0x3)); }
  std::size_t header_length() const { return kMinSize + options.size(); }
  // More fragments follow, or this is not the first fragment.
  bool IsFragment() const { return more_fragments || fragment_offset != 0; }
  // "192.0.2.1 > 198.51.100.7 proto 17 ttl 64 len 84 id 0x1c46 DF": for logs.
  std::string ToString() const;
};

struct Ipv4ParseOptions {
  // Check the header checksum (kMalformed on mismatch).
  bool verify_checksum = true;
  // Accept fewer bytes than Total Length says: for the copy of a datagram
  // quoted inside an ICMP error (RFC 792: header + first 8 payload bytes).
  // `payload` is then whatever follows the header.
  bool allow_truncated = false;
};

struct Ipv4Packet {
  Ipv4Header header;
  // Header and payload: the first Total Length bytes of the input. Bytes
  // after that (link-layer padding, e.g. Ethernet's minimum frame) are not
  // part of the datagram and are left out.
  ByteSpan datagram;
  // The bytes after the header, up to Total Length.
  ByteSpan payload;
};

// Parses the IPv4 datagram at the start of `bytes`. Requires version 4,
// IHL >= 5, Total Length >= IHL*4 and, unless allow_truncated,
// Total Length <= bytes.size() (longer input is allowed: trailing padding).
Result<Ipv4Packet> ParseIpv4(ByteSpan bytes, const Ipv4ParseOptions& options = {});

// Appends the header for a datagram carrying `payload_length` bytes, with
// Total Length and Header Checksum computed (h.total_length and h.checksum
// are ignored). kInvalidArgument if the options are not a multiple of 4 or
// longer than 40 bytes, the fragment offset exceeds 8191, or the datagram
// would exceed 65535 bytes; nothing is appended then.
Status AppendIpv4Header(wire::Writer& w, const Ipv4Header& h, std::size_t payload_length);

// A whole datagram: the header as AppendIpv4Header writes it, then `payload`.
Result<Bytes> BuildIpv4(const Ipv4Header& h, ByteSpan payload);

// Decrements the TTL of the IPv4 datagram at the start of `packet` in place
// and fixes the header checksum incrementally (RFC 1624), for forwarding.
// Returns the new TTL; when it is 0 the caller must drop the datagram and
// should send ICMP Time Exceeded (RFC 1812 5.3.1). An input TTL of 0 is
// kMalformed (such a datagram must never have been sent); fewer than 20
// bytes or a version other than 4 are errors, and the packet is not touched.
Result<std::uint8_t> DecrementTtl(MutableByteSpan packet);

}  // namespace mipsec::ip

#endif  // MIPSEC_COMMON_IP_IPV4_H_

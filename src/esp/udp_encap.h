// UDP encapsulation of ESP (RFC 3948) and locating ESP in an outer packet.
//
// On UDP port 4500 three things arrive (RFC 3948 2.1-2.3):
//   - an IKE message behind the non-ESP marker (4 zero bytes where an SPI
//     would be): Udp4500Kind::kIke, `offset` 4 (the IKE header);
//   - a NAT-keepalive, exactly one byte 0xFF: kKeepalive (to be ignored);
//   - an ESP packet, whose SPI is never 0: kEsp, `offset` 0. At least the
//     8-byte ESP header must be present.
// Anything else (1-3 bytes but not a keepalive, an empty datagram, an ESP
// packet shorter than its header) is kInvalid.
//
// The UDP checksum of ESP-in-UDP and keepalives SHOULD be sent as 0 and
// receivers MUST NOT depend on it being 0 (RFC 3948 2.1, 2.3): we send 0 and
// LocateEsp() neither requires 0 nor verifies a non-zero value (the ESP ICV
// protects the content).
#ifndef MIPSEC_ESP_UDP_ENCAP_H_
#define MIPSEC_ESP_UDP_ENCAP_H_

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"

namespace mipsec::esp {

inline constexpr std::uint16_t kNatTPort = 4500;  // RFC 3948 / RFC 7296 2.23
inline constexpr std::uint16_t kIkePort = 500;
inline constexpr std::size_t kNonEspMarkerSize = 4;
inline constexpr std::uint8_t kNatKeepaliveByte = 0xff;

enum class Udp4500Kind : std::uint8_t { kEsp, kIke, kKeepalive, kInvalid };

struct Udp4500Classified {
  Udp4500Kind kind = Udp4500Kind::kInvalid;
  std::size_t offset = 0;  // where the ESP packet or the IKE message starts
};

// Classifies the payload of a UDP datagram received on port 4500.
Udp4500Classified ClassifyUdp4500(ByteSpan udp_payload);

// The keepalive payload: one byte 0xFF (RFC 3948 2.3).
ByteSpan NatKeepalivePayload();
// A whole IPv4+UDP keepalive datagram from `local` to `remote`, UDP checksum
// 0 (RFC 3948 2.3), for a raw-socket sender.
Bytes BuildNatKeepalivePacket(Ipv4Endpoint local, Ipv4Endpoint remote);
// `ike_message` preceded by the non-ESP marker, for sending IKE on 4500.
Bytes WithNonEspMarker(ByteSpan ike_message);

// Where the ESP (or IKE/keepalive) content of an outer IPv4 packet is.
struct OuterPacket {
  Ipv4Endpoint source;       // port 0 for plain ESP
  Ipv4Endpoint destination;  // port 0 for plain ESP
  bool udp = false;          // ESP-in-UDP (or IKE/keepalive on UDP)
  Udp4500Kind kind = Udp4500Kind::kEsp;
  std::size_t offset = 0;    // of the ESP packet / IKE message in the input
  std::size_t length = 0;
};

// Parses an outer IPv4 packet (header checksum verified) carrying ESP
// (protocol 50) or UDP (17): a datagram to port 500 is IKE without a marker
// (kIke, offset at the IKE header); any other port is classified as on 4500
// (a NAT may map either port, RFC 3948 2.1). The
// returned offset/length delimit the ESP packet or the IKE message. Errors:
// kTruncated/kMalformed naming the field; kUnsupported for a fragment
// (reassemble first) or another protocol.
Result<OuterPacket> LocateEsp(ByteSpan ipv4_packet);

}  // namespace mipsec::esp

#endif  // MIPSEC_ESP_UDP_ENCAP_H_

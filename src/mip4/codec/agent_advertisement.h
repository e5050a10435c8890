// Agent Advertisement (RFC 5944 2.1): an ICMP Router Advertisement
// (RFC 1256 3, ICMP type 9) followed by a Mobility Agent Advertisement
// extension (mobility_agent_extension.h) and optionally a Prefix-Lengths
// extension (prefix_lengths_extension.h) and One-byte Padding (2.1.3):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |     Code      |           Checksum            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |   Num Addrs   |Addr Entry Size|           Lifetime            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                       Router Address[1]                       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                      Preference Level[1]                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                               .                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Extensions (16, 19, 0, ...)
//
//   Code 0: the agent routes common traffic; 16: it does not (RFC 5944
//   2.1). Num Addrs may be 0 in an Agent Advertisement. Addr Entry Size is
//   2 words; larger sizes carry extra per-address words that are ignored
//   (RFC 1256 5.2). Lifetime: how long the advertisement is valid; the IP
//   TTL MUST be 1 (RFC 5944 2.1).
//
// The extensions use the Router Discovery number space (RFC 5944 1.8): 0,
// 16 and 19 are recognised; an unknown type 0-127 makes the whole
// advertisement be discarded (UnrecognizedExtensionError()), 128-255 are
// skipped. Extension offsets count from the first byte of the ICMP message.
#ifndef MIPSEC_MIP4_CODEC_AGENT_ADVERTISEMENT_H_
#define MIPSEC_MIP4_CODEC_AGENT_ADVERTISEMENT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "mip4/codec/extension.h"
#include "mip4/codec/mobility_agent_extension.h"
#include "mip4/codec/rules.h"

namespace mipsec::mip4 {

inline constexpr std::uint8_t kAdvCodeRoutesCommonTraffic = 0;      // RFC 5944 2.1
inline constexpr std::uint8_t kAdvCodeNoCommonTraffic = 16;         // RFC 5944 2.1

struct RouterAddress {
  Ipv4Address address;
  std::int32_t preference = 0;
  bool operator==(const RouterAddress&) const = default;
};

struct AgentAdvertisement {
  static constexpr std::size_t kMaxRouters = 255;

  std::uint8_t code = kAdvCodeRoutesCommonTraffic;
  std::uint16_t lifetime = 0;  // ICMP lifetime, seconds
  std::vector<RouterAddress> routers;
  MobilityAgentExtension mobility;
  std::optional<std::vector<std::uint8_t>> prefix_lengths;
  // One One-byte Padding extension at the end (RFC 5944 2.1.3).
  bool padding = false;

  bool operator==(const AgentAdvertisement&) const = default;
};

struct ParsedAgentAdvertisement {
  AgentAdvertisement advertisement;
  std::uint8_t addr_entry_size = 2;
  ExtensionList extensions;

  // True when BuildAgentAdvertisement(advertisement) reproduces the parsed
  // bytes exactly: entry size 2, extensions 16 [19] [0] in that order, no
  // skipped ones.
  bool IsCanonical() const;
};

// Parses an ICMP message (exactly its bytes; the checksum is verified).
// kMalformed for another ICMP type, a bad checksum, Addr Entry Size < 2, or
// a malformed extension; kTruncated when the addresses do not fit;
// UnrecognizedExtensionError() per RFC 5944 1.8; kNotFound for a valid
// Router Advertisement without a Mobility Agent Advertisement extension
// (not an Agent Advertisement, RFC 5944 2.1). When several mobility or
// prefix-lengths extensions appear, the first is decoded (Validate()
// rejects the duplicates).
Result<ParsedAgentAdvertisement> ParseAgentAdvertisement(ByteSpan icmp_message);

// The ICMP message, checksum computed. kInvalidArgument when a count does
// not fit its field (routers, care-of or prefix lengths).
Result<Bytes> BuildAgentAdvertisement(const AgentAdvertisement& adv);
// An IPv4 datagram from `src` to `dst` (224.0.0.1, 255.255.255.255 or a
// mobile node's address) with TTL 1 (RFC 5944 2.1).
Result<Bytes> BuildAgentAdvertisementPacket(Ipv4Address src, Ipv4Address dst,
                                            const AgentAdvertisement& adv,
                                            std::uint16_t ip_identification = 0);

// RFC 5944 2.1-2.1.2: code 0 or 16; the Mobility Agent Advertisement
// extension first and once; F or H set; B and R only with F; F needs at
// least one care-of address; Prefix-Lengths once, right after it, one
// length (<= 32) per router address.
std::optional<Violation> Validate(const ParsedAgentAdvertisement& adv);
// The field checks of the above, for an advertisement about to be sent.
std::optional<Violation> ValidateFields(const AgentAdvertisement& adv);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_AGENT_ADVERTISEMENT_H_

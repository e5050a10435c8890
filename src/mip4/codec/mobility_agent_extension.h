// Mobility Agent Advertisement extension (RFC 5944 2.1.1; U from RFC 3519
// 3.4, X from RFC 3543 3.1, I from RFC 4857 via RFC 5944 2.1.1), type 16 of
// the Router Discovery extension space, TLV:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |    Length     |        Sequence Number        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |    Registration Lifetime      |R|B|H|F|M|G|r|T|U|X|I|reserved |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                  zero or more Care-of Addresses               |
//   |                              ...                              |
//
//   Length 6 + 4*N. Registration Lifetime 0xffff = infinity.
//   R registration required, B busy, H home agent, F foreign agent,
//   M minimal encapsulation, G GRE, r zero, T reverse tunnelling,
//   U UDP tunnelling (only from an FA behind a NAT), X revocation,
//   I regional registration.
#ifndef MIPSEC_MIP4_CODEC_MOBILITY_AGENT_EXTENSION_H_
#define MIPSEC_MIP4_CODEC_MOBILITY_AGENT_EXTENSION_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/ip/address.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/extension.h"

namespace mipsec::mip4 {

struct MobilityAgentExtension {
  static constexpr std::size_t kFixedLength = 6;
  static constexpr std::size_t kMaxCareOfAddresses = (255 - kFixedLength) / 4;  // 62

  std::uint16_t sequence = 0;
  std::uint16_t registration_lifetime = 0;
  bool registration_required = false;  // R
  bool busy = false;                   // B
  bool home_agent = false;             // H
  bool foreign_agent = false;          // F
  bool minimal_encapsulation = false;  // M
  bool gre = false;                    // G
  bool reserved_r = false;             // r
  bool reverse_tunnel = false;         // T
  bool udp_tunnel = false;             // U
  bool revocation = false;             // X
  bool regional = false;               // I
  std::uint8_t reserved = 0;           // low 5 bits, as received
  std::vector<Ipv4Address> care_of_addresses;

  std::uint16_t FlagsWord() const;
  void SetFlagsWord(std::uint16_t flags);
  bool operator==(const MobilityAgentExtension&) const = default;
};

// kMalformed when Length < 6 or (Length - 6) is not a multiple of 4.
Result<MobilityAgentExtension> DecodeMobilityAgentExtension(const Extension& e);
Status CheckMobilityAgentExtension(const Extension& e);
// kInvalidArgument with more than 62 care-of addresses.
Status AppendMobilityAgentExtension(wire::Writer& w, const MobilityAgentExtension& m);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_MOBILITY_AGENT_EXTENSION_H_

// Registration Request (RFC 5944 3.3), Mobile IP message type 1, UDP port
// 434:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |S|B|D|M|G|r|T|x|          Lifetime             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                          Home Address                         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                           Home Agent                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                        Care-of Address                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                                               |
//   +                         Identification                        +
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Extensions ...
//   +-+-+-+-+-+-+-+-
//
//   S simultaneous bindings, B broadcast datagrams, D decapsulation by the
//   MN (co-located care-of address), M minimal encapsulation, G GRE, r sent
//   as zero (formerly V), T reverse tunnelling (RFC 3024), x sent as zero.
//   Lifetime 0 = deregistration, 0xffff = infinity.
//
// The message ends where the UDP payload ends (RFC 5944 1.8): pass exactly
// the UDP payload. The parsed message borrows it.
#ifndef MIPSEC_MIP4_CODEC_REGISTRATION_REQUEST_H_
#define MIPSEC_MIP4_CODEC_REGISTRATION_REQUEST_H_

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/extension.h"

namespace mipsec::mip4 {

inline constexpr std::uint16_t kInfiniteLifetime = 0xffff;

struct RegistrationRequest {
  static constexpr std::size_t kFixedSize = 24;

  bool simultaneous_bindings = false;  // S
  bool broadcast = false;              // B
  bool decapsulation_by_mn = false;    // D
  bool minimal_encapsulation = false;  // M
  bool gre = false;                    // G
  bool reserved_r = false;             // r (sent as zero, ignored)
  bool reverse_tunnel = false;         // T
  bool reserved_x = false;             // x (sent as zero, ignored)
  std::uint16_t lifetime = 0;
  Ipv4Address home_address;
  Ipv4Address home_agent;
  Ipv4Address care_of_address;
  std::uint64_t identification = 0;

  std::uint8_t FlagsByte() const;
  void SetFlagsByte(std::uint8_t flags);
  bool IsDeregistration() const { return lifetime == 0; }
  bool operator==(const RegistrationRequest&) const = default;
};

struct ParsedRegistrationRequest {
  RegistrationRequest request;
  ExtensionList extensions;
};

// Parses a whole Registration Request (the UDP payload). kMalformed if the
// type is not 1; kTruncated inside the fixed part or an extension;
// UnrecognizedExtensionError() per RFC 5944 1.8. Every recognised
// extension's body is checked by its decoder, so the typed decoders cannot
// fail on a parsed message.
Result<ParsedRegistrationRequest> ParseRegistrationRequest(ByteSpan message);

// Appends the 24-byte fixed part.
void AppendRegistrationRequestFixed(wire::Writer& w, const RegistrationRequest& r);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_REGISTRATION_REQUEST_H_

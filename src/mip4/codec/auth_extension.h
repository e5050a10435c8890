// Authentication extensions (RFC 5944 3.5): Mobile-Home (32, 3.5.2),
// Mobile-Foreign (33, 3.5.3) and Foreign-Home (34, 3.5.4). One layout:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |     Length    |         SPI  ....
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//          ... SPI (cont.)          |       Authenticator ...
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   Length  4 plus the number of bytes in the Authenticator.
//
// Coverage (RFC 5944 3.5.1): the authenticator protects the Mobile IP
// message from its first byte (the UDP payload: fixed part), all prior
// extensions in their entirety, and the Type, Length and SPI of the
// extension itself — i.e. exactly the bytes [0, offset + 6). It does not
// cover the UDP header or the authenticator. AuthenticationCoverage() gives
// that span; the security module computes or verifies the MAC over it
// (HMAC-MD5 by default) — this codec does no cryptography.
#ifndef MIPSEC_MIP4_CODEC_AUTH_EXTENSION_H_
#define MIPSEC_MIP4_CODEC_AUTH_EXTENSION_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/extension.h"

namespace mipsec::mip4 {

struct AuthExtension {
  static constexpr std::size_t kHeaderSize = 6;  // Type, Length, SPI
  // Length is one octet: 4 (SPI) + authenticator <= 255.
  static constexpr std::size_t kMaxAuthenticatorSize = 251;

  std::uint8_t type = 0;  // 32, 33 or 34
  std::uint32_t spi = 0;
  ByteSpan authenticator;  // borrowed from the message
};

// Decodes an extension of type 32/33/34 (kInvalidArgument for another
// type); kMalformed when Length < 4.
Result<AuthExtension> DecodeAuthExtension(const Extension& e);
Status CheckAuthExtension(const Extension& e);

// What the i-th authentication extension covers.
struct AuthCoverage {
  std::size_t extension_index = 0;  // into the ExtensionList
  std::uint8_t type = 0;
  std::uint32_t spi = 0;
  ByteSpan covered;        // message bytes [0, offset + 6)
  ByteSpan authenticator;  // the Authenticator field
};

// Number of authentication extensions (32, 33, 34) in `list`.
std::size_t CountAuthExtensions(const ExtensionList& list);
// The `nth` (0-based) authentication extension in wire order, whatever its
// type; kNotFound past the last.
Result<AuthCoverage> AuthenticationCoverage(const ExtensionList& list, std::size_t nth);
// The first authentication extension of `type`; kNotFound if none.
Result<AuthCoverage> AuthenticationCoverageOfType(const ExtensionList& list, std::uint8_t type);

// Appends Type, Length (4 + authenticator.size()), SPI, authenticator.
// kInvalidArgument for a non-auth type or an authenticator over 251 bytes.
Status AppendAuthExtension(wire::Writer& w, std::uint8_t type, std::uint32_t spi,
                           ByteSpan authenticator);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_AUTH_EXTENSION_H_

// Revocation Support extension (RFC 3543 3.2), type 137, skippable, TLV:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-
//   |     Type      |     Length    |I|        Reserved            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-
//   |                            Timestamp                         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-
//
//   Length currently 6; longer values are allowed "should more bits be
//   required in the future", so extra bytes are accepted and ignored.
//   I: the sender supports the 'I' bit in revocation messages.
//
// Parse only: mipsec does not implement revocation, but the extension must
// be understood enough to be skipped, and RFC 3543 3.2 requires it to be
// covered by an MN-HA or FA-HA authenticator (Validate()).
#ifndef MIPSEC_MIP4_CODEC_REVOCATION_SUPPORT_H_
#define MIPSEC_MIP4_CODEC_REVOCATION_SUPPORT_H_

#include <cstdint>

#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/extension.h"

namespace mipsec::mip4 {

struct RevocationSupport {
  static constexpr std::uint8_t kMinLength = 6;

  bool i_bit = false;
  std::uint16_t reserved = 0;  // 15 bits, as received
  std::uint32_t timestamp = 0;
};

// kMalformed when Length < 6.
Result<RevocationSupport> DecodeRevocationSupport(const Extension& e);
Status CheckRevocationSupport(const Extension& e);
// Length 6 (for tests and seeds; mipsec agents do not offer revocation).
void AppendRevocationSupport(wire::Writer& w, const RevocationSupport& rs);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_REVOCATION_SUPPORT_H_

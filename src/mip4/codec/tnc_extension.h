// Trusted Networks Configured (TNC) extension (RFC 5265 3.4), type 149,
// skippable, short form, sub-type 0:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |    Length     |    Sub-Type   |   Reserved    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   Length 2, Sub-Type 0, Reserved sent as 0 and ignored.
//
// RFC 5265 4.3: an i-HA includes it in every reply to a request from a
// trusted source; 4.1: the MN uses it to decide it is inside. It carries no
// value of its own, so it only counts when the MN-HA authenticator covers it
// (Validate() requires it before the MN-HA extension). Another sub-type or
// a length other than 2 is "not understood" and skipped.
#ifndef MIPSEC_MIP4_CODEC_TNC_EXTENSION_H_
#define MIPSEC_MIP4_CODEC_TNC_EXTENSION_H_

#include <cstdint>

#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/extension.h"

namespace mipsec::mip4 {

struct TncExtension {
  static constexpr std::uint8_t kLength = 2;
  std::uint8_t reserved = 0;  // as received
};

Result<TncExtension> DecodeTnc(const Extension& e);
Status CheckTnc(const Extension& e);
void AppendTnc(wire::Writer& w);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_TNC_EXTENSION_H_

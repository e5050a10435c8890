// Mobile Node NAI extension (RFC 2794 2), type 131, skippable, TLV form:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |    Length     |           MN-NAI ...
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   Length  the length in bytes of the MN-NAI field.
//
// RFC 2794 2: it MUST precede the MN-HA and MN-FA authentication extensions
// (checked by Validate(), rules.h). With it the Home Address may be 0.
#ifndef MIPSEC_MIP4_CODEC_NAI_EXTENSION_H_
#define MIPSEC_MIP4_CODEC_NAI_EXTENSION_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/extension.h"

namespace mipsec::mip4 {

inline constexpr std::size_t kMaxNaiSize = 255;

// The NAI as text (bytes copied; not validated against RFC 4282 syntax).
Result<std::string> DecodeNai(const Extension& e);
Status CheckNai(const Extension& e);
// kInvalidArgument for an NAI over 255 bytes.
Status AppendNai(wire::Writer& w, std::string_view nai);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_NAI_EXTENSION_H_

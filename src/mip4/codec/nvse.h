// Normal Vendor/Organization Specific Extension, NVSE (RFC 3115), type 134,
// skippable, TLV:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |   Length      |           Reserved            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                       Vendor/Org-ID                           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |   Vendor-NVSE-Type            |   Vendor-NVSE-Value ...
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// A receiver that does not know the vendor/type ignores it and processes
// the rest of the message; the codec keeps it recognised (its framing is
// known) and leaves that decision to the core.
#ifndef MIPSEC_MIP4_CODEC_NVSE_H_
#define MIPSEC_MIP4_CODEC_NVSE_H_

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/extension.h"

namespace mipsec::mip4 {

struct Nvse {
  static constexpr std::size_t kMinLength = 8;  // reserved + vendor ID + type
  static constexpr std::size_t kMaxValueSize = 255 - kMinLength;

  std::uint16_t reserved = 0;  // as received
  std::uint32_t vendor_id = 0;
  std::uint16_t vendor_type = 0;
  ByteSpan value;  // borrowed
};

// kMalformed when Length < 8.
Result<Nvse> DecodeNvse(const Extension& e);
Status CheckNvse(const Extension& e);
// kInvalidArgument when the value exceeds kMaxValueSize.
Status AppendNvse(wire::Writer& w, const Nvse& n);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_NVSE_H_

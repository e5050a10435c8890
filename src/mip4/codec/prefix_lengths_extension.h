// Prefix-Lengths extension (RFC 5944 2.1.2), type 19 of the Router
// Discovery extension space, TLV:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |    Length     | Prefix Length |      ....
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   Length N = Num Addrs of the Router Advertisement part; one prefix
//   length per router address, in order (not for the care-of addresses).
//   Validate() checks N and that each is <= 32.
#ifndef MIPSEC_MIP4_CODEC_PREFIX_LENGTHS_EXTENSION_H_
#define MIPSEC_MIP4_CODEC_PREFIX_LENGTHS_EXTENSION_H_

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/extension.h"

namespace mipsec::mip4 {

Result<std::vector<std::uint8_t>> DecodePrefixLengths(const Extension& e);
// kInvalidArgument for more than 255 entries.
Status AppendPrefixLengths(wire::Writer& w, const std::vector<std::uint8_t>& lengths);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_PREFIX_LENGTHS_EXTENSION_H_

// Encapsulating Delivery Style extension (RFC 3024 3.3), type 130,
// skippable, TLV with no data:
//
//    0                   1
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |     Length    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   Type 130, Length 0.
//
// Sent by the MN after the MN-HA and before the MN-FA authentication
// extension, only with the 'T' bit (Validate() checks both); consumed by
// the FA, never relayed.
#ifndef MIPSEC_MIP4_CODEC_DELIVERY_STYLE_H_
#define MIPSEC_MIP4_CODEC_DELIVERY_STYLE_H_

#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/extension.h"

namespace mipsec::mip4 {

// kMalformed when Length is not 0.
Status CheckDeliveryStyle(const Extension& e);
void AppendDeliveryStyle(wire::Writer& w);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_DELIVERY_STYLE_H_

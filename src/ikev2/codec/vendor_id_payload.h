// Vendor ID payload V (RFC 7296 3.12), body after the generic header:
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                        Vendor ID (VID)                        ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#ifndef MIPSEC_IKEV2_CODEC_VENDOR_ID_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_VENDOR_ID_PAYLOAD_H_

#include <cstddef>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"

namespace mipsec::ikev2 {

struct VendorIdPayload {
  Bytes id;

  static Result<VendorIdPayload> Decode(ByteSpan body) {
    return VendorIdPayload{Bytes(body.begin(), body.end())};
  }
  std::size_t EncodedSize() const { return id.size(); }
  void Encode(wire::Writer& w) const { w.Append(id); }
  bool operator==(const VendorIdPayload&) const = default;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_VENDOR_ID_PAYLOAD_H_

// Key Exchange payload (RFC 7296 3.4), body after the generic header:
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |   Diffie-Hellman Group Num    |           RESERVED            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                       Key Exchange Data                       ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The data length per group (and RFC 6989 checks) are the crypto layer's.
#ifndef MIPSEC_IKEV2_CODEC_KE_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_KE_PAYLOAD_H_

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

struct KePayload {
  std::uint16_t dh_group = 0;  // DhId
  Bytes data;

  static Result<KePayload> Decode(ByteSpan body);
  std::size_t EncodedSize() const { return 4 + data.size(); }
  void Encode(wire::Writer& w) const;
  bool operator==(const KePayload&) const = default;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_KE_PAYLOAD_H_

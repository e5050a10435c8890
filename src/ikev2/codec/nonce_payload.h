// Nonce payloads Ni and Nr (RFC 7296 3.9), body after the generic header:
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                            Nonce Data                         ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Nonce Data MUST be 16..256 octets (3.9); Validate() (message_rules.h)
// checks it, the decoder does not.
#ifndef MIPSEC_IKEV2_CODEC_NONCE_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_NONCE_PAYLOAD_H_

#include <cstddef>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"

namespace mipsec::ikev2 {

struct NoncePayload {
  static constexpr std::size_t kMinSize = 16;
  static constexpr std::size_t kMaxSize = 256;

  Bytes data;

  static Result<NoncePayload> Decode(ByteSpan body);
  std::size_t EncodedSize() const { return data.size(); }
  void Encode(wire::Writer& w) const { w.Append(data); }
  bool operator==(const NoncePayload&) const = default;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_NONCE_PAYLOAD_H_

// Extensible Authentication payload EAP (RFC 7296 3.16), body after the
// generic header, which is one EAP message (RFC 3748 4):
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Code      | Identifier    |           Length              |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Type          | Type_Data...
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// mipsec does not implement EAP: the message is kept raw (after checking
// that its Length matches) so the SA layer can refuse it cleanly.
#ifndef MIPSEC_IKEV2_CODEC_EAP_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_EAP_PAYLOAD_H_

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"

namespace mipsec::ikev2 {

struct EapPayload {
  Bytes message;  // the whole EAP message, at least 4 bytes when decoded

  std::uint8_t code() const { return message.empty() ? 0 : message[0]; }

  // kTruncated below 4 bytes, kMalformed if the EAP Length differs from the
  // body size.
  static Result<EapPayload> Decode(ByteSpan body);
  std::size_t EncodedSize() const { return message.size(); }
  void Encode(wire::Writer& w) const { w.Append(message); }
  bool operator==(const EapPayload&) const = default;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_EAP_PAYLOAD_H_

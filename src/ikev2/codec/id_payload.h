// Identification payloads IDi and IDr (RFC 7296 3.5), body after the
// generic header:
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |   ID Type     |                 RESERVED                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                   Identification Data                         ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The same body for both; the payload type (35 IDi, 36 IDr) tells them
// apart. The body bytes are what AUTH signs (RFC 7296 2.15), so re-encoding
// a decoded ID gives back exactly the received bytes.
#ifndef MIPSEC_IKEV2_CODEC_ID_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_ID_PAYLOAD_H_

#include <cstddef>
#include <string_view>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

struct IdPayload {
  IdType type = IdType::kFqdn;
  Bytes data;

  static IdPayload Fqdn(std::string_view name);
  static IdPayload Rfc822(std::string_view addr);
  static IdPayload Ipv4(Ipv4Address a);
  static IdPayload KeyId(ByteSpan id);

  static Result<IdPayload> Decode(ByteSpan body);
  std::size_t EncodedSize() const { return 4 + data.size(); }
  void Encode(wire::Writer& w) const;
  bool operator==(const IdPayload&) const = default;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_ID_PAYLOAD_H_

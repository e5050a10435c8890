// Configuration payload CP (RFC 7296 3.15), body after the generic header:
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |   CFG Type    |                    RESERVED                   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                   Configuration Attributes                    ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Configuration attribute (3.15.1):
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |R|         Attribute Type      |            Length             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                             Value                             ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The R bit is reserved (ignored on receipt, sent as zero). Value lengths
// per attribute (4 for INTERNAL_IP4_ADDRESS, 0 in a CFG_REQUEST, ...) are the
// SA layer's to check; Ipv4Value() helps.
#ifndef MIPSEC_IKEV2_CODEC_CP_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_CP_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

struct CfgAttribute {
  std::uint16_t type = 0;  // CfgAttr, 15 bits
  Bytes value;

  // An attribute with no value (what a CFG_REQUEST usually carries).
  static CfgAttribute Empty(CfgAttr type) { return {static_cast<std::uint16_t>(type), {}}; }
  static CfgAttribute Ipv4(CfgAttr type, Ipv4Address a);
  // The value as an IPv4 address if it is exactly 4 bytes.
  std::optional<Ipv4Address> Ipv4Value() const;

  bool operator==(const CfgAttribute&) const = default;
};

struct CpPayload {
  CfgType cfg_type = CfgType::kRequest;
  std::vector<CfgAttribute> attributes;

  // The first attribute of `type`, or null.
  const CfgAttribute* Find(CfgAttr type) const;

  static Result<CpPayload> Decode(ByteSpan body);
  std::size_t EncodedSize() const;
  void Encode(wire::Writer& w) const;
  bool operator==(const CpPayload&) const = default;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_CP_PAYLOAD_H_

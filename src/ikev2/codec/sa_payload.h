// Security Association payload (RFC 7296 3.3): proposals, transforms and
// transform attributes.
//
// SA payload body:
//   ~                          <Proposals>                          ~
//
// Proposal substructure (3.3.1):
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Last Substruc |   RESERVED    |         Proposal Length       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                        SPI (variable)                         ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                        <Transforms>                           ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Transform substructure (3.3.2):
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Last Substruc |   RESERVED    |        Transform Length       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Transform Type |   RESERVED    |          Transform ID         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                      Transform Attributes                     ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Transform attribute (3.3.5):
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |A|       Attribute Type        |    AF=0  Attribute Length     |
//   |F|                             |    AF=1  Attribute Value      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                   AF=0  Attribute Value                       |
//   |                   AF=1  Not Transmitted                       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Decode checks the structure: Last Substruc is 2 (more proposals) / 3 (more
// transforms) on all but the last and 0 on the last, lengths are consistent,
// Num Transforms matches, no bytes are left over. The numbering rules of
// 3.3.1 depend on request/response and are in CheckProposalNumbering(),
// which Validate() (message_rules.h) applies.
#ifndef MIPSEC_IKEV2_CODEC_SA_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_SA_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

struct TransformAttribute {
  std::uint16_t type = 0;  // Attribute Type without the AF bit
  bool tv = true;          // AF=1: `value` is the 2-byte value; AF=0: `data` (TLV)
  std::uint16_t value = 0;
  Bytes data;

  std::size_t EncodedSize() const { return tv ? 4 : 4 + data.size(); }
  bool operator==(const TransformAttribute&) const = default;
};

struct Transform {
  TransformType type = TransformType::kEncr;
  std::uint16_t id = 0;  // EncrId, PrfId, IntegId, DhId or EsnId by `type`
  std::vector<TransformAttribute> attributes;

  // A transform with, if given, a Key Length attribute (TV, 3.3.5).
  static Transform Make(TransformType type, std::uint16_t id,
                        std::optional<std::uint16_t> key_length = std::nullopt);
  // The Key Length attribute's value, if the transform has one (TV format).
  std::optional<std::uint16_t> KeyLength() const;

  std::size_t EncodedSize() const;  // including the 8-byte substructure header
  bool operator==(const Transform&) const = default;
};

struct Proposal {
  std::uint8_t number = 1;
  ProtocolId protocol = ProtocolId::kIke;
  Bytes spi;  // 0 bytes (IKE_SA_INIT), 8 (IKE rekey) or 4 (ESP/AH)
  std::vector<Transform> transforms;

  // The first transform of `type`, or null.
  const Transform* Find(TransformType type) const;

  std::size_t EncodedSize() const;  // including the 8-byte header and the SPI
  bool operator==(const Proposal&) const = default;
};

struct SaPayload {
  std::vector<Proposal> proposals;

  static Result<SaPayload> Decode(ByteSpan body);
  std::size_t EncodedSize() const;  // body only
  void Encode(wire::Writer& w) const;
  bool operator==(const SaPayload&) const = default;
};

// RFC 7296 3.3.1: in a request (an offer) proposals are numbered 1, 2, 3, ...
// (at least one); a response (an accepted offer) carries exactly one proposal
// with a non-zero number (the SA layer checks that it matches the offer).
// Also: SPI Size is 0 or 8 for IKE and 4 for ESP/AH (3.3.1), and each
// proposal has at least one transform. kMalformed naming the proposal.
Status CheckProposalNumbering(const SaPayload& sa, bool response);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_SA_PAYLOAD_H_

// Delete payload D (RFC 7296 3.11), body after the generic header:
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Protocol ID   |   SPI Size    |          Num of SPIs          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~               Security Parameter Index(es) (SPI)              ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Decode checks (3.11): the SPIs fill the body exactly; for IKE the SPI Size
// and Num of SPIs are zero; for ESP and AH the SPI Size is 4.
#ifndef MIPSEC_IKEV2_CODEC_DELETE_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_DELETE_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

struct DeletePayload {
  ProtocolId protocol = ProtocolId::kIke;
  std::vector<std::uint32_t> spis;  // ESP/AH SPIs (inbound SPIs of the sender); empty for IKE

  static DeletePayload Ike() { return {ProtocolId::kIke, {}}; }
  static DeletePayload Esp(std::vector<std::uint32_t> spis) {
    return {ProtocolId::kEsp, std::move(spis)};
  }

  static Result<DeletePayload> Decode(ByteSpan body);
  std::size_t EncodedSize() const { return 4 + 4 * spis.size(); }
  void Encode(wire::Writer& w) const;
  bool operator==(const DeletePayload&) const = default;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_DELETE_PAYLOAD_H_

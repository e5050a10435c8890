#include "ikev2/codec/delete_payload.h"

#include <string>

#include "common/wire/reader.h"

namespace mipsec::ikev2 {

Result<DeletePayload> DeletePayload::Decode(ByteSpan body) {
  wire::Reader r(body);
  DeletePayload d;
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t proto, r.U8("D protocol ID"));
  d.protocol = static_cast<ProtocolId>(proto);
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t spi_size, r.U8("D SPI size"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint16_t count, r.U16("D num of SPIs"));
  switch (d.protocol) {
    case ProtocolId::kIke:
      // RFC 7296 3.11: deleting the IKE SA carries no SPI.
      if (spi_size != 0 || count != 0) {
        return r.Malformed("D SPI size", "must be 0 with no SPIs for protocol IKE");
      }
      break;
    case ProtocolId::kEsp:
    case ProtocolId::kAh:
      if (spi_size != 4) {
        return r.Malformed("D SPI size", "is " + std::to_string(spi_size) + ", must be 4");
      }
      break;
    default:
      return r.Malformed("D protocol ID", "is " + std::to_string(proto) + ", not IKE/AH/ESP");
  }
  for (std::uint16_t i = 0; i < count; ++i) {
    MIPSEC_ASSIGN_OR_RETURN(std::uint32_t spi, r.U32("D SPI"));
    d.spis.push_back(spi);
  }
  if (!r.empty()) return r.Malformed("D", std::to_string(r.remaining()) + " bytes after the SPIs");
  return d;
}

void DeletePayload::Encode(wire::Writer& w) const {
  w.U8(static_cast<std::uint8_t>(protocol));
  w.U8(protocol == ProtocolId::kIke && spis.empty() ? 0 : 4);
  w.U16(static_cast<std::uint16_t>(spis.size()));
  for (std::uint32_t spi : spis) w.U32(spi);
}

}  // namespace mipsec::ikev2

#include "ikev2/codec/notify_payload.h"

#include "common/wire/reader.h"

namespace mipsec::ikev2 {

NotifyPayload NotifyPayload::Make(NotifyType type, Bytes data) {
  NotifyPayload n;
  n.type = type;
  n.data = std::move(data);
  return n;
}

Result<NotifyPayload> NotifyPayload::Decode(ByteSpan body) {
  wire::Reader r(body);
  NotifyPayload n;
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t proto, r.U8("N protocol ID"));
  n.protocol = static_cast<ProtocolId>(proto);
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t spi_size, r.U8("N SPI size"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint16_t type, r.U16("N notify message type"));
  n.type = static_cast<NotifyType>(type);
  MIPSEC_ASSIGN_OR_RETURN(ByteSpan spi, r.Span(spi_size, "N SPI"));
  n.spi.assign(spi.begin(), spi.end());
  const ByteSpan data = r.TakeRest();
  n.data.assign(data.begin(), data.end());
  return n;
}

void NotifyPayload::Encode(wire::Writer& w) const {
  w.U8(static_cast<std::uint8_t>(protocol)).U8(static_cast<std::uint8_t>(spi.size()));
  w.U16(static_cast<std::uint16_t>(type)).Append(spi).Append(data);
}

}  // namespace mipsec::ikev2

#include "ikev2/codec/header.h"

#include <string>

#include "common/wire/reader.h"

namespace mipsec::ikev2 {

std::uint8_t IkeHeader::flags() const {
  return static_cast<std::uint8_t>((initiator ? kFlagInitiator : 0) |
                                   (higher_version ? kFlagVersion : 0) |
                                   (response ? kFlagResponse : 0));
}

Result<IkeHeader> DecodeHeader(ByteSpan message, std::optional<ErrorNotify>* notify) {
  wire::Reader r(message);
  IkeHeader h;
  MIPSEC_ASSIGN_OR_RETURN(h.spi_i, r.U64("IKE header initiator SPI"));
  MIPSEC_ASSIGN_OR_RETURN(h.spi_r, r.U64("IKE header responder SPI"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t next, r.U8("IKE header next payload"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t version, r.U8("IKE header version"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t exchange, r.U8("IKE header exchange type"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t flags, r.U8("IKE header flags"));
  MIPSEC_ASSIGN_OR_RETURN(h.message_id, r.U32("IKE header message ID"));
  MIPSEC_ASSIGN_OR_RETURN(h.length, r.U32("IKE header length"));
  h.next_payload = static_cast<PayloadType>(next);
  h.major_version = static_cast<std::uint8_t>(version >> 4);
  h.minor_version = static_cast<std::uint8_t>(version & 0x0f);
  h.exchange = static_cast<ExchangeType>(exchange);
  // RFC 7296 3.1: reserved flag bits are ignored on receipt.
  h.initiator = (flags & IkeHeader::kFlagInitiator) != 0;
  h.higher_version = (flags & IkeHeader::kFlagVersion) != 0;
  h.response = (flags & IkeHeader::kFlagResponse) != 0;

  // RFC 7296 2.5: a higher major version is dropped, and answered with
  // INVALID_MAJOR_VERSION carrying our version in the header.
  if (h.major_version > IkeHeader::kMajorVersion) {
    if (!h.response) SuggestNotify(notify, {NotifyType::kInvalidMajorVersion, {}});
    return Error(Errc::kUnsupported,
                 "IKE header major version " + std::to_string(h.major_version) + " > 2");
  }
  if (h.major_version < IkeHeader::kMajorVersion) {
    return Error(Errc::kUnsupported,
                 "IKE header major version " + std::to_string(h.major_version) + " (not IKEv2)");
  }
  if (h.length < IkeHeader::kSize) {
    return Error(Errc::kMalformed,
                 "IKE header length " + std::to_string(h.length) + " below the header size 28");
  }
  if (h.length > message.size()) {
    return Error(Errc::kTruncated, "IKE header length " + std::to_string(h.length) + " but " +
                                       std::to_string(message.size()) + " bytes received");
  }
  if (h.length < message.size()) {
    return Error(Errc::kMalformed, "IKE header length " + std::to_string(h.length) + " but " +
                                       std::to_string(message.size()) + " bytes received");
  }
  return h;
}

void EncodeHeader(wire::Writer& w, const IkeHeader& h, PayloadType next_payload,
                  std::uint32_t length) {
  w.U64(h.spi_i).U64(h.spi_r);
  w.U8(static_cast<std::uint8_t>(next_payload));
  w.U8(static_cast<std::uint8_t>((h.major_version & 0x0f) << 4 | (h.minor_version & 0x0f)));
  w.U8(static_cast<std::uint8_t>(h.exchange));
  w.U8(h.flags());
  w.U32(h.message_id);
  w.U32(length);
}

}  // namespace mipsec::ikev2

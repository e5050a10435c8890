// Notify payload N (RFC 7296 3.10), body after the generic header:
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Protocol ID  |   SPI Size    |      Notify Message Type      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                Security Parameter Index (SPI)                 ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                       Notification Data                       ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Typed accessors for the Notification Data of the types mipsec uses are in
// notify_data.h.
#ifndef MIPSEC_IKEV2_CODEC_NOTIFY_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_NOTIFY_PAYLOAD_H_

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

struct NotifyPayload {
  ProtocolId protocol = ProtocolId::kNone;  // 0 when the notify is about the IKE SA
  Bytes spi;                                // empty when the notify is about the IKE SA
  NotifyType type = NotifyType::kInitialContact;
  Bytes data;

  // A notify about the IKE SA (Protocol ID 0, no SPI).
  static NotifyPayload Make(NotifyType type, Bytes data = {});

  // RFC 7296 3.10.1: types below 16384 are errors.
  bool is_error() const { return static_cast<std::uint16_t>(type) < kFirstStatusNotify; }

  static Result<NotifyPayload> Decode(ByteSpan body);
  std::size_t EncodedSize() const { return 4 + spi.size() + data.size(); }
  void Encode(wire::Writer& w) const;
  bool operator==(const NotifyPayload&) const = default;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_NOTIFY_PAYLOAD_H_

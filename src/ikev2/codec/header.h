// The IKE header (RFC 7296 3.1).
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                       IKE SA Initiator's SPI                  |
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                       IKE SA Responder's SPI                  |
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                          Message ID                           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                            Length                             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Flags: bit 3 (0x08) I = sent by the original initiator, bit 4 (0x10) V =
// "can speak a higher major version", bit 5 (0x20) R = response. The other
// bits are reserved: sent as zero, ignored on receipt.
#ifndef MIPSEC_IKEV2_CODEC_HEADER_H_
#define MIPSEC_IKEV2_CODEC_HEADER_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "ikev2/codec/error_notify.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

struct IkeHeader {
  static constexpr std::size_t kSize = 28;
  static constexpr std::uint8_t kMajorVersion = 2;
  static constexpr std::uint8_t kMinorVersion = 0;
  static constexpr std::uint8_t kFlagInitiator = 0x08;
  static constexpr std::uint8_t kFlagVersion = 0x10;
  static constexpr std::uint8_t kFlagResponse = 0x20;

  std::uint64_t spi_i = 0;  // big-endian on the wire; opaque otherwise
  std::uint64_t spi_r = 0;
  // As received. The encoders compute Next Payload and Length from what they
  // write and ignore these two fields.
  PayloadType next_payload = PayloadType::kNone;
  std::uint8_t major_version = kMajorVersion;
  std::uint8_t minor_version = kMinorVersion;
  ExchangeType exchange = ExchangeType::kIkeSaInit;
  bool initiator = false;       // I
  bool higher_version = false;  // V
  bool response = false;        // R
  std::uint32_t message_id = 0;
  std::uint32_t length = 0;

  std::uint8_t flags() const;

  bool operator==(const IkeHeader&) const = default;
};

// Decodes the header at the start of `message` (the whole IKE message: the
// UDP payload, after the non-ESP marker on port 4500). Checks:
//  - at least 28 bytes (kTruncated);
//  - Major Version: above 2 is kUnsupported with the suggestion
//    INVALID_MAJOR_VERSION for a request (RFC 7296 2.5); below 2 (IKEv1) is kUnsupported,
//    dropped silently. Minor Version is kept and otherwise ignored (2.5);
//  - Length equals message.size() (kTruncated if larger, kMalformed if
//    smaller or below 28).
Result<IkeHeader> DecodeHeader(ByteSpan message, std::optional<ErrorNotify>* notify = nullptr);

// Appends the 28-byte header with the given Next Payload and Length (the
// struct's next_payload and length fields are not used).
void EncodeHeader(wire::Writer& w, const IkeHeader& h, PayloadType next_payload,
                  std::uint32_t length);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_HEADER_H_

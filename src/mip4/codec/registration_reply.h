// Registration Reply (RFC 5944 3.4), Mobile IP message type 3, UDP port
// 434:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |     Code      |           Lifetime            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                          Home Address                         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                           Home Agent                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                                               |
//   +                         Identification                        +
//   |                                                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Extensions ...
//   +-+-+-+-+-+-+-+-
//
//   Code: see reply_code.h. Lifetime: granted seconds when accepted
//   (0 = deregistered, 0xffff = infinity); unspecified and to be ignored
//   when denied.
#ifndef MIPSEC_MIP4_CODEC_REGISTRATION_REPLY_H_
#define MIPSEC_MIP4_CODEC_REGISTRATION_REPLY_H_

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/extension.h"
#include "mip4/codec/reply_code.h"

namespace mipsec::mip4 {

struct RegistrationReply {
  static constexpr std::size_t kFixedSize = 20;

  std::uint8_t code = 0;  // a ReplyCode value, or any other octet as received
  std::uint16_t lifetime = 0;
  Ipv4Address home_address;
  Ipv4Address home_agent;
  std::uint64_t identification = 0;

  void set_code(ReplyCode c) { code = static_cast<std::uint8_t>(c); }
  bool accepted() const { return IsAcceptedCode(code); }
  bool operator==(const RegistrationReply&) const = default;
};

struct ParsedRegistrationReply {
  RegistrationReply reply;
  ExtensionList extensions;
};

// As ParseRegistrationRequest(), for type 3.
Result<ParsedRegistrationReply> ParseRegistrationReply(ByteSpan message);

// Appends the 20-byte fixed part.
void AppendRegistrationReplyFixed(wire::Writer& w, const RegistrationReply& r);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_REGISTRATION_REPLY_H_

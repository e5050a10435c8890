// UDP Tunnel Request extension (RFC 3519 3.1), type 144, skippable, short
// form, sub-type 0:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |    Length     |    Sub-Type   |   Reserved 1  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |F|R| Reserved 2| Encapsulation |          Reserved 3           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   Length 6. F: force UDP tunnelling. R: registering a co-located address
//   through an FA that set R. Encapsulation: IP protocol number of the
//   tunnelled data (4, 47, 55; 0 = follow the M and G bits, 3.1.4).
//
// RFC 3519 3.1.3: Reserved 1 and 2 are ignored; a non-zero Reserved 3 (and,
// by RFC 5944 1.8, an unknown sub-type or length) makes the extension "not
// understood": it is skipped (kept with recognized == false) and the rest
// of the message is processed.
#ifndef MIPSEC_MIP4_CODEC_UDP_TUNNEL_REQUEST_H_
#define MIPSEC_MIP4_CODEC_UDP_TUNNEL_REQUEST_H_

#include <cstdint>

#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/extension.h"

namespace mipsec::mip4 {

struct UdpTunnelRequest {
  static constexpr std::uint8_t kLength = 6;

  bool force = false;                   // F
  bool registration_through_fa = false; // R
  std::uint8_t encapsulation = 0;
  // As received (sent as 0). reserved2 is the 6 bits after F and R.
  std::uint8_t reserved1 = 0;
  std::uint8_t reserved2 = 0;
};

// kUnsupported ("not understood") for another sub-type or length, or a
// non-zero Reserved 3; kInvalidArgument for another extension type.
Result<UdpTunnelRequest> DecodeUdpTunnelRequest(const Extension& e);
Status CheckUdpTunnelRequest(const Extension& e);
// Reserved fields are written as given (0 by default).
void AppendUdpTunnelRequest(wire::Writer& w, const UdpTunnelRequest& req);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_UDP_TUNNEL_REQUEST_H_

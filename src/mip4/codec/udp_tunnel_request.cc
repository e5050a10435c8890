#include "mip4/codec/udp_tunnel_request.h"

#include <string>

#include "common/wire/reader.h"
#include "mip4/codec/constants.h"

namespace mipsec::mip4 {

Result<UdpTunnelRequest> DecodeUdpTunnelRequest(const Extension& e) {
  if (e.type != kExtUdpTunnelRequest || e.format != ExtensionFormat::kShort) {
    return Error(Errc::kInvalidArgument, "not a UDP Tunnel Request extension");
  }
  if (e.sub_type != kUdpTunnelRequestSubType) {
    return Error(Errc::kUnsupported,
                 "UDP Tunnel Request sub-type " + std::to_string(e.sub_type) + " not understood");
  }
  if (e.data.size() + 1 != UdpTunnelRequest::kLength) {
    return Error(Errc::kUnsupported, "UDP Tunnel Request length " +
                                         std::to_string(e.data.size() + 1) + " is not 6");
  }
  wire::Reader r(e.data);
  UdpTunnelRequest req;
  MIPSEC_ASSIGN_OR_RETURN(req.reserved1, r.U8("reserved 1"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t flags, r.U8("flags"));
  req.force = (flags & 0x80) != 0;
  req.registration_through_fa = (flags & 0x40) != 0;
  req.reserved2 = flags & 0x3f;
  MIPSEC_ASSIGN_OR_RETURN(req.encapsulation, r.U8("encapsulation"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint16_t reserved3, r.U16("reserved 3"));
  // RFC 3519 3.1.3.
  if (reserved3 != 0) {
    return Error(Errc::kUnsupported, "UDP Tunnel Request reserved 3 is " +
                                         std::to_string(reserved3) +
                                         ", not 0: not understood (RFC 3519 3.1.3)");
  }
  return req;
}

Status CheckUdpTunnelRequest(const Extension& e) {
  MIPSEC_TRY(DecodeUdpTunnelRequest(e));
  return Ok{};
}

void AppendUdpTunnelRequest(wire::Writer& w, const UdpTunnelRequest& req) {
  const std::uint8_t flags = static_cast<std::uint8_t>(
      (req.force ? 0x80 : 0) | (req.registration_through_fa ? 0x40 : 0) | (req.reserved2 & 0x3f));
  w.U8(kExtUdpTunnelRequest).U8(UdpTunnelRequest::kLength).U8(kUdpTunnelRequestSubType);
  w.U8(req.reserved1).U8(flags).U8(req.encapsulation).U16(0);
}

}  // namespace mipsec::mip4

#include "mip4/codec/udp_tunnel_reply.h"

#include <string>

#include "common/wire/reader.h"
#include "mip4/codec/constants.h"

namespace mipsec::mip4 {

Result<UdpTunnelReply> DecodeUdpTunnelReply(const Extension& e) {
  if (e.type != kExtUdpTunnelReply || e.format != ExtensionFormat::kShort) {
    return Error(Errc::kInvalidArgument, "not a UDP Tunnel Reply extension");
  }
  if (e.sub_type != kUdpTunnelReplySubType) {
    return Error(Errc::kUnsupported,
                 "UDP Tunnel Reply sub-type " + std::to_string(e.sub_type) + " not understood");
  }
  if (e.data.size() + 1 != UdpTunnelReply::kLength) {
    return Error(Errc::kUnsupported, "UDP Tunnel Reply length " +
                                         std::to_string(e.data.size() + 1) + " is not 6");
  }
  wire::Reader r(e.data);
  UdpTunnelReply rep;
  MIPSEC_ASSIGN_OR_RETURN(rep.reply_code, r.U8("reply code"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint16_t flags, r.U16("flags"));
  rep.forced = (flags & 0x8000) != 0;
  rep.reserved = flags & 0x7fff;
  MIPSEC_ASSIGN_OR_RETURN(rep.keepalive_interval, r.U16("keepalive interval"));
  return rep;
}

Status CheckUdpTunnelReply(const Extension& e) {
  MIPSEC_TRY(DecodeUdpTunnelReply(e));
  return Ok{};
}

void AppendUdpTunnelReply(wire::Writer& w, const UdpTunnelReply& rep) {
  w.U8(kExtUdpTunnelReply).U8(UdpTunnelReply::kLength).U8(kUdpTunnelReplySubType);
  w.U8(rep.reply_code);
  w.U16(static_cast<std::uint16_t>((rep.forced ? 0x8000 : 0) | (rep.reserved & 0x7fff)));
  w.U16(rep.keepalive_interval);
}

}  // namespace mipsec::mip4

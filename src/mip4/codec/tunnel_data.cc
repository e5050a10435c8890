#include "mip4/codec/tunnel_data.h"

#include <string>

#include "common/wire/reader.h"
#include "mip4/codec/constants.h"

namespace mipsec::mip4 {

Result<TunnelData> ParseTunnelData(ByteSpan message) {
  wire::Reader r(message);
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t type, r.U8("tunnel data type"));
  if (type != kMsgTunnelData) {
    return Error(Errc::kMalformed,
                 "message type " + std::to_string(type) + " is not Tunnel Data (4)");
  }
  TunnelData t;
  MIPSEC_ASSIGN_OR_RETURN(t.next_header, r.U8("next header"));
  MIPSEC_ASSIGN_OR_RETURN(t.reserved, r.U16("tunnel data reserved"));
  t.payload = r.TakeRest();
  return t;
}

void AppendTunnelDataHeader(wire::Writer& w, std::uint8_t next_header) {
  w.U8(kMsgTunnelData).U8(next_header).U16(0);
}

Bytes BuildTunnelData(std::uint8_t next_header, ByteSpan payload) {
  wire::Writer w(TunnelData::kHeaderSize + payload.size());
  AppendTunnelDataHeader(w, next_header);
  w.Append(payload);
  return std::move(w).Take();
}

}  // namespace mipsec::mip4

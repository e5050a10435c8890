#include "mip4/codec/revocation_support.h"

#include <string>

#include "common/wire/reader.h"
#include "mip4/codec/constants.h"

namespace mipsec::mip4 {

Result<RevocationSupport> DecodeRevocationSupport(const Extension& e) {
  if (e.type != kExtRevocationSupport || e.format != ExtensionFormat::kTlv) {
    return Error(Errc::kInvalidArgument, "not a Revocation Support extension");
  }
  if (e.data.size() < RevocationSupport::kMinLength) {
    return Error(Errc::kMalformed, "Revocation Support length " + std::to_string(e.data.size()) +
                                       " is below 6 (RFC 3543 3.2)");
  }
  wire::Reader r(e.data);
  RevocationSupport rs;
  MIPSEC_ASSIGN_OR_RETURN(std::uint16_t flags, r.U16("flags"));
  rs.i_bit = (flags & 0x8000) != 0;
  rs.reserved = flags & 0x7fff;
  MIPSEC_ASSIGN_OR_RETURN(rs.timestamp, r.U32("timestamp"));
  return rs;
}

Status CheckRevocationSupport(const Extension& e) {
  MIPSEC_TRY(DecodeRevocationSupport(e));
  return Ok{};
}

void AppendRevocationSupport(wire::Writer& w, const RevocationSupport& rs) {
  w.U8(kExtRevocationSupport).U8(RevocationSupport::kMinLength);
  w.U16(static_cast<std::uint16_t>((rs.i_bit ? 0x8000 : 0) | (rs.reserved & 0x7fff)));
  w.U32(rs.timestamp);
}

}  // namespace mipsec::mip4

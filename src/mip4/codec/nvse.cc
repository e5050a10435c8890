#include "mip4/codec/nvse.h"

#include <string>

#include "common/wire/reader.h"
#include "mip4/codec/constants.h"

namespace mipsec::mip4 {

Result<Nvse> DecodeNvse(const Extension& e) {
  if (e.type != kExtNvse || e.format != ExtensionFormat::kTlv) {
    return Error(Errc::kInvalidArgument, "not an NVSE");
  }
  if (e.data.size() < Nvse::kMinLength) {
    return Error(Errc::kMalformed, "NVSE length " + std::to_string(e.data.size()) +
                                       " leaves no room for reserved, vendor ID and type");
  }
  wire::Reader r(e.data);
  Nvse n;
  MIPSEC_ASSIGN_OR_RETURN(n.reserved, r.U16("reserved"));
  MIPSEC_ASSIGN_OR_RETURN(n.vendor_id, r.U32("vendor/org ID"));
  MIPSEC_ASSIGN_OR_RETURN(n.vendor_type, r.U16("vendor NVSE type"));
  n.value = r.TakeRest();
  return n;
}

Status CheckNvse(const Extension& e) {
  MIPSEC_TRY(DecodeNvse(e));
  return Ok{};
}

Status AppendNvse(wire::Writer& w, const Nvse& n) {
  if (n.value.size() > Nvse::kMaxValueSize) {
    return Error(Errc::kInvalidArgument,
                 "NVSE value of " + std::to_string(n.value.size()) + " bytes is too long");
  }
  w.U8(kExtNvse).U8(static_cast<std::uint8_t>(Nvse::kMinLength + n.value.size()));
  w.U16(n.reserved).U32(n.vendor_id).U16(n.vendor_type).Append(n.value);
  return Ok{};
}

}  // namespace mipsec::mip4

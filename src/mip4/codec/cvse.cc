#include "mip4/codec/cvse.h"

#include <string>

#include "common/wire/reader.h"
#include "mip4/codec/constants.h"

namespace mipsec::mip4 {

Result<Cvse> DecodeCvse(const Extension& e) {
  if (e.type != kExtCvse || e.format != ExtensionFormat::kLong) {
    return Error(Errc::kInvalidArgument, "not a CVSE");
  }
  if (e.data.size() < Cvse::kMinLength) {
    return Error(Errc::kMalformed, "CVSE length " + std::to_string(e.data.size()) +
                                       " leaves no room for vendor ID and type");
  }
  wire::Reader r(e.data);
  Cvse c;
  c.reserved = e.sub_type;
  MIPSEC_ASSIGN_OR_RETURN(c.vendor_id, r.U32("vendor/org ID"));
  MIPSEC_ASSIGN_OR_RETURN(c.vendor_type, r.U16("vendor CVSE type"));
  c.value = r.TakeRest();
  return c;
}

Status CheckCvse(const Extension& e) {
  MIPSEC_TRY(DecodeCvse(e));
  return Ok{};
}

Status AppendCvse(wire::Writer& w, const Cvse& c) {
  if (c.value.size() > Cvse::kMaxValueSize) {
    return Error(Errc::kInvalidArgument,
                 "CVSE value of " + std::to_string(c.value.size()) + " bytes is too long");
  }
  w.U8(kExtCvse).U8(c.reserved).U16(static_cast<std::uint16_t>(Cvse::kMinLength + c.value.size()));
  w.U32(c.vendor_id).U16(c.vendor_type).Append(c.value);
  return Ok{};
}

ReplyCode HaCvseRejectCode(const ExtensionList& request, std::size_t index) {
  std::optional<std::size_t> mnha = request.Find(kExtMnHaAuth);
  if (!mnha || index < *mnha) return ReplyCode::kHaCvseFromMnUnsupported;
  return ReplyCode::kHaCvseFromFaUnsupported;
}

}  // namespace mipsec::mip4

#include "mip4/codec/tnc_extension.h"

#include <string>

#include "mip4/codec/constants.h"

namespace mipsec::mip4 {

Result<TncExtension> DecodeTnc(const Extension& e) {
  if (e.type != kExtTnc || e.format != ExtensionFormat::kShort) {
    return Error(Errc::kInvalidArgument, "not a TNC extension");
  }
  if (e.sub_type != kTncSubType) {
    return Error(Errc::kUnsupported,
                 "TNC sub-type " + std::to_string(e.sub_type) + " not understood");
  }
  if (e.data.size() + 1 != TncExtension::kLength) {
    return Error(Errc::kUnsupported,
                 "TNC length " + std::to_string(e.data.size() + 1) + " is not 2 (RFC 5265 3.4)");
  }
  return TncExtension{e.data[0]};
}

Status CheckTnc(const Extension& e) {
  MIPSEC_TRY(DecodeTnc(e));
  return Ok{};
}

void AppendTnc(wire::Writer& w) { w.U8(kExtTnc).U8(TncExtension::kLength).U8(kTncSubType).U8(0); }

}  // namespace mipsec::mip4

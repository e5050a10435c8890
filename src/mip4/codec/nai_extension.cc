#include "mip4/codec/nai_extension.h"

#include "mip4/codec/constants.h"

namespace mipsec::mip4 {

Result<std::string> DecodeNai(const Extension& e) {
  if (e.type != kExtNai || e.format != ExtensionFormat::kTlv) {
    return Error(Errc::kInvalidArgument, "not an NAI extension");
  }
  return std::string(reinterpret_cast<const char*>(e.data.data()), e.data.size());
}

Status CheckNai(const Extension& e) {
  MIPSEC_TRY(DecodeNai(e));
  return Ok{};
}

Status AppendNai(wire::Writer& w, std::string_view nai) {
  if (nai.size() > kMaxNaiSize) {
    return Error(Errc::kInvalidArgument,
                 "NAI of " + std::to_string(nai.size()) + " bytes exceeds 255 (RFC 2794 2)");
  }
  w.U8(kExtNai).U8(static_cast<std::uint8_t>(nai.size())).Append(AsBytes(nai));
  return Ok{};
}

}  // namespace mipsec::mip4

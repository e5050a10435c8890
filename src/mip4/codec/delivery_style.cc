#include "mip4/codec/delivery_style.h"

#include <string>

#include "mip4/codec/constants.h"

namespace mipsec::mip4 {

Status CheckDeliveryStyle(const Extension& e) {
  if (e.type != kExtDeliveryStyle || e.format != ExtensionFormat::kTlv) {
    return Error(Errc::kInvalidArgument, "not an Encapsulating Delivery Style extension");
  }
  if (!e.data.empty()) {
    return Error(Errc::kMalformed, "Encapsulating Delivery Style length " +
                                       std::to_string(e.data.size()) + " is not 0 (RFC 3024 3.3)");
  }
  return Ok{};
}

void AppendDeliveryStyle(wire::Writer& w) { w.U8(kExtDeliveryStyle).U8(0); }

}  // namespace mipsec::mip4

#include "mip4/codec/prefix_lengths_extension.h"

#include <string>

#include "mip4/codec/constants.h"

namespace mipsec::mip4 {

Result<std::vector<std::uint8_t>> DecodePrefixLengths(const Extension& e) {
  if (e.type != kAdvExtPrefixLengths || e.format != ExtensionFormat::kTlv) {
    return Error(Errc::kInvalidArgument, "not a Prefix-Lengths extension");
  }
  return std::vector<std::uint8_t>(e.data.begin(), e.data.end());
}

Status AppendPrefixLengths(wire::Writer& w, const std::vector<std::uint8_t>& lengths) {
  if (lengths.size() > 255) {
    return Error(Errc::kInvalidArgument,
                 std::to_string(lengths.size()) + " prefix lengths do not fit (at most 255)");
  }
  w.U8(kAdvExtPrefixLengths).U8(static_cast<std::uint8_t>(lengths.size()));
  w.Append(ByteSpan(lengths));
  return Ok{};
}

}  // namespace mipsec::mip4

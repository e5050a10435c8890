#include "common/bytes.h"

namespace mipsec {

std::string ToHex(ByteSpan data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (std::uint8_t b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<Bytes> FromHex(std::string_view hex) {
  Bytes out;
  int hi = -1;
  for (std::size_t i = 0; i < hex.size(); ++i) {
    char c = hex[i];
    if (c == ' ' || c == ':' || c == '\n' || c == '\t') {
      if (hi >= 0) {
        return Error(Errc::kMalformed, "hex: separator inside an octet at position " +
                                           std::to_string(i));
      }
      continue;
    }
    int v = HexValue(c);
    if (v < 0) {
      return Error(Errc::kMalformed, "hex: invalid character at position " + std::to_string(i));
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) return Error(Errc::kMalformed, "hex: odd number of digits");
  return out;
}

}  // namespace mipsec

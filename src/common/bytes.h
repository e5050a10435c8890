// Byte buffers and views used across mipsec.
//
// `ByteSpan` is a non-owning read-only view, `MutableByteSpan` a writable one,
// `Bytes` an owning buffer. Key material does not live in `Bytes`: use
// `SecretBytes` (common/secret.h), which cannot be logged or printed.
#ifndef MIPSEC_COMMON_BYTES_H_
#define MIPSEC_COMMON_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mipsec {

using Bytes = std::vector<std::uint8_t>;
using ByteSpan = std::span<const std::uint8_t>;
using MutableByteSpan = std::span<std::uint8_t>;

// Lower-case hex, no separators. For public data only (packets, SPIs, hashes
// of public values); SecretBytes does not convert to ByteSpan implicitly.
std::string ToHex(ByteSpan data);
// Parses hex (upper or lower case; spaces and ':' between octets allowed).
Result<Bytes> FromHex(std::string_view hex);

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace mipsec

#endif  // MIPSEC_COMMON_BYTES_H_

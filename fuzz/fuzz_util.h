// Field comparisons shared by the fuzz targets' round-trip properties.
#ifndef MIPSEC_FUZZ_FUZZ_UTIL_H_
#define MIPSEC_FUZZ_FUZZ_UTIL_H_

#include <algorithm>

#include "common/bytes.h"
#include "common/ip/ipv4.h"

namespace mipsec::fuzz {

inline bool SameBytes(ByteSpan a, ByteSpan b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Every field but the checksum (which serializing recomputes).
inline bool SameIpv4Fields(const ip::Ipv4Header& a, const ip::Ipv4Header& b) {
  return a.tos == b.tos && a.total_length == b.total_length &&
         a.identification == b.identification && a.reserved_flag == b.reserved_flag &&
         a.dont_fragment == b.dont_fragment && a.more_fragments == b.more_fragments &&
         a.fragment_offset == b.fragment_offset && a.ttl == b.ttl && a.protocol == b.protocol &&
         a.src == b.src && a.dst == b.dst && SameBytes(a.options, b.options);
}

}  // namespace mipsec::fuzz

#endif  // MIPSEC_FUZZ_FUZZ_UTIL_H_

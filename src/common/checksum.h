// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// The checksum of IPv4 headers, ICMP, UDP (RFC 768) and the Mobile IPv4 /
// IKEv2 paths that carry them. Three entry points:
//
//   InternetChecksum(bytes)      the value to store in a checksum field: the
//                                one's complement of the one's complement
//                                sum of the 16-bit big-endian words, an odd
//                                last byte padded with a zero byte.
//   Checksum                     the same sum over several spans, e.g. the
//                                UDP pseudo-header, then the UDP header, then
//                                the payload. Spans may have any length: a
//                                span of odd length leaves the next span's
//                                first byte as the low byte of a shared word,
//                                exactly as if the spans had been one buffer.
//   ChecksumAdjust16/32          RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'):
//                                the new checksum after one 16- or 32-bit
//                                field of the covered data changed (TTL
//                                decrement, NAT address rewrite), without
//                                touching the rest of the data.
//
// Verification: a buffer that includes its own (correct) checksum field sums
// to 0xffff, so InternetChecksum() over it is 0 (ChecksumIsValid()).
//
// Spans may start at any address; loads use memcpy. Values are in host order
// (a field holding bytes 0x12 0x34 is the value 0x1234).
#ifndef MIPSEC_COMMON_CHECKSUM_H_
#define MIPSEC_COMMON_CHECKSUM_H_

#include <cstdint>

#include "common/bytes.h"

namespace mipsec {

class Checksum {
 public:
  Checksum() = default;

  // Appends `data` to the covered byte stream.
  Checksum& Add(ByteSpan data);
  // Appends a 16-bit / 32-bit value as 2 / 4 big-endian bytes.
  Checksum& AddU16(std::uint16_t v);
  Checksum& AddU32(std::uint32_t v);

  // The folded one's complement sum of everything added (not complemented).
  // An empty or all-zero stream sums to 0.
  std::uint16_t Sum() const;
  // ~Sum(): the value to write into the checksum field.
  std::uint16_t Finish() const { return static_cast<std::uint16_t>(~Sum()); }
  // Whether the bytes added so far had an odd length.
  bool odd() const { return odd_; }

 private:
  std::uint64_t acc_ = 0;  // big-endian word sum, folded lazily
  bool odd_ = false;
};

// Checksum().Add(data).Finish().
std::uint16_t InternetChecksum(ByteSpan data);

// True when `data`, which contains its own checksum field, sums to 0xffff.
inline bool ChecksumIsValid(ByteSpan data) { return InternetChecksum(data) == 0; }

// RFC 1624 eqn. 3: `checksum` covered a 16-bit word that changed from
// `old_word` to `new_word` (the word must sit at an even offset of the
// covered data); returns the updated checksum.
std::uint16_t ChecksumAdjust16(std::uint16_t checksum, std::uint16_t old_word,
                               std::uint16_t new_word);
// The same for a 32-bit field at an even offset (an IPv4 address).
std::uint16_t ChecksumAdjust32(std::uint16_t checksum, std::uint32_t old_value,
                               std::uint32_t new_value);

}  // namespace mipsec

#endif  // MIPSEC_COMMON_CHECKSUM_H_

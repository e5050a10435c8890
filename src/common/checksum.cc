#include "common/checksum.h"

#include <bit>
#include <cstring>

namespace mipsec {
namespace {

// RFC 1071 sec. 2 (C), parallel summation: since 2^16 = 1 (mod 2^16 - 1), a
// one's complement sum of 64-bit words with end-around carry, folded to 16
// bits, equals the sum of the 16-bit words. Sec. 2 (B), byte order
// independence: words are loaded in native order and the folded result is
// swapped once at the end.

inline std::uint64_t Load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline std::uint32_t Load32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline std::uint16_t Load16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline std::uint16_t Swap16(std::uint16_t v) { return static_cast<std::uint16_t>(v << 8 | v >> 8); }

// One's complement addition of 64-bit words: the carry out of bit 63 wraps
// around into bit 0.
inline std::uint64_t AddCarry(std::uint64_t acc, std::uint64_t v) {
  acc += v;
  return acc + (acc < v ? 1 : 0);
}

inline std::uint16_t Fold64(std::uint64_t acc) {
  acc = (acc & 0xffffffffu) + (acc >> 32);  // at most 33 bits
  acc = (acc & 0xffffffffu) + (acc >> 32);  // at most 32 bits
  acc = (acc & 0xffffu) + (acc >> 16);      // at most 17 bits
  acc = (acc & 0xffffu) + (acc >> 16);
  return static_cast<std::uint16_t>(acc);
}

// Folded sum of `n` bytes taken as big-endian 16-bit words starting at an
// even position of the stream, an odd last byte padded with zero.
std::uint16_t SumWords(const std::uint8_t* p, std::size_t n) {
  // Four independent accumulators let four carry chains run in parallel.
  std::uint64_t a = 0, b = 0, c = 0, d = 0;
  while (n >= 64) {
    a = AddCarry(a, Load64(p));
    b = AddCarry(b, Load64(p + 8));
    c = AddCarry(c, Load64(p + 16));
    d = AddCarry(d, Load64(p + 24));
    a = AddCarry(a, Load64(p + 32));
    b = AddCarry(b, Load64(p + 40));
    c = AddCarry(c, Load64(p + 48));
    d = AddCarry(d, Load64(p + 56));
    p += 64;
    n -= 64;
  }
  while (n >= 8) {
    a = AddCarry(a, Load64(p));
    p += 8;
    n -= 8;
  }
  // The tail (< 8 bytes) starts at an even offset. Every 16-bit position of
  // a 64-bit word weighs the same modulo 2^16 - 1, so its pieces are added
  // as small native loads; an odd last byte is padded with a zero byte.
  if (n >= 4) {
    b = AddCarry(b, Load32(p));
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    c = AddCarry(c, Load16(p));
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    const std::uint8_t last[2] = {*p, 0};
    d = AddCarry(d, Load16(last));
  }
  std::uint16_t sum = Fold64(AddCarry(AddCarry(a, b), AddCarry(c, d)));
  if constexpr (std::endian::native == std::endian::little) sum = Swap16(sum);
  return sum;
}

}  // namespace

Checksum& Checksum::Add(ByteSpan data) {
  if (data.empty()) return *this;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  if (odd_) {
    // The previous span ended in the high byte of a word (counted with a zero
    // low byte); this byte is that word's low byte.
    acc_ += *p;
    ++p;
    --n;
  }
  acc_ += SumWords(p, n);
  // Whatever came before now ends on a word boundary; this span's remainder
  // decides the parity.
  odd_ = n % 2 != 0;
  // Each call adds less than 2^18 to the accumulator; folding here keeps it
  // far from a 64-bit overflow.
  if (acc_ >> 48) acc_ = Fold64(acc_);
  return *this;
}

// Integer fields are added without a trip through memory. After an odd
// number of bytes, a field's bytes straddle word boundaries: each byte lands
// in the other half of a word, which is the same as adding it byte-swapped.
Checksum& Checksum::AddU16(std::uint16_t v) {
  acc_ += odd_ ? Swap16(v) : v;
  return *this;
}

Checksum& Checksum::AddU32(std::uint32_t v) {
  const std::uint16_t hi = static_cast<std::uint16_t>(v >> 16);
  const std::uint16_t lo = static_cast<std::uint16_t>(v);
  acc_ += odd_ ? Swap16(hi) + Swap16(lo) : static_cast<std::uint32_t>(hi) + lo;
  return *this;
}

std::uint16_t Checksum::Sum() const { return Fold64(acc_); }

std::uint16_t InternetChecksum(ByteSpan data) { return Checksum().Add(data).Finish(); }

// RFC 1624 sec. 3, eqn. 3: HC' = ~(~HC + ~m + m'), all one's complement.
// Unlike the subtractive form of RFC 1141 (RFC 1624 sec. 2-4), eqn. 3 never
// yields a representation of zero that a full recomputation would not: the
// sum ~HC + ~m + m' cannot be +0 for data that is not all zero.
std::uint16_t ChecksumAdjust16(std::uint16_t checksum, std::uint16_t old_word,
                               std::uint16_t new_word) {
  std::uint64_t sum = static_cast<std::uint16_t>(~checksum);
  sum += static_cast<std::uint16_t>(~old_word);
  sum += new_word;
  return static_cast<std::uint16_t>(~Fold64(sum));
}

std::uint16_t ChecksumAdjust32(std::uint16_t checksum, std::uint32_t old_value,
                               std::uint32_t new_value) {
  std::uint64_t sum = static_cast<std::uint16_t>(~checksum);
  sum += static_cast<std::uint16_t>(~(old_value >> 16));
  sum += static_cast<std::uint16_t>(~old_value);
  sum += new_value >> 16;
  sum += new_value & 0xffffu;
  return static_cast<std::uint16_t>(~Fold64(sum));
}

}  // namespace mipsec

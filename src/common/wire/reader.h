// wire::Reader — a bounds-checked, non-owning cursor over received bytes.
//
// Every read names the field it reads. A read that would pass the end returns
// an Error (Errc::kTruncated) that says which field, at which offset, how many
// bytes it needed and how many were left; the cursor does not move on
// failure, and no byte past the end is ever touched. Integers are big-endian
// (network order).
//
//   wire::Reader r(packet);
//   MIPSEC_ASSIGN_OR_RETURN(auto type, r.U8("type"));
//   MIPSEC_ASSIGN_OR_RETURN(auto lifetime, r.U16("lifetime"));
//   MIPSEC_ASSIGN_OR_RETURN(auto ext, r.Sub(len, "extension body"));
//
// The Reader borrows the bytes: they must outlive it and every span it hands
// out.
#ifndef MIPSEC_COMMON_WIRE_READER_H_
#define MIPSEC_COMMON_WIRE_READER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

namespace mipsec::wire {

class Reader {
 public:
  Reader() = default;
  explicit Reader(ByteSpan data) : data_(data) {}

  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t size() const { return data_.size(); }
  bool empty() const { return remaining() == 0; }
  // The bytes not yet read (a view, does not advance).
  ByteSpan Rest() const { return data_.subspan(pos_); }
  // The bytes already read (a view).
  ByteSpan Consumed() const { return data_.first(pos_); }
  ByteSpan Whole() const { return data_; }

  Result<std::uint8_t> U8(std::string_view what);
  Result<std::uint16_t> U16(std::string_view what);
  Result<std::uint32_t> U24(std::string_view what);
  Result<std::uint32_t> U32(std::string_view what);
  Result<std::uint64_t> U64(std::string_view what);
  // A view of the next `n` bytes, advancing past them.
  Result<ByteSpan> Span(std::size_t n, std::string_view what);
  // Copies exactly `out.size()` bytes.
  Status Copy(MutableByteSpan out, std::string_view what);
  // A Reader over the next `n` bytes (offsets in its errors are relative to
  // the sub-reader), advancing this one past them.
  Result<Reader> Sub(std::size_t n, std::string_view what);
  Status Skip(std::size_t n, std::string_view what);
  // Reads everything left.
  ByteSpan TakeRest();

  // Peek without advancing.
  Result<std::uint8_t> PeekU8(std::string_view what) const;
  Result<std::uint16_t> PeekU16(std::string_view what) const;

  // An error "truncated: <what> needs N bytes at offset O, R left" for `n`.
  Error TruncatedError(std::size_t n, std::string_view what) const;
  // "<what> ..." with Errc::kMalformed and the current offset, for semantic
  // errors found while parsing: r.Malformed("length", "shorter than header").
  Error Malformed(std::string_view what, std::string_view why) const;

 private:
  Status Need(std::size_t n, std::string_view what) const;

  ByteSpan data_;
  std::size_t pos_ = 0;
};

}  // namespace mipsec::wire

#endif  // MIPSEC_COMMON_WIRE_READER_H_

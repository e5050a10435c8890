#include "common/wire/reader.h"

#include <cstring>
#include <string>

namespace mipsec::wire {

Error Reader::TruncatedError(std::size_t n, std::string_view what) const {
  std::string d(what.empty() ? std::string_view("field") : what);
  d += " needs " + std::to_string(n) + (n == 1 ? " byte" : " bytes") + " at offset " +
       std::to_string(pos_) + ", " + std::to_string(remaining()) + " left";
  return Error(Errc::kTruncated, std::move(d));
}

Error Reader::Malformed(std::string_view what, std::string_view why) const {
  std::string d(what);
  d += " at offset " + std::to_string(pos_) + ": ";
  d += why;
  return Error(Errc::kMalformed, std::move(d));
}

Status Reader::Need(std::size_t n, std::string_view what) const {
  if (n > remaining()) return TruncatedError(n, what);
  return Ok{};
}

Result<std::uint8_t> Reader::U8(std::string_view what) {
  MIPSEC_TRY(Need(1, what));
  return data_[pos_++];
}

Result<std::uint16_t> Reader::U16(std::string_view what) {
  MIPSEC_ASSIGN_OR_RETURN(std::uint16_t v, PeekU16(what));
  pos_ += 2;
  return v;
}

Result<std::uint32_t> Reader::U24(std::string_view what) {
  MIPSEC_TRY(Need(3, what));
  const std::uint8_t* p = data_.data() + pos_;
  pos_ += 3;
  return static_cast<std::uint32_t>(p[0]) << 16 | static_cast<std::uint32_t>(p[1]) << 8 | p[2];
}

Result<std::uint32_t> Reader::U32(std::string_view what) {
  MIPSEC_TRY(Need(4, what));
  const std::uint8_t* p = data_.data() + pos_;
  pos_ += 4;
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}

Result<std::uint64_t> Reader::U64(std::string_view what) {
  MIPSEC_TRY(Need(8, what));
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | data_[pos_ + i];
  pos_ += 8;
  return v;
}

Result<ByteSpan> Reader::Span(std::size_t n, std::string_view what) {
  MIPSEC_TRY(Need(n, what));
  ByteSpan s = data_.subspan(pos_, n);
  pos_ += n;
  return s;
}

Status Reader::Copy(MutableByteSpan out, std::string_view what) {
  MIPSEC_ASSIGN_OR_RETURN(ByteSpan s, Span(out.size(), what));
  if (!s.empty()) std::memcpy(out.data(), s.data(), s.size());
  return Ok{};
}

Result<Reader> Reader::Sub(std::size_t n, std::string_view what) {
  MIPSEC_ASSIGN_OR_RETURN(ByteSpan s, Span(n, what));
  return Reader(s);
}

Status Reader::Skip(std::size_t n, std::string_view what) {
  MIPSEC_TRY(Need(n, what));
  pos_ += n;
  return Ok{};
}

ByteSpan Reader::TakeRest() {
  ByteSpan s = data_.subspan(pos_);
  pos_ = data_.size();
  return s;
}

Result<std::uint8_t> Reader::PeekU8(std::string_view what) const {
  MIPSEC_TRY(Need(1, what));
  return data_[pos_];
}

Result<std::uint16_t> Reader::PeekU16(std::string_view what) const {
  MIPSEC_TRY(Need(2, what));
  return static_cast<std::uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
}

}  // namespace mipsec::wire

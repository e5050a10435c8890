#include "common/wire/writer.h"

#include "common/bug.h"

namespace mipsec::wire {

Writer& Writer::U16(std::uint16_t v) {
  buf_.push_back(static_cast<std::uint8_t>(v >> 8));
  buf_.push_back(static_cast<std::uint8_t>(v));
  return *this;
}

Writer& Writer::U24(std::uint32_t v) {
  MIPSEC_BUG_IF(v > 0xffffff, "Writer::U24 value does not fit in 24 bits");
  buf_.push_back(static_cast<std::uint8_t>(v >> 16));
  buf_.push_back(static_cast<std::uint8_t>(v >> 8));
  buf_.push_back(static_cast<std::uint8_t>(v));
  return *this;
}

Writer& Writer::U32(std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) buf_.push_back(static_cast<std::uint8_t>(v >> s));
  return *this;
}

Writer& Writer::U64(std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) buf_.push_back(static_cast<std::uint8_t>(v >> s));
  return *this;
}

Writer& Writer::Append(ByteSpan data) {
  buf_.insert(buf_.end(), data.begin(), data.end());
  return *this;
}

Writer& Writer::Zeros(std::size_t n) {
  buf_.resize(buf_.size() + n, 0);
  return *this;
}

MutableByteSpan Writer::Mutable(std::size_t offset, std::size_t n) {
  if (MIPSEC_BUG_IF(offset > buf_.size() || n > buf_.size() - offset,
                    "Writer::Mutable outside written bytes")) {
    return {};
  }
  return MutableByteSpan(buf_).subspan(offset, n);
}

void Writer::PatchU8(std::size_t offset, std::uint8_t v) {
  MutableByteSpan s = Mutable(offset, 1);
  if (!s.empty()) s[0] = v;
}

void Writer::PatchU16(std::size_t offset, std::uint16_t v) {
  MutableByteSpan s = Mutable(offset, 2);
  if (!s.empty()) StoreU16(s, 0, v);
}

void Writer::PatchU32(std::size_t offset, std::uint32_t v) {
  MutableByteSpan s = Mutable(offset, 4);
  if (!s.empty()) StoreU32(s, 0, v);
}

void StoreU16(MutableByteSpan out, std::size_t offset, std::uint16_t v) {
  if (MIPSEC_BUG_IF(offset > out.size() || out.size() - offset < 2, "StoreU16 out of bounds")) return;
  out[offset] = static_cast<std::uint8_t>(v >> 8);
  out[offset + 1] = static_cast<std::uint8_t>(v);
}

void StoreU32(MutableByteSpan out, std::size_t offset, std::uint32_t v) {
  if (MIPSEC_BUG_IF(offset > out.size() || out.size() - offset < 4, "StoreU32 out of bounds")) return;
  for (int i = 0; i < 4; ++i) out[offset + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

std::uint16_t LoadU16(ByteSpan in, std::size_t offset) {
  if (MIPSEC_BUG_IF(offset > in.size() || in.size() - offset < 2, "LoadU16 out of bounds")) return 0;
  return static_cast<std::uint16_t>(in[offset] << 8 | in[offset + 1]);
}

std::uint32_t LoadU32(ByteSpan in, std::size_t offset) {
  if (MIPSEC_BUG_IF(offset > in.size() || in.size() - offset < 4, "LoadU32 out of bounds")) return 0;
  return static_cast<std::uint32_t>(in[offset]) << 24 | static_cast<std::uint32_t>(in[offset + 1]) << 16 |
         static_cast<std::uint32_t>(in[offset + 2]) << 8 | in[offset + 3];
}

}  // namespace mipsec::wire

// wire::Writer — appends big-endian fields to an owned byte buffer.
//
// Encoding cannot fail: the buffer grows as needed. For length fields that
// precede what they measure, write a placeholder, remember its offset, and
// patch it when the body is done:
//
//   wire::Writer w;
//   w.U8(type);
//   std::size_t len_at = w.size();
//   w.U8(0);                       // length, patched below
//   ... body ...
//   w.PatchU8(len_at, static_cast<uint8_t>(w.size() - len_at - 1));
//
// Patching outside what was written is a programming error (BUG()).
#ifndef MIPSEC_COMMON_WIRE_WRITER_H_
#define MIPSEC_COMMON_WIRE_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <utility>

#include "common/bytes.h"

namespace mipsec::wire {

class Writer {
 public:
  Writer() = default;
  // Reserves capacity for `reserve` bytes (an allocation hint only).
  explicit Writer(std::size_t reserve) { buf_.reserve(reserve); }

  std::size_t size() const { return buf_.size(); }
  const Bytes& bytes() const& { return buf_; }
  Bytes Take() && { return std::move(buf_); }
  ByteSpan View() const { return buf_; }

  Writer& U8(std::uint8_t v) {
    buf_.push_back(v);
    return *this;
  }
  Writer& U16(std::uint16_t v);
  Writer& U24(std::uint32_t v);  // low 24 bits; higher bits must be zero (BUG)
  Writer& U32(std::uint32_t v);
  Writer& U64(std::uint64_t v);
  Writer& Append(ByteSpan data);
  Writer& Zeros(std::size_t n);

  // Overwrite already-written bytes at `offset`.
  void PatchU8(std::size_t offset, std::uint8_t v);
  void PatchU16(std::size_t offset, std::uint16_t v);
  void PatchU32(std::size_t offset, std::uint32_t v);
  // A writable view of already-written bytes [offset, offset + n).
  MutableByteSpan Mutable(std::size_t offset, std::size_t n);

 private:
  Bytes buf_;
};

// Big-endian helpers for fixed buffers (bounds are the caller's contract,
// checked with BUG()).
void StoreU16(MutableByteSpan out, std::size_t offset, std::uint16_t v);
void StoreU32(MutableByteSpan out, std::size_t offset, std::uint32_t v);
std::uint16_t LoadU16(ByteSpan in, std::size_t offset);
std::uint32_t LoadU32(ByteSpan in, std::size_t offset);

}  // namespace mipsec::wire

#endif  // MIPSEC_COMMON_WIRE_WRITER_H_

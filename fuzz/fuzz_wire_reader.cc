// Fuzz target: wire::Reader (and wire::Writer) driven by the input as a
// program.
//
// Input: a 2-byte big-endian length L, then the data (L modulo what is
// left), then the program: one byte per operation, some followed by a length
// byte. Every read is checked against a shadow model of the cursor: a read
// succeeds exactly when it fits, returns the big-endian value / bytes at the
// model's position and advances by its size; a failed read is kTruncated and
// does not move. Sub-readers nest up to 8 deep. Every read on the outermost
// reader is re-encoded with wire::Writer, and at the end the encoding must
// equal the bytes the reader consumed.
#include <cstring>
#include <limits>
#include <vector>

#include "common/wire/reader.h"
#include "common/wire/writer.h"
#include "fuzz_target.h"
#include "fuzz_util.h"

using namespace mipsec;  // NOLINT: a fuzz target, not library code

namespace {

struct Frame {
  wire::Reader r;
  ByteSpan bytes;       // what the reader covers
  std::size_t pos = 0;  // the model's cursor
};

std::uint64_t BigEndian(ByteSpan b) {
  std::uint64_t v = 0;
  for (std::uint8_t x : b) v = v << 8 | x;
  return v;
}

// A length operand: small values mostly, sometimes large or near SIZE_MAX
// (which must not wrap the bounds check).
std::size_t Length(std::uint8_t b) {
  if (b < 0xf0) return b;
  if (b == 0xff) return std::numeric_limits<std::size_t>::max();
  if (b == 0xfe) return std::numeric_limits<std::size_t>::max() - 1;
  return static_cast<std::size_t>(b - 0xf0) * 300;
}

void CheckCursor(const Frame& f) {
  FUZZ_CHECK(f.r.offset() == f.pos);
  FUZZ_CHECK(f.r.size() == f.bytes.size());
  FUZZ_CHECK(f.r.remaining() == f.bytes.size() - f.pos);
  FUZZ_CHECK(f.r.empty() == (f.pos == f.bytes.size()));
  FUZZ_CHECK(f.r.Rest().data() == f.bytes.data() + f.pos);
  FUZZ_CHECK(f.r.Consumed().size() == f.pos);
}

template <typename T>
void CheckInt(Frame& f, Result<T> v, std::size_t width, wire::Writer* w) {
  const bool fits = width <= f.bytes.size() - f.pos;
  FUZZ_CHECK(v.ok() == fits);
  if (!fits) {
    FUZZ_CHECK(v.error().code() == Errc::kTruncated);
    return;
  }
  FUZZ_CHECK(static_cast<std::uint64_t>(*v) == BigEndian(f.bytes.subspan(f.pos, width)));
  if (w != nullptr) {
    switch (width) {
      case 1: w->U8(static_cast<std::uint8_t>(*v)); break;
      case 2: w->U16(static_cast<std::uint16_t>(*v)); break;
      case 3: w->U24(static_cast<std::uint32_t>(*v)); break;
      case 4: w->U32(static_cast<std::uint32_t>(*v)); break;
      default: w->U64(static_cast<std::uint64_t>(*v)); break;
    }
  }
  f.pos += width;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const ByteSpan in(data, size);
  const std::size_t data_len = (static_cast<std::size_t>(in[0]) << 8 | in[1]) % (size - 1);
  const ByteSpan bytes = in.subspan(2, data_len);
  const ByteSpan prog = in.subspan(2 + data_len);

  std::vector<Frame> stack;
  stack.push_back(Frame{wire::Reader(bytes), bytes, 0});
  wire::Writer w;
  std::size_t pc = 0;
  auto operand = [&]() -> std::uint8_t { return pc < prog.size() ? prog[pc++] : 0; };

  while (pc < prog.size()) {
    const std::uint8_t op = prog[pc++];
    Frame& f = stack.back();
    wire::Writer* out = stack.size() == 1 ? &w : nullptr;
    const std::size_t left = f.bytes.size() - f.pos;
    switch (op % 14) {
      case 0: CheckInt(f, f.r.U8("u8"), 1, out); break;
      case 1: CheckInt(f, f.r.U16("u16"), 2, out); break;
      case 2: CheckInt(f, f.r.U24("u24"), 3, out); break;
      case 3: CheckInt(f, f.r.U32("u32"), 4, out); break;
      case 4: CheckInt(f, f.r.U64("u64"), 8, out); break;
      case 5: {
        const std::size_t n = Length(operand());
        Result<ByteSpan> s = f.r.Span(n, "span");
        FUZZ_CHECK(s.ok() == (n <= left));
        if (s.ok()) {
          FUZZ_CHECK(s->data() == f.bytes.data() + f.pos && s->size() == n);
          if (out) out->Append(*s);
          f.pos += n;
        } else {
          FUZZ_CHECK(s.error().code() == Errc::kTruncated);
        }
        break;
      }
      case 6: {
        const std::size_t n = Length(operand());
        if (n > 4096) break;
        std::vector<std::uint8_t> buf(n, 0xa5);
        Status st = f.r.Copy(buf, "copy");
        FUZZ_CHECK(st.ok() == (n <= left));
        if (st.ok()) {
          FUZZ_CHECK(n == 0 || std::memcmp(buf.data(), f.bytes.data() + f.pos, n) == 0);
          if (out) out->Append(buf);
          f.pos += n;
        } else {
          // A failed copy leaves the output untouched.
          for (std::uint8_t b : buf) FUZZ_CHECK(b == 0xa5);
        }
        break;
      }
      case 7: {
        const std::size_t n = Length(operand());
        Result<wire::Reader> sub = f.r.Sub(n, "sub");
        FUZZ_CHECK(sub.ok() == (n <= left));
        if (!sub.ok()) break;
        const ByteSpan sb = f.bytes.subspan(f.pos, n);
        FUZZ_CHECK(sub->Whole().data() == sb.data() && sub->size() == n && sub->offset() == 0);
        if (out) out->Append(sb);
        f.pos += n;
        if (stack.size() < 8) stack.push_back(Frame{*sub, sb, 0});  // invalidates f
        break;
      }
      case 8: {
        const std::size_t n = Length(operand());
        Status st = f.r.Skip(n, "skip");
        FUZZ_CHECK(st.ok() == (n <= left));
        if (st.ok()) {
          if (out) out->Append(f.bytes.subspan(f.pos, n));
          f.pos += n;
        }
        break;
      }
      case 9: {
        ByteSpan rest = f.r.TakeRest();
        FUZZ_CHECK(rest.data() == f.bytes.data() + f.pos && rest.size() == left);
        if (out) out->Append(rest);
        f.pos = f.bytes.size();
        break;
      }
      case 10: {
        Result<std::uint8_t> v = f.r.PeekU8("peek8");
        FUZZ_CHECK(v.ok() == (left >= 1));
        if (v.ok()) FUZZ_CHECK(*v == f.bytes[f.pos]);
        break;
      }
      case 11: {
        Result<std::uint16_t> v = f.r.PeekU16("peek16");
        FUZZ_CHECK(v.ok() == (left >= 2));
        if (v.ok()) FUZZ_CHECK(*v == BigEndian(f.bytes.subspan(f.pos, 2)));
        break;
      }
      case 12:
        if (stack.size() > 1) stack.pop_back();
        break;
      default: {
        Error e = f.r.Malformed("field", "reason");
        FUZZ_CHECK(e.code() == Errc::kMalformed);
        Error t = f.r.TruncatedError(left + 1, "next");
        FUZZ_CHECK(t.code() == Errc::kTruncated);
        break;
      }
    }
    CheckCursor(stack.back());
  }
  const Frame& top = stack.front();
  CheckCursor(top);
  FUZZ_CHECK(fuzz::SameBytes(w.View(), top.r.Consumed()));
  return 0;
}

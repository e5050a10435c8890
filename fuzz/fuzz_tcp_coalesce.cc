// Fuzz target: TCP receive coalescing (common/ip/tcp_coalesce.h), which the
// TUN applies to packets decrypted from a peer (untrusted input).
//
// Input: one flag byte, then packets as [u16 big-endian length][bytes].
// Flag bit 0: recompute each packet's IPv4 header and TCP checksums first,
// so mutations reach the merge rules instead of dying at the checksum. The
// other 7 bits pick the gso_size for userspace TSO (WriteTcpGsoSegment),
// applied to every packet.
//
// Properties: no out-of-bounds access; every run has 1..remaining packets;
// a merged packet, completed as the kernel completes a NEEDS_CSUM packet,
// is a valid segment (checksums, total length <= 65535) whose payload is the
// run's payloads in order.
//
// Built a second time with -DMIPSEC_TCP_COALESCE_GEN_CORPUS as
// fuzz_tcp_coalesce_gen_corpus, which writes the seeds:
//   build/<dir>/fuzz/fuzz_tcp_coalesce_gen_corpus fuzz/corpus
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/checksum.h"
#include "common/ip/tcp_coalesce.h"
#include "fuzz_target.h"

#ifdef MIPSEC_TCP_COALESCE_GEN_CORPUS
#include <cstdio>
#include <fstream>
#include <string>
#endif

using namespace mipsec;  // NOLINT: a fuzz target, not library code

namespace {

void Put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

// IPv4 header and TCP checksums of a packet that looks like IPv4/TCP.
void FixChecksums(Bytes& p) {
  if (p.size() < 40 || (p[0] >> 4) != 4) return;
  const std::size_t ihl = static_cast<std::size_t>(p[0] & 0x0f) * 4;
  if (ihl < 20 || ihl + 20 > p.size()) return;
  Put16(p.data() + 10, 0);
  Put16(p.data() + 10, InternetChecksum(ByteSpan(p).first(ihl)));
  Put16(p.data() + ihl + 16, 0);
  Checksum c;
  c.Add(ByteSpan(p).subspan(12, 8)).AddU16(6).AddU16(static_cast<std::uint16_t>(p.size() - ihl));
  c.Add(ByteSpan(p).subspan(ihl));
  Put16(p.data() + ihl + 16, c.Finish());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool fix = data[0] & 1;
  std::vector<Bytes> packets;
  for (std::size_t off = 1; off + 2 <= size && packets.size() < 128;) {
    const std::size_t len = (std::size_t{data[off]} << 8) | data[off + 1];
    off += 2;
    const std::size_t take = std::min(len, size - off);
    packets.emplace_back(data + off, data + off + take);
    off += take;
    if (fix) FixChecksums(packets.back());
  }
  std::vector<ByteSpan> spans;
  for (const Bytes& b : packets) spans.emplace_back(b);
  // Userspace TSO on each packet, gso_size from the flag byte's other bits:
  // segments fit their buffer, carry gso_size bytes (the last at most), and
  // their payloads add up to the packet's.
  const std::size_t gso_size = 8 + static_cast<std::size_t>(data[0] >> 1) * 12;
  for (const ByteSpan p : spans) {
    ip::TcpGsoView g;
    if (!ip::ViewTcpGsoPacket(p, gso_size, g)) continue;
    FUZZ_CHECK(g.header_length + g.payload_length == p.size());
    std::size_t payload = 0;
    Bytes out(g.header_length + gso_size);
    for (std::size_t k = 0; k < g.segments; ++k) {
      const std::size_t len = ip::WriteTcpGsoSegment(p, g, k, MutableByteSpan(out));
      FUZZ_CHECK(len > g.header_length && len <= out.size());
      FUZZ_CHECK(k + 1 == g.segments || len == out.size());
      payload += len - g.header_length;
    }
    FUZZ_CHECK(payload == g.payload_length);
    FUZZ_CHECK(ip::WriteTcpGsoSegment(p, g, g.segments, MutableByteSpan(out)) == 0);
  }
  FUZZ_CHECK(ip::CoalescibleRun(spans, spans.size()) == 0);
  for (std::size_t i = 0; i < spans.size();) {
    const std::size_t run = ip::CoalescibleRun(spans, i);
    FUZZ_CHECK(run >= 1 && i + run <= spans.size());
    if (run > 1) {
      ip::TcpSegmentView head;
      FUZZ_CHECK(ip::ViewCoalescibleSegment(spans[i], head));
      Bytes first = packets[i];
      std::vector<ByteSpan> r(spans.begin() + static_cast<std::ptrdiff_t>(i),
                              spans.begin() + static_cast<std::ptrdiff_t>(i + run));
      const ip::VirtioNetHdr vh = ip::MergeTcpRun(MutableByteSpan(first), r);
      FUZZ_CHECK(vh.hdr_len == head.header_length && vh.gso_size == head.payload_length);
      Bytes merged = first;
      Bytes payload(spans[i].begin() + static_cast<std::ptrdiff_t>(head.header_length),
                    spans[i].end());
      for (std::size_t k = 1; k < run; ++k) {
        const ByteSpan p = spans[i + k].subspan(head.header_length);
        FUZZ_CHECK(p.size() <= head.payload_length);
        merged.insert(merged.end(), p.begin(), p.end());
        payload.insert(payload.end(), p.begin(), p.end());
      }
      FUZZ_CHECK(merged.size() <= 65535);
      const std::uint16_t done = InternetChecksum(ByteSpan(merged).subspan(vh.csum_start));
      Put16(merged.data() + vh.csum_start + vh.csum_offset, done);
      ip::TcpSegmentView view;
      FUZZ_CHECK(ip::ViewCoalescibleSegment(merged, view));
      FUZZ_CHECK(view.payload_length == payload.size());
      FUZZ_CHECK(ByteSpan(merged).subspan(view.header_length).size() == payload.size());
      FUZZ_CHECK(std::equal(payload.begin(), payload.end(),
                            merged.begin() + static_cast<std::ptrdiff_t>(view.header_length)));
    }
    i += run;
  }
  return 0;
}

#ifdef MIPSEC_TCP_COALESCE_GEN_CORPUS
namespace {

// A segment of flow (10.0.0.1:40000 -> 10.0.0.2:5201) with timestamps.
Bytes Segment(std::uint32_t seq, std::size_t payload, std::uint8_t flags) {
  Bytes p(52 + payload, 0);
  p[0] = 0x45;
  Put16(p.data() + 2, static_cast<std::uint16_t>(p.size()));
  p[6] = 0x40;
  p[8] = 64;
  p[9] = 6;
  const std::uint8_t a[8] = {10, 0, 0, 1, 10, 0, 0, 2};
  std::copy(a, a + 8, p.begin() + 12);
  Put16(p.data() + 20, 40000);
  Put16(p.data() + 22, 5201);
  for (int i = 0; i < 4; ++i) p[24 + i] = static_cast<std::uint8_t>(seq >> (24 - 8 * i));
  p[31] = 1;
  p[32] = 8 << 4;
  p[33] = flags;
  Put16(p.data() + 34, 502);
  p[40] = 1;
  p[41] = 1;
  p[42] = 8;
  p[43] = 10;
  p[47] = 7;
  for (std::size_t i = 0; i < payload; ++i) p[52 + i] = static_cast<std::uint8_t>(seq + i);
  FixChecksums(p);
  return p;
}

void Write(const std::string& path, std::uint8_t flag, const std::vector<Bytes>& packets) {
  Bytes out{flag};
  for (const Bytes& b : packets) {
    out.push_back(static_cast<std::uint8_t>(b.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(b.size()));
    out.insert(out.end(), b.begin(), b.end());
  }
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(out.data()),
                                              static_cast<std::streamsize>(out.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (writes CORPUS_DIR/tcp_coalesce/*)\n", argv[0]);
    return 2;
  }
  const std::string dir = std::string(argv[1]) + "/tcp_coalesce/";
  std::vector<Bytes> burst;
  for (std::uint32_t i = 0; i < 4; ++i) burst.push_back(Segment(1000 + i * 200, 200, 0x10));
  burst.push_back(Segment(1800, 50, 0x18));
  Write(dir + "burst_psh", 1, burst);
  Write(dir + "burst_checksums_as_is", 0, burst);
  Write(dir + "gap_and_syn", 1,
        {Segment(1, 100, 0x10), Segment(200, 100, 0x10), Segment(300, 100, 0x12),
         Segment(400, 100, 0x10)});
  return 0;
}
#endif

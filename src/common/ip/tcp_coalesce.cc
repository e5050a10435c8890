#include "common/ip/tcp_coalesce.h"

#include <algorithm>
#include <cstring>

#include "common/checksum.h"

namespace mipsec::ip {
namespace {

constexpr std::uint8_t kPsh = 0x08, kAck = 0x10;  // any other flag (SYN, FIN, RST, URG, ECE, CWR) refuses a merge
constexpr std::size_t kMaxTotalLength = 65535;

std::uint16_t U16(ByteSpan p, std::size_t off) {
  return static_cast<std::uint16_t>((p[off] << 8) | p[off + 1]);
}
std::uint32_t U32(ByteSpan p, std::size_t off) {
  return (std::uint32_t{p[off]} << 24) | (std::uint32_t{p[off + 1]} << 16) |
         (std::uint32_t{p[off + 2]} << 8) | p[off + 3];
}
void PutU16(MutableByteSpan p, std::size_t off, std::uint16_t v) {
  p[off] = static_cast<std::uint8_t>(v >> 8);
  p[off + 1] = static_cast<std::uint8_t>(v);
}

// The TCP pseudo-header (RFC 793 3.1) of a segment of `tcp_length` bytes.
Checksum PseudoHeader(ByteSpan ip, std::size_t tcp_length) {
  Checksum c;
  c.Add(ip.subspan(12, 8));  // source and destination addresses
  c.AddU16(6);
  c.AddU16(static_cast<std::uint16_t>(tcp_length));
  return c;
}

// Same flow and same headers apart from sequence number, PSH, IP total
// length, ID and checksums.
bool SameFlow(ByteSpan a, ByteSpan b, std::size_t header_length) {
  if (a[1] != b[1] || a[8] != b[8]) return false;                 // TOS, TTL
  if (std::memcmp(a.data() + 12, b.data() + 12, 8) != 0) return false;  // addresses
  const std::size_t t = 20;
  if (std::memcmp(a.data() + t, b.data() + t, 4) != 0) return false;    // ports
  if (std::memcmp(a.data() + t + 8, b.data() + t + 8, 5) != 0) return false;  // ack, offset
  if (U16(a, t + 14) != U16(b, t + 14)) return false;                // window
  // Options (timestamps included) byte for byte.
  return std::memcmp(a.data() + t + 20, b.data() + t + 20, header_length - t - 20) == 0;
}

}  // namespace

std::array<std::uint8_t, VirtioNetHdr::kSize> VirtioNetHdr::Encode() const {
  std::array<std::uint8_t, kSize> out{};
  out[0] = flags;
  out[1] = gso_type;
  std::memcpy(out.data() + 2, &hdr_len, 2);  // host byte order (see the header)
  std::memcpy(out.data() + 4, &gso_size, 2);
  std::memcpy(out.data() + 6, &csum_start, 2);
  std::memcpy(out.data() + 8, &csum_offset, 2);
  return out;
}

bool ViewCoalescibleSegment(ByteSpan p, TcpSegmentView& view) {
  if (p.size() < 40) return false;
  if (p[0] != 0x45) return false;  // IPv4, no options
  const std::size_t total = U16(p, 2);
  if (total != p.size()) return false;
  const std::uint16_t frag = U16(p, 6);
  if ((frag & 0x4000) == 0 || (frag & 0x3fff) != 0) return false;  // DF, not a fragment
  if (p[9] != 6) return false;
  if (InternetChecksum(p.first(20)) != 0) return false;
  const std::size_t tcp_header = static_cast<std::size_t>(p[32] >> 4) * 4;
  if (tcp_header < 20 || 20 + tcp_header >= total) return false;  // needs a payload
  const std::uint8_t flags = p[33];
  if ((flags & kAck) == 0 || (flags & ~(kAck | kPsh)) != 0) return false;
  if ((p[32] & 0x0f) != 0) return false;  // reserved bits / NS
  Checksum c = PseudoHeader(p, total - 20);
  c.Add(p.subspan(20));
  if (c.Finish() != 0) return false;
  view.header_length = 20 + tcp_header;
  view.payload_length = total - view.header_length;
  return true;
}

std::size_t CoalescibleRun(std::span<const ByteSpan> packets, std::size_t first) {
  if (first >= packets.size()) return 0;
  TcpSegmentView head;
  const ByteSpan h = packets[first];
  if (!ViewCoalescibleSegment(h, head)) return 1;
  if (h[33] & kPsh) return 1;  // PSH ends a run; nothing may follow it
  std::size_t run = 1;
  std::size_t total = h.size();
  std::uint32_t next_seq = U32(h, 24) + static_cast<std::uint32_t>(head.payload_length);
  for (std::size_t i = first + 1; i < packets.size(); ++i) {
    const ByteSpan p = packets[i];
    TcpSegmentView v;
    if (!ViewCoalescibleSegment(p, v)) break;
    if (v.header_length != head.header_length || v.payload_length > head.payload_length) break;
    if (!SameFlow(h, p, head.header_length)) break;
    if (U32(p, 24) != next_seq) break;
    if (total + v.payload_length > kMaxTotalLength) break;
    total += v.payload_length;
    next_seq += static_cast<std::uint32_t>(v.payload_length);
    ++run;
    // A shorter segment or PSH ends the run (it must be the last).
    if (v.payload_length < head.payload_length || (p[33] & kPsh)) break;
  }
  return run;
}

VirtioNetHdr MergeTcpRun(MutableByteSpan head, std::span<const ByteSpan> run) {
  const std::size_t header_length = 20 + static_cast<std::size_t>(head[32] >> 4) * 4;
  const std::size_t gso_size = head.size() - header_length;
  std::size_t total = head.size();
  for (std::size_t i = 1; i < run.size(); ++i) total += run[i].size() - header_length;
  if (run.back()[33] & kPsh) head[33] |= kPsh;
  PutU16(head, 2, static_cast<std::uint16_t>(total));
  PutU16(head, 10, 0);
  PutU16(head, 10, InternetChecksum(ByteSpan(head).first(20)));
  // CHECKSUM_PARTIAL: the field holds the pseudo-header sum; the kernel
  // adds the segment bytes and complements (or each GSO segment's does).
  PutU16(head, 36, PseudoHeader(ByteSpan(head), total - 20).Sum());
  VirtioNetHdr v;
  v.flags = VirtioNetHdr::kNeedsCsum;
  v.gso_type = VirtioNetHdr::kGsoTcpV4;
  v.hdr_len = static_cast<std::uint16_t>(header_length);
  v.gso_size = static_cast<std::uint16_t>(gso_size);
  v.csum_start = 20;
  v.csum_offset = 16;
  return v;
}

bool ViewTcpGsoPacket(ByteSpan p, std::size_t gso_size, TcpGsoView& view) {
  if (gso_size == 0 || p.size() < 40 || (p[0] >> 4) != 4) return false;
  const std::size_t ihl = static_cast<std::size_t>(p[0] & 0x0f) * 4;
  if (ihl < 20 || ihl + 20 > p.size()) return false;
  if (U16(p, 2) != p.size() || p[9] != 6) return false;
  if ((U16(p, 6) & 0x3fff) != 0) return false;  // MF or an offset: a fragment
  const std::size_t tcp_header = static_cast<std::size_t>(p[ihl + 12] >> 4) * 4;
  if (tcp_header < 20 || ihl + tcp_header >= p.size()) return false;
  view.header_length = ihl + tcp_header;
  view.payload_length = p.size() - view.header_length;
  view.gso_size = gso_size;
  view.segments = (view.payload_length + gso_size - 1) / gso_size;
  return true;
}

std::size_t WriteTcpGsoSegment(ByteSpan p, const TcpGsoView& v, std::size_t k,
                               MutableByteSpan out) {
  if (k >= v.segments) return 0;
  const std::size_t from = k * v.gso_size;
  const std::size_t payload = std::min(v.gso_size, v.payload_length - from);
  const std::size_t length = v.header_length + payload;
  if (out.size() < length) return 0;
  std::memcpy(out.data(), p.data(), v.header_length);
  std::memcpy(out.data() + v.header_length, p.data() + v.header_length + from, payload);
  const std::size_t ihl = static_cast<std::size_t>(p[0] & 0x0f) * 4;
  PutU16(out, 2, static_cast<std::uint16_t>(length));
  PutU16(out, 4, static_cast<std::uint16_t>(U16(p, 4) + k));
  PutU16(out, 10, 0);
  PutU16(out, 10, InternetChecksum(ByteSpan(out).first(ihl)));
  const std::uint32_t seq = U32(p, ihl + 4) + static_cast<std::uint32_t>(from);
  for (int i = 0; i < 4; ++i) out[ihl + 4 + i] = static_cast<std::uint8_t>(seq >> (24 - 8 * i));
  constexpr std::uint8_t kFin = 0x01, kCwr = 0x80;
  if (k + 1 < v.segments) out[ihl + 13] &= static_cast<std::uint8_t>(~(kFin | kPsh));
  if (k > 0) out[ihl + 13] &= static_cast<std::uint8_t>(~kCwr);
  PutU16(out, ihl + 16, 0);
  Checksum c;
  c.Add(ByteSpan(out).subspan(12, 8)).AddU16(6).AddU16(static_cast<std::uint16_t>(length - ihl));
  c.Add(ByteSpan(out).subspan(ihl, length - ihl));
  PutU16(out, ihl + 16, c.Finish());
  return length;
}

}  // namespace mipsec::ip

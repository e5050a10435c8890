#include "common/ip/tcp_coalesce.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "common/checksum.h"

namespace mipsec::ip {
namespace {

struct Seg {
  std::uint32_t seq = 1000;
  std::size_t payload = 1000;
  std::uint8_t flags = 0x10;  // ACK
  bool df = true;
  std::uint8_t ttl = 64;
  std::uint16_t dport = 5201;
  std::uint32_t tsval = 7;   // timestamp option
  bool bad_checksum = false;
};

// An IPv4/TCP segment 10.0.0.1:40000 -> 10.0.0.2:dport with a timestamp
// option (12 bytes: NOP NOP TS), payload bytes (seq + i) & 0xff.
Bytes Make(const Seg& s) {
  const std::size_t tcp_header = 32;
  const std::size_t total = 20 + tcp_header + s.payload;
  Bytes p(total, 0);
  p[0] = 0x45;
  p[2] = static_cast<std::uint8_t>(total >> 8);
  p[3] = static_cast<std::uint8_t>(total);
  p[4] = 0x12;
  p[6] = s.df ? 0x40 : 0;
  p[8] = s.ttl;
  p[9] = 6;
  const std::uint8_t addrs[8] = {10, 0, 0, 1, 10, 0, 0, 2};
  std::memcpy(p.data() + 12, addrs, 8);
  const std::uint16_t ip_sum = InternetChecksum(ByteSpan(p).first(20));
  p[10] = static_cast<std::uint8_t>(ip_sum >> 8);
  p[11] = static_cast<std::uint8_t>(ip_sum);
  std::uint8_t* t = p.data() + 20;
  t[0] = 0x9c;  // 40000
  t[1] = 0x40;
  t[2] = static_cast<std::uint8_t>(s.dport >> 8);
  t[3] = static_cast<std::uint8_t>(s.dport);
  for (int i = 0; i < 4; ++i) t[4 + i] = static_cast<std::uint8_t>(s.seq >> (24 - 8 * i));
  t[8] = 0;
  t[9] = 0;
  t[10] = 0x30;
  t[11] = 0x39;  // ack 12345
  t[12] = (tcp_header / 4) << 4;
  t[13] = s.flags;
  t[14] = 0x01;
  t[15] = 0xf5;  // window
  t[20] = 1;
  t[21] = 1;
  t[22] = 8;
  t[23] = 10;
  for (int i = 0; i < 4; ++i) t[24 + i] = static_cast<std::uint8_t>(s.tsval >> (24 - 8 * i));
  for (std::size_t i = 0; i < s.payload; ++i) {
    t[tcp_header + i] = static_cast<std::uint8_t>((s.seq + i) & 0xff);
  }
  Checksum c;
  c.Add(ByteSpan(p).subspan(12, 8)).AddU16(6).AddU16(static_cast<std::uint16_t>(total - 20));
  c.Add(ByteSpan(p).subspan(20));
  std::uint16_t sum = c.Finish();
  if (s.bad_checksum) sum ^= 0x0101;
  t[16] = static_cast<std::uint8_t>(sum >> 8);
  t[17] = static_cast<std::uint8_t>(sum);
  return p;
}

std::vector<ByteSpan> Spans(const std::vector<Bytes>& v) {
  std::vector<ByteSpan> out;
  for (const Bytes& b : v) out.emplace_back(b);
  return out;
}

std::vector<Bytes> Burst(int n, std::size_t payload = 1000, std::uint32_t seq = 1000) {
  std::vector<Bytes> v;
  for (int i = 0; i < n; ++i) {
    Seg s;
    s.seq = seq + static_cast<std::uint32_t>(i * payload);
    s.payload = payload;
    v.push_back(Make(s));
  }
  return v;
}

TEST(TcpCoalesceTest, ABurstOfOneFlowIsOneRun) {
  auto v = Burst(5);
  auto s = Spans(v);
  EXPECT_EQ(CoalescibleRun(s, 0), 5u);
  EXPECT_EQ(CoalescibleRun(s, 3), 2u);
  EXPECT_EQ(CoalescibleRun(s, 5), 0u);
}

// The merged packet, completed as the kernel completes a NEEDS_CSUM
// packet, is exactly the segment a sender would have sent with all the
// payload: valid IPv4 and TCP checksums, total length, the bytes in order.
TEST(TcpCoalesceTest, MergedPacketIsTheWholeSegment) {
  auto v = Burst(3);
  v.push_back(Make(Seg{.seq = 4000, .payload = 300, .flags = 0x18}));  // short, PSH
  auto s = Spans(v);
  ASSERT_EQ(CoalescibleRun(s, 0), 4u);
  VirtioNetHdr h = MergeTcpRun(MutableByteSpan(v[0]), s);
  EXPECT_EQ(h.gso_type, VirtioNetHdr::kGsoTcpV4);
  EXPECT_EQ(h.flags, VirtioNetHdr::kNeedsCsum);
  EXPECT_EQ(h.hdr_len, 52);
  EXPECT_EQ(h.gso_size, 1000);
  EXPECT_EQ(h.csum_start, 20);
  EXPECT_EQ(h.csum_offset, 16);
  Bytes merged = v[0];
  for (std::size_t i = 1; i < v.size(); ++i) merged.insert(merged.end(), v[i].begin() + 52, v[i].end());
  ASSERT_EQ(merged.size(), 52u + 3300u);
  EXPECT_EQ((merged[2] << 8) | merged[3], static_cast<int>(merged.size()));
  EXPECT_TRUE(ChecksumIsValid(ByteSpan(merged).first(20)));
  EXPECT_EQ(merged[33], 0x18) << "PSH of the last segment";
  // Complete the checksum as the kernel does: sum from csum_start, store ~.
  const std::uint16_t done = InternetChecksum(ByteSpan(merged).subspan(h.csum_start));
  merged[h.csum_start + h.csum_offset] = static_cast<std::uint8_t>(done >> 8);
  merged[h.csum_start + h.csum_offset + 1] = static_cast<std::uint8_t>(done);
  TcpSegmentView view;
  ASSERT_TRUE(ViewCoalescibleSegment(merged, view)) << "full TCP checksum must verify";
  EXPECT_EQ(view.payload_length, 3300u);
  for (std::size_t i = 0; i < 3300; ++i) {
    ASSERT_EQ(merged[52 + i], static_cast<std::uint8_t>((1000 + i) & 0xff)) << i;
  }
  const auto enc = h.Encode();
  EXPECT_EQ(enc[0], 1);
  EXPECT_EQ(enc[1], 1);
}

TEST(TcpCoalesceTest, WhatBreaksARun) {
  struct Case {
    const char* what;
    Seg second;
  };
  const Case cases[] = {
      {"sequence gap", Seg{.seq = 2001}},
      {"another flow", Seg{.seq = 2000, .dport = 5202}},
      {"a longer segment", Seg{.seq = 2000, .payload = 1200}},
      {"SYN", Seg{.seq = 2000, .flags = 0x12}},
      {"FIN", Seg{.seq = 2000, .flags = 0x11}},
      {"RST", Seg{.seq = 2000, .flags = 0x14}},
      {"no ACK", Seg{.seq = 2000, .flags = 0x00}},
      {"different TTL", Seg{.seq = 2000, .ttl = 63}},
      {"different timestamp", Seg{.seq = 2000, .tsval = 8}},
      {"no DF", Seg{.seq = 2000, .df = false}},
      {"bad TCP checksum", Seg{.seq = 2000, .bad_checksum = true}},
      {"no payload", Seg{.seq = 2000, .payload = 0}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::vector<Bytes> v = {Make(Seg{}), Make(c.second), Make(Seg{.seq = 3000})};
    auto s = Spans(v);
    EXPECT_EQ(CoalescibleRun(s, 0), 1u);
  }
}

TEST(TcpCoalesceTest, HeadThatCannotLeadIsAlone) {
  std::vector<Bytes> v = {Make(Seg{.flags = 0x18}), Make(Seg{.seq = 2000})};
  EXPECT_EQ(CoalescibleRun(Spans(v), 0), 1u) << "PSH must be last";
  v = {Make(Seg{.bad_checksum = true}), Make(Seg{.seq = 2000})};
  EXPECT_EQ(CoalescibleRun(Spans(v), 0), 1u);
  Bytes truncated = Make(Seg{});
  truncated.resize(30);
  v = {truncated, Make(Seg{.seq = 2000})};
  EXPECT_EQ(CoalescibleRun(Spans(v), 0), 1u);
  Bytes udp = Make(Seg{});
  udp[9] = 17;
  v = {udp, Make(Seg{.seq = 2000})};
  EXPECT_EQ(CoalescibleRun(Spans(v), 0), 1u);
}

// A shorter segment ends the run; the IPv4 total length never exceeds 65535.
TEST(TcpCoalesceTest, ShortSegmentEndsTheRunAndLengthIsCapped) {
  auto v = Burst(2);
  v.push_back(Make(Seg{.seq = 3000, .payload = 10}));
  v.push_back(Make(Seg{.seq = 3010, .payload = 10}));
  EXPECT_EQ(CoalescibleRun(Spans(v), 0), 3u);
  auto big = Burst(60, 1400);  // 84000 payload bytes
  auto s = Spans(big);
  const std::size_t run = CoalescibleRun(s, 0);
  EXPECT_EQ(run, (65535 - 52) / 1400);
  EXPECT_LE(52 + run * 1400, 65535u);
  EXPECT_EQ(CoalescibleRun(s, run), 60 - run);
}

// Userspace TSO undoes a merge: a 4-segment run merged, completed, then cut
// at the same gso_size gives back the segments (valid checksums, sequence
// numbers, sizes, PSH only on the last, IP ID + 1 per segment).
TEST(TcpCoalesceTest, GsoSegmentationInvertsAMerge) {
  auto v = Burst(3);
  v.push_back(Make(Seg{.seq = 4000, .payload = 300, .flags = 0x18}));
  const std::vector<Bytes> originals = v;
  auto s = Spans(v);
  ASSERT_EQ(CoalescibleRun(s, 0), 4u);
  VirtioNetHdr h = MergeTcpRun(MutableByteSpan(v[0]), s);
  Bytes merged = v[0];
  for (std::size_t i = 1; i < v.size(); ++i) merged.insert(merged.end(), v[i].begin() + 52, v[i].end());
  const std::uint16_t done = InternetChecksum(ByteSpan(merged).subspan(20));
  merged[36] = static_cast<std::uint8_t>(done >> 8);
  merged[37] = static_cast<std::uint8_t>(done);
  TcpGsoView g;
  ASSERT_TRUE(ViewTcpGsoPacket(merged, h.gso_size, g));
  EXPECT_EQ(g.segments, 4u);
  EXPECT_EQ(g.header_length, 52u);
  for (std::size_t k = 0; k < g.segments; ++k) {
    SCOPED_TRACE(k);
    Bytes out(1500);
    const std::size_t len = WriteTcpGsoSegment(merged, g, k, MutableByteSpan(out));
    ASSERT_EQ(len, originals[k].size());
    out.resize(len);
    TcpSegmentView view;
    ASSERT_TRUE(ViewCoalescibleSegment(out, view) || (k == 3 && out[33] == 0x18));
    EXPECT_EQ((out[4] << 8) | out[5], 0x1200 + static_cast<int>(k));
    // Apart from the IP ID (and so the IP checksum), the original segment.
    Bytes a = out, b = originals[k];
    for (Bytes* x : {&a, &b}) {
      (*x)[4] = (*x)[5] = (*x)[10] = (*x)[11] = 0;
    }
    EXPECT_TRUE(a == b);
  }
  Bytes tiny(10);
  EXPECT_EQ(WriteTcpGsoSegment(merged, g, 0, MutableByteSpan(tiny)), 0u);
  EXPECT_EQ(WriteTcpGsoSegment(merged, g, 4, MutableByteSpan(tiny)), 0u);
  EXPECT_FALSE(ViewTcpGsoPacket(merged, 0, g));
  EXPECT_FALSE(ViewTcpGsoPacket(ByteSpan(merged).first(30), 1000, g));
}

}  // namespace
}  // namespace mipsec::ip

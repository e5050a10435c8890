#include "common/ip/ipv4.h"

#include <gtest/gtest.h>

#include "common/checksum.h"
#include "common/random.h"
#include "common/wire/writer.h"

namespace mipsec::ip {
namespace {

Ipv4Address A(std::string_view s) { return *Ipv4Address::Parse(s); }

// The classic example header (checksum b861) followed by 0x73 - 20 = 95
// payload bytes.
Bytes ClassicDatagram() {
  Bytes b = *FromHex("4500007300004000 4011b861 c0a80001 c0a800c7");
  for (int i = 0; i < 95; ++i) b.push_back(static_cast<std::uint8_t>(i));
  return b;
}

TEST(Ipv4Test, ParsesClassicHeader) {
  const Bytes d = ClassicDatagram();
  Result<Ipv4Packet> p = ParseIpv4(d);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  const Ipv4Header& h = p->header;
  EXPECT_EQ(h.tos, 0);
  EXPECT_EQ(h.total_length, 0x73);
  EXPECT_EQ(h.identification, 0);
  EXPECT_TRUE(h.dont_fragment);
  EXPECT_FALSE(h.more_fragments);
  EXPECT_FALSE(h.reserved_flag);
  EXPECT_EQ(h.fragment_offset, 0);
  EXPECT_FALSE(h.IsFragment());
  EXPECT_EQ(h.ttl, 0x40);
  EXPECT_EQ(h.protocol, kProtoUdp);
  EXPECT_EQ(h.checksum, 0xb861);
  EXPECT_EQ(h.src, A("192.168.0.1"));
  EXPECT_EQ(h.dst, A("192.168.0.199"));
  EXPECT_TRUE(h.options.empty());
  EXPECT_EQ(h.header_length(), 20u);
  EXPECT_EQ(p->datagram.size(), 0x73u);
  EXPECT_EQ(p->payload.size(), 95u);
  EXPECT_EQ(p->payload.data(), d.data() + 20);  // a view, not a copy
  EXPECT_EQ(h.ToString(), "192.168.0.1 > 192.168.0.199 proto 17 ttl 64 len 115 id 0x0000 DF");
}

TEST(Ipv4Test, KernelBuiltHeaderParses) {
  // ICMP echo reply built by Linux (captured on lo, tshark: checksum good).
  const Bytes d = *FromHex(
      "45000034798a00004001033d7f0000017f000001"
      "000041111e65000166f80c6b00000000ca7002000000000070736563216d6970");
  Result<Ipv4Packet> p = ParseIpv4(d);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->header.identification, 0x798a);
  EXPECT_FALSE(p->header.dont_fragment);
  EXPECT_EQ(p->header.protocol, kProtoIcmp);
  EXPECT_EQ(p->payload.size(), 32u);
}

TEST(Ipv4Test, ChecksumMismatch) {
  Bytes d = ClassicDatagram();
  d[11] ^= 0x01;
  Result<Ipv4Packet> p = ParseIpv4(d);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), Errc::kMalformed);
  EXPECT_EQ(p.error().detail(), "ipv4: header checksum 0xb860 is wrong (0xb861 expected)");
  EXPECT_TRUE(ParseIpv4(d, {.verify_checksum = false}).ok());
}

TEST(Ipv4Test, StructuralErrors) {
  const Bytes good = ClassicDatagram();
  {
    Bytes d = good;
    d[0] = 0x65;  // version 6
    Result<Ipv4Packet> p = ParseIpv4(d, {.verify_checksum = false});
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code(), Errc::kMalformed);
    EXPECT_EQ(p.error().detail(), "ipv4: version is 6, not 4");
  }
  {
    Bytes d = good;
    d[0] = 0x44;  // IHL 4
    Result<Ipv4Packet> p = ParseIpv4(d, {.verify_checksum = false});
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().detail(), "ipv4: header length 16 is below 20");
  }
  for (std::size_t n = 0; n < 20; ++n) {
    Result<Ipv4Packet> p = ParseIpv4(ByteSpan(good).first(n));
    ASSERT_FALSE(p.ok()) << n;
    EXPECT_EQ(p.error().code(), Errc::kTruncated) << n;
  }
  {
    // Total length beyond the buffer.
    Result<Ipv4Packet> p = ParseIpv4(ByteSpan(good).first(0x72));
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code(), Errc::kTruncated);
    EXPECT_EQ(p.error().detail(), "ipv4: total length 115 exceeds the 114 bytes received");
  }
  {
    // Total length shorter than the header.
    Bytes d = good;
    d[2] = 0;
    d[3] = 19;
    Result<Ipv4Packet> p = ParseIpv4(d, {.verify_checksum = false});
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code(), Errc::kMalformed);
  }
  {
    // IHL 15 (60 bytes) with only 24 bytes present.
    Bytes d = good;
    d[0] = 0x4f;
    Result<Ipv4Packet> p = ParseIpv4(ByteSpan(d).first(24), {.verify_checksum = false});
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code(), Errc::kTruncated);
    EXPECT_EQ(p.error().detail(), "ipv4 options needs 40 bytes at offset 20, 4 left");
  }
}

TEST(Ipv4Test, TrailingPaddingIsNotPartOfTheDatagram) {
  Bytes d = ClassicDatagram();
  d.insert(d.end(), 10, 0xee);  // e.g. link-layer padding
  Result<Ipv4Packet> p = ParseIpv4(d);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->datagram.size(), 0x73u);
  EXPECT_EQ(p->payload.size(), 95u);
}

TEST(Ipv4Test, AllowTruncatedForIcmpQuotes) {
  const Bytes d = ClassicDatagram();
  Result<Ipv4Packet> p = ParseIpv4(ByteSpan(d).first(28), {.allow_truncated = true});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->header.total_length, 0x73);
  EXPECT_EQ(p->payload.size(), 8u);
  EXPECT_EQ(p->datagram.size(), 28u);
}

TEST(Ipv4Test, BuildRoundTripWithOptionsAndFlags) {
  const Bytes options = {0x94, 0x04, 0x00, 0x00};  // Router Alert (RFC 2113)
  const Bytes payload = *FromHex("0102030405");
  Ipv4Header h;
  h.set_dscp(46);
  h.set_ecn(1);
  h.identification = 0xbeef;
  h.more_fragments = true;
  h.fragment_offset = 185;
  h.ttl = 1;
  h.protocol = kProtoEsp;
  h.src = A("198.51.100.1");
  h.dst = A("203.0.113.9");
  h.options = options;
  EXPECT_EQ(h.tos, 46 << 2 | 1);
  Result<Bytes> b = BuildIpv4(h, payload);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->size(), 24u + 5);
  EXPECT_EQ((*b)[0], 0x46);  // version 4, IHL 6
  EXPECT_TRUE(ChecksumIsValid(ByteSpan(*b).first(24)));

  Result<Ipv4Packet> p = ParseIpv4(*b);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  const Ipv4Header& g = p->header;
  EXPECT_EQ(g.dscp(), 46);
  EXPECT_EQ(g.ecn(), 1);
  EXPECT_EQ(g.total_length, 29);
  EXPECT_EQ(g.identification, 0xbeef);
  EXPECT_FALSE(g.dont_fragment);
  EXPECT_TRUE(g.more_fragments);
  EXPECT_EQ(g.fragment_offset, 185);
  EXPECT_TRUE(g.IsFragment());
  EXPECT_EQ(g.ttl, 1);
  EXPECT_EQ(g.protocol, kProtoEsp);
  EXPECT_EQ(g.src, h.src);
  EXPECT_EQ(g.dst, h.dst);
  EXPECT_EQ(Bytes(g.options.begin(), g.options.end()), options);
  EXPECT_EQ(Bytes(p->payload.begin(), p->payload.end()), payload);
}

TEST(Ipv4Test, BuildReproducesTheClassicHeader) {
  Ipv4Header h;
  h.dont_fragment = true;
  h.ttl = 64;
  h.protocol = kProtoUdp;
  h.src = A("192.168.0.1");
  h.dst = A("192.168.0.199");
  const Bytes d = ClassicDatagram();
  Result<Bytes> b = BuildIpv4(h, ByteSpan(d).subspan(20));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, d);
}

TEST(Ipv4Test, ReservedFlagIsKept) {
  Ipv4Header h;
  h.reserved_flag = true;
  Result<Bytes> b = BuildIpv4(h, {});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)[6], 0x80);
  EXPECT_TRUE(ParseIpv4(*b)->header.reserved_flag);
}

TEST(Ipv4Test, BuildRejectsMisuse) {
  Ipv4Header h;
  const Bytes three(3, 1);
  h.options = three;
  EXPECT_EQ(BuildIpv4(h, {}).error().code(), Errc::kInvalidArgument);
  const Bytes too_many(44, 1);
  h.options = too_many;
  EXPECT_EQ(BuildIpv4(h, {}).error().code(), Errc::kInvalidArgument);
  h.options = {};
  h.fragment_offset = 0x2000;
  EXPECT_EQ(BuildIpv4(h, {}).error().code(), Errc::kInvalidArgument);
  h.fragment_offset = 0;
  const Bytes max(65535 - 20, 0);
  EXPECT_TRUE(BuildIpv4(h, max).ok());
  const Bytes over(65535 - 19, 0);
  EXPECT_EQ(BuildIpv4(h, over).error().code(), Errc::kInvalidArgument);
  // A failed append leaves the writer untouched.
  wire::Writer w;
  w.U8(7);
  EXPECT_FALSE(AppendIpv4Header(w, h, 70000).ok());
  EXPECT_EQ(w.size(), 1u);
}

TEST(Ipv4Test, DecrementTtlUpdatesChecksumIncrementally) {
  Bytes d = ClassicDatagram();
  Result<std::uint8_t> ttl = DecrementTtl(d);
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(*ttl, 63);
  EXPECT_EQ(d[8], 63);
  EXPECT_EQ(d[10], 0xb9);  // b861 + 0100
  EXPECT_EQ(d[11], 0x61);
  EXPECT_TRUE(ParseIpv4(d).ok());

  DeterministicRandom rng(791);
  for (int i = 0; i < 2000; ++i) {
    Ipv4Header h;
    h.tos = static_cast<std::uint8_t>(rng.U32());
    h.identification = static_cast<std::uint16_t>(rng.U32());
    h.ttl = static_cast<std::uint8_t>(1 + rng.Uniform(255));
    h.protocol = static_cast<std::uint8_t>(rng.U32());
    h.src = Ipv4Address::FromHostOrder(rng.U32());
    h.dst = Ipv4Address::FromHostOrder(rng.U32());
    Bytes b = *BuildIpv4(h, {});
    Result<std::uint8_t> t = DecrementTtl(b);
    ASSERT_TRUE(t.ok());
    ASSERT_EQ(*t, h.ttl - 1);
    h.ttl = *t;
    ASSERT_EQ(b, *BuildIpv4(h, {})) << "iteration " << i;  // same as built from scratch
  }
}

TEST(Ipv4Test, DecrementTtlErrors) {
  Bytes d = ClassicDatagram();
  d[8] = 0;
  EXPECT_EQ(DecrementTtl(d).error().code(), Errc::kMalformed);
  Bytes short_buf(19, 0x45);
  EXPECT_EQ(DecrementTtl(short_buf).error().code(), Errc::kTruncated);
  Bytes v6 = ClassicDatagram();
  v6[0] = 0x60;
  const Bytes before = v6;
  EXPECT_EQ(DecrementTtl(v6).error().code(), Errc::kMalformed);
  EXPECT_EQ(v6, before);
}

}  // namespace
}  // namespace mipsec::ip

#include "common/ip/udp.h"

#include <gtest/gtest.h>

#include "common/checksum.h"
#include "common/random.h"

namespace mipsec::ip {
namespace {

Ipv4Address A(std::string_view s) { return *Ipv4Address::Parse(s); }

// A Mobile IPv4 registration-request-sized datagram, 192.0.2.10:434 ->
// 198.51.100.1:434, payload "mipsec". Built once with BuildIpv4Udp and
// checked with tshark 4.0.17 (-o udp.check_checksum:TRUE -o
// ip.check_checksum:TRUE): both checksums "Good" (and "Bad" with one bit of
// the UDP checksum flipped).
const char kMipDatagramHex[] =
    "45000022123440004011" "0000" "c000020ac6336401" "01b201b2000e" "0000" "6d6970736563";

TEST(UdpTest, ChecksumAgainstIndependentSum) {
  // Pseudo-header + header + data summed by hand as 16-bit words.
  const Bytes seg = *FromHex("01b201b2000e00006d6970736563");
  std::uint32_t sum = 0xc000 + 0x020a + 0xc633 + 0x6401 + 17 + 14;  // pseudo-header
  for (std::size_t i = 0; i < seg.size(); i += 2) sum += seg[i] << 8 | seg[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  const std::uint16_t expected = static_cast<std::uint16_t>(~sum);
  EXPECT_EQ(UdpChecksum(A("192.0.2.10"), A("198.51.100.1"), seg), expected);

  Result<Bytes> built = BuildUdp(A("192.0.2.10"), A("198.51.100.1"), 434, 434, AsBytes("mipsec"));
  ASSERT_TRUE(built.ok());
  EXPECT_EQ((*built)[6] << 8 | (*built)[7], expected);
}

TEST(UdpTest, BuildsTheOracleCheckedDatagram) {
  Ipv4Header ip;
  ip.identification = 0x1234;
  ip.dont_fragment = true;
  ip.src = A("192.0.2.10");
  ip.dst = A("198.51.100.1");
  Result<Bytes> b = BuildIpv4Udp(ip, 434, 434, AsBytes("mipsec"));
  ASSERT_TRUE(b.ok());
  Bytes expected = *FromHex(kMipDatagramHex);
  // The two checksum fields as tshark verified them.
  expected[10] = 0x3c;
  expected[11] = 0x58;
  expected[26] = 0xcc;
  expected[27] = 0xee;
  EXPECT_EQ(ToHex(*b), ToHex(expected));
}

TEST(UdpTest, ParseIpv4UdpRoundTrip) {
  Ipv4Header ip;
  ip.src = A("10.0.0.1");
  ip.dst = A("10.0.0.2");
  ip.ttl = 9;
  const Bytes payload = *FromHex("0102030405060708090a0b");
  Bytes b = *BuildIpv4Udp(ip, 4500, 500, payload);
  Result<Ipv4UdpPacket> p = ParseIpv4Udp(b);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->ip.protocol, kProtoUdp);
  EXPECT_EQ(p->ip.ttl, 9);
  EXPECT_EQ(p->udp.src_port, 4500);
  EXPECT_EQ(p->udp.dst_port, 500);
  EXPECT_EQ(p->udp.length, 8 + payload.size());
  EXPECT_NE(p->udp.checksum, 0);
  EXPECT_EQ(Bytes(p->payload.begin(), p->payload.end()), payload);
  EXPECT_EQ(p->source().ToString(), "10.0.0.1:4500");
  EXPECT_EQ(p->destination().ToString(), "10.0.0.2:500");

  // Corrupt one payload byte: the UDP checksum catches it (the IP one does
  // not cover the payload).
  b.back() ^= 0x40;
  Result<Ipv4UdpPacket> bad = ParseIpv4Udp(b);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::kMalformed);
  EXPECT_EQ(bad.error().detail(), "udp: checksum mismatch");
  EXPECT_TRUE(ParseIpv4Udp(b, {}, {.verify_checksum = false}).ok());
}

TEST(UdpTest, ZeroChecksumMeansNone) {
  Result<Bytes> seg = BuildUdp(A("10.0.0.1"), A("10.0.0.2"), 1, 2, AsBytes("x"), false);
  ASSERT_TRUE(seg.ok());
  EXPECT_EQ((*seg)[6], 0);
  EXPECT_EQ((*seg)[7], 0);
  (*seg)[8] = 'y';  // no checksum, so nothing to catch this
  Result<UdpDatagram> d = ParseUdp(*seg, A("10.0.0.1"), A("10.0.0.2"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->header.checksum, 0);
}

TEST(UdpTest, ComputedZeroIsSentAsAllOnes) {
  // Search ports until the checksum over the pseudo-header comes out as 0,
  // which must be transmitted as 0xffff (RFC 768).
  const Ipv4Address src = A("10.0.0.1"), dst = A("10.0.0.2");
  bool found = false;
  for (std::uint32_t port = 0; port <= 0xffff && !found; ++port) {
    const Bytes seg = *BuildUdp(src, dst, static_cast<std::uint16_t>(port), 7, {});
    // With the field zeroed, would the sum have been 0?
    Bytes zeroed = seg;
    zeroed[6] = zeroed[7] = 0;
    if (UdpChecksum(src, dst, zeroed) != 0) continue;
    found = true;
    EXPECT_EQ(seg[6], 0xff);
    EXPECT_EQ(seg[7], 0xff);
    // And 0xffff verifies (one's complement -0 == +0).
    EXPECT_TRUE(ParseUdp(seg, src, dst).ok());
  }
  EXPECT_TRUE(found);
}

TEST(UdpTest, LengthChecks) {
  const Ipv4Address s = A("10.0.0.1"), d = A("10.0.0.2");
  Bytes seg = *BuildUdp(s, d, 1000, 2000, AsBytes("abcdef"));
  for (std::size_t n = 0; n < 8; ++n) {
    Result<UdpDatagram> r = ParseUdp(ByteSpan(seg).first(n), s, d);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::kTruncated);
  }
  // Length beyond the segment.
  Result<UdpDatagram> r = ParseUdp(ByteSpan(seg).first(13), s, d);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kTruncated);
  // Length below the header.
  Bytes small = seg;
  small[4] = 0;
  small[5] = 7;
  r = ParseUdp(small, s, d, {.verify_checksum = false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kMalformed);
  // Extra bytes after Length are not part of the datagram.
  Bytes longer = seg;
  longer.push_back(0x55);
  r = ParseUdp(longer, s, d);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->payload.size(), 6u);
}

TEST(UdpTest, ParseIpv4UdpRejectsOtherProtocolsAndFragments) {
  Ipv4Header ip;
  ip.protocol = kProtoEsp;
  Bytes esp = *BuildIpv4(ip, Bytes(16, 0));
  EXPECT_EQ(ParseIpv4Udp(esp).error().code(), Errc::kMalformed);
  ip.more_fragments = true;
  Bytes frag = *BuildIpv4Udp(ip, 1, 2, Bytes(16, 0));
  EXPECT_EQ(ParseIpv4Udp(frag).error().code(), Errc::kUnsupported);
}

TEST(UdpTest, SizeLimits) {
  const Ipv4Address s = A("10.0.0.1"), d = A("10.0.0.2");
  EXPECT_TRUE(BuildUdp(s, d, 1, 2, Bytes(UdpHeader::kMaxPayload, 0)).ok());
  EXPECT_EQ(BuildUdp(s, d, 1, 2, Bytes(UdpHeader::kMaxPayload + 1, 0)).error().code(),
            Errc::kInvalidArgument);
  Ipv4Header ip;
  EXPECT_TRUE(BuildIpv4Udp(ip, 1, 2, Bytes(65535 - 28, 0)).ok());
  EXPECT_EQ(BuildIpv4Udp(ip, 1, 2, Bytes(65535 - 27, 0)).error().code(), Errc::kInvalidArgument);
}

TEST(UdpTest, RandomRoundTrips) {
  DeterministicRandom rng(768);
  for (int i = 0; i < 300; ++i) {
    Ipv4Header ip;
    ip.src = Ipv4Address::FromHostOrder(rng.U32());
    ip.dst = Ipv4Address::FromHostOrder(rng.U32());
    Bytes payload(rng.Uniform(600));
    rng.Fill(payload);
    const std::uint16_t sp = static_cast<std::uint16_t>(rng.U32());
    const std::uint16_t dp = static_cast<std::uint16_t>(rng.U32());
    Bytes b = *BuildIpv4Udp(ip, sp, dp, payload);
    Result<Ipv4UdpPacket> p = ParseIpv4Udp(b);
    ASSERT_TRUE(p.ok()) << p.error().ToString();
    ASSERT_EQ(p->udp.src_port, sp);
    ASSERT_EQ(p->udp.dst_port, dp);
    ASSERT_EQ(Bytes(p->payload.begin(), p->payload.end()), payload);
  }
}

}  // namespace
}  // namespace mipsec::ip

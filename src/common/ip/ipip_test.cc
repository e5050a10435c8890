#include "common/ip/ipip.h"

#include <gtest/gtest.h>

#include "common/checksum.h"
#include "common/ip/icmp.h"
#include "common/ip/udp.h"

namespace mipsec::ip {
namespace {

Ipv4Address A(std::string_view s) { return *Ipv4Address::Parse(s); }

const Ipv4Address kCn = A("203.0.113.5");     // correspondent node
const Ipv4Address kHome = A("10.1.0.20");     // MN home address
const Ipv4Address kHa = A("10.1.0.1");        // home agent: tunnel entry
const Ipv4Address kCoa = A("198.51.100.77");  // care-of address: tunnel exit

Bytes Inner(std::size_t payload_len, std::uint8_t ttl = 30, bool df = false,
            std::uint8_t tos = 0) {
  Ipv4Header ip;
  ip.src = kCn;
  ip.dst = kHome;
  ip.ttl = ttl;
  ip.dont_fragment = df;
  ip.tos = tos;
  ip.identification = 0x4242;
  Bytes payload(payload_len);
  for (std::size_t i = 0; i < payload_len; ++i) payload[i] = static_cast<std::uint8_t>(i * 7);
  return *BuildIpv4Udp(ip, 1234, 80, payload);
}

TEST(IpipTest, EncapsulateSetsOuterFieldsPerRfc2003) {
  const Bytes inner = Inner(100, 30, /*df=*/true, /*tos=*/0xb8 | 0x2);
  IpipEncapsulateOptions o;
  o.identification = 0x7777;
  o.ttl = 17;
  Result<Bytes> out = IpipEncapsulate(inner, kHa, kCoa, o);
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  ASSERT_EQ(out->size(), inner.size() + 20);

  Result<Ipv4Packet> outer = ParseIpv4(*out);  // outer checksum verified
  ASSERT_TRUE(outer.ok()) << outer.error().ToString();
  const Ipv4Header& h = outer->header;
  EXPECT_EQ(h.header_length(), 20u);          // no outer options
  EXPECT_EQ(h.tos, 0xba);                     // copied from the inner header
  EXPECT_EQ(h.total_length, inner.size() + 20);
  EXPECT_EQ(h.identification, 0x7777);
  EXPECT_TRUE(h.dont_fragment);               // inner DF -> outer DF (MUST)
  EXPECT_FALSE(h.IsFragment());
  EXPECT_EQ(h.ttl, 17);
  EXPECT_EQ(h.protocol, kProtoIpip);
  EXPECT_EQ(h.src, kHa);
  EXPECT_EQ(h.dst, kCoa);

  // The inner datagram: unchanged but for TTL - 1 (forwarding) and its
  // checksum.
  Result<Ipv4Packet> in = ParseIpv4(outer->payload);
  ASSERT_TRUE(in.ok()) << in.error().ToString();
  EXPECT_EQ(in->header.ttl, 29);
  Bytes expect = inner;
  ASSERT_TRUE(DecrementTtl(expect).ok());
  EXPECT_EQ(Bytes(outer->payload.begin(), outer->payload.end()), expect);
}

TEST(IpipTest, DefaultsAndDfRules) {
  const Bytes inner = Inner(10);  // DF clear
  Result<Bytes> out = IpipEncapsulate(inner, kHa, kCoa);
  ASSERT_TRUE(out.ok());
  const Ipv4Header h = ParseIpv4(*out)->header;
  EXPECT_EQ(h.ttl, kDefaultTunnelTtl);
  EXPECT_FALSE(h.dont_fragment);
  EXPECT_EQ(h.identification, 0);

  IpipEncapsulateOptions o;
  o.set_df = true;  // RFC 2003 5.1: MAY set DF for tunnel PMTU discovery
  EXPECT_TRUE(ParseIpv4(*IpipEncapsulate(inner, kHa, kCoa, o))->header.dont_fragment);

  o = {};
  o.copy_tos = false;
  EXPECT_EQ(ParseIpv4(*IpipEncapsulate(Inner(10, 30, false, 0x28), kHa, kCoa, o))->header.tos, 0);
}

TEST(IpipTest, OriginatedTrafficKeepsInnerTtl) {
  // A mobile node reverse-tunnelling its own datagram (RFC 3024): not
  // forwarding, so the inner TTL is not decremented, even from 1.
  Ipv4Header ip;
  ip.src = kHome;
  ip.dst = kCn;
  ip.ttl = 1;
  const Bytes inner = *BuildIpv4Udp(ip, 1, 2, AsBytes("hi"));
  IpipEncapsulateOptions o;
  o.forwarding = false;
  Result<Bytes> out = IpipEncapsulate(inner, kCoa, kHa, o);
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  EXPECT_EQ(ToHex(ByteSpan(*out).subspan(20)), ToHex(inner));  // byte-identical
}

TEST(IpipTest, EncapsulateTtlRules) {
  // RFC 2003 3.1: MUST NOT encapsulate TTL 0.
  Result<Bytes> r = IpipEncapsulate(Inner(10, 0), kHa, kCoa);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kMalformed);
  IpipEncapsulateOptions own;
  own.forwarding = false;
  EXPECT_EQ(IpipEncapsulate(Inner(10, 0), kHa, kCoa, own).error().code(), Errc::kMalformed);
  // Forwarding with TTL 1: the decrement reaches 0 -> Time Exceeded.
  r = IpipEncapsulate(Inner(10, 1), kHa, kCoa);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kTimeout);
  EXPECT_TRUE(IpipEncapsulate(Inner(10, 2), kHa, kCoa).ok());
}

TEST(IpipTest, EncapsulateRefusesRoutingLoops) {
  // RFC 2003 3.2: inner source = tunnel exit, or = this router.
  Result<Bytes> r = IpipEncapsulate(Inner(10), kHa, kCn);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kState);
  r = IpipEncapsulate(Inner(10), kCn, kCoa);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kState);
}

TEST(IpipTest, EncapsulateValidatesInner) {
  Bytes inner = Inner(10);
  inner[10] ^= 0xff;  // bad inner header checksum
  EXPECT_EQ(IpipEncapsulate(inner, kHa, kCoa).error().code(), Errc::kMalformed);
  EXPECT_EQ(IpipEncapsulate(ByteSpan(Inner(10)).first(25), kHa, kCoa).error().code(),
            Errc::kTruncated);
  // Trailing padding after the inner datagram is not carried.
  Bytes padded = Inner(10);
  padded.insert(padded.end(), 6, 0);
  Result<Bytes> out = IpipEncapsulate(padded, kHa, kCoa);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->size(), 20 + padded.size() - 6);
  // Too big to wrap.
  EXPECT_EQ(IpipEncapsulate(Inner(65535 - 28), kHa, kCoa).error().code(),
            Errc::kInvalidArgument);
}

TEST(IpipTest, DecapsulateRoundTrip) {
  const Bytes inner = Inner(200, 30, true, 0x10);
  IpipEncapsulateOptions o;
  o.forwarding = false;
  const Bytes outer = *IpipEncapsulate(inner, kHa, kCoa, o);
  Result<IpipDecapsulated> d = IpipDecapsulate(outer);
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_EQ(d->outer.src, kHa);
  EXPECT_EQ(d->outer.dst, kCoa);
  EXPECT_EQ(d->inner.src, kCn);
  EXPECT_EQ(d->inner.dst, kHome);
  EXPECT_EQ(d->inner.ttl, 30);  // RFC 2003 3.1: not changed when decapsulating
  EXPECT_EQ(ToHex(d->inner_packet), ToHex(inner));
  EXPECT_EQ(d->inner_packet.data(), outer.data() + 20);  // a view into the input
}

TEST(IpipTest, DecapsulateChecks) {
  IpipEncapsulateOptions own;
  own.forwarding = false;
  const Bytes outer = *IpipEncapsulate(Inner(40), kHa, kCoa, own);
  {
    // Not protocol 4.
    Bytes b = *BuildIpv4Udp(ParseIpv4(outer)->header, 1, 2, AsBytes("x"));
    Result<IpipDecapsulated> d = IpipDecapsulate(b);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code(), Errc::kMalformed);
  }
  {
    // An outer fragment.
    Ipv4Header h = ParseIpv4(outer)->header;
    h.more_fragments = true;
    Bytes b = *BuildIpv4(h, ByteSpan(outer).subspan(20));
    EXPECT_EQ(IpipDecapsulate(b).error().code(), Errc::kUnsupported);
  }
  {
    // Outer payload shorter than the inner Total Length.
    Ipv4Header h = ParseIpv4(outer)->header;
    Bytes b = *BuildIpv4(h, ByteSpan(outer).subspan(20, 30));
    Result<IpipDecapsulated> d = IpipDecapsulate(b);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code(), Errc::kTruncated);
    EXPECT_NE(d.error().detail().find("inner datagram"), std::string::npos);
  }
  {
    // Inner is no IPv4 datagram.
    Ipv4Header h = ParseIpv4(outer)->header;
    Bytes b = *BuildIpv4(h, AsBytes("this is not an ipv4 header"));
    EXPECT_FALSE(IpipDecapsulate(b).ok());
  }
  {
    // Inner TTL 0: MUST discard (RFC 2003 3.1).
    Bytes inner = Inner(40, 1);
    ASSERT_EQ(*DecrementTtl(inner), 0);
    Ipv4Header h = ParseIpv4(outer)->header;
    Bytes b = *BuildIpv4(h, inner);
    Result<IpipDecapsulated> d = IpipDecapsulate(b);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code(), Errc::kMalformed);
  }
  {
    // Bad outer checksum, then not verified.
    Bytes b = outer;
    b[10] ^= 1;
    EXPECT_EQ(IpipDecapsulate(b).error().code(), Errc::kMalformed);
    EXPECT_TRUE(IpipDecapsulate(b, {.verify_outer_checksum = false}).ok());
  }
  {
    // Bad inner checksum, then not verified.
    Bytes b = outer;
    b[20 + 10] ^= 1;
    EXPECT_EQ(IpipDecapsulate(b).error().code(), Errc::kMalformed);
    EXPECT_TRUE(IpipDecapsulate(b, {.verify_inner_checksum = false}).ok());
  }
}

TEST(IpipTest, MtuCheck) {
  const Ipv4Address ha = kHa;
  // 1400-byte payload: inner datagram 1428 bytes, outer 1448.
  const Bytes df = Inner(1400, 30, /*df=*/true);
  const Bytes no_df = Inner(1400, 30, /*df=*/false);

  Result<IpipMtuCheck> c = IpipCheckMtu(df, 1448, ha);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->verdict, IpipMtuVerdict::kFits);
  EXPECT_FALSE(c->icmp.has_value());

  c = IpipCheckMtu(no_df, 1447, ha);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->verdict, IpipMtuVerdict::kFragmentOuter);
  EXPECT_FALSE(c->icmp.has_value());

  c = IpipCheckMtu(df, 1447, ha);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->verdict, IpipMtuVerdict::kTooBig);
  ASSERT_TRUE(c->icmp.has_value());
  Result<Ipv4IcmpPacket> icmp = ParseIpv4Icmp(*c->icmp);
  ASSERT_TRUE(icmp.ok()) << icmp.error().ToString();
  EXPECT_EQ(icmp->ip.src, ha);
  EXPECT_EQ(icmp->ip.dst, kCn);  // back to the inner source
  EXPECT_EQ(icmp->icmp.type, kIcmpDestinationUnreachable);
  EXPECT_EQ(icmp->icmp.code, kIcmpFragmentationNeeded);
  EXPECT_EQ(icmp->icmp.next_hop_mtu(), 1447 - 20);
  EXPECT_EQ(ToHex(icmp->icmp.body), ToHex(ByteSpan(df).first(28)));

  // No ICMP error about a datagram from a multicast source: drop silently.
  Ipv4Header ip;
  ip.src = A("224.0.0.9");
  ip.dst = kHome;
  ip.dont_fragment = true;
  const Bytes mcast = *BuildIpv4Udp(ip, 1, 2, Bytes(1400, 0));
  c = IpipCheckMtu(mcast, 1000, ha);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->verdict, IpipMtuVerdict::kTooBig);
  EXPECT_FALSE(c->icmp.has_value());

  EXPECT_EQ(IpipCheckMtu(df, 87, ha).error().code(), Errc::kInvalidArgument);
  EXPECT_TRUE(IpipCheckMtu(df, 88, ha).ok());
  const Bytes junk = {0x45, 0x00, 0x01};
  EXPECT_EQ(IpipCheckMtu(junk, 1500, ha).error().code(), Errc::kTruncated);
  EXPECT_EQ(IpipCheckMtu(AsBytes("junk"), 1500, ha).error().code(), Errc::kMalformed);
}

}  // namespace
}  // namespace mipsec::ip

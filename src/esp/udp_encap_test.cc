#include "esp/udp_encap.h"

#include <gtest/gtest.h>

#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "esp/esp_test_util.h"

namespace mipsec::esp {
namespace {

TEST(UdpEncapTest, Classify) {
  EXPECT_EQ(ClassifyUdp4500(Bytes{0xff}).kind, Udp4500Kind::kKeepalive);
  EXPECT_EQ(ClassifyUdp4500(Bytes{0xfe}).kind, Udp4500Kind::kInvalid);
  EXPECT_EQ(ClassifyUdp4500(Bytes{}).kind, Udp4500Kind::kInvalid);
  EXPECT_EQ(ClassifyUdp4500(Bytes{0xff, 0xff}).kind, Udp4500Kind::kInvalid);
  EXPECT_EQ(ClassifyUdp4500(Bytes{0, 0, 0}).kind, Udp4500Kind::kInvalid);
  const Udp4500Classified ike = ClassifyUdp4500(Bytes{0, 0, 0, 0, 0x11, 0x22});
  EXPECT_EQ(ike.kind, Udp4500Kind::kIke);
  EXPECT_EQ(ike.offset, 4u);
  EXPECT_EQ(ClassifyUdp4500(Bytes{0, 0, 0, 0}).kind, Udp4500Kind::kIke);  // empty IKE: IKE's problem
  // ESP: a non-zero SPI and a whole 8-byte header.
  EXPECT_EQ(ClassifyUdp4500(Bytes{0, 0, 0, 1, 0, 0, 0}).kind, Udp4500Kind::kInvalid);
  const Udp4500Classified esp = ClassifyUdp4500(Bytes{0, 0, 0, 1, 0, 0, 0, 1});
  EXPECT_EQ(esp.kind, Udp4500Kind::kEsp);
  EXPECT_EQ(esp.offset, 0u);
  EXPECT_EQ(ClassifyUdp4500(Bytes{0x80, 0, 0, 0, 0, 0, 0, 1}).kind, Udp4500Kind::kEsp);
}

TEST(UdpEncapTest, KeepalivePacket) {
  const Ipv4Endpoint a{Ipv4Address::FromOctets(10, 77, 0, 10), 4500};
  const Ipv4Endpoint b{Ipv4Address::FromOctets(203, 0, 113, 2), 4500};
  EXPECT_EQ(NatKeepalivePayload().size(), 1u);
  EXPECT_EQ(NatKeepalivePayload()[0], 0xff);
  const Bytes k = BuildNatKeepalivePacket(a, b);
  ASSERT_EQ(k.size(), 29u);
  Result<ip::Ipv4UdpPacket> p = ip::ParseIpv4Udp(k);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->source(), a);
  EXPECT_EQ(p->destination(), b);
  EXPECT_EQ(p->udp.checksum, 0);  // RFC 3948 2.3
  ASSERT_EQ(p->payload.size(), 1u);
  EXPECT_EQ(p->payload[0], 0xff);
  Result<OuterPacket> loc = LocateEsp(k);
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->kind, Udp4500Kind::kKeepalive);
}

TEST(UdpEncapTest, NonEspMarker) {
  const Bytes ike = {1, 2, 3, 4, 5, 6, 7, 8};
  const Bytes m = WithNonEspMarker(ike);
  ASSERT_EQ(m.size(), 12u);
  EXPECT_EQ(Bytes(m.begin(), m.begin() + 4), Bytes(4, 0));
  const Udp4500Classified c = ClassifyUdp4500(m);
  EXPECT_EQ(c.kind, Udp4500Kind::kIke);
  EXPECT_EQ(Bytes(m.begin() + static_cast<std::ptrdiff_t>(c.offset), m.end()), ike);
}

Bytes Outer(std::uint8_t proto, ByteSpan payload, bool fragment = false) {
  ip::Ipv4Header h;
  h.protocol = proto;
  h.src = Ipv4Address::FromOctets(198, 51, 100, 10);
  h.dst = Ipv4Address::FromOctets(203, 0, 113, 2);
  h.more_fragments = fragment;
  Result<Bytes> b = ip::BuildIpv4(h, payload);
  EXPECT_TRUE(b.ok());
  return *b;
}

TEST(UdpEncapTest, LocateEsp) {
  const Bytes esp = {0x12, 0x34, 0x56, 0x78, 0, 0, 0, 9, 0xaa, 0xbb};
  Result<OuterPacket> plain = LocateEsp(Outer(ip::kProtoEsp, esp));
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->udp);
  EXPECT_EQ(plain->kind, Udp4500Kind::kEsp);
  EXPECT_EQ(plain->offset, 20u);
  EXPECT_EQ(plain->length, esp.size());
  EXPECT_EQ(plain->source.address, Ipv4Address::FromOctets(198, 51, 100, 10));

  // ESP-in-UDP with a (non-zero, correct) checksum and with a wrong one: the
  // receiver does not depend on it (RFC 3948 2.1).
  Result<Bytes> udp = ip::BuildUdp(Ipv4Address::FromOctets(198, 51, 100, 10),
                                   Ipv4Address::FromOctets(203, 0, 113, 2), 4500, 4500, esp);
  ASSERT_TRUE(udp.ok());
  Bytes pkt = Outer(ip::kProtoUdp, *udp);
  for (int variant = 0; variant < 2; ++variant) {
    if (variant == 1) pkt[26] ^= 0x55;
    Result<OuterPacket> u = LocateEsp(pkt);
    ASSERT_TRUE(u.ok()) << u.error().ToString();
    EXPECT_TRUE(u->udp);
    EXPECT_EQ(u->kind, Udp4500Kind::kEsp);
    EXPECT_EQ(u->offset, 28u);
    EXPECT_EQ(u->length, esp.size());
    EXPECT_EQ(u->source.port, 4500);
  }

  // IKE behind the marker.
  Result<Bytes> ike = ip::BuildUdp(Ipv4Address::FromOctets(198, 51, 100, 10),
                                   Ipv4Address::FromOctets(203, 0, 113, 2), 4500, 4500,
                                   WithNonEspMarker(Bytes(28, 0x21)),
                                   /*with_checksum=*/false);
  ASSERT_TRUE(ike.ok());
  Result<OuterPacket> i = LocateEsp(Outer(ip::kProtoUdp, *ike));
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->kind, Udp4500Kind::kIke);
  EXPECT_EQ(i->offset, 32u);
  EXPECT_EQ(i->length, 28u);

  // Port 500: IKE without a marker.
  Result<Bytes> ike500 = ip::BuildUdp(Ipv4Address::FromOctets(198, 51, 100, 10),
                                      Ipv4Address::FromOctets(203, 0, 113, 2), 500, 500,
                                      Bytes(28, 0x21));
  Result<OuterPacket> i500 = LocateEsp(Outer(ip::kProtoUdp, *ike500));
  ASSERT_TRUE(i500.ok());
  EXPECT_EQ(i500->kind, Udp4500Kind::kIke);
  EXPECT_EQ(i500->offset, 28u);
  EXPECT_EQ(i500->length, 28u);

  Result<OuterPacket> frag = LocateEsp(Outer(ip::kProtoEsp, esp, /*fragment=*/true));
  ASSERT_FALSE(frag.ok());
  EXPECT_EQ(frag.error().code(), Errc::kUnsupported);
  EXPECT_EQ(LocateEsp(Outer(ip::kProtoTcp, esp)).error().code(), Errc::kUnsupported);
  EXPECT_FALSE(LocateEsp(Outer(ip::kProtoEsp, ByteSpan(esp).first(7))).ok());
  Result<Bytes> junk = ip::BuildUdp(Ipv4Address::FromOctets(1, 2, 3, 4),
                                    Ipv4Address::FromOctets(5, 6, 7, 8), 4500, 4500, Bytes{1, 2});
  EXPECT_EQ(LocateEsp(Outer(ip::kProtoUdp, *junk)).error().code(), Errc::kMalformed);
  Bytes bad_header = Outer(ip::kProtoEsp, esp);
  bad_header[10] ^= 1;
  EXPECT_FALSE(LocateEsp(bad_header).ok());
  EXPECT_FALSE(LocateEsp(ByteSpan(bad_header).first(19)).ok());
}

}  // namespace
}  // namespace mipsec::esp

#include "sim/pcap_invariants.h"

#include <gtest/gtest.h>

#include "common/ip/icmp.h"
#include "common/ip/ipip.h"
#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "sim/pcap_writer.h"

namespace mipsec::sim {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

const Ipv4Address kHome = A("10.1.0.10");      // protected
const Ipv4Address kCoa = A("203.0.113.100");   // the MN's address outside
const Ipv4Address kCn = A("10.0.0.100");
const Ipv4Address kHa = A("10.1.0.2");
const Ipv4Address kGw = A("192.0.2.2");
const Ipv4Address kRouter = A("203.0.113.1");

Bytes Udp(Ipv4Address src, std::uint16_t sport, Ipv4Address dst, std::uint16_t dport,
          Bytes payload) {
  ip::Ipv4Header h;
  h.src = src;
  h.dst = dst;
  return std::move(ip::BuildIpv4Udp(h, sport, dport, payload)).value();
}

Bytes Raw(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol, Bytes payload) {
  ip::Ipv4Header h;
  h.src = src;
  h.dst = dst;
  h.protocol = protocol;
  return std::move(ip::BuildIpv4(h, payload)).value();
}

Bytes Icmp(Ipv4Address src, Ipv4Address dst, std::uint8_t type) {
  return std::move(ip::BuildIcmpPacket(src, dst, ip::BuildIcmp(type, 0, 0, Bytes(8, 0)))).value();
}

// A user datagram between the CN and the home address.
Bytes UserData() { return Udp(kCn, 9000, kHome, 7000, Bytes(40, 0xab)); }

Bytes Pcap(const std::vector<Bytes>& packets) {
  PcapWriter w;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    w.Add(Timestamp::Zero() + Duration::Millis(static_cast<std::int64_t>(10 * i)), packets[i]);
  }
  return w.bytes();
}

std::vector<PcapViolation> Check(const std::vector<Bytes>& packets) {
  Result<std::vector<PcapViolation>> v = FindCleartextViolations(Pcap(packets), {kHome});
  EXPECT_TRUE(v.ok()) << v.error().ToString();
  return v.ok() ? *v : std::vector<PcapViolation>{};
}

TEST(PcapInvariantsTest, EveryAllowedKindPasses) {
  Bytes marker_ike = {0, 0, 0, 0};
  marker_ike.resize(40, 0x2e);
  Bytes mip_request(24, 0);
  mip_request[0] = 1;  // Registration Request, with the home address inside
  Bytes mip_reply(20, 0);
  mip_reply[0] = 3;
  std::vector<Bytes> allowed = {
      Udp(kCoa, 500, kGw, 500, Bytes(60, 0x21)),                   // IKE
      Udp(kCoa, 4500, kGw, 4500, marker_ike),                      // IKE behind the marker
      Udp(kCoa, 4500, kGw, 4500, Bytes{0xff}),                     // NAT keepalive
      Udp(kCoa, 4500, kGw, 4500, Bytes(80, 0x11)),                 // ESP-in-UDP
      Raw(kCoa, kGw, ip::kProtoEsp, Bytes(80, 0x11)),              // ESP
      Udp(kCoa, 434, kHa, 434, mip_request),                       // the direct probe
      Udp(kHa, 434, kCoa, 434, mip_reply),
      Udp(kHome, 434, kHa, 434, mip_request),                      // at home: from the HoA
      Udp(A("0.0.0.0"), 68, A("255.255.255.255"), 67, Bytes(240, 0)),  // DHCP
      Udp(kRouter, 67, kCoa, 68, Bytes(240, 0)),
      Icmp(kCoa, A("224.0.0.2"), ip::kIcmpRouterSolicitation),
      Icmp(kRouter, A("224.0.0.1"), ip::kIcmpRouterAdvertisement),
      Icmp(kHome, A("224.0.0.11"), ip::kIcmpRouterSolicitation),   // agent solicitation
      // Traffic of other hosts, in clear, is none of our business.
      Udp(kCoa, 5353, kRouter, 53, Bytes(30, 1)),
      std::move(ip::IpipEncapsulate(Udp(kCoa, 1, kCn, 2, Bytes(8, 0)), kRouter, kGw)).value(),
  };
  EXPECT_TRUE(Check(allowed).empty());
}

TEST(PcapInvariantsTest, EveryForbiddenKindIsReported) {
  Bytes tunnel_data = {4, ip::kProtoIpip, 0, 0};  // RFC 3519 Tunnel Data
  Bytes inner = UserData();
  tunnel_data.insert(tunnel_data.end(), inner.begin(), inner.end());
  Bytes fragment = UserData();
  fragment[6] = 0x00;
  fragment[7] = 0x10;  // offset 16 (x8): a later fragment, no UDP header
  std::vector<Bytes> forbidden = {
      UserData(),                                                      // 0 udp to the HoA
      Udp(kHome, 7000, kCn, 9000, Bytes(40, 0xab)),                    // 1 udp from the HoA
      Raw(kHome, kCn, ip::kProtoTcp, Bytes(20, 0)),                    // 2 tcp
      Icmp(kHome, kCn, ip::kIcmpEchoRequest),                          // 3 ping
      std::move(ip::IpipEncapsulate(inner, kHa, kCoa)).value(),        // 4 IP-in-IP
      Udp(kHa, 434, kCoa, 434, tunnel_data),                           // 5 RFC 3519
      fragment,                                                        // 6 a later fragment
      std::move(ip::BuildIcmpPacket(                                   // 7 ICMP error quoting it
                    kRouter, kCoa,
                    *ip::BuildIcmpDestinationUnreachable(3, inner)))
          .value(),
      Bytes{0x45, 0, 0},                                               // 8 not IPv4
  };
  std::vector<PcapViolation> v = Check(forbidden);
  ASSERT_EQ(v.size(), forbidden.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(v[i].index, i);
    EXPECT_EQ(v[i].time, Timestamp::Zero() + Duration::Millis(static_cast<std::int64_t>(10 * i)));
  }
  EXPECT_EQ(v[0].description, "udp 10.0.0.100:9000 -> 10.1.0.10:7000 in clear");
  EXPECT_EQ(v[4].description,
            "ip-in-ip 10.1.0.2 -> 203.0.113.100 carries udp 10.0.0.100:9000 -> 10.1.0.10:7000 "
            "in clear");
  EXPECT_NE(v[5].description.find("carries udp 10.0.0.100:9000 -> 10.1.0.10:7000"),
            std::string::npos);
  EXPECT_NE(v[6].description.find("fragment"), std::string::npos);
  EXPECT_NE(v[7].description.find("quotes"), std::string::npos);
  EXPECT_NE(v[8].description.find("not a parseable IPv4 packet"), std::string::npos);
  EXPECT_EQ(v[4].ToString().rfind("#4 at 0.040000000 s: ip-in-ip", 0), 0u) << v[4].ToString();
  // Mixed with allowed traffic, only the forbidden packet is reported.
  std::vector<PcapViolation> mixed =
      Check({Udp(kCoa, 4500, kGw, 4500, Bytes(80, 0x11)), UserData(), Raw(kCoa, kGw, 50, {1})});
  ASSERT_EQ(mixed.size(), 1u);
  EXPECT_EQ(mixed[0].index, 1u);
}

TEST(PcapInvariantsTest, NothingProtectedNothingReported) {
  Result<std::vector<PcapViolation>> v = FindCleartextViolations(Pcap({UserData()}), {});
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->empty());
}

TEST(PcapInvariantsTest, TruncatedOrForeignInputIsAnError) {
  const Bytes whole = Pcap({UserData(), UserData()});
  // Every cut inside the file is an error, never a crash or an out-of-bounds
  // read; the exact record boundaries are fine.
  const std::size_t first_end = 24 + 16 + UserData().size();
  for (std::size_t n = 0; n < whole.size(); ++n) {
    Result<std::vector<PcapViolation>> v =
        FindCleartextViolations(ByteSpan(whole).first(n), {kHome});
    if (n == 24 || n == first_end) {
      EXPECT_TRUE(v.ok()) << n;
      continue;
    }
    ASSERT_FALSE(v.ok()) << n;
    EXPECT_EQ(v.error().code(), Errc::kTruncated) << n;
  }
  Result<std::vector<PcapViolation>> cut =
      FindCleartextViolations(ByteSpan(whole).first(whole.size() - 1), {kHome});
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().detail(),
            "pcap: record #1 at offset 108: 68 bytes of packet declared, 67 left");
  Bytes not_pcap = whole;
  not_pcap[0] = 0;
  EXPECT_EQ(FindCleartextViolations(not_pcap, {kHome}).error().code(), Errc::kMalformed);
  Bytes other_link = whole;
  other_link[20] = 113;  // Linux cooked capture
  EXPECT_EQ(FindCleartextViolations(other_link, {kHome}).error().code(), Errc::kUnsupported);
}

// Big-endian microsecond files and Ethernet framing (ARP allowed).
TEST(PcapInvariantsTest, ReadsOtherPcapFlavours) {
  Bytes f = {0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0,
             0, 0, 0xff, 0xff, 0, 0, 0, 1};
  auto record = [&](std::uint32_t usec, const Bytes& frame) {
    auto be = [&](std::uint32_t v) {
      for (int i = 3; i >= 0; --i) f.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    };
    be(1);
    be(usec);
    be(static_cast<std::uint32_t>(frame.size()));
    be(static_cast<std::uint32_t>(frame.size()));
    f.insert(f.end(), frame.begin(), frame.end());
  };
  Bytes arp(14 + 28, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  Bytes eth(14, 0);
  eth[12] = 0x08;
  Bytes user = UserData();
  eth.insert(eth.end(), user.begin(), user.end());
  record(0, arp);
  record(500, eth);
  Result<std::vector<PcapViolation>> v = FindCleartextViolations(f, {kHome});
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].index, 1u);
  EXPECT_EQ((*v)[0].time, Timestamp::Zero() + Duration::Seconds(1) + Duration::Micros(500));
}

}  // namespace
}  // namespace mipsec::sim

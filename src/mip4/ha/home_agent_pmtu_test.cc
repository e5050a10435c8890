// The home agent's tunnel MTU soft state (RFC 2003 4.1, 5, 5.1): ICMP
// Fragmentation Needed from a router inside a tunnel lowers that tunnel's
// MTU, is relayed to the original sender, and from then on oversized DF
// datagrams are answered by the HA itself; forged or unrelated ICMP changes
// nothing; the learned MTU ages out and stays with its care-of address.
// ICMP and tunnel datagrams are built and checked with the src/common/ip
// codecs, not the HA's code.
#include <gtest/gtest.h>

#include "common/ip/icmp.h"
#include "common/ip/ipip.h"
#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "mip4/codec/tunnel_data.h"
#include "mip4/ha/ha_test_util.h"
#include "mip4/ha/home_agent.h"

namespace mipsec::mip4::ha_test {
namespace {

const Ipv4Address kRouter = A("198.51.100.1");  // inside the tunnel, before the CoA

// A UDP datagram of `total` bytes (IPv4 header included) from kCn to `dst`.
Bytes Datagram(std::size_t total, bool df, Ipv4Address dst = kMn) {
  ip::Ipv4Header h;
  h.src = kCn;
  h.dst = dst;
  h.ttl = 64;
  h.dont_fragment = df;
  h.identification = 0x1234;
  Result<Bytes> b = ip::BuildIpv4Udp(h, 5000, 6000, Bytes(total - 28, 0x5a));
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bytes{};
}

// What a router sends back: ICMP type 3 code 4 with `mtu`, quoting the first
// `quoted` bytes of `sent` (RFC 1812 4.3.2.3 routers quote up to 576 bytes
// of ICMP datagram, i.e. 548 of the original), from kRouter to `to`.
Bytes TooBig(ByteSpan sent, std::uint16_t mtu, std::size_t quoted = 548, Ipv4Address to = kHa) {
  const Bytes body(sent.begin(), sent.begin() + std::min(quoted, sent.size()));
  Result<Bytes> pkt = ip::BuildIcmpPacket(
      kRouter, to, ip::BuildIcmp(ip::kIcmpDestinationUnreachable, ip::kIcmpFragmentationNeeded,
                                 mtu, body));
  EXPECT_TRUE(pkt.ok());
  return pkt.ok() ? *pkt : Bytes{};
}

// An outer IP-in-IP header as the HA would send it, with fields to forge.
Bytes Outer(const Bytes& inner, Ipv4Address src = kHa, Ipv4Address dst = kCoa, bool df = true) {
  ip::Ipv4Header h;
  h.src = src;
  h.dst = dst;
  h.ttl = 64;
  h.protocol = ip::kProtoIpip;
  h.dont_fragment = df;
  Result<Bytes> b = ip::BuildIpv4(h, inner);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bytes{};
}

// The one transmit expected: ICMP Fragmentation Needed from the HA to kCn
// about a datagram to `about`; returns its next-hop MTU (0 if none).
std::uint16_t FragNeededToCn(const std::vector<Transmit>& out, Ipv4Address about = kMn) {
  if (out.size() != 1 || !std::holds_alternative<IpTransmit>(out[0])) {
    ADD_FAILURE() << "expected one IpTransmit, got " << out.size();
    return 0;
  }
  Result<ip::Ipv4IcmpPacket> icmp = ip::ParseIpv4Icmp(std::get<IpTransmit>(out[0]).packet);
  if (!icmp.ok()) {
    ADD_FAILURE() << icmp.error().ToString();
    return 0;
  }
  EXPECT_EQ(icmp->ip.src, kHa);
  EXPECT_EQ(icmp->ip.dst, kCn);
  EXPECT_EQ(icmp->icmp.type, ip::kIcmpDestinationUnreachable);
  EXPECT_EQ(icmp->icmp.code, ip::kIcmpFragmentationNeeded);
  Result<ip::Ipv4Packet> quoted = ip::ParseIcmpQuote(icmp->icmp);
  EXPECT_TRUE(quoted.ok());
  if (quoted.ok()) {
    EXPECT_EQ(quoted->header.src, kCn);
    EXPECT_EQ(quoted->header.dst, about);
    EXPECT_EQ(quoted->payload.size(), ip::kIcmpQuotedPayload);  // RFC 792
  }
  return icmp->icmp.next_hop_mtu();
}

class HaPmtuTest : public HaTest {
 protected:
  void Register(Ipv4Address home, Ipv4Address coa, bool s = false) {
    Req r = MakeReq(now_, home, coa);
    r.q.simultaneous_bindings = s;
    (void)Send(now_, r);
    std::optional<Reply> rep = OneReply();
    ASSERT_TRUE(rep);
    ASSERT_EQ(rep->code(), 0);
    Events();
  }

  // Feeds `p` to OnHomePacket; returns the single outer datagram sent
  // (empty if none or several).
  Bytes Tunnel(const Bytes& p) {
    HaResult r = ha_->OnHomePacket(now_, p);
    std::vector<Transmit> out = Drain();
    if (r.action != HaResult::Action::kDone || out.size() != 1 ||
        !std::holds_alternative<IpTransmit>(out[0])) {
      return {};
    }
    return std::get<IpTransmit>(out[0]).packet;
  }

  // The 1500-byte tunnel datagram a 1480-byte DF datagram from kCn becomes.
  Bytes SendBig() {
    Bytes outer = Tunnel(Datagram(1480, true));
    EXPECT_EQ(outer.size(), 1500u);
    return outer;
  }

  // Feeds `icmp` and expects it to change nothing: no transmit, no event,
  // the default MTU towards both care-of addresses, `why` counted once more.
  void ExpectIgnored(const Bytes& icmp, HaDrop why, const char* what) {
    SCOPED_TRACE(what);
    const std::uint64_t before = ha_->counters().drop(why);
    const std::uint64_t accepted = ha_->counters().icmp_too_big_accepted;
    ha_->OnIcmp(now_, kIfindex, icmp);
    EXPECT_TRUE(Drain().empty());
    EXPECT_TRUE(Events().empty());
    EXPECT_EQ(ha_->counters().drop(why), before + 1);
    EXPECT_EQ(ha_->counters().icmp_too_big_accepted, accepted);
    EXPECT_EQ(ha_->TunnelMtu(now_, kCoa), 1500u);
    EXPECT_EQ(ha_->TunnelMtu(now_, kCoa2), 1500u);
  }

  Timestamp now_ = T(5);
};

// The Figure 1 walk's black hole, fixed: the first oversized DF datagram is
// lost inside the tunnel; the router's ICMP teaches the HA the tunnel MTU,
// which the HA relays (4.1) and then enforces itself (5.1).
TEST_F(HaPmtuTest, LearnedMtuIsRelayedAndUsedForTheNextDatagram) {
  Register(kMn, kCoa);
  const Bytes sent = SendBig();
  Result<ip::Ipv4Packet> outer = ip::ParseIpv4(sent);
  ASSERT_TRUE(outer.ok());
  EXPECT_TRUE(outer->header.dont_fragment) << "RFC 2003 3.1: inner DF copied";

  ha_->OnIcmp(now_, kIfindex, TooBig(sent, 1400));
  EXPECT_EQ(ha_->counters().icmp_too_big_received, 1u);
  EXPECT_EQ(ha_->counters().icmp_too_big_accepted, 1u);
  EXPECT_EQ(ha_->TunnelMtu(now_, kCoa), 1400u);
  // Relayed at once to the original sender, with the tunnel MTU less the
  // 20-byte encapsulation (RFC 2003 4.1, 5.1).
  EXPECT_EQ(FragNeededToCn(Drain()), 1380);
  EXPECT_EQ(ha_->counters().icmp_too_big_sent, 1u);
  EXPECT_TRUE(Events().empty());

  // The next oversized DF datagram is answered by the HA and not tunnelled.
  HaResult r = ha_->OnHomePacket(now_, Datagram(1480, true));
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kTooBig));
  EXPECT_EQ(FragNeededToCn(Drain()), 1380);
  EXPECT_EQ(ha_->counters().icmp_too_big_sent, 2u);
  EXPECT_EQ(ha_->counters().tunnelled_ipip, 1u);

  // One that fits is tunnelled: 1380 + 20 = 1400.
  EXPECT_EQ(Tunnel(Datagram(1380, true)).size(), 1400u);
  EXPECT_EQ(Tunnel(Datagram(1381, true)).size(), 0u);
  Drain();
  // Without DF it is still tunnelled, outer DF clear (fragmented on the
  // way, RFC 2003 3.1).
  const Bytes nodf = Tunnel(Datagram(1480, false));
  ASSERT_EQ(nodf.size(), 1500u);
  Result<ip::Ipv4Packet> o2 = ip::ParseIpv4(nodf);
  ASSERT_TRUE(o2.ok());
  EXPECT_FALSE(o2->header.dont_fragment);

  // A later report never raises it (RFC 1191 3); a lower one lowers it.
  ha_->OnIcmp(now_, kIfindex, TooBig(sent, 1450));
  EXPECT_EQ(ha_->TunnelMtu(now_, kCoa), 1400u);
  EXPECT_EQ(FragNeededToCn(Drain()), 1380) << "still relayed, with the tunnel's MTU";
  ha_->OnIcmp(now_, kIfindex, TooBig(sent, 1300));
  EXPECT_EQ(ha_->TunnelMtu(now_, kCoa), 1300u);
  EXPECT_EQ(FragNeededToCn(Drain()), 1280);
  EXPECT_EQ(ha_->counters().icmp_too_big_accepted, 3u);
}

// Only the outer header and 8 bytes quoted (RFC 792's minimum): the inner
// header, and so the binding, is unknown: ignored. So is everything forged
// or about something else.
TEST_F(HaPmtuTest, ForgedOrUnrelatedIcmpChangesNothing) {
  HomeAgentOptions o = BaseOptions();
  o.max_simultaneous_bindings = 2;
  Make(o);
  Register(kMn, kCoa);
  const Bytes big = Datagram(1480, true);
  const Bytes sent = SendBig();

  ExpectIgnored(TooBig(sent, 1400, 28), HaDrop::kBadTooBig, "truncated quote (RFC 792 minimum)");
  ExpectIgnored(TooBig(sent, 1400, 36), HaDrop::kBadTooBig, "quote of 16 inner header bytes");
  ExpectIgnored(TooBig(sent, 1400, 10), HaDrop::kBadTooBig, "no whole outer header");
  ExpectIgnored(TooBig(Outer(big, A("10.1.0.2")), 1400), HaDrop::kBadTooBig,
                "outer source not the HA");
  ExpectIgnored(TooBig(Outer(big, kHa, kCoa2), 1400), HaDrop::kBadTooBig,
                "outer destination not a current care-of address");
  ExpectIgnored(TooBig(Outer(Datagram(1480, true, kMn2)), 1400), HaDrop::kBadTooBig,
                "inner destination not bound to that care-of address");
  ExpectIgnored(TooBig(Outer(big, kHa, kCoa, /*df=*/false), 1400), HaDrop::kBadTooBig,
                "outer DF clear: no router reports that");
  ExpectIgnored(TooBig(sent, 1500), HaDrop::kBadTooBig, "MTU not below what was sent");
  ExpectIgnored(TooBig(sent, 9000), HaDrop::kBadTooBig, "MTU above what was sent");
  ExpectIgnored(TooBig(sent, 67), HaDrop::kBadTooBig, "MTU below 68 (RFC 1191 3)");
  {
    // An IP-in-IP binding's tunnel quoted as UDP.
    ip::Ipv4Header h;
    h.src = kHa;
    h.dst = kCoa;
    h.dont_fragment = true;
    Result<Bytes> udp = ip::BuildIpv4Udp(h, kMipPort, 434, BuildTunnelData(kEncapIpInIp, big));
    ASSERT_TRUE(udp.ok());
    ExpectIgnored(TooBig(*udp, 1400), HaDrop::kBadTooBig, "UDP to an IP-in-IP binding");
  }
  EXPECT_EQ(ha_->counters().icmp_too_big_received, 11u);

  // Not addressed to the HA, another ICMP error, a bad checksum: not even
  // counted as received.
  const std::uint64_t malformed = ha_->counters().drop(HaDrop::kPacketMalformed);
  ha_->OnIcmp(now_, kIfindex, TooBig(sent, 1400, 548, A("10.1.0.2")));
  Result<Bytes> host_unreach = ip::BuildIcmpPacket(
      kRouter, kHa, ip::BuildIcmp(ip::kIcmpDestinationUnreachable, ip::kIcmpHostUnreachable, 0,
                                  Bytes(sent.begin(), sent.begin() + 548)));
  ASSERT_TRUE(host_unreach.ok());
  ha_->OnIcmp(now_, kIfindex, *host_unreach);
  Bytes corrupt = TooBig(sent, 1400);
  corrupt[30] ^= 0x40;  // inside the ICMP message: checksum mismatch
  ha_->OnIcmp(now_, kIfindex, corrupt);
  EXPECT_EQ(ha_->counters().drop(HaDrop::kPacketMalformed), malformed + 1);
  EXPECT_EQ(ha_->counters().icmp_too_big_received, 11u);
  EXPECT_TRUE(Drain().empty());
  EXPECT_EQ(ha_->TunnelMtu(now_, kCoa), 1500u);

  // After all that the real one still works, and the datagrams were never
  // refused in between.
  ha_->OnIcmp(now_, kIfindex, TooBig(sent, 1400));
  EXPECT_EQ(ha_->TunnelMtu(now_, kCoa), 1400u);
  EXPECT_EQ(ha_->counters().icmp_too_big_accepted, 1u);
}

// RFC 2003 5: soft state. After tunnel_mtu_age the tunnel MTU is the
// configured one again, and a 1480-byte DF datagram is tunnelled.
TEST_F(HaPmtuTest, LearnedMtuAgesOut) {
  Register(kMn, kCoa);
  ha_->OnIcmp(now_, kIfindex, TooBig(SendBig(), 1400));
  Drain();
  const Timestamp learned = now_;
  now_ = learned + Duration::Seconds(599);
  EXPECT_EQ(ha_->TunnelMtu(now_, kCoa), 1400u);
  EXPECT_EQ(ha_->OnHomePacket(now_, Datagram(1480, true)).drop,
            std::optional<HaDrop>(HaDrop::kTooBig));
  Drain();
  now_ = learned + Duration::Seconds(600);
  EXPECT_EQ(ha_->TunnelMtu(now_, kCoa), 1500u);
  EXPECT_EQ(Tunnel(Datagram(1480, true)).size(), 1500u);

  // A shorter age from the options (and the next report starts it again).
  HomeAgentOptions o = BaseOptions();
  o.tunnel_mtu_age = Duration::Seconds(30);
  Make(o);
  Register(kMn, kCoa);
  ha_->OnIcmp(now_, kIfindex, TooBig(SendBig(), 1400));
  Drain();
  EXPECT_EQ(ha_->TunnelMtu(now_ + Duration::Seconds(29), kCoa), 1400u);
  EXPECT_EQ(ha_->TunnelMtu(now_ + Duration::Seconds(30), kCoa), 1500u);
  now_ = now_ + Duration::Seconds(31);
  ha_->OnIcmp(now_, kIfindex, TooBig(SendBig(), 1300));
  Drain();
  EXPECT_EQ(ha_->TunnelMtu(now_, kCoa), 1300u);

  o.tunnel_mtu_age = Duration::Millis(999);
  EXPECT_FALSE(HomeAgent::ValidateOptions(o).ok());
}

// The MTU belongs to the path to a care-of address: a binding moved to a
// new care-of address starts from the default, and ICMP about the old one
// is then ignored. Simultaneous bindings keep their own MTUs.
TEST_F(HaPmtuTest, NewCareOfAddressDoesNotInheritTheMtu) {
  HomeAgentOptions o = BaseOptions();
  o.max_simultaneous_bindings = 2;
  Make(o);
  Register(kMn, kCoa);
  const Bytes old_sent = SendBig();
  ha_->OnIcmp(now_, kIfindex, TooBig(old_sent, 1400));
  Drain();
  ASSERT_EQ(ha_->TunnelMtu(now_, kCoa), 1400u);

  Register(kMn, kCoa2);  // without 'S': replaces the kCoa binding
  ASSERT_EQ(ha_->Bindings(kMn).size(), 1u);
  EXPECT_EQ(ha_->TunnelMtu(now_, kCoa2), 1500u);
  const Bytes moved = Tunnel(Datagram(1480, true));
  ASSERT_EQ(moved.size(), 1500u);
  Result<ip::Ipv4Packet> m = ip::ParseIpv4(moved);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->header.dst, kCoa2);
  // The old care-of address is no tunnel any more: a late report about it
  // is ignored and changes nothing for the new one.
  const std::uint64_t bad = ha_->counters().drop(HaDrop::kBadTooBig);
  ha_->OnIcmp(now_, kIfindex, TooBig(old_sent, 1200));
  EXPECT_EQ(ha_->counters().drop(HaDrop::kBadTooBig), bad + 1);
  EXPECT_TRUE(Drain().empty());
  EXPECT_EQ(ha_->TunnelMtu(now_, kCoa), 1400u);
  EXPECT_EQ(ha_->TunnelMtu(now_, kCoa2), 1500u);

  // Both at once ('S'): kCoa2 learns 1300; kCoa (still 1400, the soft
  // state is the path's) takes a 1380-byte datagram that kCoa2 cannot.
  Register(kMn, kCoa, true);
  Register(kMn, kCoa2, true);
  ASSERT_EQ(ha_->Bindings(kMn).size(), 2u);
  ha_->OnIcmp(now_, kIfindex, TooBig(moved, 1300));
  Drain();
  EXPECT_EQ(ha_->TunnelMtu(now_, kCoa2), 1300u);
  HaResult r = ha_->OnHomePacket(now_, Datagram(1380, true));
  EXPECT_EQ(r.action, HaResult::Action::kDone);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 2u);  // one tunnelled copy, one ICMP for the other
  std::size_t tunnelled = 0;
  for (const Transmit& t : out) {
    Result<ip::Ipv4Packet> p = ip::ParseIpv4(std::get<IpTransmit>(t).packet);
    ASSERT_TRUE(p.ok());
    if (p->header.protocol == ip::kProtoIpip) {
      ++tunnelled;
      EXPECT_EQ(p->header.dst, kCoa);
    } else {
      EXPECT_EQ(p->header.dst, kCn);
    }
  }
  EXPECT_EQ(tunnelled, 1u);
}

// A router older than RFC 1191 reports MTU 0: the next plateau below the
// datagram's size (RFC 1191 5, 7): 1492 below 1500.
TEST_F(HaPmtuTest, ZeroMtuUsesThePlateauBelow) {
  Register(kMn, kCoa);
  ha_->OnIcmp(now_, kIfindex, TooBig(SendBig(), 0));
  EXPECT_EQ(ha_->TunnelMtu(now_, kCoa), 1492u);
  EXPECT_EQ(FragNeededToCn(Drain()), 1472);
}

// RFC 3519: a UDP-tunnelled binding's tunnel is HA:434 -> the NAT's address
// and port; its inner datagrams have 12 bytes less (UDP, Tunnel Data).
TEST_F(HaPmtuTest, UdpTunnelLearnsItsMtu) {
  Req r = MakeReq(now_, kMn, A("192.168.1.20"));
  r.mn_tunnel = UdpTunnelRequest{};
  (void)Send(now_, r, Ipv4Endpoint{kNat, 61000});
  std::optional<Reply> rep = OneReply();
  ASSERT_TRUE(rep && rep->tunnel);
  Events();
  // 1500 - 20 - 8 - 4: the largest DF datagram the default carries.
  EXPECT_EQ(ha_->OnHomePacket(now_, Datagram(1468, true)).action, HaResult::Action::kDone);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  const UdpTransmit& t = std::get<UdpTransmit>(out.at(0));
  EXPECT_EQ(ha_->OnHomePacket(now_, Datagram(1469, true)).drop,
            std::optional<HaDrop>(HaDrop::kTooBig));
  EXPECT_EQ(FragNeededToCn(Drain()), 1468);

  // The datagram as the kernel sent it (UDP sockets set DF for PMTU
  // discovery), from the HA's port to the NAT's.
  ip::Ipv4Header h;
  h.src = kHa;
  h.dst = kNat;
  h.dont_fragment = true;
  Result<Bytes> sent = ip::BuildIpv4Udp(h, kMipPort, t.remote.port, t.payload);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->size(), 1500u);
  // Another port of the NAT: not this binding's tunnel.
  Result<Bytes> other = ip::BuildIpv4Udp(h, kMipPort, 61001, t.payload);
  ASSERT_TRUE(other.ok());
  ExpectIgnored(TooBig(*other, 1400), HaDrop::kBadTooBig, "another NAT port");

  ha_->OnIcmp(now_, kIfindex, TooBig(*sent, 1400));
  EXPECT_EQ(ha_->TunnelMtu(now_, kNat), 1400u);
  EXPECT_EQ(FragNeededToCn(Drain()), 1368);
  EXPECT_EQ(ha_->OnHomePacket(now_, Datagram(1369, true)).drop,
            std::optional<HaDrop>(HaDrop::kTooBig));
  EXPECT_EQ(FragNeededToCn(Drain()), 1368);
  EXPECT_EQ(ha_->OnHomePacket(now_, Datagram(1368, true)).action, HaResult::Action::kDone);
  EXPECT_EQ(Drain().size(), 1u);
}

}  // namespace
}  // namespace mipsec::mip4::ha_test

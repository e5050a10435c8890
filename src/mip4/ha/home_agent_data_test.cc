// The home agent data plane: IP-in-IP and RFC 3519 UDP tunnels both ways,
// checked with the src/common/ip codecs.
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

Bytes Datagram(Ipv4Address src, Ipv4Address dst, std::uint8_t ttl = 64, bool df = false,
               std::size_t size = 32) {
  ip::Ipv4Header h;
  h.src = src;
  h.dst = dst;
  h.ttl = ttl;
  h.dont_fragment = df;
  h.identification = 0x4242;
  Result<Bytes> b = ip::BuildIpv4Udp(h, 5000, 6000, Bytes(size, 0xab));
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bytes{};
}

Bytes Ipip(const Bytes& inner, Ipv4Address outer_src, Ipv4Address outer_dst) {
  ip::IpipEncapsulateOptions o;
  o.forwarding = false;
  Result<Bytes> b = ip::IpipEncapsulate(inner, outer_src, outer_dst, o);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bytes{};
}

class HaDataTest : public HaTest {
 protected:
  void Register(Ipv4Address home, Ipv4Address coa, bool s = false) {
    Req r = MakeReq(now_, home, coa);
    r.q.reverse_tunnel = true;
    r.q.simultaneous_bindings = s;
    (void)Send(now_, r);
    std::optional<Reply> rep = OneReply();
    ASSERT_TRUE(rep);
    ASSERT_EQ(rep->code(), 0);
    Events();
  }
  // A NAT'd co-located MN: care-of 192.168.1.20 seen as kNat:61000.
  void RegisterNatted(bool r_flag = false) {
    Req r = MakeReq(now_, kMn, A("192.168.1.20"));
    r.q.reverse_tunnel = true;
    UdpTunnelRequest t;
    t.registration_through_fa = r_flag;
    r.mn_tunnel = t;
    (void)Send(now_, r, Ipv4Endpoint{kNat, 61000});
    std::optional<Reply> rep = OneReply();
    ASSERT_TRUE(rep && rep->tunnel);
    ASSERT_EQ(rep->tunnel->reply_code, kUdpTunnelWillTunnel);
    Events();
  }
  HaResult SendTunnelData(Ipv4Endpoint from, const Bytes& inner, std::uint8_t next = kEncapIpInIp) {
    buf_ = BuildTunnelData(next, inner);
    UdpReceived d;
    d.local = Ipv4Endpoint{kHa, kMipPort};
    d.remote = from;
    d.payload = buf_;
    return ha_->OnUdp(now_, d);
  }

  Timestamp now_ = T(5);
  Bytes buf_;
};

TEST_F(HaDataTest, NotBoundWhenAtHome) {
  Bytes p = Datagram(kCn, kMn);
  HaResult r = ha_->OnHomePacket(now_, p);
  EXPECT_EQ(r.action, HaResult::Action::kNotBound);
  EXPECT_TRUE(Drain().empty());
  EXPECT_EQ(ha_->counters().not_bound, 1u);
}

// RFC 5944 4.2.3 + RFC 2003: HA -> care-of address IP-in-IP, inner TTL - 1;
// the care-of address decapsulates the original datagram.
TEST_F(HaDataTest, IpInIpRoundTrip) {
  Register(kMn, kCoa);
  Bytes p = Datagram(kCn, kMn, 20);
  EXPECT_EQ(ha_->OnHomePacket(now_, p).action, HaResult::Action::kDone);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<IpTransmit>(out[0]));
  const Bytes& outer = std::get<IpTransmit>(out[0]).packet;
  Result<ip::IpipDecapsulated> dec = ip::IpipDecapsulate(outer);
  ASSERT_TRUE(dec.ok()) << dec.error().ToString();
  EXPECT_EQ(dec->outer.src, kHa);
  EXPECT_EQ(dec->outer.dst, kCoa);
  EXPECT_EQ(dec->inner.src, kCn);
  EXPECT_EQ(dec->inner.dst, kMn);
  EXPECT_EQ(dec->inner.ttl, 19);
  Result<ip::Ipv4UdpPacket> udp = ip::ParseIpv4Udp(dec->inner_packet);
  ASSERT_TRUE(udp.ok());
  EXPECT_EQ(udp->payload.size(), 32u);
  EXPECT_EQ(ha_->counters().tunnelled_ipip, 1u);
}

// RFC 3024 4.3.2: reverse tunnel accepted only from the registered care-of
// address and for that MN's home address.
TEST_F(HaDataTest, ReverseTunnelOnlyFromRegisteredCareOf) {
  Register(kMn, kCoa);
  Bytes inner = Datagram(kMn, kCn, 30);
  HaResult r = ha_->OnTunnelPacket(now_, Ipip(inner, kCoa, kHa));
  ASSERT_EQ(r.action, HaResult::Action::kForward);
  Result<ip::Ipv4Packet> fwd = ip::ParseIpv4(r.forward);
  ASSERT_TRUE(fwd.ok());
  EXPECT_EQ(fwd->header.src, kMn);
  EXPECT_EQ(fwd->header.dst, kCn);
  EXPECT_EQ(fwd->header.ttl, 29);
  EXPECT_EQ(ha_->counters().decapsulated_ipip, 1u);

  // From another address.
  r = ha_->OnTunnelPacket(now_, Ipip(inner, kCoa2, kHa));
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kReverseNotFromCareOf));
  // From the right care-of address but another MN's home address.
  r = ha_->OnTunnelPacket(now_, Ipip(Datagram(kMn2, kCn), kCoa, kHa));
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kReverseNotFromCareOf));
  // Not addressed to the home agent.
  r = ha_->OnTunnelPacket(now_, Ipip(inner, kCoa, A("10.1.0.2")));
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kNotForHomeAgent));
  // Not IP-in-IP at all.
  r = ha_->OnTunnelPacket(now_, inner);
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kPacketMalformed));
  EXPECT_EQ(ha_->counters().drop(HaDrop::kReverseNotFromCareOf), 2u);
  EXPECT_TRUE(Drain().empty());

  // After deregistration the old care-of address is refused too.
  (void)Send(now_, MakeReq(now_, kMn, kMn, 0), Ipv4Endpoint{kMn, kMnPort});
  Drain();
  r = ha_->OnTunnelPacket(now_, Ipip(inner, kCoa, kHa));
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kReverseNotFromCareOf));
}

TEST_F(HaDataTest, SimultaneousBindingsGetACopyEach) {
  HomeAgentOptions o = BaseOptions();
  o.max_simultaneous_bindings = 2;
  Make(o);
  Register(kMn, kCoa, true);
  Register(kMn, kCoa2, true);
  EXPECT_EQ(ha_->OnHomePacket(now_, Datagram(kCn, kMn)).action, HaResult::Action::kDone);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 2u);
  std::vector<Ipv4Address> dsts;
  for (const Transmit& t : out) {
    Result<ip::IpipDecapsulated> dec = ip::IpipDecapsulate(std::get<IpTransmit>(t).packet);
    ASSERT_TRUE(dec.ok());
    dsts.push_back(dec->outer.dst);
  }
  EXPECT_EQ(dsts, (std::vector<Ipv4Address>{kCoa, kCoa2}));
}

// RFC 5944 4.2.3: an encapsulated datagram for the MN from its own care-of
// address would loop.
TEST_F(HaDataTest, EncapsulatedFromOwnCareOfIsDiscarded) {
  Register(kMn, kCoa);
  Bytes looped = Ipip(Datagram(kCn, kMn), kCoa, kMn);
  HaResult r = ha_->OnHomePacket(now_, looped);
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kTunnelLoop));
  EXPECT_TRUE(Drain().empty());
  // From elsewhere it is tunnelled again (nested).
  r = ha_->OnHomePacket(now_, Ipip(Datagram(kCn, kMn), kCoa2, kMn));
  EXPECT_EQ(r.action, HaResult::Action::kDone);
  EXPECT_EQ(Drain().size(), 1u);
}

TEST_F(HaDataTest, TtlExpiryAndTooBigSendIcmp) {
  Register(kMn, kCoa);
  HaResult r = ha_->OnHomePacket(now_, Datagram(kCn, kMn, 1));
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kTtlExpired));
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  Result<ip::Ipv4IcmpPacket> icmp = ip::ParseIpv4Icmp(std::get<IpTransmit>(out[0]).packet);
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->ip.src, kHa);
  EXPECT_EQ(icmp->ip.dst, kCn);
  EXPECT_EQ(icmp->icmp.type, ip::kIcmpTimeExceeded);

  r = ha_->OnHomePacket(now_, Datagram(kCn, kMn, 64, true, 1480));
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kTooBig));
  out = Drain();
  ASSERT_EQ(out.size(), 1u);
  icmp = ip::ParseIpv4Icmp(std::get<IpTransmit>(out[0]).packet);
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->icmp.type, ip::kIcmpDestinationUnreachable);
  EXPECT_EQ(icmp->icmp.code, ip::kIcmpFragmentationNeeded);
  EXPECT_EQ(icmp->icmp.next_hop_mtu(), 1480);
}

// RFC 3519: forward traffic as Tunnel Data in UDP to the NAT'd endpoint;
// reverse Tunnel Data only from that exact address and port.
TEST_F(HaDataTest, UdpTunnelRoundTrip) {
  RegisterNatted();
  EXPECT_EQ(ha_->OnHomePacket(now_, Datagram(kCn, kMn, 20)).action, HaResult::Action::kDone);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<UdpTransmit>(out[0]));
  const UdpTransmit& t = std::get<UdpTransmit>(out[0]);
  EXPECT_EQ(t.remote, (Ipv4Endpoint{kNat, 61000}));
  EXPECT_EQ(t.local, (Ipv4Endpoint{kHa, kMipPort}));
  Result<mip4::TunnelData> td = ParseTunnelData(t.payload);
  ASSERT_TRUE(td.ok());
  EXPECT_EQ(td->next_header, kEncapIpInIp);
  Result<ip::Ipv4Packet> inner = ip::ParseIpv4(td->payload);
  ASSERT_TRUE(inner.ok());
  EXPECT_EQ(inner->header.dst, kMn);
  EXPECT_EQ(inner->header.ttl, 19);
  EXPECT_EQ(ha_->counters().tunnelled_udp, 1u);

  Bytes up = Datagram(kMn, kCn, 10);
  HaResult r = SendTunnelData(Ipv4Endpoint{kNat, 61000}, up);
  ASSERT_EQ(r.action, HaResult::Action::kForward);
  Result<ip::Ipv4Packet> fwd = ip::ParseIpv4(r.forward);
  ASSERT_TRUE(fwd.ok());
  EXPECT_EQ(fwd->header.dst, kCn);
  EXPECT_EQ(fwd->header.ttl, 9);
  EXPECT_EQ(ha_->counters().decapsulated_udp, 1u);

  // Another port of the NAT, another address: dropped.
  r = SendTunnelData(Ipv4Endpoint{kNat, 61001}, up);
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kReverseNotFromCareOf));
  r = SendTunnelData(Ipv4Endpoint{kCoa, 61000}, up);
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kReverseNotFromCareOf));
  // Next Header other than the binding's mode (RFC 3519 3.3).
  r = SendTunnelData(Ipv4Endpoint{kNat, 61000}, up, kEncapGre);
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kEncapsulationMismatch));
  // IP-in-IP from a UDP-tunnelled binding's endpoint (RFC 3519 4.7).
  r = ha_->OnTunnelPacket(now_, Ipip(up, kNat, kHa));
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kEncapsulationMismatch));
}

// RFC 3519 4.9: a keepalive (ICMP Echo Request to the HA in the tunnel) is
// answered through the tunnel.
TEST_F(HaDataTest, KeepaliveIsAnswered) {
  RegisterNatted();
  Bytes echo = ip::BuildIcmpEchoRequest(7, 9, Bytes{1, 2, 3});
  Result<Bytes> ka = ip::BuildIcmpPacket(kMn, kHa, echo);
  ASSERT_TRUE(ka.ok());
  EXPECT_EQ(SendTunnelData(Ipv4Endpoint{kNat, 61000}, *ka).action, HaResult::Action::kDone);
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  const UdpTransmit& t = std::get<UdpTransmit>(out[0]);
  EXPECT_EQ(t.remote, (Ipv4Endpoint{kNat, 61000}));
  Result<mip4::TunnelData> td = ParseTunnelData(t.payload);
  ASSERT_TRUE(td.ok());
  Result<ip::Ipv4IcmpPacket> reply = ip::ParseIpv4Icmp(td->payload);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->ip.src, kHa);
  EXPECT_EQ(reply->ip.dst, kMn);
  EXPECT_EQ(reply->icmp.type, ip::kIcmpEchoReply);
  EXPECT_EQ(reply->icmp.echo_identifier(), 7);
  EXPECT_EQ(reply->icmp.echo_sequence(), 9);
  EXPECT_EQ(ha_->counters().keepalives, 1u);
}

// RFC 3519 4.6 'R': half-bound until the first keepalive gives the port.
TEST_F(HaDataTest, HalfBoundTunnelBindsOnFirstKeepalive) {
  RegisterNatted(/*r_flag=*/true);
  ASSERT_TRUE(ha_->Bindings(kMn).at(0).half_bound);
  HaResult r = ha_->OnHomePacket(now_, Datagram(kCn, kMn));
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kHalfBound));
  EXPECT_TRUE(Drain().empty());
  // Data before the keepalive is not accepted either.
  r = SendTunnelData(Ipv4Endpoint{kNat, 50123}, Datagram(kMn, kCn));
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kHalfBound));

  Result<Bytes> ka = ip::BuildIcmpPacket(kMn, kHa, ip::BuildIcmpEchoRequest(1, 1, {}));
  ASSERT_TRUE(ka.ok());
  EXPECT_EQ(SendTunnelData(Ipv4Endpoint{kNat, 50123}, *ka).action, HaResult::Action::kDone);
  Drain();
  std::vector<HaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, HaEvent::Kind::kBindingUpdated);
  EXPECT_EQ(ev[0].cause, HaEvent::Cause::kKeepalive);
  EXPECT_EQ(ev[0].tunnels.at(0).endpoint, (Ipv4Endpoint{kNat, 50123}));
  EXPECT_FALSE(ev[0].tunnels.at(0).half_bound);
  EXPECT_EQ(ha_->OnHomePacket(now_, Datagram(kCn, kMn)).action, HaResult::Action::kDone);
  std::vector<Transmit> out2 = Drain();
  ASSERT_EQ(out2.size(), 1u);
  EXPECT_EQ(std::get<UdpTransmit>(out2[0]).remote, (Ipv4Endpoint{kNat, 50123}));
}

// After expiry the data plane forgets the binding.
TEST_F(HaDataTest, ExpiredBindingIsNotUsed) {
  Register(kMn, kCoa);
  ha_->OnTimeout(ha_->NextTimeout());
  EXPECT_EQ(ha_->OnHomePacket(now_, Datagram(kCn, kMn)).action, HaResult::Action::kNotBound);
  HaResult r = ha_->OnTunnelPacket(now_, Ipip(Datagram(kMn, kCn), kCoa, kHa));
  EXPECT_EQ(r.drop, std::optional<HaDrop>(HaDrop::kReverseNotFromCareOf));
}

}  // namespace
}  // namespace mipsec::mip4::ha_test

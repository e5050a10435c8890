// The mobile node's data plane: IP-in-IP and RFC 3519 Tunnel Data from the
// HA decapsulated only from the registered tunnel; reverse tunnelling
// (RFC 3024) as IP-in-IP or UDP; RFC 3519 keepalives and NAT-loss recovery;
// Direct Delivery through a foreign agent.
#include <gtest/gtest.h>

#include "common/ip/icmp.h"
#include "common/ip/ipip.h"
#include "common/ip/udp.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/registration_request.h"
#include "mip4/codec/tunnel_data.h"
#include "mip4/mn_reg/mn_test_util.h"
#include "mip4/mn_reg/registration.h"

namespace mipsec::mip4 {
namespace {

using testing::Addr;
using testing::At;
using testing::kIf;
using testing::MnFixture;

const Ipv4Address kHome = Addr("10.1.0.5");
const Ipv4Address kHa = Addr("10.1.0.1");
const Ipv4Address kCoa = Addr("192.0.2.10");
const Ipv4Address kCn = Addr("203.0.113.5");

// A UDP datagram between the CN and the home address.
Bytes Datagram(Ipv4Address src, Ipv4Address dst, std::uint8_t fill = 0xab) {
  ip::Ipv4Header h;
  h.src = src;
  h.dst = dst;
  const Bytes payload(32, fill);
  return *ip::BuildIpv4Udp(h, 5000, 6000, payload);
}

class DataPlaneTest : public MnFixture {
 protected:
  void RegisterIpip(bool reverse_tunnel = true) {
    MobileNodeConfig c = DefaultConfig();
    c.reverse_tunnel = reverse_tunnel;
    Make(ReplayMethod::kTimestamp, c);
    RegisteredEvent r = RegisterNow(At(0), kCoa);
    ASSERT_EQ(r.binding.encapsulation, TunnelEncapsulation::kIpInIp);
  }
  void RegisterUdp(std::uint16_t keepalive = 20) {
    MobileNodeConfig c = DefaultConfig();
    c.reverse_tunnel = true;
    c.udp_tunnel = UdpTunnelPolicy::kRequest;
    c.requested_lifetime = 3000;
    testing::TestHaOptions o;
    o.udp_assent = true;
    o.keepalive = keepalive;
    o.max_lifetime = 3000;
    Make(ReplayMethod::kTimestamp, c, o);
    RegisteredEvent r = RegisterNow(At(0), kCoa);
    ASSERT_EQ(r.binding.encapsulation, TunnelEncapsulation::kUdp);
  }
  UdpReceived FromHa(const Bytes& payload) {
    UdpReceived rx;
    rx.local = {kCoa, kMipPort};
    rx.remote = {kHa, kMipPort};
    rx.ifindex = kIf;
    rx.payload = payload;
    return rx;
  }
};

TEST_F(DataPlaneTest, IpipFromTheHomeAgentIsDecapsulatedAndDelivered) {
  RegisterIpip();
  const Bytes inner = Datagram(kCn, kHome);
  ip::IpipEncapsulateOptions o;
  Bytes outer = *ip::IpipEncapsulate(inner, kHa, kCoa, o);
  ASSERT_TRUE(mn_->OnIpPacket(At(1), kIf, outer).ok());
  std::optional<Bytes> got = mn_->PollDelivery();
  ASSERT_TRUE(got);
  // The HA forwarded it (TTL - 1); everything else is the CN's datagram.
  Result<ip::Ipv4Packet> a = ip::ParseIpv4(*got);
  Result<ip::Ipv4Packet> b = ip::ParseIpv4(inner);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->header.ttl + 1, b->header.ttl);
  EXPECT_TRUE(std::equal(a->payload.begin(), a->payload.end(), b->payload.begin(),
                         b->payload.end()));
  EXPECT_EQ(mn_->counters().tunnelled_in, 1u);
}

TEST_F(DataPlaneTest, IpipFromAnyoneElseIsDropped) {
  RegisterIpip();
  const Bytes inner = Datagram(kCn, kHome);
  // Wrong outer source, wrong outer destination, wrong interface, inner not
  // for the home address.
  EXPECT_FALSE(
      mn_->OnIpPacket(At(1), kIf, *ip::IpipEncapsulate(inner, Addr("203.0.113.99"), kCoa))
          .ok());
  EXPECT_FALSE(
      mn_->OnIpPacket(At(1), kIf, *ip::IpipEncapsulate(inner, kHa, Addr("192.0.2.99"))).ok());
  EXPECT_FALSE(mn_->OnIpPacket(At(1), kIf + 1, *ip::IpipEncapsulate(inner, kHa, kCoa)).ok());
  EXPECT_FALSE(mn_->OnIpPacket(At(1), kIf,
                               *ip::IpipEncapsulate(Datagram(kCn, Addr("10.1.0.6")), kHa, kCoa))
                   .ok());
  EXPECT_FALSE(mn_->PollDelivery());
  EXPECT_EQ(mn_->counters().Dropped(MnDrop::kTunnelMismatch), 4u);
  // Tunnel Data when the binding is IP-in-IP: mode mismatch.
  EXPECT_FALSE(mn_->OnUdp(At(1), FromHa(BuildTunnelData(kEncapIpInIp, inner))).ok());
  EXPECT_FALSE(mn_->PollDelivery());
}

TEST_F(DataPlaneTest, ReverseTunnelIpipRoundTrip) {
  RegisterIpip();
  const Bytes inner = Datagram(kHome, kCn);
  ASSERT_TRUE(mn_->SendPacket(At(1), inner).ok());
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  const IpTransmit* t = std::get_if<IpTransmit>(&out[0]);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->ifindex, kIf);
  Result<ip::IpipDecapsulated> d = ip::IpipDecapsulate(t->packet);
  ASSERT_TRUE(d.ok());
  // RFC 3024 5.4: outer CoA -> HA; the inner datagram untouched.
  EXPECT_EQ(d->outer.src, kCoa);
  EXPECT_EQ(d->outer.dst, kHa);
  EXPECT_EQ(Bytes(d->inner_packet.begin(), d->inner_packet.end()), inner);
}

TEST_F(DataPlaneTest, ReverseTunnelNeedsTAndTheHomeAddress) {
  RegisterIpip(/*reverse_tunnel=*/false);
  EXPECT_EQ(mn_->SendPacket(At(1), Datagram(kHome, kCn)).error().code(), Errc::kState);
  RegisterIpip(true);
  EXPECT_EQ(mn_->SendPacket(At(1), Datagram(Addr("10.1.0.9"), kCn)).error().code(),
            Errc::kInvalidArgument);
  const Bytes junk = {0x45, 0};
  EXPECT_FALSE(mn_->SendPacket(At(1), junk).ok());
  EXPECT_TRUE(Drain().empty());
}

TEST_F(DataPlaneTest, UdpTunnelDataRoundTrip) {
  RegisterUdp();
  // HA -> MN: Tunnel Data (type 4, next header 4) + inner datagram.
  const Bytes inner = Datagram(kCn, kHome);
  const Bytes td = BuildTunnelData(kEncapIpInIp, inner);
  ASSERT_TRUE(mn_->OnUdp(At(1), FromHa(td)).ok());
  std::optional<Bytes> got = mn_->PollDelivery();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, inner);

  // MN -> HA: reverse tunnelled in UDP from the registration's port.
  const Bytes out_inner = Datagram(kHome, kCn, 0xcd);
  ASSERT_TRUE(mn_->SendPacket(At(2), out_inner).ok());
  std::vector<UdpTransmit> sent = DrainUdp();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].local, (Ipv4Endpoint{kCoa, kMipPort}));
  EXPECT_EQ(sent[0].remote, (Ipv4Endpoint{kHa, kMipPort}));
  Result<TunnelData> parsed = ParseTunnelData(sent[0].payload);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->next_header, kEncapIpInIp);
  EXPECT_EQ(Bytes(parsed->payload.begin(), parsed->payload.end()), out_inner);
}

TEST_F(DataPlaneTest, UdpTunnelDataMustMatchTheTunnel) {
  RegisterUdp();
  const Bytes inner = Datagram(kCn, kHome);
  const Bytes td = BuildTunnelData(kEncapIpInIp, inner);
  UdpReceived rx = FromHa(td);
  rx.remote.port = 4500;  // RFC 3519 4.3: ports must match exactly
  EXPECT_FALSE(mn_->OnUdp(At(1), rx).ok());
  rx = FromHa(td);
  rx.remote.address = kCn;
  EXPECT_FALSE(mn_->OnUdp(At(1), rx).ok());
  rx = FromHa(td);
  rx.local.address = Addr("192.0.2.11");
  EXPECT_FALSE(mn_->OnUdp(At(1), rx).ok());
  // RFC 3519 3.3: Next Header must match the binding (IP-in-UDP).
  const Bytes minimal = BuildTunnelData(kEncapMinimal, inner);
  EXPECT_FALSE(mn_->OnUdp(At(1), FromHa(minimal)).ok());
  // IP-in-IP when the binding is UDP.
  EXPECT_FALSE(mn_->OnIpPacket(At(1), kIf, *ip::IpipEncapsulate(inner, kHa, kCoa)).ok());
  EXPECT_FALSE(mn_->PollDelivery());
  EXPECT_EQ(mn_->counters().Dropped(MnDrop::kTunnelMismatch), 5u);
}

TEST_F(DataPlaneTest, KeepalivesAfterIdleIntervalAndRepliesAreConsumed) {
  RegisterUdp(/*keepalive=*/20);
  // RFC 3519 4.9: first keepalive K after the registration request.
  RunUntil(At(19.9));
  EXPECT_TRUE(DrainUdp().empty());
  RunUntil(At(20));
  std::vector<UdpTransmit> ka = DrainUdp();
  ASSERT_EQ(ka.size(), 1u);
  Result<TunnelData> td = ParseTunnelData(ka[0].payload);
  ASSERT_TRUE(td.ok());
  Result<ip::Ipv4IcmpPacket> echo = ip::ParseIpv4Icmp(td->payload);
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->icmp.type, ip::kIcmpEchoRequest);
  EXPECT_EQ(echo->ip.src, kHome);
  EXPECT_EQ(echo->ip.dst, kHa);
  EXPECT_EQ(ka[0].local.port, kMipPort);  // the registration's port

  // The HA's echo reply is consumed, not delivered.
  Bytes reply_icmp =
      ip::BuildIcmpEchoReply(echo->icmp.echo_identifier(), echo->icmp.echo_sequence(), {});
  Bytes reply = *ip::BuildIcmpPacket(kHa, kHome, reply_icmp);
  ASSERT_TRUE(mn_->OnUdp(At(20.1), FromHa(BuildTunnelData(kEncapIpInIp, reply))).ok());
  EXPECT_FALSE(mn_->PollDelivery());
  EXPECT_EQ(mn_->counters().keepalive_replies, 1u);

  // Traffic to the HA postpones the next keepalive (4.9: "if no other
  // packet to the HA has been sent in K seconds").
  RunUntil(At(30));
  ASSERT_TRUE(mn_->SendPacket(At(30), Datagram(kHome, kCn)).ok());
  DrainUdp();
  RunUntil(At(49));
  EXPECT_TRUE(DrainUdp().empty());
  RunUntil(At(50));
  EXPECT_EQ(DrainUdp().size(), 1u);
  EXPECT_EQ(mn_->counters().keepalives_sent, 2u);
}

TEST_F(DataPlaneTest, UnansweredKeepalivesTriggerReregistration) {
  RegisterUdp(/*keepalive=*/20);
  Events();
  // Keepalive at 20, retries every 5 s (3 tries), then NAT loss at 35.
  RunUntil(At(34.9));
  EXPECT_EQ(DrainUdp().size(), 3u);
  EXPECT_FALSE(mn_->pending());
  RunUntil(At(35));
  std::vector<KeepaliveLostEvent> lost = EventsOf<KeepaliveLostEvent>();
  ASSERT_EQ(lost.size(), 1u);
  // RFC 3519 4.10: re-register to tell the HA the new mapping.
  EXPECT_EQ(mn_->pending_kind(), AttemptKind::kReregister);
  std::vector<UdpTransmit> req = DrainUdp();
  ASSERT_EQ(req.size(), 1u);
  EXPECT_TRUE(ParseRegistrationRequest(req[0].payload).ok());
}

TEST_F(DataPlaneTest, ViaFaSendsDirectDeliveryToTheAgent) {
  Make();
  ForeignAgentTarget fa{Addr("192.0.2.1"), Addr("192.0.2.2"), 600, false};
  ASSERT_TRUE(mn_->RegisterViaFa(At(0), fa, kIf).ok());
  UdpTransmit t = OneUdp();
  // The test HA answers; the FA relays the reply unchanged from its address.
  std::optional<Bytes> reply = ha_->Handle(At(0), t.payload);
  ASSERT_TRUE(reply);
  ASSERT_TRUE(mn_->OnUdp(At(0.1), testing::ReplyFor(t, *reply)).ok());
  std::vector<RegisteredEvent> r = EventsOf<RegisteredEvent>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].binding.co_located());
  EXPECT_EQ(r[0].binding.encapsulation, TunnelEncapsulation::kNone);
  const Bytes inner = Datagram(kHome, kCn);
  ASSERT_TRUE(mn_->SendPacket(At(1), inner).ok());
  std::vector<Transmit> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  const IpTransmit* ip = std::get_if<IpTransmit>(&out[0]);
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->link_next_hop, Addr("192.0.2.1"));  // RFC 3024 5.1.1
  EXPECT_EQ(ip->packet, inner);
  // Nothing tunnelled to an FA care-of address is ours to decapsulate.
  EXPECT_FALSE(mn_->OnIpPacket(At(1), kIf, *ip::IpipEncapsulate(inner, kHa, kCoa)).ok());
}

}  // namespace
}  // namespace mipsec::mip4

#include "common/ip/icmp.h"

#include <gtest/gtest.h>

#include "common/checksum.h"
#include "common/ip/udp.h"

namespace mipsec::ip {
namespace {

Ipv4Address A(std::string_view s) { return *Ipv4Address::Parse(s); }

// Captured with tshark on lo from `ping -c1 -s 24 -p 6d697073656321
// 127.0.0.1` on Linux 6.x; tshark reported every checksum good.
const char kKernelEchoRequest[] =
    "45000034798940004001c33d7f0000017f000001"
    "080039111e65000166f80c6b00000000ca7002000000000070736563216d6970";
const char kKernelEchoReply[] =
    "45000034798a00004001033d7f0000017f000001"
    "000041111e65000166f80c6b00000000ca7002000000000070736563216d6970";

Bytes Udp(std::string_view src, std::string_view dst, std::size_t payload_len,
          bool df = false) {
  Ipv4Header ip;
  ip.src = A(src);
  ip.dst = A(dst);
  ip.dont_fragment = df;
  Bytes payload(payload_len);
  for (std::size_t i = 0; i < payload_len; ++i) payload[i] = static_cast<std::uint8_t>(i);
  return *BuildIpv4Udp(ip, 5000, 6000, payload);
}

TEST(IcmpTest, ParsesKernelEcho) {
  const Bytes req = *FromHex(kKernelEchoRequest);
  Result<Ipv4IcmpPacket> p = ParseIpv4Icmp(req);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->icmp.type, kIcmpEchoRequest);
  EXPECT_EQ(p->icmp.code, 0);
  EXPECT_EQ(p->icmp.checksum, 0x3911);
  EXPECT_EQ(p->icmp.echo_identifier(), 0x1e65);
  EXPECT_EQ(p->icmp.echo_sequence(), 1);
  EXPECT_EQ(p->icmp.body.size(), 24u);
  EXPECT_FALSE(p->icmp.IsError());
}

TEST(IcmpTest, EchoReplyMatchesTheKernelsReply) {
  // Our reply to the kernel's request must be byte-identical to the
  // kernel's own reply (same id, sequence, data; checksum computed).
  const Bytes req = *FromHex(kKernelEchoRequest);
  const Ipv4IcmpPacket p = *ParseIpv4Icmp(req);
  const Bytes reply = BuildIcmpEchoReply(p.icmp.echo_identifier(), p.icmp.echo_sequence(),
                                         p.icmp.body);
  const Bytes kernel = *FromHex(kKernelEchoReply);
  EXPECT_EQ(ToHex(reply), ToHex(ByteSpan(kernel).subspan(20)));
  // And the IPv4 header around it, with the kernel's id and flags.
  Result<Bytes> packet = BuildIcmpPacket(A("127.0.0.1"), A("127.0.0.1"), reply, 64, 0x798a);
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(ToHex(*packet), ToHex(kernel));
  // The request, rebuilt, is byte-identical too.
  EXPECT_EQ(ToHex(BuildIcmpEchoRequest(0x1e65, 1, p.icmp.body)), ToHex(ByteSpan(req).subspan(20)));
}

TEST(IcmpTest, ParseErrors) {
  Bytes m = BuildIcmpEchoRequest(1, 2, AsBytes("abc"));  // odd length body
  EXPECT_TRUE(ParseIcmp(m).ok());
  m[8] ^= 1;
  Result<IcmpMessage> bad = ParseIcmp(m);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::kMalformed);
  EXPECT_TRUE(ParseIcmp(m, {.verify_checksum = false}).ok());
  for (std::size_t n = 0; n < 8; ++n) {
    Result<IcmpMessage> r = ParseIcmp(ByteSpan(m).first(n), {.verify_checksum = false});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::kTruncated);
  }
  const Bytes udp = Udp("10.0.0.1", "10.0.0.2", 4);
  EXPECT_EQ(ParseIpv4Icmp(udp).error().code(), Errc::kMalformed);
}

TEST(IcmpTest, FragmentationNeededCarriesMtuAndQuote) {
  const Bytes original = Udp("10.1.0.5", "10.9.0.7", 1400, /*df=*/true);
  Result<Bytes> msg = BuildIcmpDestinationUnreachable(kIcmpFragmentationNeeded, original, 1480);
  ASSERT_TRUE(msg.ok()) << msg.error().ToString();
  // 8-byte header + 20-byte original header + 8 bytes of its payload.
  ASSERT_EQ(msg->size(), 8u + 20 + 8);
  EXPECT_TRUE(ChecksumIsValid(*msg));
  Result<IcmpMessage> m = ParseIcmp(*msg);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->type, kIcmpDestinationUnreachable);
  EXPECT_EQ(m->code, kIcmpFragmentationNeeded);
  EXPECT_EQ(m->next_hop_mtu(), 1480);
  EXPECT_EQ(m->rest, 1480u);  // unused high 16 bits are zero (RFC 1191 4)
  EXPECT_TRUE(m->IsError());
  EXPECT_EQ(ToHex(m->body), ToHex(ByteSpan(original).first(28)));

  Result<Ipv4Packet> q = ParseIcmpQuote(*m);
  ASSERT_TRUE(q.ok()) << q.error().ToString();
  EXPECT_EQ(q->header.src, A("10.1.0.5"));
  EXPECT_EQ(q->header.dst, A("10.9.0.7"));
  EXPECT_EQ(q->header.total_length, 1428);
  EXPECT_EQ(q->payload.size(), 8u);  // the UDP header
  EXPECT_EQ(q->payload[0] << 8 | q->payload[1], 5000);
}

TEST(IcmpTest, QuoteKeepsOptionsAndShortPayloads) {
  Ipv4Header ip;
  ip.src = A("10.0.0.1");
  ip.dst = A("10.0.0.2");
  ip.protocol = 99;
  const Bytes options = {0x01, 0x01, 0x01, 0x00};  // NOP NOP NOP EOL
  ip.options = options;
  const Bytes original = *BuildIpv4(ip, AsBytes("abc"));
  Result<Bytes> msg = BuildIcmpTimeExceeded(kIcmpTtlExceeded, original);
  ASSERT_TRUE(msg.ok());
  const IcmpMessage m = *ParseIcmp(*msg);
  EXPECT_EQ(m.type, kIcmpTimeExceeded);
  EXPECT_EQ(m.code, kIcmpTtlExceeded);
  EXPECT_EQ(m.rest, 0u);
  EXPECT_EQ(ToHex(m.body), ToHex(original));  // 24-byte header + all 3 payload bytes
}

TEST(IcmpTest, NoErrorsAboutErrorsBroadcastsOrFragments) {
  const Bytes normal = Udp("10.0.0.1", "10.0.0.2", 10);
  EXPECT_TRUE(IcmpErrorAllowed(normal).ok());

  // About an ICMP error.
  Bytes err_msg = *BuildIcmpDestinationUnreachable(kIcmpHostUnreachable, normal);
  Bytes err_packet = *BuildIcmpPacket(A("10.0.0.2"), A("10.0.0.1"), err_msg);
  Status s = IcmpErrorAllowed(err_packet);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().detail(), "no ICMP error about an ICMP error message");
  EXPECT_FALSE(BuildIcmpTimeExceeded(kIcmpTtlExceeded, err_packet).ok());
  // About an ICMP query: allowed.
  Bytes echo = *BuildIcmpPacket(A("10.0.0.2"), A("10.0.0.1"), BuildIcmpEchoRequest(1, 1, {}));
  EXPECT_TRUE(IcmpErrorAllowed(echo).ok());

  EXPECT_FALSE(IcmpErrorAllowed(Udp("10.0.0.1", "224.0.0.11", 4)).ok());
  EXPECT_FALSE(IcmpErrorAllowed(Udp("10.0.0.1", "255.255.255.255", 4)).ok());
  EXPECT_FALSE(IcmpErrorAllowed(Udp("0.0.0.0", "10.0.0.2", 4)).ok());
  EXPECT_FALSE(IcmpErrorAllowed(Udp("127.0.0.1", "10.0.0.2", 4)).ok());
  EXPECT_FALSE(IcmpErrorAllowed(Udp("224.0.0.5", "10.0.0.2", 4)).ok());
  EXPECT_FALSE(IcmpErrorAllowed(Udp("250.0.0.1", "10.0.0.2", 4)).ok());

  Ipv4Header frag;
  frag.src = A("10.0.0.1");
  frag.dst = A("10.0.0.2");
  frag.protocol = kProtoUdp;
  frag.fragment_offset = 100;
  EXPECT_FALSE(IcmpErrorAllowed(*BuildIpv4(frag, Bytes(8, 0))).ok());
  frag.fragment_offset = 0;
  frag.more_fragments = true;  // the first fragment is fine
  EXPECT_TRUE(IcmpErrorAllowed(*BuildIpv4(frag, Bytes(8, 0))).ok());

  const Bytes junk = {0x45, 0x01, 0x02};
  EXPECT_EQ(IcmpErrorAllowed(junk).error().code(), Errc::kTruncated);
}

TEST(IcmpTest, MtuOnlyWithCode4) {
  const Bytes original = Udp("10.0.0.1", "10.0.0.2", 10);
  EXPECT_EQ(BuildIcmpDestinationUnreachable(kIcmpHostUnreachable, original, 1400).error().code(),
            Errc::kInvalidArgument);
  Result<Bytes> m = BuildIcmpDestinationUnreachable(kIcmpHostUnreachable, original);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(ParseIcmp(*m)->rest, 0u);
}

TEST(IcmpTest, QuoteOfNonErrorIsRefused) {
  const IcmpMessage echo = *ParseIcmp(BuildIcmpEchoRequest(1, 1, {}));
  EXPECT_EQ(ParseIcmpQuote(echo).error().code(), Errc::kInvalidArgument);
  // An error whose body is not an IPv4 header.
  const Bytes junk = BuildIcmp(kIcmpDestinationUnreachable, 1, 0, AsBytes("not an ip header!!!!"));
  EXPECT_FALSE(ParseIcmpQuote(*ParseIcmp(junk)).ok());
}

}  // namespace
}  // namespace mipsec::ip

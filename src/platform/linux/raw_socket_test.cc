// LinuxRawSocket against the kernel, in a network namespace of its own.
#include "platform/linux/raw_socket.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <string>
#include <vector>

#include "platform/linux/netlink.h"
#include "platform/linux/test_packets.h"
#include "testing/fakes/netns_child.h"
#include "testing/require_root.h"
#include "testing/fakes/test_addresses.h"

namespace mipsec::platform {
namespace {

using mipsec::testing::Ifa;
using mipsec::testing::Ip;
using mipsec::testing::RunInNewNetns;
using test::Get16;
using test::GetAddr;

constexpr Ipv4Address kLo = Ipv4Address::FromOctets(127, 0, 0, 1);
constexpr Ipv4Address kAllRouters = Ipv4Address::FromOctets(224, 0, 0, 2);
constexpr Ipv4Address kBroadcast = Ipv4Address::FromOctets(255, 255, 255, 255);
constexpr std::uint8_t kAgentAdvertisement = 9;  // ICMP router advertisement
constexpr std::uint8_t kAgentSolicitation = 10;  // ICMP router solicitation

std::unique_ptr<LinuxRawSocket> OpenRaw(const RawSocketOptions& o) {
  auto s = LinuxRawSocket::Open(o);
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

// Writes a sysctl of the CURRENT network namespace (/proc/sys/net is per
// namespace).
void WriteSysctl(const std::string& path, const std::string& value) {
  std::ofstream f("/proc/sys/net/ipv4/conf/" + path);
  f << value;
  f.close();
  EXPECT_TRUE(f.good()) << "sysctl " << path << " = " << value;
}

// Both ends of a veth pair live in one namespace here, so each end's packets
// come from an address that is local: without accept_local the kernel drops
// them as martians, and reverse-path filtering (inherited from the host's
// settings) must be off for accept_local to apply.
void AllowLocalSources(const std::vector<std::string>& devices) {
  for (const std::string& d : devices) {
    WriteSysctl(d + "/rp_filter", "0");
    WriteSysctl(d + "/accept_local", "1");
  }
  WriteSysctl("all/rp_filter", "0");
}

struct Got {
  Bytes packet;
  Datagram meta;
};

// Everything `s` receives within `ms`, whole packets with their metadata.
std::vector<Got> Collect(RawIpSocket& s, int ms = 300) {
  std::vector<Got> out;
  for (int i = 0; i < ms / 10; ++i) {
    std::array<std::uint8_t, 2048> buf{};
    Datagram d{buf};
    auto r = s.Recv(d);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    if (!r.ok()) break;
    if (!*r) {
      usleep(10'000);
      continue;
    }
    Got g{Bytes(d.data().begin(), d.data().end()), d};
    g.meta.buffer = {};
    out.push_back(std::move(g));
  }
  return out;
}

TEST(LinuxRawSocket, IcmpEchoOnLoopbackDeliversWholePackets) {
  MIPSEC_REQUIRE_ROOT();
  ::testing::AssertionResult child = RunInNewNetns([] {
    auto s = OpenRaw(RawSocketOptions{});
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->protocol(), kIpProtoIcmp);
    Bytes echo = test::IcmpMessage(8, 0, (0x4242u << 16) | 7, AsBytes("abc"));
    ASSERT_TRUE(s->Send(OutgoingDatagram{echo, Ipv4Endpoint{kLo, 0}}).ok());
    auto got = Collect(*s);
    // The socket sees the request arriving and the kernel's reply.
    bool saw_request = false, saw_reply = false;
    for (const Got& g : got) {
      ByteSpan p = g.packet;
      ASSERT_GE(p.size(), 28u);
      EXPECT_EQ(p[0] >> 4, 4) << "raw IPv4 sockets deliver the IP header";
      EXPECT_EQ(p[9], 1);
      EXPECT_EQ(GetAddr(p, 16), kLo);
      EXPECT_EQ(g.meta.local.address, kLo);  // IP_PKTINFO
      EXPECT_EQ(g.meta.remote.address, kLo);
      EXPECT_EQ(Get16(p, 24), 0x4242);
      if (p[20] == 8) saw_request = true;
      if (p[20] == 0) saw_reply = true;
    }
    EXPECT_TRUE(saw_request);
    EXPECT_TRUE(saw_reply);
  });
  EXPECT_TRUE(child);
}

TEST(LinuxRawSocket, IcmpTypeFilterDropsOtherTypes) {
  MIPSEC_REQUIRE_ROOT();
  ::testing::AssertionResult child = RunInNewNetns([] {
    RawSocketOptions o;
    o.icmp_types = {0};  // echo replies only
    auto s = OpenRaw(o);
    ASSERT_NE(s, nullptr);
    Bytes echo = test::IcmpMessage(8, 0, 1, AsBytes("x"));
    ASSERT_TRUE(s->Send(OutgoingDatagram{echo, Ipv4Endpoint{kLo, 0}}).ok());
    auto got = Collect(*s);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].packet[20], 0);

    RawSocketOptions bad;
    bad.icmp_types = {40};
    EXPECT_EQ(LinuxRawSocket::Open(bad).error().code(), Errc::kInvalidArgument);
    RawSocketOptions wrong_proto;
    wrong_proto.protocol = kIpProtoIpip;
    wrong_proto.icmp_types = {9};
    EXPECT_EQ(LinuxRawSocket::Open(wrong_proto).error().code(), Errc::kInvalidArgument);
  });
  EXPECT_TRUE(child);
}

// Agent discovery shape (RFC 5944 2.1, 2.2): a solicitation to 224.0.0.2 and
// a broadcast advertisement, between the two ends of a veth pair.
TEST(LinuxRawSocket, MulticastAndBroadcastAcrossAVethPair) {
  MIPSEC_REQUIRE_ROOT();
  ::testing::AssertionResult child = RunInNewNetns([] {
    auto nl_or = LinuxNetlink::Open();
    ASSERT_TRUE(nl_or.ok());
    Netlink& nl = **nl_or;
    ASSERT_TRUE(nl.CreateVethPair("mn0", "fa0").ok());
    const int mn = nl.GetLinkByName("mn0")->ifindex;
    const int fa = nl.GetLinkByName("fa0")->ifindex;
    ASSERT_TRUE(nl.AddAddress(mn, Ifa("10.7.0.2/24")).ok());
    ASSERT_TRUE(nl.AddAddress(fa, Ifa("10.7.0.1/24")).ok());
    ASSERT_TRUE(nl.SetLinkUp(mn, true).ok());
    ASSERT_TRUE(nl.SetLinkUp(fa, true).ok());
    AllowLocalSources({"mn0", "fa0"});

    RawSocketOptions mo;  // the mobile node's side
    mo.device = "mn0";
    mo.multicast_ifindex = mn;
    mo.broadcast = true;
    mo.multicast_loop = false;
    mo.icmp_types = {kAgentAdvertisement};
    auto mn_sock = OpenRaw(mo);
    RawSocketOptions fo;  // the agent's side
    fo.device = "fa0";
    fo.multicast_ifindex = fa;
    fo.broadcast = true;
    fo.multicast_loop = false;
    fo.icmp_types = {kAgentSolicitation};
    auto fa_sock = OpenRaw(fo);
    ASSERT_NE(mn_sock, nullptr);
    ASSERT_NE(fa_sock, nullptr);
    ASSERT_TRUE(fa_sock->JoinMulticast(kAllRouters, fa).ok());
    EXPECT_FALSE(fa_sock->JoinMulticast(kAllRouters, fa).ok());  // already a member

    // veth carrier comes up asynchronously; retry the first solicitation.
    Bytes solicitation = test::IcmpMessage(kAgentSolicitation, 0, 0, {});
    std::vector<Got> got;
    for (int i = 0; i < 20 && got.empty(); ++i) {
      ASSERT_TRUE(mn_sock->Send(OutgoingDatagram{solicitation, Ipv4Endpoint{kAllRouters, 0}}).ok());
      got = Collect(*fa_sock, 100);
    }
    ASSERT_FALSE(got.empty()) << "no solicitation arrived";
    ByteSpan p = got[0].packet;
    EXPECT_EQ(p[8], 1) << "multicast TTL must be 1";
    EXPECT_EQ(p[20], kAgentSolicitation);
    EXPECT_EQ(GetAddr(p, 12), Ip("10.7.0.2"));
    EXPECT_EQ(got[0].meta.local.address, kAllRouters);
    EXPECT_EQ(got[0].meta.ifindex, fa);

    // The advertisement, broadcast, with the agent's chosen source address.
    const Bytes router_entry{10, 7, 0, 1, 0, 0, 0, 0};  // address, preference
    Bytes advertisement =
        test::IcmpMessage(kAgentAdvertisement, 16, (1u << 24) | (2u << 16) | 1800, router_entry);
    OutgoingDatagram adv{advertisement, Ipv4Endpoint{kBroadcast, 0}};
    adv.source = Ip("10.7.0.1");
    ASSERT_TRUE(fa_sock->Send(adv).ok());
    got = Collect(*mn_sock, 300);
    ASSERT_EQ(got.size(), 1u);
    p = got[0].packet;
    EXPECT_EQ(p[20], kAgentAdvertisement);
    EXPECT_EQ(p[21], 16);
    EXPECT_EQ(GetAddr(p, 12), Ip("10.7.0.1"));
    EXPECT_EQ(got[0].meta.local.address, kBroadcast);
    EXPECT_EQ(got[0].meta.ifindex, mn);

    ASSERT_TRUE(fa_sock->LeaveMulticast(kAllRouters, fa).ok());
    EXPECT_FALSE(fa_sock->LeaveMulticast(kAllRouters, fa).ok());

    // Without SO_BROADCAST the kernel refuses 255.255.255.255.
    RawSocketOptions plain;
    plain.device = "mn0";
    auto no_bcast = OpenRaw(plain);
    ASSERT_NE(no_bcast, nullptr);
    Status s = no_bcast->Send(OutgoingDatagram{solicitation, Ipv4Endpoint{kBroadcast, 0}});
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().detail().find("Permission denied"), std::string::npos)
        << s.error().detail();
  });
  EXPECT_TRUE(child);
}

TEST(LinuxRawSocket, IpInIpWithKernelHeaderAndWithOurOwnHeader) {
  MIPSEC_REQUIRE_ROOT();
  ::testing::AssertionResult child = RunInNewNetns([] {
    RawSocketOptions o;
    o.protocol = kIpProtoIpip;
    auto tx = OpenRaw(o);
    auto rx = OpenRaw(o);
    ASSERT_NE(tx, nullptr);
    ASSERT_NE(rx, nullptr);
    EXPECT_EQ(rx->protocol(), kIpProtoIpip);
    const Ipv4Address home = Ip("127.0.0.1");
    const Ipv4Address coa = Ip("127.0.0.2");
    // RFC 2003: the inner packet is the outer payload.
    Bytes inner = test::Ipv4Packet(Ip("192.0.2.10"), Ip("198.51.100.20"), 17,
                                   test::UdpDatagram(1111, 2222, AsBytes("inner")));

    // 1. Payload only: the kernel writes the outer header (protocol 4).
    OutgoingDatagram d{inner, Ipv4Endpoint{coa, 0}};
    d.source = home;
    ASSERT_TRUE(tx->Send(d).ok());
    // 2. Our own outer header (IP_HDRINCL), with zero id and a TTL of 5.
    Bytes outer = test::Ipv4Packet(home, coa, kIpProtoIpip, inner, 5, 0);
    ASSERT_TRUE(tx->SendIpPacket(outer).ok());
    // 3. Back to kernel-built headers on the same socket.
    ASSERT_TRUE(tx->Send(d).ok());

    auto got = Collect(*rx);
    ASSERT_EQ(got.size(), 3u);
    for (const Got& g : got) {
      ByteSpan p = g.packet;
      ASSERT_EQ(p.size(), 20 + inner.size());
      EXPECT_EQ(p[9], kIpProtoIpip);
      EXPECT_EQ(GetAddr(p, 12), home);
      EXPECT_EQ(GetAddr(p, 16), coa);
      EXPECT_EQ(g.meta.local.address, coa);
      EXPECT_EQ(test::InternetChecksum(p.first(20)), 0);
      EXPECT_TRUE(std::equal(inner.begin(), inner.end(), p.begin() + 20)) << "inner packet altered";
    }
    EXPECT_NE(got[0].packet[8], 5);
    EXPECT_EQ(got[1].packet[8], 5);         // our TTL kept
    EXPECT_NE(Get16(got[1].packet, 4), 0);  // the kernel filled in an id
    EXPECT_NE(got[2].packet[8], 5);

    // A zero source is filled in by the kernel.
    Bytes anon = test::Ipv4Packet(Ipv4Address::Any(), coa, kIpProtoIpip, inner);
    ASSERT_TRUE(tx->SendIpPacket(anon).ok());
    got = Collect(*rx);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_FALSE(GetAddr(got[0].packet, 12).IsAny());

    EXPECT_EQ(tx->SendIpPacket(AsBytes("short")).error().code(), Errc::kInvalidArgument);
  });
  EXPECT_TRUE(child);
}

}  // namespace
}  // namespace mipsec::platform

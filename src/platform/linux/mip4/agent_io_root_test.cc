// agent_io's raw sockets against the kernel, each test in a network
// namespace of its own: IP-in-IP sent with IP_HDRINCL and received whole,
// and the on-link send of an IpTransmit with ifindex + link_next_hop (the
// kernel's "assume the destination is on link" fallback, agent_io.h).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "platform/linux/fd.h"
#include "platform/linux/mip4/agent_io.h"
#include "platform/linux/netlink.h"
#include "platform/linux/test_packets.h"
#include "testing/fakes/netns_child.h"
#include "testing/fakes/test_addresses.h"
#include "testing/require_root.h"

namespace mipsec::mip4d {
namespace {

using mipsec::testing::Ifa;
using mipsec::testing::Ip;
using mipsec::testing::RunInNewNetns;
using platform::ScopedFd;

AgentSockets OpenAll() {
  AgentSocketOptions o;
  o.port = 0;
  o.open_ipip = true;
  o.open_icmp = true;
  auto s = OpenAgentSockets(o);
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return s.ok() ? std::move(s).value() : AgentSockets{};
}

// An IP-in-IP datagram: outer src -> dst, inner UDP "hi".
Bytes IpipPacket(Ipv4Address outer_src, Ipv4Address outer_dst) {
  Bytes udp = platform::test::UdpDatagram(1000, 2000, AsBytes("hi"));
  Bytes inner = platform::test::Ipv4Packet(Ip("10.1.0.5"), Ip("10.2.0.9"), 17, udp);
  return platform::test::Ipv4Packet(outer_src, outer_dst, 4, inner);
}

TEST(AgentIoRoot, IpipIsSentWholeAndReceivedWhole) {
  MIPSEC_REQUIRE_ROOT();
  EXPECT_TRUE(RunInNewNetns([] {
    AgentSockets s = OpenAll();
    ASSERT_NE(s.ipip, nullptr);
    ASSERT_NE(s.icmp, nullptr);
    EXPECT_EQ(s.raw_sender(), s.ipip.get());
    mip4::IpTransmit t;
    t.packet = IpipPacket(Ip("127.0.0.1"), Ip("127.0.0.1"));
    const Bytes sent = t.packet;
    ASSERT_TRUE(SendTransmit(s, std::move(t)).ok());
    EXPECT_EQ(s.counters.raw_sent, 1u);
    RecvBuffers rx(8, 2048);
    std::size_t n = 0;
    for (int i = 0; i < 100 && n == 0; ++i) {
      auto r = s.ipip->RecvBatch(rx.slots());
      ASSERT_TRUE(r.ok());
      n = *r;
      if (n == 0) usleep(10'000);
    }
    ASSERT_EQ(n, 1u);
    ByteSpan got = rx.slots()[0].data();
    ASSERT_EQ(got.size(), sent.size());
    EXPECT_EQ(got[9], 4);  // protocol IP-in-IP
    // The inner datagram is untouched.
    EXPECT_TRUE(std::equal(got.begin() + 20, got.end(), sent.begin() + 20));
    // The ICMP socket (filter 9/10) saw nothing of it.
    auto none = s.icmp->RecvBatch(rx.slots());
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(*none, 0u);
  }));
}

// The MAC address of `dev` in the current namespace.
std::array<std::uint8_t, 6> MacOf(const char* dev) {
  std::array<std::uint8_t, 6> mac{};
  ScopedFd s(socket(AF_INET, SOCK_DGRAM, 0));
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev);
  EXPECT_EQ(ioctl(s.get(), SIOCGIFHWADDR, &ifr), 0);
  std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, 6);
  return mac;
}

std::string MacString(const std::array<std::uint8_t, 6>& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return buf;
}

TEST(AgentIoRoot, IfindexAndLinkNextHopSendOnLinkWithoutARoute) {
  MIPSEC_REQUIRE_ROOT();
  EXPECT_TRUE(RunInNewNetns([] {
    auto nl_or = platform::LinuxNetlink::Open();
    ASSERT_TRUE(nl_or.ok());
    platform::Netlink& nl = **nl_or;
    ASSERT_TRUE(nl.CreateVethPair("vis0", "cap0").ok());
    const int vis = nl.GetLinkByName("vis0")->ifindex;
    const int cap = nl.GetLinkByName("cap0")->ifindex;
    ASSERT_TRUE(nl.AddAddress(vis, Ifa("10.9.0.1/24")).ok());
    ASSERT_TRUE(nl.SetLinkUp(vis, true).ok());
    ASSERT_TRUE(nl.SetLinkUp(cap, true).ok());
    // A visitor's home address, no route to it anywhere; its link-layer
    // address is known (as after the FA learned it from the request frame).
    const Ipv4Address home = Ip("192.0.2.77");
    std::string cmd = "ip neigh replace 192.0.2.77 lladdr " + MacString(MacOf("cap0")) +
                      " dev vis0 nud permanent";
    ASSERT_EQ(std::system(cmd.c_str()), 0);

    // Capture what leaves vis0 on its peer.
    ScopedFd cap_fd(socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK, htons(ETH_P_IP)));
    ASSERT_TRUE(cap_fd.valid());
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ETH_P_IP);
    ll.sll_ifindex = cap;
    ASSERT_EQ(bind(cap_fd.get(), reinterpret_cast<sockaddr*>(&ll), sizeof ll), 0);

    AgentSockets s = OpenAll();
    ASSERT_NE(s.ipip, nullptr);
    Bytes udp = platform::test::UdpDatagram(434, 434, AsBytes("to visitor"));
    Bytes packet = platform::test::Ipv4Packet(Ip("10.1.0.1"), home, 17, udp);

    // Without an interface the kernel has no route: an error.
    mip4::IpTransmit routed;
    routed.packet = packet;
    EXPECT_FALSE(SendTransmit(s, std::move(routed)).ok());

    // A next hop other than the destination cannot be honoured.
    mip4::IpTransmit other;
    other.ifindex = vis;
    other.link_next_hop = Ip("10.9.0.50");
    other.packet = packet;
    Status st = SendTransmit(s, std::move(other));
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), Errc::kUnsupported);

    // ifindex + link_next_hop: on-link out of vis0 (carrier may take a moment).
    bool seen = false;
    for (int i = 0; i < 50 && !seen; ++i) {
      mip4::IpTransmit t;
      t.ifindex = vis;
      t.link_next_hop = home;
      t.packet = packet;
      Status sent = SendTransmit(s, std::move(t));
      ASSERT_TRUE(sent.ok()) << sent.error().ToString();
      usleep(20'000);
      std::array<std::uint8_t, 2048> buf{};
      ssize_t n;
      while ((n = recv(cap_fd.get(), buf.data(), buf.size(), 0)) > 0) {
        ByteSpan p(buf.data(), static_cast<std::size_t>(n));
        if (n >= 20 && platform::test::GetAddr(p, 16) == home && p[9] == 17) {
          EXPECT_EQ(platform::test::GetAddr(p, 12), Ip("10.1.0.1"));
          seen = true;
        }
      }
    }
    EXPECT_TRUE(seen) << "nothing for 192.0.2.77 left vis0";

    // TransmitBatch sends IpTransmits the same way.
    TransmitBatch batch;
    mip4::IpTransmit t;
    t.ifindex = vis;
    t.link_next_hop = home;
    t.packet = packet;
    batch.Add(std::move(t));
    const std::uint64_t before = s.counters.raw_sent;
    EXPECT_TRUE(batch.Flush(s).ok());
    EXPECT_EQ(s.counters.raw_sent, before + 1);
  }));
}

}  // namespace
}  // namespace mipsec::mip4d

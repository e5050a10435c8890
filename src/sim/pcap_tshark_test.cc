// The simulator's pcaps, read by Wireshark's dissectors (the independent
// oracle): they must open, show what we sent, and carry no malformed or
// error-level expert items.
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/ip/icmp.h"
#include "common/ip/udp.h"
#include "sim/nat.h"
#include "sim/network.h"
#include "testing/tshark/tshark.h"

namespace mipsec::sim {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

class PcapTsharkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MIPSEC_REQUIRE_TSHARK();
  }
  std::string Write(const PcapWriter& w) {
    Result<std::string> path = testing::WriteTempFile("mipsec-sim", w.bytes());
    EXPECT_TRUE(path.ok());
    paths_.push_back(*path);
    return *path;
  }
  void TearDown() override {
    for (const std::string& p : paths_) unlink(p.c_str());
  }
  std::vector<std::string> paths_;
};

TEST_F(PcapTsharkTest, SimulatedTrafficDissectsCleanly) {
  Network net(1);
  ASSERT_TRUE(net.AddSegment("lan1", {}).ok());
  LinkParams small;
  small.mtu = 576;
  ASSERT_TRUE(net.AddSegment("lan2", small).ok());
  ASSERT_TRUE(net.AddNode("a", false).ok());
  ASSERT_TRUE(net.AddNode("r", true).ok());
  ASSERT_TRUE(net.AddNode("b", false).ok());
  ASSERT_TRUE(net.Connect("a", "eth0", "lan1", A("192.0.2.2"), 24).ok());
  ASSERT_TRUE(net.Connect("r", "eth0", "lan1", A("192.0.2.1"), 24).ok());
  ASSERT_TRUE(net.Connect("r", "eth1", "lan2", A("198.51.100.1"), 24, 576).ok());
  ASSERT_TRUE(net.Connect("b", "eth0", "lan2", A("198.51.100.2"), 24, 576).ok());
  Node* a = net.FindNode("a");
  Node* b = net.FindNode("b");
  ASSERT_TRUE(a->AddRoute(Ipv4Prefix(), A("192.0.2.1")).ok());
  ASSERT_TRUE(b->AddRoute(Ipv4Prefix(), A("198.51.100.1")).ok());
  ASSERT_TRUE(b->BindUdp({Ipv4Address::Any(), 434}, [](Timestamp, const UdpDelivery&) {}).ok());

  ASSERT_TRUE(a->SendUdp({A("198.51.100.2"), 434}, 434, Bytes(40, 0)).ok());   // small
  ASSERT_TRUE(a->SendUdp({A("198.51.100.2"), 5000}, 5000, Bytes(1400, 7)).ok());  // fragments, port unreachable
  UdpSendOptions ttl1;
  ttl1.ttl = 1;
  ASSERT_TRUE(a->SendUdp({A("198.51.100.2"), 434}, 434, Bytes(10, 0), ttl1).ok());  // time exceeded
  UdpSendOptions df;
  df.dont_fragment = true;
  ASSERT_TRUE(a->SendUdp({A("198.51.100.2"), 434}, 434, Bytes(1000, 0), df).ok());  // frag needed
  ASSERT_TRUE(a->SendRaw(*ip::BuildIcmpPacket(A("192.0.2.2"), A("198.51.100.2"),
                                              ip::BuildIcmpEchoRequest(1, 1, Bytes(32, 0))))
                  .ok());
  net.sim().RunFor(Duration::Seconds(1));

  std::string lan1 = Write(net.FindSegment("lan1")->pcap());
  std::string lan2 = Write(net.FindSegment("lan2")->pcap());
  for (const std::string& p : {lan1, lan2}) {
    Result<std::string> problems = testing::TsharkProblems(p);
    ASSERT_TRUE(problems.ok()) << problems.error().ToString();
    EXPECT_EQ(*problems, "") << "tshark flags problems in " << p;
  }
  // What tshark sees on lan1: our datagrams out, ICMP errors back.
  Result<std::string> icmp = testing::RunTshark(
      lan1, {"-Y", "icmp", "-T", "fields", "-e", "icmp.type", "-e", "icmp.code", "-e", "icmp.mtu"});
  ASSERT_TRUE(icmp.ok());
  EXPECT_NE(icmp->find("11\t0\t"), std::string::npos) << *icmp;      // time exceeded
  EXPECT_NE(icmp->find("3\t4\t576"), std::string::npos) << *icmp;    // frag needed, MTU 576
  EXPECT_NE(icmp->find("3\t3\t"), std::string::npos) << *icmp;       // port unreachable
  EXPECT_NE(icmp->find("0\t0\t"), std::string::npos) << *icmp;       // echo reply
  // Fragments on lan2 reassemble in Wireshark to the 1400-byte payload.
  Result<std::string> frag = testing::RunTshark(
      lan2, {"-Y", "udp.dstport == 5000", "-T", "fields", "-e", "udp.length"});
  ASSERT_TRUE(frag.ok());
  EXPECT_NE(frag->find("1408"), std::string::npos) << *frag;
}

TEST_F(PcapTsharkTest, OracleFlagsABrokenPacket) {
  // The check above must be able to fail: a UDP length beyond the datagram.
  ip::Ipv4Header h;
  h.src = A("192.0.2.1");
  h.dst = A("192.0.2.2");
  Result<Bytes> pkt = ip::BuildIpv4Udp(h, 1000, 2000, Bytes(8, 0));
  ASSERT_TRUE(pkt.ok());
  (*pkt)[20 + 4] = 0x01;  // UDP length 0x01xx > what is there
  PcapWriter w;
  w.Add(Timestamp::Zero(), *pkt);
  Result<std::string> problems = testing::TsharkProblems(Write(w));
  ASSERT_TRUE(problems.ok());
  EXPECT_NE(*problems, "");
}

TEST_F(PcapTsharkTest, NatTranslatedTrafficDissectsCleanlyWithChecksumsVerified) {
  // inside h 10.0.0.2 -- lan -- nat -- wan -- s 198.51.100.10
  Network net(1);
  ASSERT_TRUE(net.AddSegment("lan", {}).ok());
  ASSERT_TRUE(net.AddSegment("wan", {}).ok());
  ASSERT_TRUE(net.AddNode("h", false).ok());
  ASSERT_TRUE(net.AddNode("nat", true).ok());
  ASSERT_TRUE(net.AddNode("s", false).ok());
  ASSERT_TRUE(net.Connect("h", "eth0", "lan", A("10.0.0.2"), 24, 576).ok());
  ASSERT_TRUE(net.Connect("nat", "in0", "lan", A("10.0.0.1"), 24).ok());
  Result<Interface*> out = net.Connect("nat", "out0", "wan", A("198.51.100.1"), 24);
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(net.Connect("s", "eth0", "wan", A("198.51.100.10"), 24).ok());
  Node* h = net.FindNode("h");
  Node* s = net.FindNode("s");
  ASSERT_TRUE(h->AddRoute(Ipv4Prefix(), A("10.0.0.1")).ok());
  NaptConfig config;
  config.outside_ifindex = (*out)->ifindex();
  Result<std::unique_ptr<Napt>> nat = Napt::Create(*net.FindNode("nat"), config);
  ASSERT_TRUE(nat.ok()) << nat.error().ToString();
  // Keeps what h receives, to corrupt one copy below.
  class Tap : public PacketFilter {
   public:
    Verdict Filter(Hook hook, Interface*, Interface*, Bytes& packet) override {
      if (hook == Hook::kPrerouting) seen.push_back(packet);
      return Verdict::kAccept;
    }
    std::vector<Bytes> seen;
  } tap;
  h->AddFilter(&tap);
  ASSERT_TRUE(h->BindUdp({Ipv4Address::Any(), 5000}, [](Timestamp, const UdpDelivery&) {}).ok());
  ASSERT_TRUE(s->BindUdp({Ipv4Address::Any(), 7}, [s](Timestamp, const UdpDelivery& d) {
    (void)s->SendUdp(d.remote, 7, d.payload);  // echo back through the NAT
  }).ok());

  ASSERT_TRUE(h->SendUdp({A("198.51.100.10"), 7}, 5000, Bytes(100, 1)).ok());
  ASSERT_TRUE(h->SendUdp({A("198.51.100.10"), 7}, 5000, Bytes(1400, 2)).ok());  // fragments
  ASSERT_TRUE(h->SendRaw(*ip::BuildIcmpPacket(A("10.0.0.2"), A("198.51.100.10"),
                                              ip::BuildIcmpEchoRequest(9, 1, Bytes(32, 3))))
                  .ok());
  // Port unreachable from s, translated in (the quote holds the whole UDP
  // datagram, so tshark checks the quoted UDP checksum too).
  ASSERT_TRUE(h->SendUdp({A("198.51.100.10"), 9}, 5001, Bytes{}).ok());
  // h has no socket on 6000: its port unreachable is translated out.
  ASSERT_TRUE(h->SendUdp({A("198.51.100.10"), 7}, 6000, Bytes{}).ok());
  net.sim().RunFor(Duration::Seconds(1));
  // The NAT's own time exceeded about a datagram it translated in.
  UdpSendOptions ttl1;
  ttl1.ttl = 1;
  ASSERT_TRUE(s->SendUdp({A("198.51.100.1"), 5000}, 7, Bytes{}, ttl1).ok());
  net.sim().RunFor(Duration::Seconds(1));
  EXPECT_GE((*nat)->counters().icmp_errors_translated, 3u);

  const std::vector<std::string> checks = testing::TsharkChecksumOptions();
  auto problems = [&](const std::string& pcap) {
    Result<std::string> r = testing::TsharkProblems(pcap);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : std::string("tshark failed");
  };
  std::string lan = Write(net.FindSegment("lan")->pcap());
  std::string wan = Write(net.FindSegment("wan")->pcap());
  for (const std::string& p : {lan, wan}) {
    EXPECT_EQ(problems(p), "") << "tshark flags problems in " << p;
    // The checksums were verified, not skipped: an ICMP error whose own,
    // quoted IP and quoted UDP checksums tshark checked and found good.
    std::vector<std::string> args = checks;
    args.insert(args.end(), {"-Y", "udp.checksum.status == 1 && icmp.checksum.status == 1 && "
                                   "ip.checksum.status == 1", "-T", "fields", "-e",
                             "frame.number"});
    Result<std::string> verified = testing::RunTshark(p, args);
    ASSERT_TRUE(verified.ok());
    EXPECT_NE(*verified, "") << "no ICMP error with verified checksums in " << p;
  }
  // Outside, only the outside address shows.
  Result<std::string> sources =
      testing::RunTshark(wan, {"-Y", "ip.src == 10.0.0.0/8 || ip.dst == 10.0.0.0/8"});
  ASSERT_TRUE(sources.ok());
  EXPECT_EQ(*sources, "") << "inside addresses leaked outside";

  // The checksum check can fail: a translated ICMP error with one byte of
  // its quoted header changed.
  Bytes broken;
  for (const Bytes& p : tap.seen) {
    Result<ip::Ipv4IcmpPacket> icmp = ip::ParseIpv4Icmp(p);
    if (icmp.ok() && icmp->icmp.IsError()) broken = p;
  }
  ASSERT_FALSE(broken.empty());
  broken[20 + 8 + 10] ^= 0x40;  // the quoted header's checksum
  PcapWriter w;
  w.Add(Timestamp::Zero(), broken);
  EXPECT_NE(problems(Write(w)), "");
}

}  // namespace
}  // namespace mipsec::sim

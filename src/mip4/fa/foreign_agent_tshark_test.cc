// Wireshark as an independent oracle for what the foreign agent sends: a
// relayed Registration Request (UDP Tunnel Request and FA-HA appended), the
// home agent's reply and the relayed reply to the mobile node (FA-HA
// removed, MN-FA appended), one of the FA's own denials, an agent
// advertisement and an RFC 3519 keepalive. Every one must dissect with the
// values we decode and with no malformed packet, error-level expert item or
// bad checksum.
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "mip4/codec/pdml_test_util.h"
#include "mip4/fa/fa_test_util.h"
#include "testing/tshark/tshark.h"

namespace mipsec::mip4 {
namespace {

using namespace fa_test;  // NOLINT

Bytes ToDatagram(const Transmit& t) {
  if (const auto* ip = std::get_if<IpTransmit>(&t)) return ip->packet;
  const UdpTransmit& u = std::get<UdpTransmit>(t);
  ip::Ipv4Header h;
  h.src = u.local.address;
  h.dst = u.remote.address;
  Result<Bytes> dg = ip::BuildIpv4Udp(h, u.local.port, u.remote.port, u.payload);
  EXPECT_TRUE(dg.ok());
  return dg.value_or(Bytes{});
}

struct Captured {
  std::string name;
  Bytes datagram;
  Bytes message;  // UDP payload, or ICMP message
  bool icmp = false;
};

class FaTsharkTest : public ::testing::Test {
 protected:
  void SetUp() override { MIPSEC_REQUIRE_TSHARK(); }
  void TearDown() override {
    if (!path_.empty()) unlink(path_.c_str());
  }

  void Take(const std::string& name, std::vector<Captured>& out) {
    while (std::optional<Transmit> t = fa_->PollTransmit()) {
      Captured c;
      c.name = name;
      c.datagram = ToDatagram(*t);
      if (const auto* u = std::get_if<UdpTransmit>(&*t)) {
        c.message = u->payload;
      } else {
        c.icmp = true;
        c.message = Bytes(c.datagram.begin() + 20, c.datagram.end());
      }
      out.push_back(std::move(c));
    }
  }

  SaDatabase sas_;
  DeterministicRandom rng_{5};
  std::unique_ptr<ForeignAgent> fa_;
  std::string path_;
};

TEST_F(FaTsharkTest, RelayedMessagesDissectWithTheSameValues) {
  ForeignAgentOptions o = DefaultOptions();
  o.behind_nat = true;
  Result<std::unique_ptr<ForeignAgent>> fa = ForeignAgent::Create(o, sas_, rng_, Logger());
  ASSERT_TRUE(fa.ok());
  fa_ = std::move(*fa);
  ASSERT_TRUE(fa_->AddHomeAgentSa(kHa, Sa(kFaHaSpi, 0xa5)).ok());
  std::vector<SecurityAssociation> mn_sas;
  mn_sas.push_back(Sa(kMnFaSpi, 0x3c));
  ASSERT_TRUE(sas_.AddMobileNode(kHome, "", std::move(mn_sas)).ok());
  TestHomeAgent ha;
  ha.fa_ha_key = 0xa5;
  Timestamp now = Timestamp::FromNanos(1'000'000'000);
  std::vector<Captured> caps;

  fa_->OnTimeout(now);
  Take("advertisement", caps);

  MnRequest m;
  m.nai.emplace("mn1@example.org");
  m.mn_fa_key = 0x3c;
  m.delivery_style = true;
  const Bytes request = m.Build();
  UdpReceived d;
  d.local = {kFaAddress, kMip4Port};
  d.remote = {kHome, kMnPort};
  d.ifindex = kLink;
  d.payload = request;
  d.ttl = 255;
  fa_->OnUdp(now, d);
  Take("relayed request", caps);
  ASSERT_EQ(caps.size(), 2u);

  TestHomeAgent::Checked c = ha.Check(caps[1].message);
  ASSERT_TRUE(c.ok) << c.why;
  const Bytes reply =
      ha.Reply(c.request, {.udp_tunnel_reply = UdpTunnelReply{.keepalive_interval = 20}});
  {
    ip::Ipv4Header h;
    h.src = kHa;
    h.dst = kCareOf;
    caps.push_back({"HA reply", *ip::BuildIpv4Udp(h, kMip4Port, kMip4Port, reply), reply});
  }
  UdpReceived r;
  r.local = {kCareOf, kMip4Port};
  r.remote = {kHa, kMip4Port};
  r.ifindex = 1;
  r.payload = reply;
  fa_->OnUdp(now, r);
  Take("relayed reply", caps);

  MnRequest too_long;
  too_long.fixed.home_address = A("10.10.0.6");
  too_long.fixed.lifetime = 9000;
  const Bytes bad = too_long.Build();
  d.remote = {A("10.10.0.6"), kMnPort};
  d.payload = bad;
  fa_->OnUdp(now, d);
  Take("denial 69", caps);

  now += Duration::Seconds(20);
  while (fa_->NextTimeout() <= now) fa_->OnTimeout(fa_->NextTimeout());
  Take("timers", caps);
  ASSERT_GE(caps.size(), 6u);

  std::vector<Bytes> datagrams;
  for (const Captured& cap : caps) datagrams.push_back(cap.datagram);
  Result<std::string> path = testing::WriteRawIpPcap(datagrams);
  ASSERT_TRUE(path.ok()) << path.error().ToString();
  path_ = *path;
  Result<std::string> problems = mipsec::testing::TsharkProblems(path_);
  ASSERT_TRUE(problems.ok()) << problems.error().ToString();
  EXPECT_EQ(*problems, "") << "tshark flags problems in " << path_;

  Result<std::vector<testing::PdmlPacket>> pdml = testing::TsharkPdml(path_, "");
  ASSERT_TRUE(pdml.ok()) << pdml.error().ToString();
  ASSERT_EQ(pdml->size(), caps.size());
  bool saw_keepalive = false;
  for (std::size_t i = 0; i < caps.size(); ++i) {
    const Captured& cap = caps[i];
    const testing::PdmlPacket& pkt = (*pdml)[i];
    if (cap.icmp) {
      testing::ExpectAdvertisementMatchesTshark(pkt, cap.message, cap.name);
    } else {
      ASSERT_TRUE(pkt.Has("mip.type")) << cap.name;
      testing::ExpectMipMatchesTshark(pkt, cap.message, cap.name);
      if (pkt.First("mip.type") == "4") {
        saw_keepalive = true;
        EXPECT_EQ(pkt.First("mip.nattt.nexthdr"), "4");
        EXPECT_EQ(pkt.All("icmp.type"), std::vector<std::string>{"8"});
      }
    }
  }
  EXPECT_TRUE(saw_keepalive);
  const auto& p = *pdml;
  // The advertisement: F, T and U (behind a NAT), one care-of address.
  EXPECT_EQ(p[0].First("icmp.mip.u"), "1");
  EXPECT_EQ(p[0].First("icmp.mip.coa"), kCareOf.ToString());
  // Relayed request: MN's NAI and MN-HA kept; delivery style and MN-FA
  // consumed; UDP Tunnel Request and FA-HA appended.
  EXPECT_EQ(p[1].First("ip.src"), kCareOf.ToString());
  EXPECT_EQ(p[1].All("mip.ext.type"), (std::vector<std::string>{"131", "32", "144", "34"}));
  // HA reply, then as relayed: FA-HA gone, MN-FA added.
  EXPECT_EQ(p[2].All("mip.ext.type"), (std::vector<std::string>{"44", "131", "32", "34"}));
  EXPECT_EQ(p[3].All("mip.ext.type"), (std::vector<std::string>{"44", "131", "32", "33"}));
  EXPECT_EQ(p[3].First("ip.dst"), kHome.ToString());
  EXPECT_EQ(p[3].First("udp.dstport"), std::to_string(kMnPort));
  // The FA's denial.
  EXPECT_EQ(p[4].First("mip.code"), "69");
  EXPECT_EQ(p[4].First("mip.life"), "1800");
}

}  // namespace
}  // namespace mipsec::mip4

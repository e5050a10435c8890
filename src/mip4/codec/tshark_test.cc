// Wireshark as an independent oracle for our encodings: every message and
// extension we build, carried in IPv4/UDP port 434 or ICMP, must dissect
// with the field values we decode and with no malformed packet, no
// error-level expert item and no bad checksum.
//
// tshark 4.0 does not know the TNC extension's sub-type layout (it shows
// type 149 as a generic extension) nor the 'I' advertisement flag; for
// those only the type and the absence of problems are checked. Nor does it
// know One-byte Padding (type 0) in registration messages (RFC 5944 1.8): it
// reads a Length after it, so padding is exercised in the unit tests only.
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/ip/icmp.h"
#include "common/ip/udp.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/codec/agent_solicitation.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/pdml_test_util.h"
#include "mip4/codec/test_messages.h"
#include "mip4/codec/tunnel_data.h"
#include "testing/tshark/tshark.h"

namespace mipsec::mip4 {
namespace {

using testing::Addr;

struct Sample {
  std::string name;
  Bytes datagram;     // IPv4
  Bytes message;      // the UDP payload or ICMP message inside it
  bool is_icmp = false;
};

Sample Udp(std::string name, const char* src, std::uint16_t sport, const char* dst,
           std::uint16_t dport, Bytes message) {
  ip::Ipv4Header h;
  h.src = Addr(src);
  h.dst = Addr(dst);
  Result<Bytes> dg = ip::BuildIpv4Udp(h, sport, dport, message);
  EXPECT_TRUE(dg.ok());
  return {std::move(name), dg.value_or(Bytes{}), std::move(message), false};
}

Sample Icmp(std::string name, const char* src, const char* dst, Bytes message) {
  Result<Bytes> dg = ip::BuildIcmpPacket(Addr(src), Addr(dst), message, 1);
  EXPECT_TRUE(dg.ok());
  return {std::move(name), dg.value_or(Bytes{}), std::move(message), true};
}

std::vector<Sample> Samples() {
  std::vector<Sample> s;
  s.push_back(Udp("request from MN", "198.51.100.20", 49152, "198.51.100.1", kMip4Port,
                  testing::FullMnRequest()));
  s.push_back(Udp("request relayed by FA", "198.51.100.1", 434, "10.10.0.1", kMip4Port,
                  testing::RelayedRequest()));
  s.push_back(Udp("reply from HA", "10.10.0.1", kMip4Port, "198.51.100.20", 49152,
                  testing::FullReply()));
  {
    RegistrationRequest all = testing::SampleRequest();
    all.SetFlagsByte(0xff);
    all.lifetime = kInfiniteLifetime;
    all.home_address = Ipv4Address::Any();
    MessageBuilder b = MessageBuilder::Request(all);
    testing::Check(b.AppendNai("nobody@example.net"));
    b.AppendUdpTunnelRequest({.registration_through_fa = true, .encapsulation = kEncapGre});
    testing::Check(b.AppendAuth(kExtMnHaAuth, 0xffffffff, 16,
                                testing::HmacMd5(testing::MnHaKey())));
    s.push_back(Udp("request with every flag", "192.0.2.9", 1024, "10.10.0.1", kMip4Port,
                    std::move(b).Take()));
  }
  {
    RegistrationReply r = testing::SampleReply();
    r.set_code(ReplyCode::kHaUdpEncapsulationUnavailable);
    MessageBuilder b = MessageBuilder::Reply(r);
    b.AppendUdpTunnelReply({.reply_code = kUdpTunnelDeclined});
    testing::Check(b.AppendAuth(kExtMnHaAuth, 7, 16, testing::HmacMd5(testing::MnHaKey())));
    s.push_back(Udp("reply 142", "10.10.0.1", kMip4Port, "192.0.2.9", 1024,
                    std::move(b).Take()));
  }
  for (ReplyCode c : {ReplyCode::kFaInvalidHomeAgentAddress, ReplyCode::kHaCvseFromFaUnsupported,
                      ReplyCode::kFaDeliveryStyleUnsupported}) {
    RegistrationReply r = testing::SampleReply();
    r.set_code(c);
    s.push_back(Udp("reply code " + std::to_string(static_cast<int>(c)), "198.51.100.1",
                    kMip4Port, "10.10.0.5", 49152, std::move(MessageBuilder::Reply(r)).Take()));
  }
  {
    ip::Ipv4Header inner;
    inner.src = Addr("192.0.2.80");
    inner.dst = Addr("10.10.0.5");
    inner.protocol = ip::kProtoIcmp;
    Result<Bytes> pkt = ip::BuildIpv4(inner, ip::BuildIcmpEchoRequest(3, 4, Bytes{1, 2, 3}));
    EXPECT_TRUE(pkt.ok());
    s.push_back(Udp("tunnel data", "10.10.0.1", kMip4Port, "203.0.113.7", 40000,
                    BuildTunnelData(kEncapIpInIp, pkt.value_or(Bytes{}))));
  }
  {
    AgentAdvertisement fa;
    fa.code = kAdvCodeNoCommonTraffic;
    fa.lifetime = 1800;
    fa.routers = {{Addr("192.0.2.1"), 0}, {Addr("192.0.2.2"), -10}};
    fa.mobility.sequence = 65535;
    fa.mobility.registration_lifetime = 600;
    fa.mobility.registration_required = true;
    fa.mobility.busy = true;
    fa.mobility.foreign_agent = true;
    fa.mobility.minimal_encapsulation = true;
    fa.mobility.gre = true;
    fa.mobility.reverse_tunnel = true;
    fa.mobility.udp_tunnel = true;
    fa.mobility.care_of_addresses = {Addr("192.0.2.1"), Addr("192.0.2.3")};
    fa.prefix_lengths = std::vector<std::uint8_t>{24, 32};
    fa.padding = true;
    s.push_back(Icmp("FA advertisement", "192.0.2.1", "224.0.0.1",
                     *BuildAgentAdvertisement(fa)));
    AgentAdvertisement ha;
    ha.lifetime = 9000;
    ha.mobility.home_agent = true;
    ha.mobility.revocation = true;
    ha.mobility.regional = true;
    ha.mobility.registration_lifetime = 0xffff;
    s.push_back(Icmp("HA advertisement", "10.10.0.1", "255.255.255.255",
                     *BuildAgentAdvertisement(ha)));
  }
  s.push_back(Icmp("solicitation", "0.0.0.0", "224.0.0.11", BuildAgentSolicitation()));
  return s;
}

class Mip4TsharkTest : public ::testing::Test {
 protected:
  void SetUp() override { MIPSEC_REQUIRE_TSHARK(); }
  void TearDown() override {
    if (!path_.empty()) unlink(path_.c_str());
  }
  std::string path_;
};

TEST_F(Mip4TsharkTest, OurEncodingsDissectWithTheSameValues) {
  const std::vector<Sample> samples = Samples();
  std::vector<Bytes> datagrams;
  for (const Sample& s : samples) datagrams.push_back(s.datagram);
  Result<std::string> path = testing::WriteRawIpPcap(datagrams);
  ASSERT_TRUE(path.ok()) << path.error().ToString();
  path_ = *path;

  Result<std::string> problems = mipsec::testing::TsharkProblems(path_);
  ASSERT_TRUE(problems.ok()) << problems.error().ToString();
  EXPECT_EQ(*problems, "") << "tshark flags problems in " << path_;

  Result<std::vector<testing::PdmlPacket>> pdml = testing::TsharkPdml(path_, "");
  ASSERT_TRUE(pdml.ok()) << pdml.error().ToString();
  ASSERT_EQ(pdml->size(), samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    const testing::PdmlPacket& pkt = (*pdml)[i];
    EXPECT_EQ(pkt.number, static_cast<int>(i + 1));
    if (!s.is_icmp) {
      ASSERT_TRUE(pkt.Has("mip.type")) << s.name;
      testing::ExpectMipMatchesTshark(pkt, s.message, s.name);
    } else if (s.message[0] == 9) {
      testing::ExpectAdvertisementMatchesTshark(pkt, s.message, s.name);
    } else {
      EXPECT_EQ(pkt.First("icmp.type"), "10") << s.name;
      EXPECT_EQ(pkt.First("icmp.code"), "0") << s.name;
      EXPECT_EQ(pkt.First("icmp.checksum.status"), "1") << s.name;
    }
  }
  // Spot checks of values tshark decodes independently.
  const auto& p = *pdml;
  EXPECT_EQ(p[0].First("mip.flags"), "0x22");
  EXPECT_EQ(p[0].First("mip.ident"), "Feb 23, 2023 09:39:15.831633927 UTC");
  EXPECT_EQ(p[0].All("mip.ext.type"),
            (std::vector<std::string>{"131", "144", "32", "130", "33"}));
  EXPECT_EQ(p[1].First("mip.ext.rev.i"), "1");
  EXPECT_EQ(p[1].First("mip.ext.rev.tstamp"), "1593835520");
  EXPECT_EQ(p[1].First("mip.ext.nvse.vendor_id"), "9");
  EXPECT_EQ(p[1].First("mip.ext.nvse.vendor_type"), "7");
  EXPECT_EQ(p[1].First("mip.ext.cvse.vendor_id"), "9");
  EXPECT_EQ(p[1].FirstValue("mip.ext.cvse.vendor_type"), "0008");
  EXPECT_EQ(p[1].First("mip.ext.len"), "15");
  EXPECT_EQ(p[2].All("mip.ext.type"), (std::vector<std::string>{"44", "149", "131", "32"}));
  EXPECT_EQ(p[2].First("mip.ext.utrp.keepalive"), "110");
  EXPECT_EQ(p[3].First("mip.flags"), "0xff");
  EXPECT_EQ(p[3].First("mip.homeaddr"), "0.0.0.0");
  EXPECT_EQ(p[3].First("mip.ext.utrq.encaptype"), "47");
  EXPECT_EQ(p[4].First("mip.code"), "142");
  EXPECT_EQ(p[4].First("mip.ext.utrp.code"), "64");
  EXPECT_EQ(p[8].First("mip.nattt.nexthdr"), "4");
  EXPECT_EQ(p[8].All("icmp.type"), (std::vector<std::string>{"8"}));  // the tunnelled echo
  EXPECT_EQ(p[9].First("icmp.mip.flags"), "0xdd80");
  EXPECT_EQ(p[9].All("icmp.mip.type"), (std::vector<std::string>{"16", "19", "0"}));
  EXPECT_EQ(p[10].First("icmp.mip.x"), "1");
}

}  // namespace
}  // namespace mipsec::mip4

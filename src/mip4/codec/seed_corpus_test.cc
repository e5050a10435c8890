// The fuzz seeds in fuzz/corpus/mip4_registration and fuzz/corpus/mip4_agent_adv
// are produced by our encoder: this test rebuilds each and compares it with
// the committed file, so a codec change that alters them cannot go
// unnoticed. To regenerate after an intended change:
//   MIPSEC_WRITE_MIP4_SEEDS=1 build/<dir>/src/mip4/codec/mip4_codec_test
//       --gtest_filter='SeedCorpus*'
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "common/ip/icmp.h"
#include "common/ip/udp.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/codec/agent_solicitation.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/test_messages.h"
#include "mip4/codec/tunnel_data.h"

namespace mipsec::mip4 {
namespace {

using testing::Addr;
using Seeds = std::map<std::string, Bytes>;

Seeds RegistrationSeeds() {
  Seeds s;
  s["request_mn_full"] = testing::FullMnRequest();
  s["request_fa_relayed"] = testing::RelayedRequest();
  s["reply_ha_full"] = testing::FullReply();
  RegistrationReply denial = testing::SampleReply();
  denial.set_code(ReplyCode::kFaPoorlyFormedRequest);
  s["reply_fa_denial"] = std::move(MessageBuilder::Reply(denial)).Take();
  MessageBuilder skipped = MessageBuilder::Request(testing::SampleRequest());
  testing::Check(skipped.AppendTlv(200, Bytes{1, 2, 3}));
  skipped.AppendPadding();
  testing::Check(skipped.AppendAuthRaw(kExtMnHaAuth, 1, Bytes(16, 7)));
  s["request_skipped_extension"] = std::move(skipped).Take();
  const Bytes echo = ip::BuildIcmpEchoRequest(1, 1, Bytes{0x61, 0x62});
  ip::Ipv4Header inner;
  inner.src = Addr("10.10.0.5");
  inner.dst = Addr("192.0.2.80");
  inner.protocol = ip::kProtoIcmp;
  s["tunnel_data_ipip"] = BuildTunnelData(kEncapIpInIp, *ip::BuildIpv4(inner, echo));
  return s;
}

Seeds AgentSeeds() {
  Seeds s;
  AgentAdvertisement fa;
  fa.code = kAdvCodeNoCommonTraffic;
  fa.lifetime = 1800;
  fa.routers = {{Addr("192.0.2.1"), 0}};
  fa.mobility.sequence = 7;
  fa.mobility.registration_lifetime = 600;
  fa.mobility.foreign_agent = true;
  fa.mobility.registration_required = true;
  fa.mobility.reverse_tunnel = true;
  fa.mobility.udp_tunnel = true;
  fa.mobility.care_of_addresses = {Addr("192.0.2.1")};
  fa.prefix_lengths = std::vector<std::uint8_t>{24};
  fa.padding = true;
  s["advertisement_fa"] = *BuildAgentAdvertisement(fa);
  AgentAdvertisement ha;
  ha.lifetime = 300;
  ha.mobility.home_agent = true;
  ha.mobility.registration_lifetime = 0xffff;
  s["advertisement_ha"] = *BuildAgentAdvertisement(ha);
  s["solicitation"] = BuildAgentSolicitation();
  return s;
}

void CheckCorpus(const std::string& name, const Seeds& seeds) {
  const std::filesystem::path dir =
      std::filesystem::path(MIPSEC_SOURCE_DIR) / "fuzz" / "corpus" / name;
  if (std::getenv("MIPSEC_WRITE_MIP4_SEEDS") != nullptr) {
    std::filesystem::create_directories(dir);
    for (const auto& [file, bytes] : seeds) {
      std::ofstream out(dir / file, std::ios::binary);
      out.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
    }
  }
  for (const auto& [file, bytes] : seeds) {
    std::ifstream in(dir / file, std::ios::binary);
    ASSERT_TRUE(in) << (dir / file) << " missing: regenerate (see the file comment)";
    const Bytes committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(ToHex(committed), ToHex(bytes)) << (dir / file);
  }
}

TEST(SeedCorpusTest, RegistrationSeedsAreOurEncodings) {
  CheckCorpus("mip4_registration", RegistrationSeeds());
}

TEST(SeedCorpusTest, AgentDiscoverySeedsAreOurEncodings) {
  CheckCorpus("mip4_agent_adv", AgentSeeds());
}

}  // namespace
}  // namespace mipsec::mip4

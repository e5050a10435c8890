// Selectors -> routed prefixes, ChildSaInfo -> esp::SaConfig.
#include "ikev2/child/esp_install.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace mipsec::ikev2 {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }
Ipv4Prefix P(const char* s) { return *Ipv4Prefix::Parse(s); }

std::vector<std::string> Str(const std::vector<Ipv4Prefix>& v) {
  std::vector<std::string> out;
  for (const auto& p : v) out.push_back(p.ToString());
  return out;
}

TEST(RangeToPrefixes, ExactCoverOfRanges) {
  EXPECT_EQ(Str(RangeToPrefixes(A("192.0.2.128"), A("192.0.2.255"))),
            std::vector<std::string>{"192.0.2.128/25"});
  EXPECT_EQ(Str(RangeToPrefixes(A("10.0.0.1"), A("10.0.0.6"))),
            (std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31",
                                      "10.0.0.6/32"}));
  EXPECT_EQ(Str(RangeToPrefixes(A("0.0.0.0"), A("255.255.255.255"))),
            std::vector<std::string>{"0.0.0.0/0"});
  EXPECT_EQ(Str(RangeToPrefixes(A("10.0.0.7"), A("10.0.0.7"))),
            std::vector<std::string>{"10.0.0.7/32"});
  EXPECT_TRUE(RangeToPrefixes(A("10.0.0.8"), A("10.0.0.7")).empty());
  EXPECT_EQ(Str(RangeToPrefixes(A("255.255.255.254"), A("255.255.255.255"))),
            std::vector<std::string>{"255.255.255.254/31"});
}

TEST(SelectorsToPrefixes, Ipv4OnlyDeduplicatedPortsIgnored) {
  std::vector<TrafficSelector> ts;
  ts.push_back(TrafficSelector::Ipv4Prefix(P("192.0.2.0/25")));
  ts.push_back(TrafficSelector::Ipv4Range(A("192.0.2.0"), A("192.0.2.127"), 17, 434, 434));
  ts.push_back(TrafficSelector::Ipv4Range(A("10.1.0.0"), A("10.1.0.2")));
  TrafficSelector v6;
  v6.ts_type = static_cast<std::uint8_t>(TsType::kIpv6AddrRange);
  v6.start_address = Bytes(16, std::uint8_t{0});
  v6.end_address = Bytes(16, std::uint8_t{0xff});
  ts.push_back(v6);
  EXPECT_EQ(Str(SelectorsToPrefixes(ts)),
            (std::vector<std::string>{"192.0.2.0/25", "10.1.0.0/31", "10.1.0.2/32"}));
}

ChildSaInfo Child(const Suite& suite) {
  ChildSaInfo c{suite};
  c.spi_in = 0x1000;
  c.spi_out = 0x2000;
  c.keys_in.encr = SecretBytes(suite.EncrKeySize());
  c.keys_in.encr.RevealMutable()[0] = std::uint8_t{1};
  c.keys_out.encr = SecretBytes(suite.EncrKeySize());
  c.keys_out.encr.RevealMutable()[0] = std::uint8_t{2};
  c.keys_in.integ = SecretBytes(suite.IntegKeySize());
  c.keys_out.integ = SecretBytes(suite.IntegKeySize());
  c.local = Ipv4Endpoint{A("203.0.113.2"), 4500};
  c.remote = Ipv4Endpoint{A("203.0.113.1"), 61000};
  c.udp_encap = true;
  return c;
}

TEST(MakeEspSaConfig, GcmPerDirection) {
  auto suite = Suite::ForEsp(EncrId::kAesGcm16, 128, std::nullopt, std::nullopt,
                                    EsnId::kNoEsn);
  ASSERT_TRUE(suite.ok());
  auto c = Child(*suite);
  auto in = MakeEspSaConfig(c, esp::Direction::kInbound);
  ASSERT_TRUE(in.ok()) << in.error().ToString();
  EXPECT_EQ(in->spi, 0x1000u);
  EXPECT_EQ(in->cipher, esp::Cipher::kAesGcm16_128);
  EXPECT_EQ(in->integrity, esp::Integrity::kNone);
  EXPECT_TRUE(in->enc_key.Equals(c.keys_in.encr));
  EXPECT_TRUE(in->udp_encap);
  EXPECT_EQ(in->remote.port, 61000);
  EXPECT_FALSE(in->esn);
  auto out = MakeEspSaConfig(c, esp::Direction::kOutbound);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->spi, 0x2000u);
  EXPECT_TRUE(out->enc_key.Equals(c.keys_out.encr));
  // Both configs are accepted by the ESP layer.
  EXPECT_TRUE(esp::Sa::Create(*in).ok());
  EXPECT_TRUE(esp::Sa::Create(*out).ok());
}

TEST(MakeEspSaConfig, CbcSha256EsnAndUnsupported) {
  auto suite = Suite::ForEsp(EncrId::kAesCbc, 256,
                                    IntegId::kHmacSha2_256_128, std::nullopt,
                                    EsnId::kEsn);
  ASSERT_TRUE(suite.ok());
  auto in = MakeEspSaConfig(Child(*suite), esp::Direction::kInbound);
  ASSERT_TRUE(in.ok()) << in.error().ToString();
  EXPECT_EQ(in->cipher, esp::Cipher::kAesCbc256);
  EXPECT_EQ(in->integrity, esp::Integrity::kHmacSha256_128);
  EXPECT_TRUE(in->esn);
  EXPECT_TRUE(esp::Sa::Create(*in).ok());

  auto gcm8 = Suite::ForEsp(EncrId::kAesGcm8, 128, std::nullopt, std::nullopt,
                                   EsnId::kNoEsn);
  ASSERT_TRUE(gcm8.ok());
  auto bad = MakeEspSaConfig(Child(*gcm8), esp::Direction::kInbound);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::kUnsupported);
}

}  // namespace
}  // namespace mipsec::ikev2

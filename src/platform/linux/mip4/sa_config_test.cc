// Config -> core mapping: options, MN-HA / FA-HA / MN-FA SAs (keys usable,
// replay settings kept), errors naming the config line.
#include "platform/linux/mip4/sa_config.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/log.h"
#include "common/random.h"
#include "crypto/hmac.h"

namespace mipsec::mip4d {
namespace {

constexpr char kHa[] = R"([home_agent]
address = "192.0.2.1"
home_network = "192.0.2.0/24"
interface = "eth1"
max_lifetime = "10m"
trusted_subnets = ["10.10.0.0/16", "192.0.2.0/24"]
require_fa_ha_auth = true

[reverse_tunnel]
allowed = true
mandatory = true

[udp_tunnel]
enabled = false
accept_forcing = false
keepalive_interval = "55s"

[[mobile_node]]
home_address = "192.0.2.10"
nai = "alice@example.net"
spi = 1000
key = "000102030405060708090a0b0c0d0e0f"
replay = "nonce"

[[mobile_node]]
home_address = "192.0.2.11"
spi = 1001
key = "101112131415161718191a1b1c1d1e1f"
tolerance = "3s"

[[fa_peer]]
address = "198.51.100.1"
spi = 2000
key = "f0e0d0c0b0a090807060504030201000"
)";

config::HaConfig ParseHa() {
  auto c = config::ParseHaConfig(kHa, "ha.toml");
  EXPECT_TRUE(c.ok()) << c.error().ToString();
  return std::move(c).value();
}

Ipv4Address Ip(const char* s) { return Ipv4Address::Parse(s).value(); }

TEST(SaConfig, HomeAgentOptionsFollowTheConfig) {
  config::HaConfig c = ParseHa();
  mip4::WallClockMapping clock{Timestamp::FromNanos(5), 1'700'000'000'000'000'000};
  mip4::HomeAgentOptions o = HomeAgentOptionsFromConfig(c, clock);
  EXPECT_EQ(o.address, Ip("192.0.2.1"));
  EXPECT_EQ(o.home_network, Ipv4Prefix::Parse("192.0.2.0/24").value());
  EXPECT_EQ(o.max_lifetime, 600);
  EXPECT_TRUE(o.rfc5265_trusted_networks);
  ASSERT_EQ(o.trusted_subnets.size(), 2u);
  EXPECT_EQ(o.trusted_subnets[0], Ipv4Prefix::Parse("10.10.0.0/16").value());
  EXPECT_TRUE(o.fa_ha_auth_required);
  EXPECT_TRUE(o.reverse_tunnel_allowed);
  EXPECT_TRUE(o.reverse_tunnel_mandatory);
  EXPECT_FALSE(o.udp_tunnelling_enabled);
  EXPECT_FALSE(o.udp_accept_forcing);
  EXPECT_EQ(o.udp_keepalive_interval, 55);
  EXPECT_EQ(o.expected_bindings, 2u);
  EXPECT_EQ(o.wall_clock.reference, Timestamp::FromNanos(5));
  EXPECT_EQ(o.wall_clock.unix_nanos_at_reference, 1'700'000'000'000'000'000);
  EXPECT_TRUE(mip4::HomeAgent::ValidateOptions(o).ok());
}

TEST(SaConfig, NoTrustedSubnetsStaysStrict) {
  auto c = config::ParseHaConfig(R"([home_agent]
address = "192.0.2.1"
home_network = "192.0.2.0/24"
interface = "eth1"
)",
                                 "ha.toml");
  ASSERT_TRUE(c.ok());
  mip4::HomeAgentOptions o = HomeAgentOptionsFromConfig(*c, {});
  EXPECT_TRUE(o.rfc5265_trusted_networks);  // RFC 5265 4.3: nobody is trusted
  EXPECT_TRUE(o.trusted_subnets.empty());
  EXPECT_EQ(o.max_lifetime, 1800);
  EXPECT_EQ(o.udp_keepalive_interval, 110);
}

TEST(SaConfig, MobileNodeSasCarryKeyAndReplaySettings) {
  config::HaConfig c = ParseHa();
  mip4::SaDatabase db;
  ASSERT_TRUE(AddHaMobileNodeSas(c, db).ok());
  EXPECT_EQ(db.mobile_node_count(), 2u);
  mip4::MobileNodeSecurity* alice = db.FindMobileNodeByNai("alice@example.net");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->home_address, Ip("192.0.2.10"));
  EXPECT_EQ(db.FindMobileNode(Ip("192.0.2.10")), alice);
  mip4::SecurityAssociation* sa = db.MobileNodeSa(*alice, 1000);
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(sa->replay_method(), mip4::ReplayMethod::kNonce);
  EXPECT_EQ(db.MobileNodeSa(*alice, 1001), nullptr);
  // The key is the configured one: the SA's authenticator is HMAC-MD5 with it.
  const Bytes covered = {1, 2, 3, 4, 5};
  auto mac = sa->Compute(covered);
  ASSERT_TRUE(mac.ok());
  auto expect = crypto::Hmac(crypto::HashAlg::kMd5,
                             SecretBytes(FromHex("000102030405060708090a0b0c0d0e0f").value()),
                             covered);
  ASSERT_TRUE(expect.ok());
  EXPECT_EQ(*mac, *expect);

  mip4::SecurityAssociation* bob = db.MobileNodeSa(Ip("192.0.2.11"), 1001);
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->replay_method(), mip4::ReplayMethod::kTimestamp);
  EXPECT_EQ(bob->timestamp_tolerance(), Duration::Seconds(3));
}

TEST(SaConfig, ErrorsNameTheConfigLine) {
  config::HaConfig c = ParseHa();
  mip4::SaDatabase db;
  ASSERT_TRUE(AddHaMobileNodeSas(c, db).ok());
  // The same nodes again: the database refuses, naming the entry's line.
  Status again = AddHaMobileNodeSas(c, db);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(again.error().detail().rfind("mobile_node at line ", 0), 0u)
      << again.error().detail();
  // The key never appears in an error.
  EXPECT_EQ(again.error().detail().find("000102"), std::string::npos);
}

TEST(SaConfig, HaPeerSasGoThroughTheHomeAgent) {
  config::HaConfig c = ParseHa();
  mip4::SaDatabase db;
  ASSERT_TRUE(AddHaMobileNodeSas(c, db).ok());
  DeterministicRandom rng(1);
  MemorySink sink;
  auto ha = mip4::HomeAgent::Create(HomeAgentOptionsFromConfig(c, {}), db, rng,
                                    Logger(&sink, "ha"));
  ASSERT_TRUE(ha.ok()) << ha.error().ToString();
  ASSERT_TRUE(AddHaPeerSas(c, **ha).ok());
  EXPECT_TRUE(db.HasPeer(Ip("198.51.100.1")));
  EXPECT_NE(db.PeerSa(Ip("198.51.100.1"), 2000), nullptr);
  Status dup = AddHaPeerSas(c, **ha);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().detail().rfind("fa_peer at line ", 0), 0u) << dup.error().detail();
}

TEST(SaConfig, ForeignAgentSas) {
  auto c = config::ParseFaConfig(R"([[interface]]
name = "eth1"
address = "10.20.0.1/24"
care_of_addresses = "198.51.100.1"

[[ha_peer]]
address = "192.0.2.1"
spi = 3000
key = "00112233445566778899aabbccddeeff"

[[mobile_node]]
home_address = "192.0.2.10"
spi = 4000
key = "ffeeddccbbaa99887766554433221100"
)",
                                 "fa.toml");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  mip4::SaDatabase db;
  DeterministicRandom rng(2);
  MemorySink sink;
  mip4::ForeignAgentOptions o;
  mip4::FaInterface f;
  f.ifindex = 2;
  f.address = Ip("10.20.0.1");
  f.care_of_addresses = {Ip("198.51.100.1")};
  o.interfaces = {f};
  auto fa = mip4::ForeignAgent::Create(std::move(o), db, rng, Logger(&sink, "fa"));
  ASSERT_TRUE(fa.ok()) << fa.error().ToString();
  ASSERT_TRUE(AddFaConfigSas(*c, db, **fa).ok());
  EXPECT_NE(db.PeerSa(Ip("192.0.2.1"), 3000), nullptr);
  EXPECT_NE(db.MobileNodeSa(Ip("192.0.2.10"), 4000), nullptr);
}

}  // namespace
}  // namespace mipsec::mip4d

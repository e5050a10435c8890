#include "lab/strongswan/swanctl_sas.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mipsec::lab {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// `swanctl --list-sas --pretty` of a strongSwan 5.9.8 client right after a
// CHILD_SA rekey (the old CHILD_SA still listed as DELETED), with a DN as
// remote identity.
constexpr const char kClient[] = R"(list-sa event {
  home {
    uniqueid = 2
    version = 2
    state = ESTABLISHED
    local-host = 10.77.0.10
    local-port = 4500
    local-id = client@example.org
    remote-host = 203.0.113.2
    remote-port = 4500
    remote-id = C=CH, O=mipsec interop test, CN=gw.example.org
    initiator = yes
    initiator-spi = 6fa5f5e018cde95b
    responder-spi = e82629f6f8583d63
    nat-local = yes
    nat-remote = yes
    nat-any = yes
    encr-alg = AES_CBC
    encr-keysize = 256
    integ-alg = HMAC_SHA2_256_128
    prf-alg = PRF_HMAC_SHA2_256
    dh-group = ECP_256
    established = 12
    rekey-time = 14037
    local-vips = [
      192.0.2.129
    ]
    child-sas {
      home-1 {
        name = home
        uniqueid = 1
        reqid = 1
        state = DELETED
        mode = TUNNEL
        protocol = ESP
        encap = yes
        spi-in = 6bbf33ed
        spi-out = 12ca9e5b
        encr-alg = AES_CBC
        encr-keysize = 256
        integ-alg = HMAC_SHA2_256_128
        bytes-in = 168
        packets-in = 2
        bytes-out = 168
        packets-out = 2
        rekey-time = 3345
        life-time = 3956
        install-time = 4
        local-ts = [
          192.0.2.129/32
        ]
        remote-ts = [
          192.0.2.0/25
        ]
      }
      home-2 {
        name = home
        uniqueid = 2
        reqid = 1
        state = INSTALLED
        mode = TUNNEL
        protocol = ESP
        encap = yes
        spi-in = c12e85a5
        spi-out = 10e18119
        encr-alg = AES_CBC
        encr-keysize = 256
        integ-alg = HMAC_SHA2_256_128
        bytes-in = 0
        packets-in = 0
        bytes-out = 0
        packets-out = 0
        rekey-time = 3412
        life-time = 3959
        install-time = 1
        local-ts = [
          192.0.2.129/32
        ]
        remote-ts = [
          192.0.2.0/25
          198.18.0.0/16
        ]
      }
    }
  }
}
list-sas reply {
}
)";

TEST(SwanctlSas, ParsesIkeAndChildSas) {
  auto sas = ParseListSas(kClient);
  ASSERT_TRUE(sas.ok()) << sas.error().ToString();
  ASSERT_EQ(sas->size(), 1u);
  const IkeSaInfo& ike = (*sas)[0];
  EXPECT_EQ(ike.name, "home");
  EXPECT_EQ(ike.unique_id, 2u);
  EXPECT_EQ(ike.state, "ESTABLISHED");
  EXPECT_EQ(ike.local_host, "10.77.0.10");
  EXPECT_EQ(ike.local_port, 4500);
  EXPECT_EQ(ike.remote_host, "203.0.113.2");
  EXPECT_EQ(ike.remote_id, "C=CH, O=mipsec interop test, CN=gw.example.org");
  EXPECT_TRUE(ike.initiator);
  EXPECT_EQ(ike.initiator_spi, 0x6fa5f5e018cde95bULL);
  EXPECT_EQ(ike.responder_spi, 0xe82629f6f8583d63ULL);
  EXPECT_TRUE(ike.nat_local);
  EXPECT_TRUE(ike.nat_remote);
  EXPECT_FALSE(ike.nat_fake);
  EXPECT_EQ(ike.encr_alg, "AES_CBC");
  EXPECT_EQ(ike.encr_keysize, 256);
  EXPECT_EQ(ike.integ_alg, "HMAC_SHA2_256_128");
  EXPECT_EQ(ike.prf_alg, "PRF_HMAC_SHA2_256");
  EXPECT_EQ(ike.dh_group, "ECP_256");
  EXPECT_EQ(ike.established_s, 12);
  EXPECT_THAT(ike.local_vips, ElementsAre("192.0.2.129"));
  EXPECT_TRUE(ike.remote_vips.empty());
  ASSERT_EQ(ike.children.size(), 2u);
  EXPECT_EQ(ike.children[0].state, "DELETED");
  const ChildSaInfo* c = ike.InstalledChild("home");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->unique_id, 2u);
  EXPECT_EQ(c->reqid, 1u);
  EXPECT_EQ(c->spi_in, 0xc12e85a5u);
  EXPECT_EQ(c->spi_out, 0x10e18119u);
  EXPECT_TRUE(c->encap);
  EXPECT_EQ(c->mode, "TUNNEL");
  EXPECT_EQ(c->encr_keysize, 256);
  EXPECT_EQ(c->rekey_in_s, 3412);
  EXPECT_THAT(c->local_ts, ElementsAre("192.0.2.129/32"));
  EXPECT_THAT(c->remote_ts, ElementsAre("192.0.2.0/25", "198.18.0.0/16"));
  EXPECT_EQ(ike.children[0].bytes_in, 168u);
  EXPECT_EQ(ike.children[0].packets_out, 2u);
  EXPECT_EQ(ike.raw.at("version"), "2");
  EXPECT_EQ(ike.InstalledChild("other"), nullptr);
}

TEST(SwanctlSas, SeveralSasEmptyValuesAndNoSas) {
  constexpr const char kTwo[] =
      "list-sa event {\n  a {\n    uniqueid = 1\n    state = CONNECTING\n    remote-id = \n"
      "  }\n}\nlist-sa event {\n  b {\n    uniqueid = 7\n    state = ESTABLISHED\n"
      "    remote-vips = [\n      10.1.0.5\n    ]\n  }\n}\nlist-sas reply {\n}\n";
  auto sas = ParseListSas(kTwo);
  ASSERT_TRUE(sas.ok()) << sas.error().ToString();
  ASSERT_EQ(sas->size(), 2u);
  EXPECT_EQ((*sas)[0].name, "a");
  EXPECT_EQ((*sas)[0].remote_id, "");
  EXPECT_EQ((*sas)[0].rekey_in_s, -1);
  EXPECT_EQ((*sas)[1].unique_id, 7u);
  EXPECT_THAT((*sas)[1].remote_vips, ElementsAre("10.1.0.5"));

  auto none = ParseListSas("list-sas reply {\n}\n");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto empty = ParseListSas("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(SwanctlSas, MalformedOutputIsAnErrorNamingTheLine) {
  struct Case {
    const char* text;
    const char* expect;
  };
  const Case cases[] = {
      {"list-sa event {\n  a {\n    uniqueid = 1\n", "unterminated section"},
      {"}\n", "line 1"},
      {"list-sa event {\n  a {\n    local-vips = [\n      1.2.3.4\n", "unterminated list"},
      {"uniqueid = 1\n", "outside any message"},
      {"list-sa event {\n  a {\n    garbage\n  }\n}\n", "line 3"},
      {"list-sa event {\n  a {\n    uniqueid = x1\n  }\n}\n", "uniqueid 'x1'"},
      {"list-sa event {\n  a {\n    local-port = 70000\n  }\n}\n", "local-port"},
      {"list-sa event {\n  a {\n    child-sas {\n      c-1 {\n        spi-in = zz\n      }\n"
       "    }\n  }\n}\n",
       "child c-1: spi-in"},
  };
  for (const auto& tc : cases) {
    auto r = ParseListSas(tc.text);
    ASSERT_FALSE(r.ok()) << tc.text;
    EXPECT_EQ(r.error().code(), Errc::kMalformed) << tc.text;
    EXPECT_THAT(r.error().detail(), HasSubstr(tc.expect)) << tc.text;
  }
}

TEST(SwanctlSas, GenericTreeKeepsOrderAndNesting) {
  auto msgs = ParseViciPretty("stats reply {\n  uptime {\n    running = 5 seconds\n  }\n"
                              "  plugins = [\n    vici\n    openssl\n  ]\n}\n");
  ASSERT_TRUE(msgs.ok()) << msgs.error().ToString();
  ASSERT_EQ(msgs->size(), 1u);
  EXPECT_EQ((*msgs)[0].name, "stats reply");
  const ViciSection& s = (*msgs)[0];
  ASSERT_NE(s.Section("uptime"), nullptr);
  EXPECT_EQ(s.Section("uptime")->Get("running"), "5 seconds");
  ASSERT_NE(s.List("plugins"), nullptr);
  EXPECT_THAT(*s.List("plugins"), ElementsAre("vici", "openssl"));
  EXPECT_EQ(s.Get("missing"), "");
  EXPECT_EQ(s.List("missing"), nullptr);
}

}  // namespace
}  // namespace mipsec::lab

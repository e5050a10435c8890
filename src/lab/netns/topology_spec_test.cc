#include "lab/netns/topology_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mipsec::lab {
namespace {

using ::testing::HasSubstr;

constexpr const char kFull[] = R"(
# mobile node behind a NAT router, server outside
ns mn
ns gw router          # forwards
ns server
link mn:eth0 10.1.0.2/24  gw:eth0 10.1.0.1/24   mtu 1400
link gw:eth1 192.168.5.1/24 server:eth0 192.168.5.10/24
addr server:lo 203.0.113.7/32
route mn default via 10.1.0.1
route server 10.9.0.0/16 via 192.168.5.1 dev eth0 src 192.168.5.10 metric 5 mtu 1300
route gw 203.0.113.7 via 192.168.5.10
nat gw masquerade oif eth1 random persistent
nft gw "add table inet fw"   # a comment after a quoted command
nft gw add chain inet fw fchain { type filter hook forward priority 0; policy accept; }
nft gw add rule inet fw fchain oifname "eth1" udp dport 9 drop # not a comment
)";

TEST(TopologySpecTest, ParsesEveryDirective) {
  auto spec = ParseTopology(kFull);
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  ASSERT_EQ(spec->namespaces.size(), 3u);
  EXPECT_EQ(spec->namespaces[0].name, "mn");
  EXPECT_FALSE(spec->namespaces[0].router);
  EXPECT_TRUE(spec->namespaces[1].router);
  EXPECT_EQ(spec->namespaces[1].line, 4);

  ASSERT_EQ(spec->links.size(), 2u);
  const LinkSpec& l = spec->links[0];
  EXPECT_EQ(l.a.ns, "mn");
  EXPECT_EQ(l.a.ifname, "eth0");
  EXPECT_EQ(l.a.address, "10.1.0.2/24");
  EXPECT_EQ(l.b.ns, "gw");
  EXPECT_EQ(l.b.address, "10.1.0.1/24");
  EXPECT_EQ(l.mtu, 1400);
  EXPECT_FALSE(spec->links[1].mtu.has_value());

  ASSERT_EQ(spec->addresses.size(), 1u);
  EXPECT_EQ(spec->addresses[0].ifname, "lo");

  ASSERT_EQ(spec->routes.size(), 3u);
  EXPECT_EQ(spec->routes[0].dest, "default");
  EXPECT_EQ(spec->routes[0].via, "10.1.0.1");
  const RouteSpec& r = spec->routes[1];
  EXPECT_EQ(r.dest, "10.9.0.0/16");
  EXPECT_EQ(r.dev, "eth0");
  EXPECT_EQ(r.src, "192.168.5.10");
  EXPECT_EQ(r.metric, 5u);
  EXPECT_EQ(r.mtu, 1300);
  EXPECT_EQ(spec->routes[2].dest, "203.0.113.7");

  ASSERT_EQ(spec->nats.size(), 1u);
  EXPECT_EQ(spec->nats[0].oif, "eth1");
  EXPECT_TRUE(spec->nats[0].random);
  EXPECT_FALSE(spec->nats[0].fully_random);
  EXPECT_TRUE(spec->nats[0].persistent);

  ASSERT_EQ(spec->nfts.size(), 3u);
  EXPECT_EQ(spec->nfts[0].command, "add table inet fw");
  EXPECT_EQ(spec->nfts[1].command,
            "add chain inet fw fchain { type filter hook forward priority 0; policy accept; }");
  EXPECT_EQ(spec->nfts[2].command,
            "add rule inet fw fchain oifname \"eth1\" udp dport 9 drop # not a comment");
  EXPECT_TRUE(spec->UsesNftables());
  EXPECT_THAT(spec->InterfacesOf("gw"), ::testing::ElementsAre("eth0", "eth1"));
}

TEST(TopologySpecTest, QuotedNftCommandKeepsInnerQuotes) {
  auto spec = ParseTopology("ns a\nnft a \"add rule ip t c oifname \"x\" drop\"  # c\n");
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(spec->nfts[0].command, "add rule ip t c oifname \"x\" drop");
}

TEST(TopologySpecTest, ToTextRoundTrips) {
  auto spec = ParseTopology(kFull);
  ASSERT_TRUE(spec.ok());
  std::string text = spec->ToText();
  auto again = ParseTopology(text);
  ASSERT_TRUE(again.ok()) << again.error().ToString() << "\n" << text;
  EXPECT_EQ(again->ToText(), text);
  EXPECT_EQ(again->nfts[2].command, spec->nfts[2].command);
  EXPECT_EQ(again->routes[1].metric, 5u);
  EXPECT_TRUE(again->nats[0].persistent);
}

TEST(TopologySpecTest, BuilderMatchesText) {
  TopologySpec spec;
  spec.Namespace("mn")
      .Namespace("gw", true)
      .Link("mn:eth0", "10.1.0.2/24", "gw:eth0", "10.1.0.1/24", 1400)
      .Route("mn", "default", "10.1.0.1")
      .Masquerade("gw", "eth0", true)
      .Nft("gw", "add table inet fw");
  ASSERT_TRUE(spec.Validate().ok()) << spec.Validate().error().ToString();
  EXPECT_EQ(spec.ToText(),
            "ns mn\nns gw router\nlink mn:eth0 10.1.0.2/24 gw:eth0 10.1.0.1/24 mtu 1400\n"
            "route mn default via 10.1.0.1\nnat gw masquerade oif eth0 random\n"
            "nft gw \"add table inet fw\"\n");
}

TEST(TopologySpecTest, BuilderErrorsNameTheDirective) {
  TopologySpec spec;
  spec.Namespace("a").Link("a:eth0", "", "b:eth0", "");
  Status s = spec.Validate();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(s.error().detail(), "link: unknown namespace 'b'");
}

TEST(TopologySpecTest, LinkWithoutAddresses) {
  auto spec = ParseTopology("ns a\nns b\nlink a:t0 b:t0\n");
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_TRUE(spec->links[0].a.address.empty());
  EXPECT_TRUE(spec->links[0].b.address.empty());
  EXPECT_FALSE(spec->UsesNftables());
}

TEST(TopologySpecTest, SameNamespaceLink) {
  auto spec = ParseTopology("ns a\nlink a:x0 a:x1\n");
  EXPECT_TRUE(spec.ok()) << spec.error().ToString();
}

struct BadCase {
  const char* text;
  const char* error;  // the whole detail
};

class TopologySpecErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(TopologySpecErrorTest, RejectsWithLineAndReason) {
  auto spec = ParseTopology(GetParam().text);
  ASSERT_FALSE(spec.ok()) << "accepted:\n" << GetParam().text;
  EXPECT_EQ(spec.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(spec.error().detail(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, TopologySpecErrorTest,
    ::testing::Values(
        BadCase{"", "topology: no namespaces (add an `ns` line)"},
        BadCase{"ns a\nbridge a b\n",
                "line 2: unknown directive 'bridge' (expected ns, link, addr, route, nat or nft)"},
        BadCase{"ns\n", "line 1: expected: ns NAME [router]"},
        BadCase{"ns a switch\n", "line 1: expected: ns NAME [router]"},
        BadCase{"ns a-b\n", "line 1: bad namespace name 'a-b' (1-16 characters of A-Z a-z 0-9 _)"},
        BadCase{
            "ns abcdefghijklmnopq\n",
            "line 1: bad namespace name 'abcdefghijklmnopq' (1-16 characters of A-Z a-z 0-9 _)"},
        BadCase{"ns a\n\n# c\nns a\n", "line 4: namespace 'a' declared twice"},
        BadCase{"ns a\nlink a:eth0 10.0.0.1/24 x:eth0\n", "line 2: unknown namespace 'x'"},
        BadCase{"ns a\nns b\nlink a:eth0 10.0.0.1 b:eth0\n",
                "line 3: address '10.0.0.1' for a:eth0 needs a prefix length, e.g. 10.0.0.1/24"},
        BadCase{"ns a\nns b\nlink a:eth0 10.0.0.1/33 b:eth0\n",
                "line 3: bad address '10.0.0.1/33' for a:eth0 (expected a.b.c.d/len)"},
        BadCase{"ns a\nns b\nlink a:eth0 10.0.0.256/24 b:eth0\n",
                "line 3: bad address '10.0.0.256/24' for a:eth0 (expected a.b.c.d/len)"},
        BadCase{"ns a\nns b\nlink a b:eth0\n",
                "line 3: expected NS:IF (namespace:interface), got 'a'"},
        BadCase{"ns a\nns b\nlink 10.0.0.1 b:eth0\n",
                "line 3: address '10.0.0.1' needs a prefix length, e.g. 10.0.0.1/24"},
        BadCase{"ns a\nns b\nlink a:eth0 b:eth0 10.0.0.2\n",
                "line 3: address '10.0.0.2' for b:eth0 needs a prefix length, e.g. 10.0.0.2/24"},
        BadCase{"ns a\naddr a:eth0/24 10.0.0.1/24\n",
                "line 2: no interface a:eth0/24 (use lo or a link end)"},

        BadCase{"ns a\nns b\nlink a:eth0\n", "line 3: expected NS:IF [ADDR/LEN] twice"},
        BadCase{"ns a\nns b\nlink a:eth0 b:eth0 mtu 67\n", "line 3: bad mtu '67' (68..65535)"},
        BadCase{"ns a\nns b\nlink a:eth0 b:eth0 mtu\n", "line 3: mtu needs a value"},
        BadCase{"ns a\nns b\nlink a:eth0 b:eth0 mtu 1500 up\n", "line 3: unexpected 'up'"},
        BadCase{"ns a\nns b\nlink a:averyveryverylong0 b:eth0\n",
                "line 3: bad interface name 'averyveryverylong0' in a (1-15 characters of A-Z a-z "
                "0-9 _ . -; not lo, all or default)"},
        BadCase{"ns a\nns b\nlink a:lo b:eth0\n",
                "line 3: bad interface name 'lo' in a (1-15 characters of A-Z a-z 0-9 _ . -; not "
                "lo, all or default)"},
        BadCase{"ns a\nns b\nlink a:eth0 b:eth0\nlink a:eth0 b:eth1\n",
                "line 4: interface a:eth0 exists twice"},
        BadCase{"ns a\naddr a:eth0 10.0.0.1/24\n",
                "line 2: no interface a:eth0 (use lo or a link end)"},
        BadCase{"ns a\naddr a:lo 10.0.0.1\n",
                "line 2: bad address '10.0.0.1' (expected a.b.c.d/len)"},
        BadCase{"ns a\nroute a default\n", "line 2: route to default needs via or dev"},
        BadCase{"ns a\nroute a 10.0.0.0/8 via 10.0.0.999\n", "line 2: bad gateway '10.0.0.999'"},
        BadCase{"ns a\nroute a nowhere via 10.0.0.1\n",
                "line 2: bad destination 'nowhere' (default, a.b.c.d/len or a.b.c.d)"},
        BadCase{"ns a\nroute a default dev eth9\n", "line 2: no interface a:eth9"},
        BadCase{"ns a\nroute a default via\n", "line 2: via needs a value"},
        BadCase{"ns a\nroute a default via 10.0.0.1 table 5\n",
                "line 2: unexpected 'table' (expected via, dev, src, metric or mtu)"},
        BadCase{"ns a\nroute a default via 10.0.0.1 metric -1\n", "line 2: bad metric '-1'"},
        BadCase{"ns a\nroute z default via 10.0.0.1\n", "line 2: unknown namespace 'z'"},
        BadCase{"ns a\nnat a snat oif eth0\n",
                "line 2: expected: nat NS masquerade oif IF [random] [fully-random] [persistent]"},
        BadCase{"ns a\nns b\nlink a:eth0 b:eth0\nnat a masquerade oif eth1\n",
                "line 4: no interface a:eth1 for oif"},
        BadCase{"ns a\nns b\nlink a:eth0 b:eth0\nnat a masquerade oif eth0 sticky\n",
                "line 4: unexpected 'sticky' (expected random, fully-random or persistent)"},
        BadCase{"ns a\nnft a\n", "line 2: empty nftables command"},
        BadCase{"ns a\nnft\n", "line 2: expected: nft NS COMMAND"},
        BadCase{"ns a\nnft a \"add table ip t\n", "line 2: unterminated quote"},
        BadCase{"ns a\nnft a \"add table ip t\" extra\n",
                "line 2: unexpected 'extra' after the quoted command"},
        BadCase{"ns a\nnft b add table ip t\n", "line 2: unknown namespace 'b'"}));

TEST(TopologySpecTest, AddressHelpers) {
  EXPECT_TRUE(IsValidIpv4("0.0.0.0"));
  EXPECT_TRUE(IsValidIpv4("255.255.255.255"));
  EXPECT_FALSE(IsValidIpv4("1.2.3"));
  EXPECT_FALSE(IsValidIpv4("1.2.3.4 "));
  EXPECT_FALSE(IsValidIpv4("::1"));
  EXPECT_TRUE(IsValidIpv4Prefix("10.0.0.0/8"));
  EXPECT_TRUE(IsValidIpv4Prefix("10.0.0.1/32"));
  EXPECT_TRUE(IsValidIpv4Prefix("0.0.0.0/0"));
  EXPECT_FALSE(IsValidIpv4Prefix("10.0.0.0/"));
  EXPECT_FALSE(IsValidIpv4Prefix("10.0.0.0/+8"));
  EXPECT_FALSE(IsValidIpv4Prefix("10.0.0.0/008"));
  EXPECT_FALSE(IsValidIpv4Prefix("10.0.0.0"));
  EXPECT_TRUE(IsValidIfName("eth0.100"));
  EXPECT_TRUE(IsValidIfName("veth-a_1"));
  EXPECT_FALSE(IsValidIfName(""));
  EXPECT_FALSE(IsValidIfName("a/b"));
  EXPECT_FALSE(IsValidIfName(".."));
  EXPECT_FALSE(IsValidIfName("0123456789abcdef"));  // 16 > IFNAMSIZ - 1
  EXPECT_TRUE(IsValidNsName("server_2"));
  EXPECT_FALSE(IsValidNsName("x y"));
}

TEST(TopologySpecTest, NftCommandWithLineBreakRejected) {
  TopologySpec spec;
  spec.Namespace("a").Nft("a", "add table ip t\nflush ruleset");
  Status s = spec.Validate();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().detail(), HasSubstr("no line breaks"));
}

}  // namespace
}  // namespace mipsec::lab

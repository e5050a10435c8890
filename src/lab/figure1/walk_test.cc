// The parts of the Figure 1 lab that need no root: the files compiled into
// the program, the walk's legs, the summary table, and the tools check that
// `mipsec demo --netns` reports.
#include "lab/figure1/walk.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "lab/figure1/files.h"
#include "lab/netns/topology_spec.h"

namespace mipsec::lab {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Figure1FilesTest, EveryFileIsCompiledInAndTheTopologyParses) {
  for (const char* name : {"figure1.topo", "firewall.nft", "mvpn-policy.nft", "ha.toml",
                           "fa.toml", "gw.toml", "mn.toml"}) {
    std::optional<std::string_view> text = Figure1File(name);
    ASSERT_TRUE(text.has_value()) << name;
    EXPECT_GT(text->size(), 100u) << name;
  }
  EXPECT_FALSE(Figure1File("no-such-file").has_value());
  EXPECT_EQ(Figure1FileNames().size(), 7u);
  Result<TopologySpec> spec = ParseTopology(*Figure1File("figure1.topo"));
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_TRUE(spec->Validate().ok());
  // The raw text, byte for byte (e.g. the firewall's table name).
  EXPECT_THAT(std::string(*Figure1File("firewall.nft")), HasSubstr("mipsec_fw"));
}

TEST(Figure1WalkLegsTest, TheDefaultWalkIsIssue8sAndStartsAtHome) {
  const std::vector<WalkLeg> walk = DefaultWalk();
  ASSERT_EQ(walk.size(), 7u);
  EXPECT_EQ(walk.front().access, Access::kHome);
  EXPECT_EQ(walk.front().label, "home: on the home link");
  std::string modes, places;
  for (const WalkLeg& l : walk) {
    modes += l.mode + " ";
    places += std::string(AccessName(l.access)) + " ";
  }
  EXPECT_EQ(modes, "home c f mc mc c home ");
  EXPECT_EQ(places, "home c f pub natnet c home ");
  // The move behind the NAT must be MOBIKE alone (R5).
  EXPECT_THAT(walk[4].must_log, HasSubstr("[R5]"));
  EXPECT_TRUE(CheckLegs(walk, Mvpn::kMipsec).ok());
  EXPECT_TRUE(CheckLegs(walk, Mvpn::kStrongswan).ok());
  EXPECT_FALSE(CheckLegs(walk, Mvpn::kNone).ok());
  EXPECT_TRUE(CheckLegs(IntranetWalk(), Mvpn::kNone).ok());
}

TEST(Figure1WalkLegsTest, ParsesPlaceNames) {
  Result<std::vector<WalkLeg>> legs = ParseLegs("home, c,f");
  ASSERT_TRUE(legs.ok()) << legs.error().ToString();
  ASSERT_EQ(legs->size(), 3u);
  EXPECT_EQ((*legs)[1].access, Access::kC);
  EXPECT_EQ((*legs)[2].mode, "f");
  Result<std::vector<WalkLeg>> outside = ParseLegs("pub,natnet");
  ASSERT_TRUE(outside.ok());
  EXPECT_EQ((*outside)[0].mode, "mc");
  EXPECT_EQ((*outside)[1].label, "mc: outside, behind NAT");

  Result<std::vector<WalkLeg>> bad = ParseLegs("home,moon");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().detail(), HasSubstr("unknown place 'moon'"));
  EXPECT_THAT(bad.error().detail(), HasSubstr("home, c, f, pub, natnet"));
  EXPECT_FALSE(ParseLegs("").ok());
  EXPECT_FALSE(ParseLegs("home,,c").ok());
}

TEST(Figure1WalkLegsTest, OutsideLegsNeedAnMvpn) {
  Result<std::vector<WalkLeg>> legs = ParseLegs("home,c,pub");
  ASSERT_TRUE(legs.ok());
  Status st = CheckLegs(*legs, Mvpn::kNone);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().detail(), HasSubstr("'pub' is outside"));
  EXPECT_TRUE(CheckLegs(*legs, Mvpn::kMipsec).ok());
  EXPECT_FALSE(CheckLegs({}, Mvpn::kMipsec).ok());
}

TEST(Figure1WalkLegsTest, TheMnConfigLosesItsVpnSectionWithoutAnMvpn) {
  for (Mvpn m : {Mvpn::kNone, Mvpn::kMipsec, Mvpn::kStrongswan}) {
    const std::string text = MnConfigText(m);
    EXPECT_THAT(text, HasSubstr("home_address = \"10.1.0.10\""));
    EXPECT_THAT(text, HasSubstr("[[interface]]"));
    if (m == Mvpn::kNone) {
      EXPECT_THAT(text, Not(HasSubstr("[vpn]")));
    } else {
      EXPECT_THAT(text, HasSubstr("[vpn]"));
    }
  }
}

TEST(Figure1WalkSummaryTest, PrintsTheSimulatedDemosColumns) {
  WalkReport r;
  WalkLegResult start{"home: on the home link", "home", "home", true, 120.5, std::nullopt, "", 1};
  WalkLegResult c{"c: intranet subnet, DHCP", "c", "c", true, 812.34, 845.5, "", 2};
  WalkLegResult f{"f: subnet with the i-FA", "f", "f", false, std::nullopt, std::nullopt,
                  "no mode f within 20.000s", 3};
  WalkLegResult back{"c: back inside", "c", "c", false, std::nullopt, std::nullopt, "", 0};
  r.legs = {start, c, f, back};
  r.session_opened = true;
  r.session_alive = false;
  r.probe_output = R"({"event":"summary","alive":false,"error":"connection closed by the peer"})";
  r.error = "f: subnet with the i-FA: no mode f within 20.000s";
  const std::string out = FormatWalkSummary(r);
  EXPECT_THAT(out, HasSubstr("summary per move"));
  EXPECT_THAT(out,
              HasSubstr("  leg                          mode   ready (ms)    tcp gap  result\n"));
  EXPECT_THAT(out, HasSubstr("  home: on the home link       home        120.5          -  ok\n"));
  EXPECT_THAT(out, HasSubstr("  c: intranet subnet, DHCP     c           812.3  845.500ms  ok\n"));
  EXPECT_THAT(out, HasSubstr("  f: subnet with the i-FA      f               -          -  FAILED: "
                             "no mode f within 20.000s\n"));
  EXPECT_THAT(out, HasSubstr("  c: back inside               c               -          -  "
                             "not walked\n"));
  EXPECT_THAT(out, HasSubstr("BROKEN: connection closed by the peer"));
  EXPECT_THAT(out, HasSubstr("walk failed: f: subnet with the i-FA"));
  EXPECT_FALSE(r.ok());
}

TEST(Figure1NetToolsTest, NamesEachMissingToolAndItsPackage) {
  auto only = [](std::string_view missing) {
    return [missing](std::string_view tool) { return tool != missing; };
  };
  Figure1Options o;
  o.mvpn = Mvpn::kMipsec;
  EXPECT_TRUE(Figure1Net::MissingTools(o, [](std::string_view) { return true; }).empty());
  std::vector<std::string> m = Figure1Net::MissingTools(o, only("dnsmasq"));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "dnsmasq (Debian package dnsmasq-base)");
  m = Figure1Net::MissingTools(o, only("nft"));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "nft (Debian package nftables)");
  // charon only matters with strongSwan as the mVPN.
  EXPECT_TRUE(Figure1Net::MissingTools(o, only("charon-systemd")).empty());
  o.mvpn = Mvpn::kStrongswan;
  m = Figure1Net::MissingTools(o, only("charon-systemd"));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "charon-systemd (Debian package charon-systemd)");
  // No DHCP servers: no dnsmasq needed.
  o.start_dhcp = false;
  EXPECT_TRUE(Figure1Net::MissingTools(o, only("dnsmasq")).empty());
}

}  // namespace
}  // namespace mipsec::lab

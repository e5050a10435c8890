// The Figure 1 walk on real Linux (issue 8 item 5): the real `mipsec mn` in
// the namespace `mn`, the real `mipsec ha` and `mipsec fa`, dnsmasq on every
// visited network, the nftables firewall, and one long-lived TCP connection
// from the correspondent node to the MN's home address (`mipsec probe`) that
// must stay up through every move, with the gap of each move measured.
//
// The walk is the namespace lab's (lab/figure1/walk.h), the very code
// `mipsec demo --netns` runs: home -> c -> f -> c -> home, the legs inside
// the enterprise. (The outside legs, mc and mc behind the NAT, need the
// mobile node daemon's VPN part, which is not built yet; walk.h says how to
// add them.)
#include <stdlib.h>

#include <cstdio>
#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "lab/figure1/figure1_net.h"
#include "lab/figure1/walk.h"
#include "testing/lab_names.h"
#include "testing/netns/require_root.h"

namespace mipsec::testing {
namespace {

class Figure1WalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MIPSEC_REQUIRE_NETNS();
    ASSERT_TRUE(FindExecutable("dnsmasq").ok()) << "`dnsmasq` not found (scripts/deps.sh)";
    auto net = Figure1Net::Create({.mvpn = Mvpn::kNone, .mipsec_binary = MIPSEC_BINARY});
    ASSERT_TRUE(net.ok()) << net.error().ToString();
    net_ = std::move(*net);
  }
  void TearDown() override {
    if (net_ && HasFailure()) {
      net_->KeepRunDir();
      std::cerr << net_->Describe();
    }
    net_.reset();
  }

  std::unique_ptr<Figure1Net> net_;
};

// R1, R2, R7, R8, R10, R11, R18: one TCP connection to the home address
// survives home -> c -> f -> c -> home, each move's interruption measured.
// (f comes after c on the same kind of link: R7, R8, the FA is used only
// once the link is known to be inside.)
TEST_F(Figure1WalkTest, R1_R2_R8_R11_R18_TcpSessionSurvivesTheIntranetWalk) {
  WalkOptions options;
  options.legs = DefaultWalk();
  const WalkReport r = RunFigure1Walk(*net_, options);
  std::fputs(FormatWalkSummary(r).c_str(), stdout);

  EXPECT_TRUE(r.error.empty()) << r.error << "\n---- mipsec mn ----\n" << r.mn_log;
  ASSERT_TRUE(r.session_opened)
      << "the CN cannot open a TCP connection to the home address at home";
  EXPECT_TRUE(r.session_alive) << r.probe_output;
  ASSERT_EQ(r.legs.size(), options.legs.size());
  EXPECT_TRUE(r.legs[0].ok) << "never at home: " << r.legs[0].error;
  for (std::size_t i = 1; i < r.legs.size(); ++i) {
    const WalkLegResult& leg = r.legs[i];
    EXPECT_TRUE(leg.ok) << leg.label << ": " << leg.error;
    ASSERT_TRUE(leg.gap_ms.has_value()) << leg.label;
    EXPECT_GT(*leg.gap_ms, 0.0) << leg.label
                                << ": a move without any interruption is not a move\n"
                                << r.probe_output;
    EXPECT_LT(*leg.gap_ms, 10000.0) << leg.label;
  }
  EXPECT_TRUE(r.ok());
  // MIPSEC_WALK_LOG=1: the daemon's whole log, to see where a gap went.
  if (getenv("MIPSEC_WALK_LOG") || HasFailure()) std::cerr << r.mn_log;
}

}  // namespace
}  // namespace mipsec::testing

// The Figure 1 walk on real Linux (issue 8 item 5): the real `mipsec mn` in
// the namespace `mn`, the real `mipsec ha` and `mipsec fa`, the mVPN (`mipsec
// gw`, then strongSwan), dnsmasq on every visited network, the nftables
// firewall and NAT, and one long-lived TCP connection from the correspondent
// node to the MN's home address (`mipsec probe`) that must stay up through
// every move -- home -> c -> f -> mc -> mc behind the NAT -> c -> home --
// with the gap of each move measured.
//
// The walk is the namespace lab's (lab/figure1/walk.h), the very code
// `mipsec demo --netns` runs.
#include <stdlib.h>

#include <cstdio>
#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "lab/figure1/figure1_net.h"
#include "lab/figure1/walk.h"
#include "testing/lab_names.h"
#include "testing/netns/require_root.h"
#include "testing/strongswan/require_strongswan.h"

namespace mipsec::testing {
namespace {

class Figure1WalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MIPSEC_REQUIRE_NETNS();
    ASSERT_TRUE(FindExecutable("dnsmasq").ok()) << "`dnsmasq` not found (scripts/deps.sh)";
  }
  void Build(Mvpn mvpn) {
    auto net = Figure1Net::Create({.mvpn = mvpn, .mipsec_binary = MIPSEC_BINARY});
    ASSERT_TRUE(net.ok()) << net.error().ToString();
    net_ = std::move(*net);
  }
  void Walk();
  void TearDown() override {
    if (net_ && HasFailure()) {
      net_->KeepRunDir();
      std::cerr << net_->Describe();
    }
    net_.reset();
  }

  std::unique_ptr<Figure1Net> net_;
};

// One TCP connection to the home address survives issue 8's walk, each
// move's interruption measured: R1 (one home address), R2 and R10 (c), R7
// and R8 (f only after c on that link), R3 and R6 (mc: registered through
// the VPN with the TIA, reverse tunnelled), R5 and R12 (the move behind the
// NAT is MOBIKE alone: same TIA and gateway, no new registration), R11 (the
// probes leave directly), R18 (home only on the HA's authenticated reply).
void Figure1WalkTest::Walk() {
  WalkOptions options;
  options.legs = DefaultWalk();
  // In each place, the operator's view: `mipsec ctl -d mn` on the MN's
  // socket reports the mode, and outside the IKE SA with its TIA.
  std::vector<std::string> views;
  options.on_leg = [&](const WalkLegResult& leg) {
    if (!leg.ok) return;
    const std::string sock = net_->run_dir() + "/mn.sock";
    Result<ExecResult> st =
        net_->topo().Exec("mn", {MIPSEC_BINARY, "ctl", "--socket", sock, "--json", "status"});
    Result<ExecResult> sas = net_->topo().Exec("mn", {MIPSEC_BINARY, "ctl", "--socket", sock, "sas"});
    views.push_back(leg.place + ": " + (st.ok() ? st->out : st.error().ToString()) + "\n" +
                    (sas.ok() ? sas->out : sas.error().ToString()));
    ASSERT_TRUE(st.ok() && st->Success()) << views.back();
    EXPECT_NE(st->out.find("\"mode\": \"" + leg.mode + "\""), std::string::npos) << views.back();
    if (leg.mode == "mc") {
      ASSERT_TRUE(sas.ok() && sas->Success()) << views.back();
      EXPECT_NE(sas->out.find("VPN up: TIA 10.10.0."), std::string::npos) << views.back();
      EXPECT_NE(sas->out.find("ESTABLISHED, initiator"), std::string::npos) << views.back();
      EXPECT_NE(sas->out.find("child: INSTALLED"), std::string::npos) << views.back();
      // No key material in the operator's view (the PSK, the MN-HA key).
      EXPECT_EQ(sas->out.find(std::string(Figure1Net::kPsk)), std::string::npos);
      EXPECT_EQ(sas->out.find(std::string(Figure1Net::kKey)), std::string::npos);
    }
  };
  // R11 and RFC 5266 3.3 on the MN itself: IKE and NAT-T leave by the link,
  // never into the ESP tunnel; direct registrations (UDP 434 from a care-of
  // address) never enter it either. Counted by nftables in `mn`.
  const std::string rules =
      "table inet walkcheck {\n"
      "  counter ike_in_tunnel { }\n  counter ike_on_link { }\n"
      "  counter direct_reg_in_tunnel { }\n  counter reg_in_tunnel { }\n"
      "  chain out {\n    type filter hook output priority filter; policy accept;\n"
      "    oifname \"mipsecvpn0\" udp dport { 500, 4500 } counter name ike_in_tunnel\n"
      "    oifname \"eth0\" udp dport { 500, 4500 } counter name ike_on_link\n"
      "    oifname \"mipsecvpn0\" udp dport 434 ip saddr != 10.10.0.0/24 "
      "counter name direct_reg_in_tunnel\n"
      "    oifname \"mipsecvpn0\" udp dport 434 counter name reg_in_tunnel\n"
      "  }\n}\n";
  Result<std::string> rules_path = net_->WriteConfig("walkcheck.nft", rules);
  ASSERT_TRUE(rules_path.ok());
  ASSERT_TRUE(net_->topo().Run("mn", {"nft", "-f", *rules_path}).ok());
  auto count = [&](const char* name) -> std::uint64_t {
    Result<ExecResult> c =
        net_->topo().Exec("mn", {"nft", "list", "counter", "inet", "walkcheck", name});
    if (!c.ok() || !c->Success()) return ~0ULL;
    const std::size_t at = c->out.find("packets ");
    return at == std::string::npos ? ~0ULL : std::stoull(c->out.substr(at + 8));
  };
  const WalkReport r = RunFigure1Walk(*net_, options);
  EXPECT_EQ(count("ike_in_tunnel"), 0u) << "IKE inside the tunnel";
  EXPECT_EQ(count("direct_reg_in_tunnel"), 0u) << "a direct registration inside the tunnel";
  EXPECT_GT(count("ike_on_link"), 0u) << "no IKE at all: the counters see nothing";
  EXPECT_GT(count("reg_in_tunnel"), 0u) << "no registration through the tunnel (mc, R3)";
  if (getenv("MIPSEC_WALK_LOG")) {
    for (const std::string& v : views) std::cerr << v << "\n";
  }
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

TEST_F(Figure1WalkTest, R1_R3_R5_R6_R8_R11_R12_R18_TcpSessionSurvivesTheWalkWithMipsecGw) {
  Build(Mvpn::kMipsec);
  if (net_) Walk();
}

// RFC 5266 needs no Mobile IP in the gateway: the same walk with strongSwan
// as the mVPN (IKEv2 with MOBIKE and NAT-T, TIAs routable in the intranet,
// mvpn-policy.nft passing Mobile IPv4 to the i-HA).
TEST_F(Figure1WalkTest, R1_R3_R5_R6_R8_R11_R12_R18_TcpSessionSurvivesTheWalkWithStrongswan) {
  MIPSEC_REQUIRE_STRONGSWAN();
  Build(Mvpn::kStrongswan);
  if (net_) Walk();
}

}  // namespace
}  // namespace mipsec::testing

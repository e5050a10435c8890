// The gateway's RFC 5265 4.2 policy as an nftables script and its MOBIKE
// path policy (no root). The rules' effect on real traffic: scenarios/ikev2
// (GwInterop.Rfc5265Policy*).
#include "platform/linux/ikev2/gw_daemon.h"

#include <gtest/gtest.h>

namespace mipsec::ikev2d {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }
Ipv4Prefix P(const char* s) { return *Ipv4Prefix::Parse(s); }

// RFC 4555 3.5: moves into the intranet or the TIA pool are refused
// (UNACCEPTABLE_ADDRESSES); any outside address, NAT'd or not, is accepted.
TEST(OutsideOnlyPolicy, RefusesInsideAddressesOnly) {
  const OutsideOnlyPolicy p({P("192.0.2.0/25"), P("192.0.2.128/25"), P("10.50.0.0/16")});
  const Ipv4Endpoint gw{A("203.0.113.2"), 4500};
  EXPECT_TRUE(p.Acceptable(gw, {A("198.51.100.130"), 4500}));
  EXPECT_TRUE(p.Acceptable(gw, {A("203.0.113.1"), 40461}));
  EXPECT_FALSE(p.Acceptable(gw, {A("192.0.2.10"), 4500}));
  EXPECT_FALSE(p.Acceptable(gw, {A("192.0.2.200"), 4500}));
  EXPECT_FALSE(p.Acceptable(gw, {A("10.50.3.4"), 61000}));
  EXPECT_TRUE(p.Acceptable(gw, {A("10.51.0.1"), 4500}));
}

TEST(PolicyNftScript, AllowRulesThenCountedDropOnBothHooks) {
  config::GwPolicy pol;
  pol.i_ha = {A("192.0.2.10")};
  pol.rules.push_back({17, P("192.0.2.10/32"), 434, 434});
  pol.rules.push_back({4, P("192.0.2.10/32"), 0, 0xffff});
  pol.rules.push_back({1, P("192.0.2.0/25"), 0, 0xffff});
  pol.rules.push_back({6, P("192.0.2.0/25"), 8000, 8080});
  const std::string s = PolicyNftScript(pol, "mipsecgw0", "mipsec_mipsecgw0");
  EXPECT_NE(s.find("flush table ip mipsec_mipsecgw0"), std::string::npos);
  EXPECT_NE(s.find("iifname \"mipsecgw0\" ip daddr 192.0.2.10/32 udp dport 434 accept"),
            std::string::npos);
  EXPECT_NE(s.find("iifname \"mipsecgw0\" ip daddr 192.0.2.10/32 meta l4proto 4 accept"),
            std::string::npos);
  EXPECT_NE(s.find("ip daddr 192.0.2.0/25 meta l4proto 1 accept"), std::string::npos);
  EXPECT_NE(s.find("ip daddr 192.0.2.0/25 tcp dport 8000-8080 accept"), std::string::npos);
  // The drop comes last in each chain, and both hooks are covered.
  const auto fwd = s.find("hook forward");
  const auto in = s.find("hook input");
  ASSERT_NE(fwd, std::string::npos);
  ASSERT_NE(in, std::string::npos);
  const auto drop1 = s.find("counter name policy_drops drop", fwd);
  EXPECT_LT(drop1, in);
  EXPECT_GT(drop1, s.find("tcp dport 8000-8080", fwd));
  EXPECT_NE(s.find("counter name policy_drops drop", in), std::string::npos);
}

}  // namespace
}  // namespace mipsec::ikev2d

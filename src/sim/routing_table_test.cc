#include "sim/routing_table.h"

#include <gtest/gtest.h>

namespace mipsec::sim {
namespace {

Ipv4Prefix P(const char* s) { return *Ipv4Prefix::Parse(s); }
Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

TEST(RoutingTableTest, LongestPrefixWins) {
  RoutingTable t;
  t.Add({P("0.0.0.0/0"), 1, A("10.0.0.1"), 0});
  t.Add({P("10.1.0.0/16"), 2, std::nullopt, 0});
  t.Add({P("10.1.2.0/24"), 3, A("10.1.0.9"), 0});
  EXPECT_EQ(t.Lookup(A("10.1.2.3"))->ifindex, 3);
  EXPECT_EQ(t.Lookup(A("10.1.9.9"))->ifindex, 2);
  EXPECT_EQ(t.Lookup(A("8.8.8.8"))->ifindex, 1);
  EXPECT_EQ(*t.Lookup(A("8.8.8.8"))->gateway, A("10.0.0.1"));
}

// A socket bound to a device (SO_BINDTODEVICE) ignores other devices'
// routes, e.g. a VPN's more specific one (RFC 5266 R11: the direct probe).
TEST(RoutingTableTest, LookupViaAnInterfaceIgnoresOtherInterfacesRoutes) {
  RoutingTable t;
  t.Add({P("0.0.0.0/0"), 1, A("10.2.0.1"), 0});
  t.Add({P("10.2.0.0/24"), 1, std::nullopt, 0});
  t.Add({P("10.0.0.0/8"), 7, std::nullopt, 0});  // into the tunnel
  EXPECT_EQ(t.Lookup(A("10.1.0.2"))->ifindex, 7);
  EXPECT_EQ(*t.LookupVia(A("10.1.0.2"), 1)->gateway, A("10.2.0.1"));
  EXPECT_FALSE(t.LookupVia(A("10.2.0.5"), 1)->gateway);
  EXPECT_FALSE(t.LookupVia(A("10.1.0.2"), 3));
}

TEST(RoutingTableTest, MetricBreaksTiesAndReplaceIsByPrefixAndMetric) {
  RoutingTable t;
  t.Add({P("192.0.2.0/24"), 1, std::nullopt, 10});
  t.Add({P("192.0.2.0/24"), 2, std::nullopt, 5});
  EXPECT_EQ(t.Lookup(A("192.0.2.1"))->ifindex, 2);
  t.Add({P("192.0.2.0/24"), 3, std::nullopt, 5});  // replaces metric 5
  EXPECT_EQ(t.routes().size(), 2u);
  EXPECT_EQ(t.Lookup(A("192.0.2.1"))->ifindex, 3);
}

TEST(RoutingTableTest, NoRouteAndRemoval) {
  RoutingTable t;
  EXPECT_FALSE(t.Lookup(A("1.2.3.4")).has_value());
  t.Add({P("10.0.0.0/8"), 1, std::nullopt, 0});
  t.Add({P("172.16.0.0/12"), 2, std::nullopt, 0});
  EXPECT_EQ(t.RemoveInterface(1), 1u);
  EXPECT_FALSE(t.Lookup(A("10.0.0.1")).has_value());
  EXPECT_EQ(t.Remove(P("172.16.0.0/12")), 1u);
  EXPECT_TRUE(t.routes().empty());
}

}  // namespace
}  // namespace mipsec::sim

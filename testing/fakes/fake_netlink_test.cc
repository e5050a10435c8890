#include "testing/fakes/fake_netlink.h"

#include <gtest/gtest.h>

#include "testing/fakes/netlink_contract.h"
#include "testing/fakes/test_addresses.h"

namespace mipsec::testing {
namespace {

using platform::LinkChanged;
using platform::NetlinkEvent;
using platform::Route;
using platform::RouteType;

// The same scenario LinuxNetlink passes against the kernel
// (src/platform/linux/netlink_test.cc).
TEST(FakeNetlink, PassesTheNetlinkContract) {
  FakeNetlink nl;
  RunNetlinkContract(nl);
  EXPECT_EQ(nl.monitor_count(), 0u);
}

TEST(FakeNetlink, CarrierDrivesRunningAndIsReported) {
  FakeNetlink nl;
  int wlan = nl.AddLink("wlan0", "wifi");
  auto mon = nl.Subscribe(platform::kLinkEvents);
  ASSERT_TRUE(mon.ok());
  ASSERT_TRUE(nl.SetLinkUp(wlan, true).ok());
  EXPECT_TRUE(nl.GetLink(wlan)->running);
  ASSERT_TRUE(nl.SetCarrier(wlan, false).ok());  // walked out of coverage
  EXPECT_FALSE(nl.GetLink(wlan)->running);
  EXPECT_TRUE(nl.GetLink(wlan)->up);
  auto events = DrainEvents(**mon);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(std::get<LinkChanged>(events[0]).link.running);
  EXPECT_FALSE(std::get<LinkChanged>(events[1]).link.running);
  ASSERT_TRUE(nl.SetCarrier(wlan, false).ok());  // no change, no event
  EXPECT_TRUE(DrainEvents(**mon).empty());
}

TEST(FakeNetlink, LinkDownRemovesRoutesAndLookupFollows) {
  FakeNetlink nl;
  int eth = nl.AddLink("eth0");
  int wlan = nl.AddLink("wlan0");
  ASSERT_TRUE(nl.AddAddress(eth, Ifa("192.168.1.10/24")).ok());
  ASSERT_TRUE(nl.AddAddress(wlan, Ifa("172.20.0.10/16")).ok());
  ASSERT_TRUE(nl.SetLinkUp(eth, true).ok());
  ASSERT_TRUE(nl.SetLinkUp(wlan, true).ok());
  Route d1{Ipv4Prefix(), Ip("192.168.1.1")};
  d1.metric = 100;
  Route d2{Ipv4Prefix(), Ip("172.20.0.1")};
  d2.metric = 600;
  ASSERT_TRUE(nl.AddRoute(d1).ok());
  ASSERT_TRUE(nl.AddRoute(d2).ok());
  auto via = nl.LookupRoute(Ip("8.8.8.8"));
  ASSERT_TRUE(via.ok());
  EXPECT_EQ(via->oif, eth);
  EXPECT_EQ(via->source, Ip("192.168.1.10"));
  // The mobile node loses eth0: traffic now leaves by wlan0 with its address.
  ASSERT_TRUE(nl.SetLinkUp(eth, false).ok());
  via = nl.LookupRoute(Ip("8.8.8.8"));
  ASSERT_TRUE(via.ok());
  EXPECT_EQ(via->oif, wlan);
  EXPECT_EQ(via->gateway, Ip("172.20.0.1"));
  EXPECT_EQ(via->source, Ip("172.20.0.10"));
}

TEST(FakeNetlink, InjectedOverrunAndGroupFiltering) {
  FakeNetlink nl;
  auto routes_only = nl.Subscribe(platform::kRouteEvents);
  auto all =
      nl.Subscribe(platform::kLinkEvents | platform::kAddressEvents | platform::kRouteEvents);
  ASSERT_TRUE(routes_only.ok());
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(nl.Subscribe(0).ok());
  EXPECT_FALSE(nl.Subscribe(1u << 9).ok());
  int eth = nl.AddLink("eth0");
  ASSERT_TRUE(nl.AddAddress(eth, Ifa("192.168.1.10/24")).ok());
  auto r = DrainEvents(**routes_only);
  ASSERT_EQ(r.size(), 1u);  // the local route (the link is down: no connected route)
  EXPECT_TRUE(std::holds_alternative<platform::RouteChanged>(r[0]));
  EXPECT_EQ(DrainEvents(**all).size(), 3u);  // link, local route, address
  nl.InjectEventsLost();
  auto lost = DrainEvents(**all);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<platform::EventsLost>(lost[0]));
  EXPECT_EQ(nl.monitor_count(), 2u);
  routes_only->reset();
  EXPECT_EQ(nl.monitor_count(), 1u);
}

}  // namespace
}  // namespace mipsec::testing

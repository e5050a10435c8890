// LinuxNetlink against the kernel, each test in a network namespace of its
// own (RunInNewNetns), so the host's links, addresses and routes are never
// touched.
#include "platform/linux/netlink.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "platform/linux/epoll_event_loop.h"
#include "testing/fakes/netlink_contract.h"
#include "testing/fakes/netns_child.h"
#include "testing/require_root.h"
#include "testing/fakes/test_addresses.h"

namespace mipsec::platform {
namespace {

using mipsec::testing::DrainEvents;
using mipsec::testing::Ifa;
using mipsec::testing::Ip;
using mipsec::testing::Pfx;
using mipsec::testing::RunInNewNetns;

std::unique_ptr<LinuxNetlink> OpenNetlink() {
  auto nl = LinuxNetlink::Open();
  EXPECT_TRUE(nl.ok()) << nl.error().ToString();
  return nl.ok() ? std::move(nl).value() : nullptr;
}

TEST(LinuxNetlink, PassesTheNetlinkContract) {
  MIPSEC_REQUIRE_ROOT();
  ::testing::AssertionResult child = RunInNewNetns([] {
    auto nl = OpenNetlink();
    ASSERT_NE(nl, nullptr);
    mipsec::testing::RunNetlinkContract(*nl);
  });
  EXPECT_TRUE(child);
}

TEST(LinuxNetlink, KernelRefusalNamesTheOperationAndCarriesTheKernelsReason) {
  MIPSEC_REQUIRE_ROOT();
  ::testing::AssertionResult child = RunInNewNetns([] {
    auto nl = OpenNetlink();
    ASSERT_NE(nl, nullptr);
    Status s = nl->AddAddress(1, Ifa("127.0.0.1/8"));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code(), Errc::kSystem);
    EXPECT_EQ(
        s.error().detail().rfind("netlink RTM_NEWADDR 127.0.0.1/8 on ifindex 1: File exists", 0),
        0u)
        << s.error().detail();
    // The kernel explains some refusals (extended ack): keep its words.
    Route r;
    r.destination = Pfx("10.8.0.0/16");
    r.gateway = Ip("10.5.0.7");  // on no connected prefix
    s = nl->AddRoute(r);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().detail().find("netlink RTM_NEWROUTE 10.8.0.0/16 via 10.5.0.7 table 254: "),
              std::string::npos)
        << s.error().detail();
    EXPECT_NE(s.error().detail().find("(kernel: Nexthop has invalid gateway)"), std::string::npos)
        << s.error().detail();
  });
  EXPECT_TRUE(child);
}

TEST(LinuxNetlink, MonitorIsPollableByTheEventLoop) {
  MIPSEC_REQUIRE_ROOT();
  ::testing::AssertionResult child = RunInNewNetns([] {
    auto nl = OpenNetlink();
    ASSERT_NE(nl, nullptr);
    auto loop = EpollEventLoop::Create();
    ASSERT_TRUE(loop.ok());
    auto mon = nl->Subscribe(kAddressEvents);
    ASSERT_TRUE(mon.ok()) << mon.error().ToString();
    std::vector<NetlinkEvent> seen;
    ASSERT_TRUE(
        (*loop)
            ->RegisterFd(
                (*mon)->fd(), kReadable,
                [&](std::uint32_t) {
                  ASSERT_TRUE(
                      (*mon)->Dispatch([&](const NetlinkEvent& e) { seen.push_back(e); }).ok());
                })
            .ok());
    Status added_status = nl->AddAddress(1, Ifa("127.0.0.7/8"));
    ASSERT_TRUE(added_status.ok()) << added_status.error().ToString();
    for (int i = 0; i < 100 && seen.empty(); ++i)
      ASSERT_TRUE((*loop)->RunOnce(Duration::Millis(20)).ok());
    ASSERT_EQ(seen.size(), 1u);  // address events only: no route events subscribed
    auto* added = std::get_if<AddressAdded>(&seen[0]);
    ASSERT_NE(added, nullptr);
    EXPECT_EQ(added->address.ifindex, 1);
    EXPECT_EQ(added->address.local, Ifa("127.0.0.7/8"));
    ASSERT_TRUE((*loop)->UnregisterFd((*mon)->fd()).ok());
  });
  EXPECT_TRUE(child);
}

TEST(LinuxNetlink, RoutesInAnotherTableAndLookupWithSourceAndOif) {
  MIPSEC_REQUIRE_ROOT();
  ::testing::AssertionResult child = RunInNewNetns([] {
    auto nl = OpenNetlink();
    ASSERT_NE(nl, nullptr);
    ASSERT_TRUE(nl->CreateVethPair("rt0", "rt1").ok());
    int a = nl->GetLinkByName("rt0")->ifindex;
    int b = nl->GetLinkByName("rt1")->ifindex;
    ASSERT_TRUE(nl->AddAddress(a, Ifa("10.3.0.1/24")).ok());
    ASSERT_TRUE(nl->AddAddress(a, Ifa("10.4.0.1/24")).ok());
    ASSERT_TRUE(nl->SetLinkUp(a, true).ok());
    ASSERT_TRUE(nl->SetLinkUp(b, true).ok());

    Route r;
    r.destination = Pfx("172.16.0.0/12");
    r.gateway = Ip("10.3.0.254");
    r.table = 1000;  // above 255: carried in RTA_TABLE only
    r.metric = 7;
    ASSERT_TRUE(nl->AddRoute(r).ok());
    auto routes = nl->ListRoutes(1000);
    ASSERT_TRUE(routes.ok());
    ASSERT_EQ(routes->size(), 1u);
    EXPECT_EQ((*routes)[0].destination, r.destination);
    EXPECT_EQ((*routes)[0].table, 1000u);
    EXPECT_EQ((*routes)[0].metric, 7u);
    // Not in main: the lookup (main table) finds nothing.
    EXPECT_FALSE(nl->LookupRoute(Ip("172.16.1.1")).ok());
    ASSERT_TRUE(nl->DeleteRoute(r).ok());
    EXPECT_TRUE(nl->ListRoutes(1000)->empty());

    // Preferred source on a route, and lookups as if from a source / out of an oif.
    Route d;
    d.destination = Ipv4Prefix();
    d.gateway = Ip("10.3.0.254");
    d.preferred_source = Ip("10.4.0.1");
    ASSERT_TRUE(nl->AddRoute(d).ok());
    auto look = nl->LookupRoute(Ip("8.8.8.8"));
    ASSERT_TRUE(look.ok()) << look.error().ToString();
    EXPECT_EQ(look->source, Ip("10.4.0.1"));
    EXPECT_EQ(look->gateway, Ip("10.3.0.254"));
    EXPECT_EQ(look->oif, a);
    look = nl->LookupRoute(Ip("8.8.8.8"), Ip("10.3.0.1"), a);
    ASSERT_TRUE(look.ok()) << look.error().ToString();
    EXPECT_EQ(look->oif, a);
  });
  EXPECT_TRUE(child);
}

// Neighbour entries as `ip neigh` makes them: found on their interface
// only, with their link-layer address and state; an entry without a usable
// address is reported as such; an unknown address is absent.
TEST(LinuxNetlink, NeighboursAsIproute2MadeThem) {
  MIPSEC_REQUIRE_ROOT();
  ::testing::AssertionResult child = RunInNewNetns([] {
    auto nl = OpenNetlink();
    ASSERT_NE(nl, nullptr);
    ASSERT_TRUE(nl->CreateVethPair("nb0", "nb1").ok());
    int a = nl->GetLinkByName("nb0")->ifindex;
    int b = nl->GetLinkByName("nb1")->ifindex;
    ASSERT_TRUE(nl->AddAddress(a, Ifa("10.6.0.1/24")).ok());
    ASSERT_TRUE(nl->AddAddress(b, Ifa("10.7.0.1/24")).ok());
    ASSERT_TRUE(nl->SetLinkUp(a, true).ok());
    ASSERT_TRUE(nl->SetLinkUp(b, true).ok());
    ASSERT_EQ(std::system("ip neigh replace 10.6.0.9 lladdr 02:00:5e:00:00:09 dev nb0 nud "
                          "permanent && ip neigh replace 10.6.0.10 lladdr 02:00:5e:00:00:0a dev "
                          "nb0 nud stale && ip neigh replace 10.7.0.9 lladdr 02:00:5e:00:00:99 "
                          "dev nb1 nud permanent && ip neigh replace 10.6.0.11 dev nb0 nud "
                          "failed"),
              0);

    auto perm = nl->GetNeighbour(a, Ip("10.6.0.9"));
    ASSERT_TRUE(perm.ok()) << perm.error().ToString();
    ASSERT_TRUE(perm->has_value());
    EXPECT_EQ((*perm)->ifindex, a);
    ASSERT_TRUE((*perm)->lladdr.has_value());
    EXPECT_EQ(*(*perm)->lladdr, (std::array<std::uint8_t, 6>{0x02, 0x00, 0x5e, 0x00, 0x00, 0x09}));
    EXPECT_TRUE((*perm)->Usable());

    auto stale = nl->GetNeighbour(a, Ip("10.6.0.10"));
    ASSERT_TRUE(stale.ok() && stale->has_value());
    EXPECT_EQ(*(*stale)->lladdr, (std::array<std::uint8_t, 6>{0x02, 0x00, 0x5e, 0x00, 0x00, 0x0a}));
    EXPECT_TRUE((*stale)->Usable());

    auto failed = nl->GetNeighbour(a, Ip("10.6.0.11"));
    ASSERT_TRUE(failed.ok() && failed->has_value());
    EXPECT_FALSE((*failed)->Usable()) << "state " << (*failed)->state;

    // Another interface's entry is not this interface's.
    auto other = nl->GetNeighbour(a, Ip("10.7.0.9"));
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE(other->has_value());
    auto there = nl->GetNeighbour(b, Ip("10.7.0.9"));
    ASSERT_TRUE(there.ok() && there->has_value());
    EXPECT_EQ(*(*there)->lladdr, (std::array<std::uint8_t, 6>{0x02, 0x00, 0x5e, 0x00, 0x00, 0x99}));

    auto none = nl->GetNeighbour(a, Ip("10.6.0.99"));
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());

    auto all = nl->ListNeighbours();
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->size(), 4u);
    auto on_a = nl->ListNeighbours(a);
    ASSERT_TRUE(on_a.ok());
    EXPECT_EQ(on_a->size(), 3u);
  });
  EXPECT_TRUE(child);
}

// What `ip rule show` prints in the calling thread's namespace.
std::string IpRuleShow() {
  std::string out;
  FILE* p = popen("ip -4 rule show 2>&1", "r");
  if (p == nullptr) return out;
  char buf[256];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  pclose(p);
  return out;
}

TEST(LinuxNetlink, PolicyRulesSteerLookupsAndAgreeWithIproute2) {
  MIPSEC_REQUIRE_ROOT();
  ::testing::AssertionResult child = RunInNewNetns([] {
    auto nl = OpenNetlink();
    ASSERT_NE(nl, nullptr);
    ASSERT_TRUE(nl->CreateVethPair("ru0", "ru1").ok());
    int a = nl->GetLinkByName("ru0")->ifindex;
    ASSERT_TRUE(nl->AddAddress(a, Ifa("10.3.0.1/24")).ok());
    ASSERT_TRUE(nl->SetLinkUp(a, true).ok());
    ASSERT_TRUE(nl->SetLinkUp(nl->GetLinkByName("ru1")->ifindex, true).ok());
    Route d;
    d.destination = Ipv4Prefix();
    d.gateway = Ip("10.3.0.254");
    d.table = 1000;
    ASSERT_TRUE(nl->AddRoute(d).ok());
    // No default route in main: nothing reaches 8.8.8.8 yet.
    EXPECT_FALSE(nl->LookupRoute(Ip("8.8.8.8"), Ip("10.3.0.1")).ok());

    const Rule from{Pfx("10.3.0.1/32"), "", 1000, 500};
    const Rule with_iif{Pfx("192.0.2.10/32"), "ru0", 1000, 501};
    ASSERT_TRUE(nl->AddRule(from).ok());
    ASSERT_TRUE(nl->AddRule(with_iif).ok());
    auto look = nl->LookupRoute(Ip("8.8.8.8"), Ip("10.3.0.1"));
    ASSERT_TRUE(look.ok()) << look.error().ToString();
    // Only table 1000 has a route there (the kernel reports the table as
    // main unless asked with RTM_F_LOOKUP_TABLE).
    EXPECT_EQ(look->gateway, Ip("10.3.0.254"));
    EXPECT_EQ(look->oif, a);

    std::string shown = IpRuleShow();
    EXPECT_NE(shown.find("500:\tfrom 10.3.0.1 lookup 1000"), std::string::npos) << shown;
    EXPECT_NE(shown.find("501:\tfrom 192.0.2.10 iif ru0 lookup 1000"), std::string::npos)
        << shown;
    auto rules = nl->ListRules();
    ASSERT_TRUE(rules.ok());
    ASSERT_EQ(rules->size(), 5u);
    EXPECT_EQ((*rules)[1], from);
    EXPECT_EQ((*rules)[2], with_iif);

    ASSERT_TRUE(nl->DeleteRule(from).ok());
    ASSERT_TRUE(nl->DeleteRule(with_iif).ok());
    EXPECT_FALSE(nl->LookupRoute(Ip("8.8.8.8"), Ip("10.3.0.1")).ok());
    EXPECT_EQ(IpRuleShow().find("lookup 1000"), std::string::npos);
  });
  EXPECT_TRUE(child);
}

}  // namespace
}  // namespace mipsec::platform

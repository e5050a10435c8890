#include "testing/fakes/netlink_contract.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <string>

#include "testing/fakes/test_addresses.h"

namespace mipsec::testing {

using platform::AddressAdded;
using platform::AddressRemoved;
using platform::LinkChanged;
using platform::LinkInfo;
using platform::LinkRemoved;
using platform::NetlinkEvent;
using platform::Route;
using platform::RouteChanged;
using platform::RouteType;

namespace {

constexpr std::uint8_t kProtoKernel = 2;

template <typename T, typename Pred>
bool HasEvent(const std::vector<NetlinkEvent>& events, Pred pred) {
  return std::any_of(events.begin(), events.end(), [&](const NetlinkEvent& e) {
    const T* v = std::get_if<T>(&e);
    return v != nullptr && pred(*v);
  });
}

bool HasRoute(const std::vector<Route>& routes, Ipv4Prefix dst, int oif) {
  return std::any_of(routes.begin(), routes.end(),
                     [&](const Route& r) { return r.destination == dst && r.oif == oif; });
}

// Link state settles asynchronously on Linux (linkwatch): poll.
LinkInfo WaitForRunning(platform::Netlink& nl, int ifindex, bool running) {
  LinkInfo l;
  for (int i = 0; i < 300; ++i) {
    auto r = nl.GetLink(ifindex);
    if (!r.ok()) {
      ADD_FAILURE() << r.error().ToString();
      return l;
    }
    l = *r;
    if (l.running == running) return l;
    poll(nullptr, 0, 10);
  }
  ADD_FAILURE() << "ifindex " << ifindex << " never became running=" << running;
  return l;
}

template <typename R>
void ExpectKernelError(const R& s, const std::string& needle) {
  ASSERT_FALSE(s.ok()) << "expected a failure containing '" << needle << "'";
  EXPECT_EQ(s.error().code(), Errc::kSystem);
  EXPECT_NE(s.error().detail().find(needle), std::string::npos) << s.error().detail();
}

}  // namespace

std::vector<NetlinkEvent> DrainEvents(platform::NetlinkMonitor& monitor, int wait_ms) {
  std::vector<NetlinkEvent> out;
  pollfd p{monitor.fd(), POLLIN, 0};
  poll(&p, 1, wait_ms);
  auto r = monitor.Dispatch([&](const NetlinkEvent& e) { out.push_back(e); });
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  if (r.ok()) {
    EXPECT_EQ(*r, out.size());
  }
  return out;
}

void RunNetlinkContract(platform::Netlink& nl) {
  // --- lo ---
  auto links = nl.ListLinks();
  ASSERT_TRUE(links.ok()) << links.error().ToString();
  ASSERT_EQ(links->size(), 1u) << "the contract needs an empty namespace";
  EXPECT_EQ((*links)[0].name, "lo");
  EXPECT_TRUE((*links)[0].loopback);
  EXPECT_TRUE((*links)[0].up);
  const int lo = (*links)[0].ifindex;
  auto lo_addrs = nl.ListAddresses(lo);
  ASSERT_TRUE(lo_addrs.ok());
  ASSERT_EQ(lo_addrs->size(), 1u);
  EXPECT_EQ((*lo_addrs)[0].local, Ifa("127.0.0.1/8"));
  auto lo_local = nl.LookupRoute(Ip("127.0.0.9"));
  ASSERT_TRUE(lo_local.ok()) << lo_local.error().ToString();
  EXPECT_EQ(lo_local->type, RouteType::kLocal);
  EXPECT_EQ(lo_local->source, Ip("127.0.0.1"));

  auto monitor_or =
      nl.Subscribe(platform::kLinkEvents | platform::kAddressEvents | platform::kRouteEvents);
  ASSERT_TRUE(monitor_or.ok()) << monitor_or.error().ToString();
  platform::NetlinkMonitor& monitor = **monitor_or;
  EXPECT_TRUE(DrainEvents(monitor).empty());

  // --- links ---
  ASSERT_TRUE(nl.CreateVethPair("mct0", "mct1").ok());
  ExpectKernelError(nl.CreateVethPair("mct0", "mct9"), "File exists");
  auto a_or = nl.GetLinkByName("mct0");
  auto b_or = nl.GetLinkByName("mct1");
  ASSERT_TRUE(a_or.ok()) << a_or.error().ToString();
  ASSERT_TRUE(b_or.ok()) << b_or.error().ToString();
  const int a = a_or->ifindex;
  const int b = b_or->ifindex;
  EXPECT_NE(a, b);
  EXPECT_EQ(a_or->kind, "veth");
  EXPECT_FALSE(a_or->up);
  EXPECT_FALSE(a_or->running);
  auto events = DrainEvents(monitor, 1000);
  EXPECT_TRUE(HasEvent<LinkChanged>(
      events, [&](const LinkChanged& e) { return e.link.ifindex == a && e.link.name == "mct0"; }));
  ExpectKernelError(nl.GetLinkByName("nosuchlink0"), "No such device");
  ExpectKernelError(nl.GetLink(9999), "No such device");

  ASSERT_TRUE(nl.SetMtu(a, 1400).ok());
  EXPECT_EQ(nl.GetLink(a)->mtu, 1400u);
  ExpectKernelError(nl.SetMtu(a, 20), "Invalid argument");

  // --- addresses (link still down) ---
  const platform::InterfaceAddress addr = Ifa("10.1.0.1/24");
  ASSERT_TRUE(nl.AddAddress(a, addr).ok());
  ExpectKernelError(nl.AddAddress(a, addr), "netlink RTM_NEWADDR 10.1.0.1/24 on ifindex " +
                                                std::to_string(a) + ": File exists");
  auto addrs = nl.ListAddresses(a);
  ASSERT_TRUE(addrs.ok());
  ASSERT_EQ(addrs->size(), 1u);
  EXPECT_EQ((*addrs)[0].local, addr);
  EXPECT_EQ((*addrs)[0].ifindex, a);
  EXPECT_EQ(nl.ListAddresses()->size(), 2u);  // lo's and ours
  events = DrainEvents(monitor, 1000);
  EXPECT_TRUE(HasEvent<AddressAdded>(events, [&](const AddressAdded& e) {
    return e.address.ifindex == a && e.address.local == addr;
  }));
  // Down: no connected route, so a gateway behind it is unreachable.
  EXPECT_FALSE(HasRoute(*nl.ListRoutes(), Pfx("10.1.0.0/24"), a));
  Route via;
  via.destination = Pfx("10.9.0.0/16");
  via.gateway = Ip("10.1.0.2");
  via.metric = 10;
  ExpectKernelError(nl.AddRoute(via), "Network is unreachable");
  Route direct;
  direct.destination = Pfx("10.9.0.0/16");
  direct.oif = a;
  ExpectKernelError(nl.AddRoute(direct), "Network is down");
  direct.oif = 0;
  ExpectKernelError(nl.AddRoute(direct), "No such device");
  ExpectKernelError(nl.AddAddress(9999, addr), "No such device");

  // --- up ---
  ASSERT_TRUE(nl.SetLinkUp(a, true).ok());
  ASSERT_TRUE(nl.SetLinkUp(b, true).ok());
  EXPECT_TRUE(WaitForRunning(nl, a, true).up);
  auto connected = nl.ListRoutes();
  ASSERT_TRUE(connected.ok());
  auto c = std::find_if(connected->begin(), connected->end(),
                        [&](const Route& r) { return r.destination == Pfx("10.1.0.0/24"); });
  ASSERT_NE(c, connected->end()) << "no connected route after up";
  EXPECT_EQ(c->oif, a);
  EXPECT_EQ(c->protocol, kProtoKernel);
  EXPECT_EQ(c->preferred_source, addr.address);
  EXPECT_EQ(c->gateway, Ipv4Address::Any());
  events = DrainEvents(monitor, 1000);
  EXPECT_TRUE(HasEvent<LinkChanged>(
      events, [&](const LinkChanged& e) { return e.link.ifindex == a && e.link.up; }));

  // --- routes ---
  ASSERT_TRUE(nl.AddRoute(via).ok());
  ExpectKernelError(nl.AddRoute(via), "File exists");
  ASSERT_TRUE(nl.ReplaceRoute(via).ok());
  auto main_routes = nl.ListRoutes();
  ASSERT_TRUE(main_routes.ok());
  auto v = std::find_if(main_routes->begin(), main_routes->end(),
                        [&](const Route& r) { return r.destination == via.destination; });
  ASSERT_NE(v, main_routes->end());
  EXPECT_EQ(v->gateway, via.gateway);
  EXPECT_EQ(v->oif, a);  // resolved from the gateway
  EXPECT_EQ(v->metric, 10u);
  EXPECT_EQ(v->type, RouteType::kUnicast);
  events = DrainEvents(monitor, 1000);
  EXPECT_TRUE(HasEvent<RouteChanged>(events, [&](const RouteChanged& e) {
    return !e.removed && e.route.destination == via.destination && e.route.gateway == via.gateway;
  }));

  auto look = nl.LookupRoute(Ip("10.9.1.1"));
  ASSERT_TRUE(look.ok()) << look.error().ToString();
  EXPECT_EQ(look->type, RouteType::kUnicast);
  EXPECT_EQ(look->oif, a);
  EXPECT_EQ(look->gateway, via.gateway);
  EXPECT_EQ(look->source, addr.address);
  look = nl.LookupRoute(Ip("10.1.0.77"));
  ASSERT_TRUE(look.ok()) << look.error().ToString();
  EXPECT_EQ(look->oif, a);
  EXPECT_EQ(look->gateway, Ipv4Address::Any());
  EXPECT_EQ(look->source, addr.address);
  look = nl.LookupRoute(addr.address);
  ASSERT_TRUE(look.ok());
  EXPECT_EQ(look->type, RouteType::kLocal);
  auto none = nl.LookupRoute(Ip("198.51.100.1"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().detail().find("netlink RTM_GETROUTE 198.51.100.1: Network is unreachable"),
            std::string::npos)
      << none.error().detail();

  // A more specific route wins; a gateway off every connected prefix is refused.
  Route host;
  host.destination = Pfx("10.9.7.0/24");
  host.oif = a;
  ASSERT_TRUE(nl.AddRoute(host).ok());
  look = nl.LookupRoute(Ip("10.9.7.7"));
  ASSERT_TRUE(look.ok());
  EXPECT_EQ(look->gateway, Ipv4Address::Any());
  Route offlink = via;
  offlink.destination = Pfx("10.8.0.0/16");
  offlink.gateway = Ip("10.5.0.7");
  ExpectKernelError(nl.AddRoute(offlink),
                    "netlink RTM_NEWROUTE 10.8.0.0/16 via 10.5.0.7 metric 10 "
                    "table 254: Network is unreachable");
  // Blackhole and unreachable routes: the lookup fails the way the kernel's does.
  Route blackhole;
  blackhole.destination = Pfx("10.66.0.0/16");
  blackhole.type = RouteType::kBlackhole;
  ASSERT_TRUE(nl.AddRoute(blackhole).ok());
  ExpectKernelError(nl.LookupRoute(Ip("10.66.0.1")), "Invalid argument");
  Route unreachable;
  unreachable.destination = Pfx("10.67.0.0/16");
  unreachable.type = RouteType::kUnreachable;
  ASSERT_TRUE(nl.AddRoute(unreachable).ok());
  ExpectKernelError(nl.LookupRoute(Ip("10.67.0.1")), "No route to host");
  ASSERT_TRUE(nl.DeleteRoute(blackhole).ok());
  ASSERT_TRUE(nl.DeleteRoute(unreachable).ok());

  ASSERT_TRUE(nl.DeleteRoute(via).ok());
  ExpectKernelError(nl.DeleteRoute(via), "No such process");
  ASSERT_TRUE(nl.DeleteRoute(host).ok());
  events = DrainEvents(monitor, 1000);
  EXPECT_TRUE(HasEvent<RouteChanged>(events, [&](const RouteChanged& e) {
    return e.removed && e.route.destination == via.destination;
  }));
  EXPECT_FALSE(nl.LookupRoute(Ip("10.9.1.1")).ok());

  // --- down, address removal, link removal ---
  ASSERT_TRUE(nl.SetLinkUp(a, false).ok());
  EXPECT_FALSE(HasRoute(*nl.ListRoutes(), Pfx("10.1.0.0/24"), a));
  events = DrainEvents(monitor, 1000);
  EXPECT_TRUE(HasEvent<LinkChanged>(events, [&](const LinkChanged& e) {
    return e.link.ifindex == a && !e.link.up && !e.link.running;
  }));
  // The kernel flushes routes of a link going down without RTM_DELROUTE;
  // listeners must re-read the routes on LinkChanged.
  EXPECT_FALSE(HasEvent<RouteChanged>(events, [&](const RouteChanged& e) {
    return e.removed && e.route.destination == Pfx("10.1.0.0/24");
  }));
  ASSERT_TRUE(nl.DeleteAddress(a, addr).ok());
  ExpectKernelError(nl.DeleteAddress(a, addr), "Cannot assign requested address");
  EXPECT_TRUE(nl.ListAddresses(a)->empty());
  events = DrainEvents(monitor, 1000);
  EXPECT_TRUE(HasEvent<AddressRemoved>(events, [&](const AddressRemoved& e) {
    return e.address.ifindex == a && e.address.local == addr;
  }));

  ASSERT_TRUE(nl.DeleteLink(a).ok());
  events = DrainEvents(monitor, 1000);
  EXPECT_TRUE(HasEvent<LinkRemoved>(events, [&](const LinkRemoved& e) { return e.ifindex == a; }));
  EXPECT_TRUE(HasEvent<LinkRemoved>(events, [&](const LinkRemoved& e) { return e.ifindex == b; }));
  EXPECT_EQ(nl.ListLinks()->size(), 1u);
  ExpectKernelError(nl.DeleteLink(a), "No such device");
  ExpectKernelError(nl.DeleteLink(lo), "Operation not supported");

  // --- policy rules ---
  using platform::Rule;
  auto rules = nl.ListRules();
  ASSERT_TRUE(rules.ok()) << rules.error().ToString();
  const std::vector<Rule> defaults = {Rule{Ipv4Prefix(), "", platform::kLocalRouteTable, 0},
                                      Rule{Ipv4Prefix(), "", platform::kMainRouteTable, 32766},
                                      Rule{Ipv4Prefix(), "", 253, 32767}};
  EXPECT_EQ(*rules, defaults);
  // A visitor's rule (an FA intercepting reverse-tunnelled traffic): the
  // interface need not exist, the table may be above 255.
  const Rule visitor{Pfx("192.0.2.10/32"), "mct9", 1000, 1100};
  const Rule other{Pfx("10.0.0.0/8"), "", 200, 1050};
  ASSERT_TRUE(nl.AddRule(visitor).ok());
  ASSERT_TRUE(nl.AddRule(other).ok());
  ExpectKernelError(nl.AddRule(visitor), "File exists");
  rules = nl.ListRules();
  ASSERT_TRUE(rules.ok());
  ASSERT_EQ(rules->size(), 5u);
  EXPECT_EQ((*rules)[1], other);    // priority order
  EXPECT_EQ((*rules)[2], visitor);
  // Deletion matches priority and table exactly; the source must agree.
  ExpectKernelError(nl.DeleteRule(Rule{Pfx("192.0.2.11/32"), "mct9", 1000, 1100}),
                    "No such file or directory");
  ExpectKernelError(nl.DeleteRule(Rule{Pfx("192.0.2.10/32"), "mct9", 1001, 1100}),
                    "No such file or directory");
  ASSERT_TRUE(nl.DeleteRule(visitor).ok());
  ExpectKernelError(nl.DeleteRule(visitor), "No such file or directory");
  // An unset source and iif match any, as `ip rule del pref 1050 table 200`.
  ASSERT_TRUE(nl.DeleteRule(Rule{Ipv4Prefix(), "", 200, 1050}).ok());
  EXPECT_EQ(*nl.ListRules(), defaults);
}

}  // namespace mipsec::testing

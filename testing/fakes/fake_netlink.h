// FakeNetlink: Netlink (platform/netlink.h) over an in-memory model of one
// network namespace's links, IPv4 addresses and routes.
//
// It keeps the kernel's bookkeeping that the mobile node and the agents
// depend on, and reports refusals with the kernel's errno text in the same
// form as LinuxNetlink ("netlink RTM_NEWADDR 10.0.0.1/24 on ifindex 2: File
// exists"):
//   - starts with "lo" (ifindex 1; up, running, 127.0.0.1/8);
//   - IFF_RUNNING is up && carrier; a veth's carrier is its peer being up;
//   - an address adds a local route (table local) at once and, while its
//     link is up, the connected route (table main, proto kernel, scope
//     link, prefsrc the address); a link going down or away loses its
//     connected and main-table routes SILENTLY, as on Linux (no
//     RTM_DELROUTE: a listener must re-read routes on LinkChanged/Removed);
//   - routes: EEXIST on a duplicate (table, prefix, metric), ENODEV for no
//     or unknown device, ENETDOWN when the device is down, ENETUNREACH for a
//     gateway not on a connected prefix;
//     deletion matches like `ip route del` (gateway, oif and metric when
//     set), ESRCH when nothing matches;
//   - LookupRoute: local table first, then the longest prefix (lowest
//     metric) in main over up links; blackhole is EINVAL, unreachable
//     EHOSTUNREACH, no route ENETUNREACH; the source is the route's prefsrc
//     or the link's address on the gateway's (else the destination's)
//     prefix, else its first address.
//   - policy rules: the namespace's three defaults (0 local, 32766 main,
//     32767 default), EEXIST for an identical rule, deletion as the
//     kernel's (unset source/iif match any), ENOENT when nothing matches;
//     kept in priority order, but LookupRoute does not consult them.
// Not modelled: broadcast routes, multipath, rules in lookups, other
// tables' lookups.
//
// Every change notifies the subscribed monitors (their ReadyFd turns
// readable), in the order the kernel sends them. The test plays the world
// with AddLink / SetCarrier / InjectEventsLost. FakeNetlink must outlive
// its monitors. Single-threaded.
#ifndef MIPSEC_TESTING_FAKES_FAKE_NETLINK_H_
#define MIPSEC_TESTING_FAKES_FAKE_NETLINK_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "platform/netlink.h"
#include "testing/fakes/ready_fd.h"

namespace mipsec::testing {

class FakeNetlinkMonitor;

class FakeNetlink final : public platform::Netlink {
 public:
  static constexpr int kLoopbackIndex = 1;

  FakeNetlink();
  ~FakeNetlink() override;
  FakeNetlink(const FakeNetlink&) = delete;
  FakeNetlink& operator=(const FakeNetlink&) = delete;

  Result<std::vector<platform::LinkInfo>> ListLinks() override;
  Result<platform::LinkInfo> GetLink(int ifindex) override;
  Result<platform::LinkInfo> GetLinkByName(std::string_view name) override;
  Status SetLinkUp(int ifindex, bool up) override;
  Status SetMtu(int ifindex, std::uint32_t mtu) override;
  Status CreateVethPair(std::string_view name, std::string_view peer_name) override;
  Status DeleteLink(int ifindex) override;

  Result<std::vector<platform::AddressInfo>> ListAddresses(int ifindex = 0) override;
  Status AddAddress(int ifindex, platform::InterfaceAddress address) override;
  Status DeleteAddress(int ifindex, platform::InterfaceAddress address) override;

  Result<std::vector<platform::Route>> ListRoutes(
      std::uint32_t table = platform::kMainRouteTable) override;
  Status AddRoute(const platform::Route& route) override;
  Status ReplaceRoute(const platform::Route& route) override;
  Status DeleteRoute(const platform::Route& route) override;
  Result<platform::RouteLookup> LookupRoute(Ipv4Address destination,
                                            Ipv4Address source = Ipv4Address::Any(),
                                            int oif = 0) override;

  Result<std::vector<platform::Rule>> ListRules() override;
  Status AddRule(const platform::Rule& rule) override;
  Status DeleteRule(const platform::Rule& rule) override;

  Result<std::unique_ptr<platform::NetlinkMonitor>> Subscribe(std::uint32_t groups) override;

  // --- the world's side ---
  // A new link, down, with carrier, as if a driver had registered it.
  // Returns its ifindex. EEXIST-like BUG if the name is taken.
  int AddLink(std::string name, std::string kind = "dummy", std::uint32_t mtu = 1500);
  // Cable plugged / radio associated (or not): IFF_RUNNING follows.
  Status SetCarrier(int ifindex, bool carrier);
  // Every monitor receives EventsLost, as after a socket overrun.
  void InjectEventsLost();
  std::size_t monitor_count() const { return monitors_.size(); }

 private:
  friend class FakeNetlinkMonitor;
  struct Link {
    platform::LinkInfo info;
    bool carrier = true;
    int peer = 0;  // veth peer ifindex
  };

  Link* FindLink(int ifindex);
  void Emit(std::uint32_t group, const platform::NetlinkEvent& ev);
  void EmitLink(const Link& l);
  void RefreshRunning(Link& l);
  void InsertRoute(const platform::Route& r);
  // Removes matching routes; `notify`: with RouteChanged{removed} events.
  void EraseRoutesIf(const std::function<bool(const platform::Route&)>& pred, bool notify);
  void AddConnectedRoute(const platform::AddressInfo& a);
  Status RouteChange(const platform::Route& route, bool replace);

  std::map<int, Link> links_;
  std::vector<platform::AddressInfo> addresses_;
  std::vector<platform::Route> routes_;
  std::vector<platform::Rule> rules_;  // in priority order, then age
  int next_ifindex_ = 2;
  std::vector<FakeNetlinkMonitor*> monitors_;
};

class FakeNetlinkMonitor final : public platform::NetlinkMonitor {
 public:
  ~FakeNetlinkMonitor() override;
  int fd() const override { return ready_.fd(); }
  Result<std::size_t> Dispatch(
      const std::function<void(const platform::NetlinkEvent&)>& on_event) override;
  std::size_t pending() const { return queue_.size(); }

 private:
  friend class FakeNetlink;
  FakeNetlinkMonitor(FakeNetlink* owner, std::uint32_t groups) : owner_(owner), groups_(groups) {}
  void Push(const platform::NetlinkEvent& ev);

  FakeNetlink* owner_;
  std::uint32_t groups_;
  std::deque<platform::NetlinkEvent> queue_;
  ReadyFd ready_;
};

}  // namespace mipsec::testing

#endif  // MIPSEC_TESTING_FAKES_FAKE_NETLINK_H_

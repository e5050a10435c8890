#include "testing/fakes/fake_netlink.h"

#include <net/if.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/bug.h"

namespace mipsec::testing {

using platform::AddressInfo;
using platform::InterfaceAddress;
using platform::kLocalRouteTable;
using platform::kMainRouteTable;
using platform::LinkInfo;
using platform::Route;
using platform::RouteType;

namespace {

constexpr std::uint8_t kProtoKernel = 2;
constexpr std::uint32_t kLowerUp = 0x10000;  // IFF_LOWER_UP

// The same text LinuxNetlink produces for an NLMSG_ERROR.
Error KernelError(const std::string& what, int err) {
  return Error(Errc::kSystem, "netlink " + what + ": " + std::strerror(err));
}

std::string LinkName(int ifindex) { return "ifindex " + std::to_string(ifindex); }

}  // namespace

FakeNetlink::FakeNetlink() {
  Link lo;
  lo.info.ifindex = kLoopbackIndex;
  lo.info.name = "lo";
  lo.info.kind = "";
  lo.info.mtu = 65536;
  lo.info.loopback = true;
  lo.info.flags = IFF_LOOPBACK;
  links_[kLoopbackIndex] = lo;
  RefreshRunning(links_[kLoopbackIndex]);
  // As a namespace's lo once brought up.
  links_[kLoopbackIndex].info.up = true;
  links_[kLoopbackIndex].info.flags |= IFF_UP;
  RefreshRunning(links_[kLoopbackIndex]);
  AddressInfo a{kLoopbackIndex, InterfaceAddress{Ipv4Address::Loopback(), 8}, Ipv4Address::Any(),
                "lo"};
  addresses_.push_back(a);
  Route local;
  local.destination = Ipv4Prefix::Host(Ipv4Address::Loopback());
  local.oif = kLoopbackIndex;
  local.table = kLocalRouteTable;
  local.type = RouteType::kLocal;
  local.protocol = kProtoKernel;
  local.preferred_source = a.local.address;
  routes_.push_back(local);
  AddConnectedRoute(a);  // for lo: local 127.0.0.0/8
  // A namespace's default policy rules (`ip rule`).
  rules_.push_back(platform::Rule{Ipv4Prefix(), "", kLocalRouteTable, 0});
  rules_.push_back(platform::Rule{Ipv4Prefix(), "", kMainRouteTable, 32766});
  rules_.push_back(platform::Rule{Ipv4Prefix(), "", 253, 32767});  // RT_TABLE_DEFAULT
}

FakeNetlink::~FakeNetlink() {
  MIPSEC_BUG_IF(!monitors_.empty(), "FakeNetlink destroyed before its monitors");
}

FakeNetlink::Link* FakeNetlink::FindLink(int ifindex) {
  auto it = links_.find(ifindex);
  return it == links_.end() ? nullptr : &it->second;
}

void FakeNetlink::Emit(std::uint32_t group, const platform::NetlinkEvent& ev) {
  for (FakeNetlinkMonitor* m : monitors_) {
    if (m->groups_ & group) m->Push(ev);
  }
}

void FakeNetlink::EmitLink(const Link& l) {
  Emit(platform::kLinkEvents, platform::LinkChanged{l.info});
}

void FakeNetlink::RefreshRunning(Link& l) {
  bool carrier = l.carrier;
  if (l.peer != 0) {
    const Link* p = FindLink(l.peer);
    carrier = p != nullptr && p->info.up;
  }
  bool running = l.info.up && carrier;
  l.info.running = running;
  if (running) {
    l.info.flags |= IFF_RUNNING | kLowerUp;
  } else {
    l.info.flags &= ~static_cast<std::uint32_t>(IFF_RUNNING | kLowerUp);
  }
}

void FakeNetlink::InsertRoute(const Route& r) {
  routes_.push_back(r);
  Emit(platform::kRouteEvents, platform::RouteChanged{false, r});
}

void FakeNetlink::EraseRoutesIf(const std::function<bool(const Route&)>& pred, bool notify) {
  std::vector<Route> keep;
  for (const Route& r : routes_) {
    if (pred(r)) {
      if (notify) Emit(platform::kRouteEvents, platform::RouteChanged{true, r});
    } else {
      keep.push_back(r);
    }
  }
  routes_ = std::move(keep);
}

void FakeNetlink::AddConnectedRoute(const AddressInfo& a) {
  const Link* l = FindLink(a.ifindex);
  if (l == nullptr || !l->info.up || a.local.prefix_length >= 32) return;
  Route r;
  r.destination = a.local.Subnet();
  r.oif = a.ifindex;
  r.preferred_source = a.local.address;
  r.protocol = kProtoKernel;
  if (l->info.loopback) {  // lo's prefix is local as a whole (local 127.0.0.0/8)
    r.table = kLocalRouteTable;
    r.type = RouteType::kLocal;
  }
  for (const Route& e : routes_) {
    if (e.table == r.table && e.destination == r.destination && e.oif == r.oif) return;
  }
  InsertRoute(r);
}

// --- links ---

Result<std::vector<LinkInfo>> FakeNetlink::ListLinks() {
  std::vector<LinkInfo> out;
  for (const auto& [i, l] : links_) out.push_back(l.info);
  return out;
}

Result<LinkInfo> FakeNetlink::GetLink(int ifindex) {
  const Link* l = FindLink(ifindex);
  if (l == nullptr) return KernelError("RTM_GETLINK " + LinkName(ifindex), ENODEV);
  return l->info;
}

Result<LinkInfo> FakeNetlink::GetLinkByName(std::string_view name) {
  for (const auto& [i, l] : links_) {
    if (l.info.name == name) return l.info;
  }
  return KernelError("RTM_GETLINK " + std::string(name), ENODEV);
}

Status FakeNetlink::SetLinkUp(int ifindex, bool up) {
  std::string what = std::string("RTM_NEWLINK set ") + (up ? "up " : "down ") + LinkName(ifindex);
  Link* l = FindLink(ifindex);
  if (l == nullptr) return KernelError(what, ENODEV);
  if (l->info.up == up) return Ok{};
  l->info.up = up;
  if (up) {
    l->info.flags |= IFF_UP;
  } else {
    l->info.flags &= ~static_cast<std::uint32_t>(IFF_UP);
  }
  RefreshRunning(*l);
  EmitLink(*l);
  if (l->peer != 0) {
    if (Link* p = FindLink(l->peer)) {
      bool was = p->info.running;
      RefreshRunning(*p);
      if (p->info.running != was) EmitLink(*p);
    }
  }
  if (up) {
    for (const AddressInfo& a : addresses_) {
      if (a.ifindex == ifindex) AddConnectedRoute(a);
    }
  } else {
    // Linux flushes every route through a device that goes down, except
    // the local routes of its addresses, and tells no one (fib_flush).
    EraseRoutesIf([&](const Route& r) { return r.oif == ifindex && r.type != RouteType::kLocal; },
                  false);
  }
  return Ok{};
}

Status FakeNetlink::SetMtu(int ifindex, std::uint32_t mtu) {
  std::string what = "RTM_NEWLINK mtu " + std::to_string(mtu) + " on " + LinkName(ifindex);
  Link* l = FindLink(ifindex);
  if (l == nullptr) return KernelError(what, ENODEV);
  if (mtu < 68 || mtu > 65536) return KernelError(what, EINVAL);
  if (l->info.mtu == mtu) return Ok{};
  l->info.mtu = mtu;
  EmitLink(*l);
  return Ok{};
}

int FakeNetlink::AddLink(std::string name, std::string kind, std::uint32_t mtu) {
  for (const auto& [i, l] : links_) {
    MIPSEC_BUG_IF(l.info.name == name, "FakeNetlink::AddLink: name taken");
  }
  Link l;
  l.info.ifindex = next_ifindex_++;
  l.info.name = std::move(name);
  l.info.kind = std::move(kind);
  l.info.mtu = mtu;
  l.info.flags = IFF_BROADCAST | IFF_MULTICAST;
  int index = l.info.ifindex;
  links_[index] = std::move(l);
  EmitLink(links_[index]);
  return index;
}

Status FakeNetlink::SetCarrier(int ifindex, bool carrier) {
  Link* l = FindLink(ifindex);
  if (l == nullptr) return KernelError("carrier " + LinkName(ifindex), ENODEV);
  l->carrier = carrier;
  bool was = l->info.running;
  RefreshRunning(*l);
  if (l->info.running != was) EmitLink(*l);
  return Ok{};
}

Status FakeNetlink::CreateVethPair(std::string_view name, std::string_view peer_name) {
  std::string what = "RTM_NEWLINK veth " + std::string(name) + " peer " + std::string(peer_name);
  if (name.empty() || peer_name.empty() || name.size() >= IFNAMSIZ ||
      peer_name.size() >= IFNAMSIZ) {
    return Error(Errc::kInvalidArgument, "CreateVethPair: bad names '" + std::string(name) +
                                             "', '" + std::string(peer_name) + "'");
  }
  if (name == peer_name) return KernelError(what, EEXIST);
  for (const auto& [i, l] : links_) {
    if (l.info.name == name || l.info.name == peer_name) return KernelError(what, EEXIST);
  }
  int a = AddLink(std::string(name), "veth");
  int b = AddLink(std::string(peer_name), "veth");
  links_[a].peer = b;
  links_[b].peer = a;
  RefreshRunning(links_[a]);
  RefreshRunning(links_[b]);
  return Ok{};
}

Status FakeNetlink::DeleteLink(int ifindex) {
  Link* l = FindLink(ifindex);
  if (l == nullptr) return KernelError("RTM_DELLINK " + LinkName(ifindex), ENODEV);
  if (ifindex == kLoopbackIndex) return KernelError("RTM_DELLINK " + LinkName(ifindex), EOPNOTSUPP);
  std::vector<int> doomed{ifindex};
  if (l->peer != 0) doomed.push_back(l->peer);  // a veth dies with its peer
  for (int idx : doomed) {
    EraseRoutesIf([&](const Route& r) { return r.oif == idx; }, false);  // silent, as above
    std::vector<AddressInfo> keep;
    for (const AddressInfo& a : addresses_) {
      if (a.ifindex == idx) {
        Emit(platform::kAddressEvents, platform::AddressRemoved{a});
      } else {
        keep.push_back(a);
      }
    }
    addresses_ = std::move(keep);
    std::string name = links_[idx].info.name;
    links_.erase(idx);
    Emit(platform::kLinkEvents, platform::LinkRemoved{idx, name});
  }
  return Ok{};
}

// --- addresses ---

Result<std::vector<AddressInfo>> FakeNetlink::ListAddresses(int ifindex) {
  std::vector<AddressInfo> out;
  for (const AddressInfo& a : addresses_) {
    if (ifindex == 0 || a.ifindex == ifindex) out.push_back(a);
  }
  return out;
}

Status FakeNetlink::AddAddress(int ifindex, InterfaceAddress address) {
  std::string what = "RTM_NEWADDR " + address.ToString() + " on " + LinkName(ifindex);
  if (address.prefix_length < 0 || address.prefix_length > 32) {
    return Error(Errc::kInvalidArgument,
                 "bad prefix length " + std::to_string(address.prefix_length));
  }
  const Link* l = FindLink(ifindex);
  if (l == nullptr) return KernelError(what, ENODEV);
  for (const AddressInfo& a : addresses_) {
    if (a.ifindex == ifindex && a.local == address) return KernelError(what, EEXIST);
  }
  AddressInfo a{ifindex, address, Ipv4Address::Any(), l->info.name};
  addresses_.push_back(a);
  // The kernel's order: the local route, the address, then the prefix route.
  Route local;
  local.destination = Ipv4Prefix::Host(address.address);
  local.oif = ifindex;
  local.table = kLocalRouteTable;
  local.type = RouteType::kLocal;
  local.protocol = kProtoKernel;
  local.preferred_source = address.address;
  InsertRoute(local);
  Emit(platform::kAddressEvents, platform::AddressAdded{a});
  AddConnectedRoute(a);
  return Ok{};
}

Status FakeNetlink::DeleteAddress(int ifindex, InterfaceAddress address) {
  std::string what = "RTM_DELADDR " + address.ToString() + " on " + LinkName(ifindex);
  auto it = std::find_if(addresses_.begin(), addresses_.end(), [&](const AddressInfo& a) {
    return a.ifindex == ifindex && a.local == address;
  });
  if (it == addresses_.end()) return KernelError(what, EADDRNOTAVAIL);
  AddressInfo gone = *it;
  addresses_.erase(it);
  Emit(platform::kAddressEvents, platform::AddressRemoved{gone});
  EraseRoutesIf(
      [&](const Route& r) {
        return r.oif == ifindex && r.protocol == kProtoKernel &&
               r.preferred_source == gone.local.address;
      },
      true);
  return Ok{};
}

// --- routes ---

Result<std::vector<Route>> FakeNetlink::ListRoutes(std::uint32_t table) {
  std::vector<Route> out;
  for (const Route& r : routes_) {
    if (r.table == table) out.push_back(r);
  }
  return out;
}

Status FakeNetlink::RouteChange(const Route& in, bool replace) {
  const std::string what = "RTM_NEWROUTE " + in.ToString();
  Route r = in;
  const bool needs_nexthop = r.type == RouteType::kUnicast || r.type == RouteType::kLocal;
  if (needs_nexthop) {
    if (r.oif != 0 && FindLink(r.oif) == nullptr) return KernelError(what, ENODEV);
    if (!r.gateway.IsAny()) {
      // The gateway must be on a connected prefix (of the given device).
      int via = 0;
      for (const Route& c : routes_) {
        if (c.table == kMainRouteTable && c.protocol == kProtoKernel && c.gateway.IsAny() &&
            c.destination.Contains(r.gateway) && (r.oif == 0 || c.oif == r.oif)) {
          via = c.oif;
          break;
        }
      }
      if (via == 0) return KernelError(what, ENETUNREACH);  // "Nexthop has invalid gateway"
      r.oif = via;
    } else if (r.oif == 0) {
      return KernelError(what, ENODEV);
    }
    if (!FindLink(r.oif)->info.up)
      return KernelError(what, ENETDOWN);  // "Device for nexthop is not up"
  }
  auto same = std::find_if(routes_.begin(), routes_.end(), [&](const Route& e) {
    return e.table == r.table && e.destination == r.destination && e.metric == r.metric;
  });
  if (same != routes_.end()) {
    if (!replace) return KernelError(what, EEXIST);
    *same = r;
    Emit(platform::kRouteEvents, platform::RouteChanged{false, r});
    return Ok{};
  }
  InsertRoute(r);
  return Ok{};
}

Status FakeNetlink::AddRoute(const Route& route) { return RouteChange(route, false); }

Status FakeNetlink::ReplaceRoute(const Route& route) { return RouteChange(route, true); }

Status FakeNetlink::DeleteRoute(const Route& in) {
  const std::string what = "RTM_DELROUTE " + in.ToString();
  auto it = std::find_if(routes_.begin(), routes_.end(), [&](const Route& e) {
    return e.table == in.table && e.destination == in.destination &&
           (in.gateway.IsAny() || e.gateway == in.gateway) && (in.oif == 0 || e.oif == in.oif) &&
           (in.metric == 0 || e.metric == in.metric);
  });
  if (it == routes_.end()) return KernelError(what, ESRCH);
  Route gone = *it;
  routes_.erase(it);
  Emit(platform::kRouteEvents, platform::RouteChanged{true, gone});
  return Ok{};
}

// --- policy rules ---

Result<std::vector<platform::Rule>> FakeNetlink::ListRules() { return rules_; }

Status FakeNetlink::AddRule(const platform::Rule& rule) {
  const std::string what = "RTM_NEWRULE " + rule.ToString();
  if (rule.iif.size() >= IFNAMSIZ) {
    return Error(Errc::kInvalidArgument, "rule iif name too long: " + rule.iif);
  }
  if (std::find(rules_.begin(), rules_.end(), rule) != rules_.end()) {
    return KernelError(what, EEXIST);
  }
  // After every rule of the same or a lower priority, as the kernel inserts.
  auto at = std::find_if(rules_.begin(), rules_.end(),
                         [&](const platform::Rule& r) { return r.priority > rule.priority; });
  rules_.insert(at, rule);
  return Ok{};
}

Status FakeNetlink::DeleteRule(const platform::Rule& rule) {
  const std::string what = "RTM_DELRULE " + rule.ToString();
  auto it = std::find_if(rules_.begin(), rules_.end(), [&](const platform::Rule& r) {
    return r.priority == rule.priority && r.table == rule.table &&
           (rule.source.length() == 0 || r.source == rule.source) &&
           (rule.iif.empty() || r.iif == rule.iif);
  });
  if (it == rules_.end()) return KernelError(what, ENOENT);
  rules_.erase(it);
  return Ok{};
}

Result<platform::RouteLookup> FakeNetlink::LookupRoute(Ipv4Address destination, Ipv4Address source,
                                                       int oif) {
  std::string what = "RTM_GETROUTE " + destination.ToString();
  if (!source.IsAny()) what += " from " + source.ToString();
  if (oif != 0) what += " oif " + LinkName(oif);
  const Route* best = nullptr;
  for (std::uint32_t table : {kLocalRouteTable, kMainRouteTable}) {
    for (const Route& r : routes_) {
      if (r.table != table || !r.destination.Contains(destination)) continue;
      if (table == kMainRouteTable) {
        const Link* l = FindLink(r.oif);
        bool needs_link = r.type == RouteType::kUnicast;
        if (needs_link && (l == nullptr || !l->info.up)) continue;
        if (oif != 0 && r.oif != oif) continue;
      }
      if (best == nullptr || r.destination.length() > best->destination.length() ||
          (r.destination.length() == best->destination.length() && r.metric < best->metric)) {
        best = &r;
      }
    }
    if (best != nullptr) break;
  }
  if (best == nullptr) return KernelError(what, ENETUNREACH);
  if (best->type == RouteType::kBlackhole) return KernelError(what, EINVAL);
  if (best->type == RouteType::kUnreachable) return KernelError(what, EHOSTUNREACH);
  platform::RouteLookup out;
  out.type = best->type;
  out.gateway = best->gateway;
  out.table = best->table;
  if (best->type == RouteType::kLocal) {
    out.oif = kLoopbackIndex;
    out.source = !source.IsAny() ? source : best->preferred_source;
    if (best->destination.length() == 32) out.source = destination;
    return out;
  }
  out.oif = best->oif;
  if (!source.IsAny()) {
    out.source = source;
  } else if (!best->preferred_source.IsAny()) {
    out.source = best->preferred_source;
  } else {
    Ipv4Address on_link = best->gateway.IsAny() ? destination : best->gateway;
    for (const AddressInfo& a : addresses_) {
      if (a.ifindex != best->oif) continue;
      if (out.source.IsAny()) out.source = a.local.address;  // the first one
      if (a.local.Subnet().Contains(on_link)) {
        out.source = a.local.address;
        break;
      }
    }
  }
  return out;
}

// --- notifications ---

Result<std::unique_ptr<platform::NetlinkMonitor>> FakeNetlink::Subscribe(std::uint32_t groups) {
  const std::uint32_t all =
      platform::kLinkEvents | platform::kAddressEvents | platform::kRouteEvents;
  if (groups == 0 || (groups & ~all) != 0) {
    return Error(Errc::kInvalidArgument, "Subscribe: bad group mask " + std::to_string(groups));
  }
  std::unique_ptr<FakeNetlinkMonitor> m(new FakeNetlinkMonitor(this, groups));
  monitors_.push_back(m.get());
  return std::unique_ptr<platform::NetlinkMonitor>(std::move(m));
}

void FakeNetlink::InjectEventsLost() {
  for (FakeNetlinkMonitor* m : monitors_) m->Push(platform::EventsLost{});
}

FakeNetlinkMonitor::~FakeNetlinkMonitor() {
  auto& v = owner_->monitors_;
  v.erase(std::remove(v.begin(), v.end(), this), v.end());
}

void FakeNetlinkMonitor::Push(const platform::NetlinkEvent& ev) {
  queue_.push_back(ev);
  ready_.Set(true);
}

Result<std::size_t> FakeNetlinkMonitor::Dispatch(
    const std::function<void(const platform::NetlinkEvent&)>& on_event) {
  std::size_t n = 0;
  while (!queue_.empty()) {
    platform::NetlinkEvent ev = std::move(queue_.front());
    queue_.pop_front();
    on_event(ev);
    ++n;
  }
  ready_.Set(false);
  return n;
}

}  // namespace mipsec::testing

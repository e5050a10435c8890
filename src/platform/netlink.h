// Netlink: links, IPv4 addresses and routes, and their change notifications
// (rtnetlink), behind an interface (QUICHE qbone's netlink_interface.h idea)
// so the mobile node's movement detection and the HA/FA routing can run
// against FakeNetlink (testing/fakes/fake_netlink.h).
//
// Linux: platform/linux/netlink.h, over libmnl.
//
// Every request is synchronous: it returns when the kernel has answered. A
// kernel refusal (NLMSG_ERROR) is Errc::kSystem with the operation and the
// object named: "netlink RTM_NEWADDR 10.0.0.1/24 on ifindex 5: File exists".
#ifndef MIPSEC_PLATFORM_NETLINK_H_
#define MIPSEC_PLATFORM_NETLINK_H_

#include <charconv>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/ip/address.h"
#include "common/result.h"

namespace mipsec::platform {

inline constexpr std::uint32_t kMainRouteTable = 254;   // RT_TABLE_MAIN
inline constexpr std::uint32_t kLocalRouteTable = 255;  // RT_TABLE_LOCAL

// An address as assigned to an interface, with the length of its on-link
// prefix: "10.0.0.1/24" (host bits kept, unlike Ipv4Prefix).
struct InterfaceAddress {
  Ipv4Address address{};
  int prefix_length = 32;  // 0..32

  // "10.0.0.1/24" (strict, as Ipv4Address::Parse; length 0..32).
  static Result<InterfaceAddress> Parse(std::string_view text);
  // The on-link prefix: 10.0.0.0/24 for 10.0.0.1/24.
  Ipv4Prefix Subnet() const {
    return Ipv4Prefix::FromAddressAndLength(address, prefix_length)
        .value_or(Ipv4Prefix::Host(address));
  }
  std::string ToString() const { return address.ToString() + "/" + std::to_string(prefix_length); }
  bool operator==(const InterfaceAddress&) const = default;
};

struct LinkInfo {
  int ifindex = 0;
  std::string name{};
  bool up = false;        // administratively up (IFF_UP)
  bool running = false;   // operationally up, carrier present (IFF_RUNNING)
  bool loopback = false;  // IFF_LOOPBACK
  std::uint32_t mtu = 0;
  std::uint32_t flags = 0;  // all IFF_* bits
  std::string kind{};       // "veth", "tun", ... ("" when the kernel says none)

  bool operator==(const LinkInfo&) const = default;
};

struct AddressInfo {
  int ifindex = 0;
  InterfaceAddress local{};  // the address with its prefix length
  Ipv4Address peer{};        // point-to-point peer when it differs from `local`, else Any()
  std::string label{};

  bool operator==(const AddressInfo&) const = default;
};

enum class RouteType : std::uint8_t {
  kUnicast = 1,      // RTN_UNICAST
  kLocal = 2,        // RTN_LOCAL: the destination is one of our addresses
  kBroadcast = 3,    // RTN_BROADCAST
  kMulticast = 5,    // RTN_MULTICAST
  kBlackhole = 6,    // RTN_BLACKHOLE
  kUnreachable = 7,  // RTN_UNREACHABLE
  kOther = 0,
};

struct Route {
  Ipv4Prefix destination{};  // 0.0.0.0/0 (the default) is the default route
  Ipv4Address gateway{};     // Any(): directly connected (scope link)
  int oif = 0;               // outgoing interface
  std::uint32_t metric = 0;  // RTA_PRIORITY
  std::uint32_t table = kMainRouteTable;
  Ipv4Address preferred_source{};  // RTA_PREFSRC; Any(): none
  RouteType type = RouteType::kUnicast;
  std::uint8_t protocol = 4;  // RTPROT_STATIC; routes the kernel adds are 2 (kernel)

  bool operator==(const Route&) const = default;
  std::string ToString() const;  // "10.1.0.0/16 via 10.0.0.1 dev #3 metric 10 table 254"
};

// The kernel's answer to "how would a packet to X leave?" (RTM_GETROUTE).
struct RouteLookup {
  RouteType type = RouteType::kUnicast;
  int oif = 0;
  Ipv4Address gateway{};  // Any(): X is on-link
  Ipv4Address source{};   // the source address the kernel would pick
  std::uint32_t table = kMainRouteTable;
};

// An IPv4 policy routing rule (`ip rule`, RTM_NEWRULE): packets from
// `source`, arriving on `iif` when set, are looked up in `table`. Only
// lookup rules (FR_ACT_TO_TBL) are modelled. A fresh namespace has three:
// priority 0 table local, 32766 main, 32767 default (253).
struct Rule {
  Ipv4Prefix source{};  // FRA_SRC; 0.0.0.0/0: from all
  std::string iif{};    // FRA_IIFNAME; "": any. The link need not exist (yet).
  std::uint32_t table = kMainRouteTable;  // FRA_TABLE (any 32-bit id)
  std::uint32_t priority = 0;             // FRA_PRIORITY, lower first; always sent

  bool operator==(const Rule&) const = default;
  std::string ToString() const;  // "pref 1000 from 10.0.0.5/32 iif eth1 lookup 100"
};

// --- change notifications ---

struct LinkChanged {  // RTM_NEWLINK: a link appeared or its state changed
  LinkInfo link{};
};
struct LinkRemoved {  // RTM_DELLINK
  int ifindex = 0;
  std::string name{};
};
struct AddressAdded {  // RTM_NEWADDR
  AddressInfo address{};
};
struct AddressRemoved {  // RTM_DELADDR
  AddressInfo address{};
};
struct RouteChanged {  // RTM_NEWROUTE / RTM_DELROUTE, any table
  bool removed = false;
  Route route{};
};
// The kernel dropped notifications (socket buffer overrun): re-read links,
// addresses and routes, the events alone no longer describe the state.
struct EventsLost {};

using NetlinkEvent =
    std::variant<LinkChanged, LinkRemoved, AddressAdded, AddressRemoved, RouteChanged, EventsLost>;

enum NetlinkGroup : std::uint32_t {
  kLinkEvents = 1u << 0,     // RTNLGRP_LINK
  kAddressEvents = 1u << 1,  // RTNLGRP_IPV4_IFADDR
  kRouteEvents = 1u << 2,    // RTNLGRP_IPV4_ROUTE
};

class NetlinkMonitor {
 public:
  virtual ~NetlinkMonitor() = default;
  // Readable (for an EventLoop) while notifications are waiting.
  virtual int fd() const = 0;
  // Hands every waiting notification to `on_event`, in kernel order, without
  // blocking. Returns how many were delivered.
  virtual Result<std::size_t> Dispatch(
      const std::function<void(const NetlinkEvent&)>& on_event) = 0;
};

class Netlink {
 public:
  virtual ~Netlink() = default;

  // --- links ---
  virtual Result<std::vector<LinkInfo>> ListLinks() = 0;
  virtual Result<LinkInfo> GetLink(int ifindex) = 0;
  virtual Result<LinkInfo> GetLinkByName(std::string_view name) = 0;
  virtual Status SetLinkUp(int ifindex, bool up) = 0;
  virtual Status SetMtu(int ifindex, std::uint32_t mtu) = 0;
  // A veth pair (both ends down). For tests and the namespace harness.
  virtual Status CreateVethPair(std::string_view name, std::string_view peer_name) = 0;
  virtual Status DeleteLink(int ifindex) = 0;

  // --- IPv4 addresses ---
  // ifindex 0: all interfaces.
  virtual Result<std::vector<AddressInfo>> ListAddresses(int ifindex = 0) = 0;
  // "ip addr add 10.0.0.1/24 dev X" (broadcast derived from the prefix).
  // Adding an address twice is the kernel's EEXIST.
  virtual Status AddAddress(int ifindex, InterfaceAddress address) = 0;
  virtual Status DeleteAddress(int ifindex, InterfaceAddress address) = 0;

  // --- IPv4 routes ---
  virtual Result<std::vector<Route>> ListRoutes(std::uint32_t table = kMainRouteTable) = 0;
  virtual Status AddRoute(const Route& route) = 0;      // EEXIST if present
  virtual Status ReplaceRoute(const Route& route) = 0;  // add or overwrite
  // Deletes the route matching destination, table and (when set) gateway,
  // oif and metric.
  virtual Status DeleteRoute(const Route& route) = 0;
  // Which interface, gateway and source address reach `destination`
  // (optionally as if from `source` or out of `oif`).
  virtual Result<RouteLookup> LookupRoute(Ipv4Address destination,
                                          Ipv4Address source = Ipv4Address::Any(), int oif = 0) = 0;

  // --- IPv4 policy routing rules ---
  // Every IPv4 lookup rule, in the kernel's order (priority, then age).
  virtual Result<std::vector<Rule>> ListRules() = 0;
  // "ip rule add": EEXIST when an identical rule is present.
  virtual Status AddRule(const Rule& rule) = 0;
  // "ip rule del": deletes the first rule with this priority and table whose
  // source and iif equal `rule`'s (an unset source or iif matches any, as
  // the kernel does). ENOENT ("No such file or directory") when none does.
  virtual Status DeleteRule(const Rule& rule) = 0;

  // --- notifications ---
  // A new, independent subscription to the NetlinkGroup bits in `groups`.
  virtual Result<std::unique_ptr<NetlinkMonitor>> Subscribe(std::uint32_t groups) = 0;
};

inline std::string Route::ToString() const {
  std::string s = destination.ToString();
  if (!gateway.IsAny()) s += " via " + gateway.ToString();
  if (oif != 0) s += " dev #" + std::to_string(oif);
  if (metric != 0) s += " metric " + std::to_string(metric);
  s += " table " + std::to_string(table);
  return s;
}

inline std::string Rule::ToString() const {
  std::string s = "pref " + std::to_string(priority) + " from ";
  s += source.length() == 0 ? std::string("all") : source.ToString();
  if (!iif.empty()) s += " iif " + iif;
  s += " lookup " + std::to_string(table);
  return s;
}

inline Result<InterfaceAddress> InterfaceAddress::Parse(std::string_view text) {
  std::size_t slash = text.find('/');
  std::string_view len = slash == std::string_view::npos ? "" : text.substr(slash + 1);
  int n = -1;
  auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
  if (len.empty() || ec != std::errc() || end != len.data() + len.size() || n < 0 || n > 32 ||
      (len.size() > 1 && len[0] == '0')) {
    return Error(Errc::kMalformed, "interface address \"" + std::string(text) +
                                       "\": expected a.b.c.d/len with len 0..32");
  }
  MIPSEC_ASSIGN_OR_RETURN(Ipv4Address a, Ipv4Address::Parse(text.substr(0, slash)));
  return InterfaceAddress{a, n};
}

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_NETLINK_H_

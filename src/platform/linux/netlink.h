// LinuxNetlink: Netlink (platform/netlink.h) over rtnetlink with libmnl.
//
// One NETLINK_ROUTE socket carries requests (blocking, answered at once by
// the kernel, with a 5 s guard against a kernel that never answers); each
// Subscribe() opens another, non-blocking socket bound to the requested
// multicast groups, so notifications never mix with request replies. The
// socket asks for extended acks, so a kernel refusal carries the kernel's
// own reason when it gives one:
//   "netlink RTM_NEWROUTE 10.9.0.0/16 via 10.0.0.9 table 254: Network is
//    unreachable (kernel: Nexthop has invalid gateway)"
// It acts on the network namespace of the thread that called Open(). Not
// thread-safe: use it (and each monitor) from one thread.
#ifndef MIPSEC_PLATFORM_LINUX_NETLINK_H_
#define MIPSEC_PLATFORM_LINUX_NETLINK_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "platform/netlink.h"

struct mnl_socket;
struct nlmsghdr;

namespace mipsec::platform {

// One IPv4 entry of the kernel's neighbour (ARP) table, as `ip neigh` shows
// it. Linux only: the simulator has no ARP.
struct Neighbour {
  int ifindex = 0;
  Ipv4Address address;
  // The link-layer address, when the entry has one of 6 bytes (Ethernet).
  std::optional<std::array<std::uint8_t, 6>> lladdr;
  std::uint16_t state = 0;  // NUD_* bits (linux/neighbour.h)
  // An entry whose link-layer address the kernel holds for use: reachable,
  // stale, delay, probe, permanent or noarp (not incomplete or failed).
  bool Usable() const;
};

class LinuxNetlink final : public Netlink {
 public:
  static Result<std::unique_ptr<LinuxNetlink>> Open();
  ~LinuxNetlink() override;
  LinuxNetlink(const LinuxNetlink&) = delete;
  LinuxNetlink& operator=(const LinuxNetlink&) = delete;

  Result<std::vector<LinkInfo>> ListLinks() override;
  Result<LinkInfo> GetLink(int ifindex) override;
  Result<LinkInfo> GetLinkByName(std::string_view name) override;
  Status SetLinkUp(int ifindex, bool up) override;
  Status SetMtu(int ifindex, std::uint32_t mtu) override;
  Status CreateVethPair(std::string_view name, std::string_view peer_name) override;
  Status DeleteLink(int ifindex) override;

  Result<std::vector<AddressInfo>> ListAddresses(int ifindex = 0) override;
  Status AddAddress(int ifindex, InterfaceAddress address) override;
  Status DeleteAddress(int ifindex, InterfaceAddress address) override;

  Result<std::vector<Route>> ListRoutes(std::uint32_t table = kMainRouteTable) override;
  Status AddRoute(const Route& route) override;
  Status ReplaceRoute(const Route& route) override;
  Status DeleteRoute(const Route& route) override;
  Result<RouteLookup> LookupRoute(Ipv4Address destination, Ipv4Address source = Ipv4Address::Any(),
                                  int oif = 0) override;

  Result<std::vector<Rule>> ListRules() override;
  Status AddRule(const Rule& rule) override;
  Status DeleteRule(const Rule& rule) override;

  Result<std::unique_ptr<NetlinkMonitor>> Subscribe(std::uint32_t groups) override;

  // The IPv4 neighbour table (RTM_GETNEIGH dump), of one interface or
  // (ifindex 0) all. Proxy entries are not included.
  Result<std::vector<Neighbour>> ListNeighbours(int ifindex = 0);
  // The entry for `address` on `ifindex`, if the kernel has one.
  Result<std::optional<Neighbour>> GetNeighbour(int ifindex, Ipv4Address address);

 private:
  explicit LinuxNetlink(mnl_socket* nl);
  using MessageFn = std::function<void(const nlmsghdr*)>;
  // Sends the request in `buf` (an nlmsghdr) and reads until the kernel's
  // ack or NLMSG_DONE, handing every other reply to `on_message`. Dumps are
  // retried when the kernel marks them interrupted; `on_restart` then
  // discards what was collected. `what` names the request in errors.
  Status Transact(void* buf, const std::string& what, const MessageFn& on_message,
                  const std::function<void()>& on_restart = nullptr);
  Status RouteRequest(int type, int flags, const Route& route);
  Status RuleRequest(int type, int flags, const Rule& rule);
  Status AddressRequest(int type, int flags, int ifindex, InterfaceAddress address);
  Result<LinkInfo> GetLinkRequest(int ifindex, std::string_view name);

  mnl_socket* nl_;
  std::uint32_t seq_;
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_NETLINK_H_

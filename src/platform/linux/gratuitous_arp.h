// Gratuitous ARP (RFC 5944 4.6): an ARP Request whose sender and target
// protocol addresses are both the announced IPv4 address, broadcast on one
// link, so that every node there updates the link-layer address it caches
// for that address.
//
// RFC 5944 4.6 needs three of them, each "retransmitted a small number of
// times": the home agent's when it starts intercepting a mobile node that
// had no binding (sender hardware address: the HA's own), and the mobile
// node's for itself when it returns home, before its deregistration leaves
// (sender hardware address: its own). GratuitousArp sends one at once and
// repeats it `repeats` times `interval` apart on the daemon's event loop;
// a new Announce() of the same address on the same link restarts that.
//
// Sent on an AF_PACKET SOCK_DGRAM socket (ETH_P_ARP) to ff:ff:ff:ff:ff:ff;
// the interface's hardware address is read with SIOCGIFHWADDR. Interfaces
// without a 6-byte hardware address (a TUN) are an error.
#ifndef MIPSEC_PLATFORM_LINUX_GRATUITOUS_ARP_H_
#define MIPSEC_PLATFORM_LINUX_GRATUITOUS_ARP_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "common/time.h"
#include "platform/event_loop.h"

namespace mipsec::platform {

using MacAddress = std::array<std::uint8_t, 6>;

// The 28-byte ARP Request (RFC 826) announcing `address` at `sender`.
Bytes GratuitousArpPayload(Ipv4Address address, const MacAddress& sender);

// The hardware address of interface `ifindex`.
Result<MacAddress> InterfaceMac(int ifindex);

// One gratuitous ARP on `ifindex`, now.
Status SendGratuitousArp(int ifindex, Ipv4Address address, const MacAddress& sender);

class GratuitousArp {
 public:
  explicit GratuitousArp(EventLoop& loop, Duration interval = Duration::Millis(500),
                         int repeats = 2);
  ~GratuitousArp();
  GratuitousArp(const GratuitousArp&) = delete;
  GratuitousArp& operator=(const GratuitousArp&) = delete;

  // Announces `address` on `ifindex` with `sender` (nullopt: the
  // interface's own hardware address). An error only when the first one
  // cannot be sent (its repeats are then not scheduled).
  Status Announce(int ifindex, Ipv4Address address, std::optional<MacAddress> sender = {});
  // Stops the repeats for `address` on `ifindex` (e.g. the mobile node
  // left again).
  void Cancel(int ifindex, Ipv4Address address);

  std::uint64_t sent() const { return sent_; }
  std::uint64_t errors() const { return errors_; }

 private:
  struct Pending {
    MacAddress sender{};
    int left = 0;
    std::unique_ptr<Timer> timer;
  };
  EventLoop& loop_;
  Duration interval_;
  int repeats_;
  std::map<std::pair<int, Ipv4Address>, Pending> pending_;
  std::uint64_t sent_ = 0;
  std::uint64_t errors_ = 0;
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_GRATUITOUS_ARP_H_

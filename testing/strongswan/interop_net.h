// Network pieces for strongSwan interop tests: the RFC 5266 Figure 1
// miniature as a Topology description, an outer-address move of the mobile
// node (a hard handover, as MOBIKE tests need) and pings.
//
//   mn a0 198.51.100.10/25     -- ext mn-a .1      |
//   mn b0 (198.51.100.130/25)  -- ext mn-b .129    | ext (router, NAPT for net C only)
//   mn c0 (10.77.0.10/24)      -- ext mn-c .1      |   ext wan 203.0.113.1 -- gw ext0 203.0.113.2
//   gw int0 192.0.2.1/25 -- int eth0 192.0.2.10   (the intranet behind the gateway)
//
// mn starts on link A (only a0 has an address; default via 198.51.100.1).
// ext masquerades (random ports, with a counter) what leaves `wan` from
// 10.77.0.0/24, so link C is behind a NAPT. Virtual IPs for clients:
// kInteropPool, routed back to gw by int's default route.
#ifndef MIPSEC_TESTING_STRONGSWAN_INTEROP_NET_H_
#define MIPSEC_TESTING_STRONGSWAN_INTEROP_NET_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "lab/netns/topology.h"
#include "testing/lab_names.h"

namespace mipsec::testing {

// The description above in the src/lab/netns text format.
extern const char kInteropTopology[];

inline constexpr const char kInteropGwExt[] = "203.0.113.2";    // gw's outer address
inline constexpr const char kInteropExtWan[] = "203.0.113.1";   // ext / the NAT's outside
inline constexpr const char kInteropGwInt[] = "192.0.2.1";
inline constexpr const char kInteropIntHost[] = "192.0.2.10";   // host in the intranet
inline constexpr const char kInteropIntranet[] = "192.0.2.0/25";
inline constexpr const char kInteropPool[] = "192.0.2.128/25";  // virtual IPs (TIAs)

// One of mn's uplinks.
struct Uplink {
  std::string dev;      // "a0"
  std::string address;  // "198.51.100.10/25"
  std::string gateway;  // "198.51.100.1"
};
Uplink InteropLink(char which);  // 'A', 'B' or 'C' of kInteropTopology

// Hard handover of namespace `ns` to `to`, in one `ip -batch` (as
// `topology.sh move` does): add to.address on to.dev, replace the default
// route via to.gateway dev to.dev, flush the addresses of every device in
// `flush_devs` other than to.dev.
Status MoveUplink(const Topology& topo, std::string_view ns, const Uplink& to,
                  const std::vector<std::string>& flush_devs);
// MoveUplink in kInteropTopology's mn to link 'A', 'B' or 'C'.
Status MoveInteropMn(const Topology& topo, char which);

// `count` pings (0.2 s apart, 1 s wait each) from `ns` to `dst`; all must
// be answered.
Status Ping(const Topology& topo, std::string_view ns, std::string_view dst, int count = 1);
// Pings every 10 ms until one is answered or `timeout` (rounded up to whole
// seconds) passes; returns how long it took (including ping's start-up).
Result<Duration> WaitForPing(const Topology& topo, std::string_view ns, std::string_view dst,
                             Duration timeout);

// Addresses (no prefix length) on `dev` in `ns`, from `ip -4 -o addr show`.
Result<std::vector<std::string>> Ipv4AddressesOn(const Topology& topo, std::string_view ns,
                                                 std::string_view dev);

}  // namespace mipsec::testing

#endif  // MIPSEC_TESTING_STRONGSWAN_INTEROP_NET_H_

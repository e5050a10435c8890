// The Netlink contract: one scenario, written against the interface only,
// that both LinuxNetlink (in a fresh network namespace) and FakeNetlink must
// pass. It is what keeps the fake honest: when the kernel and the fake
// disagree, this fails for one of them.
//
// Needs an empty namespace: only "lo", up, with 127.0.0.1/8. Creates the veth
// pair "mct0"/"mct1" and deletes it again.
#ifndef MIPSEC_TESTING_FAKES_NETLINK_CONTRACT_H_
#define MIPSEC_TESTING_FAKES_NETLINK_CONTRACT_H_

#include <vector>

#include "platform/netlink.h"

namespace mipsec::testing {

// Runs the scenario with GoogleTest assertions.
void RunNetlinkContract(platform::Netlink& netlink);

// Every notification waiting on `monitor` (waits up to `wait_ms` for the
// first one, then takes what is queued).
std::vector<platform::NetlinkEvent> DrainEvents(platform::NetlinkMonitor& monitor, int wait_ms = 0);

}  // namespace mipsec::testing

#endif  // MIPSEC_TESTING_FAKES_NETLINK_CONTRACT_H_

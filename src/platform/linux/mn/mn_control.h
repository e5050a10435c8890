// The control-socket commands of `mipsec mn` (control_server.h), as pure
// functions of an MnStatus snapshot, so that they are unit-testable without
// a daemon (mn_control_test.cc) and MnDaemon only registers them:
//
//   status      mode (c, f, mc, home, or blocked), the interface carrying
//               user data, home address, home agent, TUN, the VPN (up, TIA,
//               gateway), shutting down, uptime;
//   interfaces  each configured interface: ifindex, carrier, controller
//               state, data plane, address/prefix, router, DHCP state, table;
//   history     the recent ControllerEvents, oldest first: time (UTC), age,
//               interface, kind, from -> to, data plane, requirement, text;
//               {"command":"history","limit":N}: the last N;
//   sas         the VPN as the controller sees it (configured, up, TIA,
//               gateway, local outer address); MnSasJson is its own
//               function so that IKE/ESP SA detail can join it;
//   counters    the controller's and the daemon's counters.
//
// No answer carries key material: MnStatus holds none.
#ifndef MIPSEC_PLATFORM_LINUX_MN_MN_CONTROL_H_
#define MIPSEC_PLATFORM_LINUX_MN_MN_CONTROL_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "platform/linux/control_dispatch.h"
#include "platform/linux/mn/mn_daemon.h"

namespace mipsec::mnd {

platform::ControlJson MnStatusJson(const MnStatus& s);
platform::ControlJson MnInterfacesJson(const MnStatus& s);
// The last `limit` events (all when limit >= their number).
platform::ControlJson MnHistoryJson(const MnStatus& s, std::size_t limit);
platform::ControlJson MnSasJson(const MnStatus& s);
platform::ControlJson MnCountersJson(const MnStatus& s);

struct MnControlCommand {
  std::string name;
  std::string description;
  platform::ControlDispatcher::Handler handler;
};
// The commands above, each answering from `snapshot()` taken at the request;
// `sas` adds `ike_sas()` (the IKE runtime's SAs, ike_sas_json.h) when given.
std::vector<MnControlCommand> MnControlCommands(
    std::function<MnStatus()> snapshot,
    std::function<platform::ControlJson()> ike_sas = nullptr);

}  // namespace mipsec::mnd

#endif  // MIPSEC_PLATFORM_LINUX_MN_MN_CONTROL_H_

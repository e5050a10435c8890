// The client side of the control socket (control_server.h): what `mipsec
// ctl` does, in a library so that it is unit-testable.
//
//   ControlQuery       connects to the socket, sends {"command":...}\n,
//                      reads the one response; errors say what to do
//                      ("no control socket at ... (is `mipsec ha` running?)",
//                      "permission denied ... (run as root or the daemon's
//                      user)", "stale socket ... (the daemon is not running)");
//   FormatHuman        renders a response's data for people, in the style
//                      of `ip` and `swanctl --list-*`: objects of scalars as
//                      aligned "key  value" lines, arrays of flat objects as
//                      aligned tables with a header, nested objects as
//                      indented sections. Generic: a daemon's new command
//                      needs no change here.
#ifndef MIPSEC_PLATFORM_LINUX_CONTROL_CLIENT_H_
#define MIPSEC_PLATFORM_LINUX_CONTROL_CLIENT_H_

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/time.h"

namespace mipsec::platform {

// "/run/mipsec/<daemon>.sock" (the daemons' default control_socket).
std::string DefaultControlSocket(const std::string& daemon);

// One request/response exchange. The response object is returned whether it
// says ok or not (the caller reports "error"); an Error means no valid
// response: kNotFound (no socket file), kAuthFailed (permission denied by the
// file mode), kState (stale socket: nobody listening), kTimeout, kMalformed
// (not JSON), kSystem (anything else). `request` must be an object with
// "command".
Result<nlohmann::ordered_json> ControlQuery(const std::string& path, const nlohmann::ordered_json& request,
                                    Duration timeout = Duration::Seconds(5));

// Human rendering of a response's "data" (see the file comment). Ends with
// a newline unless empty.
std::string FormatHuman(const nlohmann::ordered_json& data);
// The same for `command`'s answer: "sas" (the gateway's, and later the
// MN's) is shown like `swanctl --list-sas`, one block per IKE SA with its
// CHILD SAs (without a "sas" list, e.g. the MN's VPN summary, as
// FormatHuman(data)); "history" (the MN's) one decision per line: time,
// interface, kind, from -> to or data plane, [requirement], text; every
// other command through FormatHuman(data).
std::string FormatHuman(const std::string& command, const nlohmann::ordered_json& data);

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_CONTROL_CLIENT_H_

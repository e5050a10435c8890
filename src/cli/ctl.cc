// `mipsec ctl`: asks a running daemon (`mipsec ha`, `fa`, `gw`, `mn`) over
// its control socket (src/platform/linux/control_server.h) and prints the
// answer for people (aligned lists and tables, like `ip` and `swanctl
// --list-sas`) or, with --json, the daemon's JSON as it is.
//
// Exit codes: 0 answered; 1 the daemon answered with an error (unknown
// command, refused, handler error); 2 no answer (no socket, permission
// denied, stale socket, timeout, bad usage).
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "platform/linux/control_client.h"

namespace mipsec::cli {
namespace {

struct CtlOptions {
  std::string socket;
  std::string daemon;
  bool json = false;
  double timeout = 5;
  int limit = -1;  // < 0: none
  std::string command;
};

int RunCtl(const CtlOptions& o) {
  const std::string path =
      !o.socket.empty() ? o.socket
                        : platform::DefaultControlSocket(o.daemon.empty() ? "ha" : o.daemon);
  nlohmann::ordered_json request = {{"command", o.command}};
  if (o.limit >= 0) request["limit"] = o.limit;
  auto reply = platform::ControlQuery(
      path, request, Duration::Millis(static_cast<std::int64_t>(o.timeout * 1000)));
  if (!reply.ok()) {
    std::fprintf(stderr, "mipsec ctl: %s\n", reply.error().detail().c_str());
    return 2;
  }
  const nlohmann::ordered_json& r = *reply;
  if (o.json) {
    std::printf("%s\n", r.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                            .c_str());
    return r.value("ok", false) ? 0 : 1;
  }
  if (!r.value("ok", false)) {
    std::string err = "the daemon refused the request";
    if (auto it = r.find("error"); it != r.end() && it->is_string()) err = it->get<std::string>();
    std::fprintf(stderr, "mipsec ctl: %s: %s\n", path.c_str(), err.c_str());
    if (auto it = r.find("commands"); it != r.end() && it->is_array()) {
      std::string list;
      for (const auto& c : *it) {
        if (c.is_string()) list += (list.empty() ? "" : ", ") + c.get<std::string>();
      }
      std::fprintf(stderr, "available commands: %s\n", list.c_str());
    }
    return 1;
  }
  auto data = r.find("data");
  if (data != r.end()) std::fputs(platform::FormatHuman(o.command, *data).c_str(), stdout);
  return 0;
}

}  // namespace

Handler AddCtl(CLI::App& app) {
  auto o = std::make_shared<CtlOptions>();
  CLI::App* sub = app.add_subcommand(
      "ctl",
      "Query a running daemon over its control socket: status, bindings (ha), visitors (fa), "
      "sas (gw), interfaces, history and sas (mn), counters, help");
  auto* sock = sub->add_option("--socket,-s", o->socket,
                               "control socket path (default: /run/mipsec/<daemon>.sock, the "
                               "daemons' control_socket default)");
  sub->add_option("--daemon,-d", o->daemon,
                  "which daemon's default socket: ha, fa, gw or mn (default ha)")
      ->check(CLI::IsMember({"ha", "fa", "gw", "mn"}))
      ->excludes(sock);
  sub->add_flag("--json,-j", o->json, "print the daemon's JSON response as it is (for scripts)");
  sub->add_option("--limit", o->limit,
                  "at most this many rows, for the commands that take a limit: bindings (ha), "
                  "history (mn: the last N decisions)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--timeout", o->timeout, "seconds to wait for the answer")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  sub->add_option("command", o->command,
                  "what to ask: status, counters, help, and per daemon bindings (ha), visitors "
                  "(fa), sas (gw), interfaces, history, sas (mn); `help` lists what the daemon "
                  "offers")
      ->required();
  sub->footer(
      "Examples:\n"
      "  mipsec ctl -d ha bindings\n"
      "  mipsec ctl -d mn --limit 20 history\n"
      "  mipsec ctl --socket /tmp/gw.sock --json sas\n"
      "The socket is mode 0600: run as root or as the daemon's user.\n"
      "Exit codes: 0 answered; 1 the daemon answered with an error (e.g. unknown command: the "
      "available ones are listed); 2 no answer (no socket, permission denied, stale socket, "
      "timeout).");
  return [o] { return RunCtl(*o); };
}

}  // namespace mipsec::cli

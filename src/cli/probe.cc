// `mipsec probe`: one long-lived TCP connection whose interruptions are
// measured (src/lab/figure1/tcp_probe.h) — the correspondent node's session
// to the mobile node's home address in `mipsec demo --netns` and the
// namespace tests, which start it in their namespaces. Usable by hand too:
//   mipsec probe serve --bind 10.1.0.10          (on the MN)
//   mipsec probe connect --to 10.1.0.10          (on the CN; JSON lines)
#include <memory>
#include <string>

#include "cli/commands.h"
#include "lab/figure1/tcp_probe.h"

namespace mipsec::cli {
namespace {

struct ProbeOptions {
  std::string bind_to = "0.0.0.0";
  std::string to;
  int port = 5266;
  int interval_ms = 10;
  double gap_ms = 50;
  int connect_timeout_ms = 10000;
};

}  // namespace

Handler AddProbe(CLI::App& app) {
  auto o = std::make_shared<ProbeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "probe",
      "A long-lived TCP session with each interruption timed (JSON lines): what "
      "`demo --netns` measures a move by");
  cmd->require_subcommand(1);
  CLI::App* serve = cmd->add_subcommand("serve", "Accept connections and echo every byte");
  serve->add_option("--bind", o->bind_to, "Address to listen on (may not exist yet)");
  serve->add_option("--port", o->port, "TCP port")->check(CLI::Range(1, 65535));
  CLI::App* conn = cmd->add_subcommand(
      "connect", "Open one connection, send a record every interval, time the echoes");
  conn->add_option("--to", o->to, "Server address")->required();
  conn->add_option("--port", o->port, "TCP port")->check(CLI::Range(1, 65535));
  conn->add_option("--interval-ms", o->interval_ms, "Send interval")->check(CLI::Range(1, 10000));
  conn->add_option("--gap-ms", o->gap_ms, "Report echo inter-arrival gaps above this");
  conn->add_option("--connect-timeout-ms", o->connect_timeout_ms,
                   "Keep trying to connect this long");
  return [o, serve]() {
    if (serve->parsed()) return lab::TcpProbeServe(o->bind_to, static_cast<std::uint16_t>(o->port));
    return lab::TcpProbeConnect(o->to, static_cast<std::uint16_t>(o->port), o->interval_ms,
                                o->gap_ms, o->connect_timeout_ms);
  };
}

}  // namespace mipsec::cli

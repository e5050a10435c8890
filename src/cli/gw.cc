// `mipsec gw`: the VPN gateway of RFC 5266 (IKEv2 responder, TIA pool via
// CP, userspace ESP over a TUN into the intranet, RFC 5265 4.2 policy), in
// the foreground until SIGTERM/SIGINT.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "config/gw_config.h"
#include "platform/linux/ikev2/gw_daemon.h"
#include "platform/linux/stderr_sink.h"

namespace mipsec::cli {
namespace {

struct GwOptions {
  std::string config;
  std::string log_level;
  std::string control_socket;  // empty: the config's
};

int RunGw(const GwOptions& o) {
  // A bad config is reported (file:line: key: reason) before anything opens.
  Result<config::GwConfig> cfg = config::LoadGwConfig(o.config);
  if (!cfg.ok()) {
    std::fprintf(stderr, "mipsec gw: %s\n", cfg.error().detail().c_str());
    return 1;
  }
  if (!o.log_level.empty()) {
    std::optional<LogLevel> level = ParseLogLevel(o.log_level);
    if (!level) {
      std::fprintf(stderr, "mipsec gw: --log-level: unknown level '%s'\n", o.log_level.c_str());
      return 1;
    }
    cfg->log_level = *level;
  }
  platform::StderrSink sink;
  ikev2d::GwDaemonOptions opts;
  opts.config_path = o.config;  // SIGHUP re-reads it
  if (!o.log_level.empty()) opts.log_level = cfg->log_level;
  opts.control_socket = o.control_socket;
  auto daemon = ikev2d::GwDaemon::Create(*cfg, opts, &sink);
  if (!daemon.ok()) {
    std::fprintf(stderr, "mipsec gw: %s\n", daemon.error().ToString().c_str());
    return 1;
  }
  Status st = (*daemon)->Run();
  daemon->reset();  // routes and the nft policy removed before exiting
  if (!st.ok()) {
    std::fprintf(stderr, "mipsec gw: %s\n", st.error().ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

Handler AddGw(CLI::App& app) {
  auto o = std::make_shared<GwOptions>();
  CLI::App* sub = app.add_subcommand(
      "gw",
      "Run the VPN gateway (RFC 5266 mVPN: IKEv2 responder RFC 7296, TIA pool via CP, "
      "userspace ESP-in-UDP RFC 4303/3948 into the intranet, RFC 5265 4.2 policy) in the "
      "foreground until SIGTERM/SIGINT");
  sub->add_option("--config,-c", o->config, "TOML configuration file (docs/configuration.md)")
      ->required();
  sub->add_option("--log-level", o->log_level,
                  "trace, debug, info, notice, warning or error (default: the config's "
                  "log_level)");
  sub->add_option("--control-socket", o->control_socket,
                  "Unix socket for `mipsec ctl` (mode 0600), overriding the config's "
                  "control_socket (default /run/mipsec/gw.sock)");
  sub->footer(
      "Needs net.ipv4.ip_forward=1 to forward clients' traffic. The TIA pool is routed into "
      "the TUN; [policy] is enforced with an nftables table the daemon installs and removes.\n"
      "Signals: SIGINT/SIGTERM stop cleanly (IKE SAs deleted, routes removed, exit 0); "
      "SIGUSR1 logs the counters; SIGHUP re-reads the config file: [[peer]] PSKs, psk and "
      "log_level apply to new IKE SAs, established SAs stay up (docs/configuration.md).");
  return [o] { return RunGw(*o); };
}

}  // namespace mipsec::cli

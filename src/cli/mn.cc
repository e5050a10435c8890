// `mipsec mn`: the RFC 5266 mobile node on Linux, in the foreground until
// SIGTERM/SIGINT.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "config/mn_config.h"
#include "platform/linux/mn/mn_daemon.h"
#include "platform/linux/stderr_sink.h"

namespace mipsec::cli {
namespace {

struct MnOptions {
  std::string config;
  std::string log_level;
  std::string control_socket;  // empty: the config's
  double shutdown_grace = 3;   // seconds
};

int RunMn(const MnOptions& o) {
  // A bad config is reported (file:line: key: reason) before anything opens.
  Result<config::MnConfig> cfg = config::LoadMnConfig(o.config);
  if (!cfg.ok()) {
    std::fprintf(stderr, "mipsec mn: %s\n", cfg.error().detail().c_str());
    return 1;
  }
  if (!o.log_level.empty()) {
    std::optional<LogLevel> level = ParseLogLevel(o.log_level);
    if (!level) {
      std::fprintf(stderr, "mipsec mn: --log-level: unknown level '%s'\n", o.log_level.c_str());
      return 1;
    }
    cfg->log_level = *level;
  }
  mnd::MnDaemonOptions opts;
  opts.config_path = o.config;  // SIGHUP re-reads it
  if (!o.log_level.empty()) opts.log_level = cfg->log_level;
  opts.control_socket = o.control_socket;
  opts.shutdown_grace = Duration::Millis(static_cast<std::int64_t>(o.shutdown_grace * 1000));
  platform::StderrSink sink;
  Result<std::unique_ptr<mnd::MnDaemon>> daemon = mnd::MnDaemon::Create(*cfg, opts, &sink);
  if (!daemon.ok()) {
    std::fprintf(stderr, "mipsec mn: %s\n", daemon.error().ToString().c_str());
    return 1;
  }
  Status st = (*daemon)->Run();
  daemon->reset();  // TUN, addresses, routes, rules and sysctls undone before exiting
  if (!st.ok()) {
    std::fprintf(stderr, "mipsec mn: %s\n", st.error().ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

Handler AddMn(CLI::App& app) {
  auto o = std::make_shared<MnOptions>();
  CLI::App* sub = app.add_subcommand(
      "mn",
      "Run the RFC 5266 mobile node: detects on each interface whether it is at home, inside "
      "the enterprise (Mobile IPv4, modes c and f) or outside, keeps the home address on a TUN "
      "device and blocks user data while detecting; in the foreground until SIGTERM/SIGINT");
  sub->add_option("--config,-c", o->config,
                  "TOML configuration file (docs/configuration.md, examples/mn.toml)")
      ->required();
  sub->add_option("--log-level", o->log_level,
                  "trace, debug, info, notice, warning or error (default: the config's "
                  "log_level)");
  sub->add_option("--control-socket", o->control_socket,
                  "Unix socket for `mipsec ctl -d mn` (mode 0600), overriding the config's "
                  "control_socket (default /run/mipsec/mn.sock)");
  sub->add_option("--shutdown-grace", o->shutdown_grace,
                  "seconds SIGTERM/SIGINT waits at most for the deregistration from the home "
                  "agent (and the VPN disconnect) before exiting")
      ->check(CLI::Range(0.1, 60.0))
      ->capture_default_str();
  sub->footer(
      "Needs CAP_NET_ADMIN and CAP_NET_RAW. Everything added to the host (TUN, addresses, "
      "routes, rules, sysctls) is removed on exit. Signals: SIGINT/SIGTERM stop cleanly: user "
      "data is blocked at once, every binding is deregistered from the home agent (RFC 5944 "
      "3.6.1.2), then exit 0 (a second signal: at once); SIGHUP re-reads the config file "
      "(log_level, use_foreign_agents, t_monitor, monitor_margin, probe_domains apply live; a "
      "bad file changes nothing); SIGUSR1 logs the counters. The outside mode mc ([vpn]) is "
      "not available in this version.");
  return [o] { return RunMn(*o); };
}

}  // namespace mipsec::cli

// `mipsec ha`: the Mobile IPv4 home agent daemon (RFC 5944, 3024, 3519, 2794,
// RFC 5265 4.3), in the foreground until SIGTERM/SIGINT.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "config/daemon_config.h"
#include "platform/linux/mip4/ha_daemon.h"
#include "platform/linux/stderr_sink.h"

namespace mipsec::cli {
namespace {

struct HaOptions {
  std::string config;
  std::string log_level;
  std::string tun_name = "mipha%d";
  double advertisement_interval = -1;  // < 0: the config's
  std::string control_socket;          // empty: the config's
};

int RunHa(const HaOptions& o) {
  // A bad config is reported (file:line: key: reason) before anything opens.
  Result<config::HaConfig> cfg = config::LoadHaConfig(o.config);
  if (!cfg.ok()) {
    std::fprintf(stderr, "mipsec ha: %s\n", cfg.error().detail().c_str());
    return 1;
  }
  if (!o.log_level.empty()) {
    std::optional<LogLevel> level = ParseLogLevel(o.log_level);
    if (!level) {
      std::fprintf(stderr, "mipsec ha: --log-level: unknown level '%s'\n", o.log_level.c_str());
      return 1;
    }
    cfg->log_level = *level;
  }
  if (o.advertisement_interval > 1800) {
    std::fprintf(stderr, "mipsec ha: --advertisement-interval: must be 0..1800 seconds\n");
    return 1;
  }
  mip4d::HaDaemonOptions opts;
  opts.tun_name = o.tun_name;
  opts.config_path = o.config;  // SIGHUP re-reads it
  if (!o.log_level.empty()) opts.log_level = cfg->log_level;
  opts.control_socket = o.control_socket;
  if (o.advertisement_interval >= 0) {
    opts.advertisement_interval =
        Duration::Millis(static_cast<std::int64_t>(o.advertisement_interval * 1000));
  }
  platform::StderrSink sink;
  Result<std::unique_ptr<mip4d::HaDaemon>> daemon = mip4d::HaDaemon::Create(*cfg, opts, &sink);
  if (!daemon.ok()) {
    std::fprintf(stderr, "mipsec ha: %s\n", daemon.error().ToString().c_str());
    return 1;
  }
  Status st = (*daemon)->Run();
  daemon->reset();  // routes and sysctls undone before exiting
  if (!st.ok()) {
    std::fprintf(stderr, "mipsec ha: %s\n", st.error().ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

Handler AddHa(CLI::App& app) {
  auto o = std::make_shared<HaOptions>();
  CLI::App* sub = app.add_subcommand(
      "ha",
      "Run the Mobile IPv4 home agent (RFC 5944, reverse tunnelling RFC 3024, NAT traversal "
      "RFC 3519, RFC 5265 trusted networks) in the foreground until SIGTERM/SIGINT");
  sub->add_option("--config,-c", o->config, "TOML configuration file (docs/configuration.md)")
      ->required();
  sub->add_option("--log-level", o->log_level,
                  "trace, debug, info, notice, warning or error (default: the config's "
                  "log_level)");
  sub->add_option("--tun", o->tun_name,
                  "name of the interception TUN device (%d: the kernel picks a number)")
      ->capture_default_str();
  sub->add_option("--advertisement-interval", o->advertisement_interval,
                  "seconds between Agent Advertisements on the home link, overriding the "
                  "config's advertisement_interval; 0: none")
      ->check(CLI::Range(0.0, 1800.0));
  sub->add_option("--control-socket", o->control_socket,
                  "Unix socket for `mipsec ctl` (mode 0600), overriding the config's "
                  "control_socket (default /run/mipsec/ha.sock)");
  sub->footer(
      "Signals: SIGINT/SIGTERM stop cleanly (routes removed, exit 0); SIGUSR1 logs the "
      "counters; SIGHUP re-reads the config file and applies it without dropping bindings "
      "(a bad file is logged with file:line and changes nothing; see docs/configuration.md).");
  return [o] { return RunHa(*o); };
}

}  // namespace mipsec::cli

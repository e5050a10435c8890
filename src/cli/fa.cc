// `mipsec fa`: the Mobile IPv4 foreign agent daemon (RFC 5944, RFC 3024
// reverse tunnelling, RFC 3519 behind a NAT). Runs in the foreground until
// SIGTERM or SIGINT; SIGUSR1 logs the counters. Behaviour lives in
// platform/linux/mip4/fa_daemon.h.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "common/log.h"
#include "config/daemon_config.h"
#include "platform/linux/epoll_event_loop.h"
#include "platform/linux/mip4/fa_daemon.h"
#include "platform/linux/stderr_sink.h"

namespace mipsec::cli {
namespace {

struct FaOptions {
  std::string config;
  std::string log_level;
  std::string control_socket;  // empty: the config's
};

int RunFa(const FaOptions& o) {
  // A bad config stops here, before anything is opened.
  Result<config::FaConfig> cfg = config::LoadFaConfig(o.config);
  if (!cfg.ok()) {
    std::fprintf(stderr, "mipsec fa: %s\n", cfg.error().detail().c_str());
    return 1;
  }
  LogLevel level = cfg->log_level;
  if (!o.log_level.empty()) {
    std::optional<LogLevel> l = ParseLogLevel(o.log_level);
    if (!l) {
      std::fprintf(stderr,
                   "mipsec fa: --log-level: unknown level '%s' (trace, debug, info, notice, "
                   "warning, error, off)\n",
                   o.log_level.c_str());
      return 1;
    }
    level = *l;
  }
  platform::StderrSink sink;
  Logger log(&sink, "fa", level);

  Result<std::unique_ptr<platform::EpollEventLoop>> loop = platform::EpollEventLoop::Create();
  if (!loop.ok()) {
    std::fprintf(stderr, "mipsec fa: event loop: %s\n", loop.error().ToString().c_str());
    return 1;
  }
  mip4d::FaDaemonOptions fa_options;
  fa_options.config_path = o.config;  // SIGHUP re-reads it
  if (!o.log_level.empty()) fa_options.log_level = level;
  fa_options.control_socket = o.control_socket;
  Result<std::unique_ptr<mip4d::FaDaemon>> daemon =
      mip4d::FaDaemon::Create(*cfg, **loop, log, fa_options);
  if (!daemon.ok()) {
    std::fprintf(stderr, "mipsec fa: %s: %s\n", o.config.c_str(),
                 daemon.error().detail().c_str());
    return 1;
  }
  Status ran = (*daemon)->Run();
  daemon->reset();
  if (!ran.ok()) {
    std::fprintf(stderr, "mipsec fa: %s\n", ran.error().ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

Handler AddFa(CLI::App& app) {
  auto opts = std::make_shared<FaOptions>();
  CLI::App* cmd = app.add_subcommand(
      "fa",
      "Run the Mobile IPv4 foreign agent (RFC 5944; reverse tunnelling RFC 3024; RFC 3519 "
      "behind a NAT) in the foreground until SIGTERM/SIGINT; SIGUSR1 logs the counters");
  cmd->add_option("--config,-c", opts->config,
                  "Foreign agent configuration (TOML; docs/configuration.md, examples/fa.toml)")
      ->required();
  cmd->add_option("--log-level", opts->log_level,
                  "Override the config's log_level: trace, debug, info, notice, warning, error, "
                  "off");
  cmd->footer(
      "Signals: SIGINT/SIGTERM stop cleanly (routes and rules removed, exit 0); SIGUSR1 logs "
      "the counters; SIGHUP re-reads the config file and applies it without dropping visitors "
      "(a bad file is logged with file:line and changes nothing; see docs/configuration.md).");
  cmd->add_option("--control-socket", opts->control_socket,
                  "Unix socket for `mipsec ctl` (mode 0600), overriding the config's "
                  "control_socket (default /run/mipsec/fa.sock)");
  return [opts]() { return RunFa(*opts); };
}

}  // namespace mipsec::cli

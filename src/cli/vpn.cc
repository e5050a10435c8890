// `mipsec vpn`: the IKEv2 VPN client (the initiator side of RFC 5266's
// VPN): asks the gateway for a TIA, puts it on a TUN and routes the
// configured prefixes into the tunnel, in the foreground until
// SIGTERM/SIGINT.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "config/gw_config.h"
#include "platform/linux/ikev2/vpn_client.h"
#include "platform/linux/stderr_sink.h"

namespace mipsec::cli {
namespace {

struct VpnOptions {
  std::string config;
  std::string log_level;
  bool no_retry = false;
};

int RunVpn(const VpnOptions& o) {
  // A bad config is reported (file:line: key: reason) before anything opens.
  Result<config::VpnClientConfig> cfg = config::LoadVpnClientConfig(o.config);
  if (!cfg.ok()) {
    std::fprintf(stderr, "mipsec vpn: %s\n", cfg.error().detail().c_str());
    return 1;
  }
  if (!o.log_level.empty()) {
    std::optional<LogLevel> level = ParseLogLevel(o.log_level);
    if (!level) {
      std::fprintf(stderr, "mipsec vpn: --log-level: unknown level '%s'\n", o.log_level.c_str());
      return 1;
    }
    cfg->log_level = *level;
  }
  platform::StderrSink sink;
  ikev2d::VpnClientOptions opts;
  opts.retry = !o.no_retry;
  auto client = ikev2d::VpnClient::Create(*cfg, opts, &sink);
  if (!client.ok()) {
    std::fprintf(stderr, "mipsec vpn: %s\n", client.error().ToString().c_str());
    return 1;
  }
  Status st = (*client)->Run();
  client->reset();  // TIA and routes removed before exiting
  if (!st.ok()) {
    std::fprintf(stderr, "mipsec vpn: %s\n", st.error().ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

Handler AddVpn(CLI::App& app) {
  auto o = std::make_shared<VpnOptions>();
  CLI::App* sub = app.add_subcommand(
      "vpn",
      "Run the IKEv2 VPN client (RFC 7296 initiator: TIA requested via CP, userspace "
      "ESP-in-UDP RFC 4303/3948 over a TUN, the configured routes into the tunnel) in the "
      "foreground until SIGTERM/SIGINT");
  sub->add_option("--config,-c", o->config, "TOML configuration file (docs/configuration.md)")
      ->required();
  sub->add_option("--log-level", o->log_level,
                  "trace, debug, info, notice, warning or error (default: the config's "
                  "log_level)");
  sub->add_flag("--no-retry", o->no_retry,
                "exit 1 when the IKE SA fails or goes down, instead of reconnecting with "
                "backoff (1 s doubling to 30 s)");
  sub->footer(
      "The TIA is put on the TUN and the routes point into it with the TIA as source; a route "
      "that contains the gateway's address is refused.\n"
      "Signals: SIGINT/SIGTERM stop cleanly (IKE SA deleted, TIA and routes removed, exit 0); "
      "SIGUSR1 logs the counters.");
  return [o] { return RunVpn(*o); };
}

}  // namespace mipsec::cli

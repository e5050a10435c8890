// Subcommand registration for the `mipsec` program. Each subcommand adds
// itself to the CLI11 app and returns the handler to run when chosen.
#ifndef MIPSEC_CLI_COMMANDS_H_
#define MIPSEC_CLI_COMMANDS_H_

#include <functional>

#include <CLI/CLI.hpp>

namespace mipsec::cli {

using Handler = std::function<int()>;

// `mipsec demo`: the main job, the RFC 5266 enterprise walk.
Handler AddDemo(CLI::App& app);

// `mipsec ha`: the Mobile IPv4 home agent daemon (src/platform/linux/mip4/ha_daemon.h).
Handler AddHa(CLI::App& app);

// `mipsec fa`: the Mobile IPv4 foreign agent daemon (src/platform/linux/mip4/fa_daemon.h).
Handler AddFa(CLI::App& app);

// `mipsec bench reg`: the registration load generator (src/platform/linux/mip4/reg_load.h).
Handler AddBench(CLI::App& app);
// `mipsec bench ike` under `bench` (bench_ike.cc; src/platform/linux/ikev2/ike_load.h).
Handler AddBenchIke(CLI::App& bench);

// `mipsec gw`: the VPN gateway (src/platform/linux/ikev2/gw_daemon.h).
Handler AddGw(CLI::App& app);
// `mipsec mn`: the RFC 5266 mobile node (src/platform/linux/mn/mn_daemon.h).
Handler AddMn(CLI::App& app);

// `mipsec vpn`: the IKEv2 VPN client (src/platform/linux/ikev2/vpn_client.h).
Handler AddVpn(CLI::App& app);

// `mipsec probe serve|connect`: the timed TCP session (src/lab/figure1/tcp_probe.h).
Handler AddProbe(CLI::App& app);

// `mipsec ctl`: queries a daemon's control socket (src/platform/linux/control_client.h).
Handler AddCtl(CLI::App& app);

}  // namespace mipsec::cli

#endif  // MIPSEC_CLI_COMMANDS_H_

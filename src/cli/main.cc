// mipsec — RFC 5266 secure connectivity and mobility.
//
// One program, subcommands in the style of `ip` and `swanctl`.
#include <cstdio>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "mipsec: secure connectivity and mobility for enterprise users with Mobile IPv4 "
      "and IKEv2/MOBIKE (RFC 5266)",
      "mipsec"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("mipsec ") + MIPSEC_VERSION);

  std::map<std::string, mipsec::cli::Handler> handlers;
  handlers["demo"] = mipsec::cli::AddDemo(app);
  handlers["ha"] = mipsec::cli::AddHa(app);
  handlers["fa"] = mipsec::cli::AddFa(app);
  handlers["bench"] = mipsec::cli::AddBench(app);
  handlers["gw"] = mipsec::cli::AddGw(app);
  handlers["vpn"] = mipsec::cli::AddVpn(app);
  handlers["mn"] = mipsec::cli::AddMn(app);
  handlers["ctl"] = mipsec::cli::AddCtl(app);
  handlers["probe"] = mipsec::cli::AddProbe(app);

  CLI11_PARSE(app, argc, argv);
  for (CLI::App* sub : app.get_subcommands()) {
    auto it = handlers.find(sub->get_name());
    if (it != handlers.end()) return it->second();
  }
  std::fprintf(stderr, "mipsec: no handler for the chosen subcommand\n");
  return 2;
}

#include <cstdio>

#include "cli/commands.h"

namespace mipsec::cli {

Handler AddDemo(CLI::App& app) {
  // Options (--scenario, --seed, --pcap, --json) arrive with the simulator
  // that gives them meaning (issue 3); until then none are accepted.
  app.add_subcommand(
      "demo",
      "Run the RFC 5266 enterprise walk (home -> c -> f -> mc -> mc behind NAT -> c) "
      "and print what each move cost");
  return []() {
    // The demo runs on the deterministic network simulator, which is not
    // built yet. Say so plainly instead of printing anything that looks like
    // a result.
    std::printf(
        "mipsec demo: not available yet.\n"
        "\n"
        "The demo runs the RFC 5266 Figure 1 enterprise on mipsec's deterministic\n"
        "network simulator. What is built so far:\n"
        "  built      common (wire codecs, IPv4/UDP/ICMP, IP-in-IP, timers, logging)\n"
        "  built      crypto (OpenSSL 3: HMAC, AES-GCM/CBC, X25519, ECDH, MODP DH)\n"
        "  built      Linux platform layer (epoll, UDP, raw, TUN, netlink)\n"
        "  not built  network simulator (src/sim)          -- issue 3\n"
        "  not built  Mobile IPv4 HA / FA / MN             -- issue 4\n"
        "  not built  IKEv2 / ESP / VPN gateway            -- issue 5\n"
        "  not built  MOBIKE                               -- issue 6\n"
        "  not built  RFC 5266 mobile-node controller      -- issue 7\n"
        "Nothing was simulated; no numbers are shown because none were measured.\n");
    return 0;
  };
}

}  // namespace mipsec::cli

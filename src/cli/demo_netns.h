// `mipsec demo --netns` (demo_netns.cc): the Figure 1 walk in real network
// namespaces (src/lab/figure1/walk.h), printed like the simulated demo.
#ifndef MIPSEC_CLI_DEMO_NETNS_H_
#define MIPSEC_CLI_DEMO_NETNS_H_

#include <string>

namespace mipsec::cli {

struct NetnsDemoOptions {
  std::string mvpn = "mipsec";  // mipsec | strongswan
  bool keep = false;            // keep the run directory
  std::string legs;             // "home,c,f,c,home"; empty: the default walk
};

// Exit status: 0 when every leg was walked and the TCP session survived; 1
// on any failure or refusal (not root, a tool missing, a bad --legs); 130
// when interrupted (SIGINT/SIGTERM/SIGHUP: everything is still cleaned up).
int RunNetnsDemo(const NetnsDemoOptions& options);

}  // namespace mipsec::cli

#endif  // MIPSEC_CLI_DEMO_NETNS_H_

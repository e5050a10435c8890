// `mipsec demo --netns`: the RFC 5266 Figure 1 walk on this Linux host, in
// network namespaces with the real programs (src/lab/figure1), printed in
// the layout of the simulated `mipsec demo` so the two can be compared.
#include "cli/demo_netns.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "lab/figure1/figure1_net.h"
#include "lab/figure1/walk.h"

namespace mipsec::cli {
namespace {

std::atomic<bool> g_interrupted{false};

// The first SIGINT/SIGTERM/SIGHUP asks the walk to stop (then everything is
// torn down as usual); a second one kills at once (the lab's reaper still
// deletes the namespaces and what runs in them).
void OnSignal(int sig) {
  g_interrupted.store(true);
  ::signal(sig, SIG_DFL);
}

void CatchSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

std::string Places(const std::vector<lab::WalkLeg>& legs) {
  std::string s;
  for (const lab::WalkLeg& l : legs) {
    if (!s.empty()) s += " -> ";
    s += std::string(lab::AccessName(l.access));
  }
  return s;
}

int Fail(const std::string& why) {
  std::fprintf(stderr, "mipsec demo --netns: %s\n", why.c_str());
  return 1;
}

}  // namespace

int RunNetnsDemo(const NetnsDemoOptions& o) {
  // What to walk, checked before anything needs root.
  std::vector<lab::WalkLeg> legs = lab::DefaultWalk();
  if (!o.legs.empty()) {
    Result<std::vector<lab::WalkLeg>> parsed = lab::ParseLegs(o.legs);
    if (!parsed.ok()) return Fail("--legs: " + parsed.error().detail());
    legs = std::move(*parsed);
  }
  const lab::Mvpn mvpn = o.mvpn == "strongswan" ? lab::Mvpn::kStrongswan : lab::Mvpn::kMipsec;
  if (Status s = lab::CheckLegs(legs, mvpn); !s.ok()) return Fail("--legs: " + s.error().detail());

  lab::Figure1Options net_options;
  net_options.mvpn = mvpn;
  if (::geteuid() != 0) {
    return Fail(
        "needs root: it creates network namespaces, bridges and firewall rules and runs the "
        "daemons in them (run: sudo mipsec demo --netns; `mipsec demo` runs the same walk on "
        "the simulator without privileges)");
  }
  std::vector<std::string> missing = lab::Figure1Net::MissingTools(net_options);
  if (!missing.empty()) {
    std::string list;
    for (const std::string& m : missing) list += (list.empty() ? "" : ", ") + m;
    const bool swan = o.mvpn == "strongswan";
    return Fail("missing " + list + (swan ? " (--mvpn strongswan needs charon)" : ""));
  }

  CatchSignals();
  std::fprintf(stderr, "mipsec demo --netns: building Figure 1 in network namespaces...\n");
  Result<std::unique_ptr<lab::Figure1Net>> net = lab::Figure1Net::Create(net_options);
  if (!net.ok()) return Fail(net.error().ToString());
  if (o.keep) (*net)->KeepRunDir();
  std::fprintf(stderr, "mipsec demo --netns: namespaces %s*, run directory %s\n",
               (*net)->topo().prefix().c_str(), (*net)->run_dir().c_str());

  lab::WalkOptions walk;
  walk.legs = legs;
  walk.cancel = &g_interrupted;
  walk.on_leg = [](const lab::WalkLegResult& l) {
    if (l.ok) {
      std::fprintf(stderr, "  %s: mode %s after %.1f ms\n", l.label.c_str(), l.mode.c_str(),
                   l.ready_ms.value_or(0));
    } else {
      std::fprintf(stderr, "  %s: %s\n", l.label.c_str(), l.error.c_str());
    }
  };
  // (Interrupted while the network was being built: the walk returns at
  // once, every leg "not walked".)
  const lab::WalkReport report = lab::RunFigure1Walk(**net, walk);

  std::printf("mipsec demo --netns: figure1 in network namespaces on this host\n\n");
  std::printf(
      "The mobile node (home address %s) walks the RFC 5266 Figure 1 enterprise built\n"
      "from network namespaces, with the real programs: `mipsec ha` (i-HA), `mipsec fa`\n"
      "(i-FA), %s as the mVPN, dnsmasq on each visited network, the\n"
      "nftables firewall, and `mipsec mn` itself. Its radio moves %s\n"
      "while the CN keeps one TCP connection to its home address (`mipsec probe`).\n"
      "`mipsec demo` runs the same network on the deterministic simulator.\n\n",
      std::string(lab::Figure1Net::kHomeAddress).c_str(),
      o.mvpn == "strongswan" ? "strongSwan" : "`mipsec gw`", Places(legs).c_str());
  std::fputs(lab::FormatWalkSummary(report).c_str(), stdout);
  std::fflush(stdout);
  if (!report.ok() && !report.interrupted && !report.mn_log.empty()) {
    std::fprintf(stderr, "---- mipsec mn (last lines) ----\n%s",
                 report.mn_log.substr(report.mn_log.size() > 4000 ? report.mn_log.size() - 4000 : 0)
                     .c_str());
    std::fputs((*net)->Describe().c_str(), stderr);
  }
  net->reset();  // stops the daemons, deletes the namespaces and (unless --keep) the run dir
  if (report.interrupted) return 130;
  return report.ok() ? 0 : 1;
}

}  // namespace mipsec::cli

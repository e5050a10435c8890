// The Figure 1 walk on real Linux: the real `mipsec mn` in the namespace
// `mn` of a Figure1Net, one long-lived TCP session from the correspondent
// node to its home address (`mipsec probe`, tcp_probe.h), and the radio
// moved from place to place, each move timed (until `mipsec mn` reports the
// place's mode) and each interruption of the session measured.
//
// scenarios/figure1/figure1_walk_test.cc and `mipsec demo --netns` run this
// same code; FormatWalkSummary() prints the table in the layout of the
// simulated demo's "summary per move" (src/sim/scenario/runner.cc), so the
// two can be read side by side.
//
//   auto net = Figure1Net::Create({.mvpn = Mvpn::kNone});
//   WalkOptions o;
//   o.legs = DefaultWalk();
//   WalkReport r = RunFigure1Walk(**net, o);
//   std::fputs(FormatWalkSummary(r).c_str(), stdout);
//
// Legs: the first one is where the MN starts (its ready time counts from
// the start of `mipsec mn`; the TCP session opens once it is ready); each
// further leg is one move, done once the MN reports the mode and the
// session has carried data again there, then a dwell. A leg names the place (Access), the mode the MN
// must then report ("data plane: mode <mode> on eth0" in its log) and the
// label of the summary row. Walking outside (Access::kPub, kNatNet: mode mc)
// needs an mVPN in the net (Mvpn::kMipsec or kStrongswan; CheckLegs()); on
// a net without one, mn.toml's [vpn] section is cut off (MnConfigText()).
#ifndef MIPSEC_LAB_FIGURE1_WALK_H_
#define MIPSEC_LAB_FIGURE1_WALK_H_

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "lab/figure1/figure1_net.h"

namespace mipsec::lab {

struct WalkLeg {
  Access access;
  std::string mode;   // what `mipsec mn` must report there: home, c, f, mc
  std::string label;  // the summary's row: "c: intranet subnet, DHCP"
  // A line `mipsec mn` must log after this move ("" for none): e.g. that
  // the move behind the NAT kept the i-HA binding (R5).
  std::string must_log = {};
};

// Issue 8's walk: home (start) -> c -> f -> mc (public) -> mc behind the
// NAT (MOBIKE alone: R5) -> c -> home. Needs an mVPN.
std::vector<WalkLeg> DefaultWalk();
// The part inside the enterprise: home -> c -> f -> c -> home.
std::vector<WalkLeg> IntranetWalk();

// The leg for a place name ("home", "c", "f", "pub", "natnet") with its
// mode and a generic label; kInvalidArgument naming the known places.
Result<WalkLeg> LegForPlace(std::string_view place);
// "home,c,f,c,home" -> legs (the first is the start).
Result<std::vector<WalkLeg>> ParseLegs(std::string_view comma_separated);
// Whether these legs can be walked on a net with this mVPN: at least one,
// and none outside without an mVPN (the error says why).
Status CheckLegs(const std::vector<WalkLeg>& legs, Mvpn mvpn);

struct WalkLegResult {
  std::string label;
  std::string place;  // AccessName()
  std::string mode;   // expected
  // The MN reported `mode` in time and (after a move) the TCP session
  // carried data again in this place.
  bool ok = false;
  std::optional<double> ready_ms;
  // The longest interruption of the TCP session from this move until the
  // next one (0: none above the probe's 30 ms threshold); nullopt for the
  // start (no session yet) and for legs not walked.
  std::optional<double> gap_ms;
  std::string error;     // why not ok
  double moved_at = 0;   // CLOCK_MONOTONIC seconds (steady_clock)
};

struct WalkReport {
  std::vector<WalkLegResult> legs;  // one per WalkOptions::legs, in order
  bool session_opened = false;
  bool session_alive = false;  // the TCP session survived to the end
  // The first failure ("<label>: <why>"), or why the walk could not start
  // or stopped early (the MN or the session gone); "" when none.
  std::string error;
  bool interrupted = false;    // WalkOptions::cancel was set
  std::string probe_output;    // the CN's probe: JSON lines (tcp_probe.h)
  std::string mn_log;          // `mipsec mn`'s stderr

  // Every leg walked and ok, and the session alive.
  bool ok() const;
};

struct WalkOptions {
  std::vector<WalkLeg> legs = DefaultWalk();
  Duration start_timeout = Duration::Seconds(10);  // MN ready at the start
  Duration ready_timeout = Duration::Seconds(20);  // MN ready after a move
  // After a move, the TCP session must carry data again within this.
  Duration resume_timeout = Duration::Seconds(20);
  Duration dwell = Duration::Seconds(2);           // stay in each place
  // Set (e.g. from a SIGINT handler): the walk stops at its next check
  // (every few ms) and reports interrupted.
  const std::atomic<bool>* cancel = nullptr;
  // Called after each leg (progress output).
  std::function<void(const WalkLegResult&)> on_leg;
};

// Walks `net` (the MN's radio is attached to legs[0] first). Starts and
// stops `mipsec mn` and both probes in the namespaces; the net stays up.
WalkReport RunFigure1Walk(Figure1Net& net, const WalkOptions& options);

// mn.toml for a net with this mVPN (without [vpn] when there is none: the
// MN would try to reach a gateway that is not there).
std::string MnConfigText(Mvpn mvpn);

// The "summary per move" table (and the session's fate).
std::string FormatWalkSummary(const WalkReport& report);

}  // namespace mipsec::lab

#endif  // MIPSEC_LAB_FIGURE1_WALK_H_

#include "lab/figure1/walk.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <regex>
#include <sstream>
#include <thread>

namespace mipsec::lab {
namespace {

using Clock = std::chrono::steady_clock;

// The probe reports echo inter-arrival gaps above this (its echoes come
// every 10 ms).
constexpr int kGapThresholdMs = 30;

// Seconds on the clock the probe stamps its events with (CLOCK_MONOTONIC).
double MonotonicNow() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

bool Cancelled(const WalkOptions& o) { return o.cancel != nullptr && o.cancel->load(); }

// Sleeps `d`; false (early) when cancelled.
bool Sleep(Duration d, const WalkOptions& o) {
  const auto until = Clock::now() + std::chrono::nanoseconds(d.nanos());
  while (Clock::now() < until) {
    if (Cancelled(o)) return false;
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(10), until - Clock::now()));
  }
  return !Cancelled(o);
}

// How many times `mipsec mn` has logged "data plane: mode <mode> on eth0".
std::size_t ModeCount(const Child& mn, std::string_view mode) {
  const std::string needle = "data plane: mode " + std::string(mode) + " on eth0";
  const std::string log = mn.Stderr();
  std::size_t n = 0;
  for (std::size_t at = log.find(needle); at != std::string::npos;
       at = log.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// Waits until the MN reports `mode` one more time than `before`; "" when it
// did, else why not.
std::string WaitMode(Child& mn, std::string_view mode, std::size_t before, Duration limit,
                     const WalkOptions& o) {
  const auto deadline = Clock::now() + std::chrono::nanoseconds(limit.nanos());
  while (Clock::now() < deadline) {
    if (ModeCount(mn, mode) > before) return "";
    if (!mn.Running()) return "`mipsec mn` exited";
    if (Cancelled(o)) return "interrupted";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "no mode " + std::string(mode) + " within " + limit.ToString();
}

struct Gap {
  double from, to, ms;
};

std::vector<Gap> Gaps(const std::string& out) {
  std::vector<Gap> gaps;
  static const std::regex re(
      R"re(\{"event":"gap","from":([0-9.]+),"to":([0-9.]+),"ms":([0-9.]+)\})re");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator();
       ++it) {
    gaps.push_back({std::stod((*it)[1]), std::stod((*it)[2]), std::stod((*it)[3])});
  }
  return gaps;
}

// Waits until the CN's session carries data again after a move at
// `moved_at`: the probe reports the interruption the move caused once an
// echo arrives (a gap ending after the move). "" when it did, else why not.
std::string WaitResumed(Child& client, double moved_at, Duration limit, const WalkOptions& o) {
  const auto deadline = Clock::now() + std::chrono::nanoseconds(limit.nanos());
  while (Clock::now() < deadline) {
    for (const Gap& g : Gaps(client.Stdout())) {
      if (g.to >= moved_at) return "";
    }
    if (!client.Running()) return "the TCP session broke";
    if (Cancelled(o)) return "interrupted";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "the TCP session carried no data here within " + limit.ToString();
}

// The probe's own words on why the session ended ("" when it did not say).
std::string ProbeError(const std::string& out) {
  const std::string key = "\"error\":\"";
  std::size_t at = out.rfind(key);
  if (at == std::string::npos) return "";
  at += key.size();
  std::size_t end = out.find('"', at);
  return end == std::string::npos ? "" : out.substr(at, end - at);
}

std::string FormatMs(double ms) {
  if (ms <= 0) return "<" + std::to_string(kGapThresholdMs) + "ms";
  return Duration::Nanos(static_cast<std::int64_t>(ms * 1e6)).ToString();
}

}  // namespace

std::vector<WalkLeg> DefaultWalk() {
  return {{Access::kHome, "home", "home: on the home link"},
          {Access::kC, "c", "c: intranet subnet, DHCP"},
          {Access::kF, "f", "f: subnet with the i-FA"},
          {Access::kPub, "mc", "mc: outside, public address"},
          // R5: only the outer address changed; MOBIKE alone, no new
          // registration (the controller's words).
          {Access::kNatNet, "mc", "mc: outside, behind NAT",
           "[R5] only the outer address changed (TIA "},
          {Access::kC, "c", "c: back inside"},
          {Access::kHome, "home", "home: back on the home link"}};
}

std::vector<WalkLeg> IntranetWalk() {
  return {{Access::kHome, "home", "home: on the home link"},
          {Access::kC, "c", "c: intranet subnet, DHCP"},
          {Access::kF, "f", "f: subnet with the i-FA"},
          {Access::kC, "c", "c: back inside"},
          {Access::kHome, "home", "home: back on the home link"}};
}

Result<WalkLeg> LegForPlace(std::string_view place) {
  if (place == "home") return WalkLeg{Access::kHome, "home", "home: on the home link"};
  if (place == "c") return WalkLeg{Access::kC, "c", "c: intranet subnet, DHCP"};
  if (place == "f") return WalkLeg{Access::kF, "f", "f: subnet with the i-FA"};
  if (place == "pub") return WalkLeg{Access::kPub, "mc", "mc: outside, public address"};
  if (place == "natnet") return WalkLeg{Access::kNatNet, "mc", "mc: outside, behind NAT"};
  return Error(Errc::kInvalidArgument, "unknown place '" + std::string(place) +
                                           "' (known: home, c, f, pub, natnet)");
}

Result<std::vector<WalkLeg>> ParseLegs(std::string_view list) {
  std::vector<WalkLeg> legs;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view name = list.substr(start, comma - start);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    MIPSEC_ASSIGN_OR_RETURN(WalkLeg leg, LegForPlace(name));
    legs.push_back(std::move(leg));
    start = comma + 1;
  }
  return legs;
}

Status CheckLegs(const std::vector<WalkLeg>& legs, Mvpn mvpn) {
  if (legs.empty()) return Error(Errc::kInvalidArgument, "no legs to walk");
  for (const WalkLeg& leg : legs) {
    const bool outside = leg.access == Access::kPub || leg.access == Access::kNatNet;
    if (outside && mvpn == Mvpn::kNone) {
      return Error(Errc::kInvalidArgument,
                   "place '" + std::string(AccessName(leg.access)) +
                       "' is outside the enterprise (mode mc): it needs an mVPN");
    }
  }
  return Ok{};
}

bool WalkReport::ok() const {
  if (!error.empty() || interrupted || !session_alive) return false;
  return std::all_of(legs.begin(), legs.end(), [](const WalkLegResult& l) { return l.ok; });
}

std::string MnConfigText(Mvpn mvpn) {
  Result<std::string> text = Figure1Net::ReadSource("mn.toml");
  std::string t = text.ok() ? *text : std::string();
  if (mvpn == Mvpn::kNone) {
    // No gateway to reach: the MN stays inside-only (R24).
    std::size_t vpn = t.find("\n[vpn]");
    if (vpn != std::string::npos) t.resize(vpn + 1);
  }
  return t;
}

WalkReport RunFigure1Walk(Figure1Net& net, const WalkOptions& o) {
  WalkReport r;
  for (const WalkLeg& leg : o.legs) {
    WalkLegResult lr;
    lr.label = leg.label;
    lr.place = std::string(AccessName(leg.access));
    lr.mode = leg.mode;
    r.legs.push_back(std::move(lr));
  }
  if (Status s = CheckLegs(o.legs, net.mvpn()); !s.ok()) {
    r.error = s.error().detail();
    return r;
  }
  Topology& topo = net.topo();
  const std::string bin = net.mipsec_binary();
  const std::string home(Figure1Net::kHomeAddress);
  Child* mn = nullptr;
  Child* server = nullptr;
  Child* client = nullptr;

  // Stops what the walk started, collects the outputs and the gaps.
  auto finish = [&]() -> WalkReport {
    if (Cancelled(o)) r.interrupted = true;
    if (r.interrupted && r.error.empty()) r.error = "interrupted";
    if (client != nullptr) {
      client->Stop(Duration::Seconds(2));
      r.probe_output = client->Stdout();
      r.session_alive = r.probe_output.find("\"alive\":true") != std::string::npos;
    }
    if (server != nullptr) server->Stop(Duration::Seconds(2));
    if (mn != nullptr) {
      mn->Stop(Duration::Seconds(5));
      r.mn_log = mn->Stderr();
    }
    // Each move's gap: the longest echo interruption that ended at or after
    // the move and began before the next one.
    const std::vector<Gap> gaps = Gaps(r.probe_output);
    for (std::size_t i = 1; i < r.legs.size() && r.session_opened; ++i) {
      if (r.legs[i].moved_at == 0) break;
      const double until = i + 1 < r.legs.size() && r.legs[i + 1].moved_at != 0
                               ? r.legs[i + 1].moved_at
                               : 1e18;
      double gap = 0;
      for (const Gap& g : gaps) {
        if (g.to >= r.legs[i].moved_at && g.from < until && g.ms > gap) gap = g.ms;
      }
      r.legs[i].gap_ms = gap;
    }
    return r;
  };
  // A leg failed: recorded (the report's error is the first failure).
  auto leg_failed = [&](std::size_t i, const std::string& why) {
    r.legs[i].error = why;
    if (r.error.empty()) r.error = r.legs[i].label + ": " + why;
    if (o.on_leg) o.on_leg(r.legs[i]);
  };
  auto fail_leg = [&](std::size_t i, const std::string& why) -> WalkReport {
    leg_failed(i, why);
    return finish();
  };

  if (Cancelled(o)) return finish();

  // The start.
  const WalkLeg& first = o.legs[0];
  if (Status s = net.Attach(first.access); !s.ok()) return fail_leg(0, s.error().ToString());
  Result<std::string> config = net.WriteConfig("mn.toml", MnConfigText(net.mvpn()));
  if (!config.ok()) return fail_leg(0, config.error().ToString());
  r.legs[0].moved_at = MonotonicNow();
  Result<Child*> spawned = topo.Spawn("mn", {bin, "mn", "--config", *config});
  if (!spawned.ok()) return fail_leg(0, "cannot start `mipsec mn`: " + spawned.error().ToString());
  mn = *spawned;
  if (std::string why = WaitMode(*mn, first.mode, 0, o.start_timeout, o); !why.empty()) {
    if (Cancelled(o)) return finish();
    return fail_leg(0, why);
  }
  r.legs[0].ok = true;
  r.legs[0].ready_ms = (MonotonicNow() - r.legs[0].moved_at) * 1000.0;
  if (o.on_leg) o.on_leg(r.legs[0]);

  // The CN's session to the home address.
  Result<Child*> srv = topo.Spawn("mn", {bin, "probe", "serve", "--bind", home});
  if (!srv.ok()) {
    r.error = "cannot start the probe on the MN: " + srv.error().ToString();
    return finish();
  }
  server = *srv;
  Result<Child*> cli = topo.Spawn("cn", {bin, "probe", "connect", "--to", home, "--interval-ms",
                                         "10", "--gap-ms", std::to_string(kGapThresholdMs)});
  if (!cli.ok()) {
    r.error = "cannot start the probe on the CN: " + cli.error().ToString();
    return finish();
  }
  client = *cli;
  const auto connected_by = Clock::now() + std::chrono::seconds(10);
  while (client->Stdout().find("\"connected\"") == std::string::npos &&
         Clock::now() < connected_by && !Cancelled(o)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (Cancelled(o)) return finish();
  if (client->Stdout().find("\"connected\"") == std::string::npos) {
    r.error = "the CN cannot open a TCP connection to the home address " + home + " at " +
              r.legs[0].place;
    return finish();
  }
  r.session_opened = true;
  if (!Sleep(Duration::Millis(500), o)) return finish();

  // The moves.
  for (std::size_t i = 1; i < o.legs.size(); ++i) {
    const WalkLeg& leg = o.legs[i];
    const std::size_t before = ModeCount(*mn, leg.mode);
    const std::size_t log_before = mn->Stderr().size();
    // Off the air first (Detach waits until the kernel reported the carrier
    // loss); the move's clock starts with the new carrier.
    if (Status s = net.Detach(); !s.ok()) return fail_leg(i, s.error().ToString());
    r.legs[i].moved_at = MonotonicNow();
    if (Status s = net.Attach(leg.access); !s.ok()) return fail_leg(i, s.error().ToString());
    // A failed leg is reported and the walk goes on to the next place
    // (which may well work), unless the MN or the session is gone.
    if (std::string why = WaitMode(*mn, leg.mode, before, o.ready_timeout, o); !why.empty()) {
      if (Cancelled(o)) return finish();
      if (!mn->Running()) return fail_leg(i, why);
      leg_failed(i, why);
      continue;
    }
    r.legs[i].ready_ms = (MonotonicNow() - r.legs[i].moved_at) * 1000.0;
    // The session must carry data in this place before the next move (else
    // TCP's backed-off retransmissions would carry one interruption over
    // several moves).
    if (std::string why = WaitResumed(*client, r.legs[i].moved_at, o.resume_timeout, o);
        !why.empty()) {
      if (Cancelled(o)) return finish();
      if (!client->Running()) return fail_leg(i, why);
      leg_failed(i, why);
      continue;
    }
    if (!leg.must_log.empty() && mn->Stderr().find(leg.must_log, log_before) == std::string::npos) {
      leg_failed(i, "`mipsec mn` did not log \"" + leg.must_log + "\"");
      continue;
    }
    r.legs[i].ok = true;
    if (o.on_leg) o.on_leg(r.legs[i]);
    // Stay a while.
    if (!Sleep(o.dwell, o)) return finish();
  }
  return finish();
}

std::string FormatWalkSummary(const WalkReport& r) {
  std::ostringstream os;
  char line[256];
  os << "summary per move (ready: from the move until `mipsec mn` reports the mode; tcp gap:\n"
        "the longest interruption of the CN's TCP session to the home address from the move\n"
        "to the next one):\n";
  std::snprintf(line, sizeof line, "  %-28s %-5s %11s %10s  %s\n", "leg", "mode", "ready (ms)",
                "tcp gap", "result");
  os << line;
  for (const WalkLegResult& leg : r.legs) {
    char ready[24] = "-";
    std::string gap = "-";
    if (leg.ready_ms) std::snprintf(ready, sizeof ready, "%.1f", *leg.ready_ms);
    if (leg.gap_ms) gap = FormatMs(*leg.gap_ms);
    std::string result = leg.ok ? "ok" : leg.error.empty() ? "not walked" : "FAILED: " + leg.error;
    std::snprintf(line, sizeof line, "  %-28.28s %-5s %11s %10s  ", leg.label.c_str(),
                  leg.mode.c_str(), ready, gap.c_str());
    os << line << result << "\n";
  }
  const std::string home(Figure1Net::kHomeAddress);
  if (!r.session_opened) {
    os << "\nTCP session CN -> " << home << ": never opened\n";
  } else if (r.session_alive) {
    os << "\nTCP session CN -> " << home << ": one connection, alive through every move\n";
  } else {
    const std::string why = ProbeError(r.probe_output);
    os << "\nTCP session CN -> " << home << ": BROKEN" << (why.empty() ? "" : ": " + why)
       << "\n";
  }
  if (r.interrupted) {
    os << "walk interrupted\n";
  } else if (!r.error.empty()) {
    os << "walk failed: " << r.error << "\n";
  }
  return os.str();
}

}  // namespace mipsec::lab

// `mipsec demo`: the main job. Runs a scenario (by default the built-in
// RFC 5266 Figure 1 walk; `--scenario operator` the Appendix A operator
// network; or a TOML file) on the deterministic simulator and prints what
// each leg of the walk cost.
//
// --scenario NAME|FILE: a bare name of a built-in scenario (no '/') always
// means the built-in, whatever files the current directory holds, so that
// `mipsec demo --scenario operator` runs the same walk everywhere; to run a
// file that happens to have a built-in's name, write it as a path
// (./operator). Anything else must be an existing file.
//
// --netns: the Figure 1 walk on this host instead, in network namespaces
// with the real programs (root; demo_netns.cc), printed in the same layout.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "cli/demo_netns.h"
#include "sim/scenario/builtin.h"
#include "sim/scenario/runner.h"
#include "sim/scenario/toml_loader.h"

namespace mipsec::cli {

namespace {

struct DemoOptions {
  std::string scenario;
  std::optional<std::uint64_t> seed;
  std::string pcap_dir;
  std::string events_file;
  bool json = false;
  bool counters = false;
  bool netns = false;
  NetnsDemoOptions lab;
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Errc::kNotFound, path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error(Errc::kSystem, path + ": read error");
  return ss.str();
}

Status WriteFile(const std::string& path, ByteSpan data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Error(Errc::kSystem, path + ": " + std::strerror(errno));
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out) return Error(Errc::kSystem, path + ": write error");
  return Ok{};
}

// What the built-in walk is, said before any number.
constexpr char kFigure1Intro[] =
    "The mobile node (home address 10.1.0.10) walks the RFC 5266 Figure 1 enterprise:\n"
    "home link -> intranet subnet (c) -> subnet with the i-FA (f) -> outside (mc) ->\n"
    "outside behind a NAT (mc, MOBIKE only) -> back inside (c), while the CN streams to\n"
    "its home address and it echoes. The timeline shows each decision of its RFC 5266\n"
    "controller with the requirement behind it (docs/requirements.md).\n";

constexpr char kOperatorIntro[] =
    "The mobile node (home address 10.1.0.10) walks the RFC 5266 Appendix A operator\n"
    "network: home link -> trusted access network (c) -> public WLAN hotspot behind a\n"
    "NAT (mc) -> hotspot behind a carrier-grade NAT (mc, MOBIKE only) -> trusted access\n"
    "network with a foreign agent (f) -> home link again, while a CN in the operator's\n"
    "internal network streams to its home address and it echoes. The timeline shows\n"
    "each decision of its RFC 5266 controller with the requirement behind it\n"
    "(docs/requirements.md).\n";

// A built-in scenario's name: no '/' and a known name.
bool IsBuiltinName(const std::string& s) {
  return s.find('/') == std::string::npos && sim::scenario::BuiltinScenario(s).has_value();
}

std::string BuiltinNames() {
  std::string names;
  for (std::string_view n : sim::scenario::BuiltinScenarioNames()) {
    if (!names.empty()) names += ", ";
    names += n;
  }
  return names;
}

const char* IntroFor(const std::string& builtin) {
  if (builtin == "figure1") return kFigure1Intro;
  if (builtin == "operator") return kOperatorIntro;
  return "";
}

int Run(const DemoOptions& o) {
  std::string text, file, builtin;
  if (o.scenario.empty() || IsBuiltinName(o.scenario)) {
    builtin = o.scenario.empty() ? "figure1" : o.scenario;
    text = std::string(*sim::scenario::BuiltinScenario(builtin));
    file = builtin + ".toml (built in)";
  } else {
    Result<std::string> t = ReadFile(o.scenario);
    if (!t.ok()) {
      std::fprintf(stderr, "mipsec demo: %s\n", t.error().detail().c_str());
      return 1;
    }
    text = std::move(*t);
    file = o.scenario;
  }
  Result<sim::scenario::Scenario> sc = sim::scenario::ParseScenarioToml(text, file);
  if (!sc.ok()) {
    std::fprintf(stderr, "mipsec demo: %s\n", sc.error().detail().c_str());
    return 1;
  }
  if (!o.pcap_dir.empty()) {
    struct stat st{};
    if (stat(o.pcap_dir.c_str(), &st) != 0 && mkdir(o.pcap_dir.c_str(), 0755) != 0) {
      std::fprintf(stderr, "mipsec demo: --pcap %s: %s\n", o.pcap_dir.c_str(), std::strerror(errno));
      return 1;
    }
  }
  auto run = sim::scenario::ScenarioRun::Build(*sc, o.seed);
  if (!run.ok()) {
    std::fprintf(stderr, "mipsec demo: %s\n", run.error().detail().c_str());
    return 1;
  }
  sim::scenario::ScenarioReport report = (*run)->Run();
  if (o.json) {
    std::fputs(sim::scenario::FormatReportJson(report).c_str(), stdout);
  } else {
    std::printf("mipsec demo: %s on the deterministic simulator\n\n%s\n",
                report.name.empty() ? file.c_str() : report.name.c_str(),
                IntroFor(builtin));
    std::fputs(sim::scenario::FormatReportText(report).c_str(), stdout);
    if (o.counters) {
      std::printf("\ncounters (non-zero):\n%s",
                  sim::scenario::FormatCountersText(report).c_str());
    }
  }
  int rc = 0;
  if (!o.pcap_dir.empty()) {
    for (sim::Segment* seg : (*run)->network().segments()) {
      std::string path = o.pcap_dir + "/" + seg->name() + ".pcap";
      if (Status s = WriteFile(path, seg->pcap().bytes()); !s.ok()) {
        std::fprintf(stderr, "mipsec demo: %s\n", s.error().detail().c_str());
        rc = 1;
      }
    }
    if (!o.json) std::printf("\npcaps: %s/<segment>.pcap\n", o.pcap_dir.c_str());
  }
  if (!o.events_file.empty()) {
    std::string log;
    for (const std::string& l : (*run)->network().log_sink().lines()) log += l + "\n";
    if (Status s = WriteFile(o.events_file, AsBytes(log)); !s.ok()) {
      std::fprintf(stderr, "mipsec demo: %s\n", s.error().detail().c_str());
      rc = 1;
    }
  }
  return rc;
}

}  // namespace

Handler AddDemo(CLI::App& app) {
  auto opts = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "Run the RFC 5266 enterprise walk (home -> c -> f -> mc -> mc behind NAT -> c) on the "
      "deterministic simulator and print what each move cost; --scenario operator: the "
      "Appendix A operator network instead; --netns: Figure 1 in real network namespaces "
      "with the real programs (root)");
  CLI::Option* scenario = cmd->add_option("--scenario", opts->scenario,
                  "A built-in scenario: figure1 (RFC 5266 Figure 1, the default) or operator "
                  "(RFC 5266 Appendix A: trusted and untrusted access networks); or a scenario "
                  "file (TOML, see docs/scenarios.md). A bare built-in name means the built-in; "
                  "write ./NAME for a file of that name")
      ->type_name("NAME|FILE")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (IsBuiltinName(value)) return {};
            struct stat st{};
            if (stat(value.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return {};
            return "'" + value + "' is neither a built-in scenario (" + BuiltinNames() +
                   ") nor an existing file";
          },
          "", "built-in scenario or file"));
  CLI::Option* seed = cmd->add_option(
      "--seed", opts->seed, "Random seed (loss, jitter, NAT ports); default: the scenario's own");
  CLI::Option* pcap = cmd->add_option(
      "--pcap", opts->pcap_dir, "Write one pcap per link into this directory (created if missing)");
  CLI::Option* events =
      cmd->add_option("--events", opts->events_file, "Write the event log to this file");
  CLI::Option* counters =
      cmd->add_flag("--counters", opts->counters,
                    "Also print every node's and link's counters (always in --json)");
  CLI::Option* json =
      cmd->add_flag("--json", opts->json, "Print the summary as JSON, with all counters");
  CLI::Option* netns = cmd->add_flag(
      "--netns", opts->netns,
      "Walk RFC 5266 Figure 1 on this host instead (needs root): network namespaces with the "
      "real mipsec ha/fa/gw/mn, dnsmasq and nftables, a TCP session from the CN timed through "
      "every move; prints the same summary table");
  netns->excludes(scenario)->excludes(seed)->excludes(pcap)->excludes(events)->excludes(counters)
      ->excludes(json);
  cmd->add_option("--mvpn", opts->lab.mvpn,
                  "With --netns: the mVPN in the DMZ, mipsec (`mipsec gw`, the default) or "
                  "strongswan (needs charon-systemd)")
      ->check(CLI::IsMember({"mipsec", "strongswan"}))
      ->needs(netns);
  cmd->add_flag("--keep", opts->lab.keep,
                "With --netns: keep the run directory (configs, leases, firewall) and print its "
                "path")
      ->needs(netns);
  cmd->add_option("--legs", opts->lab.legs,
                  "With --netns: the places to walk, comma-separated, the first being the start "
                  "(home, c, f; default home,c,f,c,home)")
      ->type_name("PLACE,...")
      ->needs(netns);
  return [opts]() { return opts->netns ? RunNetnsDemo(opts->lab) : Run(*opts); };
}

}  // namespace mipsec::cli

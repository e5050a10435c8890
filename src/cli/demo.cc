// `mipsec demo`: the main job. Runs a scenario (by default the built-in
// RFC 5266 Figure 1 walk) on the deterministic simulator and prints what
// each leg of the walk cost.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cli/commands.h"
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

int Run(const DemoOptions& o) {
  std::string text, file;
  if (o.scenario.empty()) {
    text = std::string(*sim::scenario::BuiltinScenario("figure1"));
    file = "figure1.toml (built in)";
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
                o.scenario.empty() ? kFigure1Intro : "");
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
      "deterministic simulator and print what each move cost");
  cmd->add_option("--scenario", opts->scenario,
                  "Scenario file (TOML, see docs/scenarios.md); default: the built-in RFC 5266 "
                  "Figure 1 walk")
      ->check(CLI::ExistingFile);
  cmd->add_option("--seed", opts->seed,
                  "Random seed (loss, jitter, NAT ports); default: the scenario's own");
  cmd->add_option("--pcap", opts->pcap_dir,
                  "Write one pcap per link into this directory (created if missing)");
  cmd->add_option("--events", opts->events_file, "Write the event log to this file");
  cmd->add_flag("--counters", opts->counters,
                "Also print every node's and link's counters (always in --json)");
  cmd->add_flag("--json", opts->json, "Print the summary as JSON, with all counters");
  return [opts]() { return Run(*opts); };
}

}  // namespace mipsec::cli

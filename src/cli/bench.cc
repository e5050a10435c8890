// `mipsec bench reg`: authenticated registrations per second through a
// running home agent, over real UDP (issue 4 item 9). The generator and the
// HA-spawning logic live in platform/linux/mip4/reg_load.h; this file is
// the command line and the report.
//
//   mipsec bench reg --spawn-ha [--mobile-nodes N] [--duration 10s] ...
//       moves itself into a private network namespace (the HA's TUN, routes
//       and port 434 never touch the host; needs root): the HA on 10.0.0.1
//       (home network 10.0.0.0/8, interface mipbench0), the generator on
//       198.18.0.1 (its care-of address, trusted). Writes a temporary
//       ha.toml for N generated mobile nodes, runs `mipsec ha --config` as a
//       child (this same binary), loads it over loopback, stops it with
//       SIGTERM and reports.
//   mipsec bench reg --config ha.toml [--ha ADDR[:PORT]] [--source ADDR] ...
//       loads an HA that is already running with that config (its keys are
//       the mobile nodes' keys). The bindings it creates stay registered.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "config/daemon_config.h"
#include "config/toml_reader.h"
#include "platform/linux/epoll_event_loop.h"
#include "platform/linux/mip4/reg_load.h"

namespace mipsec::cli {

namespace {

namespace fs = std::filesystem;
using mip4d::RegLoadReport;

constexpr char kInterface[] = "mipbench0";

struct BenchRegOptions {
  bool spawn_ha = false;
  std::string config;
  std::string ha;
  std::string source;
  std::size_t mobile_nodes = 10'000;
  std::uint64_t seed = 1;
  std::string replay = "timestamp";
  std::string duration = "10s";
  std::string timeout = "1s";
  std::string start_timeout = "120s";
  std::size_t window = 256;
  int threads = 1;
  std::optional<int> cpu;
  std::optional<int> ha_cpu;
  std::uint32_t verify_every = 16;
  bool no_first_pass = false;
  bool json = false;
  bool keep = false;
};

void PrintPhase(const char* name, const mip4d::PhaseReport& p) {
  const auto& c = p.counters;
  const double loss = c.sent ? 100.0 * static_cast<double>(c.lost) / static_cast<double>(c.sent) : 0;
  std::printf(
      "%s: %.3f s, sent %llu (%.0f/s), accepted %llu (%.0f/s), denied %llu, resync %llu, "
      "lost %llu (%.3f%%), late %llu, mismatched %llu, unexpected %llu, malformed %llu, "
      "authenticators verified %llu (failed %llu)\n"
      "  latency us: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  (%llu samples); generator CPU "
      "%.2f s, runnable waiting for a CPU %.2f s\n",
      name, p.seconds, static_cast<unsigned long long>(c.sent), p.sent_per_second(),
      static_cast<unsigned long long>(c.accepted), p.accepted_per_second(),
      static_cast<unsigned long long>(c.denied), static_cast<unsigned long long>(c.resyncs),
      static_cast<unsigned long long>(c.lost), loss, static_cast<unsigned long long>(c.late),
      static_cast<unsigned long long>(c.mismatched), static_cast<unsigned long long>(c.unexpected),
      static_cast<unsigned long long>(c.malformed), static_cast<unsigned long long>(c.verified),
      static_cast<unsigned long long>(c.auth_failed), p.latency.p50_us, p.latency.p90_us,
      p.latency.p99_us, p.latency.max_us, static_cast<unsigned long long>(p.latency.count),
      p.generator_cpu_seconds, p.generator_runqueue_seconds);
  for (std::size_t code = 2; code < 256; ++code) {
    if (c.by_code[code] != 0) {
      std::printf("  reply code %zu: %llu\n", code,
                  static_cast<unsigned long long>(c.by_code[code]));
    }
  }
}

nlohmann::json PhaseJson(const mip4d::PhaseReport& p, std::optional<double> ha_cpu) {
  const auto& c = p.counters;
  nlohmann::json j = {
      {"seconds", p.seconds},
      {"sent", c.sent},
      {"sent_per_second", p.sent_per_second()},
      {"accepted", c.accepted},
      {"accepted_per_second", p.accepted_per_second()},
      {"denied", c.denied},
      {"resyncs", c.resyncs},
      {"lost", c.lost},
      {"late", c.late},
      {"mismatched", c.mismatched},
      {"unexpected", c.unexpected},
      {"malformed", c.malformed},
      {"verified", c.verified},
      {"auth_failed", c.auth_failed},
      {"latency_us",
       {{"samples", p.latency.count},
        {"p50", p.latency.p50_us},
        {"p90", p.latency.p90_us},
        {"p99", p.latency.p99_us},
        {"max", p.latency.max_us}}},
      {"generator_cpu_seconds", p.generator_cpu_seconds},
      {"generator_runqueue_seconds", p.generator_runqueue_seconds},
  };
  nlohmann::json codes = nlohmann::json::object();
  for (std::size_t code = 0; code < 256; ++code) {
    if (c.by_code[code] != 0) codes[std::to_string(code)] = c.by_code[code];
  }
  j["reply_codes"] = codes;
  if (ha_cpu) j["ha_cpu_seconds"] = *ha_cpu;
  return j;
}

std::string Tail(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "mipsec bench reg: %s\n", what.c_str());
  return 1;
}

int Run(const BenchRegOptions& o) {
  if (o.spawn_ha == !o.config.empty()) {
    return Fail("give exactly one of --spawn-ha and --config FILE");
  }
  Result<Duration> duration = config::ParseDurationText(o.duration);
  if (!duration.ok()) return Fail("--duration: " + duration.error().detail());
  Result<Duration> timeout = config::ParseDurationText(o.timeout);
  if (!timeout.ok()) return Fail("--timeout: " + timeout.error().detail());
  Result<Duration> start_timeout = config::ParseDurationText(o.start_timeout);
  if (!start_timeout.ok()) return Fail("--start-timeout: " + start_timeout.error().detail());
  if (o.threads < 1) return Fail("--threads: at least 1");
  if (o.window < 1) return Fail("--window: at least 1");

  mip4d::RegLoadOptions load;
  load.timeout = *timeout;
  load.verify_every = o.verify_every;
  mip4d::RegLoadRunOptions run;
  run.window = o.window;
  run.duration = *duration;
  run.threads = o.threads;
  run.first_cpu = o.cpu;
  run.first_pass = !o.no_first_pass;
  run.probe_timeout = *start_timeout;

  std::vector<mip4d::LoadMobileNode> mns;
  std::unique_ptr<mip4d::SpawnedHa> child;
  std::string tmpdir, log_path;

  if (o.spawn_ha) {
    mip4d::SyntheticHaSpec spec;
    spec.mobile_nodes = o.mobile_nodes;
    spec.seed = o.seed;
    if (o.replay == "nonce") {
      spec.replay = mip4::ReplayMethod::kNonce;
    } else if (o.replay != "timestamp") {
      return Fail("--replay: \"timestamp\" or \"nonce\"");
    }
    Result<std::vector<mip4d::LoadMobileNode>> gen = mip4d::MakeSyntheticMobileNodes(spec);
    if (!gen.ok()) return Fail("--mobile-nodes: " + gen.error().detail());
    mns = std::move(*gen);

    // The private network: the HA's address on its home interface, the
    // generator's (RFC 2544's benchmarking range, trusted by the HA per RFC
    // 5265 4.3) on the veth peer. Both are local addresses of the namespace,
    // so the datagrams between them go over loopback.
    const platform::InterfaceAddress ha_addr{spec.ha_address, spec.home_network.length()};
    const platform::InterfaceAddress gen_addr{*Ipv4Address::Parse("198.18.0.1"), 15};
    if (Status s = mip4d::EnterPrivateHaNetwork(kInterface, ha_addr, gen_addr); !s.ok()) {
      return Fail("private network namespace (needs root): " + s.error().ToString());
    }
    char dir[] = "/tmp/mipsec-bench-XXXXXX";
    if (mkdtemp(dir) == nullptr) return Fail(std::string("mkdtemp: ") + std::strerror(errno));
    tmpdir = dir;
    mip4d::HaTomlParams params;
    params.interface = kInterface;
    params.trusted_subnets = {*Ipv4Prefix::Parse("198.18.0.0/15")};
    params.control_socket = tmpdir + "/ha.sock";
    const std::string toml = mip4d::MakeHaConfigToml(spec, mns, params);
    const std::string config_path = tmpdir + "/ha.toml";
    {
      std::ofstream out(config_path, std::ios::binary | std::ios::trunc);
      out << toml;
      if (!out) return Fail("write " + config_path);
    }
    chmod(config_path.c_str(), 0600);
    log_path = tmpdir + "/ha.log";
    Result<std::unique_ptr<mip4d::SpawnedHa>> c =
        mip4d::SpawnedHa::Start("/proc/self/exe", config_path, log_path, o.ha_cpu);
    if (!c.ok()) return Fail("start mipsec ha: " + c.error().ToString());
    child = std::move(*c);
    mip4d::SpawnedHa* ch = child.get();
    run.alive = [ch] { return ch->Alive(); };
    run.home_agent = Ipv4Endpoint{spec.ha_address, 434};
    run.source = gen_addr.address;
    if (!o.source.empty() || !o.ha.empty()) {
      return Fail("--ha and --source are for --config; --spawn-ha chooses them");
    }
  } else {
    Result<config::HaConfig> cfg = config::LoadHaConfig(o.config);
    if (!cfg.ok()) return Fail(cfg.error().detail());
    mns = mip4d::MobileNodesFromConfig(*cfg);
    if (mns.empty()) return Fail(o.config + ": no [[mobile_node]] with a home_address");
    run.home_agent = Ipv4Endpoint{cfg->address, cfg->port};
    if (!o.ha.empty()) {
      Result<Ipv4Endpoint> ep = Ipv4Endpoint::Parse(o.ha);
      if (ep.ok()) {
        run.home_agent = *ep;
      } else {
        Result<Ipv4Address> a = Ipv4Address::Parse(o.ha);
        if (!a.ok()) return Fail("--ha: ADDR or ADDR:PORT, not \"" + o.ha + "\"");
        run.home_agent.address = *a;
      }
    }
    if (o.source.empty()) {
      return Fail("--source ADDR: the local address to send from (it is the care-of address, "
                  "and must be inside the HA's trusted_subnets)");
    }
    Result<Ipv4Address> src = Ipv4Address::Parse(o.source);
    if (!src.ok()) return Fail("--source: " + src.error().detail());
    run.source = *src;
  }
  load.home_agent = run.home_agent.address;
  load.care_of_address = run.source;

  const double ha_cpu0 = child ? child->CpuSeconds() : 0;
  const std::pair<double, double> ha_sched0 = child ? child->SchedSeconds() : std::pair{0.0, 0.0};
  Result<RegLoadReport> report = mip4d::RunRegLoad(std::move(mns), load, run);
  const double ha_cpu1 = child ? child->CpuSeconds() : 0;
  const std::pair<double, double> ha_sched1 = child ? child->SchedSeconds() : std::pair{0.0, 0.0};
  const double ha_wait = ha_sched1.second - ha_sched0.second;
  std::string ha_exit;
  if (child) ha_exit = child->Stop();
  auto cleanup = [&] {
    if (!tmpdir.empty() && !o.keep) {
      std::error_code ec;
      fs::remove_all(tmpdir, ec);
    }
  };
  if (!report.ok()) {
    std::string msg = report.error().ToString();
    if (child) msg += "\nmipsec ha (" + ha_exit + "), end of its log:\n" + Tail(log_path, 2000);
    cleanup();
    return Fail(msg);
  }
  const RegLoadReport& r = *report;
  // The HA's CPU over both phases (the child's counters are per process).
  std::optional<double> ha_cpu;
  if (child) ha_cpu = ha_cpu1 - ha_cpu0;
  if (o.json) {
    nlohmann::json j = {
        {"mobile_nodes", r.mobile_nodes},
        {"window", o.window},
        {"threads", o.threads},
        {"home_agent", run.home_agent.ToString()},
        {"spawned_ha", o.spawn_ha},
        {"steady", PhaseJson(r.steady, std::nullopt)},
    };
    if (run.first_pass) j["first_pass"] = PhaseJson(r.first_pass, std::nullopt);
    if (ha_cpu) {
      j["ha_cpu_seconds"] = *ha_cpu;
      j["ha_runqueue_seconds"] = ha_wait;
      j["ha_exit"] = ha_exit;
    }
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("mipsec bench reg: %zu mobile nodes, window %zu x %d thread(s), HA %s%s\n",
                r.mobile_nodes, o.window, o.threads, run.home_agent.ToString().c_str(),
                o.spawn_ha ? " (spawned in a private network namespace)" : "");
    if (run.first_pass) PrintPhase("first registrations", r.first_pass);
    PrintPhase("refreshes", r.steady);
    if (ha_cpu) {
      const double wall = r.first_pass.seconds + r.steady.seconds;
      std::printf(
          "home agent: CPU %.2f s over %.2f s of load (%.2f cores), runnable waiting for a CPU "
          "%.2f s; stopped: %s\n",
          *ha_cpu, wall, wall > 0 ? *ha_cpu / wall : 0, ha_wait, ha_exit.c_str());
    }
  }
  cleanup();
  return r.steady.counters.accepted > 0 ? 0 : 1;
}

}  // namespace

Handler AddBench(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Load generators for the daemons");
  bench->require_subcommand(1);
  CLI::App* reg = bench->add_subcommand(
      "reg",
      "Authenticated Mobile IPv4 registrations per second through `mipsec ha` over UDP "
      "(closed loop: at most --window requests outstanding per thread)");
  auto o = std::make_shared<BenchRegOptions>();
  reg->add_flag("--spawn-ha", o->spawn_ha,
                "Run `mipsec ha` (this binary) in a private network namespace with a generated "
                "config, load it over loopback, stop it (needs root)");
  reg->add_option("--config", o->config,
                  "Load an already-running HA configured by this ha.toml (mobile nodes with a "
                  "home_address are used)");
  reg->add_option("--ha", o->ha, "With --config: the HA's ADDR[:PORT] (default: the config's)");
  reg->add_option("--source", o->source,
                  "With --config: local address to send from, also the care-of address; must be "
                  "in the HA's trusted_subnets");
  reg->add_option("--mobile-nodes", o->mobile_nodes,
                  "With --spawn-ha: mobile nodes to generate (home addresses from 10.1.0.0)")
      ->capture_default_str();
  reg->add_option("--seed", o->seed, "With --spawn-ha: key seed")->capture_default_str();
  reg->add_option("--replay", o->replay, "With --spawn-ha: timestamp or nonce (RFC 5944 5.7)")
      ->capture_default_str();
  reg->add_option("--duration", o->duration, "Length of the refresh phase")->capture_default_str();
  reg->add_option("--window", o->window, "Outstanding requests per thread")
      ->capture_default_str();
  reg->add_option("--threads", o->threads, "Generator threads (one socket each)")
      ->capture_default_str();
  reg->add_option("--cpu", o->cpu, "Pin generator thread i to CPU N+i");
  reg->add_option("--ha-cpu", o->ha_cpu, "With --spawn-ha: pin the HA to this CPU");
  reg->add_option("--timeout", o->timeout, "A request unanswered this long is lost")
      ->capture_default_str();
  reg->add_option("--start-timeout", o->start_timeout,
                  "How long the HA may take to answer its first registration (a large config "
                  "takes a while to load)")
      ->capture_default_str();
  reg->add_option("--verify-every", o->verify_every,
                  "Verify the MN-HA authenticator of every k-th accepted reply (0: none)")
      ->capture_default_str();
  reg->add_flag("--no-first-pass", o->no_first_pass,
                "Skip the pass where every mobile node registers once (binding creation)");
  reg->add_flag("--json", o->json, "Print the report as JSON");
  reg->add_flag("--keep", o->keep, "With --spawn-ha: keep the temporary directory (config, log)");
  Handler ike = AddBenchIke(*bench);
  return [o, reg, ike] { return reg->parsed() ? Run(*o) : ike(); };
}

}  // namespace mipsec::cli

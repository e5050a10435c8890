// IKE SA set-ups per second (issue 5 item 10): our initiator (`mipsec bench
// ike`, closed loop) against `mipsec gw` and against strongSwan 5.9.8's
// responder (charon, kernel-libipsec), side by side in one run on the same
// namespace topology (testing/strongswan's kInteropTopology: mn -> ext ->
// gw). One set-up = IKE_SA_INIT + IKE_AUTH with a CP request for a TIA and
// one CHILD SA, PSK, x25519 and AES-GCM-16; then an INFORMATIONAL Delete.
// Needs root; not a Google Benchmark program and not run by `make bench`.
//
//   build/release/bench/ike_setup_rate --runs 3 --seconds 5 --concurrency 32
//
// Prints a Markdown table (BENCHMARKS.md, "IKE SA set-up rate") and, with
// --json, the raw results.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "scenarios/ikev2/interop_configs.h"  // Hex
#include "lab/netns/exec.h"
#include "lab/netns/topology.h"
#include "testing/strongswan/interop_net.h"
#include "testing/strongswan/require_strongswan.h"
#include "lab/strongswan/strongswan_peer.h"
#include "testing/lab_names.h"

namespace mipsec::testing {
namespace {

constexpr const char kBenchPsk[] = "mipsec-ike-bench-psk";

std::string GwToml() {
  std::ostringstream o;
  o << "[gateway]\nlisten = \"" << kInteropGwExt << "\"\nlocal_id = \"fqdn:gw.example.org\"\n"
    << "auth = \"psk\"\npsk = \"" << Hex(kBenchPsk) << "\"\n"
    << "ike_proposals = [\"aes128gcm16-prfsha256-x25519\"]\nesp_proposals = [\"aes128gcm16\"]\n"
    << "cookie_threshold = 100000\nlog_level = \"warning\"\n"
    << "\n[tia_pool]\nrange = \"" << kInteropPool << "\"\n"
    << "\n[intranet]\nprefixes = [\"" << kInteropIntranet << "\"]\n";
  return o.str();
}

std::string VpnToml() {
  std::ostringstream o;
  o << "[client]\ngateway = \"" << kInteropGwExt << "\"\n"
    << "local_id = \"email:load@example.org\"\nremote_id = \"fqdn:gw.example.org\"\n"
    << "auth = \"psk\"\npsk = \"" << Hex(kBenchPsk) << "\"\n"
    << "ike_proposals = [\"aes128gcm16-prfsha256-x25519\"]\nesp_proposals = [\"aes128gcm16\"]\n"
    << "routes = [\"" << kInteropIntranet << "\"]\n";
  return o.str();
}

StrongswanConfig SwanResponder() {
  StrongswanConfig cfg;
  cfg.interfaces_use = "ext0";
  cfg.log_levels = {{"default", -1}};
  // As for mipsec gw: no COOKIE round trip at this concurrency (charon's
  // default threshold is 30 half-open IKE SAs).
  cfg.extra_charon = {"cookie_threshold = 100000"};
  SwanConnection& rw = cfg.AddConnection("rw");
  rw.local_addrs = {kInteropGwExt};
  rw.proposals = "aes128gcm16-prfsha256-x25519";
  rw.local.id = "gw.example.org";
  rw.remote.id = "%any";
  rw.psk = kBenchPsk;
  rw.pool_addrs = kInteropPool;
  rw.unique = "never";
  SwanChild& net = rw.AddChild("net");
  net.local_ts = {kInteropIntranet};
  net.esp_proposals = "aes128gcm16";
  return cfg;
}

struct Run {
  double rate = 0;
  double p50 = 0;
  double p99 = 0;
  double mean = 0;
  double max = 0;
  double out_per_setup = 0;
  std::uint64_t established = 0;
  std::uint64_t failed = 0;
};

Result<Run> Load(const Topology& topo, const std::string& vpn_toml, int concurrency,
                 int seconds) {
  auto r = topo.Exec("mn",
                     {MIPSEC_BINARY, "bench", "ike", "--config", vpn_toml, "--json",
                      "--concurrency", std::to_string(concurrency), "--duration",
                      std::to_string(seconds) + "s", "--warmup", "1s"},
                     Duration::Seconds(seconds + 30));
  if (!r.ok()) return r.error();
  nlohmann::json j = nlohmann::json::parse(r->out, nullptr, false);
  if (j.is_discarded() || !j.contains("rate")) {
    return Error(Errc::kMalformed, "mipsec bench ike: " + r->Describe() + "\n" + r->out + r->err);
  }
  Run run;
  run.rate = j["rate"].get<double>();
  run.p50 = j["latency_ms"]["p50"].get<double>();
  run.p99 = j["latency_ms"]["p99"].get<double>();
  run.mean = j["latency_ms"]["mean"].get<double>();
  run.max = j["latency_ms"]["max"].get<double>();
  run.established = j["established"].get<std::uint64_t>();
  if (run.established > 0) {
    run.out_per_setup = static_cast<double>(j["datagrams_out"].get<std::uint64_t>()) /
                        static_cast<double>(run.established);
  }
  run.failed = j["failed"].get<std::uint64_t>();
  return run;
}

std::string Row(const std::string& name, std::vector<Run> runs) {
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.rate < b.rate; });
  const Run& med = runs[runs.size() / 2];
  std::ostringstream o;
  o << "| " << name << " | **" << static_cast<long>(med.rate) << "** | ";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    o << (i ? ", " : "") << static_cast<long>(runs[i].rate);
  }
  std::uint64_t failed = 0;
  for (const Run& r : runs) failed += r.failed;
  char lat[128];
  std::snprintf(lat, sizeof(lat), "%.2f / %.2f / %.2f / %.0f | %.2f", med.p50, med.p99, med.mean,
                med.max, med.out_per_setup);
  o << " | " << lat << " | " << failed << " |";
  return o.str();
}

int Main(int argc, char** argv) {
  CLI::App app{"IKE SA set-ups/s: our initiator against mipsec gw and against strongSwan"};
  int runs = 3;
  int seconds = 5;
  int concurrency = 32;
  app.add_option("--runs", runs)->capture_default_str();
  app.add_option("--seconds", seconds)->capture_default_str();
  app.add_option("--concurrency", concurrency)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (std::string why = MissingStrongswanParts(); !why.empty()) {
    std::cerr << "ike_setup_rate: " << why << "\n";
    return 1;
  }
  auto topo = Topology::Create(kInteropTopology);
  if (!topo.ok()) {
    std::cerr << topo.error().ToString() << "\n";
    return 1;
  }
  char tmpl[] = "/tmp/mipsec-ike-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  std::ofstream(dir + "/gw.toml") << GwToml();
  std::ofstream(dir + "/vpn.toml") << VpnToml();

  std::vector<Run> ours;
  std::vector<Run> swan;
  int rc = 0;
  for (int i = 0; i < runs && rc == 0; ++i) {
    {
      auto gw = SpawnInNetns((*topo)->NsFd("gw"),
                             {MIPSEC_BINARY, "gw", "--config", dir + "/gw.toml",
                              "--control-socket", dir + "/gw.sock"});
      if (!gw.ok()) return 1;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      auto r = Load(**topo, dir + "/vpn.toml", concurrency, seconds);
      ExecResult stop = (*gw)->Stop(Duration::Seconds(5));
      if (!r.ok()) {
        std::cerr << r.error().ToString() << "\n" << (*gw)->Stderr() << "\n";
        rc = 1;
        break;
      }
      ours.push_back(*r);
      std::cerr << "run " << i + 1 << " mipsec gw: " << r->rate << "/s (gw " << stop.Describe()
                << ")\n";
    }
    {
      auto gw = StrongswanPeer::Start(**topo, "gw", SwanResponder());
      if (!gw.ok()) {
        std::cerr << gw.error().ToString() << "\n";
        rc = 1;
        break;
      }
      auto r = Load(**topo, dir + "/vpn.toml", concurrency, seconds);
      (void)(*gw)->Stop(Duration::Seconds(3));
      if (!r.ok()) {
        std::cerr << r.error().ToString() << "\n";
        rc = 1;
        break;
      }
      swan.push_back(*r);
      std::cerr << "run " << i + 1 << " strongSwan: " << r->rate << "/s\n";
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (rc != 0) return rc;
  std::printf("| responder (initiator: mipsec bench ike, %d in flight) | set-ups/s (median of %d x "
              "%d s) | runs | latency p50 / p99 / mean / max (ms) | IKE datagrams sent per set-up | "
              "failed |\n|---|---|---|---|---|---|\n",
              concurrency, runs, seconds);
  std::printf("%s\n", Row("mipsec gw", ours).c_str());
  std::printf("%s\n", Row("strongSwan 5.9.8 charon (kernel-libipsec)", swan).c_str());
  return 0;
}

}  // namespace
}  // namespace mipsec::testing

int main(int argc, char** argv) { return mipsec::testing::Main(argc, argv); }

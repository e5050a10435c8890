// `mipsec bench ike`: IKE SA set-ups per second of our initiator against a
// gateway (`mipsec gw`, strongSwan, any IKEv2 responder), closed loop
// (src/platform/linux/ikev2/ike_load.h). The identity, credentials and
// proposals come from a VPN client config (docs/configuration.md).
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "config/gw_config.h"
#include "config/toml_reader.h"
#include "platform/linux/ikev2/ike_load.h"
#include "platform/linux/ikev2/vpn_client.h"
#include "platform/linux/stderr_sink.h"

namespace mipsec::cli {
namespace {

struct BenchIkeOptions {
  std::string config;
  std::size_t concurrency = 16;
  std::string duration = "5s";
  std::string warmup = "1s";
  bool json = false;
};

int RunBenchIke(const BenchIkeOptions& o) {
  Result<config::VpnClientConfig> cfg = config::LoadVpnClientConfig(o.config);
  if (!cfg.ok()) {
    std::fprintf(stderr, "mipsec bench ike: %s\n", cfg.error().detail().c_str());
    return 1;
  }
  auto duration = config::ParseDurationText(o.duration);
  auto warmup = config::ParseDurationText(o.warmup);
  if (!duration.ok() || !warmup.ok() || duration->nanos() <= 0) {
    std::fprintf(stderr, "mipsec bench ike: --duration/--warmup: a duration like \"5s\"\n");
    return 1;
  }
  ikev2d::IkeLoadOptions lo;
  lo.gateway = Ipv4Endpoint{cfg->gateway, cfg->gateway_port};
  if (cfg->local_address) {
    lo.local = *cfg->local_address;
  } else {
    auto src = ikev2d::SourceAddressFor(cfg->gateway);
    if (!src.ok()) {
      std::fprintf(stderr, "mipsec bench ike: %s\n", src.error().ToString().c_str());
      return 1;
    }
    lo.local = *src;
  }
  lo.peer = config::ToInitiatorPeerConfig(*cfg);
  lo.concurrency = o.concurrency;
  lo.duration = *duration;
  lo.warmup = *warmup;
  platform::StderrSink sink;
  Logger log(&sink, "bench-ike", LogLevel::kWarning);
  auto r = ikev2d::RunIkeLoad(lo, log);
  if (!r.ok()) {
    std::fprintf(stderr, "mipsec bench ike: %s\n", r.error().ToString().c_str());
    return 1;
  }
  if (o.json) {
    nlohmann::json j = {{"gateway", lo.gateway.ToString()},
                        {"concurrency", o.concurrency},
                        {"seconds", r->seconds},
                        {"established", r->established},
                        {"failed", r->failed},
                        {"rate", r->rate},
                        {"datagrams_out", r->datagrams_out},
                        {"datagrams_in", r->datagrams_in},
                        {"latency_ms", {{"p50", r->latency_p50_ms},
                                        {"p90", r->latency_p90_ms},
                                        {"p99", r->latency_p99_ms},
                                        {"mean", r->latency_mean_ms},
                                        {"max", r->latency_max_ms}}}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf(
        "mipsec bench ike: %s, %zu in flight: %.0f IKE SA set-ups/s (%llu in %.1f s, %llu "
        "failed); latency p50 %.2f ms p90 %.2f ms p99 %.2f ms mean %.2f ms max %.1f ms; "
        "%.2f datagrams out per set-up\n",
        lo.gateway.ToString().c_str(), o.concurrency, r->rate,
        static_cast<unsigned long long>(r->established), r->seconds,
        static_cast<unsigned long long>(r->failed), r->latency_p50_ms, r->latency_p90_ms,
        r->latency_p99_ms, r->latency_mean_ms, r->latency_max_ms,
        r->established ? static_cast<double>(r->datagrams_out) / static_cast<double>(r->established)
                       : 0.0);
  }
  return r->established > 0 && r->failed == 0 ? 0 : 1;
}

}  // namespace

Handler AddBenchIke(CLI::App& bench) {
  auto o = std::make_shared<BenchIkeOptions>();
  CLI::App* ike = bench.add_subcommand(
      "ike",
      "IKE SA set-ups per second (IKE_SA_INIT + IKE_AUTH with CP and one CHILD SA, then "
      "Delete) of our initiator against a gateway, with a fixed number in flight");
  ike->add_option("--config,-c", o->config,
                  "VPN client TOML (gateway, identity, auth, proposals, routes)")
      ->required();
  ike->add_option("--concurrency", o->concurrency, "Set-ups in flight")->capture_default_str();
  ike->add_option("--duration", o->duration, "Measured time")->capture_default_str();
  ike->add_option("--warmup", o->warmup, "Time before measuring")->capture_default_str();
  ike->add_flag("--json", o->json, "Print the result as JSON");
  ike->footer("Exit 0 when set-ups completed and none failed.");
  return [o] { return RunBenchIke(*o); };
}

}  // namespace mipsec::cli

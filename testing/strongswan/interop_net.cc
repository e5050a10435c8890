#include "testing/strongswan/interop_net.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <sstream>

#include <gtest/gtest.h>

#include "lab/strongswan/strongswan_peer.h"

namespace mipsec::testing {
namespace {

// StrongswanPeer (src/lab) dumps its log at destruction only when the run
// failed, which only gtest knows: installed when this file is linked in
// (every test that runs strongSwan uses MIPSEC_REQUIRE_STRONGSWAN).
bool GtestTestFailed() {
  return ::testing::UnitTest::GetInstance()->current_test_info() != nullptr &&
         ::testing::Test::HasFailure();
}
[[maybe_unused]] const bool kFailureProbeInstalled =
    (::mipsec::lab::SetStrongswanFailureProbe(&GtestTestFailed), true);
}  // namespace

const char kInteropTopology[] = R"(
ns mn
ns ext router
ns gw router
ns int
link mn:a0 198.51.100.10/25   ext:mn-a 198.51.100.1/25
link mn:b0                    ext:mn-b 198.51.100.129/25
link mn:c0                    ext:mn-c 10.77.0.1/24
link ext:wan 203.0.113.1/24   gw:ext0 203.0.113.2/24
link gw:int0 192.0.2.1/25     int:eth0 192.0.2.10/25
route mn default via 198.51.100.1
route gw default via 203.0.113.1
route int default via 192.0.2.1
nft ext add table ip swnat
nft ext add chain ip swnat post { type nat hook postrouting priority srcnat ; policy accept ; }
nft ext add rule ip swnat post ip saddr 10.77.0.0/24 oifname "wan" counter masquerade random
)";

Uplink InteropLink(char which) {
  switch (which) {
    case 'A':
      return {"a0", "198.51.100.10/25", "198.51.100.1"};
    case 'B':
      return {"b0", "198.51.100.130/25", "198.51.100.129"};
    default:
      return {"c0", "10.77.0.10/24", "10.77.0.1"};
  }
}

Status MoveUplink(const Topology& topo, std::string_view ns, const Uplink& to,
                  const std::vector<std::string>& flush_devs) {
  std::ostringstream batch;
  batch << "address add " << to.address << " dev " << to.dev << "\n";
  batch << "route replace default via " << to.gateway << " dev " << to.dev << "\n";
  for (const auto& d : flush_devs) {
    if (d != to.dev) batch << "address flush dev " << d << "\n";
  }
  ExecOptions opts;
  opts.stdin_data = batch.str();
  opts.timeout = Duration::Seconds(10);
  auto r = topo.Exec(ns, {"ip", "-batch", "-"}, opts);
  if (!r.ok()) return r.error();
  if (!r->Success()) {
    return Error(Errc::kSystem, "moving " + std::string(ns) + " to " + to.dev + ": ip -batch: " +
                                    r->Describe() + ": " + r->err);
  }
  return Ok{};
}

Status MoveInteropMn(const Topology& topo, char which) {
  if (which != 'A' && which != 'B' && which != 'C') {
    return Error(Errc::kInvalidArgument, std::string("no interop link '") + which + "'");
  }
  return MoveUplink(topo, "mn", InteropLink(which), {"a0", "b0", "c0"});
}

Status Ping(const Topology& topo, std::string_view ns, std::string_view dst, int count) {
  auto r = topo.Exec(ns,
                     {"ping", "-n", "-q", "-c", std::to_string(count), "-i", "0.2", "-W", "1",
                      std::string(dst)},
                     Duration::Seconds(5 + count));
  if (!r.ok()) return r.error();
  if (!r->Success()) {
    return Error(Errc::kTimeout, "ping " + std::string(dst) + " from " + std::string(ns) + ": " +
                                     r->Describe() + ": " + r->out + r->err);
  }
  return Ok{};
}

Result<Duration> WaitForPing(const Topology& topo, std::string_view ns, std::string_view dst,
                             Duration timeout) {
  // With -c 1 and -w, ping keeps sending (every 10 ms) until one reply
  // arrives or the deadline passes.
  int64_t secs = std::max<int64_t>(1, (timeout.millis() + 999) / 1000);
  auto start = std::chrono::steady_clock::now();
  auto r = topo.Exec(ns,
                     {"ping", "-n", "-q", "-c", "1", "-i", "0.01", "-w", std::to_string(secs),
                      std::string(dst)},
                     Duration::Seconds(secs + 5));
  auto took = std::chrono::steady_clock::now() - start;
  if (!r.ok()) return r.error();
  if (!r->Success()) {
    return Error(Errc::kTimeout, "no ping answer from " + std::string(dst) + " in " +
                                     std::string(ns) + " within " + std::to_string(secs) + " s");
  }
  return Duration::Nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
}

Result<std::vector<std::string>> Ipv4AddressesOn(const Topology& topo, std::string_view ns,
                                                 std::string_view dev) {
  auto r = topo.Exec(ns, {"ip", "-4", "-o", "addr", "show", "dev", std::string(dev)});
  if (!r.ok()) return r.error();
  if (!r->Success()) {
    return Error(Errc::kNotFound, "ip addr show dev " + std::string(dev) + ": " + r->err);
  }
  std::vector<std::string> out;
  std::istringstream lines(r->out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string w;
    while (words >> w) {
      if (w == "inet" && (words >> w)) {
        out.push_back(w.substr(0, w.find('/')));
        break;
      }
    }
  }
  return out;
}

}  // namespace mipsec::testing

// Home agent core throughput and memory (issue 4, item 9): authenticated
// Registration Requests per second through mip4::HomeAgent with no sockets,
// and memory per binding at 1,000,000 bindings. See BENCHMARKS.md.
//
// Every request is a real one: built by the mobile node's side (codec
// MessageBuilder + HMAC-MD5 over RFC 5944 3.5.1's coverage, a fresh
// timestamp Identification) before the timed loop, so the figures count
// only the home agent. A registration, timed, is: OnUdp (parse, SA lookup,
// MN-HA verify, replay check and commit, extension rules, binding update),
// the authenticated Registration Reply it builds, and the driver draining
// PollTransmit() and PollEvent(). Each benchmark checks that every request
// was accepted (code 0) and fails otherwise.
//
//   BM_HaNewRegistrations/mns:N/warm:W  N mobile nodes register once
//                              (binding added, BindingAdded event). warm:1:
//                              each MN's keyed HMAC context exists (it has
//                              registered before since the HA started: the
//                              steady state); warm:0: first contact, the
//                              context is created inside the timed call.
//   BM_HaRefreshRegistrations/N  N mobile nodes, already registered,
//                              re-register 8 times each (a binding refresh:
//                              no event).
//   BM_HaMemory1M              1,000,000 mobile nodes register (SA database
//                              capped at 16,384 keyed HMAC contexts, so most
//                              requests re-key: the 1M-scale rate) and the
//                              memory is reported:
//       cache_B_per_binding    HomeAgent::BindingMemoryBytes() / bindings:
//                              the binding cache's own arrays (capacity).
//       ha_heap_B_per_binding  malloc'd bytes in use (glibc mallinfo2,
//                              which also sees OpenSSL's allocations) grown
//                              while creating the HA and registering, per
//                              binding: binding cache plus whatever else
//                              registration allocates (the keyed contexts
//                              the SA database admits, up to its cap).
//       sadb_B_per_mn          the same measure for building the SA
//                              database (security library, one SA per MN).
//       rss_MB                 resident set size of the whole process at the
//                              end (includes the 1M pre-built requests).
#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/random.h"
#include "common/secret.h"
#include "crypto/hmac.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/ha/home_agent.h"
#include "mip4/security/ntp_time.h"
#include "mip4/security/sa_database.h"

namespace mipsec::mip4 {
namespace {

constexpr std::int64_t kUnixNanos = 1'704'067'200'000'000'000;  // 2024-01-01
constexpr std::uint32_t kSpi = 1000;
const Ipv4Address kHa = Ipv4Address::FromOctets(10, 255, 255, 254);

Ipv4Address Home(std::size_t i) { return Ipv4Address::FromHostOrder(0x0a000001u + static_cast<std::uint32_t>(i)); }
Ipv4Address CareOf(std::size_t i) { return Ipv4Address::FromHostOrder(0x64400001u + static_cast<std::uint32_t>(i)); }
Timestamp At(int round) { return Timestamp::Zero() + Duration::Seconds(round); }

std::size_t HeapInUse() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

double RssMb() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1e6;
}

SecretBytes Key(std::size_t i) {
  SecretBytes k(16);
  DeterministicRandom(i + 1).Fill(k.RevealMutable());
  return k;
}

// With `warm`, every SA's keyed HMAC context is created up front, as it is
// for any mobile node that registered once since the HA started.
std::unique_ptr<SaDatabase> MakeDb(std::size_t n, std::size_t context_budget, bool warm = true) {
  auto db = std::make_unique<SaDatabase>(SaDatabase::Options{context_budget});
  for (std::size_t i = 0; i < n; ++i) {
    SecurityAssociationParams p;
    p.spi = kSpi;
    p.key = Key(i);
    std::vector<SecurityAssociation> sas;
    sas.push_back(*SecurityAssociation::Create(std::move(p)));
    Result<MobileNodeSecurity*> mn = db->AddMobileNode(Home(i), "", std::move(sas));
    if (!mn.ok()) std::abort();
    if (warm && !db->MobileNodeSa(**mn, kSpi)->Compute(Bytes(8, 0)).ok()) std::abort();
  }
  return db;
}

std::unique_ptr<HomeAgent> MakeHa(SaDatabase& db, RandomSource& rng, std::size_t expected) {
  HomeAgentOptions o;
  o.address = kHa;
  o.home_network = *Ipv4Prefix::Parse("10.0.0.0/8");
  o.max_lifetime = 1800;
  o.rfc5265_trusted_networks = true;
  o.trusted_subnets = {*Ipv4Prefix::Parse("100.64.0.0/10")};
  o.expected_bindings = expected;
  o.wall_clock = WallClockMapping{Timestamp::Zero(), kUnixNanos};
  return std::move(HomeAgent::Create(std::move(o), db, rng, Logger()).value());
}

// The request of mobile node i in `round` (the HA sees it at At(round)):
// T set, co-located care-of address, HMAC-MD5 MN-HA.
Bytes Request(std::size_t i, int round) {
  RegistrationRequest q;
  q.decapsulation_by_mn = true;
  q.reverse_tunnel = true;
  q.lifetime = 1800;
  q.home_address = Home(i);
  q.home_agent = kHa;
  q.care_of_address = CareOf(i);
  q.identification =
      NtpTime::FromUnixNanos(kUnixNanos + At(round).nanos()).raw() + (i << 8);
  MessageBuilder b = MessageBuilder::Request(q);
  const SecretBytes key = Key(i);
  if (!b.AppendAuth(kExtMnHaAuth, kSpi, 16, [&key](ByteSpan c) {
         return crypto::Hmac(crypto::HashAlg::kMd5, key, c);
       }).ok()) {
    std::abort();
  }
  return std::move(b).Take();
}

// Feeds every request of `reqs` (mobile node index = position % n) at
// At(round), draining output like a runtime.
void Feed(HomeAgent& ha, const std::vector<Bytes>& reqs, std::size_t n, int round) {
  UdpReceived d;
  d.local = Ipv4Endpoint{kHa, kMipPort};
  for (std::size_t k = 0; k < reqs.size(); ++k) {
    d.remote = Ipv4Endpoint{CareOf(k % n), kMipPort};
    d.payload = reqs[k];
    HaResult r = ha.OnUdp(At(round), d);
    benchmark::DoNotOptimize(r);
    while (std::optional<Transmit> t = ha.PollTransmit()) benchmark::DoNotOptimize(t);
    while (std::optional<HaEvent> e = ha.PollEvent()) benchmark::DoNotOptimize(e);
  }
}

void BM_HaNewRegistrations(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const bool warm = state.range(1) != 0;
  std::vector<Bytes> reqs;
  reqs.reserve(n);
  for (std::size_t i = 0; i < n; ++i) reqs.push_back(Request(i, 1));
  std::uint64_t done = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<SaDatabase> db = MakeDb(n, 0, warm);
    DeterministicRandom rng(1);
    std::unique_ptr<HomeAgent> ha = MakeHa(*db, rng, n);
    state.ResumeTiming();
    Feed(*ha, reqs, n, 1);
    state.PauseTiming();
    const bool ok = ha->counters().replies_by_code[0] == n && ha->binding_count() == n;
    done += n;
    ha.reset();
    db.reset();
    state.ResumeTiming();
    if (!ok) {
      state.SkipWithError("not every registration was accepted");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(done));
}
BENCHMARK(BM_HaNewRegistrations)
    ->Args({100'000, 1})
    ->Args({100'000, 0})
    ->ArgNames({"mns", "warm"})
    ->Unit(benchmark::kMillisecond);

void BM_HaRefreshRegistrations(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  constexpr int kRounds = 8;
  std::vector<Bytes> first;
  for (std::size_t i = 0; i < n; ++i) first.push_back(Request(i, 1));
  std::vector<std::vector<Bytes>> rounds(kRounds);
  for (int r = 0; r < kRounds; ++r) {
    for (std::size_t i = 0; i < n; ++i) rounds[r].push_back(Request(i, 2 + r));
  }
  std::uint64_t done = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<SaDatabase> db = MakeDb(n, 0);
    DeterministicRandom rng(1);
    std::unique_ptr<HomeAgent> ha = MakeHa(*db, rng, n);
    Feed(*ha, first, n, 1);
    state.ResumeTiming();
    for (int r = 0; r < kRounds; ++r) Feed(*ha, rounds[r], n, 2 + r);
    state.PauseTiming();
    const bool ok =
        ha->counters().replies_by_code[0] == n * (kRounds + 1) && ha->binding_count() == n;
    done += n * kRounds;
    ha.reset();
    db.reset();
    state.ResumeTiming();
    if (!ok) {
      state.SkipWithError("not every refresh was accepted");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(done));
}
BENCHMARK(BM_HaRefreshRegistrations)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_HaMemory1M(benchmark::State& state) {
  constexpr std::size_t kN = 1'000'000;
  std::vector<Bytes> reqs;
  reqs.reserve(kN);
  for (std::size_t i = 0; i < kN; ++i) reqs.push_back(Request(i, 1));
  for (auto _ : state) {
    state.PauseTiming();
    const std::size_t m0 = HeapInUse();
    std::unique_ptr<SaDatabase> db = MakeDb(kN, 16'384, /*warm=*/false);
    const std::size_t m1 = HeapInUse();
    DeterministicRandom rng(1);
    std::unique_ptr<HomeAgent> ha = MakeHa(*db, rng, kN);
    state.ResumeTiming();
    Feed(*ha, reqs, kN, 1);
    state.PauseTiming();
    const std::size_t m2 = HeapInUse();
    const bool ok = ha->binding_count() == kN;
    const double n = static_cast<double>(kN);
    state.counters["cache_B_per_binding"] = static_cast<double>(ha->BindingMemoryBytes()) / n;
    state.counters["ha_heap_B_per_binding"] = static_cast<double>(m2 - m1) / n;
    state.counters["sadb_B_per_mn"] = static_cast<double>(m1 - m0) / n;
    state.counters["keyed_contexts"] = static_cast<double>(db->CountKeyedContexts());
    state.counters["rss_MB"] = RssMb();
    ha.reset();
    db.reset();
    state.ResumeTiming();
    if (!ok) {
      state.SkipWithError("not every registration was accepted");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kN));
}
BENCHMARK(BM_HaMemory1M)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mipsec::mip4

BENCHMARK_MAIN();

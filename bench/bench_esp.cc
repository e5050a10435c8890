// Benchmarks for src/esp: ESP encapsulation and decapsulation (RFC 4303
// tunnel mode) per packet and in batches, for AES-GCM-16 128/256 and
// AES-CBC-128 + HMAC-SHA-256-128, on inner IPv4 packets of 64, 512 and 1400
// bytes. Bytes/s counts inner packet bytes. See BENCHMARKS.md (ESP).
//
// Every iteration copies the inner packet into the buffer first (encap works
// in place, as after a TUN read) or copies a stored ESP packet in (decap), so
// the copies are part of the figures. The decap benchmarks keep anti-replay
// on; a fresh inbound SA (a key setup) replaces the old one each time the
// pool of pre-built packets wraps, amortized over the pool.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/ip/udp.h"
#include "common/random.h"
#include "esp/sa.h"
#include "esp/sa_table.h"

namespace mipsec::esp {
namespace {

constexpr std::size_t kBatch = 32;
constexpr std::size_t kPool = 1024;  // pre-built ESP packets for the decap benchmarks

struct SuiteDef {
  Cipher cipher;
  Integrity integrity;
};
constexpr SuiteDef kSuites[] = {
    {Cipher::kAesGcm16_128, Integrity::kNone},
    {Cipher::kAesGcm16_256, Integrity::kNone},
    {Cipher::kAesCbc128, Integrity::kHmacSha256_128},
};

SecretBytes Key(std::size_t n, std::uint64_t seed) {
  SecretBytes k(n);
  DeterministicRandom(seed).Fill(k.RevealMutable());
  return k;
}

SaConfig Config(int suite, Direction dir) {
  SaConfig c;
  c.direction = dir;
  c.spi = 0xc0ffee01;
  c.cipher = kSuites[suite].cipher;
  c.integrity = kSuites[suite].integrity;
  c.enc_key = Key(EncKeySize(c.cipher), 1);
  c.integ_key = Key(IntegKeySize(c.integrity), 2);
  c.local = {Ipv4Address::FromOctets(198, 51, 100, 10), 4500};
  c.remote = {Ipv4Address::FromOctets(203, 0, 113, 2), 4500};
  c.udp_encap = true;
  return c;
}

Sa MakeSa(int suite, Direction dir) {
  Result<Sa> sa = Sa::Create(Config(suite, dir));
  if (!sa.ok()) std::abort();
  return std::move(*sa);
}

Bytes Inner(std::size_t total) {
  Bytes data(total - 28);
  DeterministicRandom(3).Fill(data);
  ip::Ipv4Header h;
  h.src = Ipv4Address::FromOctets(192, 0, 2, 129);
  h.dst = Ipv4Address::FromOctets(192, 0, 2, 10);
  Result<Bytes> b = ip::BuildIpv4Udp(h, 40000, 5201, data);
  if (!b.ok()) std::abort();
  return *b;
}

// One buffer per slot, with the headroom and tailroom ESP needs.
struct Slots {
  Slots(std::size_t n, std::size_t size)
      : stride(kEncapHeadroom + size + kEncapTailroom), storage(n * stride) {}
  PacketBuf Load(std::size_t i, ByteSpan pkt) {
    std::uint8_t* base = storage.data() + i * stride;
    std::memcpy(base + kEncapHeadroom, pkt.data(), pkt.size());
    return PacketBuf{MutableByteSpan(base, stride), kEncapHeadroom, pkt.size()};
  }
  std::size_t stride;
  Bytes storage;
};

std::vector<Bytes> BuildPool(int suite, const Bytes& inner) {
  Sa out = MakeSa(suite, Direction::kOutbound);
  Slots slot(1, inner.size() + 64);
  std::vector<Bytes> pool;
  for (std::size_t i = 0; i < kPool; ++i) {
    PacketBuf p = slot.Load(0, inner);
    if (out.Encapsulate(Timestamp::Zero(), p).action != Action::kSend) std::abort();
    pool.emplace_back(p.packet().begin(), p.packet().end());
  }
  return pool;
}

void SetLabel(benchmark::State& state) {
  const SuiteDef& s = kSuites[state.range(0)];
  std::string l(CipherName(s.cipher));
  if (s.integrity != Integrity::kNone) l += "+" + std::string(IntegrityName(s.integrity));
  state.SetLabel(l);
}

void BM_EspEncap(benchmark::State& state) {
  const int suite = static_cast<int>(state.range(0));
  const Bytes inner = Inner(static_cast<std::size_t>(state.range(1)));
  Sa out = MakeSa(suite, Direction::kOutbound);
  Slots slot(1, inner.size());
  for (auto _ : state) {
    PacketBuf p = slot.Load(0, inner);
    PacketResult r = out.Encapsulate(Timestamp::Zero(), p);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(slot.storage.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * inner.size()));
  SetLabel(state);
}

void BM_EspEncapBatch(benchmark::State& state) {
  const int suite = static_cast<int>(state.range(0));
  const Bytes inner = Inner(static_cast<std::size_t>(state.range(1)));
  Sa out = MakeSa(suite, Direction::kOutbound);
  Slots slots(kBatch, inner.size());
  std::vector<PacketBuf> pkts(kBatch);
  std::vector<PacketResult> results(kBatch);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) pkts[i] = slots.Load(i, inner);
    out.EncapsulateBatch(Timestamp::Zero(), pkts, results, OuterForm::kEspOnly);
    benchmark::DoNotOptimize(results.data());
    benchmark::DoNotOptimize(slots.storage.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBatch * inner.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  SetLabel(state);
}

void BM_EspDecap(benchmark::State& state) {
  const int suite = static_cast<int>(state.range(0));
  const Bytes inner = Inner(static_cast<std::size_t>(state.range(1)));
  const std::vector<Bytes> pool = BuildPool(suite, inner);
  auto in = std::make_unique<Sa>(MakeSa(suite, Direction::kInbound));
  Slots slot(1, pool[0].size());
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == kPool) {
      next = 0;
      in = std::make_unique<Sa>(MakeSa(suite, Direction::kInbound));
    }
    PacketBuf p = slot.Load(0, pool[next++]);
    PacketResult r = in->Decapsulate(Timestamp::Zero(), p);
    if (r.action != Action::kDeliver) state.SkipWithError("decapsulation failed");
    benchmark::DoNotOptimize(slot.storage.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * inner.size()));
  SetLabel(state);
}

// Through SaTable (SPI lookup included), UDP-4500 payloads as from recvmmsg.
void BM_EspDecapBatch(benchmark::State& state) {
  const int suite = static_cast<int>(state.range(0));
  const Bytes inner = Inner(static_cast<std::size_t>(state.range(1)));
  const std::vector<Bytes> pool = BuildPool(suite, inner);
  auto table = std::make_unique<SaTable>();
  if (!table->Add(MakeSa(suite, Direction::kInbound)).ok()) std::abort();
  Slots slots(kBatch, pool[0].size());
  std::vector<PacketBuf> pkts(kBatch);
  std::vector<PacketResult> results(kBatch);
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == kPool) {
      next = 0;
      table = std::make_unique<SaTable>();
      if (!table->Add(MakeSa(suite, Direction::kInbound)).ok()) std::abort();
    }
    for (std::size_t i = 0; i < kBatch; ++i) pkts[i] = slots.Load(i, pool[next++]);
    table->DecapsulateBatch(Timestamp::Zero(), pkts, results, InputForm::kUdp4500);
    if (results[kBatch - 1].action != Action::kDeliver) state.SkipWithError("decap failed");
    benchmark::DoNotOptimize(slots.storage.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBatch * inner.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  SetLabel(state);
}

void Args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"suite", "bytes"});
  for (int s = 0; s < 3; ++s) {
    for (int n : {64, 512, 1400}) b->Args({s, n});
  }
}

BENCHMARK(BM_EspEncap)->Apply(Args);
BENCHMARK(BM_EspEncapBatch)->Apply(Args);
BENCHMARK(BM_EspDecap)->Apply(Args);
BENCHMARK(BM_EspDecapBatch)->Apply(Args);

}  // namespace
}  // namespace mipsec::esp

BENCHMARK_MAIN();

// Benchmarks for src/common: the Internet checksum, wire::Reader, and the
// IPv4 / UDP / IP-in-IP codecs on packet-sized inputs. See BENCHMARKS.md.
#include <algorithm>
#include <cstdint>

#include <benchmark/benchmark.h>

#include "common/checksum.h"
#include "common/ip/ipip.h"
#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "common/random.h"
#include "common/wire/reader.h"
#include "common/wire/writer.h"

namespace mipsec {
namespace {

Bytes RandomBytes(std::size_t n, std::uint64_t seed = 1) {
  Bytes b(n);
  DeterministicRandom(seed).Fill(b);
  return b;
}

// The textbook RFC 1071 loop (16 bits at a time, 32-bit accumulator), as a
// baseline for the 64-bit implementation.
std::uint16_t NaiveChecksum(ByteSpan data) {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += static_cast<std::uint32_t>(data[i]) << 8 | data[i + 1];
  if (i < data.size()) sum += static_cast<std::uint32_t>(data[i]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

void BM_Checksum(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const Bytes buf = RandomBytes(n);
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    std::uint16_t c = InternetChecksum(buf);
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_Checksum)->Arg(64)->Arg(576)->Arg(1500)->Arg(9000);

// Same, starting one byte into the buffer (unaligned loads, odd length).
void BM_ChecksumUnaligned(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const Bytes buf = RandomBytes(n + 1);
  const ByteSpan s = ByteSpan(buf).subspan(1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.data());
    std::uint16_t c = InternetChecksum(s);
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_ChecksumUnaligned)->Arg(1500);

void BM_ChecksumNaive(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const Bytes buf = RandomBytes(n);
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    std::uint16_t c = NaiveChecksum(buf);
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_ChecksumNaive)->Arg(64)->Arg(1500)->Arg(9000);

// UDP-style: pseudo-header fields, an odd-length header span, then payload.
void BM_ChecksumMultiSpan(benchmark::State& state) {
  const Bytes hdr = RandomBytes(7, 2);
  const Bytes payload = RandomBytes(1493, 3);
  for (auto _ : state) {
    Checksum c;
    c.AddU32(0xc0000201).AddU32(0xc6336401).AddU16(17).AddU16(1500).Add(hdr).Add(payload);
    std::uint16_t v = c.Finish();
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 1500));
}
BENCHMARK(BM_ChecksumMultiSpan);

// RFC 1624 update of a 20-byte header (TTL decrement) vs recomputing it.
void BM_DecrementTtlIncremental(benchmark::State& state) {
  ip::Ipv4Header h;
  h.src = Ipv4Address::FromOctets(192, 0, 2, 1);
  h.dst = Ipv4Address::FromOctets(198, 51, 100, 2);
  h.protocol = ip::kProtoUdp;
  Bytes pkt = *ip::BuildIpv4(h, RandomBytes(100));
  for (auto _ : state) {
    pkt[8] = 64;  // reset; the checksum drifts, which DecrementTtl does not check
    Result<std::uint8_t> t = ip::DecrementTtl(pkt);
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_DecrementTtlIncremental);

void BM_Ipv4HeaderFullChecksum(benchmark::State& state) {
  const Bytes hdr = RandomBytes(20);
  for (auto _ : state) {
    benchmark::DoNotOptimize(hdr.data());
    std::uint16_t c = InternetChecksum(hdr);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_Ipv4HeaderFullChecksum);

// A 1500-byte buffer of Mobile-IPv4-style extensions: type (1), length (1),
// then a body of U32, U16, U8 fields and a variable tail.
Bytes ExtensionBuffer() {
  DeterministicRandom rng(5);
  wire::Writer w(1500);
  while (w.size() < 1500) {
    const std::size_t room = 1500 - w.size();
    if (room < 2 + 7) {
      w.Zeros(room);  // padding extensions (type 0, length 0) fill the rest
      break;
    }
    const std::size_t body = std::min<std::size_t>(7 + rng.Uniform(40), room - 2);
    w.U8(static_cast<std::uint8_t>(32 + rng.Uniform(100))).U8(static_cast<std::uint8_t>(body));
    w.U32(rng.U32()).U16(static_cast<std::uint16_t>(rng.U32())).U8(0x80);
    w.Zeros(body - 7);
  }
  return std::move(w).Take();
}

// Walks the buffer; `reads` counts Reader calls (U8/U16/U32/Sub/Span).
Status WalkExtensions(ByteSpan buf, std::uint64_t& acc, std::uint64_t& reads) {
  wire::Reader r(buf);
  while (!r.empty()) {
    MIPSEC_ASSIGN_OR_RETURN(std::uint8_t type, r.U8("type"));
    ++reads;
    if (type == 0) continue;  // Pad1-style
    reads += 6;
    MIPSEC_ASSIGN_OR_RETURN(std::uint8_t len, r.U8("length"));
    MIPSEC_ASSIGN_OR_RETURN(wire::Reader body, r.Sub(len, "extension body"));
    MIPSEC_ASSIGN_OR_RETURN(std::uint32_t spi, body.U32("spi"));
    MIPSEC_ASSIGN_OR_RETURN(std::uint16_t flags, body.U16("flags"));
    MIPSEC_ASSIGN_OR_RETURN(std::uint8_t sub, body.U8("subtype"));
    MIPSEC_ASSIGN_OR_RETURN(ByteSpan rest, body.Span(body.remaining(), "data"));
    acc += type + spi + flags + sub + rest.size();
  }
  return Ok{};
}

void BM_ReaderWalkExtensions(benchmark::State& state) {
  const Bytes buf = ExtensionBuffer();
  std::uint64_t acc = 0, reads = 0;
  for (auto _ : state) {
    reads = 0;
    Status s = WalkExtensions(buf, acc, reads);
    if (!s.ok()) state.SkipWithError(s.error().ToString().c_str());
    benchmark::DoNotOptimize(acc);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
  // Reader calls per walk, and their rate.
  state.counters["reads_per_walk"] = static_cast<double>(reads);
  state.counters["reads"] = benchmark::Counter(static_cast<double>(reads * state.iterations()),
                                               benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReaderWalkExtensions);

// The same walk with a truncated last extension: measures the error path,
// which formats a message naming the field.
void BM_ReaderTruncatedError(benchmark::State& state) {
  const Bytes buf = *FromHex("2008aabbccdd");  // length 8, only 4 body bytes
  std::uint64_t acc = 0, reads = 0;
  for (auto _ : state) {
    Status s = WalkExtensions(buf, acc, reads);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ReaderTruncatedError);

// A 1500-byte IPv4+UDP datagram (1472 bytes of payload).
Bytes UdpDatagram1500() {
  ip::Ipv4Header h;
  h.src = Ipv4Address::FromOctets(192, 0, 2, 10);
  h.dst = Ipv4Address::FromOctets(198, 51, 100, 1);
  h.dont_fragment = true;
  return *ip::BuildIpv4Udp(h, 4500, 4500, RandomBytes(1500 - 28));
}

// range(0) = 1: verify both checksums (the UDP one covers all 1480 bytes);
// 0: structure only.
void BM_ParseIpv4Udp(benchmark::State& state) {
  const Bytes pkt = UdpDatagram1500();
  const bool verify = state.range(0) != 0;
  for (auto _ : state) {
    Result<ip::Ipv4UdpPacket> p =
        ip::ParseIpv4Udp(pkt, {.verify_checksum = verify}, {.verify_checksum = verify});
    if (!p.ok()) state.SkipWithError(p.error().ToString().c_str());
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * pkt.size()));
}
BENCHMARK(BM_ParseIpv4Udp)->ArgName("verify")->Arg(0)->Arg(1);

void BM_BuildIpv4Udp(benchmark::State& state) {
  ip::Ipv4Header h;
  h.src = Ipv4Address::FromOctets(192, 0, 2, 10);
  h.dst = Ipv4Address::FromOctets(198, 51, 100, 1);
  const Bytes payload = RandomBytes(1472);
  for (auto _ : state) {
    Result<Bytes> b = ip::BuildIpv4Udp(h, 4500, 4500, payload);
    benchmark::DoNotOptimize(b);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 1500));
}
BENCHMARK(BM_BuildIpv4Udp);

// A 1400-byte inner datagram through a home agent's tunnel: encapsulate
// (forwarding: inner TTL decremented) and decapsulate.
Bytes Inner1400() {
  ip::Ipv4Header h;
  h.src = Ipv4Address::FromOctets(203, 0, 113, 5);
  h.dst = Ipv4Address::FromOctets(10, 1, 0, 20);
  h.dont_fragment = true;
  return *ip::BuildIpv4Udp(h, 443, 50000, RandomBytes(1400 - 28));
}

const Ipv4Address kHa = Ipv4Address::FromOctets(10, 1, 0, 1);
const Ipv4Address kCoa = Ipv4Address::FromOctets(198, 51, 100, 77);

void BM_IpipEncapsulate(benchmark::State& state) {
  const Bytes inner = Inner1400();
  ip::IpipEncapsulateOptions o;
  for (auto _ : state) {
    ++o.identification;
    Result<Bytes> out = ip::IpipEncapsulate(inner, kHa, kCoa, o);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * inner.size()));
}
BENCHMARK(BM_IpipEncapsulate);

void BM_IpipDecapsulate(benchmark::State& state) {
  const Bytes outer = *ip::IpipEncapsulate(Inner1400(), kHa, kCoa);
  for (auto _ : state) {
    Result<ip::IpipDecapsulated> d = ip::IpipDecapsulate(outer);
    if (!d.ok()) state.SkipWithError(d.error().ToString().c_str());
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * outer.size()));
}
BENCHMARK(BM_IpipDecapsulate);

void BM_IpipRoundTrip(benchmark::State& state) {
  const Bytes inner = Inner1400();
  ip::IpipEncapsulateOptions o;
  for (auto _ : state) {
    ++o.identification;
    Result<Bytes> out = ip::IpipEncapsulate(inner, kHa, kCoa, o);
    Result<ip::IpipDecapsulated> d = ip::IpipDecapsulate(*out);
    if (!d.ok()) state.SkipWithError(d.error().ToString().c_str());
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * inner.size()));
}
BENCHMARK(BM_IpipRoundTrip);

}  // namespace
}  // namespace mipsec

BENCHMARK_MAIN();

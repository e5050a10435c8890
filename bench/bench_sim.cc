// Simulator speed: packet-events per second on one core (issue 3 target:
// at least 1,000,000), and a 10,000-mobile-node network. See BENCHMARKS.md.
//
// A packet-event is one delivery of a packet from a segment into a node,
// which then parses it and routes it or hands it to a bound application.
// items_per_second counts exactly those (the segments' `delivered`
// counters); the timer and send events around them are extra work the
// figure does not count.
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "sim/apps/udp_stream.h"
#include "sim/network.h"

namespace mipsec::sim {
namespace {

Ipv4Address Host(int subnet, int host) {
  return Ipv4Address::FromOctets(10, static_cast<std::uint8_t>(subnet >> 8),
                                 static_cast<std::uint8_t>(subnet), static_cast<std::uint8_t>(host));
}

// Two hosts on one LAN: host a sends bursts of 64-byte UDP datagrams to b,
// which counts them. Pure engine + host stack cost per packet.
void BM_SimLanUdp(benchmark::State& state) {
  const int kPackets = 10'000;
  std::uint64_t events = 0;
  for (auto _ : state) {
    Network net(1, LogLevel::kOff);
    net.set_capture(false);
    (void)net.AddSegment("lan", {});
    (void)net.AddNode("a", false);
    (void)net.AddNode("b", false);
    (void)net.Connect("a", "eth0", "lan", Host(0, 1), 24);
    (void)net.Connect("b", "eth0", "lan", Host(0, 2), 24);
    std::uint64_t got = 0;
    (void)net.FindNode("b")->BindUdp({Ipv4Address::Any(), 7000},
                                    [&](Timestamp, const UdpDelivery&) { ++got; });
    Node* a = net.FindNode("a");
    Bytes payload(64, 0xab);
    for (int i = 0; i < kPackets; ++i) {
      net.sim().ScheduleFn(Timestamp::Zero() + Duration::Micros(i), [&, a] {
        (void)a->SendUdp({Host(0, 2), 7000}, 5000, payload);
      });
    }
    net.sim().RunFor(Duration::Seconds(1));
    if (got != static_cast<std::uint64_t>(kPackets)) state.SkipWithError("packets lost");
    events += net.FindSegment("lan")->counters().delivered;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}
BENCHMARK(BM_SimLanUdp)->Unit(benchmark::kMillisecond);

// A routed enterprise of `n` mobile nodes: 100 access LANs behind one router,
// a correspondent node streaming to every MN every 100 ms (the CN sends
// n / 0.1 s packets per second), every MN echoing. 2 simulated seconds.
// Reports events per second and the wall time for the whole run.
void BM_SimManyNodes(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int kLans = 100;
  std::uint64_t events = 0;
  for (auto _ : state) {
    Network net(1, LogLevel::kOff);
    net.set_capture(false);
    (void)net.AddSegment("core", {});
    (void)net.AddNode("r", true);
    (void)net.AddNode("cn", false);
    (void)net.Connect("r", "core", "core", Host(0xffff, 1), 24);
    (void)net.Connect("cn", "eth0", "core", Host(0xffff, 2), 24);
    (void)net.FindNode("cn")->AddRoute(Ipv4Prefix(), Host(0xffff, 1));
    for (int l = 0; l < kLans; ++l) {
      std::string seg = "lan" + std::to_string(l);
      (void)net.AddSegment(seg, {});
      (void)net.Connect("r", "eth" + std::to_string(l), seg, Host(l, 1), 24);
    }
    std::vector<std::unique_ptr<StreamEchoer>> echoers;
    for (int i = 0; i < n; ++i) {
      int lan = i % kLans, host = 2 + i / kLans;  // up to 253 per LAN
      std::string name = "mn" + std::to_string(i);
      (void)net.AddNode(name, false);
      (void)net.Connect(name, "eth0", "lan" + std::to_string(lan), Host(lan, host), 24);
      (void)net.FindNode(name)->AddRoute(Ipv4Prefix(), Host(lan, 1));
      echoers.push_back(std::move(*StreamEchoer::Create(*net.FindNode(name), 7000)));
    }
    std::vector<std::unique_ptr<StreamSender>> senders;
    for (int i = 0; i < n; ++i) {
      StreamConfig c;
      c.target = {Host(i % kLans, 2 + i / kLans), 7000};
      c.local_port = static_cast<std::uint16_t>(10000 + i);
      c.interval = Duration::Millis(100);
      c.start = Timestamp::Zero() + Duration::Micros(i * 7 % 100000);
      senders.push_back(std::move(*StreamSender::Create(*net.FindNode("cn"), c)));
    }
    net.sim().RunFor(Duration::Seconds(2));
    for (Segment* seg : net.segments()) events += seg->counters().delivered;
    std::uint64_t echoed = 0;
    for (const auto& e : echoers) echoed += e->echoes_sent();
    if (echoed < static_cast<std::uint64_t>(n) * 19) state.SkipWithError("stream did not flow");
    senders.clear();
    echoers.clear();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}
BENCHMARK(BM_SimManyNodes)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace mipsec::sim

BENCHMARK_MAIN();

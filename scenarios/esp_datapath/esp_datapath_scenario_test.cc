// The ESP data plane on the real kernel: two namespaces joined by veth, a
// TUN and an EspDataPath (worker threads, ESP-in-UDP on 4500) in each, with
// matching static SAs. Every inner address exists only on the TUNs, so an
// answered ping crossed both data paths encrypted.
//
//   ns left                                                  ns right
//   esp0 172.30.1.1/32                                       esp0 172.30.2.1/32
//   route 172.30.2.0/24 dev esp0                             route 172.30.1.0/24 dev esp0
//   eth0 10.70.0.1/24  ------------- veth A -------------    eth0 10.70.0.2/24
//   eth1 (10.71.0.1/24 after the move) -- veth B --------    eth1 10.71.0.2/24
//   left out SPI 0x1001 -> right in;  right out SPI 0x2002 -> left in
//
// The first test runs esp_datapath_tool in both namespaces; the others hold
// both EspDataPaths in this process (opened inside the namespaces) so they
// can rekey and move them while a ping stream runs.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.h"
#include "common/random.h"
#include "common/wire/writer.h"
#include "esp/sa.h"
#include "platform/linux/esp_datapath.h"
#include "platform/linux/netlink.h"
#include "platform/linux/raw_socket.h"
#include "platform/linux/tun_device.h"
#include "testing/netns/require_root.h"
#include "lab/netns/topology.h"
#include "testing/lab_names.h"

namespace mipsec::testing {
namespace {

using platform::EspDataPath;
using platform::EspDataPathStats;

constexpr char kTopology[] = R"(
ns left
ns right
link left:eth0 10.70.0.1/24 right:eth0 10.70.0.2/24
link left:eth1              right:eth1 10.71.0.2/24
)";

const Ipv4Address kLeftA = Ipv4Address::FromOctets(10, 70, 0, 1);
const Ipv4Address kLeftB = Ipv4Address::FromOctets(10, 71, 0, 1);
const Ipv4Address kRight = Ipv4Address::FromOctets(10, 70, 0, 2);
const char kLeftInner[] = "172.30.1.1";
const char kRightInner[] = "172.30.2.1";

// GCM-128 key + salt (RFC 4106 8.1), one per SA.
const char kKeyLR[] = "00112233445566778899aabbccddeeff01020304";
const char kKeyRL[] = "ffeeddccbbaa99887766554433221100a1a2a3a4";

SecretBytes Key(std::uint64_t seed) {
  SecretBytes k(esp::EncKeySize(esp::Cipher::kAesGcm16_128));
  DeterministicRandom(seed).Fill(k.RevealMutable());
  return k;
}

esp::SaConfig Sa(esp::Direction dir, std::uint32_t spi, Ipv4Address local, Ipv4Address remote) {
  esp::SaConfig c;
  c.direction = dir;
  c.spi = spi;
  c.cipher = esp::Cipher::kAesGcm16_128;
  c.enc_key = Key(spi);  // both ends derive the same key from the SPI
  c.local = {local, 4500};
  c.remote = {remote, 4500};
  c.udp_encap = true;
  return c;
}

class EspDataPathScenario : public ::testing::Test {
 protected:
  void SetUp() override {
    MIPSEC_REQUIRE_NETNS();
    auto topo = Topology::Create(kTopology);
    ASSERT_TRUE(topo.ok()) << topo.error().ToString();
    topo_ = std::move(*topo);
  }
  void TearDown() override {
    left_.reset();  // data paths (TUNs) before the namespaces
    right_.reset();
  }

  // An EspDataPath opened inside `ns`, TUN configured and routed, started.
  std::unique_ptr<EspDataPath> Open(const char* ns, const char* inner, const char* remote_net,
                                    const esp::SaConfig& in, const esp::SaConfig& out) {
    std::unique_ptr<EspDataPath> dp;
    Status st = topo_->RunIn(ns, [&] {
      auto d = EspDataPath::OpenLinux({.tun_name = "esp0"});
      ASSERT_TRUE(d.ok()) << d.error().ToString();
      auto nl = platform::LinuxNetlink::Open();
      ASSERT_TRUE(nl.ok()) << nl.error().ToString();
      auto addr = platform::InterfaceAddress::Parse(std::string(inner) + "/32");
      ASSERT_TRUE(platform::ConfigureInterface(**nl, (*d)->tun().ifindex(), *addr, 1400).ok());
      platform::Route r;
      r.destination = *Ipv4Prefix::Parse(remote_net);
      r.oif = (*d)->tun().ifindex();
      r.preferred_source = addr->address;
      ASSERT_TRUE((*nl)->AddRoute(r).ok());
      dp = std::move(*d);
    });
    EXPECT_TRUE(st.ok()) << st.error().ToString();
    if (!dp) return nullptr;
    EXPECT_TRUE(dp->AddInboundSa(in).ok());
    EXPECT_TRUE(dp->SetOutboundSa(1, {*Ipv4Prefix::Parse(remote_net)}, out).ok());
    EXPECT_TRUE(dp->Start().ok());
    return dp;
  }

  void OpenBoth() {
    left_ = Open("left", kLeftInner, "172.30.2.0/24",
                 Sa(esp::Direction::kInbound, 0x2002, kLeftA, kRight),
                 Sa(esp::Direction::kOutbound, 0x1001, kLeftA, kRight));
    right_ = Open("right", kRightInner, "172.30.1.0/24",
                  Sa(esp::Direction::kInbound, 0x1001, kRight, kLeftA),
                  Sa(esp::Direction::kOutbound, 0x2002, kRight, kLeftA));
    ASSERT_NE(left_, nullptr);
    ASSERT_NE(right_, nullptr);
  }

  // ping from `ns`; returns how many of `count` were answered.
  int Ping(const char* ns, const char* dst, int count, const char* interval = "0.2") {
    auto r = topo_->Exec(
        ns, {"ping", "-n", "-q", "-c", std::to_string(count), "-i", interval, "-W", "1", dst},
        Duration::Seconds(10 + count / 20));
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return -1;
    std::smatch m;
    if (std::regex_search(r->out, m, std::regex(R"((\d+) received)"))) return std::stoi(m[1]);
    if (r->exit_code == 2) return 0;  // e.g. "Network is unreachable": nothing sent
    ADD_FAILURE() << r->out << r->err;
    return -1;
  }

  std::unique_ptr<Topology> topo_;
  std::unique_ptr<EspDataPath> left_;
  std::unique_ptr<EspDataPath> right_;
};

// --- the tool, as a benchmark runs it ---

Child* StartTool(Topology& topo, const char* ns, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {MIPSEC_ESP_DATAPATH_TOOL};
  argv.insert(argv.end(), args.begin(), args.end());
  Result<Child*> c = topo.Spawn(ns, argv);
  EXPECT_TRUE(c.ok()) << c.error().ToString();
  if (!c.ok()) return nullptr;
  for (int i = 0; i < 500; ++i) {
    if ((*c)->Stdout().find("ready") != std::string::npos) return *c;
    if (!(*c)->Running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "esp_datapath_tool in " << ns << " did not start: " << (*c)->Stderr();
  return nullptr;
}

std::uint64_t StatValue(const std::string& out, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(" " + key + "=(\\d+)"))) return 0;
  return std::stoull(m[1]);
}

TEST_F(EspDataPathScenario, ToolPingsBothWaysThroughTheTunnel) {
  // Nothing reaches the other inner network before the tunnel exists.
  EXPECT_EQ(Ping("left", kRightInner, 1), 0);
  Child* l = StartTool(
      *topo_, "left", {"--tun",     "esp0",     "--tun-address", "172.30.1.1/32", "--local",
                       "10.70.0.1", "--remote", "10.70.0.2",     "--out-spi",     "0x1001",
                       "--out-key", kKeyLR,     "--in-spi",      "0x2002",        "--in-key",
                       kKeyRL,      "--route",  "172.30.2.0/24", "--allow-src",   "172.30.2.0/24"});
  Child* r =
      StartTool(*topo_, "right",
                {"--tun",     "esp0",     "--tun-address", "172.30.2.1/32", "--local",
                 "10.70.0.2", "--remote", "10.70.0.1",     "--out-spi",     "0x2002",
                 "--out-key", kKeyRL,     "--in-spi",      "0x1001",        "--in-key",
                 kKeyLR,      "--route",  "172.30.1.0/24", "--allow-src",   "172.30.1.0/24"});
  ASSERT_NE(l, nullptr);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(Ping("left", kRightInner, 5), 5);
  EXPECT_EQ(Ping("right", kLeftInner, 5), 5);
  // Large packets: the kernel fragments them to the TUN MTU (1400) before ESP.
  auto big =
      topo_->Exec("left", {"ping", "-n", "-q", "-c", "2", "-s", "3000", "-W", "2", kRightInner},
                  Duration::Seconds(10));
  ASSERT_TRUE(big.ok());
  EXPECT_TRUE(big->Success()) << big->out;

  l->Stop(Duration::Seconds(2));
  r->Stop(Duration::Seconds(2));
  const std::string lo = l->Stdout(), ro = r->Stdout();
  EXPECT_GE(StatValue(lo, "rx_delivered"), 10u) << lo;
  EXPECT_GE(StatValue(ro, "rx_delivered"), 10u) << ro;
  EXPECT_GE(StatValue(lo, "tx_sent"), 10u) << lo;
  EXPECT_EQ(lo.find("drop_"), std::string::npos) << lo;
  EXPECT_EQ(ro.find("drop_"), std::string::npos) << ro;
}

TEST_F(EspDataPathScenario, ToolRefusesBadArguments) {
  auto r = topo_->Exec(
      "left",
      {MIPSEC_ESP_DATAPATH_TOOL, "--tun", "esp0", "--tun-address", "172.30.1.1/32", "--local",
       "10.70.0.1", "--remote", "10.70.0.2", "--out-spi", "0x1001", "--out-key", "abcd", "--in-spi",
       "0x2002", "--in-key", kKeyRL, "--route", "172.30.2.0/24"},
      Duration::Seconds(10));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_NE(r->err.find("outbound SA"), std::string::npos) << r->err;
}

// RFC 7296 2.8 shape, both ends at once, during a 100 pings/s stream: new
// inbound SAs, then the outbound switch, then the old inbound SAs go. Not
// one ping may be lost.
// A TCP bulk transfer through the tunnel arrives intact with TSO cut in
// userspace and UDP GSO on the sending side and TCP receive coalescing on
// the receiving TUN: 16 MiB of
// pseudo-random bytes from left to right over real kernel TCP sockets (made
// inside the namespaces), every byte compared, and most segments delivered
// cut from super-packets and merged (so the test notices an offload silently
// switched off).
TEST_F(EspDataPathScenario, TcpBulkTransferIntactWithGsoAndTunCoalescing) {
  ASSERT_NO_FATAL_FAILURE(OpenBoth());
  constexpr std::size_t kBytes = 16u << 20;
  Bytes data(kBytes);
  DeterministicRandom(5266).Fill(MutableByteSpan(data));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(5001);
  inet_pton(AF_INET, kRightInner, &addr.sin_addr);
  platform::ScopedFd listener;
  platform::ScopedFd client;
  ASSERT_TRUE(topo_->RunIn("right", [&] {
                listener.Reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
                int one = 1;
                setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
                ASSERT_EQ(listen(listener.get(), 1), 0);
              }).ok());
  ASSERT_TRUE(topo_->RunIn("left", [&] {
                client.Reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
              }).ok());
  ASSERT_TRUE(listener.valid() && client.valid());
  Bytes received;
  std::thread server([&] {
    platform::ScopedFd c(accept(listener.get(), nullptr, nullptr));
    if (!c.valid()) return;
    std::uint8_t buf[1 << 16];
    for (;;) {
      ssize_t n = recv(c.get(), buf, sizeof buf, 0);
      if (n <= 0) break;
      received.insert(received.end(), buf, buf + n);
    }
  });
  timeval tv{30, 0};
  setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  bool sent_all = false;
  if (connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(client.get(), data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    sent_all = off == data.size();
  }
  client.Reset();  // FIN
  server.join();
  ASSERT_TRUE(sent_all);
  ASSERT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data) << "the bytes that arrived differ from those sent";
  const EspDataPathStats ls = left_->Stats();
  EXPECT_GT(ls.tx.tun_segmented, ls.tx.tun_packets / 2)
      << "read " << ls.tx.tun_packets << ", cut from super-packets " << ls.tx.tun_segmented;
  const EspDataPathStats rs = right_->Stats();
  EXPECT_GT(rs.rx.delivered, kBytes / 1400);
  EXPECT_GT(rs.rx.tun_coalesced, rs.rx.delivered / 2)
      << "delivered " << rs.rx.delivered << ", merged " << rs.rx.tun_coalesced;
  EXPECT_EQ(rs.rx.tun_write_errors, 0u);
}

TEST_F(EspDataPathScenario, RekeyUnderTrafficLosesNothing) {
  ASSERT_NO_FATAL_FAILURE(OpenBoth());
  ASSERT_EQ(Ping("left", kRightInner, 1), 1);
  int received = -1;
  std::thread stream([&] { received = Ping("left", kRightInner, 300, "0.01"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_TRUE(left_->AddInboundSa(Sa(esp::Direction::kInbound, 0x2102, kLeftA, kRight)).ok());
  ASSERT_TRUE(right_->AddInboundSa(Sa(esp::Direction::kInbound, 0x1101, kRight, kLeftA)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(left_
                  ->SetOutboundSa(1, {*Ipv4Prefix::Parse("172.30.2.0/24")},
                                  Sa(esp::Direction::kOutbound, 0x1101, kLeftA, kRight))
                  .ok());
  ASSERT_TRUE(right_
                  ->SetOutboundSa(1, {*Ipv4Prefix::Parse("172.30.1.0/24")},
                                  Sa(esp::Direction::kOutbound, 0x2102, kRight, kLeftA))
                  .ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(left_->RemoveInboundSa(0x2002).ok());
  ASSERT_TRUE(right_->RemoveInboundSa(0x1001).ok());
  stream.join();
  EXPECT_EQ(received, 300);

  // Traffic moved to the new SAs; the old inbound ones are gone.
  Result<platform::EspSaInfo> in_r = right_->InboundSaInfo(0x1101);
  ASSERT_TRUE(in_r.ok());
  EXPECT_GT(in_r->counters.packets, 50u);
  Result<platform::EspSaInfo> in_l = left_->InboundSaInfo(0x2102);
  ASSERT_TRUE(in_l.ok());
  EXPECT_GT(in_l->counters.packets, 50u);
  EXPECT_FALSE(right_->InboundSaInfo(0x1001).ok());
  EXPECT_EQ(left_->OutboundSaInfo(1)->spi, 0x1101u);
  EspDataPathStats s = right_->Stats();
  EXPECT_EQ(s.rx.dropped(esp::DropReason::kUnknownSpi), 0u);
  EXPECT_EQ(s.tx.send_errors, 0u);
}

// RFC 4555 shape: left moves from link A (10.70.0.1) to link B (10.71.0.1)
// while pinging; both ends update the SAs in place, then the old address
// goes away. Sequence numbers continue on the same SAs.
TEST_F(EspDataPathScenario, MobikeAddressChangeInPlace) {
  ASSERT_NO_FATAL_FAILURE(OpenBoth());
  ASSERT_EQ(Ping("left", kRightInner, 1), 1);
  const std::uint64_t seq_before = left_->OutboundSaInfo(1)->next_sequence;
  int received = -1;
  std::thread stream([&] { received = Ping("left", kRightInner, 200, "0.01"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  ExecOptions batch;
  batch.stdin_data =
      "address add 10.71.0.1/24 dev eth1\n"
      "route replace default via 10.71.0.2 dev eth1\n";
  auto add = topo_->Exec("left", {"ip", "-batch", "-"}, batch);
  ASSERT_TRUE(add.ok() && add->Success()) << (add.ok() ? add->err : add.error().ToString());
  ASSERT_TRUE(left_->UpdateOutboundPath(1, {kLeftB, 4500}, {kRight, 4500}).ok());
  ASSERT_TRUE(left_->UpdateInboundPath(0x2002, {kLeftB, 4500}, {kRight, 4500}).ok());
  ASSERT_TRUE(right_->UpdateOutboundPath(1, {kRight, 4500}, {kLeftB, 4500}).ok());
  ASSERT_TRUE(right_->UpdateInboundPath(0x1001, {kRight, 4500}, {kLeftB, 4500}).ok());
  ASSERT_TRUE(topo_->Run("left", {"ip", "address", "flush", "dev", "eth0"}).ok());
  stream.join();
  EXPECT_GE(received, 195) << "the stream went on through the move";

  // Only the new path exists now: these must all come back.
  EXPECT_EQ(Ping("left", kRightInner, 10, "0.05"), 10);
  EXPECT_EQ(Ping("right", kLeftInner, 10, "0.05"), 10);
  Result<platform::EspSaInfo> out = left_->OutboundSaInfo(1);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->spi, 0x1001u) << "the same SA, updated in place";
  EXPECT_EQ(out->local.address, kLeftB);
  EXPECT_GT(out->next_sequence, seq_before + 200);
  EXPECT_EQ(right_->OutboundSaInfo(1)->remote.address, kLeftB);
  EXPECT_EQ(left_->Stats().tx.send_errors, 0u);
}

// Packets injected with raw sockets: a captured ESP datagram replayed, one
// with a flipped ciphertext bit, one with an unknown SPI. Each is dropped
// and counted by the receiving data path; none reaches its TUN.
TEST_F(EspDataPathScenario, TamperedAndReplayedPacketsAreDroppedAndCounted) {
  ASSERT_NO_FATAL_FAILURE(OpenBoth());
  // A raw UDP socket in right sees a copy of every UDP datagram arriving.
  std::unique_ptr<platform::LinuxRawSocket> sniffer, injector;
  ASSERT_TRUE(topo_
                  ->RunIn("right",
                          [&] {
                            auto s = platform::LinuxRawSocket::Open({.protocol = 17});
                            ASSERT_TRUE(s.ok()) << s.error().ToString();
                            sniffer = std::move(*s);
                          })
                  .ok());
  ASSERT_TRUE(topo_
                  ->RunIn("left",
                          [&] {
                            auto s = platform::LinuxRawSocket::Open({.protocol = 17});
                            ASSERT_TRUE(s.ok()) << s.error().ToString();
                            injector = std::move(*s);
                          })
                  .ok());
  ASSERT_TRUE(sniffer && injector);
  ASSERT_EQ(Ping("left", kRightInner, 1), 1);

  // The first ESP datagram of SPI 0x1001 (left -> right) as it arrived.
  Bytes captured;
  std::vector<std::uint8_t> buf(4096);
  for (int tries = 0; tries < 50 && captured.empty(); ++tries) {
    platform::Datagram d;
    d.buffer = buf;
    auto got = sniffer->Recv(d);
    ASSERT_TRUE(got.ok());
    if (!*got) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    ByteSpan pkt = d.data();
    const std::size_t ihl = (pkt[0] & 0x0f) * 4u;
    if (pkt.size() < ihl + 16 || wire::LoadU16(pkt, ihl + 2) != 4500) continue;
    if (wire::LoadU32(pkt, ihl + 8) != 0x1001) continue;
    captured.assign(pkt.begin(), pkt.end());
  }
  ASSERT_FALSE(captured.empty()) << "no ESP datagram seen";
  const std::size_t ihl = (captured[0] & 0x0f) * 4u;
  wire::StoreU16(captured, ihl + 6, 0);  // UDP checksum 0 (none), so edits stay deliverable

  const EspDataPathStats before = right_->Stats();
  const std::uint64_t top_before = right_->InboundSaInfo(0x1001)->replay_top;
  auto inject = [&](const Bytes& p) { ASSERT_TRUE(injector->SendIpPacket(p).ok()); };
  inject(captured);  // replay
  // A fresh sequence number (so the window lets it through to the ICV
  // check) and a flipped bit inside the ciphertext.
  Bytes tampered = captured;
  wire::StoreU32(tampered, ihl + 8 + 4, 1000);
  tampered[ihl + 8 + 8 + 8 + 20] ^= 0x40;
  inject(tampered);
  Bytes unknown = captured;
  wire::StoreU32(unknown, ihl + 8, 0x0bad0bad);
  inject(unknown);

  EspDataPathStats after;
  for (int i = 0; i < 100; ++i) {
    after = right_->Stats();
    if (after.rx.datagrams >= before.rx.datagrams + 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(after.rx.dropped(esp::DropReason::kReplay),
            before.rx.dropped(esp::DropReason::kReplay) + 1);
  EXPECT_EQ(after.rx.dropped(esp::DropReason::kAuth),
            before.rx.dropped(esp::DropReason::kAuth) + 1);
  EXPECT_EQ(after.rx.dropped(esp::DropReason::kUnknownSpi),
            before.rx.dropped(esp::DropReason::kUnknownSpi) + 1);
  EXPECT_EQ(after.rx.delivered, before.rx.delivered);
  // RFC 4303 3.4.3: the window moves only after the ICV verified.
  EXPECT_EQ(right_->InboundSaInfo(0x1001)->replay_top, top_before);
  // The window is intact: traffic goes on.
  EXPECT_EQ(Ping("left", kRightInner, 3), 3);
}

}  // namespace
}  // namespace mipsec::testing

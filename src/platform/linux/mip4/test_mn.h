// TestMn: one Mobile IPv4 mobile node for the home agent's namespace tests —
// the real registration engine (mip4::MobileNodeRegistration) on real
// agent sockets opened in the namespace `mn`, pumped by hand: Pump() sends
// what the engine queued and feeds it what arrives until an event, and
// answers ICMP echo requests that reach the home address through the
// tunnel (so a ping from the correspondent proves both directions).
#ifndef MIPSEC_PLATFORM_LINUX_MIP4_TEST_MN_H_
#define MIPSEC_PLATFORM_LINUX_MIP4_TEST_MN_H_

#include <gtest/gtest.h>
#include <poll.h>
#include <time.h>

#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "common/checksum.h"
#include "common/ip/ipv4.h"
#include "common/log.h"
#include "common/random.h"
#include "mip4/mn_reg/registration.h"
#include "platform/linux/mip4/agent_io.h"
#include "lab/netns/topology.h"
#include "testing/lab_names.h"

namespace mipsec::mip4d {

inline Timestamp MonoNow() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Timestamp::FromNanos(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec);
}

inline mip4::WallClockMapping WallNow() {
  timespec rt{};
  clock_gettime(CLOCK_REALTIME, &rt);
  return {MonoNow(), static_cast<std::int64_t>(rt.tv_sec) * 1'000'000'000 + rt.tv_nsec};
}

struct TestMnOptions {
  Ipv4Address home = Ipv4Address::Parse("192.0.2.10").value();
  Ipv4Address home_agent = Ipv4Address::Parse("192.0.2.1").value();
  std::uint32_t spi = 1000;
  std::string key_hex = "00112233445566778899aabbccddeeff";
  bool reverse_tunnel = true;
  mip4::UdpTunnelPolicy udp = mip4::UdpTunnelPolicy::kNever;
};

// One mobile node: the registration engine plus its socket in the mn
// namespace, pumped by hand.
class TestMn {
 public:
  TestMn(const testing::Topology& topo, Ipv4Address bind, const TestMnOptions& o) {
    auto guard = topo.Enter("mn");  // sockets keep the namespace they were made in
    EXPECT_TRUE(guard.ok());
    AgentSocketOptions so;
    so.bind_address = bind;
    so.port = 0;  // an ephemeral port: two MNs in one namespace
    so.open_ipip = true;
    auto s = OpenAgentSockets(so);
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    sockets_ = std::move(s).value();
    security_ = std::make_unique<mip4::MnHaSecurity>(
        mip4::SecurityAssociation::Create({.spi = o.spi,
                                           .key = SecretBytes(FromHex(o.key_hex).value())})
            .value(),
        WallNow());
    mip4::MobileNodeConfig c;
    c.home_address = o.home;
    c.home_agent = o.home_agent;
    c.requested_lifetime = 120;
    c.reverse_tunnel = o.reverse_tunnel;
    c.udp_tunnel = o.udp;
    c.source_port = sockets_.udp->local().port;
    c.max_retransmissions = 1;
    c.initial_timeout = Duration::Seconds(1);  // the RFC 5944 3.6.3 minimum
    auto e = mip4::MobileNodeRegistration::Create(c, *security_, random_, Logger(&sink_, "mn"));
    EXPECT_TRUE(e.ok()) << e.error().ToString();
    engine_ = std::move(e).value();
  }

  mip4::MobileNodeRegistration& engine() { return *engine_; }

  // Sends what the engine queued, then receives and feeds input until an
  // event arrives or `limit` passes. Decapsulated ICMP echo requests are
  // answered through the engine (reverse tunnel). Returns the event.
  std::optional<mip4::MnEvent> Pump(Duration limit) {
    const Timestamp end = MonoNow() + limit;
    for (;;) {
      Timestamp now = MonoNow();
      while (auto t = engine_->PollTransmit()) {
        Status st = SendTransmit(sockets_, std::move(*t));
        EXPECT_TRUE(st.ok()) << st.error().ToString();
      }
      while (auto inner = engine_->PollDelivery()) AnswerEcho(now, *inner);
      if (auto ev = engine_->PollEvent()) {
        if (!std::holds_alternative<mip4::AgentAdvertisedEvent>(*ev)) return ev;
        continue;
      }
      if (now >= end) return std::nullopt;
      if (engine_->NextTimeout() <= now) {
        engine_->OnTimeout(now);
        continue;
      }
      pollfd fds[2] = {{sockets_.udp->fd(), POLLIN, 0}, {sockets_.ipip->fd(), POLLIN, 0}};
      poll(fds, 2, 20);
      auto n = sockets_.udp->RecvBatch(rx_.slots());
      if (n.ok()) {
        for (std::size_t i = 0; i < *n; ++i) {
          (void)engine_->OnUdp(MonoNow(), ToUdpReceived(rx_.slots()[i]));
        }
      }
      auto m = sockets_.ipip->RecvBatch(rx_.slots());
      if (m.ok()) {
        for (std::size_t i = 0; i < *m; ++i) {
          (void)engine_->OnIpPacket(MonoNow(), rx_.slots()[i].ifindex, rx_.slots()[i].data());
        }
      }
    }
  }

  int echoes_answered() const { return echoes_; }

 private:
  void AnswerEcho(Timestamp now, const Bytes& inner) {
    auto ip = ip::ParseIpv4(inner);
    if (!ip.ok() || ip->header.protocol != ip::kProtoIcmp) return;
    Bytes icmp(ip->payload.begin(), ip->payload.end());
    if (icmp.size() < 8 || icmp[0] != 8) return;  // echo request
    icmp[0] = 0;                                   // echo reply
    icmp[2] = icmp[3] = 0;
    std::uint16_t sum = InternetChecksum(icmp);
    icmp[2] = static_cast<std::uint8_t>(sum >> 8);
    icmp[3] = static_cast<std::uint8_t>(sum);
    ip::Ipv4Header h;
    h.protocol = ip::kProtoIcmp;
    h.src = ip->header.dst;
    h.dst = ip->header.src;
    auto reply = ip::BuildIpv4(h, icmp);
    ASSERT_TRUE(reply.ok());
    Status st = engine_->SendPacket(now, *reply);
    EXPECT_TRUE(st.ok()) << st.error().ToString();
    ++echoes_;
  }

  AgentSockets sockets_;
  RecvBuffers rx_{16, 2048};
  DeterministicRandom random_{42};
  MemorySink sink_;
  std::unique_ptr<mip4::MnHaSecurity> security_;
  std::unique_ptr<mip4::MobileNodeRegistration> engine_;
  int echoes_ = 0;
};

}  // namespace mipsec::mip4d

#endif  // MIPSEC_PLATFORM_LINUX_MIP4_TEST_MN_H_

// Test-only fixture for MobileNodeRegistration: an engine, its shared
// security state, the tiny test HA, and helpers to drain outputs and to run
// request/reply exchanges in virtual time.
#ifndef MIPSEC_MIP4_MN_REG_MN_TEST_UTIL_H_
#define MIPSEC_MIP4_MN_REG_MN_TEST_UTIL_H_

#include <memory>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "common/log.h"
#include "common/random.h"
#include "mip4/mn_reg/registration.h"
#include "mip4/mn_reg/test_home_agent.h"

namespace mipsec::mip4::testing {

inline Timestamp At(double seconds) {
  return Timestamp::FromNanos(static_cast<std::int64_t>(seconds * 1e9));
}

inline constexpr int kIf = 3;  // the interface the tests register on

class MnFixture : public ::testing::Test {
 protected:
  static MobileNodeConfig DefaultConfig() {
    MobileNodeConfig c;
    c.home_address = Addr("10.1.0.5");
    c.home_agent = Addr("10.1.0.1");
    c.requested_lifetime = 300;
    c.udp_tunnel = UdpTunnelPolicy::kNever;
    c.max_retransmissions = 3;
    c.initial_timeout = Duration::Seconds(1);
    c.max_timeout = Duration::Seconds(30);
    c.reregister_margin = Duration::Seconds(15);
    c.discovery.jitter = 0;
    return c;
  }

  void Make(ReplayMethod method = ReplayMethod::kTimestamp,
            const MobileNodeConfig& config = DefaultConfig(), TestHaOptions ha = {}) {
    sec_ = std::make_unique<MnHaSecurity>(MakeSa(method),
                                          WallClockMapping{Timestamp::Zero(), kUnixBase});
    mn_ = std::move(MobileNodeRegistration::Create(config, *sec_, rng_,
                                                   Logger(&sink_, "mn", LogLevel::kDebug)))
              .value();
    ha_ = std::make_unique<TestHomeAgent>(method, std::move(ha));
  }

  // Every pending transmission.
  std::vector<Transmit> Drain() {
    std::vector<Transmit> out;
    while (std::optional<Transmit> t = mn_->PollTransmit()) out.push_back(std::move(*t));
    return out;
  }
  std::vector<UdpTransmit> DrainUdp() {
    std::vector<UdpTransmit> out;
    for (Transmit& t : Drain()) {
      if (auto* u = std::get_if<UdpTransmit>(&t)) out.push_back(std::move(*u));
    }
    return out;
  }
  UdpTransmit OneUdp() {
    std::vector<UdpTransmit> v = DrainUdp();
    EXPECT_EQ(v.size(), 1u);
    return v.empty() ? UdpTransmit{} : v.front();
  }
  std::vector<MnEvent> Events() {
    std::vector<MnEvent> out;
    while (std::optional<MnEvent> e = mn_->PollEvent()) out.push_back(std::move(*e));
    return out;
  }
  template <typename T>
  std::vector<T> EventsOf() {
    std::vector<T> out;
    for (MnEvent& e : Events()) {
      if (auto* x = std::get_if<T>(&e)) out.push_back(std::move(*x));
    }
    return out;
  }

  // Feeds every pending request to the test HA and its replies back to the
  // MN at `now`. Returns the number of replies delivered.
  int Exchange(Timestamp now) {
    int n = 0;
    for (UdpTransmit& t : DrainUdp()) {
      if (t.remote.address != ha_->options().address) continue;
      std::optional<Bytes> reply = ha_->HandleTransmit(now, t);
      if (!reply) continue;
      last_reply_ = *reply;
      last_status_ = mn_->OnUdp(now, ReplyFor(t, *reply));
      ++n;
    }
    return n;
  }

  // Runs timers up to `until` (inclusive), firing each deadline in order.
  void RunUntil(Timestamp until) {
    while (mn_->NextTimeout() <= until) mn_->OnTimeout(mn_->NextTimeout());
  }

  // Registers co-located at `now` and completes the exchange.
  RegisteredEvent RegisterNow(Timestamp now, Ipv4Address coa = Addr("192.0.2.10")) {
    EXPECT_TRUE(mn_->RegisterColocated(now, coa, kIf).ok());
    EXPECT_EQ(Exchange(now), 1);
    std::vector<RegisteredEvent> r = EventsOf<RegisteredEvent>();
    EXPECT_EQ(r.size(), 1u);
    return r.empty() ? RegisteredEvent{} : r.front();
  }

  DeterministicRandom rng_{7};
  MemorySink sink_;
  std::unique_ptr<MnHaSecurity> sec_;
  std::unique_ptr<MobileNodeRegistration> mn_;
  std::unique_ptr<TestHomeAgent> ha_;
  Bytes last_reply_;
  Status last_status_;
};

}  // namespace mipsec::mip4::testing

#endif  // MIPSEC_MIP4_MN_REG_MN_TEST_UTIL_H_

// Test harness for IKE SA choreography tests: two IkeSaManagers (an
// initiator side and a responder side) wired through an in-test exchanger
// that carries datagrams both ways one at a time, so a test can deliver,
// drop, duplicate or hold back any message and jump virtual time to the next
// timer. An optional NAT between them rewrites the initiator's address and
// ports (the initiator sits at 10.0.0.2, the NAT's public side is
// 198.51.100.7). Test-only; not part of any library.
#ifndef MIPSEC_IKEV2_SA_IKE_SA_TEST_UTIL_H_
#define MIPSEC_IKEV2_SA_IKE_SA_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <string>
#include <variant>
#include <vector>

#include "common/random.h"
#include "common/time.h"
#include "ikev2/codec/header.h"
#include "ikev2/sa/config.h"
#include "ikev2/sa/ike_sa_manager.h"
#include "ikev2/sa/traffic_selectors.h"

namespace mipsec::ikev2::test {

inline const Ipv4Address kInitiatorIp = Ipv4Address::FromOctets(10, 0, 0, 2);
inline const Ipv4Address kNatPublicIp = Ipv4Address::FromOctets(198, 51, 100, 7);
inline const Ipv4Address kResponderIp = Ipv4Address::FromOctets(203, 0, 113, 1);
inline const Ipv4Prefix kIntranet = Ipv4Prefix::Parse("10.1.0.0/16").value();

// A TIA pool for tests: 10.2.0.1, .2, ... per identity, same address again
// for the same identity.
class TestAddressPool final : public AddressProvider {
 public:
  std::optional<Ipv4Address> Acquire(const IdPayload& id,
                                     std::optional<Ipv4Address> /*requested*/) override {
    if (exhausted) return std::nullopt;
    const std::string key(id.data.begin(), id.data.end());
    auto it = leases.find(key);
    if (it == leases.end()) {
      it = leases.emplace(key, Ipv4Address::FromOctets(10, 2, 0, next++)).first;
    }
    ++acquired;
    return it->second;
  }
  void Release(const IdPayload& /*id*/, Ipv4Address /*a*/) override { ++released; }

  bool exhausted = false;
  std::map<std::string, Ipv4Address> leases;
  std::uint8_t next = 1;
  int acquired = 0;
  int released = 0;
};

inline PeerConfig InitiatorPskConfig() {
  PeerConfig c;
  c.local_id = IdPayload::Fqdn("mn.example.org");
  c.remote_id = IdPayload::Fqdn("gw.example.org");
  c.local_auth.kind = AuthKind::kPsk;
  c.local_auth.psk = SecretBytes(AsBytes("a shared secret for the tests"));
  c.remote_auth.kind = AuthKind::kPsk;
  c.remote_auth.psk = c.local_auth.psk;
  c.ike_proposals = DefaultIkeProposals();
  c.esp_proposals = DefaultEspProposals();
  c.local_ts = {AnyIpv4Selector()};
  c.remote_ts = {TrafficSelector::Ipv4Prefix(kIntranet)};
  c.request_virtual_ip = true;
  return c;
}

inline PeerConfig ResponderPskConfig(AddressProvider* pool) {
  PeerConfig c;
  c.local_id = IdPayload::Fqdn("gw.example.org");
  c.local_auth.kind = AuthKind::kPsk;
  c.local_auth.psk = SecretBytes(AsBytes("a shared secret for the tests"));
  c.remote_auth.kind = AuthKind::kPsk;
  c.remote_auth.psk = c.local_auth.psk;
  c.ike_proposals = DefaultIkeProposals();
  c.esp_proposals = DefaultEspProposals();
  c.local_ts = {TrafficSelector::Ipv4Prefix(kIntranet)};
  c.remote_ts = {AnyIpv4Selector()};
  c.address_provider = pool;
  c.virtual_ip_netmask = Ipv4Address::FromOctets(255, 255, 255, 0);
  c.virtual_ip_dns = {Ipv4Address::FromOctets(10, 1, 0, 53)};
  return c;
}

// What an in-flight datagram carries, for assertions.
struct Seen {
  ExchangeType exchange;
  bool response;
  std::uint32_t message_id;
  bool marker;  // started with the non-ESP marker
};

class Exchanger {
 public:
  Exchanger(PeerConfig initiator, IkeSaManagerConfig responder)
      : initiator_config_(std::move(initiator)),
        rng_i_(1),
        rng_r_(2),
        i_(IkeSaManagerConfig{}, rng_i_, Logger(&log_, "ike.i", LogLevel::kDebug)),
        r_(std::move(responder), rng_r_, Logger(&log_, "ike.r", LogLevel::kDebug)) {}

  // Starts the initiator's IKE SA (from 10.0.0.2:500 to 203.0.113.1:500).
  IkeSa* Connect() {
    Result<IkeSa*> sa = i_.Initiate(now_, initiator_config_, {kInitiatorIp, kIkePort},
                                    {kResponderIp, kIkePort});
    EXPECT_TRUE(sa.ok()) << (sa.ok() ? "" : sa.error().ToString());
    Pump();
    return sa.ok() ? *sa : nullptr;
  }

  // Collects output and events of both sides into the queues/logs.
  void Pump() {
    for (;;) {
      bool any = false;
      while (std::optional<IkeTransmit> t = i_.PollTransmit()) {
        any = true;
        if (Unreachable(t->local.address) || Unreachable(t->remote.address)) {
          ++blackholed;
          continue;
        }
        if (t->keepalive) {
          keepalives_i.push_back(std::move(*t));
        } else {
          to_r.push_back(Nat(std::move(*t)));
        }
      }
      while (std::optional<IkeTransmit> t = r_.PollTransmit()) {
        any = true;
        if (Unreachable(t->local.address) || Unreachable(UnNat(*t).remote.address)) {
          ++blackholed;
          continue;
        }
        if (t->keepalive) {
          keepalives_r.push_back(std::move(*t));
        } else {
          to_i.push_back(std::move(*t));
        }
      }
      while (std::optional<IkeSaManager::Event> e = i_.PollEvent()) events_i.push_back(*e);
      while (std::optional<IkeSaManager::Event> e = r_.PollEvent()) events_r.push_back(*e);
      if (!any) return;
    }
  }

  static Seen Inspect(const IkeTransmit& t) {
    ByteSpan b = t.payload;
    const bool marker = b.size() >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0;
    if (t.local.port == kNattPort || t.remote.port == kNattPort) b = b.subspan(4);
    Result<IkeHeader> h = DecodeHeader(b);
    EXPECT_TRUE(h.ok());
    if (!h.ok()) return Seen{ExchangeType::kInformational, false, 0xffffffff, marker};
    return Seen{h->exchange, h->response, h->message_id, marker};
  }

  // Expects the next datagram toward the responder (or initiator) to be
  // `exchange` request/response `mid`.
  void ExpectToR(ExchangeType exchange, bool response, std::uint32_t mid) {
    ASSERT_FALSE(to_r.empty()) << "nothing in flight to the responder";
    const Seen s = Inspect(to_r.front());
    EXPECT_EQ(s.exchange, exchange);
    EXPECT_EQ(s.response, response);
    EXPECT_EQ(s.message_id, mid);
  }
  void ExpectToI(ExchangeType exchange, bool response, std::uint32_t mid) {
    ASSERT_FALSE(to_i.empty()) << "nothing in flight to the initiator";
    const Seen s = Inspect(to_i.front());
    EXPECT_EQ(s.exchange, exchange);
    EXPECT_EQ(s.response, response);
    EXPECT_EQ(s.message_id, mid);
  }

  void DeliverToR() {
    ASSERT_FALSE(to_r.empty());
    IkeTransmit t = std::move(to_r.front());
    to_r.pop_front();
    r_.OnDatagram(now_, t.remote, t.local, t.payload);
    Pump();
  }
  void DeliverToI() {
    ASSERT_FALSE(to_i.empty());
    IkeTransmit t = UnNat(std::move(to_i.front()));
    to_i.pop_front();
    i_.OnDatagram(now_, t.remote, t.local, t.payload);
    Pump();
  }
  void DropToR() {
    ASSERT_FALSE(to_r.empty());
    to_r.pop_front();
  }
  void DropToI() {
    ASSERT_FALSE(to_i.empty());
    to_i.pop_front();
  }
  void DuplicateToR() {
    ASSERT_FALSE(to_r.empty());
    to_r.push_front(to_r.front());
  }
  void DuplicateToI() {
    ASSERT_FALSE(to_i.empty());
    to_i.push_front(to_i.front());
  }

  // Delivers everything in flight both ways until nothing is left.
  void RunUntilQuiet(int max_steps = 100) {
    for (int n = 0; n < max_steps && (!to_r.empty() || !to_i.empty()); ++n) {
      if (!to_r.empty()) DeliverToR();
      if (!to_i.empty()) DeliverToI();
    }
  }

  Timestamp NextTimeout() const { return std::min(i_.NextTimeout(), r_.NextTimeout()); }
  // Jumps to the next timer of either side and fires it.
  Duration AdvanceToNextTimer() {
    const Timestamp t = NextTimeout();
    EXPECT_FALSE(t.IsInfinite());
    const Duration d = t - now_;
    AdvanceTo(t);
    return d;
  }
  void AdvanceTo(Timestamp t) {
    now_ = t;
    i_.OnTimeout(now_);
    r_.OnTimeout(now_);
    Pump();
  }
  void Advance(Duration d) { AdvanceTo(now_ + d); }

  IkeSa* FirstSa(IkeSaManager& m) {
    for (std::uint64_t id = 1; id < 100; ++id) {
      if (IkeSa* sa = m.Find(id)) return sa;
    }
    return nullptr;
  }
  IkeSa* InitiatorSa() { return FirstSa(i_); }
  IkeSa* ResponderSa() { return FirstSa(r_); }

  template <typename T>
  std::vector<T> EventsOf(const std::vector<IkeSaManager::Event>& log) const {
    std::vector<T> out;
    for (const auto& e : log) {
      if (const T* t = std::get_if<T>(&e.event)) out.push_back(*t);
    }
    return out;
  }
  template <typename T>
  std::vector<T> EventsI() const {
    return EventsOf<T>(events_i);
  }
  template <typename T>
  std::vector<T> EventsR() const {
    return EventsOf<T>(events_r);
  }

  // NAT between the initiator and the network: source `nat_private`:p goes
  // out as 198.51.100.7:(p + nat_port_offset), and back.
  bool nat = false;
  Ipv4Address nat_private = kInitiatorIp;
  std::uint16_t nat_port_offset = 40000;
  // Datagrams from or to these addresses are lost (counted in blackholed).
  std::vector<Ipv4Address> unreachable;
  std::size_t blackholed = 0;

  Timestamp now() const { return now_; }
  IkeSaManager& initiator() { return i_; }
  IkeSaManager& responder() { return r_; }
  MemorySink& log() { return log_; }

  std::deque<IkeTransmit> to_r, to_i;
  std::vector<IkeTransmit> keepalives_i, keepalives_r;
  std::vector<IkeSaManager::Event> events_i, events_r;

 private:
  bool Unreachable(Ipv4Address a) const {
    return std::find(unreachable.begin(), unreachable.end(), a) != unreachable.end();
  }
  IkeTransmit Nat(IkeTransmit t) const {
    if (nat && t.local.address == nat_private) {
      t.local = {kNatPublicIp, static_cast<std::uint16_t>(t.local.port + nat_port_offset)};
    }
    return t;
  }
  IkeTransmit UnNat(IkeTransmit t) const {
    if (nat && t.remote.address == kNatPublicIp) {
      t.remote = {nat_private, static_cast<std::uint16_t>(t.remote.port - nat_port_offset)};
    }
    return t;
  }

  PeerConfig initiator_config_;
  MemorySink log_;
  DeterministicRandom rng_i_;
  DeterministicRandom rng_r_;
  IkeSaManager i_;
  IkeSaManager r_;
  Timestamp now_ = Timestamp::FromNanos(1'000'000'000);
};

// A manager config whose responder is ResponderPskConfig(pool).
inline IkeSaManagerConfig Responder(TestAddressPool& pool) {
  IkeSaManagerConfig c;
  c.responder = ResponderPskConfig(&pool);
  return c;
}

// Brings both sides up through x.Connect() and returns {initiator, responder};
// the events of the setup stay in x.events_i / x.events_r.
inline std::pair<IkeSa*, IkeSa*> Establish(Exchanger& x) {
  IkeSa* i = x.Connect();
  x.RunUntilQuiet();
  IkeSa* r = x.ResponderSa();
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_NE(r, nullptr);
  if (r != nullptr) {
    EXPECT_EQ(r->state(), IkeSaState::kEstablished);
  }
  return {i, r};
}

// Establish(), then forgets the setup's events.
inline std::pair<IkeSa*, IkeSa*> EstablishQuiet(Exchanger& x) {
  auto sas = Establish(x);
  x.events_i.clear();
  x.events_r.clear();
  return sas;
}

}  // namespace mipsec::ikev2::test

#endif  // MIPSEC_IKEV2_SA_IKE_SA_TEST_UTIL_H_

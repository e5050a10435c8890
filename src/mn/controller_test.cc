// MnController choreography tests: the controller with real Mobile IPv4
// registration engines against the real home agent core (mip4::HomeAgent,
// an RFC 5265 i-HA with trusted subnets), over a small timed network model.
// The VPN side is the runtime's: the model answers the controller's
// VpnCommands as an IKE initiator would report them (the simulator tests
// run the real IKEv2 stack). Each test names the MISSION.md requirement it
// checks.
#include "mn/controller.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip/ipv4.h"
#include "common/log.h"
#include "common/random.h"
#include "common/secret.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/codec/registration_request.h"
#include "mip4/ha/home_agent.h"
#include "mip4/security/sa_database.h"
#include "mip4/security/security_association.h"

namespace mipsec::mn {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }
Ipv4Prefix P(const char* s) { return *Ipv4Prefix::Parse(s); }

const Ipv4Address kHome = A("10.1.0.10");
const Ipv4Address kHa = A("10.1.0.2");
const Ipv4Address kGw = A("192.0.2.2");
const Ipv4Address kGw2 = A("192.0.2.3");
const Ipv4Address kTia = A("10.10.0.5");
const Ipv4Address kTia2 = A("10.10.0.6");
const Ipv4Address kInside1 = A("10.2.0.100");
const Ipv4Address kInside2 = A("10.2.0.101");
const Ipv4Address kOutside1 = A("203.0.113.100");
const Ipv4Address kOutside2 = A("192.168.1.100");
const Ipv4Address kFa = A("10.4.0.1");
const Ipv4Address kCn = A("10.0.0.100");
constexpr int kEth0 = 2;
constexpr int kWlan0 = 3;
constexpr int kTun = 9;
constexpr std::uint32_t kSpi = 0x1000;
constexpr std::int64_t kUnixBase = 1'700'000'000LL * 1'000'000'000LL;

Timestamp Ms(double ms) { return Timestamp::FromNanos(static_cast<std::int64_t>(ms * 1e6)); }

mip4::SecurityAssociation Sa(std::uint8_t key_byte = 0x5a) {
  mip4::SecurityAssociationParams p;
  p.spi = kSpi;
  p.key = SecretBytes(Bytes(16, key_byte));
  p.replay = mip4::ReplayMethod::kTimestamp;
  return std::move(mip4::SecurityAssociation::Create(std::move(p))).value();
}

// Where an interface is attached in the model.
enum class Net : std::uint8_t { kNone, kInside, kOutside, kHomeLink };

// A small timed network: every message is delivered after its path's
// one-way delay. Inside links reach the HA directly (and the gateway);
// outside links reach only the gateway, whose tunnel reaches the HA.
class World {
 public:
  Duration direct_delay = Duration::Millis(2);   // MN <-> i-HA, inside
  Duration gw_delay = Duration::Millis(10);      // MN <-> gateway
  Duration gw_ha_delay = Duration::Millis(1);    // gateway <-> i-HA
  bool gw_reachable_inside = true;
  bool answer_vpn = true;           // the gateway answers IKE at all
  Ipv4Address next_tia = kTia;
  Ipv4Address gateway = kGw;
  // Source NAT for direct registrations from this interface (R16).
  std::map<int, Ipv4Address> nat;
  std::vector<Ipv4Prefix> extra_trusted;
  bool ha_rfc5265 = true;  // false: a plain RFC 5944 HA, never a TNC
  bool ha_silent = false;  // the i-HA receives nothing (e.g. it went away)
  ControllerConfig config;

  World() {
    config.mip.home_address = kHome;
    config.mip.home_agent = kHa;
    config.mip.requested_lifetime = 600;
    config.mip.max_retransmissions = 2;
    config.mip.initial_timeout = Duration::Seconds(1);
    config.mip.udp_tunnel = mip4::UdpTunnelPolicy::kRequest;
    config.mip.discovery.jitter = 0;
  }

  void Start(std::uint8_t ha_key = 0x5a) {
    mip4::HomeAgentOptions o;
    o.address = kHa;
    o.home_network = P("10.1.0.0/24");
    o.max_lifetime = 600;
    o.rfc5265_trusted_networks = ha_rfc5265;
    // RFC 5265 4.3: the intranet subnets and the VPN's TIA pool.
    o.trusted_subnets = {P("10.1.0.0/24"), P("10.2.0.0/24"), P("10.4.0.0/24"),
                         P("10.10.0.0/24")};
    for (const Ipv4Prefix& p : extra_trusted) o.trusted_subnets.push_back(p);
    o.wall_clock = mip4::WallClockMapping{Timestamp::Zero(), kUnixBase};
    o.home_ifindex = 1;
    ASSERT_TRUE(sas_.AddMobileNode(kHome, "", [&] {
                      std::vector<mip4::SecurityAssociation> v;
                      v.push_back(Sa(ha_key));
                      return v;
                    }())
                    .ok());
    auto ha = mip4::HomeAgent::Create(o, sas_, ha_rng_, Logger(&sink_, "ha", LogLevel::kDebug));
    ASSERT_TRUE(ha.ok()) << ha.error().ToString();
    ha_ = std::move(*ha);
    auto mn = MnController::Create(config, Sa(), {Timestamp::Zero(), kUnixBase}, kTun, mn_rng_,
                                   Logger(&sink_, "mn", LogLevel::kDebug));
    ASSERT_TRUE(mn.ok()) << mn.error().ToString();
    mn_ = std::move(*mn);
  }

  // ---- The MN's links ----
  void Attach(int ifindex, Net net, std::optional<Ipv4Address> address, std::string domain = "") {
    attached_[ifindex] = net;
    mn_->OnLinkUp(now_, ifindex, ifindex == kEth0 ? "eth0" : "wlan0");
    Drain();
    if (address) Lease(ifindex, *address, std::move(domain));
  }
  void Lease(int ifindex, Ipv4Address address, std::string domain = "") {
    addresses_[ifindex] = address;
    AddressInfo info;
    info.address = address;
    info.domain = std::move(domain);
    ASSERT_TRUE(mn_->OnAddress(now_, ifindex, info).ok());
    Drain();
  }
  void Detach(int ifindex) {
    attached_[ifindex] = Net::kNone;
    addresses_.erase(ifindex);
    mn_->OnLinkDown(now_, ifindex);
    Drain();
  }
  void Move(int ifindex, Net net, Ipv4Address address, std::string domain = "") {
    Detach(ifindex);
    Attach(ifindex, net, address, std::move(domain));
  }

  // ---- Time ----
  void RunUntil(Timestamp until) {
    for (;;) {
      Timestamp next = std::min({mn_->NextTimeout(), ha_->NextTimeout(), NextMessage()});
      if (next > until) break;
      now_ = std::max(now_, next);
      if (!queue_.empty() && queue_.begin()->first <= now_) {
        auto it = queue_.begin();
        std::function<void()> f = std::move(it->second);
        queue_.erase(it);
        f();
      } else if (mn_->NextTimeout() <= now_) {
        mn_->OnTimeout(now_);
      } else {
        ha_->OnTimeout(now_);
      }
      Drain();
    }
    now_ = std::max(now_, until);
  }
  void RunFor(Duration d) { RunUntil(now_ + d); }

  // A user datagram from the home address to the CN.
  SendVerdict SendUser() {
    Bytes payload(20, 0x42);
    ip::Ipv4Header h;
    h.protocol = 17;
    h.src = kHome;
    h.dst = kCn;
    Bytes dgram = *ip::BuildIpv4(h, payload);
    Result<SendVerdict> v = mn_->SendPacket(now_, dgram);
    EXPECT_TRUE(v.ok());
    Drain();
    return v.ok() ? *v : SendVerdict::kBlocked;
  }

  // ---- What happened ----
  struct Sent {
    Timestamp at;
    int ifindex = 0;  // kTun: through the tunnel
    Ipv4Address src, dst;
    bool registration = false;  // UDP to port 434 with type 1
    bool user = false;          // IP-in-IP or UDP tunnel data from the MN
    std::optional<std::uint16_t> lifetime;  // a registration's (0: deregistration)
    Ipv4Address care_of;                    // a registration's care-of address
  };
  std::vector<Sent> sent;
  std::vector<std::pair<Timestamp, VpnCommand>> commands;
  std::vector<ControllerEvent> events;

  std::vector<Sent> Registrations(int ifindex) const {
    std::vector<Sent> v;
    for (const Sent& s : sent) {
      if (s.registration && s.ifindex == ifindex) v.push_back(s);
    }
    return v;
  }
  std::vector<VpnCommand::Kind> CommandKinds() const {
    std::vector<VpnCommand::Kind> v;
    for (const auto& [at, c] : commands) v.push_back(c.kind);
    return v;
  }
  std::optional<Timestamp> FirstPlane(DataPlane p, Timestamp after = Timestamp::Zero()) const {
    for (const ControllerEvent& e : events) {
      if (e.kind == ControllerEvent::Kind::kDataPlane && e.plane == p && e.at >= after) return e.at;
    }
    return std::nullopt;
  }
  bool HasRequirement(const std::string& r) const {
    for (const ControllerEvent& e : events) {
      if (e.requirement.find(r) != std::string::npos) return true;
    }
    return false;
  }

  Timestamp now() const { return now_; }
  MnController& mn() { return *mn_; }
  mip4::HomeAgent& ha() { return *ha_; }
  MemorySink& sink() { return sink_; }
  bool vpn_up() const { return vpn_local_.has_value(); }

  // Delivers a crafted datagram to the MN as if received on `ifindex`.
  Status Inject(int ifindex, Ipv4Endpoint from, Ipv4Endpoint to, const Bytes& payload) {
    mip4::UdpReceived rx;
    rx.local = to;
    rx.remote = from;
    rx.ifindex = ifindex;
    rx.payload = payload;
    Status s = mn_->OnUdp(now_, rx);
    Drain();
    return s;
  }
  // This world's HA answers `request` (from src:434) at once; its reply.
  Bytes AnswerDirectly(const Bytes& request, Ipv4Address src) {
    mip4::UdpReceived rx;
    rx.local = {kHa, mip4::kMipPort};
    rx.remote = {src, mip4::kMipPort};
    rx.payload = request;
    ha_->OnUdp(now_, rx);
    last_reply_.clear();
    while (auto t = ha_->PollTransmit()) {
      if (auto* u = std::get_if<mip4::UdpTransmit>(&*t)) last_reply_ = u->payload;
    }
    return last_reply_;
  }
  // The last registration reply the HA sent (raw).
  const Bytes& last_reply() const { return last_reply_; }

  void Drain() {
    while (auto t = mn_->PollTransmit()) FromMn(std::move(*t));
    while (auto c = mn_->PollVpnCommand()) OnCommand(std::move(*c));
    while (auto e = mn_->PollEvent()) events.push_back(std::move(*e));
    while (auto t = ha_->PollTransmit()) FromHa(std::move(*t));
    while (auto e = ha_->PollEvent()) {
    }
  }

 private:
  Timestamp NextMessage() const {
    return queue_.empty() ? Timestamp::Infinite() : queue_.begin()->first;
  }
  void At(Timestamp t, std::function<void()> f) {
    // Keep insertion order among equal times.
    while (queue_.count(t)) t = t + Duration::Nanos(1);
    queue_.emplace(t, std::move(f));
  }
  Net NetOf(int ifindex) const {
    auto it = attached_.find(ifindex);
    return it == attached_.end() ? Net::kNone : it->second;
  }
  bool Reaches(int ifindex, Ipv4Address src) const {
    auto it = addresses_.find(ifindex);
    return it != addresses_.end() && it->second == src;
  }

  void FromMn(mip4::Transmit t) {
    if (auto* u = std::get_if<mip4::UdpTransmit>(&t)) {
      int ifindex = u->ifindex.value_or(0);
      bool tunnel = ifindex == kTun;
      Sent s{now_, ifindex, u->local.address, u->remote.address,
             !u->payload.empty() && u->payload[0] == 1, !u->payload.empty() && u->payload[0] == 4,
             std::nullopt, Ipv4Address()};
      if (s.registration) {
        if (auto q = mip4::ParseRegistrationRequest(u->payload); q.ok()) {
          s.lifetime = q->request.lifetime;
          s.care_of = q->request.care_of_address;
        }
      }
      sent.push_back(s);
      if (ha_silent) return;
      if (u->remote.address == kFa) {
        RelayViaFa(*u);
        return;
      }
      if (u->remote.address != kHa) return;
      mip4::UdpReceived rx;
      rx.local = u->remote;
      rx.remote = u->local;
      Duration d;
      if (tunnel) {
        if (!vpn_local_ || !vpn_tia_ || u->local.address != *vpn_tia_) return;
        d = gw_delay + gw_ha_delay;
      } else {
        Net n = NetOf(ifindex);
        if (n != Net::kInside && n != Net::kHomeLink) return;  // the firewall drops it
        if (!Reaches(ifindex, u->local.address) && u->local.address != kHome) return;
        if (auto it = nat.find(ifindex); it != nat.end()) rx.remote.address = it->second;
        d = direct_delay;
      }
      Bytes payload = u->payload;
      At(now_ + d, [this, rx, payload, ifindex, tunnel]() mutable {
        rx.payload = payload;
        reply_path_[rx.remote] = {ifindex, tunnel, rx.remote};
        ha_->OnUdp(now_, rx);
      });
      return;
    }
    auto& ip = std::get<mip4::IpTransmit>(t);
    auto parsed = ip::ParseIpv4(ip.packet);
    if (!parsed.ok()) return;
    int ifindex = ip.ifindex.value_or(0);
    if (parsed->header.protocol == 1) {
      // Agent solicitations reach the HA on the home link.
      if (NetOf(ifindex) == Net::kHomeLink) {
        Bytes pkt = ip.packet;
        At(now_ + direct_delay, [this, pkt] { ha_->OnIcmp(now_, 1, pkt); });
      }
      return;
    }
    if (ifindex == 0 && vpn_tia_ && parsed->header.src == *vpn_tia_) ifindex = kTun;
    sent.push_back(Sent{now_, ifindex, parsed->header.src, parsed->header.dst, false,
                        parsed->header.protocol == 4, std::nullopt, Ipv4Address()});
  }

  void RelayViaFa(const mip4::UdpTransmit& u) {
    // The FA relays the request to the HA from its own address (RFC 5944
    // 3.7.1), and the HA's reply back to the home address on the link.
    if (NetOf(kEth0) != Net::kInside) return;
    mip4::UdpReceived rx;
    rx.local = {kHa, mip4::kMipPort};
    rx.remote = {kFa, mip4::kMipPort};
    Bytes payload = u.payload;
    fa_client_ = u.local;
    At(now_ + direct_delay, [this, rx, payload]() mutable {
      rx.payload = payload;
      reply_path_[rx.remote] = {kEth0, false, rx.remote, true};
      ha_->OnUdp(now_, rx);
    });
  }

  void FromHa(mip4::Transmit t) {
    auto* u = std::get_if<mip4::UdpTransmit>(&t);
    if (!u) {
      auto& ip = std::get<mip4::IpTransmit>(t);
      auto parsed = ip::ParseIpv4(ip.packet);
      // Agent advertisements reach an MN interface on the home link.
      if (parsed.ok() && parsed->header.protocol == 1) {
        for (const auto& [ifindex, n] : attached_) {
          if (n != Net::kHomeLink) continue;
          Bytes pkt = ip.packet;
          int idx = ifindex;
          At(now_ + direct_delay, [this, idx, pkt] { (void)mn_->OnIpPacket(now_, idx, pkt); });
        }
      }
      return;
    }
    if (!u->payload.empty() && u->payload[0] == 3) last_reply_ = u->payload;
    auto it = reply_path_.find(u->remote);
    if (it == reply_path_.end()) return;
    Path p = it->second;
    mip4::UdpReceived rx;
    rx.local = p.via_fa ? Ipv4Endpoint{kHome, mip4::kMipPort} : u->remote;
    if (!p.via_fa && nat.count(p.ifindex)) rx.local = {addresses_[p.ifindex], u->remote.port};
    rx.remote = p.via_fa ? Ipv4Endpoint{kFa, mip4::kMipPort} : u->local;
    rx.ifindex = p.tunnel ? kTun : p.ifindex;
    Duration d = p.tunnel ? gw_delay + gw_ha_delay : direct_delay;
    Bytes payload = u->payload;
    At(now_ + d, [this, rx, payload, p]() mutable {
      // The path must still exist when the reply arrives.
      if (p.tunnel ? !vpn_local_ : (NetOf(p.ifindex) != Net::kInside &&
                                    NetOf(p.ifindex) != Net::kHomeLink)) {
        return;
      }
      rx.payload = payload;
      (void)mn_->OnUdp(now_, rx);
      Drain();
    });
  }

  void OnCommand(VpnCommand c) {
    commands.emplace_back(now_, c);
    if (c.kind == VpnCommand::Kind::kDisconnect) {
      vpn_local_.reset();
      vpn_tia_.reset();
      return;
    }
    if (!c.preferred) return;
    Ipv4Address local = *c.preferred;
    int ifindex = 0;
    for (const auto& [i, a] : addresses_) {
      if (a == local) ifindex = i;
    }
    Net n = NetOf(ifindex);
    bool reachable = answer_vpn && (n == Net::kOutside || (n != Net::kNone && gw_reachable_inside));
    if (c.kind == VpnCommand::Kind::kConnect) {
      if (!reachable) {
        // IKE_SA_INIT retransmissions give up after a while.
        std::uint64_t gen = ++vpn_gen_;
        At(now_ + Duration::Seconds(10), [this, gen] {
          if (gen != vpn_gen_) return;
          mn_->OnVpnDown(now_, "test: no answer to IKE_SA_INIT");
          Drain();
        });
        return;
      }
      // IKE_SA_INIT + IKE_AUTH: two round trips.
      std::uint64_t gen = ++vpn_gen_;
      At(now_ + (gw_delay + gw_delay) * 2, [this, local, gen] {
        if (gen != vpn_gen_) return;
        vpn_local_ = local;
        vpn_tia_ = next_tia;
        mn_->OnVpnUp(now_, VpnUp{next_tia, gateway, local});
        Drain();
      });
      return;
    }
    // UPDATE_SA_ADDRESSES: the MOBIKE path moves at once; the gateway's
    // answer comes one round trip later.
    if (!vpn_local_ || !reachable) return;
    vpn_local_ = local;
    std::uint64_t gen = ++vpn_gen_;
    At(now_ + gw_delay + gw_delay, [this, local, gen] {
      if (gen != vpn_gen_) return;
      mn_->OnVpnPathConfirmed(now_, local);
      Drain();
    });
  }

 public:
  // The gateway drops the IKE SA (e.g. restarted); the MN's runtime reports it.
  void VpnLost() {
    vpn_local_.reset();
    vpn_tia_.reset();
    ++vpn_gen_;
    mn_->OnVpnDown(now_, "test: gateway gone");
    Drain();
  }

 private:
  struct Path {
    int ifindex = 0;
    bool tunnel = false;
    Ipv4Endpoint remote;
    bool via_fa = false;
  };
  DeterministicRandom ha_rng_{11};
  DeterministicRandom mn_rng_{12};
  MemorySink sink_;
  mip4::SaDatabase sas_;
  std::unique_ptr<mip4::HomeAgent> ha_;
  std::unique_ptr<MnController> mn_;
  Timestamp now_ = Timestamp::Zero();
  std::multimap<Timestamp, std::function<void()>> queue_;
  std::map<int, Net> attached_;
  std::map<int, Ipv4Address> addresses_;
  std::map<Ipv4Endpoint, Path> reply_path_;
  std::optional<Ipv4Address> vpn_local_, vpn_tia_;
  std::uint64_t vpn_gen_ = 0;
  Bytes last_reply_;
  Ipv4Endpoint fa_client_;
};

// Brings eth0 up outside with the VPN up and the tunnel registered (mc).
void ToMc(World& w, Ipv4Address address = kOutside1) {
  w.Attach(kEth0, Net::kOutside, address);
  w.RunFor(Duration::Millis(200));
  ASSERT_EQ(w.mn().state(kEth0), IfState::kOutside);
  ASSERT_EQ(w.mn().plane(kEth0), DataPlane::kMipInVpn);
}

// ---- Inside: detection, mode c ----

TEST(MnController, R11_R13_R21_R24_InsideOnlyAfterAuthenticatedDirectTncReply) {
  World w;
  w.config.vpn = false;
  w.Start();
  w.Attach(kEth0, Net::kInside, std::nullopt);
  // R21/R13: a connectivity change blocks user data at once.
  EXPECT_EQ(w.mn().state(kEth0), IfState::kDetecting);
  EXPECT_EQ(w.SendUser(), SendVerdict::kBlocked);
  w.Lease(kEth0, kInside1);
  // R11: the probe leaves at once, directly, not through the tunnel.
  auto probes = w.Registrations(kEth0);
  ASSERT_EQ(probes.size(), 1u);
  EXPECT_EQ(probes[0].at, w.now());
  EXPECT_EQ(probes[0].src, kInside1);
  EXPECT_EQ(w.SendUser(), SendVerdict::kBlocked);  // R13: not before the reply
  w.RunFor(Duration::Millis(3));                   // 1 RTT = 4 ms
  EXPECT_EQ(w.mn().state(kEth0), IfState::kDetecting);
  w.RunFor(Duration::Millis(2));
  EXPECT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  EXPECT_EQ(w.mn().mode(), "c");
  // R2: Mobile IPv4 with the co-located CoA; the gap is one RTT to the HA.
  EXPECT_EQ(*w.FirstPlane(DataPlane::kDirectMip), Ms(4));
  EXPECT_EQ(w.SendUser(), SendVerdict::kTunnelled);
  EXPECT_TRUE(w.sent.back().user);
  EXPECT_EQ(w.sent.back().src, kInside1);
  EXPECT_EQ(w.sent.back().dst, kHa);
  EXPECT_EQ(w.ha().Bindings(kHome).size(), 1u);
}

TEST(MnController, R11_ProbeRetransmissionCountAndTimeoutAreConfigurable) {
  World w;
  w.config.vpn = false;
  w.config.mip.max_retransmissions = 4;
  w.config.mip.initial_timeout = Duration::Seconds(2);
  w.config.mip.max_timeout = Duration::Seconds(60);
  w.Start();
  w.Attach(kEth0, Net::kOutside, kOutside1);
  w.RunFor(Duration::Seconds(29));
  EXPECT_EQ(w.mn().state(kEth0), IfState::kDetecting);  // still waiting
  w.RunFor(Duration::Seconds(100));
  // The first probe and 4 retransmissions, 2 s then doubling: 0, 2, 6, 14,
  // 30 s; after one more timeout (32 s) the link is untrusted.
  std::vector<World::Sent> probes = w.Registrations(kEth0);
  ASSERT_EQ(probes.size(), 5u);
  const std::int64_t expect[] = {0, 2, 6, 14, 30};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(probes[i].at - probes[0].at, Duration::Seconds(expect[i])) << i;
  }
  EXPECT_EQ(w.mn().state(kEth0), IfState::kOutside);
  EXPECT_EQ(w.mn().plane(kEth0), DataPlane::kBlocked);  // no VPN configured
}

TEST(MnController, R24_R19_ReplyWithBadAuthenticatorNeverMeansInside) {
  World w;
  w.config.vpn = false;
  w.Start(/*ha_key=*/0x77);  // the HA signs with another key: a forgery
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Seconds(10));
  EXPECT_NE(w.mn().state(kEth0), IfState::kInsideC);
  EXPECT_EQ(w.mn().plane(kEth0), DataPlane::kBlocked);
  EXPECT_EQ(w.SendUser(), SendVerdict::kBlocked);
  EXPECT_GT(w.mn().engine(kEth0)->counters().Dropped(mip4::MnDrop::kAuthFailed) +
                w.mn().engine(kEth0)->counters().Dropped(mip4::MnDrop::kReplay),
            0u);
}

TEST(MnController, R24_AcceptedRegistrationWithoutTncIsNotProof) {
  World w;
  w.ha_rfc5265 = false;  // the HA accepts, but says nothing about trust
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Millis(5));
  EXPECT_EQ(w.mn().state(kEth0), IfState::kDetecting);
  EXPECT_EQ(w.mn().plane(kEth0), DataPlane::kBlocked);
  EXPECT_GE(w.mn().counters().tnc_ignored, 1u);
  // The gateway answers: mc, never c (R24).
  w.RunFor(Duration::Millis(300));
  EXPECT_EQ(w.mn().state(kEth0), IfState::kOutside);
  EXPECT_EQ(w.mn().mode(), "mc");
  EXPECT_EQ(w.ha().Bindings(kHome)[0].care_of_address, kTia);
}

TEST(MnController, R24_ForgedTncReplyFromAnAttackerIsIgnored) {
  World w;
  w.Start();
  ToMc(w);
  // An attacker on the untrusted link saw our probe and answers it with a
  // well-formed reply carrying TNC, authenticated with a key it guessed.
  World attacker;
  attacker.extra_trusted = {P("203.0.113.0/24")};
  attacker.Start(/*ha_key=*/0x77);
  const Bytes* probe = w.mn().engine(kEth0)->last_request();
  ASSERT_NE(probe, nullptr);
  Bytes forged = attacker.AnswerDirectly(*probe, kOutside1);
  ASSERT_FALSE(forged.empty());
  Status s = w.Inject(kEth0, {kHa, mip4::kMipPort}, {kOutside1, mip4::kMipPort}, forged);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(w.mn().engine(kEth0)->counters().Dropped(mip4::MnDrop::kAuthFailed), 1u);
  EXPECT_EQ(w.mn().state(kEth0), IfState::kOutside);
  EXPECT_EQ(w.mn().plane(kEth0), DataPlane::kMipInVpn);
}

// ---- R12: MOBIKE update and probe together ----

TEST(MnController, R12_R14_MobikeUpdateLeavesWithTheDirectProbe) {
  World w;
  w.Start();
  ToMc(w);
  std::size_t cmds = w.commands.size();
  std::size_t regs = w.Registrations(kEth0).size();
  w.Move(kEth0, Net::kOutside, kOutside2);
  Timestamp moved = w.now();
  auto probes = w.Registrations(kEth0);
  ASSERT_EQ(probes.size(), regs + 1);
  EXPECT_EQ(probes.back().at, moved);
  EXPECT_EQ(probes.back().src, kOutside2);
  ASSERT_GT(w.commands.size(), cmds);
  EXPECT_EQ(w.commands.back().second.kind, VpnCommand::Kind::kUpdateAddresses);
  EXPECT_EQ(w.commands.back().first, moved);
  EXPECT_EQ(*w.commands.back().second.preferred, kOutside2);
}

// ---- Outside: mc ----

TEST(MnController, R3_R6_R15_OutsideRegistersThroughTheTunnelWithTheTia) {
  World w;
  w.Start();
  w.Attach(kEth0, Net::kOutside, kOutside1);
  // R15 1: no VPN yet: set one up from the new address, with the probe.
  ASSERT_FALSE(w.commands.empty());
  EXPECT_EQ(w.commands[0].second.kind, VpnCommand::Kind::kConnect);
  EXPECT_EQ(w.commands[0].first, w.Registrations(kEth0)[0].at);
  w.RunFor(Duration::Millis(200));
  EXPECT_EQ(w.mn().state(kEth0), IfState::kOutside);
  auto tunnel_regs = w.Registrations(kTun);
  ASSERT_EQ(tunnel_regs.size(), 1u);
  EXPECT_EQ(tunnel_regs[0].src, kTia);  // R3: the TIA as co-located CoA
  EXPECT_EQ(w.mn().mode(), "mc");
  ASSERT_TRUE(w.mn().tunnel_engine().binding());
  EXPECT_TRUE(w.mn().tunnel_engine().binding()->reverse_tunnel);  // R6
  EXPECT_EQ(w.SendUser(), SendVerdict::kTunnelled);
  EXPECT_EQ(w.sent.back().src, kTia);  // R6: IP-in-IP TIA -> HA, into the VPN
  EXPECT_EQ(w.sent.back().dst, kHa);
  EXPECT_TRUE(w.sent.back().user);
  auto b = w.ha().Bindings(kHome);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].care_of_address, kTia);
}

TEST(MnController, R22_TncThroughTheTunnelNeverCounts) {
  World w;
  w.Start();
  ToMc(w);
  // The i-HA trusts the TIA pool and put TNC in its reply through the
  // tunnel; the MN must stay outside.
  EXPECT_GE(w.mn().counters().tnc_ignored, 1u);
  EXPECT_EQ(w.mn().state(kEth0), IfState::kOutside);
  EXPECT_TRUE(w.HasRequirement("R22"));
}

TEST(MnController, R15_TrustedToUntrustedWithVpnUpTakesGatewayRttPlusTunnelRtt) {
  World w;
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Millis(200));
  ASSERT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  ASSERT_TRUE(w.mn().vpn_up());  // kept alive inside (R15)
  w.Move(kEth0, Net::kOutside, kOutside1);
  Timestamp moved = w.now();
  w.RunFor(Duration::Millis(100));
  // 1 RTT to the gateway (20 ms) + 1 RTT to the HA through the tunnel (22 ms).
  std::optional<Timestamp> up = w.FirstPlane(DataPlane::kMipInVpn, moved);
  ASSERT_TRUE(up);
  EXPECT_EQ(*up - moved, Duration::Millis(42));
  // The direct probe went on meanwhile (issue 7 item 2).
  EXPECT_EQ(w.mn().state(kEth0), IfState::kOutside);
  w.RunFor(Duration::Seconds(5));
  EXPECT_GE(w.Registrations(kEth0).size(), 3u);
}

TEST(MnController, R5_OuterAddressChangeKeepsTheHaBinding) {
  World w;
  w.Start();
  ToMc(w);
  std::uint64_t tunnel_regs = w.mn().counters().tunnel_registrations;
  std::uint64_t ha_requests = w.ha().counters().requests;
  w.Move(kEth0, Net::kOutside, kOutside2);
  Timestamp moved = w.now();
  w.RunFor(Duration::Millis(100));
  EXPECT_EQ(w.mn().counters().tunnel_registrations, tunnel_regs);
  EXPECT_EQ(w.ha().counters().requests, ha_requests);  // nothing reached the i-HA
  // Untrusted -> untrusted: 1 RTT to the gateway.
  std::optional<Timestamp> up = w.FirstPlane(DataPlane::kMipInVpn, moved);
  ASSERT_TRUE(up);
  EXPECT_EQ(*up - moved, Duration::Millis(20));
  // The direct probe still went out (R11, R12).
  EXPECT_EQ(w.Registrations(kEth0).back().src, kOutside2);
  EXPECT_TRUE(w.HasRequirement("R5"));
}

TEST(MnController, R4_NewTiaOrGatewayMeansANewRegistration) {
  World w;
  w.Start();
  ToMc(w);
  EXPECT_EQ(w.mn().counters().tunnel_registrations, 1u);
  // The gateway lost the IKE SA; the reconnect gets another TIA.
  w.next_tia = kTia2;
  w.VpnLost();
  EXPECT_EQ(w.mn().plane(kEth0), DataPlane::kBlocked);  // R24: no clear fallback
  EXPECT_EQ(w.SendUser(), SendVerdict::kBlocked);
  w.RunFor(Duration::Seconds(6));
  EXPECT_EQ(w.mn().counters().tunnel_registrations, 2u);
  EXPECT_EQ(w.Registrations(kTun).back().src, kTia2);
  EXPECT_EQ(w.mn().plane(kEth0), DataPlane::kMipInVpn);
  // A second gateway, same TIA: again a new registration.
  w.next_tia = kTia2;
  w.gateway = kGw2;
  w.VpnLost();
  w.RunFor(Duration::Seconds(6));
  EXPECT_EQ(w.mn().counters().tunnel_registrations, 3u);
  EXPECT_EQ(w.ha().Bindings(kHome)[0].care_of_address, kTia2);
}

TEST(MnController, LateDirectTncReplySwitchesToInsideAndRebindsDirectly) {
  World w;
  w.direct_delay = Duration::Millis(30);  // the i-HA is far; the gateway is near
  w.gw_delay = Duration::Millis(5);
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Millis(400));
  // The gateway answered first: mc at once...
  ASSERT_TRUE(w.FirstPlane(DataPlane::kMipInVpn));
  // ...then the direct TNC reply: inside, and the binding is the direct one.
  EXPECT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  EXPECT_EQ(w.mn().plane(kEth0), DataPlane::kDirectMip);
  auto b = w.ha().Bindings(kHome);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].care_of_address, kInside1);
  EXPECT_GT(*w.FirstPlane(DataPlane::kDirectMip), *w.FirstPlane(DataPlane::kMipInVpn));
}

// ---- R22: T_MONITOR ----

TEST(MnController, R22_TMonitorReregistersAndBlocksWhenItLapses) {
  World w;
  w.config.vpn = false;
  w.config.t_monitor = Duration::Seconds(60);
  w.config.monitor_margin = Duration::Seconds(10);
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Millis(10));
  ASSERT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  std::size_t n = w.Registrations(kEth0).size();
  w.RunUntil(Ms(50'000 + 100));
  // Re-registered at T_MONITOR - N and still inside.
  ASSERT_EQ(w.Registrations(kEth0).size(), n + 1);
  EXPECT_EQ(w.Registrations(kEth0).back().at, Ms(50'000));
  EXPECT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  // Now the i-HA stops answering (the link silently became untrusted).
  w.direct_delay = Duration::Seconds(1000);
  w.RunUntil(Ms(110'000 - 1));
  EXPECT_EQ(w.mn().plane(kEth0), DataPlane::kDirectMip);
  w.RunUntil(Ms(110'000));
  EXPECT_EQ(w.mn().plane(kEth0), DataPlane::kBlocked);
  EXPECT_NE(w.mn().state(kEth0), IfState::kInsideC);
  EXPECT_EQ(w.SendUser(), SendVerdict::kBlocked);
  EXPECT_TRUE(w.HasRequirement("R22"));
}

TEST(MnController, R22_LiveSettingsApplyFromTheNextRegistration) {
  World w;
  w.config.vpn = false;
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Millis(10));
  ASSERT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  const std::size_t events = w.events.size();
  // A margin not below T_MONITOR is refused whole.
  LiveSettings bad{true, Duration::Seconds(30), Duration::Seconds(30), {}};
  EXPECT_EQ(w.mn().ApplyLiveSettings(bad).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(w.mn().config().t_monitor, Duration::Seconds(60));
  LiveSettings good{false, Duration::Seconds(30), Duration::Seconds(5), {"corp.example.com"}};
  ASSERT_TRUE(w.mn().ApplyLiveSettings(good).ok());
  EXPECT_EQ(w.mn().config().t_monitor, Duration::Seconds(30));
  EXPECT_FALSE(w.mn().config().use_foreign_agents);
  // No state changed.
  EXPECT_EQ(w.events.size(), events);
  EXPECT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  std::size_t n = w.Registrations(kEth0).size();
  // The running cycle keeps its schedule (60 - 10 s)...
  w.RunUntil(Ms(50'000 + 100));
  ASSERT_EQ(w.Registrations(kEth0).size(), n + 1);
  EXPECT_EQ(w.Registrations(kEth0).back().at, Ms(50'000));
  // ...the next one follows the new settings (30 - 5 s).
  w.RunUntil(Ms(75'000 + 100));
  ASSERT_EQ(w.Registrations(kEth0).size(), n + 2);
  EXPECT_EQ(w.Registrations(kEth0).back().at, Ms(75'000));
  EXPECT_EQ(w.mn().state(kEth0), IfState::kInsideC);
}

// ---- R7, R8, R10: foreign agents ----

mip4::AgentAdvertisement FaAdvertisement() {
  mip4::AgentAdvertisement a;
  a.code = mip4::kAdvCodeRoutesCommonTraffic;
  a.lifetime = 1800;
  a.routers = {{kFa, 0}};
  a.mobility.sequence = 1;
  a.mobility.registration_lifetime = 600;
  a.mobility.foreign_agent = true;
  a.mobility.reverse_tunnel = true;
  a.mobility.care_of_addresses = {kFa};
  return a;
}

TEST(MnController, R7_R10_ForeignAgentNeverUsedOnAnUntrustedLink) {
  World w;
  w.Start();
  w.Attach(kEth0, Net::kOutside, kOutside1);
  Bytes adv = *mip4::BuildAgentAdvertisementPacket(kFa, Ipv4Address::AllSystems(),
                                                   FaAdvertisement());
  (void)w.mn().OnIpPacket(w.now(), kEth0, adv);
  w.Drain();
  w.RunFor(Duration::Seconds(10));
  for (const World::Sent& s : w.sent) EXPECT_NE(s.dst, kFa) << "R7: request to the FA";
  EXPECT_EQ(w.mn().state(kEth0), IfState::kOutside);
}

TEST(MnController, R8_R10_ForeignAgentUsedOnlyAfterCoLocatedTrustOnThatLink) {
  World w;
  w.config.vpn = false;
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  // The FA is heard in parallel with DHCP, before trust is known (R8).
  Bytes adv = *mip4::BuildAgentAdvertisementPacket(kFa, Ipv4Address::AllSystems(),
                                                   FaAdvertisement());
  (void)w.mn().OnIpPacket(w.now(), kEth0, adv);
  w.Drain();
  for (const World::Sent& s : w.sent) EXPECT_NE(s.dst, kFa);
  w.RunFor(Duration::Millis(50));
  // Trusted by the co-located probe first, then the FA.
  EXPECT_EQ(w.mn().state(kEth0), IfState::kInsideF);
  EXPECT_EQ(w.mn().mode(), "f");
  bool to_fa = false;
  for (const World::Sent& s : w.sent) to_fa = to_fa || (s.dst == kFa && s.registration);
  EXPECT_TRUE(to_fa);
  auto b = w.ha().Bindings(kHome);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].care_of_address, kFa);
}

// ---- R17: probe hints ----

TEST(MnController, R17_NoProbeOnLinksThatMatchNoHint) {
  World w;
  w.config.probe_domains = {"corp.example"};
  w.Start();
  w.Attach(kEth0, Net::kOutside, kOutside1, "hotspot.example");
  EXPECT_TRUE(w.Registrations(kEth0).empty());
  EXPECT_EQ(w.mn().state(kEth0), IfState::kOutside);
  w.RunFor(Duration::Millis(200));
  EXPECT_TRUE(w.Registrations(kEth0).empty());  // nothing revealed, ever
  EXPECT_EQ(w.mn().plane(kEth0), DataPlane::kMipInVpn);
  w.Move(kEth0, Net::kInside, kInside1, "corp.example");
  EXPECT_EQ(w.Registrations(kEth0).size(), 1u);
  w.RunFor(Duration::Millis(50));
  EXPECT_EQ(w.mn().state(kEth0), IfState::kInsideC);
}

// ---- R18: home link ----

TEST(MnController, R18_R24_HomeOnlyAfterTheAuthenticatedDeregistration) {
  World w;
  w.config.vpn = false;
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Millis(50));
  ASSERT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  w.Detach(kEth0);
  w.Attach(kEth0, Net::kHomeLink, std::nullopt);
  // The HA answers the solicitation with an advertisement; the MN
  // deregisters, and only the authenticated TNC reply makes it home.
  EXPECT_EQ(w.SendUser(), SendVerdict::kBlocked);
  w.RunFor(Duration::Seconds(3));
  std::optional<Timestamp> dereg, home;
  for (const ControllerEvent& e : w.events) {
    if (e.kind == ControllerEvent::Kind::kAction && e.requirement == "R18" && !dereg) dereg = e.at;
    if (e.kind == ControllerEvent::Kind::kState && e.to == IfState::kHome) home = e.at;
  }
  ASSERT_TRUE(dereg);
  ASSERT_TRUE(home);
  EXPECT_EQ(*home - *dereg, Duration::Millis(4));  // one RTT to the HA
  EXPECT_EQ(w.mn().state(kEth0), IfState::kHome);
  EXPECT_EQ(w.mn().mode(), "home");
  EXPECT_EQ(w.SendUser(), SendVerdict::kPass);
  EXPECT_TRUE(w.ha().Bindings(kHome).empty());
}

// ---- R20: per interface ----

TEST(MnController, R20_TrustOnOneInterfaceSaysNothingAboutAnother) {
  World w;
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Millis(50));
  ASSERT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  w.Attach(kWlan0, Net::kOutside, kOutside1);
  // wlan0 detects on its own: its own probe, never inside.
  EXPECT_EQ(w.Registrations(kWlan0).size(), 1u);
  w.RunFor(Duration::Seconds(10));
  EXPECT_EQ(w.mn().state(kWlan0), IfState::kOutside);
  EXPECT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  // User data stays on the trusted interface, and so does the i-HA's
  // binding: wlan0 does not register through the tunnel meanwhile.
  EXPECT_EQ(*w.mn().active_interface(), kEth0);
  EXPECT_EQ(w.mn().mode(), "c");
  EXPECT_EQ(w.mn().counters().tunnel_registrations, 0u);
  ASSERT_EQ(w.ha().Bindings(kHome).size(), 1u);
  EXPECT_EQ(w.ha().Bindings(kHome)[0].care_of_address, kInside1);
  // eth0 goes away: only the tunnel over wlan0 may carry user data.
  w.Detach(kEth0);
  w.RunFor(Duration::Millis(200));
  EXPECT_EQ(w.mn().mode(), "mc");
  EXPECT_EQ(*w.mn().active_interface(), kWlan0);
  EXPECT_EQ(w.ha().Bindings(kHome)[0].care_of_address, kTia);
}

// ---- R14 / R15: the VPN while inside ----

TEST(MnController, R14_VpnTornDownInsideWhenConfigured) {
  World w;
  w.config.vpn_when_inside = VpnWhenInside::kTearDown;
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Millis(200));
  ASSERT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  EXPECT_FALSE(w.mn().vpn_up());
  auto kinds = w.CommandKinds();
  ASSERT_FALSE(kinds.empty());
  EXPECT_EQ(kinds.back(), VpnCommand::Kind::kDisconnect);
}

TEST(MnController, R15_VpnKeptAliveInsideByDefault) {
  World w;
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Millis(200));
  ASSERT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  EXPECT_TRUE(w.mn().vpn_up());
  for (auto k : w.CommandKinds()) EXPECT_NE(k, VpnCommand::Kind::kDisconnect);
}

TEST(MnController, R15_GatewayUnreachableFromInsideStillInside) {
  World w;
  w.gw_reachable_inside = false;
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Seconds(1));
  EXPECT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  EXPECT_FALSE(w.mn().vpn_up());
  // Moving out sets the VPN up from the new address (R15 1).
  w.Move(kEth0, Net::kOutside, kOutside1);
  EXPECT_EQ(w.commands.back().second.kind, VpnCommand::Kind::kConnect);
  w.RunFor(Duration::Millis(200));
  EXPECT_EQ(w.mn().mode(), "mc");
}

TEST(MnController, R15_UnreachableGatewayIsRetriedWithBackoff) {
  World w;
  w.gw_reachable_inside = false;
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Seconds(1800));
  std::vector<Timestamp> connects;
  for (const auto& [at, c] : w.commands) {
    if (c.kind == VpnCommand::Kind::kConnect) connects.push_back(at);
  }
  // 5, 10, 20, ... 300 s between failures (each failure takes 10 s here).
  ASSERT_GE(connects.size(), 5u);
  EXPECT_LE(connects.size(), 12u);
  EXPECT_EQ(connects[1] - connects[0], Duration::Seconds(15));
  EXPECT_EQ(connects[2] - connects[1], Duration::Seconds(20));
  EXPECT_EQ(connects.back() - connects[connects.size() - 2], Duration::Seconds(310));
  EXPECT_EQ(w.mn().state(kEth0), IfState::kInsideC);  // inside all along
  // A move resets the backoff: the new link tries at once.
  w.Move(kEth0, Net::kOutside, kOutside1);
  EXPECT_EQ(w.commands.back().second.kind, VpnCommand::Kind::kConnect);
  EXPECT_EQ(w.commands.back().first, w.now());
}

// ---- R16: NAT ----

TEST(MnController, R16_NatBetweenMnAndHaInsideUsesUdpTunnelling) {
  World w;
  w.config.vpn = false;
  w.nat[kEth0] = A("10.2.0.250");  // the HA sees another source
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Millis(50));
  ASSERT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  ASSERT_TRUE(w.mn().engine(kEth0)->binding());
  EXPECT_EQ(w.mn().engine(kEth0)->binding()->encapsulation, mip4::TunnelEncapsulation::kUdp);
  EXPECT_EQ(w.SendUser(), SendVerdict::kTunnelled);
  EXPECT_TRUE(w.sent.back().user);  // RFC 3519 Tunnel Data
}

// ---- R13, R21: link down ----

TEST(MnController, R21_LinkDownStopsUserDataAtOnce) {
  World w;
  w.Start();
  ToMc(w);
  EXPECT_EQ(w.SendUser(), SendVerdict::kTunnelled);
  w.Detach(kEth0);
  EXPECT_EQ(w.mn().plane(kEth0), DataPlane::kBlocked);
  EXPECT_EQ(w.SendUser(), SendVerdict::kBlocked);
  EXPECT_FALSE(w.mn().active_interface());
}

// ---- Clean stop: deregistration (RFC 5944 3.6.1.2), then the VPN ----

// The deregistrations sent at or after `from`: registrations with Lifetime 0.
std::vector<World::Sent> Deregistrations(const World& w, Timestamp from) {
  std::vector<World::Sent> v;
  for (const World::Sent& s : w.sent) {
    if (s.registration && s.at >= from && s.lifetime == std::optional<std::uint16_t>(0)) {
      v.push_back(s);
    }
  }
  return v;
}

std::optional<Timestamp> EventAt(const World& w, const std::string& text) {
  for (const ControllerEvent& e : w.events) {
    if (e.text.find(text) != std::string::npos) return e.at;
  }
  return std::nullopt;
}

TEST(MnController, ShutdownInCBlocksAtOnceDeregistersDirectlyThenDisconnectsTheVpn) {
  World w;
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Millis(200));
  ASSERT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  ASSERT_TRUE(w.mn().vpn_up());  // kept alive, idle (R15)
  ASSERT_EQ(w.ha().Bindings(kHome).size(), 1u);
  ASSERT_EQ(w.SendUser(), SendVerdict::kTunnelled);
  const std::size_t cmds = w.commands.size();

  const Timestamp stop = w.now();
  w.mn().Shutdown(stop);
  w.Drain();
  // User data is blocked in the same step: the kill switch stays.
  EXPECT_TRUE(w.mn().shutting_down());
  EXPECT_FALSE(w.mn().shutdown_complete());
  EXPECT_FALSE(w.mn().active_interface());
  EXPECT_EQ(w.mn().plane(kEth0), DataPlane::kBlocked);
  EXPECT_EQ(w.SendUser(), SendVerdict::kBlocked);
  // RFC 5944 3.6.1.2: Lifetime 0 for the binding's care-of address, from
  // it, on its interface, straight to the i-HA.
  auto d = Deregistrations(w, stop);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].at, stop);
  EXPECT_EQ(d[0].ifindex, kEth0);
  EXPECT_EQ(d[0].src, kInside1);
  EXPECT_EQ(d[0].dst, kHa);
  EXPECT_EQ(d[0].care_of, kInside1);
  // The VPN stays until the deregistration is answered.
  EXPECT_EQ(w.commands.size(), cmds);

  w.RunFor(Duration::Millis(100));
  EXPECT_TRUE(w.ha().Bindings(kHome).empty()) << "the i-HA accepted the deregistration";
  EXPECT_TRUE(w.mn().shutdown_complete());
  EXPECT_EQ(w.mn().state(kEth0), IfState::kDown);
  ASSERT_EQ(w.commands.size(), cmds + 1);
  EXPECT_EQ(w.commands.back().second.kind, VpnCommand::Kind::kDisconnect);
  auto accepted = EventAt(w, "the i-HA accepted the deregistration of care-of 10.2.0.100");
  ASSERT_TRUE(accepted);
  EXPECT_EQ(*accepted, stop + Duration::Millis(4));  // one RTT
  EXPECT_GE(w.commands.back().first, *accepted);
  EXPECT_FALSE(w.mn().vpn_up());
  EXPECT_TRUE(EventAt(w, "shutdown complete"));
  EXPECT_EQ(w.mn().NextTimeout(), Timestamp::Infinite());
  // Nothing more leaves, and nothing new starts.
  const std::size_t sent = w.sent.size();
  w.RunFor(Duration::Seconds(120));
  w.mn().OnLinkUp(w.now(), kWlan0, "wlan0");
  AddressInfo info;
  info.address = kInside2;
  EXPECT_EQ(w.mn().OnAddress(w.now(), kWlan0, info).error().code(), Errc::kState);
  w.Drain();
  EXPECT_EQ(w.sent.size(), sent);
  EXPECT_EQ(w.SendUser(), SendVerdict::kBlocked);
  // Idempotent.
  w.mn().Shutdown(w.now());
  w.Drain();
  EXPECT_EQ(w.commands.size(), cmds + 1);
}

TEST(MnController, ShutdownInFDeregistersThroughTheForeignAgent) {
  World w;
  w.config.vpn = false;
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  Bytes adv = *mip4::BuildAgentAdvertisementPacket(kFa, Ipv4Address::AllSystems(),
                                                   FaAdvertisement());
  (void)w.mn().OnIpPacket(w.now(), kEth0, adv);
  w.Drain();
  w.RunFor(Duration::Millis(50));
  ASSERT_EQ(w.mn().state(kEth0), IfState::kInsideF);
  ASSERT_EQ(w.ha().Bindings(kHome).size(), 1u);
  const Timestamp stop = w.now();
  w.mn().Shutdown(stop);
  w.Drain();
  auto d = Deregistrations(w, stop);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].src, kHome);  // RFC 5944 3.6.1.1: through the FA, from the home address
  EXPECT_EQ(d[0].dst, kFa);
  EXPECT_EQ(d[0].care_of, kFa);
  w.RunFor(Duration::Millis(100));
  EXPECT_TRUE(w.ha().Bindings(kHome).empty());
  EXPECT_TRUE(w.mn().shutdown_complete());
  EXPECT_TRUE(w.commands.empty());  // no VPN configured: nothing to disconnect
}

TEST(MnController, ShutdownInMcDeregistersThroughTheTunnelBeforeTheVpnGoes) {
  World w;
  w.Start();
  ToMc(w);
  ASSERT_EQ(w.ha().Bindings(kHome).size(), 1u);
  const std::size_t cmds = w.commands.size();
  const Timestamp stop = w.now();
  w.mn().Shutdown(stop);
  w.Drain();
  EXPECT_EQ(w.SendUser(), SendVerdict::kBlocked);
  auto d = Deregistrations(w, stop);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].ifindex, kTun);
  EXPECT_EQ(d[0].src, kTia);
  EXPECT_EQ(d[0].care_of, kTia);
  EXPECT_EQ(w.commands.size(), cmds);  // the tunnel must carry it first
  w.RunFor(Duration::Millis(100));
  EXPECT_TRUE(w.ha().Bindings(kHome).empty());
  EXPECT_TRUE(w.mn().shutdown_complete());
  ASSERT_EQ(w.commands.size(), cmds + 1);
  EXPECT_EQ(w.commands.back().second.kind, VpnCommand::Kind::kDisconnect);
  // The reply came back through the tunnel (2 x 11 ms) before the disconnect.
  EXPECT_EQ(w.commands.back().first, stop + Duration::Millis(22));
}

// Back inside after mc, the direct registration replaced the tunnel's
// binding at the i-HA: a shutdown deregisters only the direct one, and
// sends nothing through the tunnel for the old TIA.
TEST(MnController, ShutdownAfterMcThenCDeregistersOnlyTheDirectBinding) {
  World w;
  w.Start();
  ToMc(w);
  w.Move(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Millis(200));
  ASSERT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  ASSERT_EQ(w.ha().Bindings(kHome).size(), 1u);
  ASSERT_TRUE(w.mn().tunnel_engine().binding()) << "the tunnel engine keeps its record";
  const Timestamp stop = w.now();
  w.mn().Shutdown(stop);
  w.Drain();
  auto d = Deregistrations(w, stop);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].ifindex, kEth0);
  EXPECT_EQ(d[0].care_of, kInside1);
  EXPECT_TRUE(EventAt(w, "binding with care-of 10.10.0.5 was replaced by a direct registration"));
  w.RunFor(Duration::Millis(100));
  EXPECT_TRUE(w.ha().Bindings(kHome).empty());
  EXPECT_TRUE(w.mn().shutdown_complete());
}

TEST(MnController, ShutdownIsBoundedWhenTheHomeAgentDoesNotAnswer) {
  World w;
  w.config.mip.max_retransmissions = 5;  // 1+2+4+8+16+32 s: far beyond the wait
  w.Start();
  w.Attach(kEth0, Net::kInside, kInside1);
  w.RunFor(Duration::Millis(200));
  ASSERT_EQ(w.mn().state(kEth0), IfState::kInsideC);
  ASSERT_TRUE(w.mn().vpn_up());
  w.ha_silent = true;
  const Timestamp stop = w.now();
  w.mn().Shutdown(stop);
  w.Drain();
  w.RunFor(Duration::Millis(1999));
  EXPECT_FALSE(w.mn().shutdown_complete());
  EXPECT_EQ(w.mn().SendPacket(w.now(), Bytes(10, 0)).ok(), false);
  // Retransmitted after 1 s as the engine's settings say, then given up at
  // shutdown_wait (2 s).
  EXPECT_EQ(Deregistrations(w, stop).size(), 2u);
  w.RunFor(Duration::Millis(1));
  EXPECT_TRUE(w.mn().shutdown_complete());
  ASSERT_FALSE(w.commands.empty());
  EXPECT_EQ(w.commands.back().second.kind, VpnCommand::Kind::kDisconnect);
  EXPECT_EQ(w.commands.back().first, stop + Duration::Seconds(2));
  EXPECT_TRUE(EventAt(w, "deregistration unanswered"));
  EXPECT_EQ(w.ha().Bindings(kHome).size(), 1u);  // left to expire
  const std::size_t sent = w.sent.size();
  w.RunFor(Duration::Seconds(60));
  EXPECT_EQ(w.sent.size(), sent);  // no more retransmissions
}

TEST(MnController, ShutdownWithNothingRegisteredCompletesAtOnce) {
  World w;
  w.config.vpn = false;
  w.Start();
  w.Attach(kEth0, Net::kOutside, kOutside1);  // probing, untrusted, no binding
  const Timestamp stop = w.now();
  w.mn().Shutdown(stop);
  w.Drain();
  EXPECT_TRUE(w.mn().shutdown_complete());
  EXPECT_TRUE(Deregistrations(w, stop).empty());
  const std::size_t sent = w.sent.size();
  w.RunFor(Duration::Seconds(30));
  EXPECT_EQ(w.sent.size(), sent);  // the probe's retransmissions stopped too
}

TEST(MnController, BadInputIsRefusedAndChangesNothing) {
  World w;
  w.Start();
  AddressInfo info;
  info.address = kInside1;
  EXPECT_EQ(w.mn().OnAddress(w.now(), kEth0, info).error().code(), Errc::kNotFound);
  Bytes junk(10, 0);
  EXPECT_FALSE(w.mn().SendPacket(w.now(), junk).ok());
  ControllerConfig bad = w.config;
  bad.monitor_margin = Duration::Seconds(100);
  DeterministicRandom rng(1);
  EXPECT_EQ(MnController::Create(bad, Sa(), {}, kTun, rng, Logger()).error().code(),
            Errc::kInvalidArgument);
  EXPECT_TRUE(w.events.empty());
}

}  // namespace
}  // namespace mipsec::mn

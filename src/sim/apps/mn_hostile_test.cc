// Hostile and faulty variants of the RFC 5266 Figure 1 walk (issue 7 item
// 4): the mobile node (MnApp: the real controller, Mobile IPv4 engines,
// IKEv2/MOBIKE initiator and ESP) against forged trust proofs, a reply
// through the tunnel, an i-HA reachable from outside by a firewall mistake,
// and a VPN gateway unreachable from inside. Each test names the MISSION.md
// requirement it checks, and every one asserts that no user datagram of the
// MN (home address 10.1.0.10) crosses an untrusted segment (ext-pub,
// ext-nat, ext-link, wan) in clear (pcap_invariants.h).
//
// Each run is figure1.toml with its own short timeline: the MN starts on
// its home link and moves where the test needs it; nothing after the point
// of the test is simulated.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ip/udp.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/codec/registration_request.h"
#include "mip4/ha/home_agent.h"
#include "mip4/mn_reg/registration.h"
#include "mip4/security/security_association.h"
#include "mn/controller.h"
#include "sim/apps/mn_app.h"
#include "sim/apps/mn_walk_test_util.h"
#include "sim/pcap_invariants.h"
#include "sim/scenario/builtin.h"
#include "sim/scenario/runner.h"
#include "sim/scenario/toml_loader.h"

namespace mipsec::sim {
namespace {

using scenario::EventSpec;
using scenario::LegReport;
using scenario::ScenarioReport;
using scenario::ScenarioRun;

using mn_walk::ExpectNothingInClear;
using mn_walk::kHome;
using mn_walk::Modes;
constexpr std::uint32_t kSpi = 0x1000;
// figure1.toml's MN-HA key.
const char kKeyHex[] = "000102030405060708090a0b0c0d0e0f";

// ---------------------------------------------------------------- the runs

struct Edit {
  std::string from, to;  // replaced once in figure1.toml's text
};
struct Move {
  Duration at;
  std::string segment;
};
struct Options {
  std::vector<Edit> edits;
  std::vector<Move> moves;        // replace figure1's walk (the MN starts at home)
  std::vector<EventSpec> events;  // more events (links going down and up)
  Duration end = Duration::Seconds(10);
  // Called after ScenarioRun::Build, before Run: add nodes and apps.
  std::function<void(ScenarioRun&)> setup;
};

struct Walk {
  std::unique_ptr<ScenarioRun> run;
  ScenarioReport report;
  MnApp* mn = nullptr;
  int eth0 = 0;
  // TNC replies the eth0 engine had accepted just before the first move
  // (the deregistration at home has one).
  std::uint64_t tnc_before_move = 0;
};

Walk RunFigure1(const Options& o) {
  std::string text(*scenario::BuiltinScenario("figure1"));
  for (const Edit& e : o.edits) {
    auto at = text.find(e.from);
    EXPECT_NE(at, std::string::npos) << e.from;
    if (at != std::string::npos) text.replace(at, e.from.size(), e.to);
  }
  Walk w;
  std::optional<scenario::Scenario> sc = mn_walk::Parse(text, "figure1.toml");
  if (!sc) return w;
  sc->duration = o.end;
  std::vector<EventSpec> events;
  for (const Move& m : o.moves) {
    EventSpec e;
    e.at = m.at;
    e.kind = EventSpec::Kind::kMove;
    e.node = "mn";
    e.interface = "eth0";
    e.segment = m.segment;
    e.leg = m.segment;
    events.push_back(std::move(e));
  }
  for (const EventSpec& e : o.events) events.push_back(e);
  std::stable_sort(events.begin(), events.end(),
                   [](const EventSpec& a, const EventSpec& b) { return a.at < b.at; });
  sc->events = std::move(events);
  w.run = mn_walk::Build(*sc, std::nullopt);
  if (!w.run) return w;
  if (!o.moves.empty()) {
    Walk* wp = &w;
    ScenarioRun* r = w.run.get();
    r->network().sim().ScheduleFn(
        Timestamp::Zero() + o.moves.front().at - Duration::Nanos(1), [wp, r] {
          MnApp* mn = r->mobile_node("mn");
          int eth0 = r->network().FindNode("mn")->FindInterface("eth0")->ifindex();
          const mip4::MobileNodeRegistration* e = mn->controller().engine(eth0);
          if (e) wp->tnc_before_move = e->counters().tnc_reported;
        });
  }
  if (o.setup) o.setup(*w.run);
  w.report = w.run->Run();
  w.mn = w.run->mobile_node("mn");
  w.eth0 = w.run->network().FindNode("mn")->FindInterface("eth0")->ifindex();
  return w;
}




// The MN never went inside (c or f) at or after `since`.
void ExpectNeverInside(const MnApp& mn, Timestamp since) {
  for (const mn::ControllerEvent& e : mn.timeline()) {
    if (e.at < since || e.kind != mn::ControllerEvent::Kind::kState) continue;
    EXPECT_NE(e.to, mn::IfState::kInsideC) << e.at.ToString() << ": " << e.text;
    EXPECT_NE(e.to, mn::IfState::kInsideF) << e.at.ToString() << ": " << e.text;
  }
}

std::uint64_t AgentCounter(const ScenarioReport& r, const std::string& agent,
                           const std::string& counter) {
  for (const auto& a : r.agents) {
    if (a.name != agent) continue;
    for (const auto& [k, v] : a.counters) {
      if (k == counter) return v;
    }
  }
  ADD_FAILURE() << "no counter " << agent << " " << counter;
  return 0;
}

Timestamp At(Duration d) { return Timestamp::Zero() + d; }

// ------------------------------------------------------------ the attacker

// How the attacker's Registration Reply is "authenticated".
enum class Forgery {
  kWrongKey,       // HMAC-MD5 with a key that is not the MN-HA key
  kFlipped,        // the right authenticator with every byte inverted
  kTncNotCovered,  // the right key, computed before TNC was slipped in
  kRightKey,       // control: an attacker holding the MN-HA key
};

// A host on an untrusted segment that sniffs it (the segment's capture is
// its tap: it reads each new record every millisecond) and answers every
// Registration Request it sees at once, spoofing the home agent as source,
// with an acceptance carrying TNC (RFC 5265 3.4) and an MN-HA extension
// (SPI of the MN) that does not verify.
class ForgingAttacker {
 public:
  ForgingAttacker(ScenarioRun& run, const std::string& segment, Ipv4Address address,
                  int prefix_length, Forgery forgery, Timestamp from)
      : seg_(*run.network().FindSegment(segment)),
        forgery_(forgery),
        timer_(run.network().sim(), [this](Timestamp now) { Poll(now); }) {
    Result<Node*> n = run.network().AddNode("attacker", false);
    EXPECT_TRUE(n.ok());
    node_ = *n;
    Interface& ifc = node_->AddInterface("eth0");
    EXPECT_TRUE(node_->AddAddress(ifc.ifindex(), address, prefix_length).ok());
    node_->Attach(ifc, seg_);
    offset_ = seg_.pcap().bytes().size();  // the file header (and nothing yet)
    timer_.Set(from);
  }

  std::uint64_t requests_seen() const { return seen_; }
  std::uint64_t forged() const { return forged_; }

 private:
  static std::uint32_t Le32(const Bytes& b, std::size_t at) {
    return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
           static_cast<std::uint32_t>(b[at + 2]) << 16 |
           static_cast<std::uint32_t>(b[at + 3]) << 24;
  }

  void Poll(Timestamp now) {
    const Bytes& pcap = seg_.pcap().bytes();
    while (offset_ + 16 <= pcap.size()) {
      std::size_t incl = Le32(pcap, offset_ + 8);
      if (offset_ + 16 + incl > pcap.size()) break;
      Bytes packet(pcap.begin() + static_cast<std::ptrdiff_t>(offset_ + 16),
                   pcap.begin() + static_cast<std::ptrdiff_t>(offset_ + 16 + incl));
      offset_ += 16 + incl;
      Consider(packet);
    }
    timer_.Set(now + Duration::Millis(1));
  }

  void Consider(const Bytes& packet) {
    Result<ip::Ipv4UdpPacket> p = ip::ParseIpv4Udp(packet);
    if (!p.ok() || p->udp.dst_port != mip4::kMipPort || p->payload.empty() ||
        p->payload[0] != mip4::kMsgRegistrationRequest) {
      return;
    }
    Result<mip4::ParsedRegistrationRequest> req = mip4::ParseRegistrationRequest(p->payload);
    if (!req.ok()) return;
    ++seen_;
    mip4::RegistrationReply rep;
    rep.set_code(mip4::ReplyCode::kAccepted);
    rep.lifetime = req->request.lifetime;
    rep.home_address = req->request.home_address;
    rep.home_agent = req->request.home_agent;
    rep.identification = req->request.identification;

    mip4::SecurityAssociationParams sp;
    sp.spi = kSpi;
    Bytes key = *FromHex(kKeyHex);
    if (forgery_ == Forgery::kWrongKey) key[0] ^= 0x5a;
    sp.key = SecretBytes(key);
    Result<mip4::SecurityAssociation> sa = mip4::SecurityAssociation::Create(std::move(sp));
    ASSERT_TRUE(sa.ok());

    Bytes payload;
    if (forgery_ == Forgery::kTncNotCovered) {
      // The authenticator of the reply without TNC, then TNC inserted in
      // front of the MN-HA extension, where it would be covered.
      mip4::MessageBuilder plain = mip4::MessageBuilder::Reply(rep);
      ASSERT_TRUE(plain
                      .AppendAuth(mip4::kExtMnHaAuth, kSpi, 16,
                                  [&](ByteSpan covered) { return sa->Compute(covered); })
                      .ok());
      Bytes wire = std::move(plain).Take();
      const std::size_t fixed = mip4::RegistrationReply::kFixedSize;
      const std::uint8_t tnc[] = {mip4::kExtTnc, 2, 0, 0};
      payload.assign(wire.begin(), wire.begin() + fixed);
      payload.insert(payload.end(), std::begin(tnc), std::end(tnc));
      payload.insert(payload.end(), wire.begin() + fixed, wire.end());
    } else {
      mip4::MessageBuilder b = mip4::MessageBuilder::Reply(rep);
      b.AppendTnc();
      ASSERT_TRUE(
          b.AppendAuth(mip4::kExtMnHaAuth, kSpi, 16, [&](ByteSpan covered) -> Result<Bytes> {
             Result<Bytes> a = sa->Compute(covered);
             if (a.ok() && forgery_ == Forgery::kFlipped) {
               for (std::uint8_t& x : *a) x = static_cast<std::uint8_t>(~x);
             }
             return a;
           }).ok());
      payload = std::move(b).Take();
    }
    ip::Ipv4Header h;
    h.src = p->ip.dst;  // spoofing the home agent
    h.dst = p->ip.src;
    h.ttl = 64;
    Result<Bytes> datagram = ip::BuildIpv4Udp(h, mip4::kMipPort, p->udp.src_port, payload);
    ASSERT_TRUE(datagram.ok());
    if (node_->SendRaw(std::move(*datagram)).ok()) ++forged_;
  }

  Segment& seg_;
  Forgery forgery_;
  SimTimer timer_;
  Node* node_ = nullptr;
  std::size_t offset_ = 0;
  std::uint64_t seen_ = 0, forged_ = 0;
};

// home, then outside on ext-pub (public addresses) at 2 s.
constexpr Duration kOut = Duration::Seconds(2);

struct AttackResult {
  Walk walk;
  std::unique_ptr<ForgingAttacker> attacker;
};

AttackResult RunWithAttacker(Forgery forgery,
                             const std::function<void(ScenarioRun&)>& more_setup = {}) {
  AttackResult r;
  Options o;
  o.moves = {{kOut, "ext-pub"}};
  // The probe at about 2.07 s, retransmitted at about 3.07 s: two forgeries.
  o.end = Duration::Seconds(4);
  o.setup = [&](ScenarioRun& run) {
    r.attacker = std::make_unique<ForgingAttacker>(
        run, "ext-pub", *Ipv4Address::Parse("203.0.113.66"), 25, forgery, At(kOut));
    if (more_setup) more_setup(run);
  };
  r.walk = RunFigure1(o);
  return r;
}

// R24 (R11, R19): forged trust proofs on the untrusted link never switch
// IPsec off.
void ExpectForgeryRejected(const AttackResult& r) {
  const Walk& w = r.walk;
  ASSERT_TRUE(w.run && w.mn);
  ASSERT_EQ(Modes(w.report), (std::vector<std::string>{"home", "mc"}));
  EXPECT_TRUE(w.report.legs[1].ready_after.has_value());
  EXPECT_EQ(w.mn->controller().state(w.eth0), mn::IfState::kOutside);
  std::printf("attacker: %llu requests seen, %llu replies forged\n",
              static_cast<unsigned long long>(r.attacker->requests_seen()),
              static_cast<unsigned long long>(r.attacker->forged()));
  EXPECT_GT(r.attacker->requests_seen(), 0u);
  EXPECT_EQ(r.attacker->forged(), r.attacker->requests_seen());
  ExpectNeverInside(*w.mn, At(kOut));
  ExpectNothingInClear(*w.run);
}

TEST(MnHostile, R24_ForgedTncFromAnAttackerOnAnUntrustedNetwork) {
  AttackResult r = RunWithAttacker(Forgery::kWrongKey);
  ExpectForgeryRejected(r);
  const mip4::MobileNodeRegistration* eng = r.walk.mn->controller().engine(r.walk.eth0);
  ASSERT_NE(eng, nullptr);
  // Every forged reply reached the engine and failed the MN-HA check.
  EXPECT_EQ(eng->counters().Dropped(mip4::MnDrop::kAuthFailed), r.attacker->forged());
  EXPECT_EQ(eng->counters().tnc_reported, r.walk.tnc_before_move);
}

TEST(MnHostile, R19_R24_TncReplyWithAFlippedAuthenticator) {
  AttackResult r = RunWithAttacker(Forgery::kFlipped);
  ExpectForgeryRejected(r);
  const mip4::MobileNodeRegistration* eng = r.walk.mn->controller().engine(r.walk.eth0);
  ASSERT_NE(eng, nullptr);
  EXPECT_EQ(eng->counters().Dropped(mip4::MnDrop::kAuthFailed), r.attacker->forged());
}

TEST(MnHostile, R19_R24_TncReplyWhoseAuthenticatorWasComputedWithoutTnc) {
  AttackResult r = RunWithAttacker(Forgery::kTncNotCovered);
  ExpectForgeryRejected(r);
  const mip4::MobileNodeRegistration* eng = r.walk.mn->controller().engine(r.walk.eth0);
  ASSERT_NE(eng, nullptr);
  EXPECT_EQ(eng->counters().Dropped(mip4::MnDrop::kAuthFailed), r.attacker->forged());
}

// Control for the three tests above: the same attacker holding the MN-HA
// key is believed (the key is the whole of the MN's defence, RFC 5265 4.1),
// the MN goes inside on ext-pub, and the pcap check catches its user data
// there in clear. Shows that the forged replies pass every other check
// (path, identification, extension rules) and that the invariant is not
// vacuous. (The stream alone would not show it: the real i-HA never saw
// the forged registration and has no binding since the MN left home, so
// the CN's datagrams never reach the MN and it has nothing to echo; the MN
// sends a datagram of its own at 3.5 s.)
TEST(MnHostile, R24_ControlAnAttackerWithTheKeyIsBelievedAndTheLeakIsCaught) {
  AttackResult r = RunWithAttacker(Forgery::kRightKey, [](ScenarioRun& run) {
    Node* mn = run.network().FindNode("mn");
    run.network().sim().ScheduleFn(At(Duration::Millis(3500)), [mn] {
      UdpSendOptions so;
      so.source = kHome;
      const std::uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'};
      (void)mn->SendUdp({*Ipv4Address::Parse("10.0.0.100"), 9999}, 7000, hello, so);
    });
  });
  const Walk& w = r.walk;
  ASSERT_TRUE(w.run && w.mn);
  EXPECT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c"}));
  EXPECT_EQ(w.mn->controller().state(w.eth0), mn::IfState::kInsideC);
  Segment* seg = w.run->network().FindSegment("ext-pub");
  auto v = FindCleartextViolations(seg->pcap().bytes(), {kHome});
  ASSERT_TRUE(v.ok());
  EXPECT_GT(v->size(), 0u);
}

// R22: in figure1 the i-HA trusts the TIA pool, so the registration through
// the VPN is answered with TNC; the MN ignores it and stays outside (mc).
TEST(MnHostile, R22_TncThroughTheTunnelNeverSwitchesIpsecOff) {
  Options o;
  o.moves = {{kOut, "ext-pub"}};
  o.end = Duration::Seconds(3);
  Walk w = RunFigure1(o);
  ASSERT_TRUE(w.run && w.mn);
  ASSERT_EQ(Modes(w.report), (std::vector<std::string>{"home", "mc"}));
  // The HA did put TNC in the tunnelled reply, and it was authenticated...
  EXPECT_GT(w.mn->controller().tunnel_engine().counters().tnc_reported, 0u);
  // ...and the controller refused it as proof.
  EXPECT_GT(w.mn->controller().counters().tnc_ignored, 0u);
  EXPECT_EQ(AgentCounter(w.report, "mn mobile_node", "tnc_ignored"),
            w.mn->controller().counters().tnc_ignored);
  bool rejected = false;
  for (const mn::ControllerEvent& e : w.mn->timeline()) {
    if (e.kind == mn::ControllerEvent::Kind::kRejected && e.requirement == "R22") rejected = true;
  }
  EXPECT_TRUE(rejected);
  EXPECT_EQ(w.mn->controller().state(w.eth0), mn::IfState::kOutside);
  ExpectNeverInside(*w.mn, At(kOut));
  ExpectNothingInClear(*w.run);
}

// R23: a firewall mistake lets the outside reach the i-HA on UDP 434 (and
// the Internet routes the enterprise's addresses to the firewall); the
// i-HA's trusted subnets (10.0.0.0/8) do not include the outside, so it
// drops the MN's direct probe by its source: no reply, no TNC, and the MN
// stays outside in mc.
TEST(MnHostile, R23_IHaReachableFromOutsideThroughAFirewallMistake) {
  Options o;
  o.edits = {
      {"  # RFC 5265 3.1: nothing from outside reaches the i-HA directly.\n",
       "  [[firewall.rule]]\n  from = \"external\"\n  to = \"internal\"\n"
       "  dst = \"10.1.0.2/32\"\n  proto = \"udp\"\n  dport = 434\n  action = \"accept\"\n"},
      {"  [[node.route]]\n  to = \"192.0.2.0/24\"\n  via = \"198.51.100.1\"\n",
       "  [[node.route]]\n  to = \"192.0.2.0/24\"\n  via = \"198.51.100.1\"\n"
       "  [[node.route]]\n  to = \"10.0.0.0/8\"\n  via = \"198.51.100.1\"\n"},
  };
  o.moves = {{kOut, "ext-pub"}};
  o.end = Duration::Seconds(3);
  Walk w = RunFigure1(o);
  ASSERT_TRUE(w.run && w.mn);
  ASSERT_EQ(Modes(w.report), (std::vector<std::string>{"home", "mc"}));
  EXPECT_EQ(w.mn->controller().state(w.eth0), mn::IfState::kOutside);
  const mip4::HomeAgent& ha = w.run->home_agent("i-ha")->core();
  // Every direct probe from ext-pub reached the i-HA and was dropped by source.
  const mip4::MobileNodeRegistration* eng = w.mn->controller().engine(w.eth0);
  ASSERT_NE(eng, nullptr);
  EXPECT_GT(ha.counters().drop(mip4::HaDrop::kUntrustedSource), 0u);
  std::printf("i-HA drops (untrusted source): %llu\n",
              static_cast<unsigned long long>(ha.counters().drop(mip4::HaDrop::kUntrustedSource)));
  EXPECT_EQ(eng->counters().tnc_reported, w.tnc_before_move);
  ExpectNeverInside(*w.mn, At(kOut));
  ExpectNothingInClear(*w.run);
}

// R15 (R2, R3): the firewall drops IKE, NAT-T and ESP from the intranet to
// the DMZ, so the VPN cannot be set up (or kept) from inside. Inside, the
// direct probe does not need it: c and f as usual. Moving out sets up a
// new VPN from the outside address and reaches mc.
TEST(MnHostile, R15_VpnGatewayUnreachableFromInside) {
  const std::string drops =
      "  [[firewall.rule]]\n  from = \"internal\"\n  to = \"dmz\"\n  proto = \"udp\"\n"
      "  dport = 500\n  action = \"drop\"\n"
      "  [[firewall.rule]]\n  from = \"internal\"\n  to = \"dmz\"\n  proto = \"udp\"\n"
      "  dport = 4500\n  action = \"drop\"\n"
      "  [[firewall.rule]]\n  from = \"internal\"\n  to = \"dmz\"\n  proto = \"esp\"\n"
      "  action = \"drop\"\n";
  Options o;
  o.edits = {
      {"  # The intranet may reach anything;", drops + "  # The intranet may reach anything;"}};
  // f follows c once the i-FA's advertisement (every second) is heard.
  o.moves = {{Duration::Seconds(1), "visit-c"},
             {Duration::Seconds(3), "visit-f"},
             {Duration::Seconds(5), "ext-pub"}};
  o.end = Duration::Seconds(7);
  Walk w = RunFigure1(o);
  ASSERT_TRUE(w.run && w.mn);
  std::printf("%s", scenario::FormatReportText(w.report).c_str());
  EXPECT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c", "f", "mc"}));
  for (const LegReport& l : w.report.legs) EXPECT_TRUE(l.ready_after) << l.name;
  EXPECT_EQ(w.mn->controller().state(w.eth0), mn::IfState::kOutside);
  EXPECT_TRUE(w.mn->controller().vpn_up());
  ExpectNothingInClear(*w.run);
}

// R15 (R3): the VPN set-up left over from inside (the gateway unreachable
// from there) is replaced by a new one from the outside address; the end of
// the abandoned SA must not look like "the VPN went down" to the
// controller, or its retry timer (vpn_retry, 5 s) restarts the new set-up
// while it is still retransmitting. Here the uplink (wan) is down for the
// first 5.5 s outside: IKE_SA_INIT leaves at about 3.07 s and is
// retransmitted at 5.07 s (lost) and 9.07 s, which gets through.
TEST(MnHostile, R15_NewVpnOutsideIsNotRestartedByTheAbandonedInsideSetUp) {
  const std::string drops =
      "  [[firewall.rule]]\n  from = \"internal\"\n  to = \"dmz\"\n  proto = \"udp\"\n"
      "  dport = 500\n  action = \"drop\"\n";
  Options o;
  o.edits = {
      {"  # The intranet may reach anything;", drops + "  # The intranet may reach anything;"}};
  o.moves = {{Duration::Seconds(1), "visit-c"}, {Duration::Seconds(3), "ext-pub"}};
  EventSpec down;
  down.at = Duration::Seconds(3);
  down.kind = EventSpec::Kind::kLink;
  down.segment = "wan";
  down.up = false;
  EventSpec up = down;
  up.at = Duration::Millis(8500);
  up.up = true;
  o.events = {down, up};
  o.end = Duration::Seconds(10);
  Walk w = RunFigure1(o);
  ASSERT_TRUE(w.run && w.mn);
  int setups = 0, downs = 0;
  for (const mn::ControllerEvent& e : w.mn->timeline()) {
    if (e.at < At(Duration::Seconds(3)) || e.kind != mn::ControllerEvent::Kind::kAction) continue;
    if (e.text.starts_with("VPN set-up")) ++setups;
    if (e.text.starts_with("VPN down")) ++downs;
  }
  EXPECT_EQ(setups, 1);
  EXPECT_EQ(downs, 0);
  EXPECT_EQ(Modes(w.report), (std::vector<std::string>{"home", "c", "mc"}));
  EXPECT_TRUE(w.mn->controller().vpn_up());
  ExpectNothingInClear(*w.run);
}

// Determinism: the same scenario (with the attacker) twice gives the same
// timeline and the same pcaps, byte for byte.
TEST(MnHostile, DeterministicReplayWithAnAttacker) {
  AttackResult a = RunWithAttacker(Forgery::kWrongKey);
  AttackResult b = RunWithAttacker(Forgery::kWrongKey);
  ASSERT_TRUE(a.walk.run && b.walk.run);
  ASSERT_EQ(a.walk.report.timeline.size(), b.walk.report.timeline.size());
  for (std::size_t i = 0; i < a.walk.report.timeline.size(); ++i) {
    const scenario::TimelineEntry& x = a.walk.report.timeline[i];
    const scenario::TimelineEntry& y = b.walk.report.timeline[i];
    EXPECT_EQ(x.at, y.at) << i;
    EXPECT_EQ(x.where + " " + x.kind + " " + x.text, y.where + " " + y.kind + " " + y.text) << i;
  }
  EXPECT_EQ(a.walk.run->network().log_sink().lines(), b.walk.run->network().log_sink().lines());
  std::uint64_t records = 0;
  for (Segment* s : a.walk.run->network().segments()) {
    Segment* t = b.walk.run->network().FindSegment(s->name());
    ASSERT_NE(t, nullptr);
    records += s->pcap().records();
    EXPECT_TRUE(s->pcap().bytes() == t->pcap().bytes()) << s->name();
  }
  EXPECT_GT(records, 0u);
  EXPECT_GT(a.attacker->forged(), 0u);
  EXPECT_EQ(a.attacker->forged(), b.attacker->forged());
  EXPECT_EQ(scenario::FormatReportJson(a.walk.report), scenario::FormatReportJson(b.walk.report));
}

}  // namespace
}  // namespace mipsec::sim

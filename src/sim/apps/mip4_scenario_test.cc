// End-to-end Mobile IPv4 in the simulator (issue 4, item 6): the unchanged
// HomeAgent, ForeignAgent and MobileNodeRegistration cores driven by the
// Mip4*App runtimes, with a correspondent node's UDP stream running. The
// topology is in mip4_test_world.h.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/registration_request.h"
#include "mip4/mn_reg/registration.h"
#include "sim/apps/mip4_test_world.h"

namespace mipsec::sim {
namespace {

using testing::A;
using testing::Key;
using testing::kSpi;
using testing::MakeSa;
using testing::P;
using testing::T;
using testing::World;

// Per-leg stream numbers: packets sent in [from, to) and their delivery.
struct Leg {
  std::string name;
  double from, to;
  StreamStats forward, reverse;
};

Leg Score(World& w, const std::string& name, double from, double to, Timestamp end) {
  Leg leg{name, from, to, {}, {}};
  const Duration grace = Duration::Millis(500);
  if (auto act = StreamActivity(w.sender().send_times(), T(from), T(to))) {
    leg.forward = w.echoer().forward().Window(w.sender().send_times(), T(from), T(to), end, grace,
                                              act->first, act->second);
  }
  if (auto act = StreamActivity(w.echoer().echo_send_times(), T(from), T(to))) {
    leg.reverse = w.sender().reverse().Window(w.echoer().echo_send_times(), T(from), T(to), end,
                                              grace, act->first, act->second);
  }
  std::printf(
      "[ leg %-22s ] %5.1f-%5.1f s  CN->MN delivered %4llu/%4llu gap %7.3f s | "
      "MN->CN delivered %4llu/%4llu gap %7.3f s\n",
      name.c_str(), from, to, static_cast<unsigned long long>(leg.forward.delivered),
      static_cast<unsigned long long>(leg.forward.delivered + leg.forward.lost),
      leg.forward.longest_gap.SecondsF(), static_cast<unsigned long long>(leg.reverse.delivered),
      static_cast<unsigned long long>(leg.reverse.delivered + leg.reverse.lost),
      leg.reverse.longest_gap.SecondsF());
  return leg;
}

// When the MN's first acceptance at/after `from` happened (virtual seconds).
std::optional<double> RegisteredAfter(World& w, double from, bool want_fa) {
  for (const Mip4MnAppEvent& e : w.mn().events()) {
    if (e.kind == Mip4MnAppEvent::Kind::kRegistered && !e.renewal && e.at >= T(from) &&
        e.via_fa == want_fa) {
      return e.at.nanos() / 1e9;
    }
  }
  return std::nullopt;
}

// (1) home -> internal (DHCP, co-located) -> FA subnet (FA CoA) -> home.
std::vector<std::string> RunMoves(std::uint64_t seed, bool print) {
  World w({.seed = seed});
  w.MoveAt(10, "internal");
  w.MoveAt(20, "fanet");
  w.MoveAt(30, "home");
  const Ipv4Address home = A("10.1.0.5");

  // Leg 1: at home, no binding, the stream flows on the home link.
  w.sim().RunUntil(T(9.9));
  EXPECT_TRUE(w.HaBindings().empty());
  EXPECT_TRUE(w.mn().at_home());

  // Leg 2: co-located care-of address from DHCP, IP-in-IP.
  w.sim().RunUntil(T(19.9));
  std::vector<Mip4HaBinding> b = w.HaBindings();
  EXPECT_EQ(b.size(), 1u);
  std::optional<double> reg2 = RegisteredAfter(w, 10, false);
  EXPECT_TRUE(reg2.has_value());
  if (!b.empty()) {
    EXPECT_TRUE(P("10.2.0.0/24").Contains(b[0].care_of_address)) << b[0].care_of_address;
    EXPECT_FALSE(b[0].udp_tunnel);
    EXPECT_TRUE(b[0].reverse_tunnel);
    EXPECT_EQ(b[0].tunnel_endpoint.address, b[0].care_of_address);
  }

  // Leg 3: FA care-of address.
  w.sim().RunUntil(T(29.9));
  b = w.HaBindings();
  EXPECT_EQ(b.size(), 1u);
  std::optional<double> reg3 = RegisteredAfter(w, 20, true);
  EXPECT_TRUE(reg3.has_value());
  if (!b.empty()) {
    EXPECT_EQ(b[0].care_of_address, A("172.16.0.3"));
    EXPECT_FALSE(b[0].udp_tunnel);
  }
  EXPECT_TRUE(w.fa().core().ActiveVisitor(home).has_value());

  // Leg 4: home again: deregistered, no binding.
  w.sim().RunUntil(T(40));
  EXPECT_TRUE(w.HaBindings().empty());
  EXPECT_TRUE(w.mn().at_home());
  bool removed_by_dereg = false;
  for (const Mip4HaAppEvent& e : w.ha().events()) {
    if (e.kind == Mip4HaAppEvent::Kind::kRemoved &&
        e.cause == Mip4HaAppEvent::Cause::kDeregistration && e.at >= T(30)) {
      removed_by_dereg = true;
    }
  }
  EXPECT_TRUE(removed_by_dereg);

  // The binding followed every move: added with the DHCP address, updated
  // to the FA's, removed at home; nothing else.
  const std::vector<Mip4HaAppEvent>& ev = w.ha().events();
  EXPECT_EQ(ev.size(), 3u);
  if (ev.size() == 3) {
    EXPECT_EQ(ev[0].kind, Mip4HaAppEvent::Kind::kAdded);
    EXPECT_EQ(ev[0].bindings.size(), 1u);
    EXPECT_TRUE(!ev[0].bindings.empty() &&
                P("10.2.0.0/24").Contains(ev[0].bindings[0].care_of_address));
    EXPECT_EQ(ev[1].kind, Mip4HaAppEvent::Kind::kUpdated);
    EXPECT_EQ(ev[1].bindings.size(), 1u);
    EXPECT_TRUE(!ev[1].bindings.empty() && ev[1].bindings[0].care_of_address == A("172.16.0.3"));
    EXPECT_EQ(ev[2].kind, Mip4HaAppEvent::Kind::kRemoved);
  }
  if (print) {
    for (const std::string& line : w.net().log_sink().lines()) {
      if (line.find("mip4-") != std::string::npos) std::printf("%s\n", line.c_str());
    }
  }

  // Traffic flows in every leg, both ways; after each registration too.
  Timestamp end = T(40);
  double r2 = reg2.value_or(10), r3 = reg3.value_or(20);
  std::vector<Leg> legs;
  if (print) std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  legs.push_back(Score(w, "home", 1, 10, end));
  legs.push_back(Score(w, "internal (co-located)", 10, 20, end));
  legs.push_back(Score(w, "fanet (FA CoA)", 20, 30, end));
  legs.push_back(Score(w, "home again", 30, 39, end));
  legs.push_back(Score(w, "after co-located reg", r2 + 0.1, 19.9, end));
  legs.push_back(Score(w, "after FA reg", r3 + 0.1, 29.9, end));
  legs.push_back(Score(w, "after return home", 31, 39, end));
  for (const Leg& l : legs) {
    EXPECT_GT(l.forward.delivered, 0u) << l.name;
    EXPECT_GT(l.reverse.delivered, 0u) << l.name;
  }
  // Once registered, nothing is lost in a leg (no loss on the links).
  for (std::size_t i = 4; i < legs.size(); ++i) {
    EXPECT_EQ(legs[i].forward.lost, 0u) << legs[i].name;
    EXPECT_EQ(legs[i].reverse.lost, 0u) << legs[i].name;
  }
  if (print) {
    std::printf("registration after move: co-located %.3f s, FA %.3f s\n", r2 - 10, r3 - 20);
  }
  // The tunnels were really used both ways.
  Mip4HaAppCounters hc = w.ha().counters();
  EXPECT_GT(hc.tunnelled_ipip, 0u);
  EXPECT_GT(hc.decapsulated_ipip, 0u);
  EXPECT_GT(w.fa().core().counters().delivered, 0u);
  EXPECT_GT(w.fa().core().counters().reverse_tunnelled_ipip, 0u);
  return w.net().log_sink().lines();
}

TEST(Mip4Scenario, BindingFollowsEveryMoveAndTrafficFlowsAfterEachRegistration) {
  std::vector<std::string> log = RunMoves(7, true);
  EXPECT_FALSE(log.empty());
}

TEST(Mip4Scenario, RepeatableBitForBit) {
  std::vector<std::string> a = RunMoves(11, false);
  std::vector<std::string> b = RunMoves(11, false);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b);
}

// (2) The MN behind a NAPT: the HA sees the request's source differ from the
// co-located care-of address and answers with RFC 3519 UDP tunnelling;
// traffic flows both ways through the NAT.
TEST(Mip4Scenario, NatBetweenMnAndHaUsesUdpTunnelling) {
  World w({});
  w.MoveAt(5, "natlan");
  w.sim().RunUntil(T(20));
  std::vector<Mip4HaBinding> b = w.HaBindings();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_TRUE(P("192.168.1.0/24").Contains(b[0].care_of_address));
  EXPECT_TRUE(b[0].udp_tunnel);
  EXPECT_EQ(b[0].tunnel_endpoint.address, A("172.16.0.4"));  // the NAT's outside address
  std::optional<double> reg = RegisteredAfter(w, 5, false);
  ASSERT_TRUE(reg.has_value());
  EXPECT_TRUE((w.mn().core().binding() &&
               w.mn().core().binding()->encapsulation == mip4::TunnelEncapsulation::kUdp));
  Leg leg = Score(w, "behind NAT", *reg + 0.1, 19, T(20));
  EXPECT_GT(leg.forward.delivered, 0u);
  EXPECT_GT(leg.reverse.delivered, 0u);
  EXPECT_EQ(leg.forward.lost, 0u);
  EXPECT_EQ(leg.reverse.lost, 0u);
  std::printf("NAT: registered %.3f s after the move\n", *reg - 5);
  Mip4HaAppCounters hc = w.ha().counters();
  EXPECT_GT(hc.tunnelled_udp, 0u);
  EXPECT_GT(hc.decapsulated_udp, 0u);
  EXPECT_EQ(hc.tunnelled_ipip, 0u);
  // Through the NAT, both ways.
  EXPECT_GT(w.napt().counters().translated_out, 0u);
  EXPECT_GT(w.napt().counters().translated_in, 0u);
}

// (3) The MN disappears (node stopped): the HA's binding expires exactly at
// the granted lifetime after it was made.
TEST(Mip4Scenario, BindingExpiresAtTheGrantedLifetime) {
  World w({.ha_max_lifetime = 20, .mn_lifetime = 300, .start_stream = false});
  w.MoveAt(2, "internal");
  w.sim().RunUntil(T(4));
  ASSERT_EQ(w.HaBindings().size(), 1u);
  EXPECT_EQ(w.HaBindings()[0].granted_lifetime, 20);  // capped by the HA
  Timestamp added = Timestamp::Infinite();
  for (const Mip4HaAppEvent& e : w.ha().events()) {
    if (e.kind == Mip4HaAppEvent::Kind::kAdded) added = e.at;
  }
  ASSERT_FALSE(added.IsInfinite());
  w.node("mn").SetRunning(false);
  Timestamp expiry = added + Duration::Seconds(20);
  w.sim().RunUntil(expiry - Duration::Millis(1));
  EXPECT_EQ(w.HaBindings().size(), 1u);
  w.sim().RunUntil(expiry);
  EXPECT_TRUE(w.HaBindings().empty());
  ASSERT_FALSE(w.ha().events().empty());
  const Mip4HaAppEvent& last = w.ha().events().back();
  EXPECT_EQ(last.kind, Mip4HaAppEvent::Kind::kRemoved);
  EXPECT_EQ(last.cause, Mip4HaAppEvent::Cause::kExpiry);
  EXPECT_EQ(last.at, expiry);
  EXPECT_EQ(w.ha().counters().bindings_expired, 1u);
}

// The counterpart of (3): while the MN runs, it re-registers before the
// granted lifetime runs out (RFC 5944 3.6.2.2), so the binding never lapses
// and the stream loses nothing across the renewals.
TEST(Mip4Scenario, RenewalsKeepTheBindingAlive) {
  World w({.ha_max_lifetime = 20, .mn_lifetime = 300});
  w.MoveAt(2, "internal");
  w.sim().RunUntil(T(70));
  ASSERT_EQ(w.HaBindings().size(), 1u);
  int renewals = 0;
  for (const Mip4MnAppEvent& e : w.mn().events()) {
    if (e.kind == Mip4MnAppEvent::Kind::kRegistered) {
      EXPECT_EQ(e.lifetime, 20);
      renewals += e.renewal;
    }
  }
  EXPECT_GE(renewals, 6);  // every 10 s (half the lifetime) from ~2 s to 70 s
  for (const Mip4HaAppEvent& e : w.ha().events()) {
    EXPECT_NE(e.kind, Mip4HaAppEvent::Kind::kRemoved);
  }
  EXPECT_EQ(w.ha().counters().bindings_expired, 0u);
  std::optional<double> reg = RegisteredAfter(w, 2, false);
  ASSERT_TRUE(reg.has_value());
  Leg leg = Score(w, "renewals", *reg + 0.1, 69, T(70));
  EXPECT_GT(leg.forward.delivered, 3000u);
  EXPECT_EQ(leg.forward.lost, 0u);
  EXPECT_EQ(leg.reverse.lost, 0u);
}

// (4) A rogue host on the visited link answers the MN's re-registration
// first with a forged Registration Reply (right Identification, spoofed HA
// source, an authenticator made with a wrong key and a short lifetime). The
// MN drops it; the genuine reply is the one accepted.
TEST(Mip4Scenario, ForgedReplyFromTheVisitedLinkIsNotAccepted) {
  World w({.start_stream = false});
  w.MoveAt(2, "internal");
  w.sim().RunUntil(T(5));
  std::optional<mip4::MnBinding> before = w.mn().core().binding();
  ASSERT_TRUE(before.has_value());
  ASSERT_EQ(w.HaBindings().size(), 1u);
  Ipv4Address coa = before->care_of_address;
  std::uint16_t genuine_lifetime = before->granted_lifetime;

  w.sim().ScheduleFn(T(6), [&]() {
    ASSERT_TRUE(w.mn().core().Reregister(w.sim().now()).ok());
    w.mn().PollNow();  // send the request
    ASSERT_NE(w.mn().core().last_request(), nullptr);
    Result<mip4::ParsedRegistrationRequest> req =
        mip4::ParseRegistrationRequest(*w.mn().core().last_request());
    ASSERT_TRUE(req.ok());
    std::optional<std::uint64_t> id = req->request.identification;
    mip4::RegistrationReply rep;
    rep.code = 0;
    rep.lifetime = 5;
    rep.home_address = A("10.1.0.5");
    rep.home_agent = A("10.1.0.1");
    rep.identification = *id;
    mip4::MessageBuilder mb = mip4::MessageBuilder::Reply(rep);
    Bytes wrong = Key();
    wrong[0] ^= 0xff;
    mip4::SecurityAssociation bad = MakeSa(wrong);
    ASSERT_TRUE(
        mb.AppendAuth(32, kSpi, 16, [&](ByteSpan covered) { return bad.Compute(covered); }).ok());
    Bytes payload = std::move(mb).Take();
    ip::Ipv4Header h;
    h.src = A("10.1.0.1");  // spoofed
    h.dst = coa;
    Result<Bytes> pkt = ip::BuildIpv4Udp(h, 434, 434, payload);
    ASSERT_TRUE(pkt.ok());
    ASSERT_TRUE(w.node("rogue").SendRawOnLink(*pkt, 1, coa).ok());
  });
  w.sim().RunUntil(T(10));
  EXPECT_EQ(w.mn().core().counters().Dropped(mip4::MnDrop::kAuthFailed), 1u);
  std::optional<mip4::MnBinding> after = w.mn().core().binding();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->care_of_address, coa);
  EXPECT_EQ(after->granted_lifetime, genuine_lifetime);
  EXPECT_NE(after->granted_lifetime, 5);
  ASSERT_EQ(w.HaBindings().size(), 1u);
  EXPECT_EQ(w.HaBindings()[0].care_of_address, coa);
  // The genuine renewal was accepted after the forgery.
  int renewals = 0;
  for (const Mip4MnAppEvent& e : w.mn().events()) {
    renewals += e.kind == Mip4MnAppEvent::Kind::kRegistered && e.renewal;
  }
  EXPECT_EQ(renewals, 1);
}

// Create() refuses what it cannot wire, and a failed Create leaves the
// node's existing handlers alone.
TEST(Mip4Apps, CreateErrorsChangeNothing) {
  World w({.start_stream = false});
  mip4::SaDatabase sas;
  // Port 434 on the HA node is taken by the running HA app.
  Result<std::unique_ptr<Mip4HaApp>> second = testing::MakeTestHaApp(
      w.node("ha"), sas,
      {.address = A("10.1.0.1"), .home_network = P("10.1.0.0/24"), .home_ifindex = 1});
  EXPECT_EQ(second.error().code(), Errc::kAlreadyExists);
  Result<std::unique_ptr<Mip4HaApp>> bad_if = testing::MakeTestHaApp(
      w.node("cn"), sas,
      {.address = A("10.1.0.1"), .home_network = P("10.1.0.0/24"), .home_ifindex = 9});
  EXPECT_EQ(bad_if.error().code(), Errc::kNotFound);
  mip4::ForeignAgentOptions fao;
  mip4::FaInterface fi;
  fi.ifindex = 9;
  fi.address = A("10.3.0.1");
  fi.care_of_addresses = {A("172.16.0.3")};
  fao.interfaces.push_back(fi);
  EXPECT_EQ(Mip4FaApp::Create(w.node("cn"), fao, sas).error().code(), Errc::kNotFound);
  mip4::MobileNodeConfig mc;
  mc.home_agent = A("10.1.0.1");
  EXPECT_EQ(Mip4MnApp::Create(w.node("cn"), mc, MakeSa(), {}, nullptr, {.ifindex = 1})
                .error()
                .code(),
            Errc::kInvalidArgument);
  mc.home_address = A("10.1.0.5");
  EXPECT_EQ(Mip4MnApp::Create(w.node("cn"), mc, MakeSa(), {}, nullptr, {.ifindex = 9})
                .error()
                .code(),
            Errc::kNotFound);
  // The first HA still owns its port: the MN registers through it.
  w.MoveAt(1, "internal");
  w.sim().RunUntil(T(3));
  EXPECT_EQ(w.HaBindings().size(), 1u);
}

// The HA app advertises on the home link (H set), and the MN tells home
// from a foreign link by it: at home nothing is registered.
TEST(Mip4Apps, HomeAgentAdvertisesOnTheHomeLinkOnly) {
  World w({.start_stream = false});
  w.sim().RunUntil(T(5));
  EXPECT_GE(w.ha().counters().advertisements, 4u);
  EXPECT_TRUE(w.mn().at_home());
  EXPECT_FALSE(w.mn().core().binding().has_value());
  EXPECT_EQ(w.ha().counters().requests, 0u);
  EXPECT_EQ(w.net().FindSegment("backbone")->counters().tx_packets, 0u);
}

}  // namespace
}  // namespace mipsec::sim

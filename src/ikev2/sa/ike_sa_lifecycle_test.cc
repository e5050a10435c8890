// Choreography tests of an IKE SA's life: retransmission and replayed
// responses (RFC 7296 2.1), give-up, liveness checks (2.4), NAT traversal
// (2.23, RFC 3948), CREATE_CHILD_SA (1.3.1), deletes (1.4.1) and their
// collisions.
#include <gtest/gtest.h>

#include "ikev2/sa/ike_sa_test_util.h"

namespace mipsec::ikev2 {
namespace {

using test::Exchanger;
using test::TestAddressPool;
using EX = ExchangeType;

using test::Responder;

using test::Establish;

// A lost request is retransmitted, unchanged, after the initial timeout.
//
//   IKE_SA_INIT ... (ok)
//   IKE_AUTH request ---X
//   (2 s)
//   IKE_AUTH request (same bytes) ---->
//               <---- IKE_AUTH response
TEST(IkeSaLifecycleTest, LostRequestIsRetransmitted) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  IkeSa* i = x.Connect();
  x.DeliverToR();
  x.DeliverToI();
  x.ExpectToR(EX::kIkeAuth, false, 1);
  const Bytes sent = x.to_r.front().payload;
  x.DropToR();
  EXPECT_EQ(x.AdvanceToNextTimer(), Duration::Seconds(2));
  x.ExpectToR(EX::kIkeAuth, false, 1);
  EXPECT_EQ(x.to_r.front().payload, sent);
  // Backoff: the next wait is twice as long.
  x.DropToR();
  EXPECT_EQ(x.AdvanceToNextTimer(), Duration::Seconds(4));
  x.DeliverToR();
  x.DeliverToI();
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_EQ(x.EventsR<ChildSaUp>().size(), 1u);
}

// A lost response: the retransmitted request gets the cached response; the
// responder does not process it twice.
//
//   IKE_AUTH request ---->
//               X--- IKE_AUTH response
//   (2 s)
//   IKE_AUTH request (again) ---->
//               <---- IKE_AUTH response (the same bytes)
TEST(IkeSaLifecycleTest, LostResponseIsReplayed) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  IkeSa* i = x.Connect();
  x.DeliverToR();
  x.DeliverToI();
  x.DeliverToR();
  x.ExpectToI(EX::kIkeAuth, true, 1);
  const Bytes response = x.to_i.front().payload;
  x.DropToI();
  x.AdvanceToNextTimer();
  x.DeliverToR();
  x.ExpectToI(EX::kIkeAuth, true, 1);
  EXPECT_EQ(x.to_i.front().payload, response);
  x.DeliverToI();
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_EQ(x.EventsR<ChildSaUp>().size(), 1u);
  EXPECT_EQ(x.EventsR<IkeSaUp>().size(), 1u);
  EXPECT_EQ(pool.acquired, 1);
}

// Duplicated messages both ways: the second request is answered from the
// cache, the second response is ignored.
TEST(IkeSaLifecycleTest, DuplicatesAreHarmless) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  x.Connect();
  x.DuplicateToR();
  x.DeliverToR();
  x.DeliverToR();  // IKE_SA_INIT again: same response
  EXPECT_EQ(x.to_i.size(), 2u);
  EXPECT_EQ(x.to_i[0].payload, x.to_i[1].payload);
  x.DeliverToI();
  x.DropToI();
  x.DuplicateToR();
  x.DeliverToR();
  x.DeliverToR();
  EXPECT_EQ(x.to_i.size(), 2u);
  x.DeliverToI();
  x.DeliverToI();
  EXPECT_EQ(x.InitiatorSa()->state(), IkeSaState::kEstablished);
  EXPECT_EQ(x.EventsI<ChildSaUp>().size(), 1u);
  EXPECT_EQ(x.EventsR<ChildSaUp>().size(), 1u);
  EXPECT_EQ(x.responder().size(), 1u);
}

// A silent peer: liveness check after the idle interval, retransmitted with
// backoff, then the IKE SA is declared dead.
//
//   (30 s idle)
//   INFORMATIONAL {} ---X  (+2 s) ---X (+4) ---X (+8) ---X (+16) ---X (+32) ---X
//   (+60 s: give up) -> IkeSaDown{kTimeout}, ChildSaDown{kIkeSaDown}
TEST(IkeSaLifecycleTest, DeadPeerGivesUp) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  const auto [i, r] = Establish(x);
  const Timestamp up = x.now();
  EXPECT_EQ(i->children().size(), 1u);
  // The peer vanishes (and does not check us either).
  r->Terminate(IkeDownReason::kDeleted, "test: silent peer");
  x.Pump();
  std::vector<Duration> sends;
  Timestamp last = up;
  while (x.InitiatorSa() != nullptr) {
    x.AdvanceToNextTimer();
    while (!x.to_r.empty()) {
      EXPECT_EQ(test::Exchanger::Inspect(x.to_r.front()).exchange, EX::kInformational);
      sends.push_back(x.now() - last);
      last = x.now();
      x.DropToR();
    }
  }
  const std::vector<Duration> want = {Duration::Seconds(30), Duration::Seconds(2),
                                      Duration::Seconds(4),  Duration::Seconds(8),
                                      Duration::Seconds(16), Duration::Seconds(32)};
  EXPECT_EQ(sends, want);
  EXPECT_EQ(x.now() - last, Duration::Seconds(60));  // last wait, capped
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<IkeSaDown>()[0].reason, IkeDownReason::kTimeout);
  ASSERT_EQ(x.EventsI<ChildSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<ChildSaDown>()[0].reason, ChildDownReason::kIkeSaDown);
}

// A live peer answers the liveness check; the SA stays, with the next check
// one interval later. The responder's own check runs with its own IDs.
//
//   (30 s idle)
//   INFORMATIONAL(2) {} ---->     <---- INFORMATIONAL(0) {}   (both check)
//               <---- {}          {} ---->
TEST(IkeSaLifecycleTest, LivenessCheck) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = Establish(x);
  EXPECT_EQ(x.AdvanceToNextTimer(), Duration::Seconds(30));
  x.ExpectToR(EX::kInformational, false, 2);
  x.ExpectToI(EX::kInformational, false, 0);
  x.RunUntilQuiet();
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_EQ(r->state(), IkeSaState::kEstablished);
  EXPECT_EQ(i->task_manager().next_request_id(), 3u);
  EXPECT_EQ(r->task_manager().next_request_id(), 1u);
  EXPECT_EQ(x.AdvanceToNextTimer(), Duration::Seconds(30));
  x.ExpectToR(EX::kInformational, false, 3);
}

// The initiator sits behind a NAT: detection in IKE_SA_INIT, IKE_AUTH on
// port 4500 with the non-ESP marker, ESP-in-UDP for the CHILD SA, NAT
// keepalives from the initiator only.
//
//   10.0.0.2:500 -NAT-> 198.51.100.7:40500
//   IKE_SA_INIT  SA KE Ni N(NATD_S) N(NATD_D) ---->
//               <---- SA KE Nr N(NATD_S) N(NATD_D)   (D does not match: we are NATed)
//   10.0.0.2:4500 -NAT-> 198.51.100.7:44500
//   [0000] IKE_AUTH ... ---->
//               <---- [0000] IKE_AUTH ...
//   (20 s) 0xFF ---->
TEST(IkeSaLifecycleTest, NatDetectedMovesToNattPort) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  x.nat = true;
  IkeSa* i = x.Connect();
  EXPECT_EQ(x.to_r.front().local, (Ipv4Endpoint{test::kNatPublicIp, 40500}));
  x.DeliverToR();
  IkeSa* r = x.ResponderSa();
  EXPECT_TRUE(r->remote_behind_nat());
  EXPECT_FALSE(r->local_behind_nat());
  x.DeliverToI();
  EXPECT_TRUE(i->local_behind_nat());
  EXPECT_FALSE(i->remote_behind_nat());
  EXPECT_EQ(i->local().port, kNattPort);
  EXPECT_EQ(i->remote().port, kNattPort);
  x.ExpectToR(EX::kIkeAuth, false, 1);
  EXPECT_TRUE(test::Exchanger::Inspect(x.to_r.front()).marker);
  EXPECT_EQ(x.to_r.front().local, (Ipv4Endpoint{test::kNatPublicIp, 44500}));
  EXPECT_EQ(x.to_r.front().remote, (Ipv4Endpoint{test::kResponderIp, kNattPort}));
  x.DeliverToR();
  EXPECT_EQ(r->remote(), (Ipv4Endpoint{test::kNatPublicIp, 44500}));
  EXPECT_EQ(r->local(), (Ipv4Endpoint{test::kResponderIp, kNattPort}));
  x.ExpectToI(EX::kIkeAuth, true, 1);
  EXPECT_TRUE(test::Exchanger::Inspect(x.to_i.front()).marker);
  x.DeliverToI();
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  const ChildSaInfo ci = x.EventsI<ChildSaUp>()[0].child;
  const ChildSaInfo cr = x.EventsR<ChildSaUp>()[0].child;
  EXPECT_TRUE(ci.udp_encap);
  EXPECT_TRUE(cr.udp_encap);
  EXPECT_EQ(ci.local, (Ipv4Endpoint{test::kInitiatorIp, kNattPort}));
  EXPECT_EQ(ci.remote, (Ipv4Endpoint{test::kResponderIp, kNattPort}));
  EXPECT_EQ(cr.remote, (Ipv4Endpoint{test::kNatPublicIp, 44500}));
  // Keepalives every 20 s of silence, from the NATed side only.
  EXPECT_EQ(x.AdvanceToNextTimer(), Duration::Seconds(20));
  ASSERT_EQ(x.keepalives_i.size(), 1u);
  EXPECT_EQ(x.keepalives_i[0].payload, Bytes{0xff});
  EXPECT_EQ(x.keepalives_i[0].local, (Ipv4Endpoint{test::kInitiatorIp, kNattPort}));
  EXPECT_EQ(x.keepalives_i[0].remote, (Ipv4Endpoint{test::kResponderIp, kNattPort}));
  EXPECT_TRUE(x.keepalives_r.empty());
  // A datagram on 4500 without the marker (ESP) is not IKE.
  x.responder().OnDatagram(x.now(), {test::kResponderIp, kNattPort},
                           {test::kNatPublicIp, 44500}, Bytes{0, 0, 1, 2, 3, 4, 5, 6});
  EXPECT_EQ(x.responder().stats().dropped, 1u);
}

// A peer that fakes NAT detection (strongSwan's encap=yes) gets UDP
// encapsulation although no NAT is on the path.
TEST(IkeSaLifecycleTest, ForcedEncapsulation) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.force_encapsulation = true;
  Exchanger x(ic, Responder(pool));
  auto [i, r] = Establish(x);
  EXPECT_TRUE(r->remote_behind_nat());
  EXPECT_EQ(i->remote().port, kNattPort);
  EXPECT_TRUE(x.EventsI<ChildSaUp>()[0].child.udp_encap);
  EXPECT_TRUE(x.EventsR<ChildSaUp>()[0].child.udp_encap);
}

// A NAT mapping change without MOBIKE: the responder follows the
// authenticated source (RFC 7296 2.23). (With MOBIKE it must not: RFC 4555
// 3.8, ike_sa_mobike_test.)
TEST(IkeSaLifecycleTest, NatMappingChangeFollowsPeer) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.mobike.enabled = false;
  Exchanger x(ic, Responder(pool));
  x.nat = true;
  auto [i, r] = Establish(x);
  x.events_r.clear();
  ASSERT_TRUE(i->CreateChildSa(x.now()).ok());
  x.Pump();
  x.to_r.front().local.port = 50000;  // the NAT picked a new port
  x.DeliverToR();
  EXPECT_EQ(r->remote(), (Ipv4Endpoint{test::kNatPublicIp, 50000}));
  ASSERT_EQ(x.EventsR<PathChanged>().size(), 1u);
  EXPECT_EQ(x.EventsR<PathChanged>()[0].remote, (Ipv4Endpoint{test::kNatPublicIp, 50000}));
  EXPECT_EQ(x.to_i.front().remote, (Ipv4Endpoint{test::kNatPublicIp, 50000}));
}

// A second CHILD SA with PFS over CREATE_CHILD_SA.
//
//   CREATE_CHILD_SA(2)  SK{SA Ni KEi TSi TSr} ---->
//               <---- SK{SA Nr KEr TSi TSr}
TEST(IkeSaLifecycleTest, CreateChildSaWithPfs) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  const Suite pfs = Suite::ForEsp(EncrId::kAesGcm16, 256, std::nullopt, DhId::kCurve25519,
                                  EsnId::kNoEsn)
                        .value();
  ic.esp_proposals = {pfs};
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->esp_proposals = {pfs};
  Exchanger x(ic, std::move(rc));
  auto [i, r] = Establish(x);
  ASSERT_EQ(x.EventsI<ChildSaUp>().size(), 1u);  // IKE_AUTH: DH ignored
  const std::vector<TrafficSelector> local = {i->children()[0].info.local_ts};
  const std::vector<TrafficSelector> remote = {
      TrafficSelector::Ipv4Prefix(Ipv4Prefix::Parse("10.1.5.0/24").value())};
  ASSERT_TRUE(i->CreateChildSa(x.now(), local, remote).ok());
  x.Pump();
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  x.DeliverToR();
  x.ExpectToI(EX::kCreateChildSa, true, 2);
  x.DeliverToI();
  ASSERT_EQ(x.EventsI<ChildSaUp>().size(), 2u);
  ASSERT_EQ(x.EventsR<ChildSaUp>().size(), 2u);
  const ChildSaInfo ci = x.EventsI<ChildSaUp>()[1].child;
  const ChildSaInfo cr = x.EventsR<ChildSaUp>()[1].child;
  EXPECT_EQ(ci.suite.dh(), DhId::kCurve25519);
  EXPECT_EQ(ci.spi_out, cr.spi_in);
  EXPECT_TRUE(ci.keys_out.encr.Equals(cr.keys_in.encr));
  EXPECT_TRUE(ci.keys_in.encr.Equals(cr.keys_out.encr));
  EXPECT_FALSE(ci.keys_out.encr.Equals(x.EventsI<ChildSaUp>()[0].child.keys_out.encr));
  EXPECT_EQ(ci.remote_ts, remote);
  EXPECT_EQ(i->children().size(), 2u);
  EXPECT_EQ(r->children().size(), 2u);
}

// Selectors outside the responder's policy: TS_UNACCEPTABLE; the IKE SA
// stays.
//
//   CREATE_CHILD_SA  SK{SA Ni TSi TSr(192.168.0.0/16)} ---->
//               <---- SK{N(TS_UNACCEPTABLE)}
TEST(IkeSaLifecycleTest, CreateChildSaTsUnacceptable) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = Establish(x);
  ASSERT_TRUE(i->CreateChildSa(x.now(), std::nullopt,
                               std::vector<TrafficSelector>{TrafficSelector::Ipv4Prefix(
                                   Ipv4Prefix::Parse("192.168.0.0/16").value())})
                  .ok());
  x.Pump();
  x.RunUntilQuiet();
  ASSERT_EQ(x.EventsI<ChildSaFailed>().size(), 1u);
  EXPECT_EQ(x.EventsI<ChildSaFailed>()[0].notify, NotifyType::kTsUnacceptable);
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_EQ(i->children().size(), 1u);
  EXPECT_EQ(r->children().size(), 1u);
}

// Deleting a CHILD SA from either side; the responder's first request has
// Message ID 0 (its own counter).
//
//   INFORMATIONAL(2)  SK{D(ESP, spi_i)} ---->
//               <---- SK{D(ESP, spi_r)}
TEST(IkeSaLifecycleTest, DeleteChildSa) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = Establish(x);
  const std::uint32_t spi = i->children()[0].info.spi_in;
  ASSERT_TRUE(i->DeleteChildSa(x.now(), spi).ok());
  x.Pump();
  x.ExpectToR(EX::kInformational, false, 2);
  x.DeliverToR();
  EXPECT_TRUE(r->children().empty());
  ASSERT_EQ(x.EventsR<ChildSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsR<ChildSaDown>()[0].reason, ChildDownReason::kDeletedByPeer);
  EXPECT_EQ(x.EventsR<ChildSaDown>()[0].spi_out, spi);
  x.DeliverToI();
  EXPECT_TRUE(i->children().empty());
  ASSERT_EQ(x.EventsI<ChildSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<ChildSaDown>()[0].reason, ChildDownReason::kDeleted);
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_EQ(i->DeleteChildSa(x.now(), spi).error().code(), Errc::kNotFound);
}

TEST(IkeSaLifecycleTest, ResponderDeletesChildSa) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = Establish(x);
  ASSERT_TRUE(r->DeleteChildSa(x.now(), r->children()[0].info.spi_in).ok());
  x.Pump();
  x.ExpectToI(EX::kInformational, false, 0);
  x.RunUntilQuiet();
  EXPECT_TRUE(i->children().empty());
  EXPECT_TRUE(r->children().empty());
}

// Both sides delete the same CHILD SA at once (RFC 7296 1.4.1): each
// request is answered without a Delete payload and each side removes the
// CHILD SA once.
//
//   INFORMATIONAL(2) SK{D(ESP,a)} ---->  <---- INFORMATIONAL(0) SK{D(ESP,b)}
//                    SK{} ---->          <---- SK{}
TEST(IkeSaLifecycleTest, DeleteChildSaCollision) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = Establish(x);
  ASSERT_TRUE(i->DeleteChildSa(x.now(), i->children()[0].info.spi_in).ok());
  ASSERT_TRUE(r->DeleteChildSa(x.now(), r->children()[0].info.spi_in).ok());
  x.Pump();
  x.DeliverToR();  // the initiator's request reaches the responder first
  x.DeliverToI();  // the responder's request
  ASSERT_EQ(x.to_r.size(), 1u);
  ASSERT_EQ(x.to_i.size(), 1u);
  for (const IkeTransmit* t : {&x.to_r.front(), &x.to_i.front()}) {
    EXPECT_TRUE(test::Exchanger::Inspect(*t).response);
  }
  x.RunUntilQuiet();
  EXPECT_EQ(x.EventsI<ChildSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsR<ChildSaDown>().size(), 1u);
  EXPECT_TRUE(i->children().empty());
  EXPECT_TRUE(r->children().empty());
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
}

// Deleting the IKE SA takes its CHILD SAs and the virtual IP with it.
//
//   INFORMATIONAL(2)  SK{D(IKE)} ---->
//               <---- SK{}
TEST(IkeSaLifecycleTest, DeleteIkeSa) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = Establish(x);
  i->Delete(x.now());
  x.Pump();
  EXPECT_EQ(i->state(), IkeSaState::kDeleting);
  x.ExpectToR(EX::kInformational, false, 2);
  x.DeliverToR();
  ASSERT_EQ(x.EventsR<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsR<IkeSaDown>()[0].reason, IkeDownReason::kDeletedByPeer);
  ASSERT_EQ(x.EventsR<ChildSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsR<ChildSaDown>()[0].reason, ChildDownReason::kIkeSaDown);
  EXPECT_EQ(pool.released, 1);
  EXPECT_EQ(x.responder().size(), 0u);
  x.ExpectToI(EX::kInformational, true, 2);
  x.DeliverToI();
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<IkeSaDown>()[0].reason, IkeDownReason::kDeleted);
  EXPECT_EQ(x.initiator().size(), 0u);
}

// A Delete whose response is lost: the IKE SA still goes down when the
// retransmissions give up.
TEST(IkeSaLifecycleTest, DeleteIkeSaUnanswered) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = Establish(x);
  i->Delete(x.now());
  x.Pump();
  while (x.initiator().size() != 0) {
    x.to_r.clear();
    x.AdvanceToNextTimer();
  }
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<IkeSaDown>()[0].reason, IkeDownReason::kTimeout);
}

// INITIAL_CONTACT from a new IKE SA of the same identity replaces the old.
TEST(IkeSaLifecycleTest, InitialContactReplacesOldIkeSa) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  Establish(x);
  const std::uint64_t old_id = x.responder().IdOf(x.ResponderSa());
  x.Connect();  // the client restarted: a second IKE SA, INITIAL_CONTACT
  x.RunUntilQuiet();
  EXPECT_EQ(x.responder().Find(old_id), nullptr);
  EXPECT_EQ(x.responder().size(), 1u);
  bool replaced = false;
  for (const IkeSaDown& d : x.EventsR<IkeSaDown>()) replaced |= d.reason == IkeDownReason::kReplaced;
  EXPECT_TRUE(replaced);
  EXPECT_EQ(x.EventsR<IkeSaUp>().size(), 2u);
}

// Hard CHILD SA lifetime: the CHILD SA is deleted.
TEST(IkeSaLifecycleTest, ChildHardLifetimeDeletes) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.lifetimes.child_hard = Duration::Seconds(10);
  Exchanger x(ic, Responder(pool));
  auto [i, r] = Establish(x);
  EXPECT_EQ(x.AdvanceToNextTimer(), Duration::Seconds(10));
  x.ExpectToR(EX::kInformational, false, 2);
  x.RunUntilQuiet();
  EXPECT_TRUE(i->children().empty());
  EXPECT_TRUE(r->children().empty());
}

// The setup timeout drops an IKE SA that never completes.
TEST(IkeSaLifecycleTest, SetupTimeout) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  x.Connect();
  x.DeliverToR();
  x.to_i.clear();  // the initiator never hears back
  while (x.responder().size() != 0) {
    x.to_r.clear();
    x.to_i.clear();
    x.AdvanceToNextTimer();
  }
  ASSERT_EQ(x.EventsR<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsR<IkeSaDown>()[0].reason, IkeDownReason::kSetupTimeout);
}

}  // namespace
}  // namespace mipsec::ikev2

// MOBIKE (RFC 4555) at the IKE SA layer: negotiation, UPDATE_SA_ADDRESSES
// with and without NATs, the return routability check, address lists, path
// testing, NAT prohibition, refused addresses, NAT mapping changes, and moves
// that cross retransmissions, rekeys and each other. The whole-network
// choreography (links, NAT boxes, ESP traffic) is in the simulator tests;
// here two IkeSaManagers exchange datagrams one by one.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "ikev2/codec/header.h"
#include "ikev2/codec/message.h"
#include "ikev2/crypto/sk_ciphers.h"
#include "ikev2/sa/ike_sa_test_util.h"

namespace mipsec::ikev2 {
namespace {

using test::EstablishQuiet;
using test::Exchanger;
using test::Responder;
using test::TestAddressPool;
using EX = ExchangeType;

const Ipv4Address kA = test::kInitiatorIp;  // 10.0.0.2, where the initiator starts
const Ipv4Address kB = Ipv4Address::FromOctets(10, 0, 9, 2);
const Ipv4Address kC = Ipv4Address::FromOctets(10, 0, 7, 2);
const Ipv4Address kD = Ipv4Address::FromOctets(192, 0, 2, 50);
const Ipv4Address kR = test::kResponderIp;
const Ipv4Address kR2 = Ipv4Address::FromOctets(203, 0, 113, 2);

// The decrypted message in datagram `t`, read with the keys of `receiver`.
Message Open(IkeSa& receiver, const IkeTransmit& t) {
  DeterministicRandom rng(99);
  Result<SkCipherPair> p =
      MakeSkCipherPair(*receiver.suite(), *receiver.keys(), receiver.original_initiator(), rng);
  EXPECT_TRUE(p.ok());
  ByteSpan b = t.payload;
  if (t.local.port == kNattPort || t.remote.port == kNattPort) b = b.subspan(4);
  Result<Message> m = DecodeProtected(b, *p->inbound);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().ToString());
  return m.ok() ? std::move(*m) : Message{};
}

std::vector<NotifyType> Notifies(const Message& m) {
  std::vector<NotifyType> v;
  for (const NotifyPayload* n : m.Notifies()) v.push_back(n->type);
  return v;
}

bool Has(const std::vector<NotifyType>& v, NotifyType t) {
  return std::find(v.begin(), v.end(), t) != v.end();
}

void ExpectPath(const IkeSa* sa, Ipv4Endpoint local, Ipv4Endpoint remote, bool encap) {
  ASSERT_FALSE(sa->children().empty());
  for (const ChildSa& c : sa->children()) {
    EXPECT_EQ(c.info.local, local);
    EXPECT_EQ(c.info.remote, remote);
    EXPECT_EQ(c.info.udp_encap, encap);
  }
}

// Both sides' CHILD SAs run between `initiator_address` and the responder,
// without UDP encapsulation.
void ExpectBothOn(const IkeSa* i, const IkeSa* r, Ipv4Address initiator_address) {
  ExpectPath(i, {initiator_address, kNattPort}, {kR, kNattPort}, false);
  ExpectPath(r, {kR, kNattPort}, {initiator_address, kNattPort}, false);
}

// Exactly one CHILD SA on each side, and the same one.
void ExpectOneChildPair(const IkeSa* i, const IkeSa* r) {
  ASSERT_EQ(i->children().size(), 1u);
  ASSERT_EQ(r->children().size(), 1u);
  EXPECT_EQ(i->children()[0].info.spi_out, r->children()[0].info.spi_in);
}

// `sa` moves to `to` (its only address) and every message is delivered.
void MoveAndSettle(Exchanger& x, IkeSa* sa, Ipv4Address to) {
  ASSERT_TRUE(sa->UpdateLocalAddresses(x.now(), {to}, to).ok());
  x.Pump();
  x.RunUntilQuiet();
}

// RFC 4555 3.2: both sent MOBIKE_SUPPORTED; RFC 4555 3.3: IKE is on 4500.
TEST(IkeSaMobikeTest, NegotiatedInIkeAuth) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  EXPECT_TRUE(i->mobike());
  EXPECT_TRUE(r->mobike());
  EXPECT_TRUE(i->mobike_initiator());
  EXPECT_FALSE(r->mobike_initiator());
  EXPECT_EQ(i->remote(), (Ipv4Endpoint{kR, kNattPort}));
  EXPECT_EQ(r->remote(), (Ipv4Endpoint{kA, kNattPort}));
  EXPECT_EQ(i->peer_addresses(), std::vector<Ipv4Address>{kR});
  EXPECT_EQ(r->peer_addresses(), std::vector<Ipv4Address>{kA});
}

TEST(IkeSaMobikeTest, NotUsedWhenOneSideDisablesIt) {
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->mobike.enabled = false;
  Exchanger x(test::InitiatorPskConfig(), rc);
  auto [i, r] = EstablishQuiet(x);
  EXPECT_FALSE(i->mobike());
  EXPECT_FALSE(r->mobike());
  // Without MOBIKE the IKE SA cannot follow a new address.
  Status st = i->UpdateLocalAddresses(x.now(), {kB}, kB);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Errc::kUnsupported);
  EXPECT_EQ(i->local().address, kA);
}

// RFC 4555 3.4: other addresses go in IKE_AUTH as ADDITIONAL_IP4_ADDRESS and
// the peer stores them.
TEST(IkeSaMobikeTest, AdditionalAddressesInIkeAuth) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  Result<IkeSa*> sa = x.initiator().Initiate(x.now(), test::InitiatorPskConfig(),
                                             {kA, kIkePort}, {kR, kIkePort});
  ASSERT_TRUE(sa.ok());
  ASSERT_TRUE((*sa)->UpdateLocalAddresses(x.now(), {kA, kD}, kA).ok());
  x.Pump();
  x.RunUntilQuiet();
  IkeSa* r = x.ResponderSa();
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->state(), IkeSaState::kEstablished);
  EXPECT_EQ(r->peer_addresses(), (std::vector<Ipv4Address>{kA, kD}));
}

// RFC 4555 3.6: a changed address list alone is sent in an INFORMATIONAL
// (the whole list each time; NO_ADDITIONAL_ADDRESSES when there is none).
TEST(IkeSaMobikeTest, AddressListUpdatesReplaceThePeersSet) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kA, kD, kB}, kA).ok());
  x.Pump();
  ASSERT_EQ(x.to_r.size(), 1u);
  const std::vector<NotifyType> n = Notifies(Open(*r, x.to_r.front()));
  EXPECT_EQ(std::count(n.begin(), n.end(), NotifyType::kAdditionalIp4Address), 2);
  EXPECT_TRUE(Has(n, NotifyType::kCookie2));
  EXPECT_FALSE(Has(n, NotifyType::kUpdateSaAddresses));
  x.RunUntilQuiet();
  EXPECT_EQ(r->peer_addresses(), (std::vector<Ipv4Address>{kA, kB, kD}));
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kA}, kA).ok());
  x.Pump();
  ASSERT_EQ(x.to_r.size(), 1u);
  EXPECT_TRUE(Has(Notifies(Open(*r, x.to_r.front())), NotifyType::kNoAdditionalAddresses));
  x.RunUntilQuiet();
  EXPECT_EQ(r->peer_addresses(), std::vector<Ipv4Address>{kA});
  EXPECT_TRUE(x.EventsI<PathChanged>().empty());
  EXPECT_TRUE(x.EventsR<PathChanged>().empty());
}

// RFC 4555 3.5 and 3.7: the initiator moves its IPsec SAs at once and sends
// UPDATE_SA_ADDRESSES; the responder moves the IKE SA at once but the IPsec
// SAs only when its return routability check came back from the new address.
TEST(IkeSaMobikeTest, MoveWithReturnRoutabilityCheck) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  const Ipv4Endpoint b{kB, kNattPort}, rr{kR, kNattPort};
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kB}, kB).ok());
  x.Pump();
  ASSERT_EQ(x.EventsI<PathChanged>().size(), 1u);
  EXPECT_EQ(x.EventsI<PathChanged>()[0].local, b);
  ExpectPath(i, b, rr, false);
  ASSERT_EQ(x.to_r.size(), 1u);
  x.ExpectToR(EX::kInformational, false, 2);
  EXPECT_EQ(x.to_r.front().local, b);
  const std::vector<NotifyType> n = Notifies(Open(*r, x.to_r.front()));
  EXPECT_TRUE(Has(n, NotifyType::kUpdateSaAddresses));
  EXPECT_TRUE(Has(n, NotifyType::kNatDetectionSourceIp));
  EXPECT_TRUE(Has(n, NotifyType::kNatDetectionDestinationIp));
  EXPECT_TRUE(Has(n, NotifyType::kNoAdditionalAddresses));
  EXPECT_TRUE(Has(n, NotifyType::kCookie2));
  EXPECT_FALSE(Has(n, NotifyType::kNoNatsAllowed));  // NAT-T is on
  x.DeliverToR();
  EXPECT_EQ(r->remote(), b);
  EXPECT_TRUE(r->return_routability_pending());
  EXPECT_TRUE(x.EventsR<PathChanged>().empty());
  ExpectPath(r, rr, {kA, kNattPort}, false);
  // The response, then the check, both to the new address.
  ASSERT_EQ(x.to_i.size(), 2u);
  x.ExpectToI(EX::kInformational, true, 2);
  EXPECT_EQ(x.to_i[1].remote, b);
  EXPECT_TRUE(Has(Notifies(Open(*i, x.to_i[1])), NotifyType::kCookie2));
  x.DeliverToI();
  x.ExpectToI(EX::kInformational, false, 0);
  x.DeliverToI();  // our answer echoes COOKIE2
  x.DeliverToR();
  EXPECT_FALSE(r->return_routability_pending());
  ASSERT_EQ(x.EventsR<PathChanged>().size(), 1u);
  EXPECT_EQ(x.EventsR<PathChanged>()[0].remote, b);
  ExpectPath(r, rr, b, false);
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_EQ(r->state(), IkeSaState::kEstablished);
  EXPECT_TRUE(x.to_r.empty());
  EXPECT_TRUE(x.to_i.empty());
}

// RFC 4555 3.7: the check is configurable; without it the IPsec SAs follow
// the UPDATE at once. Moving back to a checked address needs no new check.
TEST(IkeSaMobikeTest, MoveWithoutReturnRoutabilityCheckAndBackToAVerifiedAddress) {
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->mobike.return_routability_check = false;
  Exchanger x(test::InitiatorPskConfig(), rc);
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kB}, kB).ok());
  x.Pump();
  x.DeliverToR();
  ASSERT_EQ(x.EventsR<PathChanged>().size(), 1u);
  EXPECT_EQ(x.EventsR<PathChanged>()[0].remote, (Ipv4Endpoint{kB, kNattPort}));
  x.RunUntilQuiet();
  EXPECT_EQ(x.to_r.size() + x.to_i.size(), 0u);

  TestAddressPool pool2;
  Exchanger y(test::InitiatorPskConfig(), Responder(pool2));
  auto [i2, r2] = EstablishQuiet(y);
  ASSERT_TRUE(i2->UpdateLocalAddresses(y.now(), {kB}, kB).ok());
  y.Pump();
  y.RunUntilQuiet();
  EXPECT_EQ(r2->remote(), (Ipv4Endpoint{kB, kNattPort}));
  y.events_r.clear();
  // Back to A, which the handshake itself proved: no check this time.
  ASSERT_TRUE(i2->UpdateLocalAddresses(y.now(), {kA}, kA).ok());
  y.Pump();
  y.DeliverToR();
  EXPECT_FALSE(r2->return_routability_pending());
  ASSERT_EQ(y.EventsR<PathChanged>().size(), 1u);
  EXPECT_EQ(y.EventsR<PathChanged>()[0].remote, (Ipv4Endpoint{kA, kNattPort}));
  ASSERT_EQ(y.to_i.size(), 1u);  // only the response
}

// RFC 4555 3.5 with a NAT appearing: both sides switch to UDP
// encapsulation from the UPDATE's NAT detection, and the initiator starts
// NAT keepalives.
TEST(IkeSaMobikeTest, MoveIntoNatSwitchesToUdpEncapsulation) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  EXPECT_FALSE(i->nat_detected());
  x.nat = true;
  x.nat_private = kB;
  MoveAndSettle(x, i, kB);
  const Ipv4Endpoint pub{test::kNatPublicIp, kNattPort + 40000};
  EXPECT_TRUE(i->local_behind_nat());
  EXPECT_TRUE(r->remote_behind_nat());
  EXPECT_EQ(r->remote(), pub);
  ExpectPath(i, {kB, kNattPort}, {kR, kNattPort}, true);
  ExpectPath(r, {kR, kNattPort}, pub, true);
  ASSERT_FALSE(x.EventsR<PathChanged>().empty());
  EXPECT_TRUE(x.EventsR<PathChanged>().back().udp_encap);
  EXPECT_TRUE(x.EventsI<PathChanged>().back().udp_encap);
  // Keepalives from behind the NAT (RFC 3948 4).
  x.Advance(Duration::Seconds(21));
  EXPECT_FALSE(x.keepalives_i.empty());
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
}

TEST(IkeSaMobikeTest, MoveOutOfNatDropsUdpEncapsulation) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  x.nat = true;
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->nat_detected());
  ASSERT_TRUE(i->children()[0].info.udp_encap);
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kD}, kD).ok());  // a public address
  x.Pump();
  x.RunUntilQuiet();
  EXPECT_FALSE(i->nat_detected());
  EXPECT_FALSE(r->nat_detected());
  ExpectBothOn(i, r, kD);
  EXPECT_FALSE(x.EventsR<PathChanged>().back().udp_encap);
}

// A lost UPDATE is retransmitted from the new address (RFC 7296 2.1).
TEST(IkeSaMobikeTest, LostUpdateIsRetransmitted) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kB}, kB).ok());
  x.Pump();
  x.DropToR();
  EXPECT_EQ(x.AdvanceToNextTimer(), Duration::Seconds(2));
  x.ExpectToR(EX::kInformational, false, 2);
  EXPECT_EQ(x.to_r.front().local.address, kB);
  x.RunUntilQuiet();
  EXPECT_EQ(r->remote(), (Ipv4Endpoint{kB, kNattPort}));
  ExpectPath(r, {kR, kNattPort}, {kB, kNattPort}, false);
}

// Issue 6 item 2 / RFC 4555 3.5-3.6: a burst of moves sends the first
// UPDATE at once; the ones that follow re-send it from the newest address
// and fold into one more UPDATE, whose answer the initiator acts on.
TEST(IkeSaMobikeTest, BurstOfMovesCoalesces) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kB}, kB).ok());
  x.Pump();
  ASSERT_EQ(x.to_r.size(), 1u);  // no delay before the first one
  EXPECT_EQ(x.to_r.front().local.address, kB);
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kC}, kC).ok());
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kD}, kD).ok());
  x.unreachable = {kB, kC};  // those links are gone
  x.to_r.clear();
  x.Pump();
  std::set<std::uint32_t> update_ids;
  for (int step = 0; step < 20 && (!x.to_r.empty() || !x.to_i.empty()); ++step) {
    if (!x.to_r.empty()) {
      const test::Seen s = Exchanger::Inspect(x.to_r.front());
      if (s.exchange == EX::kInformational && !s.response &&
          Has(Notifies(Open(*r, x.to_r.front())), NotifyType::kUpdateSaAddresses)) {
        update_ids.insert(s.message_id);
        EXPECT_EQ(x.to_r.front().local.address, kD);
      }
      x.DeliverToR();
    }
    if (!x.to_i.empty()) x.DeliverToI();
  }
  EXPECT_EQ(update_ids, (std::set<std::uint32_t>{2, 3}));
  EXPECT_EQ(r->remote(), (Ipv4Endpoint{kD, kNattPort}));
  ExpectBothOn(i, r, kD);
  EXPECT_FALSE(r->return_routability_pending());
}

// A move while a CHILD SA rekey is in flight: the request goes again at
// once over the new path, then the UPDATE follows (RFC 4555 3.5).
TEST(IkeSaMobikeTest, MoveDuringChildRekey) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->RekeyChildSa(x.now(), i->children()[0].info.spi_in).ok());
  x.Pump();
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  x.DropToR();  // lost with the old link
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kB}, kB).ok());
  x.Pump();
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  EXPECT_EQ(x.to_r.front().local.address, kB);
  x.RunUntilQuiet();
  ExpectOneChildPair(i, r);
  ExpectBothOn(i, r, kB);
}

// A move while a request is being retransmitted: it is sent at once over
// the new path instead of waiting for the next retransmission.
TEST(IkeSaMobikeTest, MoveDuringRetransmission) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->CreateChildSa(x.now()).ok());
  x.Pump();
  x.DropToR();
  x.AdvanceToNextTimer();
  x.DropToR();  // the first retransmission is lost too
  const Timestamp before = x.now();
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kB}, kB).ok());
  x.Pump();
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  EXPECT_EQ(x.to_r.front().local.address, kB);
  x.RunUntilQuiet();
  EXPECT_EQ(x.now(), before);
  EXPECT_EQ(i->children().size(), 2u);
  EXPECT_EQ(r->children().size(), 2u);
  ExpectPath(r, {kR, kNattPort}, {kB, kNattPort}, false);
}

// Issue 6 item 3: into a network where the gateway is unreachable, and
// back before the retransmissions give up: the IKE SA survives and ends on
// the reachable path.
TEST(IkeSaMobikeTest, IntoUnreachableNetworkAndBack) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  x.unreachable = {kB};
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kB}, kB).ok());
  x.Pump();
  for (int k = 0; k < 3; ++k) x.AdvanceToNextTimer();  // 2 s, 4 s, 8 s: all lost
  EXPECT_GE(x.blackholed, 4u);
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kD}, kD).ok());
  x.Pump();
  EXPECT_EQ(x.to_r.size(), 1u);  // at once, not at the next timer
  x.RunUntilQuiet();
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_EQ(r->remote(), (Ipv4Endpoint{kD, kNattPort}));
  ExpectBothOn(i, r, kD);
}

// RFC 4555 3.10 and 3.5: the current address disappears and routing names
// none: every pair is tested and the first that answers is used.
TEST(IkeSaMobikeTest, PathTestWhenTheAddressIsLost) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  x.unreachable = {kA, kB};
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kB, kC}, std::nullopt).ok());
  x.Pump();
  ASSERT_EQ(x.to_r.size(), 1u);  // the probe from B was lost, the one from C is here
  EXPECT_EQ(x.to_r.front().local.address, kC);
  EXPECT_EQ(x.blackholed, 1u);
  x.RunUntilQuiet();
  EXPECT_EQ(i->local(), (Ipv4Endpoint{kC, kNattPort}));
  EXPECT_EQ(r->remote(), (Ipv4Endpoint{kC, kNattPort}));
  ExpectBothOn(i, r, kC);
}

// RFC 4555 3.5: a request retransmitted several times without an answer
// makes the initiator try its other addresses.
TEST(IkeSaMobikeTest, RetransmissionsTestOtherPaths) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kA, kB}, kA).ok());
  x.Pump();
  x.RunUntilQuiet();  // the address list
  x.unreachable = {kA};  // A breaks without any address event
  ASSERT_TRUE(i->CreateChildSa(x.now()).ok());
  x.Pump();
  x.AdvanceToNextTimer();  // retransmit 1: A only
  EXPECT_TRUE(x.to_r.empty());
  x.AdvanceToNextTimer();  // retransmit 2: every pair
  ASSERT_EQ(x.to_r.size(), 1u);
  EXPECT_EQ(x.to_r.front().local.address, kB);
  x.RunUntilQuiet();
  EXPECT_EQ(i->local(), (Ipv4Endpoint{kB, kNattPort}));
  EXPECT_EQ(r->remote(), (Ipv4Endpoint{kB, kNattPort}));
  EXPECT_EQ(r->children().size(), 2u);
  ExpectPath(r, {kR, kNattPort}, {kB, kNattPort}, false);
}

// The responder loses its address (RFC 4555 3.5 exception, 3.6): it moves
// and sends its list; the initiator tests the paths and follows.
TEST(IkeSaMobikeTest, ResponderMovesAndTheInitiatorFollows) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  x.unreachable = {kR};
  ASSERT_TRUE(r->UpdateLocalAddresses(x.now(), {kR2}, kR2).ok());
  x.Pump();
  ExpectPath(r, {kR2, kNattPort}, {kA, kNattPort}, false);
  x.RunUntilQuiet();
  EXPECT_EQ(i->peer_addresses(), std::vector<Ipv4Address>{kR2});
  EXPECT_EQ(i->remote(), (Ipv4Endpoint{kR2, kNattPort}));
  ExpectPath(i, {kA, kNattPort}, {kR2, kNattPort}, false);
  EXPECT_EQ(r->local(), (Ipv4Endpoint{kR2, kNattPort}));
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_EQ(r->state(), IkeSaState::kEstablished);
}

// Both peers send MOBIKE requests at once: the initiator's UPDATE crosses
// the responder's new address list. Both complete.
TEST(IkeSaMobikeTest, BothPeersUpdateAtOnce) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kB}, kB).ok());
  ASSERT_TRUE(r->UpdateLocalAddresses(x.now(), {kR, kR2}, kR).ok());
  x.Pump();
  ASSERT_EQ(x.to_r.size(), 1u);
  ASSERT_EQ(x.to_i.size(), 1u);
  x.RunUntilQuiet();
  EXPECT_EQ(i->peer_addresses(), (std::vector<Ipv4Address>{kR, kR2}));
  EXPECT_EQ(r->remote(), (Ipv4Endpoint{kB, kNattPort}));
  ExpectBothOn(i, r, kB);
}

// What strongSwan with kernel-libipsec does after every update: both ends
// rekey every CHILD SA at once. One CHILD SA survives, on the new path.
TEST(IkeSaMobikeTest, SimultaneousChildRekeysRightAfterTheUpdate) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  MoveAndSettle(x, i, kB);
  ASSERT_TRUE(i->RekeyChildSa(x.now(), i->children()[0].info.spi_in).ok());
  ASSERT_TRUE(r->RekeyChildSa(x.now(), r->children()[0].info.spi_in).ok());
  x.Pump();
  x.RunUntilQuiet();
  ExpectOneChildPair(i, r);
  ExpectBothOn(i, r, kB);
}

// RFC 4555 1.3: after the responder rekeyed the IKE SA (becoming its
// "original initiator" in RFC 7296 terms), the first initiator still
// decides the addresses, and MOBIKE state carries over.
TEST(IkeSaMobikeTest, MobikeRolesSurviveIkeRekeyByResponder) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  MoveAndSettle(x, i, kB);
  ASSERT_TRUE(r->RekeyIkeSa(x.now()).ok());
  x.Pump();
  x.RunUntilQuiet();
  ASSERT_EQ(x.EventsI<IkeSaRekeyed>().size(), 1u);
  IkeSa* ni = x.initiator().Find(x.EventsI<IkeSaRekeyed>()[0].new_sa_id);
  IkeSa* nr = x.responder().Find(x.EventsR<IkeSaRekeyed>()[0].new_sa_id);
  ASSERT_NE(ni, nullptr);
  ASSERT_NE(nr, nullptr);
  EXPECT_FALSE(ni->original_initiator());
  EXPECT_TRUE(ni->mobike());
  EXPECT_TRUE(ni->mobike_initiator());
  EXPECT_FALSE(nr->mobike_initiator());
  EXPECT_EQ(ni->local(), (Ipv4Endpoint{kB, kNattPort}));
  x.events_r.clear();
  MoveAndSettle(x, ni, kD);
  EXPECT_EQ(nr->remote(), (Ipv4Endpoint{kD, kNattPort}));
  ExpectPath(nr, {kR, kNattPort}, {kD, kNattPort}, false);
  EXPECT_FALSE(x.EventsR<PathChanged>().empty());
}

// RFC 4555 3.9: without NAT-T, UPDATE_SA_ADDRESSES carries NO_NATS_ALLOWED;
// the responder accepts it when it matches the IP header and answers
// UNEXPECTED_NAT_DETECTED (changing nothing) when a NAT rewrote it. The
// initiator retries with new requests and finally gives up.
TEST(IkeSaMobikeTest, NoNatsAllowed) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  i->set_peer_natt(false);  // as with a peer that does no NAT-T
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kB}, kB).ok());
  x.Pump();
  ASSERT_EQ(x.to_r.size(), 1u);
  const std::vector<NotifyType> n = Notifies(Open(*r, x.to_r.front()));
  EXPECT_TRUE(Has(n, NotifyType::kNoNatsAllowed));
  EXPECT_FALSE(Has(n, NotifyType::kNatDetectionSourceIp));
  x.RunUntilQuiet();
  EXPECT_EQ(r->remote(), (Ipv4Endpoint{kB, kNattPort}));

  x.nat = true;
  x.nat_private = kC;
  x.events_i.clear();
  MoveAndSettle(x, i, kC);
  EXPECT_EQ(r->remote(), (Ipv4Endpoint{kB, kNattPort}));  // unchanged
  EXPECT_EQ(x.initiator().size(), 0u);                    // gone
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_NE(x.EventsI<IkeSaDown>()[0].detail.find("UNEXPECTED_NAT_DETECTED"), std::string::npos);
  EXPECT_EQ(r->state(), IkeSaState::kEstablished);
}

class RefuseNet final : public PathPolicy {
 public:
  bool Acceptable(const Ipv4Endpoint& /*local*/, const Ipv4Endpoint& remote) const override {
    return !Ipv4Prefix::Parse("10.0.7.0/24").value().Contains(remote.address);
  }
};

// RFC 4555 3.5: UNACCEPTABLE_ADDRESSES: the responder keeps its state; the
// initiator goes back to the old path if it still has that address, and
// gives up if not.
TEST(IkeSaMobikeTest, UnacceptableAddresses) {
  RefuseNet policy;
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->mobike.path_policy = &policy;
  {
    Exchanger x(test::InitiatorPskConfig(), rc);
    auto [i, r] = EstablishQuiet(x);
    ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kA, kC}, kC).ok());
    x.Pump();
    x.RunUntilQuiet();
    EXPECT_EQ(r->remote(), (Ipv4Endpoint{kA, kNattPort}));
    EXPECT_EQ(i->local(), (Ipv4Endpoint{kA, kNattPort}));
    ExpectPath(i, {kA, kNattPort}, {kR, kNattPort}, false);
    EXPECT_EQ(x.EventsI<PathChanged>().size(), 2u);  // there and back
    EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  }
  {
    Exchanger x(test::InitiatorPskConfig(), rc);
    auto [i, r] = EstablishQuiet(x);
    ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kC}, kC).ok());
    x.Pump();
    x.RunUntilQuiet();
    ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
    EXPECT_NE(x.EventsI<IkeSaDown>()[0].detail.find("UNACCEPTABLE_ADDRESSES"), std::string::npos);
    EXPECT_EQ(r->remote(), (Ipv4Endpoint{kA, kNattPort}));
  }
}

// ---- PathConfirmed: the peer answered the UPDATE of our latest move ----
// (what the RFC 5266 3.4 controller waits for before it registers through
// the tunnel: only the gateway's authenticated answer says "outside").

// Where the initiator's events of type PathConfirmed (or any other) are in
// its event log, for order checks.
template <typename T>
std::vector<std::size_t> IndicesI(const Exchanger& x) {
  std::vector<std::size_t> v;
  for (std::size_t k = 0; k < x.events_i.size(); ++k) {
    if (std::holds_alternative<T>(x.events_i[k].event)) v.push_back(k);
  }
  return v;
}

// RFC 4555 3.5 with the responder's return routability check (3.7): the
// initiator moves at once (PathChanged) and confirms the path when the
// authenticated UPDATE response arrives, before the responder's check of
// its new address is done. The responder never emits PathConfirmed.
TEST(IkeSaMobikeTest, PathConfirmedByTheUpdateResponseWithReturnRoutabilityCheck) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  const Ipv4Endpoint b{kB, kNattPort}, rr{kR, kNattPort};
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kB}, kB).ok());
  x.Pump();
  ASSERT_EQ(x.EventsI<PathChanged>().size(), 1u);
  EXPECT_TRUE(x.EventsI<PathConfirmed>().empty());  // only moved, nothing answered yet
  x.DeliverToR();
  EXPECT_TRUE(r->return_routability_pending());
  EXPECT_TRUE(x.EventsI<PathConfirmed>().empty());
  x.ExpectToI(EX::kInformational, true, 2);  // the UPDATE response
  x.DeliverToI();
  ASSERT_EQ(x.EventsI<PathConfirmed>().size(), 1u);
  const PathConfirmed c = x.EventsI<PathConfirmed>()[0];
  EXPECT_EQ(c.local, b);
  EXPECT_EQ(c.remote, rr);
  EXPECT_FALSE(c.udp_encap);
  EXPECT_LT(IndicesI<PathChanged>(x).back(), IndicesI<PathConfirmed>(x).front());
  x.RunUntilQuiet();  // the return routability check
  EXPECT_FALSE(r->return_routability_pending());
  EXPECT_EQ(x.EventsI<PathConfirmed>().size(), 1u);
  EXPECT_TRUE(x.EventsR<PathConfirmed>().empty());
}

// Without the check (3.7 is configurable) the same single event.
TEST(IkeSaMobikeTest, PathConfirmedByTheUpdateResponseWithoutReturnRoutabilityCheck) {
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->mobike.return_routability_check = false;
  Exchanger x(test::InitiatorPskConfig(), rc);
  auto [i, r] = EstablishQuiet(x);
  MoveAndSettle(x, i, kB);
  ASSERT_EQ(x.EventsI<PathConfirmed>().size(), 1u);
  EXPECT_EQ(x.EventsI<PathConfirmed>()[0].local, (Ipv4Endpoint{kB, kNattPort}));
  EXPECT_EQ(x.EventsI<PathConfirmed>()[0].remote, (Ipv4Endpoint{kR, kNattPort}));
  EXPECT_FALSE(x.EventsI<PathConfirmed>()[0].udp_encap);
  EXPECT_TRUE(x.EventsR<PathConfirmed>().empty());
  // A second move is confirmed again.
  MoveAndSettle(x, i, kD);
  ASSERT_EQ(x.EventsI<PathConfirmed>().size(), 2u);
  EXPECT_EQ(x.EventsI<PathConfirmed>()[1].local, (Ipv4Endpoint{kD, kNattPort}));
  EXPECT_TRUE(x.EventsR<PathConfirmed>().empty());
}

// The event carries the path as it is after the response's NAT detection
// (3.5): into a NAT it says UDP-encapsulated, out of one it says not.
TEST(IkeSaMobikeTest, PathConfirmedCarriesTheNatStateOfTheResponse) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  x.nat = true;
  x.nat_private = kB;
  MoveAndSettle(x, i, kB);
  ASSERT_TRUE(i->nat_detected());
  ASSERT_EQ(x.EventsI<PathConfirmed>().size(), 1u);
  EXPECT_EQ(x.EventsI<PathConfirmed>()[0].local, (Ipv4Endpoint{kB, kNattPort}));
  EXPECT_TRUE(x.EventsI<PathConfirmed>()[0].udp_encap);
  // The move itself was unencapsulated; the switch came with the response,
  // before the confirmation.
  ASSERT_EQ(x.EventsI<PathChanged>().size(), 2u);
  EXPECT_FALSE(x.EventsI<PathChanged>()[0].udp_encap);
  EXPECT_TRUE(x.EventsI<PathChanged>()[1].udp_encap);
  EXPECT_LT(IndicesI<PathChanged>(x).back(), IndicesI<PathConfirmed>(x).front());

  x.events_i.clear();
  MoveAndSettle(x, i, kD);  // a public address
  ASSERT_FALSE(i->nat_detected());
  ASSERT_EQ(x.EventsI<PathConfirmed>().size(), 1u);
  EXPECT_EQ(x.EventsI<PathConfirmed>()[0].local, (Ipv4Endpoint{kD, kNattPort}));
  EXPECT_FALSE(x.EventsI<PathConfirmed>()[0].udp_encap);
}

// A burst of moves folded into one more UPDATE (3.5): the response to the
// first UPDATE is outdated, so one PathConfirmed only, for the last path.
TEST(IkeSaMobikeTest, OnePathConfirmedForABurstOfMoves) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kB}, kB).ok());
  x.Pump();
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kC}, kC).ok());
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kD}, kD).ok());
  x.unreachable = {kB, kC};
  x.to_r.clear();
  x.Pump();
  x.RunUntilQuiet();
  EXPECT_EQ(x.EventsI<PathChanged>().size(), 3u);
  ASSERT_EQ(x.EventsI<PathConfirmed>().size(), 1u);
  EXPECT_EQ(x.EventsI<PathConfirmed>()[0].local, (Ipv4Endpoint{kD, kNattPort}));
  EXPECT_EQ(x.EventsI<PathConfirmed>()[0].remote, (Ipv4Endpoint{kR, kNattPort}));
  EXPECT_EQ(r->remote(), (Ipv4Endpoint{kD, kNattPort}));
}

// The response to an UPDATE that a newer move made outdated confirms
// nothing (3.5: the newer UPDATE counts); the newer one's response does.
TEST(IkeSaMobikeTest, NoPathConfirmedForAnOutdatedUpdateResponse) {
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->mobike.return_routability_check = false;
  Exchanger x(test::InitiatorPskConfig(), rc);
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kB}, kB).ok());
  x.Pump();
  x.DeliverToR();  // the UPDATE from B is answered...
  ASSERT_EQ(x.to_i.size(), 1u);
  x.ExpectToI(EX::kInformational, true, 2);
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kC}, kC).ok());  // ...but we moved on
  x.Pump();
  x.DeliverToI();  // the response for B arrives after the move to C
  EXPECT_TRUE(x.EventsI<PathConfirmed>().empty());
  EXPECT_EQ(i->local(), (Ipv4Endpoint{kC, kNattPort}));
  x.RunUntilQuiet();
  ASSERT_EQ(x.EventsI<PathConfirmed>().size(), 1u);
  EXPECT_EQ(x.EventsI<PathConfirmed>()[0].local, (Ipv4Endpoint{kC, kNattPort}));
  EXPECT_EQ(r->remote(), (Ipv4Endpoint{kC, kNattPort}));
}

// UNACCEPTABLE_ADDRESSES (3.5) confirms nothing: not the refused path, and
// not the old one the initiator goes back to (the peer never left it).
TEST(IkeSaMobikeTest, NoPathConfirmedWhenTheUpdateIsRefused) {
  RefuseNet policy;
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->mobike.path_policy = &policy;
  {
    Exchanger x(test::InitiatorPskConfig(), rc);
    auto [i, r] = EstablishQuiet(x);
    ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kA, kC}, kC).ok());
    x.Pump();
    x.RunUntilQuiet();
    EXPECT_EQ(i->local(), (Ipv4Endpoint{kA, kNattPort}));  // back
    EXPECT_EQ(x.EventsI<PathChanged>().size(), 2u);
    EXPECT_TRUE(x.EventsI<PathConfirmed>().empty());
    EXPECT_TRUE(x.EventsR<PathConfirmed>().empty());
    // An acceptable move afterwards is confirmed as usual.
    ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kA, kB}, kB).ok());
    x.Pump();
    x.RunUntilQuiet();
    ASSERT_EQ(x.EventsI<PathConfirmed>().size(), 1u);
    EXPECT_EQ(x.EventsI<PathConfirmed>()[0].local, (Ipv4Endpoint{kB, kNattPort}));
  }
  {
    Exchanger x(test::InitiatorPskConfig(), rc);
    auto [i, r] = EstablishQuiet(x);
    ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kC}, kC).ok());
    x.Pump();
    x.RunUntilQuiet();
    ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
    EXPECT_TRUE(x.EventsI<PathConfirmed>().empty());
  }
}

// RFC 4555 3.8: with MOBIKE the responder does not follow a NAT mapping
// change on its own (it answers where the request came from, RFC 7296
// 2.11); the initiator behind the NAT notices with NAT detection in its
// liveness check and sends UPDATE_SA_ADDRESSES.
TEST(IkeSaMobikeTest, NatMappingChangeFoundByLivenessCheck) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.dpd_interval = Duration::Seconds(10);
  ic.nat_keepalive_interval = Duration::Infinite();
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->dpd_interval = Duration::Infinite();
  Exchanger x(ic, rc);
  x.nat = true;
  auto [i, r] = EstablishQuiet(x);
  const Ipv4Endpoint old_pub{test::kNatPublicIp, kNattPort + 40000};
  const Ipv4Endpoint new_pub{test::kNatPublicIp, kNattPort + 41000};
  ASSERT_EQ(r->remote(), old_pub);
  x.nat_port_offset = 41000;  // the NAT rebooted
  x.AdvanceToNextTimer();     // DPD
  ASSERT_EQ(x.to_r.size(), 1u);
  EXPECT_TRUE(Has(Notifies(Open(*r, x.to_r.front())), NotifyType::kNatDetectionSourceIp));
  x.DeliverToR();
  EXPECT_EQ(r->remote(), old_pub);  // 3.8: no dynamic update
  ASSERT_EQ(x.to_i.size(), 1u);
  EXPECT_EQ(x.to_i.front().remote, new_pub);  // 2.11: answered where it came from
  x.DeliverToI();
  // The changed NAT_DETECTION_DESTINATION_IP made the initiator update.
  ASSERT_EQ(x.to_r.size(), 1u);
  EXPECT_TRUE(Has(Notifies(Open(*r, x.to_r.front())), NotifyType::kUpdateSaAddresses));
  x.RunUntilQuiet();
  EXPECT_EQ(r->remote(), new_pub);
  ExpectPath(r, {kR, kNattPort}, new_pub, true);
}

// RFC 4555 3.8 notes that the new SPIs of a rekeyed IKE SA change the NAT
// detection hashes; the new IKE SA records them afresh instead of sending an
// UPDATE (after which strongSwan with kernel-libipsec would rekey every
// CHILD SA).
TEST(IkeSaMobikeTest, IkeRekeyDoesNotLookLikeANatChange) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.dpd_interval = Duration::Seconds(10);
  ic.nat_keepalive_interval = Duration::Infinite();
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->dpd_interval = Duration::Infinite();
  Exchanger x(ic, rc);
  x.nat = true;
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->RekeyIkeSa(x.now()).ok());
  x.Pump();
  x.RunUntilQuiet();
  ASSERT_EQ(x.EventsI<IkeSaRekeyed>().size(), 1u);
  IkeSa* ni = x.initiator().Find(x.EventsI<IkeSaRekeyed>()[0].new_sa_id);
  IkeSa* nr = x.responder().Find(x.EventsR<IkeSaRekeyed>()[0].new_sa_id);
  ASSERT_NE(ni, nullptr);
  ASSERT_NE(nr, nullptr);
  for (int k = 0; k < 2; ++k) {  // two liveness checks, each one exchange only
    x.AdvanceToNextTimer();
    ASSERT_EQ(x.to_r.size(), 1u);
    EXPECT_TRUE(Has(Notifies(Open(*nr, x.to_r.front())), NotifyType::kNatDetectionSourceIp));
    x.DeliverToR();
    x.DeliverToI();
    EXPECT_TRUE(x.to_r.empty());
  }
  EXPECT_EQ(ni->state(), IkeSaState::kEstablished);
}

// RFC 4555 3.7: a response that does not echo our COOKIE2 closes the IKE SA.
TEST(IkeSaMobikeTest, Cookie2MismatchClosesTheIkeSa) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  IkeMobike task(true, IkeMobike::Kind::kAddresses);
  Message req;
  req.header.exchange = EX::kInformational;
  ASSERT_EQ(task.Build(*i, x.now(), req), TaskStatus::kNeedMore);
  const NotifyPayload* sent = nullptr;
  for (const Payload& p : req.inner) {
    if (const NotifyPayload* n = p.As<NotifyPayload>(); n && n->type == NotifyType::kCookie2) {
      sent = n;
    }
  }
  ASSERT_NE(sent, nullptr);
  EXPECT_EQ(sent->data.size(), 16u);
  Message resp;
  resp.header.exchange = EX::kInformational;
  resp.header.response = true;
  Bytes other = sent->data;
  other[0] ^= 1;
  resp.inner.push_back(Payload::Notify(NotifyPayload::Make(NotifyType::kCookie2, other)));
  EXPECT_EQ(task.Process(*i, x.now(), resp), TaskStatus::kFailed);
  EXPECT_EQ(i->state(), IkeSaState::kDown);
}

// RFC 4555 3.7: every INFORMATIONAL request's COOKIE2 is copied as-is into
// the response, also in a plain liveness check.
TEST(IkeSaMobikeTest, Cookie2IsEchoedByTheResponder) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->UpdateLocalAddresses(x.now(), {kA, kD}, kA).ok());  // an address list
  x.Pump();
  const Message req = Open(*r, x.to_r.front());
  x.DeliverToR();
  ASSERT_EQ(x.to_i.size(), 1u);
  const Message resp = Open(*i, x.to_i.front());
  ASSERT_NE(req.FindNotify(NotifyType::kCookie2), nullptr);
  ASSERT_NE(resp.FindNotify(NotifyType::kCookie2), nullptr);
  EXPECT_EQ(resp.FindNotify(NotifyType::kCookie2)->data, req.FindNotify(NotifyType::kCookie2)->data);
  x.DeliverToI();
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
}

}  // namespace
}  // namespace mipsec::ikev2

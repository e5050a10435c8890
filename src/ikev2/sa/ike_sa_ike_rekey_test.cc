// Choreography tests of IKE SA rekeying (RFC 7296 1.3.2, 2.8, 2.8.2, 2.18,
// 2.25): rekeys from either side and from the soft lifetime, simultaneous
// rekeys (with both nonce orders, and the case where only one side notices),
// collisions with a CHILD SA rekey and with an IKE SA delete, a lost
// response, and what the new IKE SA inherits.
//
// Message IDs: after IKE_SA_INIT (0) and IKE_AUTH (1) the original
// initiator's next request is 2 and the responder's 0; the new IKE SA
// starts again at 0 both ways.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ikev2/codec/message.h"
#include "ikev2/crypto/sk_ciphers.h"
#include "ikev2/sa/ike_sa_test_util.h"
#include "ikev2/sa/task.h"

namespace mipsec::ikev2 {
namespace {

using test::EstablishQuiet;
using test::Exchanger;
using test::Responder;
using test::TestAddressPool;
using EX = ExchangeType;

std::vector<IkeSa*> All(IkeSaManager& m) {
  std::vector<IkeSa*> v;
  for (std::uint64_t id = 1; id < 100; ++id) {
    if (IkeSa* sa = m.Find(id)) v.push_back(sa);
  }
  return v;
}

// The one IKE SA left in `m` (nullptr, and a failure, otherwise).
IkeSa* Only(IkeSaManager& m) {
  std::vector<IkeSa*> v = All(m);
  EXPECT_EQ(v.size(), 1u);
  return v.size() == 1 ? v[0] : nullptr;
}

struct ChildSnapshot {
  std::uint32_t spi_in, spi_out;
  SecretBytes encr_in, encr_out;
};

std::vector<ChildSnapshot> Snapshot(const IkeSa& sa) {
  std::vector<ChildSnapshot> v;
  for (const ChildSa& c : sa.children()) {
    v.push_back({c.info.spi_in, c.info.spi_out, c.info.keys_in.encr, c.info.keys_out.encr});
  }
  return v;
}

// CHILD SAs carried over unchanged: same SPIs, same traffic keys (2.8: the
// CHILD SAs are moved, not rekeyed).
void ExpectSameChildren(const std::vector<ChildSnapshot>& before, const IkeSa& after) {
  ASSERT_EQ(before.size(), after.children().size());
  for (std::size_t k = 0; k < before.size(); ++k) {
    const ChildSaInfo& c = after.children()[k].info;
    EXPECT_EQ(c.spi_in, before[k].spi_in);
    EXPECT_EQ(c.spi_out, before[k].spi_out);
    EXPECT_TRUE(c.keys_in.encr.Equals(before[k].encr_in));
    EXPECT_TRUE(c.keys_out.encr.Equals(before[k].encr_out));
  }
}

// Both new IKE SAs agree on SPIs and keys, and the keys are new.
void ExpectMatchingNewSas(IkeSa* ni, IkeSa* nr, const SecretBytes& old_sk_d) {
  ASSERT_NE(ni, nullptr);
  ASSERT_NE(nr, nullptr);
  EXPECT_EQ(ni->state(), IkeSaState::kEstablished);
  EXPECT_EQ(nr->state(), IkeSaState::kEstablished);
  EXPECT_FALSE(ni->superseded());
  EXPECT_FALSE(nr->superseded());
  EXPECT_EQ(ni->spi_i(), nr->spi_i());
  EXPECT_EQ(ni->spi_r(), nr->spi_r());
  EXPECT_NE(ni->original_initiator(), nr->original_initiator());
  ASSERT_NE(ni->keys(), nullptr);
  ASSERT_NE(nr->keys(), nullptr);
  EXPECT_TRUE(ni->keys()->sk_d.Equals(nr->keys()->sk_d));
  EXPECT_TRUE(ni->keys()->sk_ei.Equals(nr->keys()->sk_ei));
  EXPECT_TRUE(ni->keys()->sk_er.Equals(nr->keys()->sk_er));
  EXPECT_TRUE(ni->keys()->sk_ai.Equals(nr->keys()->sk_ai));
  EXPECT_TRUE(ni->keys()->sk_pi.Equals(nr->keys()->sk_pi));
  EXPECT_FALSE(ni->keys()->sk_d.Equals(old_sk_d));
}

// A CREATE_CHILD_SA over the new IKE SA from `from`, with Message ID `mid`:
// the request and the response decrypt and verify on the other side.
void ExpectNewSaCarriesTraffic(Exchanger& x, IkeSa* from, bool from_initiator_side,
                               std::uint32_t mid) {
  const std::size_t before = from->children().size();
  ASSERT_TRUE(from->CreateChildSa(x.now()).ok());
  x.Pump();
  if (from_initiator_side) {
    x.ExpectToR(EX::kCreateChildSa, false, mid);
    x.DeliverToR();
    x.ExpectToI(EX::kCreateChildSa, true, mid);
    x.DeliverToI();
  } else {
    x.ExpectToI(EX::kCreateChildSa, false, mid);
    x.DeliverToI();
    x.ExpectToR(EX::kCreateChildSa, true, mid);
    x.DeliverToR();
  }
  EXPECT_EQ(from->children().size(), before + 1);
}

// The Nonce inside a protected IKE message of the old IKE SA `sa`, decrypted
// independently with its keys as the peer of `sa` would (the test's view of
// the wire). `from_sa`: the message was sent by `sa`.
Bytes NonceOf(const IkeSa& sa, bool from_sa, const IkeTransmit& t) {
  DeterministicRandom rng(99);
  // The receiving side's cipher pair: the peer of `sa` if `sa` sent it.
  const bool receiver_is_original_initiator =
      from_sa ? !sa.original_initiator() : sa.original_initiator();
  Result<SkCipherPair> pair =
      MakeSkCipherPair(*sa.suite(), *sa.keys(), receiver_is_original_initiator, rng);
  EXPECT_TRUE(pair.ok());
  if (!pair.ok()) return {};
  ByteSpan b = t.payload;
  if (t.local.port == kNattPort || t.remote.port == kNattPort) b = b.subspan(4);
  Result<Message> m = DecodeProtected(b, *pair->inbound);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().ToString());
  if (!m.ok()) return {};
  const Payload* n = m->Find(PayloadType::kNonce);
  EXPECT_NE(n, nullptr);
  return n != nullptr ? n->As<NoncePayload>()->data : Bytes{};
}

bool OctetLess(const Bytes& a, const Bytes& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

std::size_t CountLog(Exchanger& x, const std::string& needle) {
  std::size_t n = 0;
  for (const auto& e : x.log().lines()) {
    if (e.message.find(needle) != std::string::npos) ++n;
  }
  return n;
}

// The original initiator rekeys the IKE SA.
//
//   CREATE_CHILD_SA(2)  SK{SA(SPIi') Ni KEi} ---->          (old IKE SA)
//               <---- SK{SA(SPIr') Nr KEr}                  new IKE SA made
//   INFORMATIONAL(3)  SK{D(IKE)} ---->                      (old IKE SA)
//               <---- SK{}                                  old IKE SA gone
//   CREATE_CHILD_SA(0)  SK{SA Ni TSi TSr} ---->             (new IKE SA)
//               <---- SK{SA Nr TSi TSr}
TEST(IkeSaIkeRekeyTest, RekeyByInitiator) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  const std::vector<ChildSnapshot> ci = Snapshot(*i), cr = Snapshot(*r);
  const SecretBytes old_sk_d = i->keys()->sk_d;
  const auto vip = i->virtual_ip();
  const auto peer_vip = r->peer_virtual_ip();
  ASSERT_TRUE(vip.has_value());
  const std::uint64_t old_spi_i = i->spi_i();

  ASSERT_TRUE(i->RekeyIkeSa(x.now()).ok());
  x.Pump();
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  x.DeliverToR();
  EXPECT_TRUE(r->superseded());
  x.ExpectToI(EX::kCreateChildSa, true, 2);
  x.DeliverToI();
  EXPECT_TRUE(i->superseded());
  EXPECT_TRUE(i->children().empty());
  x.ExpectToR(EX::kInformational, false, 3);
  x.DeliverToR();
  x.ExpectToI(EX::kInformational, true, 3);
  x.DeliverToI();
  EXPECT_TRUE(x.to_r.empty() && x.to_i.empty());

  // Events: IkeSaRekeyed naming the new handle, then the old one's IkeSaDown;
  // no CHILD SA went down and the address was not released.
  for (auto* ev : {&x.events_i, &x.events_r}) {
    ASSERT_EQ(ev->size(), 2u);
    const auto* rk = std::get_if<IkeSaRekeyed>(&(*ev)[0].event);
    ASSERT_NE(rk, nullptr);
    EXPECT_EQ(rk->old_sa_id, (*ev)[0].sa_id);
    EXPECT_NE(rk->new_sa_id, rk->old_sa_id);
    const auto* down = std::get_if<IkeSaDown>(&(*ev)[1].event);
    ASSERT_NE(down, nullptr);
    EXPECT_EQ(down->reason, IkeDownReason::kRekeyed);
    EXPECT_EQ((*ev)[1].sa_id, rk->old_sa_id);
  }
  EXPECT_EQ(pool.released, 0);
  const IkeSaRekeyed rk_i = x.EventsI<IkeSaRekeyed>()[0];
  EXPECT_TRUE(rk_i.original_initiator);
  EXPECT_FALSE(x.EventsR<IkeSaRekeyed>()[0].original_initiator);

  IkeSa* ni = Only(x.initiator());
  IkeSa* nr = Only(x.responder());
  ASSERT_EQ(ni, x.initiator().Find(rk_i.new_sa_id));
  ASSERT_EQ(nr, x.responder().Find(x.EventsR<IkeSaRekeyed>()[0].new_sa_id));
  EXPECT_EQ(ni->spi_i(), rk_i.spi_i);
  EXPECT_NE(ni->spi_i(), old_spi_i);
  EXPECT_TRUE(ni->original_initiator());
  ExpectMatchingNewSas(ni, nr, old_sk_d);
  ExpectSameChildren(ci, *ni);
  ExpectSameChildren(cr, *nr);
  EXPECT_EQ(ni->virtual_ip(), vip);
  EXPECT_EQ(nr->peer_virtual_ip(), peer_vip);
  EXPECT_EQ(nr->remote_id(), IdPayload::Fqdn("mn.example.org"));
  EXPECT_EQ(ni->remote_id(), IdPayload::Fqdn("gw.example.org"));

  // The new IKE SA works both ways, Message IDs from 0.
  ExpectNewSaCarriesTraffic(x, ni, true, 0);
  ExpectNewSaCarriesTraffic(x, nr, false, 0);
  // Deleting it releases the address once.
  ni->Delete(x.now());
  x.Pump();
  x.RunUntilQuiet();
  EXPECT_EQ(x.initiator().size(), 0u);
  EXPECT_EQ(x.responder().size(), 0u);
  EXPECT_EQ(pool.released, 1);
}

// The original responder rekeys; it becomes the original initiator of the
// new IKE SA (2.8), whose requests the other side then sends with I=0.
//
//               <---- CREATE_CHILD_SA(0)  SK{SA(SPIi') Ni KEi}
//   SK{SA(SPIr') Nr KEr} ---->
//               <---- INFORMATIONAL(1)  SK{D(IKE)}
//   SK{} ---->
TEST(IkeSaIkeRekeyTest, RekeyByResponder) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  const std::vector<ChildSnapshot> ci = Snapshot(*i), cr = Snapshot(*r);
  const SecretBytes old_sk_d = r->keys()->sk_d;
  ASSERT_TRUE(r->RekeyIkeSa(x.now()).ok());
  x.Pump();
  x.ExpectToI(EX::kCreateChildSa, false, 0);
  x.DeliverToI();
  x.ExpectToR(EX::kCreateChildSa, true, 0);
  x.DeliverToR();
  x.ExpectToI(EX::kInformational, false, 1);
  x.DeliverToI();
  x.ExpectToR(EX::kInformational, true, 1);
  x.DeliverToR();
  EXPECT_TRUE(x.to_r.empty() && x.to_i.empty());
  IkeSa* ni = Only(x.initiator());
  IkeSa* nr = Only(x.responder());
  ExpectMatchingNewSas(ni, nr, old_sk_d);
  EXPECT_TRUE(nr->original_initiator());
  EXPECT_FALSE(ni->original_initiator());
  ExpectSameChildren(ci, *ni);
  ExpectSameChildren(cr, *nr);
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<IkeSaDown>()[0].reason, IkeDownReason::kRekeyed);
  EXPECT_EQ(x.EventsR<IkeSaDown>()[0].reason, IkeDownReason::kRekeyed);
  ExpectNewSaCarriesTraffic(x, ni, true, 0);
  ExpectNewSaCarriesTraffic(x, nr, false, 0);
}

// Behind a NAT: the new IKE SA keeps the NAT-T endpoints, the NAT state and
// the non-ESP marker.
TEST(IkeSaIkeRekeyTest, RekeyBehindNatKeepsPathAndNatState) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  x.nat = true;
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->local_behind_nat());
  const Ipv4Endpoint il = i->local(), ir = i->remote(), rl = r->local(), rr = r->remote();
  ASSERT_EQ(il.port, kNattPort);
  ASSERT_TRUE(i->RekeyIkeSa(x.now()).ok());
  x.Pump();
  x.RunUntilQuiet();
  IkeSa* ni = Only(x.initiator());
  IkeSa* nr = Only(x.responder());
  ASSERT_NE(ni, nullptr);
  ASSERT_NE(nr, nullptr);
  EXPECT_EQ(ni->local(), il);
  EXPECT_EQ(ni->remote(), ir);
  EXPECT_EQ(nr->local(), rl);
  EXPECT_EQ(nr->remote(), rr);
  EXPECT_TRUE(ni->local_behind_nat());
  EXPECT_TRUE(nr->remote_behind_nat());
  for (const ChildSa& c : ni->children()) EXPECT_TRUE(c.info.udp_encap);
  ASSERT_TRUE(ni->CreateChildSa(x.now()).ok());
  x.Pump();
  ASSERT_FALSE(x.to_r.empty());
  EXPECT_TRUE(Exchanger::Inspect(x.to_r.front()).marker);
  x.RunUntilQuiet();
  EXPECT_EQ(ni->children().size(), 2u);
  // Keepalives continue from the new IKE SA.
  x.keepalives_i.clear();
  x.Advance(Duration::Seconds(25));
  EXPECT_FALSE(x.keepalives_i.empty());
}

// The soft lifetime starts the rekey, jittered (2.8.1) within the
// configured 10% before it; the new IKE SA gets fresh lifetimes.
//
//   (soft lifetime - jitter)
//   CREATE_CHILD_SA(2)  SK{SA Ni KEi} ---->
//               <---- SK{SA Nr KEr}
//   INFORMATIONAL(3)  SK{D(IKE)} ---->
//               <---- SK{}
TEST(IkeSaIkeRekeyTest, SoftLifetimeTriggersJitteredRekey) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.lifetimes.ike_soft = Duration::Seconds(1000);
  ic.lifetimes.ike_hard = Duration::Seconds(1200);
  ic.dpd_interval = Duration::Infinite();
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->dpd_interval = Duration::Infinite();
  Exchanger x(ic, rc);
  auto [i, r] = EstablishQuiet(x);
  const Timestamp up = x.now();
  const std::uint64_t old_spi = i->spi_i();
  (void)r;
  const Duration d = x.AdvanceToNextTimer();
  EXPECT_LE(d, Duration::Seconds(1000));
  EXPECT_GE(d, Duration::Seconds(900));
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  x.RunUntilQuiet();
  IkeSa* ni = Only(x.initiator());
  ASSERT_NE(ni, nullptr);
  EXPECT_NE(ni->spi_i(), old_spi);
  ASSERT_EQ(x.EventsI<IkeSaRekeyed>().size(), 1u);
  // The new IKE SA rekeys again about one soft lifetime later, and is not
  // deleted at the old one's hard lifetime.
  const Timestamp rekeyed_at = x.now();
  x.events_i.clear();
  x.AdvanceToNextTimer();
  EXPECT_GE(x.now() - rekeyed_at, Duration::Seconds(900));
  EXPECT_GT(x.now(), up + Duration::Seconds(1200));
  x.RunUntilQuiet();
  EXPECT_EQ(x.EventsI<IkeSaRekeyed>().size(), 1u);
  EXPECT_EQ(Only(x.initiator())->state(), IkeSaState::kEstablished);
}

// Without a soft lifetime (or when rekeying never succeeds) the hard
// lifetime deletes the IKE SA.
TEST(IkeSaIkeRekeyTest, HardLifetimeDeletes) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.lifetimes.ike_hard = Duration::Seconds(600);
  ic.dpd_interval = Duration::Infinite();
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->dpd_interval = Duration::Infinite();
  Exchanger x(ic, rc);
  EstablishQuiet(x);
  EXPECT_EQ(x.AdvanceToNextTimer(), Duration::Seconds(600));
  x.ExpectToR(EX::kInformational, false, 2);
  x.RunUntilQuiet();
  EXPECT_EQ(x.initiator().size(), 0u);
  EXPECT_EQ(x.responder().size(), 0u);
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<IkeSaDown>()[0].reason, IkeDownReason::kDeleted);
}

// Simultaneous IKE SA rekeying noticed by both sides (2.8.2). The random
// streams are shifted by `k` extra CHILD SAs first, which changes the
// nonces; over several k both nonce orders occur.
//
//   CREATE_CHILD_SA(m)  SK{SA(A) Ni1 KEi} ---->
//               <---- CREATE_CHILD_SA(n)  SK{SA(B) Ni2 KEi}
//   SK{SA Nr2 KEr} ---->     (responses cross)
//               <---- SK{SA Nr1 KEr}
//   The new IKE SA whose exchange holds the lowest nonce is deleted by its
//   initiator over itself (INFORMATIONAL(0) SK{D(IKE)}), and the initiator
//   of the other one deletes the old IKE SA.
struct SimultaneousOutcome {
  bool initiator_side_won = false;
  bool lowest_in_a = false;
};

SimultaneousOutcome RunSimultaneous(int k) {
  SimultaneousOutcome out;
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  for (int n = 0; n < k; ++n) {
    EXPECT_TRUE(i->CreateChildSa(x.now()).ok());
    x.Pump();
    x.RunUntilQuiet();
  }
  x.events_i.clear();
  x.events_r.clear();
  const std::vector<ChildSnapshot> ci = Snapshot(*i), cr = Snapshot(*r);
  const SecretBytes old_sk_d = i->keys()->sk_d;
  EXPECT_TRUE(i->RekeyIkeSa(x.now()).ok());
  EXPECT_TRUE(r->RekeyIkeSa(x.now()).ok());
  x.Pump();
  x.ExpectToR(EX::kCreateChildSa, false, 2 + static_cast<std::uint32_t>(k));
  x.ExpectToI(EX::kCreateChildSa, false, 0);
  // Exchange A (the original initiator's) and B (the responder's) nonces,
  // read off the wire.
  const Bytes ni_a = NonceOf(*i, true, x.to_r.front());
  const Bytes ni_b = NonceOf(*r, true, x.to_i.front());
  x.DeliverToR();  // R answers A, notes the collision
  x.DeliverToI();  // I answers B, notes the collision
  const Bytes nr_a = NonceOf(*r, true, x.to_i.front());
  const Bytes nr_b = NonceOf(*i, true, x.to_r.front());
  const Bytes& low_a = OctetLess(ni_a, nr_a) ? ni_a : nr_a;
  const Bytes& low_b = OctetLess(ni_b, nr_b) ? ni_b : nr_b;
  // 2.8.2: the new IKE SA of the exchange holding the lowest nonce goes.
  out.lowest_in_a = OctetLess(low_a, low_b);
  EXPECT_EQ(CountLog(x, "simultaneous IKE SA rekey noticed"), 2u);
  // The old IKE SA and the peer's new one (not inheriting yet) each side.
  EXPECT_EQ(All(x.initiator()).size(), 2u);
  EXPECT_EQ(All(x.responder()).size(), 2u);
  x.ExpectToI(EX::kCreateChildSa, true, 2 + static_cast<std::uint32_t>(k));
  x.ExpectToR(EX::kCreateChildSa, true, 0);
  x.RunUntilQuiet();
  EXPECT_TRUE(x.to_r.empty() && x.to_i.empty());
  // Exactly one side lost; exactly one new IKE SA survives on both sides.
  const std::size_t lost = CountLog(x, "collision lost");
  const std::size_t won = CountLog(x, "collision won");
  EXPECT_EQ(lost, 1u);
  EXPECT_EQ(won, 1u);
  out.initiator_side_won = false;
  for (const auto& e : x.log().lines()) {
    if (e.message.find("collision won") != std::string::npos) {
      out.initiator_side_won = e.component == "ike.i";
    }
  }
  IkeSa* ni = Only(x.initiator());
  IkeSa* nr = Only(x.responder());
  ExpectMatchingNewSas(ni, nr, old_sk_d);
  if (ni == nullptr || nr == nullptr) return out;
  // The survivor was created by the winner's exchange, the one without the
  // lowest nonce.
  EXPECT_EQ(ni->original_initiator(), out.initiator_side_won);
  EXPECT_EQ(out.initiator_side_won, !out.lowest_in_a);
  ExpectSameChildren(ci, *ni);
  ExpectSameChildren(cr, *nr);
  EXPECT_EQ(x.EventsI<IkeSaRekeyed>().size(), 1u);
  EXPECT_EQ(x.EventsR<IkeSaRekeyed>().size(), 1u);
  // Old and redundant IKE SAs: both down as kRekeyed, on both sides.
  for (const auto& d : x.EventsI<IkeSaDown>()) EXPECT_EQ(d.reason, IkeDownReason::kRekeyed);
  for (const auto& d : x.EventsR<IkeSaDown>()) EXPECT_EQ(d.reason, IkeDownReason::kRekeyed);
  EXPECT_EQ(x.EventsI<IkeSaDown>().size(), 2u);
  EXPECT_EQ(x.EventsR<IkeSaDown>().size(), 2u);
  EXPECT_TRUE(x.EventsI<ChildSaDown>().empty());
  EXPECT_EQ(pool.released, 0);
  // The survivor carries traffic.
  ExpectNewSaCarriesTraffic(x, ni, true, ni->task_manager().next_request_id());
  return out;
}

TEST(IkeSaIkeRekeyTest, SimultaneousRekeyBothNonceOrders) {
  bool seen_i = false, seen_r = false;
  for (int k = 0; k < 8 && !(seen_i && seen_r); ++k) {
    SCOPED_TRACE("extra CHILD SAs: " + std::to_string(k));
    const SimultaneousOutcome o = RunSimultaneous(k);
    (o.initiator_side_won ? seen_i : seen_r) = true;
  }
  EXPECT_TRUE(seen_i) << "no run where the original initiator's exchange survived";
  EXPECT_TRUE(seen_r) << "no run where the original responder's exchange survived";
}

// Simultaneous rekey noticed by one side only (2.8.2): B's request is
// delayed until A finished. A answers it with TEMPORARY_FAILURE; B learns
// from A's Delete of the old IKE SA that A's new one stands.
//
//   CREATE_CHILD_SA(2)  SK{SA Ni1 KEi} ---->
//               <---- CREATE_CHILD_SA(0)  SK{SA Ni2 KEi}   (held back)
//               <---- SK{SA Nr1 KEr}                      B noticed
//   INFORMATIONAL(3)  SK{D(IKE)} ---->
//   (held request arrives)
//   SK{N(TEMPORARY_FAILURE)} ---->
//               <---- SK{}                                B adopts A's SA
TEST(IkeSaIkeRekeyTest, SimultaneousRekeyNoticedByOneSide) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  const std::vector<ChildSnapshot> ci = Snapshot(*i), cr = Snapshot(*r);
  const SecretBytes old_sk_d = i->keys()->sk_d;
  ASSERT_TRUE(i->RekeyIkeSa(x.now()).ok());
  ASSERT_TRUE(r->RekeyIkeSa(x.now()).ok());
  x.Pump();
  IkeTransmit held = x.to_i.front();
  x.DropToI();
  x.DeliverToR();  // R answers, notes the collision (its own is in flight)
  x.ExpectToI(EX::kCreateChildSa, true, 2);
  x.DeliverToI();  // I is done: no collision seen
  EXPECT_TRUE(i->superseded());
  x.ExpectToR(EX::kInformational, false, 3);
  x.to_i.push_back(held);
  x.DeliverToI();  // R's request on the replaced IKE SA
  ASSERT_FALSE(x.to_r.empty());
  x.DeliverToR();  // I's Delete: R replies and forgets its rekey
  x.RunUntilQuiet();
  EXPECT_TRUE(x.to_r.empty() && x.to_i.empty());
  IkeSa* ni = Only(x.initiator());
  IkeSa* nr = Only(x.responder());
  ExpectMatchingNewSas(ni, nr, old_sk_d);
  EXPECT_TRUE(ni->original_initiator());
  ExpectSameChildren(ci, *ni);
  ExpectSameChildren(cr, *nr);
  ASSERT_EQ(x.EventsR<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsR<IkeSaDown>()[0].reason, IkeDownReason::kRekeyed);
  EXPECT_EQ(x.EventsR<IkeSaRekeyed>().size(), 1u);
  ExpectNewSaCarriesTraffic(x, nr, false, 0);
}

// IKE rekey crossing a CHILD SA rekey (2.25.1, 2.25.2): each side answers
// the other's request with TEMPORARY_FAILURE. Neither retries at once;
// both retry after a random delay of 2..10 s (2.25), one after the other,
// and both succeed: one IKE SA rekey, one CHILD SA rekey, nothing lost.
//
//   CREATE_CHILD_SA(2)  SK{SA Ni KEi} ---->
//               <---- CREATE_CHILD_SA(0)  SK{N(REKEY_SA) SA Ni TSi TSr}
//               <---- SK{N(TEMPORARY_FAILURE)}
//   SK{N(TEMPORARY_FAILURE)} ---->
//   (2..10 s later, each side)  the IKE SA rekey, then the CHILD SA rekey
//   (on whichever IKE SA is current then), each with its Delete.
TEST(IkeSaIkeRekeyTest, CollisionWithChildRekeyRetriesLater) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.dpd_interval = Duration::Infinite();
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->dpd_interval = Duration::Infinite();
  Exchanger x(ic, rc);
  auto [i, r] = EstablishQuiet(x);
  const std::uint32_t b1 = r->children()[0].info.spi_in;
  ASSERT_TRUE(i->RekeyIkeSa(x.now()).ok());
  ASSERT_TRUE(r->RekeyChildSa(x.now(), b1).ok());
  x.Pump();
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  x.ExpectToI(EX::kCreateChildSa, false, 0);
  x.DeliverToR();
  x.DeliverToI();
  x.RunUntilQuiet();
  ASSERT_EQ(x.EventsR<ChildSaFailed>().size(), 1u);
  EXPECT_EQ(x.EventsR<ChildSaFailed>()[0].notify, NotifyType::kTemporaryFailure);
  EXPECT_EQ(r->children()[0].state, ChildSaState::kInstalled);
  EXPECT_FALSE(i->superseded());
  EXPECT_TRUE(x.EventsI<IkeSaRekeyed>().empty());
  EXPECT_TRUE(x.to_r.empty() && x.to_i.empty());
  // No immediate retry: the next thing is a timer 2..10 s away.
  const Timestamp refused = x.now();
  const Duration wait = x.AdvanceToNextTimer();
  EXPECT_GE(wait, Duration::Seconds(2));
  EXPECT_LE(wait, Duration::Seconds(10));
  x.RunUntilQuiet();
  while (x.NextTimeout() <= refused + Duration::Seconds(10)) {
    x.AdvanceToNextTimer();
    x.RunUntilQuiet();
  }
  EXPECT_EQ(x.EventsI<IkeSaRekeyed>().size(), 1u);
  EXPECT_EQ(x.EventsR<IkeSaRekeyed>().size(), 1u);
  IkeSa* ni = Only(x.initiator());
  IkeSa* nr = Only(x.responder());
  ASSERT_NE(ni, nullptr);
  ASSERT_NE(nr, nullptr);
  ASSERT_EQ(x.EventsR<ChildSaUp>().size(), 1u);
  EXPECT_EQ(x.EventsR<ChildSaUp>()[0].rekeyed_spi_in, b1);
  ASSERT_EQ(nr->children().size(), 1u);
  ASSERT_EQ(ni->children().size(), 1u);
  EXPECT_NE(nr->children()[0].info.spi_in, b1);
  EXPECT_EQ(nr->children()[0].info.spi_in, ni->children()[0].info.spi_out);
  EXPECT_TRUE(nr->children()[0].info.keys_in.encr.Equals(ni->children()[0].info.keys_out.encr));
}

// Persistent TEMPORARY_FAILURE: after the configured retries the IKE SA is
// considered out of sync and deleted (2.25).
TEST(IkeSaIkeRekeyTest, PersistentTemporaryFailureDeletes) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.dpd_interval = Duration::Infinite();
  ic.lifetimes.temporary_failure_max_retries = 2;
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->dpd_interval = Duration::Infinite();
  Exchanger x(ic, rc);
  auto [i, r] = EstablishQuiet(x);
  // The responder keeps a CHILD SA exchange in flight (its requests are
  // dropped), so every IKE rekey request gets TEMPORARY_FAILURE.
  ASSERT_TRUE(r->CreateChildSa(x.now()).ok());
  x.Pump();
  x.DropToI();
  ASSERT_TRUE(i->RekeyIkeSa(x.now()).ok());
  x.Pump();
  for (int n = 0; n < 3; ++n) {
    x.ExpectToR(EX::kCreateChildSa, false, 2 + static_cast<std::uint32_t>(n));
    x.DeliverToR();
    x.DeliverToI();
    x.to_i.clear();  // responder retransmissions of its CHILD request
    while (x.to_r.empty() && x.initiator().size() == 1) {
      x.AdvanceToNextTimer();
      x.to_i.clear();
    }
  }
  x.ExpectToR(EX::kInformational, false, 5);
  EXPECT_EQ(CountLog(x, "TEMPORARY_FAILURE, deleting the IKE SA"), 1u);
}

// IKE rekey crossing an IKE SA delete (2.25.2): the deleting side answers
// the rekey with TEMPORARY_FAILURE; the rekeying side answers the Delete as
// usual and forgets its rekey. Both go down as deleted; nothing is left.
//
//   CREATE_CHILD_SA(2)  SK{SA Ni KEi} ---->
//               <---- INFORMATIONAL(0)  SK{D(IKE)}
//               <---- SK{N(TEMPORARY_FAILURE)}
//   SK{} ---->
TEST(IkeSaIkeRekeyTest, CollisionWithIkeDelete) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->RekeyIkeSa(x.now()).ok());
  r->Delete(x.now());
  x.Pump();
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  x.ExpectToI(EX::kInformational, false, 0);
  x.DeliverToR();
  EXPECT_EQ(CountLog(x, "the IKE SA is closing"), 1u);
  x.DeliverToI();
  x.RunUntilQuiet();
  EXPECT_EQ(x.initiator().size(), 0u);
  EXPECT_EQ(x.responder().size(), 0u);
  ASSERT_EQ(x.EventsI<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<IkeSaDown>()[0].reason, IkeDownReason::kDeletedByPeer);
  ASSERT_EQ(x.EventsR<IkeSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsR<IkeSaDown>()[0].reason, IkeDownReason::kDeleted);
  EXPECT_TRUE(x.EventsI<IkeSaRekeyed>().empty());
  EXPECT_TRUE(x.EventsR<IkeSaRekeyed>().empty());
  EXPECT_EQ(pool.released, 1);
}

// The rekey response is lost: the request is retransmitted and the
// responder resends its cached response; no second new IKE SA is made.
//
//   CREATE_CHILD_SA(2)  SK{SA Ni KEi} ---->
//               <---- SK{SA Nr KEr}        (lost)
//   (retransmit) CREATE_CHILD_SA(2) ---->
//               <---- SK{SA Nr KEr}        (same response)
//   INFORMATIONAL(3)  SK{D(IKE)} ---->
//               <---- SK{}
TEST(IkeSaIkeRekeyTest, LostResponseIsRetransmitted) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  const SecretBytes old_sk_d = i->keys()->sk_d;
  ASSERT_TRUE(i->RekeyIkeSa(x.now()).ok());
  x.Pump();
  x.DeliverToR();
  EXPECT_EQ(All(x.responder()).size(), 2u);
  x.DropToI();
  x.AdvanceToNextTimer();
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  x.DeliverToR();
  EXPECT_EQ(All(x.responder()).size(), 2u);
  x.ExpectToI(EX::kCreateChildSa, true, 2);
  x.RunUntilQuiet();
  ExpectMatchingNewSas(Only(x.initiator()), Only(x.responder()), old_sk_d);
  EXPECT_EQ(x.EventsR<IkeSaRekeyed>().size(), 1u);
}

// The responder accepts only the second proposal (ECP-384): the rekey's
// KEi of the first group is answered with INVALID_KE_PAYLOAD and the
// request is sent again with the right group (1.3.2, 2.7).
//
//   CREATE_CHILD_SA(2)  SK{SA Ni KEi(x25519)} ---->
//               <---- SK{N(INVALID_KE_PAYLOAD, 20)}
//   CREATE_CHILD_SA(3)  SK{SA Ni KEi(ECP-384)} ---->
//               <---- SK{SA Nr KEr}
//   INFORMATIONAL(4)  SK{D(IKE)} ---->
//               <---- SK{}
TEST(IkeSaIkeRekeyTest, InvalidKePayloadRetriesWithTheNamedGroup) {
  TestAddressPool pool;
  IkeSaManagerConfig rc = Responder(pool);
  rc.responder->ike_proposals = {DefaultIkeProposals()[1]};
  Exchanger x(test::InitiatorPskConfig(), rc);
  auto [i, r] = EstablishQuiet(x);
  (void)r;
  const SecretBytes old_sk_d = i->keys()->sk_d;
  ASSERT_TRUE(i->RekeyIkeSa(x.now()).ok());
  x.Pump();
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  x.DeliverToR();
  x.DeliverToI();
  x.ExpectToR(EX::kCreateChildSa, false, 3);
  x.RunUntilQuiet();
  IkeSa* ni = Only(x.initiator());
  ExpectMatchingNewSas(ni, Only(x.responder()), old_sk_d);
  ASSERT_NE(ni, nullptr);
  EXPECT_EQ(ni->suite()->dh(), DhId::kEcp384);
}

// A second RekeyIkeSa() while one is pending is a no-op; after the rekey
// the replaced IKE SA refuses commands.
TEST(IkeSaIkeRekeyTest, DuplicateCommandIsOneExchange) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  (void)r;
  ASSERT_TRUE(i->RekeyIkeSa(x.now()).ok());
  ASSERT_TRUE(i->RekeyIkeSa(x.now()).ok());
  x.Pump();
  EXPECT_EQ(x.to_r.size(), 1u);
  x.DeliverToR();
  x.DeliverToI();
  EXPECT_TRUE(i->superseded());
  EXPECT_FALSE(i->RekeyIkeSa(x.now()).ok());
  EXPECT_FALSE(i->CreateChildSa(x.now()).ok());
  x.RunUntilQuiet();
  EXPECT_EQ(x.EventsI<IkeSaRekeyed>().size(), 1u);
  EXPECT_EQ(All(x.initiator()).size(), 1u);
}

}  // namespace
}  // namespace mipsec::ikev2

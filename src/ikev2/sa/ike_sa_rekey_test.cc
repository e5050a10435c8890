// Choreography tests of CHILD SA rekeying (RFC 7296 1.3.3, 2.8, 2.8.1,
// 2.25), after strongSwan's test_child_rekey: plain rekeys from either side,
// the soft lifetime, simultaneous rekeys with and without lost messages, and
// a rekey crossing a delete.
#include <gtest/gtest.h>

#include <set>

#include "ikev2/sa/ike_sa_test_util.h"
#include "ikev2/sa/proposals.h"
#include "ikev2/sa/task.h"

namespace mipsec::ikev2 {
namespace {

using test::EstablishQuiet;
using test::Exchanger;
using test::TestAddressPool;
using EX = ExchangeType;

using test::Responder;

// Both sides hold exactly one CHILD SA, and it is the same pair with
// matching keys.
void ExpectOneMatchingChild(IkeSa* i, IkeSa* r) {
  ASSERT_EQ(i->children().size(), 1u);
  ASSERT_EQ(r->children().size(), 1u);
  const ChildSaInfo& ci = i->children()[0].info;
  const ChildSaInfo& cr = r->children()[0].info;
  EXPECT_EQ(ci.spi_out, cr.spi_in);
  EXPECT_EQ(ci.spi_in, cr.spi_out);
  EXPECT_TRUE(ci.keys_out.encr.Equals(cr.keys_in.encr));
  EXPECT_TRUE(ci.keys_in.encr.Equals(cr.keys_out.encr));
  EXPECT_EQ(i->children()[0].state, ChildSaState::kInstalled);
  EXPECT_EQ(r->children()[0].state, ChildSaState::kInstalled);
}

// The initiator rekeys.
//
//   CREATE_CHILD_SA(2)  SK{N(REKEY_SA,a1) SA(a2) Ni TSi TSr} ---->
//               <---- SK{SA(b2) Nr TSi TSr}
//   INFORMATIONAL(3)  SK{D(a1)} ---->
//               <---- SK{D(b1)}
TEST(IkeSaRekeyTest, ChildRekeyByInitiator) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  const std::uint32_t a1 = i->children()[0].info.spi_in;
  const std::uint32_t b1 = r->children()[0].info.spi_in;
  ASSERT_TRUE(i->RekeyChildSa(x.now(), a1).ok());
  x.Pump();
  EXPECT_EQ(i->FindChild(a1)->state, ChildSaState::kRekeying);
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  x.DeliverToR();
  EXPECT_EQ(r->children().size(), 2u);
  EXPECT_EQ(r->FindChild(b1)->state, ChildSaState::kRekeyed);
  x.ExpectToI(EX::kCreateChildSa, true, 2);
  x.DeliverToI();
  ASSERT_EQ(x.EventsI<ChildSaUp>().size(), 1u);
  EXPECT_EQ(x.EventsI<ChildSaUp>()[0].rekeyed_spi_in, a1);
  EXPECT_EQ(x.EventsR<ChildSaUp>()[0].rekeyed_spi_in, b1);
  // Both SAs are usable until the old one is deleted.
  EXPECT_EQ(i->children().size(), 2u);
  x.ExpectToR(EX::kInformational, false, 3);
  x.DeliverToR();
  x.DeliverToI();
  ExpectOneMatchingChild(i, r);
  EXPECT_NE(i->children()[0].info.spi_in, a1);
  ASSERT_EQ(x.EventsI<ChildSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsI<ChildSaDown>()[0].spi_in, a1);
  EXPECT_EQ(x.EventsI<ChildSaDown>()[0].reason, ChildDownReason::kRekeyed);
  ASSERT_EQ(x.EventsR<ChildSaDown>().size(), 1u);
  EXPECT_EQ(x.EventsR<ChildSaDown>()[0].spi_in, b1);
  EXPECT_EQ(x.EventsR<ChildSaDown>()[0].reason, ChildDownReason::kRekeyed);
  EXPECT_TRUE(x.to_r.empty() && x.to_i.empty());
}

// The responder of the IKE SA rekeys (its requests use its own IDs).
TEST(IkeSaRekeyTest, ChildRekeyByResponder) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(r->RekeyChildSa(x.now(), r->children()[0].info.spi_in).ok());
  x.Pump();
  x.ExpectToI(EX::kCreateChildSa, false, 0);
  x.RunUntilQuiet();
  ExpectOneMatchingChild(i, r);
  EXPECT_EQ(x.EventsI<ChildSaUp>().size(), 1u);
  EXPECT_EQ(x.EventsR<ChildSaUp>().size(), 1u);
}

// The soft lifetime starts the rekey; the CHILD SA gets fresh lifetimes.
TEST(IkeSaRekeyTest, SoftLifetimeRekeys) {
  TestAddressPool pool;
  PeerConfig ic = test::InitiatorPskConfig();
  ic.lifetimes.child_soft = Duration::Seconds(20);
  ic.lifetimes.child_hard = Duration::Seconds(25);
  ic.dpd_interval = Duration::Infinite();
  Exchanger x(ic, Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  const std::uint32_t a1 = i->children()[0].info.spi_in;
  // RFC 7296 2.8.1: jittered up to 10% (rekey_jitter_percent) earlier.
  const Duration d = x.AdvanceToNextTimer();
  EXPECT_LE(d, Duration::Seconds(20));
  EXPECT_GE(d, Duration::Seconds(18));
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  x.RunUntilQuiet();
  ExpectOneMatchingChild(i, r);
  EXPECT_NE(i->children()[0].info.spi_in, a1);
  EXPECT_LE(i->children()[0].soft_deadline, x.now() + Duration::Seconds(20));
  EXPECT_GE(i->children()[0].soft_deadline, x.now() + Duration::Seconds(18));
}

// Simultaneous rekeying (RFC 7296 2.8.1): both exchanges complete, the SA
// made by the exchange with the lowest nonce is deleted by its initiator,
// and the other side deletes the old SA.
//
//   CREATE_CHILD_SA(2) N(REKEY_SA,a1) Ni1 --->  <--- CREATE_CHILD_SA(0) N(REKEY_SA,b1) Ni2
//   <--- resp(0) Nr1 (a3)                       resp(2) Nr2 (b3) --->
//   then: the loser deletes its redundant SA, the winner the old one
//   INFORMATIONAL D(redundant) / D(old), answered
TEST(IkeSaRekeyTest, SimultaneousChildRekey) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  const std::uint32_t a1 = i->children()[0].info.spi_in;
  const std::uint32_t b1 = r->children()[0].info.spi_in;
  ASSERT_TRUE(i->RekeyChildSa(x.now(), a1).ok());
  ASSERT_TRUE(r->RekeyChildSa(x.now(), b1).ok());
  x.Pump();
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  x.ExpectToI(EX::kCreateChildSa, false, 0);
  x.DeliverToI();  // req2 at A
  x.DeliverToR();  // req1 at B
  EXPECT_EQ(i->children().size(), 2u);
  EXPECT_EQ(r->children().size(), 2u);
  x.DeliverToI();  // resp1 at A
  x.DeliverToR();  // resp2 at B
  EXPECT_EQ(i->children().size(), 3u);
  EXPECT_EQ(r->children().size(), 3u);
  // Exactly one Delete request from each side.
  ASSERT_EQ(x.to_r.size(), 1u);
  ASSERT_EQ(x.to_i.size(), 1u);
  EXPECT_EQ(test::Exchanger::Inspect(x.to_r.front()).exchange, EX::kInformational);
  EXPECT_EQ(test::Exchanger::Inspect(x.to_i.front()).exchange, EX::kInformational);
  x.RunUntilQuiet();
  ExpectOneMatchingChild(i, r);
  EXPECT_NE(i->children()[0].info.spi_in, a1);
  EXPECT_EQ(x.EventsI<ChildSaDown>().size(), 2u);
  EXPECT_EQ(x.EventsR<ChildSaDown>().size(), 2u);
}

// Simultaneous rekeying where A's request is lost (RFC 7296 2.8.1, second
// sequence): B completes and deletes the old SA; A's retransmitted request
// is then answered with CHILD_SA_NOT_FOUND.
//
//   CREATE_CHILD_SA(2) N(REKEY_SA,a1) ---X
//                          <--- CREATE_CHILD_SA(0) N(REKEY_SA,b1)
//   resp(0) (a3) --->
//                          <--- INFORMATIONAL(1) D(b1)
//   resp D(a1) --->
//   CREATE_CHILD_SA(2) (retransmit) --->
//                          <--- N(CHILD_SA_NOT_FOUND)
TEST(IkeSaRekeyTest, SimultaneousChildRekeyFirstRequestLost) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->RekeyChildSa(x.now(), i->children()[0].info.spi_in).ok());
  ASSERT_TRUE(r->RekeyChildSa(x.now(), r->children()[0].info.spi_in).ok());
  x.Pump();
  x.DropToR();
  x.DeliverToI();
  x.ExpectToR(EX::kCreateChildSa, true, 0);
  x.DeliverToR();
  x.ExpectToI(EX::kInformational, false, 1);
  x.DeliverToI();
  x.DeliverToR();
  ExpectOneMatchingChild(i, r);
  x.AdvanceToNextTimer();  // A retransmits req1
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  x.DeliverToR();
  x.ExpectToI(EX::kCreateChildSa, true, 2);
  x.DeliverToI();
  ExpectOneMatchingChild(i, r);
  ASSERT_EQ(x.EventsI<ChildSaFailed>().size(), 1u);
  EXPECT_EQ(x.EventsI<ChildSaFailed>()[0].notify, NotifyType::kChildSaNotFound);
  EXPECT_TRUE(x.to_r.empty() && x.to_i.empty());
}

// A rekey crossing a delete of the same CHILD SA (RFC 7296 2.25.1): the
// delete wins, the rekey is refused with TEMPORARY_FAILURE, nothing is
// left.
//
//   CREATE_CHILD_SA(2) N(REKEY_SA,a1) --->   <--- INFORMATIONAL(0) D(b1)
//   resp D(a1) --->                           <--- N(TEMPORARY_FAILURE)
TEST(IkeSaRekeyTest, ChildRekeyCollidesWithDelete) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  ASSERT_TRUE(i->RekeyChildSa(x.now(), i->children()[0].info.spi_in).ok());
  ASSERT_TRUE(r->DeleteChildSa(x.now(), r->children()[0].info.spi_in).ok());
  x.Pump();
  x.DeliverToR();  // the rekey reaches the deleting side
  x.DeliverToI();  // the delete reaches the rekeying side
  x.RunUntilQuiet();
  EXPECT_TRUE(i->children().empty());
  EXPECT_TRUE(r->children().empty());
  ASSERT_EQ(x.EventsI<ChildSaFailed>().size(), 1u);
  EXPECT_EQ(x.EventsI<ChildSaFailed>()[0].notify, NotifyType::kTemporaryFailure);
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
}

// A task standing in for a peer's IKE SA rekey: CREATE_CHILD_SA with an
// IKE proposal (8-byte SPI), Ni and KEi; remembers the answer.
class FakeIkeRekey final : public Task {
 public:
  FakeIkeRekey() : Task(true) {}
  TaskType type() const override { return TaskType::kIkeRekey; }
  ExchangeType exchange() const override { return ExchangeType::kCreateChildSa; }
  TaskStatus Build(IkeSa& sa, Timestamp, Message& m) override {
    AddPayload(m, Payload::Sa(MakeOffer(std::vector<Suite>{*sa.suite()}, ProtocolId::kIke,
                                        Bytes(8, 0x42))));
    AddPayload(m, Payload::Nonce(NoncePayload{sa.NewNonce()}));
    AddPayload(m, Payload::Ke(KePayload{19, Bytes(64, 9)}));  // not the suite's group
    return TaskStatus::kNeedMore;
  }
  TaskStatus Process(IkeSa&, Timestamp, const Message& m) override {
    for (const NotifyPayload* n : m.Notifies()) *answer = n->type;
    return TaskStatus::kDone;
  }
  std::optional<NotifyType>* answer = nullptr;
};

// A peer's IKE SA rekey whose KE is not of the selected proposal's group is
// refused with INVALID_KE_PAYLOAD (RFC 7296 1.3.2, 2.7); nothing changes.
// (Full IKE SA rekeying: ike_sa_ike_rekey_test.cc.)
//
//   CREATE_CHILD_SA(2)  SK{SA(IKE) Ni KEi(ECP-256)} ---->
//               <---- SK{N(INVALID_KE_PAYLOAD, x25519)}
TEST(IkeSaRekeyTest, IkeRekeyRequestRefused) {
  TestAddressPool pool;
  Exchanger x(test::InitiatorPskConfig(), Responder(pool));
  auto [i, r] = EstablishQuiet(x);
  std::optional<NotifyType> answer;
  auto task = std::make_unique<FakeIkeRekey>();
  task->answer = &answer;
  i->task_manager().Queue(std::move(task));
  i->task_manager().Initiate(x.now());
  x.Pump();
  x.ExpectToR(EX::kCreateChildSa, false, 2);
  x.RunUntilQuiet();
  EXPECT_EQ(answer, NotifyType::kInvalidKePayload);
  EXPECT_EQ(i->state(), IkeSaState::kEstablished);
  EXPECT_FALSE(r->superseded());
  EXPECT_EQ(x.responder().size(), 1u);
  EXPECT_EQ(r->state(), IkeSaState::kEstablished);
  EXPECT_EQ(r->children().size(), 1u);
}

}  // namespace
}  // namespace mipsec::ikev2

// HomeAgent::Reconfigure (a daemon's SIGHUP): bindings stay, removed mobile
// nodes are revoked, re-keyed ones switch keys, replay state carries over,
// fixed options are refused with nothing changed.
#include <gtest/gtest.h>

#include "mip4/codec/reply_code.h"
#include "mip4/ha/ha_test_util.h"
#include "mip4/ha/home_agent.h"

namespace mipsec::mip4::ha_test {
namespace {

constexpr int C(ReplyCode c) { return static_cast<int>(c); }

Bytes NewKey() { return Bytes(16, 0x5a); }

void Add(SaDatabase& db, std::optional<Ipv4Address> home, std::string nai, const Bytes& key) {
  SecurityAssociationParams p;
  p.spi = kSpi;
  p.key = SecretBytes(key);
  Result<SecurityAssociation> sa = SecurityAssociation::Create(std::move(p));
  ASSERT_TRUE(sa.ok());
  std::vector<SecurityAssociation> sas;
  sas.push_back(std::move(sa).value());
  ASSERT_TRUE(db.AddMobileNode(home, std::move(nai), std::move(sas)).ok());
}

class HaReconfigureTest : public HaTest {
 protected:
  void Register(Timestamp now, Ipv4Address home, const Bytes& key = MnKey()) {
    Req r = MakeReq(now, home, kCoa, 300);
    r.key = key;
    EXPECT_EQ(Code(now, r), C(ReplyCode::kAccepted));
    (void)Events();
  }
  SaDatabase next_;
};

TEST_F(HaReconfigureTest, BindingsStayRemovedNodesAreRevokedRekeyedNodesSwitchKeys) {
  Register(T(1), kMn);
  Register(T(1), kMn2);
  ASSERT_EQ(ha_->binding_count(), 2u);
  // kMn re-keyed, kMn2 gone, the NAI node unchanged.
  Add(next_, kMn, "", NewKey());
  Add(next_, kNaiMn, "nai@example.org", MnKey());
  HomeAgentOptions o = BaseOptions();
  o.max_lifetime = 200;
  ASSERT_TRUE(ha_->Reconfigure(T(2), o, next_).ok());
  EXPECT_EQ(ha_->options().max_lifetime, 200);

  std::vector<HaEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, HaEvent::Kind::kBindingRemoved);
  EXPECT_EQ(ev[0].cause, HaEvent::Cause::kRevoked);
  EXPECT_EQ(ev[0].home_address, kMn2);
  EXPECT_EQ(HaEventCauseName(ev[0].cause), "revoked");
  EXPECT_TRUE(Drain().empty());
  ASSERT_EQ(ha_->Bindings(kMn).size(), 1u);  // untouched, old lifetime
  EXPECT_EQ(ha_->Bindings(kMn)[0].expires, T(301));
  EXPECT_TRUE(ha_->Bindings(kMn2).empty());

  // The old key no longer authenticates kMn (131, under the new key); the
  // new one does, with the new max_lifetime.
  Req old_key = MakeReq(T(3), kMn, kCoa, 300);
  (void)Send(T(3), old_key);
  std::optional<Reply> denied = OneReply(NewKey());
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->code(), C(ReplyCode::kHaMnFailedAuthentication));
  Req new_key = MakeReq(T(4), kMn, kCoa, 300);
  new_key.key = NewKey();
  (void)Send(T(4), new_key);
  std::optional<Reply> ok = OneReply(NewKey());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->code(), C(ReplyCode::kAccepted));
  EXPECT_TRUE(ok->mnha_valid);
  EXPECT_EQ(ok->fixed.lifetime, 200);
  // kMn2 is unknown now.
  ExpectSilent(Send(T(5), MakeReq(T(5), kMn2)), HaDrop::kNoSecurityAssociation);
}

TEST_F(HaReconfigureTest, ReplayStateCarriesOver) {
  Req r = MakeReq(T(1), kMn, kCoa, 300);
  EXPECT_EQ(Code(T(1), r), C(ReplyCode::kAccepted));
  Add(next_, kMn, "", MnKey());
  ASSERT_TRUE(ha_->Reconfigure(T(2), BaseOptions(), next_).ok());
  // The same request again, within the timestamp tolerance: still a replay.
  EXPECT_EQ(Code(T(2), r), C(ReplyCode::kHaIdentificationMismatch));
}

TEST_F(HaReconfigureTest, FixedOptionsAreRefusedAndNothingChanges) {
  Register(T(1), kMn);
  Add(next_, kMn2, "", MnKey());  // kMn would be revoked if this applied
  HomeAgentOptions o = BaseOptions();
  o.address = A("10.1.0.2");
  Status st = ha_->Reconfigure(T(2), o, next_);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(st.error().detail().find("address"), std::string::npos) << st.error().detail();
  o = BaseOptions();
  o.max_lifetime = 0;  // invalid
  EXPECT_FALSE(ha_->Reconfigure(T(2), o, next_).ok());
  EXPECT_TRUE(Events().empty());
  EXPECT_EQ(ha_->binding_count(), 1u);
  EXPECT_EQ(ha_->options().max_lifetime, 600);
  // Still the old database: kMn renews with its key.
  Register(T(3), kMn);
}

TEST_F(HaReconfigureTest, FirstPeerSpiIsPerDatabase) {
  AddFa();
  EXPECT_EQ(db_.FirstPeerSpi(kFa), std::optional<std::uint32_t>(kFaSpi));
  Add(next_, kMn, "", MnKey());
  SecurityAssociationParams p;
  p.spi = kFaSpi + 1;
  p.key = SecretBytes(FaKey());
  ASSERT_TRUE(next_.AddPeerSa(kFa, SecurityAssociation::Create(std::move(p)).value()).ok());
  ASSERT_TRUE(ha_->Reconfigure(T(1), BaseOptions(), next_).ok());
  EXPECT_EQ(next_.FirstPeerSpi(kFa), std::optional<std::uint32_t>(kFaSpi + 1));
  EXPECT_FALSE(next_.FirstPeerSpi(kMn).has_value());
}

}  // namespace
}  // namespace mipsec::mip4::ha_test

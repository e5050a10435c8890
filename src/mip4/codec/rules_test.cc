// The rules table and Validate(): what may appear where in a Request or a
// Reply.
#include <set>

#include <gtest/gtest.h>

#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/registration_extensions.h"
#include "mip4/codec/rules.h"
#include "mip4/codec/test_messages.h"

namespace mipsec::mip4 {
namespace {

const Bytes kAuth(16, 0x11);

class Msg {
 public:
  explicit Msg(const RegistrationRequest& q) : b_(MessageBuilder::Request(q)), request_(true) {}
  explicit Msg(const RegistrationReply& r) : b_(MessageBuilder::Reply(r)), request_(false) {}
  Msg& Nai() { EXPECT_TRUE(b_.AppendNai("mn@example.org").ok()); return *this; }
  Msg& MnHa() { EXPECT_TRUE(b_.AppendAuthRaw(kExtMnHaAuth, 1, kAuth).ok()); return *this; }
  Msg& MnFa() { EXPECT_TRUE(b_.AppendAuthRaw(kExtMnFaAuth, 2, kAuth).ok()); return *this; }
  Msg& FaHa() { EXPECT_TRUE(b_.AppendAuthRaw(kExtFaHaAuth, 3, kAuth).ok()); return *this; }
  Msg& Utr() { b_.AppendUdpTunnelRequest({}); return *this; }
  Msg& Utrep() { b_.AppendUdpTunnelReply({.keepalive_interval = 110}); return *this; }
  Msg& Eds() { b_.AppendDeliveryStyle(); return *this; }
  Msg& Tnc() { b_.AppendTnc(); return *this; }
  Msg& Rev() { b_.AppendRevocationSupport({}); return *this; }
  Msg& Pad() { b_.AppendPadding(); return *this; }
  Msg& Skipped() { EXPECT_TRUE(b_.AppendTlv(250, Bytes{1}).ok()); return *this; }

  // The violated rule, or nullopt.
  std::optional<RuleId> Check() {
    bytes_ = std::move(b_).Take();
    std::optional<Violation> v;
    if (request_) {
      Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(bytes_);
      EXPECT_TRUE(p.ok()) << p.error().ToString();
      if (!p.ok()) return RuleId::kMisplaced;
      v = Validate(*p);
    } else {
      Result<ParsedRegistrationReply> p = ParseRegistrationReply(bytes_);
      EXPECT_TRUE(p.ok()) << p.error().ToString();
      if (!p.ok()) return RuleId::kMisplaced;
      v = Validate(*p);
    }
    if (!v) return std::nullopt;
    EXPECT_FALSE(v->detail.empty());
    EXPECT_EQ(v->ToError().code(), Errc::kMalformed);
    return v->rule;
  }

 private:
  MessageBuilder b_;
  bool request_;
  Bytes bytes_;
};

RegistrationRequest Req() { return testing::SampleRequest(); }  // D and T set
RegistrationReply Rep() { return testing::SampleReply(); }

TEST(RulesTableTest, CoversExactlyTheRecognisedTypes) {
  std::set<int> kinds, rules;
  for (const ExtensionKind& k : RegistrationExtensionKinds()) kinds.insert(k.type);
  for (const ExtensionRule& r : RegistrationRules()) {
    rules.insert(r.type);
    EXPECT_FALSE(r.name.empty());
    EXPECT_FALSE(r.reference.empty());
    EXPECT_TRUE(r.in_request || r.in_reply) << int{r.type};
  }
  EXPECT_EQ(kinds, rules);
  EXPECT_EQ(FindRegistrationRule(kExtTnc)->in_request, false);
  EXPECT_EQ(FindRegistrationRule(200), nullptr);
}

TEST(RulesTest, ConformingMessagesPass) {
  // MN -> FA: (b) NAI, UDP Tunnel Request; (c) MN-HA; (d) EDS; (e) MN-FA.
  EXPECT_EQ(Msg(Req()).Nai().Utr().MnHa().Eds().MnFa().Check(), std::nullopt);
  // FA -> HA: the MN's part, then the FA's revocation support and FA-HA.
  RegistrationRequest fa = Req();
  fa.decapsulation_by_mn = false;
  EXPECT_EQ(Msg(fa).Nai().MnHa().Utr().Rev().FaHa().Check(), std::nullopt);
  // Co-located MN -> HA, with padding and a skipped extension.
  EXPECT_EQ(Msg(Req()).Pad().Skipped().Rev().MnHa().Check(), std::nullopt);
  // HA -> FA: UDP Tunnel Reply, TNC, NAI, MN-HA, then for the FA and FA-HA.
  EXPECT_EQ(Msg(Rep()).Utrep().Tnc().Nai().MnHa().Rev().FaHa().Check(), std::nullopt);
  // FA -> MN, relayed: MN-HA then MN-FA.
  EXPECT_EQ(Msg(Rep()).Tnc().MnHa().MnFa().Check(), std::nullopt);
}

TEST(RulesTest, AuthorizationEnablingExtensionIsRequired) {
  EXPECT_EQ(Msg(Req()).Nai().Check(), RuleId::kMissingAuthorization);
  EXPECT_EQ(Msg(Req()).Nai().MnFa().Check(), RuleId::kMissingAuthorization);
  EXPECT_EQ(Msg(Rep()).Check(), RuleId::kMissingAuthorization);
  // An FA's own denial cannot carry one (RFC 5944 3.6.2.1 b).
  RegistrationReply denied = Rep();
  denied.set_code(ReplyCode::kFaPoorlyFormedRequest);
  EXPECT_EQ(Msg(denied).Check(), std::nullopt);
  denied.set_code(ReplyCode::kFaInvalidHomeAgentAddress);
  EXPECT_EQ(Msg(denied).Check(), std::nullopt);
  denied.set_code(ReplyCode::kHaPoorlyFormedRequest);
  EXPECT_EQ(Msg(denied).Check(), RuleId::kMissingAuthorization);
}

TEST(RulesTest, CountsAreLimited) {
  EXPECT_EQ(Msg(Req()).MnHa().MnHa().Check(), RuleId::kTooMany);
  EXPECT_EQ(Msg(Req()).Nai().Nai().MnHa().Check(), RuleId::kTooMany);
  EXPECT_EQ(Msg(Rep()).Tnc().Tnc().MnHa().Check(), RuleId::kTooMany);
}

TEST(RulesTest, ExtensionsBelongToOneKind) {
  EXPECT_EQ(Msg(Req()).Tnc().MnHa().Check(), RuleId::kNotAllowedInKind);
  EXPECT_EQ(Msg(Req()).Utrep().MnHa().Check(), RuleId::kNotAllowedInKind);
  EXPECT_EQ(Msg(Rep()).Utr().MnHa().Check(), RuleId::kNotAllowedInKind);
  EXPECT_EQ(Msg(Rep()).MnHa().Eds().Check(), RuleId::kNotAllowedInKind);
}

TEST(RulesTest, PlacementAroundTheMnHaExtension) {
  // RFC 2794 2: the NAI precedes the authenticators.
  EXPECT_EQ(Msg(Req()).MnHa().Nai().Check(), RuleId::kMisplaced);
  // RFC 3024 3.3: the delivery style follows the MN-HA.
  EXPECT_EQ(Msg(Req()).Eds().MnHa().Check(), RuleId::kMisplaced);
  // RFC 5265: the TNC must be covered by the MN-HA.
  EXPECT_EQ(Msg(Rep()).MnHa().Tnc().Check(), RuleId::kMisplaced);
  // RFC 3543 3.2: revocation support must be covered by MN-HA or FA-HA.
  EXPECT_EQ(Msg(Rep()).MnHa().Rev().Check(), RuleId::kMisplaced);
  EXPECT_EQ(Msg(Req()).MnHa().Rev().MnFa().Check(), RuleId::kMisplaced);
  // MN-FA / FA-HA come after the MN-HA and last.
  EXPECT_EQ(Msg(Req()).MnFa().MnHa().Check(), RuleId::kMisplaced);
  EXPECT_EQ(Msg(Req()).MnHa().MnFa().Pad().Check(), RuleId::kAfterFinalAuth);
  EXPECT_EQ(Msg(Req()).MnHa().MnFa().FaHa().Check(), RuleId::kAfterFinalAuth);
  EXPECT_EQ(Msg(Rep()).MnHa().FaHa().Nai().Check(), RuleId::kAfterFinalAuth);
}

TEST(RulesTest, FieldConstraints) {
  // RFC 5944 3.5.4: no FA-HA on a deregistration.
  RegistrationRequest dereg = Req();
  dereg.lifetime = 0;
  EXPECT_EQ(Msg(dereg).MnHa().FaHa().Check(), RuleId::kFaHaOnDeregistration);
  EXPECT_EQ(Msg(dereg).MnHa().Check(), std::nullopt);
  RegistrationRequest at_home = Req();
  at_home.care_of_address = at_home.home_address;
  EXPECT_EQ(Msg(at_home).MnHa().FaHa().Check(), RuleId::kFaHaOnDeregistration);
  // RFC 3024 3.3: delivery style only with 'T'.
  RegistrationRequest no_t = Req();
  no_t.reverse_tunnel = false;
  EXPECT_EQ(Msg(no_t).MnHa().Eds().Check(), RuleId::kDeliveryStyleWithoutT);
  // RFC 3519 3.1.5: the MN's UDP Tunnel Request needs 'D'; an FA's does not.
  RegistrationRequest no_d = Req();
  no_d.decapsulation_by_mn = false;
  EXPECT_EQ(Msg(no_d).Utr().MnHa().Check(), RuleId::kUdpTunnelWithoutD);
  EXPECT_EQ(Msg(no_d).MnHa().Utr().FaHa().Check(), std::nullopt);
  // RFC 2794 2: a zero Home Address needs the NAI.
  RegistrationRequest zero = Req();
  zero.home_address = Ipv4Address::Any();
  EXPECT_EQ(Msg(zero).MnHa().Check(), RuleId::kZeroHomeAddressNoNai);
  EXPECT_EQ(Msg(zero).Nai().MnHa().Check(), std::nullopt);
}

TEST(RulesTest, EveryRuleHasAName) {
  for (RuleId id : {RuleId::kMissingAuthorization, RuleId::kTooMany, RuleId::kNotAllowedInKind,
                    RuleId::kMisplaced, RuleId::kAfterFinalAuth, RuleId::kFaHaOnDeregistration,
                    RuleId::kDeliveryStyleWithoutT, RuleId::kUdpTunnelWithoutD,
                    RuleId::kZeroHomeAddressNoNai, RuleId::kAdvMobilityNotFirst,
                    RuleId::kAdvFlags, RuleId::kAdvPrefixLengths, RuleId::kAdvCode}) {
    EXPECT_NE(RuleIdName(id), "?");
  }
}

}  // namespace
}  // namespace mipsec::mip4

// The per-exchange payload rules (RFC 7296 1.2-1.5) and Validate().
#include "ikev2/codec/message_rules.h"

#include <gtest/gtest.h>

#include <set>

#include "ikev2/codec/codec_test_util.h"
#include "ikev2/codec/notify_data.h"

namespace mipsec::ikev2 {
namespace {

using test::Seq;

IkeHeader Hdr(ExchangeType x, bool response, std::uint32_t mid) {
  IkeHeader h;
  h.spi_i = 0x0102030405060708;
  h.spi_r = x == ExchangeType::kIkeSaInit && !response ? 0 : 0x1112131415161718;
  h.exchange = x;
  h.initiator = !response;
  h.response = response;
  h.message_id = mid;
  return h;
}

Message Init(bool response) {
  Message m;
  m.header = Hdr(ExchangeType::kIkeSaInit, response, 0);
  SaPayload sa{{test::IkeProposal(1)}};
  if (!response) sa.proposals.push_back(test::IkeProposal(2, DhId::kEcp256));
  m.payloads = {Payload::Sa(sa), Payload::Ke({31, Seq(32)}), Payload::Nonce({Seq(32)}),
                Payload::Notify(MakeNatDetection(NotifyType::kNatDetectionSourceIp, {})),
                Payload::VendorId({Seq(16)})};
  if (response) m.payloads.push_back(Payload::CertReq({CertEncoding::kX509Signature, {}}));
  return m;
}

Message Protected(ExchangeType x, bool response, std::uint32_t mid, std::vector<Payload> inner) {
  Message m;
  m.header = Hdr(x, response, mid);
  m.encrypted = EncryptedPayload{};
  m.inner = std::move(inner);
  return m;
}

TsPayload AnyTs() {
  return {{TrafficSelector::Ipv4Range(Ipv4Address::Any(), Ipv4Address::Broadcast())}};
}

Message AuthRequest() {
  return Protected(
      ExchangeType::kIkeAuth, false, 1,
      {Payload::Idi(IdPayload::Fqdn("mn")),
       Payload::Notify(NotifyPayload::Make(NotifyType::kInitialContact)),
       Payload::Idr(IdPayload::Fqdn("gw")), Payload::Auth({AuthMethod::kSharedKeyMic, Seq(32)}),
       Payload::Cp({CfgType::kRequest, {}}), Payload::Sa({{test::EspGcmProposal(1, 1, 128)}}),
       Payload::Tsi(AnyTs()), Payload::Tsr(AnyTs()),
       Payload::Notify(NotifyPayload::Make(NotifyType::kMobikeSupported))});
}

Message AuthResponse() {
  return Protected(
      ExchangeType::kIkeAuth, true, 1,
      {Payload::Idr(IdPayload::Fqdn("gw")), Payload::Auth({AuthMethod::kSharedKeyMic, Seq(32)}),
       Payload::Cp({CfgType::kReply, {}}), Payload::Sa({{test::EspGcmProposal(1, 2, 128)}}),
       Payload::Tsi(AnyTs()), Payload::Tsr(AnyTs())});
}

void ExpectRefused(const Message& m, bool expect_invalid_syntax, const char* what) {
  std::optional<ErrorNotify> notify;
  Status s = Validate(m, &notify);
  ASSERT_FALSE(s.ok()) << what;
  EXPECT_EQ(notify.has_value(), expect_invalid_syntax) << what << ": " << s.error().ToString();
  if (notify) {
    EXPECT_EQ(notify->type, NotifyType::kInvalidSyntax) << what;
  }
}

TEST(MessageRulesTest, WellFormedExchangesPass) {
  for (const Message& m :
       {Init(false), Init(true), AuthRequest(), AuthResponse(),
        Protected(ExchangeType::kCreateChildSa, false, 2,
                  {Payload::Notify(MakeRekeySa(ProtocolId::kEsp, 7)),
                   Payload::Sa({{test::EspGcmProposal(1, 3, 256)}}), Payload::Nonce({Seq(32)}),
                   Payload::Ke({31, Seq(32)}), Payload::Tsi(AnyTs()), Payload::Tsr(AnyTs())}),
        Protected(ExchangeType::kCreateChildSa, true, 2,
                  {Payload::Sa({{test::IkeProposal(1)}}), Payload::Nonce({Seq(32)}),
                   Payload::Ke({31, Seq(32)})}),
        Protected(ExchangeType::kInformational, false, 3, {}),
        Protected(ExchangeType::kInformational, true, 3, {}),
        Protected(ExchangeType::kInformational, false, 4,
                  {Payload::Notify(MakeUpdateSaAddresses()),
                   Payload::Delete(DeletePayload::Esp({5}))})}) {
    Status s = Validate(m);
    EXPECT_TRUE(s.ok()) << ExchangeTypeName(m.header.exchange) << " response=" << m.header.response
                        << ": " << s.error().ToString();
  }
}

TEST(MessageRulesTest, MissingOrRepeatedPayloads) {
  Message m = Init(false);
  m.payloads.erase(m.payloads.begin() + 1);  // no KE
  ExpectRefused(m, true, "IKE_SA_INIT without KE");
  m = Init(false);
  m.payloads.push_back(Payload::Nonce({Seq(32)}));
  ExpectRefused(m, true, "two nonces");
  m = AuthResponse();
  m.inner.erase(m.inner.begin() + 1);  // no AUTH
  ExpectRefused(m, false, "IKE_AUTH response without AUTH (a response: no answer)");
  m = AuthRequest();
  m.inner.erase(m.inner.begin());
  ExpectRefused(m, true, "IKE_AUTH without IDi");
}

TEST(MessageRulesTest, PayloadsNotAllowedOrNotEncrypted) {
  Message m = Init(false);
  m.payloads.push_back(Payload::Delete(DeletePayload::Ike()));
  ExpectRefused(m, true, "D in IKE_SA_INIT");
  m = Protected(ExchangeType::kInformational, false, 3, {Payload::Ke({31, Seq(32)})});
  ExpectRefused(m, true, "KE in INFORMATIONAL");
  m = AuthRequest();
  m.payloads.push_back(Payload::Notify(NotifyPayload::Make(NotifyType::kInitialContact)));
  ExpectRefused(m, true, "IKE_AUTH N outside SK");
  m = AuthRequest();
  m.encrypted.reset();
  m.payloads = m.inner;
  m.inner.clear();
  ExpectRefused(m, true, "IKE_AUTH not protected");
  m = Init(false);
  m.encrypted = EncryptedPayload{};
  ExpectRefused(m, true, "IKE_SA_INIT with SK");
}

TEST(MessageRulesTest, ErrorResponsesNeedNotCarryTheRequiredPayloads) {
  Message m;
  m.header = Hdr(ExchangeType::kIkeSaInit, true, 0);
  m.payloads = {Payload::Notify(MakeInvalidKePayload(19))};
  EXPECT_TRUE(Validate(m).ok());
  m.payloads = {Payload::Notify(MakeCookie(Seq(32)).value())};
  EXPECT_TRUE(Validate(m).ok());
  m.payloads = {Payload::Notify(NotifyPayload::Make(NotifyType::kNoProposalChosen))};
  EXPECT_TRUE(Validate(m).ok());
  m.payloads = {Payload::Notify(NotifyPayload::Make(NotifyType::kMobikeSupported))};
  ExpectRefused(m, false, "status-only IKE_SA_INIT response");
  m = Protected(ExchangeType::kIkeAuth, true, 1,
                {Payload::Notify(NotifyPayload::Make(NotifyType::kAuthenticationFailed))});
  EXPECT_TRUE(Validate(m).ok());
  // A request is never exempt.
  m = Init(false);
  m.payloads = {Payload::Notify(NotifyPayload::Make(NotifyType::kNoProposalChosen))};
  ExpectRefused(m, true, "error-only request");
}

TEST(MessageRulesTest, HeaderRules) {
  Message m = Init(false);
  m.header.spi_r = 5;
  ExpectRefused(m, true, "responder SPI in IKE_SA_INIT request");
  m = Init(false);
  m.header.message_id = 1;
  ExpectRefused(m, true, "IKE_SA_INIT message ID 1");
  m = Init(false);
  m.header.spi_i = 0;
  ExpectRefused(m, true, "zero initiator SPI");
  m = Init(false);
  m.header.initiator = false;
  ExpectRefused(m, true, "IKE_SA_INIT request without I");
  m = AuthResponse();
  m.header.initiator = true;
  ExpectRefused(m, false, "IKE_AUTH response with I");
  // CREATE_CHILD_SA goes either way.
  m = Protected(ExchangeType::kCreateChildSa, false, 2,
                {Payload::Sa({{test::EspGcmProposal(1, 3, 256)}}), Payload::Nonce({Seq(32)})});
  m.header.initiator = false;
  EXPECT_TRUE(Validate(m).ok());
  m.header.exchange = static_cast<ExchangeType>(43);  // IKE_INTERMEDIATE: not known here
  std::optional<ErrorNotify> notify;
  EXPECT_EQ(Validate(m, &notify).error().code(), Errc::kUnsupported);
  EXPECT_FALSE(notify.has_value());
}

TEST(MessageRulesTest, PayloadSemantics) {
  Message m = Init(false);
  m.payloads[2] = Payload::Nonce({Seq(15)});
  ExpectRefused(m, true, "15-byte nonce");
  m.payloads[2] = Payload::Nonce({Seq(257)});
  ExpectRefused(m, true, "257-byte nonce");
  m.payloads[2] = Payload::Nonce({Seq(256)});
  EXPECT_TRUE(Validate(m).ok());
  m = Init(false);
  m.payloads[0].As<SaPayload>()->proposals[1].number = 3;
  ExpectRefused(m, true, "proposals 1, 3");
  m = Init(true);
  m.payloads[0].As<SaPayload>()->proposals.push_back(test::IkeProposal(2));
  ExpectRefused(m, false, "two proposals in a response");
  m = Init(false);
  NotifyPayload bad = NotifyPayload::Make(NotifyType::kRekeySa);
  bad.protocol = ProtocolId::kEsp;
  bad.spi = {1, 2};
  m.payloads.push_back(Payload::Notify(bad));
  ExpectRefused(m, true, "ESP notify with a 2-byte SPI");
}

TEST(MessageRulesTest, UnknownPayloadsAndCriticalBit) {
  Message m = AuthRequest();
  m.inner.push_back(Payload::Unknown(static_cast<PayloadType>(99), Seq(4)));
  EXPECT_TRUE(Validate(m).ok());
  m.inner.back().critical = true;
  std::optional<ErrorNotify> notify;
  Status s = Validate(m, &notify);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kUnsupported);
  ASSERT_TRUE(notify.has_value());
  EXPECT_EQ(notify->type, NotifyType::kUnsupportedCriticalPayload);
  EXPECT_EQ(notify->data, Bytes{99});
}

TEST(MessageRulesTest, TablesAreConsistent) {
  for (ExchangeType x : {ExchangeType::kIkeSaInit, ExchangeType::kIkeAuth,
                         ExchangeType::kCreateChildSa, ExchangeType::kInformational}) {
    for (bool response : {false, true}) {
      const MessageRules* r = FindMessageRules(x, response);
      ASSERT_NE(r, nullptr);
      EXPECT_EQ(r->exchange, x);
      EXPECT_EQ(r->response, response);
      std::set<PayloadType> seen;
      for (const PayloadRule& p : r->payloads) {
        EXPECT_TRUE(seen.insert(p.type).second) << "duplicate " << PayloadTypeName(p.type);
        EXPECT_LE(p.min, p.max);
        // IKE_SA_INIT is the only exchange in the clear (RFC 7296 1.2).
        EXPECT_EQ(p.encrypted, x != ExchangeType::kIkeSaInit) << PayloadTypeName(p.type);
        EXPECT_TRUE(IsKnownPayloadType(p.type));
      }
    }
  }
  EXPECT_EQ(FindMessageRules(static_cast<ExchangeType>(99), false), nullptr);
}

}  // namespace
}  // namespace mipsec::ikev2

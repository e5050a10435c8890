// IKE header, outer message decode/encode, and SK protection (RFC 7296 3.1,
// 3.14, RFC 5282 layout) with the test ciphers.
#include "ikev2/codec/message.h"

#include <gtest/gtest.h>

#include "common/bytes.h"
#include "common/wire/writer.h"
#include "ikev2/codec/codec_test_util.h"

namespace mipsec::ikev2 {
namespace {

using test::Seq;

IkeHeader Header(ExchangeType x, bool response, std::uint32_t mid = 0) {
  IkeHeader h;
  h.spi_i = 0x0102030405060708;
  h.spi_r = x == ExchangeType::kIkeSaInit && !response ? 0 : 0x1112131415161718;
  h.exchange = x;
  h.initiator = !response;
  h.response = response;
  h.message_id = mid;
  return h;
}

Message InitRequest() {
  Message m;
  m.header = Header(ExchangeType::kIkeSaInit, false);
  SaPayload sa{{test::IkeProposal(1), test::IkeProposal(2, DhId::kEcp256)}};
  m.payloads = {Payload::Sa(sa), Payload::Ke({31, Seq(32)}), Payload::Nonce({Seq(32, 100)}),
                Payload::Notify(NotifyPayload::Make(NotifyType::kNatDetectionSourceIp, Seq(20))),
                Payload::VendorId({Seq(16)})};
  return m;
}

Message AuthRequest() {
  Message m;
  m.header = Header(ExchangeType::kIkeAuth, false, 1);
  m.inner = {
      Payload::Idi(IdPayload::Fqdn("mn@example.org")),
      Payload::Notify(NotifyPayload::Make(NotifyType::kInitialContact)),
      Payload::Auth({AuthMethod::kSharedKeyMic, Seq(32)}),
      Payload::Cp({CfgType::kRequest, {CfgAttribute::Empty(CfgAttr::kInternalIp4Address)}}),
      Payload::Sa({{test::EspGcmProposal(1, 0xc1c2c3c4, 128)}}),
      Payload::Tsi({{TrafficSelector::Ipv4Range(Ipv4Address::Any(), Ipv4Address::Broadcast())}}),
      Payload::Tsr({{TrafficSelector::Ipv4Range(Ipv4Address::Any(), Ipv4Address::Broadcast())}})};
  return m;
}

TEST(HeaderTest, WireFormatAndFlags) {
  IkeHeader h = Header(ExchangeType::kIkeAuth, true, 7);
  h.initiator = false;
  wire::Writer w;
  EncodeHeader(w, h, PayloadType::kSk, 28);
  EXPECT_EQ(ToHex(w.View()),
            "0102030405060708"
            "1112131415161718"
            "2e"
            "20"
            "23"
            "20"
            "00000007"
            "0000001c");
  Result<IkeHeader> back = DecodeHeader(w.View());
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->next_payload, PayloadType::kSk);
  EXPECT_TRUE(back->response);
  EXPECT_FALSE(back->initiator);
  EXPECT_FALSE(back->higher_version);
  EXPECT_EQ(back->message_id, 7u);
  EXPECT_EQ(back->length, 28u);
}

TEST(HeaderTest, ReservedFlagsIgnoredMinorVersionKept) {
  Bytes b = FromHex(
                "0102030405060708"
                "0000000000000000"
                "00"
                "27"
                "22"
                "cf"
                "00000000"
                "0000001c")
                .value();
  Result<IkeHeader> h = DecodeHeader(b);
  ASSERT_TRUE(h.ok()) << h.error().ToString();
  EXPECT_EQ(h->minor_version, 7);
  EXPECT_TRUE(h->initiator);
  EXPECT_FALSE(h->response);  // 0xcf: bit 5 clear
  EXPECT_FALSE(h->higher_version);
  EXPECT_EQ(h->flags(), IkeHeader::kFlagInitiator);
}

TEST(HeaderTest, MajorVersionAbove2SuggestsInvalidMajorVersion) {
  Bytes b = FromHex(
                "0102030405060708"
                "0000000000000000"
                "00"
                "30"
                "22"
                "08"
                "00000000"
                "0000001c")
                .value();
  std::optional<ErrorNotify> notify;
  Result<IkeHeader> h = DecodeHeader(b, &notify);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code(), Errc::kUnsupported);
  ASSERT_TRUE(notify.has_value());
  EXPECT_EQ(notify->type, NotifyType::kInvalidMajorVersion);
  // A response is never answered.
  b[19] = 0x20;
  notify.reset();
  EXPECT_FALSE(DecodeHeader(b, &notify).ok());
  EXPECT_FALSE(notify.has_value());
  // IKEv1 (major 1) is dropped without a suggestion.
  b[17] = 0x10;
  b[19] = 0x08;
  EXPECT_EQ(DecodeHeader(b, &notify).error().code(), Errc::kUnsupported);
  EXPECT_FALSE(notify.has_value());
}

TEST(HeaderTest, LengthMustMatchTheDatagram) {
  wire::Writer w;
  EncodeHeader(w, Header(ExchangeType::kIkeSaInit, false), PayloadType::kNone, 29);
  EXPECT_EQ(DecodeHeader(w.View()).error().code(), Errc::kTruncated);
  w.U8(0);
  EXPECT_TRUE(DecodeHeader(w.View()).ok());
  w.U8(0);
  EXPECT_EQ(DecodeHeader(w.View()).error().code(), Errc::kMalformed);
  wire::Writer small;
  EncodeHeader(small, Header(ExchangeType::kIkeSaInit, false), PayloadType::kNone, 27);
  EXPECT_EQ(DecodeHeader(small.View()).error().code(), Errc::kMalformed);
  for (std::size_t n = 0; n < IkeHeader::kSize; ++n) {
    EXPECT_EQ(DecodeHeader(small.View().first(n)).error().code(), Errc::kTruncated);
  }
}

TEST(MessageTest, UnprotectedRoundTripWithExactSize) {
  const Message m = InitRequest();
  MessageBuilder b(m.header);
  for (const Payload& p : m.payloads) b.Add(p);
  Result<Bytes> wire = b.Build();
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(wire->size(), b.PlainSize());
  EXPECT_EQ((*wire)[16], static_cast<std::uint8_t>(PayloadType::kSa));  // header next payload
  Result<Message> back = DecodeMessage(*wire);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_FALSE(back->is_protected());
  EXPECT_EQ(back->payloads, m.payloads);
  EXPECT_EQ(back->header.length, wire->size());
  EXPECT_EQ(EncodeMessage(*back).value(), *wire);
  EXPECT_NE(back->FindNotify(NotifyType::kNatDetectionSourceIp), nullptr);
  EXPECT_EQ(back->FindNotify(NotifyType::kCookie), nullptr);
  EXPECT_EQ(back->FindAll(PayloadType::kSa).size(), 1u);
}

TEST(MessageTest, TruncationAtEveryOffsetFails) {
  const Bytes wire = EncodeMessage(InitRequest()).value();
  for (std::size_t n = 0; n < wire.size(); ++n) {
    Bytes cut(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(DecodeMessage(cut).ok()) << n;
    // Even with the header Length fixed up to match.
    if (n >= IkeHeader::kSize) {
      wire::StoreU32(cut, 24, static_cast<std::uint32_t>(n));
      EXPECT_FALSE(DecodeMessage(cut).ok()) << "length-fixed prefix " << n;
    }
  }
}

TEST(MessageTest, UnknownCriticalPayloadInRequestSuggestsNotifyWithType) {
  Message m = InitRequest();
  m.payloads.insert(m.payloads.begin() + 1,
                    Payload::Unknown(static_cast<PayloadType>(200), Seq(3), /*critical=*/true));
  const Bytes wire = EncodeMessage(m).value();
  std::optional<ErrorNotify> notify;
  Result<Message> r = DecodeMessage(wire, &notify);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kUnsupported);
  ASSERT_TRUE(notify.has_value());
  EXPECT_EQ(notify->type, NotifyType::kUnsupportedCriticalPayload);
  EXPECT_EQ(notify->data, Bytes{200});
  // Not critical: skipped and kept, and the message re-encodes identically.
  m.payloads[1].critical = false;
  const Bytes ok_wire = EncodeMessage(m).value();
  Result<Message> kept = DecodeMessage(ok_wire);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->payloads[1].type, static_cast<PayloadType>(200));
  EXPECT_EQ(EncodeMessage(*kept).value(), ok_wire);
}

TEST(MessageTest, BytesAfterLastPayloadAreMalformed) {
  Bytes wire = EncodeMessage(InitRequest()).value();
  wire.push_back(0);
  wire::StoreU32(wire, 24, static_cast<std::uint32_t>(wire.size()));
  EXPECT_EQ(DecodeMessage(wire).error().code(), Errc::kMalformed);
}

class ProtectedTest : public ::testing::TestWithParam<std::pair<std::size_t, std::size_t>> {};

TEST_P(ProtectedTest, RoundTripAndLayout) {
  const auto [iv, block] = GetParam();
  test::XorHmacTestCipher cipher(iv, block);
  const Message m = AuthRequest();
  MessageBuilder b(m.header);
  for (const Payload& p : m.inner) b.AddProtected(p);
  Result<Bytes> wire = b.BuildProtected(cipher);
  ASSERT_TRUE(wire.ok()) << wire.error().ToString();
  EXPECT_EQ(wire->size(), b.ProtectedSize(cipher));
  // Header: Next Payload SK; SK: Next Payload IDi, length to the end.
  EXPECT_EQ((*wire)[16], static_cast<std::uint8_t>(PayloadType::kSk));
  EXPECT_EQ((*wire)[28], static_cast<std::uint8_t>(PayloadType::kIdi));
  EXPECT_EQ(wire::LoadU16(*wire, 30), wire->size() - 28);
  const std::size_t content = EncodedChainSize(m.inner);
  const std::size_t part = wire->size() - 32 - iv - cipher.IcvSize();
  EXPECT_EQ(part % block, 0u);
  EXPECT_GT(part, content);
  EXPECT_LE(part, content + block);  // minimal padding

  // Stage 1: SK kept raw; re-encodes byte for byte.
  Result<Message> outer = DecodeMessage(*wire);
  ASSERT_TRUE(outer.ok()) << outer.error().ToString();
  ASSERT_TRUE(outer->is_protected());
  EXPECT_EQ(outer->encrypted->first_inner, PayloadType::kIdi);
  EXPECT_TRUE(outer->inner.empty());
  EXPECT_EQ(EncodeMessage(*outer).value(), *wire);

  // Stage 2.
  Result<Message> back = DecodeProtected(*wire, cipher);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->inner, m.inner);
  EXPECT_TRUE(back->payloads.empty());
  EXPECT_EQ(back->header.message_id, 1u);
}

INSTANTIATE_TEST_SUITE_P(IvAndBlock, ProtectedTest,
                         ::testing::Values(std::pair<std::size_t, std::size_t>{8, 1},
                                           std::pair<std::size_t, std::size_t>{8, 4},
                                           std::pair<std::size_t, std::size_t>{16, 16},
                                           std::pair<std::size_t, std::size_t>{0, 8}));

TEST(MessageTest, AesCbcHmacRoundTripAndEveryPayload) {
  test::AesCbcHmacTestCipher cipher(Seq(16), Seq(32, 50));
  Message m;
  m.header = Header(ExchangeType::kInformational, false, 5);
  m.inner = test::EveryPayload();
  const Bytes wire = EncodeProtected(m, cipher).value();
  EXPECT_EQ(wire.size(), ProtectedSize(m, cipher));
  Result<Message> back = DecodeProtected(wire, cipher);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->inner, m.inner);
}

TEST(MessageTest, EmptyProtectedMessage) {
  // RFC 7296 2.4 liveness check: an INFORMATIONAL with an empty SK.
  test::XorHmacTestCipher cipher;
  Message m;
  m.header = Header(ExchangeType::kInformational, false, 9);
  const Bytes wire = EncodeProtected(m, cipher).value();
  EXPECT_EQ(wire[28], 0);  // SK Next Payload: none
  Result<Message> back = DecodeProtected(wire, cipher);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_TRUE(back->is_protected());
  EXPECT_TRUE(back->inner.empty());
}

TEST(MessageTest, AnyChangedByteFailsAuthenticationWithoutSuggestion) {
  test::XorHmacTestCipher cipher(8, 4);
  const Bytes wire = EncodeProtected(AuthRequest(), cipher).value();
  for (std::size_t i = 0; i < wire.size(); ++i) {
    Bytes bad = wire;
    bad[i] ^= 0x01;
    std::optional<ErrorNotify> notify;
    Result<Message> r = DecodeProtected(bad, cipher, &notify);
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_FALSE(notify.has_value()) << "byte " << i;
  }
}

TEST(MessageTest, MalformedInnerChainSuggestsInvalidSyntaxForRequestsOnly) {
  test::XorHmacTestCipher cipher;
  EncryptedPayload shape;
  shape.first_inner = PayloadType::kNotify;
  const Bytes garbage = FromHex("00000003").value();  // payload length 3
  for (bool response : {false, true}) {
    const IkeHeader h = Header(ExchangeType::kInformational, response, 3);
    const Bytes wire = SealMessage(h, {}, shape, garbage, cipher).value();
    std::optional<ErrorNotify> notify;
    Result<Message> r = DecodeProtected(wire, cipher, &notify);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::kMalformed);
    EXPECT_EQ(notify.has_value(), !response);
    if (notify) {
      EXPECT_EQ(notify->type, NotifyType::kInvalidSyntax);
    }
  }
}

TEST(MessageTest, UnknownCriticalInsideSkSuggestsUnsupportedCriticalPayload) {
  test::XorHmacTestCipher cipher;
  Message m;
  m.header = Header(ExchangeType::kInformational, false, 3);
  m.inner = {Payload::Unknown(static_cast<PayloadType>(120), Seq(4), true)};
  const Bytes wire = EncodeProtected(m, cipher).value();
  std::optional<ErrorNotify> notify;
  Result<Message> r = DecodeProtected(wire, cipher, &notify);
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(notify.has_value());
  EXPECT_EQ(notify->type, NotifyType::kUnsupportedCriticalPayload);
  EXPECT_EQ(notify->data, Bytes{120});
}

TEST(MessageTest, PaddingIsStrippedWhateverItsValue) {
  EXPECT_EQ(StripPadding(FromHex("aabbcc00").value())->size(), 3u);
  EXPECT_EQ(StripPadding(FromHex("aabbff02").value())->size(), 1u);
  EXPECT_EQ(StripPadding(FromHex("ffffff03").value())->size(), 0u);
  EXPECT_EQ(StripPadding(FromHex("ffffff04").value()).error().code(), Errc::kMalformed);
  EXPECT_EQ(StripPadding({}).error().code(), Errc::kTruncated);
  EXPECT_EQ(EncryptedPartSize(0, 16), 16u);
  EXPECT_EQ(EncryptedPartSize(15, 16), 16u);
  EXPECT_EQ(EncryptedPartSize(16, 16), 32u);
  EXPECT_EQ(EncryptedPartSize(5, 1), 6u);
  EXPECT_EQ(EncryptedPartSize(5, 0), 6u);
}

TEST(MessageTest, EncryptedPayloadMustBeLast) {
  test::XorHmacTestCipher cipher;
  Bytes wire = EncodeProtected(AuthRequest(), cipher).value();
  wire.insert(wire.end(), {0, 0, 0, 4});  // a payload after SK
  wire::StoreU32(wire, 24, static_cast<std::uint32_t>(wire.size()));
  Result<Message> r = DecodeMessage(wire);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kMalformed);
}

TEST(MessageTest, DecodeProtectedNeedsAnSk) {
  test::XorHmacTestCipher cipher;
  EXPECT_EQ(DecodeProtected(EncodeMessage(InitRequest()).value(), cipher).error().code(),
            Errc::kInvalidArgument);
  EncryptedPayload skf;
  skf.type = PayloadType::kSkf;
  skf.fragment_number = 1;
  skf.total_fragments = 1;
  const Bytes frag =
      SealMessage(Header(ExchangeType::kIkeAuth, false, 1), {}, skf, Seq(10), cipher).value();
  EXPECT_EQ(DecodeProtected(frag, cipher).error().code(), Errc::kInvalidArgument);
  Result<Message> outer = DecodeMessage(frag);
  ASSERT_TRUE(outer.ok());
  EXPECT_TRUE(outer->encrypted->is_fragment());
  EXPECT_EQ(outer->encrypted->fragment_number, 1);
  EXPECT_EQ(outer->encrypted->total_fragments, 1);
  EXPECT_EQ(EncodeMessage(*outer).value(), frag);
}

TEST(MessageTest, UnprotectedPayloadsBeforeSk) {
  // RFC 7383 2.5.3's hypothetical: PLD0, SK{...}.
  test::XorHmacTestCipher cipher(8, 4);
  Message m = AuthRequest();
  m.payloads = {Payload::VendorId({Seq(4)})};
  const Bytes wire = EncodeProtected(m, cipher).value();
  EXPECT_EQ(wire[16], static_cast<std::uint8_t>(PayloadType::kVendorId));
  Result<Message> back = DecodeProtected(wire, cipher);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->payloads, m.payloads);
  EXPECT_EQ(back->inner, m.inner);
  EXPECT_EQ(back->Find(PayloadType::kVendorId), &back->payloads[0]);
  EXPECT_EQ(back->FindAll(PayloadType::kTsi).size(), 1u);
}

TEST(MessageTest, OversizedSkIsRefused) {
  test::XorHmacTestCipher cipher;
  Message m;
  m.header = Header(ExchangeType::kIkeAuth, false, 1);
  for (int i = 0; i < 3; ++i)
    m.inner.push_back(Payload::Cert({CertEncoding::kX509Signature, Bytes(30000)}));
  EXPECT_EQ(EncodeProtected(m, cipher).error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace mipsec::ikev2

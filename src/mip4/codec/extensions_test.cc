// Each extension's round trip, the generic forms, and RFC 5944 1.8: an
// unknown 0-127 extension discards the message, an unknown 128-255 one is
// skipped but kept in the list.
#include <gtest/gtest.h>

#include "mip4/codec/auth_extension.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/cvse.h"
#include "mip4/codec/delivery_style.h"
#include "mip4/codec/nai_extension.h"
#include "mip4/codec/nvse.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/codec/registration_request.h"
#include "mip4/codec/revocation_support.h"
#include "mip4/codec/test_messages.h"
#include "mip4/codec/tnc_extension.h"
#include "mip4/codec/udp_tunnel_reply.h"
#include "mip4/codec/udp_tunnel_request.h"

namespace mipsec::mip4 {
namespace {

// A request whose extensions are exactly what `fill` appends.
template <typename Fill>
Bytes RequestWith(Fill fill) {
  MessageBuilder b = MessageBuilder::Request(testing::SampleRequest());
  fill(b);
  return std::move(b).Take();
}

ByteSpan ExtBytes(const Bytes& wire) { return ByteSpan(wire).subspan(24); }

TEST(ExtensionTest, NaiRoundTrip) {
  const Bytes wire = RequestWith([](MessageBuilder& b) { ASSERT_TRUE(b.AppendNai("u@x").ok()); });
  EXPECT_EQ(ToHex(ExtBytes(wire)), "8303754078");
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*DecodeNai(p->extensions[0]), "u@x");
  EXPECT_EQ(p->extensions[0].format, ExtensionFormat::kTlv);
}

TEST(ExtensionTest, UdpTunnelRequestRoundTrip) {
  for (bool f : {false, true}) {
    for (bool r : {false, true}) {
      for (std::uint8_t encap : {0, 4, 47, 55}) {
        UdpTunnelRequest req{.force = f, .registration_through_fa = r, .encapsulation = encap};
        const Bytes wire = RequestWith([&](MessageBuilder& b) { b.AppendUdpTunnelRequest(req); });
        Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
        ASSERT_TRUE(p.ok());
        ASSERT_EQ(p->extensions.size(), 1u);
        EXPECT_EQ(p->extensions[0].format, ExtensionFormat::kShort);
        Result<UdpTunnelRequest> d = DecodeUdpTunnelRequest(p->extensions[0]);
        ASSERT_TRUE(d.ok());
        EXPECT_EQ(d->force, f);
        EXPECT_EQ(d->registration_through_fa, r);
        EXPECT_EQ(d->encapsulation, encap);
      }
    }
  }
  const Bytes wire = RequestWith([](MessageBuilder& b) {
    b.AppendUdpTunnelRequest({.force = true, .registration_through_fa = true, .encapsulation = 4});
  });
  EXPECT_EQ(ToHex(ExtBytes(wire)), "90060000c0040000");
}

TEST(ExtensionTest, UdpTunnelRequestWithReserved3IsSkippedNotDiscarded) {
  // RFC 3519 3.1.3: Reserved 3 non-zero -> "not understood", skipped.
  Bytes wire = RequestWith([](MessageBuilder& b) {
    b.AppendUdpTunnelRequest({.force = true});
    ASSERT_TRUE(b.AppendNai("a@b").ok());
  });
  wire[24 + 7] = 1;
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  ASSERT_EQ(p->extensions.size(), 2u);
  EXPECT_FALSE(p->extensions[0].recognized);
  EXPECT_FALSE(p->extensions.Find(kExtUdpTunnelRequest).has_value());
  EXPECT_EQ(p->extensions[1].type, kExtNai);
  EXPECT_EQ(DecodeUdpTunnelRequest(p->extensions[0]).error().code(), Errc::kUnsupported);
  // Reserved 1 and 2 are ignored.
  Bytes r12 = RequestWith([](MessageBuilder& b) { b.AppendUdpTunnelRequest({}); });
  r12[24 + 3] = 0xff;
  r12[24 + 4] = 0x3f;
  Result<ParsedRegistrationRequest> q = ParseRegistrationRequest(r12);
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(q->extensions[0].recognized);
  EXPECT_EQ(DecodeUdpTunnelRequest(q->extensions[0])->reserved1, 0xff);
}

TEST(ExtensionTest, UdpTunnelReplyRoundTripAndNonSkippable) {
  RegistrationReply r = testing::SampleReply();
  MessageBuilder b = MessageBuilder::Reply(r);
  b.AppendUdpTunnelReply({.reply_code = kUdpTunnelDeclined, .forced = true,
                          .keepalive_interval = 110});
  Bytes wire = std::move(b).Take();
  EXPECT_EQ(ToHex(ByteSpan(wire).subspan(20)), "2c060040" "8000006e");
  Result<ParsedRegistrationReply> p = ParseRegistrationReply(wire);
  ASSERT_TRUE(p.ok());
  Result<UdpTunnelReply> d = DecodeUdpTunnelReply(p->extensions[0]);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->reply_code, 64);
  EXPECT_FALSE(d->assents());
  EXPECT_TRUE(d->forced);
  EXPECT_EQ(d->keepalive_interval, 110);
  // An unknown sub-type of a non-skippable extension: discard (RFC 5944 1.8).
  wire[22] = 1;
  Result<ParsedRegistrationReply> bad = ParseRegistrationReply(wire);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(IsUnrecognizedExtension(bad.error())) << bad.error().ToString();
}

TEST(ExtensionTest, DeliveryStyleRevocationTncRoundTrip) {
  const Bytes wire = RequestWith([](MessageBuilder& b) {
    b.AppendDeliveryStyle();
    b.AppendRevocationSupport({.i_bit = true, .timestamp = 0x01020304});
    b.AppendTnc();
  });
  EXPECT_EQ(ToHex(ExtBytes(wire)), "8200" "8906800001020304" "95020000");
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->extensions.size(), 3u);
  EXPECT_TRUE(CheckDeliveryStyle(p->extensions[0]).ok());
  Result<RevocationSupport> rs = DecodeRevocationSupport(p->extensions[1]);
  ASSERT_TRUE(rs.ok());
  EXPECT_TRUE(rs->i_bit);
  EXPECT_EQ(rs->timestamp, 0x01020304u);
  EXPECT_TRUE(DecodeTnc(p->extensions[2]).ok());
  EXPECT_EQ(p->extensions[2].format, ExtensionFormat::kShort);
}

TEST(ExtensionTest, RevocationSupportMayBeLonger) {
  const Bytes data = {0x00, 0x00, 0, 0, 0, 9, 0xaa, 0xbb};
  const Bytes wire = RequestWith([&](MessageBuilder& b) {
    ASSERT_TRUE(b.AppendTlv(kExtRevocationSupport, data).ok());
  });
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(DecodeRevocationSupport(p->extensions[0])->timestamp, 9u);
}

TEST(ExtensionTest, TncWithOtherSubTypeIsSkipped) {
  const Bytes wire = RequestWith([](MessageBuilder& b) {
    ASSERT_TRUE(b.AppendShort(kExtTnc, 1, Bytes{0}).ok());
  });
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->extensions[0].recognized);
  EXPECT_EQ(p->extensions[0].sub_type, 1);
  EXPECT_EQ(p->extensions.First(kExtTnc), nullptr);
}

TEST(ExtensionTest, CvseIsNeverADiscardAndNamesTheRejectCode) {
  const Bytes value = {0xde, 0xad};
  MessageBuilder b = MessageBuilder::Request(testing::SampleRequest());
  ASSERT_TRUE(b.AppendCvse({.vendor_id = 0x00001234, .vendor_type = 77, .value = value}).ok());
  ASSERT_TRUE(b.AppendAuthRaw(kExtMnHaAuth, 1, Bytes(16, 0)).ok());
  ASSERT_TRUE(b.AppendCvse({.vendor_id = 0x00005678, .vendor_type = 1, .value = {}}).ok());
  const Bytes wire = std::move(b).Take();
  EXPECT_EQ(ToHex(ByteSpan(wire).subspan(24, 12)), "2600000800001234004ddead");
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  ASSERT_EQ(p->extensions.size(), 3u);
  EXPECT_EQ(p->extensions[0].format, ExtensionFormat::kLong);
  Result<Cvse> c = DecodeCvse(p->extensions[0]);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->vendor_id, 0x1234u);
  EXPECT_EQ(c->vendor_type, 77);
  EXPECT_EQ(ToHex(c->value), "dead");
  // RFC 3115: before the MN-HA it came from the MN (140), after it from the
  // FA (141).
  EXPECT_EQ(HaCvseRejectCode(p->extensions, 0), ReplyCode::kHaCvseFromMnUnsupported);
  EXPECT_EQ(HaCvseRejectCode(p->extensions, 2), ReplyCode::kHaCvseFromFaUnsupported);
}

TEST(ExtensionTest, NvseRoundTrip) {
  const Bytes value = {1, 2, 3, 4};
  const Bytes wire = RequestWith([&](MessageBuilder& b) {
    ASSERT_TRUE(b.AppendNvse({.vendor_id = 5535, .vendor_type = 3, .value = value}).ok());
  });
  EXPECT_EQ(ToHex(ExtBytes(wire)), "860c" "0000" "0000159f" "0003" "01020304");
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
  ASSERT_TRUE(p.ok());
  Result<Nvse> n = DecodeNvse(p->extensions[0]);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->vendor_id, 5535u);
  EXPECT_EQ(n->vendor_type, 3);
  EXPECT_EQ(ToHex(n->value), "01020304");
}

TEST(ExtensionTest, AuthExtensionRoundTrip) {
  const Bytes auth = {9, 8, 7};
  const Bytes wire = RequestWith([&](MessageBuilder& b) {
    ASSERT_TRUE(b.AppendAuthRaw(kExtFaHaAuth, 0xdeadbeef, auth).ok());
  });
  EXPECT_EQ(ToHex(ExtBytes(wire)), "2207deadbeef090807");
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
  ASSERT_TRUE(p.ok());
  Result<AuthExtension> a = DecodeAuthExtension(p->extensions[0]);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->type, kExtFaHaAuth);
  EXPECT_EQ(a->spi, 0xdeadbeefu);
  EXPECT_EQ(ToHex(a->authenticator), "090807");
}

TEST(ExtensionTest, PaddingIsOneByte) {
  const Bytes wire = RequestWith([](MessageBuilder& b) {
    b.AppendPadding();
    ASSERT_TRUE(b.AppendNai("a").ok());
    b.AppendPadding();
  });
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->extensions.size(), 3u);
  EXPECT_EQ(p->extensions[0].format, ExtensionFormat::kPadding);
  EXPECT_EQ(p->extensions[0].length, 1u);
  EXPECT_EQ(p->extensions[1].offset, 25u);
}

TEST(ExtensionTest, MalformedKnownExtensionsFailTheParse) {
  struct Case {
    std::uint8_t type;
    Bytes data;
  };
  for (const Case& c : {Case{kExtMnHaAuth, {0, 0, 1}},             // SPI needs 4
                        Case{kExtDeliveryStyle, {0}},               // length must be 0
                        Case{kExtRevocationSupport, {0, 0, 0, 0, 0}},
                        Case{kExtNvse, {0, 0, 0, 0, 0, 0, 0}}}) {
    const Bytes wire = RequestWith([&](MessageBuilder& b) {
      ASSERT_TRUE(b.AppendTlv(c.type, c.data).ok());
    });
    Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
    ASSERT_FALSE(p.ok()) << int{c.type};
    EXPECT_EQ(p.error().code(), Errc::kMalformed) << p.error().ToString();
    EXPECT_FALSE(IsUnrecognizedExtension(p.error()));
  }
  const Bytes short_cvse = RequestWith([](MessageBuilder& b) {
    ASSERT_TRUE(b.AppendLong(kExtCvse, 0, Bytes{0, 0, 0, 1, 0}).ok());
  });
  EXPECT_EQ(ParseRegistrationRequest(short_cvse).error().code(), Errc::kMalformed);
  // A short-form extension with Length 0 has no sub-type.
  const Bytes no_subtype = RequestWith([](MessageBuilder& b) {
    ASSERT_TRUE(b.AppendTlv(kExtTnc, {}).ok());
  });
  EXPECT_EQ(ParseRegistrationRequest(no_subtype).error().code(), Errc::kMalformed);
}

TEST(SkippabilityTest, UnknownTypeBelow128DiscardsTheMessage) {
  for (int type : {1, 16, 35, 36, 37, 39, 43, 45, 127}) {
    const Bytes wire = RequestWith([&](MessageBuilder& b) {
      ASSERT_TRUE(b.AppendNai("a@b").ok());
      ASSERT_TRUE(b.AppendTlv(static_cast<std::uint8_t>(type), Bytes{1, 2}).ok());
      ASSERT_TRUE(b.AppendAuthRaw(kExtMnHaAuth, 1, Bytes(16, 0)).ok());
    });
    Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
    ASSERT_FALSE(p.ok()) << type;
    EXPECT_TRUE(IsUnrecognizedExtension(p.error())) << p.error().ToString();
    EXPECT_NE(p.error().detail().find("type " + std::to_string(type) + " at offset 29"),
              std::string::npos)
        << p.error().detail();
  }
  // Other errors are not the silent-discard one.
  EXPECT_FALSE(IsUnrecognizedExtension(Error(Errc::kUnsupported, "something else")));
  EXPECT_FALSE(IsUnrecognizedExtension(Error(Errc::kMalformed, "x")));
}

TEST(SkippabilityTest, UnknownTypeFrom128IsSkippedAndKeptForCoverage) {
  for (int type : {128, 129, 132, 135, 145, 200, 255}) {
    MessageBuilder b = MessageBuilder::Request(testing::SampleRequest());
    ASSERT_TRUE(b.AppendTlv(static_cast<std::uint8_t>(type), Bytes{1, 2, 3}).ok());
    ASSERT_TRUE(b.AppendNai("a@b").ok());
    ASSERT_TRUE(b.AppendAuth(kExtMnHaAuth, 1, 16, testing::HmacMd5(testing::MnHaKey())).ok());
    const Bytes wire = std::move(b).Take();
    Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
    ASSERT_TRUE(p.ok()) << type << ": " << p.error().ToString();
    ASSERT_EQ(p->extensions.size(), 3u);
    EXPECT_FALSE(p->extensions[0].recognized);
    EXPECT_EQ(p->extensions[0].type, type);
    EXPECT_EQ(p->extensions[0].length, 5u);
    EXPECT_EQ(p->extensions[1].offset, 29u);
    // The MN-HA covers the skipped extension too.
    Result<AuthCoverage> c = AuthenticationCoverage(p->extensions, 0);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->covered.size(), 24u + 5u + 5u + 6u);
    EXPECT_TRUE(crypto::VerifyHmac(crypto::HashAlg::kMd5, testing::MnHaKey(), c->covered,
                                   c->authenticator)
                    .ok());
  }
}

TEST(SkippabilityTest, SkippedExtensionMustStillFit) {
  Bytes wire = RequestWith([](MessageBuilder& b) {
    ASSERT_TRUE(b.AppendTlv(200, Bytes{1, 2, 3}).ok());
  });
  wire.pop_back();
  EXPECT_EQ(ParseRegistrationRequest(wire).error().code(), Errc::kTruncated);
}

}  // namespace
}  // namespace mipsec::mip4

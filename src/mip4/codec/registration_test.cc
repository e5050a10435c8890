// Registration Request / Reply / Tunnel Data: round trips, every flag and
// code, authenticator coverage, truncation at every offset.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "common/wire/writer.h"
#include "crypto/hmac.h"
#include "mip4/codec/auth_extension.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/nai_extension.h"
#include "mip4/codec/registration_extensions.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/codec/registration_request.h"
#include "mip4/codec/reply_code.h"
#include "mip4/codec/test_messages.h"
#include "mip4/codec/tunnel_data.h"

namespace mipsec::mip4 {
namespace {

using testing::Addr;

Bytes Encode(const RegistrationRequest& q) { return std::move(MessageBuilder::Request(q)).Take(); }

TEST(RegistrationRequestTest, FixedPartMatchesRfcLayout) {
  RegistrationRequest q;
  q.simultaneous_bindings = true;
  q.gre = true;
  q.reverse_tunnel = true;
  q.lifetime = 0x1234;
  q.home_address = Addr("10.0.0.1");
  q.home_agent = Addr("10.0.0.2");
  q.care_of_address = Addr("192.0.2.3");
  q.identification = 0x0102030405060708ull;
  EXPECT_EQ(ToHex(Encode(q)),
            "018a1234"            // type 1, S|G|T, lifetime
            "0a000001"            // home address
            "0a000002"            // home agent
            "c0000203"            // care-of address
            "0102030405060708");  // identification
}

TEST(RegistrationRequestTest, EveryFlagRoundTripsAlone) {
  for (int bit = 0; bit < 8; ++bit) {
    RegistrationRequest q = testing::SampleRequest();
    q.SetFlagsByte(static_cast<std::uint8_t>(1u << bit));
    const Bytes wire = Encode(q);
    EXPECT_EQ(wire[1], 1u << bit);
    Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
    ASSERT_TRUE(p.ok()) << p.error().ToString();
    EXPECT_EQ(p->request, q) << "bit " << bit;
    EXPECT_EQ(p->request.FlagsByte(), 1u << bit);
  }
  RegistrationRequest all;
  all.SetFlagsByte(0xff);
  EXPECT_TRUE(all.simultaneous_bindings && all.broadcast && all.decapsulation_by_mn &&
              all.minimal_encapsulation && all.gre && all.reserved_r && all.reverse_tunnel &&
              all.reserved_x);
}

TEST(RegistrationRequestTest, FullRangeFieldsRoundTrip) {
  RegistrationRequest q;
  q.lifetime = kInfiniteLifetime;
  q.home_address = Addr("255.255.255.255");
  q.care_of_address = Addr("203.0.113.254");
  q.identification = 0xffffffffffffffffull;
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(Encode(q));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->request, q);
  EXPECT_TRUE(p->extensions.empty());
  q.lifetime = 0;
  EXPECT_TRUE(q.IsDeregistration());
}

TEST(RegistrationRequestTest, WrongTypeIsMalformed) {
  Bytes wire = Encode(testing::SampleRequest());
  wire[0] = kMsgRegistrationReply;
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), Errc::kMalformed);
  EXPECT_EQ(*PeekMessageType(wire), kMsgRegistrationReply);
  EXPECT_FALSE(PeekMessageType({}).ok());
}

TEST(RegistrationReplyTest, FixedPartMatchesRfcLayoutAndRoundTrips) {
  RegistrationReply r = testing::SampleReply();
  r.set_code(ReplyCode::kHaReverseTunnelMandatory);
  r.lifetime = 7;
  r.identification = 0x1122334455667788ull;
  const Bytes wire = std::move(MessageBuilder::Reply(r)).Take();
  EXPECT_EQ(ToHex(wire), "038a0007" "0a0a0005" "0a0a0001" "1122334455667788");
  Result<ParsedRegistrationReply> p = ParseRegistrationReply(wire);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->reply, r);
  EXPECT_FALSE(p->reply.accepted());
}

TEST(RegistrationReplyTest, EveryCodeRoundTripsAndHasAUniqueName) {
  std::set<std::string_view> names;
  for (ReplyCode c : kAllReplyCodes) {
    RegistrationReply r = testing::SampleReply();
    r.set_code(c);
    Result<ParsedRegistrationReply> p =
        ParseRegistrationReply(std::move(MessageBuilder::Reply(r)).Take());
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->reply.code, static_cast<std::uint8_t>(c));
    const std::string_view name = ReplyCodeName(c);
    EXPECT_NE(name, "unknown code") << static_cast<int>(c);
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(names.size(), std::size(kAllReplyCodes));
  EXPECT_EQ(ReplyCodeName(static_cast<std::uint8_t>(200)), "unknown code");
  // The codes each RFC adds.
  for (int c : {0, 1, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 77, 78, 80, 81, 82, 88, 194,  // 5944
                128, 129, 130, 131, 132, 133, 134, 135, 136,                             // 5944
                74, 75, 76, 79, 137, 138, 139,                                           // 3024
                96, 97, 98, 99,                                                          // 2794
                100, 101, 140, 141,                                                      // 3115
                142}) {                                                                  // 3519
    EXPECT_NE(ReplyCodeName(static_cast<std::uint8_t>(c)), "unknown code") << c;
  }
  EXPECT_TRUE(IsAcceptedCode(1));
  EXPECT_TRUE(IsForeignAgentCode(70));
  EXPECT_TRUE(IsForeignAgentCode(194));
  EXPECT_TRUE(IsHomeAgentCode(142));
  EXPECT_FALSE(IsHomeAgentCode(194));
}

TEST(AuthCoverageTest, CoversFixedPartPriorExtensionsAndTypeLengthSpi) {
  const Bytes wire = testing::FullMnRequest();
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(wire);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  const ExtensionList& ext = p->extensions;
  ASSERT_EQ(ext.size(), 5u);
  // Offsets and lengths in wire order.
  EXPECT_EQ(ext[0].type, kExtNai);
  EXPECT_EQ(ext[0].offset, 24u);
  EXPECT_EQ(ext[0].length, 2u + 15u);
  EXPECT_EQ(ext[1].type, kExtUdpTunnelRequest);
  EXPECT_EQ(ext[1].offset, 41u);
  EXPECT_EQ(ext[1].length, 8u);
  EXPECT_EQ(ext[2].type, kExtMnHaAuth);
  EXPECT_EQ(ext[2].offset, 49u);
  EXPECT_EQ(ext[2].length, 22u);
  EXPECT_EQ(ext[3].type, kExtDeliveryStyle);
  EXPECT_EQ(ext[4].type, kExtMnFaAuth);
  EXPECT_EQ(ext[4].end(), wire.size());

  ASSERT_EQ(CountAuthExtensions(ext), 2u);
  Result<AuthCoverage> mnha = AuthenticationCoverage(ext, 0);
  ASSERT_TRUE(mnha.ok());
  EXPECT_EQ(mnha->type, kExtMnHaAuth);
  EXPECT_EQ(mnha->spi, 0x100u);
  EXPECT_EQ(mnha->extension_index, 2u);
  EXPECT_EQ(mnha->covered.size(), 49u + 6u);
  EXPECT_EQ(mnha->covered.data(), wire.data());
  EXPECT_EQ(mnha->authenticator.size(), 16u);
  EXPECT_TRUE(crypto::VerifyHmac(crypto::HashAlg::kMd5, testing::MnHaKey(), mnha->covered,
                                 mnha->authenticator)
                  .ok());
  Result<AuthCoverage> mnfa = AuthenticationCoverage(ext, 1);
  ASSERT_TRUE(mnfa.ok());
  EXPECT_EQ(mnfa->type, kExtMnFaAuth);
  EXPECT_EQ(mnfa->covered.size(), wire.size() - 16);
  EXPECT_TRUE(crypto::VerifyHmac(crypto::HashAlg::kMd5, testing::MnFaKey(), mnfa->covered,
                                 mnfa->authenticator)
                  .ok());
  EXPECT_EQ(AuthenticationCoverage(ext, 2).error().code(), Errc::kNotFound);
  Result<AuthCoverage> by_type = AuthenticationCoverageOfType(ext, kExtMnFaAuth);
  ASSERT_TRUE(by_type.ok());
  EXPECT_EQ(by_type->extension_index, 4u);
  EXPECT_FALSE(AuthenticationCoverageOfType(ext, kExtFaHaAuth).ok());
}

TEST(AuthCoverageTest, MatchesAnIndependentlyAssembledHmacInput) {
  // RFC 5944 3.5.1 computed by hand: fixed part, the NAI extension, then
  // Type 32, Length 20, SPI 0x00000100 — and nothing of the authenticator.
  MessageBuilder b = MessageBuilder::Request(testing::SampleRequest());
  ASSERT_TRUE(b.AppendNai("a@b").ok());
  Bytes seen;
  ASSERT_TRUE(b.AppendAuth(kExtMnHaAuth, 0x100, 16, [&](ByteSpan covered) {
                 seen.assign(covered.begin(), covered.end());
                 return crypto::Hmac(crypto::HashAlg::kMd5, testing::MnHaKey(), covered);
               }).ok());
  const Bytes wire = std::move(b).Take();
  EXPECT_EQ(ToHex(seen),
            "01220708" "0a0a0005" "0a0a0001" "c6336414" "e7a1b2c3d4e5f607"  // fixed part
            "8303" "614062"                                                 // NAI "a@b"
            "2014" "00000100");                                             // type, len, SPI
  Result<Bytes> mac = crypto::Hmac(crypto::HashAlg::kMd5, testing::MnHaKey(), seen);
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(ToHex(ByteSpan(wire).last(16)), ToHex(*mac));
}

TEST(BuilderTest, FailedAuthLeavesMessageUnchanged) {
  MessageBuilder b = MessageBuilder::Request(testing::SampleRequest());
  const std::size_t before = b.size();
  Status bad_len = b.AppendAuth(kExtMnHaAuth, 1, 16, [](ByteSpan) -> Result<Bytes> {
    return Bytes(12, 0);
  });
  EXPECT_EQ(bad_len.error().code(), Errc::kInvalidArgument);
  Status failing = b.AppendAuth(kExtMnHaAuth, 1, 16, [](ByteSpan) -> Result<Bytes> {
    return Error(Errc::kNotFound, "no key");
  });
  EXPECT_EQ(failing.error().code(), Errc::kNotFound);
  EXPECT_EQ(b.AppendAuth(kExtNai, 1, 16, testing::HmacMd5(testing::MnHaKey())).error().code(),
            Errc::kInvalidArgument);
  EXPECT_FALSE(b.AppendAuth(kExtMnHaAuth, 1, 252, testing::HmacMd5(testing::MnHaKey())).ok());
  EXPECT_FALSE(b.AppendNai(std::string(256, 'x')).ok());
  EXPECT_FALSE(b.AppendTlv(200, Bytes(256, 0)).ok());
  EXPECT_FALSE(b.AppendShort(200, 0, Bytes(255, 0)).ok());
  EXPECT_EQ(b.size(), before);
  ASSERT_TRUE(b.AppendAuthRaw(kExtMnHaAuth, 7, Bytes(251, 1)).ok());
  EXPECT_EQ(b.size(), before + 6 + 251);
}

TEST(BuilderTest, ContinueKeepsThePrefixAndAppends) {
  // An FA relaying: keep everything up to the MN-HA, drop the MN's FA-only
  // part, append its own FA-HA (RFC 5944 3.7.2.2).
  const Bytes from_mn = testing::FullMnRequest();
  Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(from_mn);
  ASSERT_TRUE(p.ok());
  const Extension* mnha = p->extensions.First(kExtMnHaAuth);
  ASSERT_NE(mnha, nullptr);
  MessageBuilder relay = MessageBuilder::Continue(ByteSpan(from_mn).first(mnha->end()));
  ASSERT_TRUE(relay.AppendAuth(kExtFaHaAuth, 9, 16, testing::HmacMd5(testing::FaHaKey())).ok());
  const Bytes relayed = std::move(relay).Take();
  Result<ParsedRegistrationRequest> q = ParseRegistrationRequest(relayed);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->request, p->request);
  ASSERT_EQ(q->extensions.size(), 4u);
  EXPECT_EQ(q->extensions[3].type, kExtFaHaAuth);
  // The MN-HA authenticator still verifies: the covered bytes are unchanged.
  Result<AuthCoverage> c = AuthenticationCoverageOfType(q->extensions, kExtMnHaAuth);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(crypto::VerifyHmac(crypto::HashAlg::kMd5, testing::MnHaKey(), c->covered,
                                 c->authenticator)
                  .ok());
}

// Every prefix of `wire` either ends exactly on an extension boundary (and
// parses, with fewer extensions) or is an error; nothing crashes.
template <typename Parse>
void CheckTruncation(const Bytes& wire, std::size_t fixed, Parse parse) {
  Result<ExtensionList> full = ParseRegistrationExtensions(wire, fixed);
  ASSERT_TRUE(full.ok()) << full.error().ToString();
  std::set<std::size_t> boundaries = {fixed};
  for (const Extension& e : *full) boundaries.insert(e.end());
  for (std::size_t n = 0; n < wire.size(); ++n) {
    const Bytes prefix(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = parse(prefix);
    if (boundaries.count(n)) {
      EXPECT_TRUE(r.ok()) << "prefix " << n;
    } else {
      ASSERT_FALSE(r.ok()) << "prefix " << n;
      EXPECT_EQ(r.error().code(), Errc::kTruncated) << "prefix " << n << ": "
                                                    << r.error().ToString();
    }
  }
}

TEST(TruncationTest, RequestsAtEveryOffset) {
  CheckTruncation(testing::FullMnRequest(), RegistrationRequest::kFixedSize,
                  [](ByteSpan b) { return ParseRegistrationRequest(b); });
  CheckTruncation(testing::RelayedRequest(), RegistrationRequest::kFixedSize,
                  [](ByteSpan b) { return ParseRegistrationRequest(b); });
}

TEST(TruncationTest, ReplyAtEveryOffset) {
  CheckTruncation(testing::FullReply(), RegistrationReply::kFixedSize,
                  [](ByteSpan b) { return ParseRegistrationReply(b); });
}

TEST(TunnelDataTest, RoundTripAndTruncation) {
  const Bytes inner = {0x45, 0, 0, 20, 1, 2, 3, 4};
  const Bytes wire = BuildTunnelData(kEncapIpInIp, inner);
  EXPECT_EQ(ToHex(ByteSpan(wire).first(4)), "04040000");
  Result<TunnelData> t = ParseTunnelData(wire);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->next_header, kEncapIpInIp);
  EXPECT_EQ(t->reserved, 0);
  EXPECT_EQ(ToHex(t->payload), ToHex(inner));
  for (std::size_t n = 0; n < TunnelData::kHeaderSize; ++n) {
    EXPECT_EQ(ParseTunnelData(ByteSpan(wire).first(n)).error().code(), Errc::kTruncated);
  }
  EXPECT_TRUE(ParseTunnelData(ByteSpan(wire).first(4)).ok());
  Bytes other = wire;
  other[0] = kMsgRegistrationRequest;
  EXPECT_EQ(ParseTunnelData(other).error().code(), Errc::kMalformed);
  other = wire;
  other[2] = 0xab;  // reserved: ignored on reception
  Result<TunnelData> r = ParseTunnelData(other);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reserved, 0xab00);
}

}  // namespace
}  // namespace mipsec::mip4

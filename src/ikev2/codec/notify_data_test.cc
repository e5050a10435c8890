// Typed notify data (RFC 7296 3.10.1, RFC 4555, RFC 7427).
#include "ikev2/codec/notify_data.h"

#include <gtest/gtest.h>

#include "ikev2/codec/codec_test_util.h"

namespace mipsec::ikev2 {
namespace {

using test::Seq;

TEST(NotifyDataTest, NatDetection) {
  NatDetectionDigest h{};
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(i);
  const NotifyPayload n = MakeNatDetection(NotifyType::kNatDetectionDestinationIp, h);
  EXPECT_EQ(n.protocol, ProtocolId::kNone);
  EXPECT_EQ(ParseNatDetection(n).value(), h);
  NotifyPayload short_hash = n;
  short_hash.data.pop_back();
  EXPECT_EQ(ParseNatDetection(short_hash).error().code(), Errc::kMalformed);
  EXPECT_EQ(ParseNatDetection(NotifyPayload::Make(NotifyType::kCookie, Seq(20))).error().code(),
            Errc::kInvalidArgument);
  const Bytes in =
      NatDetectionInput(0x0102030405060708, 0, {Ipv4Address::FromOctets(192, 0, 2, 1), 4500});
  EXPECT_EQ(ToHex(in),
            "0102030405060708"
            "0000000000000000"
            "c0000201"
            "1194");
}

TEST(NotifyDataTest, CookieAndCookie2Sizes) {
  EXPECT_FALSE(MakeCookie({}).ok());
  EXPECT_TRUE(MakeCookie(Seq(64)).ok());
  EXPECT_FALSE(MakeCookie(Seq(65)).ok());
  EXPECT_EQ(ParseCookie(MakeCookie(Seq(1)).value()).value(), Seq(1));
  EXPECT_EQ(ParseCookie(NotifyPayload::Make(NotifyType::kCookie, Seq(65))).error().code(),
            Errc::kMalformed);
  EXPECT_FALSE(MakeCookie2(Seq(7)).ok());
  EXPECT_EQ(ParseCookie2(MakeCookie2(Seq(8)).value()).value(), Seq(8));
  EXPECT_FALSE(ParseCookie2(NotifyPayload::Make(NotifyType::kCookie2, Seq(65))).ok());
}

// RFC 4555 4.2.6: source address, destination address, source port,
// destination port; 12 bytes for IPv4, 36 for IPv6.
TEST(NotifyDataTest, NoNatsAllowedLayoutAndSizes) {
  const Ipv4Endpoint src{Ipv4Address::FromOctets(192, 0, 2, 7), 4500};
  const Ipv4Endpoint dst{Ipv4Address::FromOctets(203, 0, 113, 1), 500};
  const NotifyPayload n = MakeNoNatsAllowed(src, dst);
  EXPECT_EQ(n.type, NotifyType::kNoNatsAllowed);
  EXPECT_EQ(n.protocol, ProtocolId::kNone);
  EXPECT_EQ(ToHex(n.data), "c0000207cb007101119401f4");
  Result<NoNatsAllowed> v = ParseNoNatsAllowed(n);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->source, src);
  EXPECT_EQ(v->destination, dst);
  EXPECT_EQ(ParseNoNatsAllowed(NotifyPayload::Make(NotifyType::kNoNatsAllowed, Seq(36)))
                .error()
                .code(),
            Errc::kUnsupported);
  EXPECT_EQ(ParseNoNatsAllowed(NotifyPayload::Make(NotifyType::kNoNatsAllowed, Seq(11)))
                .error()
                .code(),
            Errc::kMalformed);
  EXPECT_EQ(ParseNoNatsAllowed(MakeNoAdditionalAddresses()).error().code(),
            Errc::kInvalidArgument);
  EXPECT_TRUE(MakeNoAdditionalAddresses().data.empty());
}

TEST(NotifyDataTest, RekeySa) {
  const NotifyPayload n = MakeRekeySa(ProtocolId::kEsp, 0xc0ffee11);
  EXPECT_EQ(n.spi, (Bytes{0xc0, 0xff, 0xee, 0x11}));
  Result<RekeySa> r = ParseRekeySa(n);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->protocol, ProtocolId::kEsp);
  EXPECT_EQ(r->spi, 0xc0ffee11u);
  NotifyPayload ike = n;
  ike.protocol = ProtocolId::kIke;
  EXPECT_FALSE(ParseRekeySa(ike).ok());
  NotifyPayload no_spi = n;
  no_spi.spi.clear();
  EXPECT_FALSE(ParseRekeySa(no_spi).ok());
}

TEST(NotifyDataTest, SignatureHashAlgorithms) {
  const NotifyPayload n = MakeSignatureHashAlgorithms({2, 3, 4, 7});
  EXPECT_EQ(ToHex(n.data), "0002000300040007");
  EXPECT_EQ(ParseSignatureHashAlgorithms(n).value(), (std::vector<std::uint16_t>{2, 3, 4, 7}));
  EXPECT_FALSE(ParseSignatureHashAlgorithms(
                   NotifyPayload::Make(NotifyType::kSignatureHashAlgorithms, Seq(3)))
                   .ok());
  EXPECT_FALSE(
      ParseSignatureHashAlgorithms(NotifyPayload::Make(NotifyType::kSignatureHashAlgorithms)).ok());
}

TEST(NotifyDataTest, MobikeAndOthers) {
  const Ipv4Address a = Ipv4Address::FromOctets(192, 0, 2, 1);
  EXPECT_EQ(ParseAdditionalIp4Address(MakeAdditionalIp4Address(a)).value(), a);
  EXPECT_FALSE(
      ParseAdditionalIp4Address(NotifyPayload::Make(NotifyType::kAdditionalIp4Address, Seq(16)))
          .ok());
  EXPECT_EQ(MakeUpdateSaAddresses().type, NotifyType::kUpdateSaAddresses);
  EXPECT_TRUE(MakeUpdateSaAddresses().data.empty());
  EXPECT_EQ(ParseInvalidKePayload(MakeInvalidKePayload(31)).value(), 31);
  EXPECT_FALSE(ParseInvalidKePayload(NotifyPayload::Make(NotifyType::kInvalidKePayload)).ok());
  EXPECT_EQ(ParseSetWindowSize(MakeSetWindowSize(0x10000)).value(), 0x10000u);
  EXPECT_FALSE(ParseSetWindowSize(NotifyPayload::Make(NotifyType::kSetWindowSize, Seq(2))).ok());
  EXPECT_EQ(ParseUnsupportedCriticalPayload(
                NotifyPayload::Make(NotifyType::kUnsupportedCriticalPayload, {99}))
                .value(),
            static_cast<PayloadType>(99));
  EXPECT_EQ(ParseSetWindowSize(MakeInvalidKePayload(1)).error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace mipsec::ikev2

#include "ikev2/crypto/suite.h"

#include <gtest/gtest.h>

namespace mipsec::ikev2 {
namespace {

TEST(SuiteTest, IkeSuitesAndSizes) {
  Result<Suite> g = Suite::ForIke(EncrId::kAesGcm16, 256, PrfId::kHmacSha2_384, std::nullopt,
                                  DhId::kCurve25519);
  ASSERT_TRUE(g.ok()) << g.error().ToString();
  EXPECT_TRUE(g->is_ike());
  EXPECT_TRUE(g->is_aead());
  EXPECT_EQ(g->EncrKeySize(), 36u);  // RFC 5282 7.1: key + 4-byte salt
  EXPECT_EQ(g->AesKeySize(), 32u);
  EXPECT_EQ(g->SaltSize(), 4u);
  EXPECT_EQ(g->IntegKeySize(), 0u);
  EXPECT_EQ(g->IcvSize(), 16u);
  EXPECT_EQ(g->IvSize(), 8u);
  EXPECT_EQ(g->BlockSize(), 1u);
  EXPECT_EQ(g->PrfKeySize(), 48u);
  EXPECT_EQ(g->PrfHash(), crypto::HashAlg::kSha384);
  EXPECT_EQ(g->dh_group(), crypto::DhGroup::kCurve25519);
  EXPECT_EQ(g->ToString(), "aes256gcm16-prfsha384-curve25519");

  Result<Suite> c = Suite::ForIke(EncrId::kAesCbc, 128, PrfId::kHmacSha2_256,
                                  IntegId::kHmacSha2_256_128, DhId::kModp2048);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->is_aead());
  EXPECT_EQ(c->EncrKeySize(), 16u);
  EXPECT_EQ(c->IntegKeySize(), 32u);
  EXPECT_EQ(c->IcvSize(), 16u);  // RFC 4868: 128-bit truncation
  EXPECT_EQ(c->IvSize(), 16u);
  EXPECT_EQ(c->BlockSize(), 16u);
  EXPECT_EQ(c->IntegHash(), crypto::HashAlg::kSha256);
  EXPECT_EQ(c->ToString(), "aes128-sha256-prfsha256-modp2048");

  Result<Suite> c2 = Suite::ForIke(EncrId::kAesCbc, 256, PrfId::kHmacSha2_512,
                                   IntegId::kHmacSha2_512_256, DhId::kEcp521);
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->IntegKeySize(), 64u);
  EXPECT_EQ(c2->IcvSize(), 32u);
  Result<Suite> c3 = Suite::ForIke(EncrId::kAesCbc, 256, PrfId::kHmacSha2_384,
                                   IntegId::kHmacSha2_384_192, DhId::kEcp384);
  ASSERT_TRUE(c3.ok());
  EXPECT_EQ(c3->IntegKeySize(), 48u);
  EXPECT_EQ(c3->IcvSize(), 24u);

  Result<Suite> g8 = Suite::ForIke(EncrId::kAesGcm8, 128, PrfId::kHmacSha2_256, IntegId::kNone,
                                   DhId::kEcp256);
  ASSERT_TRUE(g8.ok());
  EXPECT_EQ(g8->IcvSize(), 8u);
  EXPECT_EQ(g8->ToString(), "aes128gcm8-prfsha256-ecp256");
}

TEST(SuiteTest, RulesAndUnsupported) {
  auto ike = [](EncrId e, std::uint16_t bits, PrfId p, std::optional<IntegId> i, DhId d) {
    Result<Suite> s = Suite::ForIke(e, bits, p, i, d);
    return s.ok() ? std::optional<Errc>() : std::optional<Errc>(s.error().code());
  };
  // AEAD with a real INTEG; CBC without one or with NONE.
  EXPECT_EQ(ike(EncrId::kAesGcm16, 128, PrfId::kHmacSha2_256, IntegId::kHmacSha2_256_128,
                DhId::kEcp256), Errc::kMalformed);
  EXPECT_EQ(ike(EncrId::kAesCbc, 128, PrfId::kHmacSha2_256, std::nullopt, DhId::kEcp256),
            Errc::kMalformed);
  EXPECT_EQ(ike(EncrId::kAesCbc, 128, PrfId::kHmacSha2_256, IntegId::kNone, DhId::kEcp256),
            Errc::kMalformed);
  // Key Length attribute missing; odd length.
  EXPECT_EQ(ike(EncrId::kAesGcm16, 0, PrfId::kHmacSha2_256, std::nullopt, DhId::kEcp256),
            Errc::kMalformed);
  EXPECT_EQ(ike(EncrId::kAesCbc, 64, PrfId::kHmacSha2_256, IntegId::kHmacSha2_256_128,
                DhId::kEcp256), Errc::kUnsupported);
  // IKE needs a DH group.
  EXPECT_EQ(ike(EncrId::kAesGcm16, 128, PrfId::kHmacSha2_256, std::nullopt, DhId::kNone),
            Errc::kMalformed);
  // Things we do not implement.
  EXPECT_EQ(ike(EncrId::kDes3, 0, PrfId::kHmacSha2_256, IntegId::kHmacSha2_256_128,
                DhId::kEcp256), Errc::kUnsupported);
  EXPECT_EQ(ike(EncrId::kChaCha20Poly1305, 256, PrfId::kHmacSha2_256, std::nullopt,
                DhId::kEcp256), Errc::kUnsupported);
  EXPECT_EQ(ike(EncrId::kAesCbc, 128, PrfId::kHmacSha1, IntegId::kHmacSha2_256_128,
                DhId::kEcp256), Errc::kUnsupported);
  EXPECT_EQ(ike(EncrId::kAesCbc, 128, PrfId::kHmacSha2_256, IntegId::kHmacSha1_96,
                DhId::kEcp256), Errc::kUnsupported);
  EXPECT_EQ(ike(EncrId::kAesGcm16, 128, PrfId::kHmacSha2_256, std::nullopt, DhId::kModp1024),
            Errc::kUnsupported);
  EXPECT_EQ(ike(EncrId::kAesGcm16, 128, PrfId::kHmacSha2_256, std::nullopt, DhId::kCurve448),
            Errc::kUnsupported);
}

TEST(SuiteTest, EspSuites) {
  Result<Suite> g = Suite::ForEsp(EncrId::kAesGcm16, 128, std::nullopt, std::nullopt,
                                  EsnId::kEsn);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->is_ike());
  EXPECT_EQ(g->dh(), DhId::kNone);
  EXPECT_FALSE(g->dh_group().has_value());
  EXPECT_EQ(g->EncrKeySize(), 20u);  // RFC 4106 8.1
  EXPECT_EQ(g->ToString(), "aes128gcm16-esn");

  Result<Suite> c = Suite::ForEsp(EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128,
                                  DhId::kCurve25519, EsnId::kNoEsn);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->dh_group(), crypto::DhGroup::kCurve25519);
  EXPECT_EQ(c->ToString(), "aes128-sha256-curve25519-noesn");

  EXPECT_EQ(Suite::ForEsp(EncrId::kAesCbc, 128, std::nullopt, std::nullopt, EsnId::kNoEsn)
                .error().code(), Errc::kMalformed);
  EXPECT_EQ(Suite::ForEsp(EncrId::kAesGcm16, 128, std::nullopt, DhId::kModp1536, EsnId::kNoEsn)
                .error().code(), Errc::kUnsupported);
  EXPECT_EQ(Suite::ForEsp(EncrId::kAesGcm16, 128, std::nullopt, std::nullopt,
                          static_cast<EsnId>(7)).error().code(), Errc::kMalformed);
}

}  // namespace
}  // namespace mipsec::ikev2

#include "ikev2/crypto/cookie.h"

#include <gtest/gtest.h>

#include "crypto/hmac.h"

namespace mipsec::ikev2 {
namespace {

const Bytes kNi(32, 0x5a);
const Bytes kIp = {198, 51, 100, 10};
constexpr std::uint64_t kSpi = 0xa1b2c3d4e5f60718;

Timestamp T(std::int64_t s) { return Timestamp::Zero() + Duration::Seconds(s); }

TEST(CookieTest, MakeAndVerify) {
  CookieSecrets jar(Duration::Seconds(5));
  EXPECT_EQ(jar.Make(kNi, kIp, kSpi).error().code(), Errc::kState);
  ASSERT_TRUE(jar.Rotate(SecretBytes(Bytes(32, 7)), T(0)).ok());
  Result<Bytes> c = jar.Make(kNi, kIp, kSpi);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->size(), kCookieSize);
  EXPECT_EQ(ToHex(ByteSpan(*c).first(4)), "00000001");  // VersionIDofSecret
  // The rest is HMAC-SHA-256(secret, Ni | IPi | SPIi).
  Bytes data = kNi;
  data.insert(data.end(), kIp.begin(), kIp.end());
  for (int i = 7; i >= 0; --i) data.push_back(static_cast<std::uint8_t>(kSpi >> (8 * i)));
  Result<Bytes> mac = crypto::Hmac(crypto::HashAlg::kSha256, SecretBytes(Bytes(32, 7)), data);
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(Bytes(c->begin() + 4, c->end()), *mac);

  EXPECT_TRUE(jar.Verify(*c, kNi, kIp, kSpi, T(1)).ok());
  // Any input change or tampering fails.
  Bytes other_ni = kNi;
  other_ni[0] ^= 1;
  EXPECT_EQ(jar.Verify(*c, other_ni, kIp, kSpi, T(1)).error().code(), Errc::kAuthFailed);
  EXPECT_EQ(jar.Verify(*c, kNi, Bytes{198, 51, 100, 11}, kSpi, T(1)).error().code(),
            Errc::kAuthFailed);
  EXPECT_EQ(jar.Verify(*c, kNi, kIp, kSpi + 1, T(1)).error().code(), Errc::kAuthFailed);
  Bytes t = *c;
  t.back() ^= 0x80;
  EXPECT_EQ(jar.Verify(t, kNi, kIp, kSpi, T(1)).error().code(), Errc::kAuthFailed);
  EXPECT_EQ(jar.Verify(ByteSpan(*c).first(20), kNi, kIp, kSpi, T(1)).error().code(),
            Errc::kAuthFailed);
  EXPECT_EQ(jar.Rotate(SecretBytes(Bytes(8, 1)), T(1)).error().code(), Errc::kInvalidArgument);
}

TEST(CookieTest, RotationKeepsThePreviousSecretForTheGraceOnly) {
  CookieSecrets jar(Duration::Seconds(5));
  DeterministicRandom rng(3);
  jar.RotateIfDue(T(0), Duration::Seconds(60), rng);
  ASSERT_TRUE(jar.has_secret());
  EXPECT_EQ(jar.current_version(), 1u);
  Result<Bytes> old = jar.Make(kNi, kIp, kSpi);
  ASSERT_TRUE(old.ok());
  jar.RotateIfDue(T(59), Duration::Seconds(60), rng);  // not yet due
  EXPECT_EQ(jar.current_version(), 1u);
  jar.RotateIfDue(T(60), Duration::Seconds(60), rng);
  EXPECT_EQ(jar.current_version(), 2u);
  Result<Bytes> fresh = jar.Make(kNi, kIp, kSpi);
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(*fresh, *old);

  EXPECT_TRUE(jar.Verify(*old, kNi, kIp, kSpi, T(64)).ok());   // within the grace
  EXPECT_FALSE(jar.Verify(*old, kNi, kIp, kSpi, T(65)).ok());  // grace over
  EXPECT_TRUE(jar.Verify(*fresh, kNi, kIp, kSpi, T(1000)).ok());
  // Two rotations later the first secret is gone whatever the time.
  jar.RotateIfDue(T(120), Duration::Seconds(60), rng);
  EXPECT_FALSE(jar.Verify(*old, kNi, kIp, kSpi, T(120)).ok());
  EXPECT_TRUE(jar.Verify(*fresh, kNi, kIp, kSpi, T(121)).ok());
}

}  // namespace
}  // namespace mipsec::ikev2

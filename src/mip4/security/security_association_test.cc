#include "mip4/security/security_association.h"

#include <gtest/gtest.h>

#include "common/wire/writer.h"
#include "crypto/hmac.h"

namespace mipsec::mip4 {
namespace {

SecretBytes Key(std::uint8_t fill, std::size_t n = 16) { return SecretBytes(Bytes(n, fill)); }

SecurityAssociation MakeSa(std::uint32_t spi, SecretBytes key) {
  SecurityAssociationParams p;
  p.spi = spi;
  p.key = std::move(key);
  Result<SecurityAssociation> sa = SecurityAssociation::Create(std::move(p));
  EXPECT_TRUE(sa.ok()) << (sa.ok() ? "" : sa.error().ToString());
  return std::move(sa).value();
}

// A Registration Request's fixed part (RFC 5944 3.3): type 1, flags, lifetime,
// home address, home agent, care-of address, Identification: 24 bytes.
Bytes RegistrationRequest() {
  Bytes m = {1, 0x00, 0x01, 0x2c,  // type, flags, lifetime 300
             10, 0, 0, 5,          // home address
             10, 0, 0, 1,          // home agent
             192, 0, 2, 7,         // care-of address
             0xe8, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78};  // Identification
  return m;
}

TEST(SpiTest, ReservedSpisAreRejected) {
  EXPECT_FALSE(ValidateSpi(0).ok());
  Status st = ValidateSpi(255);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().detail(), "255 is reserved (SPIs 0-255, RFC 5944 1.6)");
  EXPECT_TRUE(ValidateSpi(256).ok());
  EXPECT_TRUE(ValidateSpi(0xffffffffu).ok());
}

TEST(SecurityAssociationTest, CreateValidates) {
  SecurityAssociationParams p;
  p.spi = 100;
  p.key = Key(1);
  Result<SecurityAssociation> r = SecurityAssociation::Create(std::move(p));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail(), "spi: 100 is reserved (SPIs 0-255, RFC 5944 1.6)");

  SecurityAssociationParams shortkey;
  shortkey.spi = 1000;
  shortkey.key = Key(1, 15);
  r = SecurityAssociation::Create(std::move(shortkey));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail(), "key: 15 bytes, hmac-md5 needs at least 16 (RFC 5944 5.1)");

  SecurityAssociationParams tol;
  tol.spi = 1000;
  tol.key = Key(1);
  tol.timestamp_tolerance = Duration::Zero();
  EXPECT_FALSE(SecurityAssociation::Create(std::move(tol)).ok());

  SecurityAssociationParams ok;
  ok.spi = 1000;
  ok.key = Key(1, 64);  // longer keys with arbitrary values (RFC 5944 5.1)
  ok.replay = ReplayMethod::kNonce;
  r = SecurityAssociation::Create(std::move(ok));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->spi(), 1000u);
  EXPECT_EQ(r->replay_method(), ReplayMethod::kNonce);
  EXPECT_EQ(r->timestamp_tolerance(), Duration::Seconds(7));
  EXPECT_EQ(r->authenticator_size(), 16u);
}

TEST(SecurityAssociationTest, NamesRoundTrip) {
  EXPECT_EQ(*ParseAuthAlgorithm(AuthAlgorithmName(AuthAlgorithm::kHmacMd5)), AuthAlgorithm::kHmacMd5);
  EXPECT_FALSE(ParseAuthAlgorithm("keyed-md5").ok());
  EXPECT_EQ(*ParseReplayMethod("timestamp"), ReplayMethod::kTimestamp);
  EXPECT_EQ(*ParseReplayMethod("nonce"), ReplayMethod::kNonce);
  EXPECT_FALSE(ParseReplayMethod("none").ok());
}

// RFC 2104 Appendix / RFC 2202 HMAC-MD5 test cases 1 and 3 (16-byte keys).
TEST(SecurityAssociationTest, HmacMd5KnownAnswers) {
  SecurityAssociation sa1 = MakeSa(256, Key(0x0b));
  Result<Bytes> mac = sa1.Compute(AsBytes("Hi There"));
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(ToHex(*mac), "9294727a3638bb1c13f48ef8158bfc9d");
  EXPECT_TRUE(sa1.Verify(AsBytes("Hi There"), *FromHex("9294727a3638bb1c13f48ef8158bfc9d")).ok());

  SecurityAssociation sa3 = MakeSa(257, Key(0xaa));
  Bytes data(50, 0xdd);
  EXPECT_EQ(ToHex(*sa3.Compute(data)), "56be34521d144c88dbb8c733f0e8b3f6");
  // The keyed context is reused: a second message gives the same answer.
  EXPECT_EQ(ToHex(*sa3.Compute(data)), "56be34521d144c88dbb8c733f0e8b3f6");
  EXPECT_TRUE(sa3.has_context());
  sa3.ReleaseContext();
  EXPECT_FALSE(sa3.has_context());
  EXPECT_EQ(ToHex(*sa3.Compute(data)), "56be34521d144c88dbb8c733f0e8b3f6");
}

TEST(SecurityAssociationTest, VerifyRejectsWrongAndTruncatedAuthenticators) {
  SecurityAssociation sa = MakeSa(256, Key(0x0b));
  Bytes good = *FromHex("9294727a3638bb1c13f48ef8158bfc9d");
  Bytes bad = good;
  bad[15] ^= 1;
  Status st = sa.Verify(AsBytes("Hi There"), bad);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Errc::kAuthFailed);
  // A truncated (but correct-prefix) tag must not verify.
  st = sa.Verify(AsBytes("Hi There"), ByteSpan(good).first(12));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Errc::kAuthFailed);
  EXPECT_EQ(sa.Verify(AsBytes("Hi There"), ByteSpan()).error().code(), Errc::kAuthFailed);
  // The context is usable after failures.
  EXPECT_TRUE(sa.Verify(AsBytes("Hi There"), good).ok());
  // Another key does not verify.
  SecurityAssociation other = MakeSa(256, Key(0x0c));
  EXPECT_FALSE(other.Verify(AsBytes("Hi There"), good).ok());
}

// RFC 5944 3.5.1: the authenticator covers the UDP payload, all prior
// extensions, and Type, Length and SPI of the authentication extension; not
// the Authenticator itself, nor anything after it.
TEST(AuthExtensionTest, CoversExactlyThePrefixThroughTheSpi) {
  SecurityAssociation sa = MakeSa(0x1000, Key(0x5a));
  Bytes msg = RegistrationRequest();
  // A prior (non-auth) extension, e.g. an NAI (131) "mn@x".
  msg.insert(msg.end(), {131, 4, 'm', 'n', '@', 'x'});
  const std::size_t ext_offset = msg.size();
  ASSERT_TRUE(AppendAuthExtension(msg, AuthExtensionType::kMobileHome, sa).ok());
  ASSERT_EQ(msg.size(), ext_offset + 2 + 4 + 16);
  EXPECT_EQ(msg[ext_offset], 32);
  EXPECT_EQ(msg[ext_offset + 1], 20);  // 4 + 16
  EXPECT_EQ(wire::LoadU32(msg, ext_offset + 2), 0x1000u);

  // Independently: HMAC-MD5 of exactly bytes [0, ext_offset + 6).
  Result<Bytes> expected = crypto::Hmac(crypto::HashAlg::kMd5, Key(0x5a),
                                        ByteSpan(msg).first(ext_offset + 6));
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(Bytes(msg.begin() + static_cast<std::ptrdiff_t>(ext_offset + 6), msg.end()), *expected);

  // FA extensions appended after the MN-HA extension are not covered.
  msg.insert(msg.end(), {0x81, 2, 0, 0});
  Result<AuthExtensionView> v = ViewAuthExtension(msg, ext_offset);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->type, 32);
  EXPECT_EQ(v->spi, 0x1000u);
  EXPECT_EQ(v->covered.size(), ext_offset + 6);
  EXPECT_EQ(v->end, ext_offset + 22);
  EXPECT_TRUE(sa.Verify(v->covered, v->authenticator).ok());

  // Any change to a covered byte (fixed part, prior extension, the SPI) fails.
  for (std::size_t i = 0; i < ext_offset + 6; ++i) {
    if (i == ext_offset + 1) continue;  // Length: changes the framing instead
    Bytes forged = msg;
    forged[i] ^= 0x01;
    Result<AuthExtensionView> fv = ViewAuthExtension(forged, ext_offset);
    ASSERT_TRUE(fv.ok());
    EXPECT_FALSE(sa.Verify(fv->covered, fv->authenticator).ok()) << "byte " << i;
  }
}

TEST(AuthExtensionTest, ViewIsBoundsChecked) {
  Bytes m = RegistrationRequest();
  EXPECT_EQ(ViewAuthExtension(m, 24).error().code(), Errc::kTruncated);  // nothing there
  EXPECT_EQ(ViewAuthExtension(m, 1000).error().code(), Errc::kTruncated);
  Bytes shortlen = m;
  shortlen.insert(shortlen.end(), {32, 3, 0, 0, 1, 0});
  EXPECT_EQ(ViewAuthExtension(shortlen, 24).error().code(), Errc::kMalformed);
  Bytes overrun = m;
  overrun.insert(overrun.end(), {32, 20, 0, 0, 1, 0, 1, 2});
  EXPECT_EQ(ViewAuthExtension(overrun, 24).error().code(), Errc::kTruncated);
  Bytes nospi = m;
  nospi.insert(nospi.end(), {32, 4, 0, 0, 1, 0});  // SPI only, empty authenticator
  Result<AuthExtensionView> v = ViewAuthExtension(nospi, 24);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->authenticator.empty());
  SecurityAssociation sa = MakeSa(256, Key(1));
  EXPECT_EQ(sa.Verify(v->covered, v->authenticator).error().code(), Errc::kAuthFailed);
}

}  // namespace
}  // namespace mipsec::mip4

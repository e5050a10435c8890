#include "crypto/hmac.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/crypto_test_util.h"

namespace mipsec::crypto {
namespace {

using testing::Ascii;
using testing::Hex;
using testing::Key;
using testing::Repeat;

struct Vector {
  Bytes key;
  Bytes data;
  std::string mac;  // hex; shorter than the hash for truncated cases
};

void ExpectVectors(HashAlg alg, const std::vector<Vector>& vectors) {
  int n = 0;
  for (const Vector& v : vectors) {
    SCOPED_TRACE("test case " + std::to_string(++n));
    const Bytes expected = Hex(v.mac);
    Result<Bytes> mac = expected.size() == HashSize(alg)
                            ? Hmac(alg, Key(v.key), v.data)
                            : HmacTruncated(alg, Key(v.key), v.data, expected.size());
    ASSERT_TRUE(mac.ok()) << mac.error().ToString();
    EXPECT_EQ(ToHex(*mac), v.mac);
    EXPECT_TRUE(VerifyHmac(alg, Key(v.key), v.data, expected).ok());
  }
}

Bytes Key0x01To0x19() {
  Bytes k;
  for (int i = 1; i <= 0x19; ++i) k.push_back(static_cast<std::uint8_t>(i));
  return k;
}

// RFC 2202 section 2: HMAC-MD5 test cases 1-7, plus the 96-bit truncation of
// test case 5.
TEST(HmacTest, Md5Rfc2202) {
  ExpectVectors(
      HashAlg::kMd5,
      {
          {Repeat(0x0b, 16), Ascii("Hi There"), "9294727a3638bb1c13f48ef8158bfc9d"},
          {Ascii("Jefe"), Ascii("what do ya want for nothing?"),
           "750c783e6ab0b503eaa86e310a5db738"},
          {Repeat(0xaa, 16), Repeat(0xdd, 50), "56be34521d144c88dbb8c733f0e8b3f6"},
          {Key0x01To0x19(), Repeat(0xcd, 50), "697eaf0aca3a3aea3a75164746ffaa79"},
          {Repeat(0x0c, 16), Ascii("Test With Truncation"), "56461ef2342edc00f9bab995690efd4c"},
          {Repeat(0xaa, 80), Ascii("Test Using Larger Than Block-Size Key - Hash Key First"),
           "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"},
          {Repeat(0xaa, 80),
           Ascii("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
           "6f630fad67cda0ee1fb1f562db3aa53e"},
          {Repeat(0x0c, 16), Ascii("Test With Truncation"), "56461ef2342edc00f9bab995"},
      });
}

// RFC 2202 section 3: HMAC-SHA-1 test cases 1-7, plus the 96-bit truncation
// of test case 5.
TEST(HmacTest, Sha1Rfc2202) {
  ExpectVectors(
      HashAlg::kSha1,
      {
          {Repeat(0x0b, 20), Ascii("Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00"},
          {Ascii("Jefe"), Ascii("what do ya want for nothing?"),
           "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
          {Repeat(0xaa, 20), Repeat(0xdd, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
          {Key0x01To0x19(), Repeat(0xcd, 50), "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
          {Repeat(0x0c, 20), Ascii("Test With Truncation"),
           "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
          {Repeat(0xaa, 80), Ascii("Test Using Larger Than Block-Size Key - Hash Key First"),
           "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
          {Repeat(0xaa, 80),
           Ascii("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
           "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
          {Repeat(0x0c, 20), Ascii("Test With Truncation"), "4c1a03424b55e07fe7f27be1"},
      });
}

// RFC 4231 section 4: keys and data of test cases 1-7 (case 5 is truncated
// to 128 bits).
std::vector<Vector> Rfc4231(const std::vector<std::string>& macs) {
  const std::vector<std::pair<Bytes, Bytes>> inputs = {
      {Repeat(0x0b, 20), Ascii("Hi There")},
      {Ascii("Jefe"), Ascii("what do ya want for nothing?")},
      {Repeat(0xaa, 20), Repeat(0xdd, 50)},
      {Key0x01To0x19(), Repeat(0xcd, 50)},
      {Repeat(0x0c, 20), Ascii("Test With Truncation")},
      {Repeat(0xaa, 131), Ascii("Test Using Larger Than Block-Size Key - Hash Key First")},
      {Repeat(0xaa, 131),
       Ascii("This is a test using a larger than block-size key and a larger than block-size "
             "data. The key needs to be hashed before being used by the HMAC algorithm.")},
  };
  std::vector<Vector> out;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    out.push_back({inputs[i].first, inputs[i].second, macs[i]});
  }
  return out;
}

TEST(HmacTest, Sha256Rfc4231) {
  ExpectVectors(HashAlg::kSha256,
                Rfc4231({
                    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
                    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
                    "a3b6167473100ee06e0c796c2955552b",
                    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
                }));
}

TEST(HmacTest, Sha384Rfc4231) {
  ExpectVectors(HashAlg::kSha384,
                Rfc4231({
                    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
                    "faea9ea9076ede7f4af152e8b2fa9cb6",
                    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
                    "8e2240ca5e69e2c78b3239ecfab21649",
                    "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
                    "2a5ab39dc13814b94e3ab6e101a34f27",
                    "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
                    "6801dd23c4a7d679ccf8a386c674cffb",
                    "3abf34c3503b2a23a46efc619baef897",
                    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
                    "0c2ef6ab4030fe8296248df163f44952",
                    "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
                    "a678cc31e799176d3860e6110c46523e",
                }));
}

TEST(HmacTest, Sha512Rfc4231) {
  ExpectVectors(HashAlg::kSha512,
                Rfc4231({
                    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
                    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
                    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
                    "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
                    "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
                    "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
                    "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
                    "415fad6271580a531d4179bc891d87a6",
                    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
                    "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
                    "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
                    "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
                }));
}

// A reused context: several messages under one key, each split across
// Update() calls, every result equal to the one-shot HMAC.
TEST(HmacTest, ContextIsReusableAcrossMessages) {
  const SecretBytes key = Key(Repeat(0xaa, 131));
  Result<HmacContext> ctx = HmacContext::Create(HashAlg::kSha256, key);
  ASSERT_TRUE(ctx.ok()) << ctx.error().ToString();
  // RFC 4231 test case 7 in three pieces, twice, then test case 6.
  const Bytes tc7 = Ascii(
      "This is a test using a larger than block-size key and a larger than block-size "
      "data. The key needs to be hashed before being used by the HMAC algorithm.");
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(ctx->Update(ByteSpan(tc7).first(10)).ok());
    ASSERT_TRUE(ctx->Update(ByteSpan(tc7).subspan(10, 90)).ok());
    ASSERT_TRUE(ctx->Update(ByteSpan(tc7).subspan(100)).ok());
    Result<Bytes> mac = ctx->Finish();
    ASSERT_TRUE(mac.ok());
    EXPECT_EQ(ToHex(*mac), "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  }
  ASSERT_TRUE(ctx->Update(AsBytes("Test Using Larger Than Block-Size Key - Hash Key First")).ok());
  Result<Bytes> mac = ctx->Finish();
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(ToHex(*mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// RFC 4868's HMAC-SHA-256-128 is the leftmost 16 bytes, as FinishInto gives.
TEST(HmacTest, FinishIntoTruncatesAndSecretOutputMatches) {
  const SecretBytes key = Key(Repeat(0x0c, 20));
  Result<HmacContext> ctx = HmacContext::Create(HashAlg::kSha256, key);
  ASSERT_TRUE(ctx.ok());
  std::uint8_t icv[16];
  ASSERT_TRUE(ctx->Update(AsBytes("Test With Truncation")).ok());
  ASSERT_TRUE(ctx->FinishInto(icv).ok());
  EXPECT_EQ(ToHex(icv), "a3b6167473100ee06e0c796c2955552b");

  ASSERT_TRUE(ctx->Update(AsBytes("Test With Truncation")).ok());
  Result<SecretBytes> secret = ctx->FinishSecret();
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(testing::RevealHex(*secret).substr(0, 32), "a3b6167473100ee06e0c796c2955552b");
  EXPECT_EQ(secret->size(), 32u);
}

// IKEv2's prf(Ni | Nr, g^ir): a public key and secret data give the same MAC
// as the ordinary form.
TEST(HmacTest, PublicKeyAndSecretDataForms) {
  const Bytes key = Ascii("Jefe");
  const SecretBytes data(AsBytes("what do ya want for nothing?"));
  Result<HmacContext> ctx = HmacContext::CreateWithPublicKey(HashAlg::kSha256, key);
  ASSERT_TRUE(ctx.ok());
  ASSERT_TRUE(ctx->UpdateSecret(data).ok());
  Result<SecretBytes> out = ctx->FinishSecret();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(testing::RevealHex(*out),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// RFC 2104 section 2: a key shorter than B is padded with zeros, so an empty
// key is the same as a block of zeros.
TEST(HmacTest, EmptyKeyEqualsZeroBlockKey) {
  for (HashAlg alg : {HashAlg::kMd5, HashAlg::kSha256, HashAlg::kSha512}) {
    Result<Bytes> a = Hmac(alg, SecretBytes(), AsBytes("data"));
    Result<Bytes> b = Hmac(alg, Key(Bytes(HashBlockSize(alg), 0)), AsBytes("data"));
    ASSERT_TRUE(a.ok()) << a.error().ToString();
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*a, *b);
    Result<Bytes> c = Hmac(alg, Key(Bytes(1, 1)), AsBytes("data"));
    ASSERT_TRUE(c.ok());
    EXPECT_NE(*a, *c);
  }
}

TEST(HmacTest, VerifyRejectsAnyChangeAndBadLengths) {
  const SecretBytes key = Key(Repeat(0x0b, 20));
  const Bytes data = Ascii("Hi There");
  const Bytes good = Hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  ASSERT_TRUE(VerifyHmac(HashAlg::kSha256, key, data, good).ok());
  ASSERT_TRUE(VerifyHmac(HashAlg::kSha256, key, data, ByteSpan(good).first(16)).ok());
  for (std::size_t i = 0; i < good.size(); i += 7) {
    Bytes bad = good;
    bad[i] ^= 0x01;
    Status st = VerifyHmac(HashAlg::kSha256, key, data, bad);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), Errc::kAuthFailed);
  }
  Bytes other_data = data;
  other_data[0] ^= 0x80;
  EXPECT_EQ(VerifyHmac(HashAlg::kSha256, key, other_data, good).error().code(), Errc::kAuthFailed);
  EXPECT_EQ(VerifyHmac(HashAlg::kSha256, Key(Repeat(0x0b, 19)), data, good).error().code(),
            Errc::kAuthFailed);
  // An empty or too-short tag never verifies; a too-long one is refused.
  EXPECT_EQ(VerifyHmac(HashAlg::kSha256, key, data, {}).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(VerifyHmac(HashAlg::kSha256, key, data, ByteSpan(good).first(9)).error().code(),
            Errc::kInvalidArgument);
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(VerifyHmac(HashAlg::kSha256, key, data, longer).error().code(), Errc::kInvalidArgument);
}

TEST(HmacTest, ContextVerifyRestartsEvenOnError) {
  const SecretBytes key = Key(Repeat(0x0b, 20));
  Result<HmacContext> ctx = HmacContext::Create(HashAlg::kSha1, key);
  ASSERT_TRUE(ctx.ok());
  ASSERT_TRUE(ctx->Update(AsBytes("garbage")).ok());
  EXPECT_EQ(ctx->Verify(Bytes(3)).error().code(), Errc::kInvalidArgument);
  // The abandoned message does not leak into the next one.
  ASSERT_TRUE(ctx->Update(AsBytes("Hi There")).ok());
  EXPECT_TRUE(ctx->Verify(Hex("b617318655057264e28bc0b6fb378c8ef146be00")).ok());
  ASSERT_TRUE(ctx->Update(AsBytes("Hi There")).ok());
  EXPECT_EQ(ctx->Verify(Hex("b617318655057264e28bc0b6fb378c8ef146be01")).error().code(),
            Errc::kAuthFailed);
}

TEST(HmacTest, TruncationLengthIsChecked) {
  const SecretBytes key = Key(Repeat(0x0b, 20));
  EXPECT_EQ(HmacTruncated(HashAlg::kSha1, key, {}, 0).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(HmacTruncated(HashAlg::kSha1, key, {}, 21).error().code(), Errc::kInvalidArgument);
  Result<Bytes> one = HmacTruncated(HashAlg::kSha1, key, AsBytes("Hi There"), 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(ToHex(*one), "b6");
}

}  // namespace
}  // namespace mipsec::crypto

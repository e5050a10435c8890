#include "crypto/cbc.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/crypto_test_util.h"

namespace mipsec::crypto {
namespace {

using testing::Hex;
using testing::Key;

// NIST SP 800-38A appendix F.2: CBC-AES128/192/256 (F.2.1-F.2.6). The four
// plaintext blocks and the IV are common to all key sizes.
constexpr char kIv[] = "000102030405060708090a0b0c0d0e0f";
constexpr char kPlain[] =
    "6bc1bee22e409f96e93d7e117393172a"
    "ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef"
    "f69f2445df4f9b17ad2b417be66c3710";

struct CbcVector {
  const char* name;
  const char* key;
  const char* ciphertext;
};
const CbcVector kVectors[] = {
    {"F.2.1/F.2.2 CBC-AES128", "2b7e151628aed2a6abf7158809cf4f3c",
     "7649abac8119b246cee98e9b12e9197d"
     "5086cb9b507219ee95db113a917678b2"
     "73bed6b8e3c1743b7116e69e22229516"
     "3ff1caa1681fac09120eca307586e1a7"},
    {"F.2.3/F.2.4 CBC-AES192", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
     "4f021db243bc633d7178183a9fa071e8"
     "b4d9ada9ad7dedf4e5e738763f69145a"
     "571b242012fb7ae07fa9baac3df102e0"
     "08b0e27988598881d920a9e64f5615cd"},
    {"F.2.5/F.2.6 CBC-AES256", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
     "f58c4c04d6e5f1ba779eabfb5f7bfbd6"
     "9cfc4e967edb808d679f777bc6702c7d"
     "39f23369a9d9bacfa530e26304231461"
     "b2eb05e2c39be9fcda6c19078c6a9d1b"},
};

TEST(AesCbcTest, Sp80038aKnownAnswers) {
  for (const CbcVector& v : kVectors) {
    SCOPED_TRACE(v.name);
    Result<AesCbc> cbc = AesCbc::Create(Key(v.key));
    ASSERT_TRUE(cbc.ok()) << cbc.error().ToString();
    Bytes buf = Hex(kPlain);
    ASSERT_TRUE(cbc->EncryptInPlace(Hex(kIv), buf).ok());
    EXPECT_EQ(ToHex(buf), v.ciphertext);
    ASSERT_TRUE(cbc->DecryptInPlace(Hex(kIv), buf).ok());
    EXPECT_EQ(ToHex(buf), kPlain);

    Result<Bytes> enc = cbc->Encrypt(Hex(kIv), Hex(kPlain));
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(ToHex(*enc), v.ciphertext);
    Result<Bytes> dec = cbc->Decrypt(Hex(kIv), Hex(v.ciphertext));
    ASSERT_TRUE(dec.ok());
    EXPECT_EQ(ToHex(*dec), kPlain);
  }
}

// Each call starts from its own IV: encrypting block by block, with the
// previous ciphertext block as the next IV, gives the same chain; decrypting
// a later block alone works the same way. Encrypt and decrypt interleave on
// one object.
TEST(AesCbcTest, EachCallUsesOnlyItsOwnIv) {
  const CbcVector& v = kVectors[2];
  Result<AesCbc> cbc = AesCbc::Create(Key(v.key));
  ASSERT_TRUE(cbc.ok());
  const Bytes plain = Hex(kPlain), cipher = Hex(v.ciphertext);
  Bytes iv = Hex(kIv);
  for (std::size_t b = 0; b < 4; ++b) {
    Bytes block(plain.begin() + 16 * b, plain.begin() + 16 * (b + 1));
    ASSERT_TRUE(cbc->EncryptInPlace(iv, block).ok());
    EXPECT_EQ(block, Bytes(cipher.begin() + 16 * b, cipher.begin() + 16 * (b + 1)));
    Bytes back = block;
    ASSERT_TRUE(cbc->DecryptInPlace(iv, back).ok());
    EXPECT_EQ(back, Bytes(plain.begin() + 16 * b, plain.begin() + 16 * (b + 1)));
    iv = block;
  }
  // Blocks 3 and 4 alone, with block 2's ciphertext as IV.
  Bytes tail(cipher.begin() + 32, cipher.end());
  ASSERT_TRUE(cbc->DecryptInPlace(ByteSpan(cipher).subspan(16, 16), tail).ok());
  EXPECT_EQ(tail, Bytes(plain.begin() + 32, plain.end()));
}

TEST(AesCbcTest, RejectsPartialBlocksWithoutTouchingTheBuffer) {
  Result<AesCbc> cbc = AesCbc::Create(Key(kVectors[0].key));
  ASSERT_TRUE(cbc.ok());
  for (std::size_t len : {1u, 15u, 17u, 33u}) {
    Bytes buf(len, 0x5a);
    Status st = cbc->EncryptInPlace(Hex(kIv), buf);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), Errc::kInvalidArgument);
    EXPECT_EQ(buf, Bytes(len, 0x5a));
    EXPECT_EQ(cbc->DecryptInPlace(Hex(kIv), buf).error().code(), Errc::kInvalidArgument);
    EXPECT_EQ(buf, Bytes(len, 0x5a));
    EXPECT_EQ(cbc->Encrypt(Hex(kIv), buf).error().code(), Errc::kInvalidArgument);
  }
  Bytes empty;
  EXPECT_TRUE(cbc->EncryptInPlace(Hex(kIv), empty).ok());
}

TEST(AesCbcTest, RejectsBadKeysAndIvs) {
  EXPECT_EQ(AesCbc::Create(Key(Bytes(15, 1))).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(AesCbc::Create(Key(Bytes(33, 1))).error().code(), Errc::kInvalidArgument);
  Result<AesCbc> cbc = AesCbc::Create(Key(kVectors[1].key));
  ASSERT_TRUE(cbc.ok());
  EXPECT_EQ(cbc->key_size(), 24u);
  Bytes buf(16, 0);
  EXPECT_EQ(cbc->EncryptInPlace(Bytes(15, 0), buf).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(cbc->DecryptInPlace(Bytes(17, 0), buf).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(buf, Bytes(16, 0));
}

TEST(AesCbcTest, MoveKeepsBothDirections) {
  const CbcVector& v = kVectors[0];
  Result<AesCbc> cbc = AesCbc::Create(Key(v.key));
  ASSERT_TRUE(cbc.ok());
  AesCbc moved = std::move(cbc).value();
  Result<AesCbc> other = AesCbc::Create(Key(kVectors[2].key));
  ASSERT_TRUE(other.ok());
  AesCbc assigned = std::move(other).value();
  assigned = std::move(moved);
  Result<Bytes> enc = assigned.Encrypt(Hex(kIv), Hex(kPlain));
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(ToHex(*enc), v.ciphertext);
  Result<Bytes> dec = assigned.Decrypt(Hex(kIv), *enc);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(ToHex(*dec), kPlain);
}

}  // namespace
}  // namespace mipsec::crypto

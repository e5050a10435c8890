#include "crypto/hash.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/crypto_test_util.h"

namespace mipsec::crypto {
namespace {

using testing::Ascii;

std::string HashHex(HashAlg alg, std::string_view msg) {
  Result<Bytes> d = Hash(alg, AsBytes(msg));
  EXPECT_TRUE(d.ok()) << d.error().ToString();
  return d.ok() ? ToHex(*d) : "";
}

TEST(HashTest, SizesAndNames) {
  EXPECT_EQ(HashSize(HashAlg::kMd5), 16u);
  EXPECT_EQ(HashSize(HashAlg::kSha1), 20u);
  EXPECT_EQ(HashSize(HashAlg::kSha256), 32u);
  EXPECT_EQ(HashSize(HashAlg::kSha384), 48u);
  EXPECT_EQ(HashSize(HashAlg::kSha512), 64u);
  EXPECT_EQ(HashBlockSize(HashAlg::kMd5), 64u);
  EXPECT_EQ(HashBlockSize(HashAlg::kSha256), 64u);
  EXPECT_EQ(HashBlockSize(HashAlg::kSha384), 128u);
  EXPECT_EQ(HashBlockSize(HashAlg::kSha512), 128u);
  EXPECT_EQ(HashAlgName(HashAlg::kSha1), "SHA-1");
  EXPECT_EQ(HashAlgName(HashAlg::kSha512), "SHA-512");
}

// RFC 1321 appendix A.5, the MD5 test suite.
TEST(HashTest, Md5Rfc1321TestSuite) {
  EXPECT_EQ(HashHex(HashAlg::kMd5, ""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(HashHex(HashAlg::kMd5, "a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(HashHex(HashAlg::kMd5, "abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(HashHex(HashAlg::kMd5, "message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(HashHex(HashAlg::kMd5, "abcdefghijklmnopqrstuvwxyz"),
            "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(
      HashHex(HashAlg::kMd5, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
      "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(HashHex(HashAlg::kMd5,
                    "1234567890123456789012345678901234567890"
                    "1234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
}

// FIPS 180 example messages: "abc" (one block) and the two-block messages.
TEST(HashTest, Sha1Fips180) {
  EXPECT_EQ(HashHex(HashAlg::kSha1, "abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(HashHex(HashAlg::kSha1, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST(HashTest, Sha256Fips180) {
  EXPECT_EQ(HashHex(HashAlg::kSha256, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashHex(HashAlg::kSha256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

constexpr std::string_view kTwoBlock1024 =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlm"
    "nopqrsmnopqrstnopqrstu";

TEST(HashTest, Sha384Fips180) {
  EXPECT_EQ(HashHex(HashAlg::kSha384, "abc"),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
            "8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(HashHex(HashAlg::kSha384, kTwoBlock1024),
            "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712"
            "fcc7c71a557e2db966c3e9fa91746039");
}

TEST(HashTest, Sha512Fips180) {
  EXPECT_EQ(HashHex(HashAlg::kSha512, "abc"),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(HashHex(HashAlg::kSha512, kTwoBlock1024),
            "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
            "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
}

// One million 'a' (FIPS 180 long-message example; RFC 1321-style for MD5),
// fed to the Hasher in 1000-byte pieces.
TEST(HashTest, IncrementalMillionA) {
  struct Case {
    HashAlg alg;
    const char* digest;
  } cases[] = {
      {HashAlg::kMd5, "7707d6ae4e027c70eea2a935c2296f21"},
      {HashAlg::kSha1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
      {HashAlg::kSha256, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
      {HashAlg::kSha384,
       "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b"
       "07b8b3dc38ecc4ebae97ddd87f3d8985"},
      {HashAlg::kSha512,
       "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
       "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"},
  };
  const Bytes chunk(1000, 'a');
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(HashAlgName(c.alg)));
    Result<Hasher> h = Hasher::Create(c.alg);
    ASSERT_TRUE(h.ok()) << h.error().ToString();
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(h->Update(chunk).ok());
    Result<Bytes> d = h->Finish();
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(ToHex(*d), c.digest);
  }
}

// Splitting the input at every position across two block boundaries gives
// the one-shot digest.
TEST(HashTest, SplitUpdatesMatchOneShot) {
  Bytes msg(300);
  for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<std::uint8_t>(i * 7 + 3);
  for (HashAlg alg :
       {HashAlg::kMd5, HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    Result<Bytes> whole = Hash(alg, msg);
    ASSERT_TRUE(whole.ok());
    Result<Hasher> h = Hasher::Create(alg);
    ASSERT_TRUE(h.ok());
    for (std::size_t cut = 0; cut <= msg.size(); ++cut) {
      ASSERT_TRUE(h->Update(ByteSpan(msg).first(cut)).ok());
      ASSERT_TRUE(h->Update(ByteSpan(msg).subspan(cut)).ok());
      Result<Bytes> d = h->Finish();  // also resets for the next cut
      ASSERT_TRUE(d.ok());
      ASSERT_EQ(*d, *whole) << HashAlgName(alg) << " cut at " << cut;
    }
  }
}

TEST(HashTest, FinishIntoChecksLengthAndKeepsState) {
  Result<Hasher> h = Hasher::Create(HashAlg::kSha1);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), 20u);
  ASSERT_TRUE(h->Update(AsBytes("ab")).ok());
  std::uint8_t small[19];
  Status st = h->FinishInto(small);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Errc::kInvalidArgument);
  ASSERT_TRUE(h->Update(AsBytes("c")).ok());  // the message continues
  std::uint8_t out[20];
  ASSERT_TRUE(h->FinishInto(out).ok());
  EXPECT_EQ(ToHex(out), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(HashTest, MovedHasherKeepsWorking) {
  Result<Hasher> h = Hasher::Create(HashAlg::kSha256);
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(h->Update(AsBytes("a")).ok());
  Hasher moved = std::move(h).value();
  ASSERT_TRUE(moved.Update(AsBytes("bc")).ok());
  Result<Bytes> d = moved.Finish();
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(ToHex(*d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace mipsec::crypto

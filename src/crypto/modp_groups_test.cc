#include "crypto/modp_groups.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>
#include <string>

#include "crypto/hash.h"

namespace mipsec::crypto {
namespace {

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

Bn ToBn(ByteSpan b) { return Bn(BN_bin2bn(b.data(), static_cast<int>(b.size()), nullptr)); }

struct ModpCase {
  DhGroup group;
  int bits;
  const char* openssl_name;
  // SHA-256 of the prime's bytes, computed when this test was written from
  // the hex digits in /work/shared/rfc/rfc3526.txt with a Python script
  // independent of this code (regex over "Its hexadecimal value is:" blocks,
  // bytes.fromhex, hashlib.sha256).
  const char* rfc_sha256;
};
const ModpCase kCases[] = {
    {DhGroup::kModp2048, 2048, "modp_2048",
     "d66436f79bbd6b2e38c0ffbd079be904d2641415e2e67140e09448be9a60890e"},
    {DhGroup::kModp3072, 3072, "modp_3072",
     "48cf8b092fbce4359d9871abf74f98e25b6163379eaa15cd9087e800c6d1c55c"},
    {DhGroup::kModp4096, 4096, "modp_4096",
     "4ee95187682bcb230ad26a95205f6920e84708f6251b3894329b09ec23919e33"},
    {DhGroup::kModp6144, 6144, "modp_6144",
     "d1bfe6d0925ce7e4da262b62861514a7755e35831e429f343e7b864848657efd"},
    {DhGroup::kModp8192, 8192, "modp_8192",
     "39ab4feab950a3128fb71accb9fc3965d857012e081998a85996e3ea8b3c3bcf"},
};

TEST(ModpGroupsTest, PrimesMatchTheRfcText) {
  for (const ModpCase& c : kCases) {
    SCOPED_TRACE(c.openssl_name);
    const ByteSpan p = ModpPrime(c.group);
    ASSERT_EQ(p.size(), static_cast<std::size_t>(c.bits / 8));
    EXPECT_EQ(p.size(), DhPublicValueSize(c.group));
    Result<Bytes> digest = Hash(HashAlg::kSha256, p);
    ASSERT_TRUE(digest.ok());
    EXPECT_EQ(ToHex(*digest), c.rfc_sha256);
    Bn bn = ToBn(p);
    EXPECT_EQ(BN_num_bits(bn.get()), c.bits);
    // RFC 3526: p = 2^N - 2^(N-64) - 1 + 2^64 * {...}, so the top and bottom
    // 64 bits are all ones.
    for (int i = 0; i < 8; ++i) {
      EXPECT_EQ(p[i], 0xff);
      EXPECT_EQ(p[p.size() - 1 - i], 0xff);
    }
  }
  EXPECT_TRUE(ModpPrime(DhGroup::kEcp256).empty());
  EXPECT_TRUE(ModpPrime(DhGroup::kCurve25519).empty());
}

// OpenSSL carries its own copy of the RFC 3526 groups: a second, independent
// transcription to compare with.
TEST(ModpGroupsTest, PrimesMatchOpenSslsCopy) {
  for (const ModpCase& c : kCases) {
    SCOPED_TRACE(c.openssl_name);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                         const_cast<char*>(c.openssl_name), 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr);
    ASSERT_NE(ctx, nullptr);
    EVP_PKEY* pkey = nullptr;
    ASSERT_EQ(EVP_PKEY_fromdata_init(ctx), 1);
    ASSERT_EQ(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEY_PARAMETERS, params), 1);
    BIGNUM* p = nullptr;
    ASSERT_EQ(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_FFC_P, &p), 1);
    Bytes theirs(static_cast<std::size_t>(BN_num_bytes(p)));
    BN_bn2bin(p, theirs.data());
    BN_free(p);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    const ByteSpan ours = ModpPrime(c.group);
    EXPECT_EQ(ToHex(ours), ToHex(theirs));
  }
}

// Generator 2 generates the subgroup of prime order q = (p - 1) / 2: 2 != 1
// and 2^q = 1 mod p (2 is a quadratic residue because p = 7 mod 8). For the
// 2048-bit group also check that p and q are prime (a safe prime, as RFC 6989
// section 2.1 relies on).
TEST(ModpGroupsTest, GeneratorTwoHasOrderQ) {
  BN_CTX* ctx = BN_CTX_new();
  ASSERT_NE(ctx, nullptr);
  for (const ModpCase& c : kCases) {
    SCOPED_TRACE(c.openssl_name);
    Bn p = ToBn(ModpPrime(c.group));
    Bn q(BN_dup(p.get()));
    ASSERT_EQ(BN_sub_word(q.get(), 1), 1);
    ASSERT_EQ(BN_rshift1(q.get(), q.get()), 1);
    EXPECT_EQ(BN_mod_word(p.get(), 8), 7u);
    Bn g(BN_new()), r(BN_new());
    ASSERT_EQ(BN_set_word(g.get(), kModpGenerator), 1);
    ASSERT_EQ(BN_mod_exp(r.get(), g.get(), q.get(), p.get(), ctx), 1);
    EXPECT_TRUE(BN_is_one(r.get()));
    if (c.bits == 2048) {
      EXPECT_EQ(BN_check_prime(p.get(), ctx, nullptr), 1);
      EXPECT_EQ(BN_check_prime(q.get(), ctx, nullptr), 1);
    }
  }
  BN_CTX_free(ctx);
}

}  // namespace
}  // namespace mipsec::crypto

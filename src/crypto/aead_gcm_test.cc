#include "crypto/aead_gcm.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/crypto_test_util.h"

namespace mipsec::crypto {
namespace {

using testing::Hex;
using testing::Key;

// McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)", appendix B
// test cases (the vectors NIST's GCM page points to), those with 96-bit IVs.
struct GcmVector {
  const char* name;
  const char* key;
  const char* iv;
  const char* plaintext;
  const char* aad;
  const char* ciphertext;
  const char* tag;
};

constexpr char kKey128[] = "feffe9928665731c6d6a8f9467308308";
constexpr char kKey256[] = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
constexpr char kIv[] = "cafebabefacedbaddecaf888";
constexpr char kPlain64[] =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
constexpr char kPlain60[] =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
constexpr char kAad[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";

const GcmVector kVectors[] = {
    {"test case 1", "00000000000000000000000000000000", "000000000000000000000000", "", "", "",
     "58e2fccefa7e3061367f1d57a4e7455a"},
    {"test case 2", "00000000000000000000000000000000", "000000000000000000000000",
     "00000000000000000000000000000000", "", "0388dace60b6a392f328c2b971b2fe78",
     "ab6e47d42cec13bdf53a67b21257bddf"},
    {"test case 3", kKey128, kIv, kPlain64, "",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"test case 4", kKey128, kIv, kPlain60, kAad,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"test case 13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"test case 14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"test case 15", kKey256, kIv, kPlain64, "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"test case 16", kKey256, kIv, kPlain60, kAad,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(AesGcmTest, KnownAnswersInPlace) {
  for (const GcmVector& v : kVectors) {
    SCOPED_TRACE(v.name);
    Result<AesGcm> gcm = AesGcm::Create(Key(v.key));
    ASSERT_TRUE(gcm.ok()) << gcm.error().ToString();
    Bytes buf = Hex(v.plaintext);
    std::uint8_t tag[16];
    ASSERT_TRUE(gcm->SealInPlace(Hex(v.iv), Hex(v.aad), buf, tag).ok());
    EXPECT_EQ(ToHex(buf), v.ciphertext);
    EXPECT_EQ(ToHex(tag), v.tag);

    Status opened = gcm->OpenInPlace(Hex(v.iv), Hex(v.aad), buf, Hex(v.tag));
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    EXPECT_EQ(ToHex(buf), v.plaintext);
  }
}

TEST(AesGcmTest, KnownAnswersCopying) {
  for (const GcmVector& v : kVectors) {
    SCOPED_TRACE(v.name);
    Result<AesGcm> gcm = AesGcm::Create(Key(v.key));
    ASSERT_TRUE(gcm.ok());
    Result<Bytes> sealed = gcm->Seal(Hex(v.iv), Hex(v.aad), Hex(v.plaintext));
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(ToHex(*sealed), std::string(v.ciphertext) + v.tag);
    Result<Bytes> opened = gcm->Open(Hex(v.iv), Hex(v.aad), *sealed);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    EXPECT_EQ(ToHex(*opened), v.plaintext);
  }
}

// Flipping any single bit of the ciphertext, the tag, the AAD or the nonce
// makes Open fail with kAuthFailed, and no plaintext comes out.
TEST(AesGcmTest, TamperingIsDetected) {
  const GcmVector& v = kVectors[7];  // test case 16: AES-256 with AAD
  Result<AesGcm> gcm = AesGcm::Create(Key(v.key));
  ASSERT_TRUE(gcm.ok());
  const Bytes ct = Hex(v.ciphertext), tag = Hex(v.tag), aad = Hex(v.aad), iv = Hex(v.iv);

  auto expect_rejected = [&](const Bytes& c, const Bytes& t, const Bytes& a, const Bytes& n) {
    Bytes buf = c;
    Status st = gcm->OpenInPlace(n, a, buf, t);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), Errc::kAuthFailed);
    EXPECT_EQ(buf, Bytes(buf.size(), 0)) << "unauthenticated plaintext left in the buffer";
    Bytes joined = c;
    joined.insert(joined.end(), t.begin(), t.end());
    Result<Bytes> copy = gcm->Open(n, a, joined);
    ASSERT_FALSE(copy.ok());
    EXPECT_EQ(copy.error().code(), Errc::kAuthFailed);
  };
  for (std::size_t bit = 0; bit < ct.size() * 8; bit += 13) {
    Bytes c = ct;
    c[bit / 8] ^= static_cast<std::uint8_t>(1 << (bit % 8));
    expect_rejected(c, tag, aad, iv);
  }
  for (std::size_t bit = 0; bit < 128; ++bit) {
    Bytes t = tag;
    t[bit / 8] ^= static_cast<std::uint8_t>(1 << (bit % 8));
    expect_rejected(ct, t, aad, iv);
  }
  for (std::size_t bit = 0; bit < aad.size() * 8; bit += 5) {
    Bytes a = aad;
    a[bit / 8] ^= static_cast<std::uint8_t>(1 << (bit % 8));
    expect_rejected(ct, tag, a, iv);
  }
  Bytes n = iv;
  n[11] ^= 1;
  expect_rejected(ct, tag, aad, n);
  expect_rejected(ct, tag, {}, iv);  // AAD dropped
  Bytes shorter(ct.begin(), ct.end() - 1);
  expect_rejected(shorter, tag, aad, iv);

  // The object still works after all those failures.
  Bytes buf = ct;
  ASSERT_TRUE(gcm->OpenInPlace(iv, aad, buf, tag).ok());
  EXPECT_EQ(ToHex(buf), v.plaintext);
}

// RFC 4106 section 8 ICVs of 8 and 12 octets are the leftmost bytes of the
// full GCM tag (SP 800-38D section 7.1, MSB_t).
TEST(AesGcmTest, ShortIcvsAreTagPrefixes) {
  const GcmVector& v = kVectors[3];  // test case 4
  for (std::size_t icv : {8u, 12u}) {
    SCOPED_TRACE(icv);
    Result<AesGcm> gcm = AesGcm::Create(Key(v.key), icv);
    ASSERT_TRUE(gcm.ok()) << gcm.error().ToString();
    EXPECT_EQ(gcm->tag_size(), icv);
    Result<Bytes> sealed = gcm->Seal(Hex(v.iv), Hex(v.aad), Hex(v.plaintext));
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(ToHex(*sealed), std::string(v.ciphertext) + std::string(v.tag).substr(0, 2 * icv));
    Result<Bytes> opened = gcm->Open(Hex(v.iv), Hex(v.aad), *sealed);
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(ToHex(*opened), v.plaintext);
    Bytes bad = *sealed;
    bad.back() ^= 0x40;
    EXPECT_EQ(gcm->Open(Hex(v.iv), Hex(v.aad), bad).error().code(), Errc::kAuthFailed);
  }
}

// One keyed object seals and opens many packets with different nonces,
// interleaved, as an ESP SA would.
TEST(AesGcmTest, ReusedContextHandlesManyPackets) {
  const SecretBytes key = Key(kKey128);
  Result<AesGcm> tx = AesGcm::Create(key);
  Result<AesGcm> rx = AesGcm::Create(key);
  ASSERT_TRUE(tx.ok() && rx.ok());
  std::vector<Bytes> packets;
  for (int i = 0; i < 50; ++i) {
    Bytes nonce = Hex("cafebabe0000000000000000");
    nonce[11] = static_cast<std::uint8_t>(i);
    Bytes payload(static_cast<std::size_t>(i * 3), static_cast<std::uint8_t>(i));
    const Bytes aad = {0, 0, 0, 1, 0, 0, 0, static_cast<std::uint8_t>(i)};
    Result<Bytes> sealed = tx->Seal(nonce, aad, payload);
    ASSERT_TRUE(sealed.ok());
    // Opened both by the peer and by the sender's own object.
    for (AesGcm* g : {&*rx, &*tx}) {
      Result<Bytes> opened = g->Open(nonce, aad, *sealed);
      ASSERT_TRUE(opened.ok()) << "packet " << i;
      EXPECT_EQ(*opened, payload);
    }
    packets.push_back(*sealed);
  }
  // Distinct nonces give distinct ciphertexts for the same input.
  Bytes n1 = Hex("000000000000000000000001"), n2 = Hex("000000000000000000000002");
  EXPECT_NE(*tx->Seal(n1, {}, Bytes(32, 0)), *tx->Seal(n2, {}, Bytes(32, 0)));
}

TEST(AesGcmTest, RejectsBadArguments) {
  EXPECT_EQ(AesGcm::Create(Key(Bytes(20, 1))).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(AesGcm::Create(SecretBytes()).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(AesGcm::Create(Key(kKey128), 10).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(AesGcm::Create(Key(kKey128), 0).error().code(), Errc::kInvalidArgument);
  Result<AesGcm> gcm24 = AesGcm::Create(Key(Bytes(24, 7)));
  ASSERT_TRUE(gcm24.ok());
  EXPECT_EQ(gcm24->key_size(), 24u);

  Result<AesGcm> gcm = AesGcm::Create(Key(kKey128));
  ASSERT_TRUE(gcm.ok());
  Bytes buf(16, 0);
  std::uint8_t tag[16];
  std::uint8_t short_tag[12];
  EXPECT_EQ(gcm->SealInPlace(Hex("0001020304050607"), {}, buf, tag).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(gcm->SealInPlace(Bytes(13, 0), {}, buf, tag).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(gcm->SealInPlace(Bytes(12, 0), {}, buf, short_tag).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(gcm->OpenInPlace(Bytes(12, 0), {}, buf, ByteSpan(tag).first(15)).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(gcm->Open(Bytes(12, 0), {}, Bytes(15, 0)).error().code(), Errc::kTruncated);
}

TEST(AesGcmTest, MoveKeepsTheKey) {
  const GcmVector& v = kVectors[2];
  Result<AesGcm> gcm = AesGcm::Create(Key(v.key));
  ASSERT_TRUE(gcm.ok());
  AesGcm moved = std::move(gcm).value();
  Result<AesGcm> other = AesGcm::Create(Key(kKey256));
  ASSERT_TRUE(other.ok());
  AesGcm assigned = std::move(other).value();
  assigned = std::move(moved);  // the AES-256 key is released, the AES-128 one taken
  Result<Bytes> sealed = assigned.Seal(Hex(v.iv), {}, Hex(v.plaintext));
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(ToHex(*sealed), std::string(v.ciphertext) + v.tag);
}

}  // namespace
}  // namespace mipsec::crypto

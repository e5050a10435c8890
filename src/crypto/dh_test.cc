#include "crypto/dh.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/crypto_test_util.h"
#include "crypto/modp_groups.h"

namespace mipsec::crypto {
namespace {

using testing::Hex;
using testing::Key;
using testing::RevealHex;

std::unique_ptr<KeyExchange> MustFromPrivate(DhGroup g, std::string_view priv_hex) {
  Result<std::unique_ptr<KeyExchange>> ke = KeyExchange::FromPrivate(g, Key(priv_hex));
  EXPECT_TRUE(ke.ok()) << ke.error().ToString();
  return ke.ok() ? std::move(ke).value() : nullptr;
}

std::string SharedHex(const KeyExchange& ke, ByteSpan peer) {
  Result<SecretBytes> s = ke.ComputeShared(peer);
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return s.ok() ? RevealHex(*s) : "";
}

Errc SharedError(const KeyExchange& ke, ByteSpan peer) {
  Result<SecretBytes> s = ke.ComputeShared(peer);
  EXPECT_FALSE(s.ok()) << "accepted " << ToHex(peer);
  return s.ok() ? Errc::kInternal : s.error().code();
}

// ------------------------------------------------------------ groups

TEST(DhGroupTest, IdsNamesAndSizes) {
  EXPECT_EQ(DhGroupFromId(14), DhGroup::kModp2048);
  EXPECT_EQ(DhGroupFromId(18), DhGroup::kModp8192);
  EXPECT_EQ(DhGroupFromId(19), DhGroup::kEcp256);
  EXPECT_EQ(DhGroupFromId(21), DhGroup::kEcp521);
  EXPECT_EQ(DhGroupFromId(31), DhGroup::kCurve25519);
  for (std::uint16_t id : {0, 1, 2, 5, 13, 22, 24, 30, 32, 65535}) {
    EXPECT_EQ(DhGroupFromId(id), std::nullopt) << id;
  }
  EXPECT_EQ(DhGroupName(DhGroup::kCurve25519), "curve25519");
  EXPECT_EQ(DhPublicValueSize(DhGroup::kModp3072), 384u);
  EXPECT_EQ(DhPublicValueSize(DhGroup::kEcp256), 64u);
  EXPECT_EQ(DhPublicValueSize(DhGroup::kEcp384), 96u);
  EXPECT_EQ(DhPublicValueSize(DhGroup::kEcp521), 132u);
  EXPECT_EQ(DhSharedSecretSize(DhGroup::kEcp521), 66u);
  EXPECT_EQ(DhPublicValueSize(DhGroup::kCurve25519), 32u);
  EXPECT_EQ(DhSharedSecretSize(DhGroup::kModp8192), 1024u);
  EXPECT_EQ(DhPrivateKeySize(DhGroup::kModp2048), 40u);
}

// ------------------------------------------------------------ X25519

// RFC 7748 section 5.2: the two X25519 test vectors (scalar, u -> output).
TEST(X25519Test, Rfc7748Section5_2) {
  auto a = MustFromPrivate(DhGroup::kCurve25519,
                           "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(SharedHex(*a, Hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")),
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  // The input u has its top bit set: X25519 must ignore it.
  auto b = MustFromPrivate(DhGroup::kCurve25519,
                           "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(SharedHex(*b, Hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493")),
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

// RFC 7748 section 5.2, the iterated test: k = u = 9, then k, u = X25519(k, u), k.
TEST(X25519Test, Rfc7748Section5_2Iterated) {
  Bytes k = Hex("0900000000000000000000000000000000000000000000000000000000000000");
  Bytes u = k;
  for (int i = 1; i <= 1000; ++i) {
    auto ke = MustFromPrivate(DhGroup::kCurve25519, ToHex(k));
    ASSERT_NE(ke, nullptr);
    Result<SecretBytes> r = ke->ComputeShared(u);
    ASSERT_TRUE(r.ok()) << i;
    u = k;
    k.assign(r->Reveal().begin(), r->Reveal().end());
    if (i == 1) {
      EXPECT_EQ(ToHex(k), "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
  }
  EXPECT_EQ(ToHex(k), "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

// RFC 7748 section 6.1: Alice and Bob.
TEST(X25519Test, Rfc7748Section6_1) {
  auto alice = MustFromPrivate(DhGroup::kCurve25519,
                               "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  auto bob = MustFromPrivate(DhGroup::kCurve25519,
                             "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(ToHex(alice->public_value()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(ToHex(bob->public_value()),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const char kShared[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  EXPECT_EQ(SharedHex(*alice, bob->public_value()), kShared);
  EXPECT_EQ(SharedHex(*bob, alice->public_value()), kShared);
}

// RFC 7748 section 6.1 / RFC 8031 section 2.3: points of small order (and
// their non-canonical encodings) give an all-zero secret, which is refused.
TEST(X25519Test, LowOrderPointsAreRefused) {
  auto bob = MustFromPrivate(DhGroup::kCurve25519,
                             "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  ASSERT_NE(bob, nullptr);
  for (const char* u : {
           "0000000000000000000000000000000000000000000000000000000000000000",  // 0
           "0100000000000000000000000000000000000000000000000000000000000000",  // 1
           "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
           "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
           "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1
           "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p
           "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 1
       }) {
    SCOPED_TRACE(u);
    EXPECT_EQ(SharedError(*bob, Hex(u)), Errc::kMalformed);
  }
  EXPECT_EQ(SharedError(*bob, Bytes(31, 9)), Errc::kMalformed);
  EXPECT_EQ(SharedError(*bob, Bytes(33, 9)), Errc::kMalformed);
  // The object is still usable afterwards.
  EXPECT_EQ(
      SharedHex(*bob, Hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")),
      "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

// ------------------------------------------------------------ ECP

// RFC 5903 section 8: private keys i and r, public values g^i and g^r, the
// KEi/KEr payloads as IKEv2 sends them, and the shared secret girx.
struct EcpVector {
  DhGroup group;
  const char* i;
  const char* kei;  // the whole KE payload: 4-byte header, group, reserved, data
  const char* r;
  const char* ker;
  const char* girx;
};
const EcpVector kEcpVectors[] = {
    {DhGroup::kEcp256, "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
     "0000004800130000dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
     "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
     "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
     "0000004800130000d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
     "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
     "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"},
    {DhGroup::kEcp384,
     "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896"
     "783ab194",
     "0000006800140000667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808"
     "acb4bdb4c88732aee95f41aa9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38e"
     "eb9fcff3c2c947dae69b4c634573a81c",
     "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd5"
     "5a7448fc",
     "0000006800140000e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a"
     "0336def96fda41d0774a3571dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1ff"
     "f83fa40142209dff5eaad96db9e6386c",
     "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a2"
     "70f59746"},
    {DhGroup::kEcp521,
     "0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a095aa85a30fe1c2952c6771d9"
     "37ba9777f5957b2639bab072462f68c27a57382d4a52",
     "0000008c001500000015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbee1e3bf42"
     "e00b8e380aeae57c2d107564941885942af5a7f4601723c4195d176ced3e017cae20b6641d2eeb695786d8c9"
     "46146239d099e18e1d5a514c739d7cb4a10ad8a788015ac405d7799dc75e7b7d5b6cf2261a6a7f1507438bf0"
     "1beb6ca3926f9582",
     "0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e9c677d600b343757a3bdbf2a"
     "3163e4c2f869cca7458aa4a4effc311f5cb151685eb9",
     "0000008c0015000000d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a219b97c356"
     "436adc6e95bb0352f6be64a6c2912d4ef2d0433ced2b6171640012d9460f015c68226383956e3bd066e797b6"
     "23c27ce0eac2f551a10c2c724d9852077b87220b6536c5c408a1d2aebb8e86d678ae49cb57091f4732296579"
     "ab44fcd17f0fc56a",
     "01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04d1427e73ca4baa240a347868"
     "59810c06b3c715a3a8cc3151f2bee417996d19f3ddea"},
};

// The Key Exchange Data of a KE payload: after the 4-byte generic header and
// the 2-byte group number plus 2 reserved bytes (RFC 7296 section 3.4).
Bytes KeData(const char* payload_hex, DhGroup expect_group) {
  Bytes p = Hex(payload_hex);
  EXPECT_GE(p.size(), 8u);
  EXPECT_EQ(p[4] << 8 | p[5], DhGroupId(expect_group));
  EXPECT_EQ(p[2] << 8 | p[3], static_cast<int>(p.size()));
  return Bytes(p.begin() + 8, p.end());
}

TEST(EcpTest, Rfc5903Section8) {
  for (const EcpVector& v : kEcpVectors) {
    SCOPED_TRACE(std::string(DhGroupName(v.group)));
    const Bytes gi = KeData(v.kei, v.group), gr = KeData(v.ker, v.group);
    auto ini = MustFromPrivate(v.group, v.i);
    auto res = MustFromPrivate(v.group, v.r);
    ASSERT_TRUE(ini && res);
    EXPECT_EQ(ini->public_value().size(), DhPublicValueSize(v.group));
    EXPECT_EQ(ToHex(ini->public_value()), ToHex(gi));
    EXPECT_EQ(ToHex(res->public_value()), ToHex(gr));
    EXPECT_EQ(SharedHex(*ini, gr), v.girx);
    EXPECT_EQ(SharedHex(*res, gi), v.girx);
  }
}

// RFC 6989 section 2.3: a peer value that is not on the curve is refused.
TEST(EcpTest, InvalidPeerPointsAreRefused) {
  for (const EcpVector& v : kEcpVectors) {
    SCOPED_TRACE(std::string(DhGroupName(v.group)));
    auto ini = MustFromPrivate(v.group, v.i);
    ASSERT_NE(ini, nullptr);
    const Bytes good = KeData(v.ker, v.group);
    const std::size_t half = good.size() / 2;

    Bytes flipped_y = good;
    flipped_y.back() ^= 0x01;
    EXPECT_EQ(SharedError(*ini, flipped_y), Errc::kMalformed);
    Bytes flipped_x = good;
    flipped_x[half - 1] ^= 0x10;
    EXPECT_EQ(SharedError(*ini, flipped_x), Errc::kMalformed);
    Bytes swapped(good.begin() + half, good.end());
    swapped.insert(swapped.end(), good.begin(), good.begin() + half);
    EXPECT_EQ(SharedError(*ini, swapped), Errc::kMalformed);
    EXPECT_EQ(SharedError(*ini, Bytes(good.size(), 0)), Errc::kMalformed);  // (0, 0)
    Bytes big_x = good;                                                     // x >= p
    std::fill(big_x.begin(), big_x.begin() + half, 0xff);
    EXPECT_EQ(SharedError(*ini, big_x), Errc::kMalformed);
    // Wrong lengths, including the SEC 1 form with its 0x04 prefix.
    Bytes sec1 = good;
    sec1.insert(sec1.begin(), 0x04);
    EXPECT_EQ(SharedError(*ini, sec1), Errc::kMalformed);
    EXPECT_EQ(SharedError(*ini, ByteSpan(good).first(good.size() - 1)), Errc::kMalformed);
    EXPECT_EQ(SharedError(*ini, {}), Errc::kMalformed);
    // Still works with the right value.
    EXPECT_EQ(SharedHex(*ini, good), v.girx);
  }
}

TEST(EcpTest, PrivateKeyRange) {
  // n for P-256 (FIPS 186-4 D.1.2.3).
  const char kN256[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
  const char kNMinus1[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550";
  EXPECT_EQ(KeyExchange::FromPrivate(DhGroup::kEcp256, Key(kN256)).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(KeyExchange::FromPrivate(DhGroup::kEcp256, Key(Bytes(32, 0))).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(KeyExchange::FromPrivate(DhGroup::kEcp256, Key(Bytes(31, 1))).error().code(),
            Errc::kInvalidArgument);
  EXPECT_TRUE(KeyExchange::FromPrivate(DhGroup::kEcp256, Key(kNMinus1)).ok());
  Bytes one(32, 0);
  one.back() = 1;
  // d = 1 gives the generator G (FIPS 186-4 D.1.2.3).
  Result<std::unique_ptr<KeyExchange>> g = KeyExchange::FromPrivate(DhGroup::kEcp256, Key(one));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(ToHex((*g)->public_value()),
            "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
}

// ------------------------------------------------------------ MODP

// Known answers by arithmetic: with x = 3 and y = 5, g^x = 8, g^y = 32 and
// g^xy = 2^15 = 0x8000, each left-padded to len(p) (RFC 7296 sections 2.14
// and 3.4).
TEST(ModpTest, SmallExponentsGiveExactPaddedValues) {
  for (DhGroup g : {DhGroup::kModp2048, DhGroup::kModp3072}) {
    SCOPED_TRACE(std::string(DhGroupName(g)));
    const std::size_t n = DhPublicValueSize(g);
    auto a = MustFromPrivate(g, "03");
    auto b = MustFromPrivate(g, "0000000005");  // leading zeros are fine
    ASSERT_TRUE(a && b);
    Bytes expect_a(n, 0), expect_b(n, 0), expect_shared(n, 0);
    expect_a.back() = 8;
    expect_b.back() = 32;
    expect_shared[n - 2] = 0x80;
    EXPECT_EQ(ToHex(a->public_value()), ToHex(expect_a));
    EXPECT_EQ(ToHex(b->public_value()), ToHex(expect_b));
    EXPECT_EQ(SharedHex(*a, b->public_value()), ToHex(expect_shared));
    EXPECT_EQ(SharedHex(*b, a->public_value()), ToHex(expect_shared));
  }
}

// RFC 6989 section 2.1: 1 < r < p - 1, and exactly len(p) bytes.
TEST(ModpTest, InvalidPeerValuesAreRefused) {
  const DhGroup g = DhGroup::kModp2048;
  Result<std::unique_ptr<KeyExchange>> ke = KeyExchange::Generate(g);
  ASSERT_TRUE(ke.ok()) << ke.error().ToString();
  const ByteSpan p = ModpPrime(g);
  ASSERT_EQ(p.size(), 256u);
  auto value = [&](int add_to_p) {  // p + add_to_p, for small |add_to_p|
    Bytes v(p.begin(), p.end());
    v.back() = static_cast<std::uint8_t>(v.back() + add_to_p);  // p ends in 0xff
    return v;
  };
  Bytes zero(256, 0), one(256, 0), two(256, 0);
  one.back() = 1;
  two.back() = 2;
  EXPECT_EQ(SharedError(**ke, zero), Errc::kMalformed);
  EXPECT_EQ(SharedError(**ke, one), Errc::kMalformed);
  EXPECT_EQ(SharedError(**ke, value(-1)), Errc::kMalformed);                 // p - 1
  EXPECT_EQ(SharedError(**ke, value(0)), Errc::kMalformed);                  // p
  EXPECT_EQ(SharedError(**ke, Bytes(256, 0xff)), Errc::kMalformed);          // > p
  EXPECT_EQ(SharedError(**ke, ByteSpan(two).subspan(1)), Errc::kMalformed);  // 255 bytes
  Bytes longer = two;
  longer.insert(longer.begin(), 0);
  EXPECT_EQ(SharedError(**ke, longer), Errc::kMalformed);  // 257 bytes
  // The extremes just inside the range are accepted.
  EXPECT_TRUE((*ke)->ComputeShared(two).ok());
  EXPECT_TRUE((*ke)->ComputeShared(value(-2)).ok());  // p - 2
}

TEST(ModpTest, PrivateExponentRange) {
  const DhGroup g = DhGroup::kModp2048;
  const ByteSpan p = ModpPrime(g);
  Bytes pm1(p.begin(), p.end());
  pm1.back() -= 1;
  for (const Bytes& bad :
       {Bytes{}, Bytes{0}, Bytes{1}, Bytes(4, 0), pm1, Bytes(p.begin(), p.end()), Bytes(257, 1)}) {
    EXPECT_EQ(KeyExchange::FromPrivate(g, Key(bad)).error().code(), Errc::kInvalidArgument)
        << ToHex(bad).substr(0, 16);
  }
  EXPECT_TRUE(KeyExchange::FromPrivate(g, Key(Bytes{2})).ok());
}

// ------------------------------------------------------------ all groups

TEST(KeyExchangeTest, GeneratedPairsAgreeInEveryGroup) {
  for (DhGroup g : kAllDhGroups) {
    SCOPED_TRACE(std::string(DhGroupName(g)));
    Result<std::unique_ptr<KeyExchange>> a = KeyExchange::Generate(g);
    Result<std::unique_ptr<KeyExchange>> b = KeyExchange::Generate(g);
    Result<std::unique_ptr<KeyExchange>> c = KeyExchange::Generate(g);
    ASSERT_TRUE(a.ok()) << a.error().ToString();
    ASSERT_TRUE(b.ok() && c.ok());
    EXPECT_EQ((*a)->group(), g);
    EXPECT_EQ((*a)->public_value().size(), DhPublicValueSize(g));
    EXPECT_NE(ToHex((*a)->public_value()), ToHex((*b)->public_value()));
    Result<SecretBytes> ab = (*a)->ComputeShared((*b)->public_value());
    Result<SecretBytes> ba = (*b)->ComputeShared((*a)->public_value());
    Result<SecretBytes> ac = (*a)->ComputeShared((*c)->public_value());
    ASSERT_TRUE(ab.ok()) << ab.error().ToString();
    ASSERT_TRUE(ba.ok() && ac.ok());
    EXPECT_EQ(ab->size(), DhSharedSecretSize(g));
    EXPECT_TRUE(ab->Equals(*ba));
    EXPECT_FALSE(ab->Equals(*ac));
    // Repeatable: the same peer value gives the same secret again.
    Result<SecretBytes> again = (*a)->ComputeShared((*b)->public_value());
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->Equals(*ab));
  }
}

TEST(KeyExchangeTest, FromRandomIsReproducibleFromTheSeed) {
  for (DhGroup g : {DhGroup::kModp2048, DhGroup::kEcp256, DhGroup::kEcp521, DhGroup::kCurve25519}) {
    SCOPED_TRACE(std::string(DhGroupName(g)));
    DeterministicRandom r1(42), r2(42), r3(43);
    Result<std::unique_ptr<KeyExchange>> a = KeyExchange::FromRandom(g, r1);
    Result<std::unique_ptr<KeyExchange>> b = KeyExchange::FromRandom(g, r2);
    Result<std::unique_ptr<KeyExchange>> c = KeyExchange::FromRandom(g, r3);
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_EQ(ToHex((*a)->public_value()), ToHex((*b)->public_value()));
    EXPECT_NE(ToHex((*a)->public_value()), ToHex((*c)->public_value()));
    Result<SecretBytes> ac = (*a)->ComputeShared((*c)->public_value());
    Result<SecretBytes> ca = (*c)->ComputeShared((*a)->public_value());
    ASSERT_TRUE(ac.ok() && ca.ok());
    EXPECT_TRUE(ac->Equals(*ca));
  }
}

// A RandomSource that always returns the same bytes: for ECP the all-0xff
// draw is >= n and must be rejected, and a source that never yields a usable
// key gives an error instead of a loop.
class ConstantRandom final : public RandomSource {
 public:
  explicit ConstantRandom(std::uint8_t b) : b_(b) {}
  void Fill(MutableByteSpan out) override { std::fill(out.begin(), out.end(), b_); }

 private:
  std::uint8_t b_;
};

TEST(KeyExchangeTest, FromRandomRejectsUnusableDraws) {
  ConstantRandom ff(0xff), zero(0);
  EXPECT_EQ(KeyExchange::FromRandom(DhGroup::kEcp256, ff).error().code(), Errc::kInternal);
  EXPECT_EQ(KeyExchange::FromRandom(DhGroup::kEcp384, zero).error().code(), Errc::kInternal);
  EXPECT_EQ(KeyExchange::FromRandom(DhGroup::kModp2048, zero).error().code(), Errc::kInternal);
  // P-521's top byte is masked to one bit, so 0xff... becomes 2^521 - 1 >= n.
  EXPECT_EQ(KeyExchange::FromRandom(DhGroup::kEcp521, ff).error().code(), Errc::kInternal);
  EXPECT_TRUE(KeyExchange::FromRandom(DhGroup::kModp2048, ff).ok());
  EXPECT_TRUE(KeyExchange::FromRandom(DhGroup::kCurve25519, zero).ok());  // clamped scalar
}

TEST(KeyExchangeTest, X25519PrivateKeyLength) {
  EXPECT_EQ(KeyExchange::FromPrivate(DhGroup::kCurve25519, Key(Bytes(31, 1))).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(KeyExchange::FromPrivate(DhGroup::kCurve25519, Key(Bytes(33, 1))).error().code(),
            Errc::kInvalidArgument);
}

}  // namespace
}  // namespace mipsec::crypto

#include "ikev2/crypto/key_exchange.h"

#include <gtest/gtest.h>

#include "ikev2/crypto/keys.h"

namespace mipsec::ikev2 {
namespace {

TEST(KeyExchangeTest, BothSidesAgreeInEverySupportedGroup) {
  DeterministicRandom rng(11);
  for (DhId id : {DhId::kCurve25519, DhId::kEcp256, DhId::kEcp384, DhId::kEcp521,
                  DhId::kModp2048}) {
    SCOPED_TRACE(static_cast<int>(id));
    auto a = NewKeyExchange(id, rng);
    auto b = NewKeyExchange(id, rng);
    ASSERT_TRUE(a.ok() && b.ok());
    Result<SecretBytes> sa = ComputeSharedSecret(**a, id, (*b)->public_value());
    Result<SecretBytes> sb = ComputeSharedSecret(**b, id, (*a)->public_value());
    ASSERT_TRUE(sa.ok() && sb.ok());
    EXPECT_TRUE(sa->Equals(*sb));
    // Wrong group number in the KE payload.
    EXPECT_EQ(ComputeSharedSecret(**a, DhId::kModp3072, (*b)->public_value()).error().code(),
              Errc::kInvalidArgument);
  }
  EXPECT_EQ(NewKeyExchange(DhId::kNone, rng).error().code(), Errc::kUnsupported);
  EXPECT_EQ(NewKeyExchange(DhId::kModp1024, rng).error().code(), Errc::kUnsupported);
}

// RFC 6989 2: invalid received public values are refused before use.
TEST(KeyExchangeTest, Rfc6989ChecksOnReceivedValues) {
  DeterministicRandom rng(12);
  auto x = NewKeyExchange(DhId::kCurve25519, rng);
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(ComputeSharedSecret(**x, DhId::kCurve25519, Bytes(32, 0)).error().code(),
            Errc::kMalformed);  // low-order point: all-zero result
  EXPECT_EQ(ComputeSharedSecret(**x, DhId::kCurve25519, Bytes(31, 9)).error().code(),
            Errc::kMalformed);  // wrong length

  auto e = NewKeyExchange(DhId::kEcp256, rng);
  ASSERT_TRUE(e.ok());
  Bytes off_curve((*e)->public_value().begin(), (*e)->public_value().end());
  off_curve.back() ^= 1;
  EXPECT_EQ(ComputeSharedSecret(**e, DhId::kEcp256, off_curve).error().code(), Errc::kMalformed);

  auto m = NewKeyExchange(DhId::kModp2048, rng);
  ASSERT_TRUE(m.ok());
  Bytes one(256, 0);
  one.back() = 1;
  EXPECT_EQ(ComputeSharedSecret(**m, DhId::kModp2048, one).error().code(), Errc::kMalformed);
  EXPECT_EQ(ComputeSharedSecret(**m, DhId::kModp2048, Bytes(256, 0xff)).error().code(),
            Errc::kMalformed);  // >= p
}

}  // namespace
}  // namespace mipsec::ikev2

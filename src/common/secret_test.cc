#include "common/secret.h"

#include <gtest/gtest.h>

namespace mipsec {
namespace {

TEST(SecretBytesTest, HoldsBytesAndComparesInConstantTime) {
  const Bytes k = {1, 2, 3, 4};
  SecretBytes a(k), b(k), c(ByteSpan(k).first(3));
  EXPECT_EQ(a.size(), 4u);
  EXPECT_TRUE(a.Equals(b));
  EXPECT_FALSE(a.Equals(c));
  EXPECT_EQ(a.Reveal()[3], 4);
}

TEST(SecretBytesTest, MovedFromIsEmpty) {
  SecretBytes a(Bytes{9, 9});
  SecretBytes b(std::move(a));
  EXPECT_EQ(b.size(), 2u);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  SecretBytes c;
  c = std::move(b);
  EXPECT_TRUE(b.empty());  // NOLINT
  EXPECT_EQ(c.size(), 2u);
  SecretBytes d;
  d = c;
  EXPECT_TRUE(d.Equals(c));
}

TEST(SecretBytesTest, NotConvertibleToPrintableViews) {
  static_assert(!std::is_convertible_v<SecretBytes, ByteSpan>);
  static_assert(!std::is_convertible_v<SecretBytes, std::string>);
  static_assert(!std::is_convertible_v<SecretBytes, Bytes>);
  SUCCEED();
}

}  // namespace
}  // namespace mipsec

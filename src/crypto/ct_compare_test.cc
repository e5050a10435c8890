#include "crypto/ct_compare.h"

#include <gtest/gtest.h>

namespace mipsec::crypto {
namespace {

TEST(ConstantTimeEqualTest, ComparesContentsAndLengths) {
  const Bytes a = {1, 2, 3, 4, 5, 6, 7, 8};
  Bytes b = a;
  EXPECT_TRUE(ConstantTimeEqual(a, b));
  b[0] ^= 1;
  EXPECT_FALSE(ConstantTimeEqual(a, b));
  b = a;
  b[7] ^= 0x80;
  EXPECT_FALSE(ConstantTimeEqual(a, b));
  EXPECT_FALSE(ConstantTimeEqual(a, ByteSpan(a).first(7)));
  EXPECT_FALSE(ConstantTimeEqual(ByteSpan(a).first(7), a));
  EXPECT_FALSE(ConstantTimeEqual(a, {}));
  EXPECT_TRUE(ConstantTimeEqual({}, {}));
  EXPECT_TRUE(ConstantTimeEqual(ByteSpan(a).first(0), ByteSpan(b).first(0)));
}

}  // namespace
}  // namespace mipsec::crypto

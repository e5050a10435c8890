#include "common/result.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace mipsec {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return Error(Errc::kInvalidArgument, "odd value " + std::to_string(v));
  return v / 2;
}

Result<int> Quarter(int v) {
  MIPSEC_ASSIGN_OR_RETURN(int h, Half(v));
  MIPSEC_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int v) {
  MIPSEC_TRY(Half(v));
  return Ok{};
}

TEST(ResultTest, ValueAndError) {
  Result<int> r = Half(8);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 4);
  Result<int> e = Half(7);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(e.error().ToString(), "invalid argument: odd value 7");
  EXPECT_EQ(e.value_or(-1), -1);
}

TEST(ResultTest, PropagationMacrosStopAtFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail(), "odd value 3");
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_FALSE(CheckEven(3).ok());
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(ResultTest, WithContextPrefixesDetail) {
  Error e(Errc::kTruncated, "lifetime needs 2 bytes");
  EXPECT_EQ(e.WithContext("registration request").ToString(),
            "truncated: registration request: lifetime needs 2 bytes");
  EXPECT_EQ(e.WithContext("x").code(), Errc::kTruncated);
}

TEST(ResultDeathTest, WrongAccessAborts) {
  Result<int> e = Half(3);
  EXPECT_DEATH((void)e.value(), "");
  Result<int> v = Half(2);
  EXPECT_DEATH((void)v.error(), "");
}

}  // namespace
}  // namespace mipsec

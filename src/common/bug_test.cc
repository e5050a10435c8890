#include "common/bug.h"

#include <gtest/gtest.h>

namespace mipsec {
namespace {

class BugModeRestorer : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = GetBugMode(); }
  void TearDown() override { SetBugMode(saved_); }
  BugMode saved_ = BugMode::kAbort;
};

using BugTest = BugModeRestorer;
using BugDeathTest = BugModeRestorer;

TEST_F(BugTest, LogModeCountsAndLetsCallerRecover) {
  SetBugMode(BugMode::kLog);
  std::uint64_t before = BugCount();
  int recovered = 0;
  if (MIPSEC_BUG_IF(1 + 1 == 2, "arithmetic still works")) ++recovered;
  EXPECT_EQ(recovered, 1);
  EXPECT_EQ(BugCount(), before + 1);
  EXPECT_FALSE(MIPSEC_BUG_IF(false, "never"));
  EXPECT_EQ(BugCount(), before + 1);
}

TEST_F(BugDeathTest, AbortModeStopsWithLocation) {
  SetBugMode(BugMode::kAbort);
  EXPECT_DEATH(MIPSEC_BUG("table corrupt"), "BUG at .*bug_test.cc:[0-9]+: table corrupt");
  EXPECT_DEATH((void)MIPSEC_BUG_IF(2 > 1, "order"), "\\(2 > 1\\): order");
}

}  // namespace
}  // namespace mipsec

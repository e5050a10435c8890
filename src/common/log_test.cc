#include "common/log.h"

#include <gtest/gtest.h>

#include "common/secret.h"

namespace mipsec {
namespace {

TEST(LogTest, LevelsFilterAndComponentsTag) {
  MemorySink sink;
  Logger log(&sink, "ha", LogLevel::kInfo);
  MIPSEC_LOG(log, kDebug) << "hidden";
  MIPSEC_LOG(log, kInfo) << "binding " << 3 << " lifetime " << std::uint8_t{7};
  Logger child = log.Child("binding");
  MIPSEC_LOG(child, kWarning) << "expired";
  ASSERT_EQ(sink.lines().size(), 2u);
  EXPECT_EQ(sink.lines()[0].component, "ha");
  EXPECT_EQ(sink.lines()[0].message, "binding 3 lifetime 7");  // uint8_t prints as a number
  EXPECT_EQ(sink.lines()[1].component, "ha.binding");
  EXPECT_EQ(sink.lines()[1].level, LogLevel::kWarning);
}

TEST(LogTest, DisabledLevelDoesNotEvaluateArguments) {
  MemorySink sink;
  Logger log(&sink, "x", LogLevel::kError);
  int evaluated = 0;
  auto expensive = [&] { ++evaluated; return 1; };
  MIPSEC_LOG(log, kInfo) << expensive();
  EXPECT_EQ(evaluated, 0);
  MIPSEC_LOG(log, kError) << expensive();
  EXPECT_EQ(evaluated, 1);
}

TEST(LogTest, NullLoggerDiscards) {
  Logger log;
  EXPECT_FALSE(log.Enabled(LogLevel::kError));
  MIPSEC_LOG(log, kError) << "nowhere";
}

TEST(LogTest, OneEventIsOneLineEvenWithPeerSuppliedNewlines) {
  MemorySink sink;
  Logger log(&sink, "mn");
  MIPSEC_LOG(log, kInfo) << "nai=" << "evil\nerror [ha] forged";
  ASSERT_EQ(sink.lines().size(), 1u);
  EXPECT_EQ(sink.lines()[0].message, "nai=evil\\nerror [ha] forged");
}

TEST(LogTest, LevelNamesRoundTrip) {
  for (LogLevel l : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kNotice,
                     LogLevel::kWarning, LogLevel::kError, LogLevel::kOff}) {
    EXPECT_EQ(ParseLogLevel(LogLevelName(l)), l);
  }
  EXPECT_EQ(ParseLogLevel("warn"), LogLevel::kWarning);
  EXPECT_FALSE(ParseLogLevel("loud").has_value());
}

// That a SecretBytes cannot be logged at all is checked at compile time by
// the ctest `log_refuses_secret` (src/common/log_secret_compile_fail.cc).
TEST(LogTest, SecretTypeIsDetected) {
  EXPECT_TRUE(log_internal::IsSecret<SecretBytes>::value);
  EXPECT_FALSE(log_internal::IsSecret<int>::value);
}

}  // namespace
}  // namespace mipsec

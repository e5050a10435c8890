// MIPSEC_REQUIRE_ROOT(): first statement of a test that needs root (network
// namespaces, TUN devices, raw sockets). Register such tests with
// mipsec_test(... ROOT) so ctest labels them `root`.
//
// Not root: the test is skipped with a message saying why (ctest shows it as
// skipped). Under CI=true a skip would hide a test that never ran, so the
// test FAILS instead.
#ifndef MIPSEC_TESTING_REQUIRE_ROOT_H_
#define MIPSEC_TESTING_REQUIRE_ROOT_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

namespace mipsec::testing {

inline bool RunningAsRoot() { return ::geteuid() == 0; }

// CI=true in the environment (as .ci/run's caller sets it).
inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

}  // namespace mipsec::testing

#define MIPSEC_REQUIRE_ROOT()                                                               \
  do {                                                                                      \
    if (!::mipsec::testing::RunningAsRoot()) {                                              \
      if (::mipsec::testing::InCi()) {                                                      \
        FAIL() << "needs root: this test creates network namespaces/TUN devices; CI=true, " \
                  "so a skip counts as a failure. Run the suite as root.";                  \
      } else {                                                                              \
        GTEST_SKIP() << "needs root: this test creates network namespaces/TUN devices "     \
                        "(run as root, e.g. sudo ctest -L root)";                           \
      }                                                                                     \
    }                                                                                       \
  } while (0)

#endif  // MIPSEC_TESTING_REQUIRE_ROOT_H_

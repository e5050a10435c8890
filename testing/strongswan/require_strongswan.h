// GoogleTest guards for tests that run real strongSwan.
//
//   TEST(Interop, Something) {
//     MIPSEC_REQUIRE_STRONGSWAN();   // root + ip/nft + charon-systemd & co.
//     ...
//   }
//
// Not root: skipped, or FAILED under CI=true (testing/require_root.h).
// strongSwan missing: skipped with the Debian packages to install — except
// under CI=true, where .ci/run installs it (scripts/deps.sh), so a missing
// strongSwan FAILS instead of hiding the interop tests.
// MIPSEC_REQUIRE_PKI() does the same for the `pki` tool alone (no root).
#ifndef MIPSEC_TESTING_STRONGSWAN_REQUIRE_STRONGSWAN_H_
#define MIPSEC_TESTING_STRONGSWAN_REQUIRE_STRONGSWAN_H_

#include <gtest/gtest.h>

#include <string>

#include "testing/netns/require_root.h"
#include "testing/require_root.h"

namespace mipsec::testing {

// "" when charon-systemd, swanctl, the kernel-libipsec, openssl and vici
// plugins and /dev/net/tun are there; otherwise what is missing and which
// Debian package provides it.
std::string MissingStrongswanParts();
// "" when `pki` (strongswan-pki) is installed.
std::string MissingPki();

}  // namespace mipsec::testing

#define MIPSEC_SKIP_OR_FAIL_IF_MISSING_(why_expr)                                          \
  do {                                                                                    \
    const std::string mipsec_missing_ = (why_expr);                                       \
    if (!mipsec_missing_.empty()) {                                                       \
      if (::mipsec::testing::InCi()) {                                                    \
        FAIL() << mipsec_missing_ << " (CI=true: scripts/deps.sh installs it, so a skip " \
                                     "would hide the interop tests)";                      \
      } else {                                                                            \
        GTEST_SKIP() << mipsec_missing_;                                                  \
      }                                                                                   \
    }                                                                                     \
  } while (0)

#define MIPSEC_REQUIRE_STRONGSWAN()                                              \
  do {                                                                           \
    MIPSEC_REQUIRE_NETNS();                                                      \
    MIPSEC_SKIP_OR_FAIL_IF_MISSING_(::mipsec::testing::MissingStrongswanParts()); \
  } while (0)

#define MIPSEC_REQUIRE_PKI() MIPSEC_SKIP_OR_FAIL_IF_MISSING_(::mipsec::testing::MissingPki())

#endif  // MIPSEC_TESTING_STRONGSWAN_REQUIRE_STRONGSWAN_H_

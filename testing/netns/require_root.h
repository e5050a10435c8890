// GoogleTest guard for tests that build namespace topologies: root
// (testing/require_root.h) and the tools Topology uses.
//
// Use them first thing in the test body (they return from it):
//
//   TEST(Forwarder, PingAcrossTun) {
//     MIPSEC_REQUIRE_NETNS();
//     ...
//   }
//
// Not root: the test is skipped with "needs root: ..." (ctest shows it as
// skipped), except under CI=true, where a skip would hide a missing test run,
// so it fails instead. A missing `ip`/`nft` always fails, naming the Debian
// package to install. Register such tests with mipsec_test(... ROOT).
#ifndef MIPSEC_TESTING_NETNS_REQUIRE_ROOT_H_
#define MIPSEC_TESTING_NETNS_REQUIRE_ROOT_H_

#include <gtest/gtest.h>

#include "lab/netns/exec.h"
#include "testing/lab_names.h"
#include "testing/require_root.h"

// MIPSEC_REQUIRE_ROOT() plus the tools Topology uses: `ip` (iproute2) and
// `nft` (nftables). As root, a missing tool fails the test.
#define MIPSEC_REQUIRE_NETNS()                                     \
  do {                                                             \
    MIPSEC_REQUIRE_ROOT();                                         \
    ASSERT_TRUE(::mipsec::testing::FindExecutable("ip").ok())      \
        << "`ip` not found: install the Debian package iproute2";  \
    ASSERT_TRUE(::mipsec::testing::FindExecutable("nft").ok())     \
        << "`nft` not found: install the Debian package nftables"; \
  } while (0)

#endif  // MIPSEC_TESTING_NETNS_REQUIRE_ROOT_H_

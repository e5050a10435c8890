// RunInNewNetns: runs a test body in a forked child that lives in a network
// namespace of its own (unshare(CLONE_NEWNET)) with only `lo`, brought up.
//
// Nothing the body does (links, addresses, routes, TUN devices, sockets) can
// reach the host's namespace, and nothing needs cleaning up: the namespace
// dies with the child. GoogleTest assertions work inside the body: the child
// prints each failure as it happens and exits non-zero if any occurred; the
// parent turns that, a crash or a timeout into a failed AssertionResult.
//
//   TEST(Tun, Works) {
//     MIPSEC_REQUIRE_ROOT();
//     EXPECT_TRUE(RunInNewNetns([] { ... ASSERT_TRUE(...); ... }));
//   }
//
// Call it from the test's main thread only (fork copies just that thread).
#ifndef MIPSEC_TESTING_FAKES_NETNS_CHILD_H_
#define MIPSEC_TESTING_FAKES_NETNS_CHILD_H_

#include <gtest/gtest.h>

#include <functional>

#include "common/time.h"

namespace mipsec::testing {

::testing::AssertionResult RunInNewNetns(const std::function<void()>& body,
                                         Duration timeout = Duration::Seconds(20));

}  // namespace mipsec::testing

#endif  // MIPSEC_TESTING_FAKES_NETNS_CHILD_H_

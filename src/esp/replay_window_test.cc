#include "esp/replay_window.h"

#include <set>

#include <gtest/gtest.h>

#include "common/random.h"

namespace mipsec::esp {
namespace {

ReplayWindow Make(std::uint32_t size, bool esn = false) {
  Result<ReplayWindow> w = ReplayWindow::Create(size, esn);
  EXPECT_TRUE(w.ok());
  return std::move(*w);
}

TEST(ReplayWindowTest, SizeLimits) {
  EXPECT_FALSE(ReplayWindow::Create(31, false).ok());
  EXPECT_FALSE(ReplayWindow::Create(0, false).ok());
  EXPECT_FALSE(ReplayWindow::Create(ReplayWindow::kMaxSize + 1, false).ok());
  EXPECT_TRUE(ReplayWindow::Create(32, false).ok());
  EXPECT_TRUE(ReplayWindow::Create(ReplayWindow::kMaxSize, true).ok());
  EXPECT_EQ(Make(1024).size(), 1024u);
}

TEST(ReplayWindowTest, ZeroIsNeverAccepted) {
  ReplayWindow w = Make(64);
  EXPECT_EQ(w.Check(0), ReplayVerdict::kInvalid);
  w.Commit(5);
  EXPECT_EQ(w.Check(0), ReplayVerdict::kInvalid);
}

TEST(ReplayWindowTest, CheckDoesNotChangeState) {
  ReplayWindow w = Make(64);
  EXPECT_EQ(w.Check(10), ReplayVerdict::kAccept);
  EXPECT_EQ(w.Check(10), ReplayVerdict::kAccept);  // not committed: still new
  EXPECT_EQ(w.top(), 0u);
  w.Commit(10);
  EXPECT_EQ(w.top(), 10u);
  EXPECT_EQ(w.Check(10), ReplayVerdict::kDuplicate);
}

// The edges of the window for several sizes, including non-multiples of 64.
class ReplayWindowEdgeTest : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(ReplayWindowEdgeTest, Edges) {
  const std::uint32_t size = GetParam();
  ReplayWindow w = Make(size);
  const std::uint64_t top = 3 * std::uint64_t{size} + 5000;
  w.Commit(top);
  // top - (size - 1) is the oldest still inside; top - size is too old.
  EXPECT_EQ(w.Check(top - (size - 1)), ReplayVerdict::kAccept);
  EXPECT_EQ(w.Check(top - size), ReplayVerdict::kTooOld);
  EXPECT_EQ(w.Check(top), ReplayVerdict::kDuplicate);
  EXPECT_EQ(w.Check(top + 1), ReplayVerdict::kAccept);
  w.Commit(top - (size - 1));
  EXPECT_EQ(w.Check(top - (size - 1)), ReplayVerdict::kDuplicate);
  // Advancing by one pushes the oldest out.
  w.Commit(top + 1);
  EXPECT_EQ(w.Check(top - (size - 1)), ReplayVerdict::kTooOld);
  EXPECT_EQ(w.Check(top - (size - 2)), ReplayVerdict::kAccept);
  EXPECT_EQ(w.Check(top), ReplayVerdict::kDuplicate);
  // A jump of exactly `size` forgets everything before the new window.
  w.Commit(top + 1 + size);
  EXPECT_EQ(w.Check(top + 1), ReplayVerdict::kTooOld);
  EXPECT_EQ(w.Check(top + 2), ReplayVerdict::kAccept);
  // A jump far beyond the ring clears every block.
  w.Commit(top + 1000000);
  for (std::uint64_t s = top + 1000000 - size + 1; s < top + 1000000; ++s) {
    ASSERT_EQ(w.Check(s), ReplayVerdict::kAccept) << s;
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, ReplayWindowEdgeTest,
                         ::testing::Values(32u, 64u, 65u, 100u, 128u, 1024u, 4000u, 65536u));

// Random arrivals against a reference model (a set of committed numbers).
TEST(ReplayWindowTest, MatchesReferenceModel) {
  for (std::uint32_t size : {32u, 100u, 1024u}) {
    ReplayWindow w = Make(size);
    std::set<std::uint64_t> seen;
    std::uint64_t top = 0;
    DeterministicRandom rng(size);
    std::uint64_t base = 1;
    for (int i = 0; i < 200000; ++i) {
      base += rng.Uniform(3);
      const std::uint64_t seq = base + rng.Uniform(2 * size) - std::min<std::uint64_t>(base - 1, size);
      ReplayVerdict want;
      if (seq == 0) {
        want = ReplayVerdict::kInvalid;
      } else if (seq > top) {
        want = ReplayVerdict::kAccept;
      } else if (top - seq >= size) {
        want = ReplayVerdict::kTooOld;
      } else {
        want = seen.contains(seq) ? ReplayVerdict::kDuplicate : ReplayVerdict::kAccept;
      }
      ASSERT_EQ(w.Check(seq), want) << "size " << size << " seq " << seq << " top " << top;
      if (want == ReplayVerdict::kAccept && rng.Uniform(4) != 0) {  // some fail their ICV
        w.Commit(seq);
        seen.insert(seq);
        top = std::max(top, seq);
      }
    }
  }
}

TEST(ReplayWindowTest, NoEsnIsLow32Bits) {
  ReplayWindow w = Make(64, false);
  w.Commit(0xfffffff0u);
  EXPECT_EQ(w.Infer(5), 5u);
  EXPECT_EQ(w.Infer(0xffffffffu), 0xffffffffu);
}

// RFC 4303 Appendix A2.2, case A (Tl >= W - 1).
TEST(ReplayWindowTest, EsnCaseA) {
  ReplayWindow w = Make(64, true);
  const std::uint64_t top = (std::uint64_t{7} << 32) | 1000;
  w.Commit(top);
  EXPECT_EQ(w.Infer(1000), top);
  EXPECT_EQ(w.Infer(1000 - 63), (std::uint64_t{7} << 32) | 937);  // Bl = Tl - W + 1
  EXPECT_EQ(w.Infer(2000), (std::uint64_t{7} << 32) | 2000);      // ahead, same subspace
  EXPECT_EQ(w.Infer(936), (std::uint64_t{8} << 32) | 936);        // below Bl: next subspace
  EXPECT_EQ(w.Infer(0), std::uint64_t{8} << 32);                  // low 0 in the next subspace
}

// Case B (Tl < W - 1): the window straddles a subspace boundary.
TEST(ReplayWindowTest, EsnCaseB) {
  ReplayWindow w = Make(64, true);
  const std::uint64_t top = (std::uint64_t{3} << 32) | 10;
  w.Commit(top);
  // Bl = 10 - 64 + 1 (mod 2^32) = 0xffffffcb.
  EXPECT_EQ(w.Infer(0xffffffffu), (std::uint64_t{2} << 32) | 0xffffffffu);
  EXPECT_EQ(w.Infer(0xffffffcbu), (std::uint64_t{2} << 32) | 0xffffffcbu);
  EXPECT_EQ(w.Infer(0xffffffcau), (std::uint64_t{3} << 32) | 0xffffffcau);  // far ahead
  EXPECT_EQ(w.Infer(5), (std::uint64_t{3} << 32) | 5);
  EXPECT_EQ(w.Infer(11), (std::uint64_t{3} << 32) | 11);
  // The previous-subspace packet inside the window passes the check.
  EXPECT_EQ(w.Check(w.Infer(0xfffffff0u)), ReplayVerdict::kAccept);
  w.Commit(w.Infer(0xfffffff0u));
  EXPECT_EQ(w.Check(w.Infer(0xfffffff0u)), ReplayVerdict::kDuplicate);
  EXPECT_EQ(w.top(), top);
}

TEST(ReplayWindowTest, EsnAtStartRejectsPreviousSubspace) {
  ReplayWindow w = Make(64, true);
  // Nothing received yet (Th = 0, Tl = 0): case B, and Th - 1 does not exist.
  EXPECT_EQ(w.Infer(1), 1u);
  EXPECT_EQ(w.Infer(0xffffffffu), 0u);
  EXPECT_EQ(w.Check(w.Infer(0xffffffffu)), ReplayVerdict::kInvalid);
}

TEST(ReplayWindowTest, EsnWalksAcrossManySubspaces) {
  ReplayWindow w = Make(1024, true);
  std::uint64_t seq = 0xfffffc00u;
  for (int i = 0; i < 5000; ++i, seq += 997) {
    const std::uint64_t inferred = w.Infer(static_cast<std::uint32_t>(seq));
    ASSERT_EQ(inferred, seq);
    ASSERT_EQ(w.Check(inferred), ReplayVerdict::kAccept);
    w.Commit(inferred);
    // A jump of nearly 2^32 (up to 2^32 - W) is still inferred as forward.
    if (i == 2500) seq += (std::uint64_t{1} << 32) - 3000;
  }
}

TEST(ReplayWindowTest, EsnTopOfTheSpace) {
  ReplayWindow w = Make(64, true);
  w.Commit(~std::uint64_t{0} - 100);
  EXPECT_EQ(w.Infer(0xffffffffu), ~std::uint64_t{0});
  EXPECT_EQ(w.Infer(5), 0u);  // would be subspace 2^32: impossible
}

}  // namespace
}  // namespace mipsec::esp

#include "mip4/ha/binding_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include "common/random.h"

namespace mipsec::mip4 {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;

BindingRecord Rec(std::uint32_t home, std::uint32_t coa, std::int64_t expires_ns) {
  BindingRecord r;
  r.home_address = home;
  r.care_of_address = coa;
  r.tunnel_address = coa;
  r.expires_ns = expires_ns;
  return r;
}

std::vector<std::uint32_t> Chain(const BindingCache& c, std::uint32_t home) {
  std::vector<std::uint32_t> coas;
  for (std::uint32_t i = c.Head(Ipv4Address::FromHostOrder(home)); i != BindingCache::kNil;
       i = c[i].next_in_mn) {
    coas.push_back(c[i].care_of_address);
  }
  return coas;
}

TEST(BindingCacheTest, ChainsPerMobileNode) {
  BindingCache c;
  c.Add(Rec(10, 1, 5 * kSec));
  const std::uint32_t b = c.Add(Rec(10, 2, 6 * kSec));
  c.Add(Rec(10, 3, 7 * kSec));
  c.Add(Rec(11, 4, 8 * kSec));
  EXPECT_EQ(Chain(c, 10), (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(c.size(), 4u);
  EXPECT_EQ(c.mobile_node_count(), 2u);
  c.Remove(b);
  EXPECT_EQ(Chain(c, 10), (std::vector<std::uint32_t>{1, 3}));
  EXPECT_EQ(c.RemoveAll(Ipv4Address::FromHostOrder(10)), 2u);
  EXPECT_EQ(c.Head(Ipv4Address::FromHostOrder(10)), BindingCache::kNil);
  EXPECT_EQ(Chain(c, 11), (std::vector<std::uint32_t>{4}));
  EXPECT_EQ(c.mobile_node_count(), 1u);
  // Freed records are reused.
  const std::uint32_t again = c.Add(Rec(12, 5, 9 * kSec));
  EXPECT_LT(again, 4u);
}

TEST(BindingCacheTest, ExpiryIsExactAndOrdered) {
  BindingCache c;
  EXPECT_TRUE(c.NextExpiry().IsInfinite());
  c.Add(Rec(1, 1, 10 * kSec + 500'000'000));
  c.Add(Rec(2, 1, 10 * kSec + 100));
  c.Add(Rec(3, 1, 65'000 * kSec));  // nearly a whole wheel away
  c.Add(Rec(4, 1, Timestamp::Infinite().nanos()));
  EXPECT_EQ(c.NextExpiry(), Timestamp::FromNanos(10 * kSec + 100));
  std::vector<std::uint32_t> fired;
  auto collect = [&](std::uint32_t i) {
    fired.push_back(c[i].home_address);
    c.Remove(i);
  };
  c.ExpireUpTo(Timestamp::FromNanos(10 * kSec + 99), collect);
  EXPECT_TRUE(fired.empty());
  c.ExpireUpTo(Timestamp::FromNanos(10 * kSec + 100), collect);
  EXPECT_EQ(fired, (std::vector<std::uint32_t>{2}));
  EXPECT_EQ(c.NextExpiry(), Timestamp::FromNanos(10 * kSec + 500'000'000));
  c.ExpireUpTo(Timestamp::FromNanos(64'999 * kSec), collect);
  EXPECT_EQ(fired, (std::vector<std::uint32_t>{2, 1}));
  EXPECT_EQ(c.NextExpiry(), Timestamp::FromNanos(65'000 * kSec));
  c.ExpireUpTo(Timestamp::FromNanos(200'000 * kSec), collect);
  EXPECT_EQ(fired, (std::vector<std::uint32_t>{2, 1, 3}));
  EXPECT_TRUE(c.NextExpiry().IsInfinite());
  EXPECT_EQ(c.size(), 1u);  // the infinite one
}

TEST(BindingCacheTest, SetExpiryMovesTheDeadline) {
  BindingCache c;
  const std::uint32_t i = c.Add(Rec(1, 1, 100 * kSec));
  c.SetExpiry(i, Timestamp::FromNanos(50 * kSec));
  EXPECT_EQ(c.NextExpiry(), Timestamp::FromNanos(50 * kSec));
  c.SetExpiry(i, Timestamp::FromNanos(300 * kSec));
  int n = 0;
  c.ExpireUpTo(Timestamp::FromNanos(200 * kSec), [&](std::uint32_t) { ++n; });
  EXPECT_EQ(n, 0);
  c.SetExpiry(i, Timestamp::Infinite());
  EXPECT_TRUE(c.NextExpiry().IsInfinite());
}

// Random operations against a simple model: the index, the chains and the
// expiry order must agree with std containers, through wheel wrap-around.
TEST(BindingCacheTest, MatchesAModelUnderChurn) {
  BindingCache c;
  DeterministicRandom rng(42);
  struct M {
    std::uint32_t home;
    std::uint32_t coa;
    std::int64_t expires;
  };
  std::unordered_map<std::uint32_t, M> model;  // index -> record
  std::int64_t now = 0;
  for (int step = 0; step < 60'000; ++step) {
    const std::uint32_t op = rng.Uniform(10);
    if (op < 5) {
      const std::uint32_t home = 1 + rng.Uniform(3000);
      const std::int64_t exp = now + (1 + rng.Uniform(70'000)) * (kSec / 8);
      const std::uint32_t coa = rng.U32() | 1;
      const std::uint32_t i = c.Add(Rec(home, coa, exp));
      ASSERT_FALSE(model.contains(i));
      model[i] = M{home, coa, exp};
    } else if (op < 7 && !model.empty()) {
      auto it = model.begin();
      std::advance(it, rng.Uniform(static_cast<std::uint32_t>(std::min<std::size_t>(model.size(), 50))));
      c.Remove(it->first);
      model.erase(it);
    } else if (op < 8 && !model.empty()) {
      auto it = model.begin();
      const std::int64_t exp = now + (1 + rng.Uniform(60'000)) * kSec;
      c.SetExpiry(it->first, Timestamp::FromNanos(exp));
      it->second.expires = exp;
    } else {
      now += rng.Uniform(2000) * (kSec / 4);
      std::int64_t last = 0;
      std::set<std::uint32_t> fired;
      c.ExpireUpTo(Timestamp::FromNanos(now), [&](std::uint32_t i) {
        ASSERT_TRUE(model.contains(i));
        ASSERT_LE(model[i].expires, now);
        // Deadline seconds never go backwards within one pass.
        ASSERT_GE(model[i].expires / kSec, last / kSec);
        last = model[i].expires;
        fired.insert(i);
        c.Remove(i);
        model.erase(i);
      });
      for (const auto& [i, m] : model) ASSERT_GT(m.expires, now) << "missed expiry";
      std::int64_t min = Timestamp::Infinite().nanos();
      for (const auto& [i, m] : model) min = std::min(min, m.expires);
      ASSERT_LE(c.NextExpiry().nanos(), min);
    }
  }
  ASSERT_EQ(c.size(), model.size());
  std::map<std::uint32_t, std::multiset<std::uint32_t>> by_home;
  for (const auto& [i, m] : model) by_home[m.home].insert(m.coa);
  EXPECT_EQ(c.mobile_node_count(), by_home.size());
  for (const auto& [home, coas] : by_home) {
    std::vector<std::uint32_t> got = Chain(c, home);
    EXPECT_EQ(std::multiset<std::uint32_t>(got.begin(), got.end()), coas);
  }
}

TEST(BindingCacheTest, CompactAtScale) {
  constexpr std::size_t kN = 200'000;
  BindingCache c(kN);
  for (std::uint32_t i = 0; i < kN; ++i) {
    c.Add(Rec(0x0a000000u + i, 0xc6336400u + i, (1 + i % 3600) * kSec));
  }
  EXPECT_EQ(c.size(), kN);
  for (std::uint32_t i = 0; i < kN; i += 997) {
    EXPECT_NE(c.Head(Ipv4Address::FromHostOrder(0x0a000000u + i)), BindingCache::kNil);
  }
  EXPECT_EQ(c.Head(Ipv4Address::FromHostOrder(0x0b000000u)), BindingCache::kNil);
  // 48-byte records + an 8-byte slot at load <= 1/2 (+ the fixed wheel).
  EXPECT_LT(c.MemoryBytes() / kN, 80u);
}

}  // namespace
}  // namespace mipsec::mip4

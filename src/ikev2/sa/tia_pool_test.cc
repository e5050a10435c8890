#include "ikev2/sa/tia_pool.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace mipsec::ikev2 {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }
IdPayload Id(const std::string& name) { return IdPayload::Fqdn(name); }

TiaPool Range(const char* first, const char* last) { return *TiaPool::FromRange(A(first), A(last)); }

TEST(TiaPoolTest, PrefixExcludesNetworkAndBroadcast) {
  TiaPool p = *TiaPool::FromPrefix(*Ipv4Prefix::Parse("10.99.0.0/24"));
  EXPECT_EQ(p.first(), A("10.99.0.1"));
  EXPECT_EQ(p.last(), A("10.99.0.254"));
  EXPECT_EQ(p.size(), 254u);
  EXPECT_FALSE(p.Contains(A("10.99.0.0")));
  EXPECT_FALSE(p.Contains(A("10.99.0.255")));
  EXPECT_TRUE(p.Contains(A("10.99.0.77")));
}

TEST(TiaPoolTest, SlashThirtyOneAndThirtyTwoKeepTheirAddresses) {
  TiaPool p31 = *TiaPool::FromPrefix(*Ipv4Prefix::Parse("10.0.0.2/31"));
  EXPECT_EQ(p31.first(), A("10.0.0.2"));
  EXPECT_EQ(p31.size(), 2u);
  TiaPool p32 = *TiaPool::FromPrefix(*Ipv4Prefix::Parse("10.0.0.9/32"));
  EXPECT_EQ(p32.size(), 1u);
  EXPECT_EQ(p32.Acquire(Id("a"), std::nullopt), A("10.0.0.9"));
  TiaPool p30 = *TiaPool::FromPrefix(*Ipv4Prefix::Parse("10.0.0.4/30"));
  EXPECT_EQ(p30.first(), A("10.0.0.5"));
  EXPECT_EQ(p30.last(), A("10.0.0.6"));
}

TEST(TiaPoolTest, BadRangesAreRefusedWithAReason) {
  auto r = TiaPool::FromRange(A("10.0.0.9"), A("10.0.0.1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail(), "empty range 10.0.0.9-10.0.0.1 (first > last)");
  auto big = TiaPool::FromRange(A("10.0.0.0"), A("11.0.0.0"));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().detail(), "range 10.0.0.0-11.0.0.0 has more than 2^24 addresses");
  auto p = TiaPool::FromPrefix(*Ipv4Prefix::Parse("10.0.0.0/7"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().detail(), "10.0.0.0/7 is shorter than /8 (more than 2^24 addresses)");
  EXPECT_TRUE(TiaPool::FromRange(A("10.0.0.0"), A("10.255.255.255")).ok());
}

TEST(TiaPoolTest, DistinctIdentitiesGetDistinctAddressesInOrder) {
  TiaPool p = Range("10.0.0.10", "10.0.0.12");
  EXPECT_EQ(p.Acquire(Id("a"), std::nullopt), A("10.0.0.10"));
  EXPECT_EQ(p.Acquire(Id("b"), std::nullopt), A("10.0.0.11"));
  EXPECT_EQ(p.Acquire(Id("c"), std::nullopt), A("10.0.0.12"));
  EXPECT_EQ(p.in_use(), 3u);
  EXPECT_EQ(p.available(), 0u);
}

TEST(TiaPoolTest, ExhaustionReturnsNulloptAndReleaseMakesRoom) {
  TiaPool p = Range("10.0.0.1", "10.0.0.2");
  ASSERT_TRUE(p.Acquire(Id("a"), std::nullopt));
  ASSERT_TRUE(p.Acquire(Id("b"), std::nullopt));
  EXPECT_EQ(p.Acquire(Id("c"), std::nullopt), std::nullopt);
  EXPECT_EQ(p.Acquire(Id("c"), A("10.0.0.1")), std::nullopt);  // held: not honoured
  EXPECT_EQ(p.stats().exhausted, 2u);
  p.Release(Id("a"), A("10.0.0.1"));
  // c takes the only free address, a's remembered one (a forgets it).
  EXPECT_EQ(p.Acquire(Id("c"), std::nullopt), A("10.0.0.1"));
  EXPECT_EQ(p.AddressOf(Id("a")), std::nullopt);
  EXPECT_EQ(p.AddressOf(Id("c")), A("10.0.0.1"));
}

TEST(TiaPoolTest, SameIdentitySharesTheAddressAndItIsReferenceCounted) {
  TiaPool p = Range("10.0.0.1", "10.0.0.9");
  const auto a1 = p.Acquire(Id("mn"), std::nullopt);
  // A second IKE SA of the same identity (even asking for another address).
  const auto a2 = p.Acquire(Id("mn"), A("10.0.0.5"));
  ASSERT_TRUE(a1);
  EXPECT_EQ(a1, a2);
  EXPECT_EQ(p.References(*a1), 2u);
  EXPECT_EQ(p.in_use(), 1u);
  p.Release(Id("mn"), *a1);
  EXPECT_TRUE(p.IsHeld(*a1));
  EXPECT_EQ(p.References(*a1), 1u);
  p.Release(Id("mn"), *a1);
  EXPECT_FALSE(p.IsHeld(*a1));
  EXPECT_EQ(p.in_use(), 0u);
}

TEST(TiaPoolTest, StickyAfterReleaseWhileStillFree) {
  TiaPool p = Range("10.0.0.1", "10.0.0.9");
  const auto a = p.Acquire(Id("a"), std::nullopt);
  const auto b = p.Acquire(Id("b"), std::nullopt);
  p.Release(Id("a"), *a);
  p.Release(Id("b"), *b);
  // New identities take never-used addresses first, leaving a's and b's.
  EXPECT_EQ(p.Acquire(Id("c"), std::nullopt), A("10.0.0.3"));
  EXPECT_EQ(p.Acquire(Id("b"), std::nullopt), b);
  EXPECT_EQ(p.Acquire(Id("a"), std::nullopt), a);
}

TEST(TiaPoolTest, ReuseTakesTheLongestReleasedAddressWhenNothingIsFresh) {
  TiaPool p = Range("10.0.0.1", "10.0.0.3");
  for (const char* n : {"a", "b", "c"}) ASSERT_TRUE(p.Acquire(Id(n), std::nullopt));
  p.Release(Id("b"), A("10.0.0.2"));
  p.Release(Id("a"), A("10.0.0.1"));
  EXPECT_EQ(p.Acquire(Id("d"), std::nullopt), A("10.0.0.2"));  // b released first
  EXPECT_EQ(p.AddressOf(Id("b")), std::nullopt);
  // a still gets its own back.
  EXPECT_EQ(p.Acquire(Id("a"), std::nullopt), A("10.0.0.1"));
  // b: nothing left.
  EXPECT_EQ(p.Acquire(Id("b"), std::nullopt), std::nullopt);
}

TEST(TiaPoolTest, RequestedAddressHonouredWhenFreeAndInRange) {
  TiaPool p = Range("10.0.0.1", "10.0.0.9");
  EXPECT_EQ(p.Acquire(Id("a"), A("10.0.0.7")), A("10.0.0.7"));
  EXPECT_EQ(p.Acquire(Id("b"), A("10.0.0.7")), A("10.0.0.1"));   // held by a
  EXPECT_EQ(p.Acquire(Id("c"), A("192.0.2.1")), A("10.0.0.2"));  // out of range
  // The fresh sequence skips the address taken out of order.
  for (int i = 3; i <= 6; ++i) ASSERT_TRUE(p.Acquire(Id("x" + std::to_string(i)), std::nullopt));
  EXPECT_EQ(p.Acquire(Id("y"), std::nullopt), A("10.0.0.8"));
  EXPECT_EQ(p.Acquire(Id("z"), std::nullopt), A("10.0.0.9"));
  EXPECT_EQ(p.Acquire(Id("w"), std::nullopt), std::nullopt);
  EXPECT_EQ(p.in_use(), 9u);
}

TEST(TiaPoolTest, RequestedAddressRememberedForAnotherIdentityIsNotTaken) {
  TiaPool p = Range("10.0.0.1", "10.0.0.9");
  const auto a = p.Acquire(Id("a"), std::nullopt);
  p.Release(Id("a"), *a);
  EXPECT_EQ(p.Acquire(Id("b"), a), A("10.0.0.2"));
  EXPECT_EQ(p.Acquire(Id("a"), std::nullopt), a);
}

TEST(TiaPoolTest, RequestingAFreshAddressReplacesTheRememberedOne) {
  TiaPool p = Range("10.0.0.1", "10.0.0.9");
  const auto a = p.Acquire(Id("a"), std::nullopt);
  p.Release(Id("a"), *a);
  EXPECT_EQ(p.Acquire(Id("a"), A("10.0.0.5")), A("10.0.0.5"));
  // 10.0.0.1 is no longer a's: another identity gets it as a request.
  EXPECT_EQ(p.Acquire(Id("b"), A("10.0.0.1")), A("10.0.0.1"));
}

TEST(TiaPoolTest, IdentitiesCompareByTypeAndData) {
  TiaPool p = Range("10.0.0.1", "10.0.0.9");
  const auto f = p.Acquire(IdPayload::Fqdn("x@y"), std::nullopt);
  const auto e = p.Acquire(IdPayload::Rfc822("x@y"), std::nullopt);
  EXPECT_NE(f, e);
}

TEST(TiaPoolTest, MismatchedReleaseChangesNothing) {
  TiaPool p = Range("10.0.0.1", "10.0.0.9");
  const auto a = p.Acquire(Id("a"), std::nullopt);
  p.Release(Id("b"), *a);               // not b's
  p.Release(Id("a"), A("10.0.0.5"));    // not held
  p.Release(Id("a"), A("192.0.2.1"));   // not in range
  EXPECT_EQ(p.stats().bad_releases, 3u);
  EXPECT_EQ(p.References(*a), 1u);
  p.Release(Id("a"), *a);
  p.Release(Id("a"), *a);  // double release
  EXPECT_EQ(p.stats().bad_releases, 4u);
  EXPECT_EQ(p.in_use(), 0u);
}

TEST(TiaPoolTest, ChurnNeverGivesOneAddressToTwoIdentities) {
  TiaPool p = Range("10.0.0.1", "10.0.0.64");
  std::set<std::uint32_t> held;
  std::vector<std::pair<std::string, Ipv4Address>> leases;
  std::uint32_t x = 12345;
  for (int round = 0; round < 5000; ++round) {
    x = x * 1103515245u + 12345u;
    const std::string id = "n" + std::to_string((x >> 8) % 200);
    if ((x >> 20) % 3 != 0 || leases.empty()) {
      auto a = p.Acquire(Id(id), std::nullopt);
      if (!a) {
        EXPECT_EQ(p.available(), 0u);
        continue;
      }
      leases.emplace_back(id, *a);
    } else {
      const std::size_t i = (x >> 4) % leases.size();
      p.Release(Id(leases[i].first), leases[i].second);
      leases.erase(leases.begin() + static_cast<std::ptrdiff_t>(i));
    }
    // Each held address has exactly one identity.
    std::set<std::uint32_t> addrs;
    std::map<std::string, std::uint32_t> owner;
    for (auto& [who, a] : leases) {
      auto [it, fresh] = owner.emplace(who, a.ToHostOrder());
      EXPECT_EQ(it->second, a.ToHostOrder()) << who;
      addrs.insert(a.ToHostOrder());
    }
    ASSERT_EQ(addrs.size(), p.in_use());
    ASSERT_EQ(owner.size(), addrs.size());  // one address per identity, none shared
  }
  EXPECT_EQ(p.stats().bad_releases, 0u);
}

TEST(TiaPoolTest, LargeRangeCostsNoMemoryUpFront) {
  TiaPool p = *TiaPool::FromPrefix(*Ipv4Prefix::Parse("10.0.0.0/8"));
  EXPECT_EQ(p.size(), (1u << 24) - 2);
  EXPECT_EQ(p.Acquire(Id("a"), A("10.255.255.254")), A("10.255.255.254"));
  EXPECT_EQ(p.Acquire(Id("b"), std::nullopt), A("10.0.0.1"));
}

}  // namespace
}  // namespace mipsec::ikev2

#include "mip4/fa/visitor_list.h"

#include <gtest/gtest.h>

namespace mipsec::mip4 {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }
Timestamp At(int s) { return Timestamp::FromNanos(static_cast<std::int64_t>(s) * 1'000'000'000); }

TEST(VisitorListTest, DeadlinesAreOrderedAndCounted) {
  VisitorList l;
  Visitor& a = l.FindOrInsert({A("10.0.0.1"), ""});
  a.pending = PendingRegistration{};
  a.pending->deadline = At(7);
  l.Update(a);
  Visitor& b = l.FindOrInsert({A("10.0.0.2"), ""});
  b.active = ActiveRegistration{};
  b.active->expires = At(3);
  l.Update(b);
  EXPECT_EQ(l.size(), 2u);
  EXPECT_EQ(l.pending_count(), 1u);
  EXPECT_EQ(l.active_count(), 1u);
  EXPECT_EQ(l.NextDeadline(), At(3));
  EXPECT_EQ(l.Expired(At(2)), nullptr);
  Visitor* e = l.Expired(At(5));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->key.home_address, A("10.0.0.2"));
  l.Erase(e->key);
  EXPECT_EQ(l.NextDeadline(), At(7));
  EXPECT_EQ(l.active_count(), 0u);
  // Both parts: the earlier deadline.
  Visitor* v = l.Find({A("10.0.0.1"), ""});
  v->active = ActiveRegistration{};
  v->active->expires = At(4);
  l.Update(*v);
  EXPECT_EQ(l.NextDeadline(), At(4));
  v->active->expires = Timestamp::Infinite();
  v->pending.reset();
  l.Update(*v);
  EXPECT_EQ(l.NextDeadline(), Timestamp::Infinite());
  EXPECT_EQ(l.pending_count(), 0u);
}

TEST(VisitorListTest, SharedHomeAddressesAndRekey) {
  VisitorList l;
  l.FindOrInsert({A("10.0.0.1"), "a@x"});
  l.FindOrInsert({A("10.0.0.1"), "b@y"});
  l.FindOrInsert({A("10.0.0.2"), ""});
  EXPECT_EQ(l.FindByHome(A("10.0.0.1")).size(), 2u);
  EXPECT_EQ(l.FindByHome(A("10.0.0.3")).size(), 0u);
  Visitor& z = l.FindOrInsert({Ipv4Address::Any(), "c@z"});
  z.pending = PendingRegistration{};
  z.pending->deadline = At(9);
  l.Update(z);
  Visitor& moved = l.Rekey({Ipv4Address::Any(), "c@z"}, {A("10.0.0.9"), "c@z"});
  EXPECT_EQ(moved.key.home_address, A("10.0.0.9"));
  EXPECT_EQ(l.Find({Ipv4Address::Any(), "c@z"}), nullptr);
  EXPECT_EQ(l.NextDeadline(), At(9));
  EXPECT_EQ(l.pending_count(), 1u);
  EXPECT_EQ(l.Expired(At(9))->key.home_address, A("10.0.0.9"));
}

}  // namespace
}  // namespace mipsec::mip4

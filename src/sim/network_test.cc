#include "sim/network.h"

#include <gtest/gtest.h>

namespace mipsec::sim {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

TEST(NetworkTest, NamesAreUniqueAndErrorsCreateNothing) {
  Network net(1);
  ASSERT_TRUE(net.AddNode("ha", false).ok());
  EXPECT_EQ(net.AddNode("ha", true).error().code(), Errc::kAlreadyExists);
  ASSERT_TRUE(net.AddSegment("home", {}).ok());
  LinkParams bad;
  bad.loss = 2;
  Result<Segment*> s = net.AddSegment("ext", bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().detail(), "segment 'ext': loss: must be a probability in [0, 1]");
  EXPECT_EQ(net.FindSegment("ext"), nullptr);

  EXPECT_EQ(net.Connect("nobody", "eth0", "home", std::nullopt, 24).error().detail(),
            "no node 'nobody'");
  EXPECT_EQ(net.Connect("ha", "eth0", "nowhere", std::nullopt, 24).error().detail(),
            "no segment 'nowhere'");
  ASSERT_TRUE(net.Connect("ha", "eth0", "home", A("10.1.0.1"), 24).ok());
  EXPECT_EQ(net.Connect("ha", "eth0", "home", std::nullopt, 24).error().code(),
            Errc::kAlreadyExists);
  EXPECT_EQ(net.Connect("ha", "eth1", "home", A("10.1.0.1"), 24).error().code(),
            Errc::kAlreadyExists);
  EXPECT_EQ(net.FindNode("ha")->interfaces().size(), 1u);
}

TEST(NetworkTest, CreationOrderIsKept) {
  Network net(1);
  for (const char* n : {"zeta", "alpha", "mid"}) ASSERT_TRUE(net.AddNode(n, false).ok());
  ASSERT_EQ(net.nodes().size(), 3u);
  EXPECT_EQ(net.nodes()[0]->name(), "zeta");
  EXPECT_EQ(net.nodes()[2]->name(), "mid");
}

}  // namespace
}  // namespace mipsec::sim

// The pcaps of the Mobile IPv4 scenarios open in tshark with no malformed
// packet, no error-level expert item and no bad checksum, and show the
// registrations and tunnels the scenarios consist of: Registration Requests
// and Replies (UDP 434), IP-in-IP between the HA and the care-of addresses,
// and RFC 3519 UDP tunnelling through the NAT.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "sim/apps/mip4_test_world.h"
#include "testing/tshark/tshark.h"

namespace mipsec::sim {
namespace {

using testing::World;

// Lines tshark prints for `filter` on the segment's pcap.
int Count(const std::string& path, const std::string& filter) {
  Result<std::string> out =
      mipsec::testing::RunTshark(path, {"-Y", filter, "-T", "fields", "-e", "frame.number"});
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().ToString());
  if (!out.ok()) return -1;
  int n = 0;
  for (char c : *out) n += c == '\n';
  return n;
}

void CheckClean(World& w, const std::string& tag) {
  for (Segment* seg : w.net().segments()) {
    if (seg->pcap().records() == 0) continue;
    Result<std::string> path = mipsec::testing::WriteTempFile(
        "mipsec-mip4-" + tag + "-" + seg->name(), seg->pcap().bytes());
    ASSERT_TRUE(path.ok());
    Result<std::string> problems = mipsec::testing::TsharkProblems(*path);
    ASSERT_TRUE(problems.ok()) << problems.error().ToString();
    EXPECT_EQ(*problems, "") << tag << " " << seg->name();
    if (tag == "moves" && seg->name() == "backbone") {
      // Co-located request from the MN, FA-relayed request, both replies.
      EXPECT_GE(Count(*path, "mip.type == 1"), 2);
      EXPECT_GE(Count(*path, "mip.type == 3"), 2);
      // HA -> care-of address tunnels and the reverse tunnels.
      EXPECT_GT(Count(*path, "ip.proto == 4 && ip.src == 10.1.0.1"), 0);
      EXPECT_GT(Count(*path, "ip.proto == 4 && ip.dst == 10.1.0.1 && ip.src == 172.16.0.3"), 0);
    }
    if (tag == "moves" && seg->name() == "fanet") {
      // Agent advertisements from the FA and the MN's solicitation.
      EXPECT_GT(Count(*path, "icmp.type == 9"), 0);
      EXPECT_GT(Count(*path, "icmp.type == 10"), 0);
    }
    if (tag == "nat" && seg->name() == "backbone") {
      // Outside the NAT: registration and tunnelled data on UDP 434, no IP-in-IP.
      EXPECT_GT(Count(*path, "udp.port == 434 && ip.src == 172.16.0.4"), 0);
      EXPECT_EQ(Count(*path, "ip.proto == 4"), 0);
    }
    unlink(path->c_str());
  }
}

TEST(Mip4TsharkTest, MovesPcapsAreClean) {
  MIPSEC_REQUIRE_TSHARK();
  World w({});
  w.MoveAt(10, "internal");
  w.MoveAt(20, "fanet");
  w.MoveAt(30, "home");
  w.sim().RunUntil(testing::T(35));
  CheckClean(w, "moves");
}

TEST(Mip4TsharkTest, NatPcapsAreClean) {
  MIPSEC_REQUIRE_TSHARK();
  World w({});
  w.MoveAt(5, "natlan");
  w.sim().RunUntil(testing::T(12));
  CheckClean(w, "nat");
}

}  // namespace
}  // namespace mipsec::sim

// End to end on the real kernel: two network namespaces joined by a veth
// pair, a TUN device in each, and tun_udp_forwarder (built on the platform
// layer: epoll, TUN, UDP, netlink, signals) carrying the TUN packets over UDP
// between them. `ping` across the tunnel proves the platform layer for real.
//
//   ns a                                      ns b
//   mt0 172.31.0.1/24                         mt0 172.31.0.2/24
//     | forwarder  10.200.0.1:40000 <-UDP-> 10.200.0.2:40000  forwarder |
//   eth0 10.200.0.1/24 ------------- veth ------------ eth0 10.200.0.2/24
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "testing/netns/require_root.h"
#include "lab/netns/topology.h"
#include "testing/lab_names.h"

namespace mipsec::testing {
namespace {

constexpr char kTopology[] = R"(
ns a
ns b
link a:eth0 10.200.0.1/24 b:eth0 10.200.0.2/24
)";

class TunForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MIPSEC_REQUIRE_NETNS();
    Result<std::unique_ptr<Topology>> topo = Topology::Create(kTopology);
    ASSERT_TRUE(topo.ok()) << topo.error().ToString();
    topo_ = std::move(*topo);
  }

  Child* StartForwarder(const char* ns, const char* addr, const char* local, const char* peer) {
    Result<Child*> c = topo_->Spawn(ns, {MIPSEC_FORWARDER_PATH, "--tun", "mt0", "--address", addr,
                                         "--local", local, "--peer", peer});
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    if (!c.ok()) return nullptr;
    // Wait for "ready" (TUN up, socket bound): at most 5 s.
    for (int i = 0; i < 500; ++i) {
      if ((*c)->Stdout().find("ready") != std::string::npos) return *c;
      if (!(*c)->Running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "forwarder in " << ns << " did not start: " << (*c)->Stderr();
    return nullptr;
  }

  std::unique_ptr<Topology> topo_;
};

TEST_F(TunForwarderTest, PingCrossesTheUserspaceTunnel) {
  Child* fa = StartForwarder("a", "172.31.0.1/24", "10.200.0.1:40000", "10.200.0.2:40000");
  Child* fb = StartForwarder("b", "172.31.0.2/24", "10.200.0.2:40000", "10.200.0.1:40000");
  ASSERT_NE(fa, nullptr);
  ASSERT_NE(fb, nullptr);

  // 172.31.0.0/24 exists only on the TUNs: the replies can only come back
  // through both forwarders.
  Result<ExecResult> ping =
      topo_->Exec("a", {"ping", "-c", "5", "-i", "0.2", "-W", "2", "172.31.0.2"}, Duration::Seconds(15));
  ASSERT_TRUE(ping.ok()) << ping.error().ToString();
  EXPECT_TRUE(ping->Success()) << ping->Describe();
  EXPECT_NE(ping->out.find("5 received"), std::string::npos) << ping->out;

  // A large ping (fragmented by the sending kernel to the TUN MTU, each
  // fragment one UDP datagram) also makes it.
  Result<ExecResult> big = topo_->Exec(
      "a", {"ping", "-c", "2", "-s", "3000", "-W", "2", "172.31.0.2"}, Duration::Seconds(10));
  ASSERT_TRUE(big.ok());
  EXPECT_TRUE(big->Success()) << big->Describe();

  // Both forwarders say what they carried when stopped.
  ExecResult ra = fa->Stop(Duration::Seconds(2));
  ExecResult rb = fb->Stop(Duration::Seconds(2));
  std::string sa = fa->Stdout(), sb = fb->Stdout();
  EXPECT_NE(sa.find("tun->udp"), std::string::npos) << sa;
  unsigned long long a_out = 0, a_in = 0, a_drop = 0, b_out = 0, b_in = 0, b_drop = 0;
  ASSERT_EQ(std::sscanf(sa.substr(sa.find("tun->udp")).c_str(), "tun->udp %llu udp->tun %llu dropped %llu",
                        &a_out, &a_in, &a_drop), 3) << sa;
  ASSERT_EQ(std::sscanf(sb.substr(sb.find("tun->udp")).c_str(), "tun->udp %llu udp->tun %llu dropped %llu",
                        &b_out, &b_in, &b_drop), 3) << sb;
  EXPECT_GE(a_out, 5u + 2 * 3);  // 5 small pings, 2 big ones in >= 3 fragments each
  EXPECT_EQ(a_out, b_in);        // nothing lost on the veth
  EXPECT_EQ(b_out, a_in);
  EXPECT_EQ(a_drop + b_drop, 0u);
  (void)ra;
  (void)rb;
}

TEST_F(TunForwarderTest, WithoutTheForwarderThereIsNoPath) {
  // The control: the same ping with no forwarder running fails, so the test
  // above cannot pass by some other route.
  Result<ExecResult> ping =
      topo_->Exec("a", {"ping", "-c", "1", "-W", "1", "172.31.0.2"}, Duration::Seconds(5));
  ASSERT_TRUE(ping.ok());
  EXPECT_FALSE(ping->Success());
}

}  // namespace
}  // namespace mipsec::testing

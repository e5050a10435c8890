// DHCP as the simulator puts it on the wire, read by Wireshark's dissectors
// (the independent oracle): it must dissect as DHCP with no malformed or
// error-level expert items, and show the exchange we ran.
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/apps/dhcp_client_app.h"
#include "sim/apps/dhcp_server_app.h"
#include "sim/network.h"
#include "sim/segment.h"
#include "testing/tshark/tshark.h"

namespace mipsec::sim {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

dhcp::ServerConfig Pool(const char* router, const char* subnet, const char* first,
                        const char* last) {
  dhcp::ServerConfig c;
  c.server_address = A(router);
  c.subnet = *Ipv4Prefix::Parse(subnet);
  c.pool_first = A(first);
  c.pool_last = A(last);
  c.routers = {A(router)};
  c.dns_servers = {A("192.0.2.53"), A("192.0.2.54")};
  c.domain_name = "corp.example";
  c.lease_time = Duration::Seconds(20);
  return c;
}

class DhcpTsharkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MIPSEC_REQUIRE_TSHARK();
    ASSERT_TRUE(net_.AddSegment("lan-a", {}).ok());
    ASSERT_TRUE(net_.AddSegment("lan-b", {}).ok());
    ASSERT_TRUE(net_.AddNode("r", true).ok());
    ASSERT_TRUE(net_.AddNode("mn", false).ok());
    ASSERT_TRUE(net_.Connect("r", "eth1", "lan-a", A("10.1.0.1"), 24).ok());
    ASSERT_TRUE(net_.Connect("r", "eth2", "lan-b", A("10.2.0.1"), 24).ok());
    ASSERT_TRUE(net_.Connect("mn", "eth0", "lan-a", std::nullopt, 0).ok());
    Result<std::unique_ptr<DhcpServerApp>> s = DhcpServerApp::Create(*net_.FindNode("r"));
    ASSERT_TRUE(s.ok());
    server_ = std::move(*s);
    ASSERT_TRUE(server_->Serve("eth1", Pool("10.1.0.1", "10.1.0.0/24", "10.1.0.100",
                                            "10.1.0.199")).ok());
    ASSERT_TRUE(server_->Serve("eth2", Pool("10.2.0.1", "10.2.0.0/24", "10.2.0.100",
                                            "10.2.0.199")).ok());
    Result<std::unique_ptr<DhcpClientApp>> c = DhcpClientApp::Create(*net_.FindNode("mn"));
    ASSERT_TRUE(c.ok());
    client_ = std::move(*c);
    DhcpClientOptions o;
    o.client.client_id = {0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    ASSERT_TRUE(client_->Enable("eth0", o).ok());
  }
  void TearDown() override {
    for (const std::string& p : paths_) unlink(p.c_str());
  }
  std::string Write(const Segment& seg) {
    Result<std::string> path = testing::WriteTempFile("mipsec-dhcp", seg.pcap().bytes());
    EXPECT_TRUE(path.ok());
    paths_.push_back(path.value_or(""));
    return path.value_or("");
  }
  void ExpectClean(const std::string& pcap) {
    Result<std::string> problems = testing::TsharkProblems(pcap);
    ASSERT_TRUE(problems.ok()) << problems.error().ToString();
    EXPECT_EQ(*problems, "") << "tshark flags problems in " << pcap;
  }
  // One line per DHCP packet: "<message type>\t<ip.src>\t<ip.dst>".
  std::string Dhcp(const std::string& pcap) {
    Result<std::string> out = testing::RunTshark(
        pcap, {"-Y", "dhcp", "-T", "fields", "-e", "dhcp.option.dhcp", "-e", "ip.src", "-e",
               "ip.dst"});
    EXPECT_TRUE(out.ok()) << out.error().ToString();
    return out.value_or("");
  }

  Network net_{3};
  std::unique_ptr<DhcpServerApp> server_;
  std::unique_ptr<DhcpClientApp> client_;
  std::vector<std::string> paths_;
};

TEST_F(DhcpTsharkTest, LeaseExchangeDissectsAsDhcp) {
  net_.sim().RunFor(Duration::Seconds(1));
  ASSERT_TRUE(client_->lease("eth0").has_value());
  const std::string pcap = Write(*net_.FindSegment("lan-a"));
  ExpectClean(pcap);
  // Discover, Offer, Request, ACK: from 0.0.0.0 and the server, broadcast.
  Result<std::string> types =
      testing::RunTshark(pcap, {"-Y", "dhcp", "-T", "fields", "-e", "dhcp.option.dhcp"});
  ASSERT_TRUE(types.ok()) << types.error().ToString();
  EXPECT_EQ(*types, "1\n2\n3\n5\n");
  EXPECT_EQ(Dhcp(pcap),
            "1\t0.0.0.0\t255.255.255.255\n"
            "2\t10.1.0.1\t255.255.255.255\n"
            "3\t0.0.0.0\t255.255.255.255\n"
            "5\t10.1.0.1\t255.255.255.255\n");
  // What Wireshark reads in the ACK is what the client configured.
  Result<std::string> ack = testing::RunTshark(
      pcap, {"-Y", "dhcp.option.dhcp == 5", "-T", "fields", "-e", "dhcp.ip.your", "-e",
             "dhcp.option.subnet_mask", "-e", "dhcp.option.router", "-e",
             "dhcp.option.domain_name", "-e", "dhcp.option.ip_address_lease_time"});
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(*ack, "10.1.0.100\t255.255.255.0\t10.1.0.1\tcorp.example\t20\n");
}

TEST_F(DhcpTsharkTest, RenewalMoveNakAndReleaseDissectCleanly) {
  // Renewal at T1 (10 s) by unicast; a move to lan-b with INIT-REBOOT, NAK
  // and a new lease; DHCPRELEASE there.
  net_.sim().RunFor(Duration::Seconds(12));
  Node* mn = net_.FindNode("mn");
  mn->Attach(*mn->FindInterface("eth0"), *net_.FindSegment("lan-b"));
  net_.sim().RunFor(Duration::Seconds(1));
  ASSERT_TRUE(client_->lease("eth0").has_value());
  ASSERT_TRUE(client_->Release("eth0").ok());
  net_.sim().RunFor(Duration::Seconds(1));

  const std::string lan_a = Write(*net_.FindSegment("lan-a"));
  const std::string lan_b = Write(*net_.FindSegment("lan-b"));
  ExpectClean(lan_a);
  ExpectClean(lan_b);
  EXPECT_EQ(Dhcp(lan_a),
            "1\t0.0.0.0\t255.255.255.255\n"
            "2\t10.1.0.1\t255.255.255.255\n"
            "3\t0.0.0.0\t255.255.255.255\n"
            "5\t10.1.0.1\t255.255.255.255\n"
            "3\t10.1.0.100\t10.1.0.1\n"     // RENEWING: unicast to the server
            "5\t10.1.0.1\t10.1.0.100\n");   // ACK: unicast to ciaddr
  EXPECT_EQ(Dhcp(lan_b),
            "3\t0.0.0.0\t255.255.255.255\n"     // INIT-REBOOT for 10.1.0.100
            "6\t10.2.0.1\t255.255.255.255\n"    // NAK: wrong network
            "1\t0.0.0.0\t255.255.255.255\n"
            "2\t10.2.0.1\t255.255.255.255\n"
            "3\t0.0.0.0\t255.255.255.255\n"
            "5\t10.2.0.1\t255.255.255.255\n"
            "7\t10.2.0.100\t10.2.0.1\n");       // RELEASE: unicast to the server
  // The NAK carries its reason (option 56); every client message carries
  // the client identifier (61) of our MAC.
  Result<std::string> nak = testing::RunTshark(
      lan_b, {"-Y", "dhcp.option.dhcp == 6", "-T", "fields", "-e", "dhcp.option.message"});
  ASSERT_TRUE(nak.ok());
  EXPECT_EQ(*nak, "wrong network\n");
  Result<std::string> cid = testing::RunTshark(
      lan_b, {"-Y", "dhcp.option.type == 61 && dhcp.hw.mac_addr == 02:00:00:00:00:01", "-T",
              "fields", "-e", "dhcp.option.dhcp"});
  ASSERT_TRUE(cid.ok());
  EXPECT_EQ(*cid, "3\n1\n3\n7\n");  // every client message on lan-b
}

}  // namespace
}  // namespace mipsec::sim

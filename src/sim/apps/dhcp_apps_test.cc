// The DHCP apps in the simulator: a host moving between subnets gets a new
// co-located address on each link, in the time the modelled delays imply.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/apps/dhcp_client_app.h"
#include "sim/apps/dhcp_server_app.h"
#include "sim/network.h"
#include "sim/segment.h"

namespace mipsec::sim {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }
Timestamp At(double seconds) {
  return Timestamp::Zero() + Duration::Nanos(static_cast<std::int64_t>(seconds * 1e9));
}

dhcp::ServerConfig Pool(const char* router, const char* subnet, const char* first,
                        const char* last, Duration lease = Duration::Seconds(3600)) {
  dhcp::ServerConfig c;
  c.server_address = A(router);
  c.subnet = *Ipv4Prefix::Parse(subnet);
  c.pool_first = A(first);
  c.pool_last = A(last);
  c.routers = {A(router)};
  c.dns_servers = {A("192.0.2.53")};
  c.domain_name = "corp.example";
  c.lease_time = lease;
  return c;
}

// Router r with a DHCP server on each of lan-a (10.1.0.0/24) and lan-b
// (10.2.0.0/24); host mn with eth0 on lan-a and no address.
class DhcpAppsTest : public ::testing::Test {
 public:
  static constexpr Duration kLinkDelay = Duration::Millis(1);
  static constexpr Duration kServerDelay = Duration::Millis(5);

  explicit DhcpAppsTest(std::uint64_t seed = 11) : net_(seed, LogLevel::kDebug) {
    LinkParams p;
    p.delay = kLinkDelay;
    EXPECT_TRUE(net_.AddSegment("lan-a", p).ok());
    EXPECT_TRUE(net_.AddSegment("lan-b", p).ok());
    EXPECT_TRUE(net_.AddNode("r", true).ok());
    EXPECT_TRUE(net_.AddNode("mn", false).ok());
    EXPECT_TRUE(net_.Connect("r", "eth1", "lan-a", A("10.1.0.1"), 24).ok());
    EXPECT_TRUE(net_.Connect("r", "eth2", "lan-b", A("10.2.0.1"), 24).ok());
    EXPECT_TRUE(net_.Connect("mn", "eth0", "lan-a", std::nullopt, 0).ok());
    r_ = net_.FindNode("r");
    mn_ = net_.FindNode("mn");
    eth0_ = mn_->FindInterface("eth0");
  }

  void StartServers(Duration delay = kServerDelay, Duration lease = Duration::Seconds(3600)) {
    Result<std::unique_ptr<DhcpServerApp>> s = DhcpServerApp::Create(*r_);
    ASSERT_TRUE(s.ok());
    server_ = std::move(*s);
    ASSERT_TRUE(server_->Serve("eth1", Pool("10.1.0.1", "10.1.0.0/24", "10.1.0.100",
                                            "10.1.0.199", lease), delay).ok());
    ASSERT_TRUE(server_->Serve("eth2", Pool("10.2.0.1", "10.2.0.0/24", "10.2.0.100",
                                            "10.2.0.199", lease), delay).ok());
  }

  void StartClient(const DhcpClientOptions& options = {}) {
    Result<std::unique_ptr<DhcpClientApp>> c = DhcpClientApp::Create(*mn_);
    ASSERT_TRUE(c.ok());
    client_ = std::move(*c);
    client_->SetEventCallback([this](Timestamp now, int ifindex, const dhcp::ClientEvent& e) {
      events_.push_back({now, ifindex, e});
    });
    ASSERT_TRUE(client_->Enable("eth0", options).ok());
  }

  bool RunUntilBound(Duration limit = Duration::Seconds(1)) {
    return net_.sim().RunUntilCondition(
        [this] { return client_->lease("eth0").has_value(); }, net_.sim().now() + limit);
  }

  std::optional<Route> DefaultRoute() const {
    for (const Route& r : mn_->routes().routes()) {
      if (r.prefix == Ipv4Prefix()) return r;
    }
    return std::nullopt;
  }

  struct Seen {
    Timestamp at;
    int ifindex;
    dhcp::ClientEvent event;
  };

  Network net_;
  Node* r_ = nullptr;
  Node* mn_ = nullptr;
  Interface* eth0_ = nullptr;
  std::unique_ptr<DhcpServerApp> server_;
  std::unique_ptr<DhcpClientApp> client_;
  std::vector<Seen> events_;
};

// The same setup outside a TEST_F, for runs compared with each other.
class DhcpScenario final : public DhcpAppsTest {
 public:
  using DhcpAppsTest::DhcpAppsTest;
  void TestBody() override {}
};

// One DHCP exchange (DISCOVER/OFFER or REQUEST/ACK or REQUEST/NAK): there
// and back over the link, plus the server's processing.
constexpr Duration kExchange = DhcpAppsTest::kLinkDelay * 2 + DhcpAppsTest::kServerDelay;

TEST_F(DhcpAppsTest, HostGetsANewAddressOnEachLink) {
  StartServers();
  StartClient();
  // Link up at 0: DISCOVER/OFFER + REQUEST/ACK.
  ASSERT_TRUE(RunUntilBound());
  std::optional<dhcp::Lease> lease = client_->lease("eth0");
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(lease->address, A("10.1.0.100"));
  EXPECT_EQ(lease->prefix_length, 24);
  EXPECT_EQ(lease->router, A("10.1.0.1"));
  EXPECT_EQ(net_.sim().now(), Timestamp::Zero() + kExchange * 2);
  EXPECT_TRUE(eth0_->HasAddress(A("10.1.0.100")));
  ASSERT_TRUE(DefaultRoute().has_value());
  EXPECT_EQ(DefaultRoute()->gateway, A("10.1.0.1"));
  EXPECT_EQ(DefaultRoute()->ifindex, eth0_->ifindex());
  // The configuration works: the host reaches the far side of the router.
  int heard = 0;
  ASSERT_TRUE(r_->BindUdp({A("10.2.0.1"), 9}, [&](Timestamp, const UdpDelivery& d) {
                  EXPECT_EQ(d.remote.address, A("10.1.0.100"));
                  ++heard;
                }).ok());
  ASSERT_TRUE(mn_->SendUdp({A("10.2.0.1"), 9}, 9, Bytes(8, 0)).ok());
  net_.sim().RunFor(Duration::Millis(10));
  EXPECT_EQ(heard, 1);

  // Move to lan-b at 1 s. The client tries its lan-a lease (INIT-REBOOT),
  // lan-b's server NAKs it ("wrong network"), then DISCOVER/OFFER and
  // REQUEST/ACK: three exchanges.
  net_.sim().RunUntil(At(1));
  mn_->Attach(*eth0_, *net_.FindSegment("lan-b"));
  EXPECT_FALSE(client_->lease("eth0").has_value());
  EXPECT_TRUE(eth0_->addresses().empty());  // the lease's address left with the link
  EXPECT_FALSE(DefaultRoute().has_value());
  ASSERT_TRUE(RunUntilBound());
  lease = client_->lease("eth0");
  EXPECT_EQ(lease->address, A("10.2.0.100"));
  EXPECT_EQ(lease->router, A("10.2.0.1"));
  EXPECT_EQ(net_.sim().now(), At(1) + kExchange * 3);
  ASSERT_EQ(eth0_->addresses().size(), 1u);
  EXPECT_EQ(eth0_->addresses()[0].address, A("10.2.0.100"));
  EXPECT_EQ(DefaultRoute()->gateway, A("10.2.0.1"));

  // And back at 2 s: the lan-a server still knows the host and gives the
  // same address again.
  net_.sim().RunUntil(At(2));
  mn_->Attach(*eth0_, *net_.FindSegment("lan-a"));
  ASSERT_TRUE(RunUntilBound());
  EXPECT_EQ(client_->lease("eth0")->address, A("10.1.0.100"));
  EXPECT_EQ(net_.sim().now(), At(2) + kExchange * 3);
  EXPECT_EQ(DefaultRoute()->gateway, A("10.1.0.1"));

  // Link-up to bound, measured by the app, for each of the three links.
  EXPECT_EQ(client_->acquisitions("eth0"),
            (std::vector<Duration>{kExchange * 2, kExchange * 3, kExchange * 3}));
  EXPECT_EQ(server_->server("eth1")->counters().naks, 1u);
  EXPECT_EQ(server_->server("eth2")->counters().naks, 1u);
  // Events reached the callback, with the interface: bound, lost (link
  // down), NAK, bound, lost, NAK, bound.
  std::vector<std::string> kinds;
  for (const Seen& s : events_) {
    EXPECT_EQ(s.ifindex, eth0_->ifindex());
    kinds.push_back(std::holds_alternative<dhcp::BoundEvent>(s.event)       ? "bound"
                    : std::holds_alternative<dhcp::LeaseLostEvent>(s.event) ? "lost"
                    : std::holds_alternative<dhcp::NakEvent>(s.event)       ? "nak"
                                                                            : "renewed");
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"bound", "lost", "nak", "bound", "lost", "nak",
                                             "bound"}));
  EXPECT_EQ(client_->counters().send_errors, 0u);
}

TEST_F(DhcpAppsTest, NetworkKeyMakesReturningToAKnownLinkOneExchange) {
  StartServers();
  DhcpClientOptions o;
  o.network_key = [](const Interface& i) { return i.segment() ? i.segment()->name() : ""; };
  StartClient(o);
  ASSERT_TRUE(RunUntilBound());
  net_.sim().RunUntil(At(1));
  mn_->Attach(*eth0_, *net_.FindSegment("lan-b"));  // new network: straight to DISCOVER
  ASSERT_TRUE(RunUntilBound());
  net_.sim().RunUntil(At(2));
  mn_->Attach(*eth0_, *net_.FindSegment("lan-a"));  // known network: INIT-REBOOT, ACK
  ASSERT_TRUE(RunUntilBound());
  EXPECT_EQ(client_->lease("eth0")->address, A("10.1.0.100"));
  EXPECT_EQ(client_->acquisitions("eth0"),
            (std::vector<Duration>{kExchange * 2, kExchange * 2, kExchange}));
  EXPECT_EQ(server_->server("eth1")->counters().naks, 0u);
  EXPECT_EQ(server_->server("eth2")->counters().naks, 0u);
}

TEST_F(DhcpAppsTest, ResponseDelayIsModelled) {
  const Duration slow = Duration::Millis(40);
  StartServers(slow);
  StartClient();
  ASSERT_TRUE(RunUntilBound());
  EXPECT_EQ(client_->acquisitions("eth0"),
            std::vector<Duration>{(kLinkDelay * 2 + slow) * 2});
}

TEST_F(DhcpAppsTest, LeaseIsRenewedInPlace) {
  StartServers(kServerDelay, Duration::Seconds(20));
  StartClient();
  ASSERT_TRUE(RunUntilBound());
  const Ipv4Address a = client_->lease("eth0")->address;
  net_.sim().RunFor(Duration::Seconds(200));
  // Renewed every 10 s by unicast; never lost.
  ASSERT_TRUE(client_->lease("eth0").has_value());
  EXPECT_EQ(client_->lease("eth0")->address, a);
  EXPECT_GE(client_->client("eth0")->counters().renewals, 19u);
  EXPECT_EQ(client_->client("eth0")->counters().expiries, 0u);
  EXPECT_EQ(server_->server("eth1")->counters().expiries, 0u);
  EXPECT_EQ(server_->server("eth1")->ActiveLeases(), 1u);
  EXPECT_TRUE(eth0_->HasAddress(a));
  for (const Seen& s : events_) EXPECT_FALSE(std::holds_alternative<dhcp::LeaseLostEvent>(s.event));
}

TEST_F(DhcpAppsTest, LinkDownFlushesAndLinkUpReboots) {
  StartServers(kServerDelay, Duration::Seconds(60));
  StartClient();
  ASSERT_TRUE(RunUntilBound());
  net_.sim().RunUntil(At(5));
  net_.FindSegment("lan-a")->SetUp(false);
  EXPECT_TRUE(eth0_->addresses().empty());
  EXPECT_FALSE(DefaultRoute().has_value());
  // Down for longer than the lease: the server lets it expire, the client
  // forgets it (expired leases are not INIT-REBOOT material).
  net_.sim().RunUntil(At(100));
  EXPECT_EQ(server_->server("eth1")->counters().expiries, 1u);
  net_.FindSegment("lan-a")->SetUp(true);
  ASSERT_TRUE(RunUntilBound());
  EXPECT_EQ(client_->lease("eth0")->address, A("10.1.0.100"));  // remembered by the server
  EXPECT_EQ(client_->acquisitions("eth0").back(), kExchange * 2);
  // A short outage: INIT-REBOOT, one exchange.
  net_.sim().RunUntil(At(110));
  net_.FindSegment("lan-a")->SetUp(false);
  net_.sim().RunUntil(At(111));
  net_.FindSegment("lan-a")->SetUp(true);
  ASSERT_TRUE(RunUntilBound());
  EXPECT_EQ(client_->acquisitions("eth0").back(), kExchange);
}

TEST_F(DhcpAppsTest, LinkDownKeepsStaticAddresses) {
  StartServers(kServerDelay, Duration::Seconds(60));
  ASSERT_TRUE(mn_->AddAddress(eth0_->ifindex(), A("192.168.77.7"), 24).ok());
  StartClient();
  ASSERT_TRUE(RunUntilBound());
  EXPECT_EQ(eth0_->addresses().size(), 2u);
  net_.FindSegment("lan-a")->SetUp(false);
  ASSERT_EQ(eth0_->addresses().size(), 1u);
  EXPECT_EQ(eth0_->addresses()[0].address, A("192.168.77.7"));
}

TEST_F(DhcpAppsTest, ReleaseRemovesTheAddressAndFreesTheBinding) {
  StartServers();
  StartClient();
  ASSERT_TRUE(RunUntilBound());
  ASSERT_TRUE(client_->Release("eth0").ok());
  EXPECT_TRUE(eth0_->addresses().empty());
  EXPECT_FALSE(DefaultRoute().has_value());
  net_.sim().RunFor(Duration::Millis(20));
  EXPECT_EQ(server_->server("eth1")->counters().releases, 1u);
  EXPECT_EQ(server_->server("eth1")->ActiveLeases(), 0u);
  EXPECT_EQ(client_->client("eth0")->state(), dhcp::ClientState::kStopped);
  EXPECT_FALSE(client_->Release("eth1").ok());
}

TEST_F(DhcpAppsTest, TwoHostsOnOneLinkGetDistinctAddresses) {
  StartServers();
  ASSERT_TRUE(net_.AddNode("h2", false).ok());
  ASSERT_TRUE(net_.Connect("h2", "eth0", "lan-a", std::nullopt, 0).ok());
  Result<std::unique_ptr<DhcpClientApp>> other = DhcpClientApp::Create(*net_.FindNode("h2"));
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Enable("eth0").ok());
  StartClient();
  net_.sim().RunFor(Duration::Millis(100));
  ASSERT_TRUE(client_->lease("eth0").has_value());
  ASSERT_TRUE((*other)->lease("eth0").has_value());
  EXPECT_NE(client_->lease("eth0")->address, (*other)->lease("eth0")->address);
  // Each saw the other's broadcast replies and dropped them as not its own.
  const dhcp::ClientCounters& c = client_->client("eth0")->counters();
  EXPECT_GT(c.Dropped(dhcp::ClientDrop::kWrongXid) + c.Dropped(dhcp::ClientDrop::kWrongChaddr) +
                c.Dropped(dhcp::ClientDrop::kNoTransaction),
            0u);
  EXPECT_EQ(server_->server("eth1")->ActiveLeases(), 2u);
}

TEST_F(DhcpAppsTest, ServerAnswersOnlyOnItsInterfaces) {
  Result<std::unique_ptr<DhcpServerApp>> s = DhcpServerApp::Create(*r_);
  ASSERT_TRUE(s.ok());
  server_ = std::move(*s);
  ASSERT_TRUE(server_->Serve("eth2", Pool("10.2.0.1", "10.2.0.0/24", "10.2.0.100", "10.2.0.199"))
                  .ok());
  StartClient();  // on lan-a, where nobody serves
  net_.sim().RunFor(Duration::Seconds(1));
  EXPECT_FALSE(client_->lease("eth0").has_value());
  EXPECT_GT(server_->counters().ignored_interface, 0u);
  EXPECT_EQ(server_->counters().sent, 0u);
}

TEST_F(DhcpAppsTest, SetupErrorsAreReported) {
  Result<std::unique_ptr<DhcpServerApp>> s = DhcpServerApp::Create(*r_);
  ASSERT_TRUE(s.ok());
  DhcpServerApp& app = **s;
  EXPECT_EQ(app.Serve("eth9", Pool("10.1.0.1", "10.1.0.0/24", "10.1.0.100", "10.1.0.199"))
                .error().code(),
            Errc::kNotFound);
  // The server identifier must be an address of the served interface.
  EXPECT_EQ(app.Serve("eth2", Pool("10.1.0.1", "10.1.0.0/24", "10.1.0.100", "10.1.0.199"))
                .error().code(),
            Errc::kInvalidArgument);
  dhcp::ServerConfig bad = Pool("10.1.0.1", "10.1.0.0/24", "10.1.0.100", "10.1.0.199");
  bad.pool_last = A("10.1.0.50");
  EXPECT_EQ(app.Serve("eth1", bad).error().code(), Errc::kInvalidArgument);
  ASSERT_TRUE(app.Serve("eth1", Pool("10.1.0.1", "10.1.0.0/24", "10.1.0.100", "10.1.0.199")).ok());
  EXPECT_EQ(app.Serve("eth1", Pool("10.1.0.1", "10.1.0.0/24", "10.1.0.100", "10.1.0.199"))
                .error().code(),
            Errc::kAlreadyExists);
  EXPECT_EQ(DhcpServerApp::Create(*r_).error().code(), Errc::kAlreadyExists);  // port 67 taken

  Result<std::unique_ptr<DhcpClientApp>> c = DhcpClientApp::Create(*mn_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->Enable("wlan0").error().code(), Errc::kNotFound);
  DhcpClientOptions o;
  o.client.request_attempts = 0;
  EXPECT_EQ((*c)->Enable("eth0", o).error().code(), Errc::kInvalidArgument);
  ASSERT_TRUE((*c)->Enable("eth0").ok());
  EXPECT_EQ((*c)->Enable("eth0").error().code(), Errc::kAlreadyExists);
}

TEST_F(DhcpAppsTest, SameSeedSameCapture) {
  auto run = [](std::uint64_t seed) {
    DhcpScenario t(seed);
    t.StartServers();
    t.StartClient();
    t.net_.sim().RunUntil(At(1));
    t.mn_->Attach(*t.eth0_, *t.net_.FindSegment("lan-b"));
    t.net_.sim().RunUntil(At(2));
    return std::make_pair(t.net_.FindSegment("lan-a")->pcap().bytes(),
                          t.net_.FindSegment("lan-b")->pcap().bytes());
  };
  const auto a = run(5);
  const auto b = run(5);
  EXPECT_EQ(a, b);
  EXPECT_GT(a.first.size(), 1000u);
  // Another seed: other xids (and MACs), so other bytes.
  EXPECT_NE(run(6).first, a.first);
}

}  // namespace
}  // namespace mipsec::sim

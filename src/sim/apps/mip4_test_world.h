// Test helper: the Mobile IPv4 scenario world (issue 4, item 6) shared by
// the scenario tests and the tshark test: the unchanged HomeAgent,
// ForeignAgent and MobileNodeRegistration cores driven by the Mip4*App
// runtimes, with a correspondent node's UDP stream. Header-only; it includes
// the MN side, so the HA is built through mip4_test_ha.h.
//
//                 home 10.1.0.0/24            backbone 172.16.0.0/24
//   mn(10.1.0.5) ---------------- ha .1 [eth0]  [eth1] .1 ----+---- cn .10
//                                                              |
//      internal 10.2.0.0/24 (DHCP) -- r .1 [eth1]  [eth0] .2 --+
//      fanet    10.3.0.0/24        -- fa .1 [eth1] [eth0] .3 --+  (FA CoA .3)
//      natlan   192.168.1.0/24 (DHCP) -- nat .1 [eth1] [eth0] .4 (NAPT)
#ifndef MIPSEC_SIM_APPS_MIP4_TEST_WORLD_H_
#define MIPSEC_SIM_APPS_MIP4_TEST_WORLD_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/secret.h"
#include "mip4/fa/foreign_agent.h"
#include "mip4/mn_reg/registration.h"
#include "sim/apps/dhcp_client_app.h"
#include "sim/apps/dhcp_server_app.h"
#include "sim/apps/mip4_fa_app.h"
#include "sim/apps/mip4_ha_app.h"
#include "sim/apps/mip4_mn_app.h"
#include "sim/apps/mip4_test_ha.h"  // home_agent.h cannot be included with registration.h
#include "sim/apps/udp_stream.h"
#include "sim/nat.h"
#include "sim/network.h"

namespace mipsec::sim::testing {

inline Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }
inline Ipv4Prefix P(const char* s) { return *Ipv4Prefix::Parse(s); }
inline Timestamp T(double s) {
  return Timestamp::Zero() + Duration::Nanos(static_cast<std::int64_t>(s * 1e9));
}

constexpr std::uint32_t kSpi = 0x1000;
constexpr std::int64_t kUnixBase = 1'700'000'000LL * 1'000'000'000LL;
constexpr std::uint16_t kStreamPort = 7000;

inline Bytes Key() {
  Bytes k(16);
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(0x40 + i);
  return k;
}

inline mip4::SecurityAssociation MakeSa(Bytes key = Key()) {
  mip4::SecurityAssociationParams p;
  p.spi = kSpi;
  p.key = SecretBytes(key);
  return std::move(mip4::SecurityAssociation::Create(std::move(p))).value();
}

inline dhcp::ServerConfig Pool(const char* server, const char* subnet, const char* first,
                               const char* last) {
  dhcp::ServerConfig c;
  c.server_address = A(server);
  c.subnet = P(subnet);
  c.pool_first = A(first);
  c.pool_last = A(last);
  c.routers = {A(server)};
  return c;
}

struct WorldOptions {
  std::uint64_t seed = 7;
  std::uint16_t ha_max_lifetime = 1800;
  std::uint16_t mn_lifetime = 300;
  bool start_stream = true;
};

// The whole topology, built in a fixed order (deterministic).
class World {
 public:
  explicit World(const WorldOptions& o) : net_(o.seed) {
    Node* ha = *net_.AddNode("ha", true);
    Node* r = *net_.AddNode("r", true);
    Node* fa = *net_.AddNode("fa", true);
    Node* nat = *net_.AddNode("nat", true);
    Node* cn = *net_.AddNode("cn", false);
    Node* mn = *net_.AddNode("mn", false);
    Node* rogue = *net_.AddNode("rogue", false);
    for (const char* s : {"home", "backbone", "internal", "fanet", "natlan"}) {
      EXPECT_TRUE(net_.AddSegment(s, LinkParams{}).ok());
    }
    Connect("ha", "eth0", "home", "10.1.0.1", 24);
    Connect("ha", "eth1", "backbone", "172.16.0.1", 24);
    Connect("r", "eth0", "backbone", "172.16.0.2", 24);
    Connect("r", "eth1", "internal", "10.2.0.1", 24);
    Connect("fa", "eth0", "backbone", "172.16.0.3", 24);
    Connect("fa", "eth1", "fanet", "10.3.0.1", 24);
    Connect("nat", "eth0", "backbone", "172.16.0.4", 24);
    Connect("nat", "eth1", "natlan", "192.168.1.1", 24);
    Connect("cn", "eth0", "backbone", "172.16.0.10", 24);
    Connect("mn", "eth0", "home", "10.1.0.5", 24);
    Connect("rogue", "eth0", "internal", "10.2.0.66", 24);
    EXPECT_TRUE(ha->AddRoute(Ipv4Prefix(), A("172.16.0.2")).ok());
    EXPECT_TRUE(r->AddRoute(P("10.1.0.0/24"), A("172.16.0.1")).ok());
    EXPECT_TRUE(r->AddRoute(P("10.3.0.0/24"), A("172.16.0.3")).ok());
    EXPECT_TRUE(fa->AddRoute(Ipv4Prefix(), A("172.16.0.2")).ok());
    EXPECT_TRUE(nat->AddRoute(Ipv4Prefix(), A("172.16.0.2")).ok());
    EXPECT_TRUE(cn->AddRoute(Ipv4Prefix(), A("172.16.0.2")).ok());
    EXPECT_TRUE(mn->AddRoute(Ipv4Prefix(), A("10.1.0.1")).ok());
    EXPECT_TRUE(rogue->AddRoute(Ipv4Prefix(), A("10.2.0.1")).ok());

    // DHCP on the internal subnet and behind the NAT.
    r_dhcp_ = std::move(DhcpServerApp::Create(*r)).value();
    EXPECT_TRUE(
        r_dhcp_->Serve("eth1", Pool("10.2.0.1", "10.2.0.0/24", "10.2.0.100", "10.2.0.150")).ok());
    nat_dhcp_ = std::move(DhcpServerApp::Create(*nat)).value();
    EXPECT_TRUE(
        nat_dhcp_
            ->Serve("eth1", Pool("192.168.1.1", "192.168.1.0/24", "192.168.1.100", "192.168.1.150"))
            .ok());
    NaptConfig nc;
    nc.name = "nat";
    nc.outside_ifindex = 1;
    napt_ = std::move(Napt::Create(*nat, nc)).value();

    // Home agent: a plain RFC 5944 HA (no RFC 5265 trusted-subnet filter).
    EXPECT_TRUE(ha_sas_.AddMobileNode(A("10.1.0.5"), "", Sas()).ok());
    ha_app_ = std::move(MakeTestHaApp(*ha, ha_sas_,
                                      {.address = A("10.1.0.1"),
                                       .home_network = P("10.1.0.0/24"),
                                       .home_ifindex = 1,
                                       .max_lifetime = o.ha_max_lifetime,
                                       .unix_nanos_at_zero = kUnixBase}))
                  .value();

    // Foreign agent serving fanet, care-of address on the backbone.
    mip4::ForeignAgentOptions fao;
    mip4::FaInterface fi;
    fi.ifindex = 2;
    fi.address = A("10.3.0.1");
    fi.care_of_addresses = {A("172.16.0.3")};
    fi.prefix_length = 24;
    fao.interfaces.push_back(fi);
    fao.advertisement.max_interval = Duration::Seconds(1);
    fa_app_ = std::move(Mip4FaApp::Create(*fa, fao, fa_sas_)).value();

    // Mobile node: DHCP client on its one interface, the MN app, the far
    // end of the stream.
    mn_dhcp_ = std::move(DhcpClientApp::Create(*mn)).value();
    DhcpClientOptions dco;
    dco.network_key = [](const Interface& i) {
      return i.segment() ? i.segment()->name() : std::string();
    };
    EXPECT_TRUE(mn_dhcp_->Enable("eth0", dco).ok());
    mip4::MobileNodeConfig mc;
    mc.home_address = A("10.1.0.5");
    mc.home_agent = A("10.1.0.1");
    mc.requested_lifetime = o.mn_lifetime;
    mc.reverse_tunnel = true;
    mc.udp_tunnel = mip4::UdpTunnelPolicy::kRequest;
    Mip4MnAppConfig ac;
    ac.ifindex = 1;
    ac.home_prefix_length = 24;
    ac.home_gateway = A("10.1.0.1");
    mn_app_ = std::move(Mip4MnApp::Create(*mn, mc, MakeSa(), {Timestamp::Zero(), kUnixBase},
                                          mn_dhcp_.get(), ac))
                  .value();
    echoer_ = std::move(StreamEchoer::Create(*mn, kStreamPort)).value();
    if (o.start_stream) {
      StreamConfig sc;
      sc.target = {A("10.1.0.5"), kStreamPort};
      sc.interval = Duration::Millis(20);
      sc.start = T(1);
      sender_ = std::move(StreamSender::Create(*cn, sc)).value();
    }
  }

  Network& net() { return net_; }
  Simulator& sim() { return net_.sim(); }
  Node& node(const char* n) { return *net_.FindNode(n); }
  Mip4HaApp& ha() { return *ha_app_; }
  Mip4FaApp& fa() { return *fa_app_; }
  Mip4MnApp& mn() { return *mn_app_; }
  StreamSender& sender() { return *sender_; }
  StreamEchoer& echoer() { return *echoer_; }
  Napt& napt() { return *napt_; }

  // Moves the MN's interface to `segment` at `at`.
  void MoveAt(double at, const char* segment) {
    sim().ScheduleFn(T(at), [this, segment]() {
      Node& mn = node("mn");
      mn.Attach(*mn.FindInterface("eth0"), *net_.FindSegment(segment));
    });
  }

  std::vector<Mip4HaBinding> HaBindings() { return ha_app_->Bindings(A("10.1.0.5")); }

 private:
  std::vector<mip4::SecurityAssociation> Sas() {
    std::vector<mip4::SecurityAssociation> v;
    v.push_back(MakeSa());
    return v;
  }
  void Connect(const char* node, const char* ifname, const char* seg, const char* addr, int len) {
    EXPECT_TRUE(net_.Connect(node, ifname, seg, A(addr), len).ok()) << node << " " << ifname;
  }

  Network net_;
  mip4::SaDatabase ha_sas_;
  mip4::SaDatabase fa_sas_;
  std::unique_ptr<DhcpServerApp> r_dhcp_, nat_dhcp_;
  std::unique_ptr<Napt> napt_;
  std::unique_ptr<Mip4HaApp> ha_app_;
  std::unique_ptr<Mip4FaApp> fa_app_;
  std::unique_ptr<DhcpClientApp> mn_dhcp_;
  std::unique_ptr<Mip4MnApp> mn_app_;
  std::unique_ptr<StreamEchoer> echoer_;
  std::unique_ptr<StreamSender> sender_;
};

}  // namespace mipsec::sim::testing

#endif  // MIPSEC_SIM_APPS_MIP4_TEST_WORLD_H_

// The Figure 1 enterprise in namespaces (figure1_net.h), checked as a network
// before any mobile node walks it: routing, the bridges the MN roams
// between, the firewall (RFC 5265 3.1 and 4.2), DHCP from dnsmasq on every
// visited network (asked with our DHCP codec, answered by dnsmasq), Agent
// Advertisements from the real `mipsec ha` and `mipsec fa` crossing the
// bridges, and the real `mipsec gw` reached through the firewall from both
// outside networks, with NAT-T behind the NAT.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/ip/address.h"
#include "dhcp/message.h"
#include "lab/figure1/figure1_net.h"
#include "testing/lab_names.h"
#include "testing/netns/require_root.h"
#include "testing/strongswan/require_strongswan.h"

namespace mipsec::testing {
namespace {

using Clock = std::chrono::steady_clock;

#define MIPSEC_REQUIRE_DNSMASQ()                                                   \
  ASSERT_TRUE(FindExecutable("dnsmasq").ok())                                      \
      << "`dnsmasq` not found: install the Debian package dnsmasq-base "           \
         "(scripts/deps.sh)"

class Figure1NetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MIPSEC_REQUIRE_NETNS();
    MIPSEC_REQUIRE_DNSMASQ();
  }

  void TearDown() override {
    if (net_ && HasFailure()) net_->KeepRunDir();
    net_.reset();
  }

  Figure1Net* Make(Figure1Options o = {}) {
    o.mipsec_binary = MIPSEC_BINARY;
    auto net = Figure1Net::Create(o);
    EXPECT_TRUE(net.ok()) << net.error().ToString();
    if (net.ok()) net_ = std::move(*net);
    return net_.get();
  }

  std::unique_ptr<Figure1Net> net_;

  // A static address for the MN (tests of the network without the MN daemon).
  void Place(Figure1Net& net, Access a, const std::string& cidr, const std::string& gw) {
    ASSERT_TRUE(net.Attach(a).ok());
    ASSERT_TRUE(net.topo().Run("mn", {"ip", "addr", "flush", "dev", "eth0"}).ok());
    ASSERT_TRUE(net.topo().Run("mn", {"ip", "addr", "add", cidr, "dev", "eth0"}).ok());
    ASSERT_TRUE(net.topo().Run("mn", {"ip", "route", "replace", "default", "via", gw}).ok());
  }

  bool Ping(Figure1Net& net, const std::string& ns, const std::string& to) {
    auto r = net.topo().Exec(ns, {"ping", "-c1", "-W2", "-q", to});
    return r.ok() && r->Success();
  }
};

// One DHCPDISCOVER from the MN's eth0 (no address yet: UDP from 0.0.0.0:68
// to 255.255.255.255:67 bound to the device, broadcast flag set), and the
// first DHCPOFFER back within 5 s.
std::optional<dhcp::Message> Discover(Figure1Net& net, std::uint32_t xid) {
  std::optional<dhcp::Message> offer;
  Status st = net.topo().RunIn("mn", [&] {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "eth0", 5);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(68);
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      close(fd);
      return;
    }
    dhcp::Message m;
    m.op = dhcp::Op::kBootRequest;
    m.xid = xid;
    m.set_broadcast(true);
    m.chaddr = {0x02, 0x00, 0x5e, 0x00, 0x53, 0x10};
    m.type = dhcp::MessageType::kDiscover;
    Bytes wire = dhcp::SerializeMessage(m);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(67);
    to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    auto next_send = Clock::now();
    while (!offer && Clock::now() < deadline) {
      if (Clock::now() >= next_send) {
        sendto(fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        next_send = Clock::now() + std::chrono::milliseconds(500);
      }
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      std::uint8_t buf[1500];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) continue;
      auto parsed = dhcp::ParseMessage(ByteSpan(buf, static_cast<std::size_t>(n)));
      if (parsed.ok() && parsed->xid == xid && parsed->type == dhcp::MessageType::kOffer) {
        offer = *parsed;
      }
    }
    close(fd);
  });
  EXPECT_TRUE(st.ok()) << st.error().ToString();
  return offer;
}

// The source of the first ICMP Router Advertisement (type 9: an Agent
// Advertisement, RFC 5944 2.1) the MN hears on eth0 within 4 s.
std::optional<Ipv4Address> HearAdvertisement(Figure1Net& net) {
  std::optional<Ipv4Address> from;
  Status st = net.topo().RunIn("mn", [&] {
    int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0) return;
    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "eth0", 5);
    const auto deadline = Clock::now() + std::chrono::seconds(4);
    while (!from && Clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      std::uint8_t buf[1500];
      sockaddr_in src{};
      socklen_t len = sizeof src;
      ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&src), &len);
      if (n < 21) continue;
      const std::size_t ihl = static_cast<std::size_t>(buf[0] & 0x0f) * 4;
      if (static_cast<std::size_t>(n) > ihl && buf[ihl] == 9) {
        from = Ipv4Address::FromHostOrder(ntohl(src.sin_addr.s_addr));
      }
    }
    close(fd);
  });
  EXPECT_TRUE(st.ok()) << st.error().ToString();
  return from;
}

// A UDP datagram from the MN to `to`:`port`.
void SendUdp(Figure1Net& net, const std::string& to, std::uint16_t port) {
  Status st = net.topo().RunIn("mn", [&] {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    inet_pton(AF_INET, to.c_str(), &dst.sin_addr);
    const char payload[] = "figure1";
    sendto(fd, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
    close(fd);
  });
  ASSERT_TRUE(st.ok()) << st.error().ToString();
}

TEST_F(Figure1NetTest, IntranetRoutesEveryWayAndTheHomeLinkHasTheHa) {
  auto net = Make();
  ASSERT_NE(net, nullptr);
  for (const char* to : {"10.1.0.2", "10.1.0.1", "10.2.0.1", "10.4.0.1", "192.0.2.2",
                         "198.51.100.2", "203.0.113.1"}) {
    EXPECT_TRUE(Ping(*net, "cn", to)) << "cn cannot reach " << to;
  }
  // At home with its home address: the i-HA advertises (RFC 5944 2.3, the H
  // flag; the MN learns it is at home) and the CN is reachable.
  Place(*net, Access::kHome, "10.1.0.10/24", "10.1.0.1");
  EXPECT_TRUE(Ping(*net, "mn", "10.1.0.2"));
  EXPECT_TRUE(Ping(*net, "mn", "10.0.0.100"));
  std::optional<Ipv4Address> adv = HearAdvertisement(*net);
  ASSERT_TRUE(adv.has_value()) << "no Agent Advertisement on the home link\n" << net->Describe();
  EXPECT_EQ(adv->ToString(), "10.1.0.2");
}

// The walk's measuring stick: `mipsec probe`'s session from the CN to the home
// address survives a 400 ms loss of carrier, which it reports as one gap.
TEST_F(Figure1NetTest, TcpProbeTimesAnInterruptionAndKeepsTheSession) {
  auto net = Make({.start_ha = false, .start_fa = false, .mvpn = Mvpn::kNone});
  ASSERT_NE(net, nullptr);
  Place(*net, Access::kHome, "10.1.0.10/24", "10.1.0.1");
  auto server = net->topo().Spawn("mn", {MIPSEC_BINARY, "probe", "serve", "--bind", "10.1.0.10"});
  ASSERT_TRUE(server.ok());
  auto client = net->topo().Spawn(
      "cn", {MIPSEC_BINARY, "probe", "connect", "--to", "10.1.0.10", "--interval-ms", "10"});
  ASSERT_TRUE(client.ok());
  const auto connected_by = Clock::now() + std::chrono::seconds(5);
  while ((*client)->Stdout().find("connected") == std::string::npos && Clock::now() < connected_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_NE((*client)->Stdout().find("connected"), std::string::npos) << (*client)->Stderr();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(net->topo().Run("air", {"ip", "link", "set", "radio", "down"}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_TRUE(net->topo().Run("air", {"ip", "link", "set", "radio", "up"}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  (*client)->Stop(Duration::Seconds(2));
  const std::string out = (*client)->Stdout();
  EXPECT_NE(out.find("\"alive\":true"), std::string::npos) << out;
  const std::size_t gap = out.find("\"event\":\"gap\"");
  ASSERT_NE(gap, std::string::npos) << out;
  const std::size_t ms = out.find("\"ms\":", gap);
  ASSERT_NE(ms, std::string::npos);
  const double gap_ms = std::stod(out.substr(ms + 5));
  EXPECT_GE(gap_ms, 390.0) << out;
  EXPECT_LT(gap_ms, 5000.0) << out;
}

TEST_F(Figure1NetTest, DnsmasqLeasesOnEveryVisitedNetwork) {
  auto net = Make({.start_ha = false, .start_fa = false, .mvpn = Mvpn::kNone});
  ASSERT_NE(net, nullptr);
  struct Want {
    Access access;
    const char* prefix;
    const char* router;
    const char* domain;
  };
  std::uint32_t xid = 0x5266'0001;
  for (const Want& w : {Want{Access::kC, "10.2.0.0/24", "10.2.0.1", "corp.example"},
                        Want{Access::kF, "10.4.0.0/24", "10.4.0.1", "corp.example"},
                        Want{Access::kPub, "203.0.113.0/25", "203.0.113.1", "hotspot.example"},
                        Want{Access::kNatNet, "192.168.1.0/24", "192.168.1.1", "home.example"}}) {
    SCOPED_TRACE(std::string(AccessName(w.access)));
    ASSERT_TRUE(net->Attach(w.access).ok());
    std::optional<dhcp::Message> offer = Discover(*net, xid++);
    ASSERT_TRUE(offer.has_value()) << "no DHCPOFFER\n" << net->Describe();
    EXPECT_TRUE(Ipv4Prefix::Parse(w.prefix)->Contains(offer->yiaddr)) << offer->yiaddr.ToString();
    ASSERT_EQ(offer->options.routers.size(), 1u);
    EXPECT_EQ(offer->options.routers[0].ToString(), w.router);
    EXPECT_EQ(offer->options.domain_name, w.domain);
  }
}

TEST_F(Figure1NetTest, FirewallKeepsTheOutsideFromTheIntranetButPassesIkeToTheMvpn) {
  auto net = Make({.start_ha = true, .start_fa = false, .mvpn = Mvpn::kNone});
  ASSERT_NE(net, nullptr);
  Place(*net, Access::kPub, "203.0.113.50/25", "203.0.113.1");
  EXPECT_TRUE(Ping(*net, "mn", "203.0.113.1"));
  // An attacker on the enterprise's uplink who routes the intranet's
  // prefix at the firewall (the Internet would not even carry it).
  ASSERT_TRUE(
      net->topo().Run("rext", {"ip", "route", "add", "10.0.0.0/8", "via", "198.51.100.1"}).ok());
  Result<std::uint64_t> before = net->FirewallRejects();
  ASSERT_TRUE(before.ok()) << before.error().ToString();
  // RFC 5265 3.1: a registration from outside never reaches the i-HA.
  SendUdp(*net, "10.1.0.2", 434);
  EXPECT_FALSE(Ping(*net, "mn", "10.1.0.2"));
  EXPECT_FALSE(Ping(*net, "mn", "10.0.0.100"));
  Result<std::uint64_t> after = net->FirewallRejects();
  ASSERT_TRUE(after.ok());
  EXPECT_GE(*after - *before, 3u) << "the firewall's ext_to_intranet counter did not move";
  // IKE to the mVPN passes (the firewall counts nothing more).
  SendUdp(*net, "192.0.2.2", 500);
  Result<std::uint64_t> ike = net->FirewallRejects();
  ASSERT_TRUE(ike.ok());
  EXPECT_EQ(*ike, *after);
}

// Our VPN client from each outside network against the mVPN: through the
// firewall, and through the NAT (NAT-T, RFC 7296 2.23); with `mipsec gw` and
// with strongSwan as the mVPN.
class Figure1MvpnTest : public Figure1NetTest, public ::testing::WithParamInterface<Mvpn> {};

TEST_P(Figure1MvpnTest, TheMvpnHandsOutTiasOnBothOutsideNetworks) {
  if (GetParam() == Mvpn::kStrongswan) {
    MIPSEC_REQUIRE_STRONGSWAN();
  }
  auto net = Make({.start_ha = true, .start_fa = false, .mvpn = GetParam()});
  ASSERT_NE(net, nullptr);
  const std::string client =
      "[client]\n"
      "gateway = \"192.0.2.2\"\n"
      "local_id = \"email:mn@corp.example\"\n"
      "remote_id = \"fqdn:mvpn.corp.example\"\n"
      "auth = \"psk\"\n"
      "psk = \"6d697073656320666967757265203121\"\n"
      "ike_proposals = [\"aes128gcm16-prfsha256-x25519\"]\n"
      "esp_proposals = [\"aes128gcm16\"]\n"
      "request_virtual_ip = true\n"
      "routes = [\"10.0.0.0/8\"]\n"
      "tun = \"vpn0\"\n";
  Result<std::string> path = net->WriteConfig("vpn.toml", client);
  ASSERT_TRUE(path.ok());
  struct Where {
    Access access;
    const char* cidr;
    const char* gw;
  };
  for (const Where& w : {Where{Access::kPub, "203.0.113.51/25", "203.0.113.1"},
                         Where{Access::kNatNet, "192.168.1.51/24", "192.168.1.1"}}) {
    SCOPED_TRACE(std::string(AccessName(w.access)));
    Place(*net, w.access, w.cidr, w.gw);
    auto vpn = net->topo().Spawn("mn", {MIPSEC_BINARY, "vpn", "--config", *path, "--no-retry"});
    ASSERT_TRUE(vpn.ok()) << vpn.error().ToString();
    bool up = false;
    const auto deadline = Clock::now() + std::chrono::seconds(15);
    while (!up && Clock::now() < deadline && (*vpn)->Running()) {
      up = (*vpn)->Stderr().find("10.10.0.") != std::string::npos;
      if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(up) << "no TIA from 10.10.0.0/24:\n" << (*vpn)->Stderr() << net->Describe();
    // RFC 5265 4.2: through the VPN, only Mobile IPv4 reaches the i-HA; an
    // echo request is dropped by the mVPN's policy ([policy] of gw.toml,
    // mvpn-policy.nft for strongSwan, where it is counted).
    if (up) {
      EXPECT_FALSE(Ping(*net, "mn", "10.1.0.2"));
    }
    if (up && GetParam() == Mvpn::kStrongswan) {
      auto counter = net->topo().Exec(
          "mvpn", {"nft", "list", "counter", "inet", "mipsec_mvpn_policy", "dropped"});
      ASSERT_TRUE(counter.ok());
      EXPECT_EQ(counter->out.find("packets 0 "), std::string::npos) << counter->out;
    }
    (*vpn)->Stop(Duration::Seconds(3));
  }
}

INSTANTIATE_TEST_SUITE_P(Mvpn, Figure1MvpnTest,
                         ::testing::Values(Mvpn::kMipsec, Mvpn::kStrongswan),
                         [](const ::testing::TestParamInfo<Mvpn>& p) {
                           return p.param == Mvpn::kMipsec ? "MipsecGw" : "Strongswan";
                         });

}  // namespace
}  // namespace mipsec::testing

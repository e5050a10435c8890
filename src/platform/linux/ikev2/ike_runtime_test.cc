// IkeRuntime: the client's virtual IP, the gateway's policy script, and the
// runtime over in-memory fakes (no root).
#include "platform/linux/ikev2/ike_runtime.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <variant>

#include "common/random.h"
#include "ikev2/sa/traffic_selectors.h"
#include "platform/linux/epoll_event_loop.h"
#include "platform/linux/test_packets.h"
#include "testing/fakes/fake_netlink.h"
#include "testing/fakes/fake_tun.h"
#include "testing/fakes/fake_udp.h"

namespace mipsec::ikev2d {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }
Ipv4Prefix P(const char* s) { return *Ipv4Prefix::Parse(s); }

TEST(ApplyVirtualIp, AddressAndRoutesIntoTheTunAndBack) {
  testing::FakeNetlink nl;
  int tun = nl.AddLink("vpn0", "tun");
  ASSERT_TRUE(nl.SetLinkUp(tun, true).ok());
  std::vector<Ipv4Prefix> prefixes = {P("192.0.2.0/25"), P("10.9.0.0/16")};
  ASSERT_TRUE(ApplyVirtualIp(nl, tun, A("192.0.2.130"), prefixes).ok());
  auto addrs = nl.ListAddresses(tun);
  ASSERT_TRUE(addrs.ok());
  ASSERT_EQ(addrs->size(), 1u);
  EXPECT_EQ((*addrs)[0].local.address, A("192.0.2.130"));
  auto lookup = nl.LookupRoute(A("10.9.1.1"));
  ASSERT_TRUE(lookup.ok());
  EXPECT_EQ(lookup->oif, tun);
  EXPECT_EQ(lookup->source, A("192.0.2.130"));
  ASSERT_TRUE(RemoveVirtualIp(nl, tun, A("192.0.2.130"), prefixes).ok());
  EXPECT_FALSE(nl.LookupRoute(A("10.9.1.1")).ok() && nl.LookupRoute(A("10.9.1.1"))->oif == tun);
  addrs = nl.ListAddresses(tun);
  ASSERT_TRUE(addrs.ok());
  EXPECT_TRUE(addrs->empty());
}

// ---- The runtime end to end over in-memory UDP and TUN fakes ----
//
//   client runtime (10.0.0.2:500/4500, FakeTun) <-> FakeUdpNetwork <->
//   gw runtime (203.0.113.1:500/4500, FakeTun), both on one EpollEventLoop,
//   the data paths driven on the loop thread (datapath_workers = false).
// Real IKE (PSK, default proposals, CP) and real ESP-in-UDP; packets put
// into one TUN must come out of the other, also across CHILD and IKE SA
// rekeys, and a Delete removes the SAs from both data paths.

const Ipv4Address kClientIp = *Ipv4Address::Parse("10.0.0.2");
const Ipv4Address kGwIp = *Ipv4Address::Parse("203.0.113.1");
const Ipv4Address kIntHost = *Ipv4Address::Parse("10.1.0.5");

class FixedPool final : public ikev2::AddressProvider {
 public:
  std::optional<Ipv4Address> Acquire(const ikev2::IdPayload&, std::optional<Ipv4Address>) override {
    ++acquired;
    return *Ipv4Address::Parse("10.2.0.7");
  }
  void Release(const ikev2::IdPayload&, Ipv4Address) override { ++released; }
  int acquired = 0;
  int released = 0;
};

ikev2::PeerConfig BasePsk() {
  ikev2::PeerConfig c;
  c.local_auth.kind = ikev2::AuthKind::kPsk;
  c.local_auth.psk = SecretBytes(AsBytes("runtime test shared secret"));
  c.remote_auth = ikev2::RemoteAuth{};
  c.remote_auth.kind = ikev2::AuthKind::kPsk;
  c.remote_auth.psk = c.local_auth.psk;
  c.ike_proposals = ikev2::DefaultIkeProposals();
  c.esp_proposals = ikev2::DefaultEspProposals();
  c.force_encapsulation = true;  // the data path is ESP-in-UDP only
  return c;
}

struct Side {
  testing::FakeTun* tun = nullptr;
  std::unique_ptr<IkeRuntime> rt;
  std::vector<std::pair<std::uint64_t, ikev2::IkeEvent>> events;
  std::optional<ikev2::VirtualIpAssigned> vip;
  int count_child_up() const {
    int n = 0;
    for (const auto& [id, e] : events) n += std::holds_alternative<ikev2::ChildSaUp>(e);
    return n;
  }
};

class RuntimeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = platform::EpollEventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = std::move(*loop);
    ikev2::IkeSaManagerConfig gw_cfg;
    ikev2::PeerConfig r = BasePsk();
    r.local_id = ikev2::IdPayload::Fqdn("gw.example.org");
    r.local_ts = {ikev2::TrafficSelector::Ipv4Prefix(P("10.1.0.0/16"))};
    r.remote_ts = {ikev2::AnyIpv4Selector()};
    r.address_provider = &pool_;
    gw_cfg.responder = r;
    MakeSide(gw_, kGwIp, std::move(gw_cfg));
    MakeSide(client_, kClientIp, ikev2::IkeSaManagerConfig{});
  }

  void MakeSide(Side& s, Ipv4Address ip, ikev2::IkeSaManagerConfig cfg) {
    platform::UdpOptions o;
    o.bind = Ipv4Endpoint{ip, 500};
    auto ike = net_.Open(o);
    ASSERT_TRUE(ike.ok());
    o.bind = Ipv4Endpoint{ip, 4500};
    auto natt = net_.Open(o);
    ASSERT_TRUE(natt.ok());
    auto tun = std::make_unique<testing::FakeTun>();
    s.tun = tun.get();
    auto dp = platform::EspDataPath::Create(std::move(tun), std::move(*natt));
    ASSERT_TRUE(dp.ok()) << dp.error().ToString();
    IkeRuntimeOptions ro;
    ro.datapath_workers = false;
    auto rt = IkeRuntime::Create(*loop_, std::move(*ike), std::move(*dp), std::move(cfg), rng_,
                                 Logger(), ro);
    ASSERT_TRUE(rt.ok()) << rt.error().ToString();
    s.rt = std::move(*rt);
    Side* sp = &s;
    s.rt->set_event_observer(
        [sp](std::uint64_t id, const ikev2::IkeEvent& e) { sp->events.emplace_back(id, e); });
    s.rt->set_virtual_ip_hook(
        [sp](std::uint64_t, const ikev2::VirtualIpAssigned& v) { sp->vip = v; });
  }

  // Runs the loop until `pred` or ~3 s.
  bool RunUntil(const std::function<bool()>& pred) {
    for (int i = 0; i < 600; ++i) {
      if (pred()) return true;
      (void)loop_->RunOnce(Duration::Millis(5));
    }
    return pred();
  }

  std::uint64_t Connect() {
    ikev2::PeerConfig c = BasePsk();
    c.local_id = ikev2::IdPayload::Fqdn("client.example.org");
    c.remote_id = ikev2::IdPayload::Fqdn("gw.example.org");
    c.local_ts = {ikev2::AnyIpv4Selector()};
    c.remote_ts = {ikev2::TrafficSelector::Ipv4Prefix(P("10.1.0.0/16"))};
    c.request_virtual_ip = true;
    auto id = client_.rt->Initiate(c, Ipv4Endpoint{kClientIp, 500}, Ipv4Endpoint{kGwIp, 500});
    EXPECT_TRUE(id.ok());
    EXPECT_TRUE(RunUntil([&] {
      return client_.rt->installed_children() == 1 && gw_.rt->installed_children() == 1;
    }));
    return id.ok() ? *id : 0;
  }

  // One packet each way through the tunnel; true when both arrive intact.
  bool Traffic(std::uint16_t id) {
    if (!client_.vip) return false;
    const Bytes payload = {1, 2, 3, 4, 5, 6, 7, 8};
    Bytes up = platform::test::Ipv4Packet(client_.vip->address, kIntHost, 17, payload, 64, id);
    Bytes down = platform::test::Ipv4Packet(kIntHost, client_.vip->address, 17, payload, 64, id);
    client_.tun->InjectPacket(up);
    if (!RunUntil([&] { return !gw_.tun->written().empty(); })) return false;
    auto got_up = gw_.tun->PopWritten();
    gw_.tun->InjectPacket(down);
    if (!RunUntil([&] { return !client_.tun->written().empty(); })) return false;
    auto got_down = client_.tun->PopWritten();
    return got_up == up && got_down == down;
  }

  testing::FakeUdpNetwork net_;
  std::unique_ptr<platform::EpollEventLoop> loop_;
  DeterministicRandom rng_{7};
  FixedPool pool_;
  Side gw_;
  Side client_;
};

TEST_F(RuntimeE2eTest, SetUpTrafficBothWaysAndDelete) {
  const std::uint64_t id = Connect();
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(client_.vip.has_value());
  EXPECT_EQ(client_.vip->address, *Ipv4Address::Parse("10.2.0.7"));
  EXPECT_EQ(pool_.acquired, 1);
  EXPECT_TRUE(Traffic(1));
  EXPECT_TRUE(Traffic(2));
  // IKE went to 4500 (forced encapsulation) through the data path's socket.
  EXPECT_GT(gw_.rt->counters().ike_in_natt, 0u);
  EXPECT_GT(client_.rt->counters().ike_in_natt, 0u);
  // A packet the gateway has no SA for is counted, not sent.
  gw_.tun->InjectPacket(platform::test::Ipv4Packet(kIntHost, *Ipv4Address::Parse("10.9.9.9"), 17,
                                            Bytes{1}, 64, 3));
  EXPECT_TRUE(RunUntil([&] { return gw_.rt->datapath().Stats().tx.no_policy == 1; }));

  client_.rt->DeleteAll();
  EXPECT_TRUE(RunUntil([&] {
    return client_.rt->size() == 0 && gw_.rt->size() == 0 && gw_.rt->installed_children() == 0 &&
           client_.rt->installed_children() == 0;
  }));
  EXPECT_EQ(pool_.released, 1);
  EXPECT_EQ(gw_.rt->counters().install_errors, 0u);
  EXPECT_NE(gw_.rt->CountersLine().find("children_up 1"), std::string::npos)
      << gw_.rt->CountersLine();
}

TEST_F(RuntimeE2eTest, ChildRekeyFromEitherSideKeepsTraffic) {
  const std::uint64_t id = Connect();
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(Traffic(1));
  // The client rekeys (it initiates: it switches at once; the gw, the
  // responder, switches when the old SA is deleted).
  const auto* first = std::get_if<ikev2::ChildSaUp>(&client_.events.back().second);
  std::uint32_t spi = 0;
  for (const auto& [sid, e] : client_.events) {
    if (const auto* up = std::get_if<ikev2::ChildSaUp>(&e)) spi = up->child.spi_in;
  }
  (void)first;
  ikev2::IkeSa* sa = client_.rt->manager().Find(id);
  ASSERT_NE(sa, nullptr);
  ASSERT_TRUE(sa->RekeyChildSa(loop_->Now(), spi).ok());
  client_.rt->Flush();
  ASSERT_TRUE(RunUntil([&] {
    return client_.rt->counters().children_down == 1 && gw_.rt->counters().children_down == 1;
  }));
  EXPECT_EQ(client_.rt->installed_children(), 1u);
  EXPECT_EQ(gw_.rt->installed_children(), 1u);
  EXPECT_EQ(gw_.rt->counters().rekeys_installed, 1u);
  EXPECT_TRUE(Traffic(2));
  EXPECT_TRUE(Traffic(3));

  // Now the gateway rekeys the new CHILD SA.
  std::uint64_t gw_id = 0;
  std::uint32_t gw_spi = 0;
  for (const auto& [sid, e] : gw_.events) {
    if (const auto* up = std::get_if<ikev2::ChildSaUp>(&e)) {
      gw_id = sid;
      gw_spi = up->child.spi_in;
    }
  }
  ikev2::IkeSa* gsa = gw_.rt->manager().Find(gw_id);
  ASSERT_NE(gsa, nullptr);
  ASSERT_TRUE(gsa->RekeyChildSa(loop_->Now(), gw_spi).ok());
  gw_.rt->Flush();
  ASSERT_TRUE(RunUntil([&] {
    return client_.rt->counters().children_down == 2 && gw_.rt->counters().children_down == 2;
  }));
  EXPECT_EQ(client_.rt->counters().rekeys_installed, 2u);
  EXPECT_TRUE(Traffic(4));
  EXPECT_EQ(gw_.rt->counters().install_errors + client_.rt->counters().install_errors, 0u);
}

TEST_F(RuntimeE2eTest, IkeRekeyMovesChildrenToTheNewHandle) {
  const std::uint64_t id = Connect();
  ASSERT_NE(id, 0u);
  ikev2::IkeSa* sa = client_.rt->manager().Find(id);
  ASSERT_NE(sa, nullptr);
  ASSERT_TRUE(sa->RekeyIkeSa(loop_->Now()).ok());
  client_.rt->Flush();
  std::uint64_t new_id = 0;
  ASSERT_TRUE(RunUntil([&] {
    for (const auto& [sid, e] : client_.events) {
      if (const auto* rk = std::get_if<ikev2::IkeSaRekeyed>(&e)) new_id = rk->new_sa_id;
    }
    return new_id != 0 && client_.rt->manager().Find(id) == nullptr;
  }));
  EXPECT_EQ(client_.rt->installed_children(), 1u);
  EXPECT_EQ(gw_.rt->installed_children(), 1u);
  EXPECT_TRUE(Traffic(1));
  // The CHILD SA now belongs to the new IKE SA: deleting that removes it.
  client_.rt->DeleteAll();
  EXPECT_TRUE(RunUntil([&] {
    return client_.rt->installed_children() == 0 && gw_.rt->installed_children() == 0;
  }));
}

}  // namespace
}  // namespace mipsec::ikev2d

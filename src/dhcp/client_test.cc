#include "dhcp/client.h"

#include <memory>
#include <vector>

#include <gtest/gtest.h>

namespace mipsec::dhcp {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }
Timestamp At(double seconds) {
  return Timestamp::Zero() + Duration::Nanos(static_cast<std::int64_t>(seconds * 1e9));
}

const Ipv4Address kServer = A("10.1.0.1");
const Ipv4Address kOther = A("10.1.0.2");
const Ipv4Address kAddr = A("10.1.0.50");

// Drives one Client by hand, playing the server.
class ClientTest : public ::testing::Test {
 protected:
  ClientTest() {
    config_.chaddr = {0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc};
    config_.jitter = Duration::Zero();  // exact timing; jitter has its own tests
  }

  void Make() {
    Result<std::unique_ptr<Client>> c = Client::Create(config_, rng_, Logger(&sink_, "dhcpc",
                                                                              LogLevel::kDebug));
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    client_ = std::move(*c);
  }

  // The next datagram the client sends, parsed.
  Message Sent(ClientTransmit* out = nullptr) {
    std::optional<ClientTransmit> t = client_->PollTransmit();
    EXPECT_TRUE(t.has_value()) << "nothing sent";
    if (!t) return Message{};
    Result<Message> m = ParseMessage(t->bytes);
    EXPECT_TRUE(m.ok()) << m.error().ToString();
    EXPECT_EQ(t->type, m->type);
    if (out) *out = *t;
    return m.value_or(Message{});
  }
  void NothingSent() {
    std::optional<ClientTransmit> t = client_->PollTransmit();
    EXPECT_FALSE(t.has_value()) << "sent " << (t ? MessageTypeName(t->type) : "");
  }

  std::vector<ClientEvent> Events() {
    std::vector<ClientEvent> out;
    while (std::optional<ClientEvent> e = client_->PollEvent()) out.push_back(std::move(*e));
    return out;
  }

  // A server reply to `req`.
  Message Reply(const Message& req, MessageType type, Ipv4Address yiaddr = kAddr,
                Ipv4Address server = kServer, std::uint32_t lease = 3600) {
    Message r;
    r.op = Op::kBootReply;
    r.type = type;
    r.xid = req.xid;
    r.flags = req.flags;
    r.htype = req.htype;
    r.hlen = req.hlen;
    r.chaddr = req.chaddr;
    r.options.server_id = server;
    if (type != MessageType::kNak) {
      r.yiaddr = yiaddr;
      r.ciaddr = req.ciaddr;
      r.options.lease_time = lease;
      r.options.subnet_mask = A("255.255.255.0");
      r.options.routers = {kServer};
      r.options.dns_servers = {A("192.0.2.53")};
      r.options.domain_name = "corp.example";
    } else {
      r.options.message = "no";
    }
    return r;
  }

  Status Deliver(const Message& m, Timestamp now) {
    Path p{{Ipv4Address::Broadcast(), kClientPort}, {kServer, kServerPort}, 1};
    return client_->OnDatagram(now, p, SerializeMessage(m));
  }

  void Advance(Timestamp t) {
    ASSERT_LE(client_->NextTimeout(), t) << "no timer due by " << t.ToString();
    client_->OnTimeout(t);
  }

  // Start at `t0` and complete DISCOVER/OFFER/REQUEST/ACK at t0.
  Lease Acquire(Timestamp t0, std::string_view network = {}) {
    client_->Start(t0, network);
    Message discover = Sent();
    EXPECT_TRUE(Deliver(Reply(discover, MessageType::kOffer), t0).ok());
    Message request = Sent();
    EXPECT_TRUE(Deliver(Reply(request, MessageType::kAck), t0).ok());
    std::vector<ClientEvent> ev = Events();
    EXPECT_EQ(ev.size(), 1u);
    EXPECT_EQ(client_->state(), ClientState::kBound);
    return client_->lease().value_or(Lease{});
  }

  ClientConfig config_;
  DeterministicRandom rng_{7};
  MemorySink sink_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, DiscoverOfferRequestAck) {
  Make();
  EXPECT_EQ(client_->state(), ClientState::kStopped);
  EXPECT_TRUE(client_->NextTimeout().IsInfinite());
  client_->Start(At(0));

  // DHCPDISCOVER: broadcast from 0.0.0.0 (RFC 2131 4.1), ciaddr 0, BROADCAST
  // flag, our chaddr, the parameter request list.
  ClientTransmit tx;
  Message discover = Sent(&tx);
  EXPECT_EQ(tx.destination, (Ipv4Endpoint{Ipv4Address::Broadcast(), kServerPort}));
  EXPECT_EQ(tx.source, Ipv4Address::Any());
  EXPECT_EQ(discover.op, Op::kBootRequest);
  EXPECT_EQ(discover.type, MessageType::kDiscover);
  EXPECT_TRUE(discover.broadcast());
  EXPECT_TRUE(discover.ciaddr.IsAny());
  EXPECT_EQ(discover.chaddr, config_.chaddr);
  EXPECT_EQ(discover.options.parameter_request_list, config_.parameter_request_list);
  EXPECT_FALSE(discover.options.server_id.has_value());
  EXPECT_EQ(client_->state(), ClientState::kSelecting);
  EXPECT_EQ(client_->NextTimeout(), At(4));
  NothingSent();

  // DHCPOFFER -> DHCPREQUEST with the same xid, server id and requested IP.
  ASSERT_TRUE(Deliver(Reply(discover, MessageType::kOffer), At(0.010)).ok());
  Message request = Sent(&tx);
  EXPECT_EQ(tx.destination.address, Ipv4Address::Broadcast());
  EXPECT_EQ(tx.source, Ipv4Address::Any());
  EXPECT_EQ(request.type, MessageType::kRequest);
  EXPECT_EQ(request.xid, discover.xid);
  EXPECT_EQ(request.options.server_id, kServer);
  EXPECT_EQ(request.options.requested_ip, kAddr);
  EXPECT_TRUE(request.ciaddr.IsAny());
  EXPECT_EQ(request.options.parameter_request_list, config_.parameter_request_list);
  EXPECT_EQ(client_->state(), ClientState::kRequesting);
  EXPECT_TRUE(Events().empty());

  // DHCPACK -> BOUND, lease counted from when the REQUEST was sent.
  ASSERT_TRUE(Deliver(Reply(request, MessageType::kAck), At(0.020)).ok());
  NothingSent();
  std::vector<ClientEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  const auto* bound = std::get_if<BoundEvent>(&ev[0]);
  ASSERT_NE(bound, nullptr);
  EXPECT_EQ(bound->lease.address, kAddr);
  EXPECT_EQ(bound->lease.prefix_length, 24);
  EXPECT_EQ(bound->lease.router, kServer);
  EXPECT_EQ(bound->lease.server, kServer);
  EXPECT_EQ(bound->lease.dns_servers, std::vector<Ipv4Address>{A("192.0.2.53")});
  EXPECT_EQ(bound->lease.domain_name, "corp.example");
  EXPECT_EQ(bound->lease.lease_time, Duration::Seconds(3600));
  EXPECT_EQ(bound->lease.obtained, At(0.010));
  EXPECT_EQ(bound->lease.renew_at, At(0.010 + 1800));
  EXPECT_EQ(bound->lease.rebind_at, At(0.010 + 3150));
  EXPECT_EQ(bound->lease.expires_at, At(0.010 + 3600));
  EXPECT_EQ(client_->state(), ClientState::kBound);
  EXPECT_EQ(client_->lease(), bound->lease);
  EXPECT_EQ(client_->NextTimeout(), At(0.010 + 1800));
  EXPECT_EQ(client_->counters().leases, 1u);
  EXPECT_EQ(client_->counters().TotalDropped(), 0u);
}

TEST_F(ClientTest, DiscoverBacksOffExponentiallyTo64Seconds) {
  Make();
  client_->Start(At(0));
  const std::uint32_t xid = Sent().xid;
  // RFC 2131 4.1: 4, 8, 16, 32, 64, 64 ... seconds between transmissions.
  const double expected[] = {4, 12, 28, 60, 124, 188, 252};
  for (double t : expected) {
    EXPECT_EQ(client_->NextTimeout(), At(t));
    Advance(At(t));
    Message again = Sent();
    EXPECT_EQ(again.type, MessageType::kDiscover);
    EXPECT_EQ(again.xid, xid);  // one exchange, one xid
    EXPECT_EQ(again.secs, static_cast<std::uint16_t>(t));
    NothingSent();
  }
  EXPECT_EQ(client_->counters().retransmissions, 7u);
}

TEST_F(ClientTest, FastHandoverTimeoutsKeepTheirShape) {
  config_.initial_timeout = Duration::Millis(500);
  config_.max_timeout = Duration::Seconds(4);
  Make();
  client_->Start(At(0));
  Sent();
  const double expected[] = {0.5, 1.5, 3.5, 7.5, 11.5};
  for (double t : expected) {
    EXPECT_EQ(client_->NextTimeout(), At(t));
    Advance(At(t));
    Sent();
  }
}

TEST_F(ClientTest, RetransmissionIsRandomisedWithinBounds) {
  config_.jitter = Duration::Seconds(1);
  std::vector<Timestamp> first_run;
  for (int run = 0; run < 2; ++run) {
    rng_ = DeterministicRandom(99);
    Make();
    client_->Start(At(0));
    Sent();
    Timestamp prev = At(0);
    Duration base = Duration::Seconds(4);
    std::vector<Timestamp> times;
    for (int i = 0; i < 6; ++i) {
      const Timestamp next = client_->NextTimeout();
      // +-1 s around 4, 8, 16, ... (RFC 2131 4.1).
      EXPECT_GE(next - prev, base - Duration::Seconds(1)) << i;
      EXPECT_LE(next - prev, base + Duration::Seconds(1)) << i;
      times.push_back(next);
      Advance(next);
      Sent();
      prev = next;
      base = std::min(base * 2, Duration::Seconds(64));
    }
    if (run == 0) {
      first_run = times;
    } else {
      EXPECT_EQ(times, first_run);  // the injected source makes it repeatable
    }
  }
  // Not all exactly on the grid: the jitter is really applied.
  EXPECT_NE(first_run[0], At(4));
  // A short timeout is randomised by at most a quarter of itself.
  config_.initial_timeout = Duration::Millis(100);
  Make();
  client_->Start(At(0));
  Sent();
  EXPECT_GE(client_->NextTimeout(), At(0.075));
  EXPECT_LE(client_->NextTimeout(), At(0.125));
}

TEST_F(ClientTest, RequestIsRetriedThenTheClientStartsOver) {
  Make();
  client_->Start(At(0));
  Message discover = Sent();
  ASSERT_TRUE(Deliver(Reply(discover, MessageType::kOffer), At(1)).ok());
  Message request = Sent();
  // 4 transmissions in all (config request_attempts): at 1, 5, 13, 29.
  for (double t : {5.0, 13.0, 29.0}) {
    EXPECT_EQ(client_->NextTimeout(), At(t));
    Advance(At(t));
    Message again = Sent();
    EXPECT_EQ(again.type, MessageType::kRequest);
    EXPECT_EQ(again.xid, request.xid);
    EXPECT_EQ(again.options.requested_ip, kAddr);
  }
  // No answer by 29 + 32: back to INIT, a new DISCOVER with a new xid.
  EXPECT_EQ(client_->NextTimeout(), At(61));
  Advance(At(61));
  Message fresh = Sent();
  EXPECT_EQ(fresh.type, MessageType::kDiscover);
  EXPECT_NE(fresh.xid, discover.xid);
  EXPECT_EQ(client_->state(), ClientState::kSelecting);
  // An ACK for the abandoned exchange is now ignored.
  EXPECT_FALSE(Deliver(Reply(request, MessageType::kAck), At(62)).ok());
  EXPECT_EQ(client_->counters().Dropped(ClientDrop::kWrongXid), 1u);
}

TEST_F(ClientTest, RenewsAtT1ByUnicastToTheServer) {
  Make();
  Lease lease = Acquire(At(0));
  Advance(lease.renew_at);
  ClientTransmit tx;
  Message renew = Sent(&tx);
  // RFC 2131 4.3.6 Table 4: unicast, no server id, no requested IP, ciaddr.
  EXPECT_EQ(client_->state(), ClientState::kRenewing);
  EXPECT_EQ(tx.destination, (Ipv4Endpoint{kServer, kServerPort}));
  EXPECT_EQ(tx.source, kAddr);
  EXPECT_EQ(renew.type, MessageType::kRequest);
  EXPECT_EQ(renew.ciaddr, kAddr);
  EXPECT_FALSE(renew.options.server_id.has_value());
  EXPECT_FALSE(renew.options.requested_ip.has_value());
  EXPECT_FALSE(renew.broadcast());
  // The ACK extends the lease from the time the renewal was sent.
  const Timestamp sent_at = lease.renew_at;
  ASSERT_TRUE(Deliver(Reply(renew, MessageType::kAck), sent_at + Duration::Millis(5)).ok());
  std::vector<ClientEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  const auto* renewed = std::get_if<RenewedEvent>(&ev[0]);
  ASSERT_NE(renewed, nullptr);
  EXPECT_EQ(renewed->lease.expires_at, sent_at + Duration::Seconds(3600));
  EXPECT_EQ(renewed->lease.renew_at, sent_at + Duration::Seconds(1800));
  EXPECT_EQ(client_->state(), ClientState::kBound);
  EXPECT_EQ(client_->counters().renewals, 1u);
}

TEST_F(ClientTest, RebindsAtT2ByBroadcastThenExpires) {
  Make();
  Lease lease = Acquire(At(0));
  ASSERT_EQ(lease.renew_at, At(1800));
  Advance(At(1800));
  const std::uint32_t renew_xid = Sent().xid;
  // RFC 2131 4.4.5: retransmit after half the time left to T2, >= 60 s.
  for (double t : {2475.0, 2812.5, 2981.25, 3065.625, 3125.625}) {
    EXPECT_EQ(client_->NextTimeout(), At(t));
    Advance(At(t));
    EXPECT_EQ(Sent().xid, renew_xid);
  }
  // The next retransmission would pass T2: T2 fires instead.
  EXPECT_EQ(client_->NextTimeout(), At(3150));
  Advance(At(3150));
  ClientTransmit tx;
  Message rebind = Sent(&tx);
  EXPECT_EQ(client_->state(), ClientState::kRebinding);
  EXPECT_EQ(tx.destination, (Ipv4Endpoint{Ipv4Address::Broadcast(), kServerPort}));
  EXPECT_EQ(tx.source, kAddr);
  EXPECT_EQ(rebind.ciaddr, kAddr);
  EXPECT_FALSE(rebind.options.server_id.has_value());
  EXPECT_NE(rebind.xid, renew_xid);
  // Half of the 450 s left is 225 s, then 112.5, then the 60 s floor.
  for (double t : {3375.0, 3487.5, 3547.5}) {
    EXPECT_EQ(client_->NextTimeout(), At(t));
    Advance(At(t));
    EXPECT_EQ(Sent().xid, rebind.xid);
  }
  EXPECT_TRUE(Events().empty());
  // Expiry: the address is lost, a new DISCOVER goes out at once.
  EXPECT_EQ(client_->NextTimeout(), At(3600));
  Advance(At(3600));
  std::vector<ClientEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  const auto* lost = std::get_if<LeaseLostEvent>(&ev[0]);
  ASSERT_NE(lost, nullptr);
  EXPECT_EQ(lost->reason, LeaseLostReason::kExpired);
  EXPECT_EQ(lost->lease.address, kAddr);
  EXPECT_EQ(Sent().type, MessageType::kDiscover);
  EXPECT_EQ(client_->state(), ClientState::kSelecting);
  EXPECT_FALSE(client_->lease().has_value());
  EXPECT_EQ(client_->counters().expiries, 1u);
}

TEST_F(ClientTest, RebindingAcceptsAnotherServer) {
  Make();
  Lease lease = Acquire(At(0));
  Advance(lease.renew_at);
  Sent();
  // A late timer call: the due renewal retransmission, then T2.
  Advance(lease.rebind_at);
  EXPECT_EQ(Sent().ciaddr, kAddr);
  ClientTransmit tx;
  Message rebind = Sent(&tx);
  EXPECT_EQ(tx.destination.address, Ipv4Address::Broadcast());
  NothingSent();
  ASSERT_TRUE(Deliver(Reply(rebind, MessageType::kAck, kAddr, kOther), lease.rebind_at).ok());
  std::vector<ClientEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<RenewedEvent>(ev[0]));
  EXPECT_EQ(client_->lease()->server, kOther);  // renewals now go there
}

TEST_F(ClientTest, RenewingRefusesAnAckFromAnotherServer) {
  Make();
  Lease lease = Acquire(At(0));
  Advance(lease.renew_at);
  Message renew = Sent();
  Status s = Deliver(Reply(renew, MessageType::kAck, kAddr, kOther), lease.renew_at);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(client_->counters().Dropped(ClientDrop::kWrongServer), 1u);
  EXPECT_EQ(client_->state(), ClientState::kRenewing);
}

TEST_F(ClientTest, NakWhileRequestingRestartsAndBacksOffWhenRepeated) {
  Make();
  client_->Start(At(0));
  Message d1 = Sent();
  ASSERT_TRUE(Deliver(Reply(d1, MessageType::kOffer), At(0)).ok());
  Message r1 = Sent();
  ASSERT_TRUE(Deliver(Reply(r1, MessageType::kNak), At(0.5)).ok());
  std::vector<ClientEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  const auto* nak = std::get_if<NakEvent>(&ev[0]);
  ASSERT_NE(nak, nullptr);
  EXPECT_EQ(nak->server, kServer);
  EXPECT_EQ(nak->message, "no");
  // First NAK: a new DISCOVER at once.
  Message d2 = Sent();
  EXPECT_EQ(d2.type, MessageType::kDiscover);
  EXPECT_NE(d2.xid, d1.xid);
  // Second NAK in a row: wait initial_timeout first.
  ASSERT_TRUE(Deliver(Reply(d2, MessageType::kOffer), At(0.5)).ok());
  Message r2 = Sent();
  ASSERT_TRUE(Deliver(Reply(r2, MessageType::kNak), At(0.6)).ok());
  Events();
  NothingSent();
  EXPECT_EQ(client_->state(), ClientState::kInit);
  EXPECT_EQ(client_->NextTimeout(), At(4.6));
  Advance(At(4.6));
  EXPECT_EQ(Sent().type, MessageType::kDiscover);
  EXPECT_EQ(client_->counters().naks, 2u);
}

TEST_F(ClientTest, NakWhileRenewingLosesTheLease) {
  Make();
  Lease lease = Acquire(At(0));
  Advance(lease.renew_at);
  Message renew = Sent();
  ASSERT_TRUE(Deliver(Reply(renew, MessageType::kNak), lease.renew_at).ok());
  std::vector<ClientEvent> ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<NakEvent>(ev[0]));
  const auto* lost = std::get_if<LeaseLostEvent>(&ev[1]);
  ASSERT_NE(lost, nullptr);
  EXPECT_EQ(lost->reason, LeaseLostReason::kNak);
  EXPECT_EQ(Sent().type, MessageType::kDiscover);
  EXPECT_FALSE(client_->lease().has_value());
}

TEST_F(ClientTest, DropsRepliesThatAreNotForItWithoutChangingState) {
  Make();
  client_->Start(At(0));
  Message discover = Sent();
  const Message good = Reply(discover, MessageType::kOffer);

  struct Case {
    const char* name;
    Message m;
    ClientDrop reason;
  };
  std::vector<Case> cases;
  Message m = good;
  m.xid ^= 1;
  cases.push_back({"xid", m, ClientDrop::kWrongXid});
  m = good;
  m.chaddr[5] ^= 1;
  cases.push_back({"chaddr", m, ClientDrop::kWrongChaddr});
  m = good;
  m.hlen = 7;
  cases.push_back({"hlen", m, ClientDrop::kWrongChaddr});
  m = good;
  m.op = Op::kBootRequest;
  cases.push_back({"op", m, ClientDrop::kNotBootReply});
  m = good;
  m.type = MessageType::kAck;
  cases.push_back({"ack while selecting", m, ClientDrop::kUnexpectedType});
  m = good;
  m.type = MessageType::kDiscover;
  cases.push_back({"request type", m, ClientDrop::kUnexpectedType});
  m = good;
  m.options.server_id.reset();
  cases.push_back({"no server id", m, ClientDrop::kNoServerId});
  m = good;
  m.yiaddr = Ipv4Address::Any();
  cases.push_back({"yiaddr 0", m, ClientDrop::kBadAddress});
  m = good;
  m.yiaddr = A("224.0.0.1");
  cases.push_back({"yiaddr multicast", m, ClientDrop::kBadAddress});
  m = good;
  m.yiaddr = A("10.1.0.255");
  cases.push_back({"yiaddr broadcast", m, ClientDrop::kBadAddress});
  m = good;
  m.yiaddr = A("127.0.0.1");
  cases.push_back({"yiaddr loopback", m, ClientDrop::kBadAddress});
  m = good;
  m.options.lease_time.reset();
  cases.push_back({"no lease", m, ClientDrop::kBadLease});
  m = good;
  m.options.lease_time = 0;
  cases.push_back({"zero lease", m, ClientDrop::kBadLease});
  m = good;
  m.options.subnet_mask = A("255.0.255.0");
  cases.push_back({"mask with holes", m, ClientDrop::kBadOptions});

  for (const Case& c : cases) {
    const ClientCounters before = client_->counters();
    Status s = Deliver(c.m, At(0.1));
    EXPECT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(client_->counters().Dropped(c.reason), before.Dropped(c.reason) + 1)
        << c.name << ": " << (s.ok() ? "" : s.error().ToString());
    EXPECT_EQ(client_->state(), ClientState::kSelecting) << c.name;
    EXPECT_EQ(client_->NextTimeout(), At(4)) << c.name;
    NothingSent();
    EXPECT_TRUE(Events().empty());
  }
  // Garbage is counted as malformed.
  Path p{};
  EXPECT_FALSE(client_->OnDatagram(At(0.1), p, Bytes(100, 0xee)).ok());
  EXPECT_EQ(client_->counters().Dropped(ClientDrop::kMalformed), 1u);
  // The genuine offer still works afterwards.
  ASSERT_TRUE(Deliver(good, At(0.2)).ok());
  EXPECT_EQ(Sent().type, MessageType::kRequest);
}

TEST_F(ClientTest, RequestingIgnoresOtherOffersAndOtherServersAcks) {
  Make();
  client_->Start(At(0));
  Message discover = Sent();
  ASSERT_TRUE(Deliver(Reply(discover, MessageType::kOffer), At(0)).ok());
  Message request = Sent();
  // A second server's late OFFER and its ACK are not for the chosen lease.
  EXPECT_FALSE(Deliver(Reply(discover, MessageType::kOffer, A("10.1.0.60"), kOther), At(0)).ok());
  EXPECT_FALSE(Deliver(Reply(request, MessageType::kAck, kAddr, kOther), At(0)).ok());
  EXPECT_FALSE(Deliver(Reply(request, MessageType::kNak, kAddr, kOther), At(0)).ok());
  // An ACK of a different address than requested.
  EXPECT_FALSE(Deliver(Reply(request, MessageType::kAck, A("10.1.0.61")), At(0)).ok());
  EXPECT_EQ(client_->counters().Dropped(ClientDrop::kUnexpectedType), 1u);
  EXPECT_EQ(client_->counters().Dropped(ClientDrop::kWrongServer), 2u);
  EXPECT_EQ(client_->counters().Dropped(ClientDrop::kBadAddress), 1u);
  EXPECT_EQ(client_->state(), ClientState::kRequesting);
  NothingSent();
  // Bound: nothing pending, replies are dropped.
  ASSERT_TRUE(Deliver(Reply(request, MessageType::kAck), At(0)).ok());
  EXPECT_FALSE(Deliver(Reply(request, MessageType::kAck), At(0)).ok());
  EXPECT_EQ(client_->counters().Dropped(ClientDrop::kNoTransaction), 1u);
}

TEST_F(ClientTest, ReleaseSendsDhcpReleaseAndForgetsTheLease) {
  Make();
  Acquire(At(0));
  client_->Release(At(10));
  ClientTransmit tx;
  Message rel = Sent(&tx);
  EXPECT_EQ(rel.type, MessageType::kRelease);
  EXPECT_EQ(tx.destination, (Ipv4Endpoint{kServer, kServerPort}));
  EXPECT_EQ(tx.source, kAddr);
  EXPECT_EQ(rel.ciaddr, kAddr);
  EXPECT_EQ(rel.options.server_id, kServer);
  EXPECT_FALSE(rel.options.requested_ip.has_value());
  EXPECT_TRUE(rel.options.parameter_request_list.empty());
  std::vector<ClientEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<LeaseLostEvent>(ev[0]).reason, LeaseLostReason::kReleased);
  EXPECT_EQ(client_->state(), ClientState::kStopped);
  EXPECT_TRUE(client_->NextTimeout().IsInfinite());
  EXPECT_FALSE(client_->RememberedAddress("").has_value());
  // Starting again is a full DISCOVER, not INIT-REBOOT.
  client_->Start(At(20));
  EXPECT_EQ(Sent().type, MessageType::kDiscover);
}

TEST_F(ClientTest, StopRemembersTheLeaseAndInitRebootVerifiesIt) {
  Make();
  Acquire(At(0));
  client_->Stop(At(100));
  std::vector<ClientEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<LeaseLostEvent>(ev[0]).reason, LeaseLostReason::kStopped);
  EXPECT_EQ(client_->state(), ClientState::kStopped);
  EXPECT_TRUE(client_->NextTimeout().IsInfinite());
  EXPECT_EQ(client_->RememberedAddress(""), kAddr);
  // Stopped: nothing is accepted.
  EXPECT_FALSE(Deliver(Message{}, At(101)).ok());
  EXPECT_EQ(client_->counters().Dropped(ClientDrop::kNotRunning), 1u);

  // RFC 2131 4.4.2: INIT-REBOOT — broadcast REQUEST, requested IP, no
  // server id, ciaddr 0.
  client_->Start(At(200));
  ClientTransmit tx;
  Message req = Sent(&tx);
  EXPECT_EQ(client_->state(), ClientState::kRebooting);
  EXPECT_EQ(req.type, MessageType::kRequest);
  EXPECT_EQ(tx.destination.address, Ipv4Address::Broadcast());
  EXPECT_EQ(tx.source, Ipv4Address::Any());
  EXPECT_EQ(req.options.requested_ip, kAddr);
  EXPECT_FALSE(req.options.server_id.has_value());
  EXPECT_TRUE(req.ciaddr.IsAny());
  // Any server's ACK binds.
  ASSERT_TRUE(Deliver(Reply(req, MessageType::kAck, kAddr, kOther), At(200.01)).ok());
  ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  const auto& bound = std::get<BoundEvent>(ev[0]);
  EXPECT_EQ(bound.lease.address, kAddr);
  EXPECT_EQ(bound.lease.server, kOther);
  EXPECT_EQ(bound.lease.expires_at, At(200 + 3600));
}

TEST_F(ClientTest, InitRebootNakFallsBackToDiscover) {
  Make();
  Acquire(At(0));
  client_->Stop(At(1));
  Events();
  client_->Start(At(2));
  Message req = Sent();
  ASSERT_TRUE(Deliver(Reply(req, MessageType::kNak), At(2.01)).ok());
  std::vector<ClientEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<NakEvent>(ev[0]));
  EXPECT_EQ(Sent().type, MessageType::kDiscover);
  EXPECT_FALSE(client_->RememberedAddress("").has_value());
}

TEST_F(ClientTest, UnansweredInitRebootFallsBackToDiscover) {
  Make();
  Acquire(At(0));
  client_->Stop(At(1));
  client_->Start(At(2));
  Message req = Sent();
  EXPECT_EQ(client_->NextTimeout(), At(6));
  Advance(At(6));
  EXPECT_EQ(Sent().xid, req.xid);  // second and last attempt
  EXPECT_EQ(client_->NextTimeout(), At(14));
  Advance(At(14));
  EXPECT_EQ(Sent().type, MessageType::kDiscover);
  EXPECT_FALSE(client_->RememberedAddress("").has_value());
}

TEST_F(ClientTest, RemembersLeasesPerNetwork) {
  Make();
  Acquire(At(0), "net-a");
  client_->Stop(At(1));
  // Another network: no cached lease there, straight to DISCOVER.
  client_->Start(At(2), "net-b");
  Message d = Sent();
  EXPECT_EQ(d.type, MessageType::kDiscover);
  ASSERT_TRUE(Deliver(Reply(d, MessageType::kOffer, A("10.2.0.9"), A("10.2.0.1")), At(2)).ok());
  Message r = Sent();
  ASSERT_TRUE(Deliver(Reply(r, MessageType::kAck, A("10.2.0.9"), A("10.2.0.1")), At(2)).ok());
  client_->Stop(At(3));
  EXPECT_EQ(client_->RememberedAddress("net-a"), kAddr);
  EXPECT_EQ(client_->RememberedAddress("net-b"), A("10.2.0.9"));
  // Back on the first network: INIT-REBOOT for its address.
  client_->Start(At(4), "net-a");
  Message again = Sent();
  EXPECT_EQ(again.type, MessageType::kRequest);
  EXPECT_EQ(again.options.requested_ip, kAddr);
  // A remembered lease that has expired is not used.
  client_->Stop(At(5));
  client_->Start(At(3700), "net-b");
  EXPECT_EQ(Sent().type, MessageType::kDiscover);
}

TEST_F(ClientTest, InitRebootCanBeDisabled) {
  config_.init_reboot = false;
  Make();
  Acquire(At(0));
  client_->Stop(At(1));
  client_->Start(At(2));
  EXPECT_EQ(Sent().type, MessageType::kDiscover);
}

TEST_F(ClientTest, HonoursSaneT1T2AndFallsBackOtherwise) {
  Make();
  client_->Start(At(0));
  Message d = Sent();
  ASSERT_TRUE(Deliver(Reply(d, MessageType::kOffer), At(0)).ok());
  Message r = Sent();
  Message ack = Reply(r, MessageType::kAck);
  ack.options.renewal_time = 100;
  ack.options.rebinding_time = 200;
  ASSERT_TRUE(Deliver(ack, At(0)).ok());
  EXPECT_EQ(client_->lease()->renew_at, At(100));
  EXPECT_EQ(client_->lease()->rebind_at, At(200));
  // T2 beyond the lease: both defaults.
  Advance(At(100));
  Message renew = Sent();
  Message ack2 = Reply(renew, MessageType::kAck);
  ack2.options.renewal_time = 100;
  ack2.options.rebinding_time = 4000;
  ASSERT_TRUE(Deliver(ack2, At(100)).ok());
  EXPECT_EQ(client_->lease()->renew_at, At(100 + 1800));
  EXPECT_EQ(client_->lease()->rebind_at, At(100 + 3150));
}

TEST_F(ClientTest, InfiniteLeaseHasNoTimers) {
  Make();
  client_->Start(At(0));
  Message d = Sent();
  ASSERT_TRUE(Deliver(Reply(d, MessageType::kOffer, kAddr, kServer, kInfiniteLease), At(0)).ok());
  Message r = Sent();
  ASSERT_TRUE(Deliver(Reply(r, MessageType::kAck, kAddr, kServer, kInfiniteLease), At(0)).ok());
  EXPECT_EQ(client_->state(), ClientState::kBound);
  EXPECT_TRUE(client_->lease()->lease_time.IsInfinite());
  EXPECT_TRUE(client_->NextTimeout().IsInfinite());
}

TEST_F(ClientTest, LongestFiniteLeaseDoesNotOverflow) {
  // 2^32 - 2 seconds: T2 = 7/8 of it must not overflow the nanosecond clock.
  Make();
  client_->Start(At(0));
  Message d = Sent();
  ASSERT_TRUE(
      Deliver(Reply(d, MessageType::kOffer, kAddr, kServer, kInfiniteLease - 1), At(0)).ok());
  Message r = Sent();
  ASSERT_TRUE(Deliver(Reply(r, MessageType::kAck, kAddr, kServer, kInfiniteLease - 1), At(0)).ok());
  const Duration lease = Duration::Seconds(kInfiniteLease - 1);
  EXPECT_EQ(client_->lease()->renew_at, At(0) + lease / 2);
  EXPECT_EQ(client_->lease()->rebind_at, At(0) + (lease - lease / 8));
  EXPECT_EQ(client_->lease()->expires_at, At(0) + lease);
  EXPECT_EQ(client_->NextTimeout(), At(0) + lease / 2);
}

TEST_F(ClientTest, OptionalStartDelayAndClientIdentifier) {
  config_.start_delay_max = Duration::Seconds(10);
  config_.client_id = {0x01, 0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc};
  config_.requested_lease = Duration::Seconds(600);
  Make();
  client_->Start(At(0));
  NothingSent();
  EXPECT_EQ(client_->state(), ClientState::kInit);
  const Timestamp t = client_->NextTimeout();
  EXPECT_LE(t, At(10));
  Advance(t);
  Message d = Sent();
  EXPECT_EQ(d.options.client_id, config_.client_id);
  EXPECT_EQ(d.options.lease_time, 600u);
}

TEST_F(ClientTest, ConfigValidation) {
  ClientConfig ok;
  EXPECT_TRUE(ok.Validate().ok());
  auto bad = [](auto mutate) {
    ClientConfig c;
    mutate(c);
    return c.Validate();
  };
  EXPECT_FALSE(bad([](ClientConfig& c) { c.hlen = 0; }).ok());
  EXPECT_FALSE(bad([](ClientConfig& c) { c.hlen = 17; }).ok());
  EXPECT_FALSE(bad([](ClientConfig& c) { c.client_id = {1}; }).ok());
  EXPECT_FALSE(bad([](ClientConfig& c) { c.initial_timeout = Duration::Millis(1); }).ok());
  EXPECT_FALSE(bad([](ClientConfig& c) { c.max_timeout = Duration::Seconds(1); }).ok());
  EXPECT_FALSE(bad([](ClientConfig& c) { c.request_attempts = 0; }).ok());
  EXPECT_FALSE(bad([](ClientConfig& c) { c.init_reboot_attempts = 0; }).ok());
  EXPECT_FALSE(bad([](ClientConfig& c) { c.jitter = Duration::Seconds(-1); }).ok());
  EXPECT_FALSE(bad([](ClientConfig& c) { c.requested_lease = Duration::Zero(); }).ok());
  Status s = bad([](ClientConfig& c) { c.request_attempts = 0; });
  EXPECT_NE(s.error().detail().find("request_attempts"), std::string::npos);
  DeterministicRandom rng(1);
  ClientConfig c;
  c.hlen = 0;
  Result<std::unique_ptr<Client>> client = Client::Create(c, rng, Logger());
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace mipsec::dhcp

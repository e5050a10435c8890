#include "dhcp/server.h"

#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "dhcp/client.h"

namespace mipsec::dhcp {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }
Timestamp At(double seconds) {
  return Timestamp::Zero() + Duration::Nanos(static_cast<std::int64_t>(seconds * 1e9));
}

const Ipv4Address kServerAddr = A("10.1.0.1");
const Path kBroadcastPath{
    {Ipv4Address::Broadcast(), kServerPort}, {Ipv4Address::Any(), kClientPort}, 1};

ServerConfig Config() {
  ServerConfig c;
  c.server_address = kServerAddr;
  c.subnet = *Ipv4Prefix::Parse("10.1.0.0/24");
  c.pool_first = A("10.1.0.100");
  c.pool_last = A("10.1.0.109");
  c.routers = {kServerAddr};
  c.dns_servers = {A("192.0.2.53")};
  c.domain_name = "corp.example";
  c.lease_time = Duration::Seconds(3600);
  return c;
}

class ServerTest : public ::testing::Test {
 protected:
  void Make(const ServerConfig& c = Config()) {
    Result<std::unique_ptr<Server>> s =
        Server::Create(c, Logger(&sink_, "dhcpd", LogLevel::kDebug));
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    server_ = std::move(*s);
  }

  // A client message from host `n` (chaddr 02:00:00:00:00:n).
  static Message From(int n, MessageType type, std::uint32_t xid = 0) {
    Message m;
    m.op = Op::kBootRequest;
    m.type = type;
    m.xid = xid ? xid : 0x1000u + static_cast<std::uint32_t>(n);
    m.chaddr = {0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(n)};
    m.set_broadcast(true);
    return m;
  }

  Status Send(const Message& m, Timestamp now, const Path& path = kBroadcastPath) {
    return server_->OnDatagram(now, path, SerializeMessage(m));
  }

  // The next reply, parsed.
  Message Reply(ServerTransmit* out = nullptr) {
    std::optional<ServerTransmit> t = server_->PollTransmit();
    EXPECT_TRUE(t.has_value()) << "no reply";
    if (!t) return Message{};
    Result<Message> m = ParseMessage(t->bytes);
    EXPECT_TRUE(m.ok());
    if (out) *out = *t;
    return m.value_or(Message{});
  }
  void NoReply() {
    std::optional<ServerTransmit> t = server_->PollTransmit();
    EXPECT_FALSE(t.has_value()) << "replied " << (t ? MessageTypeName(t->type) : "");
  }
  std::vector<ServerEvent> Events() {
    std::vector<ServerEvent> out;
    while (std::optional<ServerEvent> e = server_->PollEvent()) out.push_back(std::move(*e));
    return out;
  }

  // DISCOVER + REQUEST for host n; returns the leased address.
  Ipv4Address Lease(int n, Timestamp now) {
    EXPECT_TRUE(Send(From(n, MessageType::kDiscover), now).ok());
    const Message offer = Reply();
    EXPECT_EQ(offer.type, MessageType::kOffer);
    Message req = From(n, MessageType::kRequest);
    req.options.server_id = kServerAddr;
    req.options.requested_ip = offer.yiaddr;
    EXPECT_TRUE(Send(req, now).ok());
    const Message ack = Reply();
    EXPECT_EQ(ack.type, MessageType::kAck);
    Events();
    return ack.yiaddr;
  }

  static Bytes KeyOf(int n) { return Server::ClientKey(From(n, MessageType::kDiscover)); }

  MemorySink sink_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, OffersFromThePoolWithEveryParameter) {
  Make();
  Message discover = From(1, MessageType::kDiscover);
  discover.options.parameter_request_list = {1, 3, 6, 15};
  ASSERT_TRUE(Send(discover, At(0)).ok());
  ServerTransmit tx;
  Message offer = Reply(&tx);
  // RFC 2131 Table 3.
  EXPECT_EQ(offer.op, Op::kBootReply);
  EXPECT_EQ(offer.type, MessageType::kOffer);
  EXPECT_EQ(offer.xid, discover.xid);
  EXPECT_EQ(offer.chaddr, discover.chaddr);
  EXPECT_EQ(offer.flags, discover.flags);
  EXPECT_EQ(offer.yiaddr, A("10.1.0.100"));
  EXPECT_TRUE(offer.ciaddr.IsAny());
  EXPECT_EQ(offer.options.server_id, kServerAddr);
  EXPECT_EQ(offer.options.lease_time, 3600u);
  EXPECT_EQ(offer.options.renewal_time, 1800u);
  EXPECT_EQ(offer.options.rebinding_time, 3150u);
  EXPECT_EQ(offer.options.subnet_mask, A("255.255.255.0"));
  EXPECT_EQ(offer.options.routers, std::vector<Ipv4Address>{kServerAddr});
  EXPECT_EQ(offer.options.dns_servers, std::vector<Ipv4Address>{A("192.0.2.53")});
  EXPECT_EQ(offer.options.domain_name, "corp.example");
  EXPECT_TRUE(offer.options.parameter_request_list.empty());
  EXPECT_TRUE(offer.options.client_id.empty());
  // Broadcast flag set: broadcast reply, from the server's address.
  EXPECT_EQ(tx.delivery, ReplyDelivery::kBroadcast);
  EXPECT_EQ(tx.destination, (Ipv4Endpoint{Ipv4Address::Broadcast(), kClientPort}));
  EXPECT_EQ(tx.source, kServerAddr);
  // The offered address is reserved: the next client gets the next one.
  ASSERT_TRUE(Send(From(2, MessageType::kDiscover), At(1)).ok());
  EXPECT_EQ(Reply().yiaddr, A("10.1.0.101"));
  const Binding* b = server_->FindBinding(KeyOf(1));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->state, BindingState::kOffered);
  EXPECT_EQ(b->expires, At(30));
  EXPECT_EQ(server_->NextTimeout(), At(30));
  EXPECT_EQ(server_->ActiveLeases(), 0u);
  std::vector<ServerEvent> ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, ServerEvent::Kind::kOffered);
}

TEST_F(ServerTest, RequestInSelectingIsAcked) {
  Make();
  ASSERT_TRUE(Send(From(1, MessageType::kDiscover), At(0)).ok());
  Message offer = Reply();
  Message req = From(1, MessageType::kRequest);
  req.options.server_id = kServerAddr;
  req.options.requested_ip = offer.yiaddr;
  ASSERT_TRUE(Send(req, At(1)).ok());
  ServerTransmit tx;
  Message ack = Reply(&tx);
  EXPECT_EQ(ack.type, MessageType::kAck);
  EXPECT_EQ(ack.yiaddr, offer.yiaddr);
  EXPECT_EQ(ack.options.lease_time, 3600u);
  EXPECT_EQ(tx.delivery, ReplyDelivery::kBroadcast);
  const Binding* b = server_->BindingFor(offer.yiaddr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->state, BindingState::kBound);
  EXPECT_EQ(b->expires, At(3601));
  EXPECT_EQ(server_->ActiveLeases(), 1u);
  EXPECT_EQ(server_->NextTimeout(), At(3601));
  EXPECT_EQ(server_->counters().acks, 1u);
}

TEST_F(ServerTest, SameClientGetsTheSameAddressBack) {
  Make();
  const Ipv4Address a1 = Lease(1, At(0));
  const Ipv4Address a2 = Lease(2, At(0));
  EXPECT_NE(a1, a2);
  // A DISCOVER from a bound client: its current address.
  ASSERT_TRUE(Send(From(1, MessageType::kDiscover), At(5)).ok());
  EXPECT_EQ(Reply().yiaddr, a1);
  // Released: still remembered for it, not given to a newcomer.
  Message rel = From(1, MessageType::kRelease);
  rel.ciaddr = a1;
  rel.options.server_id = kServerAddr;
  ASSERT_TRUE(Send(rel, At(10)).ok());
  NoReply();
  EXPECT_EQ(server_->FindBinding(KeyOf(1))->state, BindingState::kFree);
  const Ipv4Address a3 = Lease(3, At(11));
  EXPECT_NE(a3, a1);
  EXPECT_EQ(Lease(1, At(12)), a1);
  // Expired: the same again.
  server_->OnTimeout(At(20000));
  std::vector<ServerEvent> ev = Events();
  ASSERT_EQ(ev.size(), 3u);
  for (const ServerEvent& e : ev) EXPECT_EQ(e.kind, ServerEvent::Kind::kExpired);
  EXPECT_EQ(server_->ActiveLeases(), 0u);
  EXPECT_EQ(Lease(2, At(20001)), a2);
  EXPECT_EQ(Lease(1, At(20001)), a1);
}

TEST_F(ServerTest, KeysOnTheClientIdentifierWhenPresent) {
  Make();
  Message d = From(1, MessageType::kDiscover);
  d.options.client_id = {0xff, 'm', 'n'};
  ASSERT_TRUE(Send(d, At(0)).ok());
  const Ipv4Address offered = Reply().yiaddr;
  // Same identifier on another interface (another chaddr): same binding.
  Message d2 = From(7, MessageType::kDiscover);
  d2.options.client_id = {0xff, 'm', 'n'};
  ASSERT_TRUE(Send(d2, At(0)).ok());
  EXPECT_EQ(Reply().yiaddr, offered);
  // Same chaddr without the identifier: another client.
  ASSERT_TRUE(Send(From(1, MessageType::kDiscover), At(0)).ok());
  EXPECT_NE(Reply().yiaddr, offered);
}

TEST_F(ServerTest, HonoursAFreeRequestedAddressInDiscover) {
  Make();
  Message d = From(1, MessageType::kDiscover);
  d.options.requested_ip = A("10.1.0.105");
  ASSERT_TRUE(Send(d, At(0)).ok());
  EXPECT_EQ(Reply().yiaddr, A("10.1.0.105"));
  // Taken, or outside the pool: the next free one instead.
  Message d2 = From(2, MessageType::kDiscover);
  d2.options.requested_ip = A("10.1.0.105");
  ASSERT_TRUE(Send(d2, At(0)).ok());
  EXPECT_EQ(Reply().yiaddr, A("10.1.0.100"));
  Message d3 = From(3, MessageType::kDiscover);
  d3.options.requested_ip = A("10.1.0.1");
  ASSERT_TRUE(Send(d3, At(0)).ok());
  EXPECT_EQ(Reply().yiaddr, A("10.1.0.101"));
}

TEST_F(ServerTest, ExhaustedPoolMakesNoOfferUntilAnAddressIsFree) {
  ServerConfig c = Config();
  c.pool_first = A("10.1.0.100");
  c.pool_last = A("10.1.0.101");
  Make(c);
  Lease(1, At(0));
  ASSERT_TRUE(Send(From(2, MessageType::kDiscover), At(0)).ok());
  EXPECT_EQ(Reply().yiaddr, A("10.1.0.101"));  // offered, reserved
  Status s = Send(From(3, MessageType::kDiscover), At(1));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kResource);
  NoReply();
  EXPECT_EQ(server_->counters().Dropped(ServerDrop::kPoolExhausted), 1u);
  // Client 2 never requests: its reservation lapses after offer_timeout and
  // the address goes to the client that needs one.
  server_->OnTimeout(At(30));
  EXPECT_EQ(server_->FindBinding(KeyOf(2))->state, BindingState::kFree);
  ASSERT_TRUE(Send(From(3, MessageType::kDiscover), At(31)).ok());
  EXPECT_EQ(Reply().yiaddr, A("10.1.0.101"));
  EXPECT_EQ(server_->FindBinding(KeyOf(2)), nullptr);  // its memory is gone
}

TEST_F(ServerTest, SelectingAnotherServerFreesOurOffer) {
  Make();
  ASSERT_TRUE(Send(From(1, MessageType::kDiscover), At(0)).ok());
  Message offer = Reply();
  Message req = From(1, MessageType::kRequest);
  req.options.server_id = A("10.1.0.2");
  req.options.requested_ip = A("10.1.0.77");
  Status s = Send(req, At(0));
  EXPECT_FALSE(s.ok());
  NoReply();
  EXPECT_EQ(server_->counters().Dropped(ServerDrop::kOtherServer), 1u);
  EXPECT_EQ(server_->BindingFor(offer.yiaddr)->state, BindingState::kFree);
}

TEST_F(ServerTest, SelectingRequestForAnAddressNotOfferedIsNaked) {
  Make();
  Lease(1, At(0));  // 10.1.0.100
  Message req = From(2, MessageType::kRequest);
  req.options.server_id = kServerAddr;
  req.options.requested_ip = A("10.1.0.100");
  ASSERT_TRUE(Send(req, At(1)).ok());
  ServerTransmit tx;
  Message nak = Reply(&tx);
  EXPECT_EQ(nak.type, MessageType::kNak);
  EXPECT_TRUE(nak.yiaddr.IsAny());
  EXPECT_FALSE(nak.options.lease_time.has_value());
  EXPECT_EQ(nak.options.server_id, kServerAddr);
  EXPECT_FALSE(nak.options.message.empty());
  EXPECT_EQ(tx.delivery, ReplyDelivery::kBroadcast);  // RFC 2131 4.1: NAKs are broadcast
}

TEST_F(ServerTest, InitRebootNaksAWrongNetworkAndStaysSilentForStrangers) {
  Make();
  const Ipv4Address a = Lease(1, At(0));
  // The client comes back on this link remembering an address of another.
  Message wrong = From(1, MessageType::kRequest);
  wrong.options.requested_ip = A("10.2.0.100");
  ASSERT_TRUE(Send(wrong, At(5)).ok());
  Message nak = Reply();
  EXPECT_EQ(nak.type, MessageType::kNak);
  EXPECT_EQ(nak.options.message, "wrong network");
  // Its own address: ACK.
  Message right = From(1, MessageType::kRequest);
  right.options.requested_ip = a;
  ASSERT_TRUE(Send(right, At(6)).ok());
  Message ack = Reply();
  EXPECT_EQ(ack.type, MessageType::kAck);
  EXPECT_EQ(ack.yiaddr, a);
  EXPECT_EQ(server_->BindingFor(a)->expires, At(3606));
  // Another client's address on the right network: NAK.
  Lease(2, At(7));
  Message theirs = From(2, MessageType::kRequest);
  theirs.options.requested_ip = a;
  ASSERT_TRUE(Send(theirs, At(8)).ok());
  EXPECT_EQ(Reply().type, MessageType::kNak);
  // A client with no record: silence (RFC 2131 4.3.2 MUST).
  Message stranger = From(9, MessageType::kRequest);
  stranger.options.requested_ip = A("10.1.0.150");
  EXPECT_FALSE(Send(stranger, At(9)).ok());
  NoReply();
  EXPECT_EQ(server_->counters().Dropped(ServerDrop::kUnknownClient), 1u);
}

TEST_F(ServerTest, RenewExtendsTheLeaseByUnicast) {
  Make();
  const Ipv4Address a = Lease(1, At(0));
  EXPECT_EQ(server_->BindingFor(a)->expires, At(3600));
  Message renew = From(1, MessageType::kRequest);
  renew.ciaddr = a;
  renew.set_broadcast(false);
  const Path unicast{{kServerAddr, kServerPort}, {a, kClientPort}, 1};
  ASSERT_TRUE(Send(renew, At(1800), unicast).ok());
  ServerTransmit tx;
  Message ack = Reply(&tx);
  EXPECT_EQ(ack.type, MessageType::kAck);
  EXPECT_EQ(ack.ciaddr, a);
  EXPECT_EQ(ack.yiaddr, a);
  EXPECT_EQ(tx.delivery, ReplyDelivery::kUnicast);
  EXPECT_EQ(tx.destination, (Ipv4Endpoint{a, kClientPort}));
  EXPECT_EQ(server_->BindingFor(a)->expires, At(5400));
  EXPECT_EQ(server_->NextTimeout(), At(5400));
  // Nothing expires at the old time.
  server_->OnTimeout(At(3600));
  EXPECT_EQ(server_->ActiveLeases(), 1u);
}

TEST_F(ServerTest, RenewOrRebindOfAnUnknownOrForeignAddress) {
  Make();
  const Ipv4Address a = Lease(1, At(0));
  const Path unicast{{kServerAddr, kServerPort}, {a, kClientPort}, 1};
  // Unicast RENEWING from a client we do not know: NAK.
  Message r = From(5, MessageType::kRequest);
  r.ciaddr = A("10.1.0.150");
  ASSERT_TRUE(Send(r, At(1), unicast).ok());
  EXPECT_EQ(Reply().type, MessageType::kNak);
  // Broadcast REBINDING from a stranger: silent (another server's client).
  EXPECT_FALSE(Send(r, At(1)).ok());
  NoReply();
  // Client 1 claiming another address: NAK.
  Message lie = From(1, MessageType::kRequest);
  lie.ciaddr = A("10.1.0.150");
  ASSERT_TRUE(Send(lie, At(1)).ok());
  EXPECT_EQ(Reply().type, MessageType::kNak);
  // Off-subnet ciaddr: NAK.
  Message away = From(1, MessageType::kRequest);
  away.ciaddr = A("10.9.0.5");
  ASSERT_TRUE(Send(away, At(1)).ok());
  EXPECT_EQ(Reply().type, MessageType::kNak);
  // Its lease still stands.
  EXPECT_EQ(server_->BindingFor(a)->state, BindingState::kBound);
}

TEST_F(ServerTest, DeclineTakesTheAddressOutOfThePoolForAWhile) {
  ServerConfig c = Config();
  c.decline_hold = Duration::Seconds(100);
  Make(c);
  ASSERT_TRUE(Send(From(1, MessageType::kDiscover), At(0)).ok());
  const Ipv4Address a = Reply().yiaddr;
  Message dec = From(1, MessageType::kDecline);
  dec.options.server_id = kServerAddr;
  dec.options.requested_ip = a;
  ASSERT_TRUE(Send(dec, At(1)).ok());
  NoReply();
  EXPECT_TRUE(server_->IsDeclined(a));
  EXPECT_EQ(server_->FindBinding(KeyOf(1)), nullptr);
  std::vector<ServerEvent> ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].kind, ServerEvent::Kind::kDeclined);
  // Not offered again, not even to the client asking for it by name.
  Message d = From(1, MessageType::kDiscover);
  d.options.requested_ip = a;
  ASSERT_TRUE(Send(d, At(2)).ok());
  EXPECT_NE(Reply().yiaddr, a);
  // After the hold it is usable again.
  server_->OnTimeout(At(101));
  EXPECT_FALSE(server_->IsDeclined(a));
  Message d2 = From(3, MessageType::kDiscover);
  d2.options.requested_ip = a;
  ASSERT_TRUE(Send(d2, At(102)).ok());
  EXPECT_EQ(Reply().yiaddr, a);
  // A decline of an address the client was never given is refused.
  Message forged = From(4, MessageType::kDecline);
  forged.options.server_id = kServerAddr;
  forged.options.requested_ip = A("10.1.0.101");
  EXPECT_FALSE(Send(forged, At(103)).ok());
  EXPECT_FALSE(server_->IsDeclined(A("10.1.0.101")));
}

TEST_F(ServerTest, InformGetsParametersOnly) {
  Make();
  Message inf = From(1, MessageType::kInform);
  inf.ciaddr = A("10.1.0.33");
  ASSERT_TRUE(Send(inf, At(0)).ok());
  ServerTransmit tx;
  Message ack = Reply(&tx);
  EXPECT_EQ(ack.type, MessageType::kAck);
  EXPECT_TRUE(ack.yiaddr.IsAny());
  EXPECT_FALSE(ack.options.lease_time.has_value());
  EXPECT_EQ(ack.options.subnet_mask, A("255.255.255.0"));
  EXPECT_EQ(tx.destination, (Ipv4Endpoint{A("10.1.0.33"), kClientPort}));
  EXPECT_EQ(server_->ActiveLeases(), 0u);
}

TEST_F(ServerTest, LeaseTimeRequestsAreClamped) {
  ServerConfig c = Config();
  c.min_lease_time = Duration::Seconds(60);
  c.max_lease_time = Duration::Seconds(7200);
  Make(c);
  Message d = From(1, MessageType::kDiscover);
  d.options.lease_time = 5;
  ASSERT_TRUE(Send(d, At(0)).ok());
  EXPECT_EQ(Reply().options.lease_time, 60u);
  d.options.lease_time = 100000;
  ASSERT_TRUE(Send(d, At(0)).ok());
  EXPECT_EQ(Reply().options.lease_time, 7200u);
  d.options.lease_time = 600;
  ASSERT_TRUE(Send(d, At(0)).ok());
  Message o = Reply();
  EXPECT_EQ(o.options.lease_time, 600u);
  EXPECT_EQ(o.options.renewal_time, 300u);
  EXPECT_EQ(o.options.rebinding_time, 525u);
}

TEST_F(ServerTest, RepliesGoWhereRfc2131Says) {
  Make();
  // No broadcast flag, no ciaddr: unicast to yiaddr at chaddr.
  Message d = From(1, MessageType::kDiscover);
  d.set_broadcast(false);
  ASSERT_TRUE(Send(d, At(0)).ok());
  ServerTransmit tx;
  Message offer = Reply(&tx);
  EXPECT_EQ(tx.delivery, ReplyDelivery::kHardwareUnicast);
  EXPECT_EQ(tx.destination, (Ipv4Endpoint{offer.yiaddr, kClientPort}));
  EXPECT_EQ(ToHex(tx.hardware_address), "020000000001");
  // Through a relay on our subnet: to the relay's server port; a NAK gets
  // the BROADCAST bit.
  Message relayed = From(2, MessageType::kDiscover);
  relayed.set_broadcast(false);
  relayed.giaddr = A("10.1.0.254");
  ASSERT_TRUE(Send(relayed, At(0)).ok());
  Reply(&tx);
  EXPECT_EQ(tx.delivery, ReplyDelivery::kRelay);
  EXPECT_EQ(tx.destination, (Ipv4Endpoint{A("10.1.0.254"), kServerPort}));
  Message nakme = From(3, MessageType::kRequest);
  nakme.set_broadcast(false);
  nakme.giaddr = A("10.1.0.254");
  nakme.options.requested_ip = A("10.7.0.1");
  ASSERT_TRUE(Send(nakme, At(0)).ok());
  Message nak = Reply(&tx);
  EXPECT_EQ(nak.type, MessageType::kNak);
  EXPECT_EQ(tx.delivery, ReplyDelivery::kRelay);
  EXPECT_TRUE(nak.broadcast());
  // A relay of another subnet: not ours.
  Message far = From(4, MessageType::kDiscover);
  far.giaddr = A("10.5.0.1");
  EXPECT_FALSE(Send(far, At(0)).ok());
  NoReply();
  EXPECT_EQ(server_->counters().Dropped(ServerDrop::kWrongRelay), 1u);
}

TEST_F(ServerTest, DropsBadInputWithoutChangingState) {
  Make();
  Lease(1, At(0));
  const std::vector<Binding> before = server_->Bindings();
  struct Case {
    const char* name;
    Message m;
    ServerDrop reason;
  };
  std::vector<Case> cases;
  Message m = From(2, MessageType::kOffer);
  cases.push_back({"offer", m, ServerDrop::kUnexpectedType});
  m = From(2, MessageType::kDiscover);
  m.op = Op::kBootReply;
  cases.push_back({"bootreply", m, ServerDrop::kNotBootRequest});
  m = From(2, static_cast<MessageType>(13));
  cases.push_back({"unknown type", m, ServerDrop::kUnexpectedType});
  m = From(2, MessageType::kRequest);
  cases.push_back({"request with nothing", m, ServerDrop::kBadRequest});
  m = From(2, MessageType::kRequest);
  m.options.server_id = kServerAddr;
  cases.push_back({"selecting without requested ip", m, ServerDrop::kBadRequest});
  m = From(2, MessageType::kRequest);
  m.options.requested_ip = A("10.1.0.100");
  m.ciaddr = A("10.1.0.100");
  cases.push_back({"init-reboot with ciaddr", m, ServerDrop::kBadRequest});
  m = From(1, MessageType::kRelease);
  m.ciaddr = A("10.1.0.100");
  m.options.server_id = A("10.1.0.2");
  cases.push_back({"release to another server", m, ServerDrop::kOtherServer});
  m = From(2, MessageType::kRelease);
  m.ciaddr = A("10.1.0.100");
  m.options.server_id = kServerAddr;
  cases.push_back({"release of someone else's", m, ServerDrop::kBadRequest});
  m = From(2, MessageType::kInform);
  cases.push_back({"inform without ciaddr", m, ServerDrop::kBadRequest});
  for (const Case& c : cases) {
    const std::uint64_t n = server_->counters().Dropped(c.reason);
    EXPECT_FALSE(Send(c.m, At(1)).ok()) << c.name;
    EXPECT_EQ(server_->counters().Dropped(c.reason), n + 1) << c.name;
    NoReply();
    EXPECT_TRUE(Events().empty()) << c.name;
  }
  EXPECT_FALSE(server_->OnDatagram(At(1), kBroadcastPath, Bytes(10, 1)).ok());
  EXPECT_EQ(server_->counters().Dropped(ServerDrop::kMalformed), 1u);
  const std::vector<Binding> after = server_->Bindings();
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].address, before[i].address);
    EXPECT_EQ(after[i].state, before[i].state);
    EXPECT_EQ(after[i].expires, before[i].expires);
  }
}

TEST_F(ServerTest, ConfigValidation) {
  EXPECT_TRUE(Config().Validate().ok());
  auto bad = [](auto mutate) {
    ServerConfig c = Config();
    mutate(c);
    return c.Validate();
  };
  EXPECT_FALSE(bad([](ServerConfig& c) { c.server_address = A("10.2.0.1"); }).ok());
  EXPECT_FALSE(bad([](ServerConfig& c) { c.pool_first = A("10.1.0.0"); }).ok());
  EXPECT_FALSE(bad([](ServerConfig& c) { c.pool_last = A("10.1.0.255"); }).ok());
  EXPECT_FALSE(bad([](ServerConfig& c) { c.pool_last = A("10.1.0.50"); }).ok());
  EXPECT_FALSE(bad([](ServerConfig& c) { c.routers = {A("10.3.0.1")}; }).ok());
  EXPECT_FALSE(bad([](ServerConfig& c) { c.lease_time = Duration::Zero(); }).ok());
  EXPECT_FALSE(bad([](ServerConfig& c) { c.max_lease_time = Duration::Seconds(5); }).ok());
  EXPECT_FALSE(bad([](ServerConfig& c) { c.subnet = *Ipv4Prefix::Parse("10.1.0.0/31"); }).ok());
  Status s = bad([](ServerConfig& c) { c.pool_first = A("10.9.0.1"); });
  EXPECT_NE(s.error().detail().find("pool"), std::string::npos);
  EXPECT_FALSE(Server::Create(ServerConfig{}, Logger()).ok());
}

// The two cores talk to each other: a full lease life.
TEST(DhcpCoresTest, ClientAndServerAgreeOverALeaseLifetime) {
  ServerConfig sc = Config();
  sc.lease_time = Duration::Seconds(100);
  Result<std::unique_ptr<Server>> server = Server::Create(sc, Logger());
  ASSERT_TRUE(server.ok());
  DeterministicRandom rng(3);
  ClientConfig cc;
  cc.chaddr = {0x02, 0, 0, 0, 0, 0x42};
  cc.renew_min_retransmit = Duration::Seconds(5);
  Result<std::unique_ptr<Client>> client = Client::Create(cc, rng, Logger());
  ASSERT_TRUE(client.ok());
  Server& s = **server;
  Client& c = **client;

  std::vector<ClientEvent> events;
  std::uint64_t exchanged = 0;
  // Deliver everything until both are quiet (zero delay "wire").
  auto pump = [&](Timestamp now) {
    for (bool moved = true; moved;) {
      moved = false;
      while (std::optional<ClientTransmit> t = c.PollTransmit()) {
        moved = true;
        ++exchanged;
        const Path p{t->destination, {t->source, kClientPort}, 1};
        (void)s.OnDatagram(now, p, t->bytes);
      }
      while (std::optional<ServerTransmit> t = s.PollTransmit()) {
        moved = true;
        ++exchanged;
        const Path p{t->destination, {t->source, kServerPort}, 1};
        (void)c.OnDatagram(now, p, t->bytes);
      }
      while (std::optional<ClientEvent> e = c.PollEvent()) events.push_back(*e);
    }
  };
  c.Start(At(0));
  pump(At(0));
  ASSERT_EQ(c.state(), ClientState::kBound);
  ASSERT_EQ(events.size(), 1u);
  const Ipv4Address a = std::get<BoundEvent>(events[0]).lease.address;
  EXPECT_EQ(a, A("10.1.0.100"));
  EXPECT_EQ(exchanged, 4u);
  // Run 1000 s of virtual time: the client renews every 50 s and the
  // server's lease never runs out.
  Timestamp now = At(0);
  while (now < At(1000)) {
    now = std::min(c.NextTimeout(), s.NextTimeout());
    c.OnTimeout(now);
    s.OnTimeout(now);
    pump(now);
    ASSERT_EQ(s.ActiveLeases(), 1u) << now.ToString();
  }
  EXPECT_GE(c.counters().renewals, 19u);
  EXPECT_EQ(c.counters().expiries, 0u);
  EXPECT_EQ(s.counters().expiries, 0u);
  // Release: the server frees it at once.
  c.Release(now);
  pump(now);
  EXPECT_EQ(s.ActiveLeases(), 0u);
  EXPECT_EQ(s.counters().releases, 1u);
  EXPECT_EQ(s.BindingFor(a)->state, BindingState::kFree);
}

}  // namespace
}  // namespace mipsec::dhcp

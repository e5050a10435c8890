// Fuzz target: the DHCP message codec (dhcp/message.h) and the two cores
// that consume it (dhcp/client.h, dhcp/server.h).
//
// Input: a DHCP message (UDP payload).
// Properties: no out-of-bounds read; parse -> serialize -> parse gives an
// equal Message and the same bytes again, at least 300 of them; a server
// and a client in every state that waits for a reply either accept the
// input or refuse it without any output, timer or state change.
#include <memory>

#include "common/random.h"
#include "dhcp/client.h"
#include "dhcp/message.h"
#include "dhcp/server.h"
#include "fuzz_target.h"
#include "fuzz_util.h"

using namespace mipsec;        // NOLINT: a fuzz target, not library code
using namespace mipsec::dhcp;  // NOLINT

namespace {

Ipv4Address A(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return Ipv4Address::FromOctets(a, b, c, d);
}

ServerConfig FuzzServerConfig() {
  ServerConfig c;
  c.server_address = A(10, 1, 0, 1);
  c.subnet = *Ipv4Prefix::Parse("10.1.0.0/24");
  c.pool_first = A(10, 1, 0, 100);
  c.pool_last = A(10, 1, 0, 101);
  c.routers = {A(10, 1, 0, 1)};
  return c;
}

// A client whose chaddr matches the corpus seeds (02:00:00:00:00:01).
std::unique_ptr<Client> FuzzClient(RandomSource& rng) {
  ClientConfig c;
  c.chaddr = {0x02, 0, 0, 0, 0, 0x01};
  return std::move(*Client::Create(c, rng, Logger()));
}

// Feeds `in` to `client` and checks that a refusal changed nothing.
void Drain(Client& client) {
  while (client.PollTransmit()) {
  }
  while (client.PollEvent()) {
  }
}

void FeedClient(Client& client, ByteSpan in, Timestamp now) {
  Drain(client);
  const ClientState state = client.state();
  const Timestamp next = client.NextTimeout();
  const std::uint32_t xid = client.xid();
  const Path p{{Ipv4Address::Broadcast(), kClientPort}, {A(10, 1, 0, 1), kServerPort}, 1};
  Status s = client.OnDatagram(now, p, in);
  if (!s.ok()) {
    FUZZ_CHECK(client.state() == state);
    FUZZ_CHECK(client.NextTimeout() == next);
    FUZZ_CHECK(client.xid() == xid);
    FUZZ_CHECK(!client.PollTransmit().has_value());
    FUZZ_CHECK(!client.PollEvent().has_value());
  }
  Drain(client);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan in(data, size);
  Result<Message> m = ParseMessage(in);
  if (m.ok()) {
    FUZZ_CHECK(m->hlen <= 16);
    const Bytes wire = SerializeMessage(*m);
    FUZZ_CHECK(wire.size() >= kMinMessageSize);
    Result<Message> again = ParseMessage(wire);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again == *m);
    FUZZ_CHECK(fuzz::SameBytes(SerializeMessage(*again), wire));
    (void)Describe(*m);
  }

  // The server: anything refused leaves no trace.
  std::unique_ptr<Server> server = std::move(*Server::Create(FuzzServerConfig(), Logger()));
  const Path to_server{
      {Ipv4Address::Broadcast(), kServerPort}, {Ipv4Address::Any(), kClientPort}, 1};
  for (int round = 0; round < 2; ++round) {  // twice: the second sees the first's binding
    const std::size_t bindings = server->Bindings().size();
    const Timestamp next = server->NextTimeout();
    Status s = server->OnDatagram(Timestamp::Zero(), to_server, in);
    if (!s.ok()) {
      FUZZ_CHECK(server->Bindings().size() == bindings);
      FUZZ_CHECK(server->NextTimeout() == next);
      FUZZ_CHECK(!server->PollTransmit().has_value());
    }
    while (std::optional<ServerTransmit> t = server->PollTransmit()) {
      FUZZ_CHECK(ParseMessage(t->bytes).ok());  // our replies always parse
    }
    while (server->PollEvent()) {
    }
  }

  // The client in SELECTING, then (after a genuine OFFER) REQUESTING; the
  // input's xid will rarely match, so also try it with the client's xid.
  DeterministicRandom rng(1);
  std::unique_ptr<Client> client = FuzzClient(rng);
  client->Start(Timestamp::Zero());
  FeedClient(*client, in, Timestamp::Zero());
  if (m.ok() && size >= 8) {
    Bytes patched(in.begin(), in.end());
    const std::uint32_t xid = client->xid();
    patched[4] = static_cast<std::uint8_t>(xid >> 24);
    patched[5] = static_cast<std::uint8_t>(xid >> 16);
    patched[6] = static_cast<std::uint8_t>(xid >> 8);
    patched[7] = static_cast<std::uint8_t>(xid);
    FeedClient(*client, patched, Timestamp::Zero() + Duration::Millis(1));
    client->OnTimeout(Timestamp::Zero() + Duration::Seconds(100000));
    FeedClient(*client, patched, Timestamp::Zero() + Duration::Seconds(100000));
  }
  return 0;
}

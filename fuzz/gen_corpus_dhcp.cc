// Writes the DHCP seed corpus (fuzz/corpus/dhcp/) with mipsec's own encoder:
//
//   build/<dir>/fuzz/fuzz_gen_corpus_dhcp fuzz/corpus
//
// One seed per message a client or server sends, in each RFC 2131 state,
// plus edge cases: long options split per RFC 3396, unknown options, an
// infinite lease, padding after END. Client seeds use chaddr
// 02:00:00:00:00:01, the fuzz target's client. Output is deterministic.
// (Separate from gen_corpus.cc, which links `common` only.)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/bytes.h"
#include "dhcp/message.h"

using namespace mipsec;        // NOLINT: a tool, not library code
using namespace mipsec::dhcp;  // NOLINT

namespace {

std::filesystem::path g_root;
int g_written = 0;

void Write(const std::string& name, ByteSpan bytes) {
  const std::filesystem::path dir = g_root / "dhcp";
  std::filesystem::create_directories(dir);
  std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ++g_written;
}

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

Message FromClient(MessageType type) {
  Message m;
  m.op = Op::kBootRequest;
  m.type = type;
  m.xid = 0x5eed0001;
  m.chaddr = {0x02, 0, 0, 0, 0, 0x01};
  m.set_broadcast(true);
  if (type == MessageType::kDiscover || type == MessageType::kRequest) {
    m.options.parameter_request_list = {1, 3, 6, 15, 51, 58, 59};
  }
  return m;
}

Message FromServer(MessageType type) {
  Message m;
  m.op = Op::kBootReply;
  m.type = type;
  m.xid = 0x5eed0001;
  m.chaddr = {0x02, 0, 0, 0, 0, 0x01};
  m.set_broadcast(true);
  m.options.server_id = A("10.1.0.1");
  if (type != MessageType::kNak) {
    m.yiaddr = A("10.1.0.100");
    m.options.lease_time = 3600;
    m.options.renewal_time = 1800;
    m.options.rebinding_time = 3150;
    m.options.subnet_mask = A("255.255.255.0");
    m.options.routers = {A("10.1.0.1")};
    m.options.dns_servers = {A("192.0.2.53"), A("192.0.2.54")};
    m.options.domain_name = "corp.example";
  } else {
    m.options.message = "wrong network";
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  g_root = argv[1];

  Message discover = FromClient(MessageType::kDiscover);
  discover.options.client_id = {0x01, 0x02, 0, 0, 0, 0, 0x01};
  discover.options.max_message_size = 1500;
  Write("discover", SerializeMessage(discover));

  Message selecting = FromClient(MessageType::kRequest);
  selecting.options.server_id = A("10.1.0.1");
  selecting.options.requested_ip = A("10.1.0.100");
  Write("request_selecting", SerializeMessage(selecting));

  Message reboot = FromClient(MessageType::kRequest);
  reboot.options.requested_ip = A("10.1.0.100");
  Write("request_init_reboot", SerializeMessage(reboot));

  Message renew = FromClient(MessageType::kRequest);
  renew.set_broadcast(false);
  renew.ciaddr = A("10.1.0.100");
  Write("request_renewing", SerializeMessage(renew));

  Message decline = FromClient(MessageType::kDecline);
  decline.options.server_id = A("10.1.0.1");
  decline.options.requested_ip = A("10.1.0.100");
  Write("decline", SerializeMessage(decline));

  Message release = FromClient(MessageType::kRelease);
  release.set_broadcast(false);
  release.ciaddr = A("10.1.0.100");
  release.options.server_id = A("10.1.0.1");
  Write("release", SerializeMessage(release));

  Message inform = FromClient(MessageType::kInform);
  inform.ciaddr = A("10.1.0.33");
  Write("inform", SerializeMessage(inform));

  Write("offer", SerializeMessage(FromServer(MessageType::kOffer)));
  Write("ack", SerializeMessage(FromServer(MessageType::kAck)));
  Write("nak", SerializeMessage(FromServer(MessageType::kNak)));

  Message infinite = FromServer(MessageType::kAck);
  infinite.options.lease_time = kInfiniteLease;
  infinite.options.renewal_time.reset();
  infinite.options.rebinding_time.reset();
  Write("ack_infinite", SerializeMessage(infinite));

  // RFC 3396 split options and options we keep raw.
  Message odd = FromServer(MessageType::kOffer);
  odd.options.domain_name = std::string(300, 'd');
  odd.options.unknown = {RawOption{12, {'m', 'n'}}, RawOption{80, {}},
                         RawOption{121, {24, 10, 2, 0, 10, 1, 0, 1}}};
  odd.giaddr = A("10.1.0.254");
  odd.hops = 1;
  Write("offer_long_and_unknown_options", SerializeMessage(odd));

  // Padding and garbage after END (ignored by the parser).
  Bytes trailing = SerializeMessage(FromServer(MessageType::kAck));
  trailing.insert(trailing.end(), {0xde, 0xad, 0xbe, 0xef, 0x35, 0x01});
  Write("ack_trailing_bytes", trailing);

  std::printf("wrote %d seed files under %s/dhcp\n", g_written, argv[1]);
  return 0;
}

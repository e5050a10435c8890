#include "dhcp/message.h"

#include <string>

#include <gtest/gtest.h>

namespace mipsec::dhcp {
namespace {

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

Bytes Hex(std::string_view h) {
  Result<Bytes> b = FromHex(h);
  EXPECT_TRUE(b.ok()) << h;
  return b.value_or(Bytes{});
}

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes PadTo(Bytes b, std::size_t n) {
  if (b.size() < n) b.resize(n, 0);
  return b;
}

// The 236-byte fixed part, written field by field from RFC 2131 figure 1.
Bytes Fixed(std::string_view op_htype_hlen_hops, std::string_view xid, std::string_view secs_flags,
            std::string_view ciaddr, std::string_view yiaddr, std::string_view siaddr,
            std::string_view giaddr, std::string_view chaddr6) {
  Bytes b = Cat({Hex(op_htype_hlen_hops), Hex(xid), Hex(secs_flags), Hex(ciaddr), Hex(yiaddr),
                 Hex(siaddr), Hex(giaddr), Hex(chaddr6)});
  b.resize(b.size() + 10 + 64 + 128, 0);  // rest of chaddr, sname, file
  return b;
}

const Bytes kCookie = {0x63, 0x82, 0x53, 0x63};

// A DHCPDISCOVER from 00:05:3c:04:8d:59 asking for 192.168.1.100, built by
// hand (RFC 2131 figure 1 and RFC 2132 option formats).
Bytes KnownDiscover() {
  return PadTo(Cat({Fixed("01010600", "3903f326", "00008000", "00000000", "00000000", "00000000",
                          "00000000", "00053c048d59"),
                    kCookie,
                    Hex("350101"),                    // 53: DHCPDISCOVER
                    Hex("3204c0a80164"),              // 50: 192.168.1.100
                    Hex("3d0701" "00053c048d59"),     // 61: type 1 + MAC
                    Hex("3704" "0103060f"),           // 55: 1 3 6 15
                    Hex("ff")}),
               300);
}

// The server's DHCPOFFER of 192.168.1.100 with a one-hour lease.
Bytes KnownOffer() {
  return PadTo(Cat({Fixed("02010600", "3903f326", "00008000", "00000000", "c0a80164", "00000000",
                          "00000000", "00053c048d59"),
                    kCookie,
                    Hex("350102"),                    // 53: DHCPOFFER
                    Hex("3604c0a80101"),              // 54: server 192.168.1.1
                    Hex("330400000e10"),              // 51: 3600 s
                    Hex("3a0400000708"),              // 58: 1800 s
                    Hex("3b0400000c4e"),              // 59: 3150 s
                    Hex("0104ffffff00"),              // 1: 255.255.255.0
                    Hex("0304c0a80101"),              // 3: 192.168.1.1
                    Hex("060808080808" "08080404"),   // 6: 8.8.8.8 8.8.4.4
                    Hex("0f07") , Bytes(AsBytes("example").begin(), AsBytes("example").end()),
                    Hex("ff")}),
               300);
}

Message DiscoverValue() {
  Message m;
  m.op = Op::kBootRequest;
  m.xid = 0x3903f326;
  m.set_broadcast(true);
  m.chaddr = {0x00, 0x05, 0x3c, 0x04, 0x8d, 0x59};
  m.type = MessageType::kDiscover;
  m.options.requested_ip = A("192.168.1.100");
  m.options.client_id = Hex("0100053c048d59");
  m.options.parameter_request_list = {1, 3, 6, 15};
  return m;
}

TEST(DhcpMessageTest, SerializesAKnownDiscoverByteForByte) {
  const Bytes ours = SerializeMessage(DiscoverValue());
  EXPECT_EQ(ToHex(ours), ToHex(KnownDiscover()));
  EXPECT_EQ(ours.size(), 300u);
}

TEST(DhcpMessageTest, ParsesAKnownDiscover) {
  Result<Message> m = ParseMessage(KnownDiscover());
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(*m, DiscoverValue());
  EXPECT_TRUE(m->broadcast());
  EXPECT_EQ(ToHex(m->hardware_address()), "00053c048d59");
}

TEST(DhcpMessageTest, ParsesAKnownOffer) {
  Result<Message> m = ParseMessage(KnownOffer());
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->op, Op::kBootReply);
  EXPECT_EQ(m->type, MessageType::kOffer);
  EXPECT_EQ(m->xid, 0x3903f326u);
  EXPECT_EQ(m->yiaddr, A("192.168.1.100"));
  EXPECT_EQ(m->options.server_id, A("192.168.1.1"));
  EXPECT_EQ(m->options.lease_time, 3600u);
  EXPECT_EQ(m->options.renewal_time, 1800u);
  EXPECT_EQ(m->options.rebinding_time, 3150u);
  EXPECT_EQ(m->options.subnet_mask, A("255.255.255.0"));
  EXPECT_EQ(m->options.routers, std::vector<Ipv4Address>{A("192.168.1.1")});
  EXPECT_EQ(m->options.dns_servers, (std::vector<Ipv4Address>{A("8.8.8.8"), A("8.8.4.4")}));
  EXPECT_EQ(m->options.domain_name, "example");
  EXPECT_TRUE(m->options.unknown.empty());
  // And our encoder writes the same bytes back.
  EXPECT_EQ(ToHex(SerializeMessage(*m)), ToHex(KnownOffer()));
}

TEST(DhcpMessageTest, RoundTripsEveryField) {
  Message m;
  m.op = Op::kBootReply;
  m.htype = 6;
  m.hlen = 16;
  m.hops = 3;
  m.xid = 0xdeadbeef;
  m.secs = 77;
  m.flags = 0x8001;  // reserved bits are kept
  m.ciaddr = A("10.0.0.1");
  m.yiaddr = A("10.0.0.2");
  m.siaddr = A("10.0.0.3");
  m.giaddr = A("10.0.0.4");
  for (std::size_t i = 0; i < 16; ++i) m.chaddr[i] = static_cast<std::uint8_t>(0xa0 + i);
  m.sname[0] = 's';
  m.file[127] = 'f';
  m.type = MessageType::kAck;
  Options& o = m.options;
  o.subnet_mask = A("255.255.240.0");
  o.routers = {A("10.0.0.254"), A("10.0.0.253")};
  o.dns_servers = {A("192.0.2.53")};
  o.domain_name = "corp.example";
  o.requested_ip = A("10.0.0.2");
  o.lease_time = kInfiniteLease;
  o.server_id = A("10.0.0.254");
  o.parameter_request_list = {1, 3};
  o.message = "hello";
  o.max_message_size = 1500;
  o.renewal_time = 10;
  o.rebinding_time = 20;
  o.client_id = {0xff, 1, 2, 3};
  o.unknown = {RawOption{12, Bytes{'m', 'n'}}, RawOption{80, {}}, RawOption{224, Bytes(300, 7)}};
  const Bytes wire = SerializeMessage(m);
  Result<Message> back = ParseMessage(wire);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, m);
  EXPECT_EQ(SerializeMessage(*back), wire);
  EXPECT_GT(wire.size(), 300u);  // no padding needed past the minimum
}

TEST(DhcpMessageTest, SplitsLongOptionsAndJoinsThemBack) {
  // RFC 3396: a value over 255 bytes goes out as several instances.
  Message m = DiscoverValue();
  m.options.domain_name = std::string(600, 'x');
  const Bytes wire = SerializeMessage(m);
  // Walk the options: 600 = 255 + 255 + 90, three instances of option 15.
  std::vector<std::size_t> lengths;
  for (std::size_t i = kMinParseSize; i < wire.size() && wire[i] != option::kEnd;) {
    if (wire[i] == option::kPad) {
      ++i;
      continue;
    }
    if (wire[i] == option::kDomainName) lengths.push_back(wire[i + 1]);
    i += 2 + wire[i + 1];
  }
  EXPECT_EQ(lengths, (std::vector<std::size_t>{255, 255, 90}));
  Result<Message> back = ParseMessage(wire);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->options.domain_name, m.options.domain_name);
}

TEST(DhcpMessageTest, SkipsPadAndIgnoresBytesAfterEnd) {
  Bytes b = Cat({Fixed("02010600", "00000001", "00000000", "00000000", "0a000005", "00000000",
                       "00000000", "020000000001"),
                 kCookie, Hex("00 00 350105 00 3604 0a000001 ff"), Hex("0102030405")});
  Result<Message> m = ParseMessage(b);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->type, MessageType::kAck);
  EXPECT_EQ(m->options.server_id, A("10.0.0.1"));
}

TEST(DhcpMessageTest, KeepsUnknownOptionsInOrder) {
  Bytes b = Cat({Fixed("01010600", "00000001", "00000000", "00000000", "00000000", "00000000",
                       "00000000", "020000000001"),
                 kCookie, Hex("0c026d6e 350101 3c0378797a 0c0121 ff")});
  Result<Message> m = ParseMessage(b);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  ASSERT_EQ(m->options.unknown.size(), 2u);
  EXPECT_EQ(m->options.unknown[0].code, 12);  // host name, both instances joined
  EXPECT_EQ(m->options.unknown[0].data, Hex("6d6e21"));
  EXPECT_EQ(m->options.unknown[1].code, 60);
  EXPECT_EQ(m->options.unknown[1].data, Hex("78797a"));
}

TEST(DhcpMessageTest, MessageIsPaddedToTheBootpMinimum) {
  Message m;
  m.type = MessageType::kRelease;
  const Bytes wire = SerializeMessage(m);
  EXPECT_EQ(wire.size(), kMinMessageSize);
  EXPECT_EQ(wire[kMinParseSize + 3], option::kEnd);  // 53 01 07 then END
  for (std::size_t i = kMinParseSize + 4; i < wire.size(); ++i) EXPECT_EQ(wire[i], 0);
}

struct BadCase {
  const char* name;
  Bytes bytes;
  Errc code;
  const char* needle;  // in the error detail
};

Bytes Request(std::string_view options_hex) {
  return Cat({Fixed("01010600", "00000001", "00000000", "00000000", "00000000", "00000000",
                    "00000000", "020000000001"),
              kCookie, Hex(options_hex)});
}

TEST(DhcpMessageTest, RefusesBrokenMessagesWithClearErrors) {
  Bytes bad_op = KnownDiscover();
  bad_op[0] = 3;
  Bytes bad_hlen = KnownDiscover();
  bad_hlen[2] = 17;
  Bytes bad_cookie = KnownDiscover();
  bad_cookie[236 + 3] = 0x64;
  const std::vector<BadCase> cases = {
      {"short", Bytes(239, 0), Errc::kTruncated, "239 bytes"},
      {"op", bad_op, Errc::kMalformed, "op 3"},
      {"hlen", bad_hlen, Errc::kMalformed, "hlen 17"},
      {"cookie", bad_cookie, Errc::kMalformed, "magic cookie"},
      {"option past end", Request("350101 3304 0000"), Errc::kTruncated, "option 51 data"},
      {"length past end", Request("350101 33"), Errc::kTruncated, "option 51 length"},
      {"no end", Request("350101 3304 00000e10"), Errc::kMalformed, "no END"},
      {"no type", Request("3304 00000e10 ff"), Errc::kMalformed, "option 53"},
      {"type twice", Request("350101 350101 ff"), Errc::kMalformed, "appears 2 times"},
      {"type length", Request("35020101 ff"), Errc::kMalformed, "must be 1"},
      {"type zero", Request("350100 ff"), Errc::kMalformed, "type 0"},
      {"lease length", Request("350101 3303 000e10 ff"), Errc::kMalformed, "option 51"},
      {"server id twice", Request("350101 3604 0a000001 3604 0a000002 ff"), Errc::kMalformed,
       "length 8, must be 4"},
      {"mask length", Request("350101 0102 ffff ff"), Errc::kMalformed, "option 1"},
      {"router length", Request("350101 0305 0a00000101 ff"), Errc::kMalformed, "multiple of 4"},
      {"dns empty", Request("350101 0600 ff"), Errc::kMalformed, "option 6"},
      {"domain empty", Request("350101 0f00 ff"), Errc::kMalformed, "option 15"},
      {"client id short", Request("350101 3d0101 ff"), Errc::kMalformed, "at least 2"},
      {"max size small", Request("350101 39020100 ff"), Errc::kMalformed, "below 576"},
      {"max size length", Request("350101 3901ff ff"), Errc::kMalformed, "must be 2"},
      {"t1 length", Request("350101 3a020001 ff"), Errc::kMalformed, "option 58"},
      {"overload", Request("350101 340103 ff"), Errc::kUnsupported, "option 52"},
  };
  for (const BadCase& c : cases) {
    Result<Message> m = ParseMessage(c.bytes);
    ASSERT_FALSE(m.ok()) << c.name;
    EXPECT_EQ(m.error().code(), c.code) << c.name << ": " << m.error().ToString();
    EXPECT_NE(m.error().detail().find(c.needle), std::string::npos)
        << c.name << ": " << m.error().ToString();
  }
}

TEST(DhcpMessageTest, NoReadPastAnyTruncation) {
  // Every prefix that cuts the message before its END fails cleanly (the
  // driver hands the parser an exactly-sized buffer, so ASan would see an
  // over-read).
  const Bytes full = KnownOffer();
  const std::size_t end_at = 240 + 3 + 6 * 6 + 10 + 9;  // offset of END
  ASSERT_EQ(full[end_at], option::kEnd);
  EXPECT_TRUE(ParseMessage(ByteSpan(full.data(), end_at + 1)).ok());
  for (std::size_t n = 0; n <= end_at; ++n) {
    Bytes exact(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    Result<Message> m = ParseMessage(exact);
    EXPECT_FALSE(m.ok()) << n;
  }
}

TEST(DhcpMessageTest, MaskToPrefixLength) {
  EXPECT_EQ(MaskToPrefixLength(A("255.255.255.0")), 24);
  EXPECT_EQ(MaskToPrefixLength(A("255.255.255.255")), 32);
  EXPECT_EQ(MaskToPrefixLength(A("0.0.0.0")), 0);
  EXPECT_EQ(MaskToPrefixLength(A("255.255.254.0")), 23);
  EXPECT_EQ(MaskToPrefixLength(A("255.0.255.0")), std::nullopt);
  EXPECT_EQ(MaskToPrefixLength(A("0.0.0.255")), std::nullopt);
}

TEST(DhcpMessageTest, NamesAndDescriptions) {
  EXPECT_EQ(MessageTypeName(MessageType::kNak), "DHCPNAK");
  EXPECT_EQ(MessageTypeName(static_cast<MessageType>(13)), "DHCP type 13");
  Result<Message> m = ParseMessage(KnownOffer());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(
      Describe(*m),
      "DHCPOFFER xid 0x3903f326 yiaddr 192.168.1.100 server 192.168.1.1 lease 3600s broadcast");
  EXPECT_TRUE(option::IsTyped(53));
  EXPECT_FALSE(option::IsTyped(12));
}

}  // namespace
}  // namespace mipsec::dhcp

#include "common/ip/address.h"

#include <sstream>
#include <string>
#include <unordered_set>

#include <gtest/gtest.h>

namespace mipsec {
namespace {

Ipv4Address A(std::string_view s) { return *Ipv4Address::Parse(s); }
Ipv4Prefix P(std::string_view s) { return *Ipv4Prefix::Parse(s); }

TEST(Ipv4AddressTest, ParseAndPrint) {
  for (const char* s : {"0.0.0.0", "192.0.2.1", "255.255.255.255", "10.0.0.254", "1.22.133.4"}) {
    Result<Ipv4Address> a = Ipv4Address::Parse(s);
    ASSERT_TRUE(a.ok()) << s << ": " << a.error().ToString();
    EXPECT_EQ(a->ToString(), s);
  }
  EXPECT_EQ(A("192.0.2.1").ToHostOrder(), 0xc0000201u);
  EXPECT_EQ(A("192.0.2.1"), Ipv4Address::FromOctets(192, 0, 2, 1));
}

TEST(Ipv4AddressTest, RejectsBadText) {
  for (const char* s :
       {"", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4x", "1..2.3",
        "1.2.3.", ".1.2.3", "010.1.1.1", "1.2.3.00", "1.2.3.-1", "+1.2.3.4", "1.2.3.1000",
        "0x1.2.3.4", "1.2.3.4/8", "1.2.3.4:80", "a.b.c.d", "1,2,3,4", "999.999.999.999"}) {
    Result<Ipv4Address> a = Ipv4Address::Parse(s);
    EXPECT_FALSE(a.ok()) << '"' << s << "\" parsed as " << a->ToString();
    if (!a.ok()) {
      EXPECT_EQ(a.error().code(), Errc::kMalformed) << s;
    }
  }
  EXPECT_EQ(Ipv4Address::Parse("256.1.1.1").error().detail(),
            "ipv4 address \"256.1.1.1\": octet 1 is greater than 255");
  EXPECT_EQ(Ipv4Address::Parse("010.1.1.1").error().detail(),
            "ipv4 address \"010.1.1.1\": octet 1 has a leading zero (octal is ambiguous)");
  EXPECT_EQ(Ipv4Address::Parse("1.2.3").error().detail(),
            "ipv4 address \"1.2.3\": needs four dot-separated octets");
  // An embedded NUL is junk too.
  EXPECT_FALSE(Ipv4Address::Parse(std::string_view("1.2.3.4\0", 8)).ok());
}

TEST(Ipv4AddressTest, BytesAreNetworkOrder) {
  const Ipv4Address a = Ipv4Address::FromOctets(198, 51, 100, 7);
  const std::array<std::uint8_t, 4> b = a.ToBytes();
  EXPECT_EQ(b, (std::array<std::uint8_t, 4>{198, 51, 100, 7}));
  EXPECT_EQ(Ipv4Address::FromBytes(b), a);
  static_assert(Ipv4Address::FromOctets(1, 2, 3, 4).ToHostOrder() == 0x01020304u);
  static_assert(Ipv4Address::FromHostOrder(0x01020304u).ToBytes()[0] == 1);
}

TEST(Ipv4AddressTest, WellKnownAddressesAndPredicates) {
  EXPECT_EQ(Ipv4Address::Any().ToString(), "0.0.0.0");
  EXPECT_EQ(Ipv4Address::Broadcast().ToString(), "255.255.255.255");
  EXPECT_EQ(Ipv4Address::Loopback().ToString(), "127.0.0.1");
  EXPECT_EQ(Ipv4Address::AllSystems().ToString(), "224.0.0.1");
  EXPECT_EQ(Ipv4Address::AllRouters().ToString(), "224.0.0.2");
  EXPECT_EQ(Ipv4Address::AllMobilityAgents().ToString(), "224.0.0.11");

  EXPECT_TRUE(Ipv4Address::Any().IsAny());
  EXPECT_TRUE(A("255.255.255.255").IsLimitedBroadcast());
  EXPECT_FALSE(A("10.255.255.255").IsLimitedBroadcast());
  EXPECT_TRUE(A("127.1.2.3").IsLoopback());
  EXPECT_FALSE(A("128.0.0.1").IsLoopback());
  EXPECT_TRUE(A("224.0.0.11").IsMulticast());
  EXPECT_TRUE(A("239.255.255.255").IsMulticast());
  EXPECT_FALSE(A("223.255.255.255").IsMulticast());
  EXPECT_FALSE(A("240.0.0.1").IsMulticast());
  EXPECT_TRUE(A("224.0.0.255").IsLinkLocalMulticast());
  EXPECT_FALSE(A("224.0.1.1").IsLinkLocalMulticast());
  EXPECT_TRUE(A("169.254.7.7").IsLinkLocal());

  // RFC 1918 boundaries.
  EXPECT_TRUE(A("10.0.0.0").IsPrivate());
  EXPECT_TRUE(A("10.255.255.255").IsPrivate());
  EXPECT_FALSE(A("11.0.0.0").IsPrivate());
  EXPECT_FALSE(A("172.15.255.255").IsPrivate());
  EXPECT_TRUE(A("172.16.0.0").IsPrivate());
  EXPECT_TRUE(A("172.31.255.255").IsPrivate());
  EXPECT_FALSE(A("172.32.0.0").IsPrivate());
  EXPECT_TRUE(A("192.168.0.1").IsPrivate());
  EXPECT_FALSE(A("192.169.0.1").IsPrivate());
  EXPECT_FALSE(A("192.0.2.1").IsPrivate());

  EXPECT_TRUE(A("192.0.2.1").IsUnicast());
  for (const char* s : {"0.0.0.0", "127.0.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255"}) {
    EXPECT_FALSE(A(s).IsUnicast()) << s;
  }
}

TEST(Ipv4AddressTest, OrderingHashingStreaming) {
  EXPECT_LT(A("9.255.255.255"), A("10.0.0.0"));
  EXPECT_LT(A("10.0.0.1"), A("10.0.0.2"));
  std::unordered_set<Ipv4Address> set = {A("10.0.0.1"), A("10.0.0.2"), A("10.0.0.1")};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_TRUE(set.contains(A("10.0.0.2")));
  std::ostringstream os;
  os << A("192.0.2.9");
  EXPECT_EQ(os.str(), "192.0.2.9");
}

TEST(Ipv4PrefixTest, ParseStrict) {
  const Ipv4Prefix p = P("10.0.0.0/8");
  EXPECT_EQ(p.address(), A("10.0.0.0"));
  EXPECT_EQ(p.length(), 8);
  EXPECT_EQ(p.ToString(), "10.0.0.0/8");
  EXPECT_EQ(P("0.0.0.0/0").length(), 0);
  EXPECT_EQ(P("192.0.2.1/32").ToString(), "192.0.2.1/32");
  for (const char* s : {"", "10.0.0.0", "10.0.0.0/", "1.2.3.4/33", "10.0.0.1/8", "10.0.0.0/08",
                        "10.0.0.0/-1", "10.0.0.0/8 ", "10.0.0.0/8/8", "256.0.0.0/8", "/8",
                        "10.0.0.0/100", "10.0.0.0/x"}) {
    Result<Ipv4Prefix> r = Ipv4Prefix::Parse(s);
    EXPECT_FALSE(r.ok()) << '"' << s << "\" parsed as " << r->ToString();
    if (!r.ok()) {
      EXPECT_EQ(r.error().code(), Errc::kMalformed) << s;
    }
  }
  EXPECT_EQ(Ipv4Prefix::Parse("10.0.0.1/8").error().detail(),
            "ipv4 prefix \"10.0.0.1/8\": host bits are set");
  EXPECT_EQ(Ipv4Prefix::Parse("1.2.3.4/33").error().detail(),
            "ipv4 prefix \"1.2.3.4/33\": length is greater than 32");
}

TEST(Ipv4PrefixTest, CreateAndMask) {
  EXPECT_TRUE(Ipv4Prefix::Create(A("192.0.2.0"), 24).ok());
  Result<Ipv4Prefix> bad = Ipv4Prefix::Create(A("192.0.2.77"), 24);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::kInvalidArgument);
  EXPECT_FALSE(Ipv4Prefix::Create(A("0.0.0.0"), 33).ok());
  EXPECT_FALSE(Ipv4Prefix::Create(A("0.0.0.0"), -1).ok());

  Result<Ipv4Prefix> m = Ipv4Prefix::FromAddressAndLength(A("192.0.2.77"), 24);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->ToString(), "192.0.2.0/24");
  EXPECT_EQ(Ipv4Prefix::FromAddressAndLength(A("192.0.2.77"), 0)->ToString(), "0.0.0.0/0");
  EXPECT_EQ(Ipv4Prefix::FromAddressAndLength(A("192.0.2.77"), 32)->ToString(), "192.0.2.77/32");
  EXPECT_EQ(Ipv4Prefix::FromAddressAndLength(A("172.31.200.1"), 12)->ToString(), "172.16.0.0/12");
  EXPECT_FALSE(Ipv4Prefix::FromAddressAndLength(A("1.2.3.4"), 33).ok());
  EXPECT_EQ(Ipv4Prefix::Host(A("192.0.2.5")).ToString(), "192.0.2.5/32");
  EXPECT_EQ(Ipv4Prefix().ToString(), "0.0.0.0/0");
}

TEST(Ipv4PrefixTest, NetmaskBroadcastContains) {
  const Ipv4Prefix p = P("192.0.2.0/24");
  EXPECT_EQ(p.Netmask().ToString(), "255.255.255.0");
  EXPECT_EQ(p.Broadcast().ToString(), "192.0.2.255");
  EXPECT_EQ(P("0.0.0.0/0").Netmask().ToString(), "0.0.0.0");
  EXPECT_EQ(P("0.0.0.0/0").Broadcast().ToString(), "255.255.255.255");
  EXPECT_EQ(P("10.1.2.3/32").Netmask().ToString(), "255.255.255.255");
  EXPECT_EQ(P("10.1.2.3/32").Broadcast().ToString(), "10.1.2.3");
  EXPECT_EQ(P("172.16.0.0/12").Netmask().ToString(), "255.240.0.0");
  EXPECT_EQ(P("172.16.0.0/12").Broadcast().ToString(), "172.31.255.255");

  EXPECT_TRUE(p.Contains(A("192.0.2.0")));
  EXPECT_TRUE(p.Contains(A("192.0.2.255")));
  EXPECT_FALSE(p.Contains(A("192.0.3.0")));
  EXPECT_FALSE(p.Contains(A("192.0.1.255")));
  EXPECT_TRUE(P("0.0.0.0/0").Contains(A("255.255.255.255")));
  EXPECT_TRUE(P("10.1.2.3/32").Contains(A("10.1.2.3")));
  EXPECT_FALSE(P("10.1.2.3/32").Contains(A("10.1.2.4")));

  EXPECT_TRUE(P("10.0.0.0/8").Contains(P("10.20.0.0/16")));
  EXPECT_TRUE(P("10.0.0.0/8").Contains(P("10.0.0.0/8")));
  EXPECT_FALSE(P("10.20.0.0/16").Contains(P("10.0.0.0/8")));
  EXPECT_FALSE(P("10.0.0.0/8").Contains(P("11.0.0.0/16")));
  EXPECT_TRUE(P("0.0.0.0/0").Contains(P("10.0.0.0/8")));
}

TEST(Ipv4PrefixTest, OrderingAndHashing) {
  EXPECT_LT(P("10.0.0.0/8"), P("10.0.0.0/16"));
  EXPECT_LT(P("10.0.0.0/16"), P("11.0.0.0/8"));
  std::unordered_set<Ipv4Prefix> s = {P("10.0.0.0/8"), P("10.0.0.0/16"), P("10.0.0.0/8")};
  EXPECT_EQ(s.size(), 2u);
}

TEST(Ipv4EndpointTest, ParsePrintCompare) {
  Result<Ipv4Endpoint> e = Ipv4Endpoint::Parse("192.0.2.1:434");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->address, A("192.0.2.1"));
  EXPECT_EQ(e->port, 434);
  EXPECT_EQ(e->ToString(), "192.0.2.1:434");
  EXPECT_EQ((Ipv4Endpoint{A("1.2.3.4"), 4500}).ToString(), "1.2.3.4:4500");
  EXPECT_EQ(Ipv4Endpoint::Parse("0.0.0.0:0")->port, 0);
  EXPECT_EQ(Ipv4Endpoint::Parse("1.2.3.4:65535")->port, 65535);
  for (const char* s : {"", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:0434", ":434",
                        "1.2.3:434", "1.2.3.4:43x", "1.2.3.4:-1", "1.2.3.4:123456"}) {
    EXPECT_FALSE(Ipv4Endpoint::Parse(s).ok()) << s;
  }
  EXPECT_LT((Ipv4Endpoint{A("1.2.3.4"), 500}), (Ipv4Endpoint{A("1.2.3.4"), 4500}));
  EXPECT_LT((Ipv4Endpoint{A("1.2.3.4"), 4500}), (Ipv4Endpoint{A("1.2.3.5"), 500}));
  std::unordered_set<Ipv4Endpoint> set = {{A("1.2.3.4"), 500}, {A("1.2.3.4"), 4500},
                                          {A("1.2.3.4"), 500}};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace mipsec

// Agent Advertisement and Agent Solicitation: round trips, every flag, the
// ICMP checksum, RFC 1256 / RFC 5944 2.1 checks, truncation at every offset.
#include <set>

#include <gtest/gtest.h>

#include "common/checksum.h"
#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "common/wire/writer.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/codec/agent_solicitation.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/test_messages.h"

namespace mipsec::mip4 {
namespace {

using testing::Addr;

AgentAdvertisement SampleAdv() {
  AgentAdvertisement a;
  a.code = kAdvCodeNoCommonTraffic;
  a.lifetime = 1800;
  a.routers = {{Addr("192.0.2.1"), 0}, {Addr("192.0.2.2"), -5}};
  a.mobility.sequence = 42;
  a.mobility.registration_lifetime = 600;
  a.mobility.foreign_agent = true;
  a.mobility.registration_required = true;
  a.mobility.reverse_tunnel = true;
  a.mobility.care_of_addresses = {Addr("192.0.2.1"), Addr("198.51.100.9")};
  a.prefix_lengths = std::vector<std::uint8_t>{24, 25};
  a.padding = true;
  return a;
}

// Sets a correct checksum over `icmp` (for hand-edited messages).
void FixChecksum(Bytes& icmp) {
  if (icmp.size() < 4) return;
  icmp[2] = icmp[3] = 0;
  const std::uint16_t c = InternetChecksum(icmp);
  icmp[2] = static_cast<std::uint8_t>(c >> 8);
  icmp[3] = static_cast<std::uint8_t>(c);
}

TEST(AgentAdvertisementTest, WireLayout) {
  AgentAdvertisement a;
  a.lifetime = 0x0102;
  a.routers = {{Addr("10.0.0.1"), 7}};
  a.mobility.sequence = 3;
  a.mobility.registration_lifetime = 0xffff;
  a.mobility.home_agent = true;
  Result<Bytes> b = BuildAgentAdvertisement(a);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(ToHex(ByteSpan(*b).subspan(4)),
            "01020102" "0a000001" "00000007"   // 1 address, entry size 2, lifetime; entry
            "1006" "0003" "ffff" "2000");     // extension 16: seq, reg lifetime, H
  EXPECT_EQ((*b)[0], 9);
  EXPECT_TRUE(ChecksumIsValid(*b));
}

TEST(AgentAdvertisementTest, RoundTripIsCanonical) {
  const AgentAdvertisement a = SampleAdv();
  Result<Bytes> b = BuildAgentAdvertisement(a);
  ASSERT_TRUE(b.ok());
  Result<ParsedAgentAdvertisement> p = ParseAgentAdvertisement(*b);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->advertisement, a);
  EXPECT_TRUE(p->IsCanonical());
  EXPECT_EQ(Validate(*p), std::nullopt);
  ASSERT_EQ(p->extensions.size(), 3u);
  EXPECT_EQ(p->extensions[0].offset, 8u + 16u);  // after the ICMP header and two entries
  EXPECT_EQ(p->extensions[2].type, kAdvExtPadding);
  EXPECT_EQ(p->extensions[2].end(), b->size());
}

TEST(AgentAdvertisementTest, EveryFlagRoundTripsAlone) {
  for (int bit = 0; bit < 16; ++bit) {
    AgentAdvertisement a;
    a.mobility.SetFlagsWord(static_cast<std::uint16_t>(1u << bit));
    EXPECT_EQ(a.mobility.FlagsWord(), 1u << bit);
    Result<Bytes> b = BuildAgentAdvertisement(a);
    ASSERT_TRUE(b.ok());
    Result<ParsedAgentAdvertisement> p = ParseAgentAdvertisement(*b);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->advertisement.mobility, a.mobility) << bit;
  }
  MobilityAgentExtension m;
  m.SetFlagsWord(0xffe0);
  EXPECT_TRUE(m.registration_required && m.busy && m.home_agent && m.foreign_agent &&
              m.minimal_encapsulation && m.gre && m.reserved_r && m.reverse_tunnel &&
              m.udp_tunnel && m.revocation && m.regional);
  EXPECT_EQ(m.reserved, 0);
}

TEST(AgentAdvertisementTest, NoRouterAddressesAndLargerEntries) {
  AgentAdvertisement a;
  a.mobility.home_agent = true;
  Result<Bytes> b = BuildAgentAdvertisement(a);
  ASSERT_TRUE(b.ok());
  Result<ParsedAgentAdvertisement> p = ParseAgentAdvertisement(*b);
  ASSERT_TRUE(p.ok());  // RFC 5944 2.1: Num Addrs may be 0
  EXPECT_TRUE(p->advertisement.routers.empty());

  // Entry size 3: the extra word is skipped (RFC 1256 5.2); not canonical.
  wire::Writer w;
  w.U8(9).U8(0).U16(0).U8(1).U8(3).U16(100);
  w.U32(0x0a000001).U32(0xffffffff).U32(0xabcdabcd);
  w.U8(16).U8(6).U16(1).U16(2).U16(0x2000);
  Bytes icmp = std::move(w).Take();
  FixChecksum(icmp);
  Result<ParsedAgentAdvertisement> q = ParseAgentAdvertisement(icmp);
  ASSERT_TRUE(q.ok()) << q.error().ToString();
  EXPECT_EQ(q->advertisement.routers.at(0).preference, -1);
  EXPECT_FALSE(q->IsCanonical());
  icmp[5] = 1;  // entry size 1
  FixChecksum(icmp);
  EXPECT_EQ(ParseAgentAdvertisement(icmp).error().code(), Errc::kMalformed);
}

TEST(AgentAdvertisementTest, RejectsWhatIsNotAnAgentAdvertisement) {
  Result<Bytes> b = BuildAgentAdvertisement(SampleAdv());
  ASSERT_TRUE(b.ok());
  Bytes bad = *b;
  bad[10] ^= 1;  // checksum no longer matches
  EXPECT_EQ(ParseAgentAdvertisement(bad).error().code(), Errc::kMalformed);
  // A plain router advertisement: kNotFound.
  const Bytes plain = ip::BuildIcmp(9, 0, 0x01020708, Bytes{10, 0, 0, 1, 0, 0, 0, 0});
  EXPECT_EQ(ParseAgentAdvertisement(plain).error().code(), Errc::kNotFound);
  EXPECT_EQ(ParseAgentAdvertisement(BuildAgentSolicitation()).error().code(), Errc::kMalformed);
  // Extension 16 with a length that is not 6 + 4N.
  const Bytes bad_len = ip::BuildIcmp(9, 0, 0x00020708, Bytes{16, 7, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(ParseAgentAdvertisement(bad_len).error().code(), Errc::kMalformed);
}

TEST(AgentAdvertisementTest, UnknownExtensionsFollowRfc5944Section1_8) {
  const Bytes maa = {16, 6, 0, 1, 0, 2, 0x20, 0};
  Bytes with_24 = maa;
  with_24.insert(with_24.end(), {24, 2, 0xaa, 0xbb});  // RFC 3012 challenge: not ours
  Result<ParsedAgentAdvertisement> p =
      ParseAgentAdvertisement(ip::BuildIcmp(9, 0, 0x00020708, with_24));
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(IsUnrecognizedExtension(p.error())) << p.error().ToString();
  Bytes with_200 = maa;
  with_200.insert(with_200.end(), {200, 1, 0xaa});
  Result<ParsedAgentAdvertisement> q =
      ParseAgentAdvertisement(ip::BuildIcmp(9, 0, 0x00020708, with_200));
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->extensions.size(), 2u);
  EXPECT_FALSE(q->extensions[1].recognized);
  EXPECT_FALSE(q->IsCanonical());
}

TEST(AgentAdvertisementTest, TruncationAtEveryOffset) {
  Result<Bytes> full = BuildAgentAdvertisement(SampleAdv());
  ASSERT_TRUE(full.ok());
  Result<ParsedAgentAdvertisement> p = ParseAgentAdvertisement(*full);
  ASSERT_TRUE(p.ok());
  std::set<std::size_t> valid;
  for (const Extension& e : p->extensions) valid.insert(e.end());
  for (std::size_t n = 0; n < full->size(); ++n) {
    Bytes prefix(full->begin(), full->begin() + static_cast<std::ptrdiff_t>(n));
    FixChecksum(prefix);
    Result<ParsedAgentAdvertisement> r = ParseAgentAdvertisement(prefix);
    if (valid.count(n)) {
      EXPECT_TRUE(r.ok()) << n;
    } else {
      ASSERT_FALSE(r.ok()) << n;
      // Before the mobility extension is complete the result is
      // "truncated" or "not an agent advertisement".
      EXPECT_TRUE(r.error().code() == Errc::kTruncated || r.error().code() == Errc::kNotFound)
          << n << ": " << r.error().ToString();
    }
  }
}

TEST(AgentAdvertisementTest, ValidateRules) {
  auto rule = [](AgentAdvertisement a) -> std::optional<RuleId> {
    std::optional<Violation> v = ValidateFields(a);
    return v ? std::optional<RuleId>(v->rule) : std::nullopt;
  };
  EXPECT_EQ(rule(SampleAdv()), std::nullopt);
  AgentAdvertisement a = SampleAdv();
  a.code = 3;
  EXPECT_EQ(rule(a), RuleId::kAdvCode);
  a = SampleAdv();
  a.mobility.foreign_agent = false;
  a.mobility.registration_required = false;
  EXPECT_EQ(rule(a), RuleId::kAdvFlags);  // neither F nor H
  a.mobility.home_agent = true;
  EXPECT_EQ(rule(a), std::nullopt);
  a.mobility.busy = true;
  EXPECT_EQ(rule(a), RuleId::kAdvFlags);  // B without F
  a.mobility.busy = false;
  a.mobility.registration_required = true;
  EXPECT_EQ(rule(a), RuleId::kAdvFlags);  // R without F
  a = SampleAdv();
  a.mobility.care_of_addresses.clear();
  EXPECT_EQ(rule(a), RuleId::kAdvFlags);  // F without a care-of address
  a = SampleAdv();
  a.prefix_lengths = std::vector<std::uint8_t>{24};
  EXPECT_EQ(rule(a), RuleId::kAdvPrefixLengths);
  a.prefix_lengths = std::vector<std::uint8_t>{24, 33};
  EXPECT_EQ(rule(a), RuleId::kAdvPrefixLengths);

  // Extension order (RFC 5944 2.1.1, 2.1.2).
  auto parsed_rule = [](const Bytes& exts) -> std::optional<RuleId> {
    Result<ParsedAgentAdvertisement> p =
        ParseAgentAdvertisement(ip::BuildIcmp(9, 0, 0x00020708, exts));
    EXPECT_TRUE(p.ok());
    if (!p.ok()) return RuleId::kAdvCode;
    std::optional<Violation> v = Validate(*p);
    return v ? std::optional<RuleId>(v->rule) : std::nullopt;
  };
  const Bytes maa = {16, 6, 0, 1, 0, 2, 0x20, 0};
  Bytes pl_first = {19, 0};
  pl_first.insert(pl_first.end(), maa.begin(), maa.end());
  EXPECT_EQ(parsed_rule(pl_first), RuleId::kAdvMobilityNotFirst);
  Bytes two = maa;
  two.insert(two.end(), maa.begin(), maa.end());
  EXPECT_EQ(parsed_rule(two), RuleId::kAdvMobilityNotFirst);
  Bytes pad_then_pl = maa;
  pad_then_pl.insert(pad_then_pl.end(), {0, 19, 0});
  EXPECT_EQ(parsed_rule(pad_then_pl), RuleId::kAdvPrefixLengths);
  Bytes ok = maa;
  ok.insert(ok.end(), {19, 0, 0});
  EXPECT_EQ(parsed_rule(ok), std::nullopt);
}

TEST(AgentAdvertisementTest, PacketHasTtlOne) {
  Result<Bytes> pkt =
      BuildAgentAdvertisementPacket(Addr("192.0.2.1"), Ipv4Address::AllSystems(), SampleAdv(), 9);
  ASSERT_TRUE(pkt.ok());
  Result<ip::Ipv4IcmpPacket> p = ip::ParseIpv4Icmp(*pkt);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->ip.ttl, 1);
  EXPECT_EQ(p->ip.dst, Ipv4Address::AllSystems());
  EXPECT_TRUE(ParseAgentAdvertisement(ByteSpan(*pkt).subspan(20)).ok());
  AgentAdvertisement too_many = SampleAdv();
  too_many.mobility.care_of_addresses.assign(63, Addr("192.0.2.1"));
  EXPECT_EQ(BuildAgentAdvertisement(too_many).error().code(), Errc::kInvalidArgument);
}

TEST(AgentSolicitationTest, RoundTripAndChecks) {
  const Bytes s = BuildAgentSolicitation();
  EXPECT_EQ(ToHex(s), "0a00f5ff00000000");
  ASSERT_TRUE(ParseAgentSolicitation(s).ok());
  for (std::size_t n = 0; n < s.size(); ++n) {
    EXPECT_FALSE(ParseAgentSolicitation(ByteSpan(s).first(n)).ok()) << n;
  }
  // RFC 1256 4.2: code must be 0; reserved and extra bytes are ignored.
  Bytes coded = ip::BuildIcmp(10, 1, 0, {});
  EXPECT_EQ(ParseAgentSolicitation(coded).error().code(), Errc::kMalformed);
  Bytes extra = ip::BuildIcmp(10, 0, 0x12345678, Bytes{1, 2, 3});
  Result<AgentSolicitation> e = ParseAgentSolicitation(extra);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->reserved, 0x12345678u);
  EXPECT_FALSE(ParseAgentSolicitation(ip::BuildIcmp(8, 0, 0, {})).ok());
  Result<Bytes> pkt =
      BuildAgentSolicitationPacket(Addr("0.0.0.0"), Ipv4Address::AllMobilityAgents());
  ASSERT_TRUE(pkt.ok());
  Result<ip::Ipv4IcmpPacket> p = ip::ParseIpv4Icmp(*pkt);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->ip.ttl, 1);
  EXPECT_EQ(p->icmp.type, 10);
}

}  // namespace
}  // namespace mipsec::mip4

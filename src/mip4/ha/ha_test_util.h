// Test-only: a HomeAgent fixture whose requests are built with the codec's
// MessageBuilder and authenticated with crypto::Hmac (HMAC-MD5), and whose
// replies are parsed and verified the same way — independently of the home
// agent's own code.
#ifndef MIPSEC_MIP4_HA_HA_TEST_UTIL_H_
#define MIPSEC_MIP4_HA_HA_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/log.h"
#include "common/random.h"
#include "common/secret.h"
#include "crypto/hmac.h"
#include "mip4/codec/auth_extension.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/nai_extension.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/codec/udp_tunnel_reply.h"
#include "mip4/ha/home_agent.h"
#include "mip4/security/ntp_time.h"
#include "mip4/security/sa_database.h"

namespace mipsec::mip4::ha_test {

inline Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

inline const Ipv4Address kHa = A("10.1.0.1");
inline const Ipv4Address kMn = A("10.1.0.50");
inline const Ipv4Address kMn2 = A("10.1.0.51");
inline const Ipv4Address kNaiMn = A("10.1.0.60");
inline const Ipv4Address kCoa = A("198.51.100.7");
inline const Ipv4Address kCoa2 = A("198.51.100.8");
inline const Ipv4Address kCoa3 = A("198.51.100.9");
inline const Ipv4Address kFa = A("203.0.113.5");
inline const Ipv4Address kNat = A("192.0.2.200");
inline const Ipv4Address kCn = A("10.2.0.9");
constexpr std::uint32_t kSpi = 1000;
constexpr std::uint32_t kSpi2 = 1001;
constexpr std::uint32_t kFaSpi = 2000;
constexpr std::uint16_t kMnPort = 40000;
constexpr int kIfindex = 7;
// 2024-01-01T00:00:00Z.
constexpr std::int64_t kUnixNanos = 1'704'067'200'000'000'000;

inline Bytes MnKey() { return Bytes(16, 0x11); }
inline Bytes MnKey2() { return Bytes(16, 0x22); }
inline Bytes FaKey() { return Bytes(16, 0x33); }

inline Result<Bytes> Md5(const Bytes& key, ByteSpan covered) {
  return crypto::Hmac(crypto::HashAlg::kMd5, SecretBytes(Bytes(key)), covered);
}

// What the test wants in a Registration Request.
struct Req {
  RegistrationRequest q;
  std::optional<std::string> nai;
  std::optional<UdpTunnelRequest> mn_tunnel;  // before MN-HA
  std::optional<UdpTunnelRequest> fa_tunnel;  // after MN-HA (appended by an FA)
  std::optional<Cvse> mn_cvse;
  std::optional<Cvse> fa_cvse;
  bool delivery_style = false;                // after MN-HA
  std::optional<std::uint8_t> raw_ext_type;   // an extension of this type before MN-HA
  bool mnha = true;
  std::uint32_t spi = kSpi;
  Bytes key = MnKey();
  bool forge = false;                         // flip a bit of the MN-HA authenticator
  int faha = 0;                               // FA-HA extensions to append
  std::uint32_t fa_spi = kFaSpi;
  Bytes fa_key = FaKey();
};

inline Bytes Build(const Req& r) {
  MessageBuilder b = MessageBuilder::Request(r.q);
  if (r.nai) {
    EXPECT_TRUE(b.AppendNai(*r.nai).ok());
  }
  if (r.raw_ext_type) {
    EXPECT_TRUE(b.AppendTlv(*r.raw_ext_type, Bytes{1, 2}).ok());
  }
  if (r.mn_tunnel) b.AppendUdpTunnelRequest(*r.mn_tunnel);
  if (r.mn_cvse) {
    EXPECT_TRUE(b.AppendCvse(*r.mn_cvse).ok());
  }
  if (r.mnha) {
    Bytes key = r.key;
    const bool forge = r.forge;
    EXPECT_TRUE(b.AppendAuth(kExtMnHaAuth, r.spi, 16, [key, forge](ByteSpan c) -> Result<Bytes> {
                   Result<Bytes> mac = Md5(key, c);
                   if (mac.ok() && forge) (*mac)[3] ^= 0x01;
                   return mac;
                 }).ok());
  }
  if (r.fa_tunnel) b.AppendUdpTunnelRequest(*r.fa_tunnel);
  if (r.fa_cvse) {
    EXPECT_TRUE(b.AppendCvse(*r.fa_cvse).ok());
  }
  if (r.delivery_style) b.AppendDeliveryStyle();
  for (int i = 0; i < r.faha; ++i) {
    Bytes key = r.fa_key;
    EXPECT_TRUE(b.AppendAuth(kExtFaHaAuth, r.fa_spi, 16,
                             [key](ByteSpan c) { return Md5(key, c); }).ok());
  }
  return std::move(b).Take();
}

// A parsed, verified Registration Reply.
struct Reply {
  UdpTransmit t;
  RegistrationReply fixed;
  bool mnha_valid = false;
  std::uint32_t mnha_spi = 0;
  bool has_faha = false;
  bool faha_valid = false;
  bool has_tnc = false;
  bool tnc_covered = false;  // before the MN-HA extension
  std::optional<UdpTunnelReply> tunnel;
  std::optional<std::string> nai;

  std::uint8_t code() const { return fixed.code; }
};

inline std::optional<Reply> ParseReply(const UdpTransmit& t, const Bytes& mn_key = MnKey(),
                                       const Bytes& fa_key = FaKey()) {
  Result<ParsedRegistrationReply> p = ParseRegistrationReply(t.payload);
  if (!p.ok()) {
    ADD_FAILURE() << "reply does not parse: " << p.error().ToString();
    return std::nullopt;
  }
  Reply r;
  r.t = t;
  r.fixed = p->reply;
  const ExtensionList& ext = p->extensions;
  if (Result<AuthCoverage> c = AuthenticationCoverageOfType(ext, kExtMnHaAuth); c.ok()) {
    Result<Bytes> mac = Md5(mn_key, c->covered);
    r.mnha_spi = c->spi;
    r.mnha_valid = mac.ok() && Bytes(c->authenticator.begin(), c->authenticator.end()) == *mac;
  }
  if (Result<AuthCoverage> c = AuthenticationCoverageOfType(ext, kExtFaHaAuth); c.ok()) {
    r.has_faha = true;
    Result<Bytes> mac = Md5(fa_key, c->covered);
    r.faha_valid = mac.ok() && Bytes(c->authenticator.begin(), c->authenticator.end()) == *mac;
  }
  const std::optional<std::size_t> mnha_at = ext.Find(kExtMnHaAuth);
  if (std::optional<std::size_t> i = ext.Find(kExtTnc)) {
    r.has_tnc = true;
    r.tnc_covered = mnha_at && *i < *mnha_at;
  }
  if (const Extension* e = ext.First(kExtUdpTunnelReply)) {
    if (Result<UdpTunnelReply> u = DecodeUdpTunnelReply(*e); u.ok()) r.tunnel = *u;
  }
  if (const Extension* e = ext.First(kExtNai)) {
    if (Result<std::string> n = DecodeNai(*e); n.ok()) r.nai = *n;
  }
  return r;
}

class HaTest : public ::testing::Test {
 protected:
  // A plain RFC 5944 HA (RFC 5265 off) unless a test says otherwise.
  static HomeAgentOptions BaseOptions() {
    HomeAgentOptions o;
    o.address = kHa;
    o.home_network = *Ipv4Prefix::Parse("10.1.0.0/16");
    o.max_lifetime = 600;
    o.rfc5265_trusted_networks = false;
    o.wall_clock = WallClockMapping{Timestamp::Zero(), kUnixNanos};
    return o;
  }

  void Make(HomeAgentOptions o) {
    Result<std::unique_ptr<HomeAgent>> r =
        HomeAgent::Create(std::move(o), db_, rng_, Logger(&sink_, "ha", LogLevel::kDebug));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    ha_ = std::move(r).value();
  }

  void SetUp() override {
    AddMn(kMn, "", {{kSpi, MnKey()}});
    AddMn(kMn2, "", {{kSpi, MnKey()}});
    AddMn(kNaiMn, "nai@example.org", {{kSpi, MnKey()}});
    Make(BaseOptions());
  }

  MobileNodeSecurity* AddMn(std::optional<Ipv4Address> home, std::string nai,
                            std::vector<std::pair<std::uint32_t, Bytes>> keys,
                            ReplayMethod method = ReplayMethod::kTimestamp) {
    std::vector<SecurityAssociation> sas;
    for (auto& [spi, key] : keys) {
      SecurityAssociationParams p;
      p.spi = spi;
      p.key = SecretBytes(key);
      p.replay = method;
      Result<SecurityAssociation> sa = SecurityAssociation::Create(std::move(p));
      EXPECT_TRUE(sa.ok());
      sas.push_back(std::move(sa).value());
    }
    Result<MobileNodeSecurity*> mn = db_.AddMobileNode(home, std::move(nai), std::move(sas));
    EXPECT_TRUE(mn.ok()) << mn.error().ToString();
    return mn.ok() ? *mn : nullptr;
  }

  void AddFa(Ipv4Address fa = kFa, std::uint32_t spi = kFaSpi, Bytes key = FaKey()) {
    SecurityAssociationParams p;
    p.spi = spi;
    p.key = SecretBytes(std::move(key));
    Result<SecurityAssociation> sa = SecurityAssociation::Create(std::move(p));
    ASSERT_TRUE(sa.ok());
    ASSERT_TRUE(ha_->AddForeignAgentSa(fa, std::move(sa).value()).ok());
  }

  // Timestamp Identification for MN time `now` (+ `skew`), distinct per call.
  std::uint64_t TimestampId(Timestamp now, Duration skew = Duration::Zero()) {
    const NtpTime t = NtpTime::FromUnixNanos(kUnixNanos + now.nanos() + skew.nanos());
    return t.raw() + (++id_salt_);
  }

  // A co-located MN registration request (D set) for `home` via `coa`.
  Req MakeReq(Timestamp now, Ipv4Address home = kMn, Ipv4Address coa = kCoa,
              std::uint16_t lifetime = 300) {
    Req r;
    r.q.decapsulation_by_mn = true;
    r.q.lifetime = lifetime;
    r.q.home_address = home;
    r.q.home_agent = kHa;
    r.q.care_of_address = coa;
    r.q.identification = TimestampId(now);
    return r;
  }

  HaResult Send(Timestamp now, const Req& r, Ipv4Endpoint from, Ipv4Address to = kHa) {
    last_request_ = Build(r);
    UdpReceived d;
    d.local = Ipv4Endpoint{to, kMipPort};
    d.remote = from;
    d.ifindex = kIfindex;
    d.payload = last_request_;
    return ha_->OnUdp(now, d);
  }
  // From the care-of address itself (no NAT).
  HaResult Send(Timestamp now, const Req& r) {
    return Send(now, r, Ipv4Endpoint{r.q.care_of_address, kMnPort});
  }

  std::vector<Transmit> Drain() {
    std::vector<Transmit> out;
    while (std::optional<Transmit> t = ha_->PollTransmit()) out.push_back(std::move(*t));
    return out;
  }
  std::vector<HaEvent> Events() {
    std::vector<HaEvent> out;
    while (std::optional<HaEvent> e = ha_->PollEvent()) out.push_back(std::move(*e));
    return out;
  }
  // Exactly one transmit, a Registration Reply.
  std::optional<Reply> OneReply(const Bytes& mn_key = MnKey()) {
    std::vector<Transmit> ts = Drain();
    if (ts.size() != 1 || !std::holds_alternative<UdpTransmit>(ts[0])) {
      ADD_FAILURE() << "expected exactly one UDP reply, got " << ts.size() << " transmits";
      return std::nullopt;
    }
    return ParseReply(std::get<UdpTransmit>(ts[0]), mn_key);
  }
  // Sends and returns the reply code (-1 when no single reply came).
  int Code(Timestamp now, const Req& r, std::optional<Ipv4Endpoint> from = std::nullopt) {
    (void)(from ? Send(now, r, *from) : Send(now, r));
    std::optional<Reply> rep = OneReply(r.key);
    if (!rep) return -1;
    EXPECT_TRUE(rep->mnha_valid) << "reply MN-HA authenticator";
    return rep->code();
  }
  void ExpectSilent(const HaResult& res, HaDrop why) {
    EXPECT_EQ(res.action, HaResult::Action::kDropped);
    EXPECT_EQ(res.drop, std::optional<HaDrop>(why)) << HaDropName(why);
    EXPECT_TRUE(Drain().empty()) << "a silent discard sends nothing";
    EXPECT_TRUE(Events().empty());
    EXPECT_EQ(ha_->counters().drop(why), 1u);
  }

  SaDatabase db_;
  DeterministicRandom rng_{7};
  MemorySink sink_;
  std::unique_ptr<HomeAgent> ha_;
  Bytes last_request_;
  std::uint64_t id_salt_ = 0;
};

inline Timestamp T(std::int64_t seconds) { return Timestamp::Zero() + Duration::Seconds(seconds); }

}  // namespace mipsec::mip4::ha_test

#endif  // MIPSEC_MIP4_HA_HA_TEST_UTIL_H_

// The load generator's sans-I/O engine: its requests are checked with the
// codec and an independent HMAC, and it is run against the real HomeAgent
// core (the same one `mipsec ha` drives), so a request the HA would refuse
// or a reply the engine would misjudge fails here without any socket.
#include "platform/linux/mip4/reg_load.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "common/log.h"
#include "common/random.h"
#include "config/daemon_config.h"
#include "crypto/hmac.h"
#include "mip4/codec/auth_extension.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/registration_request.h"
#include "mip4/ha/home_agent.h"
#include "mip4/io.h"
#include "mip4/security/sa_database.h"

namespace mipsec::mip4d {
namespace {

constexpr std::int64_t kUnixNanos = 1'704'067'200'000'000'000;  // 2024-01-01
// RFC 2544 benchmarking range, as `--spawn-ha` uses.
const Ipv4Address kCoa = *Ipv4Address::Parse("198.18.0.1");

SyntheticHaSpec Spec(std::size_t n, mip4::ReplayMethod replay = mip4::ReplayMethod::kTimestamp) {
  SyntheticHaSpec s;
  s.mobile_nodes = n;
  s.seed = 7;
  s.replay = replay;
  return s;
}

RegLoadOptions Options(const SyntheticHaSpec& s) {
  RegLoadOptions o;
  o.home_agent = s.ha_address;
  o.care_of_address = kCoa;
  o.verify_every = 1;
  return o;
}

// A HomeAgent core serving `mns`, trusting the generator's source.
struct CoreHa {
  explicit CoreHa(const SyntheticHaSpec& spec, const std::vector<LoadMobileNode>& mns,
                  std::int64_t unix_offset_seconds = 0) {
    for (const LoadMobileNode& m : mns) {
      mip4::SecurityAssociationParams p;
      p.spi = m.spi;
      p.key = m.key;
      p.replay = m.replay;
      std::vector<mip4::SecurityAssociation> sas;
      sas.push_back(*mip4::SecurityAssociation::Create(std::move(p)));
      EXPECT_TRUE(db.AddMobileNode(m.home_address, "", std::move(sas)).ok());
    }
    mip4::HomeAgentOptions o;
    o.address = spec.ha_address;
    o.home_network = spec.home_network;
    o.trusted_subnets = {*Ipv4Prefix::Parse("198.18.0.0/15")};
    o.wall_clock = mip4::WallClockMapping{
        Timestamp::Zero(), kUnixNanos + unix_offset_seconds * 1'000'000'000};
    ha = std::move(mip4::HomeAgent::Create(std::move(o), db, rng, Logger()).value());
  }

  // Feeds `request` at `now`; returns the reply payload, if any.
  std::optional<Bytes> Feed(Timestamp now, const Bytes& request) {
    mip4::UdpReceived d;
    d.local = Ipv4Endpoint{ha->options().address, mip4::kMipPort};
    d.remote = Ipv4Endpoint{kCoa, 40000};
    d.payload = request;
    ha->OnUdp(now, d);
    std::optional<Bytes> reply;
    while (std::optional<mip4::Transmit> t = ha->PollTransmit()) {
      if (auto* u = std::get_if<mip4::UdpTransmit>(&*t)) reply = u->payload;
    }
    while (ha->PollEvent()) {
    }
    return reply;
  }

  mip4::SaDatabase db;
  DeterministicRandom rng{3};
  std::unique_ptr<mip4::HomeAgent> ha;
};

TEST(SyntheticMobileNodes, DeterministicConsecutiveAndBounded) {
  auto a = MakeSyntheticMobileNodes(Spec(3));
  auto b = MakeSyntheticMobileNodes(Spec(3));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)[0].home_address.ToString(), "10.1.0.0");
  EXPECT_EQ((*a)[2].home_address.ToString(), "10.1.0.2");
  EXPECT_EQ(ToHex((*a)[1].key.Reveal()), ToHex((*b)[1].key.Reveal()));
  EXPECT_NE(ToHex((*a)[0].key.Reveal()), ToHex((*a)[1].key.Reveal()));
  SyntheticHaSpec other = Spec(3);
  other.seed = 8;
  EXPECT_NE(ToHex((*a)[0].key.Reveal()), ToHex((*MakeSyntheticMobileNodes(other))[0].key.Reveal()));

  SyntheticHaSpec small = Spec(300);
  small.home_network = *Ipv4Prefix::Parse("10.0.0.0/16");  // 0x10000 + i leaves it
  EXPECT_FALSE(MakeSyntheticMobileNodes(small).ok());
  EXPECT_FALSE(MakeSyntheticMobileNodes(Spec(0)).ok());
}

TEST(HaConfigToml, ParsesWithTheConfigLoaderAndKeepsKeys) {
  SyntheticHaSpec spec = Spec(5, mip4::ReplayMethod::kNonce);
  auto mns = MakeSyntheticMobileNodes(spec);
  ASSERT_TRUE(mns.ok());
  HaTomlParams params;
  params.interface = "mipb0";
  params.trusted_subnets = {*Ipv4Prefix::Parse("198.18.0.0/15")};
  params.control_socket = "/tmp/x/ha.sock";
  const std::string toml = MakeHaConfigToml(spec, *mns, params);
  Result<config::HaConfig> c = config::ParseHaConfig(toml, "gen.toml");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->address, spec.ha_address);
  EXPECT_EQ(c->interface, "mipb0");
  ASSERT_EQ(c->trusted_subnets.size(), 1u);
  ASSERT_EQ(c->mobile_nodes.size(), 5u);
  std::vector<LoadMobileNode> back = MobileNodesFromConfig(*c);
  ASSERT_EQ(back.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(back[i].home_address, (*mns)[i].home_address);
    EXPECT_EQ(back[i].spi, 1000u);
    EXPECT_EQ(back[i].replay, mip4::ReplayMethod::kNonce);
    EXPECT_EQ(ToHex(back[i].key.Reveal()), ToHex((*mns)[i].key.Reveal()));
  }
}

TEST(RegLoadEngine, RequestIsAWellFormedAuthenticatedRegistration) {
  SyntheticHaSpec spec = Spec(2);
  auto mns = *MakeSyntheticMobileNodes(spec);
  const SecretBytes key1 = mns[1].key;
  auto e = *RegLoadEngine::Create(std::move(mns), Options(spec));
  Bytes out;
  Result<std::uint64_t> id = e->BuildRequest(1, kUnixNanos, out);
  ASSERT_TRUE(id.ok());
  auto parsed = mip4::ParseRegistrationRequest(out);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  const mip4::RegistrationRequest& q = parsed->request;
  EXPECT_TRUE(q.decapsulation_by_mn);
  EXPECT_TRUE(q.reverse_tunnel);
  EXPECT_EQ(q.lifetime, 1800);
  EXPECT_EQ(q.home_address.ToString(), "10.1.0.1");
  EXPECT_EQ(q.home_agent, spec.ha_address);
  EXPECT_EQ(q.care_of_address, kCoa);
  EXPECT_EQ(q.identification, *id);
  EXPECT_EQ(*id, mip4::NtpTime::FromUnixNanos(kUnixNanos).raw());
  auto cov = mip4::AuthenticationCoverageOfType(parsed->extensions, mip4::kExtMnHaAuth);
  ASSERT_TRUE(cov.ok());
  EXPECT_EQ(cov->spi, 1000u);
  Result<Bytes> mac = crypto::Hmac(crypto::HashAlg::kMd5, key1, cov->covered);
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(ToHex(*mac), ToHex(cov->authenticator));

  // Same wall time again: the Identification still increases.
  e->MarkSent(1, *id, Timestamp::Zero());
  Result<std::uint64_t> id2 = e->BuildRequest(1, kUnixNanos, out);
  ASSERT_TRUE(id2.ok());
  EXPECT_GT(*id2, *id);
}

TEST(RegLoadEngine, TimestampRegistrationsAndRefreshesAreAcceptedByTheHaCore) {
  SyntheticHaSpec spec = Spec(50);
  auto mns = *MakeSyntheticMobileNodes(spec);
  CoreHa core(spec, mns);
  auto e = *RegLoadEngine::Create(std::move(mns), Options(spec));
  Bytes req;
  for (int round = 0; round < 3; ++round) {
    for (std::size_t k = 0; k < 50; ++k) {
      const Timestamp now = Timestamp::Zero() + Duration::Millis(round * 100 + 1);
      std::optional<std::size_t> i = e->NextIdle();
      ASSERT_TRUE(i.has_value());
      // Every MN sends at the same wall time in a round: the engine keeps
      // Identifications increasing per MN anyway.
      auto id = e->BuildRequest(*i, kUnixNanos + now.nanos(), req);
      ASSERT_TRUE(id.ok());
      e->MarkSent(*i, *id, now);
      std::optional<Bytes> reply = core.Feed(now, req);
      ASSERT_TRUE(reply.has_value());
      Duration lat;
      EXPECT_EQ(e->OnReply(*reply, now + Duration::Micros(30), &lat), ReplyOutcome::kAccepted);
      EXPECT_EQ(lat, Duration::Micros(30));
    }
  }
  EXPECT_EQ(e->counters().sent, 150u);
  EXPECT_EQ(e->counters().accepted, 150u);
  EXPECT_EQ(e->counters().verified, 150u);
  EXPECT_EQ(e->counters().auth_failed, 0u);
  EXPECT_EQ(e->outstanding(), 0u);
  EXPECT_EQ(core.ha->binding_count(), 50u);
  EXPECT_EQ(core.ha->counters().replies_by_code[0], 150u);
}

TEST(RegLoadEngine, NonceModeResynchronisesThenRegisters) {
  SyntheticHaSpec spec = Spec(1, mip4::ReplayMethod::kNonce);
  auto mns = *MakeSyntheticMobileNodes(spec);
  CoreHa core(spec, mns);
  auto e = *RegLoadEngine::Create(std::move(mns), Options(spec));
  Bytes req;
  const Timestamp now = Timestamp::Zero() + Duration::Seconds(1);
  // No nonce issued yet: 133 with one (RFC 5944 5.7.2).
  auto id = *e->BuildRequest(0, kUnixNanos, req);
  e->MarkSent(0, id, now);
  EXPECT_EQ(e->OnReply(*core.Feed(now, req), now), ReplyOutcome::kResync);
  for (int i = 0; i < 3; ++i) {
    id = *e->BuildRequest(0, kUnixNanos, req);
    EXPECT_NE(mip4::IdentificationHigh(id), 0u);
    e->MarkSent(0, id, now);
    EXPECT_EQ(e->OnReply(*core.Feed(now, req), now), ReplyOutcome::kAccepted);
  }
  EXPECT_EQ(e->counters().resyncs, 1u);
  EXPECT_EQ(e->counters().accepted, 3u);
  EXPECT_EQ(e->counters().by_code[133], 1u);
}

TEST(RegLoadEngine, TimestampModeLearnsTheHaClockFromA133) {
  SyntheticHaSpec spec = Spec(1);
  auto mns = *MakeSyntheticMobileNodes(spec);
  CoreHa core(spec, mns, /*unix_offset_seconds=*/100);  // HA 100 s ahead
  auto e = *RegLoadEngine::Create(std::move(mns), Options(spec));
  Bytes req;
  const Timestamp now = Timestamp::Zero() + Duration::Seconds(1);
  auto id = *e->BuildRequest(0, kUnixNanos + now.nanos(), req);
  e->MarkSent(0, id, now);
  EXPECT_EQ(e->OnReply(*core.Feed(now, req), now), ReplyOutcome::kResync);
  id = *e->BuildRequest(0, kUnixNanos + now.nanos(), req);
  e->MarkSent(0, id, now);
  EXPECT_EQ(e->OnReply(*core.Feed(now, req), now), ReplyOutcome::kAccepted);
}

TEST(RegLoadEngine, ForgedReplyIsNotCountedAndDoesNotCompleteTheRequest) {
  SyntheticHaSpec spec = Spec(1);
  auto mns = *MakeSyntheticMobileNodes(spec);
  CoreHa core(spec, mns);
  auto e = *RegLoadEngine::Create(std::move(mns), Options(spec));
  Bytes req;
  const Timestamp now = Timestamp::Zero() + Duration::Seconds(1);
  auto id = *e->BuildRequest(0, kUnixNanos + now.nanos(), req);
  e->MarkSent(0, id, now);
  Bytes reply = *core.Feed(now, req);
  Bytes forged = reply;
  forged.back() ^= std::uint8_t{1};  // the authenticator is last
  EXPECT_EQ(e->OnReply(forged, now), ReplyOutcome::kAuthFailed);
  EXPECT_EQ(e->outstanding(), 1u);
  EXPECT_EQ(e->OnReply(reply, now), ReplyOutcome::kAccepted);
  EXPECT_EQ(e->counters().auth_failed, 1u);
  EXPECT_EQ(e->counters().accepted, 1u);
  // A duplicate of an answered reply completes nothing.
  EXPECT_EQ(e->OnReply(reply, now), ReplyOutcome::kUnexpected);
}

TEST(RegLoadEngine, WrongIdentificationUnknownHomeAndGarbage) {
  SyntheticHaSpec spec = Spec(2);
  auto mns = *MakeSyntheticMobileNodes(spec);
  CoreHa core(spec, mns);
  auto e = *RegLoadEngine::Create(std::move(mns), Options(spec));
  Bytes req;
  const Timestamp now = Timestamp::Zero() + Duration::Seconds(1);
  auto id = *e->BuildRequest(0, kUnixNanos + now.nanos(), req);
  e->MarkSent(0, id, now);
  Bytes reply = *core.Feed(now, req);

  Bytes wrong_id = reply;
  wrong_id[19] ^= std::uint8_t{1};  // low 32 bits of the Identification
  EXPECT_EQ(e->OnReply(wrong_id, now), ReplyOutcome::kMismatched);
  Bytes wrong_high = reply;
  wrong_high[12] ^= std::uint8_t{1};  // timestamp mode: the whole 64 bits must match
  EXPECT_EQ(e->OnReply(wrong_high, now), ReplyOutcome::kMismatched);
  Bytes other_home = reply;
  other_home[4] = std::uint8_t{192};
  EXPECT_EQ(e->OnReply(other_home, now), ReplyOutcome::kUnexpected);
  EXPECT_EQ(e->OnReply(Bytes(10, std::uint8_t{3}), now), ReplyOutcome::kMalformed);
  Bytes request_type = reply;
  request_type[0] = std::uint8_t{1};
  EXPECT_EQ(e->OnReply(request_type, now), ReplyOutcome::kMalformed);
  EXPECT_EQ(e->outstanding(), 1u);
  EXPECT_EQ(e->counters().accepted, 0u);
  EXPECT_EQ(e->OnReply(reply, now), ReplyOutcome::kAccepted);
}

TEST(RegLoadEngine, LostAfterTimeoutAndLateRepliesCountedApart) {
  SyntheticHaSpec spec = Spec(2);
  auto mns = *MakeSyntheticMobileNodes(spec);
  CoreHa core(spec, mns);
  RegLoadOptions o = Options(spec);
  o.timeout = Duration::Millis(500);
  auto e = *RegLoadEngine::Create(std::move(mns), o);
  Bytes req;
  const Timestamp t0 = Timestamp::Zero() + Duration::Seconds(1);
  auto id = *e->BuildRequest(0, kUnixNanos + t0.nanos(), req);
  e->MarkSent(0, id, t0);
  EXPECT_EQ(e->ExpireLost(t0 + Duration::Millis(499)), 0u);
  EXPECT_EQ(e->ExpireLost(t0 + Duration::Millis(500)), 1u);
  EXPECT_EQ(e->outstanding(), 0u);
  EXPECT_EQ(e->OnReply(*core.Feed(t0, req), t0 + Duration::Seconds(1)), ReplyOutcome::kLate);
  EXPECT_EQ(e->counters().lost, 1u);
  EXPECT_EQ(e->counters().late, 1u);
  EXPECT_EQ(e->counters().accepted, 0u);
}

TEST(RegLoadEngine, NextIdleSkipsOutstandingMobileNodes) {
  SyntheticHaSpec spec = Spec(3);
  auto e = *RegLoadEngine::Create(*MakeSyntheticMobileNodes(spec), Options(spec));
  EXPECT_EQ(e->NextIdle(), 0u);
  e->MarkSent(1, 5, Timestamp::Zero());
  EXPECT_EQ(e->NextIdle(), 2u);
  EXPECT_EQ(e->NextIdle(), 0u);
  e->MarkSent(0, 5, Timestamp::Zero());
  e->MarkSent(2, 5, Timestamp::Zero());
  EXPECT_EQ(e->NextIdle(), std::nullopt);
  EXPECT_EQ(e->outstanding(), 3u);
}

TEST(RegLoadEngine, RefusesDuplicateHomeAddressesAndEmptyPopulations) {
  SyntheticHaSpec spec = Spec(1);
  auto a = *MakeSyntheticMobileNodes(spec);
  auto b = *MakeSyntheticMobileNodes(spec);
  a.push_back(std::move(b[0]));
  EXPECT_FALSE(RegLoadEngine::Create(std::move(a), Options(spec)).ok());
  EXPECT_FALSE(RegLoadEngine::Create({}, Options(spec)).ok());
}

TEST(SummarizeLatency, Percentiles) {
  std::vector<std::int64_t> v;
  for (int i = 100; i >= 1; --i) v.push_back(i * 1000);
  LatencySummary s = SummarizeLatency(v);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.p50_us, 51);
  EXPECT_DOUBLE_EQ(s.p99_us, 100);
  EXPECT_DOUBLE_EQ(s.max_us, 100);
}

}  // namespace
}  // namespace mipsec::mip4d

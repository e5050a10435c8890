#include "mip4/security/replay.h"

#include <gtest/gtest.h>

#include "common/wire/writer.h"
#include "mip4/security/sa_database.h"

namespace mipsec::mip4 {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kBase = 1'700'000'000LL * kSec;  // some time of day in 2023

SecurityAssociation MakeSa(ReplayMethod m, Duration tolerance = kDefaultTimestampTolerance) {
  SecurityAssociationParams p;
  p.spi = 0x100;
  p.key = SecretBytes(Bytes(16, 0x42));
  p.replay = m;
  p.timestamp_tolerance = tolerance;
  return std::move(SecurityAssociation::Create(std::move(p))).value();
}

NtpTime At(std::int64_t offset_nanos) { return NtpTime::FromUnixNanos(kBase + offset_nanos); }

// --- Home agent, timestamps (RFC 5944 5.7.1) ---

TEST(HaReplayTimestampTest, AcceptsWithinToleranceAndCopiesTheWholeField) {
  SecurityAssociation sa = MakeSa(ReplayMethod::kTimestamp);
  DeterministicRandom rng(1);
  HaReplayState st;
  const std::uint64_t id = At(3 * kSec).raw();
  ReplayCheck c = st.Check(sa, id, At(0), rng);
  EXPECT_TRUE(c.fresh());
  EXPECT_EQ(c.reply_identification, id);
  EXPECT_FALSE(st.last_accepted().has_value());  // Check alone changes nothing
  st.Commit(c);
  EXPECT_EQ(st.last_accepted()->raw(), id);
}

TEST(HaReplayTimestampTest, ToleranceEdges) {
  SecurityAssociation sa = MakeSa(ReplayMethod::kTimestamp);  // 7 s
  DeterministicRandom rng(1);
  HaReplayState st;
  const NtpTime now = At(0);
  const std::uint64_t tol = 7ULL << 32;
  EXPECT_TRUE(st.Check(sa, now.raw() + tol, now, rng).fresh());
  EXPECT_TRUE(st.Check(sa, now.raw() - tol, now, rng).fresh());
  EXPECT_EQ(st.Check(sa, now.raw() + tol + 1, now, rng).verdict, ReplayVerdict::kOutsideTolerance);
  EXPECT_EQ(st.Check(sa, now.raw() - tol - 1, now, rng).verdict, ReplayVerdict::kOutsideTolerance);
  // Far away in either direction (half the ring) is out too.
  EXPECT_FALSE(st.Check(sa, now.raw() + (1ULL << 63), now, rng).fresh());
  EXPECT_FALSE(st.Check(sa, 0, now, rng).fresh());

  SecurityAssociation wide = MakeSa(ReplayMethod::kTimestamp, Duration::Seconds(30));
  EXPECT_TRUE(st.Check(wide, now.raw() + (20ULL << 32), now, rng).fresh());
  EXPECT_FALSE(st.Check(sa, now.raw() + (20ULL << 32), now, rng).fresh());
}

TEST(HaReplayTimestampTest, MismatchRepliesWithHaTimeAndRequestLowBits) {
  SecurityAssociation sa = MakeSa(ReplayMethod::kTimestamp);
  DeterministicRandom rng(1);
  HaReplayState st;
  const NtpTime now = At(0);
  const std::uint64_t stale = At(-60 * kSec).raw() | 0xabcd;
  ReplayCheck c = st.Check(sa, stale, now, rng);
  EXPECT_EQ(c.verdict, ReplayVerdict::kOutsideTolerance);
  EXPECT_EQ(IdentificationHigh(c.reply_identification), now.seconds());
  EXPECT_EQ(IdentificationLow(c.reply_identification), IdentificationLow(stale));
  st.Commit(c);  // a 133 does not move the floor
  EXPECT_FALSE(st.last_accepted().has_value());
}

TEST(HaReplayTimestampTest, ReplayedAndOlderTimestampsRejected) {
  SecurityAssociation sa = MakeSa(ReplayMethod::kTimestamp);
  DeterministicRandom rng(1);
  HaReplayState st;
  const std::uint64_t first = At(1 * kSec).raw();
  st.Commit(st.Check(sa, first, At(0), rng));
  // The same request again (a replay), still within tolerance.
  EXPECT_EQ(st.Check(sa, first, At(kSec), rng).verdict, ReplayVerdict::kNotIncreasing);
  // An older one delivered late.
  EXPECT_EQ(st.Check(sa, first - 1, At(kSec), rng).verdict, ReplayVerdict::kNotIncreasing);
  // A newer one is fine.
  ReplayCheck c = st.Check(sa, first + 1, At(kSec), rng);
  EXPECT_TRUE(c.fresh());
  st.Commit(c);
  EXPECT_EQ(st.Check(sa, first + 1, At(kSec), rng).verdict, ReplayVerdict::kNotIncreasing);
}

TEST(HaReplayTimestampTest, OrderingSurvivesTheNtpEraRollover) {
  SecurityAssociation sa = MakeSa(ReplayMethod::kTimestamp);
  DeterministicRandom rng(1);
  HaReplayState st;
  const std::int64_t rollover = 2085978496LL * kSec;
  const NtpTime before = NtpTime::FromUnixNanos(rollover - kSec);
  const NtpTime after = NtpTime::FromUnixNanos(rollover + kSec);
  st.Commit(st.Check(sa, before.raw(), before, rng));
  EXPECT_TRUE(st.Check(sa, after.raw(), after, rng).fresh());
  EXPECT_FALSE(st.Check(sa, before.raw(), after, rng).fresh());
}

// --- Home agent, nonces (RFC 5944 5.7.2) ---

TEST(HaReplayNonceTest, SelfSynchronises) {
  SecurityAssociation sa = MakeSa(ReplayMethod::kNonce);
  DeterministicRandom rng(7);
  HaReplayState st;
  // No nonce issued yet: 133 with a new nonce and the low bits copied.
  ReplayCheck c = st.Check(sa, MakeIdentification(0, 0x1111), At(0), rng);
  EXPECT_EQ(c.verdict, ReplayVerdict::kNoNonceIssued);
  EXPECT_EQ(IdentificationLow(c.reply_identification), 0x1111u);
  const std::uint32_t n1 = IdentificationHigh(c.reply_identification);
  EXPECT_NE(n1, 0u);
  EXPECT_FALSE(st.expected_nonce().has_value());
  st.Commit(c);
  EXPECT_EQ(st.expected_nonce(), n1);

  // The right nonce is accepted, and the reply carries the next one.
  const std::uint64_t req = MakeIdentification(n1, 0x2222);
  c = st.Check(sa, req, At(0), rng);
  EXPECT_TRUE(c.fresh());
  const std::uint32_t n2 = IdentificationHigh(c.reply_identification);
  EXPECT_NE(n2, n1);
  EXPECT_EQ(IdentificationLow(c.reply_identification), 0x2222u);
  st.Commit(c);
  EXPECT_EQ(st.expected_nonce(), n2);

  // Replaying the accepted request fails: its nonce is spent.
  c = st.Check(sa, req, At(0), rng);
  EXPECT_EQ(c.verdict, ReplayVerdict::kNonceMismatch);
}

TEST(HaReplayNonceTest, CheckWithoutCommitKeepsTheExpectedNonce) {
  // A request lost on the way is retransmitted unchanged (3.6.3); a check
  // whose request failed authentication is never committed.
  SecurityAssociation sa = MakeSa(ReplayMethod::kNonce);
  DeterministicRandom rng(7);
  HaReplayState st;
  st.Commit(st.Check(sa, 1, At(0), rng));
  const std::uint32_t n = *st.expected_nonce();
  (void)st.Check(sa, MakeIdentification(n, 5), At(0), rng);
  (void)st.Check(sa, MakeIdentification(n + 1, 5), At(0), rng);
  EXPECT_EQ(st.expected_nonce(), n);
  EXPECT_TRUE(st.Check(sa, MakeIdentification(n, 5), At(0), rng).fresh());
}

// --- Mobile node (RFC 5944 3.6.2.1, 5.7) ---

TEST(MnReplayTest, TimestampIdentificationsFollowTheClockAndIncrease) {
  DeterministicRandom rng(3);
  MnReplayState mn(ReplayMethod::kTimestamp);
  const std::uint64_t a = mn.NextIdentification(At(0), rng);
  EXPECT_LE(std::llabs(NtpTime::FromRaw(a).UnitsSince(At(0))), 0x1000);
  // Same instant, and even a clock stepping back: still strictly greater.
  const std::uint64_t b = mn.NextIdentification(At(0), rng);
  const std::uint64_t c = mn.NextIdentification(At(-10 * kSec), rng);
  EXPECT_TRUE(NtpTime::FromRaw(b).IsAfter(NtpTime::FromRaw(a)));
  EXPECT_TRUE(NtpTime::FromRaw(c).IsAfter(NtpTime::FromRaw(b)));
  const std::uint64_t d = mn.NextIdentification(At(5 * kSec), rng);
  EXPECT_EQ(NtpTime::FromRaw(d).seconds(), At(5 * kSec).seconds());
}

TEST(MnReplayTest, ReplyLowBitsMustMatch) {
  MnReplayState ts(ReplayMethod::kTimestamp);
  const std::uint64_t req = MakeIdentification(0x11111111, 0x22222222);
  EXPECT_TRUE(ts.CheckReply(req, 0, req).ok());
  Status st = ts.CheckReply(req, 0, MakeIdentification(0x11111111, 0x22222223));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Errc::kReplay);
  // Timestamp mode: an accepting reply copies the entire field (5.7.1) ...
  EXPECT_FALSE(ts.CheckReply(req, 0, MakeIdentification(0x11111112, 0x22222222)).ok());
  EXPECT_FALSE(ts.CheckReply(req, 1, MakeIdentification(0x11111112, 0x22222222)).ok());
  // ... a 133 carries the HA's time in the high bits.
  EXPECT_TRUE(ts.CheckReply(req, 133, MakeIdentification(0x99999999, 0x22222222)).ok());
  EXPECT_FALSE(ts.CheckReply(req, 133, MakeIdentification(0x99999999, 0x0)).ok());

  MnReplayState nonce(ReplayMethod::kNonce);
  EXPECT_TRUE(nonce.CheckReply(req, 0, MakeIdentification(0x5, 0x22222222)).ok());
  EXPECT_FALSE(nonce.CheckReply(req, 0, MakeIdentification(0x5, 0x2222222f)).ok());
}

// One HA and one MN, messages carried as Identification values; `mn_offset`
// is how far the MN's clock is from the HA's.
struct Exchange {
  std::uint8_t code;
  std::uint64_t request;
  std::uint64_t reply;
};
Exchange Register(HaReplayState& ha, const SecurityAssociation& sa, MnReplayState& mn,
                  RandomSource& rng, std::int64_t ha_time, std::int64_t mn_offset) {
  const std::uint64_t req = mn.NextIdentification(At(ha_time + mn_offset), rng);
  ReplayCheck c = ha.Check(sa, req, At(ha_time), rng);
  ha.Commit(c);  // (the authenticator verified)
  const std::uint8_t code = c.fresh() ? 0 : kCodeIdentificationMismatch;
  EXPECT_TRUE(mn.CheckReply(req, code, c.reply_identification).ok());
  mn.OnAuthenticatedReply(req, code, c.reply_identification, At(ha_time + mn_offset));
  return {code, req, c.reply_identification};
}

TEST(ResyncTest, TimestampMnClockBehindResynchronisesFrom133) {
  SecurityAssociation sa = MakeSa(ReplayMethod::kTimestamp);
  DeterministicRandom rng(11);
  HaReplayState ha;
  MnReplayState mn(ReplayMethod::kTimestamp);
  const std::int64_t behind = -100 * kSec;
  Exchange e = Register(ha, sa, mn, rng, 0, behind);
  EXPECT_EQ(e.code, 133);
  EXPECT_EQ(IdentificationHigh(e.reply), At(0).seconds());
  // The MN learned the HA's clock to within a second.
  EXPECT_NEAR(mn.clock_offset().SecondsF(), 100.0, 1.0);
  e = Register(ha, sa, mn, rng, kSec, behind);
  EXPECT_EQ(e.code, 0);
  EXPECT_EQ(e.reply, e.request);
  e = Register(ha, sa, mn, rng, 2 * kSec, behind);
  EXPECT_EQ(e.code, 0);
}

TEST(ResyncTest, TimestampMnClockAheadAfterAcceptedRegistration) {
  SecurityAssociation sa = MakeSa(ReplayMethod::kTimestamp);
  DeterministicRandom rng(12);
  HaReplayState ha;
  MnReplayState mn(ReplayMethod::kTimestamp);
  EXPECT_EQ(Register(ha, sa, mn, rng, 0, 0).code, 0);
  // The MN's clock jumps an hour ahead: its requests are out of tolerance.
  EXPECT_EQ(Register(ha, sa, mn, rng, 10 * kSec, 3600 * kSec).code, 133);
  // After the resync the MN's requests are near the HA's time again (the
  // floor fell back to what the HA had accepted) and are accepted.
  Exchange e = Register(ha, sa, mn, rng, 11 * kSec, 3600 * kSec);
  EXPECT_EQ(e.code, 0);
  EXPECT_LE(std::llabs(NtpTime::FromRaw(e.request).Since(At(11 * kSec)).seconds()), 1);
}

TEST(ResyncTest, UnauthenticatedMismatchTeachesNothing) {
  // A forged 133 (authenticator failed) is never passed to
  // OnAuthenticatedReply; CheckReply alone must not change anything.
  DeterministicRandom rng(13);
  MnReplayState mn(ReplayMethod::kTimestamp);
  const std::uint64_t req = mn.NextIdentification(At(0), rng);
  EXPECT_TRUE(mn.CheckReply(req, 133, MakeIdentification(0x10, IdentificationLow(req))).ok());
  EXPECT_EQ(mn.clock_offset(), Duration::Zero());
  // FA-generated codes teach nothing either.
  mn.OnAuthenticatedReply(req, 66, MakeIdentification(0x10, IdentificationLow(req)), At(0));
  EXPECT_EQ(mn.clock_offset(), Duration::Zero());
}

TEST(ResyncTest, NonceRoundTrip) {
  SecurityAssociation sa = MakeSa(ReplayMethod::kNonce);
  DeterministicRandom rng(21);
  HaReplayState ha;
  MnReplayState mn(ReplayMethod::kNonce);
  EXPECT_FALSE(mn.ha_nonce().has_value());
  Exchange e = Register(ha, sa, mn, rng, 0, 0);
  EXPECT_EQ(e.code, 133);  // no nonce yet
  EXPECT_EQ(mn.ha_nonce(), IdentificationHigh(e.reply));
  e = Register(ha, sa, mn, rng, 0, 0);
  EXPECT_EQ(e.code, 0);
  e = Register(ha, sa, mn, rng, 0, 0);
  EXPECT_EQ(e.code, 0);

  // The HA restarts and forgets its nonce: one 133, then in sync again.
  HaReplayState restarted;
  EXPECT_EQ(Register(restarted, sa, mn, rng, 0, 0).code, 133);
  EXPECT_EQ(Register(restarted, sa, mn, rng, 0, 0).code, 0);
}

TEST(ResyncTest, NonceLowBitsChangeEveryRequest) {
  DeterministicRandom rng(22);
  MnReplayState mn(ReplayMethod::kNonce);
  std::uint64_t prev = mn.NextIdentification(At(0), rng);
  for (int i = 0; i < 100; ++i) {
    std::uint64_t next = mn.NextIdentification(At(0), rng);
    EXPECT_NE(IdentificationLow(next), IdentificationLow(prev));
    prev = next;
  }
}

// The HA's order of checks (RFC 5944 3.8.2.1): authenticator (a), then
// Identification (b); a forged request leaves the replay state untouched.
TEST(HaFlowTest, ForgedAuthenticatorChangesNoState) {
  SaDatabase db;
  std::vector<SecurityAssociation> sas;
  sas.push_back(MakeSa(ReplayMethod::kTimestamp));
  MobileNodeSecurity* mn = *db.AddMobileNode(Ipv4Address::FromOctets(10, 0, 0, 5), "", std::move(sas));
  DeterministicRandom rng(5);

  auto process = [&](const Bytes& msg, NtpTime now) -> std::optional<std::uint8_t> {
    Result<AuthExtensionView> v = ViewAuthExtension(msg, 24);
    if (!v.ok()) return std::nullopt;
    SecurityAssociation* sa = db.MobileNodeSa(*mn, v->spi);
    if (!sa) return std::nullopt;                                     // silently discard
    if (!sa->Verify(v->covered, v->authenticator).ok()) return 131;  // no state change
    ReplayCheck c = mn->replay.Check(*sa, wire::LoadU32(msg, 16) * (1ULL << 32) + wire::LoadU32(msg, 20), now, rng);
    mn->replay.Commit(c);
    return c.fresh() ? 0 : 133;
  };
  auto request = [&](std::uint64_t id) {
    Bytes m = {1, 0, 0, 60, 10, 0, 0, 5, 10, 0, 0, 1, 192, 0, 2, 7};
    m.resize(24);
    wire::StoreU32(m, 16, IdentificationHigh(id));
    wire::StoreU32(m, 20, IdentificationLow(id));
    EXPECT_TRUE(AppendAuthExtension(m, AuthExtensionType::kMobileHome, *db.MobileNodeSa(*mn, 0x100)).ok());
    return m;
  };

  const std::uint64_t id1 = At(0).raw();
  Bytes good = request(id1);
  Bytes forged = request(At(kSec).raw());
  forged.back() ^= 0x80;
  EXPECT_EQ(process(forged, At(0)), 131);
  EXPECT_FALSE(mn->replay.last_accepted().has_value());
  EXPECT_EQ(process(good, At(0)), 0);
  EXPECT_EQ(mn->replay.last_accepted()->raw(), id1);
  // A forged request with a later Identification must not raise the floor.
  Bytes forged2 = request(At(2 * kSec).raw());
  forged2[4] ^= 1;  // tamper with the home address after signing
  EXPECT_EQ(process(forged2, At(kSec)), 131);
  EXPECT_EQ(mn->replay.last_accepted()->raw(), id1);
  // The genuine request replayed: 133.
  EXPECT_EQ(process(good, At(kSec)), 133);
  // Unknown SPI: silently discarded.
  Bytes unknown = good;
  unknown[24 + 5] ^= 0x01;
  EXPECT_EQ(process(unknown, At(kSec)), std::nullopt);
}

}  // namespace
}  // namespace mipsec::mip4

#include "mip4/security/replay.h"

#include <limits>

namespace mipsec::mip4 {

namespace {

// RFC 5944 5.7.1: only the high-order fraction bits come from the clock; the
// rest SHOULD be random. 12 bits is about 1 microsecond.
constexpr std::uint64_t kRandomLowBits = 0xfff;

bool IsAccepted(std::uint8_t code) { return code == 0 || code == 1; }
bool IsForeignAgentCode(std::uint8_t code) { return code >= 64 && code <= 127; }

}  // namespace

std::string_view ReplayVerdictName(ReplayVerdict v) {
  switch (v) {
    case ReplayVerdict::kFresh: return "fresh";
    case ReplayVerdict::kOutsideTolerance: return "outside tolerance";
    case ReplayVerdict::kNotIncreasing: return "not increasing";
    case ReplayVerdict::kNonceMismatch: return "nonce mismatch";
    case ReplayVerdict::kNoNonceIssued: return "no nonce issued";
  }
  return "unknown";
}

ReplayCheck HaReplayState::Check(const SecurityAssociation& sa, std::uint64_t request_id,
                                 NtpTime now, RandomSource& rng) const {
  ReplayCheck c;
  c.method = sa.replay_method();
  c.request_identification = request_id;
  const std::uint32_t low = IdentificationLow(request_id);
  if (c.method == ReplayMethod::kTimestamp) {
    // RFC 5944 5.7.1: close enough to the HA's time of day ...
    const std::int64_t diff = NtpTime::FromRaw(request_id).UnitsSince(now);
    const std::int64_t tol = DurationToNtpUnits(sa.timestamp_tolerance());
    const bool within = diff != std::numeric_limits<std::int64_t>::min() &&
                        (diff < 0 ? -diff : diff) <= tol;
    if (!within) {
      c.verdict = ReplayVerdict::kOutsideTolerance;
    } else if (has_last_ && !NtpTime::FromRaw(request_id).IsAfter(NtpTime::FromRaw(last_))) {
      // ... and greater than all previously accepted timestamps.
      c.verdict = ReplayVerdict::kNotIncreasing;
    }
    // Fresh: the entire Identification is copied; otherwise the HA's time in
    // the high 32 bits and the request's low 32 bits (5.7.1).
    c.reply_identification =
        c.fresh() ? request_id : MakeIdentification(now.seconds(), low);
    return c;
  }
  // RFC 5944 5.7.2: the high 32 bits must be the nonce the HA issued last.
  if (nonce_ == 0) {
    c.verdict = ReplayVerdict::kNoNonceIssued;
  } else if (IdentificationHigh(request_id) != nonce_) {
    c.verdict = ReplayVerdict::kNonceMismatch;
  }
  // Every reply carries a new nonce, accepted or not (5.7.2).
  std::uint32_t next;
  do {
    next = rng.U32();
  } while (next == 0 || next == nonce_);
  c.new_nonce = next;
  c.reply_identification = MakeIdentification(next, low);
  return c;
}

void HaReplayState::Commit(const ReplayCheck& check) {
  if (check.method == ReplayMethod::kTimestamp) {
    if (check.fresh()) {
      last_ = check.request_identification;
      has_last_ = true;
    }
    return;
  }
  nonce_ = check.new_nonce;
}

std::uint64_t MnReplayState::NextIdentification(NtpTime now, RandomSource& rng) {
  if (method_ == ReplayMethod::kNonce) {
    std::uint32_t low;
    do {
      low = rng.U32();
    } while (low == last_low_);  // 5.7.2: SHOULD differ from the previous value
    last_low_ = low;
    return MakeIdentification(ha_nonce_, low);
  }
  const NtpTime t = NtpTime::FromRaw(now.raw() + static_cast<std::uint64_t>(offset_units_));
  std::uint64_t id = (t.raw() & ~kRandomLowBits) | (rng.U32() & kRandomLowBits);
  // 5.7.1: MUST be greater than that used in any previous request.
  if (has_floor_ && !NtpTime::FromRaw(id).IsAfter(NtpTime::FromRaw(floor_))) {
    id = floor_ + 1 + (rng.U32() & kRandomLowBits);
  }
  floor_ = id;
  has_floor_ = true;
  last_low_ = IdentificationLow(id);
  return id;
}

Status MnReplayState::CheckReply(std::uint64_t request_id, std::uint8_t code,
                                 std::uint64_t reply_id) const {
  // RFC 5944 3.6.2.1 / 5.7: the low-order 32 bits MUST match.
  if (IdentificationLow(reply_id) != IdentificationLow(request_id)) {
    return Error(Errc::kReplay, "reply Identification low 32 bits do not match the request");
  }
  // 5.7.1: a valid timestamp is copied whole into the reply.
  if (method_ == ReplayMethod::kTimestamp && IsAccepted(code) && reply_id != request_id) {
    return Error(Errc::kReplay,
                 "accepting reply does not carry the request's entire Identification "
                 "(RFC 5944 5.7.1)");
  }
  return Ok{};
}

void MnReplayState::OnAuthenticatedReply(std::uint64_t request_id, std::uint8_t code,
                                         std::uint64_t reply_id, NtpTime now) {
  if (IsForeignAgentCode(code)) return;
  if (method_ == ReplayMethod::kNonce) {
    // 5.7.2: save the high 32 bits for the next request.
    if (IdentificationHigh(reply_id) != 0) ha_nonce_ = IdentificationHigh(reply_id);
    return;
  }
  if (IsAccepted(code)) {
    if (!has_accepted_ || NtpTime::FromRaw(request_id).IsAfter(NtpTime::FromRaw(accepted_))) {
      accepted_ = request_id;
      has_accepted_ = true;
    }
    return;
  }
  if (code == kCodeIdentificationMismatch) {
    // 3.6.2.3 / 5.7.1: resynchronise from the HA's time in the high 32 bits;
    // only seconds are given, so take the middle of that second.
    const NtpTime ha_time = NtpTime::FromParts(IdentificationHigh(reply_id), 0x80000000u);
    offset_units_ = ha_time.UnitsSince(now);
    floor_ = accepted_;
    has_floor_ = has_accepted_;
  }
}

}  // namespace mipsec::mip4

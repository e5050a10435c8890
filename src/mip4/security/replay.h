// Replay protection of registrations through the 64-bit Identification
// (RFC 5944 5.7), home-agent side and mobile-node side.
//
// Timestamp mode (5.7.1): the MN sends its time of day as an NTP timestamp
// (ntp_time.h). The HA accepts it if it is within the SA's tolerance of the
// HA's clock AND later than every Identification it accepted before from this
// MN (a sequence number, so a delayed duplicate cannot be applied out of
// order). Otherwise the HA answers Code 133 with its own time in the high 32
// bits and the request's low 32 bits; the MN, after authenticating that reply,
// re-synchronises its clock offset from it.
//
// Nonce mode (5.7.2): the high 32 bits are a nonce the HA puts in every
// reply; the MN echoes the last one it received in its next request and
// chooses the low 32 bits itself. A wrong nonce gets Code 133 with a new one,
// so the protocol is self-synchronising.
//
// Both modes: the low 32 bits are copied from request to reply, and the MN
// MUST discard a reply whose low 32 bits differ from its request (3.6.2.1).
//
// Check first, commit later (as ESP anti-replay does): HaReplayState::Check()
// is const and only tells what to answer; Commit() changes the state and may
// be called only once the request's authenticator has verified (RFC 5944
// 3.8.2.1 checks authentication (a) before the Identification (b)). A forged
// or unauthenticated request therefore never moves the state. Likewise the
// MN's CheckReply() is pure and OnAuthenticatedReply() is called only after
// the reply's MN-HA authenticator verified.
//
// Time is an input: `now` is the caller's time of day as an NtpTime.
// Randomness (nonces, the low-order timestamp bits) comes from an injected
// RandomSource.
#ifndef MIPSEC_MIP4_SECURITY_REPLAY_H_
#define MIPSEC_MIP4_SECURITY_REPLAY_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "mip4/security/ntp_time.h"
#include "mip4/security/security_association.h"

namespace mipsec::mip4 {

// Registration Reply code "registration Identification mismatch"
// (RFC 5944 3.4).
constexpr std::uint8_t kCodeIdentificationMismatch = 133;

constexpr std::uint32_t IdentificationHigh(std::uint64_t id) {
  return static_cast<std::uint32_t>(id >> 32);
}
constexpr std::uint32_t IdentificationLow(std::uint64_t id) {
  return static_cast<std::uint32_t>(id);
}
constexpr std::uint64_t MakeIdentification(std::uint32_t high, std::uint32_t low) {
  return static_cast<std::uint64_t>(high) << 32 | low;
}

// Why the HA judged an Identification as it did (for logs and counters).
enum class ReplayVerdict : std::uint8_t {
  kFresh,              // accept
  kOutsideTolerance,   // timestamp too far from the HA's clock
  kNotIncreasing,      // timestamp not later than the last accepted one
  kNonceMismatch,      // high 32 bits are not the nonce the HA last issued
  kNoNonceIssued,      // nonce mode, the HA has not issued a nonce yet
};
// "fresh", "outside tolerance", "not increasing", "nonce mismatch",
// "no nonce issued".
std::string_view ReplayVerdictName(ReplayVerdict v);

// The outcome of HaReplayState::Check.
struct ReplayCheck {
  ReplayVerdict verdict = ReplayVerdict::kFresh;
  // What the Registration Reply's Identification must be: the request's
  // Identification when fresh in timestamp mode; the HA's time (timestamp
  // mode) or a new nonce (nonce mode) in the high 32 bits and the request's
  // low 32 bits otherwise.
  std::uint64_t reply_identification = 0;
  // When !fresh(), the reply code is kCodeIdentificationMismatch (133) and
  // the request must get no further processing (RFC 5944 3.8.2.1 (b)).
  bool fresh() const { return verdict == ReplayVerdict::kFresh; }

  // Internal to HaReplayState: what Commit() stores.
  ReplayMethod method = ReplayMethod::kTimestamp;
  std::uint64_t request_identification = 0;
  std::uint32_t new_nonce = 0;
};

// Per-mobile-node replay state kept by the home agent (16 bytes). It must
// outlive bindings (keep it with the MN's security associations, see
// SaDatabase), or a deregistered MN's old requests would become fresh again.
class HaReplayState {
 public:
  // Judges `request_id` of a request authenticated under `sa` (whose method
  // and tolerance apply) at HA time `now`. Pure; `rng` is drawn from only in
  // nonce mode (the next nonce, never 0 and never the current one).
  ReplayCheck Check(const SecurityAssociation& sa, std::uint64_t request_id, NtpTime now,
                    RandomSource& rng) const;
  // Applies a Check() result. Call exactly once per check, only after the
  // request's authenticator verified, when the reply carrying
  // `check.reply_identification` is sent (whatever its final code).
  // Timestamp mode: a fresh Identification becomes the new floor. Nonce mode:
  // the nonce issued in the reply becomes the one expected next.
  void Commit(const ReplayCheck& check);

  // The greatest timestamp accepted so far (timestamp mode).
  std::optional<NtpTime> last_accepted() const {
    return has_last_ ? std::optional<NtpTime>(NtpTime::FromRaw(last_)) : std::nullopt;
  }
  // The nonce the next request must carry (nonce mode); nullopt before the
  // first reply.
  std::optional<std::uint32_t> expected_nonce() const {
    return nonce_ != 0 ? std::optional<std::uint32_t>(nonce_) : std::nullopt;
  }

 private:
  std::uint64_t last_ = 0;
  std::uint32_t nonce_ = 0;  // 0: none issued (issued nonces are never 0)
  bool has_last_ = false;
};

// The mobile node's side for one home agent SA: generates Identifications
// and validates the Identification of replies.
class MnReplayState {
 public:
  explicit MnReplayState(ReplayMethod method) : method_(method) {}

  ReplayMethod method() const { return method_; }

  // The Identification for a new Registration Request at MN time `now`.
  // Timestamp mode: now + the learned clock offset as NTP, the low 12
  // fraction bits random (RFC 5944 5.7.1: bits a time source does not supply
  // SHOULD be random), and always later than the previous request's
  // (5.7.1 MUST). Call it for every transmission, retransmissions included
  // (3.6.3). Nonce mode: the HA's last nonce (0 before any reply, which the
  // HA answers with 133 and a nonce) and a fresh random low half different
  // from the previous one (5.7.2); retransmit a request unchanged instead of
  // calling this again (3.6.3).
  std::uint64_t NextIdentification(NtpTime now, RandomSource& rng);

  // Whether a reply's Identification fits the request it answers. Pure.
  // kReplay when the low 32 bits differ (3.6.2.1: discard silently), and in
  // timestamp mode when an accepting reply (code 0 or 1) does not carry the
  // request's entire Identification (5.7.1: the HA copies the entire field).
  Status CheckReply(std::uint64_t request_id, std::uint8_t code, std::uint64_t reply_id) const;

  // Learns from a reply whose MN-HA authenticator verified and which passed
  // CheckReply(), received at MN time `now`. Timestamp mode: an accepting
  // reply raises the "accepted" floor; a 133 sets the clock offset to the
  // HA's time minus `now` (the HA's second taken at its middle) and lowers
  // the generation floor to the last Identification the HA accepted, so a
  // clock that ran ahead does not keep every later request out of tolerance.
  // Nonce mode: remembers the high 32 bits as the nonce for the next
  // request. Replies with foreign-agent codes (64-127) teach nothing: the FA
  // copies the request's Identification.
  void OnAuthenticatedReply(std::uint64_t request_id, std::uint8_t code, std::uint64_t reply_id,
                            NtpTime now);

  // Timestamp mode: the HA's clock minus ours, as learned from 133 replies.
  Duration clock_offset() const { return NtpUnitsToDuration(offset_units_); }
  // Nonce mode: the nonce the next request will carry.
  std::optional<std::uint32_t> ha_nonce() const {
    return ha_nonce_ != 0 ? std::optional<std::uint32_t>(ha_nonce_) : std::nullopt;
  }

 private:
  ReplayMethod method_;
  std::int64_t offset_units_ = 0;  // NTP units
  std::uint64_t floor_ = 0;        // next timestamp must be after this
  bool has_floor_ = false;
  std::uint64_t accepted_ = 0;     // last Identification the HA accepted
  bool has_accepted_ = false;
  std::uint32_t ha_nonce_ = 0;
  std::uint32_t last_low_ = 0;
};

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_SECURITY_REPLAY_H_

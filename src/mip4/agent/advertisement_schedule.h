// AdvertisementSchedule: when a mobility agent sends Agent Advertisements on
// one served link (RFC 5944 2.1, 2.3, 2.3.2; ICMP Router Discovery, RFC 1256
// 4.1), and their sequence numbers. Pure timing: the ForeignAgent (per served
// link) and the HomeAgent (on the home link) build and send the messages.
//
//   - Periodic multicast advertisements at a uniformly random interval in
//     [min_interval, max_interval] (RFC 1256 4.1, "slightly randomized" in
//     RFC 5944 2.1); the first three no further apart than 16 s
//     (MAX_INITIAL_ADVERTISEMENTS, MAX_INITIAL_ADVERT_INTERVAL). None when
//     the agent only answers solicitations (RFC 5944 2.3 MAY).
//   - A solicitation from an unspecified source (0.0.0.0) is answered with a
//     multicast advertisement delayed by a random time up to
//     max_response_delay (RFC 1256 MAX_RESPONSE_DELAY, 2 s), never sooner
//     than min_multicast_gap after the previous multicast one (RFC 5944 2.3:
//     the rate of multicast advertisements MUST be limited); several
//     solicitations in that window get one advertisement. Sending it resets
//     the periodic timer (RFC 1256 4.1). A solicitation from a unicast
//     source is answered at once by unicast (the agent does that; it does
//     not touch this schedule other than taking a sequence number).
//   - Sequence numbers 0, 1, ..., 0xffff, then 256, 257, ... (RFC 5944
//     2.3.2), one per advertisement sent, unicast or multicast.
//
// Call order: Start(now) once, then OnMulticastSent() after each multicast
// advertisement sent at a time >= NextDue(); OnSolicitation() on a
// multicast-answered solicitation. Randomness is injected.
#ifndef MIPSEC_MIP4_AGENT_ADVERTISEMENT_SCHEDULE_H_
#define MIPSEC_MIP4_AGENT_ADVERTISEMENT_SCHEDULE_H_

#include <cstdint>
#include <optional>

#include "common/random.h"
#include "common/result.h"
#include "common/time.h"

namespace mipsec::mip4 {

// RFC 1256 6 constants.
inline constexpr Duration kMaxInitialAdvertInterval = Duration::Seconds(16);
inline constexpr int kMaxInitialAdvertisements = 3;
inline constexpr Duration kMaxResponseDelay = Duration::Seconds(2);
// The shortest MaxAdvertisementInterval mipsec accepts.
inline constexpr Duration kMinAdvertInterval = Duration::Millis(100);

struct AdvertisementTiming {
  // RFC 1256 MaxAdvertisementInterval. RFC 1256 allows 4..1800 s; mipsec
  // allows from kMinAdvertInterval, as RFC 5944 2.1 only asks for at most
  // 1/3 of the advertisement Lifetime (whole seconds, so at least 1 s) and
  // Mobile IP deployments advertise every second or faster for quick move
  // detection (the daemons' configs accept the same range).
  Duration max_interval = Duration::Seconds(10);
  // RFC 1256 MinAdvertisementInterval; Zero: 0.75 * max_interval.
  Duration min_interval = Duration::Zero();
  // Only answer solicitations (RFC 5944 2.3).
  bool solicited_only = false;
  Duration max_response_delay = kMaxResponseDelay;
  Duration min_multicast_gap = Duration::Seconds(1);

  bool operator==(const AdvertisementTiming&) const = default;
};

// The shortest ICMP Lifetime (whole seconds) for advertisements sent every
// max_interval: RFC 5944 2.1, the interval SHOULD be no longer than 1/3 of
// the Lifetime (three may be missed). Also the default Lifetime (RFC 1256
// 4.1: 3 * MaxAdvertisementInterval), capped at 9000 s.
std::uint16_t MinAdvertisementLifetime(const AdvertisementTiming& t);
// kInvalidArgument unless MinAdvertisementLifetime(t) <= lifetime <= 9000.
Status ValidateAdvertisementLifetime(const AdvertisementTiming& t, std::uint16_t lifetime);

// kInvalidArgument naming the field: max_interval outside [100 ms, 1800 s],
// min_interval above max_interval, a negative delay or gap.
Status ValidateAdvertisementTiming(const AdvertisementTiming& t);

// The sequence number after `seq` (RFC 5944 2.3.2: 0xffff is followed by 256).
constexpr std::uint16_t NextAdvertisementSequence(std::uint16_t seq) {
  return seq == 0xffff ? 256 : static_cast<std::uint16_t>(seq + 1);
}

class AdvertisementSchedule {
 public:
  explicit AdvertisementSchedule(const AdvertisementTiming& timing);

  bool started() const { return started_; }
  // The first periodic advertisement is due at `now` (unless solicited only).
  void Start(Timestamp now);
  // When the next multicast advertisement is due; Infinite if none.
  Timestamp NextDue() const;
  bool Due(Timestamp now) const { return started_ && NextDue() <= now; }
  // A multicast advertisement was sent at `now`.
  void OnMulticastSent(Timestamp now, RandomSource& rng);
  // A solicitation that asks for a multicast answer arrived at `now`.
  void OnSolicitation(Timestamp now, RandomSource& rng);

  // New timing (a configuration reload; validated by the caller): the next
  // periodic advertisement is due no later than one new max_interval from
  // `now`; the sequence continues (RFC 5944 2.3.2).
  void SetTiming(const AdvertisementTiming& timing, Timestamp now);

  // Takes the sequence number for the next advertisement sent (either kind).
  std::uint16_t TakeSequence();
  std::uint16_t next_sequence() const { return sequence_; }
  int multicast_sent() const { return multicast_sent_; }

 private:
  Duration RandomBetween(Duration lo, Duration hi, RandomSource& rng) const;

  AdvertisementTiming timing_;
  bool started_ = false;
  Timestamp periodic_due_ = Timestamp::Infinite();
  Timestamp solicited_due_ = Timestamp::Infinite();
  std::optional<Timestamp> last_multicast_;
  int multicast_sent_ = 0;
  std::uint16_t sequence_ = 0;
};

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_AGENT_ADVERTISEMENT_SCHEDULE_H_

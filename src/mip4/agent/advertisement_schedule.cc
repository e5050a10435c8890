#include "mip4/agent/advertisement_schedule.h"

#include <algorithm>
#include <string>

namespace mipsec::mip4 {

std::uint16_t MinAdvertisementLifetime(const AdvertisementTiming& t) {
  const std::int64_t s = (3 * t.max_interval.nanos() + 999'999'999) / 1'000'000'000;
  return static_cast<std::uint16_t>(std::clamp<std::int64_t>(s, 1, 9000));
}

Status ValidateAdvertisementLifetime(const AdvertisementTiming& t, std::uint16_t lifetime) {
  const std::uint16_t min = MinAdvertisementLifetime(t);
  if (lifetime < min || lifetime > 9000) {
    return Error(Errc::kInvalidArgument,
                 "advertisement_lifetime " + std::to_string(lifetime) + " s: must be " +
                     std::to_string(min) + "..9000 s, at least three advertisement intervals " +
                     "(RFC 5944 2.1, RFC 1256 4.1)");
  }
  return Ok{};
}

Status ValidateAdvertisementTiming(const AdvertisementTiming& t) {
  if (t.max_interval < kMinAdvertInterval || t.max_interval > Duration::Seconds(1800)) {
    return Error(Errc::kInvalidArgument,
                 "advertisement max_interval " + t.max_interval.ToString() +
                     " outside 100ms..1800s (RFC 1256 4.1)");
  }
  if (t.min_interval < Duration::Zero() || t.min_interval > t.max_interval) {
    return Error(Errc::kInvalidArgument, "advertisement min_interval " +
                                             t.min_interval.ToString() +
                                             " outside 0..max_interval (RFC 1256 4.1)");
  }
  if (t.max_response_delay < Duration::Zero()) {
    return Error(Errc::kInvalidArgument, "advertisement max_response_delay is negative");
  }
  if (t.min_multicast_gap < Duration::Zero()) {
    return Error(Errc::kInvalidArgument, "advertisement min_multicast_gap is negative");
  }
  return Ok{};
}

AdvertisementSchedule::AdvertisementSchedule(const AdvertisementTiming& timing)
    : timing_(timing) {
  if (timing_.min_interval == Duration::Zero()) {
    timing_.min_interval = timing_.max_interval * 3 / 4;  // RFC 1256 default
  }
}

void AdvertisementSchedule::SetTiming(const AdvertisementTiming& timing, Timestamp now) {
  timing_ = timing;
  if (timing_.min_interval == Duration::Zero()) {
    timing_.min_interval = timing_.max_interval * 3 / 4;  // RFC 1256 default
  }
  if (!started_) return;
  if (timing_.solicited_only) {
    periodic_due_ = Timestamp::Infinite();
  } else if (periodic_due_ == Timestamp::Infinite()) {
    periodic_due_ = now;
  } else {
    periodic_due_ = std::min(periodic_due_, now + timing_.max_interval);
  }
}

void AdvertisementSchedule::Start(Timestamp now) {
  if (started_) return;
  started_ = true;
  if (!timing_.solicited_only) periodic_due_ = now;
}

Timestamp AdvertisementSchedule::NextDue() const {
  if (!started_) return Timestamp::Infinite();
  return std::min(periodic_due_, solicited_due_);
}

Duration AdvertisementSchedule::RandomBetween(Duration lo, Duration hi, RandomSource& rng) const {
  if (hi <= lo) return lo;
  // Sub-second resolution (RFC 1256 4.1: "not in units of whole seconds").
  const double span = static_cast<double>((hi - lo).nanos());
  return lo + Duration::Nanos(static_cast<std::int64_t>(span * rng.UnitDouble()));
}

void AdvertisementSchedule::OnMulticastSent(Timestamp now, RandomSource& rng) {
  ++multicast_sent_;
  last_multicast_ = now;
  solicited_due_ = Timestamp::Infinite();
  if (timing_.solicited_only) {
    periodic_due_ = Timestamp::Infinite();
    return;
  }
  Duration interval = RandomBetween(timing_.min_interval, timing_.max_interval, rng);
  if (multicast_sent_ <= kMaxInitialAdvertisements) {
    interval = std::min(interval, kMaxInitialAdvertInterval);
  }
  periodic_due_ = now + interval;
}

void AdvertisementSchedule::OnSolicitation(Timestamp now, RandomSource& rng) {
  if (!started_) Start(now);
  Timestamp due = now + RandomBetween(Duration::Zero(), timing_.max_response_delay, rng);
  if (last_multicast_) due = std::max(due, *last_multicast_ + timing_.min_multicast_gap);
  solicited_due_ = std::min(solicited_due_, due);
}

std::uint16_t AdvertisementSchedule::TakeSequence() {
  const std::uint16_t s = sequence_;
  sequence_ = NextAdvertisementSequence(sequence_);
  return s;
}

}  // namespace mipsec::mip4

#include "mip4/security/ntp_time.h"

#include <cstdio>
#include <limits>

namespace mipsec::mip4 {

namespace {
constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
// |seconds| at which NTP units (32.32 fixed point in an int64) saturate.
constexpr std::int64_t kMaxSeconds = (std::int64_t{1} << 31) - 1;
}  // namespace

NtpTime NtpTime::FromUnixNanos(std::int64_t unix_nanos) {
  std::int64_t sec = unix_nanos / kNanosPerSecond;
  std::int64_t rem = unix_nanos % kNanosPerSecond;
  if (rem < 0) {  // floor division for times before 1970
    rem += kNanosPerSecond;
    sec -= 1;
  }
  // Seconds modulo 2^32: the era is not carried (RFC 5905 6).
  const auto ntp_sec = static_cast<std::uint32_t>(static_cast<std::uint64_t>(sec + kUnixEpochOffsetSeconds));
  const auto frac = static_cast<std::uint32_t>((static_cast<std::uint64_t>(rem) << 32) /
                                               static_cast<std::uint64_t>(kNanosPerSecond));
  return FromParts(ntp_sec, frac);
}

std::int64_t NtpTime::ToUnixNanosNear(std::int64_t reference_unix_nanos) const {
  const NtpTime ref = FromUnixNanos(reference_unix_nanos);
  // Rounding of the reference is below a nanosecond, so the sum is exact to
  // within one nanosecond.
  return reference_unix_nanos + NtpUnitsToDuration(UnitsSince(ref)).nanos();
}

Duration NtpTime::Since(NtpTime o) const { return NtpUnitsToDuration(UnitsSince(o)); }

NtpTime NtpTime::Plus(Duration d) const {
  return NtpTime(raw_ + static_cast<std::uint64_t>(DurationToNtpUnits(d)));
}

std::string NtpTime::ToString() const {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%08x.%08x", seconds(), fraction());
  return buf;
}

std::int64_t DurationToNtpUnits(Duration d) {
  const std::int64_t n = d.nanos();
  const std::int64_t sec = n / kNanosPerSecond;
  const std::int64_t rem = n % kNanosPerSecond;  // same sign as n
  if (sec > kMaxSeconds) return std::numeric_limits<std::int64_t>::max();
  if (sec < -kMaxSeconds) return std::numeric_limits<std::int64_t>::min();
  const std::int64_t frac_units = rem >= 0 ? static_cast<std::int64_t>((static_cast<std::uint64_t>(rem) << 32) / kNanosPerSecond)
                                           : -static_cast<std::int64_t>((static_cast<std::uint64_t>(-rem) << 32) / kNanosPerSecond);
  return sec * (std::int64_t{1} << 32) + frac_units;
}

Duration NtpUnitsToDuration(std::int64_t units) {
  const bool negative = units < 0;
  // Work on the magnitude so rounding is toward zero in both directions.
  const std::uint64_t mag = negative ? static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(units)
                                     : static_cast<std::uint64_t>(units);
  const std::uint64_t sec = mag >> 32;
  const std::uint64_t frac = mag & 0xffffffffu;
  const auto nanos = static_cast<std::int64_t>(sec * kNanosPerSecond +
                                               ((frac * kNanosPerSecond) >> 32));
  return Duration::Nanos(negative ? -nanos : nanos);
}

}  // namespace mipsec::mip4

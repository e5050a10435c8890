// NtpTime: the 64-bit NTP timestamp format (RFC 5905 6, "NTP Timestamp
// Format") that Mobile IPv4 uses for the Identification field under
// timestamp replay protection (RFC 5944 5.7.1).
//
//   high 32 bits  seconds since 1900-01-01 00:00:00 UTC, modulo 2^32 (the
//                 "era" is not carried; era 0 ends 2036-02-07 06:28:16 UTC)
//   low 32 bits   fraction of a second, in units of 2^-32 s
//
// Time of day is an input like every other time in mipsec: a protocol core
// never reads a clock. Drivers convert their wall clock with FromUnixNanos()
// (or map a core's monotonic `now` through WallClockMapping) and pass the
// NtpTime in.
//
// Comparisons and differences are serial-number arithmetic modulo 2^64 (as
// RFC 5905 does across eras): `a.IsAfter(b)` means a is later than b by less
// than 2^63 units (~68 years), so ordering keeps working across the 2036
// rollover. There is deliberately no operator<.
#ifndef MIPSEC_MIP4_SECURITY_NTP_TIME_H_
#define MIPSEC_MIP4_SECURITY_NTP_TIME_H_

#include <cstdint>
#include <string>

#include "common/time.h"

namespace mipsec::mip4 {

class NtpTime {
 public:
  // Seconds from the NTP epoch (1900) to the Unix epoch (1970).
  static constexpr std::int64_t kUnixEpochOffsetSeconds = 2'208'988'800;

  constexpr NtpTime() = default;
  static constexpr NtpTime FromRaw(std::uint64_t raw) { return NtpTime(raw); }
  static constexpr NtpTime FromParts(std::uint32_t seconds, std::uint32_t fraction) {
    return NtpTime(static_cast<std::uint64_t>(seconds) << 32 | fraction);
  }
  // Nanoseconds since the Unix epoch (negative: before 1970) -> NTP, with the
  // seconds taken modulo 2^32 (so dates from 2036 on land in era 1). The
  // fraction is rounded down to the nearest 2^-32 s.
  static NtpTime FromUnixNanos(std::int64_t unix_nanos);

  constexpr std::uint64_t raw() const { return raw_; }
  constexpr std::uint32_t seconds() const { return static_cast<std::uint32_t>(raw_ >> 32); }
  constexpr std::uint32_t fraction() const { return static_cast<std::uint32_t>(raw_); }

  // Unix nanoseconds for this timestamp, taking the era that puts it nearest
  // to `reference_unix_nanos` (for logs and tests; the wire has no era).
  std::int64_t ToUnixNanosNear(std::int64_t reference_unix_nanos) const;

  // Serial-number arithmetic modulo 2^64 (see the file comment).
  constexpr bool IsAfter(NtpTime o) const {
    return static_cast<std::int64_t>(raw_ - o.raw_) > 0;
  }
  // this - o, in NTP units (2^-32 s), as a signed value; meaningful when the
  // two are less than ~68 years apart.
  constexpr std::int64_t UnitsSince(NtpTime o) const {
    return static_cast<std::int64_t>(raw_ - o.raw_);
  }
  // this - o as a Duration (saturating at about +-68 years).
  Duration Since(NtpTime o) const;
  // Adds a (possibly negative) Duration, modulo 2^64.
  NtpTime Plus(Duration d) const;

  constexpr bool operator==(const NtpTime&) const = default;

  // "0x83aa7e80.00000000" (seconds.fraction in hex, as on the wire).
  std::string ToString() const;

 private:
  constexpr explicit NtpTime(std::uint64_t raw) : raw_(raw) {}
  std::uint64_t raw_ = 0;
};

// Duration <-> NTP units (2^-32 s). Rounds toward zero; saturates beyond
// about +-68 years.
std::int64_t DurationToNtpUnits(Duration d);
Duration NtpUnitsToDuration(std::int64_t units);

// Maps a core's monotonic Timestamp to time of day: the driver samples its
// wall clock once (unix_nanos_at_reference at monotonic `reference`) and the
// core converts any later `now` without reading a clock. A simulator can use
// a fixed mapping for a reproducible date.
struct WallClockMapping {
  Timestamp reference;
  std::int64_t unix_nanos_at_reference = 0;

  NtpTime At(Timestamp now) const {
    return NtpTime::FromUnixNanos(unix_nanos_at_reference + (now - reference).nanos());
  }
};

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_SECURITY_NTP_TIME_H_

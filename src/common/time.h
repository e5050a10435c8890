// Timestamp and Duration: time as a value, never read from a clock here.
//
// Protocol cores receive `now` on every entry point; only drivers (the
// simulator's virtual clock, the Linux event loop's CLOCK_MONOTONIC) make
// Timestamps. A Timestamp counts nanoseconds from the driver's epoch; only
// differences between Timestamps of one driver mean anything. Time given to a
// core must never go backwards.
#ifndef MIPSEC_COMMON_TIME_H_
#define MIPSEC_COMMON_TIME_H_

#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace mipsec {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Nanos(std::int64_t n) { return Duration(n); }
  static constexpr Duration Micros(std::int64_t n) { return Duration(n * 1'000); }
  static constexpr Duration Millis(std::int64_t n) { return Duration(n * 1'000'000); }
  static constexpr Duration Seconds(std::int64_t n) { return Duration(n * 1'000'000'000); }
  static constexpr Duration Zero() { return Duration(0); }
  static constexpr Duration Infinite() { return Duration(std::numeric_limits<std::int64_t>::max()); }

  constexpr std::int64_t nanos() const { return ns_; }
  constexpr std::int64_t micros() const { return ns_ / 1'000; }
  constexpr std::int64_t millis() const { return ns_ / 1'000'000; }
  constexpr std::int64_t seconds() const { return ns_ / 1'000'000'000; }
  constexpr double SecondsF() const { return static_cast<double>(ns_) / 1e9; }
  constexpr bool IsInfinite() const { return ns_ == std::numeric_limits<std::int64_t>::max(); }

  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator*(std::int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(std::int64_t k) const { return Duration(ns_ / k); }
  constexpr Duration& operator+=(Duration o) { ns_ += o.ns_; return *this; }
  constexpr Duration& operator-=(Duration o) { ns_ -= o.ns_; return *this; }

  // "1.500s", "250ms", "12us", "7ns": for logs and reports.
  std::string ToString() const;

 private:
  constexpr explicit Duration(std::int64_t ns) : ns_(ns) {}
  std::int64_t ns_ = 0;
};

class Timestamp {
 public:
  constexpr Timestamp() = default;
  static constexpr Timestamp FromNanos(std::int64_t ns) { return Timestamp(ns); }
  static constexpr Timestamp Zero() { return Timestamp(0); }
  // Later than any real time: "no deadline".
  static constexpr Timestamp Infinite() { return Timestamp(std::numeric_limits<std::int64_t>::max()); }

  constexpr std::int64_t nanos() const { return ns_; }
  constexpr bool IsInfinite() const { return ns_ == std::numeric_limits<std::int64_t>::max(); }

  constexpr auto operator<=>(const Timestamp&) const = default;
  // Adding to Infinite stays Infinite; the result saturates instead of
  // overflowing.
  constexpr Timestamp operator+(Duration d) const {
    if (IsInfinite() || d.IsInfinite()) return Infinite();
    if (d.nanos() > 0 && ns_ > std::numeric_limits<std::int64_t>::max() - d.nanos()) return Infinite();
    return Timestamp(ns_ + d.nanos());
  }
  constexpr Timestamp operator-(Duration d) const { return Timestamp(ns_ - d.nanos()); }
  constexpr Duration operator-(Timestamp o) const { return Duration::Nanos(ns_ - o.ns_); }
  constexpr Timestamp& operator+=(Duration d) { *this = *this + d; return *this; }

  // Seconds since the driver's epoch with nanosecond digits: "12.000250000".
  std::string ToString() const;

 private:
  constexpr explicit Timestamp(std::int64_t ns) : ns_(ns) {}
  std::int64_t ns_ = 0;
};

}  // namespace mipsec

#endif  // MIPSEC_COMMON_TIME_H_

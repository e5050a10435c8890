// TimerTable: a protocol core's timers as data, not callbacks.
//
// Each core names its timers in an enum class with values 0..N-1 (ending in
// `kCount`, or pass N explicitly) and keeps one optional deadline per kind:
//
//   enum class Timer { kRegRetransmit, kRegLifetime, kDpd, kCount };
//   TimerTable<Timer> timers_;
//   timers_.Set(Timer::kRegRetransmit, now + rto_);
//   Timestamp NextTimeout() const { return timers_.NextDeadline(); }
//   void OnTimeout(Timestamp now) {
//     while (std::optional<Timer> t = timers_.PopExpired(now)) Handle(*t, now);
//   }
//
// The driver sleeps until NextDeadline() (one timerfd, or the simulator's
// virtual clock) and calls OnTimeout(now). A deadline fires when
// deadline <= now. Ties go to the lower enum value, so the firing order is
// deterministic. Setting Timestamp::Infinite() is the same as Clear(): such
// a deadline never fires. N is small (a handful of timers), so lookups are
// linear scans over a fixed array; nothing allocates.
//
// A Kind outside 0..N-1 is a programming error (BUG): Set/Clear ignore it,
// Get/IsSet report it unset.
#ifndef MIPSEC_COMMON_TIMER_TABLE_H_
#define MIPSEC_COMMON_TIMER_TABLE_H_

#include <array>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

#include "common/bug.h"
#include "common/time.h"

namespace mipsec {

template <typename Kind, std::size_t N = static_cast<std::size_t>(Kind::kCount)>
class TimerTable {
  static_assert(std::is_enum_v<Kind>, "TimerTable is indexed by an enum of timer kinds");
  static_assert(N > 0, "a TimerTable needs at least one timer kind");

 public:
  static constexpr std::size_t kSize = N;

  TimerTable() { deadlines_.fill(Timestamp::Infinite()); }

  // Arms (or re-arms) `kind` to fire at `deadline`.
  void Set(Kind kind, Timestamp deadline) {
    if (std::optional<std::size_t> i = Index(kind)) deadlines_[*i] = deadline;
  }
  void Clear(Kind kind) { Set(kind, Timestamp::Infinite()); }
  void ClearAll() { deadlines_.fill(Timestamp::Infinite()); }

  std::optional<Timestamp> Get(Kind kind) const {
    std::optional<std::size_t> i = Index(kind);
    if (!i || deadlines_[*i].IsInfinite()) return std::nullopt;
    return deadlines_[*i];
  }
  bool IsSet(Kind kind) const { return Get(kind).has_value(); }
  // No timer is armed.
  bool empty() const { return !Earliest().has_value(); }

  // The armed timer with the earliest deadline (lowest kind on ties).
  std::optional<std::pair<Kind, Timestamp>> Earliest() const {
    std::size_t best = N;
    for (std::size_t i = 0; i < N; ++i) {
      if (deadlines_[i].IsInfinite()) continue;
      if (best == N || deadlines_[i] < deadlines_[best]) best = i;
    }
    if (best == N) return std::nullopt;
    return std::pair<Kind, Timestamp>(static_cast<Kind>(best), deadlines_[best]);
  }

  // The earliest deadline, or Timestamp::Infinite() when none is armed.
  Timestamp NextDeadline() const {
    Timestamp t = Timestamp::Infinite();
    for (const Timestamp& d : deadlines_) {
      if (d < t) t = d;
    }
    return t;
  }

  // Clears and returns the earliest timer whose deadline is <= now, or
  // nullopt when none has expired. Call in a loop to drain; a timer the
  // handler re-arms for a time <= now fires again in the same loop.
  std::optional<Kind> PopExpired(Timestamp now) {
    std::optional<std::pair<Kind, Timestamp>> e = Earliest();
    if (!e || e->second > now) return std::nullopt;
    Clear(e->first);
    return e->first;
  }

 private:
  static std::optional<std::size_t> Index(Kind kind) {
    using U = std::underlying_type_t<Kind>;
    const U v = static_cast<U>(kind);
    bool bad = false;
    if constexpr (std::is_signed_v<U>) bad = v < 0;
    if (!bad) bad = static_cast<std::size_t>(v) >= N;
    if (MIPSEC_BUG_IF(bad, "TimerTable: timer kind out of range")) return std::nullopt;
    return static_cast<std::size_t>(v);
  }

  // Timestamp::Infinite() marks an unarmed timer.
  std::array<Timestamp, N> deadlines_;
};

}  // namespace mipsec

#endif  // MIPSEC_COMMON_TIMER_TABLE_H_

// The deterministic discrete-event engine at the heart of the simulator.
//
// Virtual time in nanoseconds (mipsec::Timestamp), a time-ordered queue of
// events, and seeded randomness: the same scenario and seed give the same
// sequence of events, bit for bit, on every run and machine. Nothing here
// reads a clock or the OS's randomness.
//
// Ordering: events run in (time, insertion sequence) order, so two events at
// the same instant run in the order they were scheduled. That tie-break is
// what makes runs repeatable; never schedule from iteration over an unordered
// container.
//
// Ownership: handlers are not owned by the simulator; a handler must outlive
// every event scheduled for it (or cancel them with a generation check, as
// SimTimer does). Packets travel inside events and are owned by them.
#ifndef MIPSEC_SIM_SIMULATOR_H_
#define MIPSEC_SIM_SIMULATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/log.h"
#include "common/random.h"
#include "common/time.h"

namespace mipsec::sim {

// An IPv4 packet in flight: the exact bytes that would be on the wire.
struct Packet {
  Bytes data;
  std::uint64_t id = 0;  // unique per simulator, for tracing duplicates
};
using PacketPtr = std::unique_ptr<Packet>;

class EventHandler {
 public:
  virtual ~EventHandler() = default;
  // `token` is whatever the scheduler passed; `packet` may be null.
  virtual void OnEvent(std::uint64_t token, PacketPtr packet) = 0;
};

class Simulator {
 public:
  explicit Simulator(std::uint64_t seed);
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;
  ~Simulator();

  Timestamp now() const { return now_; }
  std::uint64_t seed() const { return seed_; }

  // Schedules `handler->OnEvent(token, packet)` at `at` (clamped to now: the
  // past is not reachable).
  void Schedule(Timestamp at, EventHandler* handler, std::uint64_t token, PacketPtr packet = nullptr);
  // For rare events (timeline steps, test probes): runs `fn` at `at`.
  void ScheduleFn(Timestamp at, std::function<void()> fn);
  // Drops every queued event of `handler` (it is going away mid-run: the
  // SimTimer of an app that is restarted). O(queued events).
  void Forget(EventHandler* handler);

  // Runs the next event. Returns false when the queue is empty.
  bool Step();
  // Runs every event with time <= `until`, then sets now() to `until`.
  void RunUntil(Timestamp until);
  void RunFor(Duration d) { RunUntil(now_ + d); }
  // Runs until `done()` is true after an event (checked before the first
  // one too) or time would pass `limit`. Returns done().
  bool RunUntilCondition(const std::function<bool()>& done, Timestamp limit);

  std::size_t pending_events() const { return queue_.size(); }
  std::uint64_t events_processed() const { return processed_; }

  // A packet with a fresh id.
  PacketPtr NewPacket(Bytes data);
  // A fresh identifier for simulator objects (interfaces, ...).
  std::uint64_t NewUid() { return next_uid_++; }

  // A seed for a named component ("segment/home", "nat/ext-nat"), stable
  // however many other components exist, so adding a link does not change
  // the loss pattern of another.
  std::uint64_t DeriveSeed(std::string_view name) const;

 private:
  struct Event {
    Timestamp at;
    std::uint64_t seq;
    EventHandler* handler;
    std::uint64_t token;
    PacketPtr packet;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  class FnHandler;

  Timestamp now_ = Timestamp::Zero();
  std::uint64_t seed_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t next_packet_id_ = 1;
  std::uint64_t next_uid_ = 1;
  std::uint64_t processed_ = 0;
  std::vector<Event> queue_;  // a binary heap ordered by Later
  std::unique_ptr<FnHandler> fn_handler_;
};

// A re-armable one-shot timer on virtual time: the simulator's counterpart of
// platform::Timer. Re-arming or cancelling invalidates events already queued
// (a generation counter), so a core's NextTimeout() can move freely.
class SimTimer final : public EventHandler {
 public:
  SimTimer(Simulator& sim, std::function<void(Timestamp now)> callback)
      : sim_(sim), callback_(std::move(callback)) {}
  // Arms for `deadline`; Timestamp::Infinite() disarms. Re-arming for the
  // deadline already set is free.
  void Set(Timestamp deadline);
  void Cancel() { Set(Timestamp::Infinite()); }
  Timestamp deadline() const { return deadline_; }
  bool armed() const { return !deadline_.IsInfinite(); }

  void OnEvent(std::uint64_t token, PacketPtr packet) override;

 private:
  Simulator& sim_;
  std::function<void(Timestamp)> callback_;
  Timestamp deadline_ = Timestamp::Infinite();
  std::uint64_t generation_ = 0;
};

// Log sink stamping each line with virtual time: the simulator's event log.
// Lines are kept in memory (for hashing and `--json`) and optionally echoed.
class SimLogSink final : public LogSink {
 public:
  explicit SimLogSink(const Simulator& sim) : sim_(sim) {}
  void Write(const LogRecord& record) override;
  // "12.000250000 info    [sim.seg.home] link up" lines.
  const std::vector<std::string>& lines() const { return lines_; }
  void set_echo(bool echo) { echo_ = echo; }

 private:
  const Simulator& sim_;
  std::vector<std::string> lines_;
  bool echo_ = false;
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_SIMULATOR_H_

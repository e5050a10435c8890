#include "sim/simulator.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "common/bug.h"

namespace mipsec::sim {

// Runs std::function events. Functions wait in a FIFO keyed by token so the
// heap itself stays small and cheap to move.
class Simulator::FnHandler final : public EventHandler {
 public:
  std::uint64_t Add(std::function<void()> fn) {
    std::uint64_t token = next_++;
    fns_.emplace(token, std::move(fn));
    return token;
  }
  void OnEvent(std::uint64_t token, PacketPtr) override {
    auto it = fns_.find(token);
    if (MIPSEC_BUG_IF(it == fns_.end(), "scheduled function missing")) return;
    std::function<void()> fn = std::move(it->second);
    fns_.erase(it);
    fn();
  }

 private:
  std::uint64_t next_ = 0;
  std::map<std::uint64_t, std::function<void()>> fns_;
};

Simulator::Simulator(std::uint64_t seed) : seed_(seed), fn_handler_(std::make_unique<FnHandler>()) {}
Simulator::~Simulator() = default;

void Simulator::Schedule(Timestamp at, EventHandler* handler, std::uint64_t token, PacketPtr packet) {
  if (MIPSEC_BUG_IF(handler == nullptr, "Schedule with null handler")) return;
  if (at < now_) at = now_;
  queue_.push_back(Event{at, next_seq_++, handler, token, std::move(packet)});
  std::push_heap(queue_.begin(), queue_.end(), Later{});
}

void Simulator::ScheduleFn(Timestamp at, std::function<void()> fn) {
  Schedule(at, fn_handler_.get(), fn_handler_->Add(std::move(fn)));
}

bool Simulator::Step() {
  if (queue_.empty()) return false;
  std::pop_heap(queue_.begin(), queue_.end(), Later{});
  Event ev = std::move(queue_.back());
  queue_.pop_back();
  now_ = ev.at;
  ++processed_;
  if (ev.handler) ev.handler->OnEvent(ev.token, std::move(ev.packet));  // null: forgotten
  return true;
}

void Simulator::Forget(EventHandler* handler) {
  // The heap orders by (at, seq) only: clearing the handler keeps it valid.
  for (Event& e : queue_) {
    if (e.handler == handler) e.handler = nullptr;
  }
}

void Simulator::RunUntil(Timestamp until) {
  while (!queue_.empty() && queue_.front().at <= until) Step();
  if (until > now_ && !until.IsInfinite()) now_ = until;
}

bool Simulator::RunUntilCondition(const std::function<bool()>& done, Timestamp limit) {
  while (!done()) {
    if (queue_.empty() || queue_.front().at > limit) {
      if (limit > now_ && !limit.IsInfinite()) now_ = limit;
      return done();
    }
    Step();
  }
  return true;
}

PacketPtr Simulator::NewPacket(Bytes data) {
  auto p = std::make_unique<Packet>();
  p->data = std::move(data);
  p->id = next_packet_id_++;
  return p;
}

std::uint64_t Simulator::DeriveSeed(std::string_view name) const {
  // FNV-1a over the name, mixed with the run's seed through splitmix64.
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : name) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  std::uint64_t z = seed_ ^ h;
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void SimTimer::Set(Timestamp deadline) {
  if (deadline == deadline_) return;
  deadline_ = deadline;
  ++generation_;
  if (!deadline.IsInfinite()) sim_.Schedule(deadline, this, generation_);
}

void SimTimer::OnEvent(std::uint64_t token, PacketPtr) {
  if (token != generation_) return;  // re-armed or cancelled since
  deadline_ = Timestamp::Infinite();
  callback_(sim_.now());
}

void SimLogSink::Write(const LogRecord& r) {
  std::string line = sim_.now().ToString();
  line += ' ';
  std::string_view lvl = LogLevelName(r.level);
  line += lvl;
  line.append(lvl.size() < 7 ? 7 - lvl.size() : 0, ' ');
  line += " [";
  line += r.component;
  line += "] ";
  line += r.message;
  if (echo_) std::fprintf(stderr, "%s\n", line.c_str());
  lines_.push_back(std::move(line));
}

}  // namespace mipsec::sim

// Continuity measurement: a correspondent node sends a constant-rate,
// sequenced UDP stream to an address (the mobile node's home address), the
// far end echoes each packet with a sequence of its own, and both directions
// are scored: delivered, lost, duplicated, reordered, and the longest gap
// between two consecutive arrivals (what a user feels as a handover).
//
// Wire format of a stream packet (UDP payload, all big-endian):
//   0  magic "MSTR" (4)
//   4  kind: 0 data (CN -> far end), 1 echo (far end -> CN)   (1)
//   5  sequence number of this packet in its direction         (8)
//  13  send time, ns of virtual time                           (8)
//  21  for echoes: the data sequence number echoed             (8)
//  29  padding to the configured size
// The receiver parses with wire::Reader and ignores anything else on the
// port (counted as foreign).
#ifndef MIPSEC_SIM_APPS_UDP_STREAM_H_
#define MIPSEC_SIM_APPS_UDP_STREAM_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip/address.h"
#include "common/result.h"
#include "common/time.h"
#include "sim/node.h"
#include "sim/simulator.h"

namespace mipsec::sim {

// One direction's score.
struct StreamStats {
  std::uint64_t sent = 0;        // by the sender
  std::uint64_t delivered = 0;   // unique sequence numbers received
  std::uint64_t lost = 0;        // sent (before the end's grace period) and never received
  std::uint64_t duplicated = 0;  // received again
  std::uint64_t reordered = 0;   // arrived after a higher sequence number
  std::uint64_t foreign = 0;     // not a stream packet
  Duration longest_gap = Duration::Zero();  // between consecutive arrivals
  Timestamp longest_gap_end;                // when that gap ended
  std::string ToString() const;
};

// Scores arrivals of one direction.
class StreamScore {
 public:
  void OnArrival(std::uint64_t seq, Timestamp now);
  void OnForeign() { ++stats_.foreign; }
  // Final numbers. Packets sent in the last `grace` before `end` that have
  // not arrived are in flight, not lost.
  StreamStats Finish(std::uint64_t sent, const std::vector<Timestamp>& send_times, Timestamp end,
                     Duration grace) const;
  // The same numbers for the packets sent in [from, to) (loss, delivery),
  // with duplicates and reordering of arrivals in that window, and the
  // longest stretch of [gap_from, gap_to] without an arrival. The edges
  // count, so a stream cut off at a move shows the whole outage; callers
  // pass the span in which the stream was sending (StreamActivity), so the
  // time before it starts or after it stops is no gap.
  StreamStats Window(const std::vector<Timestamp>& send_times, Timestamp from, Timestamp to,
                     Timestamp end, Duration grace, Timestamp gap_from, Timestamp gap_to) const;

 private:
  struct Arrival {
    std::uint64_t seq;
    Timestamp at;
    bool duplicate;
    bool reordered;
  };
  std::vector<Arrival> arrivals_;
  std::vector<bool> seen_;
  std::uint64_t max_seq_ = 0;
  bool any_ = false;
  Timestamp last_arrival_;
  StreamStats stats_;
};

struct StreamConfig {
  Ipv4Endpoint target;              // where the CN sends (the MN's home address)
  std::uint16_t local_port = 9000;  // the CN's port
  Duration interval = Duration::Millis(10);
  std::size_t payload_size = 64;    // at least 29
  Timestamp start = Timestamp::Zero();
  Timestamp stop = Timestamp::Infinite();
  // Validates sizes and rate: kInvalidArgument naming the field.
  Status Validate() const;
};

// The far end: echoes stream packets and scores the forward direction.
class StreamEchoer {
 public:
  // Binds `port` on every address of `node`.
  static Result<std::unique_ptr<StreamEchoer>> Create(Node& node, std::uint16_t port);
  ~StreamEchoer();
  const StreamScore& forward() const { return forward_; }
  std::uint64_t echoes_sent() const { return echo_seq_; }
  const std::vector<Timestamp>& echo_send_times() const { return echo_send_times_; }

 private:
  StreamEchoer(Node& node, std::uint16_t port) : node_(node), port_(port) {}
  void OnDatagram(Timestamp now, const UdpDelivery& d);
  Node& node_;
  std::uint16_t port_;
  StreamScore forward_;
  std::uint64_t echo_seq_ = 0;
  std::vector<Timestamp> echo_send_times_;
};

// The correspondent node's sender; it scores the echoes (reverse direction).
class StreamSender {
 public:
  static Result<std::unique_ptr<StreamSender>> Create(Node& node, const StreamConfig& config);
  ~StreamSender();
  const StreamConfig& config() const { return config_; }
  std::uint64_t sent() const { return seq_; }
  const std::vector<Timestamp>& send_times() const { return send_times_; }
  const StreamScore& reverse() const { return reverse_; }
  std::uint64_t send_errors() const { return send_errors_; }

 private:
  StreamSender(Node& node, const StreamConfig& config);
  void Tick(Timestamp now);
  void OnDatagram(Timestamp now, const UdpDelivery& d);
  Node& node_;
  StreamConfig config_;
  SimTimer timer_;
  std::uint64_t seq_ = 0;
  std::vector<Timestamp> send_times_;
  StreamScore reverse_;
  std::uint64_t send_errors_ = 0;
};

// The first and last send time in [from, to): the span a window's gap is
// measured over. nullopt when nothing was sent then.
std::optional<std::pair<Timestamp, Timestamp>> StreamActivity(
    const std::vector<Timestamp>& send_times, Timestamp from, Timestamp to);

// Both directions, scored at `end`.
struct StreamReport {
  StreamStats forward;  // CN -> far end
  StreamStats reverse;  // far end -> CN
};
StreamReport ScoreStream(const StreamSender& sender, const StreamEchoer& echoer, Timestamp end,
                         Duration grace = Duration::Seconds(1));

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_APPS_UDP_STREAM_H_

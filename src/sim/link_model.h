// What a segment does to the packets that cross it: delay, jitter,
// bandwidth, MTU, random and burst loss, duplication and reordering.
//
// The model is applied per packet with the segment's own seeded random
// stream, so the same seed gives the same fate to the same packet sequence.
#ifndef MIPSEC_SIM_LINK_MODEL_H_
#define MIPSEC_SIM_LINK_MODEL_H_

#include <cstdint>
#include <string>

#include "common/random.h"
#include "common/result.h"
#include "common/time.h"

namespace mipsec::sim {

struct LinkParams {
  Duration delay = Duration::Millis(1);  // one-way propagation delay
  Duration jitter = Duration::Zero();    // extra delay, uniform in [0, jitter]
  std::uint64_t bandwidth_bps = 0;       // 0: infinite (no serialisation delay)
  std::uint32_t mtu = 1500;              // largest IPv4 datagram the link carries
  double loss = 0.0;                     // independent loss probability
  // Gilbert-Elliott burst loss: each packet, the chain moves good->bad with
  // burst_enter and bad->good with burst_exit; in the bad state a packet is
  // lost with burst_loss. burst_enter = 0 disables it.
  double burst_enter = 0.0;
  double burst_exit = 1.0;
  double burst_loss = 1.0;
  double duplicate = 0.0;                // probability a packet is delivered twice
  double reorder = 0.0;                  // probability a packet is held back...
  Duration reorder_delay = Duration::Millis(5);  // ...by this much more
  std::size_t queue_limit_bytes = 1 << 20;  // tail drop past this (with bandwidth)

  // kInvalidArgument naming the field when a value is out of range.
  Status Validate() const;
};

// The fate of one packet on a link.
struct PacketFate {
  bool lost = false;
  bool duplicated = false;
  Duration extra_delay = Duration::Zero();  // jitter + reordering hold-back
  bool reordered = false;
};

class LinkModel {
 public:
  LinkModel(const LinkParams& params, std::uint64_t seed) : params_(params), rng_(seed) {}
  const LinkParams& params() const { return params_; }
  void set_params(const LinkParams& p) { params_ = p; }
  // Draws the fate of the next packet (advances the random stream by a fixed
  // number of draws per packet, whatever the outcome, so one change of
  // parameters does not shift every later draw).
  PacketFate Next();

 private:
  LinkParams params_;
  DeterministicRandom rng_;
  bool bad_state_ = false;
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_LINK_MODEL_H_

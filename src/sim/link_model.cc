#include "sim/link_model.h"

namespace mipsec::sim {

namespace {
bool Probability(double p) { return p >= 0.0 && p <= 1.0; }
}  // namespace

Status LinkParams::Validate() const {
  auto bad = [](const char* field, const char* why) {
    return Error(Errc::kInvalidArgument, std::string(field) + ": " + why);
  };
  if (delay < Duration::Zero()) return bad("delay", "must not be negative");
  if (jitter < Duration::Zero()) return bad("jitter", "must not be negative");
  if (mtu < 68) return bad("mtu", "must be at least 68 (RFC 791)");
  if (mtu > 65535) return bad("mtu", "must be at most 65535");
  if (!Probability(loss)) return bad("loss", "must be a probability in [0, 1]");
  if (!Probability(burst_enter)) return bad("burst_enter", "must be a probability in [0, 1]");
  if (!Probability(burst_exit)) return bad("burst_exit", "must be a probability in [0, 1]");
  if (!Probability(burst_loss)) return bad("burst_loss", "must be a probability in [0, 1]");
  if (!Probability(duplicate)) return bad("duplicate", "must be a probability in [0, 1]");
  if (!Probability(reorder)) return bad("reorder", "must be a probability in [0, 1]");
  if (reorder_delay < Duration::Zero()) return bad("reorder_delay", "must not be negative");
  return Ok{};
}

PacketFate LinkModel::Next() {
  // A perfect link draws nothing (the common case, and the fast one).
  if (params_.loss == 0.0 && params_.burst_enter == 0.0 && params_.duplicate == 0.0 &&
      params_.reorder == 0.0 && params_.jitter == Duration::Zero()) {
    bad_state_ = false;
    return PacketFate{};
  }
  // Otherwise always six draws per packet, in a fixed order, so that one
  // probability changing does not shift the draws of the others.
  double d_loss = rng_.UnitDouble();
  double d_burst_move = rng_.UnitDouble();
  double d_burst_loss = rng_.UnitDouble();
  double d_dup = rng_.UnitDouble();
  double d_reorder = rng_.UnitDouble();
  double d_jitter = rng_.UnitDouble();

  PacketFate f;
  if (params_.burst_enter > 0.0) {
    if (bad_state_) {
      if (d_burst_move < params_.burst_exit) bad_state_ = false;
    } else if (d_burst_move < params_.burst_enter) {
      bad_state_ = true;
    }
  } else {
    bad_state_ = false;
  }
  f.lost = d_loss < params_.loss || (bad_state_ && d_burst_loss < params_.burst_loss);
  f.duplicated = d_dup < params_.duplicate;
  if (params_.jitter > Duration::Zero()) {
    f.extra_delay = Duration::Nanos(static_cast<std::int64_t>(
        d_jitter * static_cast<double>(params_.jitter.nanos())));
  }
  if (d_reorder < params_.reorder) {
    f.reordered = true;
    f.extra_delay += params_.reorder_delay;
  }
  return f;
}

}  // namespace mipsec::sim

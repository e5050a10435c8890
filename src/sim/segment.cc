#include "sim/segment.h"

#include <algorithm>

#include "common/bug.h"
#include "common/ip/ipv4.h"
#include "sim/node.h"

namespace mipsec::sim {

Segment::Segment(Simulator& sim, std::string name, const LinkParams& params, Logger log)
    : sim_(sim),
      name_(std::move(name)),
      model_(params, sim.DeriveSeed("segment/" + name_)),
      log_(std::move(log)) {}

Segment::~Segment() {
  // Interfaces must not point at a dead segment.
  for (Interface* ifc : std::vector<Interface*>(attached_)) ifc->node()->Detach(*ifc);
}

Status Segment::SetParams(const LinkParams& params) {
  MIPSEC_TRY(params.Validate());
  model_.set_params(params);
  MIPSEC_LOG(log_, kInfo) << "parameters changed: delay " << params.delay.ToString() << " loss "
                          << params.loss << " mtu " << params.mtu;
  return Ok{};
}

void Segment::SetUp(bool up) {
  if (up == up_) return;
  up_ = up;
  MIPSEC_LOG(log_, kInfo) << "link " << (up ? "up" : "down");
  for (Interface* ifc : std::vector<Interface*>(attached_)) ifc->node()->NotifyLink(*ifc, up);
}

void Segment::AttachInterface(Interface* ifc) {
  if (MIPSEC_BUG_IF(std::find(attached_.begin(), attached_.end(), ifc) != attached_.end(),
                    "interface attached twice")) {
    return;
  }
  attached_.push_back(ifc);
  by_uid_[ifc->uid()] = ifc;
  AddressesChanged();
}

void Segment::DetachInterface(Interface* ifc) {
  std::erase(attached_, ifc);
  by_uid_.erase(ifc->uid());
  tx_free_at_.erase(ifc->uid());
  AddressesChanged();
}

void Segment::AddressesChanged() {
  owner_.clear();
  broadcasts_.clear();
  for (Interface* ifc : attached_) {
    for (const InterfaceAddress& a : ifc->addresses()) {
      owner_.emplace(a.address, ifc);  // first attached owner wins
      if (a.prefix_length < 31) broadcasts_.insert(a.Subnet().Broadcast());
    }
  }
}

void Segment::Transmit(Interface* from, Ipv4Address next_hop, PacketPtr packet) {
  ++counters_.tx_packets;
  counters_.tx_bytes += packet->data.size();
  if (capture_) pcap_.Add(sim_.now(), packet->data);
  if (!up_) {
    ++counters_.dropped_down;
    return;
  }
  const LinkParams& p = model_.params();
  if (packet->data.size() > p.mtu) {
    // The node checks the MTU before sending; this catches a segment MTU
    // smaller than the interface's.
    ++counters_.dropped_too_big;
    return;
  }

  // Serialisation on the sender's side of the link.
  Timestamp depart = sim_.now();
  if (p.bandwidth_bps > 0) {
    Timestamp& free_at = tx_free_at_[from->uid()];
    if (free_at < sim_.now()) free_at = sim_.now();
    Duration backlog = free_at - sim_.now();
    auto backlog_bytes = static_cast<std::size_t>(
        static_cast<double>(backlog.nanos()) * static_cast<double>(p.bandwidth_bps) / 8e9);
    if (backlog_bytes + packet->data.size() > p.queue_limit_bytes) {
      ++counters_.dropped_queue;
      return;
    }
    auto ser = Duration::Nanos(static_cast<std::int64_t>(
        static_cast<double>(packet->data.size()) * 8e9 / static_cast<double>(p.bandwidth_bps)));
    free_at = free_at + ser;
    depart = free_at;
  }
  Duration base = (depart - sim_.now()) + p.delay;

  // Who receives it.
  // Limited broadcast, multicast and a subnet's directed broadcast reach
  // every other interface on the segment.
  bool to_all = next_hop.IsLimitedBroadcast() || next_hop.IsMulticast() ||
                broadcasts_.contains(next_hop);
  Interface* target = nullptr;
  if (!to_all) {
    auto it = owner_.find(next_hop);
    if (it != owner_.end() && it->second != from) target = it->second;
  }
  if (to_all) {
    std::vector<Interface*> receivers;
    for (Interface* ifc : attached_) {
      if (ifc != from) receivers.push_back(ifc);
    }
    for (std::size_t i = 0; i < receivers.size(); ++i) {
      // Each receiver gets its own copy and its own fate.
      PacketPtr copy = (i + 1 == receivers.size()) ? std::move(packet) : sim_.NewPacket(packet->data);
      Deliver(from, receivers[i], std::move(copy), base);
    }
    return;
  }
  if (target == nullptr) {
    ++counters_.dropped_unresolved;
    MIPSEC_LOG(log_, kDebug) << "no interface owns next hop " << next_hop << ", dropped";
    return;
  }
  Deliver(from, target, std::move(packet), base);
}

void Segment::Deliver(Interface* /*from*/, Interface* to, PacketPtr packet, Duration base) {
  PacketFate fate = model_.Next();
  if (fate.lost) {
    ++counters_.lost;
    return;
  }
  if (fate.reordered) ++counters_.reordered;
  if (fate.duplicated) {
    ++counters_.duplicated;
    sim_.Schedule(sim_.now() + base + fate.extra_delay, this, DeliveryToken(to),
                  sim_.NewPacket(packet->data));
  }
  sim_.Schedule(sim_.now() + base + fate.extra_delay, this, DeliveryToken(to), std::move(packet));
}

std::uint64_t Segment::DeliveryToken(const Interface* to) {
  MIPSEC_BUG_IF(to->uid() > 0xffffffffu, "interface uid beyond 32 bits");
  return to->uid() << 32 | (to->attach_epoch() & 0xffffffffu);
}

void Segment::OnEvent(std::uint64_t token, PacketPtr packet) {
  auto ifc = by_uid_.find(token >> 32);
  if (ifc == by_uid_.end() || (ifc->second->attach_epoch() & 0xffffffffu) != (token & 0xffffffffu)) {
    ++counters_.dropped_detached;
    return;
  }
  if (!up_) {
    ++counters_.dropped_down;
    return;
  }
  ++counters_.delivered;
  Interface* to = ifc->second;
  to->node()->Receive(*to, std::move(packet));
}

}  // namespace mipsec::sim

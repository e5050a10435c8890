// A Segment is a link: a shared LAN segment or a point-to-point link (a
// segment with two interfaces). Interfaces attach and detach at any time
// (the mobile node moving); packets in flight to an interface that has left
// are lost, as they would be on a real network.
//
// Delivery is by IPv4 next hop, without a link layer: a packet for next hop
// N goes to the attached interface that owns N; limited broadcast,
// the subnet's directed broadcast and multicast go to every other attached
// interface. No owner: dropped and counted as "unresolved" (what a failed ARP
// would do).
//
// Every packet that enters the segment is recorded in its pcap (before the
// loss model: a capture point at the sender), once per transmission.
#ifndef MIPSEC_SIM_SEGMENT_H_
#define MIPSEC_SIM_SEGMENT_H_

#include <cstdint>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <string>
#include <vector>

#include "common/ip/address.h"
#include "common/log.h"
#include "sim/link_model.h"
#include "sim/pcap_writer.h"
#include "sim/simulator.h"

namespace mipsec::sim {

class Interface;

struct SegmentCounters {
  std::uint64_t tx_packets = 0;   // offered to the segment
  std::uint64_t tx_bytes = 0;
  std::uint64_t delivered = 0;    // handed to a receiving interface
  std::uint64_t lost = 0;         // loss model (random or burst)
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t dropped_down = 0;        // link down
  std::uint64_t dropped_too_big = 0;     // larger than the MTU
  std::uint64_t dropped_queue = 0;       // bandwidth queue full
  std::uint64_t dropped_unresolved = 0;  // no interface owns the next hop
  std::uint64_t dropped_detached = 0;    // receiver left while in flight
};

class Segment final : public EventHandler {
 public:
  Segment(Simulator& sim, std::string name, const LinkParams& params, Logger log);
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment() override;

  const std::string& name() const { return name_; }
  const LinkParams& params() const { return model_.params(); }
  // Validates first; on error nothing changes.
  Status SetParams(const LinkParams& params);
  bool up() const { return up_; }
  // Link down: attached interfaces see link-down, packets are dropped.
  void SetUp(bool up);

  // Called by Node only: attachment and address changes.
  void AttachInterface(Interface* ifc);
  void DetachInterface(Interface* ifc);
  void AddressesChanged();
  const std::vector<Interface*>& interfaces() const { return attached_; }

  // Sends `packet` from `from` towards `next_hop` (Ipv4Address::Broadcast()
  // or a multicast address: every other attached interface).
  void Transmit(Interface* from, Ipv4Address next_hop, PacketPtr packet);

  const SegmentCounters& counters() const { return counters_; }
  const PcapWriter& pcap() const { return pcap_; }
  // Capture into pcap() (on by default). Large runs that need no pcap turn
  // it off: it copies every packet.
  void set_capture(bool on) { capture_ = on; }
  bool capture() const { return capture_; }

  void OnEvent(std::uint64_t token, PacketPtr packet) override;

 private:
  void Deliver(Interface* from, Interface* to, PacketPtr packet, Duration extra);

  Simulator& sim_;
  std::string name_;
  LinkModel model_;
  Logger log_;
  bool up_ = true;
  bool capture_ = true;
  std::vector<Interface*> attached_;  // in attach order (deterministic)
  std::unordered_map<std::uint64_t, Interface*> by_uid_;
  std::unordered_map<Ipv4Address, Interface*> owner_;  // next hop -> interface
  std::unordered_set<Ipv4Address> broadcasts_;         // directed broadcasts
  // An in-flight delivery's event token names the receiving interface by
  // uid (it may be gone by then) and its attachment epoch (a detach and
  // re-attach makes old deliveries stale): uid << 32 | epoch.
  static std::uint64_t DeliveryToken(const Interface* to);
  std::map<std::uint64_t, Timestamp> tx_free_at_;  // by Interface::uid(): serialisation
  SegmentCounters counters_;
  PcapWriter pcap_;
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_SEGMENT_H_

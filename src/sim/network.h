// Network: the container a scenario builds. It owns the simulator, the event
// log, and every node and segment by name, in creation order (so reports and
// pcap lists come out in the same order on every run).
#ifndef MIPSEC_SIM_NETWORK_H_
#define MIPSEC_SIM_NETWORK_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip/address.h"
#include "common/log.h"
#include "common/result.h"
#include "sim/link_model.h"
#include "sim/node.h"
#include "sim/segment.h"
#include "sim/simulator.h"

namespace mipsec::sim {

class Network {
 public:
  explicit Network(std::uint64_t seed, LogLevel level = LogLevel::kInfo);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;
  ~Network();

  Simulator& sim() { return sim_; }
  SimLogSink& log_sink() { return sink_; }
  // A logger on the event log: component "sim.<name>" style tags are the
  // caller's choice.
  Logger MakeLogger(std::string component) const;
  LogLevel log_level() const { return level_; }

  // Names are unique among nodes and among segments: kAlreadyExists.
  Result<Node*> AddNode(const std::string& name, bool forwarding);
  Result<Segment*> AddSegment(const std::string& name, const LinkParams& params);
  // Packet capture on every segment, present and future (on by default).
  void set_capture(bool on);
  Node* FindNode(std::string_view name) const;
  Segment* FindSegment(std::string_view name) const;
  const std::vector<Node*>& nodes() const { return node_order_; }
  const std::vector<Segment*>& segments() const { return segment_order_; }

  // Adds interface `ifname` to `node`, attaches it to `segment` and, when
  // given, configures `address`/`prefix_length`. Errors name what is wrong;
  // on error nothing is created.
  Result<Interface*> Connect(std::string_view node, const std::string& ifname,
                             std::string_view segment, std::optional<Ipv4Address> address,
                             int prefix_length, std::uint32_t mtu = 1500);

 private:
  Simulator sim_;
  SimLogSink sink_;
  LogLevel level_;
  bool capture_ = true;
  std::map<std::string, std::unique_ptr<Node>, std::less<>> nodes_;
  std::map<std::string, std::unique_ptr<Segment>, std::less<>> segments_;
  std::vector<Node*> node_order_;
  std::vector<Segment*> segment_order_;
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_NETWORK_H_

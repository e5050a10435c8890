#include "sim/network.h"

#include "common/bug.h"

namespace mipsec::sim {

Network::Network(std::uint64_t seed, LogLevel level) : sim_(seed), sink_(sim_), level_(level) {}

Network::~Network() {
  // Nodes detach from segments as they go; destroy them first.
  node_order_.clear();
  nodes_.clear();
}

Logger Network::MakeLogger(std::string component) const {
  return Logger(const_cast<SimLogSink*>(&sink_), std::move(component), level_);
}

Result<Node*> Network::AddNode(const std::string& name, bool forwarding) {
  if (name.empty()) return Error(Errc::kInvalidArgument, "node name is empty");
  if (nodes_.contains(name)) return Error(Errc::kAlreadyExists, "node '" + name + "' already exists");
  auto node = std::make_unique<Node>(sim_, name, forwarding, MakeLogger("node." + name));
  Node* raw = node.get();
  nodes_.emplace(name, std::move(node));
  node_order_.push_back(raw);
  return raw;
}

Result<Segment*> Network::AddSegment(const std::string& name, const LinkParams& params) {
  if (name.empty()) return Error(Errc::kInvalidArgument, "segment name is empty");
  if (segments_.contains(name)) {
    return Error(Errc::kAlreadyExists, "segment '" + name + "' already exists");
  }
  Status valid = params.Validate();
  if (!valid.ok()) return valid.error().WithContext("segment '" + name + "'");
  auto seg = std::make_unique<Segment>(sim_, name, params, MakeLogger("seg." + name));
  Segment* raw = seg.get();
  raw->set_capture(capture_);
  segments_.emplace(name, std::move(seg));
  segment_order_.push_back(raw);
  return raw;
}

void Network::set_capture(bool on) {
  capture_ = on;
  for (Segment* s : segment_order_) s->set_capture(on);
}

Node* Network::FindNode(std::string_view name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : it->second.get();
}

Segment* Network::FindSegment(std::string_view name) const {
  auto it = segments_.find(name);
  return it == segments_.end() ? nullptr : it->second.get();
}

Result<Interface*> Network::Connect(std::string_view node_name, const std::string& ifname,
                                    std::string_view segment_name,
                                    std::optional<Ipv4Address> address, int prefix_length,
                                    std::uint32_t mtu) {
  Node* node = FindNode(node_name);
  if (!node) return Error(Errc::kNotFound, "no node '" + std::string(node_name) + "'");
  Segment* seg = FindSegment(segment_name);
  if (!seg) return Error(Errc::kNotFound, "no segment '" + std::string(segment_name) + "'");
  if (node->FindInterface(ifname)) {
    return Error(Errc::kAlreadyExists,
                 "node '" + node->name() + "' already has an interface '" + ifname + "'");
  }
  if (mtu < 68 || mtu > 65535) {
    return Error(Errc::kInvalidArgument, "mtu " + std::to_string(mtu) + " outside 68..65535");
  }
  if (address && (!address->IsUnicast() || prefix_length < 0 || prefix_length > 32)) {
    return Error(Errc::kInvalidArgument, "bad interface address " + address->ToString() + "/" +
                                             std::to_string(prefix_length));
  }
  if (address && node->IsLocalAddress(*address)) {
    return Error(Errc::kAlreadyExists,
                 "node '" + node->name() + "' already has address " + address->ToString());
  }
  Interface& ifc = node->AddInterface(ifname, mtu);
  node->Attach(ifc, *seg);
  if (address) {
    Status s = node->AddAddress(ifc.ifindex(), *address, prefix_length);
    if (MIPSEC_BUG_IF(!s.ok(), "address checked above was refused")) return s.error();
  }
  return &ifc;
}

}  // namespace mipsec::sim

#include "sim/node.h"

#include <algorithm>
#include <tuple>

#include "common/bug.h"
#include "common/ip/icmp.h"
#include "common/ip/udp.h"
#include "common/wire/writer.h"
#include "sim/segment.h"

namespace mipsec::sim {

namespace {
// Event token kinds (top byte); the rest is kind-specific.
constexpr std::uint64_t kTokenLoopback = 1ull << 56;
constexpr std::uint64_t kTokenReassemblyTimeout = 2ull << 56;
constexpr std::uint64_t kTokenReceive = 3ull << 56;
constexpr std::uint64_t kTokenKindMask = 0xffull << 56;

// RFC 1122 3.3.2 leaves the reassembly timeout to the implementation (60 to
// 120 s suggested); Linux uses 30 s (ipfrag_time). We follow Linux.
constexpr Duration kReassemblyTimeout = Duration::Seconds(30);
// Datagrams being reassembled at once, per node.
constexpr std::size_t kMaxReassemblies = 256;
}  // namespace

Ipv4Prefix InterfaceAddress::Subnet() const {
  return *Ipv4Prefix::FromAddressAndLength(address, prefix_length);
}

std::string Interface::FullName() const { return node_->name() + "/" + name_; }

std::optional<Ipv4Address> Interface::PrimaryAddress() const {
  if (addresses_.empty()) return std::nullopt;
  return addresses_.front().address;
}

bool Interface::HasAddress(Ipv4Address a) const {
  return std::any_of(addresses_.begin(), addresses_.end(),
                     [&](const InterfaceAddress& x) { return x.address == a; });
}

bool Interface::Running() const { return segment_ != nullptr && segment_->up(); }

std::string_view LinkEventKindName(LinkEvent::Kind k) {
  switch (k) {
    case LinkEvent::Kind::kLinkUp: return "link-up";
    case LinkEvent::Kind::kLinkDown: return "link-down";
    case LinkEvent::Kind::kAddressAdded: return "address-added";
    case LinkEvent::Kind::kAddressRemoved: return "address-removed";
  }
  return "?";
}

struct Node::Reassembly {
  std::uint64_t uid = 0;
  Timestamp started;
  std::map<std::uint32_t, Bytes> pieces;  // byte offset -> whole fragment datagram
  std::optional<std::uint32_t> total_payload;  // known once the last fragment came
};

Node::Node(Simulator& sim, std::string name, bool forwarding, Logger log)
    : sim_(sim), name_(std::move(name)), forwarding_(forwarding), log_(std::move(log)) {}

Node::~Node() {
  for (auto& ifc : interfaces_) {
    if (ifc->segment_) ifc->segment_->DetachInterface(ifc.get());
  }
}

Interface& Node::AddInterface(const std::string& name, std::uint32_t mtu) {
  int ifindex = static_cast<int>(interfaces_.size()) + 1;
  interfaces_.push_back(std::make_unique<Interface>(this, ifindex, name, mtu, sim_.NewUid()));
  return *interfaces_.back();
}

Interface* Node::FindInterface(std::string_view name) {
  for (auto& ifc : interfaces_) {
    if (ifc->name() == name) return ifc.get();
  }
  return nullptr;
}

Interface* Node::InterfaceByIndex(int ifindex) {
  if (ifindex < 1 || ifindex > static_cast<int>(interfaces_.size())) return nullptr;
  return interfaces_[ifindex - 1].get();
}

void Node::Attach(Interface& ifc, Segment& segment) {
  if (MIPSEC_BUG_IF(ifc.node() != this, "attaching another node's interface")) return;
  if (ifc.segment_ == &segment) return;
  if (ifc.segment_) Detach(ifc);
  ifc.segment_ = &segment;
  ++ifc.attach_epoch_;
  segment.AttachInterface(&ifc);
  MIPSEC_LOG(log_, kInfo) << ifc.name() << " attached to " << segment.name();
  if (ifc.Running()) Notify({LinkEvent::Kind::kLinkUp, ifc.ifindex(), ifc.name(), std::nullopt});
}

void Node::Detach(Interface& ifc) {
  if (!ifc.segment_) return;
  bool was_running = ifc.Running();
  Segment* seg = ifc.segment_;
  seg->DetachInterface(&ifc);
  ifc.segment_ = nullptr;
  ++ifc.attach_epoch_;
  MIPSEC_LOG(log_, kInfo) << ifc.name() << " detached from " << seg->name();
  if (was_running) Notify({LinkEvent::Kind::kLinkDown, ifc.ifindex(), ifc.name(), std::nullopt});
}

void Node::NotifyLink(Interface& ifc, bool running) {
  Notify({running ? LinkEvent::Kind::kLinkUp : LinkEvent::Kind::kLinkDown, ifc.ifindex(),
          ifc.name(), std::nullopt});
}

Status Node::AddAddress(int ifindex, Ipv4Address address, int prefix_length) {
  Interface* ifc = InterfaceByIndex(ifindex);
  if (!ifc) return Error(Errc::kNotFound, name_ + ": no interface " + std::to_string(ifindex));
  if (prefix_length < 0 || prefix_length > 32) {
    return Error(Errc::kInvalidArgument, "prefix length " + std::to_string(prefix_length));
  }
  if (!address.IsUnicast()) {
    return Error(Errc::kInvalidArgument, address.ToString() + " is not a unicast address");
  }
  if (ifc->HasAddress(address)) {
    return Error(Errc::kAlreadyExists, address.ToString() + " already on " + ifc->FullName());
  }
  InterfaceAddress ia{address, prefix_length};
  ifc->addresses_.push_back(ia);
  ++local_addresses_[address];
  routes_.Add(Route{ia.Subnet(), ifindex, std::nullopt, 0});
  if (ifc->segment_) ifc->segment_->AddressesChanged();
  MIPSEC_LOG(log_, kInfo) << "address " << address << "/" << prefix_length << " on " << ifc->name();
  Notify({LinkEvent::Kind::kAddressAdded, ifindex, ifc->name(), ia});
  return Ok{};
}

Status Node::RemoveAddress(int ifindex, Ipv4Address address) {
  Interface* ifc = InterfaceByIndex(ifindex);
  if (!ifc) return Error(Errc::kNotFound, name_ + ": no interface " + std::to_string(ifindex));
  auto it = std::find_if(ifc->addresses_.begin(), ifc->addresses_.end(),
                         [&](const InterfaceAddress& a) { return a.address == address; });
  if (it == ifc->addresses_.end()) {
    return Error(Errc::kNotFound, address.ToString() + " not on " + ifc->FullName());
  }
  InterfaceAddress ia = *it;
  ifc->addresses_.erase(it);
  if (--local_addresses_[address] == 0) local_addresses_.erase(address);
  bool subnet_still_there = std::any_of(
      ifc->addresses_.begin(), ifc->addresses_.end(),
      [&](const InterfaceAddress& a) { return a.Subnet() == ia.Subnet(); });
  if (!subnet_still_there) {
    routes_.RemoveIf([&](const Route& r) {
      return r.prefix == ia.Subnet() && r.ifindex == ifindex && !r.gateway;
    });
  }
  if (ifc->segment_) ifc->segment_->AddressesChanged();
  MIPSEC_LOG(log_, kInfo) << "address " << address << "/" << ia.prefix_length << " removed from "
                          << ifc->name();
  Notify({LinkEvent::Kind::kAddressRemoved, ifindex, ifc->name(), ia});
  return Ok{};
}

void Node::FlushAddresses(int ifindex) {
  Interface* ifc = InterfaceByIndex(ifindex);
  if (!ifc) return;
  while (!ifc->addresses_.empty()) (void)RemoveAddress(ifindex, ifc->addresses_.back().address);
}

bool Node::IsLocalAddress(Ipv4Address a) const { return local_addresses_.contains(a); }

void Node::JoinMulticast(int ifindex, Ipv4Address group) {
  Interface* ifc = InterfaceByIndex(ifindex);
  if (!ifc || !group.IsMulticast()) return;
  if (std::find(ifc->multicast_groups_.begin(), ifc->multicast_groups_.end(), group) ==
      ifc->multicast_groups_.end()) {
    ifc->multicast_groups_.push_back(group);
  }
}

Status Node::AddRoute(const Ipv4Prefix& prefix, Ipv4Address gateway, std::uint32_t metric) {
  for (const auto& ifc : interfaces_) {
    for (const InterfaceAddress& a : ifc->addresses()) {
      if (a.Subnet().Contains(gateway)) {
        routes_.Add(Route{prefix, ifc->ifindex(), gateway, metric});
        return Ok{};
      }
    }
  }
  return Error(Errc::kNotFound,
               name_ + ": gateway " + gateway.ToString() + " is on none of its links");
}

void Node::AddLinkObserver(LinkObserver observer) { observers_.push_back(std::move(observer)); }

void Node::Notify(const LinkEvent& ev) {
  MIPSEC_LOG(log_, kDebug) << LinkEventKindName(ev.kind) << " " << ev.ifname;
  // Observers may add observers; iterate by index over a stable count.
  std::size_t n = observers_.size();
  for (std::size_t i = 0; i < n; ++i) observers_[i](sim_.now(), ev);
}

void Node::AddFilter(PacketFilter* filter) { filters_.push_back(filter); }

void Node::RemoveFilter(PacketFilter* filter) {
  filters_.erase(std::remove(filters_.begin(), filters_.end(), filter), filters_.end());
}

bool Node::RunFilters(Hook hook, Interface* in, Interface* out, Bytes& packet) {
  for (PacketFilter* f : filters_) {
    if (f->Filter(hook, in, out, packet) == Verdict::kDrop) {
      ++counters_.dropped_filter;
      return false;
    }
  }
  return true;
}

void Node::SetRunning(bool running) {
  if (running == running_) return;
  running_ = running;
  if (!running) reassembly_.clear();
  MIPSEC_LOG(log_, kInfo) << (running ? "started" : "stopped");
}

// --- Host stack: sending ---

Result<Node::NextHop> Node::Resolve(Ipv4Address dst) const {
  std::optional<Route> r = routes_.Lookup(dst);
  if (!r) return Error(Errc::kNotFound, name_ + ": no route to " + dst.ToString());
  Interface* ifc = const_cast<Node*>(this)->InterfaceByIndex(r->ifindex);
  if (MIPSEC_BUG_IF(ifc == nullptr, "route through a missing interface")) {
    return Error(Errc::kInternal, "route through a missing interface");
  }
  return NextHop{ifc, r->gateway.value_or(dst)};
}

Status Node::BindUdp(Ipv4Endpoint local, UdpHandler handler) {
  if (udp_.contains(local)) {
    return Error(Errc::kAlreadyExists, name_ + ": UDP " + local.ToString() + " already bound");
  }
  udp_.emplace(local, std::make_shared<UdpHandler>(std::move(handler)));
  return Ok{};
}

void Node::UnbindUdp(Ipv4Endpoint local) { udp_.erase(local); }

void Node::BindProtocol(std::uint8_t protocol, RawHandler handler) {
  raw_[protocol] = std::move(handler);
}

void Node::UnbindProtocol(std::uint8_t protocol) { raw_.erase(protocol); }

Status Node::SendUdp(Ipv4Endpoint to, std::uint16_t from_port, ByteSpan payload,
                     const UdpSendOptions& options) {
  if (!running_) return Error(Errc::kState, name_ + " is stopped");
  NextHop hop{nullptr, to.address};
  if (options.ifindex) {
    hop.ifc = InterfaceByIndex(*options.ifindex);
    if (!hop.ifc) {
      return Error(Errc::kNotFound, name_ + ": no interface " + std::to_string(*options.ifindex));
    }
    // Bound to a device: on-link unless a route through it says otherwise.
    // Broadcast and multicast are always on-link (RFC 1122 3.3.6).
    std::optional<Route> r = routes_.LookupVia(to.address, *options.ifindex);
    if (r && r->gateway && !to.address.IsLimitedBroadcast() &&
        !to.address.IsMulticast()) {
      hop.next_hop = *r->gateway;
    }
  } else {
    MIPSEC_ASSIGN_OR_RETURN(hop, Resolve(to.address));
  }
  Ipv4Address src;
  if (options.source) {
    src = *options.source;
  } else if (auto a = hop.ifc->PrimaryAddress()) {
    src = *a;
  } else if (!to.address.IsLimitedBroadcast()) {
    return Error(Errc::kNotFound, hop.ifc->FullName() + " has no address to send from");
  }
  ip::Ipv4Header h;
  h.src = src;
  h.dst = to.address;
  h.ttl = options.ttl;
  h.tos = options.tos;
  h.dont_fragment = options.dont_fragment;
  h.identification = next_ip_id_++;
  MIPSEC_ASSIGN_OR_RETURN(Bytes packet, ip::BuildIpv4Udp(h, from_port, to.port, payload));
  if (options.dont_fragment && packet.size() > hop.ifc->mtu()) {
    return Error(Errc::kResource, "message too long: " + std::to_string(packet.size()) +
                                      " bytes, MTU of " + hop.ifc->FullName() + " is " +
                                      std::to_string(hop.ifc->mtu()));
  }
  ++counters_.sent;
  if (IsLocalAddress(to.address)) {
    sim_.Schedule(sim_.now(), this, kTokenLoopback | static_cast<std::uint64_t>(hop.ifc->ifindex()),
                  sim_.NewPacket(std::move(packet)));
    return Ok{};
  }
  if (!RunFilters(Hook::kOutput, nullptr, hop.ifc, packet)) return Ok{};
  Output(std::move(packet), hop, nullptr, true);
  return Ok{};
}

Status Node::SendRaw(Bytes datagram, std::optional<int> ifindex) {
  if (!running_) return Error(Errc::kState, name_ + " is stopped");
  MIPSEC_ASSIGN_OR_RETURN(ip::Ipv4Packet pkt, ip::ParseIpv4(datagram));
  if (pkt.datagram.size() != datagram.size()) datagram.resize(pkt.datagram.size());
  NextHop hop{nullptr, pkt.header.dst};
  if (ifindex) {
    hop.ifc = InterfaceByIndex(*ifindex);
    if (!hop.ifc) return Error(Errc::kNotFound, name_ + ": no interface " + std::to_string(*ifindex));
  } else {
    MIPSEC_ASSIGN_OR_RETURN(hop, Resolve(pkt.header.dst));
  }
  ++counters_.sent;
  if (IsLocalAddress(pkt.header.dst)) {
    sim_.Schedule(sim_.now(), this, kTokenLoopback | static_cast<std::uint64_t>(hop.ifc->ifindex()),
                  sim_.NewPacket(std::move(datagram)));
    return Ok{};
  }
  if (!RunFilters(Hook::kOutput, nullptr, hop.ifc, datagram)) return Ok{};
  Output(std::move(datagram), hop, nullptr, true);
  return Ok{};
}

Status Node::SendRawOnLink(Bytes datagram, int ifindex, Ipv4Address next_hop) {
  if (!running_) return Error(Errc::kState, name_ + " is stopped");
  MIPSEC_ASSIGN_OR_RETURN(ip::Ipv4Packet pkt, ip::ParseIpv4(datagram));
  if (pkt.datagram.size() != datagram.size()) datagram.resize(pkt.datagram.size());
  NextHop hop{InterfaceByIndex(ifindex), next_hop};
  if (!hop.ifc) return Error(Errc::kNotFound, name_ + ": no interface " + std::to_string(ifindex));
  ++counters_.sent;
  if (!RunFilters(Hook::kOutput, nullptr, hop.ifc, datagram)) return Ok{};
  Output(std::move(datagram), hop, nullptr, true);
  return Ok{};
}

Status Node::InjectLocal(Bytes datagram, int ifindex) {
  if (!running_) return Error(Errc::kState, name_ + " is stopped");
  if (!InterfaceByIndex(ifindex)) {
    return Error(Errc::kNotFound, name_ + ": no interface " + std::to_string(ifindex));
  }
  MIPSEC_ASSIGN_OR_RETURN(ip::Ipv4Packet pkt, ip::ParseIpv4(datagram));
  if (pkt.datagram.size() != datagram.size()) datagram.resize(pkt.datagram.size());
  sim_.Schedule(sim_.now(), this, kTokenLoopback | static_cast<std::uint64_t>(ifindex),
                sim_.NewPacket(std::move(datagram)));
  return Ok{};
}

Status Node::InjectReceive(Bytes datagram, int ifindex) {
  if (!running_) return Error(Errc::kState, name_ + " is stopped");
  if (!InterfaceByIndex(ifindex)) {
    return Error(Errc::kNotFound, name_ + ": no interface " + std::to_string(ifindex));
  }
  MIPSEC_ASSIGN_OR_RETURN(ip::Ipv4Packet pkt, ip::ParseIpv4(datagram));
  if (pkt.datagram.size() != datagram.size()) datagram.resize(pkt.datagram.size());
  sim_.Schedule(sim_.now(), this, kTokenReceive | static_cast<std::uint64_t>(ifindex),
                sim_.NewPacket(std::move(datagram)));
  return Ok{};
}

std::optional<Ipv4Address> Node::SourceAddressFor(Ipv4Address dst) const {
  Result<NextHop> hop = Resolve(dst);
  if (!hop.ok() || !hop->ifc->Running()) return std::nullopt;
  return hop->ifc->PrimaryAddress();
}

void Node::Output(Bytes packet, const NextHop& hop, Interface* in, bool originated) {
  if (!RunFilters(Hook::kPostrouting, in, hop.ifc, packet)) return;
  if (!hop.ifc->Running()) {
    ++counters_.dropped_down;
    return;
  }
  std::uint32_t mtu = hop.ifc->mtu();
  if (packet.size() <= mtu) {
    hop.ifc->segment()->Transmit(hop.ifc, hop.next_hop, sim_.NewPacket(std::move(packet)));
    return;
  }
  Result<ip::Ipv4Packet> parsed = ip::ParseIpv4(packet, {.verify_checksum = false});
  if (!parsed.ok()) {
    ++counters_.dropped_malformed;
    return;
  }
  const ip::Ipv4Header& h = parsed->header;
  if (h.dont_fragment) {
    ++counters_.dropped_too_big;
    // RFC 1191 4: tell the source the next-hop MTU. A host's own packet is
    // refused at send time instead (EMSGSIZE), so this is the forwarding case.
    if (!originated) {
      SendIcmpError(ip::kIcmpDestinationUnreachable, ip::kIcmpFragmentationNeeded,
                    static_cast<std::uint16_t>(mtu), packet, in);
    }
    return;
  }
  // RFC 791 fragmentation: every fragment but the last carries a multiple of
  // 8 payload bytes. Options are carried in the first fragment only (we do
  // not model the copied-option flag; none of our packets carry options).
  std::size_t chunk = ((mtu - ip::Ipv4Header::kMinSize) / 8) * 8;
  if (chunk == 0) {
    ++counters_.dropped_too_big;
    return;
  }
  ByteSpan payload = parsed->payload;
  for (std::size_t off = 0; off < payload.size(); off += chunk) {
    std::size_t n = std::min(chunk, payload.size() - off);
    ip::Ipv4Header fh = h;
    fh.options = {};
    if (off == 0 && h.options.size() + n + ip::Ipv4Header::kMinSize <= mtu) fh.options = h.options;
    fh.fragment_offset = static_cast<std::uint16_t>(h.fragment_offset + off / 8);
    fh.more_fragments = (off + n < payload.size()) || h.more_fragments;
    Result<Bytes> frag = ip::BuildIpv4(fh, payload.subspan(off, n));
    if (!frag.ok()) {
      ++counters_.dropped_malformed;
      return;
    }
    ++counters_.fragments_created;
    hop.ifc->segment()->Transmit(hop.ifc, hop.next_hop, sim_.NewPacket(std::move(*frag)));
  }
}

// --- Receiving ---

void Node::OnEvent(std::uint64_t token, PacketPtr packet) {
  std::uint64_t kind = token & kTokenKindMask;
  if (kind == kTokenLoopback) {
    Interface* ifc = InterfaceByIndex(static_cast<int>(token & ~kTokenKindMask));
    if (ifc && packet && running_) DeliverLocal(*ifc, std::move(packet->data), std::nullopt);
    return;
  }
  if (kind == kTokenReceive) {
    Interface* ifc = InterfaceByIndex(static_cast<int>(token & ~kTokenKindMask));
    if (ifc && packet) Receive(*ifc, std::move(packet));
    return;
  }
  if (kind == kTokenReassemblyTimeout) {
    std::uint64_t uid = token & ~kTokenKindMask;
    for (auto it = reassembly_.begin(); it != reassembly_.end(); ++it) {
      if (it->second->uid != uid) continue;
      ++counters_.reassembly_timeouts;
      // RFC 792: time exceeded (code 1) if the first fragment was received.
      auto first = it->second->pieces.find(0);
      if (first != it->second->pieces.end()) {
        SendIcmpError(ip::kIcmpTimeExceeded, ip::kIcmpReassemblyTimeExceeded, 0, first->second,
                      nullptr);
      }
      reassembly_.erase(it);
      return;
    }
  }
}

void Node::Receive(Interface& ifc, PacketPtr packet) {
  if (!running_) {
    ++counters_.dropped_down;
    return;
  }
  ++counters_.received;
  Bytes& bytes = packet->data;
  Result<ip::Ipv4Packet> parsed = ip::ParseIpv4(bytes);
  if (!parsed.ok()) {
    ++counters_.dropped_malformed;
    MIPSEC_LOG(log_, kDebug) << "malformed packet on " << ifc.name() << ": "
                             << parsed.error().ToString();
    return;
  }
  if (!filters_.empty()) {
    if (!RunFilters(Hook::kPrerouting, &ifc, nullptr, bytes)) return;
    // Filters may have rewritten the destination.
    parsed = ip::ParseIpv4(bytes);
    if (!parsed.ok()) {
      ++counters_.dropped_malformed;
      return;
    }
  }
  Ipv4Address dst = parsed->header.dst;
  bool local = dst.IsLimitedBroadcast() || IsLocalAddress(dst) ||
               dst == Ipv4Address::AllSystems();
  if (!local) {
    for (const InterfaceAddress& a : ifc.addresses()) {
      if (a.prefix_length < 31 && a.Subnet().Broadcast() == dst) local = true;
    }
    if (std::find(ifc.multicast_groups_.begin(), ifc.multicast_groups_.end(), dst) !=
        ifc.multicast_groups_.end()) {
      local = true;
    }
  }
  if (local) {
    ip::Ipv4Packet p = *parsed;  // spans into `bytes`, whose buffer moves along
    DeliverLocal(ifc, std::move(bytes), p);
  } else if (forwarding_) {
    ip::Ipv4Header h = parsed->header;  // Receive already parsed and checked it
    std::size_t length = parsed->datagram.size();
    Forward(ifc, std::move(bytes), h, length);
  } else {
    ++counters_.dropped_not_for_us;
  }
}

void Node::Forward(Interface& in, Bytes packet, const ip::Ipv4Header& header,
                   std::size_t length) {
  Ipv4Address dst = header.dst;
  if (dst.IsMulticast() || dst.IsLimitedBroadcast() || !header.src.IsUnicast()) {
    ++counters_.dropped_not_for_us;  // RFC 1812 5.3.7: not forwarded
    return;
  }
  if (packet.size() > length) packet.resize(length);
  // RFC 1812 5.3.1: decrement; at zero, discard and send Time Exceeded.
  Result<std::uint8_t> ttl = ip::DecrementTtl(packet);
  if (!ttl.ok()) {
    ++counters_.dropped_malformed;
    return;
  }
  if (*ttl == 0) {
    ++counters_.dropped_ttl;
    SendIcmpError(ip::kIcmpTimeExceeded, ip::kIcmpTtlExceeded, 0, packet, &in);
    return;
  }
  Result<NextHop> hop = Resolve(dst);
  if (!hop.ok()) {
    ++counters_.dropped_no_route;
    SendIcmpError(ip::kIcmpDestinationUnreachable, ip::kIcmpNetUnreachable, 0, packet, &in);
    return;
  }
  // RFC 1191: too big with DF set. Checked before the forward and
  // postrouting hooks (as Linux does), so that behind a NAT the error quotes
  // the packet as its sender wrote it and goes back to that sender.
  if (header.dont_fragment && packet.size() > hop->ifc->mtu()) {
    ++counters_.dropped_too_big;
    SendIcmpError(ip::kIcmpDestinationUnreachable, ip::kIcmpFragmentationNeeded,
                  static_cast<std::uint16_t>(hop->ifc->mtu()), packet, &in);
    return;
  }
  if (!RunFilters(Hook::kForward, &in, hop->ifc, packet)) return;
  ++counters_.forwarded;
  Output(std::move(packet), *hop, &in, false);
}

void Node::DeliverLocal(Interface& in, Bytes packet, std::optional<ip::Ipv4Packet> pre) {
  if (!filters_.empty()) {
    if (!RunFilters(Hook::kInput, &in, nullptr, packet)) return;
    pre.reset();  // may have been rewritten
  }
  Result<ip::Ipv4Packet> parsed = pre ? Result<ip::Ipv4Packet>(*pre) : ip::ParseIpv4(packet);
  if (!parsed.ok()) {
    ++counters_.dropped_malformed;
    return;
  }
  if (parsed->header.IsFragment()) {
    std::optional<Bytes> whole = Reassemble(*parsed);
    if (!whole) return;
    packet = std::move(*whole);
    parsed = ip::ParseIpv4(packet);
    if (!parsed.ok()) {
      ++counters_.dropped_malformed;
      return;
    }
  }
  ++counters_.delivered_local;
  switch (parsed->header.protocol) {
    case ip::kProtoUdp:
      DeliverUdp(in, *parsed);
      return;
    case ip::kProtoIcmp:
      HandleIcmp(in, *parsed);
      break;
    default:
      break;
  }
  auto raw = raw_.find(parsed->header.protocol);
  if (raw != raw_.end()) {
    raw->second(sim_.now(), RawDelivery{parsed->datagram, in.ifindex()});
  } else if (parsed->header.protocol != ip::kProtoIcmp && IsLocalAddress(parsed->header.dst)) {
    SendIcmpError(ip::kIcmpDestinationUnreachable, ip::kIcmpProtocolUnreachable, 0,
                  parsed->datagram, &in);
  }
}

void Node::DeliverUdp(Interface& in, const ip::Ipv4Packet& pkt) {
  if (pkt.header.IsFragment()) {  // reassembled before this point
    ++counters_.dropped_malformed;
    return;
  }
  Result<ip::UdpDatagram> udp = ip::ParseUdp(pkt.payload, pkt.header.src, pkt.header.dst);
  if (!udp.ok()) {
    ++counters_.dropped_malformed;
    MIPSEC_LOG(log_, kDebug) << "bad UDP datagram: " << udp.error().ToString();
    return;
  }
  Ipv4Endpoint local{pkt.header.dst, udp->header.dst_port};
  auto it = udp_.find(local);
  if (it == udp_.end()) it = udp_.find(Ipv4Endpoint{Ipv4Address::Any(), udp->header.dst_port});
  if (it == udp_.end()) {
    ++counters_.dropped_no_socket;
    if (IsLocalAddress(pkt.header.dst)) {
      SendIcmpError(ip::kIcmpDestinationUnreachable, ip::kIcmpPortUnreachable, 0, pkt.datagram,
                    &in);
    }
    return;
  }
  UdpDelivery d{local, Ipv4Endpoint{pkt.header.src, udp->header.src_port}, in.ifindex(),
                pkt.header.tos, pkt.header.ttl, udp->payload};
  // Hold a reference: the handler may unbind itself while running.
  std::shared_ptr<UdpHandler> h = it->second;
  (*h)(sim_.now(), d);
}

void Node::HandleIcmp(Interface& in, const ip::Ipv4Packet& pkt) {
  Result<ip::IcmpMessage> msg = ip::ParseIcmp(pkt.payload);
  if (!msg.ok()) {
    ++counters_.dropped_malformed;
    return;
  }
  // Echo: answered by the stack for unicast destinations (RFC 1122 3.2.2.6).
  if (msg->type == ip::kIcmpEchoRequest && IsLocalAddress(pkt.header.dst)) {
    Bytes reply = ip::BuildIcmpEchoReply(msg->echo_identifier(), msg->echo_sequence(), msg->body);
    Result<Bytes> dgram = ip::BuildIcmpPacket(pkt.header.dst, pkt.header.src, reply,
                                              ip::kDefaultTtl, next_ip_id_++);
    if (!dgram.ok()) return;
    Result<NextHop> hop = Resolve(pkt.header.src);
    if (!hop.ok()) return;
    if (!RunFilters(Hook::kOutput, nullptr, hop->ifc, *dgram)) return;
    ++counters_.sent;
    Output(std::move(*dgram), *hop, nullptr, true);
  }
  (void)in;
}

void Node::SendIcmpError(std::uint8_t type, std::uint8_t code, std::uint32_t rest,
                         ByteSpan offending, Interface* arrived_on) {
  // RFC 1812 4.3.2.7 (no errors about errors, fragments, broadcasts, ...).
  if (!ip::IcmpErrorAllowed(offending).ok()) return;
  Result<ip::Ipv4Packet> orig = ip::ParseIpv4(offending, {.verify_checksum = false,
                                                          .allow_truncated = true});
  if (!orig.ok()) return;
  if (arrived_on) {
    for (const InterfaceAddress& a : arrived_on->addresses()) {
      if (a.prefix_length < 31 && a.Subnet().Broadcast() == orig->header.dst) return;
    }
  }
  Result<Bytes> msg = type == ip::kIcmpTimeExceeded
                          ? ip::BuildIcmpTimeExceeded(code, offending)
                          : ip::BuildIcmpDestinationUnreachable(
                                code, offending, static_cast<std::uint16_t>(rest));
  if (!msg.ok()) return;
  Result<NextHop> hop = Resolve(orig->header.src);
  if (!hop.ok()) return;
  // The source is the address of the interface the offending packet came in
  // on (RFC 1812 4.3.2.4), else that of the way back.
  std::optional<Ipv4Address> src = arrived_on ? arrived_on->PrimaryAddress() : std::nullopt;
  if (!src) src = hop->ifc->PrimaryAddress();
  if (!src) return;
  Result<Bytes> dgram = ip::BuildIcmpPacket(*src, orig->header.src, *msg, ip::kDefaultTtl,
                                            next_ip_id_++);
  if (!dgram.ok()) return;
  if (!RunFilters(Hook::kOutput, nullptr, hop->ifc, *dgram)) return;
  ++counters_.icmp_errors_sent;
  Output(std::move(*dgram), *hop, nullptr, true);
}

std::optional<Bytes> Node::Reassemble(const ip::Ipv4Packet& frag) {
  const ip::Ipv4Header& h = frag.header;
  std::uint32_t off = static_cast<std::uint32_t>(h.fragment_offset) * 8;
  if (off + frag.payload.size() > ip::Ipv4Header::kMaxTotalLength - ip::Ipv4Header::kMinSize) {
    ++counters_.dropped_malformed;  // would reassemble past 65535 bytes
    return std::nullopt;
  }
  // RFC 791: fragments belong together by (source, destination, protocol,
  // identification).
  ReassemblyKey key{h.src.ToHostOrder(), h.dst.ToHostOrder(), h.protocol, h.identification};
  if (!reassembly_.contains(key) && reassembly_.size() >= kMaxReassemblies) {
    ++counters_.dropped_malformed;  // bounded state: refuse new datagrams
    return std::nullopt;
  }
  auto& slot = reassembly_[key];
  if (!slot) {
    slot = std::make_unique<Reassembly>();
    slot->uid = sim_.NewUid();
    slot->started = sim_.now();
    sim_.Schedule(sim_.now() + kReassemblyTimeout, this, kTokenReassemblyTimeout | slot->uid);
  }
  slot->pieces[off] = Bytes(frag.datagram.begin(), frag.datagram.end());
  if (!h.more_fragments) {
    slot->total_payload = off + static_cast<std::uint32_t>(frag.payload.size());
  }
  if (!slot->total_payload) return std::nullopt;
  // Complete when the pieces cover [0, total) without a gap.
  std::uint32_t covered = 0;
  for (const auto& [o, bytes] : slot->pieces) {
    if (o > covered) return std::nullopt;
    Result<ip::Ipv4Packet> p = ip::ParseIpv4(bytes, {.verify_checksum = false});
    if (!p.ok()) return std::nullopt;
    covered = std::max<std::uint32_t>(covered, o + static_cast<std::uint32_t>(p->payload.size()));
  }
  if (covered < *slot->total_payload) return std::nullopt;

  Bytes payload(*slot->total_payload);
  std::optional<ip::Ipv4Header> first;
  for (const auto& [o, bytes] : slot->pieces) {
    Result<ip::Ipv4Packet> p = ip::ParseIpv4(bytes, {.verify_checksum = false});
    std::size_t n = std::min<std::size_t>(p->payload.size(), payload.size() - o);
    std::copy_n(p->payload.begin(), n, payload.begin() + o);
    if (o == 0) first = p->header;
  }
  if (!first) return std::nullopt;
  ip::Ipv4Header whole = *first;
  whole.more_fragments = false;
  whole.fragment_offset = 0;
  Result<Bytes> out = ip::BuildIpv4(whole, payload);
  reassembly_.erase(key);
  if (!out.ok()) {
    ++counters_.dropped_malformed;
    return std::nullopt;
  }
  ++counters_.reassembled;
  return std::move(*out);
}

}  // namespace mipsec::sim

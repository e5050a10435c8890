#include "sim/nat.h"

#include <initializer_list>
#include <sstream>
#include <utility>

#include "common/checksum.h"
#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "common/wire/writer.h"

namespace mipsec::sim {

namespace {

// Offsets in the IPv4 header (RFC 791) and the transport headers.
constexpr std::size_t kIpChecksum = 10;
constexpr std::size_t kIpSrc = 12;
constexpr std::size_t kIpDst = 16;
constexpr std::size_t kUdpSrcPort = 0;
constexpr std::size_t kUdpDstPort = 2;
constexpr std::size_t kUdpChecksum = 6;
constexpr std::size_t kIcmpChecksum = 2;
constexpr std::size_t kIcmpEchoId = 4;

// How long a first fragment's translation is kept for the rest of its
// datagram: Linux's reassembly timeout (ipfrag_time), as in node.cc.
constexpr Duration kFragmentMemory = Duration::Seconds(30);
constexpr std::size_t kMaxFragmentMemory = 1024;
// Random draws before falling back to a scan for a free port.
constexpr int kRandomPortTries = 16;
// A mapping's permission table is pruned of stale entries beyond this size.
constexpr std::size_t kPermissionPruneSize = 64;

using wire::LoadU16;
using wire::StoreU16;
Ipv4Address GetAddress(ByteSpan b, std::size_t off) {
  return Ipv4Address::FromHostOrder(wire::LoadU32(b, off));
}
void PutAddress(MutableByteSpan b, std::size_t off, Ipv4Address a) {
  wire::StoreU32(b, off, a.ToHostOrder());
}

// A checksum field in the packet kept right, by RFC 1624 incremental
// updates, while words it covers change; Commit() writes it. A UDP checksum
// of 0 means "none" (RFC 768) and is left alone; an updated UDP checksum
// that comes out 0 is sent as 0xffff, its other one's complement form.
class ChecksumField {
 public:
  ChecksumField(MutableByteSpan buf, std::size_t off, bool udp)
      : buf_(buf), off_(off), udp_(udp), old_(LoadU16(buf, off)), value_(old_) {}
  void Word(std::uint16_t old_word, std::uint16_t new_word) {
    if (active()) value_ = ChecksumAdjust16(value_, old_word, new_word);
  }
  void Address(Ipv4Address old_a, Ipv4Address new_a) {
    if (active()) value_ = ChecksumAdjust32(value_, old_a.ToHostOrder(), new_a.ToHostOrder());
  }
  // Writes the field; returns its old and new stored values, for a checksum
  // that covers this field in turn.
  std::pair<std::uint16_t, std::uint16_t> Commit() {
    if (udp_ && active() && value_ == 0) value_ = 0xffff;
    StoreU16(buf_, off_, value_);
    return {old_, value_};
  }

 private:
  bool active() const { return !(udp_ && old_ == 0); }
  MutableByteSpan buf_;
  std::size_t off_;
  bool udp_;
  std::uint16_t old_;
  std::uint16_t value_;
};

using Fields = std::initializer_list<ChecksumField*>;

// Rewrites the address at `off`, updating the checksums that cover it.
void SetAddress(MutableByteSpan b, std::size_t off, Ipv4Address a, Fields covering) {
  Ipv4Address old = GetAddress(b, off);
  PutAddress(b, off, a);
  for (ChecksumField* f : covering) {
    if (f) f->Address(old, a);
  }
}
void SetWord(MutableByteSpan b, std::size_t off, std::uint16_t v, Fields covering) {
  std::uint16_t old = LoadU16(b, off);
  StoreU16(b, off, v);
  for (ChecksumField* f : covering) {
    if (f) f->Word(old, v);
  }
}

// Rewrites one endpoint of the datagram quoted in an ICMP error: the quoted
// address at `addr_off` (and the quoted port at `port_off`, if any) becomes
// `to`. Keeps the quoted IP header checksum, the quoted transport checksum
// (at `cks_off`; a UDP one covers the quoted addresses through its
// pseudo-header, an ICMP one does not) and the ICMP error's own checksum
// right, each updated incrementally (RFC 1624).
void RewriteQuoted(MutableByteSpan packet, std::size_t ihl, std::size_t addr_off, Ipv4Endpoint to,
                   std::optional<std::size_t> port_off, std::optional<std::size_t> cks_off,
                   bool cks_udp) {
  const std::size_t q = ihl + ip::IcmpMessage::kHeaderSize;
  ChecksumField icmpc(packet, ihl + kIcmpChecksum, false);
  ChecksumField qipc(packet, q + kIpChecksum, false);
  std::optional<ChecksumField> qtc;
  if (cks_off) qtc.emplace(packet, *cks_off, cks_udp);
  ChecksumField* qtp = qtc ? &*qtc : nullptr;
  SetAddress(packet, addr_off, to.address, {&qipc, &icmpc, cks_udp ? qtp : nullptr});
  if (port_off) SetWord(packet, *port_off, to.port, {&icmpc, qtp});
  auto [qo, qn] = qipc.Commit();
  icmpc.Word(qo, qn);
  if (qtc) {
    auto [to_old, to_new] = qtc->Commit();
    icmpc.Word(to_old, to_new);
  }
  icmpc.Commit();
}

std::string ProtocolName(std::uint8_t p) {
  switch (p) {
    case ip::kProtoUdp: return "udp";
    case ip::kProtoIcmp: return "icmp";
    case ip::kProtoEsp: return "esp";
    case ip::kProtoIpip: return "ipip";
    case ip::kProtoGre: return "gre";
    default: return "proto " + std::to_string(p);
  }
}

}  // namespace

std::string_view NatBehaviorName(NatBehavior b) {
  switch (b) {
    case NatBehavior::kEndpointIndependent: return "endpoint-independent";
    case NatBehavior::kAddressDependent: return "address-dependent";
    case NatBehavior::kAddressAndPortDependent: return "address-and-port-dependent";
  }
  return "?";
}

std::string_view NatPortAssignmentName(NatPortAssignment p) {
  return p == NatPortAssignment::kPreserve ? "preserve" : "random";
}

std::string NatMappingInfo::ToString() const {
  std::ostringstream os;
  os << ProtocolName(protocol) << " ";
  if (protocol == ip::kProtoUdp || protocol == ip::kProtoIcmp) {
    os << internal << " -> " << external;
  } else {
    os << internal.address << " -> " << external.address;
  }
  if (!remote_key.address.IsAny()) {
    os << " (for " << remote_key.address;
    if (remote_key.port != 0) os << ":" << remote_key.port;
    os << ")";
  }
  return os.str();
}

Result<std::unique_ptr<Napt>> Napt::Create(Node& node, NaptConfig config) {
  std::string what = "nat '" + config.name + "' on node '" + node.name() + "'";
  if (config.name.empty()) return Error(Errc::kInvalidArgument, "nat name is empty");
  if (!node.forwarding()) return Error(Errc::kInvalidArgument, what + ": node does not forward");
  Interface* outside = node.InterfaceByIndex(config.outside_ifindex);
  if (!outside) {
    return Error(Errc::kNotFound,
                 what + ": no outside interface " + std::to_string(config.outside_ifindex));
  }
  Ipv4Address address;
  if (config.outside_address) {
    if (!node.IsLocalAddress(*config.outside_address)) {
      return Error(Errc::kNotFound, what + ": outside address " +
                                        config.outside_address->ToString() +
                                        " is not an address of the node");
    }
    address = *config.outside_address;
  } else if (auto a = outside->PrimaryAddress()) {
    address = *a;
  } else {
    return Error(Errc::kNotFound, what + ": outside interface " + outside->name() +
                                      " has no address");
  }
  if (config.port_min == 0 || config.port_min > config.port_max) {
    return Error(Errc::kInvalidArgument,
                 what + ": port range " + std::to_string(config.port_min) + "-" +
                     std::to_string(config.port_max) + " is empty or includes port 0");
  }
  for (auto [name, d] : {std::pair<const char*, Duration>{"udp_timeout", config.udp_timeout},
                         {"icmp_timeout", config.icmp_timeout},
                         {"other_timeout", config.other_timeout}}) {
    if (d <= Duration::Zero()) {
      return Error(Errc::kInvalidArgument, what + ": " + name + " must be positive");
    }
  }
  std::unique_ptr<Napt> nat(new Napt(node, std::move(config), address));
  node.AddFilter(nat.get());
  MIPSEC_LOG(nat->log_, kInfo) << "NAPT on " << outside->name() << " as " << address
                               << ", mapping " << NatBehaviorName(nat->config_.mapping)
                               << ", filtering " << NatBehaviorName(nat->config_.filtering)
                               << ", ports " << NatPortAssignmentName(nat->config_.port_assignment)
                               << " " << nat->config_.port_min << "-" << nat->config_.port_max;
  return nat;
}

Napt::Napt(Node& node, NaptConfig config, Ipv4Address outside_address)
    : node_(node),
      sim_(node.sim()),
      config_(std::move(config)),
      outside_address_(outside_address),
      log_(node.log().Child(config_.name)),
      rng_(node.sim().DeriveSeed("nat/" + config_.name)),
      timer_(node.sim(), [this](Timestamp now) { OnTimer(now); }) {}

Napt::~Napt() = default;

// --- Mapping table ---

bool Napt::HasPorts(std::uint8_t protocol) {
  return protocol == ip::kProtoUdp || protocol == ip::kProtoIcmp;
}

Duration Napt::TimeoutFor(std::uint8_t protocol) const {
  switch (protocol) {
    case ip::kProtoUdp: return config_.udp_timeout;
    case ip::kProtoIcmp: return config_.icmp_timeout;
    default: return config_.other_timeout;
  }
}

bool Napt::Alive(const Mapping& m, Timestamp now) const {
  return now < m.last_refresh + TimeoutFor(m.protocol);
}

Napt::MappingKey Napt::KeyFor(std::uint8_t protocol, Ipv4Endpoint internal,
                              Ipv4Endpoint remote) const {
  if (!HasPorts(protocol)) {
    return {protocol, Ipv4Endpoint{internal.address, 0}, Ipv4Endpoint{remote.address, 0}};
  }
  switch (config_.mapping) {
    case NatBehavior::kEndpointIndependent:
      return {protocol, internal, Ipv4Endpoint{}};
    case NatBehavior::kAddressDependent:
      return {protocol, internal, Ipv4Endpoint{remote.address, 0}};
    case NatBehavior::kAddressAndPortDependent:
      break;
  }
  return {protocol, internal, remote};
}

Napt::Mapping* Napt::Live(std::uint64_t id) {
  Mapping& m = mappings_.at(id);
  if (!Alive(m, sim_.now())) {
    Expire(id, true);
    return nullptr;
  }
  return &m;
}

Napt::Mapping* Napt::FindByKey(const MappingKey& key) {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : Live(it->second);
}

Napt::Mapping* Napt::FindByExternal(const ExternalKey& key) {
  auto it = by_external_.find(key);
  return it == by_external_.end() ? nullptr : Live(it->second);
}

std::optional<std::uint16_t> Napt::AllocatePort(std::uint8_t protocol, std::uint16_t wanted) {
  std::uint32_t lo = protocol == ip::kProtoUdp ? config_.port_min : 0;
  std::uint32_t hi = protocol == ip::kProtoUdp ? config_.port_max : 0xffff;
  std::uint32_t range = hi - lo + 1;
  auto is_free = [&](std::uint32_t p) {
    return FindByExternal({protocol, static_cast<std::uint16_t>(p), Ipv4Address::Any()}) ==
           nullptr;
  };
  std::uint32_t start = lo;
  if (config_.port_assignment == NatPortAssignment::kPreserve) {
    if (wanted >= lo && wanted <= hi) start = wanted;
  } else {
    for (int i = 0; i < kRandomPortTries; ++i) {
      start = lo + rng_.Uniform(range);
      if (is_free(start)) return static_cast<std::uint16_t>(start);
    }
  }
  // The next free port upwards from `start`, wrapping inside the range.
  for (std::uint32_t i = 0; i < range; ++i) {
    std::uint32_t p = lo + (start - lo + i) % range;
    if (is_free(p)) return static_cast<std::uint16_t>(p);
  }
  return std::nullopt;
}

Napt::Mapping* Napt::MappingForOutbound(std::uint8_t protocol, Ipv4Endpoint internal,
                                        Ipv4Endpoint remote) {
  MappingKey key = KeyFor(protocol, internal, remote);
  if (Mapping* m = FindByKey(key)) return m;
  ExternalKey ext;
  if (HasPorts(protocol)) {
    std::optional<std::uint16_t> port = AllocatePort(protocol, internal.port);
    if (!port) {
      ++counters_.dropped_exhausted;
      MIPSEC_LOG(log_, kWarning) << "no free " << ProtocolName(protocol) << " port for "
                                 << internal << ": dropped";
      return nullptr;
    }
    ext = {protocol, *port, Ipv4Address::Any()};
  } else {
    ext = {protocol, 0, remote.address};
    if (Mapping* other = FindByExternal(ext)) {
      ++counters_.dropped_exhausted;
      MIPSEC_LOG(log_, kDebug) << ProtocolName(protocol) << " to " << remote.address
                               << " is mapped for " << other->internal.address << ": "
                               << internal.address << " dropped";
      return nullptr;
    }
  }
  Timestamp now = sim_.now();
  std::uint64_t id = next_id_++;
  Mapping& m = mappings_[id];
  m.id = id;
  m.key = key;
  m.external_key = ext;
  m.protocol = protocol;
  m.internal = HasPorts(protocol) ? internal : Ipv4Endpoint{internal.address, 0};
  m.external = {outside_address_, std::get<1>(ext)};
  m.created = now;
  m.last_refresh = now;
  by_key_[key] = id;
  by_external_[ext] = id;
  expiry_.insert({now + TimeoutFor(protocol), id});
  ArmTimer();
  ++counters_.mappings_created;
  MIPSEC_LOG(log_, kInfo) << "mapping created "
                          << NatMappingInfo{protocol, m.internal, m.external, std::get<2>(key),
                                            now, now + TimeoutFor(protocol)}
                                 .ToString();
  return &m;
}

bool Napt::Permits(const Mapping& m, Ipv4Endpoint remote, Timestamp now) const {
  if (!HasPorts(m.protocol)) return true;  // found by (protocol, remote address)
  Duration timeout = TimeoutFor(m.protocol);
  switch (config_.filtering) {
    case NatBehavior::kEndpointIndependent:
      return true;
    case NatBehavior::kAddressDependent:
      for (auto it = m.permissions.lower_bound({remote.address, 0});
           it != m.permissions.end() && it->first.address == remote.address; ++it) {
        if (now < it->second + timeout) return true;
      }
      return false;
    case NatBehavior::kAddressAndPortDependent:
      break;
  }
  auto it = m.permissions.find(remote);
  return it != m.permissions.end() && now < it->second + timeout;
}

void Napt::Refresh(Mapping& m, Timestamp now) { m.last_refresh = now; }

void Napt::Expire(std::uint64_t id, bool log) {
  auto it = mappings_.find(id);
  if (it == mappings_.end()) return;
  const Mapping& m = it->second;
  if (log) {
    ++counters_.mappings_expired;
    MIPSEC_LOG(log_, kInfo) << "mapping expired "
                            << NatMappingInfo{m.protocol, m.internal, m.external,
                                              std::get<2>(m.key), m.created,
                                              m.last_refresh + TimeoutFor(m.protocol)}
                                   .ToString();
  }
  by_key_.erase(m.key);
  by_external_.erase(m.external_key);
  mappings_.erase(it);
}

void Napt::OnTimer(Timestamp now) {
  while (!expiry_.empty() && expiry_.begin()->first <= now) {
    std::uint64_t id = expiry_.begin()->second;
    expiry_.erase(expiry_.begin());
    auto it = mappings_.find(id);
    if (it == mappings_.end()) continue;  // already gone
    if (Alive(it->second, now)) {
      // Refreshed since it was queued: wait for its current deadline.
      expiry_.insert({it->second.last_refresh + TimeoutFor(it->second.protocol), id});
    } else {
      Expire(id, true);
    }
  }
  ArmTimer();
}

void Napt::ArmTimer() {
  timer_.Set(expiry_.empty() ? Timestamp::Infinite() : expiry_.begin()->first);
}

std::vector<NatMappingInfo> Napt::Mappings() {
  Timestamp now = sim_.now();
  std::vector<std::uint64_t> stale;
  for (const auto& [id, m] : mappings_) {
    if (!Alive(m, now)) stale.push_back(id);
  }
  for (std::uint64_t id : stale) Expire(id, true);
  std::vector<NatMappingInfo> out;
  for (const auto& [id, m] : mappings_) {
    out.push_back({m.protocol, m.internal, m.external, std::get<2>(m.key), m.created,
                   m.last_refresh + TimeoutFor(m.protocol)});
  }
  return out;
}

void Napt::Reset() {
  mappings_.clear();
  by_key_.clear();
  by_external_.clear();
  expiry_.clear();
  fragments_.clear();
  fragment_order_.clear();
  timer_.Cancel();
  MIPSEC_LOG(log_, kInfo) << "all mappings flushed";
}

// --- Fragments ---

void Napt::RememberFragment(const FragmentKey& key, Ipv4Address new_address) {
  Timestamp now = sim_.now();
  while (!fragment_order_.empty() &&
         (fragment_order_.front().first <= now || fragments_.size() >= kMaxFragmentMemory)) {
    auto it = fragments_.find(fragment_order_.front().second);
    // Only the entry this queue slot was made for (not a later re-use).
    if (it != fragments_.end() && it->second.expires == fragment_order_.front().first) {
      fragments_.erase(it);
    }
    fragment_order_.pop_front();
  }
  Timestamp expires = now + kFragmentMemory;
  fragments_[key] = Fragment{new_address, expires};
  fragment_order_.emplace_back(expires, key);
}

std::optional<Ipv4Address> Napt::FragmentTranslation(const FragmentKey& key) {
  auto it = fragments_.find(key);
  if (it == fragments_.end()) return std::nullopt;
  if (it->second.expires <= sim_.now()) {
    fragments_.erase(it);
    return std::nullopt;
  }
  return it->second.new_address;
}

// --- Packet path ---

Verdict Napt::Filter(Hook hook, Interface* in, Interface* out, Bytes& packet) {
  if (hook == Hook::kPostrouting && out && out->ifindex() == config_.outside_ifindex) {
    return Outbound(in, packet);
  }
  if (hook == Hook::kPrerouting && in && in->ifindex() == config_.outside_ifindex) {
    return Inbound(packet);
  }
  return Verdict::kAccept;
}

Verdict Napt::Unmatched() {
  if (config_.deliver_unmatched_to_self) {
    ++counters_.passed_to_self;
    return Verdict::kAccept;
  }
  ++counters_.dropped_filtered;
  return Verdict::kDrop;
}

Verdict Napt::Outbound(Interface* in, Bytes& packet) {
  Result<ip::Ipv4Packet> parsed = ip::ParseIpv4(packet, {.verify_checksum = false});
  if (!parsed.ok()) {
    ++counters_.dropped_malformed;
    return Verdict::kDrop;
  }
  const ip::Ipv4Header h = parsed->header;
  const std::size_t ihl = h.header_length();
  const std::size_t total = parsed->datagram.size();
  const std::size_t payload = total - ihl;
  const bool first = h.fragment_offset == 0;
  Timestamp now = sim_.now();

  if (in && in->ifindex() == config_.outside_ifindex) {
    return Verdict::kAccept;  // came from outside and goes back out: not ours
  }
  if (in == nullptr && node_.IsLocalAddress(h.src)) {
    // The node's own packet: untranslated, but an ICMP error about a packet
    // we translated inbound must quote it as the remote sent it.
    if (h.protocol == ip::kProtoIcmp && first && payload >= ip::IcmpMessage::kHeaderSize &&
        ip::IsIcmpErrorType(packet[ihl])) {
      return OutboundIcmpError(packet, ihl, total, false);
    }
    return Verdict::kAccept;
  }
  if (h.protocol == ip::kProtoTcp) {
    ++counters_.dropped_unsupported;
    return Verdict::kDrop;
  }
  ChecksumField ipc(packet, kIpChecksum, false);

  if (!first && HasPorts(h.protocol)) {
    std::optional<Ipv4Address> to =
        FragmentTranslation({0, h.src, h.dst, h.protocol, h.identification});
    if (!to) {
      ++counters_.dropped_fragments;
      MIPSEC_LOG(log_, kDebug) << "fragment without its first fragment dropped: " << h.ToString();
      return Verdict::kDrop;
    }
    SetAddress(packet, kIpSrc, *to, {&ipc});
    ipc.Commit();
    ++counters_.translated_out;
    return Verdict::kAccept;
  }

  Mapping* m = nullptr;
  switch (h.protocol) {
    case ip::kProtoUdp: {
      if (payload < 8) {
        ++counters_.dropped_malformed;
        return Verdict::kDrop;
      }
      Ipv4Endpoint remote{h.dst, LoadU16(packet, ihl + kUdpDstPort)};
      m = MappingForOutbound(ip::kProtoUdp, {h.src, LoadU16(packet, ihl + kUdpSrcPort)}, remote);
      if (!m) return Verdict::kDrop;
      m->permissions[remote] = now;
      ChecksumField udpc(packet, ihl + kUdpChecksum, true);
      SetAddress(packet, kIpSrc, m->external.address, {&ipc, &udpc});
      SetWord(packet, ihl + kUdpSrcPort, m->external.port, {&udpc});
      udpc.Commit();
      break;
    }
    case ip::kProtoIcmp: {
      if (payload < ip::IcmpMessage::kHeaderSize) {
        ++counters_.dropped_malformed;
        return Verdict::kDrop;
      }
      std::uint8_t type = packet[ihl];
      if (ip::IsIcmpErrorType(type)) {
        Verdict v = OutboundIcmpError(packet, ihl, total, true);
        if (v == Verdict::kAccept && h.more_fragments) {
          RememberFragment({0, h.src, h.dst, h.protocol, h.identification}, outside_address_);
        }
        return v;
      }
      if (type != ip::kIcmpEchoRequest) {
        ++counters_.dropped_unsupported;
        MIPSEC_LOG(log_, kDebug) << "ICMP type " << type << " from " << h.src
                                 << " not translated: dropped";
        return Verdict::kDrop;
      }
      Ipv4Endpoint remote{h.dst, 0};
      m = MappingForOutbound(ip::kProtoIcmp, {h.src, LoadU16(packet, ihl + kIcmpEchoId)}, remote);
      if (!m) return Verdict::kDrop;
      m->permissions[remote] = now;
      ChecksumField icmpc(packet, ihl + kIcmpChecksum, false);
      SetAddress(packet, kIpSrc, m->external.address, {&ipc});
      SetWord(packet, ihl + kIcmpEchoId, m->external.port, {&icmpc});
      icmpc.Commit();
      break;
    }
    default: {
      Ipv4Endpoint remote{h.dst, 0};
      m = MappingForOutbound(h.protocol, {h.src, 0}, remote);
      if (!m) return Verdict::kDrop;
      m->permissions[remote] = now;
      SetAddress(packet, kIpSrc, m->external.address, {&ipc});
      break;
    }
  }
  ipc.Commit();
  Refresh(*m, now);
  if (m->permissions.size() > kPermissionPruneSize) {
    std::erase_if(m->permissions, [&](const auto& p) {
      return !(now < p.second + TimeoutFor(m->protocol));
    });
  }
  if (h.more_fragments && HasPorts(h.protocol)) {
    RememberFragment({0, h.src, h.dst, h.protocol, h.identification}, m->external.address);
  }
  ++counters_.translated_out;
  return Verdict::kAccept;
}

Verdict Napt::Inbound(Bytes& packet) {
  Result<ip::Ipv4Packet> parsed = ip::ParseIpv4(packet, {.verify_checksum = false});
  if (!parsed.ok()) {
    ++counters_.dropped_malformed;
    return Verdict::kDrop;
  }
  const ip::Ipv4Header h = parsed->header;
  if (h.dst != outside_address_) {
    if (h.dst.IsUnicast() && !node_.IsLocalAddress(h.dst)) {
      ++counters_.dropped_filtered;
      MIPSEC_LOG(log_, kDebug) << "unsolicited transit packet dropped: " << h.ToString();
      return Verdict::kDrop;
    }
    return Verdict::kAccept;
  }
  const std::size_t ihl = h.header_length();
  const std::size_t payload = parsed->datagram.size() - ihl;
  const bool first = h.fragment_offset == 0;
  Timestamp now = sim_.now();
  if (h.protocol == ip::kProtoTcp) return Unmatched();
  ChecksumField ipc(packet, kIpChecksum, false);

  if (!first && HasPorts(h.protocol)) {
    std::optional<Ipv4Address> to =
        FragmentTranslation({1, h.src, h.dst, h.protocol, h.identification});
    if (!to) {
      if (config_.deliver_unmatched_to_self) return Unmatched();
      ++counters_.dropped_fragments;
      return Verdict::kDrop;
    }
    SetAddress(packet, kIpDst, *to, {&ipc});
    ipc.Commit();
    ++counters_.translated_in;
    return Verdict::kAccept;
  }

  // Finds the mapping and the remote endpoint; then filtering decides.
  Mapping* m = nullptr;
  Ipv4Endpoint remote{h.src, 0};
  switch (h.protocol) {
    case ip::kProtoUdp:
      if (payload < 8) {
        ++counters_.dropped_malformed;
        return Verdict::kDrop;
      }
      remote.port = LoadU16(packet, ihl + kUdpSrcPort);
      m = FindByExternal({ip::kProtoUdp, LoadU16(packet, ihl + kUdpDstPort), Ipv4Address::Any()});
      break;
    case ip::kProtoIcmp: {
      if (payload < ip::IcmpMessage::kHeaderSize) {
        ++counters_.dropped_malformed;
        return Verdict::kDrop;
      }
      std::uint8_t type = packet[ihl];
      if (ip::IsIcmpErrorType(type)) {
        Verdict v = InboundIcmpError(packet, ihl, parsed->datagram.size());
        if (v == Verdict::kAccept && h.more_fragments) {
          // Translated if its outer destination changed.
          Ipv4Address new_dst = GetAddress(packet, kIpDst);
          if (new_dst != h.dst) {
            RememberFragment({1, h.src, h.dst, h.protocol, h.identification}, new_dst);
          }
        }
        return v;
      }
      if (type != ip::kIcmpEchoReply) return Unmatched();
      m = FindByExternal({ip::kProtoIcmp, LoadU16(packet, ihl + kIcmpEchoId), Ipv4Address::Any()});
      break;
    }
    default:
      m = FindByExternal({h.protocol, 0, h.src});
      break;
  }
  if (!m) return Unmatched();
  if (!Permits(*m, remote, now)) {
    ++counters_.dropped_filtered;
    MIPSEC_LOG(log_, kDebug) << "filtered: " << ProtocolName(h.protocol) << " from " << remote
                             << " to " << m->external;
    return Verdict::kDrop;
  }
  if (h.protocol == ip::kProtoUdp) {
    ChecksumField udpc(packet, ihl + kUdpChecksum, true);
    SetAddress(packet, kIpDst, m->internal.address, {&ipc, &udpc});
    SetWord(packet, ihl + kUdpDstPort, m->internal.port, {&udpc});
    udpc.Commit();
  } else if (h.protocol == ip::kProtoIcmp) {
    ChecksumField icmpc(packet, ihl + kIcmpChecksum, false);
    SetAddress(packet, kIpDst, m->internal.address, {&ipc});
    SetWord(packet, ihl + kIcmpEchoId, m->internal.port, {&icmpc});
    icmpc.Commit();
  } else {
    SetAddress(packet, kIpDst, m->internal.address, {&ipc});
  }
  ipc.Commit();
  if (config_.refresh_on_inbound) {
    Refresh(*m, now);
    auto p = m->permissions.find(remote);
    if (p != m->permissions.end()) p->second = now;
  }
  if (h.more_fragments && HasPorts(h.protocol)) {
    RememberFragment({1, h.src, h.dst, h.protocol, h.identification}, m->internal.address);
  }
  ++counters_.translated_in;
  return Verdict::kAccept;
}

// RFC 5508 4.2: an error from outside about a packet we sent out through a
// mapping. The quote is that packet as translated: source the outside
// address and the mapping's external port (or echo identifier).
Verdict Napt::InboundIcmpError(Bytes& packet, std::size_t ihl, std::size_t total) {
  const std::size_t q = ihl + ip::IcmpMessage::kHeaderSize;
  Result<ip::Ipv4Packet> quoted =
      ip::ParseIpv4(ByteSpan(packet).subspan(q, total - q), {.verify_checksum = false,
                                                              .allow_truncated = true});
  if (!quoted.ok()) return Unmatched();
  const ip::Ipv4Header qh = quoted->header;
  const std::size_t qt = q + qh.header_length();  // quoted transport header
  if (qt > total) return Unmatched();
  const std::size_t qavail = total - qt;  // quoted transport bytes present
  if (qh.src != outside_address_ || qh.fragment_offset != 0) return Unmatched();
  Mapping* m = nullptr;
  Ipv4Endpoint remote{qh.dst, 0};
  std::optional<std::size_t> port_off, cks_off;
  bool cks_udp = false;
  switch (qh.protocol) {
    case ip::kProtoUdp:
      if (qavail < 4) return Unmatched();
      remote.port = LoadU16(packet, qt + kUdpDstPort);
      port_off = qt + kUdpSrcPort;
      if (qavail >= 8) {
        cks_off = qt + kUdpChecksum;
        cks_udp = true;
      }
      m = FindByExternal({ip::kProtoUdp, LoadU16(packet, *port_off), Ipv4Address::Any()});
      break;
    case ip::kProtoIcmp:
      if (qavail < ip::IcmpMessage::kHeaderSize || packet[qt] != ip::kIcmpEchoRequest) {
        return Unmatched();
      }
      port_off = qt + kIcmpEchoId;
      cks_off = qt + kIcmpChecksum;
      m = FindByExternal({ip::kProtoIcmp, LoadU16(packet, *port_off), Ipv4Address::Any()});
      break;
    case ip::kProtoTcp:
      return Unmatched();
    default:
      m = FindByExternal({qh.protocol, 0, qh.dst});
      break;
  }
  if (!m) return Unmatched();
  if (!Permits(*m, remote, sim_.now())) {
    ++counters_.dropped_filtered;
    return Verdict::kDrop;
  }
  ChecksumField ipc(packet, kIpChecksum, false);
  RewriteQuoted(packet, ihl, q + kIpSrc, m->internal, port_off, cks_off, cks_udp);
  SetAddress(packet, kIpDst, m->internal.address, {&ipc});
  ipc.Commit();
  ++counters_.translated_in;
  ++counters_.icmp_errors_translated;
  return Verdict::kAccept;
}

// RFC 5508 4.1: an error going out about a packet that came in through a
// mapping. The quote is that packet as the inside saw it: destination the
// internal endpoint; it must read as the remote sent it.
Verdict Napt::OutboundIcmpError(Bytes& packet, std::size_t ihl, std::size_t total,
                                bool rewrite_outer_source) {
  auto no_mapping = [&] {
    if (!rewrite_outer_source) return Verdict::kAccept;  // the node's own, about its own
    ++counters_.dropped_unsupported;
    return Verdict::kDrop;
  };
  const std::size_t q = ihl + ip::IcmpMessage::kHeaderSize;
  Result<ip::Ipv4Packet> quoted =
      ip::ParseIpv4(ByteSpan(packet).subspan(q, total - q), {.verify_checksum = false,
                                                              .allow_truncated = true});
  if (!quoted.ok()) return no_mapping();
  const ip::Ipv4Header qh = quoted->header;
  const std::size_t qt = q + qh.header_length();
  if (qt > total) return no_mapping();
  const std::size_t qavail = total - qt;
  if (qh.fragment_offset != 0) return no_mapping();
  Mapping* m = nullptr;
  std::optional<std::size_t> port_off, cks_off;
  bool cks_udp = false;
  switch (qh.protocol) {
    case ip::kProtoUdp:
      if (qavail < 4) return no_mapping();
      port_off = qt + kUdpDstPort;
      if (qavail >= 8) {
        cks_off = qt + kUdpChecksum;
        cks_udp = true;
      }
      m = FindByKey(KeyFor(ip::kProtoUdp, {qh.dst, LoadU16(packet, *port_off)},
                           {qh.src, LoadU16(packet, qt + kUdpSrcPort)}));
      break;
    case ip::kProtoIcmp:
      // An error about an echo reply we forwarded inside (e.g. its TTL ran out).
      if (qavail < ip::IcmpMessage::kHeaderSize || packet[qt] != ip::kIcmpEchoReply) {
        return no_mapping();
      }
      port_off = qt + kIcmpEchoId;
      cks_off = qt + kIcmpChecksum;
      m = FindByKey(KeyFor(ip::kProtoIcmp, {qh.dst, LoadU16(packet, *port_off)}, {qh.src, 0}));
      break;
    case ip::kProtoTcp:
      return no_mapping();
    default:
      m = FindByKey(KeyFor(qh.protocol, {qh.dst, 0}, {qh.src, 0}));
      break;
  }
  if (!m) return no_mapping();
  ChecksumField ipc(packet, kIpChecksum, false);
  RewriteQuoted(packet, ihl, q + kIpDst, m->external, port_off, cks_off, cks_udp);
  if (rewrite_outer_source) {
    SetAddress(packet, kIpSrc, outside_address_, {&ipc});
    ipc.Commit();
  }
  ++counters_.translated_out;
  ++counters_.icmp_errors_translated;
  return Verdict::kAccept;
}

}  // namespace mipsec::sim

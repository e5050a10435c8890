#include "mip4/mn_reg/agent_discovery.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/ip/icmp.h"
#include "common/ip/ipv4.h"
#include "mip4/codec/agent_solicitation.h"
#include "mip4/codec/extension.h"

namespace mipsec::mip4 {

Status AgentDiscoveryConfig::Validate() const {
  if (initial_solicitations < 0) {
    return Error(Errc::kInvalidArgument, "initial_solicitations: must be >= 0");
  }
  if (initial_interval <= Duration::Zero()) {
    return Error(Errc::kInvalidArgument, "initial_interval: must be positive");
  }
  if (max_interval < initial_interval) {
    return Error(Errc::kInvalidArgument, "max_interval: must be >= initial_interval");
  }
  if (!(jitter >= 0.0 && jitter < 1.0)) {
    return Error(Errc::kInvalidArgument, "jitter: must be in [0, 1)");
  }
  return Ok{};
}

std::optional<Ipv4Address> AgentInfo::FirstCareOf() const {
  if (advertisement.mobility.care_of_addresses.empty()) return std::nullopt;
  return advertisement.mobility.care_of_addresses.front();
}

std::optional<Ipv4Prefix> AgentInfo::AdvertisedPrefix() const {
  if (!advertisement.prefix_lengths || advertisement.prefix_lengths->empty() ||
      advertisement.routers.empty()) {
    return std::nullopt;
  }
  Result<Ipv4Prefix> p = Ipv4Prefix::FromAddressAndLength(advertisement.routers.front().address,
                                                         advertisement.prefix_lengths->front());
  if (!p.ok()) return std::nullopt;
  return *p;
}

AgentDiscovery::AgentDiscovery(const AgentDiscoveryConfig& config, Ipv4Address home_agent,
                               RandomSource& random, Logger log)
    : config_(config), home_agent_(home_agent), random_(random), log_(std::move(log)),
      solicit_interval_(config.initial_interval) {}

Status AgentDiscovery::Drop(AdvertisementDrop why, Error e) {
  ++counters_.dropped[static_cast<std::size_t>(why)];
  MIPSEC_LOG(log_, kDebug) << "agent advertisement dropped: " << e.ToString();
  return e;
}

const AgentInfo* AgentDiscovery::Find(int ifindex, Ipv4Address address) const {
  for (const AgentInfo& a : agents_) {
    if (a.ifindex == ifindex && a.address == address) return &a;
  }
  return nullptr;
}

Status AgentDiscovery::OnAdvertisementPacket(Timestamp now, int ifindex, ByteSpan ip_packet) {
  Result<ip::Ipv4Packet> ipr = ip::ParseIpv4(ip_packet);
  if (!ipr.ok()) return Drop(AdvertisementDrop::kMalformed, ipr.error().WithContext("ipv4"));
  const ip::Ipv4Header& h = ipr->header;
  if (h.protocol != ip::kProtoIcmp || h.IsFragment()) {
    return Drop(AdvertisementDrop::kMalformed,
                Error(Errc::kMalformed, "not an unfragmented ICMP datagram"));
  }
  // RFC 5944 2.1: the IP TTL of an Agent Advertisement MUST be 1.
  if (h.ttl != 1) {
    return Drop(AdvertisementDrop::kBadTtl,
                Error(Errc::kMalformed, "advertisement IP TTL " + std::to_string(h.ttl) +
                                            " is not 1 (RFC 5944 2.1)"));
  }
  Result<ParsedAgentAdvertisement> adv = ParseAgentAdvertisement(ipr->payload);
  if (!adv.ok()) {
    if (IsUnrecognizedExtension(adv.error())) {
      return Drop(AdvertisementDrop::kUnrecognized, adv.error());
    }
    return Drop(AdvertisementDrop::kMalformed, adv.error().WithContext("agent advertisement"));
  }
  if (std::optional<Violation> v = Validate(*adv)) {
    return Drop(AdvertisementDrop::kInvalid, v->ToError());
  }
  const AgentAdvertisement& a = adv->advertisement;
  ++counters_.advertisements;

  AgentInfo* existing = nullptr;
  for (AgentInfo& info : agents_) {
    if (info.ifindex == ifindex && info.address == h.src) existing = &info;
  }
  const bool is_new = existing == nullptr;
  if (is_new) {
    AgentInfo info;
    info.ifindex = ifindex;
    info.address = h.src;
    info.first_heard = now;
    agents_.push_back(std::move(info));
    existing = &agents_.back();
  } else {
    // RFC 5944 2.4.4: a sequence number that goes down into 0..255 means the
    // agent rebooted; one that goes down to 256 or more is a rollover.
    const std::uint16_t prev = existing->advertisement.mobility.sequence;
    if (a.mobility.sequence < prev && a.mobility.sequence <= 255) {
      ++counters_.reboots;
      events_.push_back(AgentRebootedEvent{ifindex, h.src});
      MIPSEC_LOG(log_, kInfo) << "agent " << h.src << " rebooted (sequence " << prev << " -> "
                              << a.mobility.sequence << ")";
    }
  }
  existing->advertisement = a;
  existing->last_heard = now;
  existing->expires_at = now + Duration::Seconds(a.lifetime);
  bool home = a.mobility.home_agent && h.src == home_agent_;
  for (const RouterAddress& r : a.routers) {
    if (a.mobility.home_agent && r.address == home_agent_) home = true;
  }
  existing->is_our_home_agent = home;

  AgentAdvertisedEvent ev;
  ev.agent = *existing;
  ev.new_agent = is_new;
  // RFC 5944 2.4.2.2: only when both advertisements carry Prefix-Lengths.
  if (reference_ && !(reference_->first == ifindex && reference_->second == h.src)) {
    if (const AgentInfo* ref = Find(reference_->first, reference_->second)) {
      std::optional<Ipv4Prefix> mine = ref->AdvertisedPrefix();
      std::optional<Ipv4Prefix> theirs = existing->AdvertisedPrefix();
      if (mine && theirs) ev.prefix_differs = !(*mine == *theirs);
    }
  }
  events_.push_back(std::move(ev));

  // RFC 5944 2.4: solicit only in the absence of advertisements.
  if (solicit_ifindex_ && *solicit_ifindex_ == ifindex) StopSolicitation();
  ArmExpiry();
  return Ok{};
}

void AgentDiscovery::StartSolicitation(Timestamp now, int ifindex, Ipv4Address source,
                                       bool new_link) {
  const bool restart = new_link || !solicit_ifindex_ || *solicit_ifindex_ != ifindex;
  solicit_source_ = source;
  if (!restart) return;  // 2.4: never raise the rate without a move
  solicit_ifindex_ = ifindex;
  solicitations_sent_ = 0;
  solicit_interval_ = config_.initial_interval;
  SendSolicitation(now);
}

void AgentDiscovery::StopSolicitation() {
  solicit_ifindex_.reset();
  timers_.Clear(Timer::kSolicit);
}

Duration AgentDiscovery::Jittered(Duration nominal) {
  if (config_.jitter <= 0.0) return nominal;
  // Uniform in [1 - jitter, 1 + jitter) of the nominal value (RFC 1256 6).
  const double f = 1.0 - config_.jitter + 2.0 * config_.jitter * random_.UnitDouble();
  return Duration::Nanos(static_cast<std::int64_t>(static_cast<double>(nominal.nanos()) * f));
}

void AgentDiscovery::SendSolicitation(Timestamp now) {
  if (!solicit_ifindex_) return;
  const Ipv4Address dst =
      config_.solicit_to_broadcast ? Ipv4Address::Broadcast() : Ipv4Address::AllMobilityAgents();
  Result<Bytes> pkt = BuildAgentSolicitationPacket(solicit_source_, dst, ip_id_++);
  if (pkt.ok()) {
    transmits_.push_back(IpTransmit{*solicit_ifindex_, std::nullopt, std::move(*pkt)});
    ++counters_.solicitations;
  }
  ++solicitations_sent_;
  // RFC 5944 2.4: the initial burst at up to one per second, then binary
  // exponential backoff up to the maximum interval.
  if (solicitations_sent_ >= config_.initial_solicitations) {
    solicit_interval_ = std::min(solicit_interval_ * 2, config_.max_interval);
  }
  timers_.Set(Timer::kSolicit, now + Jittered(solicit_interval_));
}

void AgentDiscovery::ArmExpiry() {
  Timestamp t = Timestamp::Infinite();
  for (const AgentInfo& a : agents_) t = std::min(t, a.expires_at);
  timers_.Set(Timer::kExpiry, t);
}

void AgentDiscovery::ForgetInterface(int ifindex) {
  std::erase_if(agents_, [&](const AgentInfo& a) { return a.ifindex == ifindex; });
  if (solicit_ifindex_ && *solicit_ifindex_ == ifindex) StopSolicitation();
  ArmExpiry();
}

void AgentDiscovery::OnTimeout(Timestamp now) {
  while (std::optional<Timer> t = timers_.PopExpired(now)) {
    switch (*t) {
      case Timer::kSolicit:
        SendSolicitation(now);
        break;
      case Timer::kExpiry: {
        // RFC 5944 2.4.2.1: no advertisement within the Lifetime -> lost.
        for (auto it = agents_.begin(); it != agents_.end();) {
          if (it->expires_at <= now) {
            const bool ref = reference_ && reference_->first == it->ifindex &&
                             reference_->second == it->address;
            events_.push_back(AgentLostEvent{it->ifindex, it->address, ref});
            ++counters_.agents_lost;
            MIPSEC_LOG(log_, kInfo) << "agent " << it->address << " lost (lifetime expired)";
            it = agents_.erase(it);
          } else {
            ++it;
          }
        }
        ArmExpiry();
        break;
      }
      case Timer::kCount:
        break;
    }
  }
}

std::optional<IpTransmit> AgentDiscovery::PollTransmit() {
  if (transmits_.empty()) return std::nullopt;
  IpTransmit t = std::move(transmits_.front());
  transmits_.pop_front();
  return t;
}

std::optional<AgentDiscoveryEvent> AgentDiscovery::PollEvent() {
  if (events_.empty()) return std::nullopt;
  AgentDiscoveryEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace mipsec::mip4

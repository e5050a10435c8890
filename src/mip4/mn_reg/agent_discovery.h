// Mobile-node side of Mobile IPv4 agent discovery (RFC 5944 2.4): the agents
// heard on each interface, their advertisement lifetimes (move detection,
// Algorithm 1 of 2.4.2.1), prefix comparison (Algorithm 2, 2.4.2.2), the
// sequence-number rule that reveals an agent reboot (2.4.4), and rate-limited
// Agent Solicitations (2.4).
//
// Sans-I/O and time-driven like every core (mip4/io.h): feed advertisements
// with OnAdvertisement(), drive OnTimeout(now) at NextTimeout(), drain
// PollTransmit() (solicitations, whole IPv4 datagrams with TTL 1) and
// PollEvent(). MobileNodeRegistration owns one and forwards to it; it can
// also be used alone.
//
// Solicitation schedule (2.4, RFC 1256 6): after StartSolicitation(new_link =
// true) the first solicitation goes out at once, then `initial_solicitations`
// - 1 more `initial_interval` apart; after that the interval doubles up to
// `max_interval` (SHOULD be at least one minute). Every interval is
// randomised by +-`jitter` (a fraction) from the injected RandomSource, as
// RFC 1256 requires of nominal values. Calling StartSolicitation(new_link =
// false) while soliciting never raises the rate (2.4 "MUST NOT increase the
// rate ... unless it has received a positive indication that it has moved").
// Solicitation stops as soon as any valid advertisement arrives on the
// soliciting interface (2.4: "only ... in the absence of Agent
// Advertisements").
//
// Validation of an advertisement before it changes anything: the IPv4
// datagram and ICMP checksum verify; IP TTL is 1 (2.1: "MUST be 1", so an
// off-link sender cannot inject one); the codec's Validate() passes (2.1-
// 2.1.2 field rules). Reserved bits are ignored (2.4: MUST NOT discard).
// Anything else is counted and dropped without a state change.
#ifndef MIPSEC_MIP4_MN_REG_AGENT_DISCOVERY_H_
#define MIPSEC_MIP4_MN_REG_AGENT_DISCOVERY_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/log.h"
#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "common/timer_table.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/io.h"

namespace mipsec::mip4 {

struct AgentDiscoveryConfig {
  // RFC 5944 2.4: "MAY send three initial solicitations at a maximum rate of
  // one per second".
  int initial_solicitations = 3;
  Duration initial_interval = Duration::Seconds(1);
  // 2.4: the backoff ceiling "SHOULD be at least one minute".
  Duration max_interval = Duration::Seconds(60);
  // +-fraction applied to every nominal interval (0 <= jitter < 1).
  double jitter = 0.25;
  // Destination of solicitations: 224.0.0.11 (All Mobility Agents, 2.2) by
  // default, or 255.255.255.255.
  bool solicit_to_broadcast = false;

  // kInvalidArgument naming the field.
  Status Validate() const;
};

// One agent as last heard (keyed by interface and IP source address).
struct AgentInfo {
  int ifindex = 0;
  // IP source of the advertisement: where Registration Requests go
  // (RFC 5944 3.6.1.1).
  Ipv4Address address;
  AgentAdvertisement advertisement;  // the latest one
  Timestamp first_heard;
  Timestamp last_heard;
  // last_heard + the ICMP Lifetime (2.4.2.1).
  Timestamp expires_at;
  // The H flag with `address` (or one of its router addresses) being the
  // configured home agent: the MN is on its home link (2.4.3).
  bool is_our_home_agent = false;

  const MobilityAgentExtension& mobility() const { return advertisement.mobility; }
  bool is_foreign_agent() const { return advertisement.mobility.foreign_agent; }
  // The first advertised care-of address (2.4: "SHOULD pick the first").
  std::optional<Ipv4Address> FirstCareOf() const;
  // The subnet of router address 0, when a Prefix-Lengths extension gives
  // it (2.1.2); nullopt otherwise.
  std::optional<Ipv4Prefix> AdvertisedPrefix() const;
};

// A valid advertisement arrived.
struct AgentAdvertisedEvent {
  AgentInfo agent;
  bool new_agent = false;  // not heard before on this interface (or expired)
  // Algorithm 2 (2.4.2.2) against `reference` (see SetReferenceAgent):
  // true/false when both advertisements carry Prefix-Lengths, nullopt when
  // the method must not be used.
  std::optional<bool> prefix_differs;
};
// An agent's advertisement lifetime expired (2.4.2.1): lost contact.
struct AgentLostEvent {
  int ifindex = 0;
  Ipv4Address address;
  bool was_reference = false;  // the agent set with SetReferenceAgent
};
// The agent's sequence number fell back into 0..255 (2.4.4): it rebooted,
// and a mobile node registered through it SHOULD register again.
struct AgentRebootedEvent {
  int ifindex = 0;
  Ipv4Address address;
};
using AgentDiscoveryEvent = std::variant<AgentAdvertisedEvent, AgentLostEvent, AgentRebootedEvent>;

enum class AdvertisementDrop : std::uint8_t {
  kMalformed,     // IPv4 / ICMP / codec parse error, or not an advertisement
  kBadTtl,        // IP TTL not 1
  kInvalid,       // codec Validate() violation
  kUnrecognized,  // RFC 5944 1.8: unknown non-skippable extension
  kCount,
};

struct AgentDiscoveryCounters {
  std::uint64_t advertisements = 0;  // accepted
  std::uint64_t solicitations = 0;   // sent
  std::uint64_t agents_lost = 0;
  std::uint64_t reboots = 0;
  std::uint64_t dropped[static_cast<std::size_t>(AdvertisementDrop::kCount)] = {};
  std::uint64_t Dropped(AdvertisementDrop d) const {
    return dropped[static_cast<std::size_t>(d)];
  }
};

class AgentDiscovery {
 public:
  // `home_agent` recognises advertisements from the MN's own HA (2.4.3).
  // `random` must outlive this object.
  AgentDiscovery(const AgentDiscoveryConfig& config, Ipv4Address home_agent, RandomSource& random,
                 Logger log);

  // An ICMP Router Advertisement datagram (whole IPv4 packet) received on
  // `ifindex`. Non-advertisements and invalid ones are dropped (counted,
  // returned as an Error); nothing changes then.
  Status OnAdvertisementPacket(Timestamp now, int ifindex, ByteSpan ip_packet);

  // Starts (or continues) soliciting on `ifindex` from `source` (the MN's
  // address on that link, or 0.0.0.0). `new_link`: a positive indication of
  // a move (link up, new DHCP lease) that resets the rate to the initial
  // one. A different interface also restarts the schedule.
  void StartSolicitation(Timestamp now, int ifindex, Ipv4Address source, bool new_link);
  void StopSolicitation();
  bool soliciting() const { return solicit_ifindex_.has_value(); }

  // The agent move detection compares against (the FA the MN is registered
  // through); nullopt clears it.
  void SetReferenceAgent(std::optional<std::pair<int, Ipv4Address>> agent) {
    reference_ = agent;
  }

  // Forgets every agent heard on `ifindex` (link down) without events.
  void ForgetInterface(int ifindex);

  void OnTimeout(Timestamp now);
  Timestamp NextTimeout() const { return timers_.NextDeadline(); }
  std::optional<IpTransmit> PollTransmit();
  std::optional<AgentDiscoveryEvent> PollEvent();

  // Unexpired agents, in order of first hearing.
  const std::vector<AgentInfo>& agents() const { return agents_; }
  const AgentInfo* Find(int ifindex, Ipv4Address address) const;
  const AgentDiscoveryCounters& counters() const { return counters_; }
  void set_log_level(LogLevel level) { log_.set_min_level(level); }  // a reload

 private:
  enum class Timer { kSolicit, kExpiry, kCount };

  Status Drop(AdvertisementDrop why, Error e);
  void SendSolicitation(Timestamp now);
  Duration Jittered(Duration nominal);
  void ArmExpiry();

  AgentDiscoveryConfig config_;
  Ipv4Address home_agent_;
  RandomSource& random_;
  Logger log_;
  std::vector<AgentInfo> agents_;
  std::optional<std::pair<int, Ipv4Address>> reference_;
  std::optional<int> solicit_ifindex_;
  Ipv4Address solicit_source_;
  int solicitations_sent_ = 0;  // in the current schedule
  Duration solicit_interval_;
  std::uint16_t ip_id_ = 0;
  TimerTable<Timer> timers_;
  std::deque<IpTransmit> transmits_;
  std::deque<AgentDiscoveryEvent> events_;
  AgentDiscoveryCounters counters_;
};

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_MN_REG_AGENT_DISCOVERY_H_

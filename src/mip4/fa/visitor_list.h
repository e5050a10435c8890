// VisitorList: the foreign agent's table of mobile nodes it serves (RFC 5944
// 3.7.1), each entry with an optional active registration and an optional
// pending request recorded "as a separate part of the existing visitor list
// entry" (3.7.2), so that a re-registration or a deregistration in flight
// never disturbs the registration in force until the home agent accepts it.
//
// Entries are keyed by (home address, NAI). A request with Home Address
// 0.0.0.0 (RFC 2794 3) is kept under (0.0.0.0, NAI) while pending and moves
// to (assigned home address, NAI) when the home agent accepts it. Two mobile
// nodes may share a (private) home address when their NAIs differ (3.7.3.1);
// the data plane then tells them apart by their home agent.
//
// Each entry has one deadline, the earlier of its pending request's timeout
// and its active registration's expiry; the list keeps an ordered index of
// them so NextDeadline() is O(1) and expiry O(log n). Call Update() after
// changing an entry's pending or active part: it re-indexes the deadline and
// the counts. Pointers to entries stay valid until the entry is erased or
// re-keyed. Not thread-safe.
#ifndef MIPSEC_MIP4_FA_VISITOR_LIST_H_
#define MIPSEC_MIP4_FA_VISITOR_LIST_H_

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/ip/address.h"
#include "common/time.h"
#include "mip4/codec/registration_request.h"

namespace mipsec::mip4 {

struct VisitorKey {
  Ipv4Address home_address;  // 0.0.0.0 only while an NAI request is pending
  std::string nai;           // empty: the request had no NAI extension

  auto operator<=>(const VisitorKey&) const = default;
  // "10.10.0.5" or "10.10.0.5 (mn@example.org)".
  std::string ToString() const;
};

// A Registration Request relayed to the home agent, awaiting its reply
// (RFC 5944 3.7.1: the fields the FA must remember).
struct PendingRegistration {
  RegistrationRequest request;   // the fixed part as received
  int ifindex = 0;               // the served link it arrived on
  Ipv4Endpoint mn_source;        // IP source address and UDP source port
  Ipv4Address mn_destination;    // the IP destination the MN used
  Ipv4Address relay_source;      // the care-of address the relay was sent from
  std::optional<std::uint32_t> mn_fa_spi;  // MN-FA SA used (reply gets MN-FA)
  bool encapsulating_delivery = false;     // RFC 3024 3.3 extension present
  bool udp_tunnel_requested = false;       // the FA appended a UDP Tunnel Request
  bool fa_ha_authenticated = false;        // the FA appended FA-HA
  Timestamp relayed;
  Timestamp deadline;  // RFC 5944 3.7.1 / 3.7.2.2
};

// A registration the home agent accepted (RFC 5944 3.7.3.2).
struct ActiveRegistration {
  Ipv4Address home_agent;
  Ipv4Address care_of_address;
  int ifindex = 0;
  Ipv4Endpoint mn_source;
  bool colocated = false;               // 'D': the FA only relayed (RFC 5944 2.1.1 'R')
  bool reverse_tunnel = false;          // 'T' granted (RFC 3024)
  bool encapsulating_delivery = false;  // RFC 3024 5.2, else direct delivery 5.1
  bool udp_tunnel = false;              // RFC 3519: HA assented to UDP tunnelling
  std::uint16_t keepalive_interval = 0; // seconds, RFC 3519 4.9 (udp_tunnel only)
  std::uint16_t granted_lifetime = 0;   // after the FA's own cap
  std::optional<std::uint32_t> mn_fa_spi;
  Timestamp expires;                    // Infinite for 0xffff
};

struct Visitor {
  VisitorKey key;
  std::optional<ActiveRegistration> active;
  std::optional<PendingRegistration> pending;

  // The earlier of the pending deadline and the active expiry.
  Timestamp Deadline() const;

 private:
  friend class VisitorList;
  Timestamp indexed_ = Timestamp::Infinite();
  bool counted_pending_ = false;
  bool counted_active_ = false;
};

class VisitorList {
 public:
  Visitor* Find(const VisitorKey& key);
  const Visitor* Find(const VisitorKey& key) const;
  // Every entry whose key has `home` as home address (any NAI), key order.
  std::vector<Visitor*> FindByHome(Ipv4Address home);
  // Creates an empty entry (neither part) or returns the existing one.
  Visitor& FindOrInsert(const VisitorKey& key);
  // Moves an entry to another key (RFC 2794: the assigned home address).
  // When `to` exists it is replaced. Returns the entry at its new place.
  Visitor& Rekey(const VisitorKey& from, const VisitorKey& to);
  void Erase(const VisitorKey& key);

  // Re-indexes `v` after its parts changed.
  void Update(Visitor& v);

  // The earliest entry deadline, or Infinite.
  Timestamp NextDeadline() const;
  // An entry whose deadline is <= now (the earliest), or nullptr. The caller
  // must change it (and Update() it) or Erase() it before calling again.
  Visitor* Expired(Timestamp now);

  std::size_t size() const { return entries_.size(); }
  std::size_t pending_count() const { return pending_; }
  std::size_t active_count() const { return active_; }
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& [k, v] : entries_) f(v);
  }

 private:
  void Unindex(Visitor& v);

  std::map<VisitorKey, Visitor> entries_;
  std::set<std::pair<Timestamp, VisitorKey>> deadlines_;
  std::size_t pending_ = 0;
  std::size_t active_ = 0;
};

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_FA_VISITOR_LIST_H_

// BindingCache: the home agent's mobility binding list (RFC 5944 3.8.1),
// built for a million bindings and hundreds of thousands of updates a
// second on one core.
//
// Layout (about 60 bytes per binding at 1,000,000 bindings):
//   records   one 48-byte BindingRecord per (home address, care-of address)
//             binding in a flat vector, reused through a free list. The
//             simultaneous bindings of one mobile node (RFC 5944 3.8.2.2 'S')
//             are chained through `next_in_mn`.
//   index     an open-addressing hash table (linear probing, backward-shift
//             deletion, load <= 1/2) from home address to the first record
//             of that mobile node's chain: 8 bytes a slot.
//   expiry    a timer wheel of 65,536 one-second slots (RFC 5944 lifetimes
//             are at most 65,534 s; 65,535 = infinity never expires). Each
//             slot is an intrusive doubly linked list through the records,
//             plus a lower bound of its earliest deadline and a bit in a
//             two-level bitmap, so NextExpiry() is a few word scans and
//             ExpireUpTo() touches only slots that hold deadlines.
//
// Deadlines are exact (nanoseconds): a binding expires when `now` reaches
// its deadline, not at a slot boundary. The wheel assumes the driver calls
// ExpireUpTo() at least once every 65,536 s (18 h): with a longer gap
// NextExpiry() may report a later slot first, which only delays expiry.
//
// Indices stay valid until the record is removed. Not thread-safe.
#ifndef MIPSEC_MIP4_HA_BINDING_CACHE_H_
#define MIPSEC_MIP4_HA_BINDING_CACHE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/ip/address.h"
#include "common/time.h"
#include "mip4/io.h"

namespace mipsec::mip4 {

// How the home agent reaches a care-of address.
// TunnelEncapsulation (mip4/io.h): the HA only ever stores kIpInIp or kUdp.

struct BindingRecord {
  static constexpr std::uint32_t kNil = 0xffffffffu;

  // `flags` bits.
  static constexpr std::uint8_t kReverseTunnel = 1u << 0;  // 'T' granted (RFC 3024)
  static constexpr std::uint8_t kUdpTunnel = 1u << 1;      // RFC 3519 tunnelling in force
  static constexpr std::uint8_t kUdpForced = 1u << 2;      // the request had 'F'
  static constexpr std::uint8_t kHalfBound = 1u << 3;      // RFC 3519 4.6 'R': port not yet known
  static constexpr std::uint8_t kDecapsulationByMn = 1u << 4;  // 'D': co-located care-of address
  static constexpr std::uint8_t kInWheel = 1u << 7;        // internal: linked into the wheel

  std::uint32_t home_address = 0;     // host order; 0 marks a free record
  std::uint32_t care_of_address = 0;  // as registered
  std::uint32_t tunnel_address = 0;   // outer destination (the NAT'd source for UDP)
  std::uint16_t tunnel_port = 0;      // UDP tunnel: the peer's port; 0 for IP-in-IP
  std::uint16_t granted_lifetime = 0;  // seconds, as in the Reply (0xffff: infinite)
  std::uint8_t flags = 0;
  std::uint8_t reserved0 = 0;
  std::uint16_t reserved1 = 0;
  std::uint32_t next_in_mn = kNil;
  std::uint32_t wheel_prev = kNil;
  std::uint32_t wheel_next = kNil;
  std::int64_t expires_ns = 0;      // Timestamp nanos; INT64_MAX: never
  std::uint64_t identification = 0;  // of the accepted Request (RFC 5944 3.8.1)

  Ipv4Address home() const { return Ipv4Address::FromHostOrder(home_address); }
  Ipv4Address care_of() const { return Ipv4Address::FromHostOrder(care_of_address); }
  Ipv4Address tunnel_destination() const { return Ipv4Address::FromHostOrder(tunnel_address); }
  TunnelEncapsulation encapsulation() const {
    return (flags & kUdpTunnel) ? TunnelEncapsulation::kUdp : TunnelEncapsulation::kIpInIp;
  }
  Timestamp expires() const { return Timestamp::FromNanos(expires_ns); }
};
static_assert(sizeof(BindingRecord) == 48, "BindingRecord is meant to stay compact");

class BindingCache {
 public:
  static constexpr std::uint32_t kNil = BindingRecord::kNil;
  static constexpr std::size_t kWheelSlots = 65536;

  // `expected_bindings` presizes the record vector and the index.
  explicit BindingCache(std::size_t expected_bindings = 0);
  BindingCache(const BindingCache&) = delete;
  BindingCache& operator=(const BindingCache&) = delete;

  // The first record of `home`'s chain, or kNil.
  std::uint32_t Head(Ipv4Address home) const;
  BindingRecord& operator[](std::uint32_t i) { return records_[i]; }
  const BindingRecord& operator[](std::uint32_t i) const { return records_[i]; }

  // Adds a binding with the given fields (home_address must be non-zero;
  // expires_ns INT64_MAX = never) at the end of its mobile node's chain.
  // Returns its index.
  std::uint32_t Add(const BindingRecord& fields);
  // Unlinks and frees record `i` (from its chain, the wheel, and the index
  // when it was the mobile node's last binding).
  void Remove(std::uint32_t i);
  // Removes every binding of `home`; returns how many.
  std::size_t RemoveAll(Ipv4Address home);
  // Moves record `i` to a new deadline (Timestamp::Infinite(): never).
  void SetExpiry(std::uint32_t i, Timestamp expires);

  // Calls on_expired(index) for each record whose deadline is <= now, after
  // unlinking it from the wheel. The callback may Remove(index) (and only
  // that record). Order is deterministic: by deadline second, then by
  // insertion into that second's slot.
  template <typename F>
  void ExpireUpTo(Timestamp now, F&& on_expired);

  // The earliest deadline (possibly earlier than the true one after
  // removals: a spurious wake-up recomputes it), or Timestamp::Infinite().
  Timestamp NextExpiry() const;

  std::size_t size() const { return size_; }
  std::size_t mobile_node_count() const { return index_count_; }
  // Calls f(home) once for every home address with a binding, in the
  // index's (hash) order: for queries (the control socket), not for the
  // hot path.
  template <typename F>
  void ForEachHome(F&& f) const {
    for (const Slot& s : index_) {
      if (s.key != 0) f(Ipv4Address::FromHostOrder(s.key));
    }
  }
  // Bytes held by the records, index and wheel (capacity, not just use).
  std::size_t MemoryBytes() const;

 private:
  struct Slot {
    std::uint32_t key;  // home address, 0 = empty
    std::uint32_t head;
  };

  std::size_t FindSlot(std::uint32_t key) const;  // index of key's slot or of the empty slot
  void IndexInsert(std::uint32_t key, std::uint32_t head);
  void IndexErase(std::uint32_t key);
  void IndexSetHead(std::uint32_t key, std::uint32_t head);
  void Grow();
  std::size_t Home(std::uint32_t key) const {
    return static_cast<std::size_t>((key * 0x9e3779b1u) >> shift_) & mask_;
  }

  void WheelLink(std::uint32_t i);
  void WheelUnlink(std::uint32_t i);
  static std::size_t SlotOf(std::int64_t ns) {
    return static_cast<std::size_t>(ns / 1'000'000'000) & (kWheelSlots - 1);
  }
  void SetBit(std::size_t slot);
  void ClearBit(std::size_t slot);
  // First non-empty slot at or after `from` (circular), or kWheelSlots.
  std::size_t NextNonEmpty(std::size_t from) const;
  void RecomputeSlotMin(std::size_t slot);

  std::vector<BindingRecord> records_;
  std::uint32_t free_head_ = kNil;
  std::size_t size_ = 0;

  std::vector<Slot> index_;
  std::size_t mask_ = 0;
  unsigned shift_ = 0;
  std::size_t index_count_ = 0;

  std::vector<std::uint32_t> wheel_head_;  // kNil: empty; list is circular via wheel_prev
  std::vector<std::int64_t> wheel_min_;    // lower bound of the slot's deadlines
  std::array<std::uint64_t, kWheelSlots / 64> bits_{};
  std::array<std::uint64_t, kWheelSlots / 64 / 64> summary_{};
  // Seconds: every deadline before this second has fired. INT64_MAX until
  // the first deadline is set; lowered when an earlier deadline is linked.
  std::int64_t cursor_sec_ = std::numeric_limits<std::int64_t>::max();
};

template <typename F>
void BindingCache::ExpireUpTo(Timestamp now, F&& on_expired) {
  const std::int64_t now_ns = now.nanos();
  const std::int64_t now_sec = now_ns / 1'000'000'000;
  std::int64_t sec = cursor_sec_;
  std::size_t visited = 0;
  while (sec <= now_sec && visited < kWheelSlots) {
    const std::size_t start = static_cast<std::size_t>(sec) & (kWheelSlots - 1);
    std::size_t slot = NextNonEmpty(start);
    if (slot == kWheelSlots) break;
    const std::size_t skip = (slot - start) & (kWheelSlots - 1);
    if (static_cast<std::int64_t>(skip) > now_sec - sec) break;  // next deadline is later
    sec += static_cast<std::int64_t>(skip);
    visited += skip + 1;
    if (wheel_min_[slot] <= now_ns) {
      std::uint32_t i = wheel_head_[slot];
      std::uint32_t last = records_[i].wheel_prev;
      while (true) {
        const std::uint32_t next = records_[i].wheel_next;
        const bool at_end = (i == last);
        if (records_[i].expires_ns <= now_ns) {
          WheelUnlink(i);
          on_expired(i);
        }
        if (at_end || wheel_head_[slot] == kNil) break;
        i = next;
      }
      RecomputeSlotMin(slot);
    }
    if (sec == now_sec) break;
    ++sec;
  }
  cursor_sec_ = now_sec;
}

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_HA_BINDING_CACHE_H_

#include "mip4/ha/binding_cache.h"

#include <bit>
#include <limits>

#include "common/bug.h"

namespace mipsec::mip4 {

namespace {
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
constexpr std::size_t kMinIndex = 16;
}  // namespace

BindingCache::BindingCache(std::size_t expected_bindings)
    : wheel_head_(kWheelSlots, kNil), wheel_min_(kWheelSlots, kNever) {
  std::size_t cap = kMinIndex;
  while (cap < expected_bindings * 2) cap <<= 1;
  index_.assign(cap, Slot{0, kNil});
  mask_ = cap - 1;
  shift_ = 32 - static_cast<unsigned>(std::countr_zero(cap));
  records_.reserve(expected_bindings);
}

std::size_t BindingCache::FindSlot(std::uint32_t key) const {
  std::size_t i = Home(key);
  while (index_[i].key != 0 && index_[i].key != key) i = (i + 1) & mask_;
  return i;
}

std::uint32_t BindingCache::Head(Ipv4Address home) const {
  const std::uint32_t key = home.ToHostOrder();
  if (key == 0) return kNil;
  const Slot& s = index_[FindSlot(key)];
  return s.key == key ? s.head : kNil;
}

void BindingCache::Grow() {
  std::vector<Slot> old = std::move(index_);
  const std::size_t cap = old.size() * 2;
  index_.assign(cap, Slot{0, kNil});
  mask_ = cap - 1;
  shift_ = 32 - static_cast<unsigned>(std::countr_zero(cap));
  for (const Slot& s : old) {
    if (s.key != 0) index_[FindSlot(s.key)] = s;
  }
}

void BindingCache::IndexInsert(std::uint32_t key, std::uint32_t head) {
  if ((index_count_ + 1) * 2 > index_.size()) Grow();
  const std::size_t i = FindSlot(key);
  MIPSEC_BUG_IF(index_[i].key == key, "BindingCache: home address indexed twice");
  index_[i] = Slot{key, head};
  ++index_count_;
}

void BindingCache::IndexSetHead(std::uint32_t key, std::uint32_t head) {
  Slot& s = index_[FindSlot(key)];
  if (MIPSEC_BUG_IF(s.key != key, "BindingCache: home address not indexed")) return;
  s.head = head;
}

// Linear probing with backward-shift deletion: no tombstones, so lookups
// never slow down after churn.
void BindingCache::IndexErase(std::uint32_t key) {
  std::size_t i = FindSlot(key);
  if (MIPSEC_BUG_IF(index_[i].key != key, "BindingCache: erasing an absent home address")) return;
  std::size_t j = i;
  while (true) {
    j = (j + 1) & mask_;
    if (index_[j].key == 0) break;
    const std::size_t home = Home(index_[j].key);
    // Move j back to the hole at i unless its home lies cyclically in (i, j].
    const bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) {
      index_[i] = index_[j];
      i = j;
    }
  }
  index_[i] = Slot{0, kNil};
  --index_count_;
}

std::uint32_t BindingCache::Add(const BindingRecord& fields) {
  MIPSEC_BUG_IF(fields.home_address == 0, "BindingCache::Add: home address 0");
  std::uint32_t i;
  if (free_head_ != kNil) {
    i = free_head_;
    free_head_ = records_[i].next_in_mn;
  } else {
    i = static_cast<std::uint32_t>(records_.size());
    records_.emplace_back();
  }
  BindingRecord& r = records_[i];
  r = fields;
  r.flags &= static_cast<std::uint8_t>(~BindingRecord::kInWheel);
  r.next_in_mn = kNil;
  r.wheel_prev = r.wheel_next = kNil;
  ++size_;

  const std::uint32_t key = fields.home_address;
  const std::size_t slot = FindSlot(key);
  if (index_[slot].key == key) {
    std::uint32_t t = index_[slot].head;
    while (records_[t].next_in_mn != kNil) t = records_[t].next_in_mn;
    records_[t].next_in_mn = i;
  } else {
    IndexInsert(key, i);
  }
  if (r.expires_ns != kNever) WheelLink(i);
  return i;
}

void BindingCache::Remove(std::uint32_t i) {
  BindingRecord& r = records_[i];
  if (MIPSEC_BUG_IF(r.home_address == 0, "BindingCache::Remove: free record")) return;
  if (r.flags & BindingRecord::kInWheel) WheelUnlink(i);
  const std::uint32_t key = r.home_address;
  const std::uint32_t head = Head(Ipv4Address::FromHostOrder(key));
  if (head == i) {
    if (r.next_in_mn == kNil) {
      IndexErase(key);
    } else {
      IndexSetHead(key, r.next_in_mn);
    }
  } else {
    std::uint32_t p = head;
    while (p != kNil && records_[p].next_in_mn != i) p = records_[p].next_in_mn;
    if (!MIPSEC_BUG_IF(p == kNil, "BindingCache::Remove: record not in its chain")) {
      records_[p].next_in_mn = r.next_in_mn;
    }
  }
  r = BindingRecord{};
  r.next_in_mn = free_head_;
  free_head_ = i;
  --size_;
}

std::size_t BindingCache::RemoveAll(Ipv4Address home) {
  std::size_t n = 0;
  for (std::uint32_t i = Head(home); i != kNil; i = Head(home)) {
    Remove(i);
    ++n;
  }
  return n;
}

void BindingCache::SetExpiry(std::uint32_t i, Timestamp expires) {
  BindingRecord& r = records_[i];
  if (r.flags & BindingRecord::kInWheel) WheelUnlink(i);
  r.expires_ns = expires.nanos();
  if (r.expires_ns != kNever) WheelLink(i);
}

void BindingCache::SetBit(std::size_t slot) {
  bits_[slot / 64] |= std::uint64_t{1} << (slot % 64);
  summary_[slot / 4096] |= std::uint64_t{1} << ((slot / 64) % 64);
}

void BindingCache::ClearBit(std::size_t slot) {
  const std::size_t w = slot / 64;
  bits_[w] &= ~(std::uint64_t{1} << (slot % 64));
  if (bits_[w] == 0) summary_[w / 64] &= ~(std::uint64_t{1} << (w % 64));
}

std::size_t BindingCache::NextNonEmpty(std::size_t from) const {
  constexpr std::size_t kWords = kWheelSlots / 64;
  const std::size_t w0 = from / 64;
  const std::uint64_t here = bits_[w0] & (~std::uint64_t{0} << (from % 64));
  if (here != 0) return w0 * 64 + static_cast<std::size_t>(std::countr_zero(here));
  // The first non-empty word in [lo, hi), skipping empty 64-word groups
  // through the summary; kWords if none.
  auto scan = [this](std::size_t lo, std::size_t hi) -> std::size_t {
    std::size_t w = lo;
    while (w < hi) {
      const std::size_t g = w / 64;
      const std::uint64_t group = summary_[g] & (~std::uint64_t{0} << (w % 64));
      if (group != 0) {
        const std::size_t nw = g * 64 + static_cast<std::size_t>(std::countr_zero(group));
        return nw < hi ? nw : kWords;
      }
      w = (g + 1) * 64;
    }
    return kWords;
  };
  std::size_t nw = scan(w0 + 1, kWords);
  // Wrapping around includes w0 itself: its bits before `from` come last.
  if (nw == kWords) nw = scan(0, w0 + 1);
  if (nw == kWords) return kWheelSlots;
  return nw * 64 + static_cast<std::size_t>(std::countr_zero(bits_[nw]));
}

void BindingCache::WheelLink(std::uint32_t i) {
  BindingRecord& r = records_[i];
  const std::size_t slot = SlotOf(r.expires_ns);
  const std::uint32_t head = wheel_head_[slot];
  if (head == kNil) {
    r.wheel_prev = r.wheel_next = i;
    wheel_head_[slot] = i;
    wheel_min_[slot] = r.expires_ns;
    SetBit(slot);
  } else {
    // Append at the tail: deadlines of equal lifetimes then stay in order.
    const std::uint32_t tail = records_[head].wheel_prev;
    r.wheel_prev = tail;
    r.wheel_next = head;
    records_[tail].wheel_next = i;
    records_[head].wheel_prev = i;
    if (r.expires_ns < wheel_min_[slot]) wheel_min_[slot] = r.expires_ns;
  }
  r.flags |= BindingRecord::kInWheel;
  const std::int64_t sec = r.expires_ns / 1'000'000'000;
  if (sec < cursor_sec_) cursor_sec_ = sec;
}

void BindingCache::WheelUnlink(std::uint32_t i) {
  BindingRecord& r = records_[i];
  const std::size_t slot = SlotOf(r.expires_ns);
  if (r.wheel_next == i) {
    wheel_head_[slot] = kNil;
    wheel_min_[slot] = kNever;
    ClearBit(slot);
  } else {
    records_[r.wheel_prev].wheel_next = r.wheel_next;
    records_[r.wheel_next].wheel_prev = r.wheel_prev;
    if (wheel_head_[slot] == i) wheel_head_[slot] = r.wheel_next;
    // wheel_min_ stays a lower bound; RecomputeSlotMin tightens it.
  }
  r.wheel_prev = r.wheel_next = kNil;
  r.flags &= static_cast<std::uint8_t>(~BindingRecord::kInWheel);
}

void BindingCache::RecomputeSlotMin(std::size_t slot) {
  const std::uint32_t head = wheel_head_[slot];
  if (head == kNil) {
    wheel_min_[slot] = kNever;
    return;
  }
  std::int64_t m = kNever;
  std::uint32_t i = head;
  do {
    if (records_[i].expires_ns < m) m = records_[i].expires_ns;
    i = records_[i].wheel_next;
  } while (i != head);
  wheel_min_[slot] = m;
}

Timestamp BindingCache::NextExpiry() const {
  if (cursor_sec_ == kNever) return Timestamp::Infinite();
  const std::size_t slot =
      NextNonEmpty(static_cast<std::size_t>(cursor_sec_) & (kWheelSlots - 1));
  if (slot == kWheelSlots) return Timestamp::Infinite();
  return Timestamp::FromNanos(wheel_min_[slot]);
}

std::size_t BindingCache::MemoryBytes() const {
  return records_.capacity() * sizeof(BindingRecord) + index_.capacity() * sizeof(Slot) +
         wheel_head_.capacity() * sizeof(std::uint32_t) +
         wheel_min_.capacity() * sizeof(std::int64_t) + sizeof(bits_) + sizeof(summary_);
}

}  // namespace mipsec::mip4

#include "ikev2/sa/tia_pool.h"

#include <iterator>
#include <string>
#include <utility>

namespace mipsec::ikev2 {

Result<TiaPool> TiaPool::FromRange(Ipv4Address first, Ipv4Address last) {
  const std::uint32_t f = first.ToHostOrder();
  const std::uint32_t l = last.ToHostOrder();
  if (f > l) {
    return Error(Errc::kInvalidArgument,
                 "empty range " + first.ToString() + "-" + last.ToString() + " (first > last)");
  }
  if (static_cast<std::uint64_t>(l - f) + 1 > kMaxSize) {
    return Error(Errc::kInvalidArgument, "range " + first.ToString() + "-" + last.ToString() +
                                             " has more than 2^24 addresses");
  }
  return TiaPool(f, l);
}

Result<TiaPool> TiaPool::FromPrefix(const Ipv4Prefix& prefix) {
  if (prefix.length() < 8) {
    return Error(Errc::kInvalidArgument,
                 prefix.ToString() + " is shorter than /8 (more than 2^24 addresses)");
  }
  std::uint32_t f = prefix.address().ToHostOrder();
  std::uint32_t l = prefix.Broadcast().ToHostOrder();
  if (prefix.length() <= 30) {  // a /31 (RFC 3021) and a /32 have no network/broadcast
    ++f;
    --l;
  }
  return TiaPool(f, l);
}

TiaPool::IdKey TiaPool::KeyOf(const IdPayload& id) {
  IdKey k;
  k.reserve(1 + id.data.size());
  k.push_back(static_cast<char>(id.type));
  for (std::uint8_t b : id.data) k.push_back(static_cast<char>(b));
  return k;
}

bool TiaPool::Contains(Ipv4Address a) const {
  const std::uint32_t v = a.ToHostOrder();
  return v >= first_ && v <= last_;
}

bool TiaPool::IsHeld(Ipv4Address a) const { return held_.count(a.ToHostOrder()) != 0; }

std::uint32_t TiaPool::References(Ipv4Address a) const {
  auto it = held_.find(a.ToHostOrder());
  return it == held_.end() ? 0 : it->second.refs;
}

std::optional<Ipv4Address> TiaPool::AddressOf(const IdPayload& peer_id) const {
  auto it = by_identity_.find(KeyOf(peer_id));
  if (it == by_identity_.end()) return std::nullopt;
  return Ipv4Address::FromHostOrder(it->second);
}

Ipv4Address TiaPool::Take(std::uint32_t a, const IdKey& key) {
  held_[a] = Held{key, 1};
  by_identity_[key] = a;
  ++stats_.acquired;
  return Ipv4Address::FromHostOrder(a);
}

void TiaPool::Forget(std::uint32_t a) {
  auto it = released_.find(a);
  if (it == released_.end()) return;
  auto owner = by_identity_.find(it->second.owner);
  if (owner != by_identity_.end() && owner->second == a) by_identity_.erase(owner);
  released_order_.erase(it->second.pos);
  released_.erase(it);
}

std::optional<std::uint32_t> TiaPool::NextFresh() {
  while (fresh_cursor_ < size()) {
    const std::uint32_t a = first_ + static_cast<std::uint32_t>(fresh_cursor_++);
    // Taken out of order earlier (requested): it is held or released, not
    // fresh; it never needs to be looked at again.
    if (used_ahead_.erase(a) != 0) continue;
    return a;
  }
  return std::nullopt;
}

std::optional<Ipv4Address> TiaPool::Acquire(const IdPayload& peer_id,
                                            std::optional<Ipv4Address> requested) {
  const IdKey key = KeyOf(peer_id);
  auto mine = by_identity_.find(key);
  // 1. Already held by this identity: share it.
  if (mine != by_identity_.end()) {
    auto h = held_.find(mine->second);
    if (h != held_.end()) {
      ++h->second.refs;
      ++stats_.acquired;
      return Ipv4Address::FromHostOrder(mine->second);
    }
  }
  // 2. The requested address, if free and not someone else's remembered one.
  if (requested && Contains(*requested)) {
    const std::uint32_t r = requested->ToHostOrder();
    if (held_.count(r) == 0) {
      auto rel = released_.find(r);
      if (rel != released_.end()) {
        if (rel->second.owner == key) {
          Forget(r);
          return Take(r, key);
        }
      } else {
        // Never used: mark it so the fresh cursor skips it later.
        if (r - first_ >= fresh_cursor_) used_ahead_.insert(r);
        // This identity's other remembered address (if any) is now stale.
        if (mine != by_identity_.end()) Forget(mine->second);
        return Take(r, key);
      }
    }
  }
  // 3. Sticky: this identity's previous address, still free.
  mine = by_identity_.find(key);
  if (mine != by_identity_.end()) {
    const std::uint32_t a = mine->second;
    Forget(a);
    return Take(a, key);
  }
  // 4. A never-used address, else the one released longest ago.
  if (std::optional<std::uint32_t> f = NextFresh()) return Take(*f, key);
  if (!released_order_.empty()) {
    const std::uint32_t a = released_order_.front();
    Forget(a);
    return Take(a, key);
  }
  ++stats_.exhausted;
  return std::nullopt;
}

void TiaPool::Release(const IdPayload& peer_id, Ipv4Address address) {
  const std::uint32_t a = address.ToHostOrder();
  auto h = held_.find(a);
  if (h == held_.end() || h->second.owner != KeyOf(peer_id)) {
    ++stats_.bad_releases;
    return;
  }
  if (--h->second.refs > 0) return;
  IdKey owner = std::move(h->second.owner);
  held_.erase(h);
  released_order_.push_back(a);
  released_[a] = Released{std::move(owner), std::prev(released_order_.end())};
  // by_identity_ still maps the owner to `a`: remembered (sticky).
}

}  // namespace mipsec::ikev2

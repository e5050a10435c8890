#include "mip4/fa/visitor_list.h"

#include <algorithm>

namespace mipsec::mip4 {

std::string VisitorKey::ToString() const {
  std::string s = home_address.ToString();
  if (!nai.empty()) s += " (" + nai + ")";
  return s;
}

Timestamp Visitor::Deadline() const {
  Timestamp t = Timestamp::Infinite();
  if (pending) t = std::min(t, pending->deadline);
  if (active) t = std::min(t, active->expires);
  return t;
}

Visitor* VisitorList::Find(const VisitorKey& key) {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

const Visitor* VisitorList::Find(const VisitorKey& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<Visitor*> VisitorList::FindByHome(Ipv4Address home) {
  std::vector<Visitor*> out;
  for (auto it = entries_.lower_bound(VisitorKey{home, ""});
       it != entries_.end() && it->first.home_address == home; ++it) {
    out.push_back(&it->second);
  }
  return out;
}

Visitor& VisitorList::FindOrInsert(const VisitorKey& key) {
  auto [it, inserted] = entries_.try_emplace(key);
  if (inserted) it->second.key = key;
  return it->second;
}

Visitor& VisitorList::Rekey(const VisitorKey& from, const VisitorKey& to) {
  auto it = entries_.find(from);
  if (from == to) return it->second;
  if (entries_.contains(to)) Erase(to);
  Visitor moved = std::move(it->second);
  Unindex(moved);
  entries_.erase(it);
  moved.key = to;
  auto [nit, inserted] = entries_.emplace(to, std::move(moved));
  (void)inserted;
  Update(nit->second);
  return nit->second;
}

void VisitorList::Erase(const VisitorKey& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Unindex(it->second);
  entries_.erase(it);
}

void VisitorList::Unindex(Visitor& v) {
  if (!v.indexed_.IsInfinite()) deadlines_.erase({v.indexed_, v.key});
  v.indexed_ = Timestamp::Infinite();
  if (v.counted_pending_) --pending_;
  if (v.counted_active_) --active_;
  v.counted_pending_ = v.counted_active_ = false;
}

void VisitorList::Update(Visitor& v) {
  Unindex(v);
  v.indexed_ = v.Deadline();
  if (!v.indexed_.IsInfinite()) deadlines_.insert({v.indexed_, v.key});
  v.counted_pending_ = v.pending.has_value();
  v.counted_active_ = v.active.has_value();
  if (v.counted_pending_) ++pending_;
  if (v.counted_active_) ++active_;
}

Timestamp VisitorList::NextDeadline() const {
  return deadlines_.empty() ? Timestamp::Infinite() : deadlines_.begin()->first;
}

Visitor* VisitorList::Expired(Timestamp now) {
  if (deadlines_.empty() || deadlines_.begin()->first > now) return nullptr;
  return Find(deadlines_.begin()->second);
}

}  // namespace mipsec::mip4

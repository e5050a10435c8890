// TiaPool: the VPN gateway's pool of tunnel inner addresses (TIAs, RFC 5266
// 3), handed to clients in CP(CFG_REPLY) INTERNAL_IP4_ADDRESS (RFC 7296
// 2.19) through the AddressProvider hook of the responder's PeerConfig.
// Sans-I/O and single-threaded (the IKE thread owns it).
//
// Addresses: a configured IPv4 range [first, last]. From a prefix, the
// network and broadcast addresses are excluded (a /31 keeps both of its
// addresses, a /32 its one); the range may be at most 2^24 addresses.
//
// Acquire(peer_id, requested), in this order:
//   1. `peer_id` holds an address (another IKE SA of the same identity, a
//      rekeyed IKE SA): that address, its reference count + 1;
//   2. `requested` is in the range and neither held nor remembered for a
//      different identity: `requested`;
//   3. `peer_id`'s previous address is still free (sticky: it is remembered
//      after its last Release until the pool has to give it to someone
//      else): that address;
//   4. a never-used address (lowest first), else the free address released
//      longest ago (its previous holder forgets it);
//   5. nullopt: every address is held (the responder then answers
//      INTERNAL_ADDRESS_FAILURE).
// Identities are compared as (ID type, data) bytes: fqdn:a and email:a differ.
//
// Release(peer_id, address) drops one reference; at zero the address becomes
// free (and stays remembered for `peer_id`). A Release that does not match a
// held address of `peer_id` changes nothing and is counted in
// stats().bad_releases (a runtime bug or a double release).
//
// Cost: O(1) expected per operation (hash maps, one intrusive list in
// release order); memory O(addresses held or remembered), independent of
// the range size.
#ifndef MIPSEC_IKEV2_SA_TIA_POOL_H_
#define MIPSEC_IKEV2_SA_TIA_POOL_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/ip/address.h"
#include "common/result.h"
#include "ikev2/codec/id_payload.h"
#include "ikev2/sa/config.h"

namespace mipsec::ikev2 {

struct TiaPoolStats {
  std::uint64_t acquired = 0;       // successful Acquire() calls
  std::uint64_t exhausted = 0;      // Acquire() calls that returned nullopt
  std::uint64_t bad_releases = 0;   // Release() calls that matched nothing
};

class TiaPool : public AddressProvider {
 public:
  // Largest range accepted (a /8).
  static constexpr std::uint32_t kMaxSize = 1u << 24;

  // [first, last] inclusive. kInvalidArgument if first > last or the range
  // exceeds kMaxSize.
  static Result<TiaPool> FromRange(Ipv4Address first, Ipv4Address last);
  // The host addresses of `prefix` (see above). kInvalidArgument if shorter
  // than /8.
  static Result<TiaPool> FromPrefix(const Ipv4Prefix& prefix);

  TiaPool(TiaPool&&) = default;
  TiaPool& operator=(TiaPool&&) = default;

  std::optional<Ipv4Address> Acquire(const IdPayload& peer_id,
                                     std::optional<Ipv4Address> requested) override;
  void Release(const IdPayload& peer_id, Ipv4Address address) override;

  Ipv4Address first() const { return Ipv4Address::FromHostOrder(first_); }
  Ipv4Address last() const { return Ipv4Address::FromHostOrder(last_); }
  bool Contains(Ipv4Address a) const;
  // Number of addresses in the range.
  std::size_t size() const { return static_cast<std::size_t>(last_ - first_) + 1; }
  // Addresses held (reference count > 0).
  std::size_t in_use() const { return held_.size(); }
  std::size_t available() const { return size() - in_use(); }
  bool IsHeld(Ipv4Address a) const;
  // References to a held address (IKE SAs using it); 0 when free.
  std::uint32_t References(Ipv4Address a) const;
  // The address `peer_id` holds now, or else the free address remembered
  // for it (what it would get back); nullopt if none.
  std::optional<Ipv4Address> AddressOf(const IdPayload& peer_id) const;
  const TiaPoolStats& stats() const { return stats_; }

 private:
  using IdKey = std::string;  // ID type byte + ID data
  static IdKey KeyOf(const IdPayload& id);

  struct Held {
    IdKey owner;
    std::uint32_t refs = 0;
  };
  struct Released {
    IdKey owner;  // remembered for this identity
    std::list<std::uint32_t>::iterator pos;  // in released_order_
  };

  TiaPool(std::uint32_t first, std::uint32_t last) : first_(first), last_(last) {}
  // Marks the free address `a` held by `key` (1 reference).
  Ipv4Address Take(std::uint32_t a, const IdKey& key);
  // Removes `a` from the released list and from its owner's memory.
  void Forget(std::uint32_t a);
  // Next never-used address, skipping those taken out of order; nullopt when
  // all have been used once.
  std::optional<std::uint32_t> NextFresh();

  std::uint32_t first_;
  std::uint32_t last_;
  // Addresses below this were all used at least once; addresses at or above
  // it that were taken out of order (requested) are in used_ahead_.
  std::uint64_t fresh_cursor_ = 0;  // offset from first_
  std::unordered_set<std::uint32_t> used_ahead_;
  std::unordered_map<std::uint32_t, Held> held_;
  std::unordered_map<std::uint32_t, Released> released_;
  std::list<std::uint32_t> released_order_;  // oldest release first
  // Identity -> its held or remembered address.
  std::unordered_map<IdKey, std::uint32_t> by_identity_;
  TiaPoolStats stats_;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_SA_TIA_POOL_H_

// SaDatabase: the Mobility Security Associations an agent holds (RFC 5944
// 3.2, 3.5.4, 3.8.1), with O(1) lookups for the registration fast path.
//
//   mobile nodes   identified by home address and/or NAI (RFC 2794), each
//                  with one or more SAs selected by SPI and the HA's
//                  per-MN replay state (replay.h). The FA uses the same
//                  table for optional MN-FA SAs.
//   peers          FA-HA SAs keyed by the peer agent's address and the SPI
//                  (3.5.4: the HA selects by the request's source address
//                  and SPI, the FA by the reply's Home Agent field and SPI).
//
// Lookups are hash-table hits (a home address, an NAI, a peer address) and a
// scan of the MN's few SAs. Entries are only added (a configuration reload
// builds a new database and hands it to the core, e.g.
// HomeAgent::Reconfigure); returned pointers stay valid for the life of the
// database.
//
// Keyed HMAC contexts cost about 0.9 KB each (OpenSSL EVP_MAC state). With
// Options::max_keyed_contexts = N > 0 the database keeps at most about N of
// them alive, releasing the oldest-admitted first (an SA released this way
// re-keys on its next use, about 1.3 us extra). 0 (the default) keeps every
// SA's context once used. An SA reached through MobileNodeSa()/PeerSa() is
// admitted to that budget; use those accessors on the hot path.
//
// Not thread-safe: one database per core, like the cores themselves.
#ifndef MIPSEC_MIP4_SECURITY_SA_DATABASE_H_
#define MIPSEC_MIP4_SECURITY_SA_DATABASE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/ip/address.h"
#include "common/result.h"
#include "mip4/security/replay.h"
#include "mip4/security/security_association.h"

namespace mipsec::mip4 {

// One mobile node's security state.
struct MobileNodeSecurity {
  std::optional<Ipv4Address> home_address;
  std::string nai;  // empty: none
  // Distinct SPIs; fixed once added.
  std::vector<SecurityAssociation> sas;
  // The HA's replay state for this MN (unused on the FA).
  HaReplayState replay;

  // The SA for `spi`, or nullptr. Bypasses the context budget (see the file
  // comment); prefer SaDatabase::MobileNodeSa.
  SecurityAssociation* FindSa(std::uint32_t spi);
};

class SaDatabase {
 public:
  struct Options {
    std::size_t max_keyed_contexts = 0;  // 0: unlimited
  };

  SaDatabase() = default;
  explicit SaDatabase(Options options) : options_(options) {}
  SaDatabase(const SaDatabase&) = delete;
  SaDatabase& operator=(const SaDatabase&) = delete;

  // Adds a mobile node known by `home_address`, `nai` or both, with its SAs.
  // kInvalidArgument if it has neither identity, no SA, a non-unicast home
  // address or two SAs with one SPI; kAlreadyExists if the home address or
  // NAI is already taken. On error nothing is added.
  Result<MobileNodeSecurity*> AddMobileNode(std::optional<Ipv4Address> home_address,
                                            std::string nai,
                                            std::vector<SecurityAssociation> sas);
  MobileNodeSecurity* FindMobileNode(Ipv4Address home_address);
  MobileNodeSecurity* FindMobileNodeByNai(std::string_view nai);

  // The SA `spi` of `mn`, admitted to the context budget; nullptr if `mn`
  // has no such SPI.
  SecurityAssociation* MobileNodeSa(MobileNodeSecurity& mn, std::uint32_t spi);
  // Shorthand: by home address, then SPI.
  SecurityAssociation* MobileNodeSa(Ipv4Address home_address, std::uint32_t spi);

  // Adds an FA-HA SA with `peer` (unicast). kAlreadyExists for a repeated
  // (peer, SPI).
  Status AddPeerSa(Ipv4Address peer, SecurityAssociation sa);
  // The SA (peer, spi), admitted to the budget, or nullptr.
  SecurityAssociation* PeerSa(Ipv4Address peer, std::uint32_t spi);
  // Whether any SA with `peer` exists (RFC 5944 3.8.2.1 (c)/(d) and 3.7.3.1
  // turn on this).
  bool HasPeer(Ipv4Address peer) const { return peers_.contains(peer); }
  // The SPI of the first SA added with `peer` (the HA authenticates replies
  // to an FA with it when the request carried no usable FA-HA extension).
  std::optional<std::uint32_t> FirstPeerSpi(Ipv4Address peer) const {
    auto it = peers_.find(peer);
    return it == peers_.end() ? std::nullopt : std::optional<std::uint32_t>(it->second);
  }
  // Every mobile node, in the order added (a reload compares databases).
  const std::deque<MobileNodeSecurity>& mobile_nodes() const { return mns_; }
  // The node with `mn`'s identity here: by home address when `mn` has one,
  // else by NAI; nullptr if none.
  MobileNodeSecurity* FindSameMobileNode(const MobileNodeSecurity& mn);

  std::size_t mobile_node_count() const { return mns_.size(); }
  std::size_t peer_sa_count() const { return peer_sas_.size(); }
  // SAs currently holding a keyed context (counts every SA; O(n)).
  std::size_t CountKeyedContexts() const;

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct PeerKey {
    std::uint32_t address;
    std::uint32_t spi;
    bool operator==(const PeerKey&) const = default;
  };
  struct PeerKeyHash {
    std::size_t operator()(const PeerKey& k) const {
      return std::hash<std::uint64_t>()(static_cast<std::uint64_t>(k.address) << 32 | k.spi);
    }
  };

  SecurityAssociation* Admit(SecurityAssociation* sa);

  Options options_;
  std::deque<MobileNodeSecurity> mns_;  // stable addresses
  std::unordered_map<Ipv4Address, MobileNodeSecurity*> by_home_;
  std::unordered_map<std::string, MobileNodeSecurity*, StringHash, std::equal_to<>> by_nai_;
  std::deque<SecurityAssociation> peer_sas_;
  std::unordered_map<PeerKey, SecurityAssociation*, PeerKeyHash> by_peer_;
  std::unordered_map<Ipv4Address, std::uint32_t> peers_;  // -> first SPI
  std::deque<SecurityAssociation*> keyed_;  // admission order, for the budget
};

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_SECURITY_SA_DATABASE_H_

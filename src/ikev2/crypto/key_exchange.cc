#include "ikev2/crypto/key_exchange.h"

#include <string>

namespace mipsec::ikev2 {

Result<crypto::DhGroup> DhGroupFor(DhId id) {
  std::optional<crypto::DhGroup> g = crypto::DhGroupFromId(static_cast<std::uint16_t>(id));
  if (!g) {
    return Error(Errc::kUnsupported,
                 "DH group " + std::to_string(static_cast<int>(id)) + " not supported");
  }
  return *g;
}

Result<std::unique_ptr<crypto::KeyExchange>> NewKeyExchange(DhId id, RandomSource& rng) {
  MIPSEC_ASSIGN_OR_RETURN(crypto::DhGroup g, DhGroupFor(id));
  return crypto::KeyExchange::FromRandom(g, rng);
}

Result<SecretBytes> ComputeSharedSecret(const crypto::KeyExchange& ours, DhId peer_group,
                                        ByteSpan peer_ke_data) {
  if (static_cast<std::uint16_t>(peer_group) != crypto::DhGroupId(ours.group())) {
    return Error(Errc::kInvalidArgument,
                 "KE payload group " + std::to_string(static_cast<int>(peer_group)) +
                     " differs from ours, " + std::to_string(crypto::DhGroupId(ours.group())));
  }
  Result<SecretBytes> s = ours.ComputeShared(peer_ke_data);
  if (!s.ok()) return s.error().WithContext("KE payload");
  return s;
}

}  // namespace mipsec::ikev2

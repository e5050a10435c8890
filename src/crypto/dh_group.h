// Diffie-Hellman groups mipsec negotiates in IKEv2 (transform type 4), with
// their IANA transform IDs and the sizes of their wire values.
//
//   14..18  MODP 2048..8192-bit, RFC 3526 (generator 2)
//   19, 20, 21  ECP P-256, P-384, P-521, RFC 5903
//   31      Curve25519 (X25519), RFC 8031
//
// Public values and shared secrets use the IKEv2 encodings: MODP values are
// big-endian and left-padded with zeros to the length of the prime (RFC 7296
// sections 2.14 and 3.4); ECP public values are x || y, each padded to the
// field size, without the 0x04 prefix of SEC 1, and the shared secret is the
// x coordinate alone (RFC 5903 section 7); X25519 values are the 32-byte
// little-endian strings of RFC 7748 (RFC 8031 section 2).
#ifndef MIPSEC_CRYPTO_DH_GROUP_H_
#define MIPSEC_CRYPTO_DH_GROUP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mipsec::crypto {

enum class DhGroup : std::uint16_t {
  kModp2048 = 14,
  kModp3072 = 15,
  kModp4096 = 16,
  kModp6144 = 17,
  kModp8192 = 18,
  kEcp256 = 19,
  kEcp384 = 20,
  kEcp521 = 21,
  kCurve25519 = 31,
};

inline constexpr DhGroup kAllDhGroups[] = {
    DhGroup::kModp2048, DhGroup::kModp3072, DhGroup::kModp4096,
    DhGroup::kModp6144, DhGroup::kModp8192, DhGroup::kEcp256,
    DhGroup::kEcp384,   DhGroup::kEcp521,   DhGroup::kCurve25519,
};

enum class DhKind : std::uint8_t { kModp, kEcp, kX25519 };

// The IANA IKEv2 transform ID.
constexpr std::uint16_t DhGroupId(DhGroup g) { return static_cast<std::uint16_t>(g); }
// The group for a transform ID, or nullopt for one mipsec does not implement.
std::optional<DhGroup> DhGroupFromId(std::uint16_t id);

// "modp2048", ..., "ecp256", "ecp384", "ecp521", "curve25519" (strongSwan's
// proposal keywords).
std::string_view DhGroupName(DhGroup g);
DhKind DhGroupKind(DhGroup g);

// Length of the Key Exchange Data in a KE payload: len(p) for MODP, 2 * field
// size for ECP (64, 96, 132), 32 for X25519.
std::size_t DhPublicValueSize(DhGroup g);
// Length of the shared secret g^ir: len(p), field size (32, 48, 66), or 32.
std::size_t DhSharedSecretSize(DhGroup g);
// Length of the private keys that KeyExchange generates and that
// FromPrivate() expects for ECP and X25519 (field size; 32). For MODP it is
// the exponent length mipsec draws: twice the higher strength estimate of
// RFC 3526 section 8, rounded up to 8 bytes (40, 56, 64, 72, 80).
std::size_t DhPrivateKeySize(DhGroup g);

}  // namespace mipsec::crypto

#endif  // MIPSEC_CRYPTO_DH_GROUP_H_

#include "crypto/dh_group.h"

namespace mipsec::crypto {

std::optional<DhGroup> DhGroupFromId(std::uint16_t id) {
  for (DhGroup g : kAllDhGroups) {
    if (DhGroupId(g) == id) return g;
  }
  return std::nullopt;
}

std::string_view DhGroupName(DhGroup g) {
  switch (g) {
    case DhGroup::kModp2048: return "modp2048";
    case DhGroup::kModp3072: return "modp3072";
    case DhGroup::kModp4096: return "modp4096";
    case DhGroup::kModp6144: return "modp6144";
    case DhGroup::kModp8192: return "modp8192";
    case DhGroup::kEcp256: return "ecp256";
    case DhGroup::kEcp384: return "ecp384";
    case DhGroup::kEcp521: return "ecp521";
    case DhGroup::kCurve25519: return "curve25519";
  }
  return "?";
}

DhKind DhGroupKind(DhGroup g) {
  switch (g) {
    case DhGroup::kEcp256:
    case DhGroup::kEcp384:
    case DhGroup::kEcp521: return DhKind::kEcp;
    case DhGroup::kCurve25519: return DhKind::kX25519;
    default: return DhKind::kModp;
  }
}

std::size_t DhSharedSecretSize(DhGroup g) {
  switch (g) {
    case DhGroup::kModp2048: return 256;
    case DhGroup::kModp3072: return 384;
    case DhGroup::kModp4096: return 512;
    case DhGroup::kModp6144: return 768;
    case DhGroup::kModp8192: return 1024;
    case DhGroup::kEcp256: return 32;
    case DhGroup::kEcp384: return 48;
    case DhGroup::kEcp521: return 66;  // RFC 5903 section 7: 528 bits
    case DhGroup::kCurve25519: return 32;
  }
  return 0;
}

std::size_t DhPublicValueSize(DhGroup g) {
  return DhGroupKind(g) == DhKind::kEcp ? 2 * DhSharedSecretSize(g) : DhSharedSecretSize(g);
}

std::size_t DhPrivateKeySize(DhGroup g) {
  switch (g) {
    // RFC 3526 section 8, "Strength Estimate 2" exponent sizes 320, 420, 480,
    // 540 and 620 bits, rounded up to whole 64-bit words.
    case DhGroup::kModp2048: return 40;
    case DhGroup::kModp3072: return 56;
    case DhGroup::kModp4096: return 64;
    case DhGroup::kModp6144: return 72;
    case DhGroup::kModp8192: return 80;
    default: return DhSharedSecretSize(g);
  }
}

}  // namespace mipsec::crypto

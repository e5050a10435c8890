#include "ikev2/sa/proposals.h"

#include <string>

namespace mipsec::ikev2 {
namespace {

std::uint16_t U(auto v) { return static_cast<std::uint16_t>(v); }

bool Has(const Proposal& p, TransformType type, std::uint16_t id,
         std::optional<std::uint16_t> key_bits = std::nullopt) {
  for (const Transform& t : p.transforms) {
    if (t.type != type || t.id != id) continue;
    if (key_bits && t.KeyLength() != key_bits) continue;
    return true;
  }
  return false;
}

// No transform of `type`, or one with ID 0 (NONE).
bool NoneOrAbsent(const Proposal& p, TransformType type) {
  bool any = false;
  for (const Transform& t : p.transforms) {
    if (t.type != type) continue;
    any = true;
    if (t.id == 0) return true;
  }
  return !any;
}

}  // namespace

Suite WithoutDh(const Suite& s) {
  if (s.is_ike()) return s;
  std::optional<IntegId> integ;
  if (!s.is_aead()) integ = s.integ();
  Result<Suite> r = Suite::ForEsp(s.encr(), s.encr_key_bits(), integ, std::nullopt, s.esn());
  return r.ok() ? *r : s;
}

Proposal ProposalFromSuite(const Suite& s, std::uint8_t number, ProtocolId protocol, Bytes spi) {
  Proposal p;
  p.number = number;
  p.protocol = protocol;
  p.spi = std::move(spi);
  p.transforms.push_back(Transform::Make(TransformType::kEncr, U(s.encr()), s.encr_key_bits()));
  if (s.is_ike()) p.transforms.push_back(Transform::Make(TransformType::kPrf, U(s.prf())));
  if (!s.is_aead()) p.transforms.push_back(Transform::Make(TransformType::kInteg, U(s.integ())));
  if (s.dh() != DhId::kNone) p.transforms.push_back(Transform::Make(TransformType::kDh, U(s.dh())));
  if (!s.is_ike()) p.transforms.push_back(Transform::Make(TransformType::kEsn, U(s.esn())));
  return p;
}

SaPayload MakeOffer(std::span<const Suite> suites, ProtocolId protocol, const Bytes& spi) {
  SaPayload sa;
  std::uint8_t n = 1;
  for (const Suite& s : suites) sa.proposals.push_back(ProposalFromSuite(s, n++, protocol, spi));
  return sa;
}

bool ProposalOffers(const Proposal& p, const Suite& s) {
  const bool ike = s.is_ike();
  if ((p.protocol == ProtocolId::kIke) != ike) return false;
  for (const Transform& t : p.transforms) {
    const auto type = static_cast<std::uint8_t>(t.type);
    if (type < 1 || type > 5) return false;  // a transform type we do not know
    if (ike && t.type == TransformType::kEsn) return false;
    if (!ike && t.type == TransformType::kPrf) return false;
  }
  if (!Has(p, TransformType::kEncr, U(s.encr()), s.encr_key_bits())) return false;
  if (ike && !Has(p, TransformType::kPrf, U(s.prf()))) return false;
  if (s.is_aead()) {
    if (!NoneOrAbsent(p, TransformType::kInteg)) return false;
  } else if (!Has(p, TransformType::kInteg, U(s.integ()))) {
    return false;
  }
  if (s.dh() == DhId::kNone) {
    if (!NoneOrAbsent(p, TransformType::kDh)) return false;
  } else if (!Has(p, TransformType::kDh, U(s.dh()))) {
    return false;
  }
  if (!ike) {
    bool any_esn = false;
    for (const Transform& t : p.transforms) any_esn = any_esn || t.type == TransformType::kEsn;
    if (any_esn ? !Has(p, TransformType::kEsn, U(s.esn())) : s.esn() != EsnId::kNoEsn) {
      return false;
    }
  }
  return true;
}

Result<Selection> SelectProposal(const SaPayload& offer, std::span<const Suite> ours,
                                 ProtocolId protocol, std::optional<DhId> ke_group) {
  std::optional<Selection> first;
  for (const Proposal& p : offer.proposals) {
    if (p.protocol != protocol) continue;
    for (const Suite& s : ours) {
      if (!ProposalOffers(p, s)) continue;
      Selection sel{s, p.number, p.spi};
      if (!ke_group || s.dh() == *ke_group) return sel;
      if (!first) first = sel;
    }
  }
  if (first) return *first;
  return Error(Errc::kNotFound, "no proposal acceptable (" + std::to_string(offer.proposals.size()) +
                                    " offered)");
}

Result<Selection> CheckSelection(const SaPayload& response, std::span<const Suite> offered,
                                 ProtocolId protocol) {
  if (response.proposals.size() != 1) {
    return Error(Errc::kMalformed, "SA response carries " +
                                       std::to_string(response.proposals.size()) + " proposals");
  }
  const Proposal& p = response.proposals[0];
  if (p.protocol != protocol) return Error(Errc::kMalformed, "SA response for another protocol");
  if (p.number == 0 || p.number > offered.size()) {
    return Error(Errc::kMalformed, "SA response names proposal " + std::to_string(p.number) +
                                       ", not offered");
  }
  int counts[6] = {0, 0, 0, 0, 0, 0};
  for (const Transform& t : p.transforms) {
    const auto type = static_cast<std::uint8_t>(t.type);
    if (type < 1 || type > 5) return Error(Errc::kMalformed, "SA response has unknown transform");
    if (++counts[type] > 1) {
      return Error(Errc::kMalformed, "SA response has two " + TransformTypeName(t.type) +
                                         " transforms");
    }
  }
  const Suite& want = offered[p.number - 1];
  if (!ProposalOffers(p, want)) {
    return Error(Errc::kMalformed, "SA response does not match proposal " +
                                       std::to_string(p.number) + " (" + want.ToString() + ")");
  }
  // And nothing beyond what we offered (e.g. a DH group where we had none).
  if (p.transforms.size() != ProposalFromSuite(want, p.number, protocol, {}).transforms.size()) {
    bool extra_none_only = true;
    for (const Transform& t : p.transforms) {
      if ((t.type == TransformType::kInteg || t.type == TransformType::kDh) && t.id == 0) continue;
      if (!Has(ProposalFromSuite(want, p.number, protocol, {}), t.type, t.id)) {
        extra_none_only = false;
      }
    }
    if (!extra_none_only) return Error(Errc::kMalformed, "SA response has transforms not offered");
  }
  return Selection{want, p.number, p.spi};
}

}  // namespace mipsec::ikev2

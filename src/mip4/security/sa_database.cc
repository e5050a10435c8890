#include "mip4/security/sa_database.h"

#include <utility>

namespace mipsec::mip4 {

SecurityAssociation* MobileNodeSecurity::FindSa(std::uint32_t spi) {
  for (SecurityAssociation& sa : sas) {
    if (sa.spi() == spi) return &sa;
  }
  return nullptr;
}

Result<MobileNodeSecurity*> SaDatabase::AddMobileNode(std::optional<Ipv4Address> home_address,
                                                      std::string nai,
                                                      std::vector<SecurityAssociation> sas) {
  if (!home_address && nai.empty()) {
    return Error(Errc::kInvalidArgument, "mobile node needs a home address or an NAI");
  }
  if (home_address && !home_address->IsUnicast()) {
    return Error(Errc::kInvalidArgument,
                 "home address " + home_address->ToString() + " is not unicast");
  }
  if (sas.empty()) return Error(Errc::kInvalidArgument, "mobile node has no security association");
  for (std::size_t i = 0; i < sas.size(); ++i) {
    for (std::size_t j = i + 1; j < sas.size(); ++j) {
      if (sas[i].spi() == sas[j].spi()) {
        return Error(Errc::kInvalidArgument, "SPI " + std::to_string(sas[i].spi()) + " given twice");
      }
    }
  }
  if (home_address && by_home_.contains(*home_address)) {
    return Error(Errc::kAlreadyExists, "home address " + home_address->ToString() + " already has SAs");
  }
  if (!nai.empty() && by_nai_.contains(nai)) {
    return Error(Errc::kAlreadyExists, "NAI '" + nai + "' already has SAs");
  }
  MobileNodeSecurity& mn = mns_.emplace_back();
  mn.home_address = home_address;
  mn.nai = std::move(nai);
  mn.sas = std::move(sas);
  if (home_address) by_home_.emplace(*home_address, &mn);
  if (!mn.nai.empty()) by_nai_.emplace(mn.nai, &mn);
  return &mn;
}

MobileNodeSecurity* SaDatabase::FindMobileNode(Ipv4Address home_address) {
  auto it = by_home_.find(home_address);
  return it == by_home_.end() ? nullptr : it->second;
}

MobileNodeSecurity* SaDatabase::FindMobileNodeByNai(std::string_view nai) {
  auto it = by_nai_.find(nai);
  return it == by_nai_.end() ? nullptr : it->second;
}

SecurityAssociation* SaDatabase::MobileNodeSa(MobileNodeSecurity& mn, std::uint32_t spi) {
  SecurityAssociation* sa = mn.FindSa(spi);
  return sa ? Admit(sa) : nullptr;
}

SecurityAssociation* SaDatabase::MobileNodeSa(Ipv4Address home_address, std::uint32_t spi) {
  MobileNodeSecurity* mn = FindMobileNode(home_address);
  return mn ? MobileNodeSa(*mn, spi) : nullptr;
}

MobileNodeSecurity* SaDatabase::FindSameMobileNode(const MobileNodeSecurity& mn) {
  if (mn.home_address) return FindMobileNode(*mn.home_address);
  return mn.nai.empty() ? nullptr : FindMobileNodeByNai(mn.nai);
}

Status SaDatabase::AddPeerSa(Ipv4Address peer, SecurityAssociation sa) {
  if (!peer.IsUnicast()) {
    return Error(Errc::kInvalidArgument, "peer " + peer.ToString() + " is not unicast");
  }
  PeerKey key{peer.ToHostOrder(), sa.spi()};
  if (by_peer_.contains(key)) {
    return Error(Errc::kAlreadyExists, "peer " + peer.ToString() + " already has SPI " +
                                           std::to_string(sa.spi()));
  }
  SecurityAssociation& stored = peer_sas_.emplace_back(std::move(sa));
  by_peer_.emplace(key, &stored);
  peers_.emplace(peer, stored.spi());  // keeps the first one
  return Ok{};
}

SecurityAssociation* SaDatabase::PeerSa(Ipv4Address peer, std::uint32_t spi) {
  auto it = by_peer_.find(PeerKey{peer.ToHostOrder(), spi});
  return it == by_peer_.end() ? nullptr : Admit(it->second);
}

std::size_t SaDatabase::CountKeyedContexts() const {
  std::size_t n = 0;
  for (const MobileNodeSecurity& mn : mns_) {
    for (const SecurityAssociation& sa : mn.sas) n += sa.has_context();
  }
  for (const SecurityAssociation& sa : peer_sas_) n += sa.has_context();
  return n;
}

SecurityAssociation* SaDatabase::Admit(SecurityAssociation* sa) {
  if (options_.max_keyed_contexts == 0 || sa->has_context()) return sa;
  // The SA will key a context on its next Compute/Verify: make room first.
  keyed_.push_back(sa);
  while (keyed_.size() > options_.max_keyed_contexts) {
    SecurityAssociation* old = keyed_.front();
    keyed_.pop_front();
    if (old != sa) old->ReleaseContext();
  }
  return sa;
}

}  // namespace mipsec::mip4

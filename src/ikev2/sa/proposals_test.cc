#include "ikev2/sa/proposals.h"

#include <gtest/gtest.h>

#include "ikev2/sa/config.h"
#include "ikev2/sa/traffic_selectors.h"

namespace mipsec::ikev2 {
namespace {

Suite Ike(EncrId e, std::uint16_t bits, std::optional<IntegId> integ, DhId dh) {
  return Suite::ForIke(e, bits, PrfId::kHmacSha2_256, integ, dh).value();
}

TEST(ProposalsTest, OfferAndSelectRoundTrip) {
  const std::vector<Suite> offer = DefaultIkeProposals();
  const SaPayload sa = MakeOffer(offer, ProtocolId::kIke, {});
  ASSERT_EQ(sa.proposals.size(), offer.size());
  EXPECT_TRUE(CheckProposalNumbering(sa, false).ok());
  // The responder prefers the proposal matching the KE group.
  const std::vector<Suite> ours = {offer[3], offer[2]};
  Result<Selection> sel = SelectProposal(sa, ours, ProtocolId::kIke, offer[2].dh());
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->suite, offer[2]);
  EXPECT_EQ(sel->number, 3);
  // Without a KE match the first acceptable offered proposal wins.
  sel = SelectProposal(sa, ours, ProtocolId::kIke, DhId::kEcp521);
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->number, 3);
  // The response proposal checks out at the initiator.
  const SaPayload resp{{ProposalFromSuite(sel->suite, sel->number, ProtocolId::kIke, {})}};
  Result<Selection> back = CheckSelection(resp, offer, ProtocolId::kIke);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->suite, offer[2]);
}

TEST(ProposalsTest, NoMatch) {
  const SaPayload sa = MakeOffer(DefaultIkeProposals(), ProtocolId::kIke, {});
  const std::vector<Suite> ours = {Ike(EncrId::kAesCbc, 192, IntegId::kHmacSha2_512_256,
                                       DhId::kEcp521)};
  EXPECT_EQ(SelectProposal(sa, ours, ProtocolId::kIke).error().code(), Errc::kNotFound);
  // ESP proposals are not IKE proposals.
  EXPECT_FALSE(SelectProposal(sa, DefaultIkeProposals(), ProtocolId::kEsp).ok());
}

TEST(ProposalsTest, MultiTransformProposalAndKeyLength) {
  // One proposal listing two ENCR key lengths and two DH groups, as
  // strongSwan sends them.
  Proposal p;
  p.number = 1;
  p.protocol = ProtocolId::kIke;
  p.transforms = {Transform::Make(TransformType::kEncr, 20, 128),
                  Transform::Make(TransformType::kEncr, 20, 256),
                  Transform::Make(TransformType::kPrf, 5), Transform::Make(TransformType::kDh, 31),
                  Transform::Make(TransformType::kDh, 19)};
  const SaPayload sa{{p}};
  const Suite want = Ike(EncrId::kAesGcm16, 256, std::nullopt, DhId::kEcp256);
  Result<Selection> sel = SelectProposal(sa, std::vector<Suite>{want}, ProtocolId::kIke);
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->suite, want);
  // A key length not offered does not match.
  const Suite other = Ike(EncrId::kAesGcm16, 192, std::nullopt, DhId::kEcp256);
  EXPECT_FALSE(ProposalOffers(p, other));
  // A response with two transforms of one type is refused.
  EXPECT_FALSE(CheckSelection(sa, std::vector<Suite>{want}, ProtocolId::kIke).ok());
  // An unknown transform type makes the proposal unacceptable.
  Proposal q = p;
  q.transforms.push_back(Transform::Make(static_cast<TransformType>(9), 1));
  EXPECT_FALSE(ProposalOffers(q, want));
}

TEST(ProposalsTest, EspWithoutDhAndEsn) {
  const Suite pfs = Suite::ForEsp(EncrId::kAesGcm16, 128, std::nullopt, DhId::kCurve25519,
                                  EsnId::kNoEsn)
                        .value();
  const Suite plain = WithoutDh(pfs);
  EXPECT_EQ(plain.dh(), DhId::kNone);
  const Proposal p = ProposalFromSuite(plain, 1, ProtocolId::kEsp, Bytes{1, 2, 3, 4});
  EXPECT_TRUE(ProposalOffers(p, plain));
  EXPECT_FALSE(ProposalOffers(p, pfs));
  const Suite esn = Suite::ForEsp(EncrId::kAesGcm16, 128, std::nullopt, std::nullopt, EsnId::kEsn)
                        .value();
  EXPECT_FALSE(ProposalOffers(p, esn));
}

TEST(TrafficSelectorsTest, IntersectAndNarrow) {
  const TrafficSelector any = AnyIpv4Selector();
  const TrafficSelector net = TrafficSelector::Ipv4Prefix(Ipv4Prefix::Parse("10.1.0.0/16").value());
  const TrafficSelector sub = TrafficSelector::Ipv4Prefix(Ipv4Prefix::Parse("10.1.2.0/24").value());
  const TrafficSelector other =
      TrafficSelector::Ipv4Prefix(Ipv4Prefix::Parse("192.168.0.0/16").value());
  EXPECT_EQ(Intersect(any, net), net);
  EXPECT_EQ(Intersect(net, sub), sub);
  EXPECT_FALSE(Intersect(net, other).has_value());
  // Protocol and ports.
  const TrafficSelector udp434 = TrafficSelector::Ipv4Range(
      Ipv4Address::FromOctets(10, 1, 0, 1), Ipv4Address::FromOctets(10, 1, 0, 1), 17, 434, 434);
  EXPECT_EQ(Intersect(net, udp434), udp434);
  TrafficSelector tcp = net;
  tcp.ip_protocol = 6;
  EXPECT_FALSE(Intersect(tcp, udp434).has_value());
  const std::vector<TrafficSelector> proposed = {any};
  const std::vector<TrafficSelector> allowed = {net, other};
  EXPECT_EQ(Narrow(proposed, allowed), allowed);
  EXPECT_TRUE(OnlyNarrowed(std::vector<TrafficSelector>{sub}, std::vector<TrafficSelector>{net}));
  EXPECT_FALSE(OnlyNarrowed(std::vector<TrafficSelector>{net}, std::vector<TrafficSelector>{sub}));
  EXPECT_FALSE(OnlyNarrowed({}, std::vector<TrafficSelector>{net}));
  EXPECT_EQ(TsToString(udp434), "10.1.0.1-10.1.0.1[17/434-434]");
}

}  // namespace
}  // namespace mipsec::ikev2

#include "mip4/security/sa_database.h"

#include <gtest/gtest.h>

namespace mipsec::mip4 {
namespace {

SecurityAssociation Sa(std::uint32_t spi, std::uint8_t key_fill = 0x42) {
  SecurityAssociationParams p;
  p.spi = spi;
  p.key = SecretBytes(Bytes(16, key_fill));
  return std::move(SecurityAssociation::Create(std::move(p))).value();
}

std::vector<SecurityAssociation> Sas(std::initializer_list<std::uint32_t> spis) {
  std::vector<SecurityAssociation> v;
  for (std::uint32_t s : spis) v.push_back(Sa(s));
  return v;
}

const Ipv4Address kHome = Ipv4Address::FromOctets(10, 0, 0, 5);
const Ipv4Address kFa = Ipv4Address::FromOctets(192, 0, 2, 1);

TEST(SaDatabaseTest, FindsMobileNodesByHomeAddressAndNai) {
  SaDatabase db;
  ASSERT_TRUE(db.AddMobileNode(kHome, "mn1@example.net", Sas({256, 300})).ok());
  ASSERT_TRUE(db.AddMobileNode(std::nullopt, "mn2@example.net", Sas({256})).ok());
  EXPECT_EQ(db.mobile_node_count(), 2u);

  MobileNodeSecurity* a = db.FindMobileNode(kHome);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a, db.FindMobileNodeByNai("mn1@example.net"));
  EXPECT_EQ(db.FindMobileNodeByNai("mn2@example.net")->home_address, std::nullopt);
  EXPECT_EQ(db.FindMobileNodeByNai("nobody"), nullptr);
  EXPECT_EQ(db.FindMobileNode(Ipv4Address::FromOctets(10, 0, 0, 6)), nullptr);

  EXPECT_EQ(db.MobileNodeSa(kHome, 300)->spi(), 300u);
  EXPECT_EQ(db.MobileNodeSa(*a, 256)->spi(), 256u);
  EXPECT_EQ(db.MobileNodeSa(kHome, 257), nullptr);
  EXPECT_EQ(db.MobileNodeSa(Ipv4Address::FromOctets(10, 0, 0, 9), 256), nullptr);
}

TEST(SaDatabaseTest, RejectsBadOrDuplicateEntriesAndAddsNothing) {
  SaDatabase db;
  ASSERT_TRUE(db.AddMobileNode(kHome, "mn@x", Sas({256})).ok());
  Result<MobileNodeSecurity*> r = db.AddMobileNode(std::nullopt, "", Sas({256}));
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  r = db.AddMobileNode(Ipv4Address::FromOctets(10, 0, 0, 7), "", {});
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  r = db.AddMobileNode(Ipv4Address::FromOctets(10, 0, 0, 7), "", Sas({256, 256}));
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  r = db.AddMobileNode(Ipv4Address::FromOctets(224, 0, 0, 1), "", Sas({256}));
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  r = db.AddMobileNode(kHome, "other@x", Sas({256}));
  EXPECT_EQ(r.error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(db.FindMobileNodeByNai("other@x"), nullptr);
  r = db.AddMobileNode(Ipv4Address::FromOctets(10, 0, 0, 8), "mn@x", Sas({256}));
  EXPECT_EQ(r.error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(db.FindMobileNode(Ipv4Address::FromOctets(10, 0, 0, 8)), nullptr);
  EXPECT_EQ(db.mobile_node_count(), 1u);
}

TEST(SaDatabaseTest, PeerAssociations) {
  SaDatabase db;
  EXPECT_FALSE(db.HasPeer(kFa));
  ASSERT_TRUE(db.AddPeerSa(kFa, Sa(1000)).ok());
  ASSERT_TRUE(db.AddPeerSa(kFa, Sa(1001)).ok());
  EXPECT_EQ(db.AddPeerSa(kFa, Sa(1000)).error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(db.AddPeerSa(Ipv4Address::Any(), Sa(1000)).error().code(), Errc::kInvalidArgument);
  EXPECT_TRUE(db.HasPeer(kFa));
  EXPECT_FALSE(db.HasPeer(Ipv4Address::FromOctets(192, 0, 2, 2)));
  EXPECT_EQ(db.PeerSa(kFa, 1001)->spi(), 1001u);
  EXPECT_EQ(db.PeerSa(kFa, 1002), nullptr);
  EXPECT_EQ(db.PeerSa(Ipv4Address::FromOctets(192, 0, 2, 2), 1000), nullptr);
  EXPECT_EQ(db.peer_sa_count(), 2u);
}

TEST(SaDatabaseTest, KeyedContextBudgetBoundsLiveContexts) {
  SaDatabase db(SaDatabase::Options{.max_keyed_contexts = 4});
  for (std::uint8_t i = 1; i <= 20; ++i) {
    ASSERT_TRUE(db.AddMobileNode(Ipv4Address::FromOctets(10, 0, 1, i), "", Sas({256})).ok());
  }
  const Bytes msg = {1, 2, 3};
  Bytes first;
  for (int round = 0; round < 3; ++round) {
    for (std::uint8_t i = 1; i <= 20; ++i) {
      SecurityAssociation* sa = db.MobileNodeSa(Ipv4Address::FromOctets(10, 0, 1, i), 256);
      ASSERT_NE(sa, nullptr);
      Result<Bytes> mac = sa->Compute(msg);
      ASSERT_TRUE(mac.ok());
      if (first.empty()) first = *mac;
      EXPECT_EQ(*mac, first);  // same key everywhere: re-keying gives the same MAC
      EXPECT_LE(db.CountKeyedContexts(), 4u);
    }
  }
  EXPECT_EQ(db.CountKeyedContexts(), 4u);

  SaDatabase unlimited;
  ASSERT_TRUE(unlimited.AddMobileNode(kHome, "", Sas({256, 257})).ok());
  ASSERT_TRUE(unlimited.MobileNodeSa(kHome, 256)->Compute(msg).ok());
  ASSERT_TRUE(unlimited.MobileNodeSa(kHome, 257)->Compute(msg).ok());
  EXPECT_EQ(unlimited.CountKeyedContexts(), 2u);
}

}  // namespace
}  // namespace mipsec::mip4

// Payload codecs: round trips of every payload, exact sizes, wire formats
// against hand-assembled RFC 7296 layouts, structural errors, truncation and
// the critical bit.
#include "ikev2/codec/payload.h"

#include <gtest/gtest.h>

#include "common/bytes.h"
#include "common/wire/writer.h"
#include "ikev2/codec/codec_test_util.h"
#include "ikev2/codec/message.h"

namespace mipsec::ikev2 {
namespace {

using test::EveryPayload;
using test::Seq;

Bytes Hex(const char* h) { return FromHex(h).value(); }

Bytes EncodeOne(const Payload& p) {
  wire::Writer w;
  EXPECT_TRUE(AppendPayload(w, p, PayloadType::kNone).ok());
  return std::move(w).Take();
}

TEST(PayloadTest, EveryPayloadRoundTripsWithExactSize) {
  for (const Payload& p : EveryPayload()) {
    SCOPED_TRACE(PayloadTypeName(p.type));
    const Bytes wire = EncodeOne(p);
    EXPECT_EQ(wire.size(), p.EncodedSize());
    Result<std::vector<Payload>> back = DecodePayloadChain(p.type, wire);
    ASSERT_TRUE(back.ok()) << back.error().ToString();
    ASSERT_EQ(back->size(), 1u);
    EXPECT_EQ((*back)[0], p);
    EXPECT_EQ(EncodeOne((*back)[0]), wire);
  }
}

TEST(PayloadTest, ChainRoundTripsAndLinksNextPayload) {
  const std::vector<Payload> all = EveryPayload();
  Result<Bytes> wire = EncodePayloadChain(all);
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(wire->size(), EncodedChainSize(all));
  // The first payload's Next Payload names the second.
  EXPECT_EQ((*wire)[0], static_cast<std::uint8_t>(all[1].type));
  Result<std::vector<Payload>> back = DecodePayloadChain(all[0].type, *wire);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, all);
}

TEST(PayloadTest, ChainTruncatedAtEveryOffsetFails) {
  const std::vector<Payload> all = EveryPayload();
  const Bytes wire = EncodePayloadChain(all).value();
  for (std::size_t n = 0; n < wire.size(); ++n) {
    Result<std::vector<Payload>> r = DecodePayloadChain(all[0].type, ByteSpan(wire).first(n));
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes decoded";
  }
  // And extra bytes after the last payload are refused.
  Bytes longer = wire;
  longer.push_back(0);
  EXPECT_EQ(DecodePayloadChain(all[0].type, longer).error().code(), Errc::kMalformed);
}

TEST(PayloadTest, SaWireFormatMatchesRfcLayout) {
  SaPayload sa{{test::IkeProposal(1)}};
  wire::Writer w;
  sa.Encode(w);
  // Proposal: last, length 44, #1, IKE, SPI size 0, 4 transforms; then
  // ENCR AES-CBC with Key Length 128 (TV), INTEG 12, PRF 5, DH 31.
  EXPECT_EQ(ToHex(w.View()),
            "0000002c01010004"
            "0300000c0100000c800e0080"
            "030000080300000c"
            "0300000802000005"
            "000000080400001f");
}

TEST(PayloadTest, SaDecodesStrongSwanProposalAndKeyLength) {
  const Bytes body =
      Hex("0000002c01010004"
          "0300000c0100000c800e0080"
          "030000080300000c"
          "0300000802000005"
          "000000080400001f");
  Result<SaPayload> sa = SaPayload::Decode(body);
  ASSERT_TRUE(sa.ok()) << sa.error().ToString();
  ASSERT_EQ(sa->proposals.size(), 1u);
  const Proposal& p = sa->proposals[0];
  EXPECT_EQ(p.number, 1);
  EXPECT_EQ(p.protocol, ProtocolId::kIke);
  ASSERT_EQ(p.transforms.size(), 4u);
  EXPECT_EQ(p.Find(TransformType::kEncr)->KeyLength(), 128);
  EXPECT_EQ(p.Find(TransformType::kDh)->id, 31);
  EXPECT_FALSE(p.Find(TransformType::kPrf)->KeyLength().has_value());
  EXPECT_EQ(p.Find(TransformType::kEsn), nullptr);
  EXPECT_EQ(sa->EncodedSize(), body.size());
}

TEST(PayloadTest, SaStructuralErrors) {
  // Last Substruc 1 on a proposal.
  EXPECT_EQ(SaPayload::Decode(Hex("0100000801010000")).error().code(), Errc::kMalformed);
  // "More proposals" on the only proposal: the next one is missing.
  EXPECT_FALSE(SaPayload::Decode(Hex("0200000801010000")).ok());
  // Num Transforms says 2, one present.
  EXPECT_EQ(SaPayload::Decode(Hex("000000100101000200000008030000c0")).error().code(),
            Errc::kMalformed);
  // Transform Last Substruc 2 (must be 0 or 3).
  EXPECT_EQ(SaPayload::Decode(Hex("000000100101000102000008030000c0")).error().code(),
            Errc::kMalformed);
  // Transform length 4.
  EXPECT_FALSE(SaPayload::Decode(Hex("0000000c0101000100000004")).ok());
  // Proposal length 6.
  EXPECT_EQ(SaPayload::Decode(Hex("0000000601010000")).error().code(), Errc::kMalformed);
  // Bytes after the last transform inside the proposal.
  EXPECT_EQ(SaPayload::Decode(Hex("000000110101000100000008030000c000")).error().code(),
            Errc::kMalformed);
  // TLV attribute longer than the transform.
  EXPECT_EQ(SaPayload::Decode(Hex("00000014010100010000000c030000c0000e0010")).error().code(),
            Errc::kTruncated);
  // Transform 3 bytes longer than the proposal.
  EXPECT_FALSE(SaPayload::Decode(Hex("00000010010100010000000b030000c0")).ok());
}

TEST(PayloadTest, ProposalNumberingRules) {
  SaPayload offer{{test::IkeProposal(1), test::IkeProposal(2), test::IkeProposal(3)}};
  EXPECT_TRUE(CheckProposalNumbering(offer, /*response=*/false).ok());
  EXPECT_FALSE(CheckProposalNumbering(offer, /*response=*/true).ok());  // one in a response
  offer.proposals[2].number = 4;                                        // 1, 2, 4
  EXPECT_EQ(CheckProposalNumbering(offer, false).error().code(), Errc::kMalformed);
  SaPayload first_two{{test::IkeProposal(2)}};
  EXPECT_FALSE(CheckProposalNumbering(first_two, false).ok());  // must start at 1
  EXPECT_TRUE(CheckProposalNumbering(first_two, true).ok());    // accepted proposal #2
  SaPayload zero{{test::IkeProposal(0)}};
  EXPECT_FALSE(CheckProposalNumbering(zero, true).ok());
  EXPECT_FALSE(CheckProposalNumbering(SaPayload{}, false).ok());

  SaPayload esp{{test::EspGcmProposal(1, 0x01020304, 128)}};
  EXPECT_TRUE(CheckProposalNumbering(esp, false).ok());
  esp.proposals[0].spi = {1, 2, 3};
  EXPECT_FALSE(CheckProposalNumbering(esp, false).ok());
  SaPayload ike_rekey{{test::IkeProposal(1)}};
  ike_rekey.proposals[0].spi = Seq(8);
  EXPECT_TRUE(CheckProposalNumbering(ike_rekey, false).ok());
  ike_rekey.proposals[0].spi = Seq(4);
  EXPECT_FALSE(CheckProposalNumbering(ike_rekey, false).ok());
  SaPayload empty_proposal{{Proposal{}}};
  EXPECT_FALSE(CheckProposalNumbering(empty_proposal, false).ok());
}

TEST(PayloadTest, TrafficSelectorWireFormat) {
  TsPayload ts{
      {TrafficSelector::Ipv4Range(Ipv4Address::FromOctets(192, 0, 2, 0),
                                  Ipv4Address::FromOctets(192, 0, 2, 255), 17, 500, 4500)}};
  wire::Writer w;
  ts.Encode(w);
  EXPECT_EQ(ToHex(w.View()),
            "01000000"
            "07110010"
            "01f41194"
            "c0000200"
            "c00002ff");
  Result<TsPayload> back = TsPayload::Decode(w.View());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->selectors[0].StartIpv4(), Ipv4Address::FromOctets(192, 0, 2, 0));
  EXPECT_EQ(back->selectors[0].EndIpv4(), Ipv4Address::FromOctets(192, 0, 2, 255));
  const TrafficSelector all =
      TrafficSelector::Ipv4Prefix(*mipsec::Ipv4Prefix::Parse("10.1.0.0/16"));
  EXPECT_EQ(all.EndIpv4(), Ipv4Address::FromOctets(10, 1, 255, 255));
  EXPECT_EQ(all.end_port, 0xffff);
}

TEST(PayloadTest, TrafficSelectorErrors) {
  // IPv4 selector with length 40.
  EXPECT_EQ(TsPayload::Decode(Hex("0100000007000028"
                                  "0000ffff"
                                  "00000000"
                                  "ffffffff"))
                .error()
                .code(),
            Errc::kMalformed);
  // Two announced, one present.
  EXPECT_FALSE(TsPayload::Decode(Hex("0200000007000010"
                                     "0000ffff"
                                     "00000000"
                                     "ffffffff"))
                   .ok());
  // One announced, bytes left over.
  EXPECT_EQ(TsPayload::Decode(Hex("0100000007000010"
                                  "0000ffff"
                                  "00000000"
                                  "ffffffff"
                                  "00"))
                .error()
                .code(),
            Errc::kMalformed);
  // Selector length below 4.
  EXPECT_FALSE(TsPayload::Decode(Hex("0100000009000002")).ok());
}

TEST(PayloadTest, DeleteRules) {
  EXPECT_EQ(DeletePayload::Decode(Hex("01000000"))->protocol, ProtocolId::kIke);
  EXPECT_FALSE(DeletePayload::Decode(Hex("01040001c0ffee00")).ok());          // IKE with an SPI
  EXPECT_FALSE(DeletePayload::Decode(Hex("03080001c0ffee00c0ffee00")).ok());  // SPI size 8
  EXPECT_FALSE(DeletePayload::Decode(Hex("03040002c0ffee00")).ok());          // count 2, one SPI
  EXPECT_FALSE(DeletePayload::Decode(Hex("03040001c0ffee0000")).ok());        // trailing
  EXPECT_FALSE(DeletePayload::Decode(Hex("07000000")).ok());                  // protocol 7
  Result<DeletePayload> d = DeletePayload::Decode(Hex("03040002c0ffee0012345678"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->spis, (std::vector<std::uint32_t>{0xc0ffee00, 0x12345678}));
}

TEST(PayloadTest, ConfigurationAttributes) {
  // CFG_REQUEST with INTERNAL_IP4_ADDRESS (empty) and the R bit set on DNS.
  Result<CpPayload> cp =
      CpPayload::Decode(Hex("01000000"
                            "00010000"
                            "80030000"));
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->cfg_type, CfgType::kRequest);
  ASSERT_EQ(cp->attributes.size(), 2u);
  EXPECT_NE(cp->Find(CfgAttr::kInternalIp4Dns), nullptr);  // R bit ignored
  EXPECT_EQ(cp->Find(CfgAttr::kInternalIp4Netmask), nullptr);
  EXPECT_FALSE(cp->attributes[0].Ipv4Value().has_value());
  EXPECT_FALSE(CpPayload::Decode(Hex("02000000"
                                     "00010004"
                                     "c000"))
                   .ok());  // value cut
  const CfgAttribute a =
      CfgAttribute::Ipv4(CfgAttr::kInternalIp4Address, Ipv4Address::FromOctets(192, 0, 2, 129));
  EXPECT_EQ(a.Ipv4Value(), Ipv4Address::FromOctets(192, 0, 2, 129));
}

TEST(PayloadTest, EapIsKeptRawButLengthChecked) {
  Result<EapPayload> eap =
      EapPayload::Decode(Hex("0201000a"
                             "01"
                             "6d6e406578"));
  ASSERT_TRUE(eap.ok());
  EXPECT_EQ(eap->code(), 2);
  EXPECT_EQ(EapPayload::Decode(Hex("02010009"
                                   "01"
                                   "6d6e406578"))
                .error()
                .code(),
            Errc::kMalformed);
  EXPECT_EQ(EapPayload::Decode(Hex("0201")).error().code(), Errc::kTruncated);
}

TEST(PayloadTest, NotifyWithSpiAndErrorClass) {
  Result<NotifyPayload> n = NotifyPayload::Decode(Hex("0304400901020304"));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->protocol, ProtocolId::kEsp);
  EXPECT_EQ(n->type, NotifyType::kRekeySa);
  EXPECT_EQ(n->spi, (Bytes{1, 2, 3, 4}));
  EXPECT_TRUE(n->data.empty());
  EXPECT_FALSE(n->is_error());
  EXPECT_TRUE(NotifyPayload::Make(NotifyType::kInvalidSyntax).is_error());
  EXPECT_FALSE(NotifyPayload::Decode(Hex("03084009010203")).ok());  // SPI cut
}

TEST(PayloadTest, CertReqHashesAndDigitalSignature) {
  CertReqPayload req{CertEncoding::kX509Signature, Seq(40)};
  Result<std::vector<ByteSpan>> hashes = req.AuthorityHashes();
  ASSERT_TRUE(hashes.ok());
  ASSERT_EQ(hashes->size(), 2u);
  EXPECT_EQ((*hashes)[1][0], 21);
  req.authorities.push_back(0);
  EXPECT_FALSE(req.AuthorityHashes().ok());

  const Bytes alg = Hex("300d06092a864886f70d01010b0500");  // sha256WithRSAEncryption
  Result<Bytes> joined = JoinDigitalSignature(alg, Seq(64));
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ((*joined)[0], alg.size());
  Result<DigitalSignatureData> split = SplitDigitalSignature(*joined);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(Bytes(split->algorithm_identifier.begin(), split->algorithm_identifier.end()), alg);
  EXPECT_EQ(split->signature.size(), 64u);
  EXPECT_FALSE(SplitDigitalSignature(Hex("10300d")).ok());
  EXPECT_FALSE(SplitDigitalSignature(Hex("00")).ok());
}

TEST(PayloadTest, UnknownPayloadWithoutCriticalBitIsKeptAndReencoded) {
  // N(INITIAL_CONTACT) -> type 99 (not critical) -> V.
  const Bytes chain =
      Hex("630000080000"
          "4000"
          "2b000006abcd"
          "00000006beef");
  Result<std::vector<Payload>> r = DecodePayloadChain(PayloadType::kNotify, chain);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].type, static_cast<PayloadType>(99));
  EXPECT_TRUE(std::holds_alternative<UnknownPayload>((*r)[1].body));
  EXPECT_EQ((*r)[2].type, PayloadType::kVendorId);
  EXPECT_EQ(EncodePayloadChain(*r).value(), chain);
}

TEST(PayloadTest, UnknownPayloadWithCriticalBitIsRefusedNamingTheType) {
  const Bytes chain =
      Hex("630000080000"
          "4000"
          "2b800006abcd"
          "00000006beef");
  std::optional<ErrorNotify> notify;
  Result<std::vector<Payload>> r = DecodePayloadChain(PayloadType::kNotify, chain, &notify);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kUnsupported);
  EXPECT_NE(r.error().detail().find("PAYLOAD(99)"), std::string::npos) << r.error().detail();
  ASSERT_TRUE(notify.has_value());
  EXPECT_EQ(notify->type, NotifyType::kUnsupportedCriticalPayload);
  EXPECT_EQ(notify->data, Bytes{99});
}

TEST(PayloadTest, KnownPayloadWithCriticalBitIsDecodedAndKeepsTheBit) {
  const Bytes chain =
      Hex("00800008"
          "00004000");
  Result<std::vector<Payload>> r = DecodePayloadChain(PayloadType::kNotify, chain);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)[0].critical);
  EXPECT_EQ((*r)[0].As<NotifyPayload>()->type, NotifyType::kInitialContact);
  EXPECT_EQ(EncodePayloadChain(*r).value(), chain);
}

TEST(PayloadTest, GenericHeaderErrors) {
  // Payload length 3.
  EXPECT_EQ(DecodePayloadChain(PayloadType::kNonce, Hex("00000003")).error().code(),
            Errc::kMalformed);
  // SK inside an inner chain.
  EXPECT_EQ(DecodePayloadChain(PayloadType::kSk, Hex("00000004")).error().code(), Errc::kMalformed);
  // Empty chain with first = NONE is an empty list.
  EXPECT_TRUE(DecodePayloadChain(PayloadType::kNone, {})->empty());
}

TEST(PayloadTest, EncodeRefusesMismatchedBodyAndOversize) {
  wire::Writer w;
  Payload wrong{PayloadType::kKe, false, NoncePayload{Seq(16)}};
  EXPECT_EQ(AppendPayload(w, wrong, PayloadType::kNone).error().code(), Errc::kInvalidArgument);
  Payload big = Payload::Cert({CertEncoding::kX509Signature, Bytes(70000)});
  EXPECT_EQ(AppendPayload(w, big, PayloadType::kNone).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(w.size(), 0u);
}

TEST(PayloadTest, IdFactories) {
  EXPECT_EQ(IdPayload::Fqdn("gw.example.org").data.size(), 14u);
  EXPECT_EQ(IdPayload::Ipv4(Ipv4Address::FromOctets(1, 2, 3, 4)).data, (Bytes{1, 2, 3, 4}));
  EXPECT_EQ(IdPayload::Rfc822("a@b").type, IdType::kRfc822Addr);
  EXPECT_EQ(IdPayload::KeyId(Seq(3)).type, IdType::kKeyId);
  EXPECT_FALSE(IdPayload::Decode(Hex("020000")).ok());
}

TEST(PayloadTest, Names) {
  EXPECT_EQ(PayloadTypeName(PayloadType::kSkf), "SKF");
  EXPECT_EQ(PayloadTypeName(static_cast<PayloadType>(99)), "PAYLOAD(99)");
  EXPECT_EQ(ExchangeTypeName(ExchangeType::kCreateChildSa), "CREATE_CHILD_SA");
  EXPECT_EQ(NotifyTypeName(NotifyType::kNatDetectionSourceIp), "NAT_DETECTION_SOURCE_IP");
  EXPECT_EQ(NotifyTypeName(static_cast<NotifyType>(40000)), "NOTIFY(40000)");
  EXPECT_EQ(TransformTypeName(TransformType::kDh), "DH");
  EXPECT_EQ(ProtocolIdName(ProtocolId::kEsp), "ESP");
  EXPECT_EQ(CfgAttrName(CfgAttr::kInternalIp4Dns), "INTERNAL_IP4_DNS");
}

}  // namespace
}  // namespace mipsec::ikev2

// Wireshark's ISAKMP dissector as an independent oracle for our encoder:
// IKE_SA_INIT request and response, an INFORMATIONAL and an IKE_AUTH with SK
// (encrypted with AES-CBC-128 + HMAC-SHA2-256-128, whose keys tshark gets so
// it decrypts and checks them), on UDP 500 and on 4500 after the non-ESP
// marker. No malformed packets, no error-level expert items, and the field
// values tshark reads are the ones we encoded.
#include "testing/tshark/tshark.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/ip/udp.h"
#include "common/wire/writer.h"
#include "ikev2/codec/codec_test_util.h"
#include "ikev2/codec/message.h"
#include "ikev2/codec/notify_data.h"

namespace mipsec::ikev2 {
namespace {

using test::Seq;

constexpr std::uint64_t kSpiI = 0x1a2b3c4d5e6f7081;
constexpr std::uint64_t kSpiR = 0x92a3b4c5d6e7f809;

const Bytes kSkEi = Seq(16, 0x10);
const Bytes kSkEr = Seq(16, 0x30);
const Bytes kSkAi = Seq(32, 0x50);
const Bytes kSkAr = Seq(32, 0x90);

// A classic pcap (LINKTYPE_RAW: packets start with the IPv4 header).
class Pcap {
 public:
  Pcap() {
    U32(0xa1b2c3d4);
    U16(2);
    U16(4);
    U32(0);
    U32(0);
    U32(65535);
    U32(101);
  }
  void Add(ByteSpan packet) {
    U32(++n_);
    U32(0);
    U32(static_cast<std::uint32_t>(packet.size()));
    U32(static_cast<std::uint32_t>(packet.size()));
    buf_.insert(buf_.end(), packet.begin(), packet.end());
  }
  const Bytes& bytes() const { return buf_; }

 private:
  void U16(std::uint16_t v) {
    for (int i = 0; i < 2; ++i) buf_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void U32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) buf_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  Bytes buf_;
  std::uint32_t n_ = 0;
};

Bytes Udp(bool from_initiator, std::uint16_t port, ByteSpan ike) {
  ip::Ipv4Header h;
  h.src = from_initiator ? Ipv4Address::FromOctets(198, 51, 100, 10)
                         : Ipv4Address::FromOctets(203, 0, 113, 2);
  h.dst = from_initiator ? Ipv4Address::FromOctets(203, 0, 113, 2)
                         : Ipv4Address::FromOctets(198, 51, 100, 10);
  h.protocol = 17;
  h.dont_fragment = true;
  Bytes payload;
  if (port == 4500) payload = {0, 0, 0, 0};  // non-ESP marker (RFC 3948 2.2)
  payload.insert(payload.end(), ike.begin(), ike.end());
  return ip::BuildIpv4Udp(h, port, port, payload).value();
}

IkeHeader Hdr(ExchangeType x, bool response, std::uint32_t mid) {
  IkeHeader h;
  h.spi_i = kSpiI;
  h.spi_r = x == ExchangeType::kIkeSaInit && !response ? 0 : kSpiR;
  h.exchange = x;
  h.initiator = !response;
  h.response = response;
  h.message_id = mid;
  return h;
}

Bytes InitRequest() {
  MessageBuilder b(Hdr(ExchangeType::kIkeSaInit, false, 0));
  b.Add(Payload::Sa({{test::IkeProposal(1), test::IkeProposal(2, DhId::kEcp256),
                      test::IkeProposal(3, DhId::kModp2048)}}));
  b.Add(Payload::Ke({static_cast<std::uint16_t>(DhId::kCurve25519), Seq(32)}));
  b.Add(Payload::Nonce({Seq(32, 0x40)}));
  NatDetectionDigest src{}, dst{};
  for (std::size_t i = 0; i < src.size(); ++i) {
    src[i] = static_cast<std::uint8_t>(i);
    dst[i] = static_cast<std::uint8_t>(0xff - i);
  }
  b.Add(Payload::Notify(MakeNatDetection(NotifyType::kNatDetectionSourceIp, src)));
  b.Add(Payload::Notify(MakeNatDetection(NotifyType::kNatDetectionDestinationIp, dst)));
  b.Add(Payload::Notify(NotifyPayload::Make(NotifyType::kIkev2FragmentationSupported)));
  b.Add(Payload::Notify(MakeSignatureHashAlgorithms({2, 3, 4})));
  b.Add(Payload::VendorId({Bytes(AsBytes("mipsec test").begin(), AsBytes("mipsec test").end())}));
  return b.Build().value();
}

Bytes InitResponse() {
  MessageBuilder b(Hdr(ExchangeType::kIkeSaInit, true, 0));
  b.Add(Payload::Sa({{test::IkeProposal(1)}}));
  b.Add(Payload::Ke({static_cast<std::uint16_t>(DhId::kCurve25519), Seq(32, 0x80)}));
  b.Add(Payload::Nonce({Seq(32, 0xc0)}));
  b.Add(Payload::Notify(MakeNatDetection(NotifyType::kNatDetectionSourceIp, {})));
  b.Add(Payload::Notify(MakeNatDetection(NotifyType::kNatDetectionDestinationIp, {})));
  b.Add(Payload::CertReq({CertEncoding::kX509Signature, Seq(40)}));
  b.Add(Payload::Notify(MakeInvalidKePayload(19)));
  return b.Build().value();
}

Bytes AuthRequest(SkCipher& cipher) {
  MessageBuilder b(Hdr(ExchangeType::kIkeAuth, false, 1));
  b.AddProtected(Payload::Idi(IdPayload::Fqdn("mn@example.org")));
  b.AddProtected(Payload::Notify(NotifyPayload::Make(NotifyType::kInitialContact)));
  b.AddProtected(Payload::Auth({AuthMethod::kSharedKeyMic, Seq(32)}));
  b.AddProtected(Payload::Cp({CfgType::kRequest,
                              {CfgAttribute::Empty(CfgAttr::kInternalIp4Address),
                               CfgAttribute::Empty(CfgAttr::kInternalIp4Dns)}}));
  b.AddProtected(Payload::Sa({{test::EspGcmProposal(1, 0xc1c2c3c4, 128)}}));
  b.AddProtected(
      Payload::Tsi({{TrafficSelector::Ipv4Range(Ipv4Address::Any(), Ipv4Address::Broadcast())}}));
  b.AddProtected(Payload::Tsr(
      {{TrafficSelector::Ipv4Range(Ipv4Address::FromOctets(10, 1, 0, 0),
                                   Ipv4Address::FromOctets(10, 1, 255, 255), 17, 434, 434)}}));
  b.AddProtected(Payload::Notify(NotifyPayload::Make(NotifyType::kMobikeSupported)));
  return b.BuildProtected(cipher).value();
}

Bytes Informational(SkCipher& cipher) {
  MessageBuilder b(Hdr(ExchangeType::kInformational, true, 2));
  b.AddProtected(Payload::Notify(MakeAdditionalIp4Address(Ipv4Address::FromOctets(192, 0, 2, 1))));
  b.AddProtected(Payload::Delete(DeletePayload::Esp({0xc1c2c3c4})));
  return b.BuildProtected(cipher).value();
}

class IkeTsharkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MIPSEC_REQUIRE_TSHARK();
    test::AesCbcHmacTestCipher from_i(kSkEi, kSkAi);
    test::AesCbcHmacTestCipher from_r(kSkEr, kSkAr);
    Pcap pcap;
    pcap.Add(Udp(true, 500, InitRequest()));
    pcap.Add(Udp(false, 500, InitResponse()));
    pcap.Add(Udp(true, 4500, AuthRequest(from_i)));
    pcap.Add(Udp(false, 4500, Informational(from_r)));
    pcap.Add(Udp(false, 500, Informational(from_r)));
    Result<std::string> path = testing::WriteTempFile("mipsec-ikev2", pcap.bytes());
    ASSERT_TRUE(path.ok());
    path_ = *path;
  }
  void TearDown() override {
    if (!path_.empty()) unlink(path_.c_str());
  }

  // tshark -T fields with the SK keys, one line per packet.
  std::string Fields(const std::vector<std::string>& fields, const std::string& filter = "") {
    std::vector<std::string> args = {"-o", DecryptionTable(), "-T", "fields", "-E", "aggregator=,"};
    if (!filter.empty()) args.insert(args.end(), {"-Y", filter});
    for (const std::string& f : fields) args.insert(args.end(), {"-e", f});
    Result<std::string> out = testing::RunTshark(path_, args);
    EXPECT_TRUE(out.ok()) << out.error().ToString();
    return out.value_or("");
  }

  static std::string DecryptionTable() {
    // The format of Wireshark's ikev2_decryption_table file: hex unquoted.
    return "uat:ikev2_decryption_table:" + ToHex(Spi(kSpiI)) + "," + ToHex(Spi(kSpiR)) + "," +
           ToHex(kSkEi) + "," + ToHex(kSkEr) + ",\"AES-CBC-128 [RFC3602]\"," + ToHex(kSkAi) + "," +
           ToHex(kSkAr) + ",\"HMAC_SHA2_256_128 [RFC4868]\"";
  }
  static Bytes Spi(std::uint64_t v) {
    wire::Writer w;
    w.U64(v);
    return std::move(w).Take();
  }

  std::string path_;
};

TEST_F(IkeTsharkTest, NoMalformedOrErrorItems) {
  Result<std::string> problems = testing::TsharkProblems(path_);
  ASSERT_TRUE(problems.ok()) << problems.error().ToString();
  EXPECT_EQ(*problems, "");
  // Also with the SK decrypted and its checksum verified.
  Result<std::string> decrypted = testing::RunTshark(
      path_, {"-o", DecryptionTable(), "-Y",
              "_ws.malformed || _ws.expert.severity >= 8388608 || isakmp.enc.pad_length.big"});
  ASSERT_TRUE(decrypted.ok()) << decrypted.error().ToString();
  EXPECT_EQ(*decrypted, "");
}

TEST_F(IkeTsharkTest, HeadersAsEncoded) {
  EXPECT_EQ(Fields({"udp.dstport", "isakmp.ispi", "isakmp.rspi", "isakmp.version",
                    "isakmp.exchangetype", "isakmp.flags", "isakmp.messageid"}),
            "500\t1a2b3c4d5e6f7081\t0000000000000000\t0x20\t34\t0x08\t0x00000000\n"
            "500\t1a2b3c4d5e6f7081\t92a3b4c5d6e7f809\t0x20\t34\t0x20\t0x00000000\n"
            "4500\t1a2b3c4d5e6f7081\t92a3b4c5d6e7f809\t0x20\t35\t0x08\t0x00000001\n"
            "4500\t1a2b3c4d5e6f7081\t92a3b4c5d6e7f809\t0x20\t37\t0x20\t0x00000002\n"
            "500\t1a2b3c4d5e6f7081\t92a3b4c5d6e7f809\t0x20\t37\t0x20\t0x00000002\n");
}

TEST_F(IkeTsharkTest, InitRequestPayloads) {
  EXPECT_EQ(Fields({"isakmp.prop.number", "isakmp.tf.id.encr", "isakmp.ike2.attr.key_length",
                    "isakmp.tf.id.dh", "isakmp.key_exchange.dh_group", "isakmp.nonce",
                    "isakmp.vid_bytes"},
                   "frame.number == 1"),
            "1,2,3\t12,12,12\t128,128,128\t31,19,14\t31\t" + ToHex(Seq(32, 0x40)) + "\t" +
                ToHex(AsBytes("mipsec test")) + "\n");
  // IKEV2_FRAGMENTATION_SUPPORTED has no data (tshark prints <MISSING>).
  EXPECT_EQ(Fields({"isakmp.notify.msgtype", "isakmp.notify.data",
                    "isakmp.notify.data.signature_hash_algorithms"},
                   "frame.number == 1"),
            "16388,16389,16430,16431\t" + ToHex(Seq(20, 0)) + "," +
                "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedec,<MISSING>,000200030004\t2,3,4\n");
}

TEST_F(IkeTsharkTest, InitResponsePayloads) {
  EXPECT_EQ(Fields({"isakmp.prop.number", "isakmp.certreq.type", "isakmp.notify.msgtype",
                    "isakmp.notify.data.accepted_dh_group"},
                   "frame.number == 2"),
            "1\t4\t16388,16389,17\t19\n");
}

TEST_F(IkeTsharkTest, EncryptedPayloadsDecryptAsEncoded) {
  // IKE_AUTH on 4500: tshark decrypts SK with our keys and sees the inner chain.
  EXPECT_EQ(Fields({"isakmp.id.data.fqdn", "isakmp.notify.msgtype", "isakmp.auth.method",
                    "isakmp.cfg.type", "isakmp.cfg.attr.type", "isakmp.prop.protoid", "isakmp.spi",
                    "isakmp.ike2.attr.key_length", "isakmp.ts.start_ipv4", "isakmp.ts.end_ipv4",
                    "isakmp.ts.start_port"},
                   "frame.number == 3"),
            "mn@example.org\t16384,16396\t2\t1\t1,3\t3\tc1c2c3c4\t128\t0.0.0.0,10.1.0.0\t"
            "255.255.255.255,10.1.255.255\t0,434\n");
  // INFORMATIONAL response on 4500 and on 500: 24 bytes of payloads, so
  // 7 bytes of padding and the Pad Length fill two AES blocks.
  EXPECT_EQ(Fields({"isakmp.notify.msgtype", "isakmp.delete.protoid", "isakmp.delete.spi",
                    "isakmp.enc.pad_length"},
                   "frame.number >= 4"),
            "16397\t3\tc1c2c3c4\t7\n16397\t3\tc1c2c3c4\t7\n");
}

}  // namespace
}  // namespace mipsec::ikev2

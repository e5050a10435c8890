// Real strongSwan 5.9.8 captures (../shared/vectors/ikev2/, see its
// README.md): every IKE message decodes with our outer decoder and re-encodes
// byte for byte; with the session keys from the capture's key table, every
// SK payload opens (AES-CBC-128 + HMAC-SHA2-256-128, our test cipher), its
// inner chain decodes and re-encodes to the exact plaintext, and the rule
// table accepts the message. Skipped when the folder is absent.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/ip/udp.h"
#include "ikev2/codec/codec_test_util.h"
#include "ikev2/codec/message.h"
#include "ikev2/codec/message_rules.h"
#include "ikev2/codec/notify_data.h"

namespace mipsec::ikev2 {
namespace {

namespace fs = std::filesystem;

fs::path VectorsDir() {
  return fs::path(MIPSEC_SOURCE_DIR) / ".." / "shared" / "vectors" / "ikev2";
}

struct IkeDatagram {
  std::string where;  // "file#frame"
  std::uint16_t dst_port;
  Bytes ike;  // the IKE message (non-ESP marker removed)
};

// The IKE messages in an Ethernet pcap: UDP 500, and UDP 4500 after the
// non-ESP marker (RFC 3948 2.2); ESP-in-UDP and keepalives are skipped.
std::vector<IkeDatagram> ReadIke(const fs::path& file) {
  std::vector<IkeDatagram> out;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(file.c_str(), err);
  EXPECT_NE(p, nullptr) << err;
  if (p == nullptr) return out;
  EXPECT_EQ(pcap_datalink(p), DLT_EN10MB);
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  int frame = 0;
  while (pcap_next_ex(p, &h, &data) == 1) {
    ++frame;
    ByteSpan pkt(data, h->caplen);
    if (pkt.size() < 14) continue;
    std::size_t off = 12;
    std::uint16_t ethertype = static_cast<std::uint16_t>(pkt[off] << 8 | pkt[off + 1]);
    off += 2;
    if (ethertype == 0x8100) {
      ethertype = static_cast<std::uint16_t>(pkt[off + 2] << 8 | pkt[off + 3]);
      off += 4;
    }
    if (ethertype != 0x0800) continue;
    // Captured on the sending host: checksums may be offloaded.
    Result<ip::Ipv4UdpPacket> u =
        ip::ParseIpv4Udp(pkt.subspan(off), {.verify_checksum = false}, {.verify_checksum = false});
    if (!u.ok()) continue;
    const std::uint16_t sport = u->udp.src_port;
    const std::uint16_t dport = u->udp.dst_port;
    ByteSpan payload = u->payload;
    if (sport == 4500 || dport == 4500 || (sport != 500 && dport != 500)) {
      // NAT-T ports (4500 or NAT-mapped): IKE only after the 4-zero marker.
      if (payload.size() < 4 || payload[0] || payload[1] || payload[2] || payload[3]) continue;
      payload = payload.subspan(4);
    }
    out.push_back({file.filename().string() + "#" + std::to_string(frame), dport,
                   Bytes(payload.begin(), payload.end())});
  }
  pcap_close(p);
  return out;
}

struct SaKeys {
  Bytes sk_ei, sk_er, sk_ai, sk_ar;
};

// wireshark-keys/ikev2_decryption_table: ispi,rspi,SK_ei,SK_er,"encr",SK_ai,SK_ar,"integ"
std::map<std::pair<std::uint64_t, std::uint64_t>, SaKeys> ReadKeys() {
  std::map<std::pair<std::uint64_t, std::uint64_t>, SaKeys> keys;
  std::ifstream f(VectorsDir() / "wireshark-keys" / "ikev2_decryption_table");
  std::string line;
  while (std::getline(f, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cols.push_back(c);
    if (cols.size() < 8) continue;
    const auto spi = [](const std::string& s) { return std::stoull(s, nullptr, 16); };
    keys[{spi(cols[0]), spi(cols[1])}] = {FromHex(cols[2]).value(), FromHex(cols[3]).value(),
                                          FromHex(cols[5]).value(), FromHex(cols[6]).value()};
  }
  return keys;
}

class VectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::is_directory(VectorsDir())) GTEST_SKIP() << "no " << VectorsDir();
    for (const auto& e : fs::directory_iterator(VectorsDir())) {
      if (e.path().extension() == ".pcap") files_.push_back(e.path());
    }
    std::sort(files_.begin(), files_.end());
    ASSERT_FALSE(files_.empty());
    keys_ = ReadKeys();
    ASSERT_EQ(keys_.size(), 3u);
  }

  // Decrypts and decodes one protected message; checks the inner chain
  // re-encodes to the exact decrypted content.
  Result<Message> Open(const IkeDatagram& d, const Message& outer) {
    auto it = keys_.find({outer.header.spi_i, outer.header.spi_r});
    if (it == keys_.end()) return Error(Errc::kNotFound, "no keys");
    const bool from_i = outer.header.initiator;
    test::AesCbcHmacTestCipher cipher(from_i ? it->second.sk_ei : it->second.sk_er,
                                      from_i ? it->second.sk_ai : it->second.sk_ar);
    Bytes copy = d.ike;
    Result<ByteSpan> content =
        OpenInPlace(copy, copy.size() - outer.encrypted->body.size(), cipher);
    if (!content.ok()) return content.error();
    Result<Message> m = DecodeProtected(d.ike, cipher);
    if (!m.ok()) return m;
    Result<Bytes> again = EncodePayloadChain(m->inner);
    EXPECT_TRUE(again.ok());
    EXPECT_EQ(ToHex(again.value_or(Bytes{})), ToHex(*content)) << d.where;
    return m;
  }

  std::vector<fs::path> files_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, SaKeys> keys_;
};

TEST_F(VectorsTest, EveryIkeMessageDecodesReencodesAndFollowsTheRules) {
  int messages = 0;
  int protected_messages = 0;
  for (const fs::path& file : files_) {
    for (const IkeDatagram& d : ReadIke(file)) {
      SCOPED_TRACE(d.where);
      ++messages;
      Result<Message> outer = DecodeMessage(d.ike);
      ASSERT_TRUE(outer.ok()) << outer.error().ToString();
      Result<Bytes> again = EncodeMessage(*outer);
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(ToHex(*again), ToHex(d.ike));
      if (!outer->is_protected()) {
        Status s = Validate(*outer);
        EXPECT_TRUE(s.ok()) << s.error().ToString();
        continue;
      }
      ++protected_messages;
      Result<Message> m = Open(d, *outer);
      ASSERT_TRUE(m.ok()) << m.error().ToString();
      Status s = Validate(*m);
      EXPECT_TRUE(s.ok()) << s.error().ToString();
    }
  }
  // 01: 4, 02/03 x2: 12 each, 04 x2: 4 each, 05: 5 (README frame counts minus ESP).
  EXPECT_GE(messages, 40);
  EXPECT_GE(protected_messages, 25);
}

TEST_F(VectorsTest, SetupContentsMatchTheReadme) {
  const std::vector<IkeDatagram> ike = ReadIke(VectorsDir() / "01-ikev2-setup-psk-cp.pcap");
  ASSERT_EQ(ike.size(), 4u);
  // IKE_SA_INIT request: SA KE Ni N(NAT_D x2, FRAG_SUP, SIGNATURE_HASH_ALGS, ...).
  Message init = DecodeMessage(ike[0].ike).value();
  EXPECT_EQ(init.header.exchange, ExchangeType::kIkeSaInit);
  EXPECT_EQ(init.header.spi_i, 0xb547b6c7fcde70aaull);
  const Proposal& p = init.Find(PayloadType::kSa)->As<SaPayload>()->proposals.at(0);
  EXPECT_EQ(p.Find(TransformType::kEncr)->KeyLength(), 128);
  EXPECT_EQ(p.Find(TransformType::kDh)->id, static_cast<std::uint16_t>(DhId::kCurve25519));
  EXPECT_EQ(init.Find(PayloadType::kKe)->As<KePayload>()->data.size(), 32u);
  EXPECT_TRUE(ParseNatDetection(*init.FindNotify(NotifyType::kNatDetectionSourceIp)).ok());
  EXPECT_NE(init.FindNotify(NotifyType::kIkev2FragmentationSupported), nullptr);
  Result<std::vector<std::uint16_t>> hashes =
      ParseSignatureHashAlgorithms(*init.FindNotify(NotifyType::kSignatureHashAlgorithms));
  ASSERT_TRUE(hashes.ok());
  EXPECT_FALSE(hashes->empty());

  // IKE_AUTH response (port 4500): CP(CFG_REPLY 192.0.2.129), ADDITIONAL_IP4_ADDRESS.
  EXPECT_EQ(ike[3].dst_port, 4500);
  Message outer = DecodeMessage(ike[3].ike).value();
  Result<Message> auth = Open(ike[3], outer);
  ASSERT_TRUE(auth.ok()) << auth.error().ToString();
  const CpPayload* cp = auth->Find(PayloadType::kCp)->As<CpPayload>();
  EXPECT_EQ(cp->cfg_type, CfgType::kReply);
  EXPECT_EQ(cp->Find(CfgAttr::kInternalIp4Address)->Ipv4Value(),
            Ipv4Address::FromOctets(192, 0, 2, 129));
  EXPECT_EQ(ParseAdditionalIp4Address(*auth->FindNotify(NotifyType::kAdditionalIp4Address)).value(),
            Ipv4Address::FromOctets(192, 0, 2, 1));
  EXPECT_EQ(auth->Find(PayloadType::kIdr)->As<IdPayload>()->data,
            Bytes(AsBytes("gw.example.org").begin(), AsBytes("gw.example.org").end()));
}

TEST_F(VectorsTest, MobikeUpdateAndRekeyCollision) {
  const std::vector<IkeDatagram> ike = ReadIke(VectorsDir() / "02-mobike-A-to-B.pcap");
  ASSERT_EQ(ike.size(), 12u);
  // Frame 3: UPDATE_SA_ADDRESSES + NAT_D x2 + COOKIE2 + NO_ADDITIONAL_ADDRESSES.
  Result<Message> update = Open(ike[2], DecodeMessage(ike[2].ike).value());
  ASSERT_TRUE(update.ok()) << update.error().ToString();
  EXPECT_NE(update->FindNotify(NotifyType::kUpdateSaAddresses), nullptr);
  EXPECT_TRUE(ParseCookie2(*update->FindNotify(NotifyType::kCookie2)).ok());
  EXPECT_NE(update->FindNotify(NotifyType::kNoAdditionalAddresses), nullptr);
  // Frames 4 and 6: CREATE_CHILD_SA requests from both sides with REKEY_SA.
  int rekeys = 0;
  for (std::size_t i : {3u, 5u}) {
    Result<Message> m = Open(ike[i], DecodeMessage(ike[i].ike).value());
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->header.exchange, ExchangeType::kCreateChildSa);
    EXPECT_FALSE(m->header.response);
    Result<RekeySa> r = ParseRekeySa(*m->FindNotify(NotifyType::kRekeySa));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->protocol, ProtocolId::kEsp);
    ++rekeys;
  }
  EXPECT_EQ(rekeys, 2);
}

}  // namespace
}  // namespace mipsec::ikev2

// Decrypts every ESP packet of the real strongSwan 5.9.8 captures in
// ../shared/vectors/ikev2/ with our Sa/SaTable, using the keys strongSwan
// wrote (wireshark-keys/esp_sa), and checks the inner packets against
// Wireshark's own decryption (the "ESP Contained Data" lines of the
// *.tshark-V.txt files). The files are read in place and never copied into
// the repository; the test skips when they are absent.
#include <pcap/pcap.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/ip/ipv4.h"
#include "esp/sa_table.h"
#include "esp/udp_encap.h"

namespace mipsec::esp {
namespace {

const std::filesystem::path kDir =
    std::filesystem::path(MIPSEC_SOURCE_DIR) / ".." / "shared" / "vectors" / "ikev2";

// "IPv4","*","*","0xSPI","encr","0xkey","auth","0xkey" (Wireshark's esp_sa UAT).
std::vector<std::string> SplitQuoted(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool in_quotes = false;
  for (char c : line) {
    if (c == '"') {
      in_quotes = !in_quotes;
    } else if (c == ',' && !in_quotes) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

Result<SaConfig> ParseEspSaLine(const std::string& line) {
  const std::vector<std::string> f = SplitQuoted(line);
  if (f.size() != 8 || f[3].rfind("0x", 0) != 0) {
    return Error(Errc::kMalformed, "esp_sa line: " + line);
  }
  SaConfig cfg;
  cfg.direction = Direction::kInbound;
  cfg.spi = static_cast<std::uint32_t>(std::stoul(f[3].substr(2), nullptr, 16));
  MIPSEC_ASSIGN_OR_RETURN(Bytes ekey, FromHex(f[5].substr(2)));
  if (f[4].rfind("AES-CBC", 0) == 0) {
    cfg.cipher = ekey.size() == 16 ? Cipher::kAesCbc128 : Cipher::kAesCbc256;
  } else if (f[4].rfind("AES-GCM with 16 octet ICV", 0) == 0) {
    cfg.cipher = ekey.size() == 20 ? Cipher::kAesGcm16_128 : Cipher::kAesGcm16_256;
  } else {
    return Error(Errc::kUnsupported, "esp_sa encryption " + f[4]);
  }
  cfg.enc_key = SecretBytes(ekey);
  if (f[6].rfind("HMAC-SHA-256-128", 0) == 0) {
    cfg.integrity = Integrity::kHmacSha256_128;
    MIPSEC_ASSIGN_OR_RETURN(Bytes akey, FromHex(f[7].substr(2)));
    cfg.integ_key = SecretBytes(akey);
  } else if (f[6] != "NULL") {
    return Error(Errc::kUnsupported, "esp_sa integrity " + f[6]);
  }
  return cfg;
}

// The inner packets Wireshark decrypted: (hex prefix, length) per packet.
std::vector<std::pair<std::string, std::size_t>> TsharkInner(const std::filesystem::path& p) {
  std::vector<std::pair<std::string, std::size_t>> out;
  std::ifstream in(p);
  std::string line;
  const std::string key = "ESP Contained Data: ";
  while (std::getline(in, line)) {
    const std::size_t at = line.find(key);
    if (at == std::string::npos) continue;
    std::string rest = line.substr(at + key.size());
    std::string hex;
    for (char c : rest) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) break;
      hex.push_back(c);
    }
    const std::size_t paren = rest.rfind('(');
    out.emplace_back(hex, std::stoul(rest.substr(paren + 1)));
  }
  return out;
}

class EspVectorsTest : public ::testing::TestWithParam<const char*> {};

TEST_P(EspVectorsTest, DecryptsEveryEspPacketLikeWireshark) {
  const std::filesystem::path pcap_path = kDir / (std::string(GetParam()) + ".pcap");
  const std::filesystem::path keys_path = kDir / "wireshark-keys" / "esp_sa";
  if (!std::filesystem::exists(pcap_path) || !std::filesystem::exists(keys_path)) {
    GTEST_SKIP() << "capture or keys not present under " << kDir;
  }
  SaTable table;
  std::ifstream keys(keys_path);
  std::string line;
  while (std::getline(keys, line)) {
    if (line.empty()) continue;
    Result<SaConfig> cfg = ParseEspSaLine(line);
    ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
    Result<Sa> sa = Sa::Create(*cfg);
    ASSERT_TRUE(sa.ok()) << sa.error().ToString();
    ASSERT_TRUE(table.Add(std::move(*sa)).ok());
  }

  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t* pcap = pcap_open_offline(pcap_path.c_str(), errbuf);
  ASSERT_NE(pcap, nullptr) << errbuf;
  ASSERT_EQ(pcap_datalink(pcap), DLT_EN10MB);
  const auto expected = TsharkInner(kDir / (std::string(GetParam()) + ".tshark-V.txt"));
  ASSERT_FALSE(expected.empty());

  std::size_t esp = 0, ike = 0;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(pcap, &hdr, &data) == 1) {
    ASSERT_GE(hdr->caplen, 14u);
    ASSERT_EQ(hdr->caplen, hdr->len);
    ASSERT_EQ(data[12] << 8 | data[13], 0x0800);
    // The capture point may be between a NAT and the gateway: IKE from port
    // 500 then goes to the NAT's mapped port, which a receiver behind the NAT
    // would see as 500 again. Such observer-only datagrams are IKE.
    const u_char* outer = data + 14;
    const std::size_t ihl = static_cast<std::size_t>(outer[0] & 0x0f) * 4;
    if (outer[9] == ip::kProtoUdp && hdr->caplen >= 14 + ihl + 8 &&
        (outer[ihl] << 8 | outer[ihl + 1]) == kIkePort) {
      ++ike;
      continue;
    }
    Bytes buf(kEncapHeadroom + hdr->caplen + kEncapTailroom);
    std::copy(data + 14, data + hdr->caplen, buf.begin() + kEncapHeadroom);
    PacketBuf pkt{buf, kEncapHeadroom, hdr->caplen - 14u};
    const PacketResult r = table.Decapsulate(Timestamp::Zero(), pkt, InputForm::kIpv4);
    if (r.action == Action::kToIke) {
      ++ike;
      continue;
    }
    ASSERT_EQ(r.action, Action::kDeliver)
        << "ESP packet " << esp << " spi " << r.spi << ": " << DropReasonName(r.reason);
    ASSERT_LT(esp, expected.size());
    const ByteSpan inner = pkt.packet();
    Result<ip::Ipv4Packet> ip4 = ip::ParseIpv4(inner);
    ASSERT_TRUE(ip4.ok()) << ip4.error().ToString();
    EXPECT_EQ(ip4->header.protocol, ip::kProtoIcmp);
    EXPECT_EQ(ip4->datagram.size(), inner.size());
    // 192.0.2.129 (the TIA) <-> 192.0.2.10.
    const Ipv4Address tia = Ipv4Address::FromOctets(192, 0, 2, 129);
    EXPECT_TRUE(ip4->header.src == tia || ip4->header.dst == tia);
    EXPECT_EQ(inner.size(), expected[esp].second) << "packet " << esp;
    const std::string hex = ToHex(inner);
    EXPECT_EQ(hex.substr(0, expected[esp].first.size()), expected[esp].first) << "packet " << esp;
    ++esp;
  }
  pcap_close(pcap);
  EXPECT_EQ(esp, expected.size());
  EXPECT_GT(ike, 0u);
  EXPECT_EQ(table.counters().unknown_spi, 0u);
}

INSTANTIATE_TEST_SUITE_P(Captures, EspVectorsTest,
                         ::testing::Values("01-ikev2-setup-psk-cp", "02-mobike-A-to-B",
                                           "03-mobike-B-to-natC-inside",
                                           "03-mobike-B-to-natC-outside", "04-natt-setup-inside",
                                           "04-natt-setup-outside", "05-esp-aes128gcm16"),
                         [](const auto& tpi) {
                           std::string n = tpi.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return "c" + n;
                         });

}  // namespace
}  // namespace mipsec::esp

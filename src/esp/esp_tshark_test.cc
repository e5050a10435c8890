// Wireshark as an independent oracle for our ESP output: packets built by
// Sa::Encapsulate (ESP-in-UDP, whole outer IPv4 packets) are written to a
// pcap and tshark, given the same keys through its esp_sa table, must find
// the ICV correct, decrypt the payload and see our trailer and inner packet.
#include <cstdio>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "esp/esp_test_util.h"
#include "esp/sa.h"
#include "testing/tshark/tshark.h"

namespace mipsec::esp {
namespace {

using esp::testing::InnerPacket;
using esp::testing::TestBuf;
using esp::testing::TestConfig;

// A pcap (LINKTYPE_IPV4 = 228) holding `packets`.
Bytes Pcap(const std::vector<Bytes>& packets) {
  Bytes out;
  auto u32 = [&out](std::uint32_t v) {  // little-endian, as written by this host
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  auto u16 = [&out](std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
  };
  u32(0xa1b2c3d4);
  u16(2);
  u16(4);
  u32(0);
  u32(0);
  u32(65535);
  u32(228);
  std::uint32_t t = 0;
  for (const Bytes& p : packets) {
    u32(++t);
    u32(0);
    u32(static_cast<std::uint32_t>(p.size()));
    u32(static_cast<std::uint32_t>(p.size()));
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

std::string HexKey(ByteSpan k) { return "0x" + ToHex(k); }

struct Case {
  Cipher cipher;
  Integrity integrity;
  const char* ws_encr;
  const char* ws_auth;
};

TEST(EspTsharkTest, WiresharkDecryptsAndAuthenticatesOurPackets) {
  MIPSEC_REQUIRE_TSHARK();
  const Case cases[] = {
      {Cipher::kAesGcm16_128, Integrity::kNone, "AES-GCM with 16 octet ICV [RFC4106]", "NULL"},
      {Cipher::kAesGcm16_256, Integrity::kNone, "AES-GCM with 16 octet ICV [RFC4106]", "NULL"},
      {Cipher::kAesCbc128, Integrity::kHmacSha256_128, "AES-CBC [RFC3602]",
       "HMAC-SHA-256-128 [RFC4868]"},
      {Cipher::kAesCbc256, Integrity::kHmacSha384_192, "AES-CBC [RFC3602]",
       "HMAC-SHA-384-192 [RFC4868]"},
      {Cipher::kAesCbc256, Integrity::kHmacSha512_256, "AES-CBC [RFC3602]",
       "HMAC-SHA-512-256 [RFC4868]"},
  };
  std::vector<Bytes> packets;
  std::vector<std::string> expected;
  std::vector<std::string> args = {"-n", "-o", "esp.enable_encryption_decode:TRUE", "-o",
                                   "esp.enable_authentication_check:TRUE"};
  std::uint32_t spi = 0x5000;
  for (const Case& c : cases) {
    ++spi;
    SaConfig cfg = TestConfig(Direction::kOutbound, c.cipher, c.integrity, false, spi,
                              static_cast<std::uint8_t>(spi));
    cfg.udp_encap = true;
    Result<Sa> sa = Sa::Create(cfg);
    ASSERT_TRUE(sa.ok());
    std::ostringstream uat;
    uat << "uat:esp_sa:\"IPv4\",\"*\",\"*\",\"0x" << std::hex << spi << "\",\"" << c.ws_encr
        << "\",\"" << HexKey(cfg.enc_key.Reveal()) << "\",\"" << c.ws_auth << "\",\""
        << (cfg.integ_key.empty() ? "" : HexKey(cfg.integ_key.Reveal())) << "\"";
    args.push_back("-o");
    args.push_back(uat.str());
    for (std::size_t n : {0u, 1u, 2u, 3u, 100u, 1372u}) {
      const Bytes inner = InnerPacket(n);
      TestBuf b(inner);
      PacketResult r = sa->Encapsulate(Timestamp::Zero(), b.pb, OuterForm::kIpv4);
      ASSERT_EQ(r.action, Action::kSend);
      packets.push_back(b.bytes());
      const std::size_t align = IsAead(c.cipher) ? 4 : 16;
      const std::size_t pad = (align - (inner.size() + 2) % align) % align;
      std::ostringstream line;
      line << "0x" << std::hex << std::setw(8) << std::setfill('0') << spi << std::dec << "\t"
           << r.seq << "\t" << pad << "\t0x04\t1\t198.51.100.10,192.0.2.129\t"
           << inner.size();
      expected.push_back(line.str());
    }
  }
  Result<std::string> pcap = mipsec::testing::WriteTempFile("esp_tshark", Pcap(packets));
  ASSERT_TRUE(pcap.ok());
  for (const char* f : {"-T", "fields", "-e", "esp.spi", "-e", "esp.sequence", "-e",
                        "esp.pad_len", "-e", "esp.protocol", "-e", "esp.icv_good", "-e",
                        "ip.src", "-e", "ip.len"}) {
    args.push_back(f);
  }
  Result<std::string> out = mipsec::testing::RunTshark(*pcap, args);
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  std::istringstream lines(*out);
  std::string line;
  std::vector<std::string> got;
  while (std::getline(lines, line)) {
    // ip.len lists the outer and the inner length; keep the inner one.
    const std::size_t tab = line.rfind('\t');
    const std::size_t comma = line.rfind(',');
    if (tab != std::string::npos && comma != std::string::npos && comma > tab) {
      line.erase(tab + 1, comma - tab);
    }
    got.push_back(line);
  }
  EXPECT_EQ(got, expected) << *out;
  Result<std::string> problems = mipsec::testing::TsharkProblems(*pcap);
  ASSERT_TRUE(problems.ok()) << problems.error().ToString();
  EXPECT_EQ(*problems, "");
  std::remove(pcap->c_str());
}

}  // namespace
}  // namespace mipsec::esp

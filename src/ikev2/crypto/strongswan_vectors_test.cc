// Opens the SK payloads of real strongSwan 5.9.8 captures with the IKE SA
// keys strongSwan logged (../shared/vectors/ikev2/, see its README.md; the
// files are read in place and never copied into the repository). Skips when
// the folder is absent.
//
// The codec is written separately, so this test walks the IKE header and
// generic payload headers itself (RFC 7296 3.1, 3.2).
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/random.h"
#include "ikev2/crypto/sk_ciphers.h"

namespace mipsec::ikev2 {
namespace {

namespace fs = std::filesystem;

fs::path VectorDir() { return fs::path(MIPSEC_SOURCE_DIR) / ".." / "shared" / "vectors" / "ikev2"; }

struct SaKeys {
  SecretBytes ei, er, ai, ar;
};

std::uint64_t Be64(ByteSpan b) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | b[static_cast<std::size_t>(i)];
  return v;
}
std::uint16_t Be16(ByteSpan b) { return static_cast<std::uint16_t>(b[0] << 8 | b[1]); }

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

SecretBytes KeyHex(const std::string& hex) {
  Result<Bytes> b = FromHex(hex);
  EXPECT_TRUE(b.ok()) << hex;
  return SecretBytes(ByteSpan(b.ok() ? *b : Bytes()));
}

// Wireshark's ikev2_decryption_table: ispi,rspi,SK_ei,SK_er,"encr",SK_ai,SK_ar,"integ".
// Only the algorithms these captures use are mapped.
std::map<std::pair<std::uint64_t, std::uint64_t>, SaKeys> LoadKeys(const fs::path& file) {
  std::map<std::pair<std::uint64_t, std::uint64_t>, SaKeys> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f = SplitCsv(line);
    if (f.size() != 8) continue;
    EXPECT_EQ(f[4].rfind("AES-CBC-128", 0), 0u) << "unexpected cipher " << f[4];
    EXPECT_EQ(f[7].rfind("HMAC_SHA2_256_128", 0), 0u) << "unexpected integrity " << f[7];
    Result<Bytes> spii = FromHex(f[0]);
    Result<Bytes> spir = FromHex(f[1]);
    if (!spii.ok() || !spir.ok() || spii->size() != 8 || spir->size() != 8) continue;
    out[{Be64(*spii), Be64(*spir)}] = SaKeys{KeyHex(f[2]), KeyHex(f[3]), KeyHex(f[5]),
                                             KeyHex(f[6])};
  }
  return out;
}

// The IKE message inside an Ethernet/IPv4/UDP frame (port 500, or 4500 after
// the non-ESP marker), or empty for anything else (ESP-in-UDP, keepalives).
Bytes IkeMessage(ByteSpan frame) {
  if (frame.size() < 14 + 20 || Be16(frame.subspan(12)) != 0x0800) return {};
  ByteSpan ip = frame.subspan(14);
  const std::size_t ihl = (ip[0] & 0x0f) * 4u;
  if (ip[9] != 17 || ip.size() < ihl + 8) return {};
  if ((Be16(ip.subspan(6)) & 0x3fff) != 0) return {};  // fragment: not in these captures
  ByteSpan udp = ip.subspan(ihl);
  const std::uint16_t sport = Be16(udp), dport = Be16(udp.subspan(2));
  ByteSpan payload = udp.subspan(8, std::min<std::size_t>(Be16(udp.subspan(4)) - 8u,
                                                          udp.size() - 8));
  if (sport == 4500 || dport == 4500) {
    // RFC 3948 2.2: IKE after a 4-byte zero marker; otherwise ESP.
    if (payload.size() < 4 ||
        !(payload[0] == 0 && payload[1] == 0 && payload[2] == 0 && payload[3] == 0)) {
      return {};
    }
    payload = payload.subspan(4);
  } else if (sport != 500 && dport != 500) {
    return {};
  }
  if (payload.size() < 28) return {};
  return Bytes(payload.begin(), payload.end());
}

struct FileResult {
  int ike_messages = 0;
  int encrypted = 0;
  int opened = 0;
};

// Walks the payloads of `msg`; opens an SK payload and checks the inner
// chain. Inconsistencies are test failures.
void CheckMessage(const Bytes& msg, const std::map<std::pair<std::uint64_t, std::uint64_t>,
                                                   SaKeys>& keys, FileResult* res) {
  ++res->ike_messages;
  const std::uint64_t spii = Be64(msg), spir = Be64(ByteSpan(msg).subspan(8));
  const std::uint8_t exchange = msg[18], flags = msg[19];
  const std::uint32_t length = static_cast<std::uint32_t>(msg[24]) << 24 | msg[25] << 16 |
                               msg[26] << 8 | msg[27];
  ASSERT_EQ(length, msg.size()) << "IKE header length";
  std::uint8_t next = msg[16];
  std::size_t off = 28;
  while (next != 0) {
    ASSERT_LE(off + 4, msg.size());
    const std::uint16_t plen = Be16(ByteSpan(msg).subspan(off + 2));
    ASSERT_GE(plen, 4);
    ASSERT_LE(off + plen, msg.size());
    if (next == static_cast<std::uint8_t>(PayloadType::kSk)) {
      ++res->encrypted;
      ASSERT_EQ(off + plen, msg.size()) << "SK must be the last payload";
      auto it = keys.find({spii, spir});
      ASSERT_NE(it, keys.end()) << "no keys for SPIs " << std::hex << spii << "/" << spir;
      // RFC 7296 3.1: the Initiator flag marks the original initiator.
      const bool from_initiator = (flags & 0x08) != 0;
      const SaKeys& k = it->second;
      Result<Suite> suite = Suite::ForIke(EncrId::kAesCbc, 128, PrfId::kHmacSha2_256,
                                          IntegId::kHmacSha2_256_128, DhId::kCurve25519);
      ASSERT_TRUE(suite.ok());
      DeterministicRandom rng(1);
      Result<std::unique_ptr<SkCipher>> c = MakeSkCipher(
          *suite, from_initiator ? k.ei : k.er, from_initiator ? k.ai : k.ar, rng);
      ASSERT_TRUE(c.ok());
      const std::size_t body = off + 4;

      // Tampered copies fail and stay as they were.
      for (std::size_t pos : {std::size_t{0}, std::size_t{20}, body, body + 16, msg.size() - 1}) {
        Bytes t = msg;
        t[pos] ^= 0x04;
        const Bytes before = t;
        Result<std::size_t> r = (*c)->Open(t, body);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code(), Errc::kAuthFailed);
        EXPECT_EQ(t, before);
      }
      // The other direction's keys fail too.
      Result<std::unique_ptr<SkCipher>> wrong = MakeSkCipher(
          *suite, from_initiator ? k.er : k.ei, from_initiator ? k.ar : k.ai, rng);
      ASSERT_TRUE(wrong.ok());
      Bytes w = msg;
      EXPECT_FALSE((*wrong)->Open(w, body).ok());

      Bytes m = msg;
      Result<std::size_t> n = (*c)->Open(m, body);
      ASSERT_TRUE(n.ok()) << n.error().ToString();
      ASSERT_EQ(*n, plen - 4u - 16u - 16u);
      ByteSpan plain = ByteSpan(m).subspan(body + 16, *n);
      const std::size_t pad = plain.back();
      ASSERT_LT(pad, *n);
      const std::size_t inner_len = *n - 1 - pad;
      // RFC 7296 3.14: the SK header's Next Payload is the first inner
      // payload; the inner chain must fill the inner length exactly.
      std::uint8_t inner_next = msg[off];
      std::size_t ioff = 0;
      std::vector<int> types;
      while (inner_next != 0) {
        ASSERT_LE(ioff + 4, inner_len);
        const std::uint16_t ilen = Be16(plain.subspan(ioff + 2));
        ASSERT_GE(ilen, 4);
        ASSERT_LE(ioff + ilen, inner_len);
        types.push_back(inner_next);
        inner_next = plain[ioff];
        ioff += ilen;
      }
      EXPECT_EQ(ioff, inner_len);
      // IKE_AUTH: the request starts with IDi, the response with IDr.
      if (exchange == static_cast<std::uint8_t>(ExchangeType::kIkeAuth)) {
        ASSERT_FALSE(types.empty());
        const bool response = (flags & 0x20) != 0;
        EXPECT_EQ(types[0], static_cast<int>(response ? PayloadType::kIdr : PayloadType::kIdi));
      }
      ++res->opened;
      return;
    }
    next = msg[off];
    off += plen;
  }
  EXPECT_EQ(exchange, static_cast<std::uint8_t>(ExchangeType::kIkeSaInit))
      << "only IKE_SA_INIT travels unencrypted";
}

TEST(StrongSwanVectorsTest, OpensEveryEncryptedPayload) {
  const fs::path dir = VectorDir();
  if (!fs::exists(dir / "wireshark-keys" / "ikev2_decryption_table")) {
    GTEST_SKIP() << "no strongSwan vectors at " << dir;
  }
  const auto keys = LoadKeys(dir / "wireshark-keys" / "ikev2_decryption_table");
  ASSERT_EQ(keys.size(), 3u);

  std::vector<fs::path> pcaps;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".pcap") pcaps.push_back(e.path());
  }
  std::sort(pcaps.begin(), pcaps.end());
  ASSERT_GE(pcaps.size(), 6u);
  int total_opened = 0;
  for (const fs::path& p : pcaps) {
    SCOPED_TRACE(p.filename().string());
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* h = pcap_open_offline(p.c_str(), err);
    ASSERT_NE(h, nullptr) << err;
    ASSERT_EQ(pcap_datalink(h), DLT_EN10MB);
    FileResult res;
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    while (pcap_next_ex(h, &hdr, &data) == 1) {
      ASSERT_EQ(hdr->caplen, hdr->len) << "truncated capture";
      Bytes msg = IkeMessage(ByteSpan(data, hdr->caplen));
      if (msg.empty()) continue;
      CheckMessage(msg, keys, &res);
      if (::testing::Test::HasFatalFailure()) break;
    }
    pcap_close(h);
    // Every IKE exchange after IKE_SA_INIT was decrypted.
    EXPECT_GT(res.encrypted, 0);
    EXPECT_EQ(res.opened, res.encrypted);
    total_opened += res.opened;
  }
  // 01: 2, 02/03 in/out: 12 each, 04 in/out: 2 each, 05: 4.
  EXPECT_EQ(total_opened, 2 + 12 * 3 + 2 * 2 + 4);
}

}  // namespace
}  // namespace mipsec::ikev2

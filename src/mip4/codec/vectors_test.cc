// The real Mobile IPv4 captures in ../shared/vectors/mip4 (third-party
// pcaps, see its README; never copied into this repository): every Mobile IP
// message (UDP port 434) and every ICMP type 9/10 packet decodes with our
// codec, with the field values tshark shows, and re-encodes to the same
// bytes where the encoding is canonical. Skipped when the folder is absent.
//
// Some juakali-mip files are junk by design: a Router Advertisement without
// a Mobility Agent Advertisement extension must be refused as "not an agent
// advertisement" (tshark shows no icmp.mip fields either); trailing zero
// bytes are One-byte Padding extensions (RFC 5944 1.8), which tshark reads
// as empty TLVs, so padding is left out of the extension comparison.
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "mip4/codec/agent_advertisement.h"
#include "mip4/codec/agent_solicitation.h"
#include "mip4/codec/auth_extension.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/cvse.h"
#include "mip4/codec/nai_extension.h"
#include "mip4/codec/nvse.h"
#include "mip4/codec/pdml_test_util.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/codec/registration_request.h"
#include "mip4/codec/tunnel_data.h"
#include "testing/tshark/tshark.h"

namespace mipsec::mip4 {
namespace {

namespace fs = std::filesystem;

fs::path VectorsDir() { return fs::path(MIPSEC_SOURCE_DIR) / ".." / "shared" / "vectors" / "mip4"; }

struct Frame {
  int number = 0;
  Bytes datagram;  // the IPv4 datagram (link layer removed)
};

// Reads the IPv4 datagrams of an Ethernet (or raw IP) capture with libpcap.
std::vector<Frame> ReadIpv4Frames(const std::string& path) {
  std::vector<Frame> out;
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  EXPECT_NE(p, nullptr) << err;
  if (p == nullptr) return out;
  const int link = pcap_datalink(p);
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  int n = 0;
  while (pcap_next_ex(p, &h, &data) == 1) {
    ++n;
    ByteSpan b(data, h->caplen);
    if (link == DLT_EN10MB) {
      if (b.size() < 14) continue;
      std::size_t off = 12;
      std::uint16_t ethertype = static_cast<std::uint16_t>(b[off] << 8 | b[off + 1]);
      if (ethertype == 0x8100 && b.size() >= 18) {
        off += 4;
        ethertype = static_cast<std::uint16_t>(b[off] << 8 | b[off + 1]);
      }
      if (ethertype != 0x0800) continue;
      b = b.subspan(off + 2);
    } else if (link != DLT_RAW) {
      ADD_FAILURE() << path << ": unexpected link type " << link;
      break;
    }
    out.push_back({n, Bytes(b.begin(), b.end())});
  }
  pcap_close(p);
  return out;
}

// Our canonical encoding of a parsed registration message: the fixed part
// re-encoded from the decoded fields, each extension through its typed
// encoder where there is one.
Bytes Reencode(MessageBuilder b, const ExtensionList& list) {
  for (const Extension& e : list) {
    if (e.format == ExtensionFormat::kPadding) {
      b.AppendPadding();
    } else if (e.recognized && IsAuthExtension(e.type)) {
      Result<AuthExtension> a = DecodeAuthExtension(e);
      EXPECT_TRUE(a.ok() && b.AppendAuthRaw(a->type, a->spi, a->authenticator).ok());
    } else if (e.recognized && e.type == kExtNai) {
      EXPECT_TRUE(b.AppendNai(*DecodeNai(e)).ok());
    } else if (e.format == ExtensionFormat::kShort) {
      EXPECT_TRUE(b.AppendShort(e.type, e.sub_type, e.data).ok());
    } else if (e.format == ExtensionFormat::kLong) {
      EXPECT_TRUE(b.AppendLong(e.type, e.sub_type, e.data).ok());
    } else {
      EXPECT_TRUE(b.AppendTlv(e.type, e.data).ok());
    }
  }
  return std::move(b).Take();
}

struct Totals {
  int requests = 0, replies = 0, tunnel_data = 0, advertisements = 0, not_agent_adv = 0,
      solicitations = 0, reencoded = 0;
};

void CheckFile(const fs::path& pcap, Totals& t) {
  const std::string ctx_file = pcap.parent_path().filename().string() + "/" +
                               pcap.filename().string();
  Result<std::vector<testing::PdmlPacket>> pdml =
      testing::TsharkPdml(pcap.string(), "mip || icmp.type == 9 || icmp.type == 10");
  ASSERT_TRUE(pdml.ok()) << pdml.error().ToString();
  std::map<int, const testing::PdmlPacket*> by_frame;
  for (const testing::PdmlPacket& p : *pdml) by_frame[p.number] = &p;

  std::set<int> ours;
  for (const Frame& f : ReadIpv4Frames(pcap.string())) {
    const std::string ctx = ctx_file + " frame " + std::to_string(f.number);
    Result<ip::Ipv4Packet> ipp = ip::ParseIpv4(f.datagram, {.verify_checksum = false});
    if (!ipp.ok() || ipp->header.IsFragment()) continue;
    const ip::Ipv4Header& h = ipp->header;
    if (h.protocol == ip::kProtoUdp) {
      Result<ip::UdpDatagram> u =
          ip::ParseUdp(ipp->payload, h.src, h.dst, {.verify_checksum = false});
      if (!u.ok() || (u->header.src_port != kMip4Port && u->header.dst_port != kMip4Port)) {
        continue;
      }
      ours.insert(f.number);
      auto it = by_frame.find(f.number);
      ASSERT_NE(it, by_frame.end()) << ctx << ": tshark does not see Mobile IP";
      const ByteSpan mip = u->payload;
      testing::ExpectMipMatchesTshark(*it->second, mip, ctx);
      if (mip[0] == kMsgRegistrationRequest) {
        ++t.requests;
        Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(mip);
        ASSERT_TRUE(p.ok());
        EXPECT_EQ(ToHex(Reencode(MessageBuilder::Request(p->request), p->extensions)),
                  ToHex(mip))
            << ctx;
        ++t.reencoded;
      } else if (mip[0] == kMsgRegistrationReply) {
        ++t.replies;
        Result<ParsedRegistrationReply> p = ParseRegistrationReply(mip);
        ASSERT_TRUE(p.ok());
        EXPECT_EQ(ToHex(Reencode(MessageBuilder::Reply(p->reply), p->extensions)), ToHex(mip))
            << ctx;
        ++t.reencoded;
      } else if (mip[0] == kMsgTunnelData) {
        ++t.tunnel_data;
      }
    } else if (h.protocol == ip::kProtoIcmp && !ipp->payload.empty() &&
               (ipp->payload[0] == 9 || ipp->payload[0] == 10)) {
      ours.insert(f.number);
      auto it = by_frame.find(f.number);
      ASSERT_NE(it, by_frame.end()) << ctx;
      const testing::PdmlPacket& pkt = *it->second;
      const ByteSpan icmp = ipp->payload;
      if (icmp[0] == 10) {
        ++t.solicitations;
        Result<AgentSolicitation> s = ParseAgentSolicitation(icmp);
        EXPECT_EQ(s.ok(), pkt.First("icmp.code") == "0") << ctx;
        if (s.ok() && s->reserved == 0 && icmp.size() == 8) {
          EXPECT_EQ(ToHex(BuildAgentSolicitation()), ToHex(icmp)) << ctx;
          ++t.reencoded;
        }
        continue;
      }
      Result<ParsedAgentAdvertisement> a = ParseAgentAdvertisement(icmp);
      if (!pkt.Has("icmp.mip.type")) {
        // A plain Router Advertisement: not for us.
        ASSERT_FALSE(a.ok()) << ctx;
        EXPECT_EQ(a.error().code(), Errc::kNotFound) << ctx << ": " << a.error().ToString();
        ++t.not_agent_adv;
        continue;
      }
      ++t.advertisements;
      testing::ExpectAdvertisementMatchesTshark(pkt, icmp, ctx);
      if (a.ok() && a->IsCanonical()) {
        Result<Bytes> again = BuildAgentAdvertisement(a->advertisement);
        ASSERT_TRUE(again.ok());
        EXPECT_EQ(ToHex(*again), ToHex(icmp)) << ctx;
        ++t.reencoded;
      }
    }
  }
  // Every packet tshark calls Mobile IP / router discovery is one of ours.
  for (const auto& [number, p] : by_frame) {
    EXPECT_TRUE(ours.count(number)) << ctx_file << " frame " << number
                                    << ": tshark sees Mobile IP, we did not";
  }
}

TEST(Mip4VectorsTest, EveryCaptureDecodesLikeTshark) {
  MIPSEC_REQUIRE_TSHARK();
  const fs::path dir = VectorsDir();
  if (!fs::is_directory(dir)) GTEST_SKIP() << dir << " absent";
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".pcap") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  Totals t;
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    CheckFile(f, t);
  }
  std::printf("mip4 vectors: %zu files, %d requests, %d replies, %d tunnel data, "
              "%d advertisements (%d plain router advertisements refused), %d solicitations, "
              "%d re-encoded byte for byte\n",
              files.size(), t.requests, t.replies, t.tunnel_data, t.advertisements,
              t.not_agent_adv, t.solicitations, t.reencoded);
  // The README promises registrations and advertisements in these files.
  EXPECT_GT(t.requests, 10);
  EXPECT_GT(t.replies, 10);
  EXPECT_GT(t.advertisements, 100);
  EXPECT_GT(t.reencoded, 100);
}

}  // namespace
}  // namespace mipsec::mip4

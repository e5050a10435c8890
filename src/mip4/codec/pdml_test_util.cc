#include "mip4/codec/pdml_test_util.h"

#include <pcap/pcap.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <gtest/gtest.h>

#include "mip4/codec/agent_advertisement.h"
#include "mip4/codec/auth_extension.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/nai_extension.h"
#include "mip4/codec/prefix_lengths_extension.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/codec/registration_request.h"
#include "mip4/codec/tunnel_data.h"
#include "mip4/codec/udp_tunnel_reply.h"
#include "mip4/codec/udp_tunnel_request.h"
#include "testing/tshark/tshark.h"

namespace mipsec::mip4::testing {

namespace {

std::string Unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const std::size_t semi = s.find(';', i);
    if (semi == std::string::npos) {
      out += s[i];
      continue;
    }
    const std::string ent = s.substr(i + 1, semi - i - 1);
    if (ent == "quot") out += '"';
    else if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "apos") out += '\'';
    else out += "&" + ent + ";";
    i = semi;
  }
  return out;
}

// The value of attribute `attr` (preceded by a space) in `line`.
std::string Attr(const std::string& line, const std::string& attr) {
  const std::string key = " " + attr + "=\"";
  const std::size_t at = line.find(key);
  if (at == std::string::npos) return "";
  const std::size_t start = at + key.size();
  const std::size_t end = line.find('"', start);
  if (end == std::string::npos) return "";
  return Unescape(line.substr(start, end - start));
}

}  // namespace

std::vector<std::string> PdmlPacket::All(const std::string& name) const {
  std::vector<std::string> out;
  for (const PdmlField& f : fields) {
    if (f.name == name) out.push_back(f.show);
  }
  return out;
}

std::string PdmlPacket::First(const std::string& name) const {
  for (const PdmlField& f : fields) {
    if (f.name == name) return f.show;
  }
  return "";
}

std::string PdmlPacket::FirstValue(const std::string& name) const {
  for (const PdmlField& f : fields) {
    if (f.name == name) return f.value;
  }
  return "";
}

Result<std::vector<PdmlPacket>> TsharkPdml(const std::string& pcap, const std::string& filter) {
  std::vector<std::string> args = {"-T", "pdml"};
  if (!filter.empty()) args.insert(args.end(), {"-Y", filter});
  MIPSEC_ASSIGN_OR_RETURN(std::string xml, mipsec::testing::RunTshark(pcap, args));
  std::vector<PdmlPacket> packets;
  std::istringstream in(xml);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("<packet>") != std::string::npos) {
      packets.emplace_back();
      continue;
    }
    if (packets.empty() || line.find("<field ") == std::string::npos) continue;
    PdmlField f{Attr(line, "name"), Attr(line, "show"), Attr(line, "value")};
    if (f.name == "num" && packets.back().number == 0) {
      packets.back().number = std::atoi(f.show.c_str());
    }
    packets.back().fields.push_back(std::move(f));
  }
  return packets;
}

Result<std::string> WriteRawIpPcap(const std::vector<Bytes>& datagrams) {
  MIPSEC_ASSIGN_OR_RETURN(std::string path, mipsec::testing::WriteTempFile("mipsec-mip4", {}));
  pcap_t* dead = pcap_open_dead(DLT_RAW, 65535);
  if (dead == nullptr) return Error(Errc::kSystem, "pcap_open_dead failed");
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  if (d == nullptr) {
    std::string err = pcap_geterr(dead);
    pcap_close(dead);
    return Error(Errc::kSystem, "pcap_dump_open: " + err);
  }
  long usec = 0;
  for (const Bytes& dg : datagrams) {
    pcap_pkthdr h{};
    h.ts.tv_sec = 1700000000;
    h.ts.tv_usec = usec;
    usec += 1000;
    h.caplen = h.len = static_cast<bpf_u_int32>(dg.size());
    pcap_dump(reinterpret_cast<u_char*>(d), &h, dg.data());
  }
  pcap_dump_close(d);
  pcap_close(dead);
  return path;
}

}  // namespace mipsec::mip4::testing

namespace mipsec::mip4::testing {

namespace {

std::string Hex(std::uint64_t v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

std::string IdentHex(std::uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string B(bool b) { return b ? "1" : "0"; }

// Extension types, padding left out: tshark reads type 0 as a TLV.
std::vector<std::string> ExtTypes(const ExtensionList& list) {
  std::vector<std::string> out;
  for (const Extension& e : list) {
    if (e.type != kExtPadding) out.push_back(std::to_string(e.type));
  }
  return out;
}

std::vector<std::string> NonZero(std::vector<std::string> v) {
  std::erase(v, "0");
  return v;
}

void ExpectExtensions(const PdmlPacket& pkt, const ExtensionList& list,
                      const std::string& context) {
  EXPECT_EQ(NonZero(pkt.All("mip.ext.type")), ExtTypes(list)) << context;
  std::vector<std::string> spis;
  for (std::size_t i = 0; i < CountAuthExtensions(list); ++i) {
    Result<AuthCoverage> c = AuthenticationCoverage(list, i);
    ASSERT_TRUE(c.ok()) << context;
    spis.push_back(Hex(c->spi, 8));
  }
  EXPECT_EQ(pkt.All("mip.auth.spi"), spis) << context;
  std::vector<std::string> nais;
  for (const Extension& e : list) {
    if (e.type == kExtNai && e.recognized) nais.push_back(*DecodeNai(e));
  }
  EXPECT_EQ(pkt.All("mip.nai"), nais) << context;
  if (const Extension* e = list.First(kExtUdpTunnelRequest)) {
    Result<UdpTunnelRequest> r = DecodeUdpTunnelRequest(*e);
    ASSERT_TRUE(r.ok()) << context;
    EXPECT_EQ(pkt.First("mip.ext.utrq.f"), B(r->force)) << context;
    EXPECT_EQ(pkt.First("mip.ext.utrq.r"), B(r->registration_through_fa)) << context;
    EXPECT_EQ(pkt.First("mip.ext.utrq.encaptype"), std::to_string(r->encapsulation)) << context;
  }
  if (const Extension* e = list.First(kExtUdpTunnelReply)) {
    Result<UdpTunnelReply> r = DecodeUdpTunnelReply(*e);
    ASSERT_TRUE(r.ok()) << context;
    EXPECT_EQ(pkt.First("mip.ext.utrp.code"), std::to_string(r->reply_code)) << context;
    EXPECT_EQ(pkt.First("mip.ext.utrp.f"), B(r->forced)) << context;
    EXPECT_EQ(pkt.First("mip.ext.utrp.keepalive"), std::to_string(r->keepalive_interval))
        << context;
  }
}

}  // namespace

void ExpectMipMatchesTshark(const PdmlPacket& pkt, ByteSpan mip, const std::string& context) {
  ASSERT_FALSE(mip.empty()) << context;
  EXPECT_EQ(pkt.First("mip.type"), std::to_string(mip[0])) << context;
  switch (mip[0]) {
    case kMsgRegistrationRequest: {
      Result<ParsedRegistrationRequest> p = ParseRegistrationRequest(mip);
      ASSERT_TRUE(p.ok()) << context << ": " << p.error().ToString();
      const RegistrationRequest& q = p->request;
      EXPECT_EQ(pkt.First("mip.flags"), Hex(q.FlagsByte(), 2)) << context;
      EXPECT_EQ(pkt.First("mip.s"), B(q.simultaneous_bindings)) << context;
      EXPECT_EQ(pkt.First("mip.b"), B(q.broadcast)) << context;
      EXPECT_EQ(pkt.First("mip.d"), B(q.decapsulation_by_mn)) << context;
      EXPECT_EQ(pkt.First("mip.m"), B(q.minimal_encapsulation)) << context;
      EXPECT_EQ(pkt.First("mip.g"), B(q.gre)) << context;
      EXPECT_EQ(pkt.First("mip.v"), B(q.reserved_r)) << context;
      EXPECT_EQ(pkt.First("mip.t"), B(q.reverse_tunnel)) << context;
      EXPECT_EQ(pkt.First("mip.x"), B(q.reserved_x)) << context;
      EXPECT_EQ(pkt.First("mip.life"), std::to_string(q.lifetime)) << context;
      EXPECT_EQ(pkt.First("mip.homeaddr"), q.home_address.ToString()) << context;
      EXPECT_EQ(pkt.First("mip.haaddr"), q.home_agent.ToString()) << context;
      EXPECT_EQ(pkt.First("mip.coa"), q.care_of_address.ToString()) << context;
      EXPECT_EQ(pkt.FirstValue("mip.ident"), IdentHex(q.identification)) << context;
      ExpectExtensions(pkt, p->extensions, context);
      break;
    }
    case kMsgRegistrationReply: {
      Result<ParsedRegistrationReply> p = ParseRegistrationReply(mip);
      ASSERT_TRUE(p.ok()) << context << ": " << p.error().ToString();
      const RegistrationReply& r = p->reply;
      EXPECT_EQ(pkt.First("mip.code"), std::to_string(r.code)) << context;
      EXPECT_EQ(pkt.First("mip.life"), std::to_string(r.lifetime)) << context;
      EXPECT_EQ(pkt.First("mip.homeaddr"), r.home_address.ToString()) << context;
      EXPECT_EQ(pkt.First("mip.haaddr"), r.home_agent.ToString()) << context;
      EXPECT_EQ(pkt.FirstValue("mip.ident"), IdentHex(r.identification)) << context;
      ExpectExtensions(pkt, p->extensions, context);
      break;
    }
    case kMsgTunnelData: {
      Result<TunnelData> t = ParseTunnelData(mip);
      ASSERT_TRUE(t.ok()) << context;
      EXPECT_EQ(pkt.First("mip.nattt.nexthdr"), std::to_string(t->next_header)) << context;
      break;
    }
    default:
      ADD_FAILURE() << context << ": message type " << int{mip[0]} << " not handled";
  }
}

void ExpectAdvertisementMatchesTshark(const PdmlPacket& pkt, ByteSpan icmp,
                                      const std::string& context) {
  Result<ParsedAgentAdvertisement> p = ParseAgentAdvertisement(icmp);
  ASSERT_TRUE(p.ok()) << context << ": " << p.error().ToString();
  const AgentAdvertisement& a = p->advertisement;
  const MobilityAgentExtension& m = a.mobility;
  EXPECT_EQ(pkt.First("icmp.type"), "9") << context;
  EXPECT_EQ(pkt.First("icmp.code"), std::to_string(a.code)) << context;
  EXPECT_EQ(pkt.First("icmp.checksum.status"), "1") << context;  // good
  EXPECT_EQ(pkt.First("icmp.num_addrs"), std::to_string(a.routers.size())) << context;
  EXPECT_EQ(pkt.First("icmp.addr_entry_size"), std::to_string(p->addr_entry_size)) << context;
  EXPECT_EQ(pkt.First("icmp.lifetime"), std::to_string(a.lifetime)) << context;
  std::vector<std::string> routers, prefs;
  for (const RouterAddress& r : a.routers) {
    routers.push_back(r.address.ToString());
    prefs.push_back(std::to_string(r.preference));
  }
  EXPECT_EQ(pkt.All("icmp.router_address"), routers) << context;
  EXPECT_EQ(pkt.All("icmp.pref_level"), prefs) << context;
  std::vector<std::string> types;
  for (const Extension& e : p->extensions) types.push_back(std::to_string(e.type));
  EXPECT_EQ(pkt.All("icmp.mip.type"), types) << context;
  EXPECT_EQ(pkt.First("icmp.mip.seq"), std::to_string(m.sequence)) << context;
  EXPECT_EQ(pkt.First("icmp.mip.life"), std::to_string(m.registration_lifetime)) << context;
  EXPECT_EQ(pkt.First("icmp.mip.flags"), Hex(m.FlagsWord(), 4)) << context;
  EXPECT_EQ(pkt.First("icmp.mip.r"), B(m.registration_required)) << context;
  EXPECT_EQ(pkt.First("icmp.mip.b"), B(m.busy)) << context;
  EXPECT_EQ(pkt.First("icmp.mip.h"), B(m.home_agent)) << context;
  EXPECT_EQ(pkt.First("icmp.mip.f"), B(m.foreign_agent)) << context;
  EXPECT_EQ(pkt.First("icmp.mip.m"), B(m.minimal_encapsulation)) << context;
  EXPECT_EQ(pkt.First("icmp.mip.g"), B(m.gre)) << context;
  EXPECT_EQ(pkt.First("icmp.mip.rt"), B(m.reverse_tunnel)) << context;
  EXPECT_EQ(pkt.First("icmp.mip.u"), B(m.udp_tunnel)) << context;
  EXPECT_EQ(pkt.First("icmp.mip.x"), B(m.revocation)) << context;
  std::vector<std::string> coas;
  for (Ipv4Address c : m.care_of_addresses) coas.push_back(c.ToString());
  EXPECT_EQ(pkt.All("icmp.mip.coa"), coas) << context;
  std::vector<std::string> plens;
  if (a.prefix_lengths) {
    for (std::uint8_t l : *a.prefix_lengths) plens.push_back(std::to_string(l));
  }
  EXPECT_EQ(pkt.All("icmp.mip.prefixlength"), plens) << context;
}

}  // namespace mipsec::mip4::testing

// Writes the seed corpus in fuzz/corpus/ with mipsec's own encoders:
//
//   build/<dir>/fuzz/fuzz_gen_corpus fuzz/corpus
//
// Seeds are small valid inputs plus edge cases (minimum sizes, options,
// fragments, padding, nested tunnels). The files are committed; rerun this
// only when a codec changes shape. Output is deterministic.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>

#include "common/bytes.h"
#include "common/ip/icmp.h"
#include "common/ip/ipip.h"
#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "common/wire/writer.h"

using namespace mipsec;  // NOLINT: a tool, not library code

namespace {

std::filesystem::path g_root;
int g_written = 0;

void Write(const std::string& target, const std::string& name, ByteSpan bytes) {
  const std::filesystem::path dir = g_root / target;
  std::filesystem::create_directories(dir);
  std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ++g_written;
}

Ipv4Address A(const char* s) { return *Ipv4Address::Parse(s); }

Bytes Pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 13 + 1);
  return b;
}

Bytes Udp(const char* src, const char* dst, std::size_t len, bool df = true) {
  ip::Ipv4Header h;
  h.src = A(src);
  h.dst = A(dst);
  h.dont_fragment = df;
  h.identification = 0x1c46;
  return *ip::BuildIpv4Udp(h, 434, 434, Pattern(len));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  g_root = argv[1];

  // ipv4
  const Bytes udp = Udp("192.0.2.10", "198.51.100.1", 24);
  Write("ipv4", "udp_df", udp);
  {
    ip::Ipv4Header h;
    h.src = A("10.0.0.1");
    h.dst = A("10.0.0.2");
    Write("ipv4", "header_only", *ip::BuildIpv4(h, {}));
    const Bytes ra = {0x94, 0x04, 0x00, 0x00};  // Router Alert
    h.options = ra;
    h.protocol = ip::kProtoIcmp;
    h.tos = 0xb9;
    Write("ipv4", "options_router_alert", *ip::BuildIpv4(h, Pattern(9)));
    Bytes opts40(40, 0x01);  // NOPs: the largest header
    opts40[39] = 0x00;
    h.options = opts40;
    Write("ipv4", "ihl15", *ip::BuildIpv4(h, Pattern(3)));
    h.options = {};
    h.more_fragments = true;
    h.fragment_offset = 185;
    h.protocol = ip::kProtoUdp;
    Write("ipv4", "fragment", *ip::BuildIpv4(h, Pattern(16)));
  }
  {
    Bytes padded = Udp("10.0.0.1", "10.0.0.2", 2);
    padded.resize(60, 0);  // Ethernet minimum frame padding
    Write("ipv4", "padded", padded);
  }

  // udp: 4-byte source, 4-byte destination, segment
  for (auto [name, len, csum] : {std::tuple{"mip_434", 24u, true},
                                 std::tuple{"empty_payload", 0u, true},
                                 std::tuple{"no_checksum", 11u, false}}) {
    wire::Writer w;
    w.U32(A("192.0.2.10").ToHostOrder()).U32(A("198.51.100.1").ToHostOrder());
    w.Append(*ip::BuildUdp(A("192.0.2.10"), A("198.51.100.1"), 434, 434, Pattern(len), csum));
    Write("udp", name, w.View());
  }
  Write("udp", "ipv4_udp", udp);

  // icmp: bare messages and whole datagrams
  const Bytes echo = ip::BuildIcmpEchoRequest(0x1e65, 1, Pattern(24));
  Write("icmp", "echo_request", echo);
  Write("icmp", "echo_reply", ip::BuildIcmpEchoReply(0x1e65, 1, Pattern(7)));
  const Bytes frag_needed =
      *ip::BuildIcmpDestinationUnreachable(ip::kIcmpFragmentationNeeded, udp, 1400);
  Write("icmp", "frag_needed", frag_needed);
  Write("icmp", "time_exceeded", *ip::BuildIcmpTimeExceeded(ip::kIcmpTtlExceeded, udp));
  Write("icmp", "router_advertisement_like",
        ip::BuildIcmp(ip::kIcmpRouterAdvertisement, 16, 0x01021800, Pattern(8)));
  Write("icmp", "ipv4_echo", *ip::BuildIcmpPacket(A("10.0.0.1"), A("10.0.0.2"), echo));
  Write("icmp", "ipv4_frag_needed",
        *ip::BuildIcmpPacket(A("10.1.0.1"), A("192.0.2.10"), frag_needed));
  Write("icmp", "original_udp", udp);

  // ipip: outer datagrams
  ip::IpipEncapsulateOptions o;
  o.identification = 7;
  const Bytes tunnelled = *ip::IpipEncapsulate(udp, A("10.1.0.1"), A("198.51.100.77"), o);
  Write("ipip", "udp_in_ipip", tunnelled);
  o.forwarding = false;
  Write("ipip", "icmp_in_ipip",
        *ip::IpipEncapsulate(*ip::BuildIcmpPacket(A("10.1.0.20"), A("203.0.113.5"), echo),
                             A("198.51.100.77"), A("10.1.0.1"), o));
  Write("ipip", "nested", *ip::IpipEncapsulate(tunnelled, A("10.9.0.1"), A("10.9.0.2"), o));
  Write("ipip", "inner_udp", udp);

  // wire_reader: length 2 bytes, data, program (see fuzz_wire_reader.cc)
  {
    wire::Writer w;
    const Bytes data = Pattern(40);
    w.U16(static_cast<std::uint16_t>(data.size())).Append(data);
    // u8 u16 u24 u32 u64 span(5) copy(3) sub(6) [u8 u16 pop] skip(2) peek8 peek16 takerest
    const Bytes prog = {0, 1, 2, 3, 4, 5, 5, 6, 3, 7, 6, 0, 1, 12, 8, 2, 10, 11, 9};
    w.Append(prog);
    Write("wire_reader", "every_op", w.View());
    wire::Writer t;
    t.U16(4).Append(Pattern(4)).U8(3).U8(5).U8(0xff).U8(4);  // u32, span(huge) fails, u64 fails
    Write("wire_reader", "truncations", t.View());
    wire::Writer n;
    n.U16(30).Append(Pattern(30));
    for (int i = 0; i < 9; ++i) n.U8(7).U8(static_cast<std::uint8_t>(28 - 3 * i));  // nest deep
    n.U8(9);
    Write("wire_reader", "nested_subs", n.View());
  }

  std::printf("wrote %d seed files under %s\n", g_written, argv[1]);
  return 0;
}

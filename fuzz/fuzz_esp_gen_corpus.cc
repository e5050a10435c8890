// Writes the seed corpus of fuzz_esp_decap with our own encapsulator:
//
//   build/<dir>/fuzz/fuzz_esp_gen_corpus fuzz/corpus
//
// For every fixed SA of fuzz_esp_fixture.h: inner packets of a few sizes
// encapsulated as bare ESP, as UDP-4500 payload and as whole outer IPv4
// packets (ESP-in-UDP and plain ESP), plus IKE-with-marker and keepalive
// datagrams. Output is deterministic.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/ip/udp.h"
#include "esp/udp_encap.h"
#include "fuzz_esp_fixture.h"

using namespace mipsec;  // NOLINT: a tool, not library code

namespace {

int g_written = 0;

void Write(const std::filesystem::path& dir, const std::string& name, std::uint8_t form,
           ByteSpan bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
  f.put(static_cast<char>(form));
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ++g_written;
}

Bytes Inner(std::size_t data_len) {
  Bytes data(data_len);
  for (std::size_t i = 0; i < data_len; ++i) data[i] = static_cast<std::uint8_t>(i * 13 + 1);
  ip::Ipv4Header h;
  h.src = Ipv4Address::FromOctets(192, 0, 2, 129);
  h.dst = Ipv4Address::FromOctets(192, 0, 2, 10);
  return *ip::BuildIpv4Udp(h, 1234, 5678, data);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = std::filesystem::path(argv[1]) / "esp_decap";
  for (const fuzz::EspFuzzSa& s : fuzz::kEspFuzzSas) {
    for (bool udp : {false, true}) {
      esp::SaConfig cfg = fuzz::EspFuzzConfig(s, esp::Direction::kOutbound);
      cfg.udp_encap = udp;
      Result<esp::Sa> out = esp::Sa::Create(cfg);
      if (!out.ok()) return 1;
      for (std::size_t n : {0u, 1u, 45u, 300u}) {
        const Bytes inner = Inner(n);
        Bytes buf(esp::kEncapHeadroom + inner.size() + esp::kEncapTailroom);
        std::copy(inner.begin(), inner.end(), buf.begin() + esp::kEncapHeadroom);
        esp::PacketBuf pb{buf, esp::kEncapHeadroom, inner.size()};
        const bool full = udp || n == 45;  // plain-ESP outer packets for one size
        if (out->Encapsulate(Timestamp::Zero(), pb,
                             full ? esp::OuterForm::kIpv4 : esp::OuterForm::kEspOnly)
                .action != esp::Action::kSend) {
          return 1;
        }
        char name[64];
        std::snprintf(name, sizeof(name), "spi%x_%zu_%s", s.spi, n,
                      full ? (udp ? "ipv4_udp" : "ipv4_esp") : "esp");
        // ESP-only packets double as UDP-4500 payloads (form 1).
        Write(dir, name, full ? 2 : (n % 2 == 0 ? 0 : 1), pb.packet());
      }
    }
  }
  Write(dir, "ike_marker", 1, esp::WithNonEspMarker(Bytes(28, 0x21)));
  Write(dir, "keepalive", 1, esp::NatKeepalivePayload());
  Write(dir, "keepalive_ipv4", 2,
        esp::BuildNatKeepalivePacket({Ipv4Address::FromOctets(10, 0, 0, 1), 4500},
                                     {Ipv4Address::FromOctets(10, 0, 0, 2), 4500}));
  std::printf("wrote %d files under %s\n", g_written, dir.c_str());
  return 0;
}

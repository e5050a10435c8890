// The fixed SAs shared by fuzz_esp_decap.cc and its seed generator
// fuzz_esp_gen_corpus.cc (fuzz inputs must be encrypted under these keys to
// get past the ICV). Input format: byte 0 selects how the rest is read
// (InputFormOf), bytes 1.. are the datagram.
#ifndef MIPSEC_FUZZ_FUZZ_ESP_FIXTURE_H_
#define MIPSEC_FUZZ_FUZZ_ESP_FIXTURE_H_

#include <array>
#include <cstdint>
#include <cstdlib>

#include "common/bytes.h"
#include "common/secret.h"
#include "esp/sa.h"
#include "esp/sa_table.h"

namespace mipsec::fuzz {

struct EspFuzzSa {
  std::uint32_t spi;
  esp::Cipher cipher;
  esp::Integrity integrity;
  bool esn;
  std::uint32_t window;
};

// GCM-128, CBC-128+SHA-256 with ESN, GCM-256 with a 32-packet window,
// CBC-256+SHA-512.
inline constexpr std::array<EspFuzzSa, 4> kEspFuzzSas = {{
    {0x1001, esp::Cipher::kAesGcm16_128, esp::Integrity::kNone, false, 1024},
    {0x1002, esp::Cipher::kAesCbc128, esp::Integrity::kHmacSha256_128, true, 64},
    {0x1003, esp::Cipher::kAesGcm16_256, esp::Integrity::kNone, true, 32},
    {0x1004, esp::Cipher::kAesCbc256, esp::Integrity::kHmacSha512_256, false, 128},
}};

inline esp::SaConfig EspFuzzConfig(const EspFuzzSa& s, esp::Direction dir) {
  esp::SaConfig c;
  c.direction = dir;
  c.spi = s.spi;
  c.cipher = s.cipher;
  c.integrity = s.integrity;
  c.esn = s.esn;
  c.replay_window = s.window;
  Bytes ek(esp::EncKeySize(s.cipher)), ik(esp::IntegKeySize(s.integrity));
  for (std::size_t i = 0; i < ek.size(); ++i) ek[i] = static_cast<std::uint8_t>(s.spi + i * 5);
  for (std::size_t i = 0; i < ik.size(); ++i) ik[i] = static_cast<std::uint8_t>(s.spi + i * 11);
  c.enc_key = SecretBytes(ek);
  c.integ_key = SecretBytes(ik);
  c.local = {Ipv4Address::FromOctets(198, 51, 100, 10), 4500};
  c.remote = {Ipv4Address::FromOctets(203, 0, 113, 2), 4500};
  c.udp_encap = true;
  if (dir == esp::Direction::kInbound) std::swap(c.local, c.remote);
  return c;
}

inline esp::Sa EspFuzzMakeSa(const EspFuzzSa& s, esp::Direction dir) {
  Result<esp::Sa> sa = esp::Sa::Create(EspFuzzConfig(s, dir));
  if (!sa.ok()) std::abort();
  return std::move(*sa);
}

inline esp::SaTable EspFuzzTable() {
  esp::SaTable t;
  for (const EspFuzzSa& s : kEspFuzzSas) {
    if (!t.Add(EspFuzzMakeSa(s, esp::Direction::kInbound)).ok()) std::abort();
  }
  return t;
}

// Byte 0 of an input: 0 = ESP from the SPI, 1 = UDP-4500 payload,
// 2 = whole outer IPv4 packet (other values wrap).
inline esp::InputForm InputFormOf(std::uint8_t b) {
  switch (b % 3) {
    case 0: return esp::InputForm::kEsp;
    case 1: return esp::InputForm::kUdp4500;
    default: return esp::InputForm::kIpv4;
  }
}

}  // namespace mipsec::fuzz

#endif  // MIPSEC_FUZZ_FUZZ_ESP_FIXTURE_H_

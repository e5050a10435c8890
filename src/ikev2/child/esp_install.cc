#include "ikev2/child/esp_install.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace mipsec::ikev2 {

std::vector<Ipv4Prefix> RangeToPrefixes(Ipv4Address first, Ipv4Address last) {
  std::vector<Ipv4Prefix> out;
  std::uint64_t lo = first.ToHostOrder();
  const std::uint64_t hi = last.ToHostOrder();
  while (lo <= hi) {
    // The largest aligned block starting at lo that stays within hi.
    int len = 32;
    while (len > 0) {
      const std::uint64_t size = std::uint64_t{1} << (32 - (len - 1));
      if ((lo & (size - 1)) != 0 || lo + size - 1 > hi) break;
      --len;
    }
    auto p = Ipv4Prefix::Create(Ipv4Address::FromHostOrder(static_cast<std::uint32_t>(lo)), len);
    if (p.ok()) out.push_back(*p);
    lo += std::uint64_t{1} << (32 - len);
  }
  return out;
}

std::vector<Ipv4Prefix> SelectorsToPrefixes(const std::vector<TrafficSelector>& ts) {
  std::vector<Ipv4Prefix> out;
  for (const auto& s : ts) {
    if (!s.is_ipv4()) continue;
    auto a = s.StartIpv4();
    auto b = s.EndIpv4();
    if (!a || !b) continue;
    for (const auto& p : RangeToPrefixes(*a, *b)) {
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
  }
  return out;
}

Result<esp::SaConfig> MakeEspSaConfig(const ChildSaInfo& child, esp::Direction direction) {
  const Suite& s = child.suite;
  esp::SaConfig c;
  c.direction = direction;
  const bool in = direction == esp::Direction::kInbound;
  c.spi = in ? child.spi_in : child.spi_out;
  if (s.encr() == EncrId::kAesGcm16 && s.encr_key_bits() == 128) {
    c.cipher = esp::Cipher::kAesGcm16_128;
  } else if (s.encr() == EncrId::kAesGcm16 && s.encr_key_bits() == 256) {
    c.cipher = esp::Cipher::kAesGcm16_256;
  } else if (s.encr() == EncrId::kAesCbc && s.encr_key_bits() == 128) {
    c.cipher = esp::Cipher::kAesCbc128;
  } else if (s.encr() == EncrId::kAesCbc && s.encr_key_bits() == 256) {
    c.cipher = esp::Cipher::kAesCbc256;
  } else {
    return Error(Errc::kUnsupported,
                 "ESP suite " + s.ToString() + ": cipher not supported by the data path");
  }
  switch (s.integ()) {
    case IntegId::kNone: c.integrity = esp::Integrity::kNone; break;
    case IntegId::kHmacSha2_256_128: c.integrity = esp::Integrity::kHmacSha256_128; break;
    case IntegId::kHmacSha2_384_192: c.integrity = esp::Integrity::kHmacSha384_192; break;
    case IntegId::kHmacSha2_512_256: c.integrity = esp::Integrity::kHmacSha512_256; break;
    default:
      return Error(Errc::kUnsupported,
                   "ESP suite " + s.ToString() + ": integrity not supported by the data path");
  }
  const EspKeys& k = in ? child.keys_in : child.keys_out;
  c.enc_key = k.encr;
  c.integ_key = k.integ;
  c.esn = s.esn() == EsnId::kEsn;
  c.local = child.local;
  c.remote = child.remote;
  c.udp_encap = child.udp_encap;
  return c;
}

}  // namespace mipsec::ikev2

// Test helpers for src/esp (tests only).
#ifndef MIPSEC_ESP_ESP_TEST_UTIL_H_
#define MIPSEC_ESP_ESP_TEST_UTIL_H_

#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/ip/ipv4.h"
#include "common/ip/udp.h"
#include "common/secret.h"
#include "esp/sa.h"

namespace mipsec::esp::testing {

// Deterministic key bytes: (seed + 13*i) mod 256, as kat.py in sa_test.cc.
inline SecretBytes TestKey(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 13);
  return SecretBytes(b);
}

inline SaConfig TestConfig(Direction dir, Cipher c, Integrity i, bool esn = false,
                           std::uint32_t spi = 0x1000, std::uint8_t seed = 1) {
  SaConfig cfg;
  cfg.direction = dir;
  cfg.spi = spi;
  cfg.cipher = c;
  cfg.integrity = i;
  cfg.enc_key = TestKey(EncKeySize(c), seed);
  cfg.integ_key = TestKey(IntegKeySize(i), static_cast<std::uint8_t>(seed + 50));
  cfg.esn = esn;
  cfg.local = {Ipv4Address::FromOctets(198, 51, 100, 10), 4500};
  cfg.remote = {Ipv4Address::FromOctets(203, 0, 113, 2), 4500};
  return cfg;
}

// An inbound/outbound pair with the same keys.
struct SaPair {
  Sa out;
  Sa in;
};

inline SaPair MakePair(SaConfig cfg) {
  cfg.direction = Direction::kOutbound;
  Result<Sa> out = Sa::Create(cfg);
  cfg.direction = Direction::kInbound;
  std::swap(cfg.local, cfg.remote);
  Result<Sa> in = Sa::Create(cfg);
  if (!out.ok() || !in.ok()) std::abort();
  return SaPair{std::move(*out), std::move(*in)};
}

// An IPv4/UDP datagram with `data_len` payload bytes (valid checksums).
inline Bytes InnerPacket(std::size_t data_len, std::uint8_t fill = 0) {
  Bytes data(data_len);
  for (std::size_t i = 0; i < data_len; ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 3 + fill);
  ip::Ipv4Header h;
  h.tos = 0x2e;
  h.identification = 0x1234;
  h.dont_fragment = true;
  h.src = Ipv4Address::FromOctets(192, 0, 2, 129);
  h.dst = Ipv4Address::FromOctets(192, 0, 2, 10);
  Result<Bytes> b = ip::BuildIpv4Udp(h, 5000, 6000, data);
  if (!b.ok()) std::abort();
  return *b;
}

// A buffer holding `packet` with kEncapHeadroom / kEncapTailroom around it.
struct TestBuf {
  explicit TestBuf(ByteSpan packet, std::size_t head = kEncapHeadroom,
                   std::size_t tail = kEncapTailroom)
      : storage(head + packet.size() + tail, 0xee) {
    std::copy(packet.begin(), packet.end(), storage.begin() + static_cast<std::ptrdiff_t>(head));
    pb = PacketBuf{storage, head, packet.size()};
  }
  TestBuf(const TestBuf&) = delete;
  TestBuf& operator=(const TestBuf&) = delete;
  Bytes bytes() const {
    return Bytes(storage.begin() + static_cast<std::ptrdiff_t>(pb.offset),
                 storage.begin() + static_cast<std::ptrdiff_t>(pb.offset + pb.length));
  }
  Bytes storage;
  PacketBuf pb;
};

inline Bytes Hex(const std::string& s) {
  Result<Bytes> b = FromHex(s);
  if (!b.ok()) std::abort();
  return *b;
}

}  // namespace mipsec::esp::testing

#endif  // MIPSEC_ESP_ESP_TEST_UTIL_H_

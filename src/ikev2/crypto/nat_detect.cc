#include "ikev2/crypto/nat_detect.h"

#include <array>

#include "crypto/hash.h"

namespace mipsec::ikev2 {

Result<Bytes> NatDetectionHash(std::uint64_t spi_i, std::uint64_t spi_r, ByteSpan ip,
                               std::uint16_t port) {
  if (ip.size() != 4 && ip.size() != 16) {
    return Error(Errc::kInvalidArgument, "NAT detection: address must be 4 or 16 octets");
  }
  // RFC 7296 2.23.
  std::array<std::uint8_t, 8 + 8 + 16 + 2> buf{};
  std::size_t n = 0;
  for (int i = 7; i >= 0; --i) buf[n++] = static_cast<std::uint8_t>(spi_i >> (8 * i));
  for (int i = 7; i >= 0; --i) buf[n++] = static_cast<std::uint8_t>(spi_r >> (8 * i));
  for (std::uint8_t b : ip) buf[n++] = b;
  buf[n++] = static_cast<std::uint8_t>(port >> 8);
  buf[n++] = static_cast<std::uint8_t>(port);
  return crypto::Hash(crypto::HashAlg::kSha1, ByteSpan(buf.data(), n));
}

Result<Bytes> NatDetectionHash(std::uint64_t spi_i, std::uint64_t spi_r, Ipv4Address ip,
                               std::uint16_t port) {
  const auto b = ip.ToBytes();
  return NatDetectionHash(spi_i, spi_r, ByteSpan(b), port);
}

}  // namespace mipsec::ikev2

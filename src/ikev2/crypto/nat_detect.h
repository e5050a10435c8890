// NAT detection hashes (RFC 7296 2.23): the Notification Data of
// NAT_DETECTION_SOURCE_IP and NAT_DETECTION_DESTINATION_IP.
#ifndef MIPSEC_IKEV2_CRYPTO_NAT_DETECT_H_
#define MIPSEC_IKEV2_CRYPTO_NAT_DETECT_H_

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"

namespace mipsec::ikev2 {

constexpr std::size_t kNatDetectionHashSize = 20;  // SHA-1

// SHA-1(SPIi | SPIr | IP | Port): SPIs as on the wire (SPIr is zero in the
// IKE_SA_INIT request), IP as 4 or 16 network-order octets, port in network
// order. For the source notify use the sender's address and port, for the
// destination notify the receiver's. kInvalidArgument for another address
// length.
Result<Bytes> NatDetectionHash(std::uint64_t spi_i, std::uint64_t spi_r, ByteSpan ip,
                               std::uint16_t port);
Result<Bytes> NatDetectionHash(std::uint64_t spi_i, std::uint64_t spi_r, Ipv4Address ip,
                               std::uint16_t port);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CRYPTO_NAT_DETECT_H_

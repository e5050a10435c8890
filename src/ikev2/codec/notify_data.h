// Typed Notification Data for the notify types mipsec sends and reads
// (RFC 7296 3.10.1, RFC 4555 3, RFC 7427 4). Make*() build a whole
// NotifyPayload; Parse*() check and read one (kMalformed naming the notify
// when the data has the wrong shape; kInvalidArgument if the type differs).
#ifndef MIPSEC_IKEV2_CODEC_NOTIFY_DATA_H_
#define MIPSEC_IKEV2_CODEC_NOTIFY_DATA_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "ikev2/codec/ids.h"
#include "ikev2/codec/notify_payload.h"

namespace mipsec::ikev2 {

// NAT_DETECTION_SOURCE_IP / NAT_DETECTION_DESTINATION_IP (RFC 7296 2.23):
// SHA-1(SPIi | SPIr | IP address | port), 20 bytes.
using NatDetectionDigest = std::array<std::uint8_t, 20>;
// The bytes to hash, in that order (addresses and ports in network order).
// The hash itself is the crypto layer's (crypto/hash.h).
Bytes NatDetectionInput(std::uint64_t spi_i, std::uint64_t spi_r, const Ipv4Endpoint& ep);
NotifyPayload MakeNatDetection(NotifyType type, const NatDetectionDigest& hash);
Result<NatDetectionDigest> ParseNatDetection(const NotifyPayload& n);

// COOKIE (RFC 7296 2.6): 1..64 bytes, opaque.
inline constexpr std::size_t kMaxCookieSize = 64;
Result<NotifyPayload> MakeCookie(ByteSpan cookie);
Result<Bytes> ParseCookie(const NotifyPayload& n);

// REKEY_SA (RFC 7296 1.3.3): no data; Protocol ID and SPI name the CHILD
// SA being rekeyed (the SPI the sender expects in inbound packets).
NotifyPayload MakeRekeySa(ProtocolId protocol, std::uint32_t spi);
struct RekeySa {
  ProtocolId protocol;
  std::uint32_t spi;
};
Result<RekeySa> ParseRekeySa(const NotifyPayload& n);

// SIGNATURE_HASH_ALGORITHMS (RFC 7427 4): a list of 2-byte hash algorithm
// identifiers (SigHashAlg values; unknown ones are kept).
NotifyPayload MakeSignatureHashAlgorithms(const std::vector<std::uint16_t>& algs);
Result<std::vector<std::uint16_t>> ParseSignatureHashAlgorithms(const NotifyPayload& n);

// ADDITIONAL_IP4_ADDRESS (RFC 4555 3.6): 4 bytes.
NotifyPayload MakeAdditionalIp4Address(Ipv4Address a);
Result<Ipv4Address> ParseAdditionalIp4Address(const NotifyPayload& n);

// UPDATE_SA_ADDRESSES (RFC 4555 3.5): no data.
NotifyPayload MakeUpdateSaAddresses();

// NO_ADDITIONAL_ADDRESSES (RFC 4555 4.2.3): no data.
NotifyPayload MakeNoAdditionalAddresses();

// NO_NATS_ALLOWED (RFC 4555 3.9, 4.2.6): the source and destination address
// and port of the IP/UDP headers the message was sent with. IPv4: 12 bytes
// (source address, destination address, source port, destination port).
// The IPv6 form (36 bytes) parses as kUnsupported: mipsec is IPv4 only, and
// an IPv6 header can never match an IPv4 one anyway.
struct NoNatsAllowed {
  Ipv4Endpoint source;
  Ipv4Endpoint destination;
};
NotifyPayload MakeNoNatsAllowed(const Ipv4Endpoint& source, const Ipv4Endpoint& destination);
Result<NoNatsAllowed> ParseNoNatsAllowed(const NotifyPayload& n);

// COOKIE2 (RFC 4555 3.7): 8..64 bytes.
Result<NotifyPayload> MakeCookie2(ByteSpan cookie);
Result<Bytes> ParseCookie2(const NotifyPayload& n);

// INVALID_KE_PAYLOAD (RFC 7296 1.2, 3.10.1): the 2-byte accepted DH group.
NotifyPayload MakeInvalidKePayload(std::uint16_t dh_group);
Result<std::uint16_t> ParseInvalidKePayload(const NotifyPayload& n);

// SET_WINDOW_SIZE (RFC 7296 2.3): 4-byte window size.
NotifyPayload MakeSetWindowSize(std::uint32_t window);
Result<std::uint32_t> ParseSetWindowSize(const NotifyPayload& n);

// UNSUPPORTED_CRITICAL_PAYLOAD (RFC 7296 3.10.1): the 1-byte payload type.
Result<PayloadType> ParseUnsupportedCriticalPayload(const NotifyPayload& n);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_NOTIFY_DATA_H_

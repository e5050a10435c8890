#include "ikev2/codec/notify_data.h"

#include <algorithm>
#include <string>

#include "common/wire/writer.h"

namespace mipsec::ikev2 {
namespace {

Status Expect(const NotifyPayload& n, NotifyType type) {
  if (n.type != type) {
    return Error(Errc::kInvalidArgument,
                 "notify is " + NotifyTypeName(n.type) + ", not " + NotifyTypeName(type));
  }
  return Ok{};
}

Error BadSize(const NotifyPayload& n, const std::string& want) {
  return Error(Errc::kMalformed, NotifyTypeName(n.type) + " data is " +
                                     std::to_string(n.data.size()) + " bytes, must be " + want);
}

Result<Bytes> Opaque(const NotifyPayload& n, NotifyType type, std::size_t min, std::size_t max) {
  MIPSEC_TRY(Expect(n, type));
  if (n.data.size() < min || n.data.size() > max) {
    return BadSize(n, std::to_string(min) + ".." + std::to_string(max));
  }
  return n.data;
}

Result<NotifyPayload> MakeOpaque(NotifyType type, ByteSpan data, std::size_t min, std::size_t max) {
  if (data.size() < min || data.size() > max) {
    return Error(Errc::kInvalidArgument, NotifyTypeName(type) + " data must be " +
                                             std::to_string(min) + ".." + std::to_string(max) +
                                             " bytes");
  }
  return NotifyPayload::Make(type, Bytes(data.begin(), data.end()));
}

}  // namespace

Bytes NatDetectionInput(std::uint64_t spi_i, std::uint64_t spi_r, const Ipv4Endpoint& ep) {
  wire::Writer w(8 + 8 + 4 + 2);
  w.U64(spi_i).U64(spi_r).U32(ep.address.ToHostOrder()).U16(ep.port);
  return std::move(w).Take();
}

NotifyPayload MakeNatDetection(NotifyType type, const NatDetectionDigest& hash) {
  return NotifyPayload::Make(type, Bytes(hash.begin(), hash.end()));
}

Result<NatDetectionDigest> ParseNatDetection(const NotifyPayload& n) {
  if (n.type != NotifyType::kNatDetectionSourceIp &&
      n.type != NotifyType::kNatDetectionDestinationIp) {
    return Error(Errc::kInvalidArgument,
                 "notify is " + NotifyTypeName(n.type) + ", not NAT_DETECTION_*");
  }
  NatDetectionDigest h{};
  if (n.data.size() != h.size()) return BadSize(n, "20");
  std::copy(n.data.begin(), n.data.end(), h.begin());
  return h;
}

Result<NotifyPayload> MakeCookie(ByteSpan cookie) {
  return MakeOpaque(NotifyType::kCookie, cookie, 1, kMaxCookieSize);
}

Result<Bytes> ParseCookie(const NotifyPayload& n) {
  return Opaque(n, NotifyType::kCookie, 1, kMaxCookieSize);
}

NotifyPayload MakeRekeySa(ProtocolId protocol, std::uint32_t spi) {
  NotifyPayload n = NotifyPayload::Make(NotifyType::kRekeySa);
  n.protocol = protocol;
  wire::Writer w(4);
  w.U32(spi);
  n.spi = std::move(w).Take();
  return n;
}

Result<RekeySa> ParseRekeySa(const NotifyPayload& n) {
  MIPSEC_TRY(Expect(n, NotifyType::kRekeySa));
  if (n.protocol != ProtocolId::kEsp && n.protocol != ProtocolId::kAh) {
    return Error(Errc::kMalformed,
                 "REKEY_SA protocol is " + ProtocolIdName(n.protocol) + ", not ESP/AH");
  }
  if (n.spi.size() != 4) {
    return Error(Errc::kMalformed,
                 "REKEY_SA SPI is " + std::to_string(n.spi.size()) + " bytes, must be 4");
  }
  return RekeySa{n.protocol, wire::LoadU32(n.spi, 0)};
}

NotifyPayload MakeSignatureHashAlgorithms(const std::vector<std::uint16_t>& algs) {
  wire::Writer w(2 * algs.size());
  for (std::uint16_t a : algs) w.U16(a);
  return NotifyPayload::Make(NotifyType::kSignatureHashAlgorithms, std::move(w).Take());
}

Result<std::vector<std::uint16_t>> ParseSignatureHashAlgorithms(const NotifyPayload& n) {
  MIPSEC_TRY(Expect(n, NotifyType::kSignatureHashAlgorithms));
  if (n.data.empty() || n.data.size() % 2 != 0) return BadSize(n, "a non-zero multiple of 2");
  std::vector<std::uint16_t> out;
  for (std::size_t i = 0; i < n.data.size(); i += 2) out.push_back(wire::LoadU16(n.data, i));
  return out;
}

NotifyPayload MakeAdditionalIp4Address(Ipv4Address a) {
  const auto b = a.ToBytes();
  return NotifyPayload::Make(NotifyType::kAdditionalIp4Address, Bytes(b.begin(), b.end()));
}

Result<Ipv4Address> ParseAdditionalIp4Address(const NotifyPayload& n) {
  MIPSEC_TRY(Expect(n, NotifyType::kAdditionalIp4Address));
  if (n.data.size() != 4) return BadSize(n, "4");
  return Ipv4Address::FromOctets(n.data[0], n.data[1], n.data[2], n.data[3]);
}

NotifyPayload MakeUpdateSaAddresses() {
  return NotifyPayload::Make(NotifyType::kUpdateSaAddresses);
}

NotifyPayload MakeNoAdditionalAddresses() {
  return NotifyPayload::Make(NotifyType::kNoAdditionalAddresses);
}

NotifyPayload MakeNoNatsAllowed(const Ipv4Endpoint& source, const Ipv4Endpoint& destination) {
  wire::Writer w(12);
  w.U32(source.address.ToHostOrder())
      .U32(destination.address.ToHostOrder())
      .U16(source.port)
      .U16(destination.port);
  return NotifyPayload::Make(NotifyType::kNoNatsAllowed, std::move(w).Take());
}

Result<NoNatsAllowed> ParseNoNatsAllowed(const NotifyPayload& n) {
  MIPSEC_TRY(Expect(n, NotifyType::kNoNatsAllowed));
  if (n.data.size() == 36) {
    return Error(Errc::kUnsupported, "NO_NATS_ALLOWED carries IPv6 addresses");
  }
  if (n.data.size() != 12) return BadSize(n, "12 (IPv4) or 36 (IPv6)");
  NoNatsAllowed v;
  v.source.address = Ipv4Address::FromHostOrder(wire::LoadU32(n.data, 0));
  v.destination.address = Ipv4Address::FromHostOrder(wire::LoadU32(n.data, 4));
  v.source.port = wire::LoadU16(n.data, 8);
  v.destination.port = wire::LoadU16(n.data, 10);
  return v;
}

Result<NotifyPayload> MakeCookie2(ByteSpan cookie) {
  return MakeOpaque(NotifyType::kCookie2, cookie, 8, 64);
}

Result<Bytes> ParseCookie2(const NotifyPayload& n) {
  return Opaque(n, NotifyType::kCookie2, 8, 64);
}

NotifyPayload MakeInvalidKePayload(std::uint16_t dh_group) {
  wire::Writer w(2);
  w.U16(dh_group);
  return NotifyPayload::Make(NotifyType::kInvalidKePayload, std::move(w).Take());
}

Result<std::uint16_t> ParseInvalidKePayload(const NotifyPayload& n) {
  MIPSEC_TRY(Expect(n, NotifyType::kInvalidKePayload));
  if (n.data.size() != 2) return BadSize(n, "2");
  return wire::LoadU16(n.data, 0);
}

NotifyPayload MakeSetWindowSize(std::uint32_t window) {
  wire::Writer w(4);
  w.U32(window);
  return NotifyPayload::Make(NotifyType::kSetWindowSize, std::move(w).Take());
}

Result<std::uint32_t> ParseSetWindowSize(const NotifyPayload& n) {
  MIPSEC_TRY(Expect(n, NotifyType::kSetWindowSize));
  if (n.data.size() != 4) return BadSize(n, "4");
  return wire::LoadU32(n.data, 0);
}

Result<PayloadType> ParseUnsupportedCriticalPayload(const NotifyPayload& n) {
  MIPSEC_TRY(Expect(n, NotifyType::kUnsupportedCriticalPayload));
  if (n.data.size() != 1) return BadSize(n, "1");
  return static_cast<PayloadType>(n.data[0]);
}

}  // namespace mipsec::ikev2

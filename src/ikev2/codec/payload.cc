#include "ikev2/codec/payload.h"

#include <string>

namespace mipsec::ikev2 {
namespace {

template <typename T>
Result<PayloadBody> Wrap(Result<T> r) {
  if (!r.ok()) return std::move(r).error();
  return PayloadBody(std::move(r).value());
}

// The variant index that goes with a type, or 0 (UnknownPayload).
std::size_t IndexFor(PayloadType type) {
  switch (type) {
    case PayloadType::kSa:
      return 1;
    case PayloadType::kKe:
      return 2;
    case PayloadType::kIdi:
    case PayloadType::kIdr:
      return 3;
    case PayloadType::kCert:
      return 4;
    case PayloadType::kCertReq:
      return 5;
    case PayloadType::kAuth:
      return 6;
    case PayloadType::kNonce:
      return 7;
    case PayloadType::kNotify:
      return 8;
    case PayloadType::kDelete:
      return 9;
    case PayloadType::kVendorId:
      return 10;
    case PayloadType::kTsi:
    case PayloadType::kTsr:
      return 11;
    case PayloadType::kCp:
      return 12;
    case PayloadType::kEap:
      return 13;
    default:
      return 0;
  }
}

}  // namespace

std::size_t Payload::EncodedSize() const {
  return kGenericHeaderSize + std::visit([](const auto& b) { return b.EncodedSize(); }, body);
}

bool IsKnownPayloadType(PayloadType type) { return IndexFor(type) != 0; }

bool BodyMatchesType(const Payload& p) {
  if (p.type == PayloadType::kSk || p.type == PayloadType::kSkf || p.type == PayloadType::kNone) {
    return false;
  }
  return p.body.index() == IndexFor(p.type);
}

Result<PayloadBody> DecodePayloadBody(PayloadType type, ByteSpan body) {
  switch (type) {
    case PayloadType::kSa:
      return Wrap(SaPayload::Decode(body));
    case PayloadType::kKe:
      return Wrap(KePayload::Decode(body));
    case PayloadType::kIdi:
    case PayloadType::kIdr:
      return Wrap(IdPayload::Decode(body));
    case PayloadType::kCert:
      return Wrap(CertPayload::Decode(body));
    case PayloadType::kCertReq:
      return Wrap(CertReqPayload::Decode(body));
    case PayloadType::kAuth:
      return Wrap(AuthPayload::Decode(body));
    case PayloadType::kNonce:
      return Wrap(NoncePayload::Decode(body));
    case PayloadType::kNotify:
      return Wrap(NotifyPayload::Decode(body));
    case PayloadType::kDelete:
      return Wrap(DeletePayload::Decode(body));
    case PayloadType::kVendorId:
      return Wrap(VendorIdPayload::Decode(body));
    case PayloadType::kTsi:
    case PayloadType::kTsr:
      return Wrap(TsPayload::Decode(body));
    case PayloadType::kCp:
      return Wrap(CpPayload::Decode(body));
    case PayloadType::kEap:
      return Wrap(EapPayload::Decode(body));
    default:
      return PayloadBody(UnknownPayload{Bytes(body.begin(), body.end())});
  }
}

Status AppendPayload(wire::Writer& w, const Payload& p, PayloadType next) {
  if (!BodyMatchesType(p)) {
    return Error(Errc::kInvalidArgument,
                 "payload " + PayloadTypeName(p.type) + " has a body of another type");
  }
  const std::size_t size = p.EncodedSize();
  if (size > kMaxPayloadLength) {
    return Error(Errc::kInvalidArgument, "payload " + PayloadTypeName(p.type) + " is " +
                                             std::to_string(size) + " bytes, above 65535");
  }
  w.U8(static_cast<std::uint8_t>(next)).U8(p.critical ? kCriticalBit : 0);
  w.U16(static_cast<std::uint16_t>(size));
  std::visit([&w](const auto& b) { b.Encode(w); }, p.body);
  return Ok{};
}

}  // namespace mipsec::ikev2

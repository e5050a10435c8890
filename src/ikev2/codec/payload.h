// The generic payload header (RFC 7296 3.2) and Payload, a decoded payload
// of any type.
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Next Payload  |C|  RESERVED   |         Payload Length        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Payload Length includes this 4-byte header. C is the critical bit: a
// receiver that does not understand a payload type with C set rejects the
// message (UNSUPPORTED_CRITICAL_PAYLOAD, 2.5); without C it skips the payload.
// The codec keeps such a skipped payload as UnknownPayload so re-encoding
// gives the same bytes. C is ignored for the types we understand (and kept).
//
// A Payload owns its bytes (decoding copies), so a decoded message outlives
// the buffer it came from. SK and SKF are not Payloads: see
// encrypted_payload.h and message.h.
#ifndef MIPSEC_IKEV2_CODEC_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <variant>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "ikev2/codec/auth_payload.h"
#include "ikev2/codec/cert_payload.h"
#include "ikev2/codec/certreq_payload.h"
#include "ikev2/codec/cp_payload.h"
#include "ikev2/codec/delete_payload.h"
#include "ikev2/codec/eap_payload.h"
#include "ikev2/codec/id_payload.h"
#include "ikev2/codec/ids.h"
#include "ikev2/codec/ke_payload.h"
#include "ikev2/codec/nonce_payload.h"
#include "ikev2/codec/notify_payload.h"
#include "ikev2/codec/sa_payload.h"
#include "ikev2/codec/ts_payload.h"
#include "ikev2/codec/vendor_id_payload.h"

namespace mipsec::ikev2 {

constexpr std::size_t kGenericHeaderSize = 4;
constexpr std::uint8_t kCriticalBit = 0x80;
constexpr std::size_t kMaxPayloadLength = 0xffff;

// A payload of a type the codec does not know (kept raw, never critical
// when decoded: an unknown critical payload fails the decode).
struct UnknownPayload {
  Bytes body;

  std::size_t EncodedSize() const { return body.size(); }
  void Encode(wire::Writer& w) const { w.Append(body); }
  bool operator==(const UnknownPayload&) const = default;
};

using PayloadBody = std::variant<UnknownPayload, SaPayload, KePayload, IdPayload, CertPayload,
                                 CertReqPayload, AuthPayload, NoncePayload, NotifyPayload,
                                 DeletePayload, VendorIdPayload, TsPayload, CpPayload, EapPayload>;

struct Payload {
  PayloadType type = PayloadType::kNone;
  bool critical = false;
  PayloadBody body;

  // Factories: the type goes with the body (IDi/IDr and TSi/TSr share one).
  static Payload Sa(SaPayload p) { return {PayloadType::kSa, false, std::move(p)}; }
  static Payload Ke(KePayload p) { return {PayloadType::kKe, false, std::move(p)}; }
  static Payload Idi(IdPayload p) { return {PayloadType::kIdi, false, std::move(p)}; }
  static Payload Idr(IdPayload p) { return {PayloadType::kIdr, false, std::move(p)}; }
  static Payload Cert(CertPayload p) { return {PayloadType::kCert, false, std::move(p)}; }
  static Payload CertReq(CertReqPayload p) { return {PayloadType::kCertReq, false, std::move(p)}; }
  static Payload Auth(AuthPayload p) { return {PayloadType::kAuth, false, std::move(p)}; }
  static Payload Nonce(NoncePayload p) { return {PayloadType::kNonce, false, std::move(p)}; }
  static Payload Notify(NotifyPayload p) { return {PayloadType::kNotify, false, std::move(p)}; }
  static Payload Delete(DeletePayload p) { return {PayloadType::kDelete, false, std::move(p)}; }
  static Payload VendorId(VendorIdPayload p) {
    return {PayloadType::kVendorId, false, std::move(p)};
  }
  static Payload Tsi(TsPayload p) { return {PayloadType::kTsi, false, std::move(p)}; }
  static Payload Tsr(TsPayload p) { return {PayloadType::kTsr, false, std::move(p)}; }
  static Payload Cp(CpPayload p) { return {PayloadType::kCp, false, std::move(p)}; }
  static Payload Eap(EapPayload p) { return {PayloadType::kEap, false, std::move(p)}; }
  static Payload Unknown(PayloadType type, Bytes body, bool critical = false) {
    return {type, critical, UnknownPayload{std::move(body)}};
  }

  // The body as T, or null if it holds another type.
  template <typename T>
  const T* As() const {
    return std::get_if<T>(&body);
  }
  template <typename T>
  T* As() {
    return std::get_if<T>(&body);
  }

  // Bytes on the wire, generic header included.
  std::size_t EncodedSize() const;

  bool operator==(const Payload&) const = default;
};

// Whether the codec decodes `type` into a typed body (SK and SKF excluded:
// they are framing, not payloads).
bool IsKnownPayloadType(PayloadType type);

// Whether `p.body` is the alternative that goes with `p.type` (UnknownPayload
// goes with types that are not known).
bool BodyMatchesType(const Payload& p);

// Decodes a payload body (the bytes after the generic header) of a known
// type; for an unknown type returns UnknownPayload. Errors name the field.
Result<PayloadBody> DecodePayloadBody(PayloadType type, ByteSpan body);

// Appends the generic header (with `next` as Next Payload) and the body.
// kInvalidArgument if the body does not match the type or the payload would
// exceed 65535 bytes; nothing is appended then.
Status AppendPayload(wire::Writer& w, const Payload& p, PayloadType next);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_PAYLOAD_H_

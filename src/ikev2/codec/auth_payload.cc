#include "ikev2/codec/auth_payload.h"

#include "common/wire/reader.h"

namespace mipsec::ikev2 {

Result<AuthPayload> AuthPayload::Decode(ByteSpan body) {
  wire::Reader r(body);
  AuthPayload a;
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t method, r.U8("AUTH method"));
  a.method = static_cast<AuthMethod>(method);
  MIPSEC_TRY(r.Skip(3, "AUTH reserved"));
  const ByteSpan data = r.TakeRest();
  a.data.assign(data.begin(), data.end());
  return a;
}

void AuthPayload::Encode(wire::Writer& w) const {
  w.U8(static_cast<std::uint8_t>(method)).U8(0).U16(0).Append(data);
}

Result<DigitalSignatureData> SplitDigitalSignature(ByteSpan auth_data) {
  wire::Reader r(auth_data);
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t len, r.U8("AUTH signature ASN.1 length"));
  if (len == 0) return r.Malformed("AUTH signature ASN.1 length", "is 0");
  DigitalSignatureData d;
  MIPSEC_ASSIGN_OR_RETURN(d.algorithm_identifier,
                          r.Span(len, "AUTH signature AlgorithmIdentifier"));
  d.signature = r.TakeRest();
  if (d.signature.empty()) return r.Malformed("AUTH signature", "is empty");
  return d;
}

Result<Bytes> JoinDigitalSignature(ByteSpan algorithm_identifier, ByteSpan signature) {
  if (algorithm_identifier.empty() || algorithm_identifier.size() > 255) {
    return Error(Errc::kInvalidArgument, "AlgorithmIdentifier must be 1..255 bytes");
  }
  wire::Writer w(1 + algorithm_identifier.size() + signature.size());
  w.U8(static_cast<std::uint8_t>(algorithm_identifier.size()));
  w.Append(algorithm_identifier).Append(signature);
  return std::move(w).Take();
}

}  // namespace mipsec::ikev2

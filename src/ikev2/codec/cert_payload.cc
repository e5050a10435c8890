#include "ikev2/codec/cert_payload.h"

#include "common/wire/reader.h"

namespace mipsec::ikev2 {

Result<CertPayload> CertPayload::Decode(ByteSpan body) {
  wire::Reader r(body);
  CertPayload c;
  MIPSEC_ASSIGN_OR_RETURN(std::uint8_t enc, r.U8("CERT encoding"));
  c.encoding = static_cast<CertEncoding>(enc);
  const ByteSpan data = r.TakeRest();
  c.data.assign(data.begin(), data.end());
  return c;
}

void CertPayload::Encode(wire::Writer& w) const {
  w.U8(static_cast<std::uint8_t>(encoding)).Append(data);
}

}  // namespace mipsec::ikev2

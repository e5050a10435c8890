#include "ikev2/codec/ke_payload.h"

#include "common/wire/reader.h"

namespace mipsec::ikev2 {

Result<KePayload> KePayload::Decode(ByteSpan body) {
  wire::Reader r(body);
  KePayload ke;
  MIPSEC_ASSIGN_OR_RETURN(ke.dh_group, r.U16("KE DH group"));
  MIPSEC_TRY(r.Skip(2, "KE reserved"));
  const ByteSpan data = r.TakeRest();
  ke.data.assign(data.begin(), data.end());
  return ke;
}

void KePayload::Encode(wire::Writer& w) const { w.U16(dh_group).U16(0).Append(data); }

}  // namespace mipsec::ikev2

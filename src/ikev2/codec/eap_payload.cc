#include "ikev2/codec/eap_payload.h"

#include <string>

#include "common/wire/reader.h"

namespace mipsec::ikev2 {

Result<EapPayload> EapPayload::Decode(ByteSpan body) {
  wire::Reader r(body);
  MIPSEC_TRY(r.Skip(2, "EAP code and identifier"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint16_t len, r.U16("EAP length"));
  if (len != body.size()) {
    return Error(Errc::kMalformed, "EAP length " + std::to_string(len) + " but the payload holds " +
                                       std::to_string(body.size()) + " bytes");
  }
  return EapPayload{Bytes(body.begin(), body.end())};
}

}  // namespace mipsec::ikev2

#include "ikev2/codec/nonce_payload.h"

namespace mipsec::ikev2 {

Result<NoncePayload> NoncePayload::Decode(ByteSpan body) {
  return NoncePayload{Bytes(body.begin(), body.end())};
}

}  // namespace mipsec::ikev2

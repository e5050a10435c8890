// ErrorNotify: what the codec suggests answering when it refuses a message.
//
// Decoders and Validate() return an Error (why the message is refused, for
// logs and counters) and, through an optional out-parameter, the Notify the
// RFC says to send back, if any. Absent means "drop silently" (RFC 7296 2.21:
// never answer a response, never answer what failed its ICV). The caller (the
// SA layer) decides whether it can answer at all (for example only over an
// established IKE SA for INVALID_SYNTAX, RFC 7296 2.21.2).
#ifndef MIPSEC_IKEV2_CODEC_ERROR_NOTIFY_H_
#define MIPSEC_IKEV2_CODEC_ERROR_NOTIFY_H_

#include <optional>

#include "common/bytes.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

struct ErrorNotify {
  NotifyType type = NotifyType::kInvalidSyntax;
  // Notification Data: for UNSUPPORTED_CRITICAL_PAYLOAD the one-octet
  // payload type (RFC 7296 3.10.1); empty for the others the codec suggests.
  Bytes data;

  bool operator==(const ErrorNotify&) const = default;
};

// Sets *out (when out is not null) to `n`. Helper for the codec.
inline void SuggestNotify(std::optional<ErrorNotify>* out, ErrorNotify n) {
  if (out != nullptr) *out = std::move(n);
}

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_ERROR_NOTIFY_H_

#include "ikev2/codec/encrypted_payload.h"

#include <string>

namespace mipsec::ikev2 {

std::size_t EncryptedPartSize(std::size_t content, std::size_t pad_block) {
  if (pad_block == 0) pad_block = 1;
  const std::size_t min = content + 1;  // Pad Length byte
  return (min + pad_block - 1) / pad_block * pad_block;
}

Result<ByteSpan> StripPadding(ByteSpan decrypted) {
  if (decrypted.empty()) {
    return Error(Errc::kTruncated, "SK decrypted part is empty (no Pad Length byte)");
  }
  const std::size_t pad = decrypted.back();
  if (pad + 1 > decrypted.size()) {
    return Error(Errc::kMalformed, "SK pad length " + std::to_string(pad) + " exceeds the " +
                                       std::to_string(decrypted.size() - 1) + " bytes before it");
  }
  return decrypted.first(decrypted.size() - pad - 1);
}

}  // namespace mipsec::ikev2

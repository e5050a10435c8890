// Encrypted payload SK (RFC 7296 3.14) and Encrypted Fragment payload SKF
// (RFC 7383 2.5), as framing: the codec lays them out and finds them; the
// SkCipher (sk_cipher.h) encrypts and authenticates them.
//
// SK:
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Next Payload  |C|  RESERVED   |         Payload Length        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                     Initialization Vector                     |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                    Encrypted IKE Payloads                     ~
//   +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |               |             Padding (0-255 octets)            |
//   +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
//   |                                               |  Pad Length   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                    Integrity Checksum Data                    ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// SKF adds, after the generic header:
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |        Fragment Number        |        Total Fragments        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Next Payload is the type of the first inner payload (for SKF only in
// fragment 1; zero in the others). With AEAD (RFC 5282) the IV is the 8-byte
// explicit nonce and the ICV the tag; the layout is the same.
#ifndef MIPSEC_IKEV2_CODEC_ENCRYPTED_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_ENCRYPTED_PAYLOAD_H_

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

struct EncryptedPayload {
  PayloadType type = PayloadType::kSk;           // kSk or kSkf
  PayloadType first_inner = PayloadType::kNone;  // the Next Payload field
  bool critical = false;
  std::uint16_t fragment_number = 0;  // SKF only (1-based)
  std::uint16_t total_fragments = 0;  // SKF only
  // IV | encrypted | ICV as received; opaque without the cipher. Empty in a
  // message the FragmentReassembler put together.
  Bytes body;

  bool is_fragment() const { return type == PayloadType::kSkf; }
  // Generic header, plus Fragment Number and Total Fragments for SKF.
  std::size_t HeaderSize() const { return is_fragment() ? 8 : 4; }
  std::size_t EncodedSize() const { return HeaderSize() + body.size(); }

  bool operator==(const EncryptedPayload&) const = default;
};

// The size of the encrypted part for `content` bytes of inner payloads: the
// content, the fewest padding bytes, and the Pad Length byte, rounded up to
// a multiple of `pad_block` (RFC 7296 3.14; pad_block 0 counts as 1).
std::size_t EncryptedPartSize(std::size_t content, std::size_t pad_block);

// The inner payload bytes of a decrypted part: strips the Pad Length byte
// and the padding it counts (RFC 7296 3.14: the receiver MUST NOT reject a
// message for the padding's value). kTruncated if the part is empty,
// kMalformed if Pad Length exceeds what precedes it.
Result<ByteSpan> StripPadding(ByteSpan decrypted);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_ENCRYPTED_PAYLOAD_H_

// The contract between the IKEv2 codec, which frames Encrypted (SK, RFC 7296
// 3.14) and Encrypted Fragment (SKF, RFC 7383 2.5) payloads, and the crypto
// provider, which protects them. One SkCipher protects one direction of one
// IKE SA (SK_ei/SK_ai for what the original initiator sends, SK_er/SK_ar for
// what the responder sends).
//
// A protected message is one contiguous buffer:
//
//   [0, body)                     IKE header, any payloads before SK, and the
//                                 SK/SKF generic payload header (for SKF also
//                                 Fragment Number and Total Fragments).
//                                 AEAD (RFC 5282 5): these bytes are the AAD.
//   [body, body+IvSize())         Initialization Vector
//   [.., +n)                      encrypted: inner payloads | padding | Pad Length
//   [.., +IcvSize())              Integrity Checksum Data / AEAD tag
//
// For integrity-protected (non-AEAD) suites the checksum covers everything
// from the first byte of the IKE header to the last encrypted byte (RFC 7296
// 3.14). `body` is the offset of the IV; the buffer ends with the ICV. All
// lengths in the headers are final before Seal() runs.
#ifndef MIPSEC_IKEV2_CODEC_SK_CIPHER_H_
#define MIPSEC_IKEV2_CODEC_SK_CIPHER_H_

#include <cstddef>

#include "common/bytes.h"
#include "common/result.h"

namespace mipsec::ikev2 {

class SkCipher {
 public:
  virtual ~SkCipher() = default;

  // Bytes of IV and of ICV this cipher puts into an SK payload.
  virtual std::size_t IvSize() const = 0;
  virtual std::size_t IcvSize() const = 0;
  // The encrypted part (inner payloads + padding + Pad Length byte) must be a
  // multiple of this (the cipher block size; 1 when the mode has none).
  virtual std::size_t PadBlock() const = 0;

  // Writes a fresh IV at [body, body+IvSize()), encrypts in place the bytes
  // between the IV and the last IcvSize() bytes, and writes the ICV there.
  // kInvalidArgument if the layout does not fit (too short, not a multiple of
  // PadBlock()).
  virtual Status Seal(MutableByteSpan message, std::size_t body) = 0;

  // Verifies the ICV (constant time) and only then decrypts in place. On
  // success returns the length of the decrypted part, which starts at
  // body + IvSize() and includes padding and the Pad Length byte (the codec
  // strips them). kAuthFailed if the ICV does not verify (the buffer is then
  // unchanged), kTruncated/kMalformed for a malformed layout.
  virtual Result<std::size_t> Open(MutableByteSpan message, std::size_t body) = 0;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_SK_CIPHER_H_

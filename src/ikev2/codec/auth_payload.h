// Authentication payload AUTH (RFC 7296 3.8), body after the generic header:
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Auth Method   |                RESERVED                       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                      Authentication Data                      ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// For kDigitalSignature (RFC 7427 3) the data starts with a one-octet ASN.1
// length and the AlgorithmIdentifier, then the signature: SplitDigitalSignature.
#ifndef MIPSEC_IKEV2_CODEC_AUTH_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_AUTH_PAYLOAD_H_

#include <cstddef>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

struct AuthPayload {
  AuthMethod method = AuthMethod::kSharedKeyMic;
  Bytes data;

  static Result<AuthPayload> Decode(ByteSpan body);
  std::size_t EncodedSize() const { return 4 + data.size(); }
  void Encode(wire::Writer& w) const;
  bool operator==(const AuthPayload&) const = default;
};

// RFC 7427 3: Authentication Data of method 14 is
//   ASN.1 Length (1 octet) | AlgorithmIdentifier (that many octets) | Signature.
struct DigitalSignatureData {
  ByteSpan algorithm_identifier;  // DER AlgorithmIdentifier (views into the input)
  ByteSpan signature;
};
Result<DigitalSignatureData> SplitDigitalSignature(ByteSpan auth_data);
// The inverse: length octet, AlgorithmIdentifier, signature.
// kInvalidArgument if the AlgorithmIdentifier is longer than 255 bytes.
Result<Bytes> JoinDigitalSignature(ByteSpan algorithm_identifier, ByteSpan signature);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_AUTH_PAYLOAD_H_

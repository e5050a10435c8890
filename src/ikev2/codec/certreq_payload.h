// Certificate Request payload CERTREQ (RFC 7296 3.7), body after the generic
// header:
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Cert Encoding |                                               |
//   +-+-+-+-+-+-+-+-+                                               |
//   ~                    Certification Authority                    ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// For X.509 the Certification Authority field is a concatenation of SHA-1
// hashes (20 bytes each) of trusted CAs' public keys (3.7); it may be empty.
#ifndef MIPSEC_IKEV2_CODEC_CERTREQ_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_CERTREQ_PAYLOAD_H_

#include <cstddef>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

struct CertReqPayload {
  static constexpr std::size_t kSha1Size = 20;

  CertEncoding encoding = CertEncoding::kX509Signature;
  Bytes authorities;

  // The 20-byte hashes in `authorities` (views into it). kMalformed if its
  // length is not a multiple of 20.
  Result<std::vector<ByteSpan>> AuthorityHashes() const;

  static Result<CertReqPayload> Decode(ByteSpan body);
  std::size_t EncodedSize() const { return 1 + authorities.size(); }
  void Encode(wire::Writer& w) const;
  bool operator==(const CertReqPayload&) const = default;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_CERTREQ_PAYLOAD_H_

// Certificate payload CERT (RFC 7296 3.6), body after the generic header:
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Cert Encoding |                                               |
//   +-+-+-+-+-+-+-+-+                                               |
//   ~                       Certificate Data                        ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#ifndef MIPSEC_IKEV2_CODEC_CERT_PAYLOAD_H_
#define MIPSEC_IKEV2_CODEC_CERT_PAYLOAD_H_

#include <cstddef>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "ikev2/codec/ids.h"

namespace mipsec::ikev2 {

struct CertPayload {
  CertEncoding encoding = CertEncoding::kX509Signature;
  Bytes data;  // DER certificate for kX509Signature

  static Result<CertPayload> Decode(ByteSpan body);
  std::size_t EncodedSize() const { return 1 + data.size(); }
  void Encode(wire::Writer& w) const;
  bool operator==(const CertPayload&) const = default;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_CERT_PAYLOAD_H_

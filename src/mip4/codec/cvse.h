// Critical Vendor/Organization Specific Extension, CVSE (RFC 3115), type
// 38, NON-skippable, long-form layout:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |   Reserved    |            Length             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                        Vendor/Org-ID                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          Vendor-CVSE-Type     |    Vendor-CVSE-Value ...
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   Length: bytes after the Length field (Vendor/Org-ID, type and value).
//   Vendor/Org-ID: high octet 0, low 3 octets the SMI Network Management
//   Private Enterprise Code of the vendor.
//
// Parsing never discards a message for a CVSE: the codec understands the
// framing, the core decides whether it knows the vendor and type. RFC 3115:
// the HA rejects an unsupported CVSE with 140 when the mobile node sent it
// and 141 when the foreign agent did; the FA rejects with 100 (from the MN)
// or 101 (from the HA, in a reply). HaCvseRejectCode() tells 140 from 141
// by the CVSE's place in a request (RFC 5944 3.6.1.3, 3.7.2.2): the MN's
// extensions for the HA precede the MN-HA authenticator; what follows it in
// a request the HA receives was appended by the FA.
#ifndef MIPSEC_MIP4_CODEC_CVSE_H_
#define MIPSEC_MIP4_CODEC_CVSE_H_

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/extension.h"
#include "mip4/codec/reply_code.h"

namespace mipsec::mip4 {

struct Cvse {
  static constexpr std::size_t kMinLength = 6;  // vendor ID + type
  static constexpr std::size_t kMaxValueSize = 65535 - kMinLength;

  std::uint8_t reserved = 0;  // as received
  std::uint32_t vendor_id = 0;
  std::uint16_t vendor_type = 0;
  ByteSpan value;  // borrowed
};

// kMalformed when Length < 6.
Result<Cvse> DecodeCvse(const Extension& e);
Status CheckCvse(const Extension& e);
// kInvalidArgument when the value exceeds kMaxValueSize.
Status AppendCvse(wire::Writer& w, const Cvse& c);

// For a Registration Request received by a home agent: 140 if the CVSE at
// `index` precedes the first MN-HA authentication extension (or there is
// none), else 141.
ReplyCode HaCvseRejectCode(const ExtensionList& request, std::size_t index);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_CVSE_H_

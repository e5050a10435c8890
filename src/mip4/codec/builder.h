// MessageBuilder — encodes a Registration Request or Reply: the fixed part,
// then extensions appended in wire order, then (usually last) the
// authentication extensions, whose authenticators are computed over exactly
// the bytes RFC 5944 3.5.1 says they cover.
//
//   MessageBuilder b = MessageBuilder::Request(req);
//   MIPSEC_TRY(b.AppendNai("mn@example.org"));            // part (b), for the HA
//   MIPSEC_TRY(b.AppendAuth(kExtMnHaAuth, spi, 16,        // part (c)
//       [&](ByteSpan covered) { return crypto::Hmac(HashAlg::kMd5, key, covered); }));
//   Bytes wire = std::move(b).Take();                     // the UDP payload
//
// AppendAuth() writes Type, Length and SPI, then hands the callback the
// message so far (fixed part, every prior extension, and those six bytes)
// and appends what it returns. The codec itself does no cryptography.
//
// Encoding is infallible except where a length field cannot hold the value
// (kInvalidArgument) or the authenticator callback fails; a failed Append*
// leaves the message unchanged. Extensions are appended as given: ordering
// is the caller's, checked on the receiving side by Validate() (rules.h).
#ifndef MIPSEC_MIP4_CODEC_BUILDER_H_
#define MIPSEC_MIP4_CODEC_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "mip4/codec/cvse.h"
#include "mip4/codec/nvse.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/codec/registration_request.h"
#include "mip4/codec/revocation_support.h"
#include "mip4/codec/udp_tunnel_reply.h"
#include "mip4/codec/udp_tunnel_request.h"

namespace mipsec::mip4 {

// Given the covered bytes, returns the authenticator (exactly the length
// announced to AppendAuth) or an error. The span is only valid during the
// call.
using AuthenticatorFn = std::function<Result<Bytes>(ByteSpan covered)>;

class MessageBuilder {
 public:
  static MessageBuilder Request(const RegistrationRequest& request);
  static MessageBuilder Reply(const RegistrationReply& reply);
  // Continues an existing message: `prefix` is copied as is. For an agent
  // that relays a message unchanged up to and including the authorization-
  // enabling extension and appends its own (RFC 5944 3.7.2.2, 3.7.3.2):
  // pass message.first(mn_ha_extension.end()).
  static MessageBuilder Continue(ByteSpan prefix);

  void AppendPadding();
  // Generic forms, for extensions without a typed encoder. TLV data <= 255
  // bytes; short-form data <= 254; long-form data <= 65535.
  Status AppendTlv(std::uint8_t type, ByteSpan data);
  Status AppendShort(std::uint8_t type, std::uint8_t sub_type, ByteSpan data);
  Status AppendLong(std::uint8_t type, std::uint8_t sub_type, ByteSpan data);

  Status AppendNai(std::string_view nai);
  void AppendUdpTunnelRequest(const UdpTunnelRequest& req);
  void AppendUdpTunnelReply(const UdpTunnelReply& rep);
  void AppendDeliveryStyle();
  void AppendRevocationSupport(const RevocationSupport& rs);
  void AppendTnc();
  Status AppendCvse(const Cvse& c);
  Status AppendNvse(const Nvse& n);

  // Authentication extension `type` (32, 33, 34) with `spi` and an
  // authenticator of `authenticator_len` bytes (<= 251) from `fn`. Errors:
  // kInvalidArgument for a bad type/length or when `fn` returns a different
  // length; `fn`'s own error as is. The message is unchanged on error.
  Status AppendAuth(std::uint8_t type, std::uint32_t spi, std::size_t authenticator_len,
                    const AuthenticatorFn& fn);
  // The same with a precomputed authenticator (tests, replays).
  Status AppendAuthRaw(std::uint8_t type, std::uint32_t spi, ByteSpan authenticator);

  std::size_t size() const { return w_.size(); }
  ByteSpan View() const { return w_.View(); }
  Bytes Take() && { return std::move(w_).Take(); }

 private:
  MessageBuilder() = default;
  wire::Writer w_{64};
};

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_BUILDER_H_

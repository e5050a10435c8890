#include "mip4/codec/builder.h"

#include <string>

#include "mip4/codec/auth_extension.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/delivery_style.h"
#include "mip4/codec/nai_extension.h"
#include "mip4/codec/tnc_extension.h"

namespace mipsec::mip4 {

MessageBuilder MessageBuilder::Request(const RegistrationRequest& request) {
  MessageBuilder b;
  AppendRegistrationRequestFixed(b.w_, request);
  return b;
}

MessageBuilder MessageBuilder::Reply(const RegistrationReply& reply) {
  MessageBuilder b;
  AppendRegistrationReplyFixed(b.w_, reply);
  return b;
}

MessageBuilder MessageBuilder::Continue(ByteSpan prefix) {
  MessageBuilder b;
  b.w_.Append(prefix);
  return b;
}

void MessageBuilder::AppendPadding() { w_.U8(kExtPadding); }

Status MessageBuilder::AppendTlv(std::uint8_t type, ByteSpan data) {
  if (data.size() > 255) {
    return Error(Errc::kInvalidArgument, "TLV extension " + std::to_string(type) + " data of " +
                                             std::to_string(data.size()) + " bytes exceeds 255");
  }
  w_.U8(type).U8(static_cast<std::uint8_t>(data.size())).Append(data);
  return Ok{};
}

Status MessageBuilder::AppendShort(std::uint8_t type, std::uint8_t sub_type, ByteSpan data) {
  if (data.size() > 254) {
    return Error(Errc::kInvalidArgument, "short extension " + std::to_string(type) + " data of " +
                                             std::to_string(data.size()) + " bytes exceeds 254");
  }
  w_.U8(type).U8(static_cast<std::uint8_t>(data.size() + 1)).U8(sub_type).Append(data);
  return Ok{};
}

Status MessageBuilder::AppendLong(std::uint8_t type, std::uint8_t sub_type, ByteSpan data) {
  if (data.size() > 65535) {
    return Error(Errc::kInvalidArgument, "long extension " + std::to_string(type) + " data of " +
                                             std::to_string(data.size()) + " bytes exceeds 65535");
  }
  w_.U8(type).U8(sub_type).U16(static_cast<std::uint16_t>(data.size())).Append(data);
  return Ok{};
}

Status MessageBuilder::AppendNai(std::string_view nai) { return mip4::AppendNai(w_, nai); }

void MessageBuilder::AppendUdpTunnelRequest(const UdpTunnelRequest& req) {
  mip4::AppendUdpTunnelRequest(w_, req);
}

void MessageBuilder::AppendUdpTunnelReply(const UdpTunnelReply& rep) {
  mip4::AppendUdpTunnelReply(w_, rep);
}

void MessageBuilder::AppendDeliveryStyle() { mip4::AppendDeliveryStyle(w_); }

void MessageBuilder::AppendRevocationSupport(const RevocationSupport& rs) {
  mip4::AppendRevocationSupport(w_, rs);
}

void MessageBuilder::AppendTnc() { mip4::AppendTnc(w_); }

Status MessageBuilder::AppendCvse(const Cvse& c) { return mip4::AppendCvse(w_, c); }

Status MessageBuilder::AppendNvse(const Nvse& n) { return mip4::AppendNvse(w_, n); }

Status MessageBuilder::AppendAuth(std::uint8_t type, std::uint32_t spi,
                                  std::size_t authenticator_len, const AuthenticatorFn& fn) {
  if (!IsAuthExtension(type)) {
    return Error(Errc::kInvalidArgument,
                 "type " + std::to_string(type) + " is not an authentication extension");
  }
  if (authenticator_len > AuthExtension::kMaxAuthenticatorSize) {
    return Error(Errc::kInvalidArgument, "authenticator length " +
                                             std::to_string(authenticator_len) + " exceeds 251");
  }
  // RFC 5944 3.5.1: the authenticator covers everything so far plus this
  // extension's Type, Length and SPI. Build them on a copy so that a failing
  // callback leaves the message unchanged.
  wire::Writer covered(w_.size() + AuthExtension::kHeaderSize + authenticator_len);
  covered.Append(w_.View());
  covered.U8(type).U8(static_cast<std::uint8_t>(4 + authenticator_len)).U32(spi);
  MIPSEC_ASSIGN_OR_RETURN(Bytes auth, fn(covered.View()));
  if (auth.size() != authenticator_len) {
    return Error(Errc::kInvalidArgument, "authenticator callback returned " +
                                             std::to_string(auth.size()) + " bytes, expected " +
                                             std::to_string(authenticator_len));
  }
  covered.Append(auth);
  w_ = std::move(covered);
  return Ok{};
}

Status MessageBuilder::AppendAuthRaw(std::uint8_t type, std::uint32_t spi,
                                     ByteSpan authenticator) {
  return AppendAuthExtension(w_, type, spi, authenticator);
}

}  // namespace mipsec::mip4

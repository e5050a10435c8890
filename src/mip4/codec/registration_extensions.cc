#include "mip4/codec/registration_extensions.h"

#include "mip4/codec/auth_extension.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/cvse.h"
#include "mip4/codec/delivery_style.h"
#include "mip4/codec/nai_extension.h"
#include "mip4/codec/nvse.h"
#include "mip4/codec/revocation_support.h"
#include "mip4/codec/tnc_extension.h"
#include "mip4/codec/udp_tunnel_reply.h"
#include "mip4/codec/udp_tunnel_request.h"

namespace mipsec::mip4 {

namespace {

constexpr ExtensionKind kKinds[] = {
    {kExtPadding, ExtensionFormat::kPadding, nullptr},
    {kExtMnHaAuth, ExtensionFormat::kTlv, &CheckAuthExtension},
    {kExtMnFaAuth, ExtensionFormat::kTlv, &CheckAuthExtension},
    {kExtFaHaAuth, ExtensionFormat::kTlv, &CheckAuthExtension},
    {kExtCvse, ExtensionFormat::kLong, &CheckCvse},
    {kExtUdpTunnelReply, ExtensionFormat::kShort, &CheckUdpTunnelReply},
    {kExtDeliveryStyle, ExtensionFormat::kTlv, &CheckDeliveryStyle},
    {kExtNai, ExtensionFormat::kTlv, &CheckNai},
    {kExtNvse, ExtensionFormat::kTlv, &CheckNvse},
    {kExtRevocationSupport, ExtensionFormat::kTlv, &CheckRevocationSupport},
    {kExtUdpTunnelRequest, ExtensionFormat::kShort, &CheckUdpTunnelRequest},
    {kExtTnc, ExtensionFormat::kShort, &CheckTnc},
};

}  // namespace

std::span<const ExtensionKind> RegistrationExtensionKinds() { return kKinds; }

Result<ExtensionList> ParseRegistrationExtensions(ByteSpan message, std::size_t fixed_size) {
  MIPSEC_ASSIGN_OR_RETURN(std::vector<Extension> exts,
                          ParseExtensionChain(message, fixed_size, kKinds));
  return ExtensionList(message, std::move(exts));
}

Result<std::uint8_t> PeekMessageType(ByteSpan message) {
  if (message.empty()) return Error(Errc::kTruncated, "empty Mobile IP message: no type");
  return message[0];
}

}  // namespace mipsec::mip4

// Fuzz target: Mobile IPv4 registration messages (src/mip4/codec) — the
// Registration Request and Reply with every extension, and Tunnel Data.
//
// Properties: no out-of-bounds read; a parsed message's extensions tile it
// exactly from the fixed part to the end; re-encoding the fixed part and
// the extensions (generic forms) gives the input back byte for byte; every
// recognised extension decodes with its typed decoder; every
// authentication extension's coverage is the message up to its SPI; the
// only kUnsupported error is the RFC 5944 1.8 discard; Validate() runs.
#include <cstddef>
#include <cstdint>

#include "fuzz_target.h"
#include "fuzz_util.h"
#include "mip4/codec/auth_extension.h"
#include "mip4/codec/builder.h"
#include "mip4/codec/constants.h"
#include "mip4/codec/cvse.h"
#include "mip4/codec/delivery_style.h"
#include "mip4/codec/nai_extension.h"
#include "mip4/codec/nvse.h"
#include "mip4/codec/registration_reply.h"
#include "mip4/codec/registration_request.h"
#include "mip4/codec/revocation_support.h"
#include "mip4/codec/rules.h"
#include "mip4/codec/tnc_extension.h"
#include "mip4/codec/tunnel_data.h"
#include "mip4/codec/udp_tunnel_reply.h"
#include "mip4/codec/udp_tunnel_request.h"

using namespace mipsec;        // NOLINT: a fuzz target, not library code
using namespace mipsec::mip4;  // NOLINT

namespace {

void CheckTypedDecoders(const Extension& e) {
  if (!e.recognized) return;
  switch (e.type) {
    case kExtMnHaAuth:
    case kExtMnFaAuth:
    case kExtFaHaAuth: FUZZ_CHECK(DecodeAuthExtension(e).ok()); break;
    case kExtCvse: FUZZ_CHECK(DecodeCvse(e).ok()); break;
    case kExtUdpTunnelReply: FUZZ_CHECK(DecodeUdpTunnelReply(e).ok()); break;
    case kExtDeliveryStyle: FUZZ_CHECK(CheckDeliveryStyle(e).ok()); break;
    case kExtNai: FUZZ_CHECK(DecodeNai(e).ok()); break;
    case kExtNvse: FUZZ_CHECK(DecodeNvse(e).ok()); break;
    case kExtRevocationSupport: FUZZ_CHECK(DecodeRevocationSupport(e).ok()); break;
    case kExtUdpTunnelRequest: FUZZ_CHECK(DecodeUdpTunnelRequest(e).ok()); break;
    case kExtTnc: FUZZ_CHECK(DecodeTnc(e).ok()); break;
    case kExtPadding: FUZZ_CHECK(e.length == 1); break;
    default: FUZZ_CHECK(false);  // the parser recognised a type we do not know
  }
}

void CheckExtensions(ByteSpan in, std::size_t fixed, const ExtensionList& list,
                     MessageBuilder b) {
  FUZZ_CHECK(list.message().data() == in.data() && list.message().size() == in.size());
  std::size_t at = fixed;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Extension& e = list[i];
    FUZZ_CHECK(e.offset == at && e.length >= 1 && e.end() <= in.size());
    at = e.end();
    CheckTypedDecoders(e);
    switch (e.format) {
      case ExtensionFormat::kPadding: b.AppendPadding(); break;
      case ExtensionFormat::kTlv: FUZZ_CHECK(b.AppendTlv(e.type, e.data).ok()); break;
      case ExtensionFormat::kShort:
        FUZZ_CHECK(b.AppendShort(e.type, e.sub_type, e.data).ok());
        break;
      case ExtensionFormat::kLong:
        FUZZ_CHECK(b.AppendLong(e.type, e.sub_type, e.data).ok());
        break;
    }
    if (e.type == kExtCvse && e.recognized) (void)HaCvseRejectCode(list, i);
  }
  FUZZ_CHECK(at == in.size());
  FUZZ_CHECK(fuzz::SameBytes(b.View(), in));
  for (std::size_t i = 0; i < CountAuthExtensions(list); ++i) {
    Result<AuthCoverage> c = AuthenticationCoverage(list, i);
    FUZZ_CHECK(c.ok());
    const Extension& e = list[c->extension_index];
    FUZZ_CHECK(c->covered.data() == in.data() && c->covered.size() == e.offset + 6);
    FUZZ_CHECK(c->authenticator.size() + 6 == e.length);
  }
  FUZZ_CHECK(!AuthenticationCoverage(list, CountAuthExtensions(list)).ok());
}

void CheckError(const Error& e) {
  if (e.code() == Errc::kUnsupported) FUZZ_CHECK(IsUnrecognizedExtension(e));
  FUZZ_CHECK(e.code() == Errc::kTruncated || e.code() == Errc::kMalformed ||
             e.code() == Errc::kUnsupported);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan in(data, size);

  Result<ParsedRegistrationRequest> req = ParseRegistrationRequest(in);
  if (req.ok()) {
    CheckExtensions(in, RegistrationRequest::kFixedSize, req->extensions,
                    MessageBuilder::Request(req->request));
    if (std::optional<Violation> v = Validate(*req)) FUZZ_CHECK(!v->detail.empty());
  } else {
    CheckError(req.error());
  }

  Result<ParsedRegistrationReply> rep = ParseRegistrationReply(in);
  if (rep.ok()) {
    CheckExtensions(in, RegistrationReply::kFixedSize, rep->extensions,
                    MessageBuilder::Reply(rep->reply));
    if (std::optional<Violation> v = Validate(*rep)) FUZZ_CHECK(!v->detail.empty());
  } else {
    CheckError(rep.error());
  }
  FUZZ_CHECK(!(req.ok() && rep.ok()));

  Result<TunnelData> td = ParseTunnelData(in);
  if (td.ok()) {
    FUZZ_CHECK(td->payload.size() + TunnelData::kHeaderSize == size);
    if (td->reserved == 0) {
      FUZZ_CHECK(fuzz::SameBytes(BuildTunnelData(td->next_header, td->payload), in));
    }
  }
  return 0;
}

#include "mip4/codec/auth_extension.h"

#include <string>

#include "common/wire/reader.h"
#include "mip4/codec/constants.h"

namespace mipsec::mip4 {

Result<AuthExtension> DecodeAuthExtension(const Extension& e) {
  if (!IsAuthExtension(e.type) || e.format != ExtensionFormat::kTlv) {
    return Error(Errc::kInvalidArgument, "extension type " + std::to_string(e.type) +
                                             " is not an authentication extension");
  }
  // RFC 5944 3.5.2: Length is 4 plus the authenticator.
  if (e.data.size() < 4) {
    return Error(Errc::kMalformed, "authentication extension length " +
                                      std::to_string(e.data.size()) + " is shorter than its SPI");
  }
  wire::Reader r(e.data);
  AuthExtension a;
  a.type = e.type;
  MIPSEC_ASSIGN_OR_RETURN(a.spi, r.U32("SPI"));
  a.authenticator = r.TakeRest();
  return a;
}

Status CheckAuthExtension(const Extension& e) {
  MIPSEC_TRY(DecodeAuthExtension(e));
  return Ok{};
}

std::size_t CountAuthExtensions(const ExtensionList& list) {
  std::size_t n = 0;
  for (const Extension& e : list) {
    if (e.recognized && IsAuthExtension(e.type)) ++n;
  }
  return n;
}

namespace {

Result<AuthCoverage> CoverageAt(const ExtensionList& list, std::size_t index) {
  const Extension& e = list[index];
  MIPSEC_ASSIGN_OR_RETURN(AuthExtension a, DecodeAuthExtension(e));
  if (e.offset + AuthExtension::kHeaderSize > list.message().size()) {
    return Error(Errc::kInternal, "authentication extension lies outside its message");
  }
  AuthCoverage c;
  c.extension_index = index;
  c.type = a.type;
  c.spi = a.spi;
  // RFC 5944 3.5.1: everything before the extension, plus its Type, Length
  // and SPI.
  c.covered = list.message().first(e.offset + AuthExtension::kHeaderSize);
  c.authenticator = a.authenticator;
  return c;
}

}  // namespace

Result<AuthCoverage> AuthenticationCoverage(const ExtensionList& list, std::size_t nth) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].recognized || !IsAuthExtension(list[i].type)) continue;
    if (seen++ == nth) return CoverageAt(list, i);
  }
  return Error(Errc::kNotFound, "no authentication extension number " + std::to_string(nth) +
                                    " (the message has " + std::to_string(seen) + ")");
}

Result<AuthCoverage> AuthenticationCoverageOfType(const ExtensionList& list, std::uint8_t type) {
  std::optional<std::size_t> i = list.Find(type);
  if (!i || !IsAuthExtension(type)) {
    return Error(Errc::kNotFound, "no authentication extension of type " + std::to_string(type));
  }
  return CoverageAt(list, *i);
}

Status AppendAuthExtension(wire::Writer& w, std::uint8_t type, std::uint32_t spi,
                           ByteSpan authenticator) {
  if (!IsAuthExtension(type)) {
    return Error(Errc::kInvalidArgument,
                 "type " + std::to_string(type) + " is not an authentication extension");
  }
  if (authenticator.size() > AuthExtension::kMaxAuthenticatorSize) {
    return Error(Errc::kInvalidArgument, "authenticator of " +
                                             std::to_string(authenticator.size()) +
                                             " bytes does not fit the one-octet Length");
  }
  w.U8(type).U8(static_cast<std::uint8_t>(4 + authenticator.size())).U32(spi).Append(authenticator);
  return Ok{};
}

}  // namespace mipsec::mip4

// The registration extension number space as this codec understands it
// (the types of constants.h, RFC 5944 6.3 and later RFCs), with each type's
// wire form and body check. Used by the Registration Request and Reply
// parsers; anything not listed is unrecognised (RFC 5944 1.8).
#ifndef MIPSEC_MIP4_CODEC_REGISTRATION_EXTENSIONS_H_
#define MIPSEC_MIP4_CODEC_REGISTRATION_EXTENSIONS_H_

#include <cstddef>
#include <span>

#include "common/bytes.h"
#include "common/result.h"
#include "mip4/codec/extension.h"

namespace mipsec::mip4 {

std::span<const ExtensionKind> RegistrationExtensionKinds();

// The extensions of a registration message whose fixed part is
// `fixed_size` bytes long.
Result<ExtensionList> ParseRegistrationExtensions(ByteSpan message, std::size_t fixed_size);

// Peeks at the Mobile IP message type (the first octet); kTruncated when
// empty.
Result<std::uint8_t> PeekMessageType(ByteSpan message);

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_REGISTRATION_EXTENSIONS_H_

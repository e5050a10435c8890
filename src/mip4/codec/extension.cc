#include "mip4/codec/extension.h"

#include "common/wire/reader.h"
#include "mip4/codec/constants.h"

namespace mipsec::mip4 {

namespace {

constexpr std::string_view kUnrecognizedPrefix = "unrecognized non-skippable extension";

const ExtensionKind* FindKind(std::span<const ExtensionKind> known, std::uint8_t type) {
  for (const ExtensionKind& k : known) {
    if (k.type == type) return &k;
  }
  return nullptr;
}

std::string At(std::uint8_t type, std::size_t offset) {
  return "extension type " + std::to_string(type) + " at offset " + std::to_string(offset);
}

}  // namespace

std::string_view ExtensionFormatName(ExtensionFormat f) {
  switch (f) {
    case ExtensionFormat::kPadding: return "padding";
    case ExtensionFormat::kTlv: return "tlv";
    case ExtensionFormat::kShort: return "short";
    case ExtensionFormat::kLong: return "long";
  }
  return "?";
}

Error UnrecognizedExtensionError(std::uint8_t type, std::size_t offset) {
  return Error(Errc::kUnsupported, std::string(kUnrecognizedPrefix) + ": " + At(type, offset) +
                                       " (RFC 5944 1.8: discard the message silently)");
}

bool IsUnrecognizedExtension(const Error& e) {
  return e.code() == Errc::kUnsupported &&
         e.detail().find(kUnrecognizedPrefix) != std::string::npos;
}

Result<std::vector<Extension>> ParseExtensionChain(ByteSpan message, std::size_t start,
                                                   std::span<const ExtensionKind> known) {
  std::vector<Extension> out;
  if (start > message.size()) {
    return Error(Errc::kInternal, "extension chain starts past the end of the message");
  }
  wire::Reader r(message);
  MIPSEC_TRY(r.Skip(start, "fixed part"));
  while (!r.empty()) {
    Extension e;
    e.offset = r.offset();
    MIPSEC_ASSIGN_OR_RETURN(e.type, r.U8("extension type"));
    const ExtensionKind* kind = FindKind(known, e.type);
    if (kind == nullptr) {
      // RFC 5944 1.8.
      if (!IsSkippableExtension(e.type)) return UnrecognizedExtensionError(e.type, e.offset);
      e.recognized = false;
    }
    e.format = kind ? kind->format : ExtensionFormat::kTlv;
    const std::string where = At(e.type, e.offset);
    switch (e.format) {
      case ExtensionFormat::kPadding:
        break;
      case ExtensionFormat::kTlv: {
        MIPSEC_ASSIGN_OR_RETURN(std::uint8_t len, r.U8(where + " length"));
        MIPSEC_ASSIGN_OR_RETURN(e.data, r.Span(len, where + " data"));
        break;
      }
      case ExtensionFormat::kShort: {
        MIPSEC_ASSIGN_OR_RETURN(std::uint8_t len, r.U8(where + " length"));
        if (len < 1) {
          return Error(Errc::kMalformed, where + ": short-form length 0 leaves no sub-type "
                                                 "(RFC 5944 1.11)");
        }
        MIPSEC_ASSIGN_OR_RETURN(e.sub_type, r.U8(where + " sub-type"));
        MIPSEC_ASSIGN_OR_RETURN(e.data, r.Span(len - 1u, where + " data"));
        break;
      }
      case ExtensionFormat::kLong: {
        MIPSEC_ASSIGN_OR_RETURN(e.sub_type, r.U8(where + " sub-type"));
        MIPSEC_ASSIGN_OR_RETURN(std::uint16_t len, r.U16(where + " length"));
        MIPSEC_ASSIGN_OR_RETURN(e.data, r.Span(len, where + " data"));
        break;
      }
    }
    e.length = r.offset() - e.offset;
    if (kind != nullptr && kind->check != nullptr) {
      Status s = kind->check(e);
      if (!s.ok()) {
        if (s.error().code() != Errc::kUnsupported) {
          return Error(s.error().code(), where + ": " + s.error().detail());
        }
        // Framed correctly but not understood (an unknown sub-type, a
        // reserved field that must be zero, ...).
        if (!IsSkippableExtension(e.type)) return UnrecognizedExtensionError(e.type, e.offset);
        e.recognized = false;
      }
    }
    out.push_back(e);
  }
  return out;
}

std::optional<std::size_t> ExtensionList::Find(std::uint8_t type, std::size_t from) const {
  for (std::size_t i = from; i < extensions_.size(); ++i) {
    if (extensions_[i].type == type && extensions_[i].recognized) return i;
  }
  return std::nullopt;
}

std::size_t ExtensionList::Count(std::uint8_t type) const {
  std::size_t n = 0;
  for (const Extension& e : extensions_) {
    if (e.type == type && e.recognized) ++n;
  }
  return n;
}

const Extension* ExtensionList::First(std::uint8_t type) const {
  std::optional<std::size_t> i = Find(type);
  return i ? &extensions_[*i] : nullptr;
}

}  // namespace mipsec::mip4

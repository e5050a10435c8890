// The Mobile IPv4 extension framework (RFC 5944 1.8-1.11): the three wire
// forms, the skippable / non-skippable rule, and the parsed list of a
// message's extensions in wire order.
//
// Simple Type-Length-Value form (RFC 5944 1.9), used by every extension of
// RFC 5944 and by 130, 131, 134, 137:
//
//    0                   1                   2
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-
//   |     Type      |    Length     |    Data ...
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-
//
// Long form (RFC 5944 1.10): non-skippable extensions only, 16-bit length
// of the Data (CVSE 38 has this layout with a Reserved byte where the
// Sub-Type is):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |  Sub-Type     |           Length              |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                           Data      .....
//
// Short form (RFC 5944 1.11): Length counts the Sub-Type and the Data
// (44, 144, 149):
//
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |   Length      |    Sub-Type   |    Data ....
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// and the One-byte Padding extension, type 0 with neither Length nor Data,
// in both number spaces (RFC 5944 1.8, 2.1.3).
//
// Skippability (RFC 5944 1.8): an unrecognised extension of type 0-127 means
// the whole message MUST be silently discarded; one of type 128-255 is
// skipped (its Length says how far) and the rest is processed. Parsers here
// return UnrecognizedExtensionError() for the first case — the one error a
// core must answer with "log, count, send nothing" — and keep skipped
// extensions in the list (recognized == false) so offsets, coverage and
// ordering stay exact. Skippable extensions never use the long form
// (RFC 5944 1.10), so an unknown 128-255 type is always skipped as TLV.
//
// Everything here borrows: Extension::data and ExtensionList::message()
// point into the caller's buffer, which must outlive them.
#ifndef MIPSEC_MIP4_CODEC_EXTENSION_H_
#define MIPSEC_MIP4_CODEC_EXTENSION_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace mipsec::mip4 {

enum class ExtensionFormat : std::uint8_t {
  kPadding,  // one byte, type 0
  kTlv,      // RFC 5944 1.9
  kShort,    // RFC 5944 1.11
  kLong,     // RFC 5944 1.10
};

std::string_view ExtensionFormatName(ExtensionFormat f);

struct Extension {
  std::uint8_t type = 0;
  ExtensionFormat format = ExtensionFormat::kTlv;
  // Byte offset of the Type octet from the start of the message (the Mobile
  // IP message for registration; the ICMP message for advertisements).
  std::size_t offset = 0;
  // Total bytes on the wire, Type and Length included (1 for padding).
  std::size_t length = 0;
  // Short form: the Sub-Type; long form: the byte after Type (Sub-Type, or
  // CVSE's Reserved); 0 otherwise.
  std::uint8_t sub_type = 0;
  // The bytes after the header: TLV after Length; short form after Sub-Type;
  // long form after the 16-bit Length; empty for padding.
  ByteSpan data;
  // False for a skippable (128-255) extension we do not understand: kept in
  // the list, ignored by the protocol (RFC 5944 1.8).
  bool recognized = true;

  std::size_t end() const { return offset + length; }
};

// How one number space treats a type. `check` validates a recognised
// extension's body: Ok; kUnsupported for "well-framed but not understood"
// (a skippable one is then kept with recognized = false, a non-skippable
// one makes the message discarded); any other error fails the parse.
struct ExtensionKind {
  std::uint8_t type = 0;
  ExtensionFormat format = ExtensionFormat::kTlv;
  Status (*check)(const Extension&) = nullptr;
};

// Parses the extensions of `message` from byte `start` to the end. `known`
// lists the recognised types of the number space (padding, type 0, must be
// listed to be recognised). Errors: kTruncated / kMalformed naming the
// extension and offset; UnrecognizedExtensionError() for RFC 5944 1.8.
Result<std::vector<Extension>> ParseExtensionChain(ByteSpan message, std::size_t start,
                                                   std::span<const ExtensionKind> known);

// RFC 5944 1.8 silent discard. Errc::kUnsupported with a detail naming the
// type and offset; IsUnrecognizedExtension() recognises it (and nothing
// else the mip4 codec returns).
Error UnrecognizedExtensionError(std::uint8_t type, std::size_t offset);
bool IsUnrecognizedExtension(const Error& e);

// The extensions of one parsed message, in wire order, and the message they
// were parsed from.
class ExtensionList {
 public:
  ExtensionList() = default;
  ExtensionList(ByteSpan message, std::vector<Extension> extensions)
      : message_(message), extensions_(std::move(extensions)) {}

  // The whole message (fixed part and every extension).
  ByteSpan message() const { return message_; }
  const std::vector<Extension>& all() const { return extensions_; }
  std::size_t size() const { return extensions_.size(); }
  bool empty() const { return extensions_.empty(); }
  const Extension& operator[](std::size_t i) const { return extensions_[i]; }
  auto begin() const { return extensions_.begin(); }
  auto end() const { return extensions_.end(); }

  // Index of the first extension of `type` at or after index `from`.
  std::optional<std::size_t> Find(std::uint8_t type, std::size_t from = 0) const;
  std::size_t Count(std::uint8_t type) const;
  // The first extension of `type`, or nullptr.
  const Extension* First(std::uint8_t type) const;

 private:
  ByteSpan message_;
  std::vector<Extension> extensions_;
};

}  // namespace mipsec::mip4

#endif  // MIPSEC_MIP4_CODEC_EXTENSION_H_

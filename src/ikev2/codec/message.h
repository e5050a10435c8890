// An IKEv2 message: the header, payloads outside SK, the SK/SKF payload, and
// the payloads inside it (RFC 7296 3.1-3.14, RFC 7383 2.5).
//
// Decoding happens in two stages, because the SA layer must find the IKE SA
// (by SPI) and check the Message ID before it can decrypt:
//
//   1. DecodeMessage(bytes)           header + unprotected payloads; an SK or
//                                     SKF payload (it must be last) is kept
//                                     raw in Message::encrypted.
//   2. DecodeProtected(bytes, cipher) stage 1, then SkCipher::Open() and
//                                     DecodePayloadChain() on the plaintext
//                                     into Message::inner. (SKF messages go
//                                     to FragmentReassembler, fragment.h.)
//
// Encoding: EncodeMessage() for unprotected messages (IKE_SA_INIT; also
// re-encodes an outer-decoded message with its raw SK byte for byte), and
// EncodeProtected() which lays out SK per sk_cipher.h and calls Seal(). The
// header's Next Payload and Length are always computed by the encoder;
// EncodedSize()/ProtectedSize() give the exact length before encoding.
//
// Refusals: every decoder returns an Error and, through the optional
// `notify` out-parameter, the Notify to answer with if the RFC says so
// (error_notify.h). Decoders never suggest answering a response.
#ifndef MIPSEC_IKEV2_CODEC_MESSAGE_H_
#define MIPSEC_IKEV2_CODEC_MESSAGE_H_

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/wire/writer.h"
#include "ikev2/codec/encrypted_payload.h"
#include "ikev2/codec/error_notify.h"
#include "ikev2/codec/header.h"
#include "ikev2/codec/payload.h"
#include "ikev2/codec/sk_cipher.h"

namespace mipsec::ikev2 {

struct Message {
  IkeHeader header;
  // Unprotected payloads, in order (all of IKE_SA_INIT; normally none in a
  // protected message).
  std::vector<Payload> payloads;
  // The SK or SKF payload if the message has one (it is then protected).
  std::optional<EncryptedPayload> encrypted;
  // Payloads inside SK: filled by DecodeProtected() and the reassembler;
  // what EncodeProtected() encrypts.
  std::vector<Payload> inner;

  bool is_protected() const { return encrypted.has_value(); }

  // Lookups over `payloads` then `inner`, in order.
  const Payload* Find(PayloadType type) const;
  std::vector<const Payload*> FindAll(PayloadType type) const;
  const NotifyPayload* FindNotify(NotifyType type) const;
  std::vector<const NotifyPayload*> Notifies() const;

  bool operator==(const Message&) const = default;
};

// ---- Stage 1 and payload chains ----

// Header (DecodeHeader checks) and the unprotected payload chain. An SK/SKF
// payload must be the last one (RFC 7296 3.14, RFC 7383 2.5): bytes after it
// are kMalformed. An unknown payload type with the critical bit set fails
// with kUnsupported and suggests UNSUPPORTED_CRITICAL_PAYLOAD (data: the
// type) for requests (RFC 7296 2.5); without it the payload is kept as
// UnknownPayload.
Result<Message> DecodeMessage(ByteSpan bytes, std::optional<ErrorNotify>* notify = nullptr);

// Decodes a chain of payloads starting with type `first` that fills `bytes`
// exactly (the inner payloads of a decrypted SK). SK/SKF inside is
// kMalformed. Unknown critical types: as DecodeMessage, except that the
// suggestion is always made (the caller knows whether it may answer).
Result<std::vector<Payload>> DecodePayloadChain(PayloadType first, ByteSpan bytes,
                                                std::optional<ErrorNotify>* notify = nullptr);

// The chain's bytes (each payload's Next Payload naming the following one,
// the last naming kNone). kInvalidArgument from AppendPayload().
Result<Bytes> EncodePayloadChain(std::span<const Payload> payloads);
std::size_t EncodedChainSize(std::span<const Payload> payloads);
// Appends the chain; the last payload names `after_last`.
Status AppendPayloadChain(wire::Writer& w, std::span<const Payload> payloads,
                          PayloadType after_last = PayloadType::kNone);

// ---- Unprotected encoding ----

// Header, `payloads`, and `encrypted` as raw bytes if present (`inner` is
// not used). Exact size: EncodedSize().
Result<Bytes> EncodeMessage(const Message& m);
std::size_t EncodedSize(const Message& m);

// ---- Protected messages (SK) ----

// Header, `payloads`, then SK{inner} laid out as sk_cipher.h describes: the
// minimal padding to cipher.PadBlock() (zero bytes), all lengths final, and
// cipher.Seal(). `encrypted` is ignored (an SK is always written; use
// EncodeFragmented() in fragment.h for SKF). Errors: kInvalidArgument from
// the chain, or the cipher's error.
Result<Bytes> EncodeProtected(const Message& m, SkCipher& cipher);
// The exact size EncodeProtected() produces.
std::size_t ProtectedSize(const Message& m, const SkCipher& cipher);

// Stage 1 and 2 for a message with an SK payload: copies `bytes`, calls
// cipher.Open() (kAuthFailed and friends pass through, no suggestion: an
// unauthenticated message is dropped silently), strips the padding and
// decodes the inner chain. Malformed content after the ICV verified suggests
// INVALID_SYNTAX for requests (RFC 7296 2.21.2). kInvalidArgument if the
// message has no SK (or has SKF: use FragmentReassembler).
Result<Message> DecodeProtected(ByteSpan bytes, SkCipher& cipher,
                                std::optional<ErrorNotify>* notify = nullptr);

// ---- Lower level, shared with fragment.h ----

// Lays out header | `plain` | SK or SKF header (from `shape`: type,
// first_inner, critical, fragment fields; `shape.body` is not used) | IV |
// `content` | padding | Pad Length | ICV and seals it. The header's Next
// Payload is plain's first type, else shape.type.
Result<Bytes> SealMessage(const IkeHeader& header, std::span<const Payload> plain,
                          const EncryptedPayload& shape, ByteSpan content, SkCipher& cipher);
std::size_t SealedSize(std::span<const Payload> plain, const EncryptedPayload& shape,
                       std::size_t content, const SkCipher& cipher);

// Opens the SK/SKF payload whose body (IV) starts at `body` in `message`, in
// place, and returns the inner payload bytes (padding stripped) as a view
// into `message`.
Result<ByteSpan> OpenInPlace(MutableByteSpan message, std::size_t body, SkCipher& cipher);

// A message builder: collect payloads, ask for the exact size (to decide
// on fragmentation), then build.
class MessageBuilder {
 public:
  explicit MessageBuilder(const IkeHeader& header) { m_.header = header; }

  MessageBuilder& Add(Payload p) {
    m_.payloads.push_back(std::move(p));
    return *this;
  }
  MessageBuilder& AddProtected(Payload p) {
    m_.inner.push_back(std::move(p));
    return *this;
  }

  const Message& message() const { return m_; }
  std::size_t PlainSize() const { return EncodedSize(m_); }
  std::size_t ProtectedSize(const SkCipher& cipher) const {
    return ikev2::ProtectedSize(m_, cipher);
  }
  Result<Bytes> Build() const { return EncodeMessage(m_); }
  Result<Bytes> BuildProtected(SkCipher& cipher) const { return EncodeProtected(m_, cipher); }

 private:
  Message m_;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_MESSAGE_H_

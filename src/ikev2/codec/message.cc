#include "ikev2/codec/message.h"

#include <string>

#include "common/wire/reader.h"

namespace mipsec::ikev2 {
namespace {

std::string N(std::size_t v) { return std::to_string(v); }

struct Chain {
  std::vector<Payload> payloads;
  std::optional<EncryptedPayload> encrypted;
};

// Walks a payload chain over all of `bytes`. With `outer`, an SK/SKF ends the
// chain and must be last; without, it is malformed.
Result<Chain> DecodeChain(PayloadType first, ByteSpan bytes, bool outer,
                          std::optional<ErrorNotify>* notify) {
  wire::Reader r(bytes);
  Chain c;
  PayloadType type = first;
  std::size_t index = 0;
  while (type != PayloadType::kNone) {
    ++index;
    const std::string which = "payload " + N(index) + " (" + PayloadTypeName(type) + ")";
    MIPSEC_ASSIGN_OR_RETURN(std::uint8_t next, r.U8("next payload"));
    MIPSEC_ASSIGN_OR_RETURN(std::uint8_t flags, r.U8("critical bit"));
    MIPSEC_ASSIGN_OR_RETURN(std::uint16_t len, r.U16("payload length"));
    if (len < kGenericHeaderSize) {
      return Error(Errc::kMalformed, which + " length " + N(len) + " is below 4");
    }
    Result<ByteSpan> body = r.Span(len - kGenericHeaderSize, "payload body");
    if (!body.ok()) return body.error().WithContext(which);
    const bool critical = (flags & kCriticalBit) != 0;

    if (type == PayloadType::kSk || type == PayloadType::kSkf) {
      if (!outer) return Error(Errc::kMalformed, which + " inside an encrypted payload");
      // RFC 7296 3.14, RFC 7383 2.5: the encrypted payload is the last one.
      if (!r.empty()) {
        return Error(Errc::kMalformed,
                     which + " is followed by " + N(r.remaining()) + " bytes; it must be last");
      }
      EncryptedPayload e;
      e.type = type;
      e.first_inner = static_cast<PayloadType>(next);
      e.critical = critical;
      wire::Reader b(*body);
      if (type == PayloadType::kSkf) {
        Result<std::uint16_t> num = b.U16("SKF fragment number");
        if (!num.ok()) return num.error().WithContext(which);
        Result<std::uint16_t> total = b.U16("SKF total fragments");
        if (!total.ok()) return total.error().WithContext(which);
        e.fragment_number = *num;
        e.total_fragments = *total;
      }
      const ByteSpan rest = b.TakeRest();
      e.body.assign(rest.begin(), rest.end());
      c.encrypted = std::move(e);
      return c;
    }

    if (IsKnownPayloadType(type)) {
      Result<PayloadBody> decoded = DecodePayloadBody(type, *body);
      if (!decoded.ok()) return decoded.error().WithContext(which);
      c.payloads.push_back(Payload{type, critical, std::move(*decoded)});
    } else if (critical) {
      // RFC 7296 2.5, 3.2: reject, answering UNSUPPORTED_CRITICAL_PAYLOAD
      // with the one-octet payload type as data.
      SuggestNotify(notify, {NotifyType::kUnsupportedCriticalPayload,
                             Bytes{static_cast<std::uint8_t>(type)}});
      return Error(Errc::kUnsupported, "unsupported critical " + which);
    } else {
      c.payloads.push_back(Payload::Unknown(type, Bytes(body->begin(), body->end())));
    }
    type = static_cast<PayloadType>(next);
  }
  if (!r.empty()) {
    return Error(Errc::kMalformed, N(r.remaining()) + " bytes after the last payload");
  }
  return c;
}

// The size of header + plain payloads + the SK/SKF generic header.
std::size_t PrefixSize(std::span<const Payload> plain, const EncryptedPayload& shape) {
  return IkeHeader::kSize + EncodedChainSize(plain) + shape.HeaderSize();
}

}  // namespace

// ---- Message lookups ----

const Payload* Message::Find(PayloadType type) const {
  for (const auto* list : {&payloads, &inner}) {
    for (const Payload& p : *list) {
      if (p.type == type) return &p;
    }
  }
  return nullptr;
}

std::vector<const Payload*> Message::FindAll(PayloadType type) const {
  std::vector<const Payload*> out;
  for (const auto* list : {&payloads, &inner}) {
    for (const Payload& p : *list) {
      if (p.type == type) out.push_back(&p);
    }
  }
  return out;
}

const NotifyPayload* Message::FindNotify(NotifyType type) const {
  for (const NotifyPayload* n : Notifies()) {
    if (n->type == type) return n;
  }
  return nullptr;
}

std::vector<const NotifyPayload*> Message::Notifies() const {
  std::vector<const NotifyPayload*> out;
  for (const Payload* p : FindAll(PayloadType::kNotify)) {
    if (const NotifyPayload* n = p->As<NotifyPayload>()) out.push_back(n);
  }
  return out;
}

// ---- Decoding ----

Result<Message> DecodeMessage(ByteSpan bytes, std::optional<ErrorNotify>* notify) {
  Message m;
  MIPSEC_ASSIGN_OR_RETURN(m.header, DecodeHeader(bytes, notify));
  std::optional<ErrorNotify> chain_notify;
  Result<Chain> c = DecodeChain(m.header.next_payload, bytes.subspan(IkeHeader::kSize),
                                /*outer=*/true, &chain_notify);
  if (!c.ok()) {
    // RFC 7296 2.21: never answer a response.
    if (chain_notify && !m.header.response) SuggestNotify(notify, std::move(*chain_notify));
    return c.error().WithContext(ExchangeTypeName(m.header.exchange));
  }
  m.payloads = std::move(c->payloads);
  m.encrypted = std::move(c->encrypted);
  return m;
}

Result<std::vector<Payload>> DecodePayloadChain(PayloadType first, ByteSpan bytes,
                                                std::optional<ErrorNotify>* notify) {
  MIPSEC_ASSIGN_OR_RETURN(Chain c, DecodeChain(first, bytes, /*outer=*/false, notify));
  return std::move(c.payloads);
}

Result<ByteSpan> OpenInPlace(MutableByteSpan message, std::size_t body, SkCipher& cipher) {
  if (body > message.size()) {
    return Error(Errc::kInvalidArgument, "SK body offset past the message end");
  }
  MIPSEC_ASSIGN_OR_RETURN(std::size_t n, cipher.Open(message, body));
  const std::size_t start = body + cipher.IvSize();
  if (start > message.size() || n > message.size() - start) {
    return Error(Errc::kInternal, "SkCipher::Open returned a length past the message end");
  }
  return StripPadding(ByteSpan(message).subspan(start, n));
}

Result<Message> DecodeProtected(ByteSpan bytes, SkCipher& cipher,
                                std::optional<ErrorNotify>* notify) {
  MIPSEC_ASSIGN_OR_RETURN(Message m, DecodeMessage(bytes, notify));
  if (!m.encrypted) {
    return Error(Errc::kInvalidArgument,
                 ExchangeTypeName(m.header.exchange) + " message has no SK payload");
  }
  if (m.encrypted->is_fragment()) {
    return Error(Errc::kInvalidArgument, "SKF message: use FragmentReassembler");
  }
  Bytes copy(bytes.begin(), bytes.end());
  const std::size_t body = copy.size() - m.encrypted->body.size();
  MIPSEC_ASSIGN_OR_RETURN(ByteSpan content, OpenInPlace(copy, body, cipher));
  std::optional<ErrorNotify> inner_notify;
  Result<std::vector<Payload>> inner =
      DecodePayloadChain(m.encrypted->first_inner, content, &inner_notify);
  if (!inner.ok()) {
    // Authenticated but malformed: RFC 7296 2.21.2 (INVALID_SYNTAX), or
    // UNSUPPORTED_CRITICAL_PAYLOAD (2.5); only requests are answered.
    if (!m.header.response) {
      SuggestNotify(notify, inner_notify ? std::move(*inner_notify)
                                         : ErrorNotify{NotifyType::kInvalidSyntax, {}});
    }
    return inner.error().WithContext(ExchangeTypeName(m.header.exchange) + " SK");
  }
  m.inner = std::move(*inner);
  return m;
}

// ---- Encoding ----

std::size_t EncodedChainSize(std::span<const Payload> payloads) {
  std::size_t n = 0;
  for (const Payload& p : payloads) n += p.EncodedSize();
  return n;
}

Status AppendPayloadChain(wire::Writer& w, std::span<const Payload> payloads,
                          PayloadType after_last) {
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const PayloadType next = i + 1 < payloads.size() ? payloads[i + 1].type : after_last;
    MIPSEC_TRY(AppendPayload(w, payloads[i], next));
  }
  return Ok{};
}

Result<Bytes> EncodePayloadChain(std::span<const Payload> payloads) {
  wire::Writer w(EncodedChainSize(payloads));
  MIPSEC_TRY(AppendPayloadChain(w, payloads));
  return std::move(w).Take();
}

std::size_t EncodedSize(const Message& m) {
  return IkeHeader::kSize + EncodedChainSize(m.payloads) +
         (m.encrypted ? m.encrypted->EncodedSize() : 0);
}

Result<Bytes> EncodeMessage(const Message& m) {
  const std::size_t size = EncodedSize(m);
  if (m.encrypted && m.encrypted->EncodedSize() > kMaxPayloadLength) {
    return Error(Errc::kInvalidArgument, "encrypted payload above 65535 bytes");
  }
  const PayloadType after = m.encrypted ? m.encrypted->type : PayloadType::kNone;
  const PayloadType first = m.payloads.empty() ? after : m.payloads.front().type;
  wire::Writer w(size);
  EncodeHeader(w, m.header, first, static_cast<std::uint32_t>(size));
  MIPSEC_TRY(AppendPayloadChain(w, m.payloads, after));
  if (m.encrypted) {
    const EncryptedPayload& e = *m.encrypted;
    w.U8(static_cast<std::uint8_t>(e.first_inner)).U8(e.critical ? kCriticalBit : 0);
    w.U16(static_cast<std::uint16_t>(e.EncodedSize()));
    if (e.is_fragment()) w.U16(e.fragment_number).U16(e.total_fragments);
    w.Append(e.body);
  }
  return std::move(w).Take();
}

std::size_t SealedSize(std::span<const Payload> plain, const EncryptedPayload& shape,
                       std::size_t content, const SkCipher& cipher) {
  return PrefixSize(plain, shape) + cipher.IvSize() +
         EncryptedPartSize(content, cipher.PadBlock()) + cipher.IcvSize();
}

Result<Bytes> SealMessage(const IkeHeader& header, std::span<const Payload> plain,
                          const EncryptedPayload& shape, ByteSpan content, SkCipher& cipher) {
  const std::size_t total = SealedSize(plain, shape, content.size(), cipher);
  const std::size_t sk_size = total - IkeHeader::kSize - EncodedChainSize(plain);
  if (sk_size > kMaxPayloadLength) {
    return Error(Errc::kInvalidArgument, PayloadTypeName(shape.type) + " payload would be " +
                                             N(sk_size) + " bytes, above 65535 (fragment it)");
  }
  const std::size_t part = EncryptedPartSize(content.size(), cipher.PadBlock());
  const std::size_t pad = part - content.size() - 1;
  if (pad > 255) {
    return Error(Errc::kInvalidArgument, "cipher pad block needs " + N(pad) + " padding bytes");
  }
  wire::Writer w(total);
  EncodeHeader(w, header, plain.empty() ? shape.type : plain.front().type,
               static_cast<std::uint32_t>(total));
  MIPSEC_TRY(AppendPayloadChain(w, plain, shape.type));
  w.U8(static_cast<std::uint8_t>(shape.first_inner)).U8(shape.critical ? kCriticalBit : 0);
  w.U16(static_cast<std::uint16_t>(sk_size));
  if (shape.is_fragment()) w.U16(shape.fragment_number).U16(shape.total_fragments);
  const std::size_t body = w.size();
  // RFC 7296 3.14: padding may hold any value; we send zeros, then the Pad
  // Length. The IV and ICV are written by Seal().
  w.Zeros(cipher.IvSize()).Append(content).Zeros(pad).U8(static_cast<std::uint8_t>(pad));
  w.Zeros(cipher.IcvSize());
  Bytes out = std::move(w).Take();
  if (out.size() != total) return Error(Errc::kInternal, "SK layout size mismatch");
  MIPSEC_TRY(cipher.Seal(out, body));
  return out;
}

std::size_t ProtectedSize(const Message& m, const SkCipher& cipher) {
  return SealedSize(m.payloads, EncryptedPayload{}, EncodedChainSize(m.inner), cipher);
}

Result<Bytes> EncodeProtected(const Message& m, SkCipher& cipher) {
  MIPSEC_ASSIGN_OR_RETURN(Bytes content, EncodePayloadChain(m.inner));
  EncryptedPayload shape;
  shape.type = PayloadType::kSk;
  shape.first_inner = m.inner.empty() ? PayloadType::kNone : m.inner.front().type;
  return SealMessage(m.header, m.payloads, shape, content, cipher);
}

}  // namespace mipsec::ikev2

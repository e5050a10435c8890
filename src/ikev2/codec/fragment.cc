#include "ikev2/codec/fragment.h"

#include <algorithm>
#include <string>

namespace mipsec::ikev2 {
namespace {

std::string N(std::size_t v) { return std::to_string(v); }

// Largest chunk of content that fits in `avail` bytes of encrypted part.
std::size_t MaxChunk(std::size_t avail, std::size_t pad_block) {
  if (pad_block == 0) pad_block = 1;
  const std::size_t part = avail / pad_block * pad_block;
  return part == 0 ? 0 : part - 1;  // the Pad Length byte
}

bool SameExchange(const IkeHeader& a, const IkeHeader& b) {
  return a.spi_i == b.spi_i && a.spi_r == b.spi_r && a.exchange == b.exchange &&
         a.initiator == b.initiator && a.response == b.response && a.message_id == b.message_id;
}

}  // namespace

Result<std::vector<Bytes>> EncodeFragmented(const Message& m, SkCipher& cipher,
                                            std::size_t max_message_size) {
  MIPSEC_ASSIGN_OR_RETURN(Bytes content, EncodePayloadChain(m.inner));
  EncryptedPayload shape;
  shape.type = PayloadType::kSkf;
  const std::size_t fixed =
      IkeHeader::kSize + shape.HeaderSize() + cipher.IvSize() + cipher.IcvSize();
  const std::size_t first_fixed = fixed + EncodedChainSize(m.payloads);
  const std::size_t first_chunk = max_message_size > first_fixed
                                      ? MaxChunk(max_message_size - first_fixed, cipher.PadBlock())
                                      : 0;
  const std::size_t chunk =
      max_message_size > fixed ? MaxChunk(max_message_size - fixed, cipher.PadBlock()) : 0;
  if (first_chunk == 0 || chunk == 0) {
    return Error(Errc::kInvalidArgument,
                 "fragment size " + N(max_message_size) + " leaves no room for content");
  }
  std::size_t total = 1;
  if (content.size() > first_chunk) total += (content.size() - first_chunk + chunk - 1) / chunk;
  if (total > 0xffff) {
    return Error(Errc::kInvalidArgument, "message needs " + N(total) + " fragments");
  }
  std::vector<Bytes> out;
  out.reserve(total);
  std::size_t pos = 0;
  const ByteSpan all(content);
  for (std::size_t i = 1; i <= total; ++i) {
    const std::size_t n = std::min(i == 1 ? first_chunk : chunk, all.size() - pos);
    shape.fragment_number = static_cast<std::uint16_t>(i);
    shape.total_fragments = static_cast<std::uint16_t>(total);
    // RFC 7383 2.5: only fragment 1 names the first inner payload and
    // carries the unprotected payloads (2.5.3).
    shape.first_inner = i == 1 && !m.inner.empty() ? m.inner.front().type : PayloadType::kNone;
    std::span<const Payload> plain;
    if (i == 1) plain = m.payloads;
    MIPSEC_ASSIGN_OR_RETURN(Bytes f,
                            SealMessage(m.header, plain, shape, all.subspan(pos, n), cipher));
    out.push_back(std::move(f));
    pos += n;
  }
  return out;
}

void FragmentReassembler::Reset() {
  header_ = IkeHeader{};
  total_ = 0;
  held_ = 0;
  bytes_ = 0;
  chunks_.clear();
  plain_.clear();
  first_inner_ = PayloadType::kNone;
}

Result<std::optional<Message>> FragmentReassembler::Add(ByteSpan fragment_message, SkCipher& cipher,
                                                        std::optional<ErrorNotify>* notify) {
  MIPSEC_ASSIGN_OR_RETURN(Message m, DecodeMessage(fragment_message, notify));
  if (!m.encrypted || !m.encrypted->is_fragment()) {
    return Error(Errc::kMalformed, "not an IKE Fragment message (no SKF payload)");
  }
  const EncryptedPayload& e = *m.encrypted;
  const std::uint16_t num = e.fragment_number;
  const std::uint16_t total = e.total_fragments;
  // RFC 7383 2.6: validity checks, silently discarded on failure.
  if (num == 0 || total == 0 || num > total) {
    return Error(Errc::kMalformed,
                 "SKF fragment number " + N(num) + " of total " + N(total) + " is invalid");
  }
  if (total > limits_.max_fragments) {
    return Error(Errc::kResource, "SKF total fragments " + N(total) + " above the limit " +
                                      N(limits_.max_fragments));
  }
  // RFC 7383 2.5: Next Payload is zero after fragment 1; 2.5.3: unprotected
  // payloads only in fragment 1.
  if (num != 1 && e.first_inner != PayloadType::kNone) {
    return Error(Errc::kMalformed, "SKF fragment " + N(num) + " has a non-zero next payload");
  }
  if (num != 1 && !m.payloads.empty()) {
    return Error(Errc::kMalformed, "SKF fragment " + N(num) + " has unprotected payloads");
  }
  const bool same = in_progress() && m.header.message_id == header_.message_id;
  if (same) {
    if (!SameExchange(m.header, header_)) {
      return Error(Errc::kMalformed, "SKF fragment header differs from the held fragments'");
    }
    if (total < total_) {
      return Error(Errc::kMalformed,
                   "SKF total fragments " + N(total) + " below the reassembly's " + N(total_));
    }
    if (total == total_ && chunks_[num - 1].has_value()) {
      return Error(Errc::kReplay, "SKF fragment " + N(num) + " of " + N(total) + " already held");
    }
  }

  Bytes copy(fragment_message.begin(), fragment_message.end());
  const std::size_t body = copy.size() - e.body.size();
  MIPSEC_ASSIGN_OR_RETURN(ByteSpan chunk, OpenInPlace(copy, body, cipher));

  // RFC 7383 2.6: a newer set (more fragments) or a new message starts over.
  if (!same || total > total_) {
    Reset();
    header_ = m.header;
    total_ = total;
    chunks_.assign(total, std::nullopt);
  }
  if (bytes_ + chunk.size() > limits_.max_bytes) {
    Reset();
    return Error(Errc::kResource, "reassembly would exceed " + N(limits_.max_bytes) + " bytes");
  }
  chunks_[num - 1] = Bytes(chunk.begin(), chunk.end());
  bytes_ += chunk.size();
  ++held_;
  if (num == 1) {
    header_ = m.header;
    plain_ = std::move(m.payloads);
    first_inner_ = e.first_inner;
  }
  if (held_ < total_) return std::optional<Message>();

  Bytes content;
  content.reserve(bytes_);
  for (const std::optional<Bytes>& c : chunks_) content.insert(content.end(), c->begin(), c->end());
  Message out;
  out.header = header_;
  out.payloads = std::move(plain_);
  EncryptedPayload marker;
  marker.type = PayloadType::kSkf;
  marker.first_inner = first_inner_;
  marker.fragment_number = 1;
  marker.total_fragments = total_;
  out.encrypted = marker;
  const bool response = header_.response;
  std::optional<ErrorNotify> inner_notify;
  Result<std::vector<Payload>> inner = DecodePayloadChain(first_inner_, content, &inner_notify);
  Reset();
  if (!inner.ok()) {
    if (!response) {
      SuggestNotify(notify, inner_notify ? std::move(*inner_notify)
                                         : ErrorNotify{NotifyType::kInvalidSyntax, {}});
    }
    return inner.error().WithContext("reassembled SKF");
  }
  out.inner = std::move(*inner);
  return std::optional<Message>(std::move(out));
}

}  // namespace mipsec::ikev2

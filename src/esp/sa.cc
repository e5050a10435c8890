#include "esp/sa.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "common/bug.h"
#include "common/checksum.h"
#include "common/ip/ipv4.h"
#include "common/wire/writer.h"

namespace mipsec::esp {

namespace {

constexpr std::size_t kEspHeaderSize = 8;  // SPI, sequence number
constexpr std::size_t kIpv4HeaderSize = 20;
constexpr std::size_t kUdpHeaderSize = 8;
constexpr std::size_t kGcmIvSize = 8;      // RFC 4106 3.1
constexpr std::size_t kMaxIpv4Length = 65535;

inline void Put32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
inline void Put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline std::uint32_t Get32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}
inline std::uint16_t Get16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

crypto::HashAlg HmacHash(Integrity i) {
  switch (i) {
    case Integrity::kHmacSha384_192: return crypto::HashAlg::kSha384;
    case Integrity::kHmacSha512_256: return crypto::HashAlg::kSha512;
    default: return crypto::HashAlg::kSha256;
  }
}

std::size_t IntegIcvSize(Integrity i) {
  switch (i) {
    case Integrity::kNone: return 0;
    case Integrity::kHmacSha256_128: return 16;  // RFC 4868 2.3
    case Integrity::kHmacSha384_192: return 24;
    case Integrity::kHmacSha512_256: return 32;
  }
  return 0;
}

// The 12-byte GCM AAD for ESN: SPI | seq high | seq low (RFC 4106 5).
inline void EsnAad(std::uint8_t* aad, std::uint32_t spi, std::uint64_t seq) {
  Put32(aad, spi);
  Put32(aad + 4, static_cast<std::uint32_t>(seq >> 32));
  Put32(aad + 8, static_cast<std::uint32_t>(seq));
}

}  // namespace

std::string_view CipherName(Cipher c) {
  switch (c) {
    case Cipher::kAesGcm16_128: return "aes128gcm16";
    case Cipher::kAesGcm16_256: return "aes256gcm16";
    case Cipher::kAesCbc128: return "aes128cbc";
    case Cipher::kAesCbc256: return "aes256cbc";
  }
  return "?";
}

std::string_view IntegrityName(Integrity i) {
  switch (i) {
    case Integrity::kNone: return "none";
    case Integrity::kHmacSha256_128: return "sha256_128";
    case Integrity::kHmacSha384_192: return "sha384_192";
    case Integrity::kHmacSha512_256: return "sha512_256";
  }
  return "?";
}

std::size_t EncKeySize(Cipher c) {
  switch (c) {
    case Cipher::kAesGcm16_128: return 16 + 4;  // RFC 4106 8.1: key then salt
    case Cipher::kAesGcm16_256: return 32 + 4;
    case Cipher::kAesCbc128: return 16;
    case Cipher::kAesCbc256: return 32;
  }
  return 0;
}

std::size_t IntegKeySize(Integrity i) {
  switch (i) {
    case Integrity::kNone: return 0;
    case Integrity::kHmacSha256_128: return 32;  // RFC 4868 2.1.1: key = hash output size
    case Integrity::kHmacSha384_192: return 48;
    case Integrity::kHmacSha512_256: return 64;
  }
  return 0;
}

bool IsAead(Cipher c) { return c == Cipher::kAesGcm16_128 || c == Cipher::kAesGcm16_256; }

std::string_view DropReasonName(DropReason r) {
  switch (r) {
    case DropReason::kNone: return "none";
    case DropReason::kMalformed: return "malformed";
    case DropReason::kUnknownSpi: return "unknown_spi";
    case DropReason::kReplay: return "replay";
    case DropReason::kAuth: return "auth";
    case DropReason::kBadPadding: return "bad_padding";
    case DropReason::kBadNextHeader: return "bad_next_header";
    case DropReason::kDummy: return "dummy";
    case DropReason::kBadInner: return "bad_inner";
    case DropReason::kPolicy: return "policy";
    case DropReason::kExpired: return "expired";
    case DropReason::kSeqOverflow: return "seq_overflow";
    case DropReason::kNoRoom: return "no_room";
    case DropReason::kTooBig: return "too_big";
    case DropReason::kWrongDirection: return "wrong_direction";
    case DropReason::kInternal: return "internal";
  }
  return "?";
}

Result<Sa> Sa::Create(const SaConfig& config) {
  // RFC 4303 2.1: SPI values 1..255 are reserved by IANA, 0 is for local use.
  if (config.spi < 256) {
    return Error(Errc::kInvalidArgument,
                 "esp sa: spi " + std::to_string(config.spi) + " is reserved (must be >= 256)");
  }
  const bool aead = IsAead(config.cipher);
  if (aead && config.integrity != Integrity::kNone) {
    return Error(Errc::kInvalidArgument,
                 "esp sa: integrity must be none with AES-GCM (combined mode, RFC 4106)");
  }
  if (!aead && config.integrity == Integrity::kNone) {
    return Error(Errc::kInvalidArgument,
                 "esp sa: AES-CBC needs an integrity algorithm (encryption-only ESP refused)");
  }
  if (config.enc_key.size() != EncKeySize(config.cipher)) {
    return Error(Errc::kInvalidArgument,
                 "esp sa: enc_key is " + std::to_string(config.enc_key.size()) + " bytes, " +
                     std::string(CipherName(config.cipher)) + " needs " +
                     std::to_string(EncKeySize(config.cipher)));
  }
  if (config.integ_key.size() != IntegKeySize(config.integrity)) {
    return Error(Errc::kInvalidArgument,
                 "esp sa: integ_key is " + std::to_string(config.integ_key.size()) + " bytes, " +
                     std::string(IntegrityName(config.integrity)) + " needs " +
                     std::to_string(IntegKeySize(config.integrity)));
  }
  Result<ReplayWindow> window = ReplayWindow::Create(config.replay_window, config.esn);
  if (!window.ok()) return std::move(window).error().WithContext("esp sa");

  Sa sa(config, std::move(*window));
  if (aead) {
    const ByteSpan km = config.enc_key.Reveal();
    const std::size_t key_len = km.size() - 4;
    std::copy(km.begin() + static_cast<std::ptrdiff_t>(key_len), km.end(), sa.salt_.begin());
    MIPSEC_ASSIGN_OR_RETURN(crypto::AesGcm gcm,
                            crypto::AesGcm::Create(SecretBytes(km.first(key_len)), 16));
    sa.gcm_.emplace(std::move(gcm));
    sa.icv_size_ = 16;
  } else {
    MIPSEC_ASSIGN_OR_RETURN(crypto::AesCbc cbc, crypto::AesCbc::Create(config.enc_key));
    sa.cbc_.emplace(std::move(cbc));
    MIPSEC_ASSIGN_OR_RETURN(crypto::HmacContext mac,
                            crypto::HmacContext::Create(HmacHash(config.integrity),
                                                        config.integ_key));
    sa.hmac_.emplace(std::move(mac));
    sa.icv_size_ = IntegIcvSize(config.integrity);
  }
  return sa;
}

Sa::Sa(const SaConfig& config, ReplayWindow window)
    : spi_(config.spi),
      direction_(config.direction),
      cipher_(config.cipher),
      integrity_(config.integrity),
      icv_size_(0),
      local_(config.local),
      remote_(config.remote),
      udp_encap_(config.udp_encap),
      anti_replay_(config.anti_replay),
      allowed_sources_(config.inbound_allowed_sources),
      lifetime_(config.lifetime),
      seq_soft_margin_(config.seq_soft_margin),
      window_(std::move(window)) {}

void Sa::UpdatePath(Ipv4Endpoint local, Ipv4Endpoint remote, bool udp_encap) {
  local_ = local;
  remote_ = remote;
  udp_encap_ = udp_encap;
}

std::optional<SaEvent> Sa::PollEvent() {
  if (event_read_ == event_count_) return std::nullopt;
  return events_[event_read_++];
}

void Sa::Fire(SaEventKind kind, LimitKind limit) {
  bool& fired = kind == SaEventKind::kSoftExpired ? soft_fired_ : hard_fired_;
  if (fired) return;
  fired = true;
  if (MIPSEC_BUG_IF(event_count_ >= events_.size(), "esp sa: event queue overflow")) return;
  events_[event_count_++] = SaEvent{kind, limit, spi_, direction_};
}

PacketResult Sa::Drop(PacketResult r, DropReason reason) {
  r.action = Action::kDrop;
  r.reason = reason;
  ++counters_.drops[static_cast<std::size_t>(reason)];
  return r;
}

void Sa::Account(Timestamp now, std::size_t inner_bytes) {
  ++counters_.packets;
  counters_.bytes += inner_bytes;
  last_used_ = now;
  const Lifetime& l = lifetime_;
  if (!soft_fired_) {
    if (l.soft_packets != 0 && counters_.packets >= l.soft_packets) {
      Fire(SaEventKind::kSoftExpired, LimitKind::kPackets);
    } else if (l.soft_bytes != 0 && counters_.bytes >= l.soft_bytes) {
      Fire(SaEventKind::kSoftExpired, LimitKind::kBytes);
    }
  }
  if (!hard_fired_) {
    if (l.hard_packets != 0 && counters_.packets >= l.hard_packets) {
      Fire(SaEventKind::kHardExpired, LimitKind::kPackets);
    } else if (l.hard_bytes != 0 && counters_.bytes >= l.hard_bytes) {
      Fire(SaEventKind::kHardExpired, LimitKind::kBytes);
    }
  }
}

void Sa::CheckSequenceLimits(std::uint64_t used) {
  // RFC 4303 3.3.3: the counter MUST NOT cycle; a new SA is needed first.
  const std::uint64_t last = LastSequence();
  const std::uint64_t remaining = used >= last ? 0 : last - used;
  if (remaining < seq_soft_margin_) Fire(SaEventKind::kSoftExpired, LimitKind::kSequence);
  if (remaining == 0) {
    seq_exhausted_ = true;
    Fire(SaEventKind::kHardExpired, LimitKind::kSequence);
  }
}

PacketResult Sa::Encapsulate(Timestamp now, PacketBuf& pkt, OuterForm form) {
  PacketResult r;
  r.spi = spi_;
  if (MIPSEC_BUG_IF(direction_ != Direction::kOutbound, "esp: Encapsulate on an inbound SA")) {
    return Drop(r, DropReason::kWrongDirection);
  }
  if (seq_exhausted_ || next_seq_ == 0 || next_seq_ > LastSequence()) {
    return Drop(r, DropReason::kSeqOverflow);
  }
  if (hard_fired_) return Drop(r, DropReason::kExpired);
  if (!pkt.Valid()) return Drop(r, DropReason::kNoRoom);

  std::uint8_t* const inner = pkt.buffer.data() + pkt.offset;
  const std::size_t n = pkt.length;
  if (n < kIpv4HeaderSize || (inner[0] >> 4) != 4 || Get16(inner + 2) != n) {
    return Drop(r, DropReason::kBadInner);
  }
  // RFC 4303 2.4: the payload, pad, pad length and next header end on a
  // 4-byte boundary and fill whole cipher blocks (16 for CBC; GCM is a
  // stream mode with block size 1, so 4 applies).
  const std::size_t align = cbc_ ? crypto::AesCbc::kBlockSize : 4;
  const std::size_t pad = (align - (n + 2) % align) % align;
  const std::size_t iv_size = IvSize();
  const std::size_t header = kEspHeaderSize + iv_size;
  const std::size_t text = n + pad + 2;
  const std::size_t esp_len = header + text + icv_size_;
  const std::size_t outer =
      form == OuterForm::kIpv4 ? kIpv4HeaderSize + (udp_encap_ ? kUdpHeaderSize : 0) : 0;
  if (pkt.offset < header + outer || pkt.tailroom() < pad + 2 + icv_size_) {
    return Drop(r, DropReason::kNoRoom);
  }
  if (esp_len + kIpv4HeaderSize + (udp_encap_ ? kUdpHeaderSize : 0) > kMaxIpv4Length) {
    return Drop(r, DropReason::kTooBig);
  }
  // Keep the inner header fields the outer one copies before encrypting.
  const std::uint8_t inner_tos = inner[1];
  const bool inner_df = (inner[6] & 0x40) != 0;

  const std::uint64_t seq = next_seq_++;
  r.seq = seq;
  CheckSequenceLimits(seq);

  // Trailer (RFC 4303 2.4, 2.6): pad bytes 1, 2, 3, ..., pad length, next header.
  std::uint8_t* t = inner + n;
  for (std::size_t i = 0; i < pad; ++i) t[i] = static_cast<std::uint8_t>(i + 1);
  t[pad] = static_cast<std::uint8_t>(pad);
  t[pad + 1] = kNextHeaderIpv4;

  std::uint8_t* const esp = inner - header;
  Put32(esp, spi_);
  Put32(esp + 4, static_cast<std::uint32_t>(seq));  // low 32 bits only (RFC 4303 2.2.1)
  std::uint8_t* const icv = inner + text;
  if (gcm_) {
    std::uint8_t* iv = esp + kEspHeaderSize;
    Put32(iv, static_cast<std::uint32_t>(seq >> 32));
    Put32(iv + 4, static_cast<std::uint32_t>(seq));
    std::uint8_t nonce[crypto::AesGcm::kNonceSize];  // RFC 4106 4: salt | IV
    std::memcpy(nonce, salt_.data(), 4);
    std::memcpy(nonce + 4, iv, kGcmIvSize);
    std::uint8_t esn_aad[12];
    ByteSpan aad(esp, kEspHeaderSize);
    if (window_.esn()) {
      EsnAad(esn_aad, spi_, seq);
      aad = ByteSpan(esn_aad, sizeof(esn_aad));
    }
    if (!gcm_->SealInPlace(ByteSpan(nonce, sizeof(nonce)), aad, MutableByteSpan(inner, text),
                           MutableByteSpan(icv, icv_size_))
             .ok()) {
      return Drop(r, DropReason::kInternal);
    }
  } else {
    // IV = AES_K(nonce) with the sequence number as the nonce (SP 800-38A
    // appendix C): the nonce block sits in the IV slot, directly before the
    // plaintext, and one CBC pass with a zero IV over [nonce | plaintext]
    // turns the slot into E_K(nonce) and the plaintext into its CBC
    // encryption under exactly that IV.
    std::uint8_t* iv = esp + kEspHeaderSize;
    std::memset(iv, 0, 4);
    Put32(iv + 4, spi_);
    Put32(iv + 8, static_cast<std::uint32_t>(seq >> 32));
    Put32(iv + 12, static_cast<std::uint32_t>(seq));
    static constexpr std::uint8_t kZeroIv[crypto::AesCbc::kBlockSize] = {};
    if (!cbc_->EncryptInPlace(ByteSpan(kZeroIv, sizeof(kZeroIv)),
                              MutableByteSpan(iv, iv_size + text))
             .ok()) {
      return Drop(r, DropReason::kInternal);
    }
    // ICV over SPI | seq | IV | ciphertext, then the high 32 bits of the
    // ESN, which are not sent (RFC 4303 2.2.1, 3.3.2.1).
    Status st = hmac_->Update(ByteSpan(esp, header + text));
    std::uint8_t seqh[4];
    if (st.ok() && window_.esn()) {
      Put32(seqh, static_cast<std::uint32_t>(seq >> 32));
      st = hmac_->Update(ByteSpan(seqh, 4));
    }
    if (st.ok()) st = hmac_->FinishInto(MutableByteSpan(icv, icv_size_));
    if (!st.ok()) return Drop(r, DropReason::kInternal);
  }

  std::uint8_t* start = esp;
  std::size_t total = esp_len;
  if (form == OuterForm::kIpv4) {
    if (udp_encap_) {
      start -= kUdpHeaderSize;
      total += kUdpHeaderSize;
      Put16(start, local_.port);
      Put16(start + 2, remote_.port);
      Put16(start + 4, static_cast<std::uint16_t>(total));
      Put16(start + 6, 0);  // RFC 3948 2.1: checksum SHOULD be zero
    }
    start -= kIpv4HeaderSize;
    total += kIpv4HeaderSize;
    start[0] = 0x45;
    start[1] = inner_tos;  // RFC 4301 5.1.2.1: DSCP and ECN copied from the inner header
    Put16(start + 2, static_cast<std::uint16_t>(total));
    Put16(start + 4, static_cast<std::uint16_t>(seq));
    Put16(start + 6, inner_df ? 0x4000 : 0);  // DF copied (RFC 4301 8.1 default)
    start[8] = ip::kDefaultTtl;
    start[9] = udp_encap_ ? ip::kProtoUdp : ip::kProtoEsp;
    Put16(start + 10, 0);
    Put32(start + 12, local_.address.ToHostOrder());
    Put32(start + 16, remote_.address.ToHostOrder());
    Put16(start + 10, InternetChecksum(ByteSpan(start, kIpv4HeaderSize)));
  }
  pkt.offset = static_cast<std::size_t>(start - pkt.buffer.data());
  pkt.length = total;
  Account(now, n);
  r.action = Action::kSend;
  return r;
}

PacketResult Sa::Decapsulate(Timestamp now, PacketBuf& pkt) {
  PacketResult r;
  if (MIPSEC_BUG_IF(direction_ != Direction::kInbound, "esp: Decapsulate on an outbound SA")) {
    return Drop(r, DropReason::kWrongDirection);
  }
  if (!pkt.Valid()) return Drop(r, DropReason::kMalformed);
  std::uint8_t* const esp = pkt.buffer.data() + pkt.offset;
  const std::size_t len = pkt.length;
  const std::size_t header = kEspHeaderSize + IvSize();
  // The smallest payload: pad length and next header (GCM), one block (CBC).
  const std::size_t min_text = cbc_ ? crypto::AesCbc::kBlockSize : 2;
  if (len < header + min_text + icv_size_) return Drop(r, DropReason::kMalformed);
  r.spi = Get32(esp);
  if (r.spi != spi_) return Drop(r, DropReason::kUnknownSpi);
  const std::size_t text = len - header - icv_size_;
  if (cbc_ && text % crypto::AesCbc::kBlockSize != 0) return Drop(r, DropReason::kMalformed);

  // RFC 4303 3.4.3: the replay check comes before the ICV check and does not
  // change the window.
  const std::uint64_t seq = window_.Infer(Get32(esp + 4));
  r.seq = seq;
  if (seq == 0) return Drop(r, DropReason::kReplay);
  if (anti_replay_ && window_.Check(seq) != ReplayVerdict::kAccept) {
    return Drop(r, DropReason::kReplay);
  }
  if (hard_fired_) return Drop(r, DropReason::kExpired);

  std::uint8_t* const plain = esp + header;
  const ByteSpan icv(plain + text, icv_size_);
  if (gcm_) {
    std::uint8_t nonce[crypto::AesGcm::kNonceSize];
    std::memcpy(nonce, salt_.data(), 4);
    std::memcpy(nonce + 4, esp + kEspHeaderSize, kGcmIvSize);
    std::uint8_t esn_aad[12];
    ByteSpan aad(esp, kEspHeaderSize);
    if (window_.esn()) {
      EsnAad(esn_aad, spi_, seq);
      aad = ByteSpan(esn_aad, sizeof(esn_aad));
    }
    Status st = gcm_->OpenInPlace(ByteSpan(nonce, sizeof(nonce)), aad,
                                  MutableByteSpan(plain, text), icv);
    if (!st.ok()) {
      return Drop(r, st.error().code() == Errc::kAuthFailed ? DropReason::kAuth
                                                             : DropReason::kInternal);
    }
  } else {
    Status st = hmac_->Update(ByteSpan(esp, header + text));
    std::uint8_t seqh[4];
    if (st.ok() && window_.esn()) {
      Put32(seqh, static_cast<std::uint32_t>(seq >> 32));
      st = hmac_->Update(ByteSpan(seqh, 4));
    }
    if (st.ok()) st = hmac_->Verify(icv);
    if (!st.ok()) {
      return Drop(r, st.error().code() == Errc::kAuthFailed ? DropReason::kAuth
                                                             : DropReason::kInternal);
    }
    // Decrypt only after the ICV verified (RFC 4303 3.4.4.1).
    if (!cbc_->DecryptInPlace(ByteSpan(esp + kEspHeaderSize, crypto::AesCbc::kBlockSize),
                              MutableByteSpan(plain, text))
             .ok()) {
      return Drop(r, DropReason::kInternal);
    }
  }
  // Authenticated: RFC 4303 3.4.3, the window is updated now and only now.
  window_.Commit(seq);

  // RFC 4303 2.4: the receiver SHOULD inspect the padding.
  const std::size_t pad = plain[text - 2];
  const std::uint8_t next_header = plain[text - 1];
  if (pad + 2 > text) return Drop(r, DropReason::kBadPadding);
  const std::size_t payload = text - 2 - pad;
  for (std::size_t i = 0; i < pad; ++i) {
    if (plain[payload + i] != static_cast<std::uint8_t>(i + 1)) {
      return Drop(r, DropReason::kBadPadding);
    }
  }
  // RFC 4303 2.6: next header 59 marks a dummy packet, which is discarded.
  if (next_header == kNextHeaderNoNext) return Drop(r, DropReason::kDummy);
  if (next_header != kNextHeaderIpv4) return Drop(r, DropReason::kBadNextHeader);

  // Tunnel mode: the payload is one IPv4 datagram, possibly followed by TFC
  // padding (RFC 4303 2.4, 2.7), which the inner Total Length excludes.
  if (payload < kIpv4HeaderSize || (plain[0] >> 4) != 4) return Drop(r, DropReason::kBadInner);
  const std::size_t ihl = static_cast<std::size_t>(plain[0] & 0x0f) * 4;
  const std::size_t total = Get16(plain + 2);
  if (ihl < kIpv4HeaderSize || total < ihl || total > payload ||
      !ChecksumIsValid(ByteSpan(plain, ihl))) {
    return Drop(r, DropReason::kBadInner);
  }
  if (!allowed_sources_.empty()) {
    const Ipv4Address src = Ipv4Address::FromHostOrder(Get32(plain + 12));
    const bool allowed = std::any_of(allowed_sources_.begin(), allowed_sources_.end(),
                                     [src](const Ipv4Prefix& p) { return p.Contains(src); });
    // RFC 4301 5.2 step 4: the inner header must match the SA's selectors.
    if (!allowed) return Drop(r, DropReason::kPolicy);
  }
  pkt.offset += header;
  pkt.length = total;
  Account(now, total);
  r.action = Action::kDeliver;
  return r;
}

void Sa::EncapsulateBatch(Timestamp now, std::span<PacketBuf> pkts,
                          std::span<PacketResult> results, OuterForm form) {
  if (MIPSEC_BUG_IF(results.size() < pkts.size(), "esp: results span shorter than the batch")) {
    pkts = pkts.first(results.size());
  }
  for (std::size_t i = 0; i < pkts.size(); ++i) results[i] = Encapsulate(now, pkts[i], form);
}

void Sa::DecapsulateBatch(Timestamp now, std::span<PacketBuf> pkts,
                          std::span<PacketResult> results) {
  if (MIPSEC_BUG_IF(results.size() < pkts.size(), "esp: results span shorter than the batch")) {
    pkts = pkts.first(results.size());
  }
  for (std::size_t i = 0; i < pkts.size(); ++i) results[i] = Decapsulate(now, pkts[i]);
}

}  // namespace mipsec::esp

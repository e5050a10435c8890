// esp::Sa: one ESP security association in tunnel mode (RFC 4303), the
// userspace data plane. Sans-I/O: packets come in as caller-owned buffers,
// `now` is passed in, nothing here touches a socket, a clock or an RNG.
//
// An Sa is unidirectional, like an IPsec SA: a CHILD_SA is an outbound Sa
// (Encapsulate) and an inbound Sa (Decapsulate, normally held in an SaTable
// keyed by SPI). Each Sa owns its cipher/MAC contexts, keyed once at
// Create(): no allocation and no key setup per packet. An Sa is not
// thread-safe; the two directions are separate objects, so one thread may
// encapsulate while another decapsulates.
//
// Algorithms (RFC 8221 MUSTs): AES-GCM with a 16-octet ICV (RFC 4106), 128
// or 256-bit keys; AES-CBC (RFC 3602) 128/256 with HMAC-SHA-256-128,
// HMAC-SHA-384-192 or HMAC-SHA-512-256 (RFC 4868).
//   Keys are the slices of the CHILD_SA KEYMAT (RFC 7296 2.17): enc_key is
//   the encryption key, for GCM followed by the 4-byte salt (RFC 4106 8.1:
//   20 bytes for AES-128, 36 for AES-256); integ_key is the HMAC key (32, 48
//   or 64 bytes; empty for GCM). EncKeySize()/IntegKeySize() give the sizes.
//
// Buffers: a PacketBuf is a window [offset, offset + length) in a caller
// buffer. Encapsulate works in place: the ESP header and IV go into the
// headroom before the inner packet and the trailer and ICV into the tailroom
// after it, so give every buffer kEncapHeadroom bytes before and
// kEncapTailroom bytes after the packet. Decapsulate decrypts in place and
// leaves offset/length on the inner IPv4 packet. On a drop the buffer
// contents are unspecified (the caller discards it) but offset/length are
// unchanged.
//
// Outer header (who builds it): OuterForm::kEspOnly gives the ESP packet
// starting at the SPI, for a UDP socket bound to 4500 (the kernel adds
// IPv4+UDP) or a raw IPPROTO_ESP socket without IP_HDRINCL.
// OuterForm::kIpv4 also writes the outer IPv4 header (and the UDP header
// when the SA is UDP-encapsulated, RFC 3948 2.1, checksum 0), for a raw
// socket with IP_HDRINCL or a TUN/simulator link: source = local, destination
// = remote, TTL 64, DSCP/ECN and DF copied from the inner header (RFC 4301
// 5.1.2.1), identification = low 16 bits of the sequence number.
//
// Sequence numbers (RFC 4303 3.3.3): the first packet is 1; the counter never
// cycles. Without ESN the last usable number is 2^32-1, with ESN 2^64-1;
// after it every Encapsulate drops with kSeqOverflow and a kHardExpired
// event (LimitKind::kSequence) asks the IKE layer to rekey. A kSoftExpired
// event (kSequence) comes earlier, when fewer than seq_soft_margin numbers
// remain. The explicit IV of GCM is the 64-bit sequence number (unique per
// key, RFC 4106 3.1); the CBC IV is AES_K(seq block), the NIST SP 800-38A
// appendix C construction (unpredictable without an RNG).
//
// Inbound checks, in order (each failure is a drop with its DropReason and
// a counter; none changes the replay window):
//   length/alignment (kMalformed), SPI (kUnknownSpi), ESN inference and the
//   replay window (kReplay), hard lifetime (kExpired), ICV (kAuth); then the
//   window is committed (RFC 4303 3.4.3), and: pad length and the pad bytes
//   1, 2, 3, ... (RFC 4303 2.4; kBadPadding), next header 59 = dummy packet
//   (RFC 4303 2.6; dropped as kDummy, not an error), anything but 4 (IPv4)
//   kBadNextHeader, an inner IPv4 header that does not parse or whose total
//   length exceeds the payload (kBadInner; shorter is TFC padding and is
//   cut), an inner source outside inbound_allowed_sources (kPolicy).
//
// Lifetimes: counters count packets processed (sent or delivered) and their
// inner IPv4 bytes. When a soft limit is reached a kSoftExpired event is
// queued once; when a hard limit is reached a kHardExpired event is queued
// once and every later packet is dropped with kExpired (the packet that
// reaches the limit is still processed). Poll events with PollEvent().
//
// MOBIKE (RFC 4555): UpdatePath() changes the outer addresses, ports and UDP
// encapsulation in place; keys, sequence numbers and the window are kept.
#ifndef MIPSEC_ESP_SA_H_
#define MIPSEC_ESP_SA_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "common/secret.h"
#include "common/time.h"
#include "crypto/aead_gcm.h"
#include "crypto/cbc.h"
#include "crypto/hmac.h"
#include "esp/replay_window.h"

namespace mipsec::esp {

enum class Cipher : std::uint8_t { kAesGcm16_128, kAesGcm16_256, kAesCbc128, kAesCbc256 };
enum class Integrity : std::uint8_t { kNone, kHmacSha256_128, kHmacSha384_192, kHmacSha512_256 };
enum class Direction : std::uint8_t { kInbound, kOutbound };

std::string_view CipherName(Cipher c);        // "aes128gcm16", ...
std::string_view IntegrityName(Integrity i);  // "sha256_128", ...
// Key material sizes for SaConfig::enc_key (salt included for GCM) and
// integ_key.
std::size_t EncKeySize(Cipher c);
std::size_t IntegKeySize(Integrity i);
bool IsAead(Cipher c);

// RFC 4303 2.6 / IANA protocol numbers for the Next Header field.
inline constexpr std::uint8_t kNextHeaderIpv4 = 4;
inline constexpr std::uint8_t kNextHeaderNoNext = 59;  // TFC dummy packet

// Room Encapsulate needs around the inner packet, for any algorithm and
// OuterForm: headroom 20 (IPv4) + 8 (UDP) + 8 (SPI, seq) + 16 (CBC IV) = 52,
// tailroom 15 (pad) + 2 + 32 (ICV) = 49; rounded up.
inline constexpr std::size_t kEncapHeadroom = 64;
inline constexpr std::size_t kEncapTailroom = 64;

// A packet inside a caller-owned buffer (see the file comment).
struct PacketBuf {
  MutableByteSpan buffer;
  std::size_t offset = 0;
  std::size_t length = 0;

  MutableByteSpan packet() const { return buffer.subspan(offset, length); }
  std::size_t headroom() const { return offset; }
  std::size_t tailroom() const { return buffer.size() - offset - length; }
  bool Valid() const { return offset <= buffer.size() && length <= buffer.size() - offset; }
};

enum class OuterForm : std::uint8_t { kEspOnly, kIpv4 };

// What the caller does with the packet (boringtun-style).
enum class Action : std::uint8_t {
  kSend,       // encapsulated: transmit pkt to the SA's remote
  kDeliver,    // decapsulated: pkt is the inner IPv4 packet, write it to the TUN
  kDrop,       // see `reason`
  kToIke,      // (SaTable, UDP 4500) an IKE message: pkt is after the non-ESP marker
  kKeepalive,  // (SaTable, UDP 4500) a NAT-keepalive: ignore (RFC 3948 2.3)
};

enum class DropReason : std::uint8_t {
  kNone,
  kMalformed,       // too short, misaligned, bad outer header
  kUnknownSpi,      // no inbound SA for the SPI (or the SPI of another SA)
  kReplay,          // duplicate, too old, or sequence number 0
  kAuth,            // ICV did not verify
  kBadPadding,      // pad length too large or pad bytes not 1, 2, 3, ...
  kBadNextHeader,   // next header not 4 (IPv4) or 59
  kDummy,           // next header 59: a TFC dummy packet, discarded (no error)
  kBadInner,        // inner packet not a valid IPv4 datagram (either direction)
  kPolicy,          // inner source not allowed on this SA
  kExpired,         // hard lifetime reached
  kSeqOverflow,     // outbound sequence numbers exhausted
  kNoRoom,          // not enough headroom/tailroom, or an inconsistent PacketBuf
  kTooBig,          // the ESP packet would exceed 65535 bytes
  kWrongDirection,  // Encapsulate on an inbound SA or vice versa (a caller bug)
  kInternal,        // a crypto library failure
};
inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::kInternal) + 1;
std::string_view DropReasonName(DropReason r);  // "replay", "auth", ...

struct PacketResult {
  Action action = Action::kDrop;
  DropReason reason = DropReason::kNone;
  std::uint32_t spi = 0;  // 0 when no SPI was read
  std::uint64_t seq = 0;  // full (ESN-inferred) sequence number, 0 if unknown
};

// 0 = no limit.
struct Lifetime {
  std::uint64_t soft_bytes = 0;
  std::uint64_t hard_bytes = 0;
  std::uint64_t soft_packets = 0;
  std::uint64_t hard_packets = 0;
};

enum class SaEventKind : std::uint8_t { kSoftExpired, kHardExpired };
enum class LimitKind : std::uint8_t { kBytes, kPackets, kSequence };

struct SaEvent {
  SaEventKind kind;
  LimitKind limit;
  std::uint32_t spi;
  Direction direction;
};

struct SaCounters {
  std::uint64_t packets = 0;  // sent (outbound) or delivered (inbound)
  std::uint64_t bytes = 0;    // inner IPv4 bytes of those packets
  std::array<std::uint64_t, kDropReasonCount> drops{};

  std::uint64_t dropped(DropReason r) const { return drops[static_cast<std::size_t>(r)]; }
};

struct SaConfig {
  Direction direction = Direction::kOutbound;
  std::uint32_t spi = 0;  // 256..2^32-1 (RFC 4303 2.1: 1..255 reserved, 0 local use)
  Cipher cipher = Cipher::kAesGcm16_128;
  Integrity integrity = Integrity::kNone;  // kNone with GCM, required with CBC
  SecretBytes enc_key;
  SecretBytes integ_key;
  bool esn = false;
  // Outer addresses: outbound writes src = local, dst = remote. Ports are
  // used only with udp_encap (RFC 3948: normally 4500 on both sides, or the
  // NAT-mapped port of the peer).
  Ipv4Endpoint local;
  Ipv4Endpoint remote;
  bool udp_encap = false;
  // Inbound only.
  bool anti_replay = true;
  std::uint32_t replay_window = ReplayWindow::kDefaultSize;
  std::vector<Ipv4Prefix> inbound_allowed_sources;  // empty: any inner source
  Lifetime lifetime;
  // Outbound: kSoftExpired(kSequence) when fewer sequence numbers remain.
  std::uint64_t seq_soft_margin = std::uint64_t{1} << 24;
};

class Sa {
 public:
  // kInvalidArgument naming the field for: SPI < 256, GCM with an integrity
  // algorithm or CBC without one, wrong key sizes, a replay window outside
  // [32, 65536].
  static Result<Sa> Create(const SaConfig& config);

  Sa(Sa&&) noexcept = default;
  Sa& operator=(Sa&&) noexcept = default;
  Sa(const Sa&) = delete;
  Sa& operator=(const Sa&) = delete;

  // Outbound only. On kSend, pkt is the ESP packet (or the outer IPv4 packet)
  // now starting inside the former headroom. The inner packet must be one
  // whole IPv4 datagram (version 4, Total Length == pkt.length), else kBadInner.
  PacketResult Encapsulate(Timestamp now, PacketBuf& pkt, OuterForm form = OuterForm::kEspOnly);
  // Inbound only. pkt starts at the SPI. On kDeliver, pkt is the inner packet.
  PacketResult Decapsulate(Timestamp now, PacketBuf& pkt);

  // The same over many packets (a recvmmsg/sendmmsg or multi-packet TUN
  // batch); results.size() must be >= pkts.size() (BUG otherwise: results
  // beyond its size are not written). Packets are processed in order.
  void EncapsulateBatch(Timestamp now, std::span<PacketBuf> pkts, std::span<PacketResult> results,
                        OuterForm form = OuterForm::kEspOnly);
  void DecapsulateBatch(Timestamp now, std::span<PacketBuf> pkts, std::span<PacketResult> results);

  // MOBIKE: new outer addresses/ports and encapsulation, in place.
  void UpdatePath(Ipv4Endpoint local, Ipv4Endpoint remote, bool udp_encap);

  // The next lifetime event, if any (each kind is reported at most once).
  std::optional<SaEvent> PollEvent();
  bool has_events() const { return event_read_ != event_count_; }

  std::uint32_t spi() const { return spi_; }
  Direction direction() const { return direction_; }
  Cipher cipher() const { return cipher_; }
  Integrity integrity() const { return integrity_; }
  bool esn() const { return window_.esn(); }
  const Ipv4Endpoint& local() const { return local_; }
  const Ipv4Endpoint& remote() const { return remote_; }
  bool udp_encap() const { return udp_encap_; }
  std::size_t icv_size() const { return icv_size_; }
  const SaCounters& counters() const { return counters_; }
  // Outbound: the sequence number the next packet gets.
  std::uint64_t next_sequence() const { return next_seq_; }
  // Inbound: the window (top() is the highest authenticated sequence number).
  const ReplayWindow& replay_window() const { return window_; }
  bool soft_expired() const { return soft_fired_; }
  bool hard_expired() const { return hard_fired_; }
  // Time of the last packet sent or delivered (Timestamp::Zero() if none):
  // for idle detection and liveness checks.
  Timestamp last_used() const { return last_used_; }

  // For tests of sequence number exhaustion only.
  void SetNextSequenceForTesting(std::uint64_t seq) { next_seq_ = seq; }

 private:
  explicit Sa(const SaConfig& config, ReplayWindow window);
  PacketResult Drop(PacketResult r, DropReason reason);
  void Account(Timestamp now, std::size_t inner_bytes);
  void Fire(SaEventKind kind, LimitKind limit);
  void CheckSequenceLimits(std::uint64_t used);
  std::size_t IvSize() const { return cbc_ ? 16 : 8; }
  std::uint64_t LastSequence() const { return window_.esn() ? ~std::uint64_t{0} : 0xffffffffu; }

  std::uint32_t spi_;
  Direction direction_;
  Cipher cipher_;
  Integrity integrity_;
  std::size_t icv_size_;
  std::array<std::uint8_t, 4> salt_{};
  std::optional<crypto::AesGcm> gcm_;
  std::optional<crypto::AesCbc> cbc_;
  std::optional<crypto::HmacContext> hmac_;

  Ipv4Endpoint local_;
  Ipv4Endpoint remote_;
  bool udp_encap_;
  bool anti_replay_;
  std::vector<Ipv4Prefix> allowed_sources_;
  Lifetime lifetime_;
  std::uint64_t seq_soft_margin_;

  std::uint64_t next_seq_ = 1;
  bool seq_exhausted_ = false;
  ReplayWindow window_;
  SaCounters counters_;
  Timestamp last_used_;

  bool soft_fired_ = false;
  bool hard_fired_ = false;
  std::array<SaEvent, 2> events_{};
  std::uint8_t event_count_ = 0;
  std::uint8_t event_read_ = 0;
};

}  // namespace mipsec::esp

#endif  // MIPSEC_ESP_SA_H_

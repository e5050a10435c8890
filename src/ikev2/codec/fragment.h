// IKE fragmentation (RFC 7383): splitting a protected message into SKF
// messages, and reassembling them.
//
// Sender (2.5): the inner payload chain is split as a blob into chunks; each
// chunk is padded and sealed separately in its own message with the same IKE
// header (except Length and Next Payload). Fragment 1 carries the original
// first inner payload type and any unprotected payloads (2.5.3); the others
// carry Next Payload 0.
//
// Receiver (2.6): FragmentReassembler holds the fragments of one message.
// Keep one per IKE SA and direction (one for requests we receive, one for
// responses), and feed it only fragments whose Message ID the SA layer
// accepts. Memory is bounded by ReassemblyLimits. The caller drops the
// reassembly on its own timeout with Reset() (2.6: discard everything after
// the reassembly timeout).
#ifndef MIPSEC_IKEV2_CODEC_FRAGMENT_H_
#define MIPSEC_IKEV2_CODEC_FRAGMENT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "ikev2/codec/message.h"
#include "ikev2/codec/sk_cipher.h"

namespace mipsec::ikev2 {

// Splits `m` (header, unprotected payloads, `inner`) into SKF messages of at
// most `max_message_size` bytes each (the IKE message: UDP payload without
// the non-ESP marker). RFC 7383 2.5.1 suggests 576 bytes of IPv4 datagram,
// i.e. 576 - 20 - 8 - 4 = 544 here on port 4500. kInvalidArgument if a
// fragment cannot carry at least one byte of content, or if more than 65535
// fragments would be needed.
Result<std::vector<Bytes>> EncodeFragmented(const Message& m, SkCipher& cipher,
                                            std::size_t max_message_size);

struct ReassemblyLimits {
  std::size_t max_fragments = 64;     // Total Fragments above this: kResource
  std::size_t max_bytes = 64 * 1024;  // decrypted content held, in all
};

class FragmentReassembler {
 public:
  explicit FragmentReassembler(ReassemblyLimits limits = {}) : limits_(limits) {}

  // Feeds one IKE Fragment message (the whole IKE message with an SKF
  // payload). Returns the reassembled message when this fragment completes
  // it (header from fragment 1, `payloads` = fragment 1's unprotected
  // payloads, `encrypted` = an SKF with empty body and the fragment count,
  // `inner` = the decoded inner chain), nullopt while incomplete, or an error.
  // Every error means "drop this fragment silently" (2.6), with no change to
  // what is held, except where noted:
  //  - kMalformed: not an SKF message, Fragment Number 0 or above Total
  //    Fragments, Total Fragments 0, Next Payload set in a non-first
  //    fragment, unprotected payloads outside fragment 1, or a header that
  //    differs (exchange, flags, SPIs) from the held fragments' for the same
  //    Message ID;
  //  - kReplay: this Message ID / Fragment Number / Total Fragments is held
  //    already (checked before the ICV);
  //  - kMalformed: Total Fragments below that of the held set (before ICV);
  //  - kResource: Total Fragments above limits.max_fragments, or the content
  //    would exceed limits.max_bytes (the reassembly is then dropped);
  //  - the cipher's error (kAuthFailed, ...).
  // A verified fragment with a larger Total Fragments or another Message ID
  // starts the reassembly over with just that fragment (2.6, 2.5.2). When
  // the reassembled chain is malformed the reassembly is dropped, the error
  // returned, and INVALID_SYNTAX (or UNSUPPORTED_CRITICAL_PAYLOAD) suggested
  // for requests.
  Result<std::optional<Message>> Add(ByteSpan fragment_message, SkCipher& cipher,
                                     std::optional<ErrorNotify>* notify = nullptr);

  // Drops everything held.
  void Reset();

  bool in_progress() const { return total_ != 0; }
  std::uint32_t message_id() const { return header_.message_id; }
  std::uint16_t total_fragments() const { return total_; }
  std::size_t fragments_held() const { return held_; }
  std::size_t bytes_held() const { return bytes_; }

 private:
  ReassemblyLimits limits_;
  IkeHeader header_;  // of the first fragment stored (fragment 1's once it arrives)
  std::uint16_t total_ = 0;
  std::size_t held_ = 0;
  std::size_t bytes_ = 0;
  std::vector<std::optional<Bytes>> chunks_;  // by Fragment Number - 1
  std::vector<Payload> plain_;                // fragment 1's unprotected payloads
  PayloadType first_inner_ = PayloadType::kNone;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_CODEC_FRAGMENT_H_

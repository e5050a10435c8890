// The ESP anti-replay window (RFC 4303 section 3.4.3 and Appendix A), split
// into a side-effect-free check and a commit, as RFC 4303 3.4.3 requires:
// the window is consulted before the ICV is verified (cheap rejection of
// duplicates) but updated only after the ICV has verified.
//
//   uint64_t seq = w.Infer(seq_low);          // ESN: RFC 4303 Appendix A2.2
//   if (w.Check(seq) != ReplayVerdict::kAccept) drop (no state changed);
//   ... verify the ICV; on failure drop (no state changed) ...
//   w.Commit(seq);
//
// Sequence numbers are 64-bit throughout; without ESN they are the 32-bit
// transmitted value (the high half is always 0). Sequence number 0 is never
// sent (the sender's first packet is 1, RFC 4303 3.3.3) and is never
// accepted.
//
// The bitmap is a ring of 64-bit blocks in the style of RFC 6479 (a
// power-of-two number of blocks, at least size/64 + 1): advancing the window
// clears whole blocks instead of shifting bits, so Commit() costs O(1) for
// in-order packets and at most one pass over the ring for a large jump.
//
// Window size W: 32 <= W <= kMaxSize (RFC 4303 3.4.3: at least 32, default 64;
// mipsec's default is kDefaultSize = 1024). A packet is "too old" when
// top - seq >= W, where top is the highest committed sequence number.
#ifndef MIPSEC_ESP_REPLAY_WINDOW_H_
#define MIPSEC_ESP_REPLAY_WINDOW_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/result.h"

namespace mipsec::esp {

enum class ReplayVerdict : std::uint8_t {
  kAccept,     // new (above the window top) or inside the window and unseen
  kDuplicate,  // inside the window and already committed
  kTooOld,     // to the left of the window
  kInvalid,    // sequence number 0, or an ESN inference that falls outside 1..2^64-1
};

class ReplayWindow {
 public:
  static constexpr std::uint32_t kMinSize = 32;
  static constexpr std::uint32_t kDefaultSize = 1024;
  static constexpr std::uint32_t kMaxSize = 1u << 16;

  // kInvalidArgument if `size` is outside [kMinSize, kMaxSize].
  static Result<ReplayWindow> Create(std::uint32_t size, bool esn);

  // The full sequence number of a packet carrying `seq_low`. Without ESN this
  // is seq_low. With ESN it applies RFC 4303 Appendix A2.2 (cases A and B)
  // against the current top; an inference below 1 or above 2^64-1 returns 0,
  // which Check() reports as kInvalid.
  std::uint64_t Infer(std::uint32_t seq_low) const;

  // Pure: whether `seq` may be accepted. Never changes state.
  ReplayVerdict Check(std::uint64_t seq) const;

  // Records `seq` as received, advancing the top if it is newer. Call only
  // after the packet's ICV verified (and, with anti-replay on, after Check()
  // returned kAccept). Committing 0 is a BUG (ignored).
  void Commit(std::uint64_t seq);

  // The highest committed sequence number (0 before the first commit).
  std::uint64_t top() const { return top_; }
  std::uint32_t size() const { return size_; }
  bool esn() const { return esn_; }

 private:
  ReplayWindow(std::uint32_t size, bool esn, std::size_t blocks)
      : size_(size), esn_(esn), mask_(blocks - 1), bits_(blocks, 0) {}

  std::uint32_t size_;
  bool esn_;
  std::uint64_t mask_;  // number of blocks - 1 (a power of two minus one)
  std::uint64_t top_ = 0;
  std::vector<std::uint64_t> bits_;
};

}  // namespace mipsec::esp

#endif  // MIPSEC_ESP_REPLAY_WINDOW_H_

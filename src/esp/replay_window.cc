#include "esp/replay_window.h"

#include <algorithm>
#include <string>

#include "common/bug.h"

namespace mipsec::esp {

Result<ReplayWindow> ReplayWindow::Create(std::uint32_t size, bool esn) {
  // RFC 4303 3.4.3: a minimum window size of 32 packets MUST be supported.
  if (size < kMinSize || size > kMaxSize) {
    return Error(Errc::kInvalidArgument, "replay window: size " + std::to_string(size) +
                                             " outside " + std::to_string(kMinSize) + ".." +
                                             std::to_string(kMaxSize));
  }
  std::size_t blocks = 1;
  while (blocks < size / 64 + 2) blocks <<= 1;  // room for W bits at any bit offset
  return ReplayWindow(size, esn, blocks);
}

std::uint64_t ReplayWindow::Infer(std::uint32_t seq_low) const {
  if (!esn_) return seq_low;
  // RFC 4303 Appendix A2.2; arithmetic on Tl and Bl is mod 2^32.
  const auto tl = static_cast<std::uint32_t>(top_);
  const auto th = static_cast<std::uint32_t>(top_ >> 32);
  const std::uint32_t bl = tl - size_ + 1;
  std::uint64_t seqh;
  if (tl >= size_ - 1) {  // Case A: the window lies within one subspace
    if (seq_low >= bl) {
      seqh = th;
    } else {
      if (th == 0xffffffffu) return 0;  // would need a 65th bit
      seqh = static_cast<std::uint64_t>(th) + 1;
    }
  } else {  // Case B: the window straddles two subspaces
    if (seq_low >= bl) {
      if (th == 0) return 0;  // the subspace before the first one
      seqh = static_cast<std::uint64_t>(th) - 1;
    } else {
      seqh = th;
    }
  }
  return seqh << 32 | seq_low;
}

ReplayVerdict ReplayWindow::Check(std::uint64_t seq) const {
  if (seq == 0) return ReplayVerdict::kInvalid;
  if (seq > top_) return ReplayVerdict::kAccept;
  if (top_ - seq >= size_) return ReplayVerdict::kTooOld;
  const std::uint64_t bit = std::uint64_t{1} << (seq & 63);
  return (bits_[(seq >> 6) & mask_] & bit) != 0 ? ReplayVerdict::kDuplicate
                                                 : ReplayVerdict::kAccept;
}

void ReplayWindow::Commit(std::uint64_t seq) {
  if (MIPSEC_BUG_IF(seq == 0, "replay window: commit of sequence number 0")) return;
  if (seq > top_) {
    const std::uint64_t from = top_ >> 6;
    const std::uint64_t to = seq >> 6;
    if (to - from > mask_) {
      std::fill(bits_.begin(), bits_.end(), 0);
    } else {
      for (std::uint64_t b = from + 1; b <= to; ++b) bits_[b & mask_] = 0;
    }
    top_ = seq;
  }
  bits_[(seq >> 6) & mask_] |= std::uint64_t{1} << (seq & 63);
}

}  // namespace mipsec::esp

// SecretBytes: key material (PSKs, MN-HA keys, SKEYSEED, SK_*, ESP keys).
//
// It cannot be printed or logged: it has no operator<<, does not convert to
// ByteSpan or a string, and the logger refuses it at compile time
// (log.h: "key material must never be logged"). Code that really needs the
// bytes (the crypto layer) asks for them by name with Reveal(). The memory is
// wiped on destruction and on reassignment.
#ifndef MIPSEC_COMMON_SECRET_H_
#define MIPSEC_COMMON_SECRET_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.h"

namespace mipsec {

class SecretBytes {
 public:
  // Marks the type for the logger's compile-time refusal.
  static constexpr bool kIsSecret = true;

  SecretBytes() = default;
  explicit SecretBytes(ByteSpan data) : b_(data.begin(), data.end()) {}
  explicit SecretBytes(std::size_t n) : b_(n, 0) {}
  SecretBytes(const SecretBytes& o) : b_(o.b_) {}
  SecretBytes(SecretBytes&& o) noexcept : b_(std::move(o.b_)) { o.Wipe(); }
  SecretBytes& operator=(const SecretBytes& o);
  SecretBytes& operator=(SecretBytes&& o) noexcept;
  ~SecretBytes() { Wipe(); }

  std::size_t size() const { return b_.size(); }
  bool empty() const { return b_.empty(); }

  // The only ways to the bytes. Never pass the result to a logger or ToHex.
  ByteSpan Reveal() const { return b_; }
  MutableByteSpan RevealMutable() { return b_; }

  // Constant-time equality (for tests and key confirmation).
  bool Equals(const SecretBytes& o) const;

 private:
  void Wipe();
  std::vector<std::uint8_t> b_;
};

}  // namespace mipsec

#endif  // MIPSEC_COMMON_SECRET_H_

#include "common/secret.h"

#include <string.h>  // explicit_bzero

namespace mipsec {

void SecretBytes::Wipe() {
  if (!b_.empty()) explicit_bzero(b_.data(), b_.size());
  b_.clear();
}

SecretBytes& SecretBytes::operator=(const SecretBytes& o) {
  if (this != &o) {
    Wipe();
    b_ = o.b_;
  }
  return *this;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& o) noexcept {
  if (this != &o) {
    Wipe();
    b_ = std::move(o.b_);
    o.Wipe();
  }
  return *this;
}

bool SecretBytes::Equals(const SecretBytes& o) const {
  if (b_.size() != o.b_.size()) return false;
  std::uint8_t diff = 0;
  for (std::size_t i = 0; i < b_.size(); ++i) diff |= b_[i] ^ o.b_[i];
  return diff == 0;
}

}  // namespace mipsec

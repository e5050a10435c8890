// Result<T>: the one error type used project-wide.
//
// C++20 has no std::expected, so mipsec carries its own. A Result holds either
// a value or an Error (a coarse code plus a human-readable detail string).
// Protocol-level codes (Mobile IPv4 reply codes, IKEv2 notify types) are not
// Errors: cores map an Error to the protocol code where the RFC says so.
//
// Errors never carry key material: build the detail from lengths, offsets and
// field names, never from secret bytes.
#ifndef MIPSEC_COMMON_RESULT_H_
#define MIPSEC_COMMON_RESULT_H_

#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace mipsec {

enum class Errc {
  kTruncated,        // input ended before a field it declares
  kMalformed,        // a field has a value the format forbids
  kUnsupported,      // well-formed, but something we do not implement
  kInvalidArgument,  // a local caller passed something unusable
  kAuthFailed,       // an authenticator or ICV did not verify
  kReplay,           // replay protection rejected the input
  kNotFound,
  kAlreadyExists,
  kState,            // not allowed in the current state
  kResource,         // out of some bounded resource
  kTimeout,
  kSystem,           // an OS call failed (platform adapters only)
  kInternal,         // a broken invariant (see BUG() in bug.h)
};

// Short lower-case name of a code, e.g. "truncated".
std::string_view ErrcName(Errc c);

class Error {
 public:
  Error(Errc code, std::string detail) : code_(code), detail_(std::move(detail)) {}

  Errc code() const { return code_; }
  const std::string& detail() const { return detail_; }
  // "truncated: lifetime needs 2 bytes at offset 4, 1 left"
  std::string ToString() const;

  // Returns a copy with `context` prepended: "registration request: <detail>".
  Error WithContext(std::string_view context) const;

 private:
  Errc code_;
  std::string detail_;
};

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Error>, "Result<Error> is meaningless");

 public:
  using value_type = T;

  // Implicit from a value or an Error, so `return value;` and
  // `return Error(...)` both work.
  Result(const T& v) : v_(std::in_place_index<0>, v) {}                      // NOLINT
  Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}                // NOLINT
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}              // NOLINT
  template <typename U,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, T> &&
                                        !std::is_same_v<std::decay_t<U>, Error> &&
                                        !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& u) : v_(std::in_place_index<0>, T(std::forward<U>(u))) {}       // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Accessing the wrong alternative is a programming error and aborts.
  T& value() & { Check(true); return std::get<0>(v_); }
  const T& value() const& { Check(true); return std::get<0>(v_); }
  T&& value() && { Check(true); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { Check(false); return std::get<1>(v_); }
  Error&& error() && { Check(false); return std::get<1>(std::move(v_)); }

  T value_or(T dflt) const& { return ok() ? std::get<0>(v_) : std::move(dflt); }

 private:
  void Check(bool want_value) const {
    if (ok() != want_value) std::abort();
  }
  std::variant<T, Error> v_;
};

// Result<void>: success, or an Error.
struct Ok {};
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Ok) {}                                                   // NOLINT
  Result(Error e) : err_(std::move(e)), has_err_(true) {}         // NOLINT

  bool ok() const { return !has_err_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& {
    if (!has_err_) std::abort();
    return err_;
  }
  Error&& error() && {
    if (!has_err_) std::abort();
    return std::move(err_);
  }

 private:
  Error err_{Errc::kInternal, ""};
  bool has_err_ = false;
};

using Status = Result<void>;

}  // namespace mipsec

#define MIPSEC_CONCAT_INNER_(a, b) a##b
#define MIPSEC_CONCAT_(a, b) MIPSEC_CONCAT_INNER_(a, b)

// MIPSEC_TRY(expr): if `expr` (a Result) holds an error, return that error.
#define MIPSEC_TRY(expr)                                  \
  do {                                                    \
    auto&& mipsec_try_r_ = (expr);                        \
    if (!mipsec_try_r_.ok()) return std::move(mipsec_try_r_).error(); \
  } while (0)

// MIPSEC_ASSIGN_OR_RETURN(lhs, expr): `lhs = *expr`, or return its error.
// `lhs` may be a declaration: MIPSEC_ASSIGN_OR_RETURN(auto v, r.U16("len"));
#define MIPSEC_ASSIGN_OR_RETURN(lhs, expr) \
  MIPSEC_ASSIGN_OR_RETURN_IMPL_(MIPSEC_CONCAT_(mipsec_aor_, __LINE__), lhs, expr)
#define MIPSEC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).error();       \
  lhs = std::move(tmp).value()

#endif  // MIPSEC_COMMON_RESULT_H_

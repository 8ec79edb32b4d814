#pragma once
// Result<T>: a value or the Status saying why there is none.

#include <new>
#include <type_traits>
#include <utility>

#include "mote/base/assert.hpp"
#include "mote/base/status.hpp"

namespace mote {

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported; use Result<T*>");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>, "use Status itself");

 public:
  using value_type = T;

  // An error. Constructing a Result from an ok Status is a programmer error:
  // an ok Result must carry a value.
  constexpr Result(Status status) : status_(status) {  // NOLINT(google-explicit-constructor)
    MOTE_ASSERT(!status.ok());
  }
  constexpr Result(StatusCode code)
      : Result(Status(code)) {}  // NOLINT(google-explicit-constructor)

  template <typename U = T>
  requires std::is_constructible_v<T, U&&> &&(!std::is_same_v<std::remove_cvref_t<U>, Result>)&&(
      !std::is_same_v<std::remove_cvref_t<U>, Status>)&&(!std::is_same_v<std::remove_cvref_t<U>,
                                                                         StatusCode>)
      // NOLINTNEXTLINE(bugprone-forwarding-reference-overload): the constraint excludes Result.
      constexpr Result(U&& value)
      : value_(std::forward<U>(value)) {}  // NOLINT(google-explicit-constructor)

  template <typename... Args>
  constexpr explicit Result(std::in_place_t, Args&&... args)
      : value_(std::forward<Args>(args)...) {}

  constexpr Result(const Result& other) : status_(other.status_) {
    if (status_.ok()) construct_value(other.value_);
  }
  constexpr Result(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
      : status_(other.status_) {
    if (status_.ok()) construct_value(std::move(other.value_));
  }
  constexpr Result& operator=(const Result& other) {
    if (this != &other) {
      reset();
      status_ = other.status_;
      if (status_.ok()) construct_value(other.value_);
    }
    return *this;
  }
  constexpr Result& operator=(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &other) {
      reset();
      status_ = other.status_;
      if (status_.ok()) construct_value(std::move(other.value_));
    }
    return *this;
  }
  constexpr ~Result() { reset(); }

  [[nodiscard]] constexpr bool ok() const { return status_.ok(); }
  [[nodiscard]] constexpr Status status() const { return status_; }
  constexpr explicit operator bool() const { return ok(); }

  // Accessing the value of an error Result is a programmer error.
  [[nodiscard]] constexpr T& value() & {
    MOTE_ASSERT(ok());
    return value_;
  }
  [[nodiscard]] constexpr const T& value() const& {
    MOTE_ASSERT(ok());
    return value_;
  }
  [[nodiscard]] constexpr T&& value() && {
    MOTE_ASSERT(ok());
    return std::move(value_);
  }

  constexpr T& operator*() & { return value(); }
  constexpr const T& operator*() const& { return value(); }
  constexpr T&& operator*() && { return std::move(*this).value(); }
  constexpr T* operator->() { return &value(); }
  constexpr const T* operator->() const { return &value(); }

  template <typename U>
  [[nodiscard]] constexpr T value_or(U&& fallback) const& {
    return ok() ? value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  // Placement new rather than std::construct_at: that lives in <memory>,
  // which the freestanding core does not include.
  //
  // GCC (bug 80635, as for std::optional) cannot tie value_'s state to
  // status_ across an assignment and warns that the source may be
  // uninitialized; every caller constructs from a value whose status is ok.
  template <typename... Args>
  constexpr void construct_value(Args&&... args) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
    ::new (static_cast<void*>(&value_)) T(std::forward<Args>(args)...);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  }

  constexpr void reset() {
    if (status_.ok()) value_.~T();
    status_ = Status::unknown();
  }

  Status status_;
  union {
    T value_;  // NOLINT(readability-identifier-naming): private in all but name
  };
};

namespace internal {
constexpr Status status_of(Status status) { return status; }
template <typename T>
constexpr Status status_of(const Result<T>& result) {
  return result.status();
}
}  // namespace internal

}  // namespace mote

#define MOTE_INTERNAL_CONCAT_(a, b) a##b
#define MOTE_INTERNAL_CONCAT(a, b) MOTE_INTERNAL_CONCAT_(a, b)

// Returns the error from the enclosing function if `expr` (a Status or a
// Result) is not ok.
#define MOTE_TRY(expr)                                                       \
  do {                                                                       \
    if (::mote::Status mote_try_status_ = ::mote::internal::status_of(expr); \
        !mote_try_status_.ok()) {                                            \
      return mote_try_status_;                                               \
    }                                                                        \
  } while (0)

// Declares or assigns `lhs` from the value of the Result `expr`, or returns
// its error from the enclosing function:  MOTE_TRY_ASSIGN(auto n, parse(x));
#define MOTE_TRY_ASSIGN(lhs, expr) \
  MOTE_INTERNAL_TRY_ASSIGN(MOTE_INTERNAL_CONCAT(mote_try_result_, __LINE__), lhs, expr, return )

// The same two for coroutines, which must co_return instead of return.
#define MOTE_CO_TRY(expr)                                                    \
  do {                                                                       \
    if (::mote::Status mote_try_status_ = ::mote::internal::status_of(expr); \
        !mote_try_status_.ok()) {                                            \
      co_return mote_try_status_;                                            \
    }                                                                        \
  } while (0)

#define MOTE_CO_TRY_ASSIGN(lhs, expr) \
  MOTE_INTERNAL_TRY_ASSIGN(MOTE_INTERNAL_CONCAT(mote_try_result_, __LINE__), lhs, expr, co_return )

// `lhs` (a declaration) and `return_keyword` cannot be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define MOTE_INTERNAL_TRY_ASSIGN(result, lhs, expr, return_keyword) \
  auto result = (expr);                                             \
  if (!result.ok()) {                                               \
    return_keyword result.status();                                 \
  }                                                                 \
  lhs = std::move(result).value()
// NOLINTEND(bugprone-macro-parentheses)

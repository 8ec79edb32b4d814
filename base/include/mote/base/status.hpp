#pragma once
// Status: the outcome of an operation that returns no value. Errors are
// values in mote: no exceptions cross any module border.

#include <cstdint>

namespace mote {

// The canonical codes (the same set Pigweed and Abseil use), so an error means
// the same thing in every module.
enum class StatusCode : std::uint8_t {
  ok = 0,
  cancelled = 1,
  unknown = 2,
  invalid_argument = 3,
  deadline_exceeded = 4,
  not_found = 5,
  already_exists = 6,
  permission_denied = 7,
  resource_exhausted = 8,
  failed_precondition = 9,
  aborted = 10,
  out_of_range = 11,
  unimplemented = 12,
  internal = 13,
  unavailable = 14,
  data_loss = 15,
  unauthenticated = 16,
};

// The code's name in lower case with underscores, e.g. "deadline_exceeded".
const char* to_string(StatusCode code);

class [[nodiscard]] Status {
 public:
  constexpr Status() = default;
  constexpr explicit Status(StatusCode code) : code_(code) {}

  [[nodiscard]] constexpr StatusCode code() const { return code_; }
  [[nodiscard]] constexpr bool ok() const { return code_ == StatusCode::ok; }
  [[nodiscard]] const char* str() const { return to_string(code_); }

  // Marks a status as deliberately not looked at.
  constexpr void ignore_error() const {}

  friend constexpr bool operator==(Status, Status) = default;

  static constexpr Status ok_status() { return Status(); }
  static constexpr Status cancelled() { return Status(StatusCode::cancelled); }
  static constexpr Status unknown() { return Status(StatusCode::unknown); }
  static constexpr Status invalid_argument() { return Status(StatusCode::invalid_argument); }
  static constexpr Status deadline_exceeded() { return Status(StatusCode::deadline_exceeded); }
  static constexpr Status not_found() { return Status(StatusCode::not_found); }
  static constexpr Status already_exists() { return Status(StatusCode::already_exists); }
  static constexpr Status permission_denied() { return Status(StatusCode::permission_denied); }
  static constexpr Status resource_exhausted() { return Status(StatusCode::resource_exhausted); }
  static constexpr Status failed_precondition() { return Status(StatusCode::failed_precondition); }
  static constexpr Status aborted() { return Status(StatusCode::aborted); }
  static constexpr Status out_of_range() { return Status(StatusCode::out_of_range); }
  static constexpr Status unimplemented() { return Status(StatusCode::unimplemented); }
  static constexpr Status internal() { return Status(StatusCode::internal); }
  static constexpr Status unavailable() { return Status(StatusCode::unavailable); }
  static constexpr Status data_loss() { return Status(StatusCode::data_loss); }
  static constexpr Status unauthenticated() { return Status(StatusCode::unauthenticated); }

 private:
  StatusCode code_ = StatusCode::ok;
};

constexpr Status ok_status() { return Status(); }

}  // namespace mote

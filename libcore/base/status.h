// Error values shared by all of libcore.
//
// libcore never throws across its API and never exits: fallible functions return
// `Status` (std::expected<void, Error>) or `Result<T>` (std::expected<T, Error>).
// An Error carries a kind that decides the exit status (see exit_code.h), a
// one-line message, and an optional location ("orders.ndjson:1042").
// Plain values; thread-compatible.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace ev {

enum class ErrorKind {
  kUsage,     // bad option, bad field path, unreadable config: exit 2
  kData,      // a bad event or a failed data check: exit 1 when it stops the run
  kIo,        // read/write/open failure: exit 3
  kKafka,     // broker failure: exit 3
  kState,     // corrupt or foreign state snapshot: exit 3
  kPipe,      // downstream closed the pipe: a quiet, successful end
  kInternal,  // a bug: exit 70
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;
  std::string where;  // "file:line", "topic[p]@offset" or empty

  // "where: message", or just the message when there is no location.
  std::string to_string() const { return where.empty() ? message : where + ": " + message; }
};

using Status = std::expected<void, Error>;
template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> make_error(ErrorKind kind, std::string message,
                                         std::string where = {}) {
  return std::unexpected<Error>(Error{kind, std::move(message), std::move(where)});
}
inline std::unexpected<Error> usage_error(std::string message) {
  return make_error(ErrorKind::kUsage, std::move(message));
}
inline std::unexpected<Error> data_error(std::string message, std::string where = {}) {
  return make_error(ErrorKind::kData, std::move(message), std::move(where));
}
inline std::unexpected<Error> io_error(std::string message, std::string where = {}) {
  return make_error(ErrorKind::kIo, std::move(message), std::move(where));
}

// Exit status for an error that ends a run (ev(7), EXIT STATUS).
inline int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
      return 2;
    case ErrorKind::kData:
      return 1;
    case ErrorKind::kIo:
    case ErrorKind::kKafka:
    case ErrorKind::kState:
      return 3;
    case ErrorKind::kPipe:
      return 0;
    case ErrorKind::kInternal:
      return 70;
  }
  return 70;
}

}  // namespace ev

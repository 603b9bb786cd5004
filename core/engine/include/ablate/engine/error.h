// ablate's one exception type. Internals throw it with what went wrong and, where the user can do
// something about it, a hint; `app/` catches it at the edge and prints
//   error: <file>:<line>:<column>: <message>
//   hint: <hint>
// and exits non-zero.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace ablate {

/// Where in a user's file something is: 1-based line and column; line 0 = the file as a whole.
struct SourceLocation {
  std::string file;
  std::int64_t line = 0;
  std::int64_t column = 0;

  std::string str() const {
    if (file.empty()) return {};
    if (line <= 0) return file;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
  }
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::string hint = {}, SourceLocation where = {})
      : std::runtime_error(message), hint_(std::move(hint)), where_(std::move(where)) {}

  const std::string& hint() const { return hint_; }
  const SourceLocation& where() const { return where_; }

  /// "file:line:col: message" (or just the message when there is no location).
  std::string located_message() const {
    std::string loc = where_.str();
    return loc.empty() ? std::string(what()) : loc + ": " + what();
  }

 private:
  std::string hint_;
  SourceLocation where_;
};

}  // namespace ablate

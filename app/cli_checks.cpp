#include "cli_checks.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace ablate::app {
namespace {

// strtoll/strtod over the whole text (CLI11 converts the value after its checks ran, so a check
// sees the text as typed). A whole number too large for long long (a 64-bit seed) reads as the
// largest one: it passes any lower bound, and CLI11 then checks that it fits the flag's type.
bool whole_number(const std::string& text, long long& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  value = std::strtoll(text.c_str(), &end, 10);
  if (end != text.c_str() + text.size()) return false;
  return errno == 0 || (errno == ERANGE && value > 0);
}

bool finite_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(value);
}

}  // namespace

CLI::Validator at_least(long long min) {
  // The names are CLI11's own, so --help reads as before (INT:NONNEGATIVE, INT:POSITIVE).
  const std::string name = min == 0 ? "NONNEGATIVE" : min == 1 ? "POSITIVE" : ">=" + std::to_string(min);
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        long long value = 0;
        if (!whole_number(text, value)) return "must be a whole number, not '" + text + "'";
        if (value < min) return "must be " + std::to_string(min) + " or more, not " + text;
        return {};
      },
      name);
}

CLI::Validator non_negative_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double value = 0;
        if (!finite_number(text, value)) return "must be a number, not '" + text + "'";
        if (value < 0) return "must be 0 or more, not " + text;
        return {};
      },
      "NONNEGATIVE");
}

CLI::Validator directory_to_write() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        namespace fs = std::filesystem;
        std::error_code ec;
        const fs::path path = text;
        if (fs::exists(path, ec) && !fs::is_directory(path, ec)) return text + " is a file; give a directory";
        // The nearest part of the path that exists must be a directory for the rest to be made.
        for (fs::path up = path.parent_path(); !up.empty() && up != up.parent_path(); up = up.parent_path())
          if (fs::exists(up, ec)) {
            if (!fs::is_directory(up, ec))
              return text + " lies below " + up.string() + ", which is a file; give a directory";
            break;
          }
        return {};
      },
      "DIR");
}

}  // namespace ablate::app

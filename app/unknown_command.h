// A mistyped command: CLI11 alone says only "A subcommand is required" for `ablate rnu`, which
// names neither the word it did not know nor the commands it does.
//
//   if (auto message = unknown_command(app, argc, argv)) { std::cerr << *message; return 2; }
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace ablate::app {

/// The first word of argv that is neither an option of `app` nor an option's value: the command
/// asked for; std::nullopt when there is none.
std::optional<std::string> command_word(const CLI::App& app, int argc, const char* const* argv);

/// When the command word names none of `app`'s subcommands: "error: unknown command 'rnu'; did you
/// mean 'run'?" (when one is a few edits away) and a line listing the commands. With no command
/// word (and no --help or --version) "error: no command given" and the same list. Else std::nullopt.
std::optional<std::string> unknown_command(const CLI::App& app, int argc, const char* const* argv);

}  // namespace ablate::app

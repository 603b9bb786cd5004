// Reading a corpus into documents (data.h): the King James Bible from Debian's `bible` program
// (one document per chapter, verse references removed), .txt files (one document per file) and
// JSONL (one document per line), either also gzip-compressed (name ending in .gz, decompressed with
// Boost.Iostreams). Also the small POSIX helpers shared by the data module: running
// a child process and reading a file.
//
// Deliberate limits: whole files are read into memory; text must be UTF-8 (a few invalid bytes
// are replaced by U+FFFD, a file that is mostly not UTF-8, or has a NUL byte, is rejected as
// binary); CRLF line ends become LF; documents that are empty or only whitespace are skipped.
#include <fcntl.h>
#include <fmt/format.h>

#include <boost/iostreams/copy.hpp>
#include <boost/iostreams/device/array.hpp>
#include <boost/iostreams/device/back_inserter.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_streambuf.hpp>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "ablate/engine/error.h"
#include "data/internal.h"

extern char** environ;

namespace ablate::data_internal {
namespace fs = std::filesystem;

// ---- child processes ----------------------------------------------------------------------------

fs::path find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin";
  std::stringstream stream(dirs);
  std::string dir;
  while (std::getline(stream, dir, ':')) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate)) return candidate;
  }
  return {};
}

namespace {

// Keeps the last `limit` bytes: the end of a tool's stderr is where its fatal message is.
std::string file_tail(const fs::path& file, std::size_t limit) {
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > limit) text = "..." + text.substr(text.size() - limit);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const fs::path& stdin_file,
                          const fs::path& stdout_file) {
  const fs::path stderr_file = stdout_file.string() + ".stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string in = stdin_file.empty() ? std::string("/dev/null") : stdin_file.string();
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv.at(0).c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::error_code ignored;
    fs::remove(stderr_file, ignored);
    throw Error(fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      throw Error(fmt::format("waiting for {}: {}", argv[0], std::strerror(errno)));
  }
  ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.stderr_tail = file_tail(stderr_file, 2000);
  std::error_code ignored;
  fs::remove(stderr_file, ignored);
  return result;
}

std::string read_file(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) throw Error(fmt::format("{}: no such file", file.string()));
  if (!fs::is_regular_file(file, ec))
    throw Error(fmt::format("{}: not a regular file", file.string()));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open: {}", file.string(), std::strerror(errno)));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(fmt::format("{}: read error", file.string()));
  return text;
}

namespace {

bool is_gzip_name(const fs::path& file) { return file.extension() == ".gz"; }

std::string read_maybe_gzip(const fs::path& file) {
  std::string raw = read_file(file);
  if (!is_gzip_name(file)) return raw;
  namespace io = boost::iostreams;
  std::string text;
  try {
    io::filtering_istreambuf in;
    in.push(io::gzip_decompressor());
    in.push(io::array_source(raw.data(), raw.size()));
    io::copy(in, io::back_inserter(text));
  } catch (const std::exception& e) {  // gzip_error (header, CRC, length) or zlib_error (data)
    throw Error(fmt::format("{}: not a readable gzip file: {}", file.string(), e.what()),
                "check the file with `gzip -t`; rename it if it is not compressed");
  }
  return text;
}

}  // namespace

// ---- UTF-8 --------------------------------------------------------------------------------------

std::int64_t count_characters(std::string_view utf8) {
  std::int64_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
  return n;
}

namespace {

// Length of the valid UTF-8 sequence at text[i], or 0 when it is invalid (overlong forms,
// surrogates and code points past U+10FFFF included, as the standard says).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c == 0xE0)
    len = 3, lo = 0xA0;
  else if (c == 0xED)
    len = 3, hi = 0x9F;
  else if (c >= 0xE1 && c <= 0xEF)
    len = 3;
  else if (c == 0xF0)
    len = 4, lo = 0x90;
  else if (c == 0xF4)
    len = 4, hi = 0x8F;
  else if (c >= 0xF1 && c <= 0xF3)
    len = 4;
  else
    return 0;
  if (i + len > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  return len;
}

// Rejects binary data and returns the text as valid UTF-8 with LF line ends. `where` names the
// file (and line) in errors. Errors carry the place in their message rather than in a
// SourceLocation, so what() alone is complete.
std::string clean_text(std::string_view raw, const std::string& where) {
  const auto binary = [&](const std::string& why) {
    return Error(fmt::format("{}: looks like a binary file ({}), not UTF-8 text", where, why),
                 "give a UTF-8 text file (.txt) or a JSONL file");
  };
  if (raw.find('\0') != std::string_view::npos) throw binary("it contains NUL bytes");
  std::string out;
  out.reserve(raw.size());
  std::size_t invalid = 0;
  for (std::size_t i = 0; i < raw.size();) {
    const std::size_t len = utf8_sequence_length(raw, i);
    if (len == 0) {
      ++invalid;
      out += "\xEF\xBF\xBD";  // U+FFFD: a stray byte is kept visible rather than dropped
      ++i;
      continue;
    }
    if (!(raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n')) out.append(raw, i, len);
    i += len;
  }
  // Legacy 8-bit text has a few percent of invalid bytes; compressed or binary data mostly so.
  if (invalid * 10 > raw.size())
    throw binary(fmt::format("{} of {} bytes are not valid UTF-8", invalid, raw.size()));
  return out;
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

// ---- King James Bible ---------------------------------------------------------------------------

// `bible -f` prints one verse per line: "Ge1:1 In the beginning...", "1Sm3:4 ...", "SSol2:1 ...".
// Splits off the reference and returns its "book+chapter" part ("1Sm3"); false when the line does
// not start with a reference (a wrapped continuation line).
bool split_verse(std::string_view line, std::string_view& chapter, std::string_view& text) {
  const std::size_t space = line.find(' ');
  const std::string_view ref = line.substr(0, space);
  std::size_t i = ref.size();
  const auto digits_back = [&] {
    const std::size_t end = i;
    while (i > 0 && ref[i - 1] >= '0' && ref[i - 1] <= '9') --i;
    return end - i;
  };
  if (digits_back() == 0 || i == 0 || ref[i - 1] != ':') return false;
  const std::size_t colon = --i;
  if (digits_back() == 0) return false;
  const std::size_t book_end = i;
  while (i > 0 && std::isalpha(static_cast<unsigned char>(ref[i - 1]))) --i;
  if (i == book_end) return false;  // no book name
  if (i == 1 && !(ref[0] >= '1' && ref[0] <= '3')) return false;
  if (i > 1) return false;
  chapter = ref.substr(0, colon);
  text = space == std::string_view::npos ? std::string_view() : trim(line.substr(space + 1));
  return true;
}

// The chapters' texts; `names` gets each chapter's reference ("Psa53").
std::vector<std::string> parse_bible_output(const std::string& output,
                                            std::vector<std::string>& names) {
  std::vector<std::string> chapters;
  std::string current_chapter;
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    const std::string_view line(output.data() + start, end - start);
    start = end + 1;
    if (is_blank(line)) continue;
    std::string_view chapter, text;
    if (!split_verse(line, chapter, text)) {
      // A wrapped verse (some terminals' `bible -f` wrap): continue the previous verse.
      if (chapters.empty()) throw Error("unexpected output of 'bible -f': " + std::string(line));
      chapters.back() += ' ';
      chapters.back() += trim(line);
      continue;
    }
    if (chapter != current_chapter) {
      current_chapter = chapter;
      chapters.emplace_back();
      names.emplace_back(chapter);
    } else {
      chapters.back() += '\n';  // one verse per line within the chapter
    }
    chapters.back() += text;
  }
  return chapters;
}

Corpus read_kjv(const ProgressFn& progress) {
  const fs::path bible = find_program("bible");
  const char* hint = "run scripts/setup.sh (installs bible-kjv)";
  if (bible.empty())
    throw Error(
        "corpus 'kjv' needs the program 'bible' (Debian package bible-kjv), not found on PATH",
        hint);
  if (progress) progress("reading King James Bible (bible -f Gen1:1-Rev22:21)...");
  static std::atomic<int> counter{0};
  const fs::path out =
      fs::temp_directory_path() / fmt::format("ablate-bible-{}-{}.txt", ::getpid(), counter++);
  std::string output;
  try {
    const ProcessResult r = run_process({bible.string(), "-f", "Gen1:1-Rev22:21"}, {}, out);
    if (r.exit_code != 0)
      throw Error(fmt::format("'bible -f Gen1:1-Rev22:21' failed (exit {}): {}", r.exit_code,
                              r.stderr_tail),
                  hint);
    output = read_file(out);
  } catch (...) {
    std::error_code ignored;
    fs::remove(out, ignored);
    throw;
  }
  std::error_code ignored;
  fs::remove(out, ignored);

  Corpus corpus;
  corpus.documents = parse_bible_output(clean_text(output, "output of bible"), corpus.names);
  if (corpus.documents.empty()) throw Error("'bible -f Gen1:1-Rev22:21' printed no verses", hint);
  corpus.unit = "chapter";
  corpus.description =
      fmt::format("King James Bible (Debian bible-kjv), {} chapters", corpus.documents.size());
  return corpus;
}

// ---- text files and JSONL -----------------------------------------------------------------------

std::vector<fs::path> text_files_under(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const fs::path& p = it->path();
    const bool gz = is_gzip_name(p);
    if ((gz ? p.stem() : p).extension() == ".txt") files.push_back(p);  // .txt or .txt.gz
  }
  if (ec) throw Error(fmt::format("{}: cannot list directory: {}", dir.string(), ec.message()));
  // Sorted, so the document order (and the cache key) does not depend on the file system.
  std::sort(files.begin(), files.end());
  return files;
}

Corpus read_text(const fs::path& path, const ProgressFn& progress) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw Error(fmt::format("{}: no such file or directory", path.string()),
                "corpus: {text: PATH} needs an existing .txt file or directory");
  Corpus corpus;
  if (fs::is_directory(path, ec)) {
    if (progress) progress(fmt::format("reading text files under {}...", path.string()));
    const auto files = text_files_under(path);
    for (const auto& file : files) {
      std::string text = clean_text(read_maybe_gzip(file), file.string());
      if (is_blank(text)) continue;
      corpus.documents.push_back(std::move(text));
      corpus.names.push_back(file.lexically_relative(path).string());
    }
    if (corpus.documents.empty())
      throw Error(fmt::format("{}: no non-empty .txt file in this directory ({} .txt files)",
                              path.string(), files.size()),
                  "put UTF-8 .txt (or .txt.gz) files in it (searched recursively)");
    corpus.unit = "file";
    corpus.description =
        fmt::format("{} text files under {}", corpus.documents.size(), path.string());
    return corpus;
  }
  if (progress) progress(fmt::format("reading {}...", path.string()));
  std::string text = clean_text(read_maybe_gzip(path), path.string());
  if (is_blank(text))
    throw Error(fmt::format("{}: the corpus is empty", path.string()),
                "give a text file with some text in it");
  corpus.documents.push_back(std::move(text));
  corpus.names.push_back(path.filename().string());
  corpus.unit = "file";
  corpus.description = fmt::format("text file {}", path.string());
  return corpus;
}

Corpus read_jsonl(const fs::path& path, const std::string& field, const ProgressFn& progress) {
  if (progress) progress(fmt::format("reading {}...", path.string()));
  const std::string raw = read_maybe_gzip(path);
  Corpus corpus;
  std::int64_t line_number = 0;
  std::size_t start = 0;
  while (start < raw.size()) {
    std::size_t end = raw.find('\n', start);
    if (end == std::string::npos) end = raw.size();
    const std::string_view line(raw.data() + start, end - start);
    start = end + 1;
    ++line_number;
    if (is_blank(line)) continue;
    const std::string where = fmt::format("{}:{}", path.string(), line_number);
    nlohmann::json value;
    try {
      value = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw Error(fmt::format("{}: not a JSON line: {}", where, e.what()),
                  "a JSONL corpus has one JSON object per line");
    }
    if (!value.is_object() || !value.contains(field) || !value[field].is_string())
      throw Error(
          fmt::format("{}: line has no string field '{}'", where, field),
          fmt::format("every line needs {{\"{}\": \"...text...\"}} (or set corpus.field)", field));
    std::string text = clean_text(value[field].get_ref<const std::string&>(), where);
    if (is_blank(text)) continue;
    corpus.documents.push_back(std::move(text));
    corpus.names.push_back(fmt::format("line {}", line_number));
  }
  if (corpus.documents.empty())
    throw Error(fmt::format("{}: the corpus is empty (no line with a non-empty '{}')",
                            path.string(), field));
  corpus.unit = "line";
  corpus.description = fmt::format("{} documents (field '{}') from JSONL {}",
                                   corpus.documents.size(), field, path.string());
  return corpus;
}

// The last boundary `sep` in [lo, mid], else the first in (mid, hi); npos when none.
std::size_t find_boundary(std::string_view text, std::string_view sep, std::size_t lo,
                          std::size_t mid, std::size_t hi) {
  std::size_t back = text.rfind(sep, mid);
  if (back != std::string_view::npos && back >= lo) return back + sep.size();
  std::size_t forward = text.find(sep, mid);
  if (forward != std::string_view::npos && forward + sep.size() <= hi) return forward + sep.size();
  return std::string_view::npos;
}

}  // namespace

std::vector<std::string> chunk_text(std::string_view text, std::size_t target) {
  std::vector<std::string> chunks;
  const auto push = [&](std::string_view piece) {
    piece = trim(piece);
    if (!piece.empty()) chunks.emplace_back(piece);
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text.size() - pos <= target + target / 2) {  // no small last chunk
      push(text.substr(pos));
      break;
    }
    const std::size_t lo = pos + target / 2, mid = pos + target, hi = pos + target + target / 2;
    std::size_t cut = std::string_view::npos;
    for (std::string_view sep : {"\n\n", "\n", " "}) {
      cut = find_boundary(text, sep, lo, mid, hi);
      if (cut != std::string_view::npos) break;
    }
    if (cut == std::string_view::npos) {  // no boundary at all: cut between UTF-8 sequences
      cut = mid;
      while (cut > pos && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    }
    push(text.substr(pos, cut - pos));
    pos = cut;
  }
  return chunks;
}

Corpus read_corpus(const nlohmann::json& config, const ProgressFn& progress) {
  Corpus corpus;
  if (config.is_string() && config.get<std::string>() == "kjv") {
    corpus = read_kjv(progress);
  } else if (config.is_object() && config.contains("text") && config["text"].is_string()) {
    corpus = read_text(config["text"].get<std::string>(), progress);
  } else if (config.is_object() && config.contains("jsonl") && config["jsonl"].is_string()) {
    const std::string field = config.contains("field") && config["field"].is_string()
                                  ? config["field"].get<std::string>()
                                  : "text";
    corpus = read_jsonl(config["jsonl"].get<std::string>(), field, progress);
  } else {
    throw Error(
        fmt::format("data.corpus: expected \"kjv\", {{text: PATH}} or {{jsonl: PATH, field: "
                    "NAME}}, got {}",
                    config.dump()),
        "see docs/data.md");
  }
  // A single document cannot be split; cut it into chunks so validation is never empty. A short
  // text gets smaller chunks (at least ~8 of them) rather than one that cannot be split.
  if (corpus.documents.size() == 1) {
    std::string only = std::move(corpus.documents.front());
    const std::size_t target = std::clamp<std::size_t>(only.size() / 8, 16, kChunkChars);
    corpus.documents = chunk_text(only, target);
    corpus.names.clear();
    for (std::size_t i = 0; i < corpus.documents.size(); ++i)
      corpus.names.push_back(fmt::format("chunk {}", i + 1));
    corpus.unit = "chunk";
    corpus.description += fmt::format(", a single document cut into {} chunks of ~{} characters",
                                      corpus.documents.size(), target);
  }
  return corpus;
}

}  // namespace ablate::data_internal

// Pre-tokenized files (data.h, data/internal.h): reading and validating llm.c shards and nanoGPT
// .bin files through a read-only memory map, expanding a `tokens` path or glob, and writing token
// files (the cache's uint32 streams and llm.c shards) through a temporary file renamed on commit.
//
// Formats:
//   llm.c:   a header of 256 little-endian int32 (magic, version, token count, rest unused), then
//            the tokens: magic 20240520 = uint16 tokens, 20240801 = uint32 tokens; version 1.
//   nanoGPT: raw little-endian uint16 tokens, no header (prepare.py's train.bin / val.bin).
//
// "auto" takes a file for llm.c when its first int32 is an llm.c magic. A file whose first 1024
// bytes have the *shape* of an llm.c header (words 3..255 zero, and version 1 or a token count that
// matches the file size) but a wrong magic is a damaged shard, refused rather than read as a
// headerless nanoGPT file: otherwise its header would be trained on as tokens. Only an explicit
// format: nanogpt reads it as tokens (the shape is 506 zero uint16 tokens at positions 6..511,
// which tokenized text does not produce).
//
// Deliberate limits: little-endian hosts only; a nanoGPT file whose first two tokens happen to
// spell an llm.c magic would be misread under "auto" (the odds are about 1 in 2^31 per file; say
// format: nanogpt to be sure).
#include <fcntl.h>
#include <fmt/format.h>
#include <glob.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "ablate/engine/data.h"
#include "ablate/engine/error.h"
#include "data/internal.h"

namespace ablate {
namespace fs = std::filesystem;
using namespace data_internal;

static_assert(std::endian::native == std::endian::little, "token files are read as little-endian");

namespace data_internal {

// ---- MappedFile ---------------------------------------------------------------------------------

MappedFile::MappedFile(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("{}: cannot open: {}", file.string(), std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(fmt::format("{}: not a regular file", file.string()));
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw Error(fmt::format("{}: cannot map: {}", file.string(), std::strerror(err)));
    }
    data_ = static_cast<const unsigned char*>(p);
  }
  ::close(fd);  // the mapping keeps the file alive
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<unsigned char*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

// ---- reading ------------------------------------------------------------------------------------

std::uint32_t TokenFile::token(std::size_t i) const {
  const unsigned char* base = map.data() + (format == "llmc" ? kLlmcHeaderBytes : 0);
  if (token_bytes == 2) {
    std::uint16_t v;
    std::memcpy(&v, base + 2 * i, 2);
    return v;
  }
  std::uint32_t v;
  std::memcpy(&v, base + 4 * i, 4);
  return v;
}

namespace {

std::int32_t header_int(const MappedFile& map, std::size_t index) {
  std::int32_t v;
  std::memcpy(&v, map.data() + index * sizeof v, sizeof v);
  return v;
}

bool has_llmc_magic(const MappedFile& map) {
  if (map.size() < sizeof(std::int32_t)) return false;
  const std::int32_t magic = header_int(map, 0);
  return magic == kLlmcMagic16 || magic == kLlmcMagic32;
}

// The first 1024 bytes look like an llm.c header whatever its magic: words 3..255 are zero (llm.c
// writes them so), and word 1 is version 1 or word 2 is the token count the file size implies for
// uint16 or uint32 tokens. Zeros alone are not enough: an all-zero file is not a shard.
bool has_llmc_shape(const MappedFile& map) {
  if (map.size() < kLlmcHeaderBytes) return false;
  for (std::size_t i = 3; i < kLlmcHeaderBytes / sizeof(std::int32_t); ++i)
    if (header_int(map, i) != 0) return false;
  const std::int64_t count = header_int(map, 2);
  const std::uint64_t body = map.size() - kLlmcHeaderBytes;
  const bool count_fits = count >= 0 && (body == static_cast<std::uint64_t>(count) * 2 ||
                                         body == static_cast<std::uint64_t>(count) * 4);
  return header_int(map, 1) == kLlmcVersion || count_fits;
}

// "magic 12345678, expected 20240520 (uint16 tokens) or 20240801 (uint32 tokens)", and the
// version too when it is also wrong.
std::string bad_magic(std::int32_t magic, std::int32_t version) {
  std::string out = fmt::format("magic {}, expected {} (uint16 tokens) or {} (uint32 tokens)", magic,
                                kLlmcMagic16, kLlmcMagic32);
  if (version != kLlmcVersion) out += fmt::format("; version {}, expected {}", version, kLlmcVersion);
  return out;
}

// "val", "valid" or "validation" as a word of the file name: val.bin, fineweb_val_000000.bin,
// tinyshakespeare_val.bin; not "interval.bin".
bool name_says_val(const fs::path& file) {
  const std::string name = file.filename().string();
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = start;
    while (end < name.size() && std::isalnum(static_cast<unsigned char>(name[end]))) ++end;
    const std::string word = name.substr(start, end - start);
    if (word == "val" || word == "valid" || word == "validation") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

TokenFile open_token_file(const fs::path& file, const std::string& format) {
  if (format != "auto" && format != "llmc" && format != "nanogpt")
    throw Error(fmt::format("data.corpus.format: unknown format '{}'", format),
                "use auto, llmc or nanogpt");
  std::error_code ec;
  if (!fs::exists(file, ec)) throw Error(fmt::format("{}: no such file", file.string()));
  TokenFile out{.path = file, .is_val = name_says_val(file), .map = MappedFile(file)};
  const MappedFile& map = out.map;
  const char* hint = "an llm.c shard starts with 256 int32: magic 20240520 (uint16 tokens) or "
                     "20240801 (uint32 tokens), version 1, the token count";
  if (format == "auto" && !has_llmc_magic(map) && has_llmc_shape(map))
    throw Error(fmt::format("{}: a damaged llm.c shard (its first 1024 bytes are an llm.c header: "
                            "words 3..255 zero, token count {}), not read as tokens: {}",
                            file.string(), header_int(map, 2),
                            bad_magic(header_int(map, 0), header_int(map, 1))),
                "regenerate the shard; if it really is a headerless nanoGPT .bin, set "
                "data.corpus.format: nanogpt");
  out.format = format == "auto" ? (has_llmc_magic(map) ? "llmc" : "nanogpt") : format;
  if (out.format == "nanogpt") {
    if (map.size() % 2 != 0)
      throw Error(fmt::format("{}: {} bytes is not a whole number of uint16 tokens (truncated?)",
                              file.string(), map.size()),
                  "a nanoGPT .bin holds raw little-endian uint16 tokens");
    out.token_bytes = 2;
    out.tokens = static_cast<std::int64_t>(map.size() / 2);
    return out;
  }
  if (map.size() < kLlmcHeaderBytes)
    throw Error(fmt::format("{}: {} bytes, shorter than the 1024-byte llm.c header (truncated?)",
                            file.string(), map.size()),
                hint);
  out.magic = header_int(map, 0);
  out.version = header_int(map, 1);
  const std::int64_t count = header_int(map, 2);
  if (out.magic != kLlmcMagic16 && out.magic != kLlmcMagic32)
    throw Error(fmt::format("{}: not an llm.c shard: {}", file.string(),
                            bad_magic(out.magic, out.version)),
                hint);
  if (out.version != kLlmcVersion)
    throw Error(fmt::format("{}: llm.c shard version {}, only version {} is known", file.string(),
                            out.version, kLlmcVersion),
                hint);
  out.token_bytes = out.magic == kLlmcMagic16 ? 2 : 4;
  const std::uint64_t expected = kLlmcHeaderBytes + static_cast<std::uint64_t>(count) * out.token_bytes;
  if (count < 0 || expected != map.size())
    throw Error(fmt::format("{}: the header says {} tokens of {} bytes = {} bytes with the header, "
                            "the file has {} bytes ({})",
                            file.string(), count, out.token_bytes, expected, map.size(),
                            map.size() < expected ? "truncated" : "trailing bytes"),
                hint);
  out.tokens = count;
  return out;
}

std::vector<fs::path> expand_token_paths(const std::string& pattern, const std::string& format) {
  std::error_code ec;
  if (fs::is_directory(pattern, ec)) {
    const fs::path dir = pattern;
    std::vector<fs::path> files;
    if (format == "nanogpt") {
      // nanoGPT's prepare.py writes train.bin and val.bin into the dataset's directory.
      if (!fs::exists(dir / "train.bin", ec))
        throw Error(fmt::format("{}: no train.bin in this directory", dir.string()),
                    "a nanoGPT data directory holds train.bin (and val.bin) from prepare.py");
      files.push_back(dir / "train.bin");
      if (fs::exists(dir / "val.bin", ec)) files.push_back(dir / "val.bin");
      return files;
    }
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.is_regular_file() && entry.path().extension() == ".bin")
        files.push_back(entry.path());
    if (files.empty())
      throw Error(fmt::format("{}: no .bin file in this directory", dir.string()),
                  "give a directory of llm.c shards or nanoGPT train.bin/val.bin");
    std::sort(files.begin(), files.end());
    return files;
  }
  glob_t matches{};
  const int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &matches);
  std::vector<fs::path> files;
  if (rc == 0)
    for (std::size_t i = 0; i < matches.gl_pathc; ++i) files.emplace_back(matches.gl_pathv[i]);
  ::globfree(&matches);
  if (files.empty())
    throw Error(fmt::format("{}: no file matches", pattern),
                "data.corpus.tokens takes a file, a directory or a glob such as "
                "data/fineweb_train_*.bin (relative to the sweep file)");
  std::sort(files.begin(), files.end());  // glob sorts too, but by locale
  return files;
}

// ---- writing ------------------------------------------------------------------------------------

TokenWriter::TokenWriter(const fs::path& target, int token_bytes)
    : target_(target), token_bytes_(token_bytes) {
  static std::atomic<unsigned> counter{0};
  std::error_code ec;
  if (!target.parent_path().empty()) fs::create_directories(target.parent_path(), ec);
  temp_ = target.string() + fmt::format(".tmp-{}-{}", ::getpid(), counter++);
  file_ = std::fopen(temp_.c_str(), "wb");
  if (file_ == nullptr)
    throw Error(fmt::format("{}: cannot create: {}", temp_.string(), std::strerror(errno)));
}

TokenWriter::~TokenWriter() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::error_code ignored;
    fs::remove(temp_, ignored);
  }
}

void TokenWriter::write_raw(const void* bytes, std::size_t n) {
  if (n > 0 && std::fwrite(bytes, 1, n, file_) != n)
    throw Error(fmt::format("{}: write failed: {} (disk full?)", temp_.string(), std::strerror(errno)));
}

void TokenWriter::write(const std::uint32_t* tokens, std::size_t n) {
  if (token_bytes_ == 4) return write_raw(tokens, n * 4);
  std::vector<std::uint16_t> narrow(tokens, tokens + n);  // callers checked the range
  write_raw(narrow.data(), n * 2);
}

void TokenWriter::commit() {
  const bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  const int err = errno;
  std::fclose(file_);
  file_ = nullptr;
  std::error_code ec;
  if (ok) fs::rename(temp_, target_, ec);
  if (!ok || ec) {
    fs::remove(temp_, ec);
    throw Error(fmt::format("{}: cannot write: {}", target_.string(),
                            ok ? ec.message() : std::string(std::strerror(err))));
  }
}

}  // namespace data_internal

// ---- public -------------------------------------------------------------------------------------

TokenFileSummary summarize_token_file(const fs::path& file, const std::string& format) {
  const TokenFile tf = open_token_file(file, format);
  TokenFileSummary s{.file = file, .format = tf.format, .magic = tf.magic, .version = tf.version,
                     .token_bytes = tf.token_bytes, .tokens = tf.tokens};
  if (tf.tokens == 0) return s;
  // A bitmap of seen ids: one bit per possible id up to the largest seen.
  std::vector<bool> seen;
  s.min_token = 0xFFFFFFFFu;
  for (std::int64_t i = 0; i < tf.tokens; ++i) {
    const std::uint32_t t = tf.token(static_cast<std::size_t>(i));
    s.min_token = std::min(s.min_token, t);
    s.max_token = std::max(s.max_token, t);
    if (t >= seen.size()) seen.resize(std::max<std::size_t>(t + 1, seen.size() * 2));
    if (!seen[t]) {
      seen[t] = true;
      ++s.distinct_tokens;
    }
  }
  return s;
}

std::vector<std::uint32_t> read_token_file(const fs::path& file, const std::string& format) {
  const TokenFile tf = open_token_file(file, format);
  std::vector<std::uint32_t> out(static_cast<std::size_t>(tf.tokens));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = tf.token(i);
  return out;
}

std::vector<fs::path> write_llmc_shards(const fs::path& out_dir, const std::string& prefix,
                                        const TokenStream& tokens, std::int64_t vocab_size,
                                        std::int64_t shard_tokens) {
  if (shard_tokens < 1 || shard_tokens > 0x7FFFFFFF)
    throw Error(fmt::format("shard size {} tokens is out of range [1, 2^31)", shard_tokens));
  const bool narrow = vocab_size <= 65536;  // every id fits in uint16
  std::vector<fs::path> files;
  std::size_t pos = 0;
  do {  // an empty stream still gets one (empty) shard, so the split is visible
    const std::size_t n = std::min<std::size_t>(shard_tokens, tokens.size() - pos);
    for (std::size_t i = pos; i < pos + n; ++i)
      if (tokens[i] >= static_cast<std::uint64_t>(vocab_size))
        throw Error(fmt::format("token {} at position {} is not below the vocabulary size {}",
                                tokens[i], i, vocab_size));
    const fs::path file = out_dir / fmt::format("{}_{:06d}.bin", prefix, files.size());
    std::int32_t header[256] = {};
    header[0] = narrow ? kLlmcMagic16 : kLlmcMagic32;
    header[1] = kLlmcVersion;
    header[2] = static_cast<std::int32_t>(n);
    TokenWriter writer(file, narrow ? 2 : 4);
    writer.write_raw(header, sizeof header);
    writer.write(tokens.data() + pos, n);
    writer.commit();
    files.push_back(file);
    pos += n;
  } while (pos < tokens.size());
  return files;
}

}  // namespace ablate

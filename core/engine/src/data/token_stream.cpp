// TokenStream (data.h): a cache entry's token file (uint32 little-endian ids) memory-mapped
// read-only, so that every run reading the same corpus shares one copy in the page cache.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <utility>

#include "ablate/engine/data.h"
#include "ablate/engine/error.h"

namespace ablate {
namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little, "token streams are mapped as little-endian uint32");

TokenStream::TokenStream(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("{}: cannot open: {}", file.string(), std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size % sizeof(std::uint32_t) != 0) {
    ::close(fd);
    throw Error(fmt::format("{}: not a token stream (size {} is not a multiple of 4)",
                            file.string(), static_cast<long long>(st.st_size)),
                "delete the cache entry; it will be rebuilt");
  }
  mapped_bytes_ = static_cast<std::size_t>(st.st_size);
  if (mapped_bytes_ > 0) {  // mmap of 0 bytes fails; an empty stream maps nothing
    void* p = ::mmap(nullptr, mapped_bytes_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw Error(fmt::format("{}: cannot map: {}", file.string(), std::strerror(err)));
    }
    mapping_ = p;
    data_ = static_cast<const std::uint32_t*>(p);
    size_ = mapped_bytes_ / sizeof(std::uint32_t);
  }
  ::close(fd);  // the mapping keeps the file alive
}

TokenStream::~TokenStream() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapped_bytes_);
}

TokenStream::TokenStream(TokenStream&& other) noexcept { *this = std::move(other); }

TokenStream& TokenStream::operator=(TokenStream&& other) noexcept {
  if (this == &other) return *this;
  if (mapping_ != nullptr) ::munmap(mapping_, mapped_bytes_);
  data_ = std::exchange(other.data_, nullptr);
  size_ = std::exchange(other.size_, 0);
  mapping_ = std::exchange(other.mapping_, nullptr);
  mapped_bytes_ = std::exchange(other.mapped_bytes_, 0);
  return *this;
}

}  // namespace ablate

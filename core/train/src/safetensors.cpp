// safetensors reading and writing (safetensors.h). Tensors are stored in the machine's byte
// order, which the format requires to be little-endian: checked once at compile time.
#include "ablate/train/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <set>

#include <ATen/ops/empty.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ablate/engine/atomic_file.h"
#include "ablate/engine/error.h"

namespace ablate {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors stores little-endian data");

struct DtypeName {
  at::ScalarType type;
  const char* name;
};
constexpr DtypeName kDtypes[] = {
    {at::kDouble, "F64"}, {at::kFloat, "F32"}, {at::kHalf, "F16"},  {at::kBFloat16, "BF16"}, {at::kLong, "I64"},
    {at::kInt, "I32"},    {at::kShort, "I16"}, {at::kChar, "I8"},   {at::kByte, "U8"},       {at::kBool, "BOOL"},
};

const char* dtype_name(at::ScalarType type) {
  for (const auto& d : kDtypes)
    if (d.type == type) return d.name;
  return nullptr;
}

std::optional<at::ScalarType> dtype_of(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return d.type;
  return std::nullopt;
}

}  // namespace

void write_safetensors(const std::filesystem::path& file, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> cpu;
  std::set<std::string> names;
  std::size_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    const char* dtype = dtype_name(tensor.scalar_type());
    if (!dtype)
      throw Error(fmt::format("{}: tensor '{}' has dtype {}, which safetensors cannot hold", file.string(), name,
                              c10::toString(tensor.scalar_type())));
    if (!names.insert(name).second || name == "__metadata__")
      throw Error(fmt::format("{}: tensor name '{}' is used twice or reserved", file.string(), name));
    cpu.push_back(tensor.detach().to(at::kCPU).contiguous());
    const std::size_t bytes = cpu.back().nbytes();
    header[name] = {{"dtype", dtype}, {"shape", tensor.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  const std::uint64_t length = text.size();
  std::string content(8 + text.size() + offset, '\0');
  std::memcpy(content.data(), &length, 8);
  std::memcpy(content.data() + 8, text.data(), text.size());
  char* data = content.data() + 8 + text.size();
  for (const auto& t : cpu) {
    std::memcpy(data, t.data_ptr(), t.nbytes());
    data += t.nbytes();
  }
  write_file_atomic(file, content);
}

SafetensorsFile read_safetensors(const std::filesystem::path& file) {
  const auto bad = [&](const std::string& why) {
    return Error(fmt::format("{}: not a valid safetensors file: {}", file.string(), why));
  };
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open", file.string()));
  const std::uintmax_t size = std::filesystem::file_size(file);
  std::uint64_t length = 0;
  if (size < 8 || !in.read(reinterpret_cast<char*>(&length), 8)) throw bad("shorter than its 8-byte header length");
  if (length > size - 8) throw bad(fmt::format("header length {} exceeds the file's {} bytes", length, size));
  std::string text(length, '\0');
  in.read(text.data(), static_cast<std::streamsize>(length));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw bad(std::string("header JSON: ") + e.what());
  }
  if (!header.is_object()) throw bad("the header is not a JSON object");
  const std::uint64_t data_bytes = size - 8 - length;

  SafetensorsFile result;
  struct Entry {
    std::string name;
    at::ScalarType type;
    std::vector<std::int64_t> shape;
    std::uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) throw bad("__metadata__ is not an object");
      for (const auto& [key, v] : value.items()) {
        if (!v.is_string()) throw bad(fmt::format("__metadata__.{} is not a string", key));
        result.metadata[key] = v.get<std::string>();
      }
      continue;
    }
    try {
      const auto type = dtype_of(value.at("dtype").get<std::string>());
      if (!type) throw bad(fmt::format("tensor '{}' has unsupported dtype {}", name, value.at("dtype").dump()));
      Entry e{name, *type, value.at("shape").get<std::vector<std::int64_t>>(),
              value.at("data_offsets").at(0).get<std::uint64_t>(), value.at("data_offsets").at(1).get<std::uint64_t>()};
      std::uint64_t expected = at::elementSize(e.type);
      for (const auto d : e.shape) {
        if (d < 0) throw bad(fmt::format("tensor '{}' has a negative dimension", name));
        expected *= static_cast<std::uint64_t>(d);
      }
      if (e.end < e.begin || e.end > data_bytes || e.end - e.begin != expected)
        throw bad(fmt::format("tensor '{}': bytes [{}, {}) do not hold its shape ({} bytes) within the {} data bytes",
                              name, e.begin, e.end, expected, data_bytes));
      entries.push_back(std::move(e));
    } catch (const nlohmann::json::exception& ex) {
      throw bad(fmt::format("tensor '{}': {}", name, ex.what()));
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < entries.size(); ++i)
    if (entries[i].begin < entries[i - 1].end)
      throw bad(fmt::format("tensors '{}' and '{}' overlap", entries[i - 1].name, entries[i].name));
  for (const auto& e : entries) {
    at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(e.type));
    in.seekg(static_cast<std::streamoff>(8 + length + e.begin));
    if (!in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(e.end - e.begin)))
      throw bad(fmt::format("tensor '{}' is cut short", e.name));
    result.tensors.emplace_back(e.name, std::move(t));
  }
  return result;
}

}  // namespace ablate

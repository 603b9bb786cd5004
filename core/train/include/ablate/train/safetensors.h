// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, ...,
// "__metadata__": {string: string}}, then the raw little-endian tensor bytes. Python reads it with
// `safetensors.torch.load_file`; docs/checkpoints.md describes the files ablate writes.
//
//   write_safetensors(dir / "model.safetensors", {{"embedding.weight", w}}, {{"run_id", id}});
//   SafetensorsFile f = read_safetensors(dir / "model.safetensors");   // CPU tensors, in file order
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace ablate {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

struct SafetensorsFile {
  NamedTensors tensors;                         // in the order of their data in the file
  std::map<std::string, std::string> metadata;  // "__metadata__"
};

/// Writes `tensors` (any device; copied to the CPU, contiguous) atomically. Supported dtypes:
/// F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL. Throws ablate::Error on another dtype, a
/// duplicate name, or a write failure.
void write_safetensors(const std::filesystem::path& file, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});

/// Reads and validates a whole file: header length within the file, JSON well-formed, known
/// dtypes, each tensor's byte range matching its shape and inside the data, ranges not
/// overlapping. Throws ablate::Error naming the file and what is wrong.
SafetensorsFile read_safetensors(const std::filesystem::path& file);

}  // namespace ablate

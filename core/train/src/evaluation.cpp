// Evaluation windows and the evaluation itself (evaluation.h), shared by training and `ablate eval`.
#include "evaluation.h"

#include <algorithm>

#include <ATen/ops/empty.h>
#include <fmt/format.h>
#include <xxhash.h>
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include "ablate/engine/error.h"

namespace ablate {

Batch make_batch(const TokenStream& stream, const std::vector<std::size_t>& offsets, std::int64_t T,
                 const c10::Device& device) {
  const auto B = static_cast<std::int64_t>(offsets.size());
  // For a GPU the window is built in pinned memory and copied without blocking: the host does not
  // wait for the device (the pinned block is not reused before the copy has run).
  auto window = at::empty({B, T + 1}, at::TensorOptions(at::kLong).pinned_memory(device.is_cuda()));
  auto* out = window.data_ptr<std::int64_t>();
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t <= T; ++t) out[b * (T + 1) + t] = stream[offsets[b] + t];
  window = window.to(device, /*non_blocking=*/true);
  return {window.slice(1, 0, T), window.slice(1, 1, T + 1)};
}

std::pair<std::size_t, std::size_t> evaluation_range(const PreparedData& data, const std::string& split) {
  if (split == "validation") return {0, data.val.size()};
  const std::size_t middle = data.val.size() / 2;
  std::size_t cut = middle;
  while (cut < data.val.size() && data.val[cut] != data.eot_token) ++cut;
  // The end-of-text belongs to the first part. Pre-tokenized data without one: cut at the middle.
  cut = cut < data.val.size() ? cut + 1 : middle;
  return split == "final" ? std::pair{std::size_t{0}, cut} : std::pair{cut, data.val.size()};
}

EvaluationSet evaluation_set(const TokenStream& stream, std::pair<std::size_t, std::size_t> range, std::int64_t T,
                             std::int64_t target_tokens) {
  const auto [begin, end] = range;
  const auto available =
      end > begin ? static_cast<std::int64_t>((end - begin - 1) / static_cast<std::size_t>(T)) : std::int64_t{0};
  if (available < 1)
    throw Error(fmt::format("the validation split{} has {} tokens, fewer than seq_len + 1 = {}",
                            begin > 0 || end < stream.size() ? " part used for evaluation" : "", end - begin, T + 1),
                "use a larger corpus or val_fraction, or a shorter seq_len");
  const std::int64_t wanted = target_tokens > 0 ? std::max<std::int64_t>(1, target_tokens / T) : available;
  EvaluationSet set{.begin = begin, .windows = std::min(wanted, available), .seq_len = T};
  const std::size_t read = static_cast<std::size_t>(set.windows * T) + 1;  // windows share their boundary tokens
  set.hash = fmt::format("{:016x}", XXH3_64bits(stream.data() + begin, read * sizeof(std::uint32_t)));
  return set;
}

std::vector<Batch> evaluation_batches(const TokenStream& stream, const EvaluationSet& set, std::int64_t batch_size,
                                      const c10::Device& device) {
  std::vector<Batch> batches;
  for (std::int64_t first = 0; first < set.windows; first += batch_size) {
    std::vector<std::size_t> offsets;
    for (std::int64_t w = first; w < std::min(set.windows, first + batch_size); ++w)
      offsets.push_back(set.begin + static_cast<std::size_t>(w * set.seq_len));
    batches.push_back(make_batch(stream, offsets, set.seq_len, device));
  }
  return batches;
}

Evaluation evaluate(Transformer& model, const std::vector<Batch>& batches) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  // Sums in double on the device, batch by batch in order (what adding each batch's .item() on the
  // host gave), read once at the end: one wait for the device instead of two per batch.
  const auto sum_options = torch::TensorOptions(torch::kDouble).device(batches.empty() ? torch::kCPU
                                                                                       : batches[0].inputs.device());
  torch::Tensor loss_sum = torch::zeros({}, sum_options), correct = torch::zeros({}, sum_options);
  double count = 0.0;
  for (const auto& batch : batches) {
    const auto logits = model->forward(batch.inputs);
    const auto flat = logits.reshape({-1, logits.size(-1)}).to(torch::kFloat);
    const auto targets = batch.targets.reshape({-1});
    loss_sum += torch::nn::functional::cross_entropy(
                    flat, targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .to(torch::kDouble);
    correct += flat.argmax(-1).eq(targets).sum().to(torch::kDouble);
    count += static_cast<double>(targets.numel());
  }
  model->train(was_training);
  return {loss_sum.item<double>() / count, correct.item<double>() / count, static_cast<std::int64_t>(count)};
}

}  // namespace ablate

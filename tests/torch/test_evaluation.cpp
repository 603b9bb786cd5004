// The evaluation the trainer reports (evaluation.h) against a cross-entropy computed here by hand:
// log-softmax of each token's logits in double (max-shifted log-sum-exp), minus the target's logit,
// averaged over every target token of every batch. Batches of unequal size tell a mean over tokens
// from a mean of batch means; dropout in the model tells an evaluation in eval mode from one in
// training mode.
#include "catch_torch.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "ablate/engine/model_plan.h"
#include "ablate/engine/sweep.h"
#include "ablate/train/model.h"
#include "builtin_plugins.h"
#include "evaluation.h"

namespace {

struct HandEvaluation {
  double loss = 0.0;
  double accuracy = 0.0;
  std::int64_t tokens = 0;
};

// Mean cross-entropy and accuracy over every target of `batches`, from the logits alone.
HandEvaluation by_hand(ablate::Transformer& model, const std::vector<ablate::Batch>& batches) {
  torch::NoGradGuard no_grad;
  model->eval();
  double loss_sum = 0.0;
  std::int64_t correct = 0, tokens = 0;
  for (const auto& batch : batches) {
    const auto logits = model->forward(batch.inputs).to(torch::kDouble).contiguous();
    const auto targets = batch.targets.contiguous();
    const auto l = logits.accessor<double, 3>();
    const auto t = targets.accessor<std::int64_t, 2>();
    for (std::int64_t b = 0; b < logits.size(0); ++b)
      for (std::int64_t i = 0; i < logits.size(1); ++i) {
        double max = l[b][i][0];
        std::int64_t argmax = 0;
        for (std::int64_t v = 1; v < logits.size(2); ++v)
          if (l[b][i][v] > max) max = l[b][i][v], argmax = v;
        double sum = 0.0;
        for (std::int64_t v = 0; v < logits.size(2); ++v) sum += std::exp(l[b][i][v] - max);
        const double log_softmax_target = l[b][i][t[b][i]] - max - std::log(sum);
        loss_sum -= log_softmax_target;
        correct += argmax == t[b][i];
        ++tokens;
      }
  }
  return {loss_sum / static_cast<double>(tokens), static_cast<double>(correct) / static_cast<double>(tokens), tokens};
}

}  // namespace

TEST_CASE("the evaluation loss is the mean cross-entropy over all target tokens, computed by hand",
          "[train][eval]") {
  at::set_num_threads(1);
  const auto& registry = ablate::test::builtin_plugins();
  const auto sweep = ablate::parse_sweep(R"(
name: evaluation
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 8}
model: {d_model: 16, n_layers: 2, dropout: 0.3, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
)",
                                         "evaluation.yaml", registry);
  const std::int64_t V = 257;
  at::manual_seed(3);
  ablate::Transformer model(ablate::plan_model(sweep.runs.at(0).config, V, registry), registry);

  // Three windows, then one: a mean of the two batches' means would weigh the last window three times.
  std::vector<ablate::Batch> batches;
  for (const std::int64_t B : {3, 1}) {
    const auto inputs = torch::randint(V, {B, 8}, torch::kLong);
    auto targets = torch::randint(V, {B, 8}, torch::kLong);
    batches.push_back({inputs, targets});
  }
  // Half the targets are what the model predicts, so that accuracy is far from 0 and from 1.
  {
    torch::NoGradGuard no_grad;
    model->eval();
    for (auto& batch : batches) {
      const auto predicted = model->forward(batch.inputs).argmax(-1);
      batch.targets.slice(1, 0, 4).copy_(predicted.slice(1, 0, 4));
    }
  }
  const HandEvaluation expected = by_hand(model, batches);
  CHECK(expected.tokens == 32);
  CHECK(expected.accuracy >= 0.5);
  CHECK(expected.accuracy < 0.75);

  model->train();  // evaluate switches to eval mode (no dropout) and back
  const ablate::Evaluation reported = ablate::evaluate(model, batches);
  CHECK(model->is_training());
  CHECK(reported.tokens == expected.tokens);
  CHECK(reported.loss == Approx(expected.loss).epsilon(1e-6));
  CHECK(reported.accuracy == expected.accuracy);
  // The check can tell: the batch means' mean is not the token mean here.
  const double first = by_hand(model, {batches[0]}).loss, last = by_hand(model, {batches[1]}).loss;
  CHECK_FALSE((first + last) / 2 == Approx(expected.loss).epsilon(1e-6));
}

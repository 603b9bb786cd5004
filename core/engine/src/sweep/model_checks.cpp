// Checks of a resolved run configuration (see sweep/model_checks.h), each error placed at the
// sweep line that set the value responsible.
#include "sweep/model_checks.h"

#include <initializer_list>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "ablate/engine/data.h"
#include "ablate/engine/run_config.h"

namespace ablate::sweep_internal {
namespace {

using nlohmann::json;

/// Whether the dotted path `a` is a key below `b` ("model.attention.n_heads" below "model.attention").
bool is_below(const std::string& a, const std::string& b) {
  return a.size() > b.size() && a.compare(0, b.size(), b) == 0 && a[b.size()] == '.';
}

/// Whether `path` lies on `candidate`'s line of descent: the same key, a key below it or a map above it.
bool on_path(const std::string& path, const std::string& candidate) {
  return path == candidate || is_below(path, candidate) || is_below(candidate, path);
}

/// Where the value behind an error about `paths` was set. When an override of this run (its arm's,
/// then its grid point's, then its tune point's, in the order they were applied) set one of them, a
/// key below one, or a map above one, the last such override: the base alone may be fine, and the
/// value that made this run differ is the one to change. Else where the first of `paths` was written.
SourceLocation responsible(const RunSpec& spec, const std::vector<std::string>& overridden,
                           std::initializer_list<std::string> paths) {
  for (auto o = overridden.rbegin(); o != overridden.rend(); ++o)
    for (const std::string& path : paths)
      if (on_path(*o, path)) return spec.location_of(o->size() >= path.size() ? *o : path);
  return spec.location_of(*paths.begin());
}

}  // namespace

void check_model(const json& config, const RunSpec& where, const std::vector<std::string>& overridden,
                 const PluginRegistry& registry, const std::string& context) {
  // Typed (run_config.h): the same fields the plan and the trainer read.
  const ModelConfig model = decode_model_config(config);
  const DataConfig data = decode_data_config(config);
  const std::int64_t n_layers = model.n_layers;
  const std::int64_t first_dense = model.first_dense_layers;
  if (first_dense > n_layers)
    throw Error(fmt::format("'first_dense_layers' ({}) must be at most n_layers ({})", first_dense, n_layers), context,
                responsible(where, overridden, {"model.first_dense_layers", "model.n_layers"}));
  const sdk::Kind ffn_kind = registry.find(sdk::Kind::mlp, model.ffn.at("plugin").get<std::string>())
                                 ? sdk::Kind::mlp
                                 : sdk::Kind::moe;
  if (first_dense > 0 && ffn_kind == sdk::Kind::moe && !model.dense_ffn)
    throw Error(fmt::format("'first_dense_layers' is {} but 'dense_ffn' is not set: with an MoE ffn the first "
                            "blocks need a dense MLP",
                            first_dense),
                "add model.dense_ffn: {plugin: swiglu, d_ff: ...}",
                responsible(where, overridden, {"model.first_dense_layers", "model.ffn", "model.dense_ffn"}));

  // The tokenizer's vocabulary (a SentencePiece model's is read from the file): the embedding
  // needs a row for each of its tokens.
  std::int64_t tokenizer_vocab = 0;
  try {
    tokenizer_vocab = tokenizer_vocab_size(data.section);
  } catch (const Error& e) {
    throw Error(e.what(), context.empty() ? e.hint() : context, responsible(where, overridden, {"data.tokenizer"}));
  }
  if (model.vocab_size && *model.vocab_size < tokenizer_vocab)
    throw Error(fmt::format("model.vocab_size {} is smaller than the tokenizer's vocabulary {}", *model.vocab_size,
                            tokenizer_vocab),
                fmt::format("{}leave model.vocab_size unset to use the tokenizer's",
                            context.empty() ? "" : context + "; "),
                responsible(where, overridden, {"model.vocab_size", "data.tokenizer"}));

  sdk::ModelContext ctx;
  ctx.d_model = model.d_model;
  ctx.n_layers = n_layers;
  ctx.layer_index = 0;
  ctx.seq_len = data.seq_len;
  ctx.dropout = model.dropout;
  ctx.rope = model.rope;
  ctx = registry.bind(ctx);
  const json none;
  const std::tuple<const char*, sdk::Kind, const json&> slots[] = {
      {"attention", sdk::Kind::attention, model.attention},
      {"ffn", ffn_kind, model.ffn},
      {"dense_ffn", sdk::Kind::mlp, model.dense_ffn ? *model.dense_ffn : none},
      {"norm", sdk::Kind::norm, model.norm}};
  for (const auto& [slot, kind, component] : slots) {
    if (component.is_null()) continue;
    const std::string path = std::string("model.") + slot;
    try {
      registry.cost(component_spec(kind, component, registry), ctx);
    } catch (const Error& e) {
      // The plugin checks its options against each other and against the context it is given.
      throw Error(e.what(), context.empty() ? e.hint() : context,
                  responsible(where, overridden,
                              {path, "model.d_model", "model.n_layers", "data.seq_len", "model.dropout", "model.rope"}));
    }
  }
}

}  // namespace ablate::sweep_internal

// Checkpoint contents (see checkpoint.h). One torch::serialize archive: "model" (Module::save),
// "adamw" (Optimizer::save), "muon_<i>" (momentum buffers), "generator_cpu" and "generator_device"
// (generator states as byte tensors), and "loop": the LoopState as JSON text (doubles round-trip
// exactly: nlohmann writes them with 17 significant digits).
#include "ablate/train/checkpoint.h"

#include <sstream>

#include <ATen/Context.h>
#include <ATen/core/Generator.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include "ablate/train/muon.h"

namespace ablate {
namespace {

at::Tensor generator_state(const c10::Device& device) {
  at::Generator gen = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_generator_state(const c10::Device& device, const at::Tensor& state) {
  at::Generator gen = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

nlohmann::json to_json(const LoopState& s) {
  return {{"step", s.step},
          {"train_seconds", s.train_seconds},
          {"eval_seconds", s.eval_seconds},
          {"recent_loss_sum", s.recent_loss_sum},
          {"recent_loss_count", s.recent_loss_count},
          {"last_train_loss", std::isfinite(s.last_train_loss) ? nlohmann::json(s.last_train_loss) : nlohmann::json()},
          {"last_val_loss", s.last_val_loss},
          {"last_val_accuracy", s.last_val_accuracy},
          {"best_val_loss", std::isfinite(s.best_val_loss) ? nlohmann::json(s.best_val_loss) : nlohmann::json()},
          {"metrics_text", s.metrics_text},
          {"sampler_rng", s.sampler_rng}};
}

LoopState from_json(const nlohmann::json& j) {
  LoopState s;
  s.step = j.at("step");
  s.train_seconds = j.at("train_seconds");
  s.eval_seconds = j.at("eval_seconds");
  s.recent_loss_sum = j.at("recent_loss_sum");
  s.recent_loss_count = j.at("recent_loss_count");
  s.last_train_loss = j.at("last_train_loss").is_null() ? std::nan("") : j.at("last_train_loss").get<double>();
  s.last_val_loss = j.at("last_val_loss");
  s.last_val_accuracy = j.at("last_val_accuracy");
  s.metrics_text = j.at("metrics_text");
  s.sampler_rng = j.at("sampler_rng");
  // Absent from checkpoints written before best.safetensors existed.
  if (const auto best = j.find("best_val_loss"); best != j.end() && !best->is_null()) s.best_val_loss = *best;
  return s;
}

}  // namespace

std::string serialize_checkpoint(const LoopState& state, const TrainingParts& parts) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model, adamw;
  parts.model.save(model);
  archive.write("model", model);
  parts.adamw.save(adamw);
  archive.write("adamw", adamw);
  if (parts.muon) {
    const auto& buffers = parts.muon->buffers();
    archive.write("muon_count", c10::IValue(static_cast<std::int64_t>(buffers.size())));
    for (std::size_t i = 0; i < buffers.size(); ++i) archive.write(fmt::format("muon_{}", i), buffers[i], true);
  }
  archive.write("generator_cpu", generator_state(c10::Device(c10::kCPU)), true);
  if (!parts.device.is_cpu()) archive.write("generator_device", generator_state(parts.device), true);
  archive.write("loop", c10::IValue(to_json(state).dump()));
  std::ostringstream out;
  archive.save_to(out);
  return std::move(out).str();
}

LoopState restore_checkpoint(const std::string& bytes, const TrainingParts& parts) {
  std::istringstream in(bytes);
  torch::serialize::InputArchive archive;
  archive.load_from(in, parts.device);
  torch::serialize::InputArchive model, adamw;
  archive.read("model", model);
  parts.model.load(model);
  archive.read("adamw", adamw);
  parts.adamw.load(adamw);
  if (parts.muon) {
    c10::IValue count;
    archive.read("muon_count", count);
    std::vector<at::Tensor> buffers(static_cast<std::size_t>(count.toInt()));
    for (std::size_t i = 0; i < buffers.size(); ++i) archive.read(fmt::format("muon_{}", i), buffers[i], true);
    parts.muon->load_buffers(buffers);
  }
  at::Tensor cpu_state, device_state;
  archive.read("generator_cpu", cpu_state, true);
  set_generator_state(c10::Device(c10::kCPU), cpu_state.to(c10::kCPU));
  if (!parts.device.is_cpu() && archive.try_read("generator_device", device_state, true))
    set_generator_state(parts.device, device_state.to(c10::kCPU));
  c10::IValue loop;
  archive.read("loop", loop);
  return from_json(nlohmann::json::parse(loop.toStringRef()));
}

}  // namespace ablate

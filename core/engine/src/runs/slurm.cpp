// The Slurm job-array script (slurm.h).
#include "ablate/engine/slurm.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include <fmt/format.h>

#include "ablate/engine/error.h"

namespace ablate {

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

namespace {

/// Whether one of the extra sbatch options asks for GPUs itself (--gres=gpu:2, --gpus=4,
/// --gpus-per-node=1, -G 2...): then `ablate slurm` adds no GPU request of its own.
bool asks_for_gpus(const std::vector<std::string>& extra_sbatch) {
  for (const auto& option : extra_sbatch) {
    if (option.rfind("--gpus", 0) == 0 || option.rfind("-G", 0) == 0) return true;
    if (option.rfind("--gres", 0) == 0 && option.find("gpu") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

SlurmTaskResources slurm_task_resources(const SlurmJob& job) {
  // The device is checked here, on the login node, rather than by every task on its node.
  int index = -1;  // N of cuda:N
  if (job.device.rfind("cuda:", 0) == 0) {
    const std::string digits = job.device.substr(5);
    if (!digits.empty() && digits.size() <= 4 &&
        std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
      index = std::stoi(digits);
  }
  if (job.device != "auto" && job.device != "cpu" && job.device != "cuda" && index < 0)
    throw Error(fmt::format("--device '{}' is not a device", job.device), "use auto, cpu, cuda or cuda:N");
  const bool extra_gpus = asks_for_gpus(job.extra_sbatch);
  int gpus = job.gpus_per_task;
  if (gpus < 0) gpus = job.device == "cpu" || extra_gpus ? 0 : std::max(1, index + 1);
  const std::string device = job.device != "auto" ? job.device : gpus > 0 || extra_gpus ? "cuda" : "cpu";
  return {device, gpus};
}

std::string slurm_array_script(const SlurmJob& job) {
  if (job.tasks < 1) throw Error(fmt::format("a job array needs at least 1 task, got {}", job.tasks), "--tasks N");
  for (const auto* path : {&job.ablate_binary, &job.sweep_file, &job.out_dir})
    if (!path->is_absolute())
      throw Error(fmt::format("'{}' must be an absolute path in a batch script", path->string()));
  const std::filesystem::path log_dir = job.out_dir / job.sweep_name / "slurm";
  const SlurmTaskResources resources = slurm_task_resources(job);
  std::ostringstream s;
  s << "#!/bin/bash\n";
  s << "# Written by `ablate slurm`: task i of this array trains the sweep's runs whose index modulo "
    << job.tasks << " is i,\n# in the shared sweep directory; submitting it again resumes what is left.\n";
  s << "#SBATCH --job-name=" << "ablate-" << job.sweep_name << "\n";
  s << "#SBATCH --array=0-" << job.tasks - 1 << "\n";
  s << "#SBATCH --output=" << (log_dir / "%A_%a.out").string() << "\n";
  s << "#SBATCH --ntasks=1\n";
  if (!job.partition.empty()) s << "#SBATCH --partition=" << job.partition << "\n";
  if (!job.account.empty()) s << "#SBATCH --account=" << job.account << "\n";
  if (!job.time_limit.empty()) s << "#SBATCH --time=" << job.time_limit << "\n";
  if (!job.memory.empty()) s << "#SBATCH --mem=" << job.memory << "\n";
  if (resources.gpus_per_task > 0) s << "#SBATCH --gpus-per-task=" << resources.gpus_per_task << "\n";
  if (job.cpus_per_task > 0) s << "#SBATCH --cpus-per-task=" << job.cpus_per_task << "\n";
  for (const auto& extra : job.extra_sbatch) s << "#SBATCH " << extra << "\n";
  s << "set -euo pipefail\n";
  s << "task=${SLURM_ARRAY_TASK_ID:?this script runs as a task of a Slurm job array}\n";
  s << "exec " << shell_quote(job.ablate_binary.string());
  for (const auto& dir : job.plugin_dirs) s << " --plugin-dir " << shell_quote(dir.string());
  s << " run " << shell_quote(job.sweep_file.string()) << " --out " << shell_quote(job.out_dir.string())
    << " --device " << shell_quote(resources.device) << " --shard \"${task}/" << job.tasks << "\"";
  if (job.threads > 0) s << " --threads " << job.threads;
  if (job.precision != "auto") s << " --precision " << shell_quote(job.precision);
  s << "\n";
  return s.str();
}

}  // namespace ablate

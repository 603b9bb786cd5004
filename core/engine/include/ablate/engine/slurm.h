// A sweep on a Slurm cluster: one job array whose task i runs `ablate run --shard i/N` on the
// shared sweep directory (run locks keep two tasks off the same run; finished runs are skipped),
// so N nodes share the sweep and a re-submission resumes it. Torch-free: this only writes the
// batch script; `ablate slurm` submits it with sbatch.
//
//   const std::string script = slurm_array_script(job);   // a bash script with #SBATCH lines
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ablate {

struct SlurmJob {
  std::string sweep_name;                         // the job name is ablate-<sweep_name>
  std::filesystem::path ablate_binary;            // absolute: the nodes run this ablate
  std::filesystem::path sweep_file;               // absolute
  std::filesystem::path out_dir;                  // absolute; must be on a file system every node shares
  std::vector<std::filesystem::path> plugin_dirs; // --plugin-dir, passed on
  int tasks = 1;                                  // array size N: tasks 0..N-1
  std::string device = "auto";                    // --device: auto, cpu, cuda or cuda:N (slurm_task_resources)
  int threads = 0;                                // --threads (0: LibTorch's default)
  std::string precision = "auto";                 // --precision of every task (precision.h)
  std::string partition, time_limit, memory, account;  // empty: the cluster's defaults
  int gpus_per_task = -1;                         // -1: by the device (slurm_task_resources); 0: none
  int cpus_per_task = 0;                          // 0: not requested
  std::vector<std::string> extra_sbatch;          // more sbatch options, e.g. "--qos=short"
};

/// What every task runs on and asks Slurm for, decided on the login node (which seldom has a GPU,
/// so `auto` cannot look for one there as `ablate run` does):
/// - GPUs per task: `gpus_per_task` when given (>= 0); else none for `cpu`, none when
///   `extra_sbatch` already asks for GPUs (--gres=gpu..., --gpus..., -G); else 1 for `auto` and
///   `cuda`, N+1 for `cuda:N` (a task sees only its own GPUs, numbered from 0).
/// - device: `auto` becomes `cuda` when the tasks get GPUs that way, else `cpu`; the tasks are given
///   `cuda`, not `auto`, so a task that lands without a GPU fails instead of training on the CPU.
struct SlurmTaskResources {
  std::string device;     // --device of every task's `ablate run`
  int gpus_per_task = 0;  // #SBATCH --gpus-per-task (0: no such line)
};
SlurmTaskResources slurm_task_resources(const SlurmJob& job);

/// The batch script of the job array (bash, #SBATCH header, then one `ablate run --shard`).
/// Throws ablate::Error when tasks < 1 or a path is not absolute.
std::string slurm_array_script(const SlurmJob& job);

/// `text` quoted for bash (single quotes).
std::string shell_quote(const std::string& text);

}  // namespace ablate

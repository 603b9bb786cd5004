// `ablate slurm SWEEP.yaml --tasks N [--out DIR] [--dry-run] [sbatch settings]`: writes the batch
// script of a Slurm job array whose task i runs `ablate run --shard i/N` on the shared sweep
// directory (slurm.h), shows it and submits it with sbatch (not with --dry-run). A sweep with a
// tune stage gets a second array after the first (afterany): the replication runs start once every
// tuning run ended. A last job, after the arrays, writes the whole sweep's report.
#include <cstdio>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "ablate/engine/error.h"
#include "ablate/train/precision.h"
#include "ablate/engine/slurm.h"
#include "ablate/engine/sweep.h"
#include "cli_checks.h"
#include "commands.h"

namespace ablate::app {
namespace {

struct SlurmOptions {
  std::filesystem::path sweep_file;
  std::filesystem::path out_dir = "runs";
  SlurmJob job;
  bool dry_run = false;
};

/// Runs `sbatch --parsable [dependency] script` and returns the job id it prints.
std::string submit(const std::filesystem::path& script, const std::string& dependency) {
  const std::string command = fmt::format("sbatch --parsable {}{} 2>&1",
                                          dependency.empty() ? "" : "--dependency=" + shell_quote(dependency) + " ",
                                          shell_quote(script.string()));
  std::cout << "$ " << command.substr(0, command.size() - 5) << std::endl;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw Error("cannot start sbatch", "is this a Slurm login node? (sbatch must be on PATH)");
  std::string out;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe)) out += buffer;
  const int status = pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (status != 0)
    throw Error(fmt::format("sbatch failed (status {}): {}", WIFEXITED(status) ? WEXITSTATUS(status) : -1, out),
                "is this a Slurm login node with sbatch on PATH? The script is written; submit it by hand");
  return out.substr(0, out.find(';'));  // "jobid" or "jobid;cluster"
}

void run_slurm(SlurmOptions options, const GlobalOptions& global) {
  const auto registry = load_plugins(global);
  const Sweep sweep = load_sweep(options.sweep_file, *registry);  // bad input fails here, not on the cluster
  SlurmJob& job = options.job;
  job.sweep_name = sweep.name;
  job.ablate_binary = std::filesystem::read_symlink("/proc/self/exe");
  job.sweep_file = std::filesystem::absolute(options.sweep_file);
  job.out_dir = std::filesystem::absolute(options.out_dir);
  for (const auto& dir : global.plugin_dirs) job.plugin_dirs.push_back(std::filesystem::absolute(dir));
  const SlurmTaskResources resources = slurm_task_resources(job);  // a bad --device fails before anything is written
  const auto slurm_dir = job.out_dir / sweep.name / "slurm";
  std::filesystem::create_directories(slurm_dir);
  const auto script = slurm_dir / fmt::format("ablate-{}.sbatch", sweep.name);
  {
    std::ofstream out(script);
    out << slurm_array_script(job);
    if (!out.flush()) throw Error(fmt::format("cannot write {}", script.string()));
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_exec, std::filesystem::perm_options::add);
  // The report job: once the arrays are over, one report of every run of the sweep.
  const auto report_script = slurm_dir / fmt::format("ablate-{}-report.sbatch", sweep.name);
  {
    std::ofstream out(report_script);
    out << "#!/bin/bash\n# Written by `ablate slurm`: the sweep's report once its job arrays are over.\n"
        << "#SBATCH --job-name=ablate-" << sweep.name << "-report\n#SBATCH --ntasks=1\n"
        << "#SBATCH --output=" << (slurm_dir / "%j-report.out").string() << "\n"
        << (job.partition.empty() ? "" : "#SBATCH --partition=" + job.partition + "\n")
        << (job.account.empty() ? "" : "#SBATCH --account=" + job.account + "\n") << "set -euo pipefail\nexec "
        << shell_quote(job.ablate_binary.string()) << " report " << shell_quote((job.out_dir / sweep.name).string())
        << "\n";
    if (!out.flush()) throw Error(fmt::format("cannot write {}", report_script.string()));
  }
  const std::size_t runs = sweep.runs.size() + sweep.tune_runs.size();
  std::cout << fmt::format("wrote {}: a job array of {} task(s) for {} run(s){}\n", script.string(), job.tasks,
                           runs, sweep.tune ? " (tuning runs; the replication runs follow in a second array)" : "");
  std::cout << fmt::format("every task: --device {}{}, {}\n", resources.device,
                           job.device == "auto" ? " (--device auto)" : "",
                           resources.gpus_per_task > 0
                               ? fmt::format("{} GPU(s) per task (#SBATCH --gpus-per-task={}{})", resources.gpus_per_task,
                                             resources.gpus_per_task,
                                             job.gpus_per_task < 0 ? "; --gpus-per-task 0 for none" : "")
                               : std::string("no GPU requested by ablate"));
  std::cout << "----\n" << slurm_array_script(job) << "----\n";
  if (options.dry_run) {
    std::cout << fmt::format("not submitted (--dry-run); submit with:  sbatch {}\n", shell_quote(script.string()));
    if (sweep.tune)
      std::cout << fmt::format("then:  sbatch --dependency=afterany:<JOBID> {}\n", shell_quote(script.string()));
    std::cout << fmt::format("and the report after all:  sbatch --dependency=afterany:<LAST JOBID> {}\n",
                             shell_quote(report_script.string()));
    std::cout << fmt::format("progress:  ablate status {}\n", (job.out_dir / sweep.name).string());
    return;
  }
  std::string last = submit(script, "");
  std::cout << fmt::format("submitted job array {}\n", last);
  if (sweep.tune) {
    const std::string replication = submit(script, "afterany:" + last);
    std::cout << fmt::format("submitted job array {} (replication, after {})\n", replication, last);
    last = replication;
  }
  std::cout << fmt::format("submitted job {} (the report, after {})\n", submit(report_script, "afterany:" + last), last);
  std::cout << fmt::format("progress: ablate status {}\n", (job.out_dir / sweep.name).string());
}

}  // namespace

void setup_slurm(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<SlurmOptions>();
  auto* cmd = app.add_subcommand("slurm", "write a Slurm job array that trains a sweep in N shards on a shared "
                                          "directory, and submit it with sbatch (not with --dry-run)");
  cmd->add_option("sweep", options->sweep_file, "sweep file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--tasks", options->job.tasks, "array size: how many shards (nodes or GPUs) share the sweep")
      ->required()->check(at_least(1));
  cmd->add_option("--out", options->out_dir, "output directory on a file system every node shares")
      ->capture_default_str()
      ->check(directory_to_write());
  cmd->add_option("--device", options->job.device,
                  "device of every task: auto (cuda with a GPU per task, cpu with --gpus-per-task 0), cpu, cuda "
                  "or cuda:N")
      ->capture_default_str();
  cmd->add_option("--precision", options->job.precision, "precision of every task: auto, bf16 or fp32 (as ablate run)")
      ->capture_default_str()
      ->check(CLI::IsMember(precision_choices()));
  cmd->add_option("--threads", options->job.threads, "CPU threads for LibTorch per task (0: its default)")
      ->check(at_least(0));
  cmd->add_option("--partition", options->job.partition, "sbatch --partition");
  cmd->add_option("--account", options->job.account, "sbatch --account");
  cmd->add_option("--time", options->job.time_limit, "sbatch --time, e.g. 04:00:00");
  cmd->add_option("--mem", options->job.memory, "sbatch --mem, e.g. 64G");
  cmd->add_option("--gpus-per-task", options->job.gpus_per_task,
                  "sbatch --gpus-per-task (default: 1 with a cuda or auto device, none with cpu or when --sbatch "
                  "asks for GPUs; 0: none)")
      ->check(at_least(0));
  cmd->add_option("--cpus-per-task", options->job.cpus_per_task, "sbatch --cpus-per-task (0: not requested)")
      ->check(at_least(0));
  cmd->add_option("--sbatch", options->job.extra_sbatch, "another sbatch option, e.g. --sbatch=--qos=short (repeatable)");
  cmd->add_flag("--dry-run", options->dry_run, "write and show the scripts, do not submit them");
  cmd->callback([options, &global] { run_slurm(*options, global); });
}

}  // namespace ablate::app

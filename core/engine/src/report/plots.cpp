// The report's figures, drawn by gnuplot (ABLATE_GNUPLOT) through gnuplot-iostream: each figure is
// written twice, report_<name>.png (pngcairo, embedded in report.md) and report_<name>.svg.
//   report_loss_vs_time    validation loss against training time: mean over seeds, min–max band
//   report_loss_vs_tokens  the same against tokens trained
//   report_final_loss      final validation loss per arm: mean with 95% CI error bars, seeds as dots
//   report_throughput      tokens/s per arm (bar = mean, error bar = min–max over seeds)
//   report_memory          peak memory per arm (skipped when no run recorded any, e.g. CPU runs)
//   report_expert_load_<arm>  MoE arms only: load of each expert of the first MoE layer of the
//                          arm's first seed against training step, dashed line at 1/E
// Limits: only finished runs are drawn. Curves are averaged by evaluation index (seeds of one arm
// evaluate at the same steps); wall time at an index is the mean over seeds. A figure gnuplot
// fails to draw is reported as a warning and never stops the report.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <csignal>
#include <optional>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include <unistd.h>

#include <fmt/format.h>
#include <gnuplot-iostream.h>

#include "ablate/engine/model_plan.h"
#include "report/internal.h"

namespace ablate::report {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kColors = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                          "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string quoted(const std::string& s) {  // gnuplot single-quoted string
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

using Row3 = std::tuple<double, double, double>;
using Row4 = std::tuple<double, double, double, double>;

/// One gnuplot `plot` clause and the inline data it reads from '-'.
struct Series {
  std::string clause;  // e.g. "'-' using 1:2 with lines title 'x'"
  std::vector<Row4> rows;
};

struct Spec {
  std::string stem, title;
  std::string settings;  // set commands after the terminal
  std::vector<Series> series;
};

/// Draws `spec` as PNG and SVG; returns the empty string or what went wrong.
std::string render(const fs::path& dir, const Spec& spec) {
  const std::string gnuplot = ABLATE_GNUPLOT;
  if (gnuplot.empty() || ::access(gnuplot.c_str(), X_OK) != 0)
    return fmt::format("gnuplot not found at '{}'", gnuplot);
  const fs::path err = dir / (spec.stem + ".gnuplot.log");
  const fs::path png = dir / (spec.stem + ".png"), svg = dir / (spec.stem + ".svg");
  std::error_code ec;
  fs::remove(png, ec);
  fs::remove(svg, ec);
  // A gnuplot that dies mid-script would kill us with SIGPIPE: ignore it while we write.
  auto* previous = std::signal(SIGPIPE, SIG_IGN);
  {
    Gnuplot gp(fmt::format("{} 2>{}", quoted(gnuplot), quoted(err.string())));
    const std::vector<std::pair<std::string, fs::path>> terminals = {
        {"set terminal pngcairo size 1100,650 font 'DejaVu Sans,11' noenhanced", png},
        {"set terminal svg size 1100,650 dynamic font 'DejaVu Sans,11' noenhanced background '#ffffff'", svg}};
    for (const auto& [terminal, out] : terminals) {
      gp << terminal << "\n" << "set output " << quoted(out.string()) << "\n";
      gp << "set title " << quoted(spec.title) << "\n" << spec.settings << "\n";
      gp << "plot ";
      for (std::size_t i = 0; i < spec.series.size(); ++i) gp << (i ? ", " : "") << spec.series[i].clause;
      gp << "\n";
      for (const auto& s : spec.series) gp.send1d(s.rows);
      gp << "set output\n";
    }
    gp << "exit\n";
  }  // the destructor waits for gnuplot (pclose)
  std::signal(SIGPIPE, previous);
  if (fs::exists(png) && fs::file_size(png) > 0 && fs::exists(svg) && fs::file_size(svg) > 0) {
    // Keep the log only when gnuplot had something to say.
    if (fs::exists(err) && fs::file_size(err) == 0) fs::remove(err, ec);
    return {};
  }
  std::ifstream in(err);
  std::stringstream log;
  log << in.rdbuf();
  std::string text = log.str();
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return fmt::format("gnuplot wrote no image ({})", text.empty() ? "no message" : text);
}

/// What a loss curve is plotted against.
enum class Axis { seconds, tokens, flops };

/// x of one evaluation: training seconds, tokens, or training FLOPs (model_plan.h's train_flops of
/// the run's forward FLOPs per token); nullopt when the run lacks its FLOPs.
std::optional<double> x_of(const RunRecord& run, const EvalPoint& p, Axis axis) {
  switch (axis) {
    case Axis::seconds: return p.seconds;
    case Axis::tokens: return p.tokens;
    case Axis::flops:
      if (auto f = run.number("flops_per_token")) return train_flops(*f, p.tokens);
      return std::nullopt;
  }
  return std::nullopt;
}

/// Mean curve of a group: per evaluation index, (x = mean of `x_of`, mean, min, max of val loss).
std::vector<Row4> mean_curve(const Group& g, Axis axis) {
  std::map<std::size_t, std::vector<std::pair<double, double>>> at;  // index → (x, loss) over seeds
  for (const auto* run : g.done)
    for (std::size_t i = 0; i < run->curve.size(); ++i)
      if (auto x = x_of(*run, run->curve[i], axis)) at[i].push_back({*x, run->curve[i].val_loss});
  std::vector<Row4> rows;
  for (const auto& [i, points] : at) {
    double x = 0.0, sum = 0.0, lo = points.front().second, hi = lo;
    for (const auto& [px, loss] : points) {
      x += px;
      sum += loss;
      lo = std::min(lo, loss);
      hi = std::max(hi, loss);
    }
    const double n = static_cast<double>(points.size());
    rows.push_back({x / n, sum / n, lo, hi});
  }
  return rows;
}

Spec loss_curves(const SweepRecord& sweep, Axis axis) {
  Spec spec;
  const char* const stems[] = {"report_loss_vs_time", "report_loss_vs_tokens", "report_loss_vs_flops"};
  const char* const names[] = {"training time", "tokens trained", "training FLOPs"};
  spec.stem = stems[static_cast<int>(axis)];
  spec.title = fmt::format("{}: validation loss against {} (line: mean over seeds, band: min–max){}", sweep.name,
                           names[static_cast<int>(axis)], budget_title(sweep));
  double lo = INFINITY, hi = -INFINITY;
  for (std::size_t k = 0; k < sweep.groups.size(); ++k) {
    const auto rows = mean_curve(sweep.groups[k], axis);
    if (rows.empty()) continue;
    for (const auto& r : rows) {
      lo = std::min(lo, std::get<2>(r));
      hi = std::max(hi, std::get<3>(r));
    }
    const std::string color = kColors[k % kColors.size()];
    spec.series.push_back({fmt::format("'-' using 1:3:4 with filledcurves fc rgb {} fs transparent solid 0.18 "
                                       "noborder notitle", quoted(color)), rows});
    spec.series.push_back({fmt::format("'-' using 1:2 with linespoints lw 2 pt 7 ps 0.6 lc rgb {} title {}",
                                       quoted(color),
                                       quoted(fmt::format("{} (n = {})", sweep.groups[k].label, sweep.groups[k].done.size()))),
                           rows});
  }
  const char* const xlabels[] = {"training time (s, evaluation excluded)", "tokens trained",
                                 "training FLOPs (3 x forward FLOPs/token x tokens)"};
  spec.settings = fmt::format(
      "set xlabel {}\nset ylabel 'validation loss (nats/token){}'\nset grid\nset key top right box opaque\n{}",
      quoted(xlabels[static_cast<int>(axis)]), hi / lo > 4.0 ? ", log scale" : "", hi / lo > 4.0 ? "set logscale y\n" : "");
  if (axis != Axis::seconds) spec.settings += "set format x '%.1s%c'\n";
  return spec;
}

/// Tune stage: the tuning metric of every tune point against the first tuned value, one line per
/// arm (and grid point); the chosen point circled. Log x when the values are positive and span 10×.
std::optional<Spec> tuning_curves(const SweepRecord& sweep) {
  if (!sweep.tuning.is_object() || !sweep.tuning.contains("groups")) return std::nullopt;
  const std::string path = sweep.tuning["paths"].empty() ? std::string("tuned value") : sweep.tuning["paths"][0].get<std::string>();
  const std::string metric = sweep.tuning.value("metric", std::string("val_loss"));
  Spec spec;
  spec.stem = "report_tuning";
  spec.title = fmt::format("{}: tuning — final {} on the tuning split against {} (circled: chosen)", sweep.name,
                           metric, path);
  double lo = INFINITY, hi = -INFINITY;
  std::vector<Row4> chosen;
  std::size_t k = 0;
  for (const auto& group : sweep.tuning["groups"]) {
    std::vector<Row4> rows;
    for (const auto& point : group["points"]) {
      const auto& values = point["values"];
      if (!point["mean"].is_number() || !values.contains(path) || !values[path].is_number()) continue;
      const double x = values[path].get<double>(), y = point["mean"].get<double>();
      rows.push_back({x, y, 0.0, 0.0});
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      if (group["chosen"] == point["index"]) chosen.push_back({x, y, 0.0, 0.0});
    }
    const std::string label = group["arm"].get<std::string>() +
                              (group["grid_point"].empty() ? std::string() : " @ " + grid_label(group["grid_point"]));
    spec.series.push_back({fmt::format("'-' using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb {} title {}",
                                       quoted(kColors[k++ % kColors.size()]), quoted(label)),
                           rows});
  }
  spec.series.push_back({"'-' using 1:2 with points pt 6 ps 3 lw 2 lc rgb '#000000' title 'chosen'", chosen});
  spec.settings = fmt::format("set xlabel {}\nset ylabel {}\nset grid\nset key top right box opaque\n{}",
                              quoted(path + " (stopped points left out)"),
                              quoted(metric == "val_accuracy" ? "final validation accuracy (tuning split)"
                                                              : "final validation loss, nats/token (tuning split)"),
                              lo > 0 && hi / lo >= 10.0 ? "set logscale x\n" : "");
  return spec;
}

/// x tic labels "('a' 0, 'b' 1, ...)" for one bar/point per group.
std::string group_tics(const SweepRecord& sweep) {
  std::vector<std::string> tics;
  for (std::size_t k = 0; k < sweep.groups.size(); ++k)
    tics.push_back(fmt::format("{} {}", quoted(sweep.groups[k].label), k));
  return fmt::format("set xtics ({}) rotate by -20\nset xrange [-0.6:{}]\n", fmt::join(tics, ", "),
                     static_cast<double>(sweep.groups.size()) - 0.4);
}

Spec final_loss(const SweepRecord& sweep) {
  Spec spec;
  spec.stem = "report_final_loss";
  spec.title = fmt::format("{}: final validation loss per arm (mean with 95% CI; dots: seeds)", sweep.name);
  std::vector<Row4> means, seeds;
  for (std::size_t k = 0; k < sweep.groups.size(); ++k) {
    const auto values = sweep.groups[k].values("val_loss");
    const auto s = stats::summarize(values);
    if (s.n == 0) continue;
    const double lo = s.ci ? s.ci->lo : s.mean, hi = s.ci ? s.ci->hi : s.mean;
    means.push_back({static_cast<double>(k), s.mean, lo, hi});
    for (std::size_t i = 0; i < values.size(); ++i)
      seeds.push_back({static_cast<double>(k) + 0.12 + 0.04 * static_cast<double>(i % 3), values[i], 0.0, 0.0});
  }
  spec.settings = group_tics(sweep) + "set ylabel 'final validation loss (nats/token)'\nset grid ytics\n"
                                      "set key top right box opaque\nset offsets 0, 0, graph 0.08, graph 0.08\n";
  spec.series.push_back({"'-' using 1:2:3:4 with yerrorbars lw 2 pt 7 ps 1.2 lc rgb '#1f77b4' "
                         "title 'mean, 95% CI (Student t)'", means});
  spec.series.push_back({"'-' using 1:2 with points pt 6 ps 0.9 lc rgb '#555555' title 'one seed'", seeds});
  return spec;
}

Spec bars(const SweepRecord& sweep, const std::string& key, double scale, const std::string& stem,
          const std::string& what, const std::string& ylabel) {
  Spec spec;
  spec.stem = stem;
  spec.title = fmt::format("{}: {} per arm (bar: mean, error bar: min–max over seeds)", sweep.name, what);
  std::vector<Row4> rows;
  for (std::size_t k = 0; k < sweep.groups.size(); ++k) {
    auto values = sweep.groups[k].values(key);
    std::erase_if(values, [](double v) { return !(v > 0); });
    if (values.empty()) continue;
    const auto s = stats::summarize(values);
    rows.push_back({static_cast<double>(k), s.mean / scale, s.min / scale, s.max / scale});
  }
  spec.settings = group_tics(sweep) + fmt::format("set ylabel {}\nset yrange [0:*]\nset grid ytics\n"
                                                  "set style fill solid 0.6 border -1\nset boxwidth 0.6\nunset key\n"
                                                  "set offsets 0, 0, graph 0.08, 0\n",
                                                  quoted(ylabel));
  spec.series.push_back({"'-' using 1:2 with boxes lc rgb '#1f77b4' notitle", rows});
  spec.series.push_back({"'-' using 1:2:3:4 with yerrorbars lc rgb '#000000' lw 1.5 pt 0 notitle", rows});
  return spec;
}

/// MoE: load of each expert of the first MoE layer of the group's first finished seed that recorded
/// expert loads, against training step; a dashed line at the balanced load 1/E. nullopt without loads.
std::optional<Spec> expert_load(const SweepRecord& sweep, const Group& g) {
  const RunRecord* run = nullptr;
  for (const auto* r : g.done)
    if (std::any_of(r->curve.begin(), r->curve.end(), [](const EvalPoint& p) { return !p.expert_load.empty(); })) {
      run = r;
      break;
    }
  if (!run) return std::nullopt;
  std::size_t experts = 0;
  for (const auto& p : run->curve)
    if (!p.expert_load.empty()) experts = std::max(experts, p.expert_load.front().size());
  if (experts == 0) return std::nullopt;
  std::string stem = "report_expert_load_";
  for (char c : g.label) stem += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
  Spec spec;
  spec.stem = stem;
  spec.title = fmt::format("{}: expert load of {} (first MoE layer, seed {}, run {})", sweep.name, g.label, run->seed,
                           run->id);
  double first = INFINITY, last = -INFINITY, top = 0.0;
  for (std::size_t e = 0; e < experts; ++e) {
    std::vector<Row4> rows;
    for (const auto& p : run->curve) {
      if (p.expert_load.empty() || e >= p.expert_load.front().size()) continue;
      const double load = p.expert_load.front()[e];
      if (!std::isfinite(load)) continue;
      const double step = static_cast<double>(p.step);
      rows.push_back({step, load, 0.0, 0.0});
      first = std::min(first, step);
      last = std::max(last, step);
      top = std::max(top, load);
    }
    spec.series.push_back({fmt::format("'-' using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc rgb {} title {}",
                                       quoted(kColors[e % kColors.size()]), quoted(fmt::format("expert {}", e))),
                           rows});
  }
  const double uniform = 1.0 / static_cast<double>(experts);
  if (std::isfinite(first))
    spec.series.push_back({fmt::format("'-' using 1:2 with lines dt 2 lw 2 lc rgb '#000000' title {}",
                                       quoted(fmt::format("balanced, 1/E = {:.3g}", uniform))),
                           {{first, uniform, 0.0, 0.0}, {last, uniform, 0.0, 0.0}}});
  spec.settings = fmt::format(
      "set xlabel 'training step'\nset ylabel 'fraction of routing assignments'\nset yrange [0:{:.3f}]\nset grid\n"
      "set key outside right top box opaque\n",
      std::max(top, uniform) * 1.1);
  return spec;
}

}  // namespace

std::vector<Figure> draw_plots(const SweepRecord& sweep) {
  std::vector<Spec> specs;
  specs.push_back(loss_curves(sweep, Axis::seconds));
  specs.push_back(loss_curves(sweep, Axis::tokens));
  if (budget_kind(sweep) == "flops") specs.push_back(loss_curves(sweep, Axis::flops));
  if (auto spec = tuning_curves(sweep)) specs.push_back(std::move(*spec));
  specs.push_back(final_loss(sweep));
  specs.push_back(bars(sweep, "tokens_per_second", 1.0, "report_throughput", "training throughput",
                       "throughput (tokens/s)"));
  specs.push_back(bars(sweep, "peak_memory_bytes", 1024.0 * 1024.0, "report_memory", "peak memory",
                       "peak memory (MiB)"));
  for (const auto& g : sweep.groups)
    if (auto spec = expert_load(sweep, g)) specs.push_back(std::move(*spec));
  std::vector<Figure> figures;
  for (const auto& spec : specs) {
    Figure f{spec.stem, spec.title};
    const bool has_data = std::any_of(spec.series.begin(), spec.series.end(), [](const Series& s) { return !s.rows.empty(); });
    if (!has_data) {
      f.warning = spec.stem == "report_memory" ? "no finished run recorded its peak memory (CPU runs record none)"
                                               : "no finished run has data for it yet";
    } else {
      // gnuplot cannot plot an empty inline block: drop series without rows.
      Spec drawable = spec;
      std::erase_if(drawable.series, [](const Series& s) { return s.rows.empty(); });
      try {
        f.warning = render(sweep.dir, drawable);
      } catch (const std::exception& e) {
        f.warning = e.what();
      }
      f.ok = f.warning.empty();
    }
    figures.push_back(std::move(f));
  }
  return figures;
}

}  // namespace ablate::report

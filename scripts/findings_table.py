#!/usr/bin/env python3
"""Markdown tables of a finished sweep directory, for docs/findings.md.

Reads only what `ablate run` wrote (results.json, seed_rounds.json, tune.json) and prints one table
of the arms (seeds, steps, parameters, the tuned learning rate, validation loss) and their
comparisons with the baseline: the difference with its 95% CI, Hedges' g with its CI, and the
verdict of the seeds-on-demand rule. Nothing is computed here that the report does not hold.

    scripts/findings_table.py runs/findings/exp5_moe_experts
"""
import json
import sys
from pathlib import Path


def load(path):
    return json.loads(path.read_text()) if path.exists() else None


def tuned_values(tuning, arm):
    """The chosen tune point of an arm, as 'path=value' text ('—' without a tune stage)."""
    if not tuning:
        return "—"
    for group in tuning.get("groups", []):
        if group.get("arm") == arm and group.get("chosen") is not None:
            values = group["points"][group["chosen"]]["values"]
            return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values.values())
    return "none chosen"


def verdict(rounds, arm):
    if not rounds:
        return "—"
    for c in rounds.get("comparisons", []):
        if c.get("arm") == arm:
            outcome = c.get("outcome")
            if outcome == "significant":
                return f"significant at {c['seeds']} seeds (p = {c['p']:.2g} < {c['boundary_p']:.2g})"
            if outcome == "precise":
                lo, hi = c["repeated_ci"]
                return f"no difference beyond ±{(hi - lo) / 2:.3f} at {c['seeds']} seeds (p = {c['p']:.2g})"
            if outcome == "max_seeds":
                return f"undecided at the maximum of {c['seeds']} seeds (p = {c['p']:.2g}, boundary {c['boundary_p']:.2g})"
            if outcome == "no_result":
                return "not decided: " + c.get("reason", "")
            return f"undecided, still adding seeds ({c['seeds']} so far)"
    return "—"


def main(sweep_dir):
    d = Path(sweep_dir)
    results = load(d / "results.json")
    rounds = load(d / "seed_rounds.json")
    tuning = load(d / "tune.json")
    by_arm = {c["arm"]: c for c in results["val_loss_comparisons"]}
    # Loss at equal tokens: every arm's curve read at the tokens the shortest arm trained (report: "Fair comparisons").
    equal_tokens = {}
    for fair in results.get("fair_comparisons", []):
        for a in fair.get("arms", []):
            v = a.get("val_loss_at_equal_tokens") or {}
            if v.get("n"):
                equal_tokens[a["arm"]] = v["mean"]
    steps = {}
    for run in results["runs"]:
        if run.get("status") == "done":
            steps.setdefault(run["arm"], set()).add(int(run.get("steps", 0)))
    print(f"| Arm | Seeds | Steps | Params total / active (M) | Tuned Muon lr | Val loss, mean ± sd | "
          f"Δ vs `{results['baseline']}` [95% CI] | Hedges' g [95% CI] | Seeds-on-demand verdict | Loss at equal tokens |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for g in results["groups"]:
        arm = g["arm"]
        loss = g["metrics"]["val_loss"]
        model = g.get("model", {})
        params = f"{model.get('params_total', 0) / 1e6:.2f} / {model.get('params_active', 0) / 1e6:.2f}"
        step_text = ", ".join(str(s) for s in sorted(steps.get(arm, [])))
        delta = g_text = "—"
        if arm in by_arm:
            w = by_arm[arm]["welch"]
            lo, hi = w["difference_ci95"]
            delta = f"{w['difference']:+.4f} [{lo:+.4f}, {hi:+.4f}]"
            e = by_arm[arm].get("effect") or {}
            if e.get("hedges_g") is not None and e.get("hedges_g_ci95"):
                glo, ghi = e["hedges_g_ci95"]
                g_text = f"{e['hedges_g']:+.2f} [{glo:+.2f}, {ghi:+.2f}]"
        label = arm + (" (baseline)" if g.get("baseline") else "")
        equal_text = f"{equal_tokens[arm]:.4f}" if arm in equal_tokens else "—"
        print(f"| {label} | {loss['n']} | {step_text} | {params} | {tuned_values(tuning, arm)} | "
              f"{loss['mean']:.4f} ± {loss.get('sd', 0):.4f} | {delta} | {g_text} | "
              f"{verdict(rounds, arm) if arm in by_arm else '—'} | {equal_text} |")
    prov = results.get("provenance", {})
    print()
    print(f"From `{d}`: trained by ablate {prov.get('sweep_ablate_version', '?')} at commit "
          f"{prov.get('sweep_ablate_git_commit', '?')}, sweep started {prov.get('sweep_started', '?')}.")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: scripts/findings_table.py SWEEP_DIR")
    main(sys.argv[1])

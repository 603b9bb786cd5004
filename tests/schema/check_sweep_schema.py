#!/usr/bin/env python3
"""Checks `ablate schema` with Python's jsonschema (draft 2020-12), the way an editor would use it.

- The printed document is a valid draft 2020-12 schema.
- Every sweep file (*.yaml, *.yml) below the given directories validates against it.
- Sweeps with a misspelt component option, a wrongly typed value or an unknown plugin do not,
  and `ablate expand` refuses each of them too, while it accepts the sweep they were made from:
  the schema mirrors the loader, not an idea of it.

usage: check_sweep_schema.py ABLATE [--plugin-dir DIR]... DIR...
"""
import argparse
import copy
import json
import pathlib
import re
import subprocess
import sys
import tempfile

import jsonschema
import yaml


class AblateYamlLoader(yaml.SafeLoader):
    """Reads plain scalars as ablate does (core/engine/src/sweep/yaml_json.cpp: YAML 1.2's core schema,
    decimal only). PyYAML's YAML 1.1 rules differ: `lr: 1e-3` would be a string, `yes` a boolean,
    `010` octal. yaml-language-server reads YAML 1.2 too."""


AblateYamlLoader.yaml_implicit_resolvers = {}
for tag, pattern, first in [
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^[-+]?[0-9]+$", "-+0123456789"),
    ("float", r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$", "-+.0123456789"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]:
    AblateYamlLoader.add_implicit_resolver("tag:yaml.org,2002:" + tag, re.compile(pattern), list(first))
AblateYamlLoader.add_constructor("tag:yaml.org,2002:int", lambda loader, node: int(loader.construct_scalar(node)))
AblateYamlLoader.add_constructor(
    "tag:yaml.org,2002:float", lambda loader, node: float(loader.construct_scalar(node)))


def as_json(value):
    """A YAML value as the JSON an editor validates: map keys are strings."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def load_yaml(text):
    return as_json(yaml.load(text, Loader=AblateYamlLoader))


def errors_of(validator, document):
    return sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))


def describe(error):
    where = "/".join(str(p) for p in error.absolute_path) or "(top)"
    return f"{where}: {error.message[:300]}"


# The sweep the refused cases are made from: valid for the schema and for ablate.
BASE = """\
name: schema_check
data: {tokenizer: {kind: byte}, seq_len: 32}
model:
  d_model: 32
  n_layers: 1
  attention: {plugin: mha, n_heads: 2}
  ffn: {plugin: swiglu, d_ff: 64}
train: {steps: 2, batch_size: 2, optimizer: {lr: 1e-3}}
arms:
  base: {}
  gqa: {model.attention.n_kv_heads: 1}
grid:
  train.optimizer.lr: [1e-3, 3e-3]
"""


def set_path(document, path, value):
    *parents, last = path
    for key in parents:
        document = document.setdefault(key, {})
    document[last] = value


# Changes of the base that both accept: name → [(path in the sweep, value written there)].
ACCEPTED = {
    "the slot's default plugin left unnamed": [(["model", "attention"], {"n_heads": 2})],
    "null where a key allows it": [(["model", "vocab_size"], None), (["report"], None), (["train"], None)],
    "an integer for a number": [(["train", "optimizer", "lr"], 1)],
    "an MoE with a nested expert after a dense block": [
        (["model", "n_layers"], 2), (["model", "first_dense_layers"], 1),
        (["model", "dense_ffn"], {"plugin": "silu", "d_ff": 32}),
        (["model", "ffn"], {"plugin": "topk", "n_experts": 2, "top_k": 1, "expert": {"plugin": "silu", "d_ff": 32}})],
    "a bpe tokenizer without its kind and a JSONL corpus": [
        (["data", "tokenizer"], {"vocab_size": 300}), (["data", "corpus"], {"jsonl": "docs.jsonl", "field": "body"})],
    "a tune stage, a budget and a report": [
        (["tune"], {"axes": {"model.attention.n_heads": [2, 4]}, "seeds": [7], "metric": "val_accuracy",
                    "halving": {"rungs": [0.5], "keep": 0.5}}),
        (["budget"], {"kind": "steps", "value": 4.0}), (["report"], {"target_loss": 3.5})],
    "arm overrides into a component and its options": [
        (["arms", "moe"], {"model.ffn": {"plugin": "topk", "expert": {"plugin": "silu", "d_ff": 32}},
                           "model.ffn.expert.d_ff": 16, "model.rope.scaling": "linear"})],
}

# name → (path in the sweep, value written there, a phrase of the error the schema must give).
REFUSED = {
    "misspelt option of a component": (
        ["model", "attention"], {"plugin": "mha", "n_haeds": 2}, "'n_haeds' was unexpected"),
    "misspelt option of an MoE's nested expert": (
        ["model", "ffn"], {"plugin": "topk", "n_experts": 2, "top_k": 1, "expert": {"plugin": "silu", "dff": 32}},
        "'dff' was unexpected"),
    "misspelt option in an arm's component": (
        ["arms", "mla"], {"model.attention": {"plugin": "mla", "n_head": 2}}, "'n_head' was unexpected"),
    "misspelt host key in an arm": (["arms", "wide"], {"model.d_modle": 64}, "'model.d_modle' does not match"),
    "another plugin's options under the default plugin": (
        ["model", "ffn"], {"n_experts": 2, "d_ff": 32}, "'n_experts' was unexpected"),
    "string for an integer option": (["model", "attention", "n_heads"], "two", "'two' is not of type 'integer'"),
    "fraction for an integer key": (["model", "d_model"], 32.5, "32.5 is not of type 'integer'"),
    "integer option below its minimum": (["model", "attention", "n_heads"], 0, "0 is less than the minimum of 1"),
    "string in a number grid axis": (["grid", "train.optimizer.lr"], ["fast"], "'fast' is not of type 'number'"),
    "string choice not offered": (["model", "attention", "backend"], "fastest", "'fastest' is not one of"),
    "plugin that is not loaded": (["model", "attention"], {"plugin": "mhq"}, "'mha' was expected"),
    "plugin of another kind in a slot": (["model", "attention"], {"plugin": "swiglu", "d_ff": 64}, "'mla' was expected"),
    "fractional budget of steps": (["budget"], {"kind": "steps", "value": 2.5}, "2.5 is not of type 'integer'"),
    "seed listed twice": (["seeds"], [1, 1], "has non-unique elements"),
    "unknown top-level key": (["arm"], {"x": {}}, "'arm' was unexpected"),
}


def messages(errors):
    """Every message of `errors` and of the errors inside them (a oneOf's reasons per variant)."""
    for error in errors:
        yield error.message
        yield from messages(error.context)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ablate")
    parser.add_argument("--plugin-dir", action="append", default=[])
    parser.add_argument("dirs", nargs="+", type=pathlib.Path)
    args = parser.parse_args()
    plugin_args = [a for d in args.plugin_dir for a in ("--plugin-dir", d)]
    failures = []

    work_dir = tempfile.TemporaryDirectory(prefix="ablate_schema_check_")  # removed at exit
    work = pathlib.Path(work_dir.name)
    # The accepted JSONL corpus: `expand` refuses a corpus path that is not on disk.
    (work / "docs.jsonl").write_text('{"body": "a document"}\n')
    schema_file = work / "ablate-sweep.schema.json"
    subprocess.run([args.ablate, *plugin_args, "schema", "--out", str(schema_file)], check=True)
    schema = json.loads(schema_file.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    # Every sweep file in the repository.
    for directory in args.dirs:
        files = sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml"))
        if not files:
            failures.append(f"{directory}: no sweep files found")
        for path in files:
            errors = errors_of(validator, load_yaml(path.read_text()))
            print(f"{'ok     ' if not errors else 'INVALID'} {path}")
            failures += [f"{path}: {describe(e)}" for e in errors]

    def expand(name, document):
        sweep = work / f"{name}.yaml"
        sweep.write_text(yaml.safe_dump(document, sort_keys=False))
        return subprocess.run([args.ablate, *plugin_args, "expand", str(sweep)], capture_output=True, text=True)

    base = load_yaml(BASE)
    errors = errors_of(validator, base)
    failures += [f"the base sweep: {describe(e)}" for e in errors]
    result = expand("base", base)
    if result.returncode != 0:
        failures.append(f"ablate expand refuses the base sweep: {result.stderr.strip()}")

    # Each accepted case: the schema and ablate both say yes.
    for case, changes in ACCEPTED.items():
        document = copy.deepcopy(base)
        for path, value in changes:
            set_path(document, path, value)
        errors = errors_of(validator, document)
        print(f"{'accepted' if not errors else 'REFUSED'} {case}")
        failures += [f"the schema refuses '{case}': {describe(e)}" for e in errors]
        result = expand(re.sub(r"\W+", "_", case), document)
        if result.returncode != 0:
            failures.append(f"ablate expand refuses '{case}': {result.stderr.strip()}")

    # Each refused case: the schema and ablate both say no.
    for case, (path, value, phrase) in REFUSED.items():
        document = copy.deepcopy(base)
        set_path(document, path, value)
        errors = errors_of(validator, document)
        reason = next((m for m in messages(errors) if phrase in m), None)
        print(f"{'refused' if reason else 'NOT REFUSED'} {case}: {reason or [describe(e) for e in errors]}")
        if not reason:
            failures.append(f"the schema does not refuse '{case}' saying {phrase!r}")
        result = expand(re.sub(r"\W+", "_", case), document)
        if result.returncode != 2:
            failures.append(f"ablate expand exits {result.returncode}, not 2, on '{case}': {result.stderr.strip()}")

    for failure in failures:
        print("FAIL:", failure, file=sys.stderr)
    if not failures:
        print("schema check passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

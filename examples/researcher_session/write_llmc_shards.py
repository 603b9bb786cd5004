"""Writes text as llm.c shards the way llm.c's own data scripts do, outside ablate: each line of
the input is a document, encoded with a SentencePiece model (spm_encode), every document preceded
by the end-of-text id; the last `val_documents` go to a `..._val_000000.bin` shard, the rest to
`..._train_000000.bin`. Header: 256 int32 (magic 20240520, version 1, token count), then uint16 ids.

Usage: write_llmc_shards.py MODEL TEXT OUT_DIR PREFIX EOT VAL_DOCUMENTS
"""
import array
import subprocess
import sys
from pathlib import Path

model, text, out_dir, prefix, eot, val_documents = sys.argv[1:7]
eot, val_documents = int(eot), int(val_documents)
lines = [l for l in Path(text).read_text().splitlines() if l.strip()]
encoded = subprocess.run(["spm_encode", f"--model={model}", "--output_format=id"], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, check=True).stdout.splitlines()
assert len(encoded) == len(lines), (len(encoded), len(lines))


def write(name, documents):
    tokens = array.array("H")
    for ids in documents:
        tokens.append(eot)
        tokens.extend(int(t) for t in ids.split())
    header = array.array("i", [20240520, 1, len(tokens)] + [0] * 253)
    path = Path(out_dir) / name
    with open(path, "wb") as f:
        f.write(header.tobytes())
        f.write(tokens.tobytes())
    print(f"{path}: {len(documents)} documents, {len(tokens)} tokens")


Path(out_dir).mkdir(parents=True, exist_ok=True)
write(f"{prefix}_train_000000.bin", encoded[:-val_documents])
write(f"{prefix}_val_000000.bin", encoded[-val_documents:])

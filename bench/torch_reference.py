#!/usr/bin/env python3
"""PyTorch reference of ablate's seed baseline models, written for speed as a researcher would.

The same architecture, parameter count and initialisation as ablate's skeleton (core/train/src/model.cpp)
with its built-in plugins: token embedding N(0, 0.02) scaled by sqrt(d), tied LM head; pre-norm
blocks x + attn(norm1(x)), h + ffn(norm2(h)); rmsnorm (fp32, eps 1e-6, weight 1); mha (one bias-free
qkv Linear, interleaved RoPE base 10000 in fp32, causal SDPA, bias-free out Linear); ffn either
moe `topk` (router Linear(d, E) without bias, N(0, 0.1) logit noise in training, top-k of the logits
weighted by a softmax over the k, Switch auxiliary loss aux_coef * E * sum_e f_e P_e) of `silu`
experts (W2 silu(W1 x)), or a dense `swiglu` (down(silu(gate x) * up x)). Linear weights N(0, 0.02).

Training as ablate's trainer: cross-entropy + aux loss, AdamW (fused on CUDA; decay on matrices
only), linear warmup then cosine to min_lr_fraction, global grad-norm clip. On CUDA: bf16 autocast
over fp32 master weights, SDPA (flash), MoE experts through torch._grouped_mm (sorted tokens, no
per-expert loop); optional torch.compile. Dropout is left out (the benchmark configs use 0).

Data: --data FILE reads uint32 little-endian token ids (ablate's cache: <cache>/<key>/train.bin),
random windows per step; without it, uniform random tokens (pure throughput).

Prints one JSON object: params, tokens/s, step time, MFU (FLOPs per token 6 N_active + 12 L d T over
--peak-flops), peak memory, final loss. `--params-only` prints the parameter counts and exits.
"""
import argparse
import json
import math
import time

import os
import torch
import torch.nn as nn
import torch.nn.functional as F


def rms_norm(x, weight, eps=1e-6):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps) * weight.float()).to(x.dtype)


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return rms_norm(x, self.weight)


def linear(d_in, d_out):
    layer = nn.Linear(d_in, d_out, bias=False)
    nn.init.normal_(layer.weight, 0.0, 0.02)
    return layer


def rope_tables(head_dim, seq_len, device, base=10000.0):
    inv_freq = (base ** (-2.0 * torch.arange(head_dim // 2, dtype=torch.float64) / head_dim)).float()
    angles = torch.outer(torch.arange(seq_len, dtype=torch.float32), inv_freq)
    return angles.cos().to(device), angles.sin().to(device)


def apply_rope(x, cos, sin):
    """Interleaved pairs (2i, 2i+1), in fp32 as ablate's sdk/rope.cpp."""
    xf = x.float().unflatten(-1, (-1, 2))
    x0, x1 = xf[..., 0], xf[..., 1]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), -1).flatten(-2).to(x.dtype)


class Attention(nn.Module):
    def __init__(self, d, n_heads):
        super().__init__()
        self.h, self.hd = n_heads, d // n_heads
        self.qkv = linear(d, 3 * d)
        self.out = linear(d, d)

    def forward(self, x, cos, sin):
        B, T, d = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.h, self.hd).permute(2, 0, 3, 1, 4)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out(y.transpose(1, 2).reshape(B, T, d))


class SwiGLU(nn.Module):
    def __init__(self, d, d_ff):
        super().__init__()
        self.gate, self.up, self.down = linear(d, d_ff), linear(d, d_ff), linear(d_ff, d)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x)), None


class TopkMoE(nn.Module):
    """Experts' weights stored stacked (E, d_ff, d): the same parameters as E separate silu MLPs."""

    def __init__(self, d, n_experts, top_k, d_ff, noise_std=0.1, aux_coef=0.01, grouped=False):
        super().__init__()
        self.E, self.k, self.noise_std, self.aux_coef, self.grouped = n_experts, top_k, noise_std, aux_coef, grouped
        self.router = linear(d, n_experts)
        self.w1 = nn.Parameter(torch.randn(n_experts, d_ff, d) * 0.02)
        self.w2 = nn.Parameter(torch.randn(n_experts, d, d_ff) * 0.02)

    def experts(self, rows, counts):
        if self.grouped:  # one grouped GEMM per linear over the sorted rows; offsets stay on the device
            offs = counts.cumsum(0).to(torch.int32)
            rows = rows.to(torch.bfloat16)
            h = F.silu(torch._grouped_mm(rows, self.w1.to(torch.bfloat16).transpose(1, 2), offs=offs))
            return torch._grouped_mm(h, self.w2.to(torch.bfloat16).transpose(1, 2), offs=offs)
        out, start = [], 0
        for e, n in enumerate(counts.tolist()):  # block sizes on the host
            if n:
                out.append(F.silu(rows[start:start + n] @ self.w1[e].t()) @ self.w2[e].t())
            start += n
        return torch.cat(out)

    def forward(self, x):
        shape = x.shape
        flat = x.reshape(-1, shape[-1])
        N = flat.shape[0]
        logits = self.router(flat).float()
        if self.training and self.noise_std > 0:
            logits = logits + torch.randn_like(logits) * self.noise_std
        probs = logits.softmax(-1)
        top_logits, top_experts = logits.topk(self.k, -1)
        weights = top_logits.softmax(-1)
        assignment = top_experts.flatten()
        order = assignment.argsort(stable=True)
        counts = torch.zeros(self.E, dtype=torch.long, device=x.device).scatter_add_(
            0, assignment, torch.ones_like(assignment))
        out_sorted = self.experts(flat[order // self.k], counts)
        out = torch.empty_like(out_sorted).index_copy_(0, order, out_sorted)  # back to (token, slot) order
        y = (out.view(N, self.k, -1) * weights.to(out.dtype).unsqueeze(-1)).sum(1)
        fraction = counts.float() / (N * self.k)
        aux = self.aux_coef * self.E * (fraction * probs.mean(0)).sum()
        return y.view(shape).to(x.dtype), aux


class Block(nn.Module):
    def __init__(self, args):
        super().__init__()
        d = args.d_model
        self.norm1, self.norm2 = RMSNorm(d), RMSNorm(d)
        self.attention = Attention(d, args.n_heads)
        if args.ffn == "moe":
            self.ffn = TopkMoE(d, args.n_experts, args.top_k, args.d_ff, grouped=args.grouped_mm)
        else:
            self.ffn = SwiGLU(d, args.d_ff)

    def forward(self, x, cos, sin):
        """Returns the block's output and the ffn's auxiliary loss (None for a dense ffn)."""
        h = x + self.attention(self.norm1(x), cos, sin)
        y, aux = self.ffn(self.norm2(h))
        return h + y, aux


class Transformer(nn.Module):
    def __init__(self, args):
        super().__init__()
        self.d = args.d_model
        self.embedding = nn.Embedding(args.vocab_size, args.d_model)
        nn.init.normal_(self.embedding.weight, 0.0, 0.02)
        self.blocks = nn.ModuleList(Block(args) for _ in range(args.n_layers))
        self.final_norm = RMSNorm(args.d_model)

    def forward(self, tokens, cos, sin):
        x = self.embedding(tokens) * math.sqrt(self.d)
        aux = torch.zeros((), device=x.device)
        for block in self.blocks:
            x, block_aux = block(x, cos, sin)
            if block_aux is not None:
                aux = aux + block_aux
        logits = F.linear(self.final_norm(x), self.embedding.weight)  # tied head
        return logits, aux


def active_params(model, args):
    total = sum(p.numel() for p in model.parameters())
    if args.ffn != "moe":
        return total, total
    per_expert = 2 * args.d_model * args.d_ff
    return total, total - args.n_layers * (args.n_experts - args.top_k) * per_expert


def lr_at(step, args):
    """ablate's trainer (scheduled_lr): linear warmup, then cosine down to min_lr_fraction of the peak."""
    warmup = math.floor(args.warmup_fraction * args.steps + 0.5)  # std::round, half away from zero
    if step < warmup:
        return args.lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, args.steps - warmup))
    floor = args.lr * args.min_lr_fraction
    return floor + (args.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


class Batches:
    def __init__(self, args, device):
        self.B, self.T, self.device, self.vocab = args.batch_size, args.seq_len, device, args.vocab_size
        self.gen = torch.Generator().manual_seed(args.seed)
        self.tokens = None
        if args.data:  # uint32 little-endian ids < 2^31: read as int32, memory-mapped
            n = os.path.getsize(args.data) // 4
            self.tokens = torch.from_file(args.data, shared=True, size=n, dtype=torch.int32)

    def next(self):
        if self.tokens is None:
            batch = torch.randint(0, self.vocab, (self.B, self.T + 1), generator=self.gen)
        else:
            starts = torch.randint(0, len(self.tokens) - self.T - 1, (self.B,), generator=self.gen)
            batch = torch.stack([self.tokens[s:s + self.T + 1] for s in starts.tolist()]).long()
        if self.device.type == "cuda":
            batch = batch.pin_memory().to(self.device, non_blocking=True)
        return batch[:, :-1], batch[:, 1:]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--vocab-size", type=int, default=49152)
    p.add_argument("--d-model", type=int, default=512)
    p.add_argument("--n-layers", type=int, default=6)
    p.add_argument("--n-heads", type=int, default=8)
    p.add_argument("--ffn", choices=["moe", "swiglu"], default="moe")
    p.add_argument("--n-experts", type=int, default=8)
    p.add_argument("--top-k", type=int, default=2)
    p.add_argument("--d-ff", type=int, default=2048)
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--warmup-steps-timing", type=int, default=10, help="steps left out of the timing")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--warmup-fraction", type=float, default=0.05)
    p.add_argument("--min-lr-fraction", type=float, default=0.1)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", help="uint32 token file (ablate's cache train.bin); default: random tokens")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--precision", choices=["bf16", "fp32"], default=None, help="default: bf16 on CUDA, fp32 on CPU")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--peak-flops", type=float, default=989e12, help="device peak for MFU (H100 SXM dense bf16)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: its default)")
    p.add_argument("--params-only", action="store_true")
    args = p.parse_args()
    device = torch.device(args.device)
    precision = args.precision or ("bf16" if device.type == "cuda" else "fp32")
    # grouped GEMM in bf16 on CUDA, as a researcher chasing speed would; a host-sized loop elsewhere
    args.grouped_mm = device.type == "cuda" and precision == "bf16" and hasattr(torch, "_grouped_mm")

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = Transformer(args)
    total, active = active_params(model, args)
    if args.params_only:
        print(json.dumps({"params_total": total, "params_active": active}))
        return
    model.to(device)
    cos, sin = rope_tables(args.d_model // args.n_heads, args.seq_len, device)
    decay = [q for q in model.parameters() if q.dim() >= 2]
    no_decay = [q for q in model.parameters() if q.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=torch.tensor(args.lr) if device.type == "cuda" else args.lr,
                            fused=device.type == "cuda")
    forward = torch.compile(model) if args.compile else model
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")

    def step(inputs, targets):
        with autocast:
            logits, aux = forward(inputs, cos, sin)
            loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1)) + aux
        loss.backward()
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.detach()

    batches = Batches(args, device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    model.train()
    losses, start = [], None
    for i in range(args.steps):
        if i == args.warmup_steps_timing:
            sync()
            start = time.perf_counter()
        for group in opt.param_groups:
            if torch.is_tensor(group["lr"]):
                group["lr"].fill_(lr_at(i, args))
            else:
                group["lr"] = lr_at(i, args)
        losses.append(step(*batches.next()))
    sync()
    timed = args.steps - args.warmup_steps_timing
    elapsed = time.perf_counter() - start if start is not None else float("nan")
    step_s = elapsed / timed if timed > 0 else float("nan")
    tokens_per_s = args.batch_size * args.seq_len / step_s
    flops_per_token = 6 * active + 12 * args.n_layers * args.d_model * args.seq_len
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    print(json.dumps({
        "impl": "torch_compile" if args.compile else "torch_eager",
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__, "precision": precision, "moe_grouped_mm": args.grouped_mm,
        "params_total": total, "params_active": active,
        "steps": args.steps, "timed_steps": timed, "tokens_per_step": args.batch_size * args.seq_len,
        "step_ms": step_s * 1e3, "tokens_per_s": tokens_per_s,
        "mfu": tokens_per_s * flops_per_token / args.peak_flops, "peak_flops": args.peak_flops,
        "peak_memory_bytes": peak, "final_loss": float(losses[-1]),
    }))


if __name__ == "__main__":
    main()

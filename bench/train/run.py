#!/usr/bin/env python3
"""bench/train: training speed of the C++ core against plain Python PyTorch.

Trains the same network (a spec from models/) for the same number of steps, batch
size, optimizer, augmentation and joint loss, first with hddnn's C++ trainer, then
with an eager torch.nn model built from the same spec in Python, in this one run.
Prints a markdown table with steps/s for both and their ratio (C++ / Python), the
batch-1 and batch-32 latency of each exported section, the data-parallel scaling of
`hddnn train --ranks 1/2/4` (steps/s, speed-up, efficiency), and writes
bench/results/train.json.

    .venv/bin/python bench/train/run.py [--spec models/fmnist_hetero.json] [--steps 150]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import hddnn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---- the Python baseline: an eager model built from the spec ------------------------

class DwSep(nn.Sequential):
    def __init__(self, cin, b):
        k = b.get("kernel", 3)
        super().__init__(nn.Conv2d(cin, cin, k, b.get("stride", 1), k // 2, groups=cin, bias=False),
                         nn.BatchNorm2d(cin), nn.ReLU(),
                         nn.Conv2d(cin, b["out"], 1, bias=False), nn.BatchNorm2d(b["out"]), nn.ReLU())


class Residual(nn.Module):
    def __init__(self, cin, b):
        super().__init__()
        s, out = b.get("stride", 1), b["out"]
        self.body = nn.Sequential(nn.Conv2d(cin, out, 3, s, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU(),
                                  nn.Conv2d(out, out, 3, 1, 1, bias=False), nn.BatchNorm2d(out))
        self.short = nn.Identity() if (cin == out and s == 1) else nn.Sequential(
            nn.Conv2d(cin, out, 1, s, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        return F.relu(self.body(x) + self.short(x))


class GlobalPool(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.mode = mode

    def forward(self, x):
        return x.amax((2, 3)) if self.mode == "max" else x.mean((2, 3))


def block(b, shape):
    """(module, output shape) of one spec block."""
    t = b["type"]
    if t in ("conv", "dwsep", "residual", "pool") and not b.get("global"):
        k = b.get("kernel", 2 if t == "pool" else 3)
        s = b.get("stride", k if t == "pool" else 1)
        p = b.get("padding", k // 2 if t == "conv" else 0)
        if t == "conv":
            m = nn.Conv2d(shape[0], b["out"], k, s, p)
        elif t == "dwsep":
            m = DwSep(shape[0], b)
        elif t == "residual":
            m = Residual(shape[0], b)
        else:
            m = nn.MaxPool2d(k, s, p) if b.get("mode", "max") == "max" else nn.AvgPool2d(k, s, p)
    elif t == "pool":
        m = GlobalPool(b.get("mode", "max"))
    elif t == "batchnorm":
        m = nn.BatchNorm2d(shape[0])
    elif t == "activation":
        m = {"relu": nn.ReLU(), "relu6": nn.ReLU6(), "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid()}[b.get("function", "relu")]
    elif t == "dropout":
        m = nn.Dropout(b.get("p", 0.0))
    else:
        m = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(shape), b["out"]))
    with torch.no_grad():
        out = m.eval()(torch.zeros(1, *shape)).shape[1:]
    return m.train(), tuple(out)


def chain(blocks, shape):
    mods = []
    for b in blocks:
        m, shape = block(b, shape)
        mods.append(m)
    return nn.Sequential(*mods), shape


class Binarize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, 1.0, -1.0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x.abs() <= 1).to(g.dtype)


def quantize(x, how):
    if how == "1bit":
        return Binarize.apply(x)
    if how == "8bit":
        c = x.clamp(-4, 4)
        step = 8 / 255
        return c + (torch.round((c + 4) / step) * step - 4 - c).detach()
    return x


class Section(nn.Module):
    def __init__(self, s, shape, last):
        super().__init__()
        self.trunk, trunk = chain(s.get("blocks", []), shape)
        self.heads = nn.ModuleDict()
        for e in s["exits"]:
            head, hs = chain(e.get("blocks", []), trunk)
            classes = 10 if e["labels"] == "fine" else 4
            self.heads[e["labels"]] = nn.Sequential(head, nn.Flatten(), nn.Linear(math.prod(hs), classes))
        self.out, self.out_shape = (None, None) if last else chain(s.get("output", {}).get("blocks", []), trunk)
        self.quantize = s.get("output", {}).get("quantize", "float32")

    def forward(self, x):
        h = self.trunk(x)
        result = {k: head(h) for k, head in self.heads.items()}
        if self.out is not None:
            result["features"] = quantize(self.out(h), self.quantize)
        return result


class EagerNetwork(nn.Module):
    """Single-view chain of the spec's sections, exits weighted as in the spec."""

    def __init__(self, spec):
        super().__init__()
        assert spec.get("views", "single") == "single", "the baseline covers single-view specs"
        shape, sections = (1, 28, 28), []
        for i, s in enumerate(spec["sections"]):
            sec = Section(s, shape, i + 1 == len(spec["sections"]))
            sections.append(sec)
            shape = sec.out_shape
        self.sections = nn.ModuleList(sections)
        self.weights = [{e["labels"]: e.get("weight", 1.0) for e in s["exits"]} for s in spec["sections"]]

    def loss(self, x, fine, coarse):
        total = 0.0
        for sec, w in zip(self.sections, self.weights):
            out = sec(x)
            for labels, weight in w.items():
                total = total + weight * F.cross_entropy(out[labels], fine if labels == "fine" else coarse)
            x = out.get("features")
        return total


def augment(images):
    n, h, w = images.shape[0], images.shape[-2], images.shape[-1]
    padded = F.pad(images, (2, 2, 2, 2))
    off = torch.randint(0, 5, (n, 2))
    out = torch.stack([padded[i, :, off[i, 0]:off[i, 0] + h, off[i, 1]:off[i, 1] + w] for i in range(n)])
    flip = torch.rand(n) < 0.5
    return torch.where(flip.view(n, 1, 1, 1), out.flip(-1), out)


def python_steps_per_s(spec, train, steps, batch, lr, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = EagerNetwork(spec).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    images = (train.images[:, 0] - 0.286) / 0.353
    order = torch.randperm(images.shape[0])
    times = []
    for step in range(steps):
        idx = order[(step * batch) % (images.shape[0] - batch):][:batch]
        start = time.perf_counter()
        loss = model.loss(augment(images[idx]), train.fine[idx], train.coarse[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return timed_rate(times)


def timed_rate(times):
    """Steps/s over the steps after the first 10% (warm-up excluded)."""
    kept = times[max(1, len(times) // 10):]
    return len(kept) / sum(kept)


def cpp_steps_per_s(spec_path, train, steps, batch, lr, threads):
    net = hddnn.Network.from_spec(spec_path)
    times, last = [], [None]

    def on_step(step, total, epoch, loss, record):
        now = time.perf_counter()
        if last[0] is not None:
            times.append(now - last[0])
        last[0] = now

    n = steps * batch + batch
    subset = (train.images[:n], train.fine[:n], train.coarse[:n])
    net.fit(subset, None, epochs=1, progress=False, on_step=on_step, batch_size=batch, lr=lr, threads=threads,
            checkpoint_every=0)
    return timed_rate(times), net


def trainer_row(spec, ranks, samples):
    """One epoch of `hddnn train --ranks N`: steps/s of the fit itself."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "hddnn", "train", "--spec", spec,
                   "--epochs", "1", "--limit", str(samples), "--threads", "1", "--no-progress",
                   "--ranks", str(ranks), "--out", out]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        with open(os.path.join(out, "metrics.json")) as f:
            metrics = json.load(f)
    return {"ranks": ranks, "steps": metrics["steps"], "train_seconds": metrics["train_seconds"],
            "steps_per_s": metrics["steps"] / metrics["train_seconds"], "loss": metrics["history"][-1]["loss"]}


def trainer_table(rows):
    base = rows[0]["steps_per_s"]
    lines = ["| ranks | steps | fit s | steps/s | speedup | efficiency | epoch loss |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        speedup = r["steps_per_s"] / base
        lines.append(f"| {r['ranks']} | {r['steps']} | {r['train_seconds']:.1f} | {r['steps_per_s']:.2f} | "
                     f"{speedup:.2f} | {100 * speedup / r['ranks']:.0f}% | {r['loss']:.4f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=os.path.join(ROOT, "models", "fmnist_hetero.json"))
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--scaling-samples", type=int, default=5120,
                        help="samples of the one-epoch `hddnn train --ranks 1/2/4` runs")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "train.json"))
    args = parser.parse_args(argv)
    with open(args.spec) as f:
        spec = json.load(f)
    lr = spec.get("training", {}).get("lr", 4e-3)
    train = hddnn.datasets.fashion_mnist("train", spec.get("views", "single"), limit=(args.steps + 1) * args.batch)
    cpp_rate, net = cpp_steps_per_s(args.spec, train, args.steps, args.batch, lr, args.threads)
    py_rate = python_steps_per_s(spec, train, args.steps, args.batch, lr, args.threads)
    profile = net.profile(hddnn.datasets.fashion_mnist("test", spec.get("views", "single"), limit=1000))
    result = {"spec": spec["name"], "steps": args.steps, "batch": args.batch, "threads": args.threads,
              "cpp_steps_per_s": cpp_rate, "python_steps_per_s": py_rate, "ratio_cpp_over_python": cpp_rate / py_rate,
              "sections": {s["name"]: s["compute_ms"] for s in profile["sections"]}}
    print(f"## bench/train: {spec['name']}, {args.steps} steps of batch {args.batch}, {args.threads} threads\n")
    print("| trainer | steps/s |\n|---|---|")
    print(f"| hddnn C++ | {cpp_rate:.2f} |\n| Python PyTorch (eager) | {py_rate:.2f} |")
    print(f"| ratio C++ / Python | {cpp_rate / py_rate:.2f} |\n")
    print("| section | batch-1 ms | batch-32 ms |\n|---|---|---|")
    for name, ms in result["sections"].items():
        print(f"| {name} | {ms['batch1']:.3f} | {ms['batch32']:.3f} |")
    result["scaling"] = [trainer_row(args.spec, ranks, args.scaling_samples) for ranks in (1, 2, 4)]
    print(f"\n### Data-parallel scaling: `hddnn train --ranks N`, one epoch of {args.scaling_samples} samples, "
          "1 thread per rank\n")
    print(trainer_table(result["scaling"]))
    print(f"\nOn {os.cpu_count()} cores (1-minute load average {os.getloadavg()[0]:.1f}): one rank uses one core, "
          "two ranks both; ranks beyond the cores share them, and each rank also scores its share of the validation "
          "split. The epoch loss agrees across rank counts up to batch norm, which normalises over each rank's shard.")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Helpers shared by the benchmarks: repeated timing, result files and a trained model."""
import json
import os
import statistics
import subprocess
import sys
import time

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# DDNN's six-camera model, as bench/claims trains it (concat aggregator) and bench/faults kills its cameras.
DDNN6 = os.path.join(ROOT, "models", "fmnist_ddnn6.json")
# Training budgets: (epochs, training samples). The hetero one is bench/schemes' model.
BUDGET = {"ddnn6": (3, 12800), "hetero": (2, 20000)}
QUICK_BUDGET = {"ddnn6": (1, 1280), "hetero": (1, 1280)}


def claims_runs(quick):
    """Folder of bench/claims' trained models."""
    return os.path.join(ROOT, "runs", "claims-quick" if quick else "claims")


def median_seconds(fn, repeats=5):
    """Median wall time of fn() over `repeats` calls (one warm-up first)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def write_results(name, payload):
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"{name}.json")
    with open(path, "w") as f:
        json.dump(payload, f, indent=2)
    return path


def markdown_table(headers, rows, align=""):
    """A markdown table: one header row, then one row per sequence of cells. The i-th
    letter of `align` aligns column i: "r" right (figures), "l" left; columns past it left."""
    rule = ["---:" if a == "r" else "---" for a in align.ljust(len(headers), "l")]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def trained_model(spec, out_dir, epochs, limit, prefer=(), threads=2):
    """A trained model folder (`hddnn train --out`) for benchmarks: the first folder
    of `prefer` holding profile.json, else `out_dir` if it holds one, else `out_dir`
    after training `spec` for `epochs` epochs on `limit` training samples (runs/ is
    gitignored, so a fresh clone trains once and later benches reuse it).
    Returns (path, seconds spent training: 0.0 when reused)."""
    for folder in (*prefer, out_dir):
        if os.path.exists(os.path.join(folder, "profile.json")):
            return folder, 0.0
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hddnn", "train", "--spec", spec, "--out", out_dir,
                    "--epochs", str(epochs), "--limit", str(limit), "--threads", str(threads),
                    "--no-progress"], check=True, stdout=sys.stderr)
    return out_dir, time.perf_counter() - start


def bench_model(root):
    """The model the runtime benches share: runs/fmnist_hetero when trained, else a
    small fmnist_hetero (2 epochs, 20,000 samples) in runs/bench_hetero. Runs with an
    overridden threshold price its escalations themselves (hddnn.load.profile_at_threshold).
    Returns (folder, seconds spent training)."""
    runs = os.path.join(root, "runs")
    return trained_model(os.path.join(root, "models", "fmnist_hetero.json"),
                         os.path.join(runs, "bench_hetero"), epochs=2, limit=20000,
                         prefer=(os.path.join(runs, "fmnist_hetero"),))

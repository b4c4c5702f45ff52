#!/usr/bin/env python3
"""Scaling of data-parallel training on CPU: 1, 2 and 4 ranks under mpirun.

Runs build/bench/parallel/bench_parallel (built with the project): SGD steps of a
small CNN (2 conv + 2 linear layers, 28x28 inputs) with the same global batch at
every rank count, each rank computing its shard with one thread and averaging
gradients with DistributedGradients (bucketed MPI allreduce). Prints steps/s,
speedup and efficiency against the 1-rank run measured in the same invocation,
with each step's split into compute and allreduce (best of --trials runs each),
the allreduce time with one bucket per tensor against fused buckets, states what limits scaling on
this host, and writes bench/results/parallel.json. (The trainer's own scaling over
ranks, `hddnn train --ranks N`, is in bench/train.)

Usage: .venv/bin/python bench/parallel/run.py [--build-dir build] [--steps 40] [--trials 3]
       [--global-batch 64] [--bucket-bytes 1048576] [--out bench/results/parallel.json]
"""
import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from hddnn.launch import LOCAL_MPIRUN_FLAGS

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import common  # noqa: E402
MPIRUN = ["mpirun", *LOCAL_MPIRUN_FLAGS]
RANKS = (1, 2, 4)


def measure(binary, ranks, steps, global_batch, bucket_bytes):
    command = MPIRUN + ["-n", str(ranks), str(binary), str(steps), str(global_batch), str(bucket_bytes)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return next(json.loads(line) for line in done.stdout.splitlines() if line.startswith("{"))


def best_of(trials, *args):
    """The fastest of `trials` runs: on a shared host noise only ever slows a run down."""
    return max((measure(*args) for _ in range(trials)), key=lambda row: row["steps_per_s"])


def with_ratios(rows):
    base = rows[0]["steps_per_s"]
    for row in rows:
        row["speedup"] = row["steps_per_s"] / base
        row["efficiency"] = row["speedup"] / row["ranks"]
        step_ms = row["compute_ms_per_step"] + row["wait_ms_per_step"] + row["allreduce_ms_per_step"]
        row["wait_share"] = row["wait_ms_per_step"] / step_ms if step_ms else 0.0
        row["allreduce_share"] = row["allreduce_ms_per_step"] / step_ms if step_ms else 0.0
    return rows


def table(rows):
    return common.markdown_table(
        ["ranks", "steps/s", "speedup", "efficiency", "compute ms/step/rank", "wait for slowest ms/step",
         "allreduce ms/step", "allreduce share"],
        ([r["ranks"], f"{r['steps_per_s']:.2f}", f"{r['speedup']:.2f}", f"{100 * r['efficiency']:.0f}%",
          f"{r['compute_ms_per_step']:.1f}", f"{r['wait_ms_per_step']:.2f}", f"{r['allreduce_ms_per_step']:.2f}",
          f"{100 * r['allreduce_share']:.0f}%"] for r in rows),
        align="rrrrrrrr")


def fusion_table(unfused, fused):
    table = common.markdown_table(
        ["buckets per step", "allreduce ms/step", "wait for slowest ms/step", "steps/s"],
        ([r["buckets"], f"{r['allreduce_ms_per_step']:.2f}", f"{r['wait_ms_per_step']:.2f}", f"{r['steps_per_s']:.2f}"]
         for r in (unfused, fused)),
        align="rrrr")
    ratio = unfused["allreduce_ms_per_step"] / fused["allreduce_ms_per_step"] if fused["allreduce_ms_per_step"] else 0
    return f"{table}\n\nper-tensor allreduce time / fused allreduce time: {ratio:.2f}"


def limits(rows, cores):
    """What the measured rows say limits scaling on this host."""
    base_compute = rows[0]["compute_ms_per_step"]
    notes = []
    for r in rows[1:]:
        ideal = base_compute / r["ranks"]
        stretch = r["compute_ms_per_step"] / ideal if ideal else 0.0
        oversubscribed = r["ranks"] > cores
        notes.append(
            f"- {r['ranks']} ranks on {cores} cores{' (oversubscribed)' if oversubscribed else ''}: each rank's "
            f"compute takes {r['compute_ms_per_step']:.1f} ms for 1/{r['ranks']} of the batch, "
            f"{stretch:.2f}x the ideal {ideal:.1f} ms, so the ranks together got {r['ranks'] / stretch:.2f} "
            f"cores' worth of compute; ranks wait {r['wait_ms_per_step']:.2f} ms per step for the slowest one "
            f"({100 * r['wait_share']:.0f}% of the step) and the allreduce of {r['gradient_bytes']} gradient "
            f"bytes in {r['buckets']} bucket(s) itself takes {r['allreduce_ms_per_step']:.2f} ms "
            f"({100 * r['allreduce_share']:.0f}%).")
    notes.append(f"- Ranks beyond {cores} cores share them, so compute cannot speed up further and a rank "
                 "descheduled mid-collective stalls the others; small per-rank batches also use a core less "
                 "efficiently than one large batch. Other processes on this host "
                 f"(1-minute load average {os.getloadavg()[0]:.1f} on {cores} cores) take cores too: the "
                 "'cores' worth of compute' above is what the ranks actually got.")
    return "\n".join(notes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=str(ROOT / "build"))
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--global-batch", type=int, default=64)
    parser.add_argument("--bucket-bytes", type=int, default=1 << 20)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "parallel.json"))
    args = parser.parse_args()
    binary = Path(args.build_dir) / "bench" / "parallel" / "bench_parallel"
    if not binary.exists():
        sys.exit(f"{binary} not found: build the project first (cmake --build {args.build_dir})")
    cores = os.cpu_count()
    rows = with_ratios([best_of(args.trials, binary, n, args.steps, args.global_batch, args.bucket_bytes)
                        for n in RANKS])
    unfused = best_of(args.trials, binary, 2, args.steps, args.global_batch, 1)
    print(f"host {platform.node()}: {cores} cores, 1-minute load average {os.getloadavg()[0]:.1f}")
    print(f"\n### Data-parallel SGD, small CNN, global batch {args.global_batch}, {args.steps} steps, "
          "1 thread per rank (CPU, MPI allreduce)\n")
    print(table(rows))
    print(f"\n### Fusing (2 ranks): one bucket per tensor vs buckets of {args.bucket_bytes} bytes\n")
    print(fusion_table(unfused, rows[1]))
    print("\nWhat limits it here:\n")
    print(limits(rows, cores))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"host_cores": cores, "load_average_1min": os.getloadavg()[0],
                                          "steps": args.steps, "global_batch": args.global_batch,
                                          "bucket_bytes": args.bucket_bytes, "rows": rows,
                                          "unfused_2ranks": unfused}, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Sealing and transport overhead of hddnn's comm layer.

Runs build/bench/crypto/bench_crypto (built with the project) twice:
  aead       seal+open through hddnn's LinkSession vs raw libsodium calls, same sizes;
  rtt        2 ranks on loopback (mpirun): plain MPI ping-pong vs the transport in clear
             and sealed, emulation off;
  idle       share of a core an idle rank's progress thread uses, by idle_wait.
Then lab7 end to end (hddnn.launch.run, mapping, emulated links, every exit's
threshold 0 so every request's features cross the network): --pairs runs sealed and
in clear, alternating, same seed; p50 latency and wire bytes per sample of each, and
what the seal adds. Prints markdown tables and writes bench/results/crypto.json. Every
figure is measured in this run; ratios compare against the baseline measured alongside.

Usage: .venv/bin/python bench/crypto/run.py [--build-dir build] [--pairs 3] [--out bench/results/crypto.json]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from hddnn.launch import LOCAL_MPIRUN_FLAGS

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import common  # noqa: E402
MPIRUN = ["mpirun", *LOCAL_MPIRUN_FLAGS, "-n", "2"]


def run_bench(binary, mode, mpi):
    command = (MPIRUN if mpi else []) + [str(binary), mode]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def aead_table(rows):
    return common.markdown_table(
        ["payload", "raw libsodium MB/s", "hddnn LinkSession MB/s", "ratio", "wire bytes", "seal bytes/msg"],
        ([f"{r['payload_bytes']} B", f"{r['raw_mb_per_s']:.1f}", f"{r['session_mb_per_s']:.1f}",
          f"{r['session_mb_per_s'] / r['raw_mb_per_s']:.2f}", r["wire_bytes"], r["seal_bytes"]] for r in rows),
        align="rrrrrr")


def rtt_table(rows):
    return common.markdown_table(
        ["payload", "MPI ping-pong RTT µs", "transport clear RTT µs", "transport sealed RTT µs",
         "sealed overhead per message µs"],
        ([f"{r['payload_bytes']} B", f"{r['mpi_rtt_us']:.1f}", f"{r['transport_clear_rtt_us']:.1f}",
          f"{r['transport_sealed_rtt_us']:.1f}", f"{r['sealed_overhead_per_message_us']:.1f}"] for r in rows),
        align="rrrrr")


def idle_table(rows):
    return common.markdown_table(["idle_wait µs", "core share per idle rank"],
                                 ([r["idle_wait_us"], f"{100 * r['core_share_per_rank']:.1f}%"] for r in rows),
                                 align="rr")


def end_to_end(pairs):
    """lab7 runs sealed and in clear, alternating: per mode the median p50 and bytes/sample."""
    from hddnn.launch import run
    from hddnn.load import profile_at_threshold, rate_for_load
    model, _ = common.bench_model(str(ROOT))
    topology = str(ROOT / "mapping" / "topologies" / "lab7.json")
    rate = rate_for_load(profile_at_threshold(model, 0.0), topology, 0.1)
    runs = {"sealed": [], "clear": []}
    for _ in range(pairs):
        for mode in runs:
            r = run(model, topology, scheme="mapping", rate=rate, duration=5.0, threshold=0.0, encrypt=mode == "sealed")
            runs[mode].append({"p50_ms": r["latency_ms"]["p50"], "bytes_per_sample": r["bytes_per_sample"],
                               "lost": r["lost"], "answered": r["answered"], "offered": r["offered"]})
    summary = {mode: {"p50_ms": statistics.median(x["p50_ms"] for x in rows),
                      "bytes_per_sample": statistics.median(x["bytes_per_sample"] for x in rows)}
               for mode, rows in runs.items()}
    summary["p50_ratio"] = summary["sealed"]["p50_ms"] / summary["clear"]["p50_ms"]
    summary["seal_bytes_per_sample"] = summary["sealed"]["bytes_per_sample"] - summary["clear"]["bytes_per_sample"]
    return {"rate_per_end_s": rate, "runs": runs, **summary}


def end_to_end_table(e2e):
    table = common.markdown_table(
        ["mode", "p50 ms (median of runs)", "wire bytes per sample"],
        ([mode, f"{e2e[mode]['p50_ms']:.2f}", f"{e2e[mode]['bytes_per_sample']:.1f}"] for mode in ("clear", "sealed")),
        align="lrr")
    return (f"{table}\n\nsealed / clear p50: {e2e['p50_ratio']:.3f} (goal <= 1.03); the seal adds "
            f"{e2e['seal_bytes_per_sample']:.1f} bytes per sample (goal <= 40)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.environ.get("HDDNN_BUILD_DIR", str(ROOT / "build")))
    parser.add_argument("--pairs", type=int, default=3, help="lab7 runs per mode")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "crypto.json"))
    args = parser.parse_args()
    binary = Path(args.build_dir) / "bench" / "crypto" / "bench_crypto"
    if not binary.exists():
        sys.exit(f"{binary} not found: build the project first (scripts/bootstrap or cmake --build build)")
    aead = run_bench(binary, "aead", mpi=False)
    rtt = run_bench(binary, "rtt", mpi=True)
    idle = run_bench(binary, "idle", mpi=True)
    for r in rtt:  # one message each way per round trip
        r["sealed_overhead_per_message_us"] = (r["transport_sealed_rtt_us"] - r["mpi_rtt_us"]) / 2
        r["clear_overhead_per_message_us"] = (r["transport_clear_rtt_us"] - r["mpi_rtt_us"]) / 2
    e2e = end_to_end(args.pairs)
    load = os.getloadavg()[0]
    result = {"host": platform.node(), "cpus": os.cpu_count(), "load_average_1min": load,
              "aead": aead, "round_trip": rtt, "idle": idle, "end_to_end": e2e}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"host {platform.node()}: {os.cpu_count()} cores, 1-minute load average {load:.1f}\n")
    print("## AEAD seal+open (XChaCha20-Poly1305, one core)\n")
    print(aead_table(aead))
    print("\n## Round trip between 2 ranks on loopback (emulation off)\n")
    print(rtt_table(rtt))
    print("\n## Idle cost of the progress thread (2 ranks, transport idle 1 s)\n")
    print(idle_table(idle))
    print(f"\n## lab7 end to end, sealed vs clear (mapping, every request escalates, "
          f"{e2e['rate_per_end_s']:.0f} req/s per end device, {args.pairs} runs each, alternating)\n")
    print(end_to_end_table(e2e))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()

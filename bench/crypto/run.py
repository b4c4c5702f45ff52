#!/usr/bin/env python3
"""Sealing and transport overhead of hddnn's comm layer.

Runs build/bench/crypto/bench_crypto (built with the project) twice:
  aead       seal+open through hddnn's LinkSession vs raw libsodium calls, same sizes;
  rtt        2 ranks on loopback (mpirun): plain MPI ping-pong vs the transport in clear
             and sealed, emulation off;
  idle       share of a core an idle rank's progress thread uses, by idle_wait.
Prints a markdown table and writes bench/results/crypto.json. Every figure is measured
in this run; ratios compare against the baseline measured alongside.

Usage: .venv/bin/python bench/crypto/run.py [--build-dir build] [--out bench/results/crypto.json]
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
MPIRUN = ["mpirun", *LOCAL_MPIRUN_FLAGS, "-n", "2"]


def run_bench(binary, mode, mpi):
    command = (MPIRUN if mpi else []) + [str(binary), mode]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def aead_table(rows):
    lines = ["| payload | raw libsodium MB/s | hddnn LinkSession MB/s | ratio | wire bytes | seal bytes/msg |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['payload_bytes']} B | {r['raw_mb_per_s']:.1f} | {r['session_mb_per_s']:.1f} | "
                     f"{r['session_mb_per_s'] / r['raw_mb_per_s']:.2f} | {r['wire_bytes']} | {r['seal_bytes']} |")
    return "\n".join(lines)


def rtt_table(rows):
    lines = ["| payload | MPI ping-pong RTT µs | transport clear RTT µs | transport sealed RTT µs | "
             "sealed overhead per message µs |",
             "|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['payload_bytes']} B | {r['mpi_rtt_us']:.1f} | {r['transport_clear_rtt_us']:.1f} | "
                     f"{r['transport_sealed_rtt_us']:.1f} | {r['sealed_overhead_per_message_us']:.1f} |")
    return "\n".join(lines)


def idle_table(rows):
    lines = ["| idle_wait µs | core share per idle rank |", "|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['idle_wait_us']} | {100 * r['core_share_per_rank']:.1f}% |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.environ.get("HDDNN_BUILD_DIR", str(ROOT / "build")))
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
    load = os.getloadavg()[0]
    result = {"host": platform.node(), "cpus": os.cpu_count(), "load_average_1min": load,
              "aead": aead, "round_trip": rtt, "idle": idle}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"host {platform.node()}: {os.cpu_count()} cores, 1-minute load average {load:.1f}\n")
    print("## AEAD seal+open (XChaCha20-Poly1305, one core)\n")
    print(aead_table(aead))
    print("\n## Round trip between 2 ranks on loopback (emulation off)\n")
    print(rtt_table(rtt))
    print("\n## Idle cost of the progress thread (2 ranks, transport idle 1 s)\n")
    print(idle_table(idle))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()

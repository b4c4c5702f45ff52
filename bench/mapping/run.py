#!/usr/bin/env python3
"""Mapping benchmark: runs the C++ bench binary (built by CMake as bench_mapping),
prints markdown tables and writes bench/results/mapping.json.

  bench/mapping/run.py [--build-dir build] [--quick | --full]

Solve times are in-process medians; plan quality is the predicted mean latency of
the planner against two baselines on the same lab7-like instances, as ratios
baseline / plan (above 1: the plan is faster)."""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def find_binary(build_dir: Path) -> Path:
    binary = build_dir / "bench" / "mapping" / "bench_mapping"
    if not binary.exists():
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "bench_mapping", "-j2"], check=True)
    return binary


def table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(baseline, planned):
    return None if baseline is None or planned in (None, 0) else baseline / planned


def summarise(data):
    routing = {(r["streams"], r["nodes"]): r["median_ms"] for r in data["routing"]}
    placement = {r["layers"]: r["median_ms"] for r in data["placement"]}
    quality = data["quality"]
    cloud = [ratio(q["cloud_only_ms"], q["plan_ms"]) for q in quality]
    metis = [ratio(q["metis_ms"], q["plan_ms"]) for q in quality]
    finite = lambda values: [v for v in values if v is not None]
    return {
        "routing_1000x64_median_ms": routing.get((1000, 64)),
        "placement_200_layers_median_ms": placement.get(200),
        "cloud_only_over_plan": {"mean": statistics.mean(finite(cloud)), "min": min(finite(cloud)),
                                 "baseline_saturated": len(cloud) - len(finite(cloud))},
        "metis_over_plan": {"mean": statistics.mean(finite(metis)), "min": min(finite(metis)),
                            "baseline_saturated": len(metis) - len(finite(metis))},
        "plan_beats_both": all(q["plan_ms"] is not None and
                               all(b is None or q["plan_ms"] < b for b in (q["cloud_only_ms"], q["metis_ms"]))
                               for q in quality),
        "instances": len(quality),
    }


def report(data, summary):
    fmt = lambda v, d=3: "saturated" if v is None else f"{v:.{d}f}"
    print("## Routing solve time (median ms)\n")
    print(table(["streams", "nodes", "median ms", "runs", "pieces/node", "mean latency ms"],
                [[r["streams"], r["nodes"], fmt(r["median_ms"]), r["runs"], r["pieces_per_node"],
                  fmt(r["objective_ms"], 2)] for r in data["routing"]]))
    print("\n## Placement solve time (median ms, 3 tiers)\n")
    print(table(["layers", "median ms", "runs", "objective ms", "cloud-only ms"],
                [[r["layers"], fmt(r["median_ms"]), r["runs"], fmt(r["objective_ms"], 2), fmt(r["cloud_only_ms"], 2)]
                 for r in data["placement"]]))
    print("\n## Re-planning lab7 (median ms)\n")
    print(table(["case", "median ms", "iterations", "mean latency ms", "feasible"],
                [[r["case"], fmt(r["median_ms"]), r["iterations"], fmt(r["mean_latency_ms"], 2), r["feasible"]]
                 for r in data["replan"]]))
    print("\n## Plan quality on lab7-like instances (predicted mean latency, ms)\n")
    print(table(["#", "variant", "offered/s", "plan", "iters", "cloud-only", "METIS", "cloud/plan", "METIS/plan"],
                [[q["instance"], q["variant"], f"{q['total_rate_per_s']:.0f}", fmt(q["plan_ms"], 2), q["plan_iterations"],
                  fmt(q["cloud_only_ms"], 2), fmt(q["metis_ms"], 2), fmt(ratio(q["cloud_only_ms"], q["plan_ms"]), 2),
                  fmt(ratio(q["metis_ms"], q["plan_ms"]), 2)] for q in data["quality"]]))
    c, m = summary["cloud_only_over_plan"], summary["metis_over_plan"]
    print(f"\nMean-latency ratio over {summary['instances']} instances: cloud-only / plan = {c['mean']:.2f} "
          f"(min {c['min']:.2f}), METIS / plan = {m['mean']:.2f} (min {m['min']:.2f}); "
          f"plan beats both everywhere: {summary['plan_beats_both']}.")
    print(f"Targets: routing 1000 streams x 64 nodes median {fmt(summary['routing_1000x64_median_ms'])} ms "
          f"(target <= 10 ms); placement 200 layers median {fmt(summary['placement_200_layers_median_ms'])} ms "
          f"(target <= 50 ms).")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.environ.get("HDDNN_BUILD_DIR", str(ROOT / "build")))
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="routing up to 64,000 stream-nodes (default 256,000)")
    size.add_argument("--full", action="store_true", help="every routing size up to 10,000 x 256 (takes long)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "mapping.json"))
    args = parser.parse_args(argv)
    command = [str(find_binary(Path(args.build_dir))), str(ROOT / "mapping" / "topologies")]
    if args.quick or args.full:
        command.append("--quick" if args.quick else "--full")
    data = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    summary = summarise(data)
    report(data, summary)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, **data}, indent=2) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

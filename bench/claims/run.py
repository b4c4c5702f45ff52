#!/usr/bin/env python3
"""bench/claims: DDNN's and BranchyNet's published claims reproduced with hddnn's
networks on Fashion-MNIST.

Trains small models (cached under runs/ by bench/common.trained_model, reused when
present): fmnist_ddnn6 (six grid6 devices, edge aggregator) with the edge aggregator
set to concat (the spec's), max and avg, and fmnist_hetero (single view; the same
folder bench/schemes uses). From them it measures: the exit curve (local exits vs
overall accuracy), bytes each device sends against raw offload, accuracy with one
device missing, the three aggregators, and the early-exit speed-up of the exported
sections timed at batch 1 here. Prints markdown, writes bench/results/claims.json
(with "claims") and bench/results/claims_exit_curve.png.

    .venv/bin/python bench/claims/run.py [--quick] [--epochs N] [--limit N]
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
ROOT = os.path.dirname(os.path.dirname(HERE))

import branchy  # noqa: E402
import common  # noqa: E402
import ddnn  # noqa: E402
from hddnn import datasets  # noqa: E402

DDNN6 = common.DDNN6
HETERO = os.path.join(ROOT, "models", "fmnist_hetero.json")
DDNN6_TOPOLOGY = os.path.join(ROOT, "mapping", "topologies", "ddnn6.json")
AGGREGATORS = ("concat", "max", "avg")


def spec_with_aggregator(aggregator, folder):
    """Path of the ddnn6 spec with the edge section's aggregator replaced (written under folder)."""
    if aggregator == "concat":
        return DDNN6
    with open(DDNN6) as f:
        spec = json.load(f)
    spec["name"] = f"{spec['name']}_{aggregator}"
    edge = next(s for s in spec["sections"] if "aggregator" in s)
    edge["aggregator"] = aggregator
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{spec['name']}.json")
    with open(path, "w") as f:
        json.dump(spec, f, indent=2)
    return path


def train_models(quick, epochs, limit):
    """{model: (run folder, seconds this call spent training)}, trained or reused."""
    budget = common.QUICK_BUDGET if quick else common.BUDGET
    runs = common.claims_runs(quick)
    d_epochs, d_limit = budget["ddnn6"]
    models = {}
    for aggregator in AGGREGATORS:
        spec = spec_with_aggregator(aggregator, os.path.join(runs, "specs"))
        models[aggregator] = common.trained_model(spec, os.path.join(runs, f"fmnist_ddnn6_{aggregator}"),
                                                  epochs or d_epochs, limit or d_limit)
    h_epochs, h_limit = budget["hetero"]
    hetero_dir = os.path.join(runs, "fmnist_hetero") if quick else os.path.join(ROOT, "runs", "bench_hetero")
    prefer = () if quick else (os.path.join(ROOT, "runs", "fmnist_hetero"),)
    models["hetero"] = common.trained_model(HETERO, hetero_dir, h_epochs, h_limit, prefer=prefer)
    return models


def training_table(models):
    rows = []
    for name, (folder, seconds) in models.items():
        metrics, _ = ddnn.read_run(folder)
        rows.append([name, f"`{os.path.relpath(folder, ROOT)}`", metrics["steps"], f"{metrics['train_seconds']:.0f}",
                     "trained now" if seconds else "reused"])
    return common.markdown_table(["model", "run folder", "steps", "training s (metrics.json)", "this run"], rows)


def measure(models, repeats):
    """[(results key, markdown, data, claims entry)] for the five claims."""
    ddnn6 = models["concat"][0]
    metrics, manifest = ddnn.read_run(ddnn6)
    test6 = datasets.fashion_mnist("test", "grid6")
    test1 = datasets.fashion_mnist("test", "single", limit=1)
    plot = os.path.join(common.RESULTS, "claims_exit_curve.png")
    os.makedirs(common.RESULTS, exist_ok=True)
    hetero = models["hetero"][0]
    h_metrics, h_manifest = ddnn.read_run(hetero)
    aggregators = {a: ddnn.read_run(models[a][0]) for a in AGGREGATORS}
    return [
        ("exit_curve", *ddnn.exit_curve_claim(metrics, manifest, plot)),
        ("communication", *ddnn.communication_claim(ddnn6, manifest, test6, test1.images[0].numel(),
                                                    DDNN6_TOPOLOGY)),
        ("missing_device", *ddnn.missing_device_claim(metrics, manifest)),
        ("aggregators", *ddnn.aggregator_claim(aggregators)),
        ("speedup", *branchy.speedup_claim(hetero, h_metrics, h_manifest, test1.images[0], repeats)),
    ]


def report(found, models, wall_s, quick):
    print("## Published claims: DDNN and BranchyNet on Fashion-MNIST\n")
    print("DDNN (Teerapittayanon, McDanel, Kung, ICDCS 2017) and BranchyNet (ICPR 2016) measured on MVMC and "
          "their own nets; here hddnn's `fmnist_ddnn6` (six 14x14 grid views, one per device) and "
          "`fmnist_hetero` are trained small for this bench, so absolute accuracies sit below the fully "
          "trained figures in docs/networks.md; each claim states the test applied. "
          f"Whole bench: {wall_s:.0f} s{' (--quick)' if quick else ''} on this machine. "
          "Rerun: `.venv/bin/python bench/claims/run.py [--quick]` (delete runs/claims to retrain).\n")
    print("### Training\n")
    print(training_table(models) + "\n")
    print(common.markdown_table(["claim", "source", "theirs", "ours", "holds"],
                                [[c["claim"], c["source"], c["theirs"], c["ours"], "✓" if c["holds"] else "✗"]
                                 for _, _, _, c in found]))
    for _, md, _, _ in found:
        print("\n" + md)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny models in runs/claims-quick")
    parser.add_argument("--epochs", type=int, default=None, help="override the ddnn6 models' epochs")
    parser.add_argument("--limit", type=int, default=None, help="override the ddnn6 models' training samples")
    parser.add_argument("--repeats", type=int, default=None, help="batch-1 forwards timed per section")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    models = train_models(args.quick, args.epochs, args.limit)
    found = measure(models, args.repeats or (50 if args.quick else 500))
    wall_s = time.perf_counter() - start
    common.write_results("claims", {
        "quick": args.quick, "wall_s": wall_s,
        "models": {name: {"folder": os.path.relpath(folder, ROOT), "trained_seconds_now": seconds}
                   for name, (folder, seconds) in models.items()},
        **{key: data for key, _, data, _ in found},
        "claims": [claim for _, _, _, claim in found]})
    report(found, models, wall_s, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""bench/gpu: hddnn on a GPU against the CPU, in one program.

Three checks, each through hddnn's own entry points (the `hddnn train` CLI and
`hddnn.launch.run`), with the same seed on both sides:

 1. train: `fmnist_hetero` for --epochs on the training split, `--device cuda` against
    the 2-thread CPU trainer (`--device cpu --threads 2`): steps/s (pure training time:
    the history's seconds) and final-exit test accuracy.
 2. data-parallel: `hddnn train --ranks 2 --device cuda` against `--ranks 1` on a
    smaller budget: the per-epoch loss curve and the final-exit accuracy. Two ranks
    may share one GPU (NCCL then does not take them: gradients are staged through
    host memory; with a GPU per rank they go through NCCL).
 3. serving: lab7 under end-cloud with every request escalated (threshold 0), the
    cloud device on the GPU (`"accelerator": "cuda"`) against the CPU cloud, offered
    --load times what the CPU cloud serves: the answered throughput (saturated).

Prints the markdown section of bench/REPORT.md (bench/run.py saves it as
bench/results/gpu.md) headed by the GPU's name and the date, and writes
bench/results/gpu.json with the figures and the claims the issue sets
(>= 5x steps/s, accuracy within 0.5 pt, 2-rank loss within 2% of 1 rank,
>= 3x saturated cloud throughput). Without a GPU it says so and exits 0.

    .venv/bin/python bench/run.py gpu                # or: python bench/gpu/run.py
    python bench/gpu/run.py --quick                  # a short dry run of every check

Importing this module needs only the standard library; torch and hddnn are
imported when it runs.
"""
import argparse
import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SPEC = os.path.join(ROOT, "models", "fmnist_hetero.json")
LAB7 = os.path.join(ROOT, "mapping", "topologies", "lab7.json")
FINAL_EXIT = "cloud/fine"


def today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def gpu_name():
    """The first GPU's name, or None when this torch sees none."""
    import torch
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def train(out, device, epochs, limit, ranks=1, threads=2):
    """Runs `hddnn train` and returns its metrics with steps/s over the training time."""
    cmd = [sys.executable, "-m", "hddnn", "train", "--spec", SPEC, "--out", out, "--epochs", str(epochs),
           "--seed", "0", "--no-progress", "--device", device, "--threads", str(threads), "--ranks", str(ranks)]
    if limit:
        cmd += ["--limit", str(limit)]
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    with open(os.path.join(out, "metrics.json")) as f:
        metrics = json.load(f)
    seconds = sum(r["seconds"] for r in metrics["history"])
    return {"device": device, "ranks": ranks, "steps": metrics["steps"], "train_seconds": round(seconds, 2),
            "steps_per_s": round(metrics["steps"] / seconds, 2), "accuracy": metrics["accuracy"][FINAL_EXIT],
            "loss_curve": [round(r["loss"], 5) for r in metrics["history"]], "model": out}


def claim(text, theirs, ours, holds):
    return {"claim": text, "source": "issue 23", "theirs": theirs, "ours": ours, "holds": bool(holds)}


def training_check(work, args):
    gpu = train(os.path.join(work, "train-cuda"), "cuda", args.epochs, args.limit)
    cpu = train(os.path.join(work, "train-cpu"), "cpu", args.epochs, args.limit, threads=2)
    speedup = gpu["steps_per_s"] / cpu["steps_per_s"]
    gap = abs(gpu["accuracy"] - cpu["accuracy"]) * 100
    return {"cuda": gpu, "cpu": cpu, "speedup": round(speedup, 2), "accuracy_gap_pt": round(gap, 2)}, [
        claim("fmnist_hetero trains on CUDA at >= 5x the 2-thread CPU trainer's steps/s", ">= 5x",
              f"{speedup:.1f}x", speedup >= 5),
        claim("the same final accuracy on CUDA as on the CPU", "within 0.5 pt", f"{gap:.2f} pt", gap <= 0.5)]


def data_parallel_check(work, args):
    one = train(os.path.join(work, "dp-1"), "cuda", args.dp_epochs, args.dp_limit, ranks=1)
    two = train(os.path.join(work, "dp-2"), "cuda", args.dp_epochs, args.dp_limit, ranks=2)
    worst = max(abs(a - b) / abs(a) for a, b in zip(one["loss_curve"], two["loss_curve"])) * 100
    return {"ranks1": one, "ranks2": two, "worst_epoch_loss_gap_pct": round(worst, 2)}, [
        claim("`hddnn train --ranks 2 --device cuda` matches 1 rank's loss curve", "per-epoch loss within 2%",
              f"{worst:.2f}%", worst <= 2)]


def gpu_topology(work):
    """lab7 with its cloud device on the GPU."""
    with open(LAB7) as f:
        topology = json.load(f)
    for device in topology["devices"]:
        if device["tier"] == "cloud":
            device["accelerator"] = "cuda"
    path = os.path.join(work, "lab7-gpu-cloud.json")
    with open(path, "w") as f:
        json.dump(topology, f)
    return path


def cpu_cloud_rate(model):
    """Requests/s the CPU cloud serves when it runs edge and cloud sections for each
    (the model's profile, batch 1, at the cloud's speed)."""
    from hddnn.mapping import load_topology
    with open(os.path.join(model, "profile.json")) as f:
        sections = json.load(f)["sections"]
    work_ms = sum(s["compute_ms"]["batch1"] for s in sections if s["tier"] != "end")
    cloud = next(d for d in load_topology(LAB7)["devices"] if d["tier"] == "cloud")
    return 1000.0 * cloud["speed"] / work_ms


def serve(model, topology, rate, duration):
    from hddnn.launch import run
    r = run(model, topology, scheme="end-cloud", rate=rate, duration=duration, threshold=0.0, timeout=600)
    cloud = next(d for d in r["per_device"] if d["tier"] == "cloud")
    return {"offered": r["offered"], "answered": r["answered"], "throughput_per_s": round(r["throughput_per_s"], 1),
            "cloud_utilisation": round(cloud["utilisation"], 3), "p50_ms": r["latency_ms"]["p50"]}


def serving_check(work, model, args):
    from hddnn.mapping import load_topology
    ends = sum(1 for d in load_topology(LAB7)["devices"] if d["tier"] == "end")
    rate = args.load * cpu_cloud_rate(model) / ends
    cpu = serve(model, LAB7, rate, args.duration)
    gpu = serve(model, gpu_topology(work), rate, args.duration)
    gain = gpu["throughput_per_s"] / cpu["throughput_per_s"]
    return {"rate_per_end_device": round(rate, 1), "cpu_cloud": cpu, "gpu_cloud": gpu, "gain": round(gain, 2)}, [
        claim("lab7 with a GPU cloud raises the cloud's saturated throughput over the CPU cloud", ">= 3x",
              f"{gain:.1f}x", gain >= 3)]


def markdown(res):
    lines = ["## bench/gpu", "", f"- GPU: **{res['gpu']}**; host {res['host']}; {res['date']}", ""]
    t = res["train"]
    lines += ["### Training on the GPU against the 2-thread CPU trainer", "",
              "| device | steps | steps/s | final-exit accuracy |", "|---|---:|---:|---:|"]
    lines += [f"| {k} | {t[k]['steps']} | {t[k]['steps_per_s']} | {t[k]['accuracy']:.4f} |" for k in ("cuda", "cpu")]
    lines += ["", f"Speed-up {t['speedup']}x; accuracy gap {t['accuracy_gap_pt']} pt.", ""]
    d = res["data_parallel"]
    lines += ["### Data-parallel on the GPU: 2 ranks against 1", "", "| ranks | loss per epoch | accuracy |",
              "|---:|---|---:|"]
    lines += [f"| {d[k]['ranks']} | {', '.join(map(str, d[k]['loss_curve']))} | {d[k]['accuracy']:.4f} |"
              for k in ("ranks1", "ranks2")]
    lines += ["", f"Worst per-epoch loss gap {d['worst_epoch_loss_gap_pct']}%.", ""]
    s = res["serving"]
    lines += ["### Serving lab7 (end-cloud, every request escalated): GPU cloud against CPU cloud", "",
              f"Offered {s['rate_per_end_device']} requests/s per end device.", "",
              "| cloud | offered | answered | throughput /s | cloud utilisation | p50 ms |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {k} | {s[k]['offered']} | {s[k]['answered']} | {s[k]['throughput_per_s']} | "
              f"{s[k]['cloud_utilisation']} | {s[k]['p50_ms']} |" for k in ("cpu_cloud", "gpu_cloud")]
    lines += ["", f"Gain {s['gain']}x.", "", "| claim | target | measured | holds |", "|---|---|---|---|"]
    lines += [f"| {c['claim']} | {c['theirs']} | {c['ours']} | {'✓' if c['holds'] else '✗'} |" for c in res["claims"]]
    return "\n".join(lines)


def no_gpu_markdown(res):
    return (f"## bench/gpu\n\nNo GPU on {res['host']} ({res['date']}): torch {res['torch']} sees no CUDA device, "
            "so the GPU checks (training, data-parallel, serving) did not run. On a GPU machine, "
            "`bash scripts/gpu_check.sh` builds against its CUDA torch and runs them.")


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="training check: epochs")
    parser.add_argument("--limit", type=int, default=0, help="training check: samples (0: the whole split)")
    parser.add_argument("--dp-epochs", type=int, default=3, help="data-parallel check: epochs")
    parser.add_argument("--dp-limit", type=int, default=12800, help="data-parallel check: samples")
    parser.add_argument("--load", type=float, default=6.0, help="serving: offered load in CPU-cloud capacities")
    parser.add_argument("--duration", type=float, default=3.0, help="serving: seconds of arrivals")
    parser.add_argument("--quick", action="store_true", help="a short dry run of every check")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "gpu.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.limit, args.dp_epochs, args.dp_limit, args.duration = 2560, 2, 2560, 1.0
    return args


def main(argv=None):
    args = parse(argv)
    import torch
    res = {"date": today(), "host": socket.gethostname(), "torch": torch.__version__, "gpu": gpu_name(), "claims": []}
    if res["gpu"] is None:
        text = no_gpu_markdown(res)
    else:
        with tempfile.TemporaryDirectory(prefix="hddnn_gpu_") as work:
            res["train"], claims = training_check(work, args)
            res["data_parallel"], more = data_parallel_check(work, args)
            res["serving"], most = serving_check(work, res["train"]["cuda"]["model"], args)
            res["claims"] = claims + more + most
        text = markdown(res)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=2)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""hddnn train: trains a spec's network jointly, picks exit thresholds on the
validation split, scores the test split, and writes into --out:
checkpoint.pt, metrics.json, exit_curve.png, profile.json and the export
(end.pt / end<i>.pt, edge.pt, cloud.pt, manifest.json). The data is Fashion-MNIST,
or with `--data FILE` a data file of your own (hddnn.datasets.save: its train, val
and test splits; the spec's input shape comes from its images).

`--ranks N` (or starting it under `mpirun -n N`) trains data-parallel: every rank
takes its share of each global batch and gradients are averaged over ranks, so the
result matches one process (exactly without batch norm; batch norm normalizes over
each rank's shard); rank 0 writes the outputs.

`--device cuda` trains on the GPU (under `--ranks N`, each rank on the GPU of its local
rank, gradients averaged with NCCL), `--device cuda:N` on GPU N; `--amp` adds mixed
precision there. Evaluation, profiling and export run on the CPU afterwards."""
import json
import os
import time

CHECKPOINT = "checkpoint.pt"


def register(subparsers):
    parser = subparsers.add_parser("train", help="train a multi-exit network from a spec")
    parser.add_argument("--spec", required=True, help="network spec (models/*.json)")
    parser.add_argument("--data", default=None,
                        help="a data file (hddnn.datasets.save) with train, val and test splits; default: Fashion-MNIST")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default: the spec's)")
    parser.add_argument("--out", required=True, help="run folder")
    parser.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.pt")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = all cores)")
    parser.add_argument("--checkpoint-every", type=int, default=200, help="steps between checkpoints")
    parser.add_argument("--tolerance", type=float, default=0.005,
                        help="accuracy the exit policy may lose against the last exit")
    parser.add_argument("--limit", type=int, default=None, help="use only this many training samples")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--ranks", type=int, default=None,
                        help="data-parallel ranks on this host (default: the mpirun job's size, else 1)")
    parser.add_argument("--device", default="cpu",
                        help="cpu, cuda (each rank the GPU of its local rank) or cuda:N (default: cpu)")
    parser.add_argument("--amp", action="store_true", help="mixed precision (autocast, loss scaling); CUDA only")
    parser.set_defaults(func=run)


def _print_epochs(step, total, epoch, loss, record) -> None:
    """Progress without a bar: one line per finished epoch."""
    if record is not None:
        r = json.loads(record)
        scores = ", ".join(f"{k} {v:.4f}" for k, v in r["val_accuracy"].items())
        print(f"epoch {epoch} step {step}/{total} loss {r['loss']:.4f} ({r['seconds']:.0f} s): {scores}", flush=True)


def _missing_view_accuracy(net, test, views: int) -> dict:
    """Final-exit and policy accuracy with each device's view zeroed (device missing)."""
    import torch
    result = {}
    for view in range(views):
        mask = torch.ones(test.fine.numel(), views)
        mask[:, view] = 0
        images = test.images.clone()
        images[:, view] = 0
        scores = net.evaluate((images, test.labels), mask=mask)
        result[str(view)] = {"accuracy": scores["accuracy"], "policy": scores.get("policy")}
    return result


def _metrics(net, val, test, seconds: float) -> dict:
    scores = net.evaluate(test)
    metrics = {
        "spec": net.spec.get("name"),
        "labels": [s["name"] for s in net.label_sets],
        "steps": net.step,
        "train_seconds": seconds,
        "accuracy": scores["accuracy"],
        "thresholds": net.thresholds,
        "policy": scores.get("policy"),
        "exit_curve": scores["exit_curve"],
        "val_accuracy": net.evaluate(val)["accuracy"],
    }
    views = test.images.shape[1] if test.images.dim() == 5 else 1
    if views > 1:
        metrics["missing_view"] = _missing_view_accuracy(net, test, views)
    return metrics


def _plot_exit_curve(metrics: dict, path: str) -> None:
    """Exit fraction per policy exit and overall accuracy against the threshold T,
    with the chosen operating point marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    curve = metrics["exit_curve"]
    ts = [p["thresholds"][0] if p["thresholds"] else 0.0 for p in curve]
    fig, left = plt.subplots(figsize=(6.4, 4.0))
    for name in curve[0]["exit_fraction"]:
        left.plot(ts, [p["exit_fraction"][name] for p in curve], label=f"exit at {name}")
    left.set_xlabel("normalized-entropy threshold T")
    left.set_ylabel("fraction of samples")
    right = left.twinx()
    right.plot(ts, [p["accuracy"] for p in curve], "k--", label="overall accuracy")
    right.set_ylabel("overall accuracy")
    policy = metrics.get("policy")
    if policy:
        right.axhline(policy["accuracy"], color="grey", lw=0.8)
    lines = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(lines, [l.get_label() for l in lines], loc="center right", fontsize=8)
    left.set_title(f"{metrics['spec']}: DDNN exit curve (test)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _check_ranks(requested, size: int) -> None:
    from ..errors import ConfigError
    if requested is not None and requested < 1:
        raise ConfigError(f"--ranks: must be >= 1, got {requested}")
    if requested is not None and size > 1 and requested != size:
        raise ConfigError(f"--ranks {requested}, but mpirun started {size} ranks")


def _splits(args):
    """train, val and test: from --data, else Fashion-MNIST cut into the spec's views."""
    from .. import datasets
    if args.data:
        train, val, test = (datasets.load(args.data, split) for split in datasets.SPLITS)
        if args.limit:
            train = datasets.LabelledImages(train.images[:args.limit], train.labels[:args.limit])
        return train, val, test
    with open(args.spec) as f:
        views = json.load(f).get("views", "single")
    return (datasets.fashion_mnist("train", views, seed=args.seed, limit=args.limit),
            datasets.fashion_mnist("val", views, seed=args.seed), datasets.fashion_mnist("test", views))


def run(args) -> int:
    from ..launch import relaunch_under_mpirun, world_from_environment
    from ..network import Network
    rank, size = world_from_environment()
    _check_ranks(args.ranks, size)
    if size == 1 and (args.ranks or 1) > 1:
        return relaunch_under_mpirun(args.ranks, args.argv)
    os.makedirs(args.out, exist_ok=True)
    checkpoint = os.path.join(args.out, CHECKPOINT)
    train, val, test = _splits(args)
    if args.resume and os.path.exists(checkpoint):
        net = Network.load(checkpoint)
    else:
        net = Network.from_spec(args.spec, seed=args.seed, data=train)
    started = time.perf_counter()
    quiet = args.no_progress or rank != 0
    history = net.fit(train, val, epochs=args.epochs, progress=not quiet,
                      on_step=_print_epochs if args.no_progress and rank == 0 else None, seed=args.seed,
                      threads=args.threads, checkpoint=checkpoint, checkpoint_every=args.checkpoint_every,
                      distributed=size > 1, device=args.device, amp=args.amp)
    seconds = time.perf_counter() - started
    if rank != 0:
        return 0
    net.choose_thresholds(val, tolerance=args.tolerance)
    net.save(checkpoint)
    metrics = _metrics(net, val, test, seconds)
    metrics["history"] = history
    metrics["ranks"] = size
    metrics["device"] = args.device
    metrics["amp"] = args.amp
    metrics["profile"] = net.profile(test)
    net.export(args.out)
    with open(os.path.join(args.out, "profile.json"), "w") as f:
        json.dump(metrics["profile"], f, indent=2)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    _plot_exit_curve(metrics, os.path.join(args.out, "exit_curve.png"))
    print(json.dumps({"accuracy": metrics["accuracy"], "policy": metrics["policy"],
                      "train_seconds": round(seconds, 1), "ranks": size, "device": args.device,
                      "out": args.out}, indent=2))
    return 0

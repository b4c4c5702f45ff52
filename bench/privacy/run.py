#!/usr/bin/env python3
"""bench/privacy: what an honest-but-curious edge or cloud can rebuild from the features
end devices send it (model inversion: He, Zhang, Lee, ACSAC 2019).

Trains fmnist_hetero with its end section's output quantized three ways: 1bit (the
shipped spec, in the folder bench/common's small hetero model uses), 8bit and float32,
each at bench/common's hetero budget (trained once under runs/, reused when present).
For each boundary it trains a decoder (bench/privacy/inversion.py) from the features
the exported end section sends to the images, on Fashion-MNIST's training split, and
scores its reconstructions of the test split with PSNR and SSIM. Raw pixels (what a
device would send without the end section: the curious tier sees the image itself)
bound them. Prints markdown; writes privacy.json and privacy.png (originals against
each boundary's reconstructions) to bench/results/ or --results.

    .venv/bin/python bench/privacy/run.py [--quick] [--results DIR]

--quick: a smoke run of the same steps with the tiny test spec
(tests/python/data/tiny_hetero.json) and small budgets (QUICK_BUDGET).
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
ROOT = os.path.dirname(os.path.dirname(HERE))

import common  # noqa: E402
import inversion  # noqa: E402
import torch  # noqa: E402
from hddnn import datasets  # noqa: E402

HETERO = os.path.join(ROOT, "models", "fmnist_hetero.json")
TINY = os.path.join(ROOT, "tests", "python", "data", "tiny_hetero.json")
SHIPPED = "1bit"
QUANTIZATIONS = (SHIPPED, "8bit", "float32")
RAW = "raw pixels"
RAW_BYTES = 784  # a Fashion-MNIST image as uint8 pixels
# Decoder budgets: epochs over `train_samples` training images, scored on `test_samples` test images.
BUDGET = {"epochs": 3, "train_samples": 20000, "test_samples": 10000, "batch_size": 128, "width": 32}
QUICK_BUDGET = {"epochs": 1, "train_samples": 2000, "test_samples": 500, "batch_size": 128, "width": 16}
THREADS = 2


# ---- the networks ---------------------------------------------------------------------

def spec_with_quantization(spec_path, quantization, folder):
    """Path of the spec with its end section's output quantized as `quantization`
    (the spec itself when it already is; otherwise a copy written under folder)."""
    with open(spec_path) as f:
        spec = json.load(f)
    output = next(s for s in spec["sections"] if s["tier"] == "end")["output"]
    if output["quantize"] == quantization:
        return spec_path
    output["quantize"] = quantization
    spec["name"] = f"{spec['name']}_{quantization}"
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{spec['name']}.json")
    with open(path, "w") as f:
        json.dump(spec, f, indent=2)
    return path


def network_budget(quick):
    """(epochs, training images) each network trains for: bench/common's hetero budget."""
    return (common.QUICK_BUDGET if quick else common.BUDGET)["hetero"]


def train_models(quick):
    """{quantization: (model folder, seconds this call spent training)}: one network per
    boundary format, all at the same budget (the shipped 1bit one is runs/bench_hetero)."""
    spec, (epochs, limit) = TINY if quick else HETERO, network_budget(quick)
    runs = os.path.join(ROOT, "runs", "privacy-quick" if quick else "privacy")
    models = {}
    for quantization in QUANTIZATIONS:
        path = spec_with_quantization(spec, quantization, os.path.join(runs, "specs"))
        name = os.path.splitext(os.path.basename(path))[0]
        out = os.path.join(ROOT, "runs", "bench_hetero") if path == HETERO else os.path.join(runs, name)
        models[quantization] = common.trained_model(path, out, epochs, limit, threads=THREADS)
    return models


# ---- the attack -------------------------------------------------------------------------

def attack(model, train_images, test_images, budget):
    """Trains a decoder on the boundary features of `train_images` and rebuilds `test_images`.
    Returns (row, reconstructions of test_images)."""
    edge = inversion.boundary(model)
    decoder, seconds = inversion.train_decoder(inversion.boundary_features(model, train_images), train_images,
                                               epochs=budget["epochs"], batch_size=budget["batch_size"],
                                               width=budget["width"])
    rebuilt = inversion.reconstruct(decoder, inversion.boundary_features(model, test_images))
    row = {"boundary": edge["quantization"], "shape": edge["shape"], "bytes_per_sample": edge["bytes_per_sample"],
           "decoder_seconds": seconds, **inversion.score(rebuilt, test_images)}
    return row, rebuilt


def measure(models, train_images, test_images, budget):
    """Rows (raw pixels first, then each model's boundary) and {boundary: reconstructions}.
    models: {label: exported model folder}; images N x 1 x H x W."""
    rows = [{"boundary": RAW, "shape": list(test_images.shape[1:]), "bytes_per_sample": RAW_BYTES,
             "decoder_seconds": 0.0, **inversion.score(test_images, test_images)}]
    rebuilt = {}
    for label, model in models.items():
        row, rebuilt[label] = attack(model, train_images, test_images, budget)
        rows.append(row)
    return rows, rebuilt


# ---- output ------------------------------------------------------------------------------

def psnr_cell(row):
    return "∞ (exact)" if row["psnr_db"] is None else f"{row['psnr_db']:.2f}"


def table(rows, accuracy):
    """Markdown: one line per boundary; accuracy: {boundary: edge/fine test accuracy}."""
    return common.markdown_table(
        ["boundary", "shape", "bytes per sample", "PSNR dB", "SSIM", "MSE", "edge/fine accuracy", "decoder s"],
        [[row["boundary"] + (" (shipped)" if row["boundary"] == SHIPPED else ""),
          "x".join(str(n) for n in row["shape"]), row["bytes_per_sample"], psnr_cell(row), f"{row['ssim']:.4f}",
          f"{row['mse']:.5f}", f"{accuracy[row['boundary']]:.4f}" if row["boundary"] in accuracy else "—",
          f"{row['decoder_seconds']:.0f}"] for row in rows])


def one_per_class(labels, classes=10):
    """Index of the first sample of each class present in `labels`."""
    return [int((labels == c).nonzero()[0]) for c in range(classes) if (labels == c).any()]


def figure(originals, rebuilt, rows, path):
    """Originals (top) and each boundary's reconstructions, one column per image."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    by_boundary = {row["boundary"]: row for row in rows}
    lines = [(f"original\n= {RAW} ({RAW_BYTES} B)", originals)]
    lines += [(f"{label}: {by_boundary[label]['bytes_per_sample']} B\nPSNR {psnr_cell(by_boundary[label])}, "
               f"SSIM {by_boundary[label]['ssim']:.3f}", images) for label, images in rebuilt.items()]
    fig, axes = plt.subplots(len(lines), len(originals), figsize=(1.1 * len(originals) + 1.6, 1.25 * len(lines)),
                             squeeze=False)
    for axes_row, (label, images) in zip(axes, lines):
        for ax, image in zip(axes_row, images):
            ax.imshow(image[0].numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes_row[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle("What a curious tier rebuilds from the end devices' features (Fashion-MNIST test split)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def edge_accuracy(models):
    """{boundary: the edge/fine test accuracy in the model's metrics.json}."""
    found = {}
    for quantization, (folder, _) in models.items():
        with open(os.path.join(folder, "metrics.json")) as f:
            found[quantization] = json.load(f)["accuracy"]["edge/fine"]
    return found


def report(rows, accuracy, models, budget, wall_s, quick):
    epochs, limit = network_budget(quick)
    trained = sum(seconds for _, seconds in models.values())
    print("## bench/privacy: what a curious edge or cloud can rebuild from the end devices' features\n")
    print("He et al.'s black-box model inversion (ACSAC 2019): the tier receiving an end device's features queries "
          "the end section with its own images, trains a decoder from features to images, and applies it to what "
          f"devices send. {'The tiny test spec' if quick else '`fmnist_hetero`'} is trained with its end output "
          f"quantized as 1bit (shipped), 8bit and float32 ({epochs} epochs on {limit:,} images each; "
          f"{trained:.0f} s of training in this run, 0 when reused from runs/); each decoder "
          f"({budget['width']} channels) trains {budget['epochs']} epochs on {budget['train_samples']:,} "
          f"training images and is scored on {budget['test_samples']:,} test images (PSNR over [0, 1], SSIM of "
          "Wang et al. 2004: Gaussian 11x11, σ = 1.5). Raw pixels: the image itself (the identity), the upper bound. "
          f"Whole bench: {wall_s:.0f} s{' (--quick)' if quick else ''}, {THREADS} threads.\n")
    print(table(rows, accuracy) + "\n")
    print("![originals and reconstructions](results/privacy.png)")


def payload(rows, accuracy, models, budget, wall_s, quick):
    return {"quick": quick, "wall_s": wall_s, "threads": THREADS, "decoder_budget": budget,
            "network_budget": dict(zip(("epochs", "limit"), network_budget(quick))),
            "models": {q: {"folder": os.path.relpath(folder, ROOT), "trained_seconds_now": seconds,
                           "edge_fine_accuracy": accuracy[q]} for q, (folder, seconds) in models.items()},
            "rows": rows, "figure": "privacy.png"}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: the tiny spec, small budgets")
    parser.add_argument("--results", default=common.RESULTS, help="folder for privacy.json and privacy.png")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    torch.set_num_threads(THREADS)
    budget = QUICK_BUDGET if args.quick else BUDGET
    models = train_models(args.quick)
    train = datasets.fashion_mnist("train", limit=budget["train_samples"])
    test = datasets.fashion_mnist("test", limit=budget["test_samples"])
    rows, rebuilt = measure({q: folder for q, (folder, _) in models.items()}, train.images[:, 0],
                            test.images[:, 0], budget)
    os.makedirs(args.results, exist_ok=True)
    shown = one_per_class(test.fine)
    figure(test.images[shown, 0], {label: images[shown] for label, images in rebuilt.items()}, rows,
           os.path.join(args.results, "privacy.png"))
    accuracy = edge_accuracy(models)
    wall_s = time.perf_counter() - start
    with open(os.path.join(args.results, "privacy.json"), "w") as f:
        json.dump(payload(rows, accuracy, models, budget, wall_s, args.quick), f, indent=2)
    report(rows, accuracy, models, budget, wall_s, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

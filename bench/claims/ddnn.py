"""DDNN's claims (Teerapittayanon, McDanel, Kung, ICDCS 2017) checked on trained
hddnn run folders (`hddnn train --out`: metrics.json, manifest.json, the export).

Each `*_claim` function takes what it measures from, returns (markdown section,
JSON payload, claims entry) and computes every figure from the run folders or by
running the exported sections; nothing is typed in. In fmnist_ddnn6 the six end
devices always send their features to the edge aggregator, whose exit is the first
policy exit: DDNN's *local* exit (their local aggregator); the cloud exit is last.
"""
import json
import math
import os

import torch

from common import markdown_table

LOCAL_SHARE = 0.608          # DDNN: 60.8% of MVMC samples exit locally at 97% overall
LOCAL_TOLERANCE = 0.01       # overall accuracy may lose this much against all-cloud
OFFLOAD_FACTOR = 20.0        # DDNN: > 20x less communication than raw offload
MISSING_DROP = 0.03          # "small drop": worst single missing device costs <= 3 points
AGGREGATOR_TOLERANCE = 0.01  # concat (the shipped default) within 1 point of the best
BITS = {"1bit": 1, "8bit": 8, "float32": 32}


def read_run(folder):
    """(metrics.json, manifest.json) of a trained run folder."""
    with open(os.path.join(folder, "metrics.json")) as f:
        metrics = json.load(f)
    with open(os.path.join(folder, "manifest.json")) as f:
        return metrics, json.load(f)


def pct(x):
    return f"{100 * x:.1f}%"


def entry(claim, source, theirs, ours, holds):
    return {"claim": claim, "source": source, "theirs": theirs, "ours": ours, "holds": bool(holds)}


# ---- exit curve --------------------------------------------------------------------

def curve_points(metrics, manifest):
    """[(T, local share, overall accuracy)] of the run's exit curve on the test split."""
    local = manifest["exit_policy"]["exits"][0]
    return [(p["thresholds"][0], p["exit_fraction"][local], p["accuracy"]) for p in metrics["exit_curve"]]


def exit_curve_claim(metrics, manifest, plot_path):
    points = curve_points(metrics, manifest)
    final = manifest["exit_policy"]["exits"][-1]
    cloud = metrics["accuracy"][final]
    at = next((p for p in points if p[1] >= LOCAL_SHARE), None)
    holds = at is not None and at[2] >= cloud - LOCAL_TOLERANCE
    plot_exit_curve(points, cloud, metrics["spec"], plot_path)
    ours = (f"{pct(at[2])} overall at {pct(at[1])} local (T={at[0]:g}); all-cloud {pct(cloud)}" if at else
            f"no threshold gives {pct(LOCAL_SHARE)} local exits; all-cloud {pct(cloud)}")
    claim = entry(f"With ≥{pct(LOCAL_SHARE)} of samples exiting locally, overall accuracy stays within "
                  f"{100 * LOCAL_TOLERANCE:g} point of sending every sample to the cloud (tested at the lowest "
                  "curve threshold T giving that local share; datasets differ: MVMC vs Fashion-MNIST grid6)",
                  "DDNN", "97% overall at 60.8% local exits (MVMC, 6 cameras)", ours, holds)
    rows = [[f"{t:g}", pct(share), f"{acc:.4f}", f"{100 * (acc - cloud):+.2f}"] for t, share, acc in points]
    md = ("### Exit curve: local exits against overall accuracy\n\n"
          f"`{metrics['spec']}`, test split; sweeping the local (edge aggregator) exit's normalized-entropy "
          f"threshold T (`Network.exit_curve`); all-cloud accuracy (T = 0) {cloud:.4f}. Chosen policy on the "
          f"validation split: {policy_line(metrics)}.\n\n"
          + markdown_table(["T", "local exits", "overall accuracy", "vs all-cloud (points)"], rows)
          + f"\n\n![exit curve](results/{os.path.basename(plot_path)})")
    data = {"spec": metrics["spec"], "all_cloud_accuracy": cloud,
            "points": [{"threshold": t, "local_share": s, "accuracy": a} for t, s, a in points],
            "at_local_share": None if at is None else {"threshold": at[0], "local_share": at[1], "accuracy": at[2]}}
    return md, data, claim


def policy_line(metrics):
    policy = metrics["policy"]
    shares = ", ".join(f"{k} {pct(v)}" for k, v in policy["exit_fraction"].items())
    return f"accuracy {policy['accuracy']:.4f}, exits {shares}"


def plot_exit_curve(points, cloud, spec, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot([100 * s for _, s, _ in points], [100 * a for _, _, a in points], "-o", ms=3, label="overall accuracy")
    ax.axhline(100 * cloud, color="grey", lw=0.8, label="all samples to the cloud")
    ax.axhline(100 * (cloud - LOCAL_TOLERANCE), color="grey", lw=0.8, ls="--", label="all-cloud − 1 point")
    ax.axvline(100 * LOCAL_SHARE, color="tab:red", lw=0.8, ls=":", label="DDNN's 60.8% local")
    ax.set_xlabel("samples exiting locally (%)")
    ax.set_ylabel("overall accuracy (%)")
    ax.set_title(f"{spec}: local exits vs accuracy (test)")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---- communication ------------------------------------------------------------------

def device_sections(manifest):
    return [s for s in manifest["sections"] if s["tier"] == "end"]


def measured_feature_bytes(folder, manifest, views):
    """Bytes per sample of the features each device's exported end section produces,
    measured by running it on `views` (N x V x 1 x H x W): the values must fit the
    boundary's quantization (1 bit: exactly ±1), packed at its bits per value."""
    boundary = manifest["boundaries"][0]
    bits = BITS[boundary["quantization"]]
    result = []
    with torch.no_grad():
        for section in device_sections(manifest):
            out = torch.jit.load(os.path.join(folder, section["file"]))(views[:, section["view"]])["features"]
            levels = out.unique().numel()
            if levels > 2 ** bits or (bits == 1 and not bool((out.abs() == 1).all())):
                raise ValueError(f"{section['file']}: features take {levels} values, more than "
                                 f"{boundary['quantization']} allows")
            result.append({"device": section["name"], "values": out[0].numel(), "levels": levels,
                           "bytes": math.ceil(out[0].numel() * bits / 8)})
    return result, boundary


def runtime_check(folder, topology):
    """Whether the distributed runtime runs this model over `topology`: the measured
    bytes_per_sample when it does, else why not (the error it raised)."""
    import hddnn.launch
    from hddnn.errors import HddnnError
    try:
        results = hddnn.launch.run(folder, topology, scheme="end-cloud", rate=5, duration=1, timeout=90)
        return results["bytes_per_sample"], None
    except HddnnError as error:
        first = str(error).splitlines()[0].split("; ")[0]  # every rank reports the same refusal
        return None, first.split("rank 0: ", 1)[1] if "rank 0: " in first else f"{type(error).__name__}: {first}"


def communication_claim(folder, manifest, test, image_bytes, topology):
    measured, boundary = measured_feature_bytes(folder, manifest, test.images[:256])
    raw_view = test.images[0, 0].numel()  # one uint8 per pixel of a device's view
    runtime_bytes, why_not = runtime_check(folder, topology)
    sent = runtime_bytes if runtime_bytes is not None else max(m["bytes"] for m in measured)
    how = ("bytes_per_sample measured by the runtime (framing and sealing included)" if runtime_bytes is not None
           else f"features measured from the exported sections; the runtime does not run this model ({why_not})")
    ratio = raw_view / sent
    claim = entry(f"Each end device sends > {OFFLOAD_FACTOR:g}x fewer bytes per sample than offloading its raw "
                  "view (uint8 pixels)", "DDNN", "14–30 B per device per sample, > 20x less than raw offload",
                  f"{sent:g} B vs {raw_view} B raw view: {ratio:.1f}x ({image_bytes / sent:.0f}x vs the whole "
                  f"{image_bytes}-B image)", ratio > OFFLOAD_FACTOR)
    rows = [[m["device"], m["values"], m["levels"], m["bytes"], boundary["bytes_per_sample"], raw_view,
             f"{raw_view / m['bytes']:.1f}x"] for m in measured]
    md = ("### Communication against raw offload\n\n"
          f"Each device's exported end section run on 256 test samples; its features ({boundary['quantization']}, "
          f"shape {boundary['shape']}) packed at {BITS[boundary['quantization']]} bit(s) per value. Counted: {how}.\n\n"
          + markdown_table(["device", "values/sample", "distinct values", "measured B/sample", "manifest B/sample",
                            "raw view B", "reduction"], rows))
    data = {"devices": measured, "raw_view_bytes": raw_view, "image_bytes": image_bytes, "sent_bytes": sent,
            "runtime_bytes_per_sample": runtime_bytes, "runtime_unavailable": why_not, "reduction": ratio}
    return md, data, claim


# ---- one device missing ------------------------------------------------------------

def missing_device_claim(metrics, manifest):
    """From metrics.json's missing_view: evaluate(test, mask) with each view zeroed
    and masked in turn, thresholds as chosen with every device present."""
    final = manifest["exit_policy"]["exits"][-1]
    base = metrics["policy"]["accuracy"]
    missing = metrics["missing_view"]
    overall = [missing[v]["policy"]["accuracy"] for v in sorted(missing, key=int)]
    finals = [missing[v]["accuracy"][final] for v in sorted(missing, key=int)]
    worst = base - min(overall)
    stats = f"min/mean/max {pct(min(overall))}/{pct(sum(overall) / len(overall))}/{pct(max(overall))}"
    claim = entry(f"With any one of the {len(overall)} devices missing, overall accuracy drops by at most "
                  f"{100 * MISSING_DROP:g} points", "DDNN", "96–99% with one camera missing (MVMC)",
                  f"{stats} vs {pct(base)} with all present (worst −{100 * worst:.1f} points)", worst <= MISSING_DROP)
    rows = [[f"device {v}", f"{a:.4f}", f"{100 * (a - base):+.2f}", f"{f:.4f}"]
            for v, a, f in zip(sorted(missing, key=int), overall, finals)]
    rows.append(["none (all present)", f"{base:.4f}", "+0.00", f"{metrics['accuracy'][final]:.4f}"])
    md = ("### Accuracy with one device missing\n\n"
          f"`{metrics['spec']}` on the test split with one device's view zeroed and masked "
          "(`Network.evaluate(data, mask=...)`, run by `hddnn train`), the exit thresholds chosen with all "
          f"devices present; a drop of at most {100 * MISSING_DROP:g} points counts as small.\n\n"
          + markdown_table(["missing", "overall accuracy", "vs all present (points)", f"{final} accuracy"], rows))
    data = {"all_present": base, "overall": overall, "final_exit": finals, "worst_drop": worst}
    return md, data, claim


# ---- aggregators -------------------------------------------------------------------

def aggregator_claim(runs):
    """runs: {aggregator: (metrics, manifest)}, each trained with the same budget."""
    final = next(iter(runs.values()))[1]["exit_policy"]["exits"][-1]
    local = next(iter(runs.values()))[1]["exit_policy"]["exits"][0]
    rows, data = [], {}
    for name, (metrics, manifest) in runs.items():
        acc, seconds = metrics["accuracy"], metrics["train_seconds"]
        worst = min(m["policy"]["accuracy"] for m in metrics["missing_view"].values())
        data[name] = {"accuracy": acc, "policy": metrics["policy"], "worst_missing": worst, "train_seconds": seconds}
        rows.append([name, f"{acc[local]:.4f}", f"{acc[local.replace('fine', 'coarse')]:.4f}", f"{acc[final]:.4f}",
                     f"{metrics['policy']['accuracy']:.4f}", pct(metrics["policy"]["exit_fraction"][local]),
                     f"{worst:.4f}", f"{seconds:.0f}"])
    best = max(d["accuracy"][final] for d in data.values())
    concat = data["concat"]["accuracy"][final]
    claim = entry(f"Concatenation at the edge aggregator (the shipped default) is within "
                  f"{100 * AGGREGATOR_TOLERANCE:g} point of the best of max, avg and concat at the final exit "
                  "(same training budget)", "design", "spec default: concat",
                  ", ".join(f"{n} {d['accuracy'][final]:.4f}" for n, d in data.items()),
                  concat >= best - AGGREGATOR_TOLERANCE)
    md = ("### Aggregation at the edge: max, average, concatenation\n\n"
          "The ddnn6 spec with the edge section's `aggregator` set to each (the names cpp/hddnn/nn/spec.cpp "
          "accepts), trained with the same budget and seed; accuracies on the test split.\n\n"
          + markdown_table(["aggregator", f"{local}", local.replace("fine", "coarse"), f"{final}",
                            "policy accuracy", "local exits", "worst one-missing policy accuracy",
                            "training s"], rows))
    return md, data, claim

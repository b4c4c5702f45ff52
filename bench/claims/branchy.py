"""BranchyNet's claim (Teerapittayanon, McDanel, Kung, ICPR 2016): entropy-based
early exits cut mean inference latency 2-6x against running every sample to the
final exit.

Measured on a trained single-view run folder: each exported section (TorchScript,
`torch.jit.load`) is timed at batch 1 on this CPU with one thread, chained on a real
test image; the mean latency with early exits weights each section by the share of
test samples that reach it under the chosen exit policy (metrics.json, measured by
`hddnn train`), the baseline runs every section for every sample.
"""
import os
import statistics
import time

import torch

from common import markdown_table
from ddnn import entry, pct

SPEEDUP_RANGE = (2.0, 6.0)   # BranchyNet's reported speed-ups


def section_latency_ms(folder, manifest, image, repeats):
    """{section: median batch-1 forward time in ms} along the manifest's chain."""
    torch.set_num_threads(1)
    by_name = {s["name"]: s for s in manifest["sections"]}
    x, timings = image, {}
    with torch.no_grad():
        for name in manifest["chain"]:
            module = torch.jit.load(os.path.join(folder, by_name[name]["file"]))
            for _ in range(10):
                out = module(x)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                out = module(x)
                times.append(time.perf_counter() - start)
            timings[name] = 1000 * statistics.median(times)
            x = out.get("features")
    return timings


def reach_fractions(metrics, manifest):
    """{section: share of test samples that run it} under the chosen exit policy."""
    exits = metrics["policy"]["exit_fraction"]
    left, reach = 1.0, {}
    for name in manifest["chain"]:
        reach[name] = left
        left -= exits.get(f"{name}/fine", 0.0)
    return reach


def speedup(latency, reach):
    full = sum(latency.values())
    early = sum(latency[name] * reach[name] for name in latency)
    return full, early, full / early


def speedup_claim(folder, metrics, manifest, image, repeats):
    latency = section_latency_ms(folder, manifest, image, repeats)
    reach = reach_fractions(metrics, manifest)
    full, early, ratio = speedup(latency, reach)
    profiled = {s["name"]: s["compute_ms"]["batch1"] for s in metrics["profile"]["sections"]}
    p_full, p_early, p_ratio = speedup(profiled, reach)
    final = manifest["exit_policy"]["exits"][-1]
    policy_acc, final_acc = metrics["policy"]["accuracy"], metrics["accuracy"][final]
    claim = entry(f"Early exits cut mean batch-1 inference latency {SPEEDUP_RANGE[0]:g}–{SPEEDUP_RANGE[1]:g}x "
                  "(or more) against running every sample to the final exit", "BranchyNet",
                  "2–6x speed-up (their nets, CPU and GPU)",
                  f"{ratio:.2f}x ({early:.3f} ms vs {full:.3f} ms) at {policy_acc:.4f} accuracy vs {final_acc:.4f}",
                  ratio >= SPEEDUP_RANGE[0])
    rows = [[name, f"{latency[name]:.3f}", f"{profiled[name]:.3f}", pct(reach[name])] for name in latency]
    rows.append(["always to the final exit", f"{full:.3f}", f"{p_full:.3f}", "100% of every section"])
    rows.append(["with early exits (mean)", f"{early:.3f}", f"{p_early:.3f}", ""])
    rows.append(["speed-up", f"{ratio:.2f}x", f"{p_ratio:.2f}x", ""])
    md = ("### Early-exit speed-up (BranchyNet)\n\n"
          f"`{metrics['spec']}`: each exported section timed at batch 1 on this CPU (1 thread, median of "
          f"{repeats} forwards after 10 warm-ups), weighted by the share of test samples reaching it under the "
          f"chosen policy (accuracy {policy_acc:.4f}; final exit alone {final_acc:.4f}). The `profile` column is "
          "`Network.profile`'s batch-1 time measured in C++ when the model was trained.\n\n"
          + markdown_table(["section", "batch-1 ms (export, now)", "batch-1 ms (profile)", "samples reaching it"],
                           rows))
    data = {"spec": metrics["spec"], "latency_ms": latency, "profile_latency_ms": profiled, "reach": reach,
            "full_ms": full, "early_ms": early, "speedup": ratio, "profile_speedup": p_ratio,
            "policy_accuracy": policy_acc, "final_accuracy": final_acc}
    return md, data, claim

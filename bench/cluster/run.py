#!/usr/bin/env python3
"""bench/cluster: hddnn across hosts emulated on this machine (hddnn.emulated_hosts).

1. Link fidelity: for each of lab7's link rates, the bandwidth the transport sees
   (bench_link: 16 KiB frames, one way, 2 ranks) over a real link shaped with HTB
   between two emulated hosts (emulation off), against the transport's own emulation
   of that rate on one host; both against the target.
2. The three schemes over lab7 on three hosts (end devices | edges | cloud, one mpirun
   spanning them, emulated links and speeds): offered, answered, lost, accuracy,
   latency, bytes per sample, failures.

Needs root (network namespaces, tc); prints why and exits 0 elsewhere. Prints markdown,
writes bench/results/cluster.json (with "claims").

    .venv/bin/python bench/cluster/run.py [--frames 400] [--duration 3]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
ROOT = os.path.dirname(os.path.dirname(HERE))

import common  # noqa: E402
from hddnn import emulated_hosts  # noqa: E402
from hddnn.launch import HOST_MPIRUN_FLAGS, LOCAL_MPIRUN_FLAGS, run  # noqa: E402

TOPOLOGY = os.path.join(ROOT, "mapping", "topologies", "lab7.json")
RATES_MBPS = (5.0, 20.0, 100.0)  # lab7's end-cloud, end-edge and edge-cloud links
TOLERANCE = 0.05
SCHEMES = ("end", "end-cloud", "mapping")
THRESHOLD = 0.3  # the demo's: about a quarter of the samples leave their device
RATE_PER_S = 20


def bench_link(build_dir, mbps, emulate, frames, mpirun_args=()):
    binary = os.path.join(build_dir, "bench", "cluster", "bench_link")
    command = ["mpirun", *mpirun_args, "-n", "2", binary, f"{mbps:g}", "1" if emulate else "0", str(frames)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not rows:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return rows[0]["measured_mbps"]


def shape(hosts, name, mbps):
    """HTB on the host's interface: what it sends leaves at `mbps`."""
    tc = ["ip", "netns", "exec", name, "tc"]
    device = hosts.interface(name)
    subprocess.run([*tc, "qdisc", "del", "dev", device, "root"], capture_output=True)  # none at first
    subprocess.run([*tc, "qdisc", "add", "dev", device, "root", "handle", "1:", "htb", "default", "10"], check=True)
    subprocess.run([*tc, "class", "add", "dev", device, "parent", "1:", "classid", "1:10", "htb", "rate",
                    f"{mbps:g}mbit", "ceil", f"{mbps:g}mbit"], check=True)


def link_fidelity(build_dir, frames):
    rows = []
    with emulated_hosts.EmulatedHosts(2) as hosts:
        hostfile = hosts.write_hostfile([1, 1])
        across = [*HOST_MPIRUN_FLAGS, "--hostfile", hostfile, *hosts.mpirun_args()]
        for mbps in RATES_MBPS:
            shape(hosts, hosts.names[0], mbps)
            real = bench_link(build_dir, mbps, False, frames, across)
            emulated = bench_link(build_dir, mbps, True, frames, LOCAL_MPIRUN_FLAGS)
            rows.append({"target_mbps": mbps, "shaped_mbps": real, "emulated_mbps": emulated,
                         "emulated_over_shaped": emulated / real})
    return rows


def schemes_across_hosts(model, duration):
    rows = []
    with emulated_hosts.EmulatedHosts(3) as hosts, tempfile.TemporaryDirectory() as folder:
        hostfile = hosts.write_hostfile([4, 2, 1])  # end devices | edges | cloud
        for scheme in SCHEMES:
            r = run(model, TOPOLOGY, scheme=scheme, rate=RATE_PER_S, duration=duration, threshold=THRESHOLD,
                    mpirun_args=["--hostfile", hostfile, *hosts.mpirun_args()],
                    out=os.path.join(folder, f"{scheme}.json"))
            rows.append({"scheme": scheme, "offered": r["offered"], "answered": r["answered"], "lost": r["lost"],
                         "accuracy": r["accuracy"], "p50_ms": r["latency_ms"]["p50"], "p99_ms": r["latency_ms"]["p99"],
                         "bytes_per_sample": r["bytes_per_sample"], "failures": len(r["failures"])})
    return rows


def claims(links, schemes):
    worst = max(abs(row["emulated_over_shaped"] - 1) for row in links)
    served = all(row["answered"] == row["offered"] > 0 and row["lost"] == 0 and row["failures"] == 0
                 for row in schemes)
    return [
        {"claim": "the transport's emulated bandwidth matches a real HTB-shaped link between hosts",
         "source": "design", "theirs": f"within {TOLERANCE:.0%}",
         "ours": ", ".join(f"{r['target_mbps']:g} Mbit/s: {r['emulated_mbps']:.2f} emulated vs "
                           f"{r['shaped_mbps']:.2f} shaped" for r in links),
         "holds": worst <= TOLERANCE},
        {"claim": "lab7 across three hosts answers every request of every scheme", "source": "design",
         "theirs": "answered == offered > 0, lost 0, no failures",
         "ours": "; ".join(f"{r['scheme']}: {r['answered']}/{r['offered']}, lost {r['lost']}" for r in schemes),
         "holds": served},
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.environ.get("HDDNN_BUILD_DIR", os.path.join(ROOT, "build")))
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--duration", type=float, default=3.0)
    args = parser.parse_args()
    ok, why = emulated_hosts.available()
    if not ok:
        print(f"bench/cluster skipped: {why}.")
        return 0
    model, trained_s = common.bench_model(ROOT)
    links = link_fidelity(os.path.abspath(args.build_dir), args.frames)
    schemes = schemes_across_hosts(model, args.duration)
    found = claims(links, schemes)
    common.write_results("cluster", {"links": links, "schemes": schemes, "model": model,
                                     "model_training_s": trained_s, "claims": found})
    print("### Link fidelity: emulated vs HTB-shaped between two hosts\n")
    print(common.markdown_table(
        ["target Mbit/s", "shaped (real) Mbit/s", "emulated Mbit/s", "emulated / shaped"],
        [[f"{r['target_mbps']:g}", f"{r['shaped_mbps']:.2f}", f"{r['emulated_mbps']:.2f}",
          f"{r['emulated_over_shaped']:.3f}"] for r in links]))
    print(f"\nbench_link, {args.frames} frames of 16 KiB one way; the transport's wire bytes over the time between "
          "the first and the last frame's arrival. HTB limits whole Ethernet frames, whose TCP/IP and Ethernet "
          "headers (about 66 bytes per 1448-byte segment, 4.5%) the transport does not count: a shaped link carries "
          "that much less of hddnn's bytes than its nominal rate, and the emulation, which charges hddnn's bytes "
          "only, is that much faster.\n")
    print(f"### lab7 across three hosts (end devices | edges | cloud), {RATE_PER_S} req/s per end device, "
          f"threshold {THRESHOLD}, {args.duration:g} s\n")
    print(common.markdown_table(
        ["scheme", "offered", "answered", "lost", "accuracy", "p50 ms", "p99 ms", "B/sample", "failures"],
        [[r["scheme"], r["offered"], r["answered"], r["lost"], f"{r['accuracy']:.4f}", f"{r['p50_ms']:.1f}",
          f"{r['p99_ms']:.1f}", f"{r['bytes_per_sample']:.1f}", r["failures"]] for r in schemes]))
    print("\n" + common.markdown_table(["claim", "ours", "holds"],
                                       [[c["claim"], c["ours"], "✓" if c["holds"] else "✗"] for c in found]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

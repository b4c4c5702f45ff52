#!/usr/bin/env python3
"""bench/cluster: hddnn across hosts emulated on this machine (hddnn.emulated_hosts).

1. Link fidelity: for each of lab7's link rates, the bandwidth the transport sees
   (bench_link: 16 KiB frames, one way, 2 ranks) over a real link shaped with HTB
   between two emulated hosts (emulation off), against the transport's own emulation
   of that rate on one host; both against the target.
2. The three schemes over lab7 on three hosts (end devices | edges | cloud, emulated
   links and speeds), in both modes: one mpirun spanning the hosts, and one mpirun job
   per host joined at run time: offered, answered, lost, accuracy, latency, bytes per
   sample, failures.
3. A host lost: TRIALS runs of lab7 as per-host jobs in which every process of the edges'
   host is SIGKILLed from outside (a power cut) at a random 2-8 s: lost requests,
   kill-to-detection times (median against 3 heartbeat periods), processes and
   namespaces left behind, and a timeline of the first run (online list per planning
   round, latency, work per device) in bench/results/cluster_host_loss.png.

Needs root (network namespaces, tc); prints why and exits 0 elsewhere. Prints markdown,
writes bench/results/cluster.json (with "claims").

    .venv/bin/python bench/cluster/run.py [--frames 400] [--duration 3] [--trials 10]
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

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
HEARTBEAT_MS = 100
LOSS_RUN_S = 10.0


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
        modes = {"one mpirun": {"mpirun_args": ["--hostfile", hostfile, *hosts.mpirun_args()]},
                 "per-host jobs": {"hosts": hostfile, "rsh": hosts.agent, "mpirun_args": hosts.subnet_args()}}
        for mode, spread in modes.items():
            for scheme in SCHEMES:
                r = run(model, TOPOLOGY, scheme=scheme, rate=RATE_PER_S, duration=duration, threshold=THRESHOLD,
                        out=os.path.join(folder, f"{scheme}.json"), **spread)
                rows.append({"mode": mode, "scheme": scheme, "offered": r["offered"], "answered": r["answered"],
                             "lost": r["lost"], "accuracy": r["accuracy"], "p50_ms": r["latency_ms"]["p50"],
                             "p99_ms": r["latency_ms"]["p99"], "bytes_per_sample": r["bytes_per_sample"],
                             "failures": len(r["failures"])})
    return rows


def power_cut_at(hosts, name, ready_files, after_s, record):
    """SIGKILLs every process of host `name` `after_s` seconds after every rank is ready."""
    def cut():
        deadline = time.time() + 300
        while not all(os.path.exists(path) for path in ready_files) and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(after_s)
        record["unix_ms"] = time.time() * 1000
        hosts.kill(name)
    thread = threading.Thread(target=cut, daemon=True)
    thread.start()
    return thread


def namespaces():
    return set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split())


def host_loss_trials(model, trials, seed=0):
    """`trials` runs, each losing the edges' host from outside at a random 2-8 s."""
    draw = random.Random(seed)
    rows, first = [], None
    before = namespaces()
    for trial in range(trials):
        at_s = round(draw.uniform(2.0, 8.0), 2)
        with emulated_hosts.EmulatedHosts(3) as hosts, tempfile.TemporaryDirectory() as folder:
            hostfile = hosts.write_hostfile([4, 2, 1])
            out, kill = os.path.join(folder, "r.json"), {}
            cutter = power_cut_at(hosts, hosts.names[1], [f"{out}.rank{r}.ready" for r in range(7)], at_s, kill)
            r = run(model, TOPOLOGY, scheme="mapping", rate=RATE_PER_S, duration=LOSS_RUN_S, threshold=THRESHOLD,
                    hosts=hostfile, rsh=hosts.agent, mpirun_args=hosts.subnet_args(), heartbeat_ms=HEARTBEAT_MS,
                    record_requests=trial == 0, out=out)
            cutter.join()
            killed_ms = kill["unix_ms"] - r["started_unix_ms"]
            detections = [f["detected_at_ms"] - killed_ms for f in r["failures"] if f["rank"] in (4, 5)]
            left = {name: hosts.pids(name) for name in hosts.names}
            rows.append({"trial": trial, "kill_at_s": at_s, "offered": r["offered"], "answered": r["answered"],
                         "lost": r["lost"], "lost_with_device": r["lost_with_device"],
                         "failed_ranks": sorted(f["rank"] for f in r["failures"]), "detection_ms": detections,
                         "processes_left": sum(len(p) for p in left.values())})
            if trial == 0:
                first = {"results": dict(r), "killed_ms": killed_ms}
    return rows, first, namespaces() - before


def plot_timeline(first, path):
    """Online list per planning round, each request's latency, and the work per device."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    r = first["results"]
    fig, (online, latency, work) = plt.subplots(3, 1, figsize=(8, 8), sharex=False)
    for plan in r["plans"]:
        online.scatter([plan["at_ms"] / 1000] * len(plan["online"]), plan["online"], marker="s", color="tab:green", s=12)
    online.axvline(first["killed_ms"] / 1000, color="tab:red", label="edges' host powered off")
    online.set(ylabel="online ranks", title="lab7 as per-host jobs, the edges' host lost")
    online.legend(loc="lower left")
    requests = sorted((q for q in r["requests"] if q["answers"] > 0), key=lambda q: q["arrival_ms"])
    latency.plot([q["arrival_ms"] / 1000 for q in requests], [q["answered_ms"] - q["arrival_ms"] for q in requests],
                 ".", ms=2)
    latency.axvline(first["killed_ms"] / 1000, color="tab:red")
    latency.set(ylabel="latency (ms)", xlabel="run time (s)")
    devices = r["per_device"]
    work.bar([d["name"] for d in devices], [d["busy_ms"] for d in devices], color="tab:blue")
    work.set(ylabel="busy ms (the killed edges: 0)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def claims(links, schemes, losses, namespaces_left):
    worst = max(abs(row["emulated_over_shaped"] - 1) for row in links)
    served = all(row["answered"] == row["offered"] > 0 and row["lost"] == 0 and row["failures"] == 0
                 for row in schemes)
    detections = [ms for row in losses for ms in row["detection_ms"]]
    median = statistics.median(detections) if detections else float("inf")
    survived = all(row["lost"] == 0 and row["answered"] + row["lost_with_device"] == row["offered"] > 0
                   and row["failed_ranks"] == [4, 5] for row in losses)
    clean = all(row["processes_left"] == 0 for row in losses) and not namespaces_left
    return [
        {"claim": "the transport's emulated bandwidth matches a real HTB-shaped link between hosts",
         "source": "design", "theirs": f"within {TOLERANCE:.0%}",
         "ours": ", ".join(f"{r['target_mbps']:g} Mbit/s: {r['emulated_mbps']:.2f} emulated vs "
                           f"{r['shaped_mbps']:.2f} shaped" for r in links),
         "holds": worst <= TOLERANCE},
        {"claim": "lab7 across three hosts answers every request of every scheme", "source": "design",
         "theirs": "answered == offered > 0, lost 0, no failures",
         "ours": "; ".join(f"{r['mode']} {r['scheme']}: {r['answered']}/{r['offered']}, lost {r['lost']}"
                           for r in schemes),
         "holds": served},
        {"claim": f"a host lost (per-host jobs, {len(losses)} runs): every run completes, nothing lost",
         "source": "issue", "theirs": "lost 0 in every run",
         "ours": ", ".join(f"{r['answered']}/{r['offered']}" for r in losses), "holds": survived},
        {"claim": "a lost host is detected within 3 heartbeat periods (median)", "source": "issue",
         "theirs": f"<= {3 * HEARTBEAT_MS} ms", "ours": f"{median:.0f} ms (kill to the coordinator's verdict)",
         "holds": median <= 3 * HEARTBEAT_MS},
        {"claim": "nothing is left running, no namespace is left behind", "source": "issue", "theirs": "none",
         "ours": f"{sum(r['processes_left'] for r in losses)} processes, {len(namespaces_left)} namespaces",
         "holds": clean},
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.environ.get("HDDNN_BUILD_DIR", os.path.join(ROOT, "build")))
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--trials", type=int, default=10, help="host-loss runs")
    args = parser.parse_args()
    ok, why = emulated_hosts.available()
    if not ok:
        print(f"bench/cluster skipped: {why}.")
        return 0
    model, trained_s = common.bench_model(ROOT)
    links = link_fidelity(os.path.abspath(args.build_dir), args.frames)
    schemes = schemes_across_hosts(model, args.duration)
    losses, first, namespaces_left = host_loss_trials(model, args.trials)
    plot = os.path.join(common.RESULTS, "cluster_host_loss.png")
    plot_timeline(first, plot)
    found = claims(links, schemes, losses, namespaces_left)
    common.write_results("cluster", {"links": links, "schemes": schemes, "host_loss": losses, "model": model,
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
        ["mode", "scheme", "offered", "answered", "lost", "accuracy", "p50 ms", "p99 ms", "B/sample", "failures"],
        [[r["mode"], r["scheme"], r["offered"], r["answered"], r["lost"], f"{r['accuracy']:.4f}", f"{r['p50_ms']:.1f}",
          f"{r['p99_ms']:.1f}", f"{r['bytes_per_sample']:.1f}", r["failures"]] for r in schemes]))
    print(f"\n### A host lost: {args.trials} runs of lab7 as per-host jobs, the edges' host powered off from "
          f"outside at a random 2-8 s ({LOSS_RUN_S:g} s of requests, heartbeat {HEARTBEAT_MS} ms)\n")
    print(common.markdown_table(
        ["run", "killed at s", "answered/offered", "lost", "lost with device", "failed ranks", "detection ms",
         "processes left"],
        [[r["trial"], r["kill_at_s"], f"{r['answered']}/{r['offered']}", r["lost"], r["lost_with_device"],
          r["failed_ranks"], ", ".join(f"{ms:.0f}" for ms in r["detection_ms"]), r["processes_left"]]
         for r in losses]))
    print(f"\nTimeline of the first run: {os.path.relpath(plot, ROOT)}")
    print("\n" + common.markdown_table(["claim", "ours", "holds"],
                                       [[c["claim"], c["ours"], "✓" if c["holds"] else "✗"] for c in found]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

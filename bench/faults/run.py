#!/usr/bin/env python3
"""bench/faults: a killed edge rank mid-run, repeated.

Runs the mapping scheme over lab7 on the real distributed runtime N times (20; 5
with --quick), each time SIGKILLing one edge rank (alternating over lab7's edge
ranks) at a seeded random moment (hddnn.launch.run(kill=...)), and records per run
the detection time (results["failures"]), the requests re-assigned, offered /
answered / lost / duplicates, accuracy and latency. Then one run kills an end
device and reports what happens to its own requests, and a pair of ddnn6 runs
kills one camera (views.py). Prints markdown, writes bench/results/faults.json
(with "claims") and faults_detection.png.

Every exit's entropy threshold is overridden (default 0: every request escalates
from its end device) so the edges carry work when they die. Runs are time dilated
(TIME_SCALE) with compute emulated from the profile, so the host's own noise stays
small against the emulated times; every figure is in emulated (run) time.

    .venv/bin/python bench/faults/run.py [--quick] [--runs N] [--threshold 0.0]
"""
import argparse
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
ROOT = os.path.dirname(os.path.dirname(HERE))

import common  # noqa: E402
import views  # noqa: E402
from hddnn.errors import CommError  # noqa: E402
from hddnn.launch import run  # noqa: E402
from hddnn.load import profile_at_threshold, rate_for_load, read_json  # noqa: E402

TOPOLOGY = os.path.join(ROOT, "mapping", "topologies", "lab7.json")
RHO = 0.1          # offered load (end-cloud cloud utilisation): what this 2-core host serves unjammed
DURATION = 11.0    # seconds of requests per run: a kill at 8 s still has 2 s after its detection
KILL_WINDOW = (2.0, 8.0)  # seconds into the run (after every rank has set up) within which the kill falls
RECOVERY_WINDOW_MS = 2000  # p99 after detection is taken over requests arriving this long after it
TAIL_TOLERANCE = 1.25      # that p99 may be this x the pre-failure p99
HEARTBEAT_MS = 100.0       # the run config's default heartbeat period
COMPUTE = "profile"        # emulated compute from the profile: this shared host's steal and cold caches stay out
TIME_SCALE = 2.0           # time dilation: every emulated compute and link has twice its time in real headroom


def ranks_of(tier):
    return [i for i, d in enumerate(read_json(TOPOLOGY)["devices"]) if d["tier"] == tier]


def offered_without_kill(model, rate, threshold):
    """Requests offered by one run without a kill (seed 0, as the end-device kill run)."""
    return run(model, TOPOLOGY, scheme="mapping", rate=rate, duration=DURATION, threshold=threshold, seed=0,
               compute=COMPUTE, time_scale=TIME_SCALE)["offered"]


def faulty_run(model, rate, threshold, rank, at_s, seed, timeout):
    """One mapping run with `rank` killed `at_s` seconds after every rank has set up
    (hddnn.launch.run's kill clock; each rank's run clock starts right then); the
    figures this bench reports from it (hung: no results within `timeout`)."""
    device = read_json(TOPOLOGY)["devices"][rank]["name"]
    try:
        r = run(model, TOPOLOGY, scheme="mapping", rate=rate, duration=DURATION, threshold=threshold, seed=seed,
                kill=[(rank, at_s)], timeout=timeout, record_requests=True, compute=COMPUTE,
                time_scale=TIME_SCALE)
    except CommError as e:
        return {"rank": rank, "device": device, "seed": seed, "kill_at_s": at_s, "hung": True, "missed": False,
                "error": str(e)}
    failure = next((f for f in r["failures"] if f["rank"] == rank), None)
    kill = r["kills"][0] if r["kills"] else {}
    kill_wall_s = kill.get("at_s")  # the launcher's clock: real seconds
    return {"rank": rank, "device": device, "seed": seed, "hung": False, "wall_s": r["wall_s"],
            "kill_at_s": None if kill_wall_s is None else kill_wall_s / TIME_SCALE, "kill_error": kill.get("error"),
            "missed": kill_wall_s is None or kill_wall_s >= r["wall_s"],
            "detected": failure is not None,
            "detected_after_ms": failure["detected_after_ms"] if failure else None,
            "kill_to_detection_ms": failure["detected_at_ms"] - (kill["unix_ms"] - r["started_unix_ms"]) / TIME_SCALE
            if failure and "unix_ms" in kill else None,
            "kill_after_start_ms": failure["detected_at_ms"] - failure["detected_after_ms"] if failure else None,
            "reassigned": failure["reassigned"] if failure else 0,
            "offered": r["offered"], "answered": r["answered"], "lost": r["lost"],
            "lost_with_device": r.get("lost_with_device"), "duplicates": r["duplicates"],
            "accuracy": r["accuracy"], "p50_ms": r["latency_ms"]["p50"], "p99_ms": r["latency_ms"]["p99"],
            "alive": {d["name"]: d["alive"] for d in r["per_device"]}, **tail_before_and_after(r, failure),
            "membership": r["membership"], "rank_errors": r["rank_errors"]}


def tail_before_and_after(results, failure):
    """p99 latency of the requests arriving before the kill (after a 1 s warm-up) and of
    those arriving in the RECOVERY_WINDOW_MS after its detection, their ratio, and the
    latencies themselves (pooled over the runs by distribution())."""
    none = {"p99_before_ms": None, "p99_after_ms": None, "tail_ratio": None, "latencies_before_ms": [],
            "latencies_after_ms": []}
    if failure is None:
        return none
    requests = results.requests()
    answered = requests[requests.answers > 0]
    killed_ms, detected_ms = failure["detected_at_ms"] - failure["detected_after_ms"], failure["detected_at_ms"]
    before = answered[(answered.arrival_ms >= 1000) & (answered.arrival_ms < killed_ms)].latency_ms
    after = answered[(answered.arrival_ms >= detected_ms) &
                     (answered.arrival_ms < detected_ms + RECOVERY_WINDOW_MS)].latency_ms
    if before.empty or after.empty:
        return none
    p99_before, p99_after = float(before.quantile(0.99)), float(after.quantile(0.99))
    return {"p99_before_ms": p99_before, "p99_after_ms": p99_after, "tail_ratio": p99_after / p99_before,
            "latencies_before_ms": before.tolist(), "latencies_after_ms": after.tolist()}


def edge_runs(model, rate, threshold, count):
    edges = ranks_of("edge")
    rows = []
    for i in range(count):
        at_s = round(random.Random(i).uniform(*KILL_WINDOW), 3)
        rows.append(faulty_run(model, rate, threshold, edges[i % len(edges)], at_s, i, DURATION * TIME_SCALE + 120))
        r = rows[-1]
        print(f"run {i}: killed {r['device']} at {r['kill_at_s']} s: " +
              ("hung" if r["hung"] else f"detected {r['kill_to_detection_ms']} ms after the kill, "
               f"{r['answered']}/{r['offered']} answered, lost {r['lost']}"), file=sys.stderr, flush=True)
    return rows


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def distribution(all_rows):
    """Totals over the runs; detection counted over the kills that landed inside a run."""
    rows = [r for r in all_rows if not r["hung"]]
    landed = [r for r in rows if not r["missed"]]
    detected = [r["kill_to_detection_ms"] for r in landed if r["detected"]]
    ratios = [r["tail_ratio"] for r in landed if r["detected"] and r["tail_ratio"] is not None]
    summary = {"runs": len(all_rows), "hung_runs": len(all_rows) - len(rows),
               "missed_runs": len(rows) - len(landed), "landed_runs": len(landed), "detected_runs": len(detected),
               "lost_total": sum(r["lost"] for r in rows), "runs_with_lost": sum(r["lost"] > 0 for r in rows),
               "duplicates_total": sum(r["duplicates"] for r in rows),
               "unanswered_total": sum(r["offered"] - r["answered"] for r in rows),
               "reassigned_total": sum(r["reassigned"] for r in rows),
               "runs_with_reassigned": sum(r["reassigned"] > 0 for r in rows),
               "tail_runs": len(ratios), "tail_runs_within": sum(ratio <= TAIL_TOLERANCE for ratio in ratios)}
    if detected:
        summary.update(detection_ms={"min": min(detected), "median": statistics.median(detected),
                                     "p95": percentile(detected, 0.95), "max": max(detected)})
    if ratios:
        summary.update(tail_ratio={"median": statistics.median(ratios), "max": max(ratios)})
        # One run's 2 s window holds ~100 requests, so its p99 is about its second-slowest
        # request; the runs pooled give the p99 docs/design.md's target is about.
        before = [ms for r in landed for ms in r["latencies_before_ms"]]
        after = [ms for r in landed for ms in r["latencies_after_ms"]]
        summary.update(pooled_tail={"requests_before": len(before), "requests_after": len(after),
                                    "p99_before_ms": percentile(before, 0.99), "p99_after_ms": percentile(after, 0.99)})
    return summary


def claims(summary, heartbeat_ms):
    """The three fault targets of docs/design.md: nothing lost; detection within 3 heartbeat periods
    (median, from the kill); p99 after the detection within 25% of before the kill."""
    return [nothing_lost(summary), detection_claim(summary, heartbeat_ms), tail_claim(summary)]


def detection_claim(summary, heartbeat_ms):
    median = summary.get("detection_ms", {}).get("median")
    ours = "no detection" if median is None else (f"median {median:.0f} ms from the kill to the declaration "
                                                 f"({median / heartbeat_ms:.2f} heartbeat periods of {heartbeat_ms:g} ms)")
    return {"claim": "median detection time <= 3 heartbeat periods", "source": "design",
            "theirs": f"<= {3 * heartbeat_ms:g} ms", "ours": ours, "holds": median is not None and median <= 3 * heartbeat_ms}


def tail_claim(summary):
    ratio, pooled = summary.get("tail_ratio"), summary.get("pooled_tail")
    pooled_ratio = pooled["p99_after_ms"] / pooled["p99_before_ms"] if pooled else None
    ours = "no run to measure" if ratio is None else (
        f"over the runs pooled: p99 {pooled['p99_after_ms']:.1f} ms in the {RECOVERY_WINDOW_MS / 1000:g} s after "
        f"detection ({pooled['requests_after']} requests) vs {pooled['p99_before_ms']:.1f} ms before the kill "
        f"({pooled['requests_before']} requests): {pooled_ratio:.2f}x; run by run "
        f"{summary['tail_runs_within']}/{summary['tail_runs']} within, median {ratio['median']:.2f}x, worst "
        f"{ratio['max']:.2f}x")
    return {"claim": f"p99 latency over the {RECOVERY_WINDOW_MS / 1000:g} s after detection within "
                     f"{TAIL_TOLERANCE - 1:.0%} of the pre-failure p99 (requests of every run pooled)",
            "source": "design", "theirs": f"<= {TAIL_TOLERANCE:g}x", "ours": ours,
            "holds": pooled_ratio is not None and pooled_ratio <= TAIL_TOLERANCE}


def nothing_lost(summary):
    holds = (summary["hung_runs"] == 0 and summary["landed_runs"] > 0
             and summary["detected_runs"] == summary["landed_runs"] and summary["lost_total"] == 0
             and summary["unanswered_total"] == 0 and summary["duplicates_total"] == 0)
    detection = summary.get("detection_ms", {})
    ours = (f"{summary['detected_runs']}/{summary['landed_runs']} kills inside a run detected ({summary['runs']} "
            f"runs: {summary['hung_runs']} hung, {summary['missed_runs']} with the kill after the run's end); "
            f"lost {summary['lost_total']} in total "
            f"({summary['runs_with_lost']} runs with lost > 0), unanswered {summary['unanswered_total']}, "
            f"duplicates {summary['duplicates_total']}, {summary['reassigned_total']} requests re-assigned; "
            f"detection median {detection.get('median', float('nan')):.0f} ms, "
            f"p95 {detection.get('p95', float('nan')):.0f} ms")
    return {"claim": "a killed edge is detected and its work re-assigned with nothing lost", "source": "design",
            "theirs": "nothing lost (design requirement)", "ours": ours, "holds": holds}


def plot(rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (hist, scatter) = plt.subplots(1, 2, figsize=(10, 3.8))
    detected = [r for r in rows if not r["hung"] and not r["missed"] and r["detected"]]
    hist.hist([r["kill_to_detection_ms"] for r in detected], bins=10)
    hist.set_xlabel("kill to detection (ms)")
    hist.set_ylabel("runs")
    for device in sorted({r["device"] for r in detected}):
        points = [r for r in detected if r["device"] == device]
        scatter.plot([r["kill_at_s"] for r in points], [r["tail_ratio"] for r in points], "o", label=device)
    scatter.axhline(TAIL_TOLERANCE, color="tab:red", ls="--", label="claim")
    scatter.set_xlabel("kill, s into the run")
    scatter.set_ylabel("p99 after detection / p99 before kill")
    scatter.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(common.RESULTS, "faults_detection.png"), dpi=120)


def fmt_ms(value):
    return "n/a" if value is None else f"{value:.1f}"


def runs_table(rows):
    lines = ["| run | killed | kill s into the run | kill to detection ms | re-assigned | "
             "answered/offered | lost | duplicates | "
             "accuracy | p50 ms | p99 ms | p99 before kill ms | p99 2 s after detection ms |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, r in enumerate(rows):
        if r["hung"]:
            lines.append(f"| {i} | {r['device']} | {r['kill_at_s']} | run hung, no results | | | | | | | | | |")
            continue
        detected = (f"{r['kill_to_detection_ms']:.0f}" if r["detected"] else
                    "kill after the run's end" if r["missed"] else "not detected")
        accuracy = "n/a" if r["accuracy"] is None else f"{r['accuracy']:.4f}"
        lines.append(f"| {i} | {r['device']} | {r['kill_at_s']} | {detected} | {r['reassigned']} | "
                     f"{r['answered']}/{r['offered']} | {r['lost']} | {r['duplicates']} | {accuracy} | "
                     f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {fmt_ms(r['p99_before_ms'])} | "
                     f"{fmt_ms(r['p99_after_ms'])} |")
    return "\n".join(lines)


def report(rows, summary, end_row, found, meta):
    print("## Faults: a killed edge mid-run (lab7, mapping)\n")
    print(f"{summary['runs']} runs of the mapping scheme over lab7 on the distributed runtime "
          f"({meta['rate']:.0f} req/s per end device = ρ {RHO} for {DURATION:g} s; every exit's entropy threshold "
          f"overridden to {meta['threshold']:g} so every request passes an edge or the cloud; model "
          f"`{meta['model']}`). Each run SIGKILLs one edge rank (alternating) at a seeded moment "
          f"{KILL_WINDOW[0]}–{KILL_WINDOW[1]} s into the run (the launcher's kill clock starts once every rank "
          "has set up, so a kill never lands inside MPI_Init). Whole bench: "
          f"{meta['wall_s']:.0f} s"
          f"{' (--quick)' if meta['quick'] else ''}. Rerun: `.venv/bin/python bench/faults/run.py [--quick]`.\n")
    d = summary.get("detection_ms")
    print("| runs | hung | kill after the run's end | detected / kills inside a run | "
          "detection min / median / p95 / max ms | re-assigned (total, runs > 0) | lost total | runs with lost > 0 | "
          "unanswered | duplicates |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    spread = "n/a" if d is None else f"{d['min']:.0f} / {d['median']:.0f} / {d['p95']:.0f} / {d['max']:.0f}"
    print(f"| {summary['runs']} | {summary['hung_runs']} | {summary['missed_runs']} | "
          f"{summary['detected_runs']}/{summary['landed_runs']} | {spread} | "
          f"{summary['reassigned_total']}, {summary['runs_with_reassigned']} | {summary['lost_total']} | "
          f"{summary['runs_with_lost']} | "
          f"{summary['unanswered_total']} | {summary['duplicates_total']} |\n")
    print("Per run (from each run's per-request records, `record_requests=True`; before: requests arriving "
          "from 1 s into the run until the killed rank's last heartbeat):\n")
    print(runs_table(rows))
    print(end_device_text(end_row))
    print("### Claims\n")
    for c in found:
        print(f"- {'holds' if c['holds'] else '**does not hold**'}: {c['claim']} — {c['ours']}")
    print("\n![detection times and tail ratios of a killed edge](results/faults_detection.png)")


def end_device_text(r):
    """What a killed end device's own requests became."""
    head = f"\n### Killing an end device\n\n{r['device']} (rank {r['rank']}) killed {r['kill_at_s']} s into the run: "
    if r["hung"]:
        return head + f"the run hung ({r['error']}).\n"
    if r["missed"]:
        return head + "the kill came after the run's end, so it shows nothing (rerun on a quieter host).\n"
    detected = f"detected after {r['detected_after_ms']:.0f} ms" if r["detected"] else "never detected"
    alive = ", ".join(f"{name} {state}" for name, state in r["alive"].items())
    return (head + f"{detected}; offered {r['offered']}, answered {r['answered']}, lost {r['lost']}, "
            f"lost_with_device {r['lost_with_device']}, duplicates {r['duplicates']}; alive: {alive}. The same "
            f"seeded run without a kill offered {r['offered_without_kill']}. Raw inputs never leave an end device, "
            "so nobody else can serve its requests: the ones it had received by its last heartbeat count as "
            "lost_with_device (its records died with it), and the ones that would have arrived after its death "
            "were never offered.\n")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 runs instead of 20")
    parser.add_argument("--runs", type=int, default=None, help="number of edge-kill runs")
    parser.add_argument("--threshold", type=float, default=0.0,
                        help="override of every exit's entropy threshold (a point of the model's exit curve)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    count = args.runs or (5 if args.quick else 20)
    model, train_s = common.bench_model(ROOT)
    rate = rate_for_load(profile_at_threshold(model, args.threshold), TOPOLOGY, RHO)
    rows = edge_runs(model, rate, args.threshold, count)
    end_row = faulty_run(model, rate, args.threshold, ranks_of("end")[0], DURATION / 2, 0, DURATION * TIME_SCALE + 120)
    end_row["offered_without_kill"] = offered_without_kill(model, rate, args.threshold)
    camera_row, camera_claim = views.camera_kill(args.quick)
    summary = distribution(rows)
    found = claims(summary, HEARTBEAT_MS) + [camera_claim]
    plot(rows)
    meta = {"rate": rate, "threshold": args.threshold, "model": os.path.relpath(model, ROOT),
            "train_seconds": train_s, "quick": args.quick, "wall_s": time.perf_counter() - start}
    common.write_results("faults", {**meta, "topology": os.path.relpath(TOPOLOGY, ROOT), "rho": RHO,
                                    "duration_s": DURATION, "summary": summary, "runs": rows,
                                    "end_device_kill": end_row, "camera_kill": camera_row, "claims": found})
    report(rows, summary, end_row, found, meta)
    views.report(camera_row, camera_claim)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

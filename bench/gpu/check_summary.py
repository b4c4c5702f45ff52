"""The `summary` phase of scripts/gpu_check.sh: gathers what the other phases left in
the work folder (phases.tsv, the ctest logs, dist_cuda.json, gpu.json of bench/gpu/run.py) into one
JSON file and prints a summary.

    python bench/gpu/check_summary.py WORK_DIR OUT.json

Standard library only, so it runs with whatever python3 the machine has.
"""
import json
import os
import re
import sys

CTEST_LOGS = {"gpu_ctest": "gpu_ctest.out", "device_placement_ctest": "placement_ctest.out",
              "all_ctest": "all_ctest.out"}


def read(work: str, name: str):
    """The text of work/name, or None when the phase did not write it."""
    path = os.path.join(work, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return f.read()


def ctest(work: str, name: str):
    """Failed/total counts, failed test names and skipped GoogleTest cases of a ctest log."""
    text = read(work, name)
    if text is None:
        return None
    m = re.search(r"(\d+)% tests passed, (\d+) tests failed out of (\d+)", text)
    r = {"failed": int(m.group(2)), "total": int(m.group(3))} if m else {"summary": "no ctest summary line"}
    r["failed_tests"] = re.findall(r"^\s*\d+ - (\S+) \(", text, re.M)
    r["skipped_lines"] = sorted(set(re.findall(r"\[  SKIPPED \] (\S+)", text)))
    return r


def phases(work: str) -> dict:
    """phase name -> {"rc", "seconds"} from phases.tsv (rc may be "skipped")."""
    found = {}
    for line in (read(work, "phases.tsv") or "").splitlines():
        name, rc, sec = line.split("\t")
        found[name] = {"rc": rc, "seconds": int(sec)}
    return found


def collect(work: str) -> dict:
    """Everything the summary reports, as written to OUT.json."""
    res = {"phases": phases(work)}
    for key, log in CTEST_LOGS.items():
        res[key] = ctest(work, log)
    res["dist_cuda"] = json.loads(read(work, "dist_cuda.json") or "null")
    res["bench"] = json.loads(read(work, "gpu.json") or "null")
    return res


def print_summary(res: dict, out: str) -> None:
    print("\n==================== SUMMARY ====================")
    for n, p in res["phases"].items():
        print(f"  {n:<11} rc={p['rc']:<7} {p['seconds']:>4}s")
    for k in CTEST_LOGS:
        if res[k]:
            print(f"  {k}: {res[k].get('failed', '?')} failed of {res[k].get('total', '?')}; "
                  f"failed: {res[k]['failed_tests'] or '-'}; skipped: {res[k]['skipped_lines'] or '-'}")
    d = res["dist_cuda"]
    if d:
        print(f"  DistributedGradients on CUDA: ok={d['ok']} ({d['ms_per_step_without_average']:.2f} ms/step "
              f"without average, {d['ms_per_step_with_average']:.2f} with; {d['gradient_bytes']} B in "
              f"{d['average_buckets']} bucket)")
    b = res["bench"]
    if b:
        print(f"  bench/gpu on {b['gpu'] or 'no GPU'} ({b['date']}):")
        for c in b["claims"]:
            print(f"    {'holds' if c['holds'] else 'FAILS'}: {c['claim']}: {c['ours']} (target {c['theirs']})")
    print(f"  figures: {out}")


def main(argv) -> int:
    """argv: WORK_DIR OUT.json."""
    work, out = argv[0], argv[1]
    res = collect(work)
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    print_summary(res, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

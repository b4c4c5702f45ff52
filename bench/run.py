"""Runs every benchmark (bench/<name>/run.py) in ORDER, then bench/report.py.

Each bench prints markdown to stdout; this streams it to the terminal and saves it
as bench/results/<name>.md, the bench's section of bench/REPORT.md. A section starts
with one `## ` heading: when the bench prints none (or several), `## bench/<name>`
is put first and the bench's own headings move one level down. The saved
section ends with how to rerun it, its wall time and, if it failed, its exit status.
`make bench` calls this; `python bench/run.py NAME...` runs a subset (the report is
regenerated from whatever results exist).
"""
import os
import re
import subprocess
import sys
import time

ORDER = ["data", "train", "parallel", "mapping", "schemes", "crypto", "privacy", "faults", "cluster", "gpu",
         "claims"]
HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
HEADING = re.compile(r"^(#{1,5}) ", re.M)


def available(names):
    unknown = [n for n in names if not os.path.exists(os.path.join(HERE, n, "run.py"))]
    if unknown and names != ORDER:
        raise SystemExit(f"bench/run.py: no bench/<name>/run.py for {', '.join(unknown)} "
                         f"(known: {', '.join(n for n in ORDER if n not in unknown)})")
    return [n for n in names if n not in unknown]


def as_section(name, text):
    """`text` with exactly one leading `## ` heading (see the module docstring)."""
    text = text.lstrip("\n")
    if text.startswith("## ") and len(re.findall(r"^## ", text, re.M)) == 1:
        return text
    if re.search(r"^#{1,2} ", text, re.M):
        text = HEADING.sub(lambda m: "#" + m.group(1) + " ", text)
    return f"## bench/{name}\n\n{text}"


def run_bench(name):
    """Runs one bench, echoing its stdout; returns (stdout, exit status, seconds)."""
    start = time.time()
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, name, "run.py")], stdout=subprocess.PIPE,
                            text=True, bufsize=1)
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line)
    return "".join(lines), proc.wait(), time.time() - start


def save_section(name, text, rc, seconds):
    footer = (f"\nRerun: `.venv/bin/python bench/run.py {name}` (wall time here: {seconds:.1f} s)."
              + (f"\n\n**bench/{name} failed with exit status {rc}.**" if rc else ""))
    path = os.path.join(RESULTS, f"{name}.md")
    with open(path + ".tmp", "w") as f:
        f.write(as_section(name, text).rstrip("\n") + "\n" + footer + "\n")
    os.replace(path + ".tmp", path)


def main(argv):
    names = available(argv or ORDER)
    os.makedirs(RESULTS, exist_ok=True)
    failed = []
    for name in names:
        print(f"\n# bench/{name}\n", flush=True)
        text, rc, seconds = run_bench(name)
        save_section(name, text, rc, seconds)
        print(f"\n(bench/{name}: {seconds:.1f} s, exit {rc})", flush=True)
        if rc != 0:
            failed.append(name)
    report = subprocess.run([sys.executable, os.path.join(HERE, "report.py")]).returncode
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed or report != 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

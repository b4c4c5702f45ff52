"""Runs every benchmark (bench/<name>/run.py) in a fixed order; each prints a
markdown table and writes bench/results/<name>.json. `make bench` calls this;
`python bench/run.py NAME...` runs a subset."""
import os
import subprocess
import sys
import time

ORDER = ["data", "train", "parallel", "mapping", "schemes", "crypto", "faults"]
HERE = os.path.dirname(os.path.abspath(__file__))


def available(names):
    return [n for n in names if os.path.exists(os.path.join(HERE, n, "run.py"))]


def main(argv):
    names = available(argv or ORDER)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    failed = []
    for name in names:
        print(f"\n## bench/{name}\n", flush=True)
        start = time.time()
        rc = subprocess.run([sys.executable, os.path.join(HERE, name, "run.py")]).returncode
        print(f"\n(bench/{name}: {time.time() - start:.1f} s, exit {rc})", flush=True)
        if rc != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Set-up shared by the hddnn notebooks: fast mode, a scratch folder outside the
repository, and the trained model the runtime notebooks use.

Contract:
- ``FAST`` is True when the environment variable HDDNN_NOTEBOOK_FAST is "1" (the
  test suite sets it): every notebook then shrinks its budget to seconds per cell.
  Unset or "0" is the researcher's setting; any other value raises ConfigError.
- ``scratch(*parts)`` is a folder under HDDNN_NOTEBOOK_DIR (default
  ``<tempdir>/hddnn-notebooks``); notebooks write only there, never into the
  repository, and models trained there are reused by later notebooks.
- ``trained_model()`` is an ``hddnn train --out`` folder: in fast mode the tiny test
  spec (tests/python/data/tiny_hetero.json, ~30 s of training); otherwise
  runs/fmnist_hetero when ``make demo`` has trained it, else fmnist_hetero trained
  for 2 epochs on 20,000 images (a few minutes on 2 cores).
- ``bench_module(path)`` imports bench/<path> (the benches' helpers, e.g.
  bench/privacy/inversion.py) for a notebook to reuse.
- ``rates_at(profile, topology, rho)`` are the per-end-device rates of load rho (the
  cloud's utilisation under end-cloud, hddnn.load.rate_for_load);
  ``planner_limit(profile, topology)`` is the largest rho with a feasible plan
  (hddnn.mapping.plan), which is where the topology saturates for that model.
"""
import importlib.util
import os
import sys
import tempfile
import warnings

# torch imports tqdm.auto, which warns inside Jupyter when ipywidgets is missing (text bars work).
warnings.filterwarnings("ignore", message="IProgress not found")

import hddnn.mapping  # noqa: E402  (after the filter: imports torch)
from hddnn.errors import ConfigError  # noqa: E402
from hddnn.load import rate_for_load  # noqa: E402

NOTEBOOKS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(NOTEBOOKS)
LAB7 = hddnn.mapping.shipped_topology("lab7")
THREADS = 2  # torch threads for training in the notebook process (the machine has 2 cores)


def _fast_mode() -> bool:
    value = os.environ.get("HDDNN_NOTEBOOK_FAST", "0")
    if value not in ("0", "1"):
        raise ConfigError(f"HDDNN_NOTEBOOK_FAST: expected 0 or 1, got '{value}'")
    return value == "1"


FAST = _fast_mode()


def scratch(*parts: str) -> str:
    """A folder for the notebooks' outputs, outside the repository (created)."""
    root = os.environ.get("HDDNN_NOTEBOOK_DIR") or os.path.join(tempfile.gettempdir(), "hddnn-notebooks")
    folder = os.path.join(os.path.abspath(root), *parts)
    if os.path.commonpath([folder, REPO]) == REPO:
        raise ConfigError(f"HDDNN_NOTEBOOK_DIR: {root} is inside the repository; notebooks must not write there")
    os.makedirs(folder, exist_ok=True)
    return folder


def bench_module(path: str):
    """bench/<path> (e.g. "common.py", "privacy/inversion.py") imported as a module of its
    own: bench/ is not a package."""
    name = "hddnn_bench_" + os.path.splitext(path)[0].replace("/", "_")
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, "bench", path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trained_model() -> str:
    """The trained model folder for this mode (trained on first use, then reused)."""
    if FAST:
        spec = os.path.join(REPO, "tests", "python", "data", "tiny_hetero.json")
        settings = dict(out_dir=scratch("tiny"), epochs=1, limit=3000)
    else:
        spec = os.path.join(REPO, "models", "fmnist_hetero.json")
        settings = dict(out_dir=scratch("fmnist_hetero"), epochs=2, limit=20000,
                        prefer=(os.path.join(REPO, "runs", "fmnist_hetero"),))
    # bench/common's trainer logs to sys.stderr as a subprocess, which needs a real file
    # descriptor: inside a Jupyter kernel its log goes to the kernel's own stderr.
    kernel_stderr, sys.stderr = sys.stderr, sys.__stderr__
    try:
        folder, seconds = bench_module("common.py").trained_model(spec, threads=THREADS, **settings)
    finally:
        sys.stderr = kernel_stderr
    print(f"model {folder}: " + (f"trained in {seconds:.0f} s" if seconds else "reused"))
    return folder


def rates_at(profile, topology, rho: float, hot: float = 1.0) -> list:
    """Requests/s for each end device at load rho, the first end device `hot` times busier.
    profile and topology: dicts or JSON paths."""
    topology = hddnn.mapping.read_json(topology, "topology")[0]
    rate = rate_for_load(profile, topology, rho)
    ends = sum(device["tier"] == "end" for device in topology["devices"])
    return [rate * hot] + [rate] * (ends - 1)


def planner_limit(profile, topology, steps: int = 12) -> float:
    """Largest rho (see rates_at) at which hddnn.mapping.plan finds a feasible plan, by bisection."""
    def feasible(rho):
        return hddnn.mapping.plan(topology, profile, rates_at(profile, topology, rho))["feasible"]

    low, high = 0.0, 1.0
    for _ in range(40):
        if not feasible(high):
            break
        low, high = high, 2 * high
    else:
        raise ConfigError(f"planner_limit: plans stay feasible up to rho {high:g}; the profile escalates nothing")
    for _ in range(steps):
        middle = (low + high) / 2
        low, high = (middle, high) if feasible(middle) else (low, middle)
    return low

"""Launching a distributed run: one MPI rank per topology device.

`run()` writes the run's configuration, starts `mpirun` with the flags that work
as root on few cores (plus any the caller passes through), and reads the outcome
from the results file: mpirun's exit status says nothing reliable once a rank
has died (Open MPI 4.1.4), so a missing results file is the failure signal.
"""
import json
import os
import shutil
import subprocess
import tempfile
from typing import Iterable, Optional, Sequence

from .errors import CommError, ConfigError
from .results import Results

LOCAL_MPIRUN_FLAGS = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                      "--enable-recovery", "--mca", "btl", "self,vader,tcp"]
SCHEMES = ("end", "end-cloud", "mapping")


def node_binary() -> str:
    """Path of the hddnn-node executable built beside the Python module."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hddnn-node")
    if not os.access(path, os.X_OK):
        raise ConfigError(f"{path}: hddnn-node is not built (run scripts/bootstrap)")
    return path


def device_count(topology: str) -> int:
    from . import mapping
    return len(mapping.load_topology(topology)["devices"])


def mpirun_command(config_path: str, ranks: int, mpirun_args: Sequence[str] = ()) -> list:
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        raise ConfigError("mpirun not found (Debian package openmpi-bin)")
    return [mpirun, *LOCAL_MPIRUN_FLAGS, *mpirun_args, "-n", str(ranks), node_binary(), "--config", config_path]


def run(model: str, topology: str, scheme: str = "mapping", rate: float = 10.0, duration: float = 5.0,
        deadline_ms: float = 0.0, seed: int = 0, threshold: Optional[float] = None,
        out: Optional[str] = None, emulate: bool = True, encrypt: bool = True,
        key_file: Optional[str] = None, mpirun_args: Iterable[str] = (), timeout: Optional[float] = None,
        **extra) -> Results:
    """Runs `scheme` over `topology` with the trained model in `model` (an
    `hddnn train --out` folder) and returns its Results. Raises ConfigError for
    bad arguments and CommError when the run produced no results."""
    if scheme not in SCHEMES:
        raise ConfigError(f"scheme: unknown scheme '{scheme}' (expected one of {', '.join(SCHEMES)})")
    for path, what in ((model, "model"), (topology, "topology")):
        if not os.path.exists(path):
            raise ConfigError(f"{what}: {path} does not exist")
    workdir = tempfile.mkdtemp(prefix="hddnn-run-")
    out = os.path.abspath(out or os.path.join(workdir, "results.json"))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    if os.path.exists(out):
        os.remove(out)
    if encrypt and key_file is None:
        from . import crypto
        key_file = os.path.join(workdir, "cluster.key")
        crypto.keygen(key_file)
    config = {"model": os.path.abspath(model), "topology": os.path.abspath(topology), "scheme": scheme,
              "rate": rate, "duration": duration, "deadline_ms": deadline_ms, "seed": seed,
              "threshold": -1.0 if threshold is None else threshold, "out": out, "emulate": emulate,
              "encrypt": encrypt, "key_file": os.path.abspath(key_file) if key_file else "", **extra}
    config_path = os.path.join(workdir, "run.json")
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2)
    command = mpirun_command(config_path, device_count(topology), list(mpirun_args))
    limit = timeout if timeout is not None else duration + 120
    proc = subprocess.run(command, capture_output=True, text=True, timeout=limit)
    return _collect(out, proc)


def _collect(out: str, proc: subprocess.CompletedProcess) -> Results:
    errors = _rank_errors(out)
    if not os.path.exists(out):
        detail = "; ".join(f"rank {e['rank']}: {e['error']}: {e['message']}" for e in errors)
        tail = (proc.stderr or "").strip().splitlines()[-8:]
        raise CommError(f"run produced no results file ({out}). {detail} {' | '.join(tail)}".strip())
    with open(out) as f:
        data = json.load(f)
    data["rank_errors"] = errors
    return Results(data, path=out)


def _rank_errors(out: str) -> list:
    folder, base = os.path.split(out)
    errors = []
    for name in sorted(os.listdir(folder or ".")):
        if name.startswith(base + ".rank") and name.endswith(".error.json"):
            with open(os.path.join(folder, name)) as f:
                errors.append(json.load(f))
    return errors

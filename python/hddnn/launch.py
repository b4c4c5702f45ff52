"""Launching a distributed run: one MPI rank per topology device.

`run()` writes the run's configuration, starts `mpirun` with the flags that work
as root on few cores (plus any the caller passes through), and reads the outcome
from the results file: mpirun's exit status says nothing reliable once a rank
has died (Open MPI 4.1.4), so a missing results file is the failure signal.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Iterable, List, Optional, Sequence, Tuple

from . import _core
from .errors import CommError, ConfigError
from .errors import by_name as errors_by_name
from .faults import Schedule, kill_rank, kill_tree, parse_kill, rank_pids

__all__ = ["run", "join", "parse_kill", "parse_tamper", "rank_pids", "mpirun_command", "node_binary", "check_views",
           "LOCAL_MPIRUN_FLAGS", "HOST_MPIRUN_FLAGS"]
from .load import profile_at_threshold
from .results import Results

# As root, on few cores; a run on this host alone talks over loopback only.
HOST_MPIRUN_FLAGS = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]
LOOPBACK_MPIRUN_FLAGS = ["--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo"]
LOCAL_MPIRUN_FLAGS = HOST_MPIRUN_FLAGS + LOOPBACK_MPIRUN_FLAGS
RUN_MPIRUN_FLAGS = ["--enable-recovery", "--mca", "btl", "self,vader,tcp"]
HOST_OPTIONS = ("--hostfile", "-hostfile", "--machinefile", "-machinefile", "--host", "-host", "-H")
TAMPER_SYNTAX = "KIND@RANK[:COUNT]"


def node_binary() -> str:
    """Path of the hddnn-node executable built beside the Python module."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hddnn-node")
    if not os.access(path, os.X_OK):
        raise ConfigError(f"{path}: hddnn-node is not built (run scripts/bootstrap)")
    return path


def mpirun_path() -> str:
    """The mpirun on PATH; ConfigError when Open MPI is not installed."""
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        raise ConfigError("mpirun not found (Debian package openmpi-bin)")
    return mpirun


def world_from_environment() -> Tuple[int, int]:
    """(rank, size) of this process when mpirun started it, else (0, 1)."""
    return int(os.environ.get("OMPI_COMM_WORLD_RANK", 0)), int(os.environ.get("OMPI_COMM_WORLD_SIZE", 1))


def relaunch_under_mpirun(ranks: int, argv: Sequence[str]) -> int:
    """Runs `python -m hddnn ARGV` as `ranks` MPI ranks on this host; returns mpirun's status."""
    mpirun = mpirun_path()
    return subprocess.run([mpirun, *LOCAL_MPIRUN_FLAGS, "-n", str(ranks), sys.executable, "-m", "hddnn", *argv]).returncode


def device_count(topology: str) -> int:
    from . import mapping
    return len(mapping.load_topology(topology)["devices"])


def check_views(model: str, topology: str) -> None:
    """ConfigError unless the model and the topology agree on views: a multi-view
    model needs end devices that each name one view it has; a single-view one, none."""
    from . import mapping
    manifest_path = os.path.join(model, "manifest.json")
    if not os.path.exists(manifest_path):
        raise ConfigError(f"model: {manifest_path} missing (is this an `hddnn train --out` folder?)")
    with open(manifest_path) as f:
        view_count = json.load(f).get("view_count", 1)
    ends = [d for d in mapping.load_topology(topology)["devices"] if d["tier"] == "end"]
    for device in ends:
        views = device.get("views", [])
        if view_count == 1 and views:
            raise ConfigError(f"topology: end device '{device['name']}' names views, but {model} is a single-view model")
        if view_count > 1 and (len(views) != 1 or not 0 <= views[0] < view_count):
            raise ConfigError(f"topology: end device '{device['name']}' must name one view in 0..{view_count - 1} "
                              f"(\"views\": [v]) for the {view_count}-view model {model}")


def mpirun_command(config_path: str, ranks: int, mpirun_args: Sequence[str] = ()) -> list:
    mpirun = mpirun_path()
    flags = HOST_MPIRUN_FLAGS if spans_hosts(mpirun_args) else LOCAL_MPIRUN_FLAGS
    return [mpirun, *flags, *RUN_MPIRUN_FLAGS, *mpirun_args, "-n", str(ranks), node_binary(), "--config", config_path]


def run(model: str, topology: str, scheme: str = "mapping", rate: float = 10.0, duration: float = 5.0,
        deadline_ms: float = 0.0, seed: int = 0, threshold: Optional[float] = None,
        out: Optional[str] = None, emulate: bool = True, encrypt: bool = True,
        key_file: Optional[str] = None, mpirun_args: Iterable[str] = (), timeout: Optional[float] = None,
        kill: Iterable[Tuple[int, float]] = (), record_requests: bool = False, view_wait_ms: float = 100.0,
        tamper: Iterable[str] = (), time_scale: float = 1.0, compute: str = "measured", data: Optional[str] = None,
        hosts: Optional[str] = None, rsh: str = "ssh", kill_host: Iterable[Tuple[str, float]] = (),
        rejoin: Iterable[Tuple[str, float]] = (), **extra) -> Results:
    """Runs `scheme` over `topology` with the trained model in `model` (an
    `hddnn train --out` folder) and returns its Results. Raises ConfigError for
    bad arguments (unknown keyword arguments included); when the run produced no
    results, the failing rank's own error class (ConfigError, DataError, ...; CommError
    when no rank says); RunFailedError, with the results as its `results`, when the run
    served nothing (no request offered, or every end device lost). `kill` lists
    (rank, seconds) pairs: that rank gets SIGKILL from outside, that many seconds
    after every rank has set up. `record_requests` lists every request's record in
    the results (Results.requests()). On a multi-view topology (end devices naming
    `views`, e.g. ddnn6) with a multi-view model, the cameras' aggregator waits at
    most `view_wait_ms` for a sample's missing views before answering with those it has.
    `tamper` is a test hook: "KIND@RANK[:COUNT]" entries (flip, replay, wrong-key,
    truncate: that rank's first COUNT data frames, default 1; capture: every frame it
    sends, into <out>.rank<RANK>.capture, listed in the results' "captures");
    results["crypto"]["injected"] counts the faults. `time_scale` K >= 1 dilates time: the
    emulated system runs K times slower than the wall clock (compute and link delays
    last K times longer, every reported time is emulated, kill times are in run
    seconds), so a small host serves high request rates with its own per-message
    overhead K times smaller in emulated time; the run takes K times longer.
    `compute` says what emulated compute stretches to time/speed: "measured" (each
    forward's thread CPU time) or "profile" (the section's batch-1 time in the profile:
    on a crowded host, cold caches and CPU steal inflate measured times; the profile's
    are what the planner and the simulator price). With `threshold`, the planner's
    profile carries the escalation fractions of that threshold (load.profile_at_threshold).
    `data` (a file of hddnn.datasets.save) makes end devices serve requests from its test
    split instead of Fashion-MNIST's, cut into the model's views; a file whose images or
    labels do not fit the model raises DataError naming the file and the fault.
    A run spanning hosts keeps its working folder beside the results, as OUT.run, which
    every host must read (a shared folder). It spans them in one of two ways: one mpirun
    for every host (a hostfile in `mpirun_args`), or, with `hosts` (a hostfile, hosts in
    topology order), one mpirun job per host, started through the remote shell `rsh` and
    joined at run time (hddnn.host_jobs), so that a lost host ends only its own job.
    Then `kill_host` lists (host, seconds): every process of the run on that host is
    SIGKILLed then, and `rejoin` (host, seconds): that host's job starts again and joins
    the running system; the results' "rejoins" measure each (load_ms: the model's load;
    online_after_ms: from the job's start to the coordinator's "join")."""
    tamper = [parse_tamper(entry) for entry in tamper]
    keep_out = out is not None
    if any(entry["kind"] == "capture" for entry in tamper) and not keep_out:
        raise ConfigError("tamper: capture needs out= (capture files are written beside the results)")
    if (kill_host or rejoin) and hosts is None:
        raise ConfigError("kill_host and rejoin need hosts= (one job per host)")
    workdir, out = _run_folder(out, hosts is not None or spans_hosts(mpirun_args))
    if data is not None:
        extra["data"] = os.path.abspath(data)
    try:
        config = _run_config(workdir, model, topology, out, threshold, encrypt, key_file, scheme=scheme, rate=rate,
                             duration=duration, deadline_ms=deadline_ms, seed=seed,
                             emulate=emulate, record_requests=record_requests, view_wait_ms=view_wait_ms,
                             tamper=tamper, time_scale=time_scale, compute=compute, **extra)
    except Exception:
        shutil.rmtree(workdir)
        raise
    _remove_rank_files(out, (".json", ".error.json", ".ready", ".capture", ".records.json"))
    config_path = os.path.join(workdir, "run.json")
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2)
    ranks = device_count(topology)
    limit = timeout if timeout is not None else duration * time_scale + 120
    job = _start_jobs(config_path, topology, ranks, workdir, list(mpirun_args), hosts, rsh)
    events = [(at * time_scale, lambda rank=rank: kill_rank(job.rank_pids, rank)) for rank, at in kill]
    events += [(at * time_scale, lambda host=host: job.kill_host(host)) for host, at in kill_host]
    events += [(at * time_scale, lambda host=host: job.rejoin_host(host)) for host, at in rejoin]
    schedule = Schedule(events, [f"{out}.rank{rank}.ready" for rank in range(ranks)], limit)
    try:
        _wait(job.main_process(), out, limit)
    finally:
        schedule.cancel()
        job.stop()
    results = _collect(out, job.log_tail(), job.log_path)
    results["kills"] = [event for event in schedule.done if "host" not in event or "killed" in event]
    results["rejoins"] = [_measure_rejoin(event, out, results, time_scale)
                          for event in schedule.done if "rejoined" in event]
    _note_kill_times(results, time_scale)
    results["captures"] = sorted(glob.glob(glob.escape(out) + ".rank*.capture"))
    _remove_rank_files(out, (".ready",))
    if not keep_out:
        results.path = None
    shutil.rmtree(workdir)  # the key, the config and the jobs' logs; kept when the run failed
    _raise_if_failed(results)
    return results


def join(run_folder: str, host: str, rsh: str = "ssh") -> subprocess.Popen:
    """Starts `host`'s job again into a running system started with `run(..., hosts=...)`
    (its OUT.run folder): the live jobs connect to it, the coordinator readmits its ranks,
    and they serve again. Returns the local process of the remote shell that runs the job."""
    from .host_jobs import HostJobs
    jobs = HostJobs.attach(os.path.abspath(run_folder), rsh)
    jobs.rejoin_host(host)
    return jobs.procs[host]


def spans_hosts(mpirun_args: Iterable[str]) -> bool:
    """Whether mpirun is given other hosts to start ranks on."""
    return any(arg.split("=")[0] in HOST_OPTIONS for arg in mpirun_args)


def _run_folder(out: Optional[str], cluster: bool) -> Tuple[str, str]:
    """The run's working folder (config, key, profile, logs) and its results path. Every
    host of a cluster run reads the folder: it lies beside the results (a shared folder),
    or in the current directory, as OUT.run."""
    if cluster:
        out = os.path.abspath(out or "results.json")
        workdir = out + ".run"
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
        return workdir, out
    workdir = tempfile.mkdtemp(prefix="hddnn-run-")
    return workdir, os.path.abspath(out or os.path.join(workdir, "results.json"))


def _run_config(workdir: str, model: str, topology: str, out: str, threshold: Optional[float], encrypt: bool,
                key_file: Optional[str], **fields) -> dict:
    """The run config every rank reads, checked by the C++ side (which refuses unknown
    fields); once it holds, makes the results' folder and writes the planner's profile
    and, unless one is given, a fresh key."""
    for path, what in ((model, "model"), (topology, "topology")):
        if not os.path.exists(path):
            raise ConfigError(f"{what}: {path} does not exist")
    check_views(model, topology)
    profile = profile_at_threshold(model, threshold)
    profile_path = os.path.join(workdir, "profile.json")
    fresh_key = encrypt and key_file is None
    if fresh_key:
        key_file = os.path.join(workdir, "cluster.key")
    config = {"model": os.path.abspath(model), "profile": profile_path, "topology": os.path.abspath(topology),
              "threshold": -1.0 if threshold is None else threshold, "out": out, "encrypt": encrypt,
              "key_file": os.path.abspath(key_file) if key_file else "", **fields}
    _core.check_run_config(json.dumps(config))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(profile_path, "w") as f:
        json.dump(profile, f)
    if fresh_key:
        from . import crypto
        crypto.keygen(key_file)
    return config


def _start_jobs(config_path: str, topology: str, ranks: int, workdir: str, mpirun_args: List[str],
                hosts: Optional[str], rsh: str):
    """The run's mpirun job (one, on this host or spanning hosts), or its jobs (one per host), started."""
    if hosts is None:
        job = _Job(mpirun_command(config_path, ranks, mpirun_args), workdir)
    else:
        from . import mapping
        from .host_jobs import HostJobs, read_hostfile
        devices = mapping.load_topology(topology)["devices"]
        cloud = next(i for i, d in enumerate(devices) if d["tier"] == "cloud")
        job = HostJobs(read_hostfile(hosts), ranks, cloud, [node_binary(), "--config", config_path], workdir,
                       rsh=rsh, mpirun_flags=[*HOST_MPIRUN_FLAGS, *RUN_MPIRUN_FLAGS, *mpirun_args])
    job.start()
    return job


class _Job:
    """A run's mpirun job (on this host, or spanning hosts through mpirun's own hostfile)."""

    def __init__(self, command: List[str], workdir: str):
        self.command = command
        self.log_path = os.path.join(workdir, "mpirun.log")
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> None:
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def main_process(self) -> subprocess.Popen:
        return self.proc

    def rank_pids(self) -> dict:
        return rank_pids(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            kill_tree(self.proc)
        self.log.close()

    def log_tail(self, lines: int = 8) -> str:
        with open(self.log_path, errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-lines:])


def _wait(proc: subprocess.Popen, out: str, limit: float, grace: float = 5.0) -> None:
    """Waits for mpirun. Once the results file exists the run is over: after a rank
    died, Open MPI 4.1.4 may leave mpirun waiting, so after `grace` seconds the
    session it leads (mpirun and its ranks) is ended."""
    deadline = time.time() + limit
    done_at = None
    while proc.poll() is None:
        now = time.time()
        if done_at is None and os.path.exists(out):
            done_at = now
        if now > deadline or (done_at is not None and now - done_at > grace):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        time.sleep(0.1)


def parse_tamper(text: str) -> dict:
    """'KIND@RANK[:COUNT]' -> {"kind", "rank", "count"} (count 1 by default). The kind
    and the values are checked with the rest of the run config."""
    kind, sep, where = text.partition("@")
    rank, _, count = where.partition(":")
    try:
        if not sep or not kind:
            raise ValueError
        return {"kind": kind, "rank": int(rank), "count": int(count) if count else 1}
    except ValueError:
        raise ConfigError(f"tamper: expected {TAMPER_SYNTAX}, got '{text}'") from None


def _root_cause(errors: list) -> Optional[dict]:
    """The rank error that explains a failed run: the first that is not a peer lost
    (those follow from another rank's failure), else the first."""
    causes = [e for e in errors if e["error"] != "PeerLostError"]
    return (causes or errors or [None])[0]


def _collect(out: str, stderr: str, log_path: str) -> Results:
    """The run's Results; the failing rank's own error class when there are none."""
    errors = _rank_errors(out)
    if not os.path.exists(out):
        detail = "; ".join(f"rank {e['rank']}: {e['error']}: {e['message']}" for e in errors)
        tail = (stderr or "").strip().splitlines()[-8:]
        cause = _root_cause(errors)
        cls = errors_by_name(cause["error"]) if cause else CommError
        raise cls(f"run produced no results file ({out}; mpirun's log: {log_path}). {detail}. "
                  f"{_kept_records(out)}{' | '.join(tail)}".strip())
    with open(out) as f:
        data = json.load(f)
    data["rank_errors"] = errors
    return Results(data, path=out)


def _raise_if_failed(results: Results) -> None:
    """A run that served nothing is a failure: its error class (RunFailedError), with
    the results as the error's `results`."""
    if "error" not in results:
        return
    error = errors_by_name(results["error"]["type"])(
        f"{results['error']['message']}: {results.summary_line()}" + (f" (results: {results.path})" if results.path else ""))
    error.results = results
    raise error


def _measure_rejoin(event: dict, out: str, results: Results, time_scale: float) -> dict:
    """A host's rejoin, measured: from its job's start (unix_ms) to its ranks' processes
    ready (load_ms: the model's load, reported apart), and to the coordinator's "join" of
    each rank (online_after_ms, and online_after_ready_ms without the load); run-time ms
    are emulated (time_scale) but these are wall ms."""
    joins = {}
    for change in results.get("membership", []):
        at_unix = results["started_unix_ms"] + change["at_ms"] * time_scale
        if change["event"] == "join" and at_unix >= event["unix_ms"]:
            joins.setdefault(change["rank"], at_unix)
    ranks = []
    for rank in event["ranks"]:
        ready = _ready_times(out, rank)
        record = {"rank": rank, "load_ms": None, "online_after_ms": None, "online_after_ready_ms": None}
        if ready and ready["started_unix_ms"] >= event["unix_ms"]:
            record["load_ms"] = ready["ready_unix_ms"] - ready["started_unix_ms"]
        if rank in joins:
            record["online_after_ms"] = joins[rank] - event["unix_ms"]
            if record["load_ms"] is not None:
                record["online_after_ready_ms"] = joins[rank] - ready["ready_unix_ms"]
        ranks.append(record)
    return {"host": event["host"], "at_s": event["at_s"], "unix_ms": event["unix_ms"], "ranks": ranks}


def _ready_times(out: str, rank: int) -> Optional[dict]:
    try:
        with open(f"{out}.rank{rank}.ready") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _note_kill_times(results: Results, time_scale: float) -> None:
    """Each failure of a rank the launcher killed (alone, or with its host) gets
    killed_at_ms (run time, like detected_at_ms) and kill_to_detection_ms."""
    killed = {}
    for kill in results["kills"]:
        for rank in kill.get("ranks", [kill.get("rank")]):
            if "unix_ms" in kill:
                killed[rank] = kill
    for failure in results.get("failures", []):
        kill = killed.get(failure["rank"])
        if kill is not None:
            failure["killed_at_ms"] = (kill["unix_ms"] - results["started_unix_ms"]) / time_scale
            failure["kill_to_detection_ms"] = failure["detected_at_ms"] - failure["killed_at_ms"]


def _kept_records(out: str) -> str:
    """What the end devices wrote beside `out` when the coordinator went silent."""
    kept = sorted(glob.glob(glob.escape(out) + ".rank*.records.json"))
    if not kept:
        return ""
    count = 0
    for path in kept:
        with open(path) as f:
            count += len(json.load(f)["records"])
    return f"End devices kept {count} request records in {', '.join(kept)}. "


def _remove_rank_files(out: str, endings: Sequence[str]) -> None:
    """Removes the results file (when ".json" is listed) and the <out>.rank<i><ending> files."""
    folder, base = os.path.split(out)
    for name in os.listdir(folder):
        is_rank_file = name.startswith(base + ".rank") and name.endswith(tuple(endings))
        if is_rank_file or (name == base and ".json" in endings):
            os.remove(os.path.join(folder, name))


def _rank_errors(out: str) -> list:
    folder, base = os.path.split(out)
    errors = []
    for name in sorted(os.listdir(folder or ".")):
        if name.startswith(base + ".rank") and name.endswith(".error.json"):
            with open(os.path.join(folder, name)) as f:
                errors.append(json.load(f))
    return errors

"""A run as one mpirun job per host, joined at run time, so that a lost host ends only its job.

The hostfile (Open MPI's format: `HOST slots=N` per line, `#` comments) lists the hosts in
topology order: the first host's slots take ranks 0..N-1, the next host's the following
ones. Every job is started on its host through the remote shell AGENT (`ssh` by default;
any command called as `AGENT HOST COMMAND...`). The coordinator's host (the one holding
the cloud's rank) also runs `ompi-server`, through which the jobs find each other (Open
MPI's dynamic process management: see the C++ comm/mpi_fabric.hpp). Every host must read
the run's folder (a shared folder): the config, the key, the ompi-server's URI file.

A host's job can be killed (every process of the run on that host, as a power cut would)
and started again with `--rejoin`: the live jobs connect to it, and its ranks serve again.
"""
import json
import os
import shlex
import subprocess
import time
import uuid
from typing import Dict, List, Optional, Sequence, Tuple

from .errors import ConfigError
from .faults import descendants, kill_tree, world_rank_of

__all__ = ["read_hostfile", "HostJobs", "parse_host_event"]
JOBS_FILE = "jobs.json"


def read_hostfile(path: str) -> List[Tuple[str, int]]:
    """[(host, slots)] in file order; ConfigError naming the file and line of a bad entry."""
    if not os.path.exists(path):
        raise ConfigError(f"hostfile: {path} does not exist")
    hosts = []
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            slots = [w for w in words[1:] if w.startswith("slots=")]
            try:
                count = int(slots[0].split("=", 1)[1]) if slots else 1
                if count < 1 or len(words) != 1 + len(slots):
                    raise ValueError
            except ValueError:
                raise ConfigError(f"hostfile {path}, line {number}: expected 'HOST slots=N', got '{line.strip()}'") from None
            if any(host == words[0] for host, _ in hosts):
                raise ConfigError(f"hostfile {path}, line {number}: host {words[0]} is listed twice")
            hosts.append((words[0], count))
    if not hosts:
        raise ConfigError(f"hostfile {path}: no hosts")
    return hosts


def parse_host_event(text: str, option: str) -> Tuple[str, float]:
    """'HOST@SECONDS' -> (host, seconds); ConfigError naming `option` otherwise."""
    host, sep, seconds = text.rpartition("@")
    try:
        if not sep or not host or float(seconds) < 0:
            raise ValueError
        return host, float(seconds)
    except ValueError:
        raise ConfigError(f"{option}: expected HOST@SECONDS, got '{text}'") from None


class HostJobs:
    """The jobs of one run, one per host. Contract: start() starts ompi-server on the
    coordinator's host and then every job; kill_host() ends every process of the run on
    a host; rejoin_host() starts that host's job again, joining the running system;
    stop() ends everything this run started, on every host, and is idempotent."""

    def __init__(self, hosts: Sequence[Tuple[str, int]], devices: int, coordinator: int, node_command: List[str],
                 workdir: str, rsh: str = "ssh", mpirun_flags: Sequence[str] = ()):
        total = sum(slots for _, slots in hosts)
        if total != devices:
            raise ConfigError(f"hostfile: {total} slots over {len(hosts)} hosts, but the topology has {devices} "
                              "devices (one slot per device, hosts in topology order)")
        self.hosts = list(hosts)
        self.first_ranks = [sum(slots for _, slots in self.hosts[:i]) for i in range(len(self.hosts))]
        self.coordinator_host = self.host_of(coordinator)
        self.node_command, self.workdir, self.rsh = node_command, workdir, rsh
        self.mpirun_flags = list(mpirun_flags)
        self.run_id = uuid.uuid4().hex[:12]
        self.uri_file = os.path.join(workdir, "ompi-server.uri")
        self.log_path = os.path.join(workdir, "jobs.log")
        self.procs: Dict[str, subprocess.Popen] = {}
        self.server: Optional[subprocess.Popen] = None
        self.log = None

    def host_of(self, rank: int) -> str:
        for (host, slots), first in zip(self.hosts, self.first_ranks):
            if first <= rank < first + slots:
                return host
        raise ConfigError(f"hostfile: no host holds rank {rank}")

    def ranks_of(self, host: str) -> List[int]:
        index = self._index(host)
        return list(range(self.first_ranks[index], self.first_ranks[index] + self.hosts[index][1]))

    def _index(self, host: str) -> int:
        for index, (name, _) in enumerate(self.hosts):
            if name == host:
                return index
        raise ConfigError(f"host {host} is not in the hostfile ({', '.join(h for h, _ in self.hosts)})")

    def _remote(self, host: str, command: str) -> subprocess.Popen:
        return subprocess.Popen([*shlex.split(self.rsh), host, command], stdout=self.log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start(self, timeout: float = 30.0) -> None:
        self.log = open(self.log_path, "w")
        self.server = self._remote(self.coordinator_host,
                                   f"ompi-server --no-daemonize -r {shlex.quote(self.uri_file)}")
        deadline = time.time() + timeout
        while not (os.path.exists(self.uri_file) and os.path.getsize(self.uri_file) > 0):
            if self.server.poll() is not None or time.time() > deadline:
                raise ConfigError(f"ompi-server did not start on {self.coordinator_host} (log: {self.log_path})")
            time.sleep(0.05)
        for host, _ in self.hosts:
            self.procs[host] = self._remote(host, self._job_command(host, rejoin=False))
        self._save()

    def _save(self) -> None:
        """What `join` needs to start a host's job into this running system, in the run's folder."""
        with open(os.path.join(self.workdir, JOBS_FILE), "w") as f:
            json.dump({"run_id": self.run_id, "hosts": self.hosts, "first_ranks": self.first_ranks,
                       "coordinator_host": self.coordinator_host, "node_command": self.node_command,
                       "mpirun_flags": self.mpirun_flags}, f, indent=1)

    @classmethod
    def attach(cls, workdir: str, rsh: str = "ssh") -> "HostJobs":
        """The jobs of a run started elsewhere (by `hddnn run --hosts`), from its run folder."""
        path = os.path.join(workdir, JOBS_FILE)
        if not os.path.exists(path):
            raise ConfigError(f"join: {path} missing (is {workdir} the OUT.run folder of a running `hddnn run --hosts`?)")
        with open(path) as f:
            saved = json.load(f)
        jobs = cls.__new__(cls)
        jobs.hosts = [tuple(host) for host in saved["hosts"]]
        jobs.first_ranks, jobs.coordinator_host = saved["first_ranks"], saved["coordinator_host"]
        jobs.node_command, jobs.mpirun_flags, jobs.run_id = saved["node_command"], saved["mpirun_flags"], saved["run_id"]
        jobs.workdir, jobs.rsh = workdir, rsh
        jobs.uri_file = os.path.join(workdir, "ompi-server.uri")
        jobs.log_path = os.path.join(workdir, "join.log")
        jobs.procs, jobs.server, jobs.log = {}, None, open(jobs.log_path, "a")
        return jobs

    def _job_command(self, host: str, rejoin: bool) -> str:
        index = self._index(host)
        node = [*self.node_command, "--jobs", ",".join(map(str, self.first_ranks)), "--job", str(index),
                "--run-id", self.run_id, *(["--rejoin"] if rejoin else [])]
        mpirun = ["mpirun", *self.mpirun_flags, "--ompi-server", f"file:{self.uri_file}",
                  "-n", str(self.hosts[index][1]), *node]
        return " ".join(shlex.quote(word) for word in mpirun)

    def main_process(self) -> subprocess.Popen:
        """The coordinator's job: the run is over when it ends (or writes the results)."""
        return self.procs[self.coordinator_host]

    def rank_pids(self) -> Dict[int, int]:
        """PID of each run rank whose process runs on this machine (emulated hosts)."""
        pids = {}
        for (host, _), first in zip(self.hosts, self.first_ranks):
            proc = self.procs.get(host)
            for pid in descendants(proc.pid) if proc is not None else []:
                rank = world_rank_of(pid)
                if rank is not None:
                    pids[first + rank] = pid
        return pids

    def kill_host(self, host: str) -> dict:
        """SIGKILLs every process of this run on `host` (its mpirun too); for the results'
        "kills", with the Unix ms at which the host began killing (its own clock)."""
        launched_ms = time.time() * 1000
        killed_ms = self._kill_remote(host)
        proc = self.procs.get(host)
        if proc is not None and proc.poll() is None:
            kill_tree(proc)
        return {"host": host, "killed": True, "ranks": self.ranks_of(host), "unix_ms": killed_ms or launched_ms}

    def _kill_remote(self, host: str, marker: Optional[str] = None) -> Optional[float]:
        """SIGKILLs the processes on `host` whose command line holds `marker` (default: this
        run's jobs); the host's Unix ms just before (None if it did not say)."""
        marker = marker or f"--run-id {self.run_id}"
        # "[ ]" keeps the pattern from matching the shell that runs pkill.
        pattern = shlex.quote(marker.replace(" ", "[ ]", 1))
        done = subprocess.run([*shlex.split(self.rsh), host, f"date +%s%3N; pkill -KILL -f {pattern}"],
                              capture_output=True, text=True, timeout=30)
        first = done.stdout.split("\n", 1)[0].strip()
        return float(first) if first.isdigit() else None

    def rejoin_host(self, host: str) -> dict:
        """Starts `host`'s job again, joining the running system; for the results' "rejoins"."""
        unix_ms = time.time() * 1000
        old = self.procs.get(host)
        if old is not None and old.poll() is None:
            raise ConfigError(f"rejoin: the job on {host} is still running")
        self.procs[host] = self._remote(host, self._job_command(host, rejoin=True))
        return {"host": host, "rejoined": True, "ranks": self.ranks_of(host), "unix_ms": unix_ms}

    def stop(self) -> None:
        for host in self.procs:
            self._kill_remote(host)
            if self.procs[host].poll() is None:
                kill_tree(self.procs[host])
        if self.server is not None:
            self._kill_remote(self.coordinator_host, f"-r {self.uri_file}")
            if self.server.poll() is None:
                kill_tree(self.server)
            self.server = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def log_tail(self, lines: int = 8) -> str:
        with open(self.log_path, errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-lines:])

"""A run as one mpirun job per host, joined through Open MPI's dynamic process management.

With one mpirun spanning the hosts, losing a whole host (its Open MPI daemon) ends the
whole job under Open MPI 4.1.4. Separate jobs survive it: every host runs its own mpirun
of the ranks the hostfile gives it, the coordinator's host also runs `ompi-server`, and
the ranks find and connect to each other through it (hddnn-node --first-rank, see
cpp/hddnn/comm/mpi_fabric.hpp). A lost host is then only silent ranks, and a restarted
job of it (`--rejoin`) joins the running system again.

Jobs start through a remote shell, `ssh` by default (`rsh`: any command that runs
`RSH HOST COMMAND...` on HOST, as ssh does). Every host needs the same checkout at the
same path and a shared folder holding the run's files (the results' folder).
"""
import os
import shlex
import signal
import subprocess
import time
from typing import List, Optional, Sequence, Tuple

from .errors import CommError, ConfigError

SERVER_START_TIMEOUT_S = 30.0
SERVER_URI = "ompi-server.uri"  # in the run's folder


def read_hostfile(path: str) -> List[Tuple[str, int]]:
    """[(host, slots)] in file order from an Open MPI hostfile: one "HOST slots=N" line per
    host, # comments; slots default to 1. ConfigError naming the line when malformed."""
    if not os.path.exists(path):
        raise ConfigError(f"hosts: {path} does not exist")
    hosts = []
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            slots = 1
            for word in words[1:]:
                key, _, value = word.partition("=")
                if key != "slots" or not value.isdigit() or int(value) < 1:
                    raise ConfigError(f"hosts: {path}:{number}: expected 'HOST slots=N' (N >= 1), got '{line.strip()}'")
                slots = int(value)
            hosts.append((words[0], slots))
    if not hosts:
        raise ConfigError(f"hosts: {path} names no host")
    return hosts


def job_command(mpirun: List[str], uri: str, slots: int, node: List[str], first_rank: int, rejoin: bool) -> List[str]:
    """One host's job: `slots` ranks from run rank `first_rank`, joining through the
    ompi-server whose URI file is `uri`; `rejoin`: they join a running system."""
    command = [*mpirun, "--ompi-server", f"file:{uri}", "-n", str(slots), *node, "--first-rank", str(first_rank)]
    return command + ["--rejoin"] if rejoin else command


def descendants(pid: int) -> List[int]:
    """Every process on this machine descended from `pid`."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILLs a process started here and everything it started on this machine."""
    for pid in [proc.pid, *descendants(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


class HostJobs:
    """The jobs of one run over `hosts` ([(host, slots)] in topology order: the first host
    runs ranks 0..slots-1, and so on). Contract: start() brings up ompi-server on the
    coordinator's host and one job per host; kill(host) and rejoin(host) end and restart
    one host's job; stop() ends everything it started, and is idempotent."""

    def __init__(self, hosts: Sequence[Tuple[str, int]], ranks: int, coordinator: int, node: List[str],
                 mpirun: List[str], workdir: str, rsh: str = "ssh"):
        if sum(slots for _, slots in hosts) != ranks:
            raise ConfigError(f"hosts: the hostfile gives {sum(s for _, s in hosts)} slots, the topology has "
                              f"{ranks} devices (one rank each, in topology order)")
        names = [host for host, _ in hosts]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ConfigError(f"hosts: {', '.join(duplicated)} listed more than once (one job per host)")
        self.hosts = list(hosts)
        self.first_rank = {}
        first = 0
        for host, slots in self.hosts:
            self.first_rank[host] = first
            first += slots
        self.coordinator_host = self.host_of(coordinator)
        self.node, self.mpirun, self.workdir = node, mpirun, workdir
        self.rsh = shlex.split(rsh)
        self.uri = os.path.join(workdir, SERVER_URI)
        self.server: Optional[subprocess.Popen] = None
        self.jobs = {}
        self.logs = []

    def host_of(self, rank: int) -> str:
        for host, slots in self.hosts:
            if self.first_rank[host] <= rank < self.first_rank[host] + slots:
                return host
        raise ConfigError(f"hosts: no host runs rank {rank}")

    def _remote(self, host: str, command: List[str], log_name: str) -> subprocess.Popen:
        log = open(os.path.join(self.workdir, log_name), "w")
        self.logs.append(log)
        return subprocess.Popen([*self.rsh, host, shlex.join(command)], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)

    def start(self) -> None:
        self._start_server()
        for host, _ in self.hosts:
            self.jobs[host] = self._start_job(host, rejoin=False)

    def _start_server(self) -> None:
        self.server = self._remote(self.coordinator_host, ["ompi-server", "--no-daemonize", "-r", self.uri],
                                   "ompi-server.log")
        deadline = time.time() + SERVER_START_TIMEOUT_S
        while not (os.path.exists(self.uri) and os.path.getsize(self.uri) > 0):
            if self.server.poll() is not None or time.time() > deadline:
                self.stop()
                raise CommError(f"ompi-server did not start on {self.coordinator_host} "
                                f"(log: {os.path.join(self.workdir, 'ompi-server.log')})")
            time.sleep(0.05)

    def _start_job(self, host: str, rejoin: bool) -> subprocess.Popen:
        command = job_command(self.mpirun, self.uri, dict(self.hosts)[host], self.node, self.first_rank[host], rejoin)
        suffix = f".{int(time.time() * 1000)}" if rejoin else ""
        return self._remote(host, command, f"job-{host}{suffix}.log")

    def coordinator_job(self) -> subprocess.Popen:
        return self.jobs[self.coordinator_host]

    def kill(self, host: str) -> None:
        """Ends the host's job (its mpirun and ranks, as far as this machine reaches)."""
        kill_tree(self.jobs[host])

    def rejoin(self, host: str) -> None:
        """Starts the host's job again; its ranks rejoin the running system."""
        if host == self.coordinator_host:
            raise ConfigError(f"rejoin: {host} runs the coordinator; its job cannot rejoin a run")
        self.jobs[host] = self._start_job(host, rejoin=True)

    def roots(self) -> List[int]:
        return [job.pid for job in self.jobs.values()]

    def stop(self) -> None:
        for job in self.jobs.values():
            if job.poll() is None:
                kill_tree(job)
        if self.server is not None and self.server.poll() is None:
            kill_tree(self.server)
        for log in self.logs:
            log.close()
        self.logs = []

    def log_tail(self, lines: int = 8) -> str:
        """The last lines of every job's log, for an error message."""
        tails = []
        for name in sorted(os.listdir(self.workdir)):
            if name.startswith("job-") or name == "ompi-server.log":
                with open(os.path.join(self.workdir, name), errors="replace") as f:
                    tail = f.read().strip().splitlines()[-lines:]
                if tail:
                    tails.append(f"{name}: " + " | ".join(tail))
        return "; ".join(tails)

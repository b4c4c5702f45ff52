"""Several hosts emulated on one machine, for tests, benches and demos of the cluster path.

Each host is a network namespace with its own address on a private /24 subnet, joined to
the others (and to this machine, which mpirun needs) by a bridge, and its own hostname
(processes started on it run under `unshare --uts`), so Open MPI sees distinct machines
and talks TCP between them. `mpirun_args()` gives the flags that start Open MPI's remote
daemons there through an rsh agent written for the purpose.

Needs root, `ip` (iproute2) and `unshare` (util-linux); `available()` says why not.
Everything created is removed by `remove()` (or on leaving the `with` block): every
process still running in a namespace is killed, then the namespaces, their links and
the bridge go. Only addresses of the subnet chosen here are used.
"""
import ipaddress
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from typing import Dict, List, Optional, Sequence, Tuple

from .errors import ConfigError

AGENT_TEMPLATE = """#!/bin/sh
# rsh agent for mpirun: runs the remote command on an emulated host (a network
# namespace) under that host's own hostname, as ssh would run it on a real one.
host=$1; shift
case "$host" in
{cases}
  *) echo "emulated hosts: unknown host $host" >&2; exit 255 ;;
esac
exec ip netns exec "$ns" unshare --uts sh -c "hostname $ns; $*"
"""


def available() -> Tuple[bool, str]:
    """(True, "") when hosts can be emulated here, else (False, why not): it needs root,
    `ip` and `unshare`, and a network namespace it may create (a test one, removed)."""
    if os.geteuid() != 0:
        return False, "emulating hosts needs root (network namespaces, veth pairs, a bridge)"
    for tool in ("ip", "unshare"):
        if shutil.which(tool) is None:
            return False, f"emulating hosts needs `{tool}`"
    probe = f"hdprobe{os.getpid() % 100000}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return False, f"this machine refuses network namespaces: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return True, ""


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise ConfigError(f"emulated hosts: `{' '.join(command)}` failed: {result.stderr.strip()}")


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.77.N.0/24 no interface of this machine has an address in."""
    used = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True).stdout
    for third in range(0, 256):
        subnet = ipaddress.IPv4Network(f"10.77.{third}.0/24")
        if f" 10.77.{third}." not in used:
            return subnet
    raise ConfigError("emulated hosts: no free subnet in 10.77.0.0/16")


class EmulatedHosts:
    """`count` emulated hosts named `<prefix>h1`, `<prefix>h2`, ... (also their hostnames).
    Contract: create() builds them all or none; remove() is idempotent and leaves
    nothing behind, whatever ran on them."""

    def __init__(self, count: int = 3, prefix: Optional[str] = None):
        if count < 1:
            raise ConfigError(f"emulated hosts: count must be >= 1, got {count}")
        self.prefix = prefix or f"hd{os.getpid() % 100000}"
        self.names = [f"{self.prefix}h{i}" for i in range(1, count + 1)]
        self.bridge = f"{self.prefix}br"
        self.subnet: Optional[ipaddress.IPv4Network] = None
        self.addresses: Dict[str, str] = {}
        self.gateway = ""
        self.workdir = ""
        self.agent = ""
        self._created: List[str] = []

    def __enter__(self) -> "EmulatedHosts":
        self.create()
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def create(self) -> None:
        ok, why = available()
        if not ok:
            raise ConfigError(why)
        self.subnet = _free_subnet()
        hosts = list(self.subnet.hosts())
        self.gateway = str(hosts[0])
        self.workdir = tempfile.mkdtemp(prefix="hddnn-hosts-")
        try:
            _run("ip", "link", "add", self.bridge, "type", "bridge")
            self._created.append(self.bridge)
            _run("ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
            _run("ip", "link", "set", self.bridge, "up")
            for index, name in enumerate(self.names, start=1):
                self._add_host(name, str(hosts[index]), index)
            self.agent = self._write_agent()
        except Exception:
            self.remove()
            raise

    def _add_host(self, name: str, address: str, index: int) -> None:
        outside, inside = f"{self.prefix}v{index}", f"{self.prefix}p{index}"
        _run("ip", "netns", "add", name)
        self._created.append(name)
        _run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
        _run("ip", "link", "set", outside, "master", self.bridge)
        _run("ip", "link", "set", outside, "up")
        _run("ip", "link", "set", inside, "netns", name)
        _run("ip", "-n", name, "link", "set", "lo", "up")
        _run("ip", "-n", name, "addr", "add", f"{address}/24", "dev", inside)
        _run("ip", "-n", name, "link", "set", inside, "up")
        self.addresses[name] = address

    def _write_agent(self) -> str:
        cases = "\n".join(f"  {name}|{address}) ns={name} ;;" for name, address in self.addresses.items())
        path = os.path.join(self.workdir, "rsh-agent")
        with open(path, "w") as f:
            f.write(AGENT_TEMPLATE.format(cases=cases))
        os.chmod(path, stat.S_IRWXU)
        return path

    def interface(self, name: str) -> str:
        """The host's network interface, inside its namespace."""
        return f"{self.prefix}p{self.names.index(name) + 1}"

    def subnet_args(self) -> List[str]:
        """mpirun flags that keep MPI's traffic on the hosts' subnet (every job, every mode)."""
        subnet = str(self.subnet)
        return ["--mca", "oob_tcp_if_include", subnet, "--mca", "btl_tcp_if_include", subnet]

    def mpirun_args(self) -> List[str]:
        """For one mpirun spanning these hosts: it starts its daemons there through the agent."""
        return ["--mca", "plm_rsh_agent", self.agent, *self.subnet_args()]

    def write_hostfile(self, slots: Sequence[int], path: Optional[str] = None) -> str:
        """An Open MPI hostfile giving host i `slots[i]` ranks, in order; its path."""
        if len(slots) != len(self.names):
            raise ConfigError(f"emulated hosts: {len(slots)} slot counts for {len(self.names)} hosts")
        path = path or os.path.join(self.workdir, "hostfile")
        with open(path, "w") as f:
            for name, count in zip(self.names, slots):
                f.write(f"{self.addresses[name]} slots={count}\n")
        return path

    def pids(self, name: str) -> List[int]:
        """Every process running on the host (in its network namespace)."""
        result = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
        return [int(pid) for pid in result.stdout.split()]

    def kill(self, name: str) -> List[int]:
        """SIGKILLs every process on the host, as a power cut would; the PIDs killed."""
        killed = []
        for pid in self.pids(name):
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
        return killed

    def _kill_and_wait(self, name: str, timeout: float = 5.0) -> None:
        deadline = time.time() + timeout
        while self.kill(name) and time.time() < deadline:
            time.sleep(0.05)

    def remove(self) -> None:
        for name in reversed(self._created):
            if name == self.bridge:
                subprocess.run(["ip", "link", "del", name], capture_output=True)
            else:
                self._kill_and_wait(name)
                subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self._created = []
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = ""

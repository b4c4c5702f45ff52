"""Runs across hosts: three hosts emulated with network namespaces (hddnn.emulated_hosts),
each with its own address and hostname, Open MPI's daemons started on them through an
rsh agent, MPI over TCP between them. Needs root (CI runs as root); skipped elsewhere."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from hddnn import crypto, emulated_hosts
from hddnn.launch import rank_pids, run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB7 = os.path.join(ROOT, "mapping", "topologies", "lab7.json")
HEARTBEAT_MS = 100

ok, why = emulated_hosts.available()
pytestmark = [pytest.mark.mpi, pytest.mark.skipif(not ok, reason=why)]


def namespaces():
    return set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split())


@pytest.fixture(scope="module")
def hosts():
    """Three emulated hosts for the module's runs; afterwards nothing of them is left."""
    before = namespaces()
    with emulated_hosts.EmulatedHosts(3) as created:
        yield created
    assert namespaces() == before
    assert not os.path.exists(f"/sys/class/net/{created.bridge}")


@pytest.fixture(scope="module")
def lab7_small_ends(tmp_path_factory):
    """lab7 with end devices too small for more than the tiny model's end section, so
    every escalation crosses from the end devices' hosts to the edges' and the cloud's."""
    with open(LAB7) as f:
        topology = json.load(f)
    for device in topology["devices"]:
        if device["tier"] == "end":
            device["memory_mb"] = 0.002
    path = tmp_path_factory.mktemp("topology") / "lab7_small_ends.json"
    path.write_text(json.dumps(topology))
    return str(path)


def check_served_everything(results):
    assert results["offered"] > 0
    assert results["answered"] == results["offered"]
    assert results["lost"] == 0 and results["duplicates"] == 0


def test_hosts_have_their_own_names_and_addresses(hosts):
    for name in hosts.names:
        out = subprocess.run([hosts.agent, name, "hostname"], capture_output=True, text=True, check=True).stdout
        assert out.strip() == name
        addresses = subprocess.run(["ip", "-n", name, "-o", "-4", "addr"], capture_output=True, text=True).stdout
        assert hosts.addresses[name] in addresses
    # TCP from the first host to a listener on the last.
    last = hosts.addresses[hosts.names[-1]]
    listen = (f"import socket; s = socket.socket(); s.bind(('{last}', 0)); s.listen(); "
              "print(s.getsockname()[1], flush=True); s.accept()[0].sendall(b'hello')")
    server = subprocess.Popen(["ip", "netns", "exec", hosts.names[-1], sys.executable, "-c", listen],
                              stdout=subprocess.PIPE, text=True)
    port = server.stdout.readline().strip()
    connect = f"import socket; c = socket.create_connection(('{last}', {port}), 5); print(c.recv(5).decode())"
    out = subprocess.run(["ip", "netns", "exec", hosts.names[0], sys.executable, "-c", connect], capture_output=True,
                         text=True, timeout=30)
    server.wait(timeout=30)
    assert out.stdout.strip() == "hello"


def test_readme_cluster_command_serves_every_request_across_three_hosts(model, hosts, lab7_small_ends, tmp_path):
    """scripts/cluster/launch, as the README gives it, over lab7 spanning three hosts (end
    devices 0-1 on the first, 2-3 on the second, edges and cloud on the third), sealed."""
    hostfile = hosts.write_hostfile([2, 2, 3])
    out, key = tmp_path / "out.json", tmp_path / "cluster.key"
    crypto.keygen(str(key))
    command = [os.path.join(ROOT, "scripts", "cluster", "launch"), "--rsh", hosts.agent, hostfile, model,
               lab7_small_ends, "mapping", "10", "2", str(out), *hosts.subnet_args()]
    subprocess.run(command, check=True, timeout=300, env={**os.environ, "HDDNN_KEY": str(key)})
    with open(out) as f:
        results = json.load(f)
    check_served_everything(results)
    assert results["failures"] == []
    assert results["crypto"]["encrypted"] is True and results["crypto"]["rejected"] == 0
    assert results["bytes_per_sample"] > 0  # features crossed between the hosts


def test_remote_rank_killed_is_detected_by_its_silence(model, hosts, lab7_small_ends, tmp_path):
    """edge0 runs on another host than the cloud, whose coordinator cannot see its process:
    its silence alone gives it away, within 3 heartbeat periods of the kill."""
    hostfile = hosts.write_hostfile([2, 3, 2])  # edge0 (rank 4) beside end2 and end3
    results = run(model, lab7_small_ends, scheme="mapping", rate=15, duration=3.0, threshold=0.5, kill=[(4, 1.5)],
                  mpirun_args=["--hostfile", hostfile, *hosts.mpirun_args()], heartbeat_ms=HEARTBEAT_MS,
                  out=str(tmp_path / "r.json"))
    check_served_everything(results)
    assert [f["rank"] for f in results["failures"]] == [4]
    assert 0 < results["failures"][0]["kill_to_detection_ms"] <= 3 * HEARTBEAT_MS + 50
    assert [(m["event"], m["rank"]) for m in results["membership"]] == [("leave", 4)]
    assert 4 not in results["plans"][-1]["online"]


def wait_until_ready(out, ranks, timeout=120):
    """Until every rank has set up (its <out>.rank<i>.ready exists), or `timeout` seconds."""
    ready = [f"{out}.rank{r}.ready" for r in range(ranks)]
    deadline = time.time() + timeout
    while not all(os.path.exists(path) for path in ready) and time.time() < deadline:
        time.sleep(0.02)


def silence(rank, seconds, out, ranks, after_s, roots):
    """A thread that SIGSTOPs a rank `after_s` seconds after every rank has set up and
    SIGCONTs it `seconds` later: a device cut off for a while, then back."""

    def run_it():
        wait_until_ready(out, ranks)
        time.sleep(after_s)
        pid = rank_pids(*roots())[rank]
        os.kill(pid, signal.SIGSTOP)
        time.sleep(seconds)
        os.kill(pid, signal.SIGCONT)

    thread = threading.Thread(target=run_it, daemon=True)
    thread.start()
    return thread


def mpirun_processes():
    """PIDs of the mpiruns running on this machine (the test's own run starts one)."""
    out = subprocess.run(["pgrep", "-x", "mpirun"], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def test_remote_device_cut_off_leaves_and_rejoins_the_online_list(model, hosts, lab7_small_ends, tmp_path):
    """edge0, on another host than the cloud, goes silent for 1.5 s (SIGSTOP) and comes
    back: it is declared dead and left out of the plans, then readmitted when it speaks
    again; the online list of every planning round and both events are in the results,
    and nothing is lost."""
    hostfile = hosts.write_hostfile([2, 3, 2])
    out = str(tmp_path / "r.json")
    cutter = silence(4, 1.5, out, 7, after_s=1.0, roots=mpirun_processes)
    results = run(model, lab7_small_ends, scheme="mapping", rate=15, duration=5.0, threshold=0.5,
                  mpirun_args=["--hostfile", hostfile, *hosts.mpirun_args()], heartbeat_ms=HEARTBEAT_MS, out=out)
    cutter.join()
    check_served_everything(results)
    failure = results["failures"][0]
    assert failure["rank"] == 4 and failure["rejoined_at_ms"] > failure["detected_at_ms"]
    events = [(m["event"], m["rank"]) for m in results["membership"]]
    assert events[:2] == [("leave", 4), ("join", 4)]
    assert 4 not in results["membership"][0]["online"] and 4 in results["membership"][1]["online"]
    rounds = [(plan["at_ms"], 4 in plan["online"]) for plan in results["plans"]]
    assert any(not online for _, online in rounds) and rounds[-1][1]
    assert {d["name"]: d["alive"] for d in results["per_device"]}["edge0"] is True


# ---- one mpirun job per host ------------------------------------------------------

def test_one_job_per_host_serves_every_request(model, hosts, lab7_small_ends, tmp_path):
    """lab7 as three jobs (end devices, edges, cloud), joined at run time through
    ompi-server, sealed: everything offered is answered, nobody fails."""
    hostfile = hosts.write_hostfile([4, 2, 1])
    results = run(model, lab7_small_ends, scheme="mapping", rate=15, duration=2.0, threshold=0.5,
                  hosts=hostfile, rsh=hosts.agent, mpirun_args=hosts.subnet_args(), heartbeat_ms=HEARTBEAT_MS,
                  out=str(tmp_path / "r.json"))
    check_served_everything(results)
    assert results["failures"] == []
    assert results["crypto"]["encrypted"] is True and results["crypto"]["rejected"] == 0
    served = {d["name"]: d["busy_ms"] for d in results["per_device"]}
    assert served["edge0"] > 0 and served["edge1"] > 0  # escalations crossed to the edges' host


def power_cut(hosts, name, out, ranks, after_s):
    """A thread that SIGKILLs every process in host `name`'s namespace (from outside, as a
    power cut would) `after_s` seconds after every rank has set up; the kill's Unix ms
    lands in the returned list."""
    killed_at = []

    def cut():
        wait_until_ready(out, ranks)
        time.sleep(after_s)
        killed_at.append(time.time() * 1000)
        hosts.kill(name)

    thread = threading.Thread(target=cut, daemon=True)
    thread.start()
    return thread, killed_at


def test_edge_host_lost_from_outside(model, hosts, lab7_small_ends, tmp_path):
    """Every process of the edges' host SIGKILLed from outside 2 s in (a power cut, its
    mpirun included): only that host's job ends; the run completes with nothing lost,
    and the edges leave the online list after 3 heartbeat periods of silence."""
    hostfile = hosts.write_hostfile([4, 2, 1])
    out = str(tmp_path / "r.json")
    cutter, killed_at = power_cut(hosts, hosts.names[1], out, 7, after_s=2.0)
    results = run(model, lab7_small_ends, scheme="mapping", rate=15, duration=6.0, threshold=0.5,
                  hosts=hostfile, rsh=hosts.agent, mpirun_args=hosts.subnet_args(), heartbeat_ms=HEARTBEAT_MS, out=out)
    cutter.join()
    check_served_everything(results)
    assert sorted(f["rank"] for f in results["failures"]) == [4, 5]
    # Declared after 3 heartbeat periods of silence; the kill lands within a period of the
    # last heartbeat, and this host's scheduling adds to it (bench/cluster: the median of 10).
    killed_ms = killed_at[0] - results["started_unix_ms"]
    assert all(f["detected_after_ms"] <= 3 * HEARTBEAT_MS + 50 for f in results["failures"])
    assert all(0 < f["detected_at_ms"] - killed_ms <= 1000 for f in results["failures"]), \
        [f["detected_at_ms"] - killed_ms for f in results["failures"]]
    assert sorted((m["event"], m["rank"]) for m in results["membership"]) == [("leave", 4), ("leave", 5)]
    assert not {4, 5} & set(results["plans"][-1]["online"])
    assert hosts.pids(hosts.names[1]) == []

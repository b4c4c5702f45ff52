"""Runs across hosts: three hosts emulated with network namespaces (hddnn.emulated_hosts),
each with its own address and hostname, Open MPI's daemons started on them through an
rsh agent, MPI over TCP between them. Needs root (CI runs as root); skipped elsewhere."""
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from hddnn import crypto, emulated_hosts
from hddnn.launch import run

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
    listen = ("import socket; s = socket.socket(); s.bind(('{}', 0)); s.listen(); print(s.getsockname()[1], flush=True);"
              " s.accept()[0].sendall(b'hello')").format(hosts.addresses[hosts.names[-1]])
    server = subprocess.Popen(["ip", "netns", "exec", hosts.names[-1], sys.executable, "-c", listen],
                              stdout=subprocess.PIPE, text=True)
    port = server.stdout.readline().strip()
    connect = (f"import socket; c = socket.create_connection(('{hosts.addresses[hosts.names[-1]]}', {port}), 5);"
               " print(c.recv(5).decode())")
    out = subprocess.run(["ip", "netns", "exec", hosts.names[0], sys.executable, "-c", connect], capture_output=True,
                         text=True, timeout=30)
    server.wait(timeout=30)
    assert out.stdout.strip() == "hello"


@pytest.mark.parametrize("mode", ["per-host jobs", "one mpirun"])
def test_readme_cluster_command_serves_every_request_across_three_hosts(model, hosts, tmp_path, mode):
    """scripts/cluster/launch, as the README gives it, over lab7 spanning three hosts:
    end devices 0-1 on the first, 2-3 on the second, edges and cloud on the third."""
    hostfile = hosts.write_hostfile([2, 2, 3])
    out, key = tmp_path / "out.json", tmp_path / "cluster.key"
    crypto.keygen(str(key))
    one_mpirun = ["--one-mpirun"] if mode == "one mpirun" else []
    command = [os.path.join(ROOT, "scripts", "cluster", "launch"), *one_mpirun, "--rsh", hosts.agent, hostfile, model,
               LAB7, "mapping", "10", "2", str(out), *hosts.subnet_args()]
    subprocess.run(command, check=True, timeout=300, env={**os.environ, "HDDNN_KEY": str(key)})
    with open(out) as f:
        results = json.load(f)
    check_served_everything(results)
    assert results["failures"] == []
    assert results["crypto"]["encrypted"] is True and results["crypto"]["rejected"] == 0
    assert results["exit_fraction"]["edge"] + results["exit_fraction"]["cloud"] > 0


def test_remote_rank_killed_is_detected_by_its_silence(model, hosts, tmp_path):
    """edge0 runs on another host than the cloud, whose coordinator cannot see its process:
    its silence alone gives it away, within 3 heartbeat periods of the kill."""
    hostfile = hosts.write_hostfile([2, 3, 2])  # edge0 (rank 4) beside end2 and end3
    results = run(model, LAB7, scheme="mapping", rate=15, duration=3.0, threshold=0.5, kill=[(4, 1.5)],
                  hosts=hostfile, rsh=hosts.agent, mpirun_args=hosts.subnet_args(), heartbeat_ms=HEARTBEAT_MS,
                  out=str(tmp_path / "r.json"))
    check_served_everything(results)
    assert [f["rank"] for f in results["failures"]] == [4]
    failure = results["failures"][0]
    assert 0 < failure["kill_to_detection_ms"] <= 3 * HEARTBEAT_MS + 50
    assert results["membership"][0]["dead"] == [4]


def kill_host_from_outside(hosts, name, out, ranks, after_s):
    """A thread that SIGKILLs every process of the host (mpirun included), `after_s`
    seconds after every rank has set up; returns it and the list it fills with the kill's time."""
    killed = []

    def kill():
        ready = [f"{out}.rank{rank}.ready" for rank in range(ranks)]
        deadline = time.time() + 120
        while not all(os.path.exists(path) for path in ready) and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(after_s)
        killed.append(time.time() * 1000)
        hosts.kill(name)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread, killed


def test_edge_host_lost_and_rejoined(model, hosts, tmp_path):
    """Every process of the edges' host is SIGKILLed from outside mid-run: the run goes on
    and loses nothing; the host's job, started again, is readmitted, back in the online
    list, and serves again."""
    hostfile = hosts.write_hostfile([4, 2, 1])  # end devices | edge0, edge1 | cloud
    edge_host = hosts.names[1]
    out = str(tmp_path / "r.json")
    killer, killed = kill_host_from_outside(hosts, edge_host, out, 7, after_s=2.0)
    results = run(model, LAB7, scheme="mapping", rate=15, duration=8.0, threshold=0.5, hosts=hostfile,
                  rsh=hosts.agent, mpirun_args=hosts.subnet_args(), rejoin=[(edge_host, 4.0)],
                  heartbeat_ms=HEARTBEAT_MS, out=out)
    killer.join()
    check_served_everything(results)
    failures = {f["rank"]: f for f in results["failures"]}
    assert sorted(failures) == [4, 5]
    for failure in failures.values():
        assert failure["rejoined_at_ms"] > failure["detected_at_ms"]
    events = [(m["event"], m["rank"]) for m in results["membership"]]
    assert sorted(events[:2]) == [("leave", 4), ("leave", 5)] and sorted(events[2:]) == [("join", 4), ("join", 5)]
    assert 4 not in results["membership"][1]["online"] and {4, 5} <= set(results["membership"][-1]["online"])
    assert {4, 5} <= set(results["plans"][-1]["online"])
    served = {d["name"]: d["answered_here"] for d in results["per_device"]}
    assert served["edge0"] + served["edge1"] > 0  # the restarted processes' own work
    assert results["rejoins"][0]["rejoined_host"] == edge_host

"""The distributed runtime under mpirun: a tiny trained model (conftest's `model`) over a
4-device topology (2 end devices, 1 edge, 1 cloud), each scheme a few seconds."""
import glob
import json
import os
import subprocess
import sys

import pytest

import hddnn
from hddnn.errors import CommError, ConfigError
from hddnn.launch import run

DATA = os.path.join(os.path.dirname(__file__), "data")
TOPOLOGY = os.path.join(DATA, "tiny4.json")

pytestmark = pytest.mark.mpi


def check_complete(results):
    assert results["offered"] > 20
    assert results["answered"] == results["offered"]
    assert results["lost"] == 0 and results["duplicates"] == 0
    assert results["rank_errors"] == []


@pytest.mark.parametrize("scheme", ["end", "end-cloud", "mapping"])
def test_scheme_answers_every_request(model, scheme, tmp_path):
    # A tiny model trained briefly is unsure of most samples: a low threshold makes them escalate.
    results = run(model, TOPOLOGY, scheme=scheme, rate=15, duration=2.0, threshold=0.5, out=str(tmp_path / "r.json"))
    check_complete(results)
    assert results["scheme"] == scheme
    assert results["crypto"]["encrypted"] is True and results["crypto"]["rejected"] == 0
    # No frame was lost, so no answer was overdue: nothing re-sent, no answer twice.
    assert results["crypto"]["resent"] == 0 and results["duplicate_answers_dropped"] == 0
    exits = results["exit_fraction"]
    if scheme == "end":
        assert exits["end"] == 1.0 and results["bytes_per_sample"] == 0
    else:
        assert exits["edge"] + exits["cloud"] > 0
        assert 0 < results["bytes_per_sample"] < 784
    latency = results["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
    devices = {d["name"]: d for d in results["per_device"]}
    assert set(devices) == {"end0", "end1", "edge0", "cloud"}
    assert all(0 <= d["utilisation"] <= 1.0 for d in devices.values())
    assert os.path.exists(tmp_path / "r.json")


def test_mapping_plans_are_recorded_and_clear_mode_works(model, tmp_path):
    results = run(model, TOPOLOGY, scheme="mapping", rate=15, duration=2.0, threshold=0.5, encrypt=False)
    check_complete(results)
    assert results["crypto"]["encrypted"] is False
    assert len(results["plans"]) >= 1 and "routing" in results["plans"][0]


def test_rank_count_mismatch_is_a_config_error(model, tmp_path):
    from hddnn.launch import node_binary, LOCAL_MPIRUN_FLAGS
    config = tmp_path / "run.json"
    out = tmp_path / "r.json"
    config.write_text(json.dumps({"model": model, "topology": TOPOLOGY, "scheme": "end", "rate": 1,
                                  "duration": 1, "out": str(out), "encrypt": False}))
    proc = subprocess.run(["mpirun", *LOCAL_MPIRUN_FLAGS, "-n", "3", node_binary(), "--config", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert "ConfigError" in proc.stderr and "4 devices but 3 ranks" in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("change,message", [
    (lambda t: t["devices"][0].update(parent="edge9"), "edge9"),
    (lambda t: t["devices"].pop(), "cloud"),
])
def test_bad_topology_is_rejected_before_launch(model, tmp_path, change, message):
    with open(TOPOLOGY) as f:
        topology = json.load(f)
    change(topology)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(topology))
    with pytest.raises(ConfigError, match=message):
        run(model, str(path), scheme="end", rate=1, duration=1)


def test_unknown_scheme(model):
    with pytest.raises(ConfigError, match="scheme"):
        run(model, TOPOLOGY, scheme="cloud-only")


def test_killed_edge_loses_nothing(model):
    """SIGKILL on the edge mid-run: detected by heartbeats, its pending work re-sent to
    the cloud, every request answered once, and no rank process left behind."""
    from hddnn.launch import rank_pids
    results = run(model, TOPOLOGY, scheme="mapping", rate=30, duration=3.0, threshold=0.5, kill=[(2, 1.5)])
    assert results["kills"][0]["rank"] == 2 and "pid" in results["kills"][0]
    check_complete(results)
    failures = results["failures"]
    assert [f["rank"] for f in failures] == [2]
    assert failures[0]["detected_after_ms"] < 1000
    assert results["membership"][0]["dead"] == [2]
    assert {d["name"]: d["alive"] for d in results["per_device"]}["edge0"] is False
    assert not os.path.exists(f"/proc/{results['kills'][0]['pid']}")


def test_kill_argument_is_checked():
    from hddnn.launch import parse_kill
    assert parse_kill("2@1.5") == (2, 1.5)
    with pytest.raises(ConfigError, match="RANK@SECONDS"):
        parse_kill("edge0")


def test_local_runs_stay_on_loopback_and_cluster_runs_do_not():
    from hddnn.launch import mpirun_command
    local = mpirun_command("run.json", 4)
    assert local[local.index("btl_tcp_if_include") + 1] == "lo"
    cluster = mpirun_command("run.json", 4, ["--hostfile", "hosts"])
    assert "btl_tcp_if_include" not in cluster and "--hostfile" in cluster


def test_killed_end_device_requests_count_as_lost_with_it(model):
    """SIGKILL on an end device: its requests (raw inputs never leave it) are counted as
    lost_with_device, the other end device's are all answered, and the run completes."""
    results = run(model, TOPOLOGY, scheme="mapping", rate=30, duration=3.0, threshold=0.5, kill=[(0, 1.5)],
                  record_requests=True)
    assert [f["rank"] for f in results["failures"]] == [0]
    assert results["lost_with_device"] > 0
    assert results["lost"] == 0 and results["duplicates"] == 0
    assert results["answered"] + results["lost_with_device"] == results["offered"]
    assert {d["name"]: d["alive"] for d in results["per_device"]}["end0"] is False
    requests = results.requests()
    assert len(requests) == results["offered"]
    lost = requests[requests.lost_with_device]
    assert len(lost) == results["lost_with_device"] and (lost.origin == 0).all() and (lost.arrival_ms == -1).all()
    answered = requests[requests.answers > 0]
    assert len(answered) == results["answered"] and (answered.origin == 1).all()
    assert answered.latency_ms.mean() == pytest.approx(results["latency_ms"]["mean"], rel=1e-9)


def test_requests_need_recording(model):
    results = run(model, TOPOLOGY, scheme="end", rate=20, duration=1.0)
    assert "requests" not in results
    with pytest.raises(ConfigError, match="record_requests"):
        results.requests()


def node_processes_of(config_path):
    """PIDs of hddnn-node processes started with `config_path`."""
    pids = []
    for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(cmdline, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if config_path.encode() in args:
            pids.append(int(cmdline.split("/")[2]))
    return pids


def test_killed_coordinator_ends_every_rank_and_keeps_the_records(model, tmp_path):
    """SIGKILL on the cloud (the coordinator): the other ranks notice its silence, end
    with PeerLostError, the end devices keep their records on disk, and no rank process
    is left behind."""
    out = tmp_path / "r.json"
    with pytest.raises(CommError, match="PeerLostError") as error:
        run(model, TOPOLOGY, scheme="mapping", rate=30, duration=2.0, threshold=0.5, out=str(out), kill=[(3, 1.0)])
    assert "End devices kept" in str(error.value)
    kept = sorted(tmp_path.glob("r.json.rank*.records.json"))
    assert [p.name for p in kept] == ["r.json.rank0.records.json", "r.json.rank1.records.json"]
    for path in kept:
        body = json.loads(path.read_text())
        assert body["records"] and "coordinator" in body["reason"]
    config = str(error.value).split("mpirun's log: ")[1].split(")")[0].replace("mpirun.log", "run.json")
    assert os.path.exists(config)
    assert node_processes_of(config) == []


QUAD_TOPOLOGY = os.path.join(DATA, "tiny_quad6.json")


@pytest.fixture(scope="module")
def quad_model(tmp_path_factory):
    """A tiny multi-view model: four cameras each see one quadrant of every sample."""
    out = tmp_path_factory.mktemp("model") / "tiny_quad"
    cmd = [sys.executable, "-m", "hddnn", "train", "--spec", os.path.join(DATA, "tiny_quad.json"),
           "--epochs", "1", "--limit", "3000", "--out", str(out), "--no-progress", "--threads", "2"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    return str(out)


@pytest.mark.parametrize("scheme,aggregator", [("end", "edge0"), ("end-cloud", "cloud"), ("mapping", "edge0")])
def test_multi_view_cameras_send_features_to_their_aggregator(quad_model, scheme, aggregator):
    # A generous view wait: on a loaded 2-core host a view may trail the others by tens of ms.
    results = run(quad_model, QUAD_TOPOLOGY, scheme=scheme, rate=15, duration=2.0, threshold=0.5,
                  view_wait_ms=1000)
    check_complete(results)
    assert results["multi_view"] == {"cameras": 4, "answered_with_views_absent": 0, "late_views": 0}
    exits = results["exit_fraction"]
    assert exits["end"] == 0
    if scheme == "end":
        assert exits["edge"] == 1.0
    # Every camera sends one sealed 1-bit feature map per sample: tens of bytes each, never its pixels.
    assert 4 * 20 < results["bytes_per_sample"] < 4 * 196
    devices = {d["name"]: d for d in results["per_device"]}
    assert set(devices) == {"cam0", "cam1", "cam2", "cam3", "edge0", "cloud"}
    answered_by = sum(d["answered_here"] for d in devices.values() if d["name"] in (aggregator, "cloud"))
    assert answered_by == results["answered"]
    if scheme == "end-cloud":  # the cloud gathers the views itself: the edge sees no work
        assert devices["edge0"]["answered_here"] == 0 and devices["edge0"]["utilisation"] == 0


def test_killed_camera_loses_nothing_and_the_aggregator_goes_on_without_its_view(quad_model):
    """DDNN's missing-camera case, live: a camera killed mid-run is detected; the
    aggregator stops waiting for its view and answers every sample with the others."""
    results = run(quad_model, QUAD_TOPOLOGY, scheme="mapping", rate=20, duration=4.0, threshold=0.5,
                  kill=[(1, 1.5)], record_requests=True)
    check_complete(results)
    assert results["lost_with_device"] == 0
    assert [f["rank"] for f in results["failures"]] == [1]
    assert results["membership"][0]["dead"] == [1]
    requests = results.requests()
    after = requests[requests["arrival_ms"] > results["failures"][0]["detected_at_ms"]]
    assert len(after) > 10
    assert results["multi_view"]["answered_with_views_absent"] >= len(after)


def test_views_of_model_and_topology_must_agree(model, quad_model):
    with pytest.raises(ConfigError, match="single-view model"):
        run(model, QUAD_TOPOLOGY, scheme="end", rate=1, duration=1)
    with pytest.raises(ConfigError, match="must name one view"):
        run(quad_model, TOPOLOGY, scheme="end", rate=1, duration=1)


def test_time_scale_dilates_the_run_but_not_its_figures(model):
    """Under time dilation K the run lasts about K times longer on the wall, while
    emulated latencies keep the topology's link delays (end0 -> cloud: 10 ms each way)."""
    results = run(model, TOPOLOGY, scheme="end-cloud", rate=10, duration=1.0, threshold=0.0, time_scale=4)
    check_complete(results)
    assert results["time_scale"] == 4
    assert results["wall_s"] >= 3.5
    assert 20 <= results["latency_ms"]["p50"] < 200
    with pytest.raises(ConfigError, match="time_scale"):
        run(model, TOPOLOGY, scheme="end", rate=1, duration=1, time_scale=0.5)


def test_aggregator_sends_rejected_escalations_again(quad_model):
    """A multi-view aggregator keeps its escalations to the cloud until answered: frames
    altered on the way are rejected by the cloud and sent again once overdue, so every
    sample is still answered once."""
    edge = 4  # tiny_quad6: cam0..cam3, edge0, cloud
    results = run(quad_model, QUAD_TOPOLOGY, scheme="mapping", rate=15, duration=2.0, threshold=0.0,
                  view_wait_ms=1000, tamper=[f"flip@{edge}:3"], record_requests=True)
    check_complete(results)
    crypto = results["crypto"]
    assert crypto["injected"] == {"flip": 3}
    assert crypto["rejected"] == 3 and crypto["rejected_by_reason"] == {"failed authentication": 3}
    assert crypto["resent"] == 3 and results.requests().resends.sum() == 3
    assert results["duplicate_answers_dropped"] == 0

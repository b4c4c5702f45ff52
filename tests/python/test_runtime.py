"""The distributed runtime under mpirun: a tiny trained model (conftest's `model`) over a
4-device topology (2 end devices, 1 edge, 1 cloud), each scheme a few seconds."""
import glob
import json
import os
import subprocess
import sys

import pytest

from hddnn.errors import CommError, ConfigError, RunFailedError
from hddnn.launch import run

DATA = os.path.join(os.path.dirname(__file__), "data")
TOPOLOGY = os.path.join(DATA, "tiny4.json")

pytestmark = pytest.mark.mpi


def changed_topology(tmp_path, change):
    """A copy of tiny4.json, altered by `change(topology)`, in tmp_path; its path."""
    with open(TOPOLOGY) as f:
        topology = json.load(f)
    change(topology)
    path = tmp_path / "topology.json"
    path.write_text(json.dumps(topology))
    return str(path)


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


def answered_by(results):
    """Requests answered by each device (by name); every answer is counted once, where its exit ran."""
    answered = {d["name"]: d["answered_here"] for d in results["per_device"]}
    assert sum(answered.values()) == results["answered"]
    return answered


def test_memory_limited_ends_send_sections_up_and_clear_mode_works(model):
    """tiny4's end devices hold the end section only: every plan places the later
    sections above the end tier, and the edge answers requests."""
    results = run(model, TOPOLOGY, scheme="mapping", rate=15, duration=2.0, threshold=0.5, encrypt=False)
    check_complete(results)
    assert results["crypto"]["encrypted"] is False
    plans = results["plans"]
    assert len(plans) >= 1 and all(set(plan["routing"]) == set(plan["sections"]) == {"0", "1"} for plan in plans)
    for plan in plans:
        assert all(tiers[0] == "end" and tiers[-1] != "end" for tiers in plan["sections"].values())
    assert answered_by(results)["edge0"] > 0


def test_ends_with_room_for_the_model_answer_everything_themselves(model, tmp_path):
    """With memory for every section on the end devices, the plans keep all three
    there: the last section answers on the device, and only requests escalated before
    the first plan arrived reach the edge or the cloud."""
    roomy = changed_topology(tmp_path, lambda t: [d.update(memory_mb=256) for d in t["devices"]])
    results = run(model, roomy, scheme="mapping", rate=15, duration=2.0, threshold=0.5)
    check_complete(results)
    plans = results["plans"]
    assert len(plans) >= 1
    for plan in plans:
        assert plan["sections"] == {"0": ["end"] * 3, "1": ["end"] * 3}
    answered = answered_by(results)
    assert answered["edge0"] <= 5 and answered["cloud"] <= 5
    assert results["bytes_per_sample"] < 20


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
    with pytest.raises(ConfigError, match=message):
        run(model, changed_topology(tmp_path, change), scheme="end", rate=1, duration=1)


def test_config_error_inside_a_rank_arrives_as_config_error(model):
    """A tamper entry naming a rank the topology lacks is refused by every rank, which
    knows the topology: the run raises that ConfigError, not a generic CommError."""
    with pytest.raises(ConfigError, match="rank 9 is not one of the run's 4 ranks"):
        run(model, TOPOLOGY, scheme="end", rate=5, duration=1.0, tamper=["flip@9"])


def test_misspelled_run_option_is_refused(model):
    with pytest.raises(ConfigError, match="unknown field 'heartbeat'"):
        run(model, TOPOLOGY, scheme="end", rate=5, duration=1.0, heartbeat=50)


def test_run_that_offered_nothing_is_an_error(model, tmp_path):
    """No request offered is a failure, never a result with `lost 0`; what was measured is kept."""
    with pytest.raises(RunFailedError, match="no request was offered") as caught:
        run(model, TOPOLOGY, scheme="end", rate=0.0, duration=1.0, out=str(tmp_path / "r.json"))
    assert caught.value.results["offered"] == 0
    assert json.loads((tmp_path / "r.json").read_text())["error"]["type"] == "RunFailedError"


def test_run_whose_end_devices_all_died_is_an_error(model):
    with pytest.raises(RunFailedError, match=r"every end device was lost \(ranks 0, 1\)") as caught:
        run(model, TOPOLOGY, scheme="mapping", rate=20, duration=3.0, threshold=0.5, kill=[(0, 1.0), (1, 1.0)])
    assert sorted(f["rank"] for f in caught.value.results["failures"]) == [0, 1]


def test_unknown_scheme(model):
    with pytest.raises(ConfigError, match="scheme"):
        run(model, TOPOLOGY, scheme="cloud-only")


def test_killed_edge_loses_nothing(model):
    """SIGKILL on the edge mid-run: detected by heartbeats, its pending work re-sent to
    the cloud, every request answered once, and no rank process left behind."""
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


def test_unknown_accelerator_is_refused_naming_the_device(model, tmp_path):
    topology = changed_topology(tmp_path, lambda t: t["devices"][3].update(accelerator="tpu"))
    with pytest.raises(ConfigError, match=r"'cloud'\)\.accelerator: unknown accelerator 'tpu'"):
        run(model, topology, scheme="end", rate=1, duration=1)


def test_a_cuda_accelerator_this_torch_lacks_fails_before_serving(model, tmp_path):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this torch has CUDA")
    topology = changed_topology(tmp_path, lambda t: t["devices"][3].update(accelerator="cuda"))
    with pytest.raises(ConfigError, match=r"device 'cloud' \(rank 3\)\.accelerator is \"cuda:0\" but this torch "
                                          r"has no usable CUDA"):
        run(model, topology, scheme="end-cloud", rate=5, duration=1)


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


def escalate_fractions(profile):
    return {section["name"]: section["escalate_fraction"] for section in profile["sections"]}


def test_profile_at_threshold_prices_the_exit_curve(model):
    """An overridden threshold's profile carries the escalations of that point of the
    exit curve, as conditional fractions (of the samples reaching each section)."""
    from hddnn.load import profile_at_threshold
    with open(os.path.join(model, "profile.json")) as f:
        trained = json.load(f)
    with open(os.path.join(model, "metrics.json")) as f:
        curve = json.load(f)["exit_curve"]
    assert profile_at_threshold(model, None) == trained
    assert escalate_fractions(profile_at_threshold(model, 0.0))["end"] == 1.0
    # A point where some samples exit at the end, some at the edge and some at the cloud.
    point = next(p for p in curve if 0 < p["exit_fraction"]["end/fine"] < 1 - p["exit_fraction"]["cloud/fine"])
    exits = point["exit_fraction"]
    escalate = escalate_fractions(profile_at_threshold(model, point["thresholds"][0]))
    assert escalate["end"] == pytest.approx(1 - exits["end/fine"])
    assert escalate["end"] * escalate["edge"] == pytest.approx(exits["cloud/fine"])
    assert escalate["cloud"] == 0
    with pytest.raises(ConfigError, match="threshold: 0.123 is not a point"):
        profile_at_threshold(model, 0.123)


def test_profile_compute_charges_the_profiled_section_times(model):
    """compute="profile": every forward costs its section's profiled batch-1 time over
    the device's speed, so each device's busy time is that time per section it ran."""
    results = run(model, TOPOLOGY, scheme="end-cloud", rate=15, duration=2.0, threshold=0.5, compute="profile",
                  record_requests=True)
    check_complete(results)
    with open(os.path.join(model, "profile.json")) as f:
        section_ms = {s["name"]: s["compute_ms"]["batch1"] for s in json.load(f)["sections"]}
    with open(TOPOLOGY) as f:
        speeds = [d["speed"] for d in json.load(f)["devices"]]
    requests = results.requests()
    busy = {d["rank"]: d["busy_ms"] for d in results["per_device"]}
    for rank in (0, 1):
        offered = int((requests.origin == rank).sum())
        assert busy[rank] == pytest.approx(offered * section_ms["end"] / speeds[rank], rel=1e-6)
    escalated = int((requests.exit != "end").sum())
    to_cloud_section = int((requests.exit == "cloud").sum())
    assert escalated > 0
    cloud_ms = escalated * section_ms["edge"] + to_cloud_section * section_ms["cloud"]
    assert busy[3] == pytest.approx(cloud_ms / speeds[3], rel=1e-6)


@pytest.mark.parametrize("options,message", [
    ({"compute": "bogus"}, "compute 'bogus' unknown"),
    ({"compute": "profile", "emulate": False}, "needs emulate"),
])
def test_compute_option_is_checked_before_launch(model, tmp_path, options, message):
    out = tmp_path / "never" / "r.json"
    with pytest.raises(ConfigError, match=message):
        run(model, TOPOLOGY, scheme="end", rate=1, duration=1, out=str(out), **options)
    assert not out.parent.exists()  # refused before the results folder was made or mpirun started


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

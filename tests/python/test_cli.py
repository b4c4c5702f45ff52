import json
import os
import shutil
import subprocess
import sys

import pytest

VENV_BIN = os.path.dirname(sys.executable)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "hddnn", *args], capture_output=True, text=True, timeout=120)


def test_info_reports_versions_blas_and_dataset():
    out = run_cli("info")
    assert out.returncode == 0, out.stderr
    for key in ("hddnn", "torch", "mpi", "libsodium", "blas", "nccl", "threads", "dataset"):
        assert f"{key}:" in out.stdout
    assert "Open MPI" in out.stdout


def test_console_script_matches_module():
    script = os.path.join(VENV_BIN, "hddnn")
    if not os.path.exists(script):
        pytest.skip("console script not installed in this environment")
    out = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "info" in out.stdout


def test_data_summary(tmp_path):
    out = run_cli("data", "--split", "test", "--views", "grid6")
    if "missing" in run_cli("info").stdout:
        pytest.skip("dataset not installed")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["samples"] == 10000 and summary["image_shape"] == [6, 1, 14, 14]
    assert summary["per_coarse"]["footwear"] == 3000


def test_bad_dataset_folder_gives_typed_error_not_a_crash(tmp_path):
    out = run_cli("data", "--split", "test", "--root", str(tmp_path))
    assert out.returncode == 2
    assert "DataError" in out.stderr and str(tmp_path) in out.stderr


TINY4 = os.path.join(os.path.dirname(__file__), "data", "tiny4.json")
SIM_LOAD = ("--topology", TINY4, "--rate", "10", "--duration", "1")


@pytest.mark.parametrize("threshold,end_exits", [("0", 0.0), ("1", 1.0)])
def test_sim_prices_a_threshold_override(model, tmp_path, threshold, end_exits):
    """`hddnn sim --threshold T` simulates the escalations of that point of the model's
    exit curve: at 0 no end exit is confident enough and every request escalates; at 1
    every one is answered on its device."""
    out = tmp_path / "sim.json"
    done = run_cli("sim", "--model", model, "--threshold", threshold, "--scheme", "end-cloud", *SIM_LOAD,
                   "--out", str(out))
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    assert results["offered"] > 0 and results["exit_fraction"]["end"] == end_exits


def test_sim_threshold_needs_a_model(model):
    done = run_cli("sim", "--profile", os.path.join(model, "profile.json"), "--threshold", "0.5", *SIM_LOAD)
    assert done.returncode == 2
    assert "ConfigError" in done.stderr and "--threshold" in done.stderr


def test_profile_remeasures_a_trained_model(model, tmp_path):
    """`hddnn profile` rewrites profile.json from the checkpoint: the same sections and
    escalations, each compute time the fastest of its rounds."""
    copy = tmp_path / "tiny"
    shutil.copytree(model, copy)
    before = json.loads((copy / "profile.json").read_text())
    done = run_cli("profile", "--model", str(copy), "--rounds", "2", "--limit", "500")
    assert done.returncode == 0, done.stderr
    after = json.loads((copy / "profile.json").read_text())
    assert [s["name"] for s in after["sections"]] == [s["name"] for s in before["sections"]]
    for section in after["sections"]:
        assert section["compute_ms"]["batch1"] > 0 and 0 <= section["escalate_fraction"] <= 1
        assert section["name"] + ":" in done.stdout


def test_profile_needs_a_checkpoint(tmp_path):
    done = run_cli("profile", "--model", str(tmp_path))
    assert done.returncode == 2
    assert "ConfigError" in done.stderr and "checkpoint.pt" in done.stderr

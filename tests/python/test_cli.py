import json
import os
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

import importlib
import os
import subprocess
import sys

import pytest

importlib.import_module("hddnn")  # imports torch before _core


def pytest_collection_modifyitems(config, items):
    """HDDNN_QUICK=1 skips suites marked slow."""
    if os.environ.get("HDDNN_QUICK") != "1":
        return
    skip = pytest.mark.skip(reason="HDDNN_QUICK=1 skips slow suites")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def model(tmp_path_factory):
    """A tiny multi-exit model (tests/python/data/tiny_hetero.json) trained for one epoch
    on 3000 images: the runtime suites' model, trained once per session."""
    data = os.path.join(os.path.dirname(__file__), "data")
    out = tmp_path_factory.mktemp("model") / "tiny"
    cmd = [sys.executable, "-m", "hddnn", "train", "--spec", os.path.join(data, "tiny_hetero.json"),
           "--epochs", "1", "--limit", "3000", "--out", str(out), "--no-progress", "--threads", "2"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    return str(out)

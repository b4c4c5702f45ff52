import os

import pytest

import hddnn  # noqa: F401  (imports torch before _core)


def pytest_collection_modifyitems(config, items):
    """HDDNN_QUICK=1 skips suites marked slow."""
    if os.environ.get("HDDNN_QUICK") != "1":
        return
    skip = pytest.mark.skip(reason="HDDNN_QUICK=1 skips slow suites")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)

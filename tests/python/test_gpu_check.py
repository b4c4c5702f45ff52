"""The Python of scripts/gpu_check.sh (bench/gpu/check_*.py): every file imports
without a GPU, torch or the C++ extension, the script calls each of them, and the
summary phase (standard library only) turns a work folder into its JSON."""
import importlib.util
import json
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GPU_DIR = os.path.join(ROOT, "bench", "gpu")
SCRIPT = os.path.join(ROOT, "scripts", "gpu_check.sh")
CHECKS = sorted(name for name in os.listdir(GPU_DIR) if re.fullmatch(r"check_\w+\.py", name))


def load(name: str):
    """Imports bench/gpu/<name> as a module of its own (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"gpu_check_{name[:-3]}", os.path.join(GPU_DIR, name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checks_are_there():
    assert {"check_info.py", "check_dist_cuda.py", "check_throughput.py", "check_summary.py"} <= set(CHECKS)


@pytest.mark.parametrize("name", CHECKS)
def test_check_imports_and_has_a_main(name):
    module = load(name)
    assert module.__doc__ and module.__doc__.strip(), f"{name} has no module docstring"
    assert callable(module.main)


@pytest.mark.parametrize("name", CHECKS)
def test_gpu_check_sh_calls_it(name):
    with open(SCRIPT) as f:
        assert f"bench/gpu/{name}" in f.read()


def test_summary_of_a_work_folder(tmp_path, capsys):
    work = tmp_path / "work"
    work.mkdir()
    (work / "phases.tsv").write_text("info\t0\t3\nbuild_gpu\t1\t120\nthroughput\tskipped\t0\n")
    (work / "gpu_ctest.out").write_text(
        "[  SKIPPED ] Nccl.TwoRanks\n"
        "50% tests passed, 1 tests failed out of 2\n"
        "The following tests FAILED:\n"
        "\t  7 - nccl_2rank (Failed)\n")
    (work / "dist_cuda.json").write_text(json.dumps({
        "ok": True, "ms_per_step_without_average": 9.6, "ms_per_step_with_average": 9.9,
        "gradient_bytes": 7800000, "average_buckets": 1}))
    out = tmp_path / "gpu_check.json"
    assert load("check_summary.py").main([str(work), str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["phases"]["build_gpu"] == {"rc": "1", "seconds": 120}
    assert res["phases"]["throughput"]["rc"] == "skipped"
    assert res["gpu_ctest"] == {"failed": 1, "total": 2, "failed_tests": ["nccl_2rank"],
                                "skipped_lines": ["Nccl.TwoRanks"]}
    assert res["all_ctest"] is None and res["throughput"] is None
    assert res["dist_cuda"]["ok"] is True
    printed = capsys.readouterr().out
    assert "DistributedGradients on CUDA: ok=True" in printed and "build_gpu" in printed

"""The Python of scripts/gpu_check.sh (bench/gpu/check_*.py and bench/gpu/run.py):
every file imports without a GPU, torch or the C++ extension, the script calls each
of them, the summary phase (standard library only) turns a work folder into its JSON,
and bench/gpu/run.py reports a machine without a GPU as such, exiting 0."""
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
    assert {"check_info.py", "check_dist_cuda.py", "check_summary.py"} <= set(CHECKS)


@pytest.mark.parametrize("name", CHECKS)
def test_check_imports_and_has_a_main(name):
    module = load(name)
    assert module.__doc__ and module.__doc__.strip(), f"{name} has no module docstring"
    assert callable(module.main)


@pytest.mark.parametrize("name", CHECKS + ["run.py"])
def test_gpu_check_sh_calls_it(name):
    with open(SCRIPT) as f:
        assert f"bench/gpu/{name}" in f.read()


def test_summary_of_a_work_folder(tmp_path, capsys):
    work = tmp_path / "work"
    work.mkdir()
    (work / "phases.tsv").write_text("info\t0\t3\nbuild_gpu\t1\t120\nbench\tskipped\t0\n")
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
    assert res["phases"]["bench"]["rc"] == "skipped"
    assert res["gpu_ctest"] == {"failed": 1, "total": 2, "failed_tests": ["nccl_2rank"],
                                "skipped_lines": ["Nccl.TwoRanks"]}
    assert res["all_ctest"] is None and res["bench"] is None
    assert res["dist_cuda"]["ok"] is True
    printed = capsys.readouterr().out
    assert "DistributedGradients on CUDA: ok=True" in printed and "build_gpu" in printed


def test_bench_without_a_gpu_says_so_and_exits_0(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: bench/gpu/run.py would run the checks")
    out = tmp_path / "gpu.json"
    assert load("run.py").main(["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("## bench/gpu\n") and "No GPU on" in printed and "did not run" in printed
    res = json.loads(out.read_text())
    assert res["gpu"] is None and res["claims"] == [] and res["date"].endswith("UTC")


def test_bench_markdown_names_the_gpu_and_every_claim():
    run = load("run.py")
    trained = {"steps": 429, "steps_per_s": 90.0, "accuracy": 0.9, "loss_curve": [0.5], "ranks": 1}
    res = {"gpu": "NVIDIA H200", "host": "h", "date": "2026-12-02 10:00 UTC",
           "train": {"cuda": trained, "cpu": dict(trained, steps_per_s=9.0), "speedup": 10.0, "accuracy_gap_pt": 0.1},
           "data_parallel": {"ranks1": trained, "ranks2": dict(trained, ranks=2), "worst_epoch_loss_gap_pct": 0.4},
           "serving": {"rate_per_end_device": 300.0, "gain": 4.0,
                       **{k: {"offered": 3600, "answered": 3600, "throughput_per_s": v, "cloud_utilisation": 0.99,
                              "p50_ms": 20.0} for k, v in (("cpu_cloud", 250.0), ("gpu_cloud", 1000.0))}},
           "claims": [run.claim("c1", ">= 5x", "10.0x", True), run.claim("c2", ">= 3x", "2.0x", False)]}
    text = run.markdown(res)
    assert text.startswith("## bench/gpu\n") and "**NVIDIA H200**" in text and "2026-12-02" in text
    assert "| c1 | >= 5x | 10.0x | ✓ |" in text and "| c2 | >= 3x | 2.0x | ✗ |" in text
    assert "| gpu_cloud | 3600 | 3600 | 1000.0 |" in text

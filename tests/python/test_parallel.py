"""hddnn._core.DistributedGradients from Python under mpirun, and NCCL in `hddnn info`."""
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hddnn
from hddnn.info import info
from hddnn.launch import LOCAL_MPIRUN_FLAGS

MPIRUN = ["mpirun", *LOCAL_MPIRUN_FLAGS]
TINY_SPEC = Path(__file__).parent / "data" / "tiny_hetero.json"

# Each rank averages tensors with known means, then trains a Linear model on its
# shard for 10 steps; rank 0's weights must match full-batch training.
SCRIPT = textwrap.dedent("""
    import sys, torch, hddnn
    dist = hddnn._core.DistributedGradients(bucket_bytes=64)
    rank, size = dist.rank, dist.size
    tensors = [torch.full((n,), float(rank + 1)) for n in (3, 40, 1)] + [torch.full((2, 2), rank + 1.0).double()]
    dist.average_tensors(tensors)
    mean = (size + 1) / 2
    assert all(torch.all(t == mean) for t in tensors), tensors
    assert dist.last_bucket_count == 4, dist.last_bucket_count

    torch.manual_seed(rank)
    model = torch.nn.Linear(6, 2)
    dist.broadcast(list(model.parameters()))
    torch.manual_seed(0)
    reference = torch.nn.Linear(6, 2)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), reference.parameters()))
    torch.manual_seed(5)
    for _ in range(10):
        x, y = torch.randn(16, 6), torch.randn(16, 2)
        shard = slice(rank * 16 // size, (rank + 1) * 16 // size)
        for net, xs, ys, sync in ((model, x[shard], y[shard], True), (reference, x, y, False)):
            net.zero_grad()
            torch.nn.functional.mse_loss(net(xs), ys).backward()
            if sync:
                dist.average(list(net.parameters()))
            with torch.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
    worst = max((a - b).abs().max().item() for a, b in zip(model.parameters(), reference.parameters()))
    assert worst < 1e-5, worst
    sys.stdout.write(f"ok {rank}\\n")  # one write: mpirun interleaves the ranks' output
""")


@pytest.mark.mpi
def test_distributed_gradients_from_python_on_two_ranks():
    done = subprocess.run(MPIRUN + ["-n", "2", sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(line for line in done.stdout.splitlines() if line.startswith("ok")) == ["ok 0", "ok 1"], done.stdout


def test_info_reports_nccl_version_and_visible_gpus():
    core = hddnn._core.build_info()
    line = info()["nccl"]
    if not core["nccl_compiled"]:
        assert line == "not compiled"
        return
    assert re.fullmatch(r"compiled in \(version \d+\.\d+\.\d+\), (no GPU visible|\d+ GPU\(s\) visible)", line), line
    assert (core["cuda_devices"] == 0) == line.endswith("no GPU visible")


def _train(tmp_path, name, *extra):
    out = tmp_path / name
    cmd = [sys.executable, "-m", "hddnn", "train", "--spec", str(TINY_SPEC), "--epochs", "1", "--limit", "3000",
           "--no-progress", "--out", str(out), *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return done, out


@pytest.mark.mpi
def test_cli_train_on_two_ranks_matches_one_process(tmp_path):
    """`hddnn train --ranks 2` relaunches itself under mpirun; averaging gradients over
    the ranks' shards follows one process's training on the same global batches (not to
    the last bit: batch norm normalizes over each rank's shard, as in DDP without SyncBN)."""
    single, single_out = _train(tmp_path, "one", "--threads", "1")
    double, double_out = _train(tmp_path, "two", "--ranks", "2", "--threads", "1")
    assert single.returncode == 0 and double.returncode == 0, single.stderr + double.stderr
    one = json.loads((single_out / "metrics.json").read_text())
    two = json.loads((double_out / "metrics.json").read_text())
    assert (one["ranks"], two["ranks"]) == (1, 2)
    assert two["history"][-1]["step"] == one["history"][-1]["step"]
    assert two["history"][-1]["loss"] == pytest.approx(one["history"][-1]["loss"], rel=1e-2)
    for exit_name, accuracy in one["accuracy"].items():
        assert two["accuracy"][exit_name] == pytest.approx(accuracy, abs=0.02), exit_name
    assert (double_out / "cloud.pt").exists()


def test_cli_train_rejects_a_bad_rank_count(tmp_path):
    done, _ = _train(tmp_path, "zero", "--ranks", "0")
    assert done.returncode != 0
    assert "--ranks: must be >= 1, got 0" in done.stderr

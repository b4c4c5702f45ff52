"""Training and serving on a device from Python and the CLI: `device="cpu"` is the
default trainer exactly, a GPU this torch cannot give and mixed precision on the CPU
are ConfigErrors, and (with a GPU only) CUDA training matches the CPU run."""
import json
import os
import subprocess
import sys

import pytest
import torch

import hddnn
from hddnn.errors import ConfigError

TINY = os.path.join(os.path.dirname(__file__), "data", "tiny_hetero.json")
NO_CUDA = not torch.cuda.is_available()


@pytest.fixture(scope="module")
def data():
    return hddnn.datasets.fashion_mnist("train", limit=512), hddnn.datasets.fashion_mnist("val", limit=128)


def _trained(data, **settings):
    net = hddnn.Network.from_spec(TINY, seed=3)
    history = net.fit(*data, epochs=1, progress=False, threads=1, batch_size=64, **settings)
    return net, history


def test_cpu_device_is_the_default_trainer_bit_for_bit(data):
    default, h_default = _trained(data)
    on_cpu, h_cpu = _trained(data, device="cpu")
    assert [r["loss"] for r in h_default] == [r["loss"] for r in h_cpu]
    x = data[1].images[:16]
    assert torch.equal(default.forward(x)["cloud/fine"], on_cpu.forward(x)["cloud/fine"])


def test_mixed_precision_on_the_cpu_is_refused(data):
    with pytest.raises(ConfigError, match=r"training.amp: mixed precision needs a CUDA device"):
        _trained(data, amp=True)


def test_unknown_device_is_refused(data):
    with pytest.raises(ConfigError, match="training.device: unknown device 'gpu'"):
        _trained(data, device="gpu")


@pytest.mark.skipif(not NO_CUDA, reason="this torch has CUDA")
def test_cuda_without_cuda_is_a_config_error(data):
    with pytest.raises(ConfigError, match=r"training.device is \"cuda:0\" but this torch has no usable CUDA"):
        _trained(data, device="cuda")


@pytest.mark.skipif(NO_CUDA, reason="needs a CUDA torch and a GPU")
@pytest.mark.parametrize("amp", [False, True])
def test_cuda_training_matches_the_cpu_run(data, amp):
    cpu, h_cpu = _trained(data)
    gpu, h_gpu = _trained(data, device="cuda", amp=amp)
    assert abs(h_gpu[-1]["loss"] - h_cpu[-1]["loss"]) < (0.05 if amp else 2e-3)
    x = data[1].images[:64]
    agree = (gpu.forward(x)["cloud/fine"].argmax(1) == cpu.forward(x)["cloud/fine"].argmax(1)).float().mean()
    assert agree > (0.9 if amp else 0.98)


def test_cli_train_refuses_a_device_this_torch_lacks(tmp_path):
    device = "cuda:99" if not NO_CUDA else "cuda"
    done = subprocess.run([sys.executable, "-m", "hddnn", "train", "--spec", TINY, "--epochs", "1",
                           "--limit", "256", "--out", str(tmp_path / "run"), "--no-progress", "--device", device],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "ConfigError" in done.stderr and "training.device" in done.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_cli_train_records_the_device(tmp_path):
    out = tmp_path / "run"
    subprocess.run([sys.executable, "-m", "hddnn", "train", "--spec", TINY, "--epochs", "1", "--limit", "256",
                    "--out", str(out), "--no-progress", "--threads", "1", "--device", "cpu"],
                   check=True, capture_output=True, timeout=300)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["device"] == "cpu" and metrics["amp"] is False

"""hddnn.Network and `hddnn train` on tiny specs: spec errors, shapes, training,
evaluation, profile, checkpoints and the TorchScript export round-trip."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import hddnn

TINY = {
    "name": "tiny", "views": "single",
    "training": {"batch_size": 64, "epochs": 1},
    "sections": [
        {"tier": "end",
         "blocks": [{"type": "conv", "out": 8, "kernel": 3, "stride": 2}, {"type": "batchnorm"},
                    {"type": "activation"}, {"type": "dwsep", "out": 8, "stride": 2}],
         "exits": [{"labels": "fine", "blocks": [{"type": "pool", "mode": "avg", "global": True}]},
                   {"labels": "coarse", "weight": 0.5,
                    "blocks": [{"type": "pool", "mode": "avg", "global": True}]}],
         "output": {"blocks": [{"type": "conv", "out": 2, "kernel": 1}, {"type": "batchnorm"}],
                    "quantize": "1bit"}},
        {"tier": "edge",
         "blocks": [{"type": "conv", "out": 8, "kernel": 3}, {"type": "activation"}],
         "exits": [{"labels": "fine", "blocks": [{"type": "pool", "mode": "avg", "global": True}]}],
         "output": {"quantize": "8bit"}},
        {"tier": "cloud",
         "blocks": [{"type": "residual", "out": 8}],
         "exits": [{"labels": "fine", "blocks": [{"type": "pool", "mode": "avg", "global": True}]}]},
    ],
}

TINY6 = {
    "name": "tiny6", "views": "grid6",
    "sections": [
        {"tier": "end",
         "blocks": [{"type": "conv", "out": 4, "kernel": 3, "stride": 2}, {"type": "activation"}],
         "exits": [{"labels": "fine", "blocks": [{"type": "pool", "mode": "avg", "global": True}]}],
         "output": {"blocks": [{"type": "conv", "out": 2, "kernel": 3, "stride": 2}], "quantize": "1bit"}},
        {"tier": "edge", "aggregator": "avg",
         "blocks": [{"type": "conv", "out": 8, "kernel": 3}, {"type": "activation"}],
         "exits": [{"labels": "fine", "blocks": [{"type": "pool", "mode": "avg", "global": True}]}]},
    ],
}


@pytest.fixture(scope="module")
def data():
    return (hddnn.datasets.fashion_mnist("train", limit=2048),
            hddnn.datasets.fashion_mnist("val", limit=256),
            hddnn.datasets.fashion_mnist("test", limit=256))


@pytest.fixture(scope="module")
def trained(data):
    train, val, _ = data
    net = hddnn.Network.from_spec_dict(TINY, seed=1)
    history = net.fit(train, val, epochs=3, progress=False, threads=2, lr=0.01)
    net.choose_thresholds(val)
    return net, history


def test_spec_errors_are_config_errors():
    bad = json.loads(json.dumps(TINY))
    bad["sections"][0]["blocks"][2]["type"] = "lstm"
    with pytest.raises(hddnn.ConfigError, match=r"sections\[0\]\.blocks\[2\]\.type.*lstm"):
        hddnn.Network.from_spec_dict(bad)
    bad = json.loads(json.dumps(TINY))
    bad["sections"][1]["exits"][0]["labels"] = "superfine"
    with pytest.raises(ValueError, match=r"exits\[0\]\.labels"):
        hddnn.Network.from_spec_dict(bad)
    with pytest.raises(hddnn.ConfigError):
        hddnn.Network.from_spec("/nonexistent.json")


def test_shipped_specs_build():
    root = os.path.join(os.path.dirname(__file__), "..", "..", "models")
    for name in ("fmnist_hetero.json", "fmnist_ddnn6.json"):
        net = hddnn.Network.from_spec(os.path.join(root, name))
        views = 6 if "ddnn6" in name else 1
        side = 14 if views == 6 else 28
        out = net.forward(torch.rand(2, views, 1, side, side))
        assert out["cloud/fine"].shape == (2, 10)


def test_fit_returns_history_and_learns(trained, data):
    net, history = trained
    assert [h["epoch"] for h in history] == [0, 1, 2]
    assert history[2]["loss"] < history[0]["loss"]
    scores = net.evaluate(data[2])
    assert set(scores["accuracy"]) == {"end/fine", "end/coarse", "edge/fine", "cloud/fine"}
    assert scores["accuracy"]["end/coarse"] > 0.5  # one group for all: at most 0.4
    assert len(net.exit_curve(data[2])) == 21


def test_policy_uses_chosen_thresholds(trained, data):
    net, _ = trained
    assert set(net.thresholds) == {"end/fine", "edge/fine"}
    policy = net.evaluate(data[2])["policy"]
    assert abs(sum(policy["exit_fraction"].values()) - 1.0) < 1e-9
    assert list(policy["thresholds"]) == list(net.thresholds.values())


def test_profile_format(trained, data):
    net, _ = trained
    profile = net.profile(data[2])
    assert profile["input_bytes"] == 784
    names = [s["name"] for s in profile["sections"]]
    assert names == ["end", "edge", "cloud"]
    end, edge, cloud = profile["sections"]
    assert end["out_bytes"] == 2 * 7 * 7 // 8 + 1  # 98 bits packed
    assert edge["out_bytes"] == 8 * 7 * 7
    assert cloud["out_bytes"] == 0 and cloud["escalate_fraction"] == 0
    # Conditional fractions: of the samples reaching a section, the share passing on.
    exits = net.evaluate(data[2])["policy"]["exit_fraction"]
    assert end["escalate_fraction"] == pytest.approx(1 - exits["end/fine"], abs=1e-6)
    assert end["escalate_fraction"] * edge["escalate_fraction"] == pytest.approx(exits["cloud/fine"], abs=1e-6)
    for s in profile["sections"]:
        assert s["params"] > 0 and s["flops"] > 0 and s["param_bytes"] >= 4 * s["params"]
        assert s["compute_ms"]["batch1"] > 0 and s["compute_ms"]["batch32"] > 0


def test_export_round_trip_in_plain_torch(trained, data, tmp_path):
    net, _ = trained
    manifest = net.export(tmp_path)
    assert manifest["chain"] == ["end", "edge", "cloud"]
    assert set(manifest["exit_policy"]["thresholds"]) == {"end/fine", "edge/fine"}
    assert [s["name"] for s in manifest["labels"]] == ["fine", "coarse"]  # a spec without labels: Fashion-MNIST's
    assert manifest["labels"][1]["classes"] == list(hddnn.datasets.COARSE_LABELS)
    assert manifest["labels"][1]["of_finest"] == list(hddnn.datasets.COARSE_OF_FINE)
    images = data[2].images[:16]
    expected = net.forward(images)
    end, edge, cloud = (torch.jit.load(str(tmp_path / f"{n}.pt")) for n in ("end", "edge", "cloud"))
    with torch.no_grad():
        a = end(images[:, 0])
        b = edge(a["features"])
        c = cloud(b["features"])
    assert set(a["features"].unique().tolist()) <= {-1.0, 1.0}
    for got, name in ((a["fine"], "end/fine"), (a["coarse"], "end/coarse"), (b["fine"], "edge/fine"),
                      (c["fine"], "cloud/fine")):
        assert torch.allclose(got, expected[name], atol=1e-5, rtol=0), name


def test_multiview_export_takes_mask(tmp_path):
    net = hddnn.Network.from_spec_dict(TINY6)
    manifest = net.export(tmp_path)
    assert [s["view"] for s in manifest["sections"][:6]] == list(range(6))
    images = torch.rand(4, 6, 1, 14, 14)
    mask = torch.ones(4, 6)
    mask[:, 3] = 0
    expected = net.forward(images, mask)
    devices = [torch.jit.load(str(tmp_path / f"end{v}.pt")) for v in range(6)]
    edge = torch.jit.load(str(tmp_path / "edge.pt"))
    with torch.no_grad():
        feats = torch.stack([devices[v](images[:, v])["features"] for v in range(6)], 1)
        out = edge(feats, mask)
    assert torch.allclose(out["fine"], expected["edge/fine"], atol=1e-5, rtol=0)


def test_save_load_and_resume(data, tmp_path):
    train, val, test = data
    train = hddnn.datasets.LabelledImages(train.images[:1024], train.labels[:1024])
    path = str(tmp_path / "ckpt.pt")
    net = hddnn.Network.from_spec_dict(TINY, seed=2)
    net.fit(train, None, epochs=2, progress=False, threads=1, checkpoint=path, checkpoint_every=4,
            stop_after=20)
    resumed = hddnn.Network.load(path)
    assert resumed.step == 20
    resumed.fit(train, None, epochs=2, progress=False, threads=1)
    whole = hddnn.Network.from_spec_dict(TINY, seed=2)
    whole.fit(train, None, epochs=2, progress=False, threads=1)
    assert resumed.step == whole.step == 32
    x = test.images[:32]
    assert torch.allclose(resumed.forward(x)["cloud/fine"], whole.forward(x)["cloud/fine"], atol=1e-4)


@pytest.mark.slow
def test_cli_train_writes_run_folder(tmp_path):
    spec = tmp_path / "tiny.json"
    spec.write_text(json.dumps(TINY))
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "hddnn", "train", "--spec", str(spec), "--epochs", "1", "--out", str(out),
           "--limit", "640", "--no-progress", "--threads", "2"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    for name in ("checkpoint.pt", "metrics.json", "profile.json", "exit_curve.png", "manifest.json",
                 "end.pt", "edge.pt", "cloud.pt"):
        assert (out / name).exists(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"accuracy", "exit_curve", "thresholds", "profile", "policy"} <= set(metrics)
    profile = json.loads((out / "profile.json").read_text())
    assert [s["tier"] for s in profile["sections"]] == ["end", "edge", "cloud"]


def _train_cli(spec, out, *extra):
    return [sys.executable, "-m", "hddnn", "train", "--spec", str(spec), "--epochs", "2", "--limit", "3000",
            "--out", str(out), "--no-progress", "--threads", "1", "--checkpoint-every", "8", *extra]


def _kill_after_a_new_checkpoint(cmd, checkpoint):
    """Starts `cmd`, SIGKILLs it once it has written a checkpoint newer than the current one."""
    before = checkpoint.stat().st_mtime_ns if checkpoint.exists() else 0
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while proc.poll() is None and time.time() < deadline:
        if checkpoint.exists() and checkpoint.stat().st_mtime_ns > before:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "training ended before it could be killed"


@pytest.mark.slow
def test_training_killed_twice_and_resumed_matches_an_uninterrupted_run(tmp_path):
    """SIGKILL `hddnn train` twice mid-run (right after a checkpoint), resume it each
    time: it ends within 0.3 point of the same run left alone, on every exit."""
    spec = os.path.join(os.path.dirname(__file__), "data", "tiny_hetero.json")
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(_train_cli(spec, whole), check=True, capture_output=True, timeout=300)
    checkpoint = killed / "checkpoint.pt"
    _kill_after_a_new_checkpoint(_train_cli(spec, killed), checkpoint)
    _kill_after_a_new_checkpoint(_train_cli(spec, killed, "--resume"), checkpoint)
    subprocess.run(_train_cli(spec, killed, "--resume"), check=True, capture_output=True, timeout=300)
    expected = json.loads((whole / "metrics.json").read_text())["accuracy"]
    resumed = json.loads((killed / "metrics.json").read_text())["accuracy"]
    for exit_name, accuracy in expected.items():
        assert resumed[exit_name] == pytest.approx(accuracy, abs=0.003), exit_name

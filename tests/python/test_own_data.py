"""Bringing your own data, labels and layers: label sets declared in a spec (three levels
on scikit-learn's digits), data files, shape and label checks with typed errors, a
TorchScript layer trained jointly and exported, and the digits served over lab7."""
import json
import os
import subprocess
import sys

import pytest
import torch

import hddnn
from hddnn import datasets
from hddnn.errors import ConfigError, DataError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS_SPEC = os.path.join(REPO, "models", "digits.json")
LAB7 = os.path.join(REPO, "mapping", "topologies", "lab7.json")


def digits_spec(**changes) -> dict:
    with open(DIGITS_SPEC) as f:
        spec = json.load(f)
    spec.update(changes)
    return spec


@pytest.fixture(scope="module")
def digits():
    return {split: datasets.digits(split) for split in datasets.SPLITS}


@pytest.fixture(scope="module")
def digits_file(digits, tmp_path_factory):
    return datasets.save(tmp_path_factory.mktemp("data") / "digits.pt", **digits)


class Gate(torch.nn.Module):
    """A user's own layer: a learned per-channel gate on a conv, kept to the map's shape."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = torch.nn.Conv2d(channels, channels, 3, padding=1)
        self.gate = torch.nn.Parameter(torch.zeros(channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + torch.sigmoid(self.gate) * self.conv(x))


def test_digits_splits_and_three_label_levels(digits):
    sizes = {split: len(data.labels) for split, data in digits.items()}
    assert sum(sizes.values()) == 1797 and sizes["test"] == 359
    assert digits["train"].images.shape[1:] == (1, 8, 8)
    assert 0 <= float(digits["train"].images.min()) and float(digits["train"].images.max()) <= 1
    net = hddnn.Network.from_spec(DIGITS_SPEC)
    assert [s["name"] for s in net.label_sets] == ["digit", "parity", "small"]
    assert net.label_sets[2]["of_finest"] == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    logits = net.forward(digits["test"].images[:4])
    assert logits["end/small"].shape == (4, 2) and logits["edge/parity"].shape == (4, 2)
    assert logits["cloud/digit"].shape == (4, 10)


def test_data_file_round_trip(digits, digits_file):
    loaded = datasets.load(digits_file)
    assert set(loaded) == {"train", "val", "test"}
    assert torch.equal(loaded["test"].images, digits["test"].images)
    assert torch.equal(loaded["test"].labels, digits["test"].labels)
    assert torch.equal(torch.load(digits_file)["test"]["labels"], digits["test"].labels)  # plain torch reads it


@pytest.mark.parametrize("images, labels, fault", [
    (torch.rand(4, 8, 8), torch.zeros(4, dtype=torch.int64), "expected N x C x H x W"),
    (torch.full((4, 1, 8, 8), float("nan")), torch.zeros(4, dtype=torch.int64), "NaN"),
    (torch.rand(4, 1, 8, 8) * 16, torch.zeros(4, dtype=torch.int64), "[0, 1]"),
    (torch.rand(0, 1, 8, 8), torch.zeros(0, dtype=torch.int64), "empty split"),
    (torch.rand(4, 1, 8, 8), torch.tensor([0, 1, -2, 3]), "out of range"),
    (torch.rand(4, 1, 8, 8), torch.zeros(3, dtype=torch.int64), "3 labels for 4 images"),
])
def test_bad_tensors_are_data_errors(images, labels, fault, tmp_path):
    with pytest.raises(DataError, match="from_tensors") as error:
        datasets.from_tensors(images, labels)
    assert fault in str(error.value)
    with pytest.raises(DataError, match=f"{tmp_path}/bad.pt: test"):
        datasets.save(tmp_path / "bad.pt", test=(images, labels))


def test_bad_data_files_name_the_file_and_fault(tmp_path, digits):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a data file")
    with pytest.raises(DataError, match="junk.pt: not a data file"):
        datasets.load(junk, "test")
    only_test = datasets.save(tmp_path / "test_only.pt", test=digits["test"])
    with pytest.raises(DataError, match="test_only.pt: train: the file has no 'train' split"):
        datasets.load(only_test, "train")
    with pytest.raises(DataError, match="missing.pt: cannot open"):
        datasets.load(tmp_path / "missing.pt", "test")


def test_from_dataset_takes_a_torch_dataset(digits):
    dataset = torch.utils.data.TensorDataset(digits["val"].images, digits["val"].labels)
    data = datasets.from_dataset(dataset)
    assert torch.equal(data.images, digits["val"].images) and torch.equal(data.labels, digits["val"].labels)


def test_bad_label_mapping_is_a_config_error_naming_the_spec(tmp_path):
    spec = digits_spec()
    spec["labels"][1]["map"] = [0, 1, 0, 1]  # not total over the ten digits
    path = tmp_path / "bad_labels.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(ConfigError, match=r"bad_labels.json: labels\[1\].map: gives 4 classes but 'digit' has 10"):
        hddnn.Network.from_spec(path)
    spec["labels"][1]["map"] = [0, 1, 0, 1, 0, 1, 0, 1, 0, 7]
    spec["labels"][1]["classes"] = ["even", "odd"]
    with pytest.raises(ConfigError, match=r"labels\[1\].map\[9\]: class 7 out of range 0..1"):
        hddnn.Network.from_spec_dict(spec)
    spec = digits_spec()
    spec["sections"][0]["exits"][1]["labels"] = "colour"
    with pytest.raises(ConfigError, match=r"sections\[0\].exits\[1\].labels: unknown label set 'colour' "
                                          r"\(expected digit, parity or small\)"):
        hddnn.Network.from_spec_dict(spec)


def test_shape_and_label_mismatches_are_typed(digits):
    fashion = datasets.fashion_mnist("test", limit=8)
    with pytest.raises(ConfigError, match=r"input: the spec says \[1,8,8\] but the data's images are \[1,28,28\]"):
        hddnn.Network.from_spec(DIGITS_SPEC, data=fashion)
    net = hddnn.Network.from_spec(DIGITS_SPEC)
    with pytest.raises(DataError, match=r"train: images are \[1, 1, 28, 28\] \(views, channels, height, width\).*takes \[1, 1, 8, 8\]"):
        net.fit(fashion, epochs=1, progress=False)
    eleven = datasets.from_tensors(digits["val"].images, torch.full_like(digits["val"].labels, 10))
    with pytest.raises(DataError, match="labels: out of range: found 10, but the finest label set 'digit'"):
        net.evaluate(eleven)
    # A spec without "input" takes the data's shape.
    open_spec = digits_spec()
    del open_spec["input"]
    assert hddnn.Network.from_spec_dict(open_spec, data=fashion).forward(fashion.images)["end/digit"].shape == (8, 10)


def test_torchscript_block_trains_and_exports_to_plain_pytorch(digits, tmp_path):
    layer = tmp_path / "gate.pt"
    torch.jit.script(Gate(16)).save(str(layer))
    spec = digits_spec(name="digits_gate")
    spec["sections"][1]["blocks"].append({"type": "torchscript", "file": str(layer)})
    net = hddnn.Network.from_spec_dict(spec, seed=1)
    before = net.forward(digits["test"].images[:16])["edge/digit"]
    net.fit(digits["train"], digits["val"], epochs=20, progress=False, threads=1)
    net.choose_thresholds(digits["val"])
    scores = net.evaluate(digits["test"])
    assert scores["accuracy"]["cloud/digit"] > 0.5
    assert not torch.allclose(before, net.forward(digits["test"].images[:16])["edge/digit"])
    manifest = net.export(str(tmp_path / "export"))
    assert [s["name"] for s in manifest["labels"]] == ["digit", "parity", "small"]
    # Plain PyTorch: load and chain the sections; the same predictions as the network.
    sections = [torch.jit.load(str(tmp_path / "export" / f"{name}.pt")) for name in ("end", "edge", "cloud")]
    x = digits["test"].images
    with torch.no_grad():
        end = sections[0](x)
        edge = sections[1](end["features"])
        cloud = sections[2](edge["features"])
    ours = net.forward(x)
    for key, got in (("end/small", end["small"]), ("edge/parity", edge["parity"]), ("cloud/digit", cloud["digit"])):
        assert torch.allclose(got, ours[key], atol=1e-5), key


def hddnn_cli(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "hddnn", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def digits_model(digits_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("digits") / "model"
    done = hddnn_cli("train", "--spec", DIGITS_SPEC, "--data", digits_file, "--epochs", "20", "--out", str(out),
                     "--no-progress", "--threads", "2")
    assert done.returncode == 0, done.stderr[-2000:]
    return str(out)


@pytest.mark.slow
def test_cli_trains_on_a_data_file(digits_model):
    with open(os.path.join(digits_model, "metrics.json")) as f:
        metrics = json.load(f)
    assert metrics["labels"] == ["digit", "parity", "small"]
    assert set(metrics["accuracy"]) == {"end/digit", "end/parity", "end/small", "edge/digit", "edge/parity",
                                        "cloud/digit"}
    assert metrics["accuracy"]["cloud/digit"] > 0.6 and metrics["accuracy"]["end/parity"] > 0.6
    with open(os.path.join(digits_model, "profile.json")) as f:
        assert json.load(f)["input_bytes"] == 64


@pytest.mark.slow
@pytest.mark.mpi
def test_digits_served_over_lab7_with_per_label_set_accuracy(digits_model, digits_file, tmp_path):
    out = tmp_path / "runs"
    done = hddnn_cli("run", "--model", digits_model, "--topology", LAB7, "--scheme", "end,end-cloud,mapping",
                     "--data", digits_file, "--rate", "20", "--duration", "1.5", "--threshold", "0.3",
                     "--out", str(out))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for scheme in ("end", "end-cloud", "mapping"):
        with open(out / f"results-{scheme}.json") as f:
            results = json.load(f)
        assert results["answered"] == results["offered"] > 0 and results["lost"] == 0
        assert set(results["label_accuracy"]) == {"digit", "parity", "small"}
        assert results["accuracy"] == pytest.approx(results["label_accuracy"]["digit"])
        if scheme == "end":  # the end exit answers all: its test accuracy, on a sample of the split
            with open(os.path.join(digits_model, "metrics.json")) as f:
                assert abs(results["accuracy"] - json.load(f)["accuracy"]["end/digit"]) < 0.12
        assert results["coarse_accuracy"] == results["label_accuracy"]["parity"]
        assert results["bytes_per_sample"] < 64 or scheme == "end"


@pytest.mark.mpi
def test_run_refuses_data_the_model_does_not_take(model, tmp_path):
    from hddnn.launch import run
    digits_test = datasets.digits("test")
    wrong = datasets.save(tmp_path / "digits.pt", test=digits_test)
    with pytest.raises(DataError, match=r"digits.pt: test: images are \[1, 8, 8\] per view"):
        run(model, os.path.join(REPO, "tests", "python", "data", "tiny4.json"), scheme="end", rate=5, duration=0.5,
            data=wrong, out=str(tmp_path / "r.json"))


@pytest.mark.parametrize("name", ["fmnist_hetero", "fmnist_ddnn6"])
def test_fashion_specs_declare_what_a_spec_without_labels_means(name):
    """The shipped Fashion-MNIST specs declare their label sets and input; without
    them the same network is built (same weights, same outputs): defaults unchanged."""
    with open(os.path.join(REPO, "models", f"{name}.json")) as f:
        declared = json.load(f)
    implicit = {key: value for key, value in declared.items() if key not in ("labels", "input")}
    a, b = hddnn.Network.from_spec_dict(declared, seed=3), hddnn.Network.from_spec_dict(implicit, seed=3)
    assert a.label_sets == b.label_sets
    images = datasets.fashion_mnist("test", declared["views"], limit=4).images
    out_a, out_b = a.forward(images), b.forward(images)
    assert set(out_a) == set(out_b) and all(torch.equal(out_a[k], out_b[k]) for k in out_a)

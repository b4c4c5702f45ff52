"""bench/privacy's machinery on small inputs (seconds): PSNR and SSIM against their
definitions, the decoder's shapes and that training lowers its error, and the bench's
steps (features from an exported end section, rows, JSON payload, figure) on an
untrained tiny network exported to a temporary folder."""
import importlib.util
import json
import math
import os

import pytest
import torch

import hddnn
from hddnn import datasets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRIVACY = os.path.join(ROOT, "bench", "privacy")
TINY = os.path.join(ROOT, "tests", "python", "data", "tiny_hetero.json")


def load(name):
    """Imports bench/privacy/<name>.py as a module of its own (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_privacy_{name}", os.path.join(PRIVACY, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


inversion = load("inversion")
bench = load("run")


def images(n, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_psnr_is_infinite_for_identity_and_follows_its_definition():
    x = images(4)
    assert torch.isinf(inversion.psnr(x, x)).all()
    shifted = (x + 0.1).clamp(max=1.0)
    mse = (shifted - x).pow(2).flatten(1).mean(1)
    assert torch.allclose(inversion.psnr(shifted, x), 10 * torch.log10(1 / mse))
    assert inversion.psnr(torch.full((1, 1, 28, 28), 0.1), torch.zeros(1, 1, 28, 28)).item() == pytest.approx(20.0)


def test_ssim_matches_wang_et_al_on_constant_images_and_is_one_for_identity():
    x = images(3)
    assert torch.allclose(inversion.ssim(x, x), torch.ones(3, dtype=torch.float64))
    a, b, c1 = 0.2, 0.7, 0.01 ** 2  # constant images: no variance, so SSIM is the luminance term
    value = inversion.ssim(torch.full((1, 1, 28, 28), a), torch.full((1, 1, 28, 28), b)).item()
    assert value == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1))
    noisy = (x + 0.2 * images(3, seed=1)).clamp(0, 1)
    assert (inversion.ssim(noisy, x) < 0.99).all()
    assert torch.allclose(inversion.ssim(noisy, x), inversion.ssim(x, noisy))
    window = inversion.gaussian_window()
    assert window.shape == (1, 1, 11, 11) and window.sum().item() == pytest.approx(1.0)


def test_score_reports_infinite_psnr_as_none():
    x = images(2)
    assert inversion.score(x, x) == {"mse": 0.0, "psnr_db": None, "ssim": pytest.approx(1.0)}
    assert math.isfinite(inversion.score(x.flip(0), x)["psnr_db"])


@pytest.mark.parametrize("shape", [(8, 7, 7), (2, 5, 5), (16, 14, 14)])
def test_decoder_maps_features_to_images(shape):
    out = inversion.Decoder(shape, (28, 28), width=8)(torch.randn(3, *shape))
    assert out.shape == (3, 1, 28, 28)
    assert out.min() >= 0 and out.max() <= 1


def test_training_lowers_the_decoders_error():
    x = datasets.fashion_mnist("test", limit=256).images[:, 0]
    features = torch.nn.functional.avg_pool2d(x, 4)  # 1 x 7 x 7: informative features
    torch.manual_seed(0)  # train_decoder's seed: this is the decoder it starts from
    start = inversion.score(inversion.reconstruct(inversion.Decoder((1, 7, 7), width=8), features), x)["mse"]
    decoder, seconds = inversion.train_decoder(features, x, epochs=4, batch_size=32, width=8, seed=0)
    assert seconds > 0 and not decoder.training
    assert inversion.score(inversion.reconstruct(decoder, features), x)["mse"] < 0.8 * start


def test_spec_variants_change_only_the_end_quantization(tmp_path):
    assert bench.spec_with_quantization(TINY, "1bit", str(tmp_path)) == TINY
    path = bench.spec_with_quantization(TINY, "float32", str(tmp_path))
    with open(TINY) as f, open(path) as g:
        shipped, variant = json.load(f), json.load(g)
    assert variant["sections"][0]["output"]["quantize"] == "float32" and variant["name"] == "tiny_float32"
    variant["sections"][0]["output"]["quantize"], variant["name"] = "1bit", "tiny"
    assert variant == shipped


def test_the_bench_measures_an_exported_boundary(tmp_path):
    model = str(tmp_path / "tiny")
    hddnn.Network.from_spec(TINY).export(model)
    data = datasets.fashion_mnist("test", limit=200).images[:, 0]
    features = inversion.boundary_features(model, data)
    edge = inversion.boundary(model)
    assert list(features.shape[1:]) == edge["shape"] and set(features.unique().tolist()) <= {-1.0, 1.0}
    budget = dict(bench.QUICK_BUDGET, epochs=1)
    rows, rebuilt = bench.measure({"1bit": model}, data[:150], data[150:], budget)
    raw, row = rows
    assert raw["boundary"] == bench.RAW and raw["psnr_db"] is None and raw["ssim"] == pytest.approx(1.0)
    assert raw["bytes_per_sample"] == 784 and raw["mse"] == 0.0
    assert row["boundary"] == "1bit" and row["bytes_per_sample"] == edge["bytes_per_sample"]
    assert math.isfinite(row["psnr_db"]) and row["ssim"] < 1.0
    assert rebuilt["1bit"].shape == (50, 1, 28, 28)
    payload = json.loads(json.dumps(bench.payload(rows, {"1bit": 0.5}, {"1bit": (model, 0.0)}, budget, 1.0, True)))
    assert {"quick", "wall_s", "threads", "decoder_budget", "network_budget", "models", "rows", "figure"} <= set(payload)
    for r in payload["rows"]:
        assert {"boundary", "shape", "bytes_per_sample", "mse", "psnr_db", "ssim", "decoder_seconds"} <= set(r)
    assert "| 1bit (shipped) |" in bench.table(rows, {"1bit": 0.5})
    shown = [0, 1, 2]
    path = str(tmp_path / "privacy.png")
    bench.figure(data[150:][shown], {"1bit": rebuilt["1bit"][shown]}, rows, path)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_one_per_class_picks_the_first_of_each():
    assert bench.one_per_class(torch.tensor([3, 0, 3, 1, 0]), classes=4) == [1, 3, 0]

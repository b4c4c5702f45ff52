import gzip
import os
import struct

import pytest
import torch

from hddnn import datasets
from hddnn.errors import ConfigError, DataError, HddnnError

ROOT = datasets.default_root()
needs_data = pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "t10k-images-idx3-ubyte.gz")),
                                reason="dataset-fashion-mnist not installed")


def write_idx(path, dims, data, magic_type=8, compress=True):
    raw = struct.pack(">BBBB", 0, 0, magic_type, len(dims)) + b"".join(struct.pack(">I", d) for d in dims)
    raw += bytes(data)
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(raw)


def make_test_split(folder, n_images=5, n_labels=5):
    write_idx(folder / "t10k-images-idx3-ubyte.gz", [n_images, 28, 28], [7] * (n_images * 784))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", [n_labels], [i % 10 for i in range(n_labels)])


@needs_data
@pytest.mark.parametrize("views,shape", [("single", (1, 1, 28, 28)), ("quadrants", (4, 1, 16, 16)),
                                         ("grid6", (6, 1, 14, 14))])
def test_views_shapes(views, shape):
    data = datasets.fashion_mnist("test", views, limit=64)
    assert data.images.shape == (64,) + shape
    assert data.images.dtype == torch.float32
    assert 0.0 <= float(data.images.min()) and float(data.images.max()) <= 1.0


@needs_data
def test_quadrants_overlap_and_cover_the_image():
    single = datasets.fashion_mnist("test", "single", limit=8).images[:, 0, 0]
    quads = datasets.fashion_mnist("test", "quadrants", limit=8).images[:, :, 0]
    assert torch.equal(quads[:, 0], single[:, :16, :16])
    assert torch.equal(quads[:, 3], single[:, 12:, 12:])


@needs_data
def test_grid6_crops_match_the_image():
    single = datasets.fashion_mnist("test", "single", limit=8).images[:, 0, 0]
    grid = datasets.fashion_mnist("test", "grid6", limit=8).images[:, :, 0]
    assert torch.equal(grid[:, 1], single[:, 0:14, 7:21])
    assert torch.equal(grid[:, 5], single[:, 14:28, 14:28])


@needs_data
def test_labels_and_coarse_mapping():
    data = datasets.fashion_mnist("test")
    assert data.fine.shape == (10000,) and data.coarse.shape == (10000,)
    assert int(data.fine.min()) == 0 and int(data.fine.max()) == 9
    assert torch.bincount(data.fine).tolist() == [1000] * 10
    table = torch.tensor(datasets.COARSE_OF_FINE)
    assert torch.equal(data.coarse, table[data.fine])
    groups = {datasets.FINE_LABELS[f]: datasets.COARSE_LABELS[c] for f, c in enumerate(datasets.COARSE_OF_FINE)}
    assert groups["Ankle boot"] == groups["Sneaker"] == groups["Sandal"] == "footwear"
    assert groups["Coat"] == groups["Shirt"] == groups["Pullover"] == groups["T-shirt/top"] == "top"
    assert groups["Dress"] == groups["Trouser"] == "bottom/dress"
    assert groups["Bag"] == "bag"


@needs_data
def test_train_val_split_is_seeded_and_disjoint():
    a = datasets.fashion_mnist("val", seed=3, val_size=1000)
    b = datasets.fashion_mnist("val", seed=3, val_size=1000)
    c = datasets.fashion_mnist("val", seed=4, val_size=1000)
    train = datasets.fashion_mnist("train", seed=3, val_size=1000)
    assert torch.equal(a.images, b.images)
    assert not torch.equal(a.images, c.images)
    assert train.fine.numel() == 59000 and a.fine.numel() == 1000
    # Disjoint: no validation image appears in the training split.
    train_keys = {bytes(x.numpy().tobytes()) for x in (train.images.flatten(1) * 255).to(torch.uint8)}
    val_keys = [bytes(x.numpy().tobytes()) for x in (a.images.flatten(1) * 255).to(torch.uint8)]
    duplicates_in_source = sum(k in train_keys for k in val_keys)
    assert duplicates_in_source < 5  # Fashion-MNIST has a handful of identical images


def test_reads_a_wellformed_folder(tmp_path):
    make_test_split(tmp_path)
    data = datasets.fashion_mnist("test", root=str(tmp_path))
    assert data.images.shape == (5, 1, 1, 28, 28)
    assert data.fine.tolist() == [0, 1, 2, 3, 4]


def test_missing_file_names_it(tmp_path):
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        datasets.fashion_mnist("test", root=str(tmp_path))


def test_wrong_magic(tmp_path):
    make_test_split(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", [5], [1] * 5, magic_type=9)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: wrong magic"):
        datasets.fashion_mnist("test", root=str(tmp_path))


def test_truncated_gzip(tmp_path):
    make_test_split(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz.*(truncated|corrupt)"):
        datasets.fashion_mnist("test", root=str(tmp_path))


def test_truncated_data_in_valid_gzip(tmp_path):
    make_test_split(tmp_path)
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, 5, 28, 28) + bytes(100))
    with pytest.raises(DataError, match="truncated while reading the data"):
        datasets.fashion_mnist("test", root=str(tmp_path))


def test_mismatched_counts(tmp_path):
    make_test_split(tmp_path, n_images=5, n_labels=4)
    with pytest.raises(DataError, match="4 labels for 5 images"):
        datasets.fashion_mnist("test", root=str(tmp_path))


def test_label_out_of_range(tmp_path):
    make_test_split(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", [5], [0, 1, 12, 3, 4])
    with pytest.raises(DataError, match="label 12 out of range"):
        datasets.fashion_mnist("test", root=str(tmp_path))


def test_uncompressed_copy_is_not_gzip_but_still_read(tmp_path):
    # zlib's gzread reads plain files transparently; a plain IDX named .gz works.
    make_test_split(tmp_path)
    src = tmp_path / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(src, "rb") as f:
        plain = f.read()
    src.write_bytes(plain)
    assert datasets.fashion_mnist("test", root=str(tmp_path)).fine.numel() == 5


def test_bad_arguments_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="octants"):
        datasets.fashion_mnist("test", "octants", root=str(tmp_path))
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        datasets.fashion_mnist("dev")


def test_error_hierarchy():
    from hddnn import errors
    assert issubclass(errors.ConfigError, errors.HddnnError)
    assert issubclass(errors.ConfigError, ValueError)
    assert issubclass(errors.PeerLostError, errors.CommError)
    for name in ("DataError", "CommError", "CryptoError"):
        assert issubclass(getattr(errors, name), HddnnError)

"""Labelled image sets for hddnn: Fashion-MNIST (read by the C++ core from the IDX
files), the handwritten digits Debian's python3-sklearn ships, and any data of your
own (from_tensors, from_dataset), saved as one `.pt` file that `hddnn train --data`
and `hddnn run --data` read (save, load)."""
from typing import NamedTuple, Optional

import torch

from . import _core
from .errors import ConfigError

FINE_LABELS = tuple(_core.fine_label_names())
COARSE_LABELS = tuple(_core.coarse_label_names())
COARSE_OF_FINE = tuple(_core.coarse_of_fine())
VIEW_LAYOUTS = ("single", "quadrants", "grid6")
SPLITS = ("train", "val", "test")

# The digits' label sets, three levels: the digit, odd or even, and whether it is < 5.
DIGITS_LABELS = [
    {"name": "digit", "classes": [str(d) for d in range(10)]},
    {"name": "parity", "from": "digit", "map": [d % 2 for d in range(10)], "classes": ["even", "odd"]},
    {"name": "small", "from": "digit", "map": [int(d < 5) for d in range(10)], "classes": ["5 or more", "under 5"]},
]


class LabelledImages(NamedTuple):
    """images: N x V x C x H x W (or N x C x H x W, cut into a network's views when it
    runs) float in [0, 1]; labels: N int64 of the finest label set. Coarser sets'
    labels follow from a network spec's label maps."""
    images: torch.Tensor
    labels: torch.Tensor

    @property
    def fine(self) -> torch.Tensor:
        """The labels (the finest set; Fashion-MNIST's 10 classes)."""
        return self.labels

    @property
    def coarse(self) -> torch.Tensor:
        """Fashion-MNIST's coarse group of each label (top, bottom/dress, footwear, bag)."""
        return torch.tensor(COARSE_OF_FINE, dtype=torch.int64)[self.labels]


def default_root() -> str:
    """The folder the IDX files are read from when no root is given."""
    return _core.default_dataset_dir()


def fashion_mnist(split: str = "train", views: str = "single", *, root: Optional[str] = None,
                  seed: int = 0, val_size: int = 5000, limit: Optional[int] = None) -> LabelledImages:
    """Loads a split of Fashion-MNIST.

    split: "train" | "val" (a seeded, disjoint hold-out of `val_size` training images)
           | "test".
    views: "single" (1 view, 28x28) | "quadrants" (4 overlapping 16x16 crops)
           | "grid6" (6 crops of 14x14 on a 2x3 grid, DDNN's six devices).
    limit: keep only the first `limit` samples.
    Raises DataError for a missing or malformed file, ConfigError for a bad argument.
    """
    images, fine = _core.load_fashion_mnist(root or "", split, views, seed, val_size, -1 if limit is None else limit)
    return LabelledImages(images, fine)


def from_tensors(images: torch.Tensor, labels: torch.Tensor, *, where: str = "from_tensors") -> LabelledImages:
    """A labelled set of your own: images N x C x H x W (or N x V x C x H x W, views
    already cut) float in [0, 1], labels N int64 of the finest label set. Raises
    DataError naming `where` and the fault (wrong dims, NaN, values outside [0, 1],
    negative labels, counts that differ, no images)."""
    images = torch.as_tensor(images)
    labels = torch.as_tensor(labels)
    if images.is_floating_point():
        images = images.float()
    _core.check_labelled(images.contiguous(), labels.contiguous(), where)
    return LabelledImages(images.contiguous(), labels.contiguous())


def from_dataset(dataset, *, where: str = "from_dataset") -> LabelledImages:
    """The same from a torch.utils.data.Dataset whose items are (image, label) pairs,
    each image C x H x W (or V x C x H x W) float in [0, 1]."""
    if len(dataset) == 0:
        return from_tensors(torch.zeros(0, 1, 1, 1), torch.zeros(0, dtype=torch.int64), where=where)
    images, labels = zip(*(dataset[i] for i in range(len(dataset))))
    return from_tensors(torch.stack([torch.as_tensor(x) for x in images]),
                        torch.tensor([int(y) for y in labels], dtype=torch.int64), where=where)


def save(path: str, *, train: Optional[LabelledImages] = None, val: Optional[LabelledImages] = None,
         test: Optional[LabelledImages] = None) -> str:
    """Writes the given splits to one `.pt` file (torch.save format; checked first).
    `hddnn train --data PATH` trains on train/val and scores test; `hddnn run --data
    PATH` serves requests from test."""
    splits = {name: (data[0].contiguous(), data[1].contiguous())
              for name, data in (("train", train), ("val", val), ("test", test)) if data is not None}
    _core.save_data_file(str(path), splits)
    return str(path)


def load(path: str, split: Optional[str] = None):
    """One split of a data file as LabelledImages, or (split None) a dict of every split
    it holds. DataError names the file and the fault."""
    if split is not None:
        return LabelledImages(*_core.load_data_file(str(path), split))
    return {name: LabelledImages(*_core.load_data_file(str(path), name)) for name in _core.data_file_splits(str(path))}


def digits(split: str = "train", *, seed: int = 0, val_fraction: float = 0.1,
           test_fraction: float = 0.2) -> LabelledImages:
    """The handwritten digits of Debian's python3-sklearn (sklearn.datasets.load_digits:
    1,797 8x8 images, 10 classes), as N x 1 x 8 x 8 in [0, 1], split by a seeded
    permutation into train, val and test. Their label sets: DIGITS_LABELS."""
    from sklearn.datasets import load_digits
    if split not in SPLITS:
        raise ConfigError(f"split: unknown split '{split}' (expected train, val or test)")
    bunch = load_digits()
    images = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    labels = torch.tensor(bunch.target, dtype=torch.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    n_test, n_val = int(len(labels) * test_fraction), int(len(labels) * val_fraction)
    bounds = {"test": (0, n_test), "val": (n_test, n_test + n_val), "train": (n_test + n_val, len(labels))}
    chosen = order[slice(*bounds[split])]
    return from_tensors(images[chosen], labels[chosen], where=f"digits: {split}")


def summary(split: str = "train", views: str = "single", **kwargs) -> dict:
    """Counts and shapes of a split, for `hddnn data` and the demo."""
    data = fashion_mnist(split, views, **kwargs)
    counts = torch.bincount(data.fine, minlength=len(FINE_LABELS)).tolist()
    return {
        "split": split,
        "views": views,
        "samples": int(data.fine.numel()),
        "image_shape": list(data.images.shape[1:]),
        "pixel_mean": round(float(data.images.mean()), 4),
        "per_class": dict(zip(FINE_LABELS, counts)),
        "per_coarse": dict(zip(COARSE_LABELS,
                               torch.bincount(data.coarse, minlength=len(COARSE_LABELS)).tolist())),
    }

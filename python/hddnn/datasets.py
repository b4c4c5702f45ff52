"""Fashion-MNIST for hddnn, read by the C++ core from the IDX files."""
from typing import NamedTuple, Optional

import torch

from . import _core

FINE_LABELS = tuple(_core.fine_label_names())
COARSE_LABELS = tuple(_core.coarse_label_names())
COARSE_OF_FINE = tuple(_core.coarse_of_fine())
VIEW_LAYOUTS = ("single", "quadrants", "grid6")


class LabelledImages(NamedTuple):
    """images: N x V x 1 x H x W float in [0, 1]; fine: N int64 (10 classes);
    coarse: N int64 (4 groups: top, bottom/dress, footwear, bag)."""
    images: torch.Tensor
    fine: torch.Tensor
    coarse: torch.Tensor


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
    images, fine, coarse = _core.load_fashion_mnist(
        root or "", split, views, seed, val_size, -1 if limit is None else limit)
    return LabelledImages(images, fine, coarse)


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

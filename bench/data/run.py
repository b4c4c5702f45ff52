"""bench/data: reading Fashion-MNIST with hddnn's C++ IDX reader (zlib) against
Python's gzip + numpy doing the same work, in the same run."""
import gzip
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import median_seconds, write_results  # noqa: E402

from hddnn import datasets  # noqa: E402


def python_reader(root):
    with gzip.open(os.path.join(root, "train-images-idx3-ubyte.gz"), "rb") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(root, "train-labels-idx1-ubyte.gz"), "rb") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy(images.astype(np.float32) / 255.0), torch.from_numpy(labels.astype(np.int64))


def main():
    root = datasets.default_root()
    hddnn_s = median_seconds(lambda: datasets.fashion_mnist("train", val_size=0 + 1))
    python_s = median_seconds(lambda: python_reader(root))
    rows = {"hddnn_train_load_s": hddnn_s, "python_gzip_numpy_load_s": python_s,
            "speedup": python_s / hddnn_s, "images": 60000}
    print("| reader | 60k train images (s) |\n|---|---|")
    print(f"| hddnn C++ (zlib, split, views) | {hddnn_s:.3f} |")
    print(f"| Python gzip + numpy (no split) | {python_s:.3f} |")
    print(f"\nratio python/hddnn: {rows['speedup']:.2f}x")
    write_results("data", rows)


if __name__ == "__main__":
    main()

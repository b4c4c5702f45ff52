"""hddnn.Network: a heterogeneous multi-exit network built, trained, scored and
exported by the C++ core (cpp/hddnn/nn).

    net = hddnn.Network.from_spec("models/fmnist_hetero.json")
    train = hddnn.datasets.fashion_mnist("train")
    val = hddnn.datasets.fashion_mnist("val")
    history = net.fit(train, val, epochs=8)
    net.choose_thresholds(val)
    print(net.evaluate(hddnn.datasets.fashion_mnist("test")))
    net.export("runs/hetero")

Data arguments are `hddnn.datasets.LabelledImages` (or any (images, labels) pair):
images N x V x C x H x W (or N x C x H x W, cut into the spec's views) float in
[0, 1], labels N int64 of the spec's finest label set. The labels of the coarser
sets follow from the spec's label maps. Data that does not fit the spec (channels,
size, views, labels out of range) raises DataError.
"""
import json
from typing import Callable, Dict, List, Optional

import torch

from . import _core


def _labelled(data) -> "_core.LabelledSet":
    images, labels = data[0], data[1]
    return _core.LabelledSet(images.contiguous(), labels.contiguous())


def _image_shape(data) -> list:
    """C x H x W of a labelled set's whole images (empty for several views already cut)."""
    if data is None or data[0].dim() not in (4, 5) or (data[0].dim() == 5 and data[0].shape[1] != 1):
        return []
    return list(data[0].shape[-3:])


class _TqdmProgress:
    """Shows training progress as a tqdm bar (the C++ loop calls it between steps)."""

    def __init__(self):
        from tqdm.auto import tqdm
        self._tqdm = tqdm
        self._bar = None

    def __call__(self, step: int, total: int, epoch: int, loss: float, record: Optional[str]) -> None:
        if self._bar is None:
            self._bar = self._tqdm(total=total, initial=step - 1, unit="step", desc="training")
        self._bar.update(1)
        self._bar.set_postfix(epoch=epoch, loss=f"{loss:.3f}")
        if record is not None:
            accuracy = json.loads(record)["val_accuracy"]
            if accuracy:
                self._bar.write(f"epoch {epoch}: " + ", ".join(f"{k} {v:.4f}" for k, v in accuracy.items()))
        if step == total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class Network:
    """A multi-exit network over end, edge and cloud sections (see docs/networks.md)."""

    def __init__(self, core: "_core.Network"):
        self._core = core

    @classmethod
    def from_spec(cls, path: str, seed: int = 0, data=None) -> "Network":
        """Builds a network from a spec file (raises ConfigError for a bad spec).
        `data` (a labelled set, N x C x H x W) gives the input shape when the spec has no
        "input"; a spec whose "input" differs from it is a ConfigError."""
        return cls(_core.Network.from_spec_file(str(path), seed, _image_shape(data)))

    @classmethod
    def from_spec_dict(cls, spec: dict, seed: int = 0, data=None) -> "Network":
        """The same from a spec given as a dict (TorchScript files relative to the working folder)."""
        return cls(_core.Network.from_spec_json(json.dumps(spec), seed, _image_shape(data)))

    @classmethod
    def load(cls, path: str) -> "Network":
        """Loads a checkpoint written by save() or by training."""
        return cls(_core.Network.load(str(path)))

    def save(self, path: str) -> None:
        """Writes weights, spec, optimizer state, history and thresholds (atomically)."""
        self._core.save(str(path))

    @property
    def spec(self) -> dict:
        return json.loads(self._core.spec_json())

    @property
    def label_sets(self) -> List[dict]:
        """The spec's label sets (name, classes, of_finest; from and map for derived ones)."""
        return json.loads(self._core.label_sets_json())

    @property
    def step(self) -> int:
        """Optimizer steps taken so far."""
        return self._core.step()

    @property
    def thresholds(self) -> Dict[str, float]:
        return dict(zip(self._core.policy_exits(), self._core.thresholds()))

    def fit(self, train, val=None, *, epochs: Optional[int] = None, progress: bool = True,
            on_step: Optional[Callable] = None, distributed: bool = False, **settings) -> List[dict]:
        """Trains all exits jointly; continues from the network's step (resume).

        settings: batch_size, optimizer (adam|sgd), lr, weight_decay, schedule
        (onecycle|cosine|constant), warmup, augment, device_dropout, seed, threads,
        checkpoint (path), checkpoint_every (steps), stop_after (steps), device ("cpu",
        "cuda": the GPU of this rank's local rank, "cuda:N"), amp (mixed precision,
        CUDA only). Unset ones come from the spec's "training" object, then the
        defaults. The network trains on the device and is back on the CPU afterwards;
        a device this torch cannot give, or amp on the CPU, is a ConfigError.
        Returns the history: one dict per epoch (loss, lr, seconds, val_accuracy).

        distributed: every rank of an mpirun job calls fit with the same arguments;
        each trains on its share of every global batch and gradients are averaged
        over ranks each step (MPI on CPU, NCCL on GPU), so the result matches one
        process training on the whole batch. Only rank 0 writes the checkpoint.
        """
        if epochs is not None:
            settings["epochs"] = epochs
        if val is None:
            val = (train[0][:0], train[1][:0])
        bar = _TqdmProgress() if progress else None
        callback = on_step or bar
        try:
            history = self._core.fit(_labelled(train), _labelled(val), json.dumps(settings), callback, distributed)
        finally:
            if bar is not None:
                bar.close()
        return json.loads(history)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Logits of every exit ("<section>/<label set>": "end/fine", "end/coarse", ...), eval
        mode. x: N x V x C x H x W (or N x C x H x W); mask: N x V, 1 = present."""
        return self._core.forward(x.contiguous(), mask if mask is not None else torch.Tensor())

    def choose_thresholds(self, val, tolerance: float = 0.005) -> Dict[str, float]:
        """Picks per-exit entropy thresholds on `val`: the most samples exiting as early
        as possible with accuracy >= last exit's - tolerance."""
        self._core.choose_thresholds(_labelled(val), tolerance)
        return self.thresholds

    def evaluate(self, data, mask: Optional[torch.Tensor] = None) -> dict:
        """{"accuracy": {exit: acc}, "policy": {...} (once thresholds are chosen),
        "exit_curve": [...]}; mask zeroes views (missing devices) for multi-view nets."""
        return json.loads(self._core.evaluate(_labelled(data), mask if mask is not None else torch.Tensor()))

    def exit_curve(self, data) -> List[dict]:
        """DDNN's table: for T in 0, 0.05, ..., 1 the fraction exiting at each policy
        exit and the overall accuracy."""
        return self.evaluate(data)["exit_curve"]

    def profile(self, data) -> dict:
        """The scheduler's profile.json object; escalate fractions measured on `data`."""
        return json.loads(self._core.profile(_labelled(data)))

    def export(self, directory: str) -> dict:
        """Writes one TorchScript file per section and manifest.json; returns the manifest."""
        return json.loads(self._core.export(str(directory)))

"""Type stub of hddnn._core, the pybind11 module over the C++ core (cpp/bindings/*.cpp).

Import hddnn, not this module: torch must be imported before it (returning tensors
needs torch's Python types registered first). JSON crosses the boundary as text;
the Python package (hddnn.mapping, hddnn.network, hddnn.sim...) wraps these
functions with dicts. The file formats named here are specified in docs/design.md.

Errors: C++ exceptions arrive as the classes below (hddnn.errors re-exports them).
Text that is not valid JSON where a function parses JSON itself (from_spec_json,
simulate, check_run_config) raises RuntimeError (nlohmann-json's parse error).
"""
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

__version__: str
"""hddnn's version, as built."""

# ---- errors (cpp/bindings/errors.cpp) --------------------------------------------------

class HddnnError(RuntimeError):
    """Base of every error hddnn raises."""

class ConfigError(HddnnError, ValueError):
    """Invalid spec, topology, profile, problem file, run config or argument; the
    message names the file, field and expected value."""

class DataError(HddnnError):
    """A missing or malformed dataset file, or tensors of the wrong shape."""

class CommError(HddnnError):
    """A transport, MPI or NCCL failure, or tensors a collective cannot reduce."""

class PeerLostError(CommError):
    """A peer rank died or stopped answering."""

class CryptoError(HddnnError):
    """A cluster key file that is missing, malformed or readable by others, or a
    message that fails authentication."""

class RunFailedError(HddnnError):
    """A distributed run that served nothing: no request was offered, or every end
    device was lost. hddnn.launch.run attaches the run's Results as `results`."""

# ---- data (cpp/bindings/data.cpp) ------------------------------------------------------

def load_fashion_mnist(root: str = "", split: str = "train", views: str = "single", seed: int = 0,
                       val_size: int = 5000, limit: int = -1) -> Tuple[torch.Tensor, torch.Tensor]:
    """Loads one Fashion-MNIST split cut into views; the GIL is released while it reads.

    Args:
        root: folder of the four IDX .gz files; "" for default_dataset_dir().
        split: "train" or "val" (a disjoint split of the 60,000 training images,
            seeded by `seed`, `val_size` of them in "val") or "test" (10,000 images).
        views: "single" (the whole image), "quadrants" (4 overlapping 16x16 crops) or
            "grid6" (six 14x14 crops on a 2x3 grid).
        seed: seed of the train/val split; the same seed gives the same split everywhere.
        val_size: images held out of the training set for "val".
        limit: keep only the first `limit` samples (-1: all).

    Returns:
        (images N x V x 1 x H x W float32 in [0, 1], fine labels N int64 in [0, 10)).

    Raises:
        DataError: a file is missing, truncated, corrupt or of the wrong shape (the
            message names the file and the fault).
        ConfigError: an unknown split or view layout, or val_size out of range.
    """

def save_data_file(path: str, splits: Dict[str, Tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Writes {split: (images, labels)} (splits train, val, test) to one data file in
    torch.save's format, atomically; the GIL is released while it writes.

    Raises:
        DataError: an unknown split name, or tensors check_labelled refuses.
    """

def load_data_file(path: str, split: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """One split of a data file as (images float32, labels int64), checked.

    Raises:
        DataError: a missing or unreadable file, not a data file, no such split, or
            tensors check_labelled refuses (the message names the file and split).
    """

def data_file_splits(path: str) -> List[str]:
    """The splits a data file holds, in train, val, test order.

    Raises:
        DataError: a missing or unreadable file, or not a data file.
    """

def check_labelled(images: torch.Tensor, labels: torch.Tensor, where: str) -> None:
    """Checks a labelled image set: images N x C x H x W or N x V x C x H x W floats in
    [0, 1] without NaN, N > 0; labels N int64 >= 0.

    Raises:
        DataError: naming `where` and the fault.
    """

def default_dataset_dir() -> str:
    """The folder load_fashion_mnist reads when root is empty (set at build time,
    HDDNN_DATASET_DIR; Debian's dataset-fashion-mnist by default). Raises nothing."""

def fine_label_names() -> List[str]:
    """The 10 Fashion-MNIST class names, by fine label. Raises nothing."""

def coarse_label_names() -> List[str]:
    """The 4 coarse groups (top, bottom/dress, footwear, bag), by coarse label. Raises nothing."""

def coarse_of_fine() -> List[int]:
    """The coarse label of each fine label (10 entries). Raises nothing."""

# ---- build and MPI (cpp/bindings/info.cpp) ---------------------------------------------

def build_info() -> Dict[str, Any]:
    """What this build runs on, read from the process and the build: keys "hddnn",
    "torch", "mpi", "libsodium" (versions), "blas" (the BLAS library mapped into the
    process), "nccl_compiled", "nccl_version", "cuda_devices", "torch_threads",
    "dataset_dir" and "dataset_present". Raises nothing."""

def mpi_init() -> int:
    """Initialises MPI at MPI_THREAD_MULTIPLE unless it already is (e.g. by mpi4py),
    sets MPI_ERRORS_RETURN on MPI_COMM_WORLD, and returns the thread level provided.

    Raises:
        CommError: an MPI call failed (the message names the call, file and line).
    """

def mpi_initialized() -> bool:
    """Whether MPI is initialised and not yet finalised. Raises nothing."""

def mpi_finalize() -> None:
    """Finalises MPI if hddnn initialised it and no peer failure was seen in this
    process (Open MPI 4.1.4 can hang in MPI_Finalize after a death); otherwise does
    nothing. hddnn registers it with atexit. Raises nothing."""

def mpi_rank() -> int:
    """This process's rank in MPI_COMM_WORLD, initialising MPI first if needed.

    Raises:
        CommError: an MPI call failed.
    """

def mpi_size() -> int:
    """The number of ranks in MPI_COMM_WORLD, initialising MPI first if needed.

    Raises:
        CommError: an MPI call failed.
    """

# ---- crypto (cpp/bindings/comm.cpp) -----------------------------------------------------

def crypto_keygen(path: str, overwrite: bool = False) -> None:
    """Writes a fresh cluster secret to `path` with mode 0600, in the cluster key file
    format ("hddnn-cluster-key-v1 <base64 of 32 bytes>").

    Args:
        path: the key file to write.
        overwrite: replace an existing file (refused otherwise).

    Raises:
        CryptoError: the file exists and overwrite is false, or it cannot be written.
    """

def crypto_check_key(path: str) -> None:
    """Loads and validates a cluster key file.

    Raises:
        CryptoError: the file is missing, group- or world-accessible, or not a
            cluster key of 32 bytes (the message names the file and what was expected).
    """

# ---- mapping (cpp/bindings/mapping.cpp): JSON in and out as text ----------------------

mapping_topology_dir: str
"""Folder of the shipped topology files (lab7.json, ddnn6.json) in the source tree."""

def mapping_load_topology(path: str) -> str:
    """Loads and validates a topology file; returns it normalised as JSON text (devices
    in rank order, parents and link targets by name, budgets filled in with 0).

    Raises:
        ConfigError: the file is missing or not valid JSON, or a device or field is
            invalid (the message names the device and field).
    """

def mapping_validate_topology(topology_json: str, source: str = "topology") -> str:
    """Validates a topology given as JSON text; returns it normalised, as mapping_load_topology.

    Args:
        topology_json: the topology document.
        source: its name in error messages.

    Raises:
        ConfigError: not valid JSON, or an invalid device or field.
    """

def mapping_solve(problem_json: str, source: str = "problem") -> str:
    """Solves a placement or routing problem (its "kind"); returns the answer as JSON
    text. The GIL is released while it solves.

    Args:
        problem_json: the problem document.
        source: its name in error messages.

    Raises:
        ConfigError: not valid JSON, an unknown kind, or a field or id at fault (a
            cycle, an unknown input or node, negative costs, two sinks...), or
            placement pins and budgets that admit no assignment.
    """

def mapping_plan(topology_json: str, profile_json: str, rates_json: str, options_json: str,
                 topology_name: str = "topology", profile_name: str = "profile") -> str:
    """Plans a topology for a model profile and offered rates: per end device, the
    tier of each section and the routing fractions of its escalations, with predicted
    utilisation and latency. Returns the plan as JSON text; the GIL is released while
    it plans.

    Args:
        topology_json: a topology document.
        profile_json: a profile.json document.
        rates_json: a list with one request rate (per second) per end device, in rank order.
        options_json: an object with any of rho_max, exclude (device names or ranks),
            max_iterations, energy_weight, result_bytes; or null.
        topology_name, profile_name: the documents' names in error messages.

    Raises:
        ConfigError: invalid JSON, topology, profile, rates or options.
    """

def profile_at_threshold(model: str, threshold: float) -> str:
    """A model folder's profile.json as a run overriding every exit's entropy threshold
    with `threshold` sees it: each section's escalate_fraction recomputed from the
    exit shares of that threshold (metrics.json's exit_curve). Returns JSON text.

    Args:
        model: an `hddnn train --out` folder.
        threshold: a point of the exit curve; < 0 gives the profile as trained.

    Raises:
        ConfigError: a missing or malformed file, or a threshold not on the curve.
    """

# ---- simulator and distributed runs (cpp/bindings/runtime.cpp) -------------------------

def simulate(topology_json: str, profile_json: str, config_json: str) -> str:
    """Runs the discrete-event simulator; returns a results file as JSON text. The GIL
    is released while it runs.

    Args:
        topology_json: a topology document.
        profile_json: a profile.json document.
        config_json: an object with any of scheme ("end", "end-cloud", "mapping";
            default "mapping"), rate (requests per second per end device, default 10),
            duration (seconds, default 5), deadline_ms (0: none), seed (0) and
            encrypt (true: sealed message sizes).

    Raises:
        ConfigError: an invalid topology or profile.
        RuntimeError: text that is not valid JSON, or a config value of the wrong type.
    """

def synthetic_topology(ends: int, edges: int) -> str:
    """A topology (JSON text) of `ends` end devices spread over `edges` edge nodes and
    one cloud, with lab7's speeds and links. Raises nothing for positive counts."""

def check_run_config(config_json: str) -> None:
    """Checks a run config (JSON text) as every hddnn-node rank will on start-up,
    including its topology file and that every tamper entry names one of its ranks.

    Raises:
        ConfigError: a field has the wrong type or value (the message names it), or the
            topology is missing or invalid.
        RuntimeError: text that is not valid JSON.
    """

# ---- networks (cpp/bindings/nn.cpp) -----------------------------------------------------

class LabelledSet:
    """Images with the labels of the finest label set, as the C++ trainer takes them."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        """images: N x V x C x H x W (or N x C x H x W) float in [0, 1]; labels: N int64.
        Nothing is checked here: Network's methods raise DataError when they do not fit."""

class Network:
    """A multi-exit network built from a spec (models/*.json): trained, scored,
    profiled and exported in C++."""

    @staticmethod
    def from_spec_file(path: str, seed: int = 0, data_image_shape: List[int] = ...) -> "Network":
        """A freshly initialised network from a spec file; `seed` seeds the weights.
        `data_image_shape` (C, H, W of the data's images; empty: none) fills a spec
        without "input".

        Raises:
            ConfigError: the file is missing or not valid JSON, the spec is invalid (the
                message names the field), or its "input" differs from data_image_shape.
        """

    @staticmethod
    def from_spec_json(text: str, seed: int = 0, data_image_shape: List[int] = ...) -> "Network":
        """As from_spec_file, from the spec as JSON text.

        Raises:
            ConfigError: an invalid spec.
            RuntimeError: text that is not valid JSON.
        """

    @staticmethod
    def load(path: str) -> "Network":
        """A network from a checkpoint written by save (spec, weights, optimizer state,
        step, history, thresholds).

        Raises:
            ConfigError: the file is missing or not an hddnn checkpoint.
        """

    def save(self, path: str) -> None:
        """Writes a checkpoint atomically (path.tmp, then renamed over path), so a
        process killed while saving leaves the previous one intact.

        Raises:
            RuntimeError: torch could not write the file.
        """

    def spec_json(self) -> str:
        """The spec the network was built from, as JSON text. Raises nothing."""

    def label_sets_json(self) -> str:
        """The spec's label sets (name, classes, of_finest; from and map for derived
        ones) as JSON text. Raises nothing."""

    def fit(self, train: LabelledSet, val: LabelledSet, config_json: str,
            progress: Optional[Callable[[int, int, int, float, Optional[str]], Any]],
            distributed: bool = False) -> str:
        """Trains every exit jointly (sum of weighted cross-entropies) from the current
        step up to the configured epochs; the GIL is released except for progress calls.

        Args:
            train, val: training and validation sets (val is scored at each epoch's end).
            config_json: training settings overriding the spec's "training" object
                (epochs, batch_size, optimizer, lr, weight_decay, schedule, warmup,
                augment, device_dropout, seed, threads, checkpoint, checkpoint_every,
                stop_after).
            progress: called between steps as progress(step, total_steps, epoch, loss,
                record), record being the finished epoch's record as JSON text on the
                call that closes an epoch, else None; or None.
            distributed: train data-parallel over MPI_COMM_WORLD (every rank calls fit
                together, under mpirun); MPI is initialised if needed.

        Returns:
            The epoch records (epoch, step, loss, lr, seconds, val_accuracy) as JSON text.

        Raises:
            ConfigError: an unknown or invalid training setting.
            DataError: images of the wrong shape for the network, or labels outside the
                finest label set's classes.
            CommError: an MPI failure in distributed training.
            Whatever `progress` raises, which ends the run.
        """

    def forward(self, images: torch.Tensor, mask: torch.Tensor = ...) -> Dict[str, torch.Tensor]:
        """Every exit's logits (exit name -> N x classes) in eval mode, without gradients.

        Args:
            images: N x V x C x H x W, or N x C x H x W whole images (cut into views).
            mask: N x V float, 1 = view present (multi-view networks); an empty tensor
                (the default) for none.

        Raises:
            DataError: images of the wrong shape for the network, or labels outside its finest set.
        """

    def choose_thresholds(self, val: LabelledSet, tolerance: float) -> List[float]:
        """Chooses the entropy threshold of every policy exit but the last on `val`,
        exiting as early as possible while the policy's accuracy stays within
        `tolerance` of the last exit's; sets and returns them.

        Raises:
            DataError: images of the wrong shape for the network, or labels outside its finest set.
        """

    def thresholds(self) -> List[float]:
        """The current thresholds, one per policy exit but the last. Raises nothing."""

    def policy_exits(self) -> List[str]:
        """Names of the exits the exit policy uses, in order (e.g. "end/fine",
        "edge/fine", "cloud/fine"). Raises nothing."""

    def evaluate(self, data: LabelledSet, mask: torch.Tensor = ...) -> str:
        """Scores every exit on `data` (GIL released): JSON text of {"accuracy": {exit:
        accuracy}, "exit_curve": [{"thresholds", "exit_fraction", "accuracy"} for
        thresholds 0, 0.05, ..., 1], "policy": {...} under the current thresholds}.

        Args:
            data: the set to score.
            mask: N x V float, 1 = view present; an empty tensor (the default) for none.

        Raises:
            DataError: images of the wrong shape for the network, or labels outside its finest set.
        """

    def profile(self, data: LabelledSet) -> str:
        """The profile.json document as JSON text (GIL released): per section its
        parameters, FLOPs, bytes, batch-1 and batch-32 compute time (fastest of
        repeated runs, one thread) and escalation fraction under the current thresholds
        on `data`.

        Raises:
            DataError: images of the wrong shape for the network, or labels outside its finest set.
        """

    def export(self, directory: str) -> str:
        """Writes one TorchScript file per section and manifest.json into `directory`
        (created if needed); returns the manifest as JSON text.

        Raises:
            ConfigError: the manifest cannot be written.
            RuntimeError: the folder or a section file could not be written.
        """

    def step(self) -> int:
        """Optimizer steps taken so far (across resumed runs). Raises nothing."""

# ---- data-parallel gradients (cpp/bindings/parallel.cpp) --------------------------------

class DistributedGradients:
    """Averages gradients over MPI_COMM_WORLD in fused buckets: CPU tensors through MPI
    allreduce, CUDA tensors through NCCL (builds with HDDNN_WITH_NCCL). float32 and
    float64 only. Every rank makes the same calls in the same order with the same list
    of tensors (count, shapes, dtypes, device kinds). One thread at a time."""

    def __init__(self, bucket_bytes: int = 25 << 20) -> None:
        """Collective over MPI_COMM_WORLD (it duplicates the communicator); initialises
        MPI at MPI_THREAD_MULTIPLE if nothing did (mpi4py or hddnn.mpi_init may have).

        Args:
            bucket_bytes: fuse tensors into buckets of at most this many bytes.

        Raises:
            ConfigError: bucket_bytes is 0.
            CommError: an MPI call failed.
        """

    @property
    def rank(self) -> int:
        """This process's rank in the communicator."""

    @property
    def size(self) -> int:
        """The number of ranks."""

    @property
    def last_bucket_count(self) -> int:
        """Buckets the last average, average_tensors or broadcast used."""

    def average(self, parameters: List[torch.Tensor]) -> None:
        """Replaces each parameter's .grad by its mean over ranks (call after backward);
        a missing gradient counts as zeros (and is allocated). The GIL is released.

        Raises:
            CommError: a dtype other than float32/float64, an undefined tensor, a CUDA
                tensor in a build without NCCL, or an MPI or NCCL failure.
        """

    def average_tensors(self, tensors: List[torch.Tensor]) -> None:
        """Each tensor becomes its mean over ranks, in place. The GIL is released.

        Raises:
            CommError: as average.
        """

    def broadcast(self, tensors: List[torch.Tensor], root: int = 0) -> None:
        """Each tensor becomes root's, in place (e.g. the parameters at start-up). The
        GIL is released.

        Raises:
            CommError: root is not a rank, or as average.
        """

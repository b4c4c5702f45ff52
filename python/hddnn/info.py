"""What hddnn runs on, as `hddnn info` prints it."""
import os

import torch

from . import _core


def info() -> dict:
    """Versions of hddnn, torch, MPI and libsodium, BLAS in use, NCCL, threads, dataset."""
    core = _core.build_info()
    return {
        "hddnn": core["hddnn"],
        "torch": f"{torch.__version__} (LibTorch {core['torch']})",
        "mpi": core["mpi"],
        "libsodium": core["libsodium"],
        "blas": core["blas"],
        "nccl": _nccl_line(core),
        "cuda_devices": torch.cuda.device_count() if torch.cuda.is_available() else 0,
        "threads": core["torch_threads"],
        "cpus": os.cpu_count(),
        "dataset": core["dataset_dir"] + ("" if core["dataset_present"] else " (missing)"),
    }


def _nccl_line(core: dict) -> str:
    if not core["nccl_compiled"]:
        return "not compiled"
    devices = core["cuda_devices"]
    seen = f"{devices} GPU(s) visible" if devices else "no GPU visible"
    return f"compiled in (version {core['nccl_version']}), {seen}"

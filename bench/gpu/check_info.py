"""The `info` phase of scripts/gpu_check.sh: the interpreter, its torch (version, CUDA
build, C++ ABI) and the first GPU with its NCCL version.

    python bench/gpu/check_info.py

Importing this module needs only the standard library; torch is imported when it runs.
"""
import sys


def describe() -> list:
    """Lines naming the interpreter, torch and, when CUDA is available, GPU 0."""
    import torch
    lines = [" ".join(["python", sys.version.split()[0], sys.executable]),
             " ".join(str(part) for part in (
                 "torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(),
                 "devices", torch.cuda.device_count(), "cxx11 abi", torch._C._GLIBCXX_USE_CXX11_ABI))]
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        lines.append(" ".join(str(part) for part in (
            "gpu0", p.name, f"{p.total_memory / 2**30:.1f} GiB", "sm", f"{p.major}.{p.minor}", "nccl",
            torch.cuda.nccl.version())))
    return lines


def main() -> int:
    for line in describe():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

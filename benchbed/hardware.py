"""Which device a run uses, what to call it in results, and how many CPU threads it takes."""

from __future__ import annotations

import functools
import importlib.util
import os
import platform
import sys

from benchbed.errors import BenchbedError

DEVICES = ("auto", "cpu", "cuda")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def limit_threads(threads: int) -> None:
    """Let this process's numeric libraries use at most `threads` CPU threads.

    The variables reach libraries loaded later; torch, when already loaded, is told directly.
    """
    if threads < 1:
        raise BenchbedError(f"threads must be at least 1, not {threads}")
    for var in THREAD_VARIABLES:
        os.environ[var] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def resolve_device(requested: str) -> str:
    """'auto' becomes 'cuda' when torch sees a GPU, else 'cpu'; 'cuda' without a GPU is an error."""
    if requested not in DEVICES and not requested.startswith("cuda:"):
        raise BenchbedError(f"unknown device '{requested}'; choose one of {', '.join(DEVICES)}")
    if requested == "cpu":
        return "cpu"
    has_cuda = _cuda_available()
    if requested == "auto":
        return "cuda" if has_cuda else "cpu"
    if not has_cuda:
        raise BenchbedError(f"--device {requested} asked for, but torch sees no CUDA GPU here")
    return requested


def _cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


@functools.cache
def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: str) -> str:
    """'NVIDIA H100 80GB HBM3' for a CUDA device, the CPU model otherwise."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.get_device_name(torch.device(device))
    return cpu_name()

"""What the machine offers: bf16 units, and memory for a run of a size.

bfloat16 is only fast where the hardware has bf16 arithmetic: GPUs, and
CPUs with AMX or AVX-512 BF16 (Intel Sapphire Rapids and later, AMD Zen 4
and later). Elsewhere frameworks emulate it and it is slower than float32.

Memory grows with the output's pixels: VGG19 keeps every activation up to
the deepest layer for the backward pass, about 3 KB per output pixel in
float32, so a run is checked against the available memory before it
starts instead of failing (or swapping) halfway.
"""

import functools
import os
import platform
import warnings

from keras_nst.config import Config
from keras_nst.errors import InsufficientMemoryError

__all__ = [
    "InsufficientMemoryError",
    "available_bytes",
    "bf16_cpu_flags",
    "check_memory",
    "cpu_name",
    "estimate_run_bytes",
    "warn_if_bf16_is_slow",
]

_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@functools.cache
def _cpuinfo() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return f.read()
    except OSError:
        return ""


def bf16_cpu_flags() -> list[str]:
    """Returns the CPU's bfloat16 instruction sets.

    Those among `amx_bf16` and `avx512_bf16`; empty where `/proc/cpuinfo`
    does not say.
    """
    for line in _cpuinfo().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return [flag for flag in _BF16_FLAGS if flag in flags]
    return []


def cpu_name() -> str:
    """The CPU model, e.g. `"Intel(R) Xeon(R) Platinum 8481C CPU"`."""
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


@functools.cache
def warn_if_bf16_is_slow() -> None:
    """Warns, once per process, when bf16 will be slower than fp32.

    That is when it runs on the CPU (no GPU or TPU) and the CPU has no bf16
    units, or the backend has no fast bf16 CPU kernels (JAX).
    """
    from keras_nst import backend

    if backend.has_accelerator():
        return
    if not backend.CPU_BF16_IS_FAST:
        reason = "this backend has no fast bf16 kernels on the CPU"
    elif not bf16_cpu_flags():
        reason = "this CPU has no bf16 units (amx_bf16 or avx512_bf16)"
    else:
        return
    warnings.warn(
        f"precision='bf16' will be slower than fp32 here: {reason}.",
        stacklevel=3,
    )


# Peak resident memory of a run on the CPU: a fixed part (the framework,
# VGG19's weights) and a part per output pixel (the activations VGG19 keeps
# for the backward pass, to conv5_1). scripts/bench.py measured 0.7-1.0 GB
# and 2.1-2.4 KB per pixel between 512 and 1024 px (gatys preset, Adam,
# any backend); bf16 saved nothing on TensorFlow. 20% margin on top.
_BASE_BYTES = 1.0e9
_BYTES_PER_PIXEL = 2.9e3
_SKIP_VARIABLE = "KERAS_NST_SKIP_MEMORY_CHECK"


def estimate_run_bytes(
    height: int, width: int, lbfgs_history: int = 0
) -> float:
    """The peak host memory of a style transfer run at `height x width`.

    Args:
        height: the output's height in pixels.
        width: the output's width.
        lbfgs_history: L-BFGS's history size, 0 for Adam; its two
            `(history, H * W * 3)` float32 buffers come on top.

    Returns:
        The estimate, in bytes.
    """
    pixels = height * width
    history = 2 * lbfgs_history * pixels * 3 * 4
    return _BASE_BYTES + _BYTES_PER_PIXEL * pixels + history


def available_bytes() -> float | None:
    """Returns the memory available to a new allocation, in bytes.

    `MemAvailable` of `/proc/meminfo`, or `None` where the system does not
    say.
    """
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(height: int, width: int, config: Config) -> None:
    """Raises `InsufficientMemoryError` before a CPU run that would not fit.

    Runs on a GPU are not checked (their memory is the framework's to
    manage), nor anywhere with `KERAS_NST_SKIP_MEMORY_CHECK=1`.

    Args:
        height: the output's height in pixels (the largest scale's).
        width: its width.
        config: the run's `keras_nst.config.Config`.
    """
    if os.environ.get(_SKIP_VARIABLE):
        return
    from keras_nst.backend import has_accelerator

    available = available_bytes()
    if available is None or has_accelerator():
        return
    history = config.lbfgs_history if config.optimizer == "lbfgs" else 0
    needed = estimate_run_bytes(height, width, history)
    if needed > available:
        raise InsufficientMemoryError(
            f"A {width}x{height} run needs about {needed / 1e9:.1f} GB of "
            f"memory and {available / 1e9:.1f} GB is available: use a smaller "
            "size (with several scales the last is the largest) or Adam "
            f"instead of L-BFGS (set {_SKIP_VARIABLE}=1 to run anyway)."
        )

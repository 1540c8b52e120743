"""What the machine offers for mixed precision, read once.

bfloat16 is only fast where the hardware has bf16 arithmetic: GPUs, and
CPUs with AMX or AVX-512 BF16 (Intel Sapphire Rapids and later, AMD Zen 4
and later). Elsewhere frameworks emulate it and it is slower than float32.
"""

import functools
import platform
import warnings

__all__ = ["bf16_cpu_flags", "cpu_name", "warn_if_bf16_is_slow"]

_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@functools.cache
def _cpuinfo() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return f.read()
    except OSError:
        return ""


def bf16_cpu_flags() -> list[str]:
    """The CPU's bfloat16 instruction sets among `amx_bf16`, `avx512_bf16`
    (empty where `/proc/cpuinfo` does not say)."""
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
    """Warns, once per process, when bf16 will run on the CPU (no GPU or
    TPU) and be slower than fp32 there: a CPU without bf16 units, or a
    backend without fast bf16 CPU kernels (JAX)."""
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

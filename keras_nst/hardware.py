"""What the machine offers: bf16 units, the CPU, and free memory.

bfloat16 is only fast where the hardware has bf16 arithmetic: GPUs, and
CPUs with AMX or AVX-512 BF16 (Intel Sapphire Rapids and later, AMD Zen 4
and later). Elsewhere frameworks emulate it and it is slower than float32.

How much memory a run needs, and the checks against `available_bytes`,
are in `keras_nst.memory`; its names are still importable from here.
"""

import functools
import platform
import warnings
from typing import Any

__all__ = [
    "available_bytes",
    "bf16_cpu_flags",
    "cpu_name",
    "cpu_vector_extensions",
    "has_avx512",
    "warn_if_bf16_is_slow",
]

# Moved to keras_nst.memory; imported on first use, as keras_nst.memory
# itself imports this module (for available_bytes).
_MEMORY_NAMES = (
    "InsufficientMemoryError",
    "check_memory",
    "check_transfer_memory",
    "estimate_run_bytes",
    "estimate_transfer_bytes",
)

_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@functools.cache
def _cpuinfo() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return f.read()
    except OSError:
        return ""


def _cpu_flags() -> set[str]:
    for line in _cpuinfo().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def bf16_cpu_flags() -> list[str]:
    """Returns the CPU's bfloat16 instruction sets.

    Those among `amx_bf16` and `avx512_bf16`; empty where `/proc/cpuinfo`
    does not say.
    """
    flags = _cpu_flags()
    return [flag for flag in _BF16_FLAGS if flag in flags]


# /proc/cpuinfo's flag, and the extension's usual name.
_VECTOR_EXTENSIONS = (
    ("avx2", "AVX2"),
    ("fma", "FMA"),
    ("avx512f", "AVX-512"),
    ("avx512_vnni", "AVX-512 VNNI"),
    ("avx512_bf16", "AVX-512 BF16"),
    ("amx_tile", "AMX"),
)


def cpu_vector_extensions() -> list[str]:
    """The CPU's vector extensions that the backends' kernels use.

    Among AVX2, FMA, AVX-512 (F, VNNI, BF16) and AMX, by their usual
    names; empty where `/proc/cpuinfo` does not say.
    """
    flags = _cpu_flags()
    return [name for flag, name in _VECTOR_EXTENSIONS if flag in flags]


def has_avx512() -> bool | None:
    """Whether the CPU has AVX-512 (F); `None` where the system does not say."""
    flags = _cpu_flags()
    return "avx512f" in flags if flags else None


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


def _meminfo(key: str) -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _read_number(path: str) -> float | None:
    try:
        with open(path) as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None  # absent, or "max": no limit


def _cgroup_room() -> float | None:
    # A container's limit (cgroup v2): MemAvailable reports the host's.
    limit = _read_number("/sys/fs/cgroup/memory.max")
    used = _read_number("/sys/fs/cgroup/memory.current")
    return None if limit is None or used is None else limit - used


def _address_space_room() -> float | None:
    # `ulimit -v`: allocations past it fail however much memory is free.
    import resource

    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return limit - float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return float(limit)


def available_bytes() -> float | None:
    """Returns the memory available to a new allocation, in bytes.

    The least of `MemAvailable` (`/proc/meminfo`), the room left under the
    process's cgroup limit and under its address-space limit (`ulimit
    -v`); `None` where the system says none of them.
    """
    rooms = [_meminfo("MemAvailable"), _cgroup_room(), _address_space_room()]
    known = [room for room in rooms if room is not None]
    return max(0.0, min(known)) if known else None


def __getattr__(name: str) -> Any:
    if name in _MEMORY_NAMES:
        from keras_nst import memory

        return getattr(memory, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""XLA flags that make JAX's CPU convolutions fast, set before JAX starts.

XLA's own CPU convolutions and matrix products are 2-3x slower than
oneDNN's on one core; routing them through YNNPACK closes most of that
(`scripts/bench_fast.py`, `scripts/bench.py`: the transform network 1.6x
and the optimisation step 1.5x faster at 256 px). XLA reads `XLA_FLAGS`
once, when JAX first makes its CPU client, so this only helps before any
JAX computation has run. Nothing here imports JAX.
"""

import importlib.metadata
import os

__all__ = ["FAST_CPU_FLAGS", "add_fast_cpu_flags"]

FAST_CPU_FLAGS = ("--xla_cpu_experimental_ynn_fusion_type=dot",)
"""Added to `XLA_FLAGS` by `add_fast_cpu_flags`."""

# The first jaxlib measured with the flag; XLA aborts on a flag it does
# not know, so older ones are left alone.
_FIRST_JAXLIB = (0, 10)


def _jaxlib_version() -> tuple[int, ...] | None:
    try:
        version = importlib.metadata.version("jaxlib")
    except importlib.metadata.PackageNotFoundError:
        return None
    parts = []
    for part in version.split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def add_fast_cpu_flags(environ: dict | None = None) -> bool:
    """Adds `FAST_CPU_FLAGS` to `XLA_FLAGS`, unless the user set them.

    Call it before JAX runs anything (the command line does, for
    `--backend jax`). A flag whose name `XLA_FLAGS` already has is kept as
    the user gave it.

    Args:
        environ: the environment to change; `None` for `os.environ`.

    Returns:
        Whether `XLA_FLAGS` now holds every flag (`False` for a jaxlib
        older than the flags).
    """
    environ = os.environ if environ is None else environ
    version = _jaxlib_version()
    if version is None or version < _FIRST_JAXLIB:
        return False
    flags = environ.get("XLA_FLAGS", "").split()
    names = {flag.split("=")[0] for flag in flags}
    for flag in FAST_CPU_FLAGS:
        if flag.split("=")[0] not in names:
            flags.append(flag)
    environ["XLA_FLAGS"] = " ".join(flags)
    return True

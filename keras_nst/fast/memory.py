"""Memory checks of fast style transfer: does a batch fit, before it runs.

As `keras_nst.memory.check_transfer_memory` does for the optimisation method:
a CPU run that would not fit raises `InsufficientMemoryError` before
anything big is allocated, instead of failing (or swapping) halfway. Runs
on a GPU or TPU are not checked (their memory is the framework's to
manage), nor anywhere with `KERAS_NST_SKIP_MEMORY_CHECK=1`.
"""

from collections import Counter
from collections.abc import Iterable
from collections.abc import Sequence

from keras_nst.errors import InsufficientMemoryError
from keras_nst.fast.config import TrainConfig
from keras_nst.fast.padding import padded_side
from keras_nst.memory import SKIP_VARIABLE
from keras_nst.memory import host_memory_to_check

__all__ = [
    "check_stylize_memory",
    "check_train_memory",
    "estimate_stylize_bytes",
    "estimate_train_bytes",
]

# Estimates, not guarantees: peak resident memory on the CPU, a fixed part
# (the framework, VGG19's weights, compiled code) and a part per pixel of
# the batch. Training keeps every activation of the transform network and
# of VGG19 (to the deepest loss layer) for the backward pass: measured
# 5.6-8.8 KB per pixel between 128 and 384 px crops (batch 2, 32 filters;
# TensorFlow least, JAX most), about twice the optimisation method's
# 2.9 KB; 10 KB here, half of it scaling with the network's width.
# Stylising runs the network forward only: measured 1.0-2.7 KB per pixel
# at 512-1024 px (PyTorch most); 3 KB here.
_TRAIN_BASE_BYTES = 1.5e9
_TRAIN_VGG_BYTES_PER_PIXEL = 5.0e3
_TRAIN_NETWORK_BYTES_PER_PIXEL = 5.0e3
_STYLIZE_BASE_BYTES = 1.0e9
_STYLIZE_BYTES_PER_PIXEL = 3.0e3
_DEFAULT_FILTERS = TrainConfig.filters
# The variable `keras_nst.hardware`'s checks honour, too.


def estimate_train_bytes(
    batch_size: int, size: int, filters: int = _DEFAULT_FILTERS
) -> float:
    """The peak host memory of training on `batch_size` crops of `size`.

    Args:
        batch_size: crops per step.
        size: the side of the square crops.
        filters: the transform network's width.

    Returns:
        The estimate, in bytes.
    """
    side = padded_side(size)
    per_pixel = _TRAIN_VGG_BYTES_PER_PIXEL + (
        _TRAIN_NETWORK_BYTES_PER_PIXEL * filters / _DEFAULT_FILTERS
    )
    return _TRAIN_BASE_BYTES + per_pixel * batch_size * side * side


def estimate_stylize_bytes(
    batch_size: int, height: int, width: int, filters: int = _DEFAULT_FILTERS
) -> float:
    """The peak host memory of stylising `batch_size` images at once.

    Args:
        batch_size: images in one forward pass.
        height: their height in pixels.
        width: their width.
        filters: the transform network's width.

    Returns:
        The estimate, in bytes.
    """
    pixels = batch_size * padded_side(height) * padded_side(width)
    per_pixel = _STYLIZE_BYTES_PER_PIXEL * filters / _DEFAULT_FILTERS
    return _STYLIZE_BASE_BYTES + per_pixel * pixels


def _available_if_checked() -> float | None:
    """The memory to check against, or `None` where no check applies."""
    from keras_nst import backend

    available = host_memory_to_check()
    if available is None or backend.has_accelerator():
        return None
    return available


def _refuse(what: str, needed: float, available: float, advice: str):
    raise InsufficientMemoryError(
        f"{what} needs about {needed / 1e9:.1f} GB of memory and "
        f"{available / 1e9:.1f} GB is available: {advice} (set "
        f"{SKIP_VARIABLE}=1 to run anyway)."
    )


def check_train_memory(config: TrainConfig) -> None:
    """Raises `InsufficientMemoryError` before training that would not fit.

    Args:
        config: the run's `TrainConfig` (its `batch_size`, `size` and
            `filters`).
    """
    available = _available_if_checked()
    if available is None:
        return
    needed = estimate_train_bytes(
        config.batch_size, config.size, config.filters
    )
    if needed > available:
        _refuse(
            f"Training on {config.batch_size} crops of "
            f"{config.size}x{config.size}",
            needed,
            available,
            "use a smaller size or batch_size",
        )


def check_stylize_memory(
    shapes: Iterable[Sequence[int]],
    batch_size: int = 1,
    filters: int = _DEFAULT_FILTERS,
) -> None:
    """Raises `InsufficientMemoryError` before stylising that would not fit.

    Images of one shape go through `batch_size` at a time, as
    `keras_nst.fast.stylize` runs them; the largest pass is checked.

    Args:
        shapes: each image's `(height, width, ...)`.
        batch_size: images of the same shape per forward pass.
        filters: the transform network's width.
    """
    available = _available_if_checked()
    if available is None:
        return
    counts = Counter((int(shape[0]), int(shape[1])) for shape in shapes)
    passes = [
        (min(batch_size, count), height, width)
        for (height, width), count in counts.items()
    ]
    if not passes:
        return
    largest = max(passes, key=lambda run: estimate_stylize_bytes(*run, filters))
    needed = estimate_stylize_bytes(*largest, filters)
    if needed > available:
        count, height, width = largest
        what = (
            f"Stylising a {width}x{height} image"
            if count == 1
            else f"Stylising {count} images of {width}x{height} at once"
        )
        _refuse(
            what,
            needed,
            available,
            "use a smaller size or batch_size",
        )

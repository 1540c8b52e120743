"""How much memory a style transfer run needs, checked before it starts.

Memory grows with the output's pixels: VGG19 keeps every activation up to
the deepest layer for the backward pass, about 3 KB per output pixel in
float32, so a run is checked against the available memory before it
starts instead of failing (or being killed) halfway. The check reads only
the images' headers, since decoding and resizing them are themselves
large allocations: a 100000 px resize alone takes tens of gigabytes
(`keras_nst.input_memory`). `keras_nst.transfer_memory` estimates; this
module checks, and picks the tile size that fits a memory budget.
Nothing here imports Keras until a check runs.
"""

import os
from collections.abc import Sequence

from keras_nst import hardware
from keras_nst.activation_memory import estimate_run_bytes
from keras_nst.config import Config
from keras_nst.errors import InsufficientMemoryError
from keras_nst.presets import resolve_config
from keras_nst.transfer_memory import estimate_transfer_bytes
from keras_nst.transfer_memory import transfer_peak
from keras_nst.types import ImageLike

__all__ = [
    "InsufficientMemoryError",
    "check_memory",
    "host_memory_to_check",
    "check_transfer_memory",
    "estimate_transfer_bytes",
    "fit_tile_size",
]

# The tile sizes `fit_tile_size` tries, largest first: a larger tile
# wastes less on its halo.
TILE_SIZES = (2048, 1536, 1024, 768, 512, 384, 256, 128)

SKIP_VARIABLE = "KERAS_NST_SKIP_MEMORY_CHECK"
"""The environment variable that turns the memory checks off."""
_SKIP_HINT = f"(set {SKIP_VARIABLE}=1 to run anyway)"


def host_memory_to_check(max_memory: float | None = None) -> float | None:
    """The bytes a run may use, or `None` where no check should run.

    The available memory, or `max_memory` GB where that is less.
    """
    if os.environ.get(SKIP_VARIABLE):
        return None
    # Through the module, so that a test's monkeypatch of it applies.
    available = hardware.available_bytes()
    if max_memory is None:
        return available
    if available is None:
        return max_memory * 1e9
    return min(available, max_memory * 1e9)


def check_memory(height: int, width: int, config: Config) -> None:
    """Raises `InsufficientMemoryError` before a CPU run that would not fit.

    Counts the optimisation at the output's size only; prefer
    `check_transfer_memory`, which also counts reading and resizing the
    images, from their headers. Runs on a GPU are not checked (their memory
    is the framework's to manage), nor anywhere with
    `KERAS_NST_SKIP_MEMORY_CHECK=1`.

    Args:
        height: the output's height in pixels (the largest scale's).
        width: its width.
        config: the run's `keras_nst.config.Config`.
    """
    available = host_memory_to_check()
    if available is None:
        return
    from keras_nst.backend import has_accelerator

    if has_accelerator():
        return
    history = config.lbfgs_history if config.optimizer == "lbfgs" else 0
    needed = estimate_run_bytes(height, width, history)
    if needed > available:
        raise InsufficientMemoryError(
            f"A {width}x{height} run needs about {needed / 1e9:.1f} GB of "
            f"memory and {available / 1e9:.1f} GB is available: use a smaller "
            "size (with several scales the last is the largest) or Adam "
            f"instead of L-BFGS {_SKIP_HINT}."
        )


def check_transfer_memory(
    content: ImageLike,
    styles: ImageLike | Sequence[ImageLike],
    config: Config,
    *,
    held_bytes: float = 0.0,
    held_for: str = "the caller",
) -> None:
    """Raises `InsufficientMemoryError` before a run that would not fit.

    Reads only the images' headers, before anything large is allocated,
    and counts what `estimate_transfer_bytes` does. On a GPU only reading
    and resizing the images are checked (the rest is the framework's to
    manage on the device); nothing is with `KERAS_NST_SKIP_MEMORY_CHECK=1`
    or where the system does not say how much memory is available.

    Args:
        content: the content image, a path or an `(H, W, 3)` array.
        styles: a style image, or a list of them, likewise.
        config: the run's `Config`, as `resolve_config` returns it.
        held_bytes: memory the caller holds on top of the run (e.g. the
            images and results of a grid).
        held_for: what holds `held_bytes`, for the message.

    Raises:
        InsufficientMemoryError: the run would need more memory than is
            available; the message names the image and size at fault.
        FileNotFoundError, ValueError: as for
            `keras_nst.image_io.read_image_shape`.
    """
    available = host_memory_to_check(config.max_memory)
    if available is None:
        return
    from keras_nst.backend import has_accelerator

    needed, step, (height, width) = transfer_peak(
        content, styles, config, has_accelerator()
    )
    needed += held_bytes
    if step is None or needed <= available:
        return
    held = ""
    if held_bytes:
        held = f" ({held_bytes / 1e9:.1f} GB of it for {held_for})"
    during = f", at its peak {step.during}" if step.during else ""
    advice = step.advice
    tiles = _fitting_tiles(content, styles, config, available - held_bytes)
    if tiles is not None:
        advice += f", or tiles of {tiles} px (--tile-size {tiles})"
    raise InsufficientMemoryError(
        f"A {width}x{height} run needs about {needed / 1e9:.1f} GB of "
        f"memory{held} and {available / 1e9:.1f} GB is available{during}: "
        f"{advice} {_SKIP_HINT}."
    )


def _fitting_tiles(content, styles, config, budget) -> int | None:
    """The largest of `TILE_SIZES` whose run fits `budget` bytes, if any."""
    from keras_nst.backend import has_accelerator

    for tile in TILE_SIZES:
        if config.tile_size and tile >= config.tile_size:
            continue
        tiled = resolve_config(config, tile_size=tile)
        if (
            transfer_peak(content, styles, tiled, has_accelerator())[0]
            <= budget
        ):
            return tile
    return None


def fit_tile_size(
    content: ImageLike,
    styles: ImageLike | Sequence[ImageLike],
    config: Config,
) -> Config:
    """The config with the tile size that fits its `max_memory`.

    Where the config sets `max_memory` and no `tile_size`: untiled when
    the run fits, else the largest of `TILE_SIZES` that does (the scales
    no larger than a tile stay untiled), else the smallest. Otherwise the
    config as it is.

    Args:
        content: the content image, a path or an `(H, W, 3)` array.
        styles: a style image, or a list of them, likewise.
        config: the run's resolved `Config`.

    Returns:
        A `Config`.
    """
    if config.max_memory is None or config.tile_size:
        return config
    budget = config.max_memory * 1e9
    for tile in (0, *TILE_SIZES):
        tiled = resolve_config(config, tile_size=tile)
        if transfer_peak(content, styles, tiled, host_only=False)[0] <= budget:
            return tiled
    return resolve_config(config, tile_size=TILE_SIZES[-1])

"""How much memory a style transfer run needs, checked before it starts.

Memory grows with the output's pixels: VGG19 keeps every activation up to
the deepest layer for the backward pass, about 3 KB per output pixel in
float32, so a run is checked against the available memory before it
starts instead of failing (or being killed) halfway. The check reads only
the images' headers, since decoding and resizing them are themselves
large allocations: a 100000 px resize alone takes tens of gigabytes
(`keras_nst.input_memory`).
Nothing here imports Keras until a check runs.
"""

import dataclasses
import os
from collections.abc import Sequence

from keras_nst import hardware
from keras_nst.activation_memory import BASE_BYTES
from keras_nst.activation_memory import bytes_per_pixel
from keras_nst.activation_memory import estimate_run_bytes
from keras_nst.activation_memory import lbfgs_bytes
from keras_nst.config import Config
from keras_nst.errors import InsufficientMemoryError
from keras_nst.input_memory import HELD_BYTES_PER_PIXEL
from keras_nst.input_memory import ImageSource
from keras_nst.input_memory import pixels
from keras_nst.input_memory import reading_bytes
from keras_nst.input_memory import scaled_shape
from keras_nst.input_memory import start_source
from keras_nst.input_memory import transfer_sources
from keras_nst.schedule import scale_configs
from keras_nst.schedule import style_side
from keras_nst.types import ImageLike

__all__ = [
    "InsufficientMemoryError",
    "check_memory",
    "host_memory_to_check",
    "check_transfer_memory",
    "estimate_transfer_bytes",
]

SKIP_VARIABLE = "KERAS_NST_SKIP_MEMORY_CHECK"
"""The environment variable that turns the memory checks off."""
_SKIP_HINT = f"(set {SKIP_VARIABLE}=1 to run anyway)"


def host_memory_to_check() -> float | None:
    """The available bytes, or `None` where no check should run."""
    if os.environ.get(SKIP_VARIABLE):
        return None
    # Through the module, so that a test's monkeypatch of it applies.
    return hardware.available_bytes()


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


@dataclasses.dataclass(frozen=True)
class _Step:
    """One stage of a run that holds memory, besides what stays held."""

    bytes: float
    during: str  # for the message: what the run is doing then, or ""
    advice: str  # what to do about it
    host: bool  # in host memory even when the run is on a GPU


def _reading(source: ImageSource, resized: tuple[int, int]) -> _Step:
    height, width = source.shape
    return _Step(
        reading_bytes(source, resized),
        f"reading {source.name} ({width}x{height})",
        "make the file smaller first"
        if source.is_file
        else "pass a smaller array",
        host=True,
    )


def _transfer_steps(
    content: ImageSource,
    styles: Sequence[ImageSource],
    start: ImageSource | None,
    config: Config,
) -> list[tuple[float, list[_Step]]]:
    """For each scale: the bytes held throughout and the steps' peaks."""
    history = config.lbfgs_history if config.optimizer == "lbfgs" else 0
    per_pixel = bytes_per_pixel(config)
    if config.style_size is None and config.style_scale is None:
        smaller_style = "use a smaller size, or a style_size (--style-size)"
    else:
        smaller_style = (
            "use a smaller style_size (--style-size) or style_scale "
            "(--style-scale)"
        )
    configs = scale_configs(config)
    scales_note = ""
    if len(configs) > 1:
        scales_note = ", at the last and largest of the scales"
    scales, previous = [], 0
    for scale in configs:
        size, style_size = scale.size, style_side(scale)
        output = scaled_shape(content, size)
        resized = [scaled_shape(style, style_size) for style in styles]
        # The content and the start image, and every style image.
        held = HELD_BYTES_PER_PIXEL * (
            2 * pixels(output) + sum(map(pixels, resized))
        )
        # The last scale's model lives on while the next one is built, and
        # with it the s and y buffers of its L-BFGS history (half of what
        # lbfgs_bytes counts for a step).
        held += lbfgs_bytes(previous, history) / 2
        lbfgs = ""
        if history:
            gigabytes = lbfgs_bytes(pixels(output), history) / 1e9
            lbfgs = (
                f", or Adam instead of L-BFGS (its history takes "
                f"{gigabytes:.1f} GB)"
            )
        steps = [
            _reading(content, output),
            _Step(
                per_pixel * pixels(output)
                + lbfgs_bytes(pixels(output), history),
                "",
                f"use a smaller size (the content's longest side, now "
                f"{size}{scales_note}){lbfgs}",
                host=False,
            ),
        ]
        if start is not None:
            steps.append(_reading(start, output))
        for style, shape in zip(styles, resized, strict=True):
            steps.append(_reading(style, shape))
            # Its features, to the deepest layer, while its Grams are taken.
            steps.append(
                _Step(
                    per_pixel * pixels(shape),
                    f"taking the Gram matrices of {style.name} at "
                    f"{shape[1]}x{shape[0]}",
                    smaller_style,
                    host=False,
                )
            )
        scales.append((held, steps))
        previous = pixels(output)
    return scales


def _peak(
    content: ImageLike,
    styles: ImageLike | Sequence[ImageLike],
    config: Config,
    host_only: bool,
) -> tuple[float, _Step | None, tuple[int, int]]:
    """The peak bytes of a run, the step that reaches it, the output shape.

    The step is `None` (and the shape `(0, 0)`) for a content array that
    is not an image.
    """
    content_source, style_sources = transfer_sources(content, styles)
    if content_source is None:
        return BASE_BYTES, None, (0, 0)
    scales = _transfer_steps(
        content_source, style_sources, start_source(config), config
    )
    peak, worst = BASE_BYTES, None
    for held, steps in scales:
        for step in steps:
            if host_only and not step.host:
                continue
            needed = BASE_BYTES + held + step.bytes
            if needed > peak:
                peak, worst = needed, step
    return peak, worst, scaled_shape(content_source, config.size)


def estimate_transfer_bytes(
    content: ImageLike,
    styles: ImageLike | Sequence[ImageLike],
    config: Config,
    *,
    host_only: bool = False,
) -> float:
    """The peak host memory of a style transfer run, from image headers.

    Counts, at every scale, reading and resizing each image (from its
    full size in the file), the style images' VGG19 features while their
    Grams are computed, the optimisation's activations and L-BFGS's
    history; nothing is decoded.

    Args:
        content: the content image, a path or an `(H, W, 3)` array.
        styles: a style image, or a list of them, likewise.
        config: the run's `Config` (its size, style size, scales, layers,
            optimiser and start image count).
        host_only: only what stays on the host when the run is on a GPU:
            reading and resizing the images.

    Returns:
        The estimate, in bytes.

    Raises:
        OSError: an image file is missing (as `read_image_shape`).
        ValueError: an image file is unreadable or over the pixel limit.
    """
    return _peak(content, styles, config, host_only)[0]


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
    available = host_memory_to_check()
    if available is None:
        return
    from keras_nst.backend import has_accelerator

    needed, step, (height, width) = _peak(
        content, styles, config, has_accelerator()
    )
    needed += held_bytes
    if step is None or needed <= available:
        return
    held = ""
    if held_bytes:
        held = f" ({held_bytes / 1e9:.1f} GB of it for {held_for})"
    during = f", at its peak {step.during}" if step.during else ""
    raise InsufficientMemoryError(
        f"A {width}x{height} run needs about {needed / 1e9:.1f} GB of "
        f"memory{held} and {available / 1e9:.1f} GB is available{during}: "
        f"{step.advice} {_SKIP_HINT}."
    )

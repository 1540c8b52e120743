"""The results matrix: every content image in every style, in one figure.

Styles go across the top row, contents down the first column, and the cell
in row `i + 1`, column `j + 1` is content `i` painted in style `j`; the
top-left cell is blank. This is the layout of Fig. 3 of Gatys et al. (2016).

`compose_grid` is NumPy and Pillow only; `make_grid` runs the transfers and
imports Keras when called, so importing this module imports no Keras.
"""

import math
import os
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import numpy as np

from keras_nst.choices import MAX_SIDE
from keras_nst.config import Config
from keras_nst.image_io import _scaled_shape
from keras_nst.image_io import load_image
from keras_nst.image_io import read_image_shape
from keras_nst.image_io import resize_image
from keras_nst.memory import check_transfer_memory
from keras_nst.memory import fit_tile_size
from keras_nst.presets import resolve_config

__all__ = ["CELL_SIZE", "GAP", "compose_grid", "make_grid"]

CELL_SIZE = 256
"""The default side of each square cell, in pixels."""
GAP = 8
"""The default background pixels between and around the cells."""
_FLOAT32_RGB = 12
"""Bytes per pixel of a float32 RGB image."""


def _check_int(name: str, value: Any, minimum: int) -> None:
    # At most MAX_SIDE, as the run's own sizes: a larger cell or gap is
    # a mistake, not a picture.
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not minimum <= value <= MAX_SIDE
    ):
        bound = "a positive" if minimum > 0 else "a non-negative"
        raise ValueError(
            f"Expected {name} to be {bound} integer of at most {MAX_SIDE}. "
            f"Received: {name}={value!r}"
        )


def _check_not_empty(name: str, images: Sequence[Any]) -> None:
    if len(images) == 0:
        raise ValueError(
            f"Expected at least one image in {name}. "
            f"Received: {name}={list(images)!r}"
        )


def _received_shape(results: Sequence[Sequence[np.ndarray]]) -> str:
    lengths = [len(row) for row in results]
    if len(set(lengths)) == 1:
        return f"({len(lengths)}, {lengths[0]})"
    return f"{len(lengths)} rows of lengths {lengths}"


def _fit(image: np.ndarray, cell_size: int, background: int) -> np.ndarray:
    """`image` scaled to fit a `cell_size` square, centred, letterboxed."""
    image = resize_image(image, cell_size)
    cell = np.full((cell_size, cell_size, 3), background, dtype=np.float32)
    height, width = image.shape[:2]
    top = (cell_size - height) // 2
    left = (cell_size - width) // 2
    cell[top : top + height, left : left + width] = np.clip(image, 0, 255)
    return cell


def compose_grid(
    contents: Sequence[np.ndarray],
    styles: Sequence[np.ndarray],
    results: Sequence[Sequence[np.ndarray]],
    cell_size: int = CELL_SIZE,
    gap: int = GAP,
    background: int = 255,
) -> np.ndarray:
    """Lays out the results matrix of Gatys et al. (2016) as one image.

    Styles go across the top row and contents down the first column (the
    layout of Fig. 3 of Gatys et al. 2016); the cell in row `i + 1`, column
    `j + 1` is `results[i][j]`, content `i` in style `j`, and the top-left
    cell is blank. Each image is resized (Lanczos) so its longest side is
    `cell_size`, keeping its aspect ratio, and centred in its
    `cell_size` x `cell_size` cell on the background colour. Cells are
    separated, and surrounded, by `gap` pixels of background.

    Args:
        contents: the content images, `(H, W, 3)` RGB arrays in 0..255.
        styles: the style images, likewise.
        results: `len(contents)` rows of `len(styles)` images each;
            `results[i][j]` is content `i` in style `j`.
        cell_size: the side of each square cell, in pixels.
        gap: the background pixels between and around the cells.
        background: the grey level (0..255) of the gaps, the blank
            top-left cell and the margins of non-square images; 255 is
            white.

    Returns:
        A float32 RGB array in 0..255 of shape
        `(R * (cell_size + gap) + gap, C * (cell_size + gap) +
        gap, 3)`, with `R = len(contents) + 1` rows and
        `C = len(styles) + 1` columns of cells.

    Raises:
        ValueError: no content or no style image, `results` not
            `len(contents)` x `len(styles)`, an image not `(H, W, 3)`, or
            a bad `cell_size`, `gap` or `background`.

    Example:

    ```python
    import numpy as np
    from keras_nst.grid import compose_grid

    content = np.full((48, 64, 3), 200.0, dtype="float32")
    style = np.full((64, 64, 3), 30.0, dtype="float32")
    grid = compose_grid([content], [style], [[content]], cell_size=64)
    grid.shape  # (3 * 8 + 2 * 64, 3 * 8 + 2 * 64, 3) == (152, 152, 3)
    ```
    """
    _check_not_empty("contents", contents)
    _check_not_empty("styles", styles)
    expected = (len(contents), len(styles))
    if len(results) != expected[0] or any(
        len(row) != expected[1] for row in results
    ):
        raise ValueError(
            f"Expected results of shape {expected} (one row per content "
            "image, one image per style image). "
            f"Received: results of shape {_received_shape(results)}"
        )
    _check_int("cell_size", cell_size, minimum=1)
    _check_int("gap", gap, minimum=0)
    if isinstance(background, bool) or not 0 <= background <= 255:
        raise ValueError(
            "Expected background to be a grey level in 0..255. "
            f"Received: background={background!r}"
        )

    rows = [[None, *styles]]
    rows += [
        [content, *row] for content, row in zip(contents, results, strict=True)
    ]
    step = cell_size + gap
    grid = np.full(
        (
            len(rows) * step + gap,
            len(rows[0]) * step + gap,
            3,
        ),
        background,
        dtype=np.float32,
    )
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            if image is None:
                continue
            top = gap + r * step
            left = gap + c * step
            grid[top : top + cell_size, left : left + cell_size] = _fit(
                image, cell_size, background
            )
    return grid


def _check_sizes(
    content_paths: Sequence[str | os.PathLike],
    style_paths: Sequence[str | os.PathLike],
    config: Config,
) -> None:
    """Every image is large enough for the layers at every scale.

    Checked from the files' headers before the first cell, so a small
    image in the last row fails at once, not after the cells before it.
    """
    from keras_nst.features import check_image_size
    from keras_nst.schedule import scale_configs
    from keras_nst.schedule import style_side

    layers = config.content_layers + config.style_layers
    for scale in scale_configs(config):
        for paths, side, name in (
            (content_paths, scale.size, "content image"),
            (style_paths, style_side(scale), "style image"),
        ):
            for path in paths:
                shape = _scaled_shape(*read_image_shape(path), side)
                check_image_size((*shape, 3), layers, name)


def _check_grid_memory(
    content_paths: Sequence[str | os.PathLike],
    style_paths: Sequence[str | os.PathLike],
    config: Config,
    cell_size: int,
    gap: int,
) -> None:
    """Checks every cell's run fits, with what the grid holds, before any.

    The grid keeps each content and style image at `config.size`, every
    result and, at the end, the grid itself, all float32 RGB; the shapes
    come from the files' headers, so nothing is decoded here.
    """
    shapes = {path: read_image_shape(path) for path in content_paths}
    shapes.update({path: read_image_shape(path) for path in style_paths})
    pixels = {
        path: math.prod(_scaled_shape(*shape, config.size))
        for path, shape in shapes.items()
    }
    contents = sum(pixels[path] for path in content_paths)
    styles = sum(pixels[path] for path in style_paths)
    images = contents + styles + len(style_paths) * contents  # the results
    step = cell_size + gap
    images += (len(content_paths) + 1) * (len(style_paths) + 1) * step**2
    held = _FLOAT32_RGB * images
    for content_path in content_paths:
        for style_path in style_paths:
            check_transfer_memory(
                content_path,
                [style_path],
                fit_tile_size(content_path, [style_path], config),
                held_bytes=held,
                held_for="the grid's images and results",
            )


def make_grid(
    content_paths: Sequence[str | os.PathLike],
    style_paths: Sequence[str | os.PathLike],
    config: Config | str | None = None,
    *,
    cell_size: int = CELL_SIZE,
    gap: int = GAP,
    on_cell: Callable[[int, int, np.ndarray], None] | None = None,
    callbacks: Sequence[Any] = (),
    verbose: str | int = 0,
    **overrides: Any,
) -> np.ndarray:
    """Paints every content in every style and lays out the results matrix.

    Reproduces the results-matrix figure of Gatys et al. (2016), Fig. 3:
    styles across the top row, contents down the first column, each cell
    the content painted in that style, the top-left cell blank. Every
    (content, style) pair is one `keras_nst.style_transfer.transfer` run
    with the same settings and one shared VGG19, in row order: content 0
    in each style, then content 1, and so on. All images are read, and
    every cell's memory checked from their headers, before the first run,
    so an unreadable file or a grid too large fails at once.

    Args:
        content_paths: the content image files, one row each.
        style_paths: the style image files, one column each.
        config: a `Config`, a preset name, or `None` for `"gatys"`.
        cell_size: the side of each square cell, in pixels.
        gap: the background pixels between and around the cells.
        on_cell: called as `on_cell(i, j, image)` after content `i` has
            been painted in style `j`, with the `(H, W, 3)` float32 result,
            e.g. to save each cell or report progress.
        callbacks: Keras callbacks for every cell's run; those that count
            steps (`JsonlLogger`, `keras_nst.web.callback.WebProgress`)
            count on across the cells.
        verbose: passed to each `transfer` run: 0 is silent, 1 or
            `"auto"` shows a progress bar, 2 one line per run.
        **overrides: `Config` fields to change, as for `transfer`.

    Returns:
        The grid as an `(H, W, 3)` float32 RGB array in 0..255 (see
        `compose_grid` for its size).

    Raises:
        ValueError: no content or no style path, a bad setting, `cell_size`
            or `gap`, or an unreadable image.
        FileNotFoundError: an image file does not exist.
        keras_nst.errors.InsufficientMemoryError: a cell's run, with the
            images the grid holds, would need more memory than is
            available; checked before the first cell.

    Example:

    ```python
    from keras_nst.grid import make_grid
    from keras_nst.image_output import save_image

    grid = make_grid(
        ["examples/astronaut.png", "examples/chelsea.png"],
        ["examples/starry_night.jpg", "examples/the_scream.jpg"],
        size=256,
        iterations=200,
        cell_size=256,
    )
    save_image("grid.png", grid)
    ```
    """
    _check_not_empty("content_paths", content_paths)
    _check_not_empty("style_paths", style_paths)
    _check_int("cell_size", cell_size, minimum=1)
    _check_int("gap", gap, minimum=0)
    config = resolve_config(config, **overrides)
    # Before the images below are read: a grid too large for the memory
    # fails here, not after hours of cells or killed by the system.
    _check_sizes(content_paths, style_paths, config)
    _check_grid_memory(content_paths, style_paths, config, cell_size, gap)
    contents = [load_image(path, config.size) for path in content_paths]
    styles = [load_image(path, config.size) for path in style_paths]

    # Imported here so that importing this module imports no Keras.
    from keras_nst import style_transfer
    from keras_nst.features import build_extractor

    # One VGG19 for every cell: building it and loading its 80 MB of
    # weights once instead of once per run.
    extractor = build_extractor(config)
    results = []
    for i, content_path in enumerate(content_paths):
        row = []
        for j, style_path in enumerate(style_paths):
            image = style_transfer.transfer(
                content_path,
                style_path,
                config,
                callbacks=callbacks,
                verbose=verbose,
                extractor=extractor,
            )
            if on_cell is not None:
                on_cell(i, j, image)
            row.append(image)
        results.append(row)
    return compose_grid(contents, styles, results, cell_size=cell_size, gap=gap)

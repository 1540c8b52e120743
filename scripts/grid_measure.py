"""Measures the fine grid that pixel optimisation paints into flat regions.

    python scripts/grid_measure.py out/quality/default/*.png
    python scripts/grid_measure.py out.png --reference examples/astronaut.png

The grid is a mesh of horizontal and vertical stripes a few pixels apart.
It shows in the power spectrum: at periods of 2.5 to 6.7 px, pictures
with the grid have several times more power along the two axes than
along the diagonals, where photos and paintings have about as much (the
bundled ones measure 0.9 to 2.0; the default's pictures of astronaut x
Starry Night 2.2 to 3.4). `grid_index` is that ratio. It is a relative
measure: a picture's index means most next to its content's and style's.
"""

import click
import numpy as np

from keras_nst.image_io import load_image

BAND = (0.15, 0.4)
"""The spatial frequencies measured, in cycles per pixel (periods 2.5 to
6.7 px): the grid's, above most of a picture's own structure."""
SECTOR_DEGREES = 12.0
"""Half the angle of each sector around an axis and a diagonal."""
LUMA = np.array([0.299, 0.587, 0.114])
"""ITU-R BT.601 luma weights: the grid is in the brightness."""


def grid_index(image: np.ndarray) -> float:
    """Power along the axes over power along the diagonals, in `BAND`.

    Args:
        image: `(H, W, 3)` RGB or `(H, W)` grey array, any scale; at least
            8 x 8 pixels.

    Returns:
        The ratio of the mean spectral power within `SECTOR_DEGREES` of
        the horizontal and vertical axes to that within as much of the
        diagonals, over `BAND`. About 1 for isotropic texture; above 1 for
        a mesh of horizontal and vertical stripes.
    """
    image = np.asarray(image, np.float64)
    grey = image @ LUMA if image.ndim == 3 else image
    if min(grey.shape) < 8:
        raise ValueError(
            f"Expected at least 8 x 8 pixels. Received: {grey.shape}"
        )
    height, width = grey.shape
    # A window, so the picture's borders add no spurious axis power.
    window = np.outer(np.hanning(height), np.hanning(width))
    power = np.abs(np.fft.fft2((grey - grey.mean()) * window)) ** 2
    fy, fx = np.meshgrid(
        np.fft.fftfreq(height), np.fft.fftfreq(width), indexing="ij"
    )
    radius = np.hypot(fx, fy)
    angle = np.degrees(np.arctan2(np.abs(fy), np.abs(fx)))  # 0..90
    band = (radius >= BAND[0]) & (radius <= BAND[1])
    axes = band & ((angle < SECTOR_DEGREES) | (angle > 90 - SECTOR_DEGREES))
    diagonals = band & (np.abs(angle - 45) < SECTOR_DEGREES)
    return float(power[axes].mean() / max(power[diagonals].mean(), 1e-30))


@click.command()
@click.argument("images", nargs=-1, required=True)
@click.option(
    "--reference", multiple=True,
    help="An image (e.g. the content or style) measured at each picture's "
    "size, for comparison (repeatable).",
)  # fmt: skip
def main(images, reference):
    """Prints the grid index of each image, and of the references."""
    for path in images:
        try:
            picture = load_image(path)
            line = f"{path}: {grid_index(picture):.2f}"
            for other in reference:
                other_picture = load_image(other, max(picture.shape[:2]))
                line += f"  ({other}: {grid_index(other_picture):.2f})"
        except (OSError, ValueError) as error:
            raise click.ClickException(f"{path}: {error}") from None
        click.echo(line)


if __name__ == "__main__":
    main()

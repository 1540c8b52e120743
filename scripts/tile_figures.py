"""The figures of docs/large-pictures.md, from the runs' pictures.

    python scripts/tile_figures.py compare untiled.png tiled.png \
        -o docs/figures/tiles_1024.jpg --tile 256
    python scripts/tile_figures.py print astronaut_4096.png \
        -o docs/figures/print_4096.jpg

`compare` puts an untiled and a tiled picture side by side (halved), then
a full-resolution crop of each around a corner where four tiles meet, and
their difference magnified 8x; it prints the largest difference. `print`
writes a downscaled view and a full-resolution crop (`_crop` beside it).
"""

import os

import click
import numpy as np
from PIL import Image


def _read(path: str) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _save(array: np.ndarray, path: str) -> None:
    image = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
    image.save(path, quality=90)


def _half(array: np.ndarray) -> np.ndarray:
    image = Image.fromarray(array.astype(np.uint8))
    size = (array.shape[1] // 2, array.shape[0] // 2)
    return np.asarray(image.resize(size, Image.LANCZOS), dtype=np.int16)


@click.group()
def main():
    """Figures for the large pictures page."""


@main.command()
@click.argument("untiled")
@click.argument("tiled")
@click.option("-o", "--output", required=True)
@click.option("--tile", default=256, show_default=True, help="Core side.")
@click.option("--crop", default=256, show_default=True)
def compare(untiled, tiled, output, tile, crop):
    """Untiled and tiled side by side, and a crop where tiles meet."""
    whole, tiles = _read(untiled), _read(tiled)
    if whole.shape != tiles.shape:
        raise click.ClickException("The pictures differ in size.")
    gap = np.full((whole.shape[0] // 2, 8, 3), 255, np.int16)
    _save(np.concatenate([_half(whole), gap, _half(tiles)], axis=1), output)
    # Centred on the corner of the first four cores.
    top = left = max(tile - crop // 2, 0)
    cut = (slice(top, top + crop), slice(left, left + crop))
    difference = np.abs(whole - tiles)
    magnified = 255 - 8 * difference[cut]
    gap = np.full((crop, 8, 3), 255, np.int16)
    crops = [whole[cut], gap, tiles[cut], gap, magnified]
    root, ext = os.path.splitext(output)
    _save(np.concatenate(crops, axis=1), f"{root}_crop{ext}")
    click.echo(
        f"largest difference {int(difference.max())} levels, mean "
        f"{difference.mean():.3f}; {(difference > 2).mean():.2%} of values "
        "differ by more than 2"
    )


@main.command("print")
@click.argument("picture")
@click.option("-o", "--output", required=True)
@click.option("--side", default=1024, show_default=True, help="View side.")
@click.option("--crop", default=768, show_default=True)
def print_figure(picture, output, side, crop):
    """A downscaled view of a large picture and a full-size crop."""
    with Image.open(picture) as image:
        image = image.convert("RGB")
        view = image.copy()
        view.thumbnail((side, side), Image.LANCZOS)
        view.save(output, quality=90)
        width, height = image.size
        # Off centre, in the face and the suit's detail.
        left, top = (width - crop) // 2, (height - crop) // 3
        root, ext = os.path.splitext(output)
        image.crop((left, top, left + crop, top + crop)).save(
            f"{root}_crop{ext}", quality=90
        )


if __name__ == "__main__":
    main()

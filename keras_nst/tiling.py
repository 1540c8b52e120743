"""Where the tiles of a tiled optimisation step lie: geometry only.

A tiled step (`keras_nst.tiled`) runs VGG19 on one region of the image at
a time. Each tile owns a core, a block of pixels; the cores partition the
image. A layer's feature at grid position `q` (stride `s`) belongs to the
tile whose core holds pixel `s * q`, so the owned features partition every
layer's feature map too. The tile's region is its core plus a halo wide
enough that every owned feature sees exactly the pixels it sees in the
whole image: VGG19's receptive field up to the layer (`layer_reach`).
Cores and regions start on multiples of the deepest layer's stride, so the
pooling windows fall where they fall in the whole image; regions are cut
at the image's border, where VGG19 pads as it does for the whole image.
Nothing here imports Keras.
"""

import dataclasses
from collections.abc import Sequence

from keras_nst.layer_names import KERAS_LAYER_NAMES
from keras_nst.layer_names import canonical_layer_name
from keras_nst.layer_names import layer_block

__all__ = [
    "Tile",
    "halo",
    "is_tiled",
    "largest_region",
    "layer_reach",
    "layer_stride",
    "owned_range",
    "tile_alignment",
    "tile_grid",
]


def is_tiled(shape: Sequence[int], tile_size: int) -> bool:
    """Whether an image of `shape` (`(..., H, W, 3)`) is split into tiles."""
    return bool(tile_size) and max(shape[-3], shape[-2]) > tile_size


@dataclasses.dataclass(frozen=True)
class Reach:
    """Which pixels a layer's feature at position `q` sees, along one axis.

    The pixels `stride * q - before` to `stride * q + after`, inclusive.
    """

    stride: int
    before: int
    after: int


def _reaches() -> dict[str, Reach]:
    # Each 3x3 convolution (padded by one) reaches one step of the current
    # grid further each way; each 2x2 pooling of stride 2 covers one more
    # step after and doubles the step.
    reaches, before, after, step, block = {}, 0, 0, 1, 1
    for name in KERAS_LAYER_NAMES:
        if layer_block(name) != block:
            after += step
            step *= 2
            block = layer_block(name)
        before += step
        after += step
        reaches[name] = Reach(step, before, after)
    return reaches


_REACHES = _reaches()


def layer_reach(layer: str) -> Reach:
    """The receptive field of one VGG19 layer, as a `Reach`.

    conv5_1 sees 156 pixels: `16 q - 70` to `16 q + 85`.
    """
    return _REACHES[canonical_layer_name(layer)]


def layer_stride(layer: str) -> int:
    """Pixels between a layer's neighbouring features (1, 2, 4, 8 or 16)."""
    return layer_reach(layer).stride


def tile_alignment(layers: Sequence[str]) -> int:
    """The deepest layer's stride: where cores and regions may start."""
    return max(layer_stride(name) for name in layers)


def halo(layers: Sequence[str]) -> int:
    """Pixels a region reaches beyond its core on each side.

    Enough for the first owned feature's field before the core and the
    last one's after it, rounded up to `tile_alignment`: 80 for layers to
    conv5_1.
    """
    need = max(
        max(r.before, r.after - r.stride + 1) for r in map(layer_reach, layers)
    )
    align = tile_alignment(layers)
    return -(-need // align) * align


@dataclasses.dataclass(frozen=True)
class Tile:
    """One tile: its core (owned pixels) and region (computed pixels).

    Each is `(top, bottom, left, right)` in image pixels, ends exclusive.
    """

    core: tuple[int, int, int, int]
    region: tuple[int, int, int, int]

    @property
    def region_shape(self) -> tuple[int, int]:
        """`(height, width)` of the region."""
        top, bottom, left, right = self.region
        return bottom - top, right - left


def _cuts(length: int, tile: int) -> list[tuple[int, int]]:
    starts = list(range(0, length, tile))
    ends = [*starts[1:], length]
    return list(zip(starts, ends, strict=True))


def tile_grid(
    height: int,
    width: int,
    tile_size: int,
    layers: Sequence[str],
) -> list[Tile]:
    """The tiles of a `height x width` image.

    Args:
        height: the image's height in pixels.
        width: its width.
        tile_size: the largest core side, rounded down to
            `tile_alignment(layers)` (at least one alignment step).
        layers: the VGG19 layers the step reads.

    Returns:
        The tiles, row by row; their cores partition the image.
    """
    align = tile_alignment(layers)
    tile_size = max(align, tile_size // align * align)
    margin = halo(layers)
    rows = _cuts(height, tile_size)
    cols = _cuts(width, tile_size)
    return [
        Tile(
            (top, bottom, left, right),
            (
                max(top - margin, 0),
                min(bottom + margin, height),
                max(left - margin, 0),
                min(right + margin, width),
            ),
        )
        for top, bottom in rows
        for left, right in cols
    ]


def owned_range(
    start: int, stop: int, image_length: int, stride: int
) -> tuple[int, int]:
    """The feature positions a core owns along one axis, at one layer.

    The core runs from pixel `start` to `stop`, in an image of
    `image_length` pixels; the layer's features lie `stride` apart.
    `start` is a multiple of `stride`; the image's last features (the
    pooling drops a partial window) end the last core's range. Positions
    are in the whole image's feature grid.
    """
    features = image_length
    for _ in range(stride.bit_length() - 1):
        features //= 2
    return start // stride, min(-(-stop // stride), features)


def largest_region(
    height: int, width: int, tile_size: int, layers: Sequence[str]
) -> int:
    """The pixels of the largest region of a `height x width` image.

    A full core with its halo on both sides, cut at the image's border;
    what one tile's activations cost is proportional to it.
    """
    align = tile_alignment(layers)
    side = max(align, tile_size // align * align) + 2 * halo(layers)
    return min(side, height) * min(side, width)

"""VGG19's features of a large image, one tile at a time, without gradients.

The passes a tiled run makes where it needs no gradient: the moments of
each layer's features over the whole image (a style image's targets, and
the first half of each tiled step), and the whole feature maps of the
content image (its targets). Only one region's activations exist at a
time; what is kept is the size of the moments, or of the features asked
for. `keras_nst.tiling` says where the tiles lie.
"""

import dataclasses
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence

import numpy as np
from keras import ops

from keras_nst.allocator import release_free_memory
from keras_nst.backend import features_map
from keras_nst.tiling import Tile
from keras_nst.tiling import layer_stride
from keras_nst.tiling import owned_range
from keras_nst.tiling import tile_grid
from keras_nst.types import Tensor

__all__ = [
    "Moments",
    "assembled_features",
    "centred_moments",
    "image_moments",
    "local_owned",
    "merge_moments",
    "owned_count",
    "owned_features",
    "owned_slice",
    "region",
    "tile_regions",
    "to_moments",
]


@dataclasses.dataclass(frozen=True)
class Moments:
    """One layer's feature moments over positions, in float64.

    Attributes:
        count: the number of positions `M`.
        mean: `(C,)` mean feature.
        scatter: `(C, C)` sum of `(f - mean)(f - mean)^T`.
    """

    count: int
    mean: np.ndarray
    scatter: np.ndarray

    def merge(self, other: "Moments") -> "Moments":
        """The moments of both sets of positions together.

        The pairwise update of Chan, Golub and LeVeque (1979): no
        difference of large second moments, so no digits lost.
        """
        count = self.count + other.count
        delta = other.mean - self.mean
        return Moments(
            count,
            self.mean + delta * (other.count / count),
            self.scatter
            + other.scatter
            + np.outer(delta, delta) * (self.count * other.count / count),
        )

    @property
    def cov(self) -> np.ndarray:
        """The population covariance `(C, C)`."""
        return self.scatter / self.count

    @property
    def gram(self) -> np.ndarray:
        """`E[f f^T]`, `keras_nst.losses.gram_matrix` of the features."""
        return self.cov + np.outer(self.mean, self.mean)


def region(image: Tensor, tile: Tile) -> Tensor:
    """The pixels of `image` (`(1, H, W, 3)`) that `tile` computes."""
    top, bottom, left, right = tile.region
    return image[:, top:bottom, left:right, :]


def owned_slice(
    name: str, tile: Tile, image_shape: tuple[int, int]
) -> tuple[slice, slice]:
    """The positions of layer `name` that `tile` owns, in the whole map."""
    stride = layer_stride(name)
    top, bottom, left, right = tile.core
    rows = owned_range(top, bottom, image_shape[0], stride)
    cols = owned_range(left, right, image_shape[1], stride)
    return slice(*rows), slice(*cols)


def local_owned(
    tile: Tile, image_shape: tuple[int, int], layers: Sequence[str]
) -> tuple:
    """Where the tile's own features lie in its region's feature maps.

    `((name, (top, bottom, left, right)), ...)`, hashable: a compiled
    tile function takes it as a static argument.
    """
    local = []
    for name in dict.fromkeys(layers):
        rows, cols = owned_slice(name, tile, image_shape)
        stride = layer_stride(name)
        top, left = tile.region[0] // stride, tile.region[2] // stride
        local.append(
            (name, (rows.start - top, rows.stop - top, cols.start - left,
                    cols.stop - left))
        )  # fmt: skip
    return tuple(local)


def tile_regions(
    image: Tensor,
    tiles: Sequence[Tile],
    image_shape: tuple[int, int],
    layers: Sequence[str],
) -> Iterator[tuple[Tile, Tensor, tuple]]:
    """Each tile, its region of `image` and its `local_owned`.

    Before each, the memory that the last tile's freed activations leave
    in the C allocator goes back to the system (`keras_nst.allocator`), so
    the process holds one region's activations at a time.
    """
    for tile in tiles:
        release_free_memory()
        yield tile, region(image, tile), local_owned(tile, image_shape, layers)


def owned_features(
    features: dict[str, Tensor], local: tuple
) -> dict[str, Tensor]:
    """The region's features cut to the tile's own (`local_owned`)."""
    return {
        name: features[name][:, top:bottom, left:right, :]
        for name, (top, bottom, left, right) in local
    }


def centred_moments(features: Tensor) -> tuple[Tensor, Tensor]:
    """The mean `(C,)` and scatter `(C, C)` of `(1, h, w, C)` features."""
    channels = ops.shape(features)[-1]
    flat = ops.reshape(ops.cast(features, "float32"), (-1, channels))
    mean = ops.mean(flat, axis=0)
    centred = flat - mean
    return mean, ops.matmul(ops.transpose(centred), centred)


def to_moments(count: int, mean: Tensor, scatter: Tensor) -> Moments:
    """`Moments` in float64 from `centred_moments`' tensors."""
    return Moments(
        count,
        ops.convert_to_numpy(mean).astype("float64"),
        ops.convert_to_numpy(scatter).astype("float64"),
    )


def owned_count(local: tuple, name: str) -> int:
    """The number of positions of layer `name` the tile owns."""
    top, bottom, left, right = dict(local)[name]
    return (bottom - top) * (right - left)


def merge_moments(
    moments: dict[str, Moments], parts: Mapping[str, tuple], local: tuple
) -> None:
    """Merges a tile's `centred_moments` by layer into `moments`.

    Args:
        moments: the moments so far by layer name; updated in place.
        parts: the tile's `(mean, scatter)` tensors by layer name.
        local: the tile's `local_owned`.
    """
    for name, part in parts.items():
        count = owned_count(local, name)
        if count == 0:
            # A thin tile at the border may own no position of a deep
            # layer (those past the last whole pooling window have none);
            # its mean would be 0 / 0.
            continue
        part = to_moments(count, *part)
        moments[name] = moments[name].merge(part) if name in moments else part


def _grid(image, tile_size, layers):
    height, width = ops.shape(image)[1], ops.shape(image)[2]
    return (height, width), tile_grid(height, width, tile_size, layers)


def _moments_of(features, args, local):
    return {
        name: centred_moments(f)
        for name, f in owned_features(features, local).items()
    }


def image_moments(
    extractor: Callable[[Tensor], dict[str, Tensor]],
    image: Tensor,
    layers: Sequence[str],
    tile_size: int,
) -> dict[str, Moments]:
    """Each layer's `Moments` over the whole of `image`, tile by tile.

    Args:
        extractor: a `VGG19Features` (it computes at least `layers`).
        image: `(1, H, W, 3)` RGB in 0..255.
        layers: Keras layer names.
        tile_size: the cores' side (`keras_nst.tiling.tile_grid`).

    Returns:
        The moments by layer name.
    """
    shape, tiles = _grid(image, tile_size, layers)
    run = features_map(extractor, _moments_of)
    moments: dict[str, Moments] = {}
    for _, pixels, local in tile_regions(image, tiles, shape, layers):
        merge_moments(moments, run(pixels, (), local), local)
    return moments


def _owned_of(features, args, local):
    return owned_features(features, local)


def assembled_features(
    extractor: Callable[[Tensor], dict[str, Tensor]],
    image: Tensor,
    layers: Sequence[str],
    tile_size: int,
) -> dict[str, np.ndarray]:
    """The whole feature maps of `layers` for `image`, tile by tile.

    Equal to `extractor(image)` at those layers, with only one region's
    activations in memory at a time.

    Returns:
        `(1, h, w, C)` float32 arrays by layer name.
    """
    shape, tiles = _grid(image, tile_size, layers)
    run = features_map(extractor, _owned_of)
    maps: dict[str, np.ndarray] = {}
    for tile, pixels, local in tile_regions(image, tiles, shape, layers):
        for name, part in run(pixels, (), local).items():
            part = ops.convert_to_numpy(part)
            if name not in maps:
                stride = layer_stride(name)
                rows = owned_range(0, shape[0], shape[0], stride)[1]
                cols = owned_range(0, shape[1], shape[1], stride)[1]
                maps[name] = np.zeros(
                    (1, rows, cols, part.shape[-1]), "float32"
                )
            rows, cols = owned_slice(name, tile, shape)
            maps[name][:, rows, cols, :] = part
    return maps

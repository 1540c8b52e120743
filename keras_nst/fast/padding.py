"""Mirror padding of images, up to a size the transform network takes.

Nothing here depends on the network's weights; `TransformNet` pads its
input with `pad_for_network` and crops its output back.
"""

from keras import ops

from keras_nst import backend
from keras_nst.types import Tensor

__all__ = ["MIN_SIDE", "pad_for_network", "padded_side", "reflect_pad"]

MIN_SIDE = 8
"""The smallest side the network's layers take, in pixels.

Two stride-2 convolutions and two 2x upsamplings want a multiple of 4,
and a mirror of `p` pixels needs a side of `p + 1`: 5 for the 9x9
convolutions' 4 pixels, and 2 at a quarter of the size (8 at full size)
for the residual blocks' 3x3 ones.
"""


def padded_side(side: int) -> int:
    """The side an image side of `side` pixels is padded to in the network.

    The next multiple of 4, and at least `MIN_SIDE`.
    """
    return max(MIN_SIDE, side + (-side) % 4)


def reflect_pad(
    images: Tensor, top: int, bottom: int, left: int, right: int
) -> Tensor:
    """Mirror-pads the height and width of `(batch, H, W, C)` images.

    Built from slices and flips, because `ops.pad(mode="reflect")` on the
    PyTorch backend only pads the last dimensions (NCHW).

    Args:
        images: a `(batch, H, W, C)` tensor.
        top: rows mirrored above; less than `H`, like the other pads.
        bottom: rows mirrored below.
        left: columns mirrored on the left; less than `W`.
        right: columns mirrored on the right.

    Returns:
        A `(batch, H + top + bottom, W + left + right, C)` tensor.
    """
    return _reflect_axis(_reflect_axis(images, top, bottom, 1), left, right, 2)


def _reflect_axis(x, before, after, axis):
    size = x.shape[axis]
    if not isinstance(size, int):
        return _reflect_gather(x, before, after, axis)
    parts = []
    if before:
        parts.append(ops.flip(_take(x, 1, before + 1, axis), axis))
    parts.append(x)
    if after:
        parts.append(ops.flip(_take(x, size - 1 - after, size - 1, axis), axis))
    return ops.concatenate(parts, axis=axis) if len(parts) > 1 else x


def _take(x, start, stop, axis):
    return x[:, start:stop] if axis == 1 else x[:, :, start:stop]


def _extend_axis(x, after, axis):
    """Pads `after` rows (axis 1) or columns (axis 2) at the end of `x`."""
    size = x.shape[axis]
    while after > 0:
        if size == 1:
            return ops.repeat(x, after + 1, axis=axis)
        step = min(after, size - 1)
        x = _reflect_axis(x, 0, step, axis)
        size, after = size + step, after - step
    return x


def pad_for_network(images: Tensor) -> Tensor:
    """Pads `(batch, H, W, C)` images below and right to `padded_side`.

    Mirrored, again and again where the pad is larger than the image; a
    side of one pixel has nothing to mirror, so that pixel is repeated.
    A side of 5 pixels or more is mirrored once, by at most 3 pixels.

    Args:
        images: a `(batch, H, W, C)` tensor, `H` and `W` from 1 up.

    Returns:
        A `(batch, padded_side(H), padded_side(W), C)` tensor whose top
        left `H x W` is `images`.
    """
    height, width = images.shape[1], images.shape[2]
    if not (isinstance(height, int) and isinstance(width, int)):
        # A symbolic size (an exported network): one graph for every size
        # of 8 pixels and more, so no branch or slice may depend on it.
        x = _mirror_to_multiple_of_4(images, 1)
        return _mirror_to_multiple_of_4(x, 2)
    x = _extend_axis(images, padded_side(height) - height, 1)
    return _extend_axis(x, padded_side(width) - width, 2)


def _mirror_to_multiple_of_4(x, axis):
    """Mirrors up to 3 rows or columns at the end, whatever the size."""
    size = ops.shape(x)[axis]
    return _reflect_gather(x, 0, (4 - size % 4) % 4, axis)


def _reflect_gather(x, before, after, axis):
    """`_reflect_axis` as one gather, for a size known only when run."""
    size = ops.shape(x)[axis]
    index = ops.abs(ops.arange(0, size + before + after) - before)
    index = ops.where(index < size, index, 2 * (size - 1) - index)
    return backend.take(x, index, axis)

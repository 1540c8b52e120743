"""Convolutions that some backends run faster split into rows.

`conv2d` computes a `keras.layers.Conv2D` layer's output from its own
weights. Where the backend says it is faster (`keras_nst.backend.
rowwise_conv_is_faster`), a stride-1 `k x k` convolution runs as one
`1 x k` convolution whose `k * out` output channels are every kernel
row's partial sums, followed by `k` shifted adds:

    out[y, x] = sum_i rows[y + i, x, i]

The arithmetic is the same; what changes is the shape the convolution
routine sees (many output channels instead of few), which XLA's CPU
convolutions in particular handle far better. The layers stay
`keras.layers.Conv2D`, so saved networks load as they are.
"""

import keras
from keras import ops

from keras_nst import backend
from keras_nst.types import Tensor

__all__ = ["conv2d", "rowwise_conv"]


def rowwise_conv(images: Tensor, kernel: Tensor) -> Tensor:
    """A stride-1 `"valid"` convolution of NHWC `images`, row by row.

    Args:
        images: `(batch, H, W, in)`.
        kernel: `(k, k, in, out)`.

    Returns:
        `(batch, H - k + 1, W - k + 1, out)`, as `ops.conv` gives.
    """
    size, _, channels, filters = kernel.shape
    # (row, column, in, out) -> (1, column, in, row * out)
    rows_kernel = ops.reshape(
        ops.transpose(kernel, (1, 2, 0, 3)),
        (1, size, channels, size * filters),
    )
    rows = ops.conv(images, rows_kernel, strides=1, padding="valid")
    rows = ops.reshape(rows, (*ops.shape(rows)[:3], size, filters))
    height = ops.shape(images)[1] - size + 1
    output = rows[:, :height, :, 0, :]
    for row in range(1, size):
        output = output + rows[:, row : row + height, :, row, :]
    return output


def _splits(layer: keras.layers.Conv2D) -> bool:
    height, width, channels, filters = layer.kernel.shape
    return (
        height == width
        and height > 1
        and tuple(layer.strides) == (1, 1)
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.padding == "valid"
        and layer.data_format == "channels_last"
        and layer.groups == 1
        and backend.rowwise_conv_is_faster(height, channels, filters)
    )


def conv2d(layer: keras.layers.Conv2D, images: Tensor) -> Tensor:
    """`layer(images)`, split into rows where the backend runs that faster.

    Args:
        layer: a built `Conv2D` (any activation).
        images: its input.
    """
    if not layer.built or not _splits(layer):
        return layer(images)
    output = rowwise_conv(images, layer.kernel)
    if layer.use_bias:
        output = output + layer.bias
    return output if layer.activation is None else layer.activation(output)

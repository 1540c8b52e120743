"""The transform network's convolutions, as each backend runs them fastest.

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

__all__ = ["conv2d", "rowwise_conv", "upsampled_conv"]


def rowwise_conv(
    images: Tensor, kernel: Tensor, shape: tuple[int, ...] | None = None
) -> Tensor:
    """A stride-1 `"valid"` convolution of NHWC `images`, row by row.

    Args:
        images: `(batch, H, W, in)`.
        kernel: `(k, k, in, out)`.
        shape: the kernel's shape as Python ints, where its own may be
            symbolic (a traced export); `None` reads it from `kernel`.

    Returns:
        `(batch, H - k + 1, W - k + 1, out)`, as `ops.conv` gives.
    """
    size, _, channels, filters = shape or tuple(kernel.shape)
    # (row, column, in, out) -> (1, column, in, row * out)
    rows_kernel = ops.reshape(
        ops.transpose(kernel, (1, 2, 0, 3)),
        (1, size, channels, size * filters),
    )
    rows = backend.conv(images, rows_kernel)
    rows = ops.reshape(rows, (*ops.shape(rows)[:3], size, filters))
    height = ops.shape(images)[1] - size + 1
    output = rows[:, :height, :, 0, :]
    for row in range(1, size):
        output = output + rows[:, row : row + height, :, row, :]
    return output


def _plain(layer: keras.layers.Conv2D) -> bool:
    """Whether `backend.conv` computes the built `layer`'s convolution."""
    return (
        layer.built
        and layer.padding == "valid"
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.data_format == "channels_last"
        and layer.groups == 1
    )


def conv2d(layer: keras.layers.Conv2D, images: Tensor) -> Tensor:
    """`layer(images)`, as each backend runs it fastest.

    Through `keras_nst.backend.conv` (no layout copies on PyTorch), and
    split into rows where the backend runs that faster.

    Args:
        layer: a `Conv2D` (any activation); an unbuilt one is called as
            it is, which builds it.
        images: its input.
    """
    if not _plain(layer):
        return layer(images)
    output = _convolve(
        images,
        ops.convert_to_tensor(layer.kernel),
        tuple(layer.kernel.shape),
        tuple(layer.strides),
    )
    if layer.use_bias:
        output = output + layer.bias
    return output if layer.activation is None else layer.activation(output)


def _fold(kernel: Tensor, phase: int, axis: int) -> Tensor:
    """A 3-tap kernel axis seen from one phase of a 2x nearest upsampling.

    Output pixel `2i + phase` reads upsampled pixels `2i + phase - 1 ..
    2i + phase + 1`, which are small-map pixels `i - 1, i, i` (phase 0) or
    `i, i, i + 1` (phase 1): two taps, the repeated one's weights summed.
    """
    taps = [
        kernel[t : t + 1] if axis == 0 else kernel[:, t : t + 1]
        for t in range(3)
    ]
    if phase == 0:
        return ops.concatenate([taps[0], taps[1] + taps[2]], axis=axis)
    return ops.concatenate([taps[0] + taps[1], taps[2]], axis=axis)


def _edge_pad(images: Tensor) -> Tensor:
    """Repeats the border row and column of NHWC `images` once, each side."""
    x = ops.concatenate([images[:, :1], images, images[:, -1:]], axis=1)
    return ops.concatenate([x[:, :, :1], x, x[:, :, -1:]], axis=2)


def upsampled_conv(layer: keras.layers.Conv2D, images: Tensor) -> Tensor:
    """`layer` on `images` upsampled 2x (nearest) and mirrored by 1 pixel.

    The same output as `UpSampling2D(2)`, `ReflectionPadding2D(1)` and the
    3x3 `layer` in turn, computed on the small map: each of the four
    output phases is a 2x2 convolution of the edge-padded input (the
    mirror of an upsampled border is the repeated small-map border), so
    the work is 4 x 4 instead of 4 x 9 multiply-adds per input pixel and
    channel pair (the sub-pixel view of Shi et al. 2016, "Real-Time Single
    Image and Video Super-Resolution Using an Efficient Sub-Pixel
    Convolutional Neural Network").

    Args:
        layer: a built, stride-1, 3x3 `"valid"` `Conv2D`.
        images: `(batch, H, W, in)`.

    Returns:
        `(batch, 2H, 2W, out)`.
    """
    padded = _edge_pad(images)
    folded = (2, 2, *layer.kernel.shape[2:])
    shape = ops.shape(images)
    height, width = shape[1], shape[2]
    rows = []
    for row_phase in (0, 1):
        kernel = _fold(ops.convert_to_tensor(layer.kernel), row_phase, 0)
        phases = []
        for column_phase in (0, 1):
            # Static bounds, so a symbolic size (an export) slices too.
            part = padded[
                :,
                row_phase : row_phase - 1 or None,
                column_phase : column_phase - 1 or None,
            ]
            phases.append(
                _convolve(part, _fold(kernel, column_phase, 1), folded)
            )
        rows.append(ops.stack(phases, axis=3))  # (batch, H, W, 2, out)
    output = ops.stack(rows, axis=2)  # (batch, H, 2, W, 2, out)
    output = ops.reshape(output, (-1, 2 * height, 2 * width, layer.filters))
    if layer.use_bias:
        output = output + layer.bias
    return output if layer.activation is None else layer.activation(output)


def _convolve(images, kernel, shape, strides=(1, 1)) -> Tensor:
    # `shape` is the kernel's, as Python ints: a traced kernel's (an
    # export) may be symbolic.
    size, width, channels, filters = shape
    if (
        size == width > 1
        and strides == (1, 1)
        and backend.rowwise_conv_is_faster(size, channels, filters)
    ):
        return rowwise_conv(images, kernel, shape)
    return backend.conv(images, kernel, strides)

"""The border padding VGG19's convolutions can take instead of zeros.

VGG19's 3x3 convolutions pad their input with a ring of zeros. A border
pixel then meets fewer real neighbours than an interior one, so it moves
the features (and the style loss) less, and style transfer paints bright,
washed-out patches along the borders. `BorderPadding2D` pads by
mirroring or copying the border instead; `keras_nst.vgg19` puts one
before each convolution, which then pads nothing (`padding="valid"`).
"""

from typing import Any

import keras
from keras import ops

from keras_nst.settings import check_choice
from keras_nst.types import Tensor

__all__ = [
    "BORDER_MODES",
    "BorderPadding2D",
    "pad_border",
]

BORDER_MODES = ("reflect", "replicate")
"""`reflect` mirrors the border without repeating its pixels (as
`numpy.pad(mode="reflect")`); `replicate` repeats the border pixels (as
`numpy.pad(mode="edge")`)."""

_DATA_FORMATS = ("channels_last", "channels_first")


def pad_border(x: Tensor, mode: str, axes: tuple[int, ...]) -> Tensor:
    """Pads one pixel on both sides of each of `axes` of `x`.

    Differentiable, on any side from 1 pixel up: a 1-pixel side has
    nothing to mirror, so `"reflect"` repeats it, as NumPy does.

    `ops.pad` where it can: for one pixel, its `"symmetric"` mode is
    `"edge"` (which `ops.pad` lacks on TensorFlow and PyTorch), and its
    `"reflect"` mode takes sides of 2 pixels or more. A 1-pixel or
    unknown (symbolic) side to mirror is padded with slices instead,
    which are slower: padded so, a reflect-padded VGG19 took 1.5-2x the
    time of the zero-padded one on PyTorch, with `ops.pad` 1.1x.

    Args:
        x: a tensor.
        mode: one of `BORDER_MODES`.
        axes: the (non-negative) axes to pad.

    Returns:
        `x` with each of `axes` 2 longer.
    """
    check_choice("mode", mode, BORDER_MODES)
    sides = [x.shape[axis] for axis in axes]
    if mode == "replicate" or all(s is not None and s > 1 for s in sides):
        widths = [(1, 1) if a in axes else (0, 0) for a in range(len(x.shape))]
        native = "reflect" if mode == "reflect" else "symmetric"
        return ops.pad(x, widths, mode=native)
    for axis in axes:
        x = _reflect_axis(x, axis)
    return x


def _reflect_axis(x, axis):
    def part(tensor, start, stop):
        return tensor[(slice(None),) * axis + (slice(start, stop),)]

    # The second and the second-to-last pixel, or, where there is no
    # second, the only one: `[x0, x1, x0][1]` and `[x0, x0][1]`.
    first = part(ops.concatenate([part(x, 0, 2), part(x, 0, 1)], axis), 1, 2)
    last = part(
        ops.concatenate([part(x, -1, None), part(x, -2, None)], axis), -2, -1
    )
    return ops.concatenate([first, x, last], axis=axis)


@keras.saving.register_keras_serializable(package="keras_nst")
class BorderPadding2D(keras.layers.Layer):
    """Pads height and width by one pixel, mirroring or copying the border.

    The padding a 3x3 convolution with `padding="valid"` needs to keep
    the image size, without the zeros of `padding="same"`.

    Args:
        mode: `"reflect"` (as `numpy.pad(mode="reflect")`) or
            `"replicate"` (as `numpy.pad(mode="edge")`).
        data_format: `"channels_last"` (`(batch, H, W, C)`) or
            `"channels_first"` (`(batch, C, H, W)`); `None` is Keras'
            `image_data_format()`.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).
    """

    def __init__(
        self, mode: str, data_format: str | None = None, **kwargs: Any
    ):
        super().__init__(**kwargs)
        check_choice("mode", mode, BORDER_MODES)
        if data_format is None:
            data_format = keras.config.image_data_format()
        check_choice("data_format", data_format, _DATA_FORMATS)
        self.mode = mode
        self.data_format = data_format

    @property
    def _spatial_axes(self) -> tuple[int, int]:
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    def call(self, inputs):
        return pad_border(inputs, self.mode, self._spatial_axes)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis in self._spatial_axes:
            shape[axis] = None if shape[axis] is None else shape[axis] + 2
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "mode": self.mode,
            "data_format": self.data_format,
        }

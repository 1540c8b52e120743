"""The image transformation network of fast style transfer.

Johnson, Alahi & Fei-Fei (2016), "Perceptual Losses for Real-Time Style
Transfer and Super-Resolution", supplementary Table 1: three convolutions
(9x9 stride 1, 3x3 stride 2, 3x3 stride 2), five residual blocks, two
upsampling convolutions and a 9x9 output convolution. Two changes that
the later literature settled on:

- instance normalisation instead of batch normalisation (Ulyanov, Vedaldi
  & Lempitsky 2016, "Instance Normalization: The Missing Ingredient for
  Fast Stylization"), here `keras.layers.GroupNormalization(groups=-1)`;
- nearest-neighbour upsampling followed by a convolution instead of a
  strided transposed convolution, which avoids checkerboard artefacts
  (Odena, Dumoulin & Olah 2016, "Deconvolution and Checkerboard
  Artifacts").

Reflection padding keeps the borders free of the dark frame zero padding
leaves. The network is fully convolutional: any image size goes in and the
same size comes out (the input is mirrored out to a multiple of 4, and to
at least 8 pixels, and the output cropped back), down to 1x1.
"""

import os
import zipfile
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_nst import backend
from keras_nst.fast.config import TrainConfig
from keras_nst.fast.convolution import conv2d
from keras_nst.fast.convolution import upsampled_conv
from keras_nst.fast.padding import pad_for_network
from keras_nst.fast.padding import reflect_pad

__all__ = [
    "ReflectionPadding2D",
    "TransformNet",
    "load_transform",
    "reflect_pad",
]

# The package name the saved `.keras` files refer to
# (`registered_name: "keras_nst>TransformNet"`); changing it would stop
# the networks trained so far from loading.
_PACKAGE = "keras_nst"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by mirroring, `(top, bottom, left, right)`.

    Args:
        padding: one number for all four sides, or `(top, bottom, left,
            right)`.
        **kwargs: `keras.layers.Layer` arguments (`name`, ...).
    """

    def __init__(self, padding: int | tuple[int, int, int, int], **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(padding, int):
            padding = (padding,) * 4
        self.padding = tuple(int(p) for p in padding)

    def call(self, images):
        return reflect_pad(images, *self.padding)

    def compute_output_shape(self, input_shape):
        top, bottom, left, right = self.padding
        batch, height, width, channels = input_shape
        return (
            batch,
            None if height is None else height + top + bottom,
            None if width is None else width + left + right,
            channels,
        )

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


class _Seeds:
    """Distinct initialiser seeds, one per convolution, from one seed."""

    def __init__(self, seed: int | None):
        self.seed = seed
        self.count = 0

    def initializer(self) -> str | keras.initializers.Initializer:
        if self.seed is None:
            return "glorot_uniform"
        # Each convolution's seed is a hash of (seed, its index), so the
        # layers' draws are independent of each other and of other seeds.
        state = np.random.SeedSequence([self.seed, self.count])
        self.count += 1
        return keras.initializers.GlorotUniform(
            seed=int(state.generate_state(1)[0] >> 1)
        )


def _conv(seeds, filters, kernel_size, strides=1, name=None):
    return [
        ReflectionPadding2D(kernel_size // 2, name=f"{name}_pad"),
        keras.layers.Conv2D(
            filters,
            kernel_size,
            strides=strides,
            kernel_initializer=seeds.initializer(),
            name=f"{name}_conv",
        ),
    ]


def _norm(name):
    return keras.layers.GroupNormalization(
        groups=-1, epsilon=1e-5, name=f"{name}_norm"
    )


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TransformNet(keras.Model):
    """Maps an RGB image in 0..255 to its stylised version, same size.

    `filters` and `residual_blocks` default to `TrainConfig`'s.

    Args:
        filters: the width of the first convolution; the others are 2x and
            4x it (Johnson et al.: 32).
        residual_blocks: how many residual blocks at the lowest resolution
            (Johnson et al.: 5).
        seed: seeds the initial weights (each convolution its own seed
            drawn from it), so the same seed gives the same network without
            touching Keras' global seed; `None` draws them from Keras'
            global random state.
        **kwargs: `keras.Model` arguments (`name`, ...).

    Example:

    ```python
    net = TransformNet(seed=0)
    net(keras.random.uniform((1, 101, 67, 3), 0, 255)).shape  # (1, 101, 67, 3)
    ```
    """

    def __init__(
        self,
        filters: int = TrainConfig.filters,
        residual_blocks: int = TrainConfig.residual_blocks,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if filters < 1 or residual_blocks < 0:
            raise ValueError(
                "Expected a positive filters and non-negative "
                f"residual_blocks. Received: filters={filters}, "
                f"residual_blocks={residual_blocks}"
            )
        self.filters = filters
        self.residual_blocks = residual_blocks
        self.seed = seed
        seeds = _Seeds(seed)
        f = filters
        self.down = [
            *_conv(seeds, f, 9, name="down1"), _norm("down1"),
            keras.layers.ReLU(),
            *_conv(seeds, 2 * f, 3, strides=2, name="down2"), _norm("down2"),
            keras.layers.ReLU(),
            *_conv(seeds, 4 * f, 3, strides=2, name="down3"), _norm("down3"),
            keras.layers.ReLU(),
        ]  # fmt: skip
        self.blocks = [
            [
                *_conv(seeds, 4 * f, 3, name=f"res{i}_a"),
                _norm(f"res{i}_a"),
                keras.layers.ReLU(),
                *_conv(seeds, 4 * f, 3, name=f"res{i}_b"),
                _norm(f"res{i}_b"),
            ]  # fmt: skip
            for i in range(1, residual_blocks + 1)
        ]
        self.up = [
            keras.layers.UpSampling2D(2, interpolation="nearest"),
            *_conv(seeds, 2 * f, 3, name="up1"), _norm("up1"),
            keras.layers.ReLU(),
            keras.layers.UpSampling2D(2, interpolation="nearest"),
            *_conv(seeds, f, 3, name="up2"), _norm("up2"),
            keras.layers.ReLU(),
            *_conv(seeds, 3, 9, name="out"),
        ]  # fmt: skip
        # Built at once, so a new network can be saved or trained as is.
        self.build()

    def build(self, input_shape=None):
        # Run the layers once on a tiny image so every weight exists (for
        # loading a saved model, too); any input size works afterwards.
        self.call(ops.zeros((1, 8, 8, 3)))
        self.built = True

    def call(self, images):
        shape = ops.shape(images)
        height, width = shape[1], shape[2]
        # Padded to a size the layers take; the output is cropped back.
        x = pad_for_network(images)
        x = x / 127.5 - 1.0
        for layer in self.down:
            x = _apply(layer, x)
        for block in self.blocks:
            y = x
            for layer in block:
                y = _apply(layer, y)
            x = x + y
        x = _upsample(self.up, x)
        x = 255.0 * ops.sigmoid(x)
        return x[:, :height, :width, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "residual_blocks": self.residual_blocks,
            "seed": self.seed,
        }


def _apply(layer, x):
    if isinstance(layer, keras.layers.Conv2D):
        return conv2d(layer, x)
    if isinstance(layer, keras.layers.GroupNormalization) and layer.built:
        return backend.group_norm(layer, x)
    if isinstance(layer, ReflectionPadding2D):
        return backend.reflect_pad(layer, x)
    return layer(x)


def _upsample(layers, x):
    """Runs the upsampling layers, each upsample-pad-conv run as one."""
    index = 0
    while index < len(layers):
        group = layers[index : index + 3]
        if _is_upsampled_conv(group):
            x = upsampled_conv(group[2], x)
            index += 3
        else:
            x = _apply(layers[index], x)
            index += 1
    return x


def _is_upsampled_conv(layers) -> bool:
    if len(layers) < 3:
        return False
    upsample, pad, conv = layers
    return (
        isinstance(upsample, keras.layers.UpSampling2D)
        and tuple(upsample.size) == (2, 2)
        and upsample.interpolation == "nearest"
        and isinstance(pad, ReflectionPadding2D)
        and pad.padding == (1, 1, 1, 1)
        and isinstance(conv, keras.layers.Conv2D)
        # Built: the first call builds the layers the usual way.
        and conv.built
        and tuple(conv.kernel.shape[:2]) == (3, 3)
        and tuple(conv.strides) == (1, 1)
        and conv.padding == "valid"
        and conv.data_format == "channels_last"
    )


def load_transform(path: str | os.PathLike) -> TransformNet:
    """Loads a trained `TransformNet` from a `.keras` file, on any backend.

    Args:
        path: a `.keras` file written by `keras_nst.fast.train`.

    Returns:
        The `TransformNet`, a `keras.Model`: call it on `(batch, H, W, 3)`
        RGB images in 0..255.

    Raises:
        FileNotFoundError: there is no such file.
        IsADirectoryError: `path` is a folder.
        ValueError: the file is not a readable `.keras` file (empty,
            truncated, corrupt, another format) or holds another kind of
            model; the message says which, on one line.

    Example:

    ```python
    network = load_transform("examples/models/starry_night.keras")
    stylised = network(keras.ops.zeros((1, 64, 64, 3)))  # (1, 64, 64, 3)
    ```
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(_cannot_read(path, "it is a folder"))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Model file not found: '{path}'")
    problem = _archive_problem(path)
    if problem:
        raise ValueError(_cannot_read(path, problem))
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:
        # Keras' own messages can mislead ("File not found" for a file
        # that is there) and run over several lines.
        text = str(error).strip()
        reason = text.splitlines()[0] if text else type(error).__name__
        raise ValueError(_cannot_read(path, reason)) from error
    if not isinstance(model, TransformNet):
        raise ValueError(
            _cannot_read(
                path, f"it holds a {type(model).__name__}, not a TransformNet"
            )
        )
    return model


def _cannot_read(path: str, reason: str) -> str:
    return f"Cannot read '{path}' as a keras-nst transform network: {reason}"


def _archive_problem(path: str) -> str | None:
    """What makes `path` no `.keras` archive, or `None` if it may be one."""
    if os.path.getsize(path) == 0:
        return "the file is empty"
    if not zipfile.is_zipfile(path):
        return "it is not a .keras (zip) archive, or it is truncated"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as error:
        return f"a damaged zip archive ({error})"
    if "config.json" not in names:
        return "the archive has no config.json: not a saved Keras model"
    return None

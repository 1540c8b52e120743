"""VGG19's convolutional part, built only as deep as a run needs.

`build_vgg19` makes the same layers as `keras.applications.VGG19(
include_top=False)`, with the same names, up to the deepest layer asked
for, pooling and border padding chosen, and reads their weights from a
VGG19 notop `.h5` file by layer name. Built through
`keras.applications`, all 16 convolutions were first given random
weights, then the unneeded ones cut off and the rest rebuilt: 0.7 s
(TensorFlow) to 0.9 s (JAX, which compiles each initialiser for each
kernel shape) of a run's start-up, against about 0.25 s here.
"""

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_nst.backend import max_pool_as_reduction
from keras_nst.layer_names import KERAS_LAYER_NAMES
from keras_nst.layer_names import VGG19_BLOCK_CHANNELS
from keras_nst.layer_names import layer_block
from keras_nst.vgg_padding import BorderPadding2D

__all__ = [
    "VGG19MaxPooling2D",
    "build_vgg19",
    "read_vgg19_weights",
    "set_max_pool_as_reduction",
]


def build_vgg19(
    layers: Sequence[str],
    pooling: str,
    padding: str,
    weights: str | None,
    dtype_policy: str,
    data_format: str,
) -> keras.Model:
    """VGG19's convolutions up to the deepest of `layers`: a functional model.

    Args:
        layers: Keras layer names (`block4_conv2`); the model outputs a
            dict of their (post-ReLU) feature maps.
        pooling: `"max"` (VGG19's `blockN_pool` layers) or `"avg"`
            (`blockN_avgpool`, the same size and stride).
        padding: `"zero"` (VGG19's own `padding="same"`), or `"reflect"`
            or `"replicate"`: a `BorderPadding2D` (`blockN_convM_<mode>pad`)
            before each convolution, which then pads nothing.
        weights: the path of a VGG19 notop `.h5` file, or `None` for
            Keras' random initialisation (as `keras.applications`').
        dtype_policy: every layer's dtype policy, e.g. `"mixed_bfloat16"`.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        A `keras.Model` named `vgg19_<pooling>pool[_<padding>pad]`.

    Raises:
        ValueError, OSError or KeyError: the file cannot be read, lacks a
            layer, or holds weights of other shapes.
    """
    last = max(KERAS_LAYER_NAMES.index(name) for name in layers)
    conv_names = KERAS_LAYER_NAMES[: last + 1]
    values = (
        None if weights is None else read_vgg19_weights(weights, conv_names)
    )
    channels_first = data_format == "channels_first"
    inputs = keras.Input((3, None, None) if channels_first else (None, None, 3))
    x = inputs
    outputs = {}
    for name in conv_names:
        block = layer_block(name)
        if block > 1 and name.endswith("_conv1"):
            x = _pooling(pooling, block - 1, dtype_policy, data_format)(x)
        if padding != "zero":
            x = BorderPadding2D(
                padding,
                data_format=data_format,
                dtype=dtype_policy,
                name=f"{name}_{padding}pad",
            )(x)
        conv = keras.layers.Conv2D(
            VGG19_BLOCK_CHANNELS[block - 1],
            (3, 3),
            activation="relu",
            padding="same" if padding == "zero" else "valid",
            data_format=data_format,
            dtype=dtype_policy,
            name=name,
            **({} if values is None else _initializers(values[name], name)),
        )
        x = conv(x)
        if name in layers:
            outputs[name] = x
    name = f"vgg19_{pooling}pool"
    if padding != "zero":
        name += f"_{padding}pad"
    network = keras.Model(inputs, outputs, name=name)
    network.dtype_policy = dtype_policy
    return network


def _initializers(values: list[np.ndarray], name: str) -> dict:
    if len(values) != 2:
        raise ValueError(
            f"Expected a kernel and a bias for {name}, found {len(values)} "
            "arrays."
        )
    kernel, bias = (_Loaded(value, name) for value in values)
    return {"kernel_initializer": kernel, "bias_initializer": bias}


class _Loaded(keras.initializers.Initializer):
    """The file's array itself.

    Neither a random nor a zero initialisation that the file's values
    would overwrite: on JAX each of those is compiled for each shape.
    """

    def __init__(self, value: np.ndarray, name: str):
        self.value = value
        self.name = name

    def __call__(self, shape, dtype=None):
        if tuple(shape) != self.value.shape:
            raise ValueError(
                f"{self.name} has weights of shape {self.value.shape} in the "
                f"file; VGG19's are {tuple(shape)}."
            )
        return self.value.astype(dtype or "float32")


def _pooling(pooling: str, block: int, dtype_policy: str, data_format: str):
    settings = {"data_format": data_format, "dtype": dtype_policy}
    if pooling == "avg":
        return keras.layers.AveragePooling2D(
            (2, 2), strides=(2, 2), name=f"block{block}_avgpool", **settings
        )
    return VGG19MaxPooling2D(
        as_reduction=max_pool_as_reduction(xla=False),
        name=f"block{block}_pool",
        **settings,
    )


def set_max_pool_as_reduction(network: keras.Model, as_reduction: bool) -> None:
    """Sets how each of `network`'s `VGG19MaxPooling2D` layers computes.

    Read when a step is traced: a function traced before keeps its form.
    """
    for layer in network.layers:
        if isinstance(layer, VGG19MaxPooling2D):
            layer.as_reduction = as_reduction


@keras.saving.register_keras_serializable(package="keras_nst")
class VGG19MaxPooling2D(keras.layers.MaxPooling2D):
    """`MaxPooling2D((2, 2))`, or the same as a max over a reshaped tensor.

    With `as_reduction`, the output is the same as 2x2 max pooling with
    stride 2 (an odd last row or column dropped), for sides of 2 pixels
    or more, and the gradient elementwise, shared among equal maxima
    where `MaxPooling2D`'s goes to one of them. XLA computes
    `MaxPooling2D`'s gradient as a select-and-scatter: 108 against 8 ms
    a JAX step for VGG19's four poolings at 256 px, and 60 against 15 ms
    in TensorFlow's XLA-compiled step. Outside XLA, TensorFlow's and
    PyTorch's own gradients are the faster (13 against 79 ms, 55 against
    83 ms). The backend chooses (`keras_nst.backend.max_pool_as_reduction`);
    `as_reduction` is read when the layer is traced, so a model that
    compiles its step with XLA sets it before (`set_max_pool_as_reduction`).

    Args:
        as_reduction: compute as a max over a reshaped tensor.
        **kwargs: `keras.layers.MaxPooling2D` arguments (`data_format`,
            `name`, `dtype`, ...); the pool and strides are 2x2.
    """

    def __init__(self, as_reduction: bool = False, **kwargs: Any):
        kwargs.update(pool_size=(2, 2), strides=(2, 2), padding="valid")
        super().__init__(**kwargs)
        self.as_reduction = bool(as_reduction)

    def call(self, inputs):
        if not self.as_reduction:
            return super().call(inputs)
        channels_first = self.data_format == "channels_first"
        if channels_first:
            inputs = ops.transpose(inputs, (0, 2, 3, 1))
        batch, height, width, channels = ops.shape(inputs)
        height, width = height // 2, width // 2
        x = inputs[:, : 2 * height, : 2 * width]
        x = ops.reshape(x, (batch, height, 2, width, 2, channels))
        x = ops.max(x, axis=(2, 4))
        return ops.transpose(x, (0, 3, 1, 2)) if channels_first else x

    def get_config(self):
        return {**super().get_config(), "as_reduction": self.as_reduction}


def read_vgg19_weights(
    path: str, layers: Sequence[str]
) -> dict[str, list[np.ndarray]]:
    """The kernel and bias of each of `layers` from a VGG19 notop `.h5` file.

    The file `keras.applications` downloads (and `keras-nst weights
    fetch` saves) is read by layer name. Any other file Keras' own VGG19
    can load (e.g. a Keras 3 `.weights.h5` of one) goes through
    `keras.applications.VGG19`, which is slower.

    Args:
        path: the file.
        layers: Keras layer names.

    Returns:
        `{name: [kernel, bias]}`, kernels `(3, 3, in, out)`.

    Raises:
        ValueError, OSError or KeyError: the file cannot be read or lacks
            one of the layers.
    """
    import h5py

    with h5py.File(path, "r") as file:
        if "layer_names" in file.attrs:
            return {
                name: [
                    np.asarray(file[name][weight])
                    for weight in file[name].attrs["weight_names"]
                ]
                for name in layers
            }
    vgg = keras.applications.VGG19(
        include_top=False, weights=path, input_shape=(None, None, 3)
    )
    return {name: vgg.get_layer(name).get_weights() for name in layers}

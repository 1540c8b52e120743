"""VGG19 feature extraction and the VGG ("caffe") pre- and de-processing."""

from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Sequence
from typing import Any
from typing import Protocol

import keras
from keras import ops

from keras_nst.backend import FEATURE_DATA_FORMAT
from keras_nst.backend import features_map
from keras_nst.backend import max_pool_as_reduction
from keras_nst.backend import prepare_network
from keras_nst.choices import PADDINGS
from keras_nst.choices import POOLING_MODES
from keras_nst.choices import PRECISIONS
from keras_nst.config import Config
from keras_nst.errors import WeightsError
from keras_nst.hardware import warn_if_bf16_is_slow
from keras_nst.layer_names import KERAS_LAYER_NAMES
from keras_nst.layer_names import canonical_layer_name
from keras_nst.layer_names import layer_block
from keras_nst.settings import check_choice
from keras_nst.types import Tensor
from keras_nst.vgg19 import build_vgg19
from keras_nst.vgg19 import set_max_pool_as_reduction
from keras_nst.weights import resolve_weights

__all__ = [
    "ExtractorSettings",
    "VGG19Features",
    "build_extractor",
    "canonical_layer_name",
    "check_image_size",
    "deprocess",
    "min_image_side",
    "preprocess",
]


# ImageNet channel means in BGR order, as `keras.applications.vgg19`'s
# `preprocess_input(mode="caffe")` subtracts them.
VGG_MEAN_BGR = (103.939, 116.779, 123.68)


def preprocess(images: Tensor) -> Tensor:
    """RGB images in 0..255 to VGG19's input: BGR minus the ImageNet mean.

    The same arithmetic as `keras.applications.vgg19.preprocess_input`, in
    `keras.ops` so that gradients flow through it on every backend.

    Args:
        images: `(batch, height, width, 3)` RGB tensor, values in 0..255.

    Returns:
        A tensor of the same shape in VGG19's input space.
    """
    mean = ops.convert_to_tensor(VGG_MEAN_BGR, dtype=images.dtype)
    return ops.flip(images, axis=-1) - mean


def deprocess(images: Tensor) -> Tensor:
    """The inverse of `preprocess`: VGG19 input space back to RGB 0..255."""
    mean = ops.convert_to_tensor(VGG_MEAN_BGR, dtype=images.dtype)
    return ops.flip(images + mean, axis=-1)


class VGG19Features(keras.Model):
    """VGG19 feature maps at chosen layers, for RGB images in 0..255.

    The layers of `keras.applications.VGG19(include_top=False)`, built up
    to the deepest requested one (`keras_nst.vgg19.build_vgg19`), so any
    image size works and no unneeded layer runs. With `pooling="avg"`
    every max pooling is replaced by an `AveragePooling2D` of the same
    size and stride; the convolution weights are unchanged (Gatys et al.
    (2016), section 2: "replacing the maximum pooling operation by average
    pooling yields slightly more appealing results"; with the optimisation
    here it also paints a fine mesh in flat regions, so the default keeps
    max pooling).

    With `padding="reflect"` or `"replicate"` each convolution's ring of
    zeros (`padding="same"`) becomes a `BorderPadding2D` of one pixel,
    mirrored or copied from the border, before the same convolution with
    `padding="valid"` and the same weights: the feature maps keep their
    sizes. Zeros make a border pixel meet fewer real neighbours, so it
    moves the features, and the style loss, less than an interior pixel
    (the outer 2 pixels' gradient at block2 is about half the interior's),
    and style transfer paints bright, washed-out patches along the
    borders. A copied border (`"replicate"`) gives a border pixel about
    an interior one's share; a mirrored one about 0.8 of it, the outermost
    pixel, which no mirror repeats, still getting less. The ImageNet
    weights were trained with zeros, so the features near the border
    change a little; away from it they are the same.

    Args:
        layers: layer names, Keras style (`block4_conv2`) or paper style
            (`conv4_2`, `relu4_2`).
        pooling: `"max"` or `"avg"`.
        weights: `"imagenet"`, the path of a VGG19 notop `.h5` file, or
            `None` for random weights.
        precision: `"fp32"`, or `"bf16"` for Keras' `mixed_bfloat16`
            policy (float32 weights, bfloat16 arithmetic); the features
            come out as float32 either way, so losses built on them
            accumulate in float32.
        padding: `"zero"` (VGG19's own), `"reflect"` (mirror the border
            without repeating it, as `numpy.pad(mode="reflect")`) or
            `"replicate"` (repeat the border pixels, as
            `numpy.pad(mode="edge")`).
        **kwargs: `keras.Model` arguments (`name`, ...).

    Example:

    ```python
    extractor = VGG19Features(["conv4_2", "conv1_1"], weights=None)
    features = extractor(keras.random.uniform((1, 64, 64, 3), 0, 255))
    features["block4_conv2"].shape  # (1, 8, 8, 512)
    ```
    """

    def __init__(
        self,
        layers: Sequence[str],
        pooling: str = Config.pooling,
        weights: str | None = Config.weights,
        precision: str = Config.precision,
        padding: str = Config.padding,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        check_choice("pooling", pooling, POOLING_MODES)
        check_choice("precision", precision, PRECISIONS)
        check_choice("padding", padding, PADDINGS)
        if precision == "bf16":
            warn_if_bf16_is_slow()
        self.precision = precision
        names = tuple(dict.fromkeys(canonical_layer_name(n) for n in layers))
        if not names:
            raise ValueError("Expected at least one layer name.")
        self.layer_names = names
        self.pooling = pooling
        self.padding = padding
        path = resolve_weights(weights)
        self.data_format = FEATURE_DATA_FORMAT
        policy = "mixed_bfloat16" if precision == "bf16" else "float32"
        try:
            self.network = build_vgg19(
                names, pooling, padding, path, policy, self.data_format
            )
        except (ValueError, OSError, KeyError) as error:
            reason = str(error).splitlines()[0] if str(error) else repr(error)
            raise WeightsError(
                f"Cannot load VGG19 notop weights from '{path}': {reason}"
            ) from error
        self.network.trainable = False
        prepare_network(self.network)
        # One compiled call per `features` function, made on first use.
        self._compiled_features = {}
        # Its variables are the network's, all made: stateless_call (the
        # tiled step on JAX) may run before any call.
        self.built = True

    def features(
        self,
        images: Tensor,
        fn: Callable[[dict[str, Tensor], Any, Hashable], Any] | None = None,
        static: Hashable = None,
    ):
        """`self(images)`, or `fn(self(images), None, static)`, compiled.

        Compiled once per image shape, `fn` and `static` where that helps
        (JAX); TensorFlow and PyTorch call the network as it is. For
        one-off calls such as the content and style targets: op by op,
        JAX compiles each of VGG19's operations, and each of `fn`'s (e.g.
        the Gram matrices), for every new shape, seconds before a run's
        first step (`scripts/startup.py`).

        Args:
            images: `(batch, height, width, 3)` RGB in 0..255.
            fn: a module-level function (compiled once per function) of
                the features by layer name, `None` and `static`; `None`
                returns the features.
            static: a hashable argument for `fn`, e.g. layer names.
        """
        fn = fn or _all_features
        if fn not in self._compiled_features:
            self._compiled_features[fn] = features_map(self, fn)
        return self._compiled_features[fn](images, None, static)

    def set_xla(self, xla: bool) -> None:
        """Says whether XLA compiles the steps that call this next.

        VGG19 then max-pools in the form the backend runs faster there
        (`keras_nst.backend.max_pool_as_reduction`); a step traced before
        keeps its form. `StyleTransferModel.compile` calls it.
        """
        set_max_pool_as_reduction(self.network, max_pool_as_reduction(xla))

    def check_image_shape(self, shape, name: str = "image") -> None:
        """Raises `ValueError` if an image is too small for the layers."""
        check_image_size(shape, self.layer_names, name)

    def call(self, images):
        x = preprocess(images)
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 3, 1, 2))
        features = self.network(x)
        if self.data_format == "channels_first":
            features = {
                k: ops.transpose(v, (0, 2, 3, 1)) for k, v in features.items()
            }
        if self.precision == "fp32":
            return features
        return {k: ops.cast(v, "float32") for k, v in features.items()}


def _all_features(features, args, static):
    return features


class ExtractorSettings(Protocol):
    """What `build_extractor` reads: any object with these attributes.

    `keras_nst.config.Config` has them, and so does the fast method's
    training config.
    """

    content_layers: Sequence[str]
    style_layers: Sequence[str]
    pooling: str
    weights: str | None
    precision: str
    padding: str


def build_extractor(config: ExtractorSettings) -> VGG19Features:
    """Builds the `VGG19Features` a run's settings need.

    Its content and style layers, pooling, weights, precision and padding.
    Build it once to share it between runs (`keras_nst.optimize(...,
    extractor=...)`).

    Args:
        config: any object with `content_layers`, `style_layers`,
            `pooling`, `weights`, `precision` and `padding` attributes
            (`ExtractorSettings`), such as a
            resolved `keras_nst.config.Config` or the fast method's
            training config.

    Returns:
        A `VGG19Features`.
    """
    return VGG19Features(
        (*config.content_layers, *config.style_layers),
        pooling=config.pooling,
        weights=config.weights,
        precision=config.precision,
        padding=config.padding,
    )


def min_image_side(layers: Sequence[str]) -> int:
    """The shortest image side VGG19 can take to reach every one of `layers`.

    Each pooling before the deepest layer halves (floor) the grid, and the
    deepest layer needs at least one position: `2 ** (block - 1)` for a
    deepest layer in block `block`.

    Args:
        layers: VGG19 layer names, Keras or paper style.

    Returns:
        The least number of pixels on an image's shorter side.
    """
    deepest = max(
        KERAS_LAYER_NAMES.index(canonical_layer_name(n)) for n in layers
    )
    return 2 ** (layer_block(KERAS_LAYER_NAMES[deepest]) - 1)


def check_image_size(
    shape: Sequence[int], layers: Sequence[str], name: str = "image"
) -> None:
    """Raises `ValueError` if an image is too small for the layers.

    Args:
        shape: the image's shape, `(..., height, width, 3)`.
        layers: the VGG19 layers the image goes through.
        name: what to call the image in the message.
    """
    height, width = shape[-3], shape[-2]
    side = min_image_side(layers)
    if min(height, width) < side:
        names = dict.fromkeys(canonical_layer_name(n) for n in layers)
        raise ValueError(
            f"The {name} is {width}x{height} pixels; the layers "
            f"{', '.join(names)} need at least {side} pixels on the shorter "
            "side. Use a larger size or shallower layers."
        )

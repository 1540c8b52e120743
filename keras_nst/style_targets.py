"""The style term's targets and per-layer loss, for either style loss.

`style_loss="gram"` matches Gram matrices (`keras_nst.losses`);
`style_loss="w2"` the Gaussians of the features, their means and
covariances (`keras_nst.wasserstein`). Both blend several style images
here, and both can be normalised to a relative error with `target_scale`.
"""

from collections.abc import Mapping
from collections.abc import Sequence

import keras
from keras import ops

from keras_nst.choices import STYLE_LOSSES
from keras_nst.losses import gram_matrix
from keras_nst.losses import layer_style_loss
from keras_nst.losses import target_gram_scale
from keras_nst.settings import check_choice
from keras_nst.tile_features import image_moments
from keras_nst.tiling import is_tiled
from keras_nst.types import Tensor
from keras_nst.wasserstein import WassersteinTarget
from keras_nst.wasserstein import blend_moments
from keras_nst.wasserstein import feature_moments
from keras_nst.wasserstein import layer_wasserstein_loss
from keras_nst.wasserstein import moments_wasserstein_loss
from keras_nst.wasserstein import target_wasserstein_scale
from keras_nst.wasserstein import wasserstein_target

__all__ = [
    "StyleTarget",
    "blended_targets",
    "layer_loss",
    "moments_loss",
    "target_scale",
    "target_variables",
]

StyleTarget = Tensor | WassersteinTarget
"""A style layer's target: a Gram matrix, or a `WassersteinTarget`."""


def blended_targets(
    extractor: keras.Model,
    styles: Sequence[Tensor],
    blend_weights: Sequence[float],
    layers: Sequence[str],
    style_loss: str,
    tile_size: int = 0,
) -> dict[str, StyleTarget]:
    """Each style layer's target, from one or several style images.

    Several styles blend as the weighted sum of their Gram matrices (as
    jcjohnson/neural-style's `-style_blend_weights`), or, for `w2`, as the
    moments of the mixture of their feature distributions.

    Args:
        extractor: a `VGG19Features` with the layers.
        styles: `(1, H, W, 3)` style images in 0..255.
        blend_weights: one weight per style, summing to 1.
        layers: the style layers.
        style_loss: `"gram"` or `"w2"`.
        tile_size: a style image larger than this is seen one tile at a
            time (`keras_nst.tile_features.image_moments`); 0: whole.

    Returns:
        The targets by layer name.
    """
    check_choice("style_loss", style_loss, STYLE_LOSSES)
    statistics = [
        _statistics(extractor, image, layers, style_loss, tile_size)
        for image in styles
    ]
    if style_loss == "gram":
        if list(blend_weights) == [1.0]:
            return statistics[0]  # op by op, 1 * x + 0 is compiled on JAX
        return {
            name: sum(
                weight * s[name]
                for weight, s in zip(blend_weights, statistics, strict=True)
            )
            for name in layers
        }
    return {
        name: wasserstein_target(
            *blend_moments([s[name] for s in statistics], blend_weights)
        )
        for name in layers
    }


def _statistics(extractor, image, layers, style_loss, tile_size):
    """Each layer's Gram matrix, or `(mean, cov)` for w2, of one image."""
    if is_tiled(ops.shape(image), tile_size):
        moments = image_moments(extractor, image, layers, tile_size)
        if style_loss == "gram":
            return {
                name: ops.convert_to_tensor(m.gram[None], "float32")
                for name, m in moments.items()
            }
        return {
            name: (
                ops.convert_to_tensor(m.mean[None], "float32"),
                ops.convert_to_tensor(m.cov[None], "float32"),
            )
            for name, m in moments.items()
        }
    # In the features' compiled call: op by op, JAX would compile each
    # statistic's operations for each layer's shape.
    statistics = extractor.features(
        image, _layer_statistics, (style_loss, *layers)
    )
    return {name: statistics[name] for name in layers}  # JAX sorts keys


def _layer_statistics(features, args, static):
    style_loss, *layers = static
    statistic = gram_matrix if style_loss == "gram" else feature_moments
    return {name: statistic(features[name]) for name in layers}


def target_variables(
    targets: Mapping[str, StyleTarget],
) -> dict[str, StyleTarget]:
    """The targets held in non-trainable `keras.Variable`s, by layer."""

    def variable(value, name):
        return keras.Variable(value, trainable=False, name=name)

    held = {}
    for name, target in targets.items():
        if isinstance(target, WassersteinTarget):
            held[name] = WassersteinTarget(
                *(
                    variable(value, f"{field}_{name}")
                    for field, value in zip(target._fields, target, strict=True)
                )
            )
        else:
            held[name] = variable(target, f"A_{name}")
    return held


def target_scale(target: StyleTarget) -> float:
    """`1 /` the layer's loss at all-zero features, for relative errors."""
    if isinstance(target, WassersteinTarget):
        return target_wasserstein_scale(target)
    return target_gram_scale(target)


def layer_loss(features: Tensor, target: StyleTarget) -> Tensor:
    """One style layer's loss `E_l`: Gatys et al.'s, or the `W2^2` distance."""
    if isinstance(target, WassersteinTarget):
        return layer_wasserstein_loss(features, target)
    return layer_style_loss(gram_matrix(features), target)


def moments_loss(mean: Tensor, cov: Tensor, target: StyleTarget) -> Tensor:
    """`layer_loss` from the features' mean `(1, C)` and covariance.

    For the tiled step, which gathers the moments of the whole image one
    region at a time: the Gram matrix is `cov + mean mean^T`.
    """
    if isinstance(target, WassersteinTarget):
        return moments_wasserstein_loss(mean, cov, target)
    gram = cov + mean[:, :, None] * mean[:, None, :]
    return layer_style_loss(gram, target)

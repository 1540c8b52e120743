"""The tiled step: the untiled losses and gradient, one region at a time.

Only VGG19's activations are tiled; the image, its gradient and the
optimiser's state stay whole, so every optimiser works unchanged. A step
is two passes over the tiles (`keras_nst.tiling`):

1. Without gradients, each tile's own features give the content loss's
   share and the feature moments (mean and covariance) of every style
   layer; merged, they are the whole image's (`keras_nst.tile_features`).
   The style loss is a function of them alone, so its value is exact, and
   its derivatives with respect to them are taken once, on `C x C`
   matrices.
2. With gradients, each tile's region runs forward and backward through a
   loss whose derivative with respect to each owned feature `f` is the
   whole loss's: the content term on the owned features, and
   `(g1 . f + f^T G2 f) / M` per style layer, with `g1`, `G2` the
   derivatives of the layer's loss with respect to the mean and the second
   moment `E[f f^T]` held as constants. Summed over the tiles, the
   gradients of the regions are the whole image's gradient: every feature
   is owned by one tile and computed there from exactly the pixels it sees
   in the whole image.

The total variation is taken over the whole image, every pair of
neighbours across the tiles' borders included, in bands of rows so that
it makes no image-sized temporaries.
"""

from collections.abc import Callable
from collections.abc import Mapping

import numpy as np
from keras import ops

from keras_nst.backend import features_gradient
from keras_nst.backend import features_map
from keras_nst.backend import value_and_gradients
from keras_nst.config import Config
from keras_nst.losses import content_layers_loss
from keras_nst.losses import total_variation_loss
from keras_nst.style_targets import StyleTarget
from keras_nst.style_targets import moments_loss
from keras_nst.tile_features import Moments
from keras_nst.tile_features import centred_moments
from keras_nst.tile_features import merge_moments
from keras_nst.tile_features import owned_features
from keras_nst.tile_features import owned_slice
from keras_nst.tile_features import tile_regions
from keras_nst.tiling import tile_grid
from keras_nst.types import Tensor

__all__ = ["TiledObjective"]


class TiledObjective:
    """A `StyleTransferModel`'s losses and gradient, tile by tile.

    Args:
        extractor: the model's `VGG19Features`.
        config: the run's `Config` (forms of the content loss and TV).
        tile_size: the cores' side in pixels.
        content_targets: the content image's features by layer.
        style_targets: the style targets by layer.
        content_layer_weights: `w_l` of the content layers.
        style_loss_weights: the style layers' weights (normalised ones
            included).
        loss_weights: `{"content": alpha, "style": beta, "tv": gamma}`.
    """

    def __init__(
        self,
        extractor: Callable[[Tensor], dict[str, Tensor]],
        config: Config,
        tile_size: int,
        content_targets: Mapping[str, Tensor],
        style_targets: Mapping[str, StyleTarget],
        content_layer_weights: Mapping[str, float],
        style_loss_weights: Mapping[str, float],
        loss_weights: Mapping[str, float],
    ):
        self.config = config
        self.tile_size = tile_size
        self.content_targets = content_targets
        self.style_targets = style_targets
        self.content_layer_weights = dict(content_layer_weights)
        self.style_loss_weights = dict(style_loss_weights)
        self.loss_weights = dict(loss_weights)
        self.layers = (*self.content_layer_weights, *self.style_loss_weights)
        # A tile's content term is its share: a mean is over the whole
        # map's values.
        self._content_sizes = {
            name: int(np.prod(ops.shape(content_targets[name])))
            for name in self.content_layer_weights
        }
        self._statistics_of = features_map(extractor, self._tile_statistics)
        self._gradient_of = features_gradient(extractor, self._tile_loss)

    def tiles(self, image: Tensor):
        """The image's `(height, width)` and its tiles."""
        height, width = ops.shape(image)[1], ops.shape(image)[2]
        return (height, width), tile_grid(
            height, width, self.tile_size, self.layers
        )

    def _targets(self, tile, shape) -> dict[str, Tensor]:
        """The content features the tile owns."""
        targets = {}
        for name in self.content_layer_weights:
            rows, cols = owned_slice(name, tile, shape)
            target = ops.convert_to_tensor(self.content_targets[name])
            targets[name] = ops.slice(
                target,
                (0, rows.start, cols.start, 0),
                (1, rows.stop - rows.start, cols.stop - cols.start,
                 ops.shape(target)[-1]),
            )  # fmt: skip
        return targets

    def _content(self, owned, targets) -> Tensor:
        return content_layers_loss(
            owned,
            targets,
            self.content_layer_weights,
            self.config.content_loss_form,
            sizes=self._content_sizes,
        )

    def _tile_statistics(self, features, targets, local):
        owned = owned_features(features, local)
        moments = {
            name: centred_moments(owned[name])
            for name in self.style_loss_weights
        }
        return self._content(owned, targets), moments

    def _tile_loss(self, features, args, local):
        # Its derivative by each owned feature is the whole loss's.
        targets, constants = args
        owned = owned_features(features, local)
        total = self.loss_weights["content"] * self._content(owned, targets)
        for name, (by_mean, by_second) in constants.items():
            flat = ops.reshape(owned[name], (-1, ops.shape(owned[name])[-1]))
            term = ops.sum(ops.matmul(flat, by_mean)) + ops.sum(
                ops.matmul(flat, by_second) * flat
            )
            total = total + self.loss_weights["style"] * term
        return total

    def _statistics(self, image: Tensor, tiles, shape):
        """Pass 1: the content loss and each style layer's moments."""
        content, moments = 0.0, {}
        for tile, pixels, local in tile_regions(
            image, tiles, shape, self.layers
        ):
            value, parts = self._statistics_of(
                pixels, self._targets(tile, shape), local
            )
            content += float(ops.convert_to_numpy(value))
            merge_moments(moments, parts, local)
        return content, moments

    def _style(self, moments: Mapping[str, Moments]):
        """The style loss, per layer too, and its derivatives by moment."""
        names = list(self.style_loss_weights)
        means = [
            ops.convert_to_tensor(moments[n].mean[None], "float32")
            for n in names
        ]
        covs = [
            ops.convert_to_tensor(moments[n].cov[None], "float32")
            for n in names
        ]

        def style(*tensors):
            layers = {
                name: moments_loss(
                    tensors[i], tensors[len(names) + i],
                    self.style_targets[name],
                )
                for i, name in enumerate(names)
            }  # fmt: skip
            total = sum(
                self.style_loss_weights[name] * layers[name] for name in names
            )
            return total, layers

        value, layers, gradients = value_and_gradients(style, means + covs)
        # By the mean and the second moment E[f f^T]: cov = E[f f^T] -
        # mean mean^T, so d/dmean gains -2 dL/dcov mean.
        constants = {}
        for i, name in enumerate(names):
            by_mean = ops.convert_to_numpy(gradients[i])[0].astype("float64")
            by_cov = ops.convert_to_numpy(gradients[len(names) + i])[0]
            by_cov = (by_cov + by_cov.T).astype("float64") / 2
            by_mean = by_mean - 2 * by_cov @ moments[name].mean
            count = moments[name].count
            constants[name] = (
                ops.convert_to_tensor(by_mean / count, "float32"),
                ops.convert_to_tensor(by_cov / count, "float32"),
            )
        layers = {k: float(ops.convert_to_numpy(v)) for k, v in layers.items()}
        return float(ops.convert_to_numpy(value)), layers, constants

    def _losses(self, content: float, style: float, image: Tensor, into=None):
        """All loss terms; the TV's gradient times gamma is added `into`."""
        tv = _banded_total_variation(
            image, self.config.tv_form, self.config.tv_reduction,
            self.tile_size, into, self.loss_weights["tv"],
        )  # fmt: skip
        losses = {"content": content, "style": style, "tv": tv}
        losses["total"] = sum(
            self.loss_weights[k] * losses[k] for k in self.loss_weights
        )
        return losses

    def style_layer_losses(self, image: Tensor) -> dict[str, float]:
        """Each style layer's weighted loss `w_l E_l` for `image`."""
        shape, tiles = self.tiles(image)
        moments = self._statistics(image, tiles, shape)[1]
        layers = self._style(moments)[1]
        return {
            name: self.style_loss_weights[name] * value
            for name, value in layers.items()
        }

    def losses(self, image: Tensor) -> dict[str, Tensor]:
        """The loss terms of `image` (`(1, H, W, 3)`), as untiled."""
        shape, tiles = self.tiles(image)
        content, moments = self._statistics(image, tiles, shape)
        style = self._style(moments)[0]
        return _tensors(self._losses(content, style, image))

    def losses_and_gradient(self, image: Tensor) -> tuple[dict, Tensor]:
        """The loss terms of `image` and the gradient of their total."""
        shape, tiles = self.tiles(image)
        content, moments = self._statistics(image, tiles, shape)
        style, _, constants = self._style(moments)
        gradient = np.zeros(tuple(ops.shape(image)), "float32")
        for tile, pixels, local in tile_regions(
            image, tiles, shape, self.layers
        ):
            args = (self._targets(tile, shape), constants)
            part = self._gradient_of(pixels, args, local)[1]
            top, bottom, left, right = tile.region
            gradient[:, top:bottom, left:right, :] += ops.convert_to_numpy(part)
        losses = self._losses(content, style, image, into=gradient)
        return _tensors(losses), ops.convert_to_tensor(gradient)


def _banded_total_variation(image, form, reduction, band, into, weight):
    """`total_variation_loss` of the image, `band` rows at a time.

    Each band holds its rows and the next one: its vertical pairs are its
    own, its horizontal ones those of all rows but that next one (the
    last band's last row included), so every pair counts once and no
    image-sized temporaries exist. The gradient times `weight` is added
    to the array `into` (`None`: not taken).
    """
    height, width = ops.shape(image)[1], ops.shape(image)[2]
    total = 0.0
    for top in range(0, height, band):
        bottom = min(top + band + 1, height)
        shared = top + band < height

        def pairs(x, shared=shared):
            value = total_variation_loss(x, form, "sum")
            if shared:  # the next band's row: its own pairs count there
                value = value - total_variation_loss(x[:, -1:], form, "sum")
            return value

        part = image[:, top:bottom]
        if into is None:
            total += float(ops.convert_to_numpy(pairs(part)))
            continue
        value, _, (gradient,) = value_and_gradients(
            lambda x, pairs=pairs: (pairs(x), None), [part]
        )
        total += float(ops.convert_to_numpy(value))
        scale = weight if reduction == "sum" else weight / (height * width)
        into[:, top:bottom] += scale * ops.convert_to_numpy(gradient)
    return total if reduction == "sum" else total / (height * width)


def _tensors(losses: Mapping[str, float]) -> dict[str, Tensor]:
    return {k: ops.convert_to_tensor(v, "float32") for k, v in losses.items()}

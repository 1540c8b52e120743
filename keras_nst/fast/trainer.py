"""`FastStyleTrainer`: the transformation network and its perceptual losses.

`FastStyleTrainer` is a `keras.Model` whose `compute_loss` holds the
losses; `fit` runs Keras' own `train_step` on each backend, so Keras'
distribution (`keras.distribution.DataParallel` on JAX,
`tf.distribute.MirroredStrategy` on TensorFlow) applies unchanged.
"""

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_nst.backend import replica_share
from keras_nst.fast.config import TrainConfig
from keras_nst.fast.config import resolve_train_config
from keras_nst.fast.network import TransformNet
from keras_nst.features import VGG19Features
from keras_nst.features import build_extractor
from keras_nst.image_io import as_batch
from keras_nst.losses import content_layers_loss
from keras_nst.losses import equal_weights
from keras_nst.losses import gram_matrix
from keras_nst.losses import relative_style_weights
from keras_nst.losses import style_loss
from keras_nst.losses import total_variation_loss
from keras_nst.losses import weighted_total
from keras_nst.types import Tensor

__all__ = ["FastStyleTrainer"]


class FastStyleTrainer(keras.Model):
    """Trains a `TransformNet` against one style image.

    Calling the model runs the transformation network. `compute_loss`
    (which Keras' `train_step` calls) takes the input batch `x` and the
    network's output `y_pred`:

    `L = alpha * mean_l (F_l(y) - F_l(x))^2
         + beta * sum_l w_l |G_l(y) - A_l|^2 / |A_l|^2
         + gamma * TV(y)`,

    averaged over the batch, with `F_l` VGG19 features, `G_l` their Gram
    matrices and `A_l` the style image's. Each style layer's term is its
    relative Gram error, as in the `gatys` preset, so the layers count
    equally. The loss terms are logged as `content`, `style` and `tv`
    (and their weighted sum as Keras' `loss`).

    Args:
        style_image: `(H, W, 3)` RGB array in 0..255, already at the size
            its Grams should be taken at.
        config: a `TrainConfig`; `None` for the defaults.
        transform: the network to train; `None` builds a new one from the
            config's `filters`, `residual_blocks` and `seed`.
        extractor: a `VGG19Features` with the config's layers to reuse;
            `None` builds one (`keras_nst.features.build_extractor`: the
            config's layers, pooling, weights and precision).
        **kwargs: `keras.Model` arguments (`name`, ...).

    Example:

    ```python
    trainer = FastStyleTrainer(load_image("starry_night.jpg", 256))
    trainer.compile(optimizer=keras.optimizers.Adam(1e-3))
    trainer.fit(RandomCrops("photos/", steps=2000))
    trainer.transform.save("starry_night.keras")
    ```
    """

    def __init__(
        self,
        style_image: np.ndarray,
        config: TrainConfig | None = None,
        transform: TransformNet | None = None,
        extractor: VGG19Features | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.config = config = resolve_train_config(config)
        if transform is None:
            transform = TransformNet(
                config.filters, config.residual_blocks, seed=config.seed
            )
        self.transform = transform
        if extractor is None:
            extractor = build_extractor(config)
        extractor.trainable = False
        self.extractor = extractor
        style = as_batch(style_image)
        extractor.check_image_shape(style.shape, "style image")
        features = extractor(style)
        self.style_targets = {
            name: keras.Variable(
                gram_matrix(features[name]), trainable=False, name=f"A_{name}"
            )
            for name in config.style_layers
        }
        # w_l / E_l(G = 0): each layer's term is its relative Gram error.
        self.style_weights = relative_style_weights(
            equal_weights(config.style_layers), self.style_targets
        )
        self.content_weights = equal_weights(config.content_layers)
        self.loss_weights = {
            "content": config.content_weight,
            "style": config.style_weight,
            "tv": config.tv_weight,
        }
        self.trackers = {
            name: keras.metrics.Mean(name=name) for name in self.loss_weights
        }

    def call(self, images, training=False):
        return self.transform(images, training=training)

    def compute_losses(
        self, images: Tensor, stylised: Tensor
    ) -> dict[str, Tensor]:
        """The loss terms for input `images` and the network's output.

        Args:
            images: the `(batch, H, W, 3)` input photos, RGB in 0..255.
            stylised: the network's output for them, the same shape.

        Returns:
            `{"total", "content", "style", "tv"}` scalar float32 tensors,
            each a mean over the batch.
        """
        config = self.config
        batch = ops.cast(ops.shape(images)[0], "float32")
        features = self.extractor(stylised)
        targets = {}
        if config.content_layers:
            # Only the content layers' features of the input are needed.
            photo = self.extractor(images)
            targets = {
                name: ops.stop_gradient(photo[name])
                for name in config.content_layers
            }
        content = content_layers_loss(
            features, targets, self.content_weights, "mean"
        )
        style = style_loss(features, self.style_targets, self.style_weights)
        losses = {
            "content": ops.convert_to_tensor(content, "float32"),
            # layer_style_loss and the TV sum over the batch.
            "style": ops.convert_to_tensor(style, "float32") / batch,
            # Summed, as the network's tv_weight was tuned.
            "tv": total_variation_loss(stylised, "squared", "sum") / batch,
        }
        return {"total": weighted_total(losses, self.loss_weights), **losses}

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Tensor:
        """Keras' loss hook: `compute_losses(x, y_pred)["total"]`.

        Also updates the `content`, `style` and `tv` metrics.
        """
        losses = self.compute_losses(x, y_pred)
        for name, tracker in self.trackers.items():
            tracker.update_state(losses[name])
        # Under tf.distribute each replica's share of the global mean.
        return losses["total"] * replica_share()

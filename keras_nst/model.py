"""The optimisation model: one image variable, fitted with `model.fit`."""

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_nst.backend import TrainStep
from keras_nst.callbacks import StopOnNaN
from keras_nst.color import finish_output
from keras_nst.color import luminance
from keras_nst.color import prepare_inputs
from keras_nst.config import Config
from keras_nst.config import resolve_config
from keras_nst.errors import NonFiniteLossError
from keras_nst.features import VGG19Features
from keras_nst.features import build_extractor
from keras_nst.image_io import as_batch
from keras_nst.losses import content_layers_loss
from keras_nst.losses import equal_weights
from keras_nst.losses import gram_matrix
from keras_nst.losses import layer_style_loss
from keras_nst.losses import style_loss
from keras_nst.losses import target_gram_scale
from keras_nst.losses import total_variation_loss
from keras_nst.losses import weighted_total
from keras_nst.types import Tensor

__all__ = [
    "NonFiniteLossError",
    "StyleTransferModel",
    "steps",
]


class StyleTransferModel(TrainStep, keras.Model):
    """Gatys et al. style transfer as a Keras model whose weight is the image.

    The only trainable variable is `image`, RGB in 0..255, shaped like the
    content image. The content features and the style Gram matrices are
    computed once, here, and kept as non-trainable variables. Each
    `train_step` takes one optimiser step on
    `alpha * content + beta * style + gamma * tv` and clips the image to
    0..255. The data given to `fit` is ignored: one batch is one
    iteration, so `fit(steps(n))` runs `n` iterations and the usual Keras
    callbacks and progress bar work.

    Args:
        content_image: `(H, W, 3)` RGB array in 0..255, at the output size.
        style_image: `(H', W', 3)` RGB array in 0..255, any size, or a
            list of them, blended by `config.style_blend_weights`.
        config: a `Config`, a preset name, or `None` for the default preset.
        initial_image: the starting image, shaped like `content_image`;
            `None` starts from the content image.
        extractor: a `VGG19Features` to reuse; `None` builds one from the
            config's layers, pooling and weights.

    Example:

    ```python
    model = StyleTransferModel(content, style, config="gatys")
    model.compile(optimizer=keras.optimizers.Adam(10.0))
    model.optimize(200, callbacks=[Snapshot("out/{iteration:04d}.png", 50)])
    image = model.get_image()
    ```
    """

    def __init__(
        self,
        content_image: np.ndarray,
        style_image: np.ndarray | Sequence[np.ndarray],
        config: Config | str | None = None,
        initial_image: np.ndarray | None = None,
        extractor: VGG19Features | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.config = config = resolve_config(config)
        content_image = as_batch(content_image)
        style_images = [
            as_batch(image)
            for image in (
                style_image
                if isinstance(style_image, list | tuple)
                else [style_image]
            )
        ]
        blend = _blend_weights(config.style_blend_weights, len(style_images))
        if initial_image is None:
            initial_image = content_image
        initial_image = as_batch(initial_image)
        # The content's colours, for get_image under preserve_color.
        self.color_reference = content_image[0]
        prepared = [
            prepare_inputs(config.preserve_color, content_image[0], image[0])
            for image in style_images
        ]
        content_image = as_batch(prepared[0][0])
        style_images = [as_batch(pair[1]) for pair in prepared]
        if config.preserve_color == "luminance":
            initial_image = as_batch(luminance(initial_image[0]))
        if initial_image.shape != content_image.shape:
            raise ValueError(
                "Expected the initial image to have the content image's "
                f"shape {content_image.shape}. "
                f"Received: shape={initial_image.shape}"
            )
        if extractor is None:
            extractor = build_extractor(config)
        self.extractor = extractor
        extractor.check_image_shape(content_image.shape, "content image")
        for image in style_images:
            extractor.check_image_shape(image.shape, "style image")

        self.content_layer_weights = _layer_weights(
            config.content_layers, config.content_layer_weights
        )
        self.style_layer_weights = _layer_weights(
            config.style_layers, config.style_layer_weights
        )
        self.loss_weights = {
            "content": config.content_weight,
            "style": config.style_weight,
            "tv": config.tv_weight,
        }

        content_features = extractor(content_image)
        # Several styles blend as a weighted sum of their Gram matrices,
        # as jcjohnson/neural-style's -style_blend_weights does.
        style_grams = {name: 0.0 for name in config.style_layers}
        for weight, image in zip(blend, style_images, strict=True):
            features = extractor(image)
            for name in config.style_layers:
                style_grams[name] = style_grams[name] + weight * gram_matrix(
                    features[name]
                )
        self.content_targets = {
            name: keras.Variable(
                content_features[name], trainable=False, name=f"P_{name}"
            )
            for name in config.content_layers
        }
        self.style_targets = {
            name: keras.Variable(
                style_grams[name], trainable=False, name=f"A_{name}"
            )
            for name in config.style_layers
        }
        # The weights style_loss applies: w_l, times 1 / E_l(0) when the
        # layers are normalised to relative Gram errors.
        self.style_loss_weights = {
            name: weight
            * (
                target_gram_scale(self.style_targets[name])
                if config.style_normalization == "target"
                else 1.0
            )
            for name, weight in self.style_layer_weights.items()
        }
        self.image = keras.Variable(initial_image, name="image")
        # The guard against non-finite losses lives on the device, so no
        # step waits for the host: the last image whose loss was finite,
        # the 1-based step whose loss was not (0: none yet), and the steps
        # taken.
        self.last_good_image = keras.Variable(
            initial_image, trainable=False, name="last_good_image"
        )
        self.nonfinite_step = keras.Variable(
            0.0, trainable=False, name="nonfinite_step"
        )
        self.steps_taken = keras.Variable(
            0.0, trainable=False, name="steps_taken"
        )
        # The exponential moving average of the iterates, bias-corrected by
        # `average_norm` (the weight the average has gathered so far).
        self.average = self.average_norm = None
        if config.average_decay > 0:
            self.average = keras.Variable(
                np.zeros_like(initial_image), trainable=False, name="average"
            )
            self.average_norm = keras.Variable(
                0.0, trainable=False, name="average_norm"
            )
        self.built = True
        if self.trainable_variables != [self.image]:
            raise RuntimeError(
                "Expected the image to be the only trainable variable."
            )

    def compile(self, optimizer="adam", **kwargs) -> None:
        """Configures the model for `fit`, as `keras.Model.compile`.

        Then builds the optimiser on the image, so its state (e.g. L-BFGS's
        `loss_variable`) exists before the first step is traced.
        """
        super().compile(optimizer=optimizer, **kwargs)
        self.optimizer.build(self.trainable_variables)

    def optimize(
        self,
        iterations: int,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        verbose: str | int = "auto",
    ) -> keras.callbacks.History:
        """Runs `iterations` optimiser steps through `fit`.

        Compile the model first (`model.compile(optimizer=...)`).

        Args:
            iterations: the number of steps.
            callbacks: Keras callbacks, e.g. `Snapshot` or `JsonlLogger`.
            verbose: as for `fit`: `"auto"`, 0 (silent), 1 (progress bar)
                or 2 (one line).

        Returns:
            The `History` of `fit`, with every loss term per iteration in
            the callbacks' `logs`.

        Raises:
            NonFiniteLossError: a loss became NaN or infinite; the model
                holds the last image whose losses were finite (or the
                initial image).
        """
        if iterations == 0:
            # fit on no data fails on JAX; nothing to do anyway.
            return keras.callbacks.History()
        self.nonfinite_step.assign(0.0)
        history = self.fit(
            steps(iterations),
            batch_size=1,
            epochs=1,
            shuffle=False,
            callbacks=[StopOnNaN(), *callbacks],
            verbose=verbose,
        )
        step = int(ops.convert_to_numpy(self.nonfinite_step.value))
        if step > 0:
            # The loss of step n is that of the image after n - 1 steps, so
            # the last finite one was the image after n - 2.
            error = NonFiniteLossError(step, step - 2 if step > 1 else None)
            error.image = self.get_image()
            raise error
        if getattr(self.optimizer, "needs_loss", False):
            self._keep_accepted_point()
        return history

    def _keep_accepted_point(self) -> None:
        # After a line-search step the image is an untested trial; keep it
        # only if it is no worse than the point it was tried from.
        accepted, loss = self.optimizer.accepted_point(self.image)
        trial = self.compute_losses(self.image.value)["total"]
        if not float(ops.convert_to_numpy(trial)) <= float(
            ops.convert_to_numpy(loss)
        ):
            self.image.assign(accepted)

    def set_image(self, image: np.ndarray) -> None:
        """Replaces the optimised image and restarts any moving average.

        See `get_image(raw=True)` for what the variable holds.
        """
        self.image.assign(as_batch(image))
        self.last_good_image.assign(as_batch(image))
        self.nonfinite_step.assign(0.0)
        if self.average is not None:
            self.average.assign(ops.zeros(self.average.shape))
            self.average_norm.assign(0.0)

    def compute_losses(self, image: Tensor) -> dict[str, Tensor]:
        """All loss terms for an image tensor.

        Reads the image from the argument, never from `self.image`, so the
        JAX step can pass a traced value.

        Args:
            image: `(1, H, W, 3)` RGB tensor in 0..255.

        Returns:
            `{"total", "content", "style", "tv"}` scalar tensors; `total` is
            the weighted sum the optimiser minimises.
        """
        features = self.extractor(image)
        losses = {
            "content": content_layers_loss(
                features,
                self.content_targets,
                self.content_layer_weights,
                self.config.content_loss_form,
            ),
            "style": style_loss(
                features, self.style_targets, self.style_loss_weights
            ),
            "tv": total_variation_loss(image, self.config.tv_form),
        }
        losses = {
            k: ops.convert_to_tensor(v, "float32") for k, v in losses.items()
        }
        return {"total": weighted_total(losses, self.loss_weights), **losses}

    def clip_image(self, image: Tensor) -> Tensor:
        """Keeps pixel values in the valid range 0..255."""
        return ops.clip(image, 0.0, 255.0)

    def check_loss(self, total: Tensor) -> None:
        """Records whether the loss of `self.image` is finite.

        Called by `train_step` before the optimiser moves the image: it
        remembers the image while the losses are finite, and the step at
        which the first one was not.
        """
        clean = ops.equal(self.nonfinite_step.value, 0.0)
        finite = ops.isfinite(total)
        self.last_good_image.assign(
            ops.where(
                ops.logical_and(clean, finite), self.image.value,
                self.last_good_image.value,
            )
        )  # fmt: skip
        self.nonfinite_step.assign(
            ops.where(
                ops.logical_and(clean, ops.logical_not(finite)),
                self.steps_taken.value + 1.0, self.nonfinite_step.value,
            )
        )  # fmt: skip

    def finish_step(self) -> None:
        """Clips the image after the optimiser's update.

        Called by `train_step`: clips the image to 0..255, or, once a loss
        was not finite, holds it at the last good image; then updates the
        moving average.
        """
        image = ops.where(
            self.nonfinite_step.value > 0,
            self.last_good_image.value,
            self.clip_image(self.image.value),
        )
        self.image.assign(image)
        self.steps_taken.assign(self.steps_taken.value + 1.0)
        if self.average is None:
            return
        decay = self.config.average_decay
        clean = ops.equal(self.nonfinite_step.value, 0.0)
        self.average.assign(
            ops.where(
                clean, decay * self.average.value + (1 - decay) * image,
                self.average.value,
            )
        )  # fmt: skip
        self.average_norm.assign(
            ops.where(
                clean, decay * self.average_norm.value + (1 - decay),
                self.average_norm.value,
            )
        )  # fmt: skip

    def output_image(self) -> Tensor:
        """Returns the `(1, H, W, 3)` result.

        The moving average when the config asks for one and a step has been
        taken, else the image itself.
        """
        if self.average is None:
            return self.image.value
        norm = ops.convert_to_tensor(self.average_norm.value)
        return ops.where(
            norm > 0,
            self.average.value / ops.maximum(norm, 1e-12),
            self.image.value,
        )

    def call(self, inputs=None):
        return self.compute_losses(self.image)

    def get_image(self, raw: bool = False) -> np.ndarray:
        """The current picture as an `(H, W, 3)` float32 array in 0..255.

        With `config.average_decay > 0` the picture is the moving average
        of the iterates (`output_image`).

        Args:
            raw: skip the colour step: it differs from the picture only with
                `preserve_color="luminance"`, where the variable is the
                luminance and the picture gets the content image's colours
                back.
        """
        image = ops.convert_to_numpy(self.output_image())[0]
        if raw:
            return image
        return finish_output(
            self.config.preserve_color, image, self.color_reference
        )

    def style_layer_losses(self) -> dict[str, float]:
        """Each style layer's weighted loss `w_l E_l` for the output image.

        Their sum is the `style` term; their shares show which layers
        dominate.
        """
        features = self.extractor(self.output_image())
        return {
            name: weight
            * float(
                ops.convert_to_numpy(
                    layer_style_loss(
                        gram_matrix(features[name]), self.style_targets[name]
                    )
                )
            )
            for name, weight in self.style_loss_weights.items()
        }

    def evaluate_losses(self) -> dict[str, float]:
        """The loss terms of the output image (`output_image`), as floats."""
        losses = self.compute_losses(self.output_image())
        return {k: float(ops.convert_to_numpy(v)) for k, v in losses.items()}


def _blend_weights(weights, count: int) -> list[float]:
    if weights is None:
        return [1.0 / count] * count
    if len(weights) != count:
        raise ValueError(
            f"Expected one style blend weight per style image ({count}). "
            f"Received: style_blend_weights={tuple(weights)}"
        )
    # resolve_config has checked that the weights have a positive sum.
    total = sum(weights)
    return [w / total for w in weights]


def _layer_weights(layers, weights) -> dict[str, float]:
    if weights is None:
        return equal_weights(layers) if layers else {}
    return dict(zip(layers, weights, strict=True))


def steps(iterations: int) -> np.ndarray:
    """Placeholder data for `fit`: one batch of size 1 per iteration."""
    return np.zeros((iterations, 1), dtype="float32")

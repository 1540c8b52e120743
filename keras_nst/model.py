"""The optimisation model: one image variable, fitted with `model.fit`."""

from collections.abc import Iterator
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_nst.backend import TrainStep
from keras_nst.backend import step_jit_compile
from keras_nst.callbacks import StopOnNaN
from keras_nst.callbacks import StopOnSignal
from keras_nst.color import combine_luminance
from keras_nst.config import Config
from keras_nst.errors import Interrupted
from keras_nst.errors import NonFiniteLossError
from keras_nst.features import VGG19Features
from keras_nst.features import build_extractor
from keras_nst.image_io import as_batch
from keras_nst.inputs import ModelInputs
from keras_nst.interrupt import requested_signal
from keras_nst.interrupt import stop_signals
from keras_nst.losses import content_layers_loss
from keras_nst.losses import equal_weights
from keras_nst.losses import total_variation_loss
from keras_nst.losses import weighted_total
from keras_nst.presets import resolve_config
from keras_nst.step import ImageStep
from keras_nst.style_targets import blended_targets
from keras_nst.style_targets import layer_loss
from keras_nst.style_targets import target_scale
from keras_nst.style_targets import target_variables
from keras_nst.tile_features import assembled_features
from keras_nst.tiled import TiledObjective
from keras_nst.tiling import is_tiled
from keras_nst.types import Tensor

__all__ = [
    "NonFiniteLossError",
    "StyleTransferModel",
]


class StyleTransferModel(TrainStep, ImageStep, keras.Model):
    """Gatys et al. style transfer as a Keras model whose weight is the image.

    The only trainable variable is `image`, RGB in 0..255, shaped like the
    content image. The content features and the style targets (Gram
    matrices, or feature means and covariances for `style_loss="w2"`) are
    computed once, here, and kept as non-trainable variables. Each
    `train_step` takes one optimiser step on
    `alpha * content + beta * style + gamma * tv` and clips the image to
    0..255 (`keras_nst.step.ImageStep.apply_step`). The data given to `fit`
    is ignored: one batch is one iteration, so `optimize(n)` runs `n`
    iterations through `fit`, and the usual Keras callbacks and progress
    bar work.

    The model takes its images ready for VGG19: `keras_nst.inputs.
    model_inputs` applies the config's colour preservation and blend
    weights (`keras_nst.build_model` does all of it, and loads and resizes
    the images too).

    Args:
        inputs: the run's images, from `keras_nst.inputs.model_inputs`.
        config: a `Config`, a preset name, or `None` for the default preset;
            the same one the inputs were prepared with.
        extractor: a `VGG19Features` to reuse; `None` builds one from the
            config's layers, pooling and weights.

    Example:

    ```python
    config = keras_nst.resolve_config("gatys", preserve_color="luminance")
    inputs = model_inputs(config, content, style)
    model = StyleTransferModel(inputs, config)
    model.compile(optimizer=keras.optimizers.Adam(10.0))
    model.optimize(200, callbacks=[Snapshot("out/{iteration:04d}.png", 50)])
    image = model.get_image()  # the content's colours, restyled luminance
    ```
    """

    def __init__(
        self,
        inputs: ModelInputs,
        config: Config | str | None = None,
        extractor: VGG19Features | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(inputs, ModelInputs):
            raise TypeError(
                "Expected inputs to be a ModelInputs (from "
                "keras_nst.inputs.model_inputs). "
                f"Received: inputs of type {type(inputs).__name__}"
            )
        self.config = config = resolve_config(config)
        if extractor is None:
            extractor = build_extractor(config)
        self.extractor = extractor
        # The content's colours, for get_image (None: nothing to put back).
        self.color_reference = inputs.color_reference
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
        # Larger than a tile, VGG19 sees the images one region at a time.
        tile_size = config.tile_size
        if not is_tiled(inputs.content.shape, tile_size):
            tile_size = 0
        if tile_size:
            content_features = assembled_features(
                extractor, inputs.content, config.content_layers, tile_size
            )
        else:
            content_features = extractor.features(inputs.content)
        self.content_targets = {
            name: keras.Variable(
                content_features[name], trainable=False, name=f"P_{name}"
            )
            for name in config.content_layers
        }
        del content_features  # the variables hold their own copy
        # Gram matrices, or the features' means and covariances for w2.
        self.style_targets = target_variables(
            blended_targets(
                extractor,
                inputs.styles,
                inputs.blend_weights,
                config.style_layers,
                config.style_loss,
                config.tile_size,
            )
        )
        # Keras tracks variables in lists and dicts, not in the w2
        # targets' named tuples.
        self._style_target_variables = keras.tree.flatten(self.style_targets)
        # The weights of the layers' losses: w_l, times 1 / E_l(0) when
        # the layers are normalised to relative errors.
        self.style_loss_weights = dict(self.style_layer_weights)
        if config.style_normalization == "target":
            self.style_loss_weights = {
                name: weight * target_scale(self.style_targets[name])
                for name, weight in self.style_layer_weights.items()
            }
        self.tiled = None
        if tile_size:
            self.tiled = TiledObjective(
                extractor,
                config,
                tile_size,
                self.content_targets,
                self.style_targets,
                self.content_layer_weights,
                self.style_loss_weights,
                self.loss_weights,
            )
        self.build_step_state(inputs.start, config.average_decay)
        self.built = True
        if self.trainable_variables != [self.image]:
            raise RuntimeError(
                "Expected the image to be the only trainable variable."
            )

    def compile(self, optimizer="adam", **kwargs) -> None:
        """Configures the model for `fit`, as `keras.Model.compile`.

        Then builds the optimiser on the image, so its state (e.g. L-BFGS's
        `loss_variable`) exists before the first step is traced, and tells
        the extractor whether XLA compiles the step (`VGG19Features.
        set_xla`). A tiled model runs its steps eagerly: its tiles' shapes
        change from step to step, and one compiled step would hold every
        tile's activations. Otherwise `jit_compile` defaults to the
        backend's faster choice (`keras_nst.backend.step_jit_compile`).
        """
        if self.tiled is not None:
            kwargs.setdefault("run_eagerly", True)
        else:
            kwargs.setdefault("jit_compile", step_jit_compile())
        super().compile(optimizer=optimizer, **kwargs)
        self.extractor.set_xla(bool(self.jit_compile))  # False when eager
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
            keras_nst.errors.Interrupted: SIGINT (Ctrl-C) or SIGTERM
                stopped the run after a whole step; the error holds the
                iterations done and the picture, and the model its state.
        """
        needs_loss = getattr(self.optimizer, "needs_loss", False)
        if iterations == 0:
            # fit on no data fails on JAX; nothing to do but, in a scale
            # resumed after its last step, what its end would have done.
            if needs_loss and int(ops.convert_to_numpy(self.steps_taken)):
                self._keep_accepted_point()
            return keras.callbacks.History()
        self.nonfinite_step.assign(0.0)
        with stop_signals():
            history = self.fit(
                _step_data(),
                steps_per_epoch=iterations,
                epochs=1,
                shuffle=False,
                callbacks=[StopOnNaN(), *callbacks, StopOnSignal()],
                verbose=verbose,
            )
            step = int(ops.convert_to_numpy(self.nonfinite_step.value))
            if step > 0:
                # The loss of step n is that of the image after n - 1
                # steps, so the last finite one was the image after n - 2.
                error = NonFiniteLossError(step, step - 2 if step > 1 else None)
                error.image = self.get_image()
                raise error
            if needs_loss:
                self._keep_accepted_point()
            signum = requested_signal()
            if signum is not None:
                interrupted = Interrupted(signum)
                interrupted.iteration = int(
                    ops.convert_to_numpy(self.steps_taken.value)
                )
                interrupted.image = self.get_image()
                raise interrupted
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
        self.reset_step_state(as_batch(image))

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
        if self.tiled is not None:
            return self.tiled.losses(image)
        features = self.extractor(image)
        losses = {
            "content": content_layers_loss(
                features,
                self.content_targets,
                self.content_layer_weights,
                self.config.content_loss_form,
            ),
            "style": sum(
                weight * layer_loss(features[name], self.style_targets[name])
                for name, weight in self.style_loss_weights.items()
            ),
            "tv": total_variation_loss(
                image, self.config.tv_form, self.config.tv_reduction
            ),
        }
        losses = {
            k: ops.convert_to_tensor(v, "float32") for k, v in losses.items()
        }
        return {"total": weighted_total(losses, self.loss_weights), **losses}

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
                (`color_reference`) back.
        """
        image = ops.convert_to_numpy(self.output_image())[0]
        if raw or self.color_reference is None:
            return image
        return combine_luminance(image, self.color_reference)

    def style_layer_losses(self) -> dict[str, float]:
        """Each style layer's weighted loss `w_l E_l` for the output image.

        Their sum is the `style` term; their shares show which layers
        dominate.
        """
        if self.tiled is not None:
            return self.tiled.style_layer_losses(self.output_image())
        features = self.extractor(self.output_image())
        return {
            name: weight
            * float(
                ops.convert_to_numpy(
                    layer_loss(features[name], self.style_targets[name])
                )
            )
            for name, weight in self.style_loss_weights.items()
        }

    def evaluate_losses(self) -> dict[str, float]:
        """The loss terms of the output image (`output_image`), as floats."""
        losses = self.compute_losses(self.output_image())
        return {k: float(ops.convert_to_numpy(v)) for k, v in losses.items()}


def _layer_weights(layers, weights) -> dict[str, float]:
    if weights is None:
        return equal_weights(layers) if layers else {}
    return dict(zip(layers, weights, strict=True))


def _step_data() -> Iterator[tuple[np.ndarray]]:
    # fit needs data, which the step ignores: one batch per iteration. An
    # endless generator with steps_per_epoch, not an (iterations, 1) array,
    # so memory does not grow with the number of iterations.
    batch = (np.zeros((1, 1), dtype="float32"),)
    while True:
        yield batch

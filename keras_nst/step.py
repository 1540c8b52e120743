"""The shared half of an optimisation step, and the state it keeps.

A step of `StyleTransferModel` is two halves. The backend's
`TrainStep.train_step` (`keras_nst.backend`) computes the losses and the
gradient of the total with respect to the image: that is all that differs
between TensorFlow, JAX and PyTorch. It then calls `ImageStep.apply_step`,
shared `keras.ops` code: the guard against non-finite losses, the
optimiser's update, the clip to 0..255 and the moving average of the
iterates.

The guard lives on the device, so no step waits for the host: it keeps the
last image whose loss was finite and the 1-based step whose loss was not.
"""

import keras
import numpy as np
from keras import ops

from keras_nst.types import Tensor

__all__ = ["ImageStep"]


class ImageStep:
    """Mixin for a `keras.Model` whose one trainable variable is the image.

    `build_step_state` creates the variables; `apply_step` is one update.
    The model must have an optimiser (`compile`) before the first step.
    """

    def build_step_state(
        self, initial_image: np.ndarray, average_decay: float
    ) -> None:
        """Creates the image and the variables the step keeps.

        Args:
            initial_image: `(1, H, W, 3)` RGB array in 0..255, the start.
            average_decay: the decay of the moving average of the iterates
                (`keras_nst.config.Config.average_decay`); 0 keeps none.
        """
        self.image = keras.Variable(initial_image, name="image")
        # The last image whose loss was finite, the 1-based step whose
        # loss was not (0: none yet), and the steps taken.
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
        self.average_decay = float(average_decay)
        self.average = self.average_norm = None
        if self.average_decay > 0:
            self.average = keras.Variable(
                np.zeros_like(initial_image), trainable=False, name="average"
            )
            self.average_norm = keras.Variable(
                0.0, trainable=False, name="average_norm"
            )

    def apply_step(self, losses: dict[str, Tensor], gradient: Tensor) -> None:
        """Everything in a step after the gradient, on every backend.

        Records whether the loss of `self.image` is finite (`check_loss`),
        gives the loss to an optimiser that needs it (L-BFGS's line search
        reads `loss_variable`), applies the optimiser's update and clips
        the image (`finish_step`). On JAX the backend runs it inside a
        `keras.StatelessScope` and collects the new values from it.

        Args:
            losses: the step's losses; `losses["total"]` is minimised.
            gradient: the gradient of `losses["total"]` with respect to the
                image, shaped like it.
        """
        total = losses["total"]
        self.check_loss(total)
        if getattr(self.optimizer, "needs_loss", False):
            self.optimizer.loss_variable.assign(total)
        self.optimizer.apply([gradient], [self.image])
        self.finish_step()

    def check_loss(self, total: Tensor) -> None:
        """Records whether the loss of `self.image` is finite.

        Called before the optimiser moves the image: it remembers the image
        while the losses are finite, and the step at which the first one
        was not.
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

    def clip_image(self, image: Tensor) -> Tensor:
        """Keeps pixel values in the valid range 0..255."""
        return ops.clip(image, 0.0, 255.0)

    def finish_step(self) -> None:
        """Clips the image after the optimiser's update.

        Clips the image to 0..255, or, once a loss was not finite, holds it
        at the last good image; then updates the moving average.
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
        decay = self.average_decay
        take = ops.equal(self.nonfinite_step.value, 0.0)
        if getattr(self.optimizer, "needs_loss", False):
            # After a line-search step the image is an untested trial; the
            # average takes the points the search accepts, a step later.
            image, accepted = self.optimizer.newly_accepted_point(self.image)
            take = ops.logical_and(take, accepted)
        self.average.assign(
            ops.where(
                take, decay * self.average.value + (1 - decay) * image,
                self.average.value,
            )
        )  # fmt: skip
        self.average_norm.assign(
            ops.where(
                take, decay * self.average_norm.value + (1 - decay),
                self.average_norm.value,
            )
        )  # fmt: skip

    def reset_step_state(self, image: np.ndarray) -> None:
        """Sets the image, forgets the guard's record and the average.

        Args:
            image: `(1, H, W, 3)` RGB array in 0..255.
        """
        self.image.assign(image)
        self.last_good_image.assign(image)
        self.nonfinite_step.assign(0.0)
        if self.average is not None:
            self.average.assign(ops.zeros(self.average.shape))
            self.average_norm.assign(0.0)

    def output_image(self) -> Tensor:
        """Returns the `(1, H, W, 3)` result.

        The moving average when there is one and a step has been taken,
        else the image itself.
        """
        if self.average is None:
            return self.image.value
        norm = ops.convert_to_tensor(self.average_norm.value)
        return ops.where(
            norm > 0,
            self.average.value / ops.maximum(norm, 1e-12),
            self.image.value,
        )

"""What one scale of a coarse-to-fine run hands the next.

The next scale starts from the last one's output (the moving average of its
iterates, when there is one), resized. Adam's moments are resized too and
carried over, so the new scale does not start with an optimiser that has
forgotten every step: its first steps go on in the directions the last
scale found, instead of Adam's cold start, whose first steps move every
pixel by the full learning rate.

Every loss the model reports is a mean over positions (the content loss's
`mean` form, the Gram matrices divided by the positions, the per-pixel
total variation), so a pixel's gradient shrinks in proportion to the
number of pixels. The carried moments are rescaled by that ratio (the
second moment by its square), so Adam's step sizes carry over as they
were. L-BFGS's curvature pairs live in the old image's space and cannot be
resized meaningfully; it starts afresh at each scale.
"""

import dataclasses

import keras
import numpy as np
from keras import ops

from keras_nst.image_io import resize_image

__all__ = ["ScaleState", "carry_scale_state", "resize_field"]


def resize_field(field: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resizes a `(1, H, W, 3)` array of any values to `(1, *shape, 3)`."""
    return resize_image(np.asarray(field)[0], shape)[None]


@dataclasses.dataclass
class ScaleState:
    """What a scale hands the next: its output, average weight and Adam's.

    Taken from the last scale's model as NumPy arrays at its size, so the
    model itself (its image, moments, targets: gigabytes at the large
    scales) can be freed before the next one is built.

    Attributes:
        output: `(H, W, 3)`, the picture before any colour step
            (`get_image(raw=True)`), the next scale's start.
        average_norm: the moving average's weight (`None`: no average).
        momentums: Adam's first moments (`None`: not Adam).
        velocities: Adam's second moments.
        iterations: Adam's step count.
    """

    output: np.ndarray
    average_norm: float | None = None
    momentums: list[np.ndarray] | None = None
    velocities: list[np.ndarray] | None = None
    iterations: int = 0

    @classmethod
    def of(cls, model: keras.Model) -> "ScaleState":
        """The state of a compiled `StyleTransferModel` after its steps."""
        state = cls(model.get_image(raw=True))
        if model.average is not None:
            state.average_norm = float(
                ops.convert_to_numpy(model.average_norm.value)
            )
        optimizer = model.optimizer
        if isinstance(optimizer, keras.optimizers.Adam):
            state.momentums = _arrays(optimizer._momentums)
            state.velocities = _arrays(optimizer._velocities)
            state.iterations = int(
                ops.convert_to_numpy(optimizer.iterations.value)
            )
        return state

    def carry_to(self, model: keras.Model) -> None:
        """Sets the next scale's model, built to start from `output`.

        The moving average keeps its weight (`average_norm`), holding the
        model's start image, so the output stays the average across the
        scale change. Adam's moments are resized and rescaled; its
        iteration count carries over unchanged with them, so its bias
        correction stays consistent with them.
        """
        if self.average_norm is not None and model.average is not None:
            norm = self.average_norm
            model.average.assign(ops.convert_to_numpy(model.image.value) * norm)
            model.average_norm.assign(norm)
        optimizer = model.optimizer
        if self.momentums is None or not isinstance(
            optimizer, keras.optimizers.Adam
        ):
            return
        shape = tuple(model.image.shape[1:3])
        ratio = _pixels(self.output.shape[:2]) / _pixels(shape)
        for source, target, power in (
            (self.momentums, optimizer._momentums, 1),
            (self.velocities, optimizer._velocities, 2),
        ):
            for held, fresh in zip(source, target, strict=True):
                field = resize_field(held, shape)
                if power == 2:
                    # Lanczos can ring below zero; a second moment cannot.
                    field = np.maximum(field, 0.0)
                fresh.assign(field * ratio**power)
        optimizer.iterations.assign(self.iterations)


def carry_scale_state(previous: keras.Model, model: keras.Model) -> None:
    """Carries the moving average and Adam's state from one scale to the next.

    Both models are compiled `StyleTransferModel`s, `model` built to start
    from `previous`'s output resized; `ScaleState.carry_to` says what
    carries over.

    Args:
        previous: the model of the scale that has just ended.
        model: the model of the next scale, before its first step.
    """
    ScaleState.of(previous).carry_to(model)


def _arrays(variables) -> list[np.ndarray]:
    return [ops.convert_to_numpy(v.value) for v in variables]


def _pixels(shape) -> float:
    return float(shape[0] * shape[1])

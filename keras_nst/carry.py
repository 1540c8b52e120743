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

import keras
import numpy as np
from keras import ops

from keras_nst.image_io import resize_image

__all__ = ["carry_scale_state", "resize_field"]


def resize_field(field: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resizes a `(1, H, W, 3)` array of any values to `(1, *shape, 3)`."""
    return resize_image(np.asarray(field)[0], shape)[None]


def carry_scale_state(previous: keras.Model, model: keras.Model) -> None:
    """Carries the moving average and Adam's state from one scale to the next.

    Both models are compiled `StyleTransferModel`s, `model` built to start
    from `previous`'s output resized. The moving average keeps its weight
    (`average_norm`), holding `model`'s start image, so the output stays
    the average across the scale change. Adam's iteration count carries
    over unchanged with its moments, so its bias correction stays
    consistent with them.

    Args:
        previous: the model of the scale that has just ended.
        model: the model of the next scale, before its first step.
    """
    if previous.average is not None and model.average is not None:
        norm = float(ops.convert_to_numpy(previous.average_norm.value))
        model.average.assign(ops.convert_to_numpy(model.image.value) * norm)
        model.average_norm.assign(norm)
    old, new = previous.optimizer, model.optimizer
    if not (
        isinstance(old, keras.optimizers.Adam)
        and isinstance(new, keras.optimizers.Adam)
    ):
        return
    shape = tuple(model.image.shape[1:3])
    ratio = _pixels(previous.image.shape) / _pixels(model.image.shape)
    for source, target, power in (
        (old._momentums, new._momentums, 1),
        (old._velocities, new._velocities, 2),
    ):
        for held, fresh in zip(source, target, strict=True):
            field = resize_field(ops.convert_to_numpy(held.value), shape)
            if power == 2:
                # Lanczos can ring below zero; a second moment cannot.
                field = np.maximum(field, 0.0)
            fresh.assign(field * ratio**power)
    new.iterations.assign(old.iterations.value)


def _pixels(shape) -> float:
    return float(shape[1] * shape[2])

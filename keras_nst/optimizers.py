"""The optimisers a run can use, by name."""

import keras

from keras_nst.config import OPTIMIZERS

__all__ = ["get_optimizer"]

_FACTORIES = {
    # Adam with Keras' defaults (beta_1 0.9, beta_2 0.999), as all seeds use.
    "adam": lambda learning_rate: keras.optimizers.Adam(learning_rate),
}


def get_optimizer(
    name: str, learning_rate: float
) -> keras.optimizers.Optimizer:
    """Returns a new optimiser.

    Args:
        name: one of `keras_nst.config.OPTIMIZERS`.
        learning_rate: the step size, in pixel units (the image is 0..255).

    Returns:
        A `keras.optimizers.Optimizer`.
    """
    if name not in OPTIMIZERS:
        raise ValueError(
            f"Expected optimizer to be one of {OPTIMIZERS}. "
            f"Received: optimizer={name!r}"
        )
    return _FACTORIES[name](learning_rate)
